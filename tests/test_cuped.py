"""CUPED: the adjusted lift and its standard error from sufficient statistics equal an independent
regression adjustment on the units (numpy lstsq); `results` with pre-period columns loads, refuses
bad rows naming file, row and column, and feeds the decision and `report experiment --json`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from dashboard.metrics.cuped import CupedStats, cuped_compare
from dashboard.metrics.experiments import SuffStats
from dashboard.services import experiments as exp_service
from dashboard.services import tree as tree_service
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file
from dashboard.store.readers import InputError


def units(seed=0, n_c=400, n_t=300, rho=0.7, effect=0.1, ties=False):
    rng = np.random.default_rng(seed)
    out = {}
    for v, n, d in (("control", n_c, 0.0), ("treatment", n_t, effect)):
        x = rng.normal(5.0, 2.0, n)
        y = 10.0 + d + rho * (x - 5.0) / 2.0 + math.sqrt(1 - rho * rho) * rng.normal(0, 1, n)
        if ties:  # integer-valued metrics with many ties, as counts are
            x, y = np.round(x), np.round(y)
        out[v] = (y, x)
    return out


def cstats(y, x) -> CupedStats:
    return CupedStats(len(y), float(y.sum()), float((y * y).sum()), float(x.sum()), float((x * x).sum()),
                      float((x * y).sum()))


def ols_oracle(u):
    """y ~ 1 + treatment + (x - xbar) by least squares; se from each variant's own residual variance."""
    (yc, xc), (yt, xt) = u["control"], u["treatment"]
    y = np.concatenate([yc, yt])
    x = np.concatenate([xc, xt])
    t = np.concatenate([np.zeros(len(yc)), np.ones(len(yt))])
    X = np.column_stack([np.ones_like(y), t, x - x.mean()])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    theta = beta[2]
    rc, rt = yc - theta * xc, yt - theta * xt
    se = math.sqrt(rc.var(ddof=1) / len(rc) + rt.var(ddof=1) / len(rt))
    adj_c = beta[0]  # the control's mean at the pooled pre-period mean
    return beta[1], theta, se, adj_c


@pytest.mark.parametrize("seed,ties,n_c,n_t", [(0, False, 400, 300), (1, True, 50, 80), (2, True, 3, 4)])
def test_matches_regression_adjustment_on_units(seed, ties, n_c, n_t):
    u = units(seed, n_c, n_t, ties=ties)
    r = cuped_compare(cstats(*u["control"]), cstats(*u["treatment"]))
    lift, theta, se, adj_c = ols_oracle(u)
    assert r.theta == pytest.approx(theta, rel=1e-9)
    assert r.adjusted.lift == pytest.approx(lift, rel=1e-9, abs=1e-12)
    assert r.adjusted.se == pytest.approx(se, rel=1e-8)
    assert r.adjusted.control_mean == pytest.approx(adj_c, rel=1e-9)
    assert r.adjusted.relative_lift == pytest.approx(lift / abs(adj_c), rel=1e-9)
    # Welch t on the adjusted numbers
    df = r.adjusted.df
    assert r.adjusted.p_value == pytest.approx(2 * sps.t.sf(abs(lift / se), df), rel=1e-8)
    q = sps.t.ppf(0.975, df)
    assert r.adjusted.ci_low == pytest.approx(lift - q * se, rel=1e-8, abs=1e-12)
    # Fieller: the relative bounds are the ratios R where |m_t - R m_c| / sqrt(s2_t + R^2 s2_c) = q
    a = r.adjusted
    s2c, s2t = a.control_var / n_c, a.treatment_var / n_t
    for bound in (a.relative_ci_low, a.relative_ci_high):
        R = bound + 1.0
        assert abs(a.treatment_mean - R * a.control_mean) / math.sqrt(s2t + R * R * s2c) == pytest.approx(q, rel=1e-7)
    assert r.variance_reduction == pytest.approx(1 - (se / r.unadjusted.se) ** 2, rel=1e-8)


