"""The server warms Thresholds' opening view at start (ui/warm.py): the page's first run then asks
the database for nothing, so a first visitor's headline waits for no query."""

from __future__ import annotations

from contextlib import contextmanager

import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.paths import PAGES_DIR
from dashboard.ui import db, warm
from tests.apptest import ENTRY


@contextmanager
def no_queries(monkeypatch):
    opened = []

    @contextmanager
    def refused():
        opened.append(1)
        raise AssertionError("the page opened a database connection: a cache miss")
        yield  # pragma: no cover

    monkeypatch.setattr(db, "connection", refused)
    yield opened
    monkeypatch.undo()


def first_thresholds_run(monkeypatch, warmed: bool) -> tuple[AppTest, list]:
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.run()  # Home: its own queries
    st.cache_data.clear()
    if warmed:
        warm._thresholds()
    with no_queries(monkeypatch) as opened:
        at.switch_page(str(PAGES_DIR / "thresholds.py"))
        at.run()
    return at, opened


def test_warmed_opening_view_needs_no_query(app_env, monkeypatch):
    at, opened = first_thresholds_run(monkeypatch, warmed=True)
    assert not at.exception, [e.value for e in at.exception]
    assert not opened
    assert any(h.value.startswith("At threshold") for h in at.subheader)


def test_without_warming_the_first_run_queries(app_env, monkeypatch):
    """The control: the check above fails when nothing was warmed."""
    _, opened = first_thresholds_run(monkeypatch, warmed=False)
    assert opened
