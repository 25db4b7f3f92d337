"""The generated demo: deterministic, valid under the contract, and the planted stories hold."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import pytrec_eval
from sklearn.metrics import roc_auc_score

from dashboard.demo.company import write_demo_files


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_demo_files(tmp_path_factory.mktemp("demo"), seed=7, scale=0.1)


def digest(paths) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


def test_same_seed_same_files(files, tmp_path):
    again = write_demo_files(tmp_path, seed=7, scale=0.1)
    for kind in ("experiments", "results", "daily"):
        assert digest(files[kind]) == digest(again[kind])
    a = pd.concat(pd.read_parquet(p) for p in files["predictions"])
    b = pd.concat(pd.read_parquet(p) for p in again["predictions"])
    pd.testing.assert_frame_equal(a, b)


def test_fraud_v3_wins_overall_and_loses_in_brazil(files):
    auc = {}
    for path in files["predictions"]:
        frame = pd.read_parquet(path).dropna(subset=["label"])
        model = frame.model.iloc[0]
        br = frame[frame.country == "BR"]
        auc[model] = (roc_auc_score(frame.label, frame.score), roc_auc_score(br.label, br.score))
        assert 0.01 < frame.label.mean() < 0.04  # realistic imbalance
    assert auc["fraud-v1"][0] < auc["fraud-v2"][0] < auc["fraud-v3"][0]
    assert auc["fraud-v3"][1] < auc["fraud-v2"][1] - 0.05


def test_power_user_trap_in_search(files):
    qrels: dict = {}
    for q, d, r in pd.read_parquet(files["qrels"][0]).itertuples(index=False):
        qrels.setdefault(q, {})[d] = int(r)
    tiers = pd.read_parquet(files["queries"][0]).set_index("query_id").user_tier
    ndcg = {}
    for path in files["run"]:
        run_frame = pd.read_parquet(path)
        run: dict = {}
        for q, d, s in run_frame[["query_id", "item_id", "score"]].itertuples(index=False):
            run.setdefault(q, {})[d] = float(s)
        scores = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10"}).evaluate(run)
        ndcg[run_frame.model.iloc[0]] = pd.Series({q: v["ndcg_cut_10"] for q, v in scores.items()})
    table = pd.DataFrame(ndcg).join(tiers)
    overall = table[["search-v2", "search-v3"]].mean()
    power = table[table.user_tier == "power"][["search-v2", "search-v3"]].mean()
    assert overall["search-v3"] > overall["search-v2"] * 1.04
    assert power["search-v3"] < power["search-v2"] * 0.96


def lifts(results: pd.DataFrame) -> pd.DataFrame:
    overall = results[results.user_tier.isna()].assign(mean=lambda f: f["sum"] / f["n"])
    wide = overall.pivot_table(index=["experiment_id", "metric"], columns="variant", values="mean")
    return (wide["treatment"] / wide["control"] - 1).unstack()


def test_experiment_stories(files):
    results = pd.read_csv(files["results"][0])
    assert (results.sum_sq >= results["sum"] ** 2 / results.n - 1e-6).all()  # variance >= 0
    lift = lifts(results)
    assert len(lift) >= 40
    assert lift.loc["E045", "retention_7d"] < -0.01 and lift.loc["E045", "ctr"] > 0.01
    assert lift.loc["E038", "ctr"] > 0.02 and lift.loc["E038", "session_length"] < -0.02
    assert lift.task_success.corr(lift.retention_7d) > 0.5  # the proxy that tracks
    assert abs(lift.ctr.corr(lift.retention_7d)) < 0.3  # the proxy that does not
    offline = pd.read_csv(files["offline"][0]).query("experiment_id == 'E045' and metric == 'ndcg@10'")
    assert offline.treatment_value.iloc[0] / offline.control_value.iloc[0] - 1 == pytest.approx(0.08, abs=0.01)
    srm = results[(results.experiment_id == "E027") & results.user_tier.isna() & (results.metric == "ctr")]
    n = srm.set_index("variant").n
    assert n["treatment"] / (n["control"] + n["treatment"]) == pytest.approx(0.485, abs=0.002)


def test_daily_last_week_regression(files):
    daily = pd.read_csv(files["daily"][0], parse_dates=["date"])
    assert daily.date.min() == pd.Timestamp("2024-11-23") and daily.date.max() == pd.Timestamp("2026-11-22")
    ret = daily[daily.metric == "retention_7d"].set_index("date").value
    weekly = ret.groupby(ret.index.strftime("%G-W%V")).mean()
    change = weekly.pct_change()
    assert change.loc["2026-W47"] < -0.03
    assert np.abs(change.iloc[:-1].dropna()).quantile(0.95) < 0.015  # far outside the usual wobble
