"""`report proxy`: the learned composite on the demo (its planted story: task success and session
length together predict retention better than either, CTR gets no weight), the JSON contract, the
text form, and the composite recomputed from the report's own numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dashboard.cli import main
from dashboard.services import proxy as svc

TS, SL, CTR, LAT = "online:task_success", "online:session_length", "online:ctr", "online:latency_ms"


@pytest.fixture(scope="module")
def demo_report(demo_db):
    from dashboard.store.connection import connect

    con = connect(demo_db, read_only=True)
    try:
        return svc.learned_proxy(con, "retention_7d")
    finally:
        con.close()


def test_json_contract(demo_db, capsys):
    assert main(["report", "proxy", "--db", str(demo_db), "--target", "retention_7d",
                 "--candidates", "task_success,session_length,ctr", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r) >= {"weights", "in_sample", "out_of_sample", "n_experiments", "per_experiment"}
    for part in ("in_sample", "out_of_sample"):
        assert set(r[part]) >= {"sign_agreement", "correlation", "correlation_ci", "sensitivity"}
    assert list(r["weights"]) == [TS, SL, CTR] and r["n_experiments"] == 45
    assert sum(abs(w) for w in r["weights"].values()) == pytest.approx(1.0)
    row = r["per_experiment"][0]
    assert set(row) >= {"experiment_id", "composite_lift", "composite_ci", "target_lift", "target_ci"}
    assert row["composite_ci"][0] < row["composite_lift"] < row["composite_ci"][1]


def test_composite_lifts_follow_from_the_reported_coefficients(demo_report):
    r = demo_report
    for row in r["per_experiment"]:
        expected = sum(r["coefficients"][c] * row["candidate_lifts"][c] for c in r["candidates"])
        assert row["composite_lift"] == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_demo_story_together_better_than_either_ctr_near_zero(demo_report):
    r = demo_report
    assert set(r["candidates"]) == {TS, SL, CTR, LAT}  # revenue is another outcome, not a short-term metric
    w, ci = r["weights"], r["weight_ci"]
    for m in (TS, SL):
        assert w[m] > 0.25 and ci[m][0] > 0, m
    assert abs(w[CTR]) < 0.1 and ci[CTR][0] < 0 < ci[CTR][1]
    singles = {s["metric"]: s for s in r["singles"]}
    best = max(singles[TS]["correlation"], singles[SL]["correlation"])
    oos = r["out_of_sample"]
    assert oos["correlation"] > best + 0.05  # out of sample, beside each single metric
    assert oos["sign_agreement"] >= max(singles[TS]["sign_agreement"], singles[SL]["sign_agreement"])
    assert r["best_single"] in (TS, SL)
    assert r["in_sample"]["correlation"] >= oos["correlation"]  # judged on its own data: optimistic
    assert r["north_star"]["sensitivity"] < oos["sensitivity"] + 0.2


def test_text_form_and_errors(demo_db, capsys):
    assert main(["report", "proxy", "--db", str(demo_db), "--target", "retention_7d"]) == 0
    out = capsys.readouterr().out
    assert "Learned composite proxy for 7-day retention" in out
    assert "composite, out of sample (LOO)" in out and "Task success" in out
    assert main(["report", "proxy", "--db", str(demo_db), "--target", "nope"]) == 2
    assert "no experiment has metric 'nope'" in capsys.readouterr().err
    assert main(["report", "proxy", "--db", str(demo_db), "--target", "retention_7d",
                 "--candidates", "retention_7d"]) == 2
    assert "no candidate metrics" in capsys.readouterr().err


def test_view_for_the_app_and_for_one_experiment(demo_con):
    r = svc.view(demo_con, "online:retention_7d")
    said = svc.for_experiment(r, "E045")
    row = next(p for p in r["per_experiment"] if p["experiment_id"] == "E045")
    assert said["lift"] == row["out_of_sample_lift"] and said["n_experiments"] == 45
    assert said["ci"][0] < said["lift"] < said["ci"][1]
    assert svc.for_experiment(r, "E999") is None
    assert "error" in svc.view(demo_con, "online:no_such_metric")


def test_all_pairs_noise_covariances_in_one_query_equal_the_pairwise_ones(demo_con):
    from dashboard.store.covariances import noise_covariance, noise_covariances

    metrics = ["retention_7d", "task_success", "session_length", "ctr"]
    both = noise_covariances(demo_con, metrics)
    for i, a in enumerate(metrics):
        for b in metrics[i + 1:]:
            one, got = noise_covariance(demo_con, a, b), both[tuple(sorted((a, b)))]
            assert one and one.keys() == got.keys()
            for eid, by_variant in one.items():
                assert by_variant == pytest.approx(got[eid], rel=1e-12)


def test_an_experiment_without_its_north_star_yet_gets_the_composite_from_every_experiment(demo_db, tmp_path):
    """The composite's use: retention not measured yet (here: E045's retention rows removed)."""
    import shutil

    from dashboard.services import tree as tree_svc
    from dashboard.store.connection import connect

    db = tmp_path / "pending.duckdb"
    shutil.copy(demo_db, db)
    con = connect(db)
    con.execute("DELETE FROM experiment_results WHERE experiment_id = 'E045' AND metric = 'retention_7d'")
    r = svc.learned_proxy(con, "retention_7d")
    assert r["n_experiments"] == 44
    row = next(p for p in r["per_experiment"] if p["experiment_id"] == "E045")
    assert row["pending"] and row["target_lift"] is None
    expected = sum(r["coefficients"][c] * row["candidate_lifts"][c] for c in r["candidates"])
    assert row["composite_lift"] == pytest.approx(expected, rel=1e-9)
    said = svc.for_experiment(r, "E045")
    assert said["pending"] and said["lift"] == row["composite_lift"]
    assert svc.leaderboard_row(r)["n_experiments"] == 44  # validation only where the target is known
    node = next(n for n in tree_svc.tree_view(con, None, "E045")["nodes"] if n["id"] == "retention_proxy")
    assert node["relative_change"] == pytest.approx(row["composite_lift"], rel=1e-9)
    assert "weights learned on the 44 other experiments" in node["note"]
    assert "not measured yet" in svc.report_text(r)
    con.close()
