"""`summarize results` computes covariances from unit-level logs on every engine (DuckDB, Spark,
PostgreSQL), equal to numpy on the same units; a pair not measured on the same units is left out;
the noise covariance read back equals numpy's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.store.connection import connect
from dashboard.store.covariances import noise_covariance


def unit_frame(seed: int = 4, n_units: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for e in ("E1", "E2"):
        for variant in ("control", "treatment"):
            z = rng.normal(size=(n_units, 2))
            users = [f"{e}-{variant}-{i}" for i in range(n_units)]
            country = rng.choice(["US", "DE", None], n_units)
            values = {"revenue": np.round(np.exp(z[:, 0]), 3), "retained": (z[:, 0] + z[:, 1] > 0).astype(float),
                      "clicks": np.round(3 + z[:, 1], 2)}
            for metric, v in values.items():
                keep = np.ones(n_units, bool)
                if e == "E2" and metric == "clicks":
                    keep[:10] = False  # clicks not measured for 10 users: not the same units as the others
                rows.append(pd.DataFrame({"experiment_id": e, "variant": variant, "metric": metric,
                                          "unit_id": np.array(users)[keep], "value": v[keep],
                                          "country": country[keep]}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("engine", ["duckdb", "spark", "postgres"])
def test_covariances_equal_numpy(request, tmp_path, engine):
    units = unit_frame()
    units.to_parquet(tmp_path / "units.parquet", index=False)
    source = str(tmp_path / "units.parquet")
    if engine == "postgres":  # the same rows as a table on a PostgreSQL server
        from tests.postgres_server import load_frames
        engine, source = request.getfixturevalue("postgres_url"), "table:covariance_units"
        load_frames(engine, {"covariance_units": units})
    db = tmp_path / "lake.duckdb"
    assert main(["summarize", "results", "--source", source, "--db", str(db), "--engine", engine]) == 0
    con = connect(db, read_only=True)
    try:
        got = con.execute("SELECT * FROM experiment_covariances").df()
        wide = units.pivot_table(index=["experiment_id", "variant", "unit_id"], columns="metric", values="value")
        overall = got[got.country.isna()].set_index(["experiment_id", "variant", "metric_a", "metric_b"])
        expected_pairs = 0
        for (e, v), g in wide.groupby(level=[0, 1]):
            for a, b in (("retained", "revenue"), ("clicks", "retained"), ("clicks", "revenue")):
                if e == "E2" and "clicks" in (a, b):
                    assert (e, v, a, b) not in overall.index  # n differ: not the same units
                    continue
                expected_pairs += 1
                assert overall.loc[(e, v, a, b), "sum_ab"] == pytest.approx((g[a] * g[b]).sum(), rel=1e-12)
        assert len(overall) == expected_pairs
        by_country = got[got.country.notna()]
        assert set(by_country.country) == {"US", "DE", "(missing)"}
        sums = by_country.groupby(["experiment_id", "variant", "metric_a", "metric_b"]).sum_ab.sum()
        for key, v in sums.items():
            assert v == pytest.approx(overall.loc[key, "sum_ab"], rel=1e-9)
        noise = noise_covariance(con, "revenue", "retained")
        for (e, v), g in wide.groupby(level=[0, 1]):
            assert noise[e][v] == pytest.approx(np.cov(g.revenue, g.retained, ddof=1)[0, 1], rel=1e-9)
    finally:
        con.close()
