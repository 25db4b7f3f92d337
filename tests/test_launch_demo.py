"""The demo company's planted launch stories, through the services and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dashboard.gates import evaluate, load_gates
from dashboard.services import experiments as ex
from dashboard.services import tree as tree_service

REPO = Path(__file__).resolve().parents[1]


def test_demo_tree_matches_the_demo_data(demo_con):
    loaded = tree_service.load(demo_con, None)
    assert loaded.tree is not None and loaded.problems == []  # every node's metric has rows


def test_e045_offline_win_is_a_roll_back(demo_con):
    r = ex.experiment_report(demo_con, "E045")
    assert r["decision"] == "roll back"
    rules = {d["rule"] for d in r["reason_details"] if d["severity"] in ("block", "warn")}
    assert {"guardrail", "harm", "trap"} <= rules
    rows = {m["metric"]: m for m in r["metrics"]}
    assert rows["retention_7d"]["status"] == "worse" and rows["retention_7d"]["primary"]
    assert rows["ctr"]["status"] == "better"
    assert rows["latency_ms"]["guardrail_status"] == "breached" and rows["latency_ms"]["passed"] is False
    offline = {o["metric"]: o for o in r["offline"]}
    assert offline["ndcg@10"]["relative_change"] > 0.05
    assert set(r["broken"]) == {"latency_ms", "retention_7d"}
    lit = {n["id"] for n in r["tree_nodes"] if n["broken"]}
    assert lit == {"latency_ms", "retention_7d"}
    assert r["segments"] and {s["column"] for s in r["segments"]} == {"user_tier"}


def test_e027_sample_ratio_mismatch_holds(demo_con):
    r = ex.experiment_report(demo_con, "E027")
    assert r["srm"]["mismatch"] and r["decision"] == "hold"
    assert r["reason_details"][0]["rule"] == "srm"


def test_e038_click_optimised_ranker_is_named(demo_con):
    r = ex.experiment_report(demo_con, "E038")  # the verdict depends on scale; the warning does not
    proxy = [d["text"] for d in r["reason_details"] if d["rule"] == "proxy"]
    assert proxy and "Click-through rate" in proxy[0] and "Session length" in proxy[0]


def test_every_demo_experiment_gets_a_decision(demo_con):
    for e in ex.list_experiments(demo_con):
        r = ex.experiment_report(demo_con, e["experiment_id"])
        assert r["decision"] in ("ship", "hold", "roll back"), e
        assert json.loads(ex.to_json(r))  # strict JSON: no NaN / inf anywhere


def test_tree_colours_scorecard_and_reasons_share_the_corrected_evidence(demo_con):
    """The E028 bug: task success p 0.039, q 0.097 was coloured in the tree but 'inconclusive' in
    the scorecard. Now every online node has its scorecard status, on Launch review and on the
    Metric tree's experiment mode, and a roll back names only harm that survived the correction."""
    loaded = tree_service.load(demo_con, None)
    for e in ex.list_experiments(demo_con):
        eid = e["experiment_id"]
        r = ex.experiment_report(demo_con, eid)
        status = {m["metric"]: m["status"] for m in r["metrics"]}
        view = tree_service.tree_view(demo_con, None, eid)
        for nodes in (r["tree_nodes"], view["nodes"]):
            online = {loaded.tree.node(n["id"]).data.online: n["status"] for n in nodes if n["source"] == "online"}
            assert online == status, eid
        for m in r["metrics"]:
            if m["metric"] in r["broken"] and m.get("guardrail_status") != "breached":
                assert m["harm_q_value"] < r["rules"]["rollback_alpha"] or m["harm"] == "shown", eid


def test_demo_gates(demo_con):
    results = {g.name: evaluate(demo_con, g) for g in load_gates(REPO / "data" / "gates.yaml")}
    assert all(r.status in ("PASS", "FAIL") for r in results.values()), [r.summary for r in results.values()]
    ndcg = next(r for name, r in results.items() if name.startswith("Search NDCG@10"))
    assert len(ndcg.checks) > 5  # overall + every query segment value


def test_cli_on_the_demo(demo_db):
    out = subprocess.run([sys.executable, "-m", "dashboard", "report", "experiment", "--db", str(demo_db),
                          "--id", "E045", "--json"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["decision"] == "roll back"
    check = subprocess.run([sys.executable, "-m", "dashboard", "check", "--db", str(demo_db),
                            str(REPO / "data" / "gates.yaml")], capture_output=True, text=True, cwd=REPO,
                           timeout=300)
    assert check.returncode in (0, 1), check.stderr
    assert check.stdout.strip().splitlines()[-1].endswith("failed.")
