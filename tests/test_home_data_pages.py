"""Home answers "this week" from the Weekly review's service; the Data page shows whole names
and no temporary paths of uploads."""

from __future__ import annotations

import streamlit as st

from dashboard.services import weekly
from dashboard.store.connection import connect
from tests.apptest import run_page


def test_home_shows_this_week_top_moves_alerts_and_decisions(app_env):
    con = connect(app_env, read_only=True)
    try:
        review = weekly.week_review(con, weekly.available_weeks(con)[0])
    finally:
        con.close()
    at = run_page("home.py")
    assert at.title[0].value == f"This week: {review['week']}"
    top = [r["name"] for r in review["metrics"] if r["value"] is not None][:4]
    assert [m.label for m in at.metric] == top  # the Weekly review's order, not recomputed
    headers = [h.value for h in at.subheader]
    groups = review["alert_groups"]
    assert f"Alerts ({len(groups)} subjects)" in headers
    waiting = sum(bool(g["decision"]) for g in groups) + len(review["pending_decisions"])
    assert f"Decisions waiting ({waiting})" in headers
    links = [p.proto.label for p in at.get("page_link")]
    assert sum(label.startswith("Open on") for label in links) == min(5, len(groups))
    assert any("Weekly review" in label for label in links)


def test_home_lists_every_alert_of_a_merged_subject(app_env, monkeypatch):
    """A subject with several alerts shows each title, not only the first and "+1 more"."""
    original = weekly.week_review

    def with_a_second_alert(con, week):
        review = original(con, week)
        group = review["alert_groups"][0]
        group["alerts"] = group["alerts"] + [dict(group["alerts"][0], title="Second alert on the same subject")]
        return review

    # the app's cache finds services by module and name
    with_a_second_alert.__module__, with_a_second_alert.__qualname__ = original.__module__, original.__qualname__
    monkeypatch.setattr(weekly, "week_review", with_a_second_alert)
    st.cache_data.clear()
    try:
        at = run_page("home.py")
    finally:
        st.cache_data.clear()  # the patched review must not serve later tests
    assert "(+1 more)" in " ".join(m.value for m in at.markdown)
    assert "Second alert on the same subject" in " ".join(c.value for c in at.caption)


def test_data_page_tables_are_whole(app_env):
    at = run_page("data.py")
    table = at.table[0].value
    models = " ".join(table["models"])
    assert "fraud-v1" in models and "search-v3" in models  # whole names in a wrapping table, not cut cells


def test_load_history_lists_file_names_not_server_paths(app_env):
    at = run_page("data.py")
    history = at.dataframe[-1].value
    assert len(history) and not any("/" in str(s) for s in history["source"])


def test_every_row_count_on_the_data_page_reads_with_separators(app_env):
    """Counts read one way everywhere (160,340, not 160340): the segment tables use the same
    localized number format as the summary tables."""
    import json
    at = run_page("data.py")
    frames = [f for f in at.dataframe if "rows" in f.value.columns]
    assert len(frames) >= 3  # summary tables and at least two segment columns
    for frame in frames:
        config = json.loads(frame.proto.columns)
        assert config.get("rows", {}).get("type_config", {}).get("format") == "localized", config
