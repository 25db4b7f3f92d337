"""Home answers "this week" from the Weekly review's service; the Data page shows whole names
and no temporary paths of uploads."""

from __future__ import annotations

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


def test_data_page_tables_are_whole(app_env):
    at = run_page("data.py")
    table = at.table[0].value
    models = " ".join(table["models"])
    assert "fraud-v1" in models and "search-v3" in models  # whole names in a wrapping table, not cut cells


def test_load_history_lists_file_names_not_server_paths(app_env):
    at = run_page("data.py")
    history = at.dataframe[-1].value
    assert len(history) and not any("/" in str(s) for s in history["source"])
