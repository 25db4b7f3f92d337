"""The dashboard's side of `summarize`: bookkeeping of summarised partitions, and writing the
summaries (small Arrow tables) into DuckDB in one transaction, so a failed run changes nothing."""

from __future__ import annotations

import contextlib
from datetime import datetime

import duckdb
import pyarrow as pa

from dashboard.store.catalog import segment_columns, table_exists
from dashboard.store.sqlutil import finish_pending, ident, placeholders

LAKE_DDL = (
    """CREATE TABLE IF NOT EXISTS lake_partitions (
        summary VARCHAR, source VARCHAR, partition_key VARCHAR, rows BIGINT, loaded_at TIMESTAMP)""",
    """CREATE TABLE IF NOT EXISTS ranking_coverage (
        model VARCHAR, segment_column VARCHAR, segment_value VARCHAR, n_items BIGINT, k BIGINT,
        catalogue BIGINT)""",
)


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    """All of it or nothing: a failure anywhere inside rolls every write back."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in LAKE_DDL:
        con.execute(ddl)


def done_partitions(con: duckdb.DuckDBPyConnection, summary: str, source: str) -> set[str]:
    rows = con.execute("SELECT partition_key FROM lake_partitions WHERE summary = ? AND source = ?",
                       [summary, source]).fetchall()
    return {r[0] for r in rows}


def summarised_sources(con: duckdb.DuckDBPyConnection, summary: str) -> list[str]:
    if not table_exists(con, "lake_partitions"):
        return []
    return [r[0] for r in con.execute(
        "SELECT DISTINCT source FROM lake_partitions WHERE summary = ? ORDER BY 1", [summary]).fetchall()]


def forget_partitions(con, summary: str, source: str) -> None:
    con.execute("DELETE FROM lake_partitions WHERE summary = ? AND source = ?", [summary, source])


def record_partitions(con, summary: str, source: str, rows_by_partition: dict[str, int]) -> None:
    now = datetime.now()
    for key, rows in sorted(rows_by_partition.items()):
        con.execute("INSERT INTO lake_partitions VALUES (?, ?, ?, ?, ?)", [summary, source, key, rows, now])


def record_load(con, summary: str, table: str, source: str, rows: int, message: str) -> None:
    """A load_log row: the app keys its caches on load_log, so every page sees the new summaries."""
    load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM load_log").fetchall()[0][0]
    con.execute("INSERT INTO load_log VALUES (?, ?, ?, ?, ?, 'loaded', ?, ?)",
                [load_id, f"summarize {summary}", table, source, rows, message, datetime.now()])


def register_segments(con, table: str, segments: list[str]) -> list[str]:
    """Declare segment columns (names already checked against schema.IDENTIFIER); returns new ones."""
    known = set(segment_columns(con, table))
    new = [s for s in segments if s not in known]
    for s in new:
        con.execute("INSERT INTO segment_columns VALUES (?, ?)", [table, s])
    return new


def insert_arrow(con, table: str, data: pa.Table) -> None:
    """Append by column name; creates the table from the data's schema when missing."""
    finish_pending(con)
    con.register("_lake_rows", data)
    try:
        if not table_exists(con, table):
            con.execute(f"CREATE TABLE {ident(table)} AS SELECT * FROM _lake_rows LIMIT 0")
        con.execute(f"INSERT INTO {ident(table)} BY NAME SELECT * FROM _lake_rows")
    finally:
        con.unregister("_lake_rows")


def delete_models(con, table: str, models: list[str]) -> None:
    if models and table_exists(con, table):
        con.execute(f"DELETE FROM {ident(table)} WHERE model IN ({placeholders(len(models))})", models)


def set_score_ranges(con, ranges: dict[str, tuple[float, float]]) -> None:
    for model, (lo, hi) in ranges.items():
        con.execute("DELETE FROM model_score_range WHERE model = ?", [model])
        con.execute("INSERT INTO model_score_range VALUES (?, ?, ?)", [model, lo, hi])


def stored_score_ranges(con) -> dict[str, tuple[float, float]]:
    return {m: (lo, hi) for m, lo, hi in con.execute("SELECT model, lo, hi FROM model_score_range").fetchall()}


def raw_models(con, table: str) -> set[str]:
    """Models whose raw rows are loaded (their summaries belong to the ingest path)."""
    if not table_exists(con, table):
        return set()
    return {r[0] for r in con.execute(f"SELECT DISTINCT model FROM {ident(table)}").fetchall()}
