"""Each page draws its headline numbers before its heavy calls (issue 16).

A heavy service is replaced by one that fails; the page must already show its headline when the
failure is reached. Put the heavy call back above the headline and the headline is missing.
"""

from __future__ import annotations

import importlib

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.paths import PAGES_DIR
from tests.apptest import ENTRY


class Heavy(Exception):
    """Raised by the stand-in for a heavy service: the page got this far."""


REACHED: list[str] = []  # the app shows a redacted error message: the stand-in says it was called here


def _fail_at(monkeypatch, module: str, name: str) -> None:
    mod = importlib.import_module(module)
    original = getattr(mod, name)

    def heavy(*args, **kwargs):
        REACHED.append(f"{module}.{name}")
        raise Heavy(f"{module}.{name}")

    # the app's cache finds services by module and name
    heavy.__module__, heavy.__qualname__ = original.__module__, original.__qualname__
    monkeypatch.setattr(mod, name, heavy)


def _run_until_heavy(script: str, query: dict[str, str] | None = None) -> AppTest:
    st.cache_data.clear()  # a cached result would skip the stand-in
    REACHED.clear()
    try:
        at = AppTest.from_file(ENTRY, default_timeout=120)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if script != "home.py":
            at.switch_page(str(PAGES_DIR / script))
            at.run()
    finally:
        st.cache_data.clear()  # the stand-in's absence of a result must not serve later tests
    assert REACHED and at.exception, "the heavy call was not reached"
    return at


RANKING = {"rank.model": "search-v3", "rank.baseline": "search-v2", "rank.by": "user_tier"}


@pytest.mark.parametrize("heavy", ["segment_table", "coverage_by_k", "experiments_for"])
def test_ranking_cards_come_before_segments_and_links(app_env, monkeypatch, heavy):
    _fail_at(monkeypatch, "dashboard.services.ranking", heavy)
    at = _run_until_heavy("ranking.py", RANKING)
    labels = [m.label for m in at.metric]
    assert "NDCG@10" in labels and "Queries" in labels, labels


@pytest.mark.parametrize("module, heavy", [("dashboard.services.weekly", "week_review"),
                                           ("dashboard.services.overview", "tables")])
def test_home_top_moves_come_before_the_whole_review_and_the_tables(app_env, monkeypatch, module, heavy):
    _fail_at(monkeypatch, module, heavy)
    at = _run_until_heavy("home.py")
    assert at.title[0].value.startswith("This week: ")
    assert len(at.metric) == 4


def test_weekly_table_comes_before_the_whole_review(app_env, monkeypatch):
    _fail_at(monkeypatch, "dashboard.services.weekly", "week_review")
    at = _run_until_heavy("weekly.py")
    assert at.title[0].value.startswith("Weekly metric review ") and len(at.dataframe) == 1


def test_launch_recommendation_comes_before_the_learned_proxy(app_env, monkeypatch):
    _fail_at(monkeypatch, "dashboard.services.proxy", "view")
    at = _run_until_heavy("launch_review.py")
    boxes = [b.value for b in [*at.success, *at.warning, *at.error]]
    assert any(b.startswith("### ") for b in boxes), boxes  # the recommendation's headline


def test_tree_top_level_numbers_come_before_the_node_detail(app_env, monkeypatch):
    _fail_at(monkeypatch, "dashboard.services.tree", "node_detail")
    at = _run_until_heavy("metric_tree.py")
    assert len(at.metric) >= 1


def test_weekly_table_comes_before_the_alert_deliveries(app_env, monkeypatch):
    _fail_at(monkeypatch, "dashboard.services.alert_delivery", "week_deliveries")
    at = _run_until_heavy("weekly.py")
    assert at.title[0].value and len(at.dataframe) == 1


def test_alignment_numbers_come_before_the_leaderboard(app_env, monkeypatch):
    _fail_at(monkeypatch, "dashboard.services.alignment", "history_view")
    at = _run_until_heavy("alignment.py", {"align.proxy": "online:task_success"})
    labels = [m.label for m in at.metric]
    assert "Noise-corrected r" in labels and "Sign agreement" in labels, labels
