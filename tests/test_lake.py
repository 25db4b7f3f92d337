"""`summarize` on DuckDB: appending a day, bin ranges, refusals that change nothing, settings and
secrets, and the app working on summaries alone."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.lake import settings
from dashboard.lake.cli import source_key
from dashboard.services import thresholds as thr
from dashboard.store.connection import connect
from tests import lake_data
from tests.apptest import run_page
from tests.test_lake_parity import bins


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("lake")
    return root, lake_data.write_lake(root)


def days(path):
    return sorted(p.name for p in path.iterdir())


def summarize_preds(db, source, *extra) -> int:
    return main(["summarize", "predictions", "--source", str(source), "--db", str(db), *extra])


def test_appending_a_day_reads_only_that_day_and_equals_a_full_build(lake, tmp_path, capsys):
    root, paths = lake
    partial = tmp_path / "preds"
    shutil.copytree(paths["preds"], partial)
    last = days(partial)[-1]
    shutil.move(partial / last, tmp_path / last)
    db = tmp_path / "inc.duckdb"
    assert summarize_preds(db, partial) == 0
    shutil.move(tmp_path / last, partial / last)
    capsys.readouterr()
    assert summarize_preds(db, partial) == 0
    out = capsys.readouterr().out
    n_days = len(days(paths["preds"]))
    assert f"1 new of {n_days} partition(s)" in out
    frame = lake_data.predictions_frame()
    assert f"{(frame.day == last.split('=')[1]).sum():,} raw rows read" in out
    full = tmp_path / "full.duckdb"
    assert summarize_preds(full, paths["preds"]) == 0
    pd.testing.assert_frame_equal(bins(db), bins(full))
    capsys.readouterr()
    assert summarize_preds(db, partial) == 0
    assert "nothing new" in capsys.readouterr().out
    con = connect(db, read_only=True)
    kinds = [r[0] for r in con.execute("SELECT kind FROM load_log ORDER BY load_id").fetchall()]
    con.close()
    assert kinds == ["summarize predictions"] * 2  # a run with nothing new writes nothing


def _day_frame(day: str, scores) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame({"model": "logit", "score": scores, "label": np.arange(n) % 2 * 1.0,
                         "ts": pd.Timestamp(day), "country": "US"})


def test_scores_outside_the_range_rebin_that_model_from_every_partition(tmp_path, capsys):
    src = tmp_path / "p"
    lake_data.write_partitioned(_day_frame("2026-11-01", [-2.0, 0.5, 3.0]).assign(day="2026-11-01"), src, "day")
    db = tmp_path / "r.duckdb"
    assert summarize_preds(db, src) == 0
    lake_data.write_partitioned(_day_frame("2026-11-02", [-5.0, 1.0]).assign(day="2026-11-02"), src, "day")
    capsys.readouterr()
    assert summarize_preds(db, src) == 0
    assert "left the bin range" in capsys.readouterr().out
    full = tmp_path / "full.duckdb"
    assert summarize_preds(full, src) == 0
    pd.testing.assert_frame_equal(bins(db), bins(full))
    con = connect(db, read_only=True)
    assert con.execute("SELECT lo, hi FROM model_score_range").fetchall() == [(-5.0, 3.0)]
    con.close()


def test_a_fixed_score_range_never_forces_a_rebin(tmp_path, capsys):
    src = tmp_path / "p"
    lake_data.write_partitioned(_day_frame("2026-11-01", [-2.0, 0.5]).assign(day="2026-11-01"), src, "day")
    db = tmp_path / "r.duckdb"
    assert summarize_preds(db, src, "--score-range", "-10", "10") == 0
    lake_data.write_partitioned(_day_frame("2026-11-02", [-5.0, 9.0]).assign(day="2026-11-02"), src, "day")
    assert summarize_preds(db, src, "--score-range", "-10", "10") == 0
    assert "left the bin range" not in capsys.readouterr().out
    con = connect(db, read_only=True)
    c = thr.counts(con, "logit")
    con.close()
    assert (c.lo, c.hi) == (-10.0, 10.0) and c.overall["pos"].sum() + c.overall["neg"].sum() == 4


def test_bad_rows_are_refused_and_nothing_already_stored_changes(lake, tmp_path, capsys):
    _, paths = lake
    src = tmp_path / "p"
    shutil.copytree(paths["preds"], src)
    db = tmp_path / "r.duckdb"
    assert summarize_preds(db, src) == 0
    before = bins(db)
    bad = _day_frame("2030-01-01", [0.1, 0.2, 0.3]).assign(day="2030-01-01")
    bad.loc[1, "label"] = 2.0
    bad.loc[2, "score"] = np.inf
    lake_data.write_partitioned(bad, src, "day")
    capsys.readouterr()
    assert summarize_preds(db, src) == 2
    err = capsys.readouterr().err
    assert "column label: 1 row(s) not 0, 1 or empty" in err and "column score: 1 row(s) not a finite number" in err
    assert "nothing was written" in err
    pd.testing.assert_frame_equal(bins(db), before)
    con = connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM lake_partitions WHERE partition_key = 'day=2030-01-01'").fetchone()[0] == 0
    con.close()


def test_missing_columns_and_unknown_sources_are_clear(tmp_path, capsys):
    src = tmp_path / "x.parquet"
    pd.DataFrame({"model": ["m"], "prob": [0.5]}).to_parquet(src)
    assert summarize_preds(tmp_path / "r.duckdb", src) == 2
    assert "missing column(s) score, label" in capsys.readouterr().err
    assert summarize_preds(tmp_path / "r.duckdb", tmp_path / "nope") == 2
    assert "not a Parquet file or directory" in capsys.readouterr().err


def test_a_query_seen_in_an_earlier_partition_is_refused(lake, tmp_path, capsys):
    _, paths = lake
    runs = tmp_path / "runs"
    shutil.copytree(paths["runs"], runs)
    db = tmp_path / "r.duckdb"
    args = ["summarize", "rankings", "--source", str(runs), "--qrels", str(paths["qrels"]), "--db", str(db)]
    assert main(args) == 0
    shutil.copytree(runs / "shard=0", runs / "shard=9")  # the same queries again
    capsys.readouterr()
    assert main(args) == 2
    assert "Rerun with --rebuild" in capsys.readouterr().err
    assert main(args + ["--rebuild"]) == 2  # still duplicates (model, query, item) across the source
    assert main(["summarize", "rankings", "--source", str(runs), "--db", str(db)]) == 2


def test_settings_precedence_expansion_and_redaction(tmp_path):
    conf = tmp_path / "lake.toml"
    conf.write_text('[engine]\nurl = "trino://me:${TRINO_PW}@host:8080/hive/logs"\n[spark]\n"spark.driver.memory" = "2g"\n')
    s = settings.load(conf, environ={"TRINO_PW": "s3cret"})
    assert s.url == "trino://me:s3cret@host:8080/hive/logs"
    assert "s3cret" not in s.describe() and s.describe() == "trino://me:***@host:8080/hive/logs"
    assert settings.load(conf, environ={"TRINO_PW": "x", "DASHBOARD_ENGINE": "spark"}).name == "spark"
    assert settings.load(conf, engine="duckdb", environ={"TRINO_PW": "x", "DASHBOARD_ENGINE": "spark"}).name == "duckdb"
    spark = settings.load(conf, environ={"TRINO_PW": "x", "DASHBOARD_SPARK_MASTER": "local[1]"})
    assert spark.spark_conf()["spark.master"] == "local[1]" and spark.spark_conf()["spark.driver.memory"] == "2g"
    with pytest.raises(settings.SettingsError, match=r"\$\{TRINO_PW\}"):
        settings.load(conf, environ={})
    yaml_conf = tmp_path / "lake.yaml"
    yaml_conf.write_text("engine:\n  url: duckdb\nwarehouse: 1\n")
    with pytest.raises(settings.SettingsError, match="unknown section"):
        settings.load(yaml_conf, environ={})
    assert settings.redact("s3://bucket/logs?access_token=abc&region=eu") == "s3://bucket/logs?access_token=%2A%2A%2A&region=eu"
    assert source_key("gs://u:pw@bucket/logs") == "gs://u:***@bucket/logs"


def test_no_secret_reaches_the_database(lake, tmp_path, monkeypatch):
    _, paths = lake
    conf = tmp_path / "lake.yaml"
    conf.write_text("engine:\n  url: duckdb\n")
    monkeypatch.setenv("DASHBOARD_LAKE_CONFIG", str(conf))
    db = tmp_path / "r.duckdb"
    assert summarize_preds(db, paths["preds"]) == 0
    con = connect(db, read_only=True)
    logged = con.execute("SELECT source, message FROM load_log").fetchall()
    con.close()
    assert logged and all(str(paths["preds"].resolve()) == s for s, _ in logged)


@pytest.fixture(scope="module")
def summaries_only(lake, tmp_path_factory):
    _, paths = lake
    db = tmp_path_factory.mktemp("summaries") / "s.duckdb"
    lake_data.summarize(db, paths)
    return db


def test_pages_work_on_summaries_alone_and_say_what_needs_raw_rows(summaries_only, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DB", str(summaries_only))
    at = run_page("thresholds.py", {"thr.model": "prob", "thr.compare": "logit"})
    labels = [m.label for m in at.metric]
    assert "Average precision (binned)" in labels and "ROC AUC (binned)" in labels
    assert any("only their summaries are loaded" in c.value for c in at.caption)
    at = run_page("ranking.py", {"rank.model": "b", "rank.baseline": "a", "rank.by": "tier"})
    frame = at.dataframe[-1].value  # the segment table of every measure
    coverage = [c for c in frame.columns if c.startswith("coverage @")]
    assert coverage and (frame[coverage[0]] != "n/a").all()
    run_page("home.py")
    run_page("data.py")


def test_binned_quality_is_close_to_exact(lake, summaries_only, tmp_path):
    raw = lake_data.ingest_raw(lake[0], tmp_path / "raw.duckdb")
    a, b = connect(raw, read_only=True), connect(summaries_only, read_only=True)
    try:
        exact, binned = thr.exact_quality(a, "prob"), thr.exact_quality(b, "prob")
    finally:
        a.close()
        b.close()
    assert exact[""]["exact"] and not binned[""]["exact"]
    assert binned[""]["roc_auc"] == pytest.approx(exact[""]["roc_auc"], abs=1e-3)
    assert binned[""]["average_precision"] == pytest.approx(exact[""]["average_precision"], abs=1e-3)


def test_positions_without_relevance_and_runs_without_qrels_are_refused(lake, tmp_path, capsys):
    _, paths = lake
    src = tmp_path / "pos.parquet"
    pd.DataFrame({"model": ["m"], "query_id": ["q"], "item_id": ["a"], "score": [0.5], "position": [1]}).to_parquet(src)
    db = str(tmp_path / "r.duckdb")
    assert main(["summarize", "rankings", "--source", str(src), "--qrels", str(paths["qrels"]), "--db", db]) == 2
    assert "has position but no relevance" in capsys.readouterr().err
    assert main(["summarize", "rankings", "--source", str(paths["runs"]), "--db", db]) == 2
    assert "scored runs need --qrels" in capsys.readouterr().err


def test_bad_logged_rows_are_refused(tmp_path, capsys):
    src = tmp_path / "log.parquet"
    pd.DataFrame({"model": ["m"] * 3, "query_id": ["q"] * 3, "item_id": ["a", "b", "c"], "position": [1, 1, 0],
                  "relevance": [1, None, 2]}).to_parquet(src)
    assert main(["summarize", "rankings", "--source", str(src), "--db", str(tmp_path / "r.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "column position: 1 row(s) not a whole number >= 1" in err and "column relevance: 1 empty row(s)" in err
    if (tmp_path / "r.duckdb").exists():  # nothing was written
        assert "ranking_query_metrics" not in str(read_tables(tmp_path / "r.duckdb"))


def read_tables(db) -> list:
    con = connect(db, read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    finally:
        con.close()


def test_a_run_exported_with_empty_logged_columns_is_a_scored_run(lake, tmp_path, capsys):
    _, paths = lake
    run, _, _ = lake_data.ranking_frames()
    src = tmp_path / "export.parquet"
    run.drop(columns=["shard"]).assign(position=pd.array([None] * len(run), dtype="Int64"),
                                       relevance=pd.array([None] * len(run), dtype="Int64")).to_parquet(src)
    db = tmp_path / "r.duckdb"
    assert main(["summarize", "rankings", "--source", str(src), "--qrels", str(paths["qrels"]), "--db", str(db)]) == 0
    capsys.readouterr()
    relevance_only = tmp_path / "rel.parquet"
    pd.DataFrame({"model": ["m"], "query_id": ["q"], "item_id": ["a"], "score": [1.0], "relevance": [1]}).to_parquet(relevance_only)
    assert main(["summarize", "rankings", "--source", str(relevance_only), "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "has relevance but no position" in capsys.readouterr().err
