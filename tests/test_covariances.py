"""The `covariances` kind: loads when it fits its results, refuses (naming file, row, column, what
was found and expected) when it does not, stores nothing then; the noise covariance read back
equals numpy's on the units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.store.connection import connect
from dashboard.store.covariances import noise_covariance
from dashboard.store.ingest import ingest_file, ingest_files
from dashboard.store.readers import InputError


def units(seed: int = 0, n: int = 500) -> pd.DataFrame:
    """Users with three metrics each; a and b correlated, c binary."""
    rng = np.random.default_rng(seed)
    rows = []
    for variant in ("control", "treatment"):
        z = rng.normal(size=(n, 2))
        a = 2 + z[:, 0]
        b = 1 + 0.6 * z[:, 0] + 0.8 * z[:, 1]
        c = (rng.random(n) < 0.3).astype(float)
        rows.append(pd.DataFrame({"variant": variant, "a": a, "b": b, "c": c,
                                  "tier": rng.choice(["free", "pro"], n)}))
    return pd.concat(rows, ignore_index=True)


def summaries(u: pd.DataFrame, segmented: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    res, cov = [], []
    groups = [(None, u)] + (list(u.groupby("tier")) if segmented else [])
    for tier, g in groups:
        for variant, gv in g.groupby("variant"):
            for m in ("a", "b", "c"):
                res.append(dict(experiment_id="E1", variant=variant, metric=m, n=len(gv), sum=gv[m].sum(),
                                sum_sq=(gv[m] ** 2).sum(), **({"tier": tier} if segmented else {})))
            for ma, mb in (("a", "b"), ("a", "c"), ("b", "c")):
                cov.append(dict(experiment_id="E1", variant=variant, metric_a=ma, metric_b=mb,
                                sum_ab=(gv[ma] * gv[mb]).sum(), **({"tier": tier} if segmented else {})))
    return pd.DataFrame(res), pd.DataFrame(cov)


@pytest.fixture()
def files(tmp_path):
    res, cov = summaries(units())
    res.to_csv(tmp_path / "results.csv", index=False)
    cov.to_csv(tmp_path / "covariances.csv", index=False)
    return tmp_path, res, cov


def test_loads_and_reads_back_numpy_covariance(files):
    tmp, _res, _cov = files
    db = tmp / "x.duckdb"
    ingest_files(db, [("results", tmp / "results.csv"), ("covariances", tmp / "covariances.csv")])
    u = units()
    con = connect(db, read_only=True)
    try:
        got = noise_covariance(con, "b", "a")
    finally:
        con.close()
    for variant, g in u.groupby("variant"):
        assert got["E1"][variant] == pytest.approx(np.cov(g.a, g.b, ddof=1)[0, 1], rel=1e-9)


def test_segmented_covariances_load_after_results(tmp_path):
    res, cov = summaries(units(), segmented=True)
    res.to_csv(tmp_path / "results.csv", index=False)
    cov.to_csv(tmp_path / "covariances.csv", index=False)
    db = tmp_path / "x.duckdb"
    ingest_file(db, "results", tmp_path / "results.csv")
    assert ingest_file(db, "covariances", tmp_path / "covariances.csv").rows == len(cov)


def _refused(tmp, cov: pd.DataFrame, match: str, with_results: bool = True):
    db = tmp / "x.duckdb"
    if with_results:
        ingest_file(db, "results", tmp / "results.csv")
    cov.to_csv(tmp / "bad.csv", index=False)
    with pytest.raises(InputError, match=match):
        ingest_file(db, "covariances", tmp / "bad.csv")
    con = connect(db, read_only=True)
    try:
        stored = con.execute("SELECT count(*) FROM information_schema.tables "
                             "WHERE table_name = 'experiment_covariances'").fetchone()[0]
    finally:
        con.close()
    assert stored == 0  # nothing stored on refusal


def test_metric_missing_from_results_is_refused(files):
    tmp, _res, cov = files
    cov.loc[2, "metric_b"] = "revenue"
    _refused(tmp, cov, r"bad.csv, line 4, column 'metric_b': found 'revenue'; expected a metric loaded in results "
                       r"for experiment 'E1', variant 'control'")


def test_covariances_before_results_are_refused(files):
    tmp, _res, cov = files
    _refused(tmp, cov, "load results first", with_results=False)


def test_correlation_beyond_one_is_refused(files):
    tmp, res, cov = files
    cov.loc[0, "sum_ab"] = cov.loc[0, "sum_ab"] * 3
    _refused(tmp, cov, r"bad.csv, line 2, column 'sum_ab': found .* unit-level correlation \+\d\.\d+ .* "
                       r"expected a value that keeps the correlation within \[-1, 1\]")


def test_jointly_impossible_matrix_is_refused(tmp_path):
    """Each pair alone possible (|r| <= 1), the three together not: r_ab = r_ac = 0.9, r_bc = -0.9."""
    n = 1000
    res = pd.DataFrame([dict(experiment_id="E1", variant="control", metric=m, n=n, sum=0.0, sum_sq=float(n - 1))
                        for m in "abc"])
    res.to_csv(tmp_path / "results.csv", index=False)
    cov = pd.DataFrame([dict(experiment_id="E1", variant="control", metric_a=a, metric_b=b, sum_ab=r * (n - 1))
                        for a, b, r in (("a", "b", 0.9), ("a", "c", 0.9), ("b", "c", -0.9))])
    _refused(tmp_path, cov, r"covariances of a, b, c for experiment 'E1', variant 'control' give a correlation "
                            r"matrix with eigenvalue -0.\d+; expected a positive semi-definite matrix")


def test_pair_in_both_orders_is_a_duplicate(files):
    tmp, _res, cov = files
    extra = cov.iloc[[0]].rename(columns={"metric_a": "metric_b", "metric_b": "metric_a"})
    _refused(tmp, pd.concat([cov, extra], ignore_index=True),
             r"bad.csv, lines 2, 8: the pair \(a, b\) of experiment 'E1', variant 'control' appears more than once")


def test_same_metric_twice_and_unequal_n_are_refused(files):
    tmp, res, cov = files
    cov.loc[0, "metric_b"] = "a"
    _refused(tmp, cov, r"line 2, column 'metric_b': found 'a', the same as metric_a")
    res.loc[res.metric == "c", "n"] += 1
    res.to_csv(tmp / "results.csv", index=False)
    (tmp / "x.duckdb").unlink()
    _, cov = summaries(units())
    _refused(tmp, cov, r"'a' has n=500 and 'c' n=501 .* expected both measured on the same units")


def test_bad_values_are_named(files):
    tmp, _res, cov = files
    cov["sum_ab"] = cov["sum_ab"].astype(object)
    cov.loc[1, "sum_ab"] = "lots"
    _refused(tmp, cov, r"bad.csv, line 3, column 'sum_ab': found 'lots'; expected a finite number")
