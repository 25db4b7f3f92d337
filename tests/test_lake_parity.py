"""Parity: the summaries `summarize` computes on DuckDB, on Spark (local mode) and on a PostgreSQL
server (tests/postgres_server.py) equal those the ingest path builds from the same raw rows, and the metrics equal independent oracles
(scikit-learn's confusion matrix, pytrec_eval, numpy)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import pytrec_eval
from sklearn.metrics import confusion_matrix

from dashboard.services import ranking as ranking_svc
from dashboard.services import thresholds as thr
from dashboard.store.connection import connect
from dashboard.store.ranking_summary import K_VALUES, metric_columns, segment_column
from tests import lake_data
from tests.test_ranking_logged import logged_collection
from tests.test_ranking_summary import as_dicts

BIN_KEY = ["model", "day", "segment_column", "segment_value", "bin"]
BIN_SUMS = ["n_pos", "n_neg", "n_unlabeled", "w_pos", "w_neg", "value_pos", "value_neg"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    root = tmp_path_factory.mktemp("lake")
    paths = lake_data.write_lake(root)
    return root, paths, lake_data.ingest_raw(root, root / "ingest.duckdb")


ENGINES = ["duckdb", "spark", "postgres"]


@pytest.fixture(scope="module", params=ENGINES)
def summarized(request, reference):
    root, paths, _ = reference
    db = root / f"{request.param}.duckdb"
    if request.param == "postgres":  # the same rows as tables on the server, partitioned by column
        lake_data.summarize(db, None, request.getfixturevalue("postgres_url"))
    else:
        lake_data.summarize(db, paths, request.param)
    return db


def read(db, sql: str) -> pd.DataFrame:
    con = connect(db, read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def bins(db) -> pd.DataFrame:
    sums = ", ".join(f"sum({c}) AS {c}" for c in BIN_SUMS)
    return read(db, f"SELECT {', '.join(BIN_KEY)}, {sums} FROM prediction_bins GROUP BY ALL ORDER BY ALL")


def test_prediction_bins_equal_the_ingest_path(reference, summarized):
    expected, got = bins(reference[2]), bins(summarized)
    assert len(got) == len(expected) > 1000
    pd.testing.assert_frame_equal(got[BIN_KEY], expected[BIN_KEY])
    for c in ("n_pos", "n_neg", "n_unlabeled"):
        assert (got[c].to_numpy() == expected[c].to_numpy()).all(), c
    for c in ("w_pos", "w_neg", "value_pos", "value_neg"):
        np.testing.assert_allclose(got[c], expected[c], rtol=1e-12, atol=1e-9)
    ranges = "SELECT * FROM model_score_range ORDER BY model"
    pd.testing.assert_frame_equal(read(summarized, ranges), read(reference[2], ranges))


def test_threshold_counts_equal_sklearn_on_every_engine(summarized):
    frame = lake_data.predictions_frame()
    con = connect(summarized, read_only=True)
    try:
        for model in ("prob", "logit"):
            c = thr.counts(con, model)
            sub = frame[(frame.model == model) & frame.label.notna()]
            for i in (0, 1, 2500, 5000, 9999, 10_000):
                t = float(c.edges[i])
                point = thr.clf.operating_point(thr.cumulative(c.overall), i)
                tn, fp, fn, tp = confusion_matrix(sub.label, sub.score >= t, labels=[0, 1]).ravel()
                assert (point["tp"], point["fp"], point["tn"], point["fn"]) == (tp, fp, tn, fn), (model, i)
    finally:
        con.close()


def stored_metric_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in ("model", "query_id") and not c.startswith("segment_")]


def per_query(db) -> pd.DataFrame:
    return read(db, "SELECT * FROM ranking_query_metrics ORDER BY model, query_id")


def test_ranking_query_metrics_equal_the_ingest_path(reference, summarized):
    expected, got = per_query(reference[2]), per_query(summarized)
    assert sorted(got.columns) == sorted(expected.columns)
    assert len(got) == len(expected) > 150
    for c in ["model", "query_id", segment_column("tier"), segment_column("locale")]:
        assert got[c].tolist() == expected[c].tolist(), c  # NULL segments stay NULL on both
    assert set(metric_columns()) < set(expected.columns)
    for c in stored_metric_columns(expected):  # every cutoff and relevance level
        np.testing.assert_allclose(got[c].to_numpy(float), expected[c].to_numpy(float), rtol=0, atol=1e-12,
                                   err_msg=c)
        assert got[c].notna().all(), c


def test_ranking_metrics_equal_pytrec_eval(summarized):
    run, qrels, _ = lake_data.ranking_frames()
    table = per_query(summarized)
    for model in ("a", "b"):
        r, j = as_dicts(run.drop(columns=["shard"]), qrels, model)
        expected = pytrec_eval.RelevanceEvaluator(j, {"ndcg_cut_10", "recip_rank", "recall_10", "map"}).evaluate(r)
        mine = table[table.model == model].set_index("query_id")
        assert set(mine.index) == set(expected)
        for q, e in expected.items():
            assert math.isclose(mine.at[q, "ndcg_lin_10"], e["ndcg_cut_10"], abs_tol=1e-9), (model, q)
            assert math.isclose(mine.at[q, "rr"], e["recip_rank"], abs_tol=1e-9), (model, q)
            assert math.isclose(mine.at[q, "recall_10"], e["recall_10"], abs_tol=1e-9), (model, q)
            assert math.isclose(mine.at[q, "ap"], e["map"], abs_tol=1e-9), (model, q)


def test_coverage_summary_equals_coverage_from_raw_runs(reference, summarized):
    raw, lake = connect(reference[2], read_only=True), connect(summarized, read_only=True)
    try:
        for k in K_VALUES:
            for by in ("", "tier", "locale"):
                expected = ranking_svc.coverage(raw, "a", k, by)
                assert expected and ranking_svc.coverage(lake, "a", k, by) == pytest.approx(expected, abs=1e-15)
    finally:
        raw.close()
        lake.close()


def test_experiment_statistics_equal_numpy(summarized):
    units = lake_data.unit_frame()
    got = read(summarized, "SELECT * FROM experiment_results").set_index(["experiment_id", "variant", "metric"])
    overall = got[got.country.isna()]
    for (e, v, m), g in units.groupby(["experiment_id", "variant", "metric"]):
        row = overall.loc[(e, v, m)]
        assert row.n == len(g)
        assert row["sum"] == pytest.approx(g.value.sum(), rel=1e-12)
        assert row.sum_sq == pytest.approx((g.value ** 2).sum(), rel=1e-12)
    by_country = got[got.country.notna()].reset_index()
    missing = by_country[by_country.country == "(missing)"]
    assert missing.n.sum() == units.country.isna().sum()
    assert by_country.n.sum() == len(units)


RESULT_COLUMNS = ["experiment_id", "variant", "metric", "country", "n", "sum", "sum_sq", "pre_sum", "pre_sum_sq",
                  "sum_cross"]


def test_experiment_results_with_pre_period_equal_the_ingest_path(reference, summarized):
    """Row for row and exactly (the lake's values are multiples of 1/8): the pre-period column
    (pre_value, picked up by name) gives pre_sum, pre_sum_sq and sum_cross per variant, metric and
    segment, as `ingest` stores them from sums computed with pandas."""
    sql = (f"SELECT {', '.join(RESULT_COLUMNS)} FROM experiment_results "
           "ORDER BY experiment_id, variant, metric, country NULLS FIRST")
    expected, got = read(reference[2], sql), read(summarized, sql)
    assert len(got) == len(expected) == 2 * 2 * 2 * 4 and got.pre_sum.notna().all()
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize("engine", ENGINES)
def test_logged_rankings_equal_the_ingest_path(request, tmp_path, engine):
    """Logged rankings (gaps, lists past 64 items, nothing relevant) summarised on the engine equal the
    ingest build, whose values tests/test_ranking_logged.py checks against pytrec_eval."""
    from dashboard.cli import main
    from dashboard.store.ingest import ingest_file
    log = logged_collection(9, n_queries=60)
    log.to_parquet(tmp_path / "flat.parquet", index=False)
    queries = pd.DataFrame({"query_id": sorted(set(log.query_id))})
    queries["tier"] = np.where(queries.index % 3 == 0, "free", "pro")
    queries.to_parquet(tmp_path / "queries.parquet", index=False)
    sharded = log.assign(shard=log.query_id.str[1:].astype(int) % 3)
    source, query_source, options = str(lake_data.write_partitioned(sharded, tmp_path / "log", "shard")), \
        str(tmp_path / "queries.parquet"), []
    if engine == "postgres":
        from tests.postgres_server import load_frames
        engine = request.getfixturevalue("postgres_url")
        load_frames(engine, {"logged_runs": sharded, "logged_queries": queries})
        source, query_source, options = "table:logged_runs", "table:logged_queries", ["--partition-by", "shard"]
    ingest_file(tmp_path / "ingest.duckdb", "queries", tmp_path / "queries.parquet")
    ingest_file(tmp_path / "ingest.duckdb", "run", tmp_path / "flat.parquet")
    assert main(["summarize", "rankings", "--source", source, *options, "--queries", query_source,
                 "--db", str(tmp_path / "lake.duckdb"), "--engine", engine]) == 0
    expected, got = per_query(tmp_path / "ingest.duckdb"), per_query(tmp_path / "lake.duckdb")
    assert len(got) == len(expected) == 120 and got.model.tolist() == expected.model.tolist()
    assert got.query_id.tolist() == expected.query_id.tolist()
    assert got[segment_column("tier")].tolist() == expected[segment_column("tier")].tolist()
    for c in stored_metric_columns(expected):
        np.testing.assert_allclose(got[c].to_numpy(float), expected[c].to_numpy(float), rtol=0, atol=1e-12, err_msg=c)
    raw, lake = connect(tmp_path / "ingest.duckdb", read_only=True), connect(tmp_path / "lake.duckdb", read_only=True)
    try:
        for k in K_VALUES:
            expected_cover = ranking_svc.coverage(raw, "a", k, "tier")
            assert expected_cover and ranking_svc.coverage(lake, "a", k, "tier") == pytest.approx(expected_cover, abs=1e-15)
    finally:
        raw.close()
        lake.close()
