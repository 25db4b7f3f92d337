"""Score drift on Thresholds: the pure weekly function against numpy on the raw rows and against the
Weekly review's alert numbers; the view opens from the URL parameters an alert carries."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from dashboard import format as fmt
from dashboard.metrics import score_drift
from dashboard.metrics import weekly as wk
from dashboard.metrics.binning import assign_bins, bin_edges
from dashboard.services import thresholds_drift as drift_svc
from dashboard.services import weekly_models
from dashboard.ui.charts_drift import decile_shares, group_labels
from tests.apptest import run_page
from tests.test_thresholds_odd_models import mixed_db  # noqa: F401  (fixture)
from tests.vega import charts


def groups_oracle(reference, n=10):
    """Each bin's tenth of the reference, written out plainly: walk the bins, close a group when the
    reference's running share passes the next tenth."""
    ref = np.asarray(reference, float)
    total, run, group = ref.sum(), 0.0, []
    for r in ref:
        run += r
        group.append(min(n - 1, max(0, int(np.ceil(n * run / total - 1e-12)) - 1)))
    return np.array(group)


def psi_oracle(reference, current, n=10):
    """PSI written out plainly: the reference's tenths (groups_oracle); floor shares at 1e-4."""
    ref, cur = np.asarray(reference, float), np.asarray(current, float)
    group = groups_oracle(ref, n)
    e = np.array([ref[group == g].sum() for g in range(n)]) / ref.sum()
    a = np.array([cur[group == g].sum() for g in range(n)]) / cur.sum()
    keep = np.array([(group == g).any() for g in range(n)])
    e, a = np.maximum(e[keep], 1e-4), np.maximum(a[keep], 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def test_weekly_drift_against_a_plain_psi_and_numpy_quantiles():
    rng = np.random.default_rng(4)
    edges = bin_edges(0.0, 1.0)
    weeks = ["2026-W44", "2026-W45", "2026-W47"]  # W46 missing: W47 has no week before
    scores = [rng.beta(1, 20, 3000), np.round(rng.beta(1, 20, 3000), 3), rng.beta(1.5, 15, 3000)]
    counts = np.stack([np.bincount(assign_bins(s, 0.0, 1.0), minlength=10_001) for s in scores]).astype(float)
    baseline = counts[0] * 2
    rows = score_drift.weekly_drift(weeks, counts, baseline, edges, threshold_index=1000)
    assert rows[0]["psi_last"] is None and rows[2]["psi_last"] is None
    assert rows[1]["psi_last"] == pytest.approx(psi_oracle(counts[0], counts[1]), abs=1e-12)
    for r, c, s in zip(rows, counts, scores):
        assert r["psi_baseline"] == pytest.approx(psi_oracle(baseline, c), abs=1e-12)
        assert r["flagged_share"] == pytest.approx(np.mean(s >= edges[1000]))
        for q, got in zip((0.1, 0.5, 0.9), (r["p10"], r["median"], r["p90"])):
            exact = np.quantile(s, q, method="inverted_cdf")
            assert got <= exact < got + 1e-4 + 1e-12  # the bin that holds the quantile
    assert rows[2]["psi_baseline"] > 0.1 > rows[1]["psi_baseline"]
    few = score_drift.weekly_drift(weeks[:1], counts[:1] / 10, baseline, edges)  # 300 rows: too few
    assert few[0]["psi_baseline"] is None


def test_drift_view_numbers_equal_the_weekly_alerts(demo_con):
    last_day = demo_con.execute("SELECT max(day) FROM prediction_bins").fetchone()[0]
    week = wk.last_complete_week(last_day)
    start = wk.week_start(week)
    alerts = weekly_models.score_drift(demo_con, start, start + timedelta(days=6))
    checked = 0
    for (model, col, val), expected in alerts.items():
        if col not in ("", "device") or model != "fraud-v3":
            continue
        got = drift_svc.drift(demo_con, model, col, val)
        row = got["rows"][got["weeks"].index(week)]
        for ours, theirs in (("psi_last", "last"), ("psi_baseline", "baseline")):
            if expected[theirs] is None:
                assert row[ours] is None
            else:
                assert row[ours] == pytest.approx(expected[theirs], abs=1e-9)
        checked += 1
    assert checked >= 3


def test_an_alerts_link_opens_the_drift_view_on_its_model_segment_and_week(app_env, demo_con):
    last_day = demo_con.execute("SELECT max(day) FROM prediction_bins").fetchone()[0]
    week = wk.last_complete_week(last_day)
    params = drift_svc.link_params("fraud-v3", "device", "android", week)
    at = run_page("thresholds.py", params)
    assert at.subheader[0].value == "Score drift of fraud-v3, device = android"
    expected = drift_svc.drift(demo_con, "fraud-v3", "device", "android")
    row = expected["rows"][expected["weeks"].index(week)]
    shown = {m.label: m.value for m in at.metric}
    assert shown["PSI vs baseline"] == fmt.number(row["psi_baseline"], 3)
    assert shown["Predictions"] == f"{row['rows']:,}"
    for key, value in params.items():
        assert at.query_params[key] in (value, [value])
    assert not at.slider  # the threshold view is not drawn under it


def test_a_model_without_timestamps_says_why_there_is_no_drift(mixed_db, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DASHBOARD_DB", str(mixed_db))
    at = run_page("thresholds.py", {"thr.model": "plain", "thr.view": "drift"})
    assert any("no timestamps" in i.value for i in at.info)


def _shares_oracle(reference, counts, edges):
    """{group label: share of counts} over the reference's tenths that hold any bin."""
    group = groups_oracle(reference)
    present = sorted(set(group.tolist()))
    starts = [float(edges[np.flatnonzero(group == g)[0]]) for g in present]
    total = np.asarray(counts, float).sum()
    return dict(zip(group_labels(starts), [np.asarray(counts, float)[group == g].sum() / total for g in present]))


def test_the_drift_charts_are_vega_lite_with_the_services_numbers(app_env, demo_con):
    last_day = demo_con.execute("SELECT max(day) FROM prediction_bins").fetchone()[0]
    week = wk.last_complete_week(last_day)
    at = run_page("thresholds.py", drift_svc.link_params("fraud-v3", "device", "android", week))
    assert not at.get("plotly_chart")  # a new tab opening the drift view loads no Plotly
    drawn = {spec["title"]["text"]: (spec, data) for spec, data in charts(at)}
    assert set(drawn) == {"PSI by week", "Scores by tenth of the baseline"}
    expected = drift_svc.drift(demo_con, "fraud-v3", "device", "android")

    spec, data = drawn["PSI by week"]
    psi = data["psi"]
    for series, key in (("against the week before", "psi_last"), ("against the baseline", "psi_baseline")):
        got = psi[psi.series == series]
        assert list(got.week) == expected["weeks"]
        for value, r in zip(got.psi, expected["rows"]):
            assert np.isnan(value) if r[key] is None else value == pytest.approx(r[key], abs=1e-12)
    assert psi.psi.isna().any() and (psi.psi > wk.PSI_MODERATE).any()  # an n/a week and a drifted one
    assert sorted(zip(data["levels"].psi, data["levels"].label)) == [(0.1, "moderate"), (0.25, "major")]
    assert list(data["week"].week) == [week]
    line = spec["layer"][-1]
    assert line["encoding"]["color"]["scale"] == {"domain": ["against the week before", "against the baseline"],
                                                  "range": ["#6b7280", "#2563eb"]}
    assert {"field": "psi", "title": "PSI", "format": ".3f"} in line["encoding"]["tooltip"]

    spec, data = drawn["Scores by tenth of the baseline"]
    shares = data["shares"]
    k = expected["weeks"].index(week)
    wanted = [("baseline", expected["baseline_counts"]), (expected["weeks"][k - 1], expected["week_counts"][k - 1]),
              (week, expected["week_counts"][k])]
    assert list(dict.fromkeys(shares.series)) == [name for name, _ in wanted]
    for name, counts in wanted:
        got = shares[shares.series == name]
        oracle = _shares_oracle(expected["baseline_counts"], counts, expected["edges"])
        assert list(got.group) == list(oracle)
        assert list(got.share) == pytest.approx(list(oracle.values()), abs=1e-12)
    assert shares[shares.series == "baseline"].share.sum() == pytest.approx(1.0)
    assert spec["encoding"]["color"]["scale"]["range"] == ["#2563eb", "#6b7280", "#dc2626"]
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"
    assert {"field": "share", "title": "share of predictions", "format": ".1%"} in spec["encoding"]["tooltip"]


def test_decile_shares_of_a_heavy_bin_and_alike_labels():
    """A bin heavier than a tenth makes one group of its own (fewer than ten, none empty), and group
    starts that read alike at two digits get more."""
    edges = np.linspace(0.0, 1.0, 10_001)
    base = np.zeros(10_001)
    base[0], base[120:130], base[9000:9100] = 600, 20, 2  # 60% in bin 0: groups 0 and 6-9 only
    week = np.ones(10_001)
    shares = decile_shares(base, edges, [("baseline", "baseline", base), ("this", "2026-W47", week)])
    oracle = _shares_oracle(base, week, edges)
    got = shares[shares.series == "2026-W47"]
    assert list(got.group) == list(oracle) and list(got.share) == pytest.approx(list(oracle.values()))
    assert len(got) < 10 and shares[shares.series == "baseline"].share.sum() == pytest.approx(1.0)
    assert group_labels([0.0, 0.12, 0.5]) == ["≥ 0", "≥ 0.12", "≥ 0.5"]  # as the Plotly axis read
    assert group_labels([0.01231, 0.01234, 0.5]) == ["≥ 0.01231", "≥ 0.01234", "≥ 0.5"]
