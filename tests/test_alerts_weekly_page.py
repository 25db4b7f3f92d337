"""Weekly review shows what `python -m dashboard alerts` delivered for the week, and nothing when none."""

from __future__ import annotations

import shutil

import streamlit as st

from dashboard.cli import main
from dashboard.services import weekly
from tests.apptest import run_page
from tests.receivers import WebhookReceiver
from tests.visible_text import page_texts

SECRET = "T000-B111-tok3n-do-not-leak"


def _captions(at) -> list[str]:
    return [c.value for c in at.caption if "Delivered" in c.value]


def _drift_with_a_quality_alert(monkeypatch):
    """The drifted slice gets a second, model-quality alert (the demo week's slices have one alert each),
    so a delivery of score drift alone covers only part of that subject."""
    original = weekly.week_review

    def review(con, week):
        out = original(con, week)
        for g in out["alert_groups"]:
            drift = [a for a in g["alerts"] if a["kind"] == "score drift"]
            if drift:
                g["alerts"] = g["alerts"] + [dict(drift[0], kind="model quality", title="AUC fell (test)")]
        return out

    review.__module__, review.__qualname__ = original.__module__, original.__qualname__  # the app's cache key
    monkeypatch.setattr(weekly, "week_review", review)


def test_weekly_review_lists_deliveries_per_alert(demo_db, tmp_path, monkeypatch, capsys):
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    _drift_with_a_quality_alert(monkeypatch)
    st.cache_data.clear()
    at = run_page("weekly.py")
    assert _captions(at) == []  # nothing delivered yet: nothing shown
    with WebhookReceiver() as hook:
        assert main(["alerts", "--db", str(db), "--webhook", hook.url(f"/services/{SECRET}"),
                     "--kind", "unusual move", "--kind", "score drift"]) == 0
    capsys.readouterr()
    at = run_page("weekly.py")
    captions = _captions(at)
    assert len(captions) == 4  # 3 unusual moves and one drift; the two broken proxies were not sent
    port = hook.server.server_address[1]
    assert all(c.startswith(f"Delivered: webhook http") and f"127.0.0.1:{port}/" in c and " UTC" in c
               for c in captions)
    # the drifted slice also has a model-quality alert, not sent: the caption names what went out
    assert sum(c.endswith("UTC (score drift)") for c in captions) == 1
    text = " ".join(t for _, t in page_texts(at))
    assert SECRET not in text
    st.cache_data.clear()  # the patched review must not serve later tests
