"""AppTest: the Ranking page flags the power-user regression and keeps its state in the URL."""

from __future__ import annotations

from tests.apptest import run_page


def test_trap_flagged_and_forest_plot_drawn(app_env):
    at = run_page("ranking.py", {"rank.model": "search-v3", "rank.baseline": "search-v2", "rank.by": "user_tier"})
    errors = " ".join(e.value for e in at.error)
    assert "Regression under a rising average" in errors and "user_tier=power" in errors
    assert len(at.get("plotly_chart")) == 3
    table = at.dataframe[0].value
    assert list(table.user_tier.str.replace(" (small)", "")) == ["free", "plus", "power"]
    assert "Benjamini-Hochberg" in " ".join(c.value for c in at.caption)


def test_resplit_k_and_gain_change_the_numbers(app_env):
    at = run_page("ranking.py", {"rank.model": "search-v2", "rank.baseline": "", "rank.by": "locale", "rank.k": "5"})
    ndcg5 = next(m.value for m in at.metric if m.label == "NDCG@5")
    at.radio(key="_w.rank.gain").set_value("exp").run()
    assert not at.exception
    assert next(m.value for m in at.metric if m.label == "NDCG@5") != ndcg5
    assert at.query_params["rank.gain"] in ("exp", ["exp"])
    assert not at.error  # no baseline, no trap claim


def test_a_logged_ranking_is_compared_and_named_as_logged(tmp_path, monkeypatch):
    """A logged candidate (position + relevance) against a scored baseline judged by qrels."""
    from tests.test_ranking_logged import logged_and_scored_db
    db = logged_and_scored_db(tmp_path)
    monkeypatch.setenv("DASHBOARD_DB", str(db))
    at = run_page("ranking.py", {"rank.model": "feed-logged", "rank.baseline": "feed-scored", "rank.by": ""})
    captions = " ".join(c.value for c in at.caption)
    assert "`feed-logged` is a logged ranking: ordered by served position" in captions
    assert "`feed-scored` is ordered by score, judged by the qrels" in captions
    assert next(m.value for m in at.metric if m.label == "Queries") == "80"
