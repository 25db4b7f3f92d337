"""Ranking service on the demo: JSON agrees with pytrec_eval per query; deltas vs scipy; the trap."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import pytrec_eval
from scipy import stats

from dashboard.metrics import ranking as rk
from dashboard.services import ranking as svc


def trec_dicts(con, model):
    run: dict = {}
    for q, d, s in con.execute("SELECT query_id, item_id, score FROM rankings WHERE model = ?", [model]).fetchall():
        run.setdefault(q, {})[d] = float(s)
    qrels: dict = {}
    for q, d, r in con.execute("SELECT query_id, item_id, relevance FROM qrels").fetchall():
        qrels.setdefault(q, {})[d] = int(r)
    return run, qrels


def test_report_json_agrees_with_pytrec_eval_query_by_query(demo_db, demo_con):
    out = subprocess.run([sys.executable, "-m", "dashboard", "report", "ranking", "--db", str(demo_db),
                          "--model", "search-v3", "--baseline", "search-v2", "--k", "10", "--by", "user_tier",
                          "--per-query", "--json"], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    run, qrels = trec_dicts(demo_con, "search-v3")
    expected = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10", "recip_rank", "recall_10"}).evaluate(run)
    assert len(result["queries"]) == len(expected)
    for row in result["queries"]:
        e = expected[row["query_id"]]
        assert row["ndcg"] == pytest.approx(e["ndcg_cut_10"], abs=1e-9)
        assert row["mrr"] == pytest.approx(e["recip_rank"], abs=1e-9)
        assert row["recall"] == pytest.approx(e["recall_10"], abs=1e-9)
    assert result["overall"]["ndcg"] == pytest.approx(np.mean([e["ndcg_cut_10"] for e in expected.values()]), abs=1e-12)
    for key in ("n_queries", "ndcg", "mrr", "recall", "hit", "delta_ndcg", "ci_low", "ci_high"):
        assert key in result["overall"]
        assert all(key in s for s in result["segments"])


def test_power_user_trap_is_flagged_on_the_demo(demo_con):
    table = svc.segment_table(demo_con, "search-v3", 10, "linear", "user_tier", "search-v2")
    assert table["overall"]["delta_ndcg"] > 0
    flagged = {s["value"] for s in table["segments"] if s["trap"]}
    assert flagged == {"power"}


def test_paired_delta_matches_scipy(demo_con):
    data = svc.per_query(demo_con, "search-v3", 10, "linear", "locale", "search-v2")
    mask = data["segment"] == "de-DE"
    d = rk.paired_delta(data["ndcg"][mask], data["base_ndcg"][mask])
    assert d.p_value == pytest.approx(stats.ttest_rel(data["ndcg"][mask], data["base_ndcg"][mask]).pvalue, rel=1e-9)
    ref = stats.ttest_1samp(data["ndcg"][mask] - data["base_ndcg"][mask], 0.0).confidence_interval(0.95)
    assert (d.ci_low, d.ci_high) == pytest.approx((ref.low, ref.high), rel=1e-9)
    small = rk.paired_delta(data["ndcg"][mask][:29], data["base_ndcg"][mask][:29])
    assert small.ci_low is None and small.confidence is None  # too few queries: no interval


def test_segment_intervals_agree_with_the_bh_flags():
    """FCR-adjusted intervals (level 1 - R alpha / m) exclude 0 exactly for BH-significant segments."""
    rng = np.random.default_rng(5)
    for trial in range(200):
        m = int(rng.integers(2, 8))
        deltas = [rk.paired_delta(rng.normal(rng.choice([0, 0.2, -0.3]), 1, 60), rng.normal(0, 1, 60))
                  for _ in range(m)]
        for f in rk.flag_segments(deltas, 0.1):
            excludes_zero = f["ci_low"] > 0 or f["ci_high"] < 0
            assert excludes_zero == f["significant"], trial


def test_bh_matches_scipy_and_small_segments_are_not_flagged():
    rng = np.random.default_rng(2)
    deltas = [rk.paired_delta(rng.normal(m, 1, n), rng.normal(0, 1, n)) for m, n in
              [(0.3, 200), (-0.4, 200), (0.0, 200), (-2.0, 10)]]
    flags = rk.flag_segments(deltas, 0.1, min_size=30)
    p = [d.p_value for d in deltas[:3]]
    expected_q = stats.false_discovery_control(p)
    assert [f["q_value"] for f in flags[:3]] == pytest.approx(list(expected_q))
    assert flags[3]["small"] and not flags[3]["trap"] and flags[3]["q_value"] is None
    assert flags[1]["trap"] and not flags[0]["trap"]


def test_exp_gain_dcg_and_degenerate_input(demo_con):
    lin = svc.segment_table(demo_con, "search-v2", 5, "linear")
    exp = svc.segment_table(demo_con, "search-v2", 5, "exp")
    assert exp["overall"]["dcg"] > lin["overall"]["dcg"]  # 2^rel - 1 >= rel for grades >= 1
    with pytest.raises(ValueError, match="k must be one of 1, 3, 5, 10, 20, 100, 1000"):
        svc.segment_table(demo_con, "search-v2", 7)
    with pytest.raises(ValueError, match="unknown ranking model 'x'"):
        svc.segment_table(demo_con, "x")
    assert rk.paired_bootstrap_ci(np.array([0.5])) == (None, None)
    assert rk.paired_p_value(np.zeros(5)) == 1.0


def test_coverage_is_a_share_of_the_catalogue(demo_con):
    cov = svc.coverage(demo_con, "search-v2", 10, "frequency")
    assert set(cov) == {"head", "torso", "tail"}
    assert all(0 < v <= 1 for v in cov.values())


def test_deltas_from_a_group_by_equal_the_per_query_computation():
    """The page's re-split reads counts and sums (one GROUP BY); its t interval and p equal those
    from the per-query values, also with no spread and under the minimum size."""
    rng = np.random.default_rng(9)
    cases = [(rng.random(n), rng.random(n)) for n in (2, 29, 30, 400)]
    same = rng.random(50)
    cases += [(same, same), (same + 0.25, same)]
    for cand, base in cases:
        d = cand - base
        a = rk.paired_delta(cand, base)
        b = rk.paired_delta_from_sums(len(d), cand.sum(), base.sum(), d.sum(), (d * d).sum())
        for field in ("n", "mean_candidate", "mean_baseline", "delta", "ci_low", "ci_high", "p_value", "confidence"):
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None and y is None) or x == pytest.approx(y, rel=1e-9, abs=1e-12), (field, len(d))
