"""Launch review and metric tree services on a hand-made database, checked against scipy on the
raw per-user values the stored sufficient statistics were computed from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from dashboard.services import experiments as ex
from dashboard.services import tree as tree_service
from dashboard.store.connection import connect
from tests import launch_fixture as lf

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return lf.launch_db(tmp_path_factory)


@pytest.fixture
def con(db):
    c = connect(db, read_only=True)
    yield c
    c.close()


def _check_row_against_raw(row, c, t):
    ref = stats.ttest_ind(t, c, equal_var=False)
    lo, hi = ref.confidence_interval(0.95)
    assert row["n_control"] == c.size and row["n_treatment"] == t.size
    assert row["control_mean"] == pytest.approx(c.mean(), rel=1e-9)
    assert row["treatment_mean"] == pytest.approx(t.mean(), rel=1e-9)
    assert row["lift"] == pytest.approx(t.mean() - c.mean(), rel=1e-7, abs=1e-12)
    assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-6, abs=1e-12)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((lo, hi), rel=1e-6, abs=1e-12)
    if c.mean() != 0:
        assert row["relative_lift"] == pytest.approx(t.mean() / c.mean() - 1, rel=1e-7, abs=1e-12)


def test_scorecard_matches_scipy_on_raw_values(con):
    r = ex.experiment_report(con, "X1")
    rows = {m["metric"]: m for m in r["metrics"]}
    assert set(rows) == set(lf.RAW["X1"])
    for metric, (c, t) in lf.RAW["X1"].items():
        _check_row_against_raw(rows[metric], c, t)
    # grouped by tree level, business first, primary first within it
    assert [m["level"] for m in r["metrics"]] == ["business", "business", "engagement", "engagement", "task", "task"]
    assert r["metrics"][0]["metric"] == "retention_7d" and r["metrics"][0]["primary"]
    # BH over the non-primary metrics, against scipy
    secondary = [m for m in r["metrics"] if not m["primary"]]
    q = stats.false_discovery_control([m["p_value"] for m in secondary], method="bh")
    assert [m["q_value"] for m in secondary] == pytest.approx(list(q))


def test_e045_pattern_says_roll_back_with_reasons(con):
    r = ex.experiment_report(con, "X1")
    assert r["decision"] == "roll back" and r["headline"] == "Roll back: do not ship"
    text = "\n".join(r["reasons"])
    assert "Guardrail breached: Latency" in text
    assert "7-day retention (business) got significantly worse" in text
    assert "Offline-online trap" in text and "ndcg@10 +8.0%" in text
    assert r["offline_online_trap"] is True
    assert set(r["broken"]) == {"latency_ms", "retention_7d"}
    latency = next(m for m in r["metrics"] if m["metric"] == "latency_ms")
    assert latency["guardrail"] == "Latency may rise by at most 10%"
    assert latency["passed"] is False and latency["guardrail_status"] == "breached"
    assert next(m for m in r["metrics"] if m["metric"] == "ctr")["guardrail"] is None
    offline = {o["metric"]: o for o in r["offline"]}
    assert offline["ndcg@10"]["relative_change"] == pytest.approx(0.08)
    assert offline["ndcg@10"]["status"] == "better" and offline["ndcg@10"]["level"] == "model"


def test_clean_win_ships_and_zero_control_mean_is_explained(con):
    r = ex.experiment_report(con, "X2")
    assert r["decision"] == "ship", r["reasons"]
    bugs = next(m for m in r["metrics"] if m["metric"] == "bugs")
    assert bugs["relative_lift"] is None and bugs["control_mean"] == 0.0
    assert "control mean is 0" in bugs["note"] and "not in the metric tree" in bugs["note"]
    assert bugs["level"] == "other" and bugs["in_tree"] is False
    _check_row_against_raw(bugs, *lf.RAW["X2"]["bugs"])


def test_sample_ratio_mismatch_holds(con):
    r = ex.experiment_report(con, "X3")
    ref = stats.chisquare([50_000, 47_000])
    assert r["srm"]["mismatch"] and r["srm"]["p_value"] == pytest.approx(ref.pvalue, rel=1e-6)
    assert r["decision"] == "hold" and "sample ratio mismatch" in r["reasons"][0]


def test_segments_match_scipy_and_are_corrected_together(con):
    r = ex.experiment_report(con, "X1")
    segs = {(s["column"], s["value"]): s for s in r["segments"]}
    assert set(segs) == {("user_tier", "free"), ("user_tier", "premium")}
    for tier in ("free", "premium"):
        rows = {m["metric"]: m for m in segs[("user_tier", tier)]["metrics"]}
        for metric, (c, t) in lf.RAW_SEGMENTS["X1"][tier].items():
            _check_row_against_raw(rows[metric], c, t)
    all_rows = [m for s in r["segments"] for m in s["metrics"]]
    q = stats.false_discovery_control([m["p_value"] for m in all_rows], method="bh")
    assert [m["q_value"] for m in all_rows] == pytest.approx(list(q))
    free = {m["metric"]: m for m in segs[("user_tier", "free")]["metrics"]}
    premium = {m["metric"]: m for m in segs[("user_tier", "premium")]["metrics"]}
    assert free["retention_7d"]["status"] == "worse"
    assert premium["retention_7d"]["status"] == "inconclusive"
    assert free["latency_ms"]["guardrail_status"] == "breached"
    assert ex.experiment_report(con, "X2")["segments"] == []


def test_unknown_experiment_and_custom_primary(con):
    r = ex.experiment_report(con, "nope")
    assert "no results" in r["error"]
    r2 = ex.experiment_report(con, "X2", primary="revenue_per_user")
    assert r2["primary"] == "revenue_per_user"
    assert r2["metrics"][0]["metric"] == "revenue_per_user"


def test_tree_view_experiment_mode(con):
    view = tree_service.tree_view(con, None, "X1")
    nodes = {n["id"]: n for n in view["nodes"]}
    assert nodes["retention_7d"]["status"] == "worse" and nodes["retention_7d"]["source"] == "online"
    assert nodes["latency_ms"]["status"] == "worse" and nodes["ctr"]["status"] == "better"
    assert nodes["ndcg_10"]["status"] == "better" and nodes["ndcg_10"]["source"] == "offline"
    assert nodes["ndcg_10"]["relative_change"] == pytest.approx(0.08)
    assert nodes["fraud_auc"]["status"] == "no data"
    assert nodes["dau"]["status"] == "no data"  # daily only: not measured in an experiment
    assert nodes["retention_7d"]["children"] == ["session_length", "retention_proxy", "task_success"]
    assert nodes["retention_proxy"]["status"] == "no data"  # a composite needs a history to learn from
    c, t = lf.RAW["X1"]["retention_7d"]
    assert nodes["retention_7d"]["p_value"] == pytest.approx(stats.ttest_ind(t, c, equal_var=False).pvalue)


def test_tree_view_period_mode_judges_whole_weeks_against_past_weeks(con):
    view = tree_service.tree_view(con, None, None, days=7)
    # the data ends on a Tuesday: the last complete ISO week is 2025-W10
    assert view["window"] == {"week": "2025-W10", "weeks": 1, "end": "2025-03-09", "cur_start": "2025-03-03",
                              "prev_end": "2025-03-02", "prev_start": "2025-02-24"}
    nodes = {n["id"]: n for n in view["nodes"]}
    assert nodes["retention_7d"]["status"] == "worse"
    assert nodes["dau"]["status"] == "within normal"
    assert nodes["revenue_per_user"]["status"] == "no data"
    series = dict(tree_service.daily_series(con, "retention_7d"))
    week = lambda lo, hi: np.mean([v for d, v in series.items() if lo <= d <= hi])  # noqa: E731
    cur, prev = week("2025-03-03", "2025-03-09"), week("2025-02-24", "2025-03-02")
    assert nodes["retention_7d"]["change"] == pytest.approx(cur - prev)
    assert nodes["retention_7d"]["relative_change"] == pytest.approx(cur / prev - 1)
    # 9 complete weeks (W02..W10): 7 past week-over-week changes, no year-ago baseline
    weekly = [week(str(np.datetime64("2025-01-06") + 7 * i), str(np.datetime64("2025-01-12") + 7 * i))
              for i in range(9)]
    d = np.diff(np.log(weekly))
    past = d[:-1]
    t = (d[-1] - past.mean()) / (past.std(ddof=1) * np.sqrt(1 + 1 / past.size))
    assert nodes["retention_7d"]["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), past.size - 1), rel=1e-6)
    assert "past weeks" in nodes["retention_7d"]["note"]
    problems = [p["text"] for p in view["problems"]]
    assert any("daily metric 'revenue_per_user' has no rows" in p for p in problems)


def test_node_detail(con):
    d = tree_service.node_detail(con, None, "ndcg_10")
    assert d["found"] and d["data"] == {"offline": "ndcg@10"}
    assert [o["experiment_id"] for o in d["offline"]] == ["X2", "X1"]  # oldest first
    assert [p["id"] for p in d["parents"]] == ["task_success", "ctr"]
    r = tree_service.node_detail(con, None, "retention_7d")
    assert len(r["daily"]) == 70 and [c["id"] for c in r["children"]] == ["session_length", "retention_proxy",
                                                                          "task_success"]
    assert tree_service.node_detail(con, None, "nope") == {"node": "nope", "found": False}


def test_broken_tree_file_is_reported_not_raised(con, tmp_path):
    bad = tmp_path / "tree.yaml"
    bad.write_text("nodes:\n  - {id: a, level: business, direction: up, data: {online: retention_7d}}\n")
    r = ex.experiment_report(con, "X1", str(bad))
    assert r["tree"]["loaded"] is False and "bad direction" in r["tree"]["problems"][0]["text"]
    assert r["decision"] == "hold"  # no tree: no primary, no guardrails


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "dashboard", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def test_cli_report_experiment(db, tmp_path):
    proc = _cli("report", "experiment", "--db", str(db), "--id", "X1", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["experiment"]["experiment_id"] == "X1" and out["decision"] == "roll back"
    assert out["reasons"]
    for m in out["metrics"]:
        for key in ("metric", "level", "control_mean", "treatment_mean", "lift", "relative_lift",
                    "ci_low", "ci_high", "p_value", "guardrail", "passed"):
            assert key in m
    missing = _cli("report", "experiment", "--db", str(db), "--id", "E999")
    assert missing.returncode == 2 and "no results for experiment 'E999'" in missing.stderr
    rules = tmp_path / "rules.yaml"
    rules.write_text("guardrail_rule: estimate\nprotected_levels: [business, engagement]\n")
    proc = _cli("report", "experiment", "--db", str(db), "--id", "X2", "--rules", str(rules), "--alpha", "0.01")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["rules"]["alpha"] == 0.01 and out["rules"]["guardrail_rule"] == "estimate"
    rules.write_text("alpah: 0.1\n")
    bad = _cli("report", "experiment", "--db", str(db), "--id", "X2", "--rules", str(rules))
    assert bad.returncode == 2 and "unknown decision rule" in bad.stderr


def test_empty_database(tmp_path):
    path = tmp_path / "empty.duckdb"
    connect(path).close()  # only the bookkeeping tables
    con = connect(path, read_only=True)
    try:
        assert ex.list_experiments(con) == []
        assert "no results" in ex.experiment_report(con, "E1")["error"]
        view = tree_service.tree_view(con, None, None, 7)
        assert view["nodes"] and all(n["status"] == "no data" for n in view["nodes"])
        assert tree_service.tree_view(con, None, "E1")["nodes"][0]["status"] == "no data"
        assert tree_service.node_detail(con, None, "retention_7d")["daily"] == []
    finally:
        con.close()


# report experiment --json before issue 15: these keys must stay (new ones are additive)
STABLE_TOP = {"experiment", "decision", "headline", "reasons", "metrics", "offline", "segments", "srm",
              "tree", "rules", "primary", "reason_details", "offline_online_trap", "broken",
              "multiple_testing", "levels", "tree_nodes"}
STABLE_ROW = {"metric", "name", "level", "direction", "unit", "primary", "in_tree", "n_control",
              "n_treatment", "control_mean", "treatment_mean", "lift", "relative_lift", "ci_low", "ci_high",
              "relative_ci_low", "relative_ci_high", "p_value", "q_value", "status", "guardrail",
              "guardrail_status", "passed", "max_relative_change", "max_absolute_change", "broken", "note"}


def test_raw_p_harm_reads_hold_investigate_and_noisy_control_is_flagged(con):
    r = ex.experiment_report(con, "X4")
    assert STABLE_TOP <= set(r) and all(STABLE_ROW <= set(m) for m in r["metrics"])
    assert r["decision"] == "hold" and r["headline"] == "Hold: investigate"
    assert r["investigate"] == ["revenue_per_user"] and r["broken"] == []
    rows = {m["metric"]: m for m in r["metrics"]}
    rev = rows["revenue_per_user"]
    c, t = lf.RAW["X4"]["revenue_per_user"]
    _check_row_against_raw(rev, c, t)
    assert rev["p_value"] == pytest.approx(0.0278, abs=1e-3) and rev["status"] == "inconclusive"
    assert rev["harm"] == "investigate" and rev["harm_q_value"] == pytest.approx(rev["p_value"])
    assert any(x["rule"] == "investigate" and "Revenue per user" in x["text"] for x in r["reason_details"])
    assert "raw p-value only" in r["multiple_testing"] or "Hold: investigate" in r["multiple_testing"]
    noisy = rows["complaints"]
    assert noisy["noisy_control"] and noisy["control_relative_se"] > 0.1 and "noisy control mean" in noisy["note"]
    assert not rev["noisy_control"] and rows["retention_7d"]["relative_ci_method"] == "fieller"
    # the tree shows the same statuses, not the raw p
    tree_status = {n["id"]: n["status"] for n in r["tree_nodes"]}
    assert tree_status["revenue_per_user"] == "inconclusive" and tree_status["retention_7d"] == "better"
    # the old rule, put back through --rules, rolls it back
    old = ex.experiment_report(con, "X4", rules={"correct_harm": False})
    assert old["decision"] == "roll back" and old["broken"] == ["revenue_per_user"]