def test_no_correlation_no_reduction_and_constant_pre_period():
    rng = np.random.default_rng(5)
    y, x = rng.normal(size=2000), rng.normal(size=2000)
    r = cuped_compare(cstats(y[:1000], x[:1000]), cstats(y[1000:], x[1000:]))
    assert abs(r.variance_reduction) < 0.01
    const = np.full(1000, 3.0)
    r = cuped_compare(cstats(y[:1000], const), cstats(y[1000:], const))
    assert r.theta == 0.0 and r.variance_reduction == pytest.approx(0.0, abs=1e-12)
    assert r.adjusted.lift == pytest.approx(r.unadjusted.lift)


def test_reduction_near_rho_squared():
    u = units(3, 20000, 20000, rho=0.8)
    r = cuped_compare(cstats(*u["control"]), cstats(*u["treatment"]))
    assert r.variance_reduction == pytest.approx(0.64, abs=0.03)


def test_single_unit_variant_is_not_adjusted():
    assert cuped_compare(CupedStats(1, 1.0, 1.0, 1.0, 1.0, 1.0), CupedStats(3, 3.0, 5.0, 3.0, 5.0, 5.0)) is None


# ---------------------------------------------------------------- store and report


def results_frame(u, pre=True) -> pd.DataFrame:
    rows = []
    for v, (y, x) in u.items():
        row = dict(experiment_id="E1", variant=v, metric="m", n=len(y), sum=y.sum(), sum_sq=(y * y).sum())
        if pre:
            row.update(pre_sum=x.sum(), pre_sum_sq=(x * x).sum(), sum_cross=(x * y).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def test_loads_and_reports_adjusted(tmp_path):
    u = units(7)
    results_frame(u).to_csv(tmp_path / "r.csv", index=False)
    db = tmp_path / "x.duckdb"
    ingest_file(db, "results", tmp_path / "r.csv")
    con = connect(db, read_only=True)
    try:
        stats = tree_service.overall_stats(con, "E1")
        report = exp_service.experiment_report(con, "E1")
    finally:
        con.close()
    assert isinstance(stats["m"][0], CupedStats)
    row = report["metrics"][0]
    lift, _theta, se, _c = ols_oracle(u)
    assert row["cuped"]["lift"] == pytest.approx(lift, rel=1e-9)
    assert set(row["cuped"]) >= {"lift", "relative_lift", "ci_low", "ci_high", "relative_ci_low",
                                 "relative_ci_high", "p_value", "variance_reduction"}
    assert row["cuped"]["variance_reduction"] > 0.3
    (yc, _), (yt, _) = u["control"], u["treatment"]
    assert row["lift"] == pytest.approx(yt.mean() - yc.mean(), rel=1e-9)  # the row itself: unadjusted


def test_old_table_without_pre_columns_then_gains_them(tmp_path):
    u = units(8)
    db = tmp_path / "x.duckdb"
    results_frame(u, pre=False).to_csv(tmp_path / "old.csv", index=False)
    ingest_file(db, "results", tmp_path / "old.csv")
    con = connect(db, read_only=True)
    try:
        assert exp_service.experiment_report(con, "E1")["metrics"][0]["cuped"] is None
    finally:
        con.close()
    results_frame(u).to_csv(tmp_path / "new.csv", index=False)
    ingest_file(db, "results", tmp_path / "new.csv", replace=True)
    con = connect(db, read_only=True)
    try:
        assert exp_service.experiment_report(con, "E1")["metrics"][0]["cuped"] is not None
    finally:
        con.close()


def _refused(tmp_path, frame, name="bad.csv") -> str:
    tmp_path = tmp_path / name.split(".")[0]
    tmp_path.mkdir()
    db = tmp_path / "x.duckdb"
    results_frame(units(9), pre=False).to_csv(tmp_path / "ok.csv", index=False)
    ingest_file(db, "results", tmp_path / "ok.csv")
    frame.to_csv(tmp_path / name, index=False)
    with pytest.raises(InputError) as e:
        ingest_file(db, "results", tmp_path / name, replace=True)
    con = connect(db, read_only=True)
    try:  # nothing stored on refusal: the old rows are still there, no pre-period values
        assert con.execute("SELECT count(*) FROM experiment_results").fetchone()[0] == 2
        cols = {r[0] for r in con.execute("DESCRIBE experiment_results").fetchall()}
        if "pre_sum" in cols:
            assert con.execute("SELECT count(pre_sum) FROM experiment_results").fetchone()[0] == 0
    finally:
        con.close()
    return "\n".join(e.value.problems)


def test_refuses_covariance_beyond_the_variances(tmp_path):
    f = results_frame(units(9))
    f.loc[1, "sum_cross"] = f.loc[1, "sum_cross"] * 3.0
    text = _refused(tmp_path, f)
    assert "bad.csv, line 3, column 'sum_cross'" in text and "sum_cross=" in text and "expected" in text


def test_refuses_partial_row_and_partial_header(tmp_path):
    f = results_frame(units(9))
    f.loc[0, "pre_sum_sq"] = np.nan
    text = _refused(tmp_path, f)
    assert "pre_sum" in text and "all given or all empty" in text
    f = results_frame(units(9)).drop(columns=["sum_cross"])
    text = _refused(tmp_path, f, "half.csv")
    assert "half.csv" in text and "sum_cross" in text


def test_refuses_negative_pre_variance(tmp_path):
    f = results_frame(units(9))
    f.loc[0, "pre_sum_sq"] = 1.0
    text = _refused(tmp_path, f)
    assert "pre_sum_sq" in text and "variance is never negative" in text


def test_decision_uses_adjusted_numbers():
    """A lift hidden by pre-period noise: significant only after adjustment."""
    from dashboard.metrics.decision import DecisionRules
    from dashboard.services.launch_evidence import evaluate

    u = units(11, 3000, 3000, rho=0.95, effect=0.06)
    c, t = cstats(*u["control"]), cstats(*u["treatment"])
    plain = {"m": (SuffStats(c.n, c.sum, c.sum_sq), SuffStats(t.n, t.sum, t.sum_sq))}
    ev_plain = evaluate(plain, {}, None, DecisionRules(), primary="m")
    ev_adj = evaluate({"m": (c, t)}, {}, None, DecisionRules(), primary="m")
    assert ev_plain.inputs[0].comparison.p_value > 0.05
    assert ev_adj.inputs[0].comparison.p_value < 0.001
    assert ev_adj.inputs[0].cuped is not None and ev_plain.inputs[0].cuped is None
    assert ev_adj.decision.verdict != ev_plain.decision.verdict


def test_scorecard_shows_adjusted_beside_unadjusted(tmp_path):
    from dashboard.ui.launch_tables import scorecard

    u = units(7)
    results_frame(u).to_csv(tmp_path / "r.csv", index=False)
    ingest_file(tmp_path / "x.duckdb", "results", tmp_path / "r.csv")
    con = connect(tmp_path / "x.duckdb", read_only=True)
    try:
        rows = exp_service.experiment_report(con, "E1")["metrics"]
    finally:
        con.close()
    table = scorecard(rows)
    cols = list(table.columns)
    assert cols[cols.index("relative CI") + 1:cols.index("relative CI") + 5] == [
        "CUPED relative lift", "CUPED relative CI", "CUPED p-value", "variance reduction"]
    assert table["variance reduction"][0].endswith("%") and "nan" not in table.to_string().lower()
    assert "CUPED p-value" not in scorecard([{**rows[0], "cuped": None}]).columns


def test_chart_rows_use_the_adjusted_numbers():
    from dashboard.ui.launch_tables import decided

    row = {"lift": 1.0, "relative_lift": 0.1, "ci_low": 0.0, "ci_high": 2.0, "relative_ci_low": 0.0,
           "relative_ci_high": 0.2, "p_value": 0.5, "status": "better"}
    cup = {"lift": 1.1, "relative_lift": 0.11, "ci_low": 0.9, "ci_high": 1.3, "relative_ci_low": 0.09,
           "relative_ci_high": 0.13, "p_value": 0.001, "variance_reduction": 0.5, "theta": 0.7}
    assert decided([row | {"cuped": None}])[0]["relative_lift"] == 0.1
    got = decided([row | {"cuped": cup}])[0]
    assert (got["relative_lift"], got["relative_ci_low"], got["p_value"]) == (0.11, 0.09, 0.001)


# ---------------------------------------------------------------- segments and guardrail text


def segmented_frame(by_tier: dict) -> pd.DataFrame:
    """Overall rows (every tier's units together) and one row per tier, as `results` holds them."""
    pooled = {v: tuple(np.concatenate([u[v][i] for u in by_tier.values()]) for i in (0, 1))
              for v in ("control", "treatment")}
    frames = [results_frame(pooled).assign(tier=None)]
    frames += [results_frame(u).assign(tier=tier) for tier, u in by_tier.items()]
    return pd.concat(frames, ignore_index=True)


def test_segment_rows_are_adjusted_as_the_overall_rows(tmp_path):
    by_tier = {"free": units(21, 300, 250, rho=0.8), "pro": units(22, 60, 45, rho=0.5, ties=True)}
    segmented_frame(by_tier).to_csv(tmp_path / "r.csv", index=False)
    ingest_file(tmp_path / "x.duckdb", "results", tmp_path / "r.csv")
    con = connect(tmp_path / "x.duckdb", read_only=True)
    try:
        report = exp_service.report(con, _args("E1"))
    finally:
        con.close()
    segments = {s["value"]: s["metrics"][0] for s in report["segments"]}
    assert set(segments) == {"free", "pro"}
    for tier, u in by_tier.items():
        row, (lift, _theta, se, adj_c) = segments[tier], ols_oracle(u)
        cup = row["cuped"]
        assert cup is not None, tier
        assert cup["lift"] == pytest.approx(lift, rel=1e-9)
        assert cup["relative_lift"] == pytest.approx(lift / abs(adj_c), rel=1e-9)
        (yc, _), (yt, _) = u["control"], u["treatment"]
        plain_se = math.sqrt(yc.var(ddof=1) / len(yc) + yt.var(ddof=1) / len(yt))
        assert cup["variance_reduction"] == pytest.approx(1 - (se / plain_se) ** 2, rel=1e-8)
        assert row["lift"] == pytest.approx(yt.mean() - yc.mean(), rel=1e-9)  # the row itself: unadjusted
        # the segment's status is judged on the adjusted p-value (BH over the segment family)
        assert row["q_value"] >= cup["p_value"] and cup["p_value"] != pytest.approx(row["p_value"])
    from dashboard.ui.launch_tables import scorecard
    table = scorecard(report["segments"][0]["metrics"])
    assert "variance reduction" in table.columns and table["variance reduction"][0].endswith("%")


def _args(experiment_id):
    import argparse
    return argparse.Namespace(experiment_id=experiment_id, tree=None, rules=None, alpha=None, primary=None,
                              control_share=0.5)


def test_guardrail_and_reasons_say_which_numbers_they_used():
    from dataclasses import replace

    from dashboard.metrics.decision import DecisionRules, check_guardrail, decide
    from dashboard.services.launch_evidence import metric_inputs

    u = units(31, 2000, 2000, rho=0.9, effect=-1.0)  # a 10% fall, well past a 5% limit
    c, t = cstats(*u["control"]), cstats(*u["treatment"])
    plain = {"m": (SuffStats(c.n, c.sum, c.sum_sq), SuffStats(t.n, t.sum, t.sum_sq))}
    rules = DecisionRules()
    for stats, adjusted in ((plain, False), ({"m": (c, t)}, True)):
        m = replace(metric_inputs(stats, None, rules, "m")[0], max_relative_change=0.05)
        g = check_guardrail(m, rules)
        assert g.status == "breached"
        text = " ".join(decide([m], rules=rules).reason_texts)
        assert ("CUPED-adjusted" in g.detail) is adjusted and ("CUPED-adjusted" in text) is adjusted
        if adjusted:
            unadjusted = m.cuped.unadjusted.relative_lift
            assert f"unadjusted {unadjusted * 100:+.1f}%" in g.detail
            assert f"{m.comparison.relative_lift * 100:+.1f}% (CUPED-adjusted" in g.detail
