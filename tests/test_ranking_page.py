"""AppTest: the Ranking page flags the power-user regression and keeps its state in the URL."""

from __future__ import annotations

import pyarrow as pa

from tests.apptest import run_page


def test_trap_flagged_and_forest_plot_drawn(app_env):
    at = run_page("ranking.py", {"rank.model": "search-v3", "rank.baseline": "search-v2", "rank.by": "user_tier"})
    errors = " ".join(e.value for e in at.error)
    assert "Regression under a rising average" in errors and "user_tier=power" in errors
    charts = at.get("vega_lite_chart")
    assert len(charts) == 3 and not at.get("plotly_chart")  # no Plotly on the page: its script is never loaded
    rows = pa.ipc.open_stream(charts[0].proto.data.data).read_pandas()  # the forest plot's inline rows
    forest = {r["label"]: r for r in rows.to_dict("records")}
    assert list(forest)[0] == "All queries" and forest["user_tier=power"]["colour"] == "#dc2626"  # the trap, red
    assert forest["user_tier=power"]["lo"] < forest["user_tier=power"]["delta"] < forest["user_tier=power"]["hi"] < 0
    overall, by_segment, levels = (d.value for d in at.dataframe)
    assert list(overall.measure) == ["NDCG@10", "DCG@10", "MRR", "Recall@10", "Hit@10", "P@10", "MAP@10", "MAP",
                                     "R-prec", "bpref"]  # a delta with its interval for every measure
    assert overall["95% CI"].str.startswith("[").all()
    assert list(by_segment.user_tier) == ["free", "plus", "power"]
    assert list(by_segment.columns[-4:]) == ["Δ", "95.0% CI", "q (BH)", "flag"]  # 3 of 3 selected: 1 - 3 x 5% / 3
    assert by_segment.set_index("user_tier").flag["power"] == "regresses under rising average"
    assert list(levels.user_tier.str.replace(" (small)", "")) == ["free", "plus", "power"]
    assert "Benjamini-Hochberg" in " ".join(c.value for c in at.caption)


def test_k_beyond_the_lists_is_flagged_and_the_experiment_is_linked(app_env):
    at = run_page("ranking.py", {"rank.model": "search-v3", "rank.baseline": "search-v2", "rank.by": "locale",
                                 "rank.k": "20", "rank.level": "2", "rank.allq": "true", "rank.metric": "mrr"})
    warnings = " ".join(w.value for w in at.warning)
    assert "k = 20 is beyond the lists" in warnings and "at most 10 items, so its @20 measures repeat @10" in warnings
    links = [link.proto.label for link in at.get("page_link")]
    assert any(label.startswith("E045") and "search-v2 → search-v3" in label for label in links), links
    assert at.query_params["rank.allq"] in ("true", ["true"]) and at.query_params["rank.level"] in ("2", ["2"])
    assert "grade ≥ 2" in " ".join(c.value for c in at.caption)
    at10 = run_page("ranking.py", {"rank.model": "search-v3", "rank.baseline": "search-v2", "rank.k": "10"})
    assert not at10.warning


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
