"""`summarize --engine postgres://...` on a real PostgreSQL server: the URL's password is used to
connect but never printed, in refusals or in success, and never stored in the dashboard's database;
appending a day and time zones behave as on DuckDB. (Parity with the ingest path on PostgreSQL:
tests/test_lake_parity.py, test_lake_covariances.py.)"""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.cli import main
from dashboard.lake import settings
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file
from tests import lake_data
from tests.postgres_server import PASSWORD, PostgresUnavailable, find_binary, load_frames
from tests.test_lake_parity import bins, per_query


def test_the_password_is_never_printed_nor_stored(postgres_url, tmp_path, capfd):
    load_frames(postgres_url, {"secret_preds": lake_data.predictions_frame(n=200)})
    db = tmp_path / "lake.duckdb"
    redacted = postgres_url.replace(PASSWORD, "***")
    assert main(["summarize", "predictions", "--source", "table:secret_preds", "--partition-by", "day",
                 "--db", str(db), "--engine", postgres_url]) == 0
    out, err = capfd.readouterr()
    assert f"on {redacted}" in out and "summary rows written" in out

    wrong = postgres_url.replace(PASSWORD, "wr0ng-pw-42")
    assert main(["summarize", "predictions", "--source", "table:secret_preds", "--db", str(db),
                 "--engine", wrong]) == 2
    refused = capfd.readouterr()
    assert "cannot connect" in refused.err and "password authentication failed" in refused.err
    assert redacted in refused.err and "wr0ng-pw-42" not in refused.out + refused.err

    assert main(["summarize", "rankings", "--source", "table:no_such_runs", "--db", str(db),
                 "--engine", postgres_url]) == 2
    missing = capfd.readouterr()
    assert "no such table" in missing.err
    for text in (out, err, missing.out, missing.err):
        assert PASSWORD not in text

    con = connect(db, read_only=True)
    try:
        stored = [row for table in ("load_log", "lake_partitions", "model_score_range")
                  for row in con.execute(f"SELECT * FROM {table}").fetchall()]
    finally:
        con.close()
    assert stored and not [row for row in stored if PASSWORD in repr(row)]


def test_appending_a_day_on_the_server_reads_only_that_day_and_equals_a_full_build(postgres_url, tmp_path, capfd):
    """The new partitions are picked on the server (a semi-join with an in-memory table of keys)."""
    preds = lake_data.predictions_frame()
    last = sorted(preds.day.unique())[-1]
    load_frames(postgres_url, {"append_preds": preds[preds.day != last]})
    args = ["summarize", "predictions", "--source", "table:append_preds", "--partition-by", "day",
            "--engine", postgres_url, "--db"]
    assert main([*args, str(tmp_path / "inc.duckdb")]) == 0
    load_frames(postgres_url, {"append_preds": preds})
    capfd.readouterr()
    assert main([*args, str(tmp_path / "inc.duckdb")]) == 0
    out = capfd.readouterr().out
    assert f"1 new of {preds.day.nunique()} partition(s), {(preds.day == last).sum():,} raw rows read" in out
    assert main([*args, str(tmp_path / "full.duckdb")]) == 0
    pd.testing.assert_frame_equal(bins(tmp_path / "inc.duckdb"), bins(tmp_path / "full.duckdb"))


def test_a_timestamp_with_time_zone_falls_on_its_utc_day_whatever_the_server_zone(postgres_url, tmp_path):
    """As the ingest path stores it: a database whose default zone is UTC+14 must not move
    late-evening rows to the next day (Ibis sets the session to UTC)."""
    import psycopg

    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS lake_tz")
        con.execute("CREATE DATABASE lake_tz")
        con.execute("ALTER DATABASE lake_tz SET timezone TO 'Pacific/Kiritimati'")
    url = postgres_url.rsplit("/", 1)[0] + "/lake_tz"
    frame = lake_data.predictions_frame(n=300).drop(columns=["day"])
    frame["ts"] = (frame.ts.dt.tz_localize("UTC") + pd.Timedelta(hours=20)).dt.tz_convert("America/New_York")
    frame.to_parquet(tmp_path / "flat.parquet", index=False)
    ingest_file(tmp_path / "ingest.duckdb", "predictions", tmp_path / "flat.parquet")
    load_frames(url, {"tz_preds": frame})
    assert main(["summarize", "predictions", "--source", "table:tz_preds", "--db", str(tmp_path / "lake.duckdb"),
                 "--engine", url]) == 0
    expected, got = bins(tmp_path / "ingest.duckdb"), bins(tmp_path / "lake.duckdb")
    assert got.day.nunique() == expected.day.nunique() > 10
    pd.testing.assert_frame_equal(got, expected)


def test_tied_scores_rank_by_item_id_bytes_only_under_a_byte_order_collation(postgres_url, tmp_path):
    """trec_eval breaks a tie in score by item id, comparing bytes. A database with a linguistic
    collation (ICU en-US here, like most servers' en_US.UTF-8) orders ids that differ in case or
    punctuation otherwise, so its ranks differ; the column declared COLLATE "C" (docs/lake.md)
    gives trec_eval's ranks again."""
    import psycopg
    import pytrec_eval

    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS lake_icu")
        con.execute("CREATE DATABASE lake_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
                    "LOCALE 'C.UTF-8'")
    url = postgres_url.rsplit("/", 1)[0] + "/lake_icu"
    items = ["Doc9", "doc1", "aB", "a_b", "Z"]  # bytes, descending: doc1 a_b aB Z Doc9
    with psycopg.connect(url, autocommit=True) as con:
        for name, collate in (("runs_linguistic", ""), ("runs_bytes", ' COLLATE "C"')):
            con.execute(f"CREATE TABLE {name} (model text, query_id text, item_id text{collate}, score float8)")
            for item in items:
                con.execute(f"INSERT INTO {name} VALUES ('a', 'q1', %s, 1.0)", [item])
        con.execute("CREATE TABLE qrels (query_id text, item_id text, relevance bigint)")
        con.execute("INSERT INTO qrels VALUES ('q1', 'Doc9', 1), ('q1', 'aB', 0)")
    trec = pytrec_eval.RelevanceEvaluator({"q1": {"Doc9": 1, "aB": 0}}, {"recip_rank"}).evaluate(
        {"q1": {item: 1.0 for item in items}})["q1"]["recip_rank"]
    rr = {}
    for name in ("runs_linguistic", "runs_bytes"):
        db = tmp_path / f"{name}.duckdb"
        assert main(["summarize", "rankings", "--source", f"table:{name}", "--qrels", "table:qrels", "--db", str(db),
                     "--engine", url]) == 0
        rr[name] = per_query(db).rr.tolist()
    assert trec == 0.2 and rr["runs_bytes"] == [trec]
    assert rr["runs_linguistic"] == [0.5]  # Doc9 second, not last: the limitation docs/lake.md states


def test_a_driver_message_is_scrubbed_of_the_password_and_secret_query_values():
    url = "postgres://me:p%40ss%3Aw0rd@db.internal:5432/logs?sslmode=require&auth_token=t0k3n"
    message = f"could not connect to {url}: password 'p@ss:w0rd' rejected (token t0k3n, sslmode require)"
    scrubbed = settings.scrub(message, url)
    assert "p@ss:w0rd" not in scrubbed and "p%40ss" not in scrubbed and "t0k3n" not in scrubbed
    assert "postgres://me:***@db.internal:5432/logs" in scrubbed and "sslmode require" in scrubbed


def test_a_missing_server_binary_is_a_failure_that_says_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PostgresUnavailable, match="install Debian's postgresql package"):
        find_binary("initdb-that-does-not-exist")
