"""Online vs offline service and report: JSON agrees with scipy and with lifts recomputed from the
raw tables; the demo's good and bad proxies; logged lifts; clear messages for thin histories."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from dashboard.cli import main
from dashboard.metrics.lift_bootstrap import binned_metric_lift, paired_mean_lift
from dashboard.services import alignment as svc
from dashboard.services.alignment_lifts import MetricRef
from dashboard.store.ingest import ingest_files


def _report(db, capsys, *args) -> dict:
    assert main(["report", "alignment", "--db", str(db), *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_report_agrees_with_scipy_and_with_lifts_from_raw_rows(demo_db, demo_con, capsys):
    r = _report(demo_db, capsys, "--offline", "online:task_success", "--online", "retention_7d", "--json")
    assert set(r) >= {"n_experiments", "pearson", "pearson_ci", "spearman", "spearman_ci", "sign_agreement",
                      "slope", "intercept", "corrected_correlation", "experiments"}
    x = np.array([e["offline_lift"] for e in r["experiments"]])
    y = np.array([e["online_lift"] for e in r["experiments"]])
    assert r["n_experiments"] == len(x) == 45
    assert r["pearson"] == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    ci = stats.pearsonr(x, y).confidence_interval(0.95)
    assert r["pearson_ci"] == pytest.approx([ci.low, ci.high], abs=1e-9)
    assert r["spearman"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    fit = stats.linregress(x, y)
    assert (r["slope"], r["intercept"]) == pytest.approx((fit.slope, fit.intercept), abs=1e-12)
    # lifts recomputed independently from the stored sufficient statistics (overall rows)
    raw = demo_con.execute(
        "SELECT experiment_id, lower(variant) v, sum(sum) / sum(n) m FROM experiment_results "
        "WHERE metric = 'retention_7d' AND user_tier IS NULL GROUP BY ALL").df()
    wide = raw.pivot(index="experiment_id", columns="v", values="m")
    expected = (wide.treatment / wide.control - 1).to_dict()
    for e in r["experiments"]:
        assert e["online_lift"] == pytest.approx(expected[e["experiment_id"]], rel=1e-9)
        assert e["online_ci_low"] < e["online_lift"] < e["online_ci_high"]


def test_demo_good_proxy_and_bad_proxy(demo_con):
    good = svc.alignment(demo_con, MetricRef("online", "task_success"), MetricRef("online", "retention_7d"))
    bad = svc.alignment(demo_con, MetricRef("online", "ctr"), MetricRef("online", "retention_7d"))
    assert good["pearson_ci"][0] > 0.3
    assert bad["pearson_ci"][0] < 0 < bad["pearson_ci"][1]
    board = svc.leaderboard(demo_con, MetricRef("online", "retention_7d"))
    online = [row["proxy"] for row in board if not row["problem"] and row["kind"] == "online"]
    offline = [row["proxy"] for row in board if not row["problem"] and row["kind"] == "offline"]
    assert online[0] == "online:task_success" and "online:ctr" in online[2:]
    assert "offline:ndcg@10" in offline
    first_online = next(i for i, row in enumerate(board) if row.get("kind") == "online")
    assert all(row["kind"] == "offline" for row in board[:first_online])  # two lists, not one


def test_e045_is_where_ndcg_broke_and_its_lift_comes_from_the_logs(demo_con):
    r = svc.alignment(demo_con, MetricRef("offline", "ndcg@10"), MetricRef("online", "retention_7d"))
    assert "E045" in r["broken"]
    e045 = next(e for e in r["experiments"] if e["experiment_id"] == "E045")
    assert e045["offline_source"] == "logs" and e045["online_loss_significant"]
    assert e045["offline_ci_low"] < e045["offline_lift"] < e045["offline_ci_high"]
    assert 0 < e045["disagreement"] <= 1
    base = demo_con.execute("SELECT avg(ndcg_lin_10) FROM ranking_query_metrics WHERE model = 'search-v2'").fetchone()[0]
    cand = demo_con.execute("SELECT avg(ndcg_lin_10) FROM ranking_query_metrics WHERE model = 'search-v3'").fetchone()[0]
    assert e045["offline_lift"] == pytest.approx(cand / base - 1, rel=1e-9)
    typed = [e for e in r["experiments"] if e["offline_source"] == "typed"]
    assert typed and all(e["offline_ci_low"] is None for e in typed)


def test_prediction_and_its_warnings(demo_con):
    r = svc.alignment(demo_con, MetricRef("online", "task_success"), MetricRef("online", "retention_7d"))
    inside = svc.predict(r, 0.0)
    assert inside["interval"][0] < inside["expected_online_lift"] < inside["interval"][1]
    assert inside["warnings"] == []
    far = svc.predict(r, 0.5)
    assert any("outside the history" in w for w in far["warnings"])
    weak = svc.predict(svc.alignment(demo_con, MetricRef("online", "ctr"), MetricRef("online", "retention_7d")), 0.0)
    assert any("includes 0" in w for w in weak["warnings"])


def test_tree_edges_annotated(demo_con):
    edges = {(e["child"], e["parent"]): e for e in svc.tree_edges(demo_con)}
    assert edges[("task_success", "retention_7d")]["aligned_pearson"] > 0.3
    assert edges[("session_length", "dau")]["problem"]  # dau has no experiment data


def _tiny_db(tmp_path, lifts: list[float]):
    exp = pd.DataFrame({"experiment_id": [f"X{i}" for i in range(len(lifts))], "name": "x",
                        "start_date": "2026-01-01", "end_date": "2026-01-15",
                        "control_model": "a", "treatment_model": "b"})
    res, off = [], []
    for i, lift in enumerate(lifts):
        for variant, mean in (("control", 0.4), ("treatment", 0.4 * (1 + lift))):
            res.append(dict(experiment_id=f"X{i}", variant=variant, metric="retention", n=1000,
                            sum=1000 * mean, sum_sq=1000 * mean))
        off.append(dict(experiment_id=f"X{i}", metric="ndcg@10", control_value=0.5, treatment_value=0.5 * (1 + lift)))
    paths = []
    for name, frame in (("experiments", exp), ("results", pd.DataFrame(res)), ("offline", pd.DataFrame(off))):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        paths.append((name, tmp_path / f"{name}.csv"))
    db = tmp_path / "tiny.duckdb"
    ingest_files(db, paths)
    return db


@pytest.mark.parametrize("lifts,message", [
    ([0.01, 0.02], "only 2 experiment(s)"),
    ([0.01, 0.01, 0.01, 0.01], "is the same"),
])
def test_thin_histories_get_a_clear_message(tmp_path, capsys, lifts, message):
    db = _tiny_db(tmp_path, lifts)
    assert main(["report", "alignment", "--db", str(db), "--offline", "ndcg@10", "--online", "retention"]) == 2
    assert message in capsys.readouterr().err


def test_unknown_metric_lists_what_is_loaded(tmp_path, capsys):
    db = _tiny_db(tmp_path, [0.01, 0.02, 0.03])
    assert main(["report", "alignment", "--db", str(db), "--offline", "ndcg@5", "--online", "retention"]) == 2
    err = capsys.readouterr().err
    assert "no experiment has metric 'ndcg@5'" in err and "offline: ndcg@10" in err


def _delta_se_of_ratio(b, c):
    """Independent check: delta-method standard error of mean(c) / mean(b) - 1 for paired units."""
    n = b.size
    mb, mc = b.mean(), c.mean()
    cov = np.cov(np.vstack([b, c]))
    grad = np.array([-mc / mb ** 2, 1 / mb])
    return float(np.sqrt(grad @ cov @ grad / n))


@pytest.mark.parametrize("n", [800, 40_000])  # unit and batched resampling
def test_paired_bootstrap_lift_matches_the_delta_method(n):
    rng = np.random.default_rng(n)
    b = rng.beta(2, 3, n)
    c = np.clip(b + rng.normal(0.02, 0.1, n), 0, 1)
    est = paired_mean_lift(b, c, resamples=2000)
    assert est.lift == pytest.approx(c.mean() / b.mean() - 1, rel=1e-12)
    assert est.se == pytest.approx(_delta_se_of_ratio(b, c), rel=0.1)
    assert est.ci_low < est.lift < est.ci_high


def test_binned_auc_lift_matches_sklearn_and_a_row_bootstrap():
    rng = np.random.default_rng(4)
    rows = 3000
    bins = 40
    models = []
    for sep in (0.8, 1.1):
        y = rng.random(rows) < 0.2
        score_bin = np.clip((rng.normal(0, 1, rows) + sep * y) * 8 + 20, 0, bins - 1).astype(int)
        models.append((y, score_bin))
    counts = [(np.bincount(s[y], minlength=bins).astype(float), np.bincount(s[~y], minlength=bins).astype(float))
              for y, s in models]
    from dashboard.metrics import gate_stats
    est = binned_metric_lift(gate_stats.roc_auc, counts[0], counts[1], resamples=600)
    aucs = [roc_auc_score(y, s) for y, s in models]
    assert est.lift == pytest.approx(aucs[1] / aucs[0] - 1, rel=1e-9)
    boot = []
    for _ in range(300):
        vals = []
        for y, s in models:
            i = rng.integers(0, rows, rows)
            vals.append(roc_auc_score(y[i], s[i]))
        boot.append(vals[1] / vals[0] - 1)
    assert est.se == pytest.approx(np.std(boot, ddof=1), rel=0.2)


def _two_online_metrics_db(tmp_path, with_covariances: bool, n_exp: int = 24):
    """Two online metrics on the same users in each experiment; covariances optional."""
    rng = np.random.default_rng(6)
    exp = pd.DataFrame({"experiment_id": [f"X{i:02d}" for i in range(n_exp)], "name": "x",
                        "start_date": "2026-01-01", "end_date": "2026-01-15",
                        "control_model": "a", "treatment_model": "b"})
    res, cov = [], []
    for i in range(n_exp):
        lift = rng.normal(0, 0.15)  # large against the noise: the correction has signal to find
        for variant, shift in (("control", 0.0), ("treatment", lift)):
            z = rng.normal(size=(800, 2))
            a = 1 + shift + z[:, 0]
            b = 2 + shift + 0.5 * z[:, 0] + z[:, 1]
            eid = f"X{i:02d}"
            res += [dict(experiment_id=eid, variant=variant, metric=m, n=800, sum=v.sum(), sum_sq=(v * v).sum())
                    for m, v in (("a", a), ("b", b))]
            cov.append(dict(experiment_id=eid, variant=variant, metric_a="a", metric_b="b", sum_ab=(a * b).sum()))
    items = []
    for name, frame in (("experiments", exp), ("results", pd.DataFrame(res)), ("covariances", pd.DataFrame(cov))):
        if name == "covariances" and not with_covariances:
            continue
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        items.append((name, tmp_path / f"{name}.csv"))
    db = tmp_path / "two.duckdb"
    ingest_files(db, items)
    return db


@pytest.mark.parametrize("with_covariances", [False, True])
def test_two_online_metrics_need_covariances(tmp_path, with_covariances):
    from dashboard.store.connection import connect
    db = _two_online_metrics_db(tmp_path, with_covariances)
    con = connect(db, read_only=True)
    try:
        r = svc.alignment(con, MetricRef("online", "a"), MetricRef("online", "b"))
    finally:
        con.close()
    if with_covariances:
        assert r["corrected_correlation"] is not None and r["corrected_ci"][0] is not None
        assert r["noise_covariance"] == "from covariances"
    else:  # never a number computed as if the shared noise were independent
        assert r["corrected_correlation"] is None
        assert r["corrected_notes"][0].startswith("not available: load covariances")


def _two_correlated_models(rng, rows: int = 2000, bins: int = 60):
    """Two models scoring the same rows, their scores strongly correlated (B = A + a little)."""
    y = rng.random(rows) < 0.25
    a = rng.normal(0, 1, rows) + 1.0 * y
    b = a + rng.normal(0, 0.3, rows) + 0.25 * y
    to_bin = lambda s: np.clip(np.floor((s + 3) / 7 * bins), 0, bins - 1).astype(int)  # noqa: E731
    return y, to_bin(a), to_bin(b)


def _joint_cells(y, bin_a, bin_b, bins):
    cell = lambda b: np.where(y, b, bins + b)  # noqa: E731  [positives per bin, negatives per bin]
    keys, count = np.unique(np.stack([cell(bin_a), cell(bin_b)]), axis=1, return_counts=True)
    return keys[0], keys[1], count


@pytest.mark.parametrize("name", ["auc", "average_precision"])
def test_paired_binned_lift_se_matches_the_lifts_spread_over_redrawn_data(name):
    """Same rows, strongly correlated scores: the lift's true spread (200 re-draws of the data)
    is what the paired bootstrap reports; the independent bootstrap is far wider."""
    from dashboard.metrics import gate_stats
    from dashboard.metrics.lift_bootstrap import paired_binned_metric_lift

    bins = 60
    fn = lambda p, n: gate_stats.classification_metric(name, p, n)  # noqa: E731
    rng = np.random.default_rng(15)

    def lift(y, ba, bb):
        ca, cb = [(np.bincount(b[y], minlength=bins), np.bincount(b[~y], minlength=bins)) for b in (ba, bb)]
        return fn(*cb) / fn(*ca) - 1, ca, cb

    truth = np.std([lift(*_two_correlated_models(rng, bins=bins))[0] for _ in range(200)], ddof=1)
    y, ba, bb = _two_correlated_models(rng, bins=bins)
    point, ca, cb = lift(y, ba, bb)
    paired = paired_binned_metric_lift(fn, bins, *_joint_cells(y, ba, bb, bins), resamples=400, seed=1)
    independent = binned_metric_lift(fn, ca, cb, resamples=400, seed=1)
    assert paired.lift == pytest.approx(point, rel=1e-12) == independent.lift
    assert paired.se == pytest.approx(truth, rel=0.25)
    assert independent.se > 2 * truth
    assert paired.ci_low < point < paired.ci_high


def _two_models_db(tmp_path, with_id: bool):
    """Models a and b scoring the same 3,000 rows (scores strongly correlated), one experiment."""
    rng = np.random.default_rng(21)
    n = 3000
    y = (rng.random(n) < 0.25).astype(int)
    sa = rng.normal(0, 1, n) + y
    sb = sa + rng.normal(0, 0.3, n) + 0.25 * y
    ids = [f"r{i}" for i in range(n)]
    frames = [pd.DataFrame({"model": m, "score": 1 / (1 + np.exp(-s)), "label": y, "id": ids})
              for m, s in (("a", sa), ("b", sb))]
    preds = pd.concat(frames)
    if not with_id:
        preds = preds.drop(columns="id")
    preds.to_csv(tmp_path / "predictions.csv", index=False)
    pd.DataFrame({"experiment_id": ["E1"], "name": "x", "start_date": "2026-01-01", "end_date": "2026-01-15",
                  "control_model": "a", "treatment_model": "b"}).to_csv(tmp_path / "experiments.csv", index=False)
    db = tmp_path / "m.duckdb"
    ingest_files(db, [("predictions", tmp_path / "predictions.csv"), ("experiments", tmp_path / "experiments.csv")])
    return db, frames


@pytest.mark.parametrize("with_id", [True, False])
def test_logged_classification_lift_is_paired_by_row_when_ids_join(tmp_path, with_id):
    from dashboard.metrics import gate_stats
    from dashboard.metrics.binning import N_BINS, assign_bins
    from dashboard.metrics.lift_bootstrap import paired_binned_metric_lift
    from dashboard.metrics.paired_auc import paired_auc_lift
    from dashboard.services.alignment_lifts import logged_lift
    from dashboard.store.connection import connect

    db, frames = _two_models_db(tmp_path, with_id)
    con = connect(db, read_only=True)
    point = logged_lift(con, "auc", "a", "b", "E1")
    con.close()
    aucs = [roc_auc_score(f["label"], f["score"]) for f in frames]
    assert point.lift == pytest.approx(aucs[1] / aucs[0] - 1, abs=1e-4)  # 10,000 bins: near the exact AUC
    # oracle: the joint cells rebuilt in numpy from the rows (bins as the summaries define them)
    y = frames[0]["label"].to_numpy() == 1
    cell = [np.where(y, b, N_BINS + 1 + b) for b in (assign_bins(f["score"].to_numpy(), 0.0, 1.0) for f in frames)]
    keys, count = np.unique(np.stack(cell), axis=1, return_counts=True)
    fn = lambda p, n: gate_stats.classification_metric("auc", p, n)  # noqa: E731
    paired = paired_auc_lift(N_BINS + 1, keys[0], keys[1], count)  # the AUC's paired interval: DeLong-t
    boot = paired_binned_metric_lift(fn, N_BINS + 1, keys[0], keys[1], count)
    assert point.lift == pytest.approx(paired.lift, rel=1e-12) == pytest.approx(boot.lift, rel=1e-12)
    if with_id:
        assert (point.se, point.ci_low, point.ci_high) == pytest.approx((paired.se, paired.ci_low, paired.ci_high),
                                                                         rel=1e-9)
        assert point.se == pytest.approx(boot.se, rel=0.15)  # DeLong and the paired bootstrap agree on the spread
    else:  # nothing to pair the rows on: each model resampled on its own, a wider interval
        assert point.se > 2 * paired.se


def test_paired_binned_lift_merges_bins_for_many_joint_cells():
    """Past max_cells the resampling runs on merged bins: same point lift, about the same spread."""
    from dashboard.metrics import gate_stats
    from dashboard.metrics.lift_bootstrap import paired_binned_metric_lift

    bins = 2000
    rng = np.random.default_rng(8)
    y, ba, bb = _two_correlated_models(rng, rows=20_000, bins=bins)
    cells = _joint_cells(y, ba, bb, bins)
    assert cells[2].size > 4000
    fn = lambda p, n: gate_stats.classification_metric("average_precision", p, n)  # noqa: E731
    fine = paired_binned_metric_lift(fn, bins, *cells, max_cells=10**9)
    merged = paired_binned_metric_lift(fn, bins, *cells, max_cells=1000)
    assert merged.lift == fine.lift
    assert merged.se == pytest.approx(fine.se, rel=0.15)
    assert merged.ci_low < merged.lift < merged.ci_high


def test_logged_thresholded_lift_on_tied_scores_is_widened_and_says_so(tmp_path):
    """Scores on ~15 levels with the control's level at precision ~0.5 (the calibration's ties world):
    the interval holds the lift with that level counted either way and its note says so."""
    from dashboard.services.alignment_lifts import logged_lift
    from dashboard.store.connection import connect

    rng = np.random.default_rng(1)
    n = 3000
    y = (rng.random(n) < 0.25).astype(int)
    z = rng.standard_normal((2, n))
    scores = {"a": np.round((1.2 * y + z[0]) / 0.5) * 0.5,
              "b": np.round((1.45 * y + 0.8 * z[0] + 0.6 * z[1]) / 0.5) * 0.5}
    ids = [f"r{i}" for i in range(n)]
    pd.concat([pd.DataFrame({"model": m, "score": 1 / (1 + np.exp(-s)), "label": y, "id": ids})
               for m, s in scores.items()]).to_csv(tmp_path / "predictions.csv", index=False)
    pd.DataFrame({"experiment_id": ["E1"], "name": "x", "start_date": "2026-01-01", "end_date": "2026-01-15",
                  "control_model": "a", "treatment_model": "b"}).to_csv(tmp_path / "experiments.csv", index=False)
    db = tmp_path / "m.duckdb"
    ingest_files(db, [("predictions", tmp_path / "predictions.csv"), ("experiments", tmp_path / "experiments.csv")])
    con = connect(db, read_only=True)
    p = logged_lift(con, "recall@precision>=0.5", "a", "b", "E1")
    con.close()
    assert "interval widened" in p.ci_note and "baseline" in p.ci_note
    assert p.lift == pytest.approx(0.6657, abs=1e-3)
    assert p.ci_low < 0.139 and p.lift < p.ci_high  # the alternatives: +13.9% to +66.6%
    # the interval shifted to each alternative: here the bootstrap alone already straddled the jump,
    # so the low end counts it twice (-42.7%), conservative; a narrower margin covered only 89.1%
    assert p.ci_low == pytest.approx(-0.427, abs=0.01)
