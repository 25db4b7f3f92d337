"""AppTest: the learned composite where decisions are made - a clearly labelled out-of-sample row in the
Online vs offline page's online proxy leaderboard, and "what the learned proxy says" on Launch review."""

from __future__ import annotations

from tests.apptest import run_page


def _texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_composite_row_in_the_online_leaderboard(app_env):
    at = run_page("alignment.py")
    tables = [d.value for d in at.dataframe if "proxy" in d.value.columns and "same sign" in d.value.columns]
    online = next(t for t in tables if "learned composite (out of sample)" in list(t["proxy"]))
    row = online[online["proxy"] == "learned composite (out of sample)"].iloc[0]
    assert list(online["proxy"])[0] == "learned composite (out of sample)"
    assert row["corrected r [95% CI]"].startswith("0.9") and row["verdict"] == "strong"
    captions = _texts(at.caption)
    assert "Learned composite: 0.5" in captions and "Task success" in captions
    assert "Every number in its row is out of sample" in captions


def test_launch_review_says_what_the_learned_proxy_says(app_env):
    at = run_page("launch_review.py", {"exp": "E045"})
    text = _texts(at.markdown)
    assert "#### What the learned proxy says" in text
    assert "The learned composite predicts a **7-day retention** lift of **-" in text
    assert "other 44 experiments" in text
    assert "Validation, out of sample over 45 experiments" in _texts(at.caption)


def test_launch_review_before_the_north_star_is_in(demo_db, tmp_path, monkeypatch):
    import shutil

    from dashboard.store.connection import connect

    db = tmp_path / "pending.duckdb"
    shutil.copy(demo_db, db)
    con = connect(db)
    con.execute("DELETE FROM experiment_results WHERE experiment_id = 'E045' AND metric = 'retention_7d'")
    con.close()
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    at = run_page("launch_review.py", {"exp": "E045"})
    text = _texts(at.markdown)
    assert "from weights learned on the 44 experiments where 7-day retention is known" in text
    assert "7-day retention itself is not measured in this experiment yet" in text
