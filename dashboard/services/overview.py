"""What is loaded: tables, rows, date ranges, models, segments and load history."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from dashboard.store import catalog
from dashboard.store.schema import KINDS
from dashboard.store.sqlutil import ident

# table -> (date column for the range, model column) where the table has them
_DATE_COLUMN = {
    "predictions": "ts", "experiments": "start_date", "daily_metrics": "date", "events": "date",
}
_MODEL_COLUMN = {"predictions": "model", "rankings": "model"}


@dataclass
class TableInfo:
    kind: str
    table: str
    rows: int
    first: str | None
    last: str | None
    models: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    last_loaded: str | None = None
    files: int = 0


def tables(con: duckdb.DuckDBPyConnection) -> list[TableInfo]:
    out = []
    for kind_name, kind in KINDS.items():
        if not catalog.table_exists(con, kind.table):
            continue
        t = kind.table
        rows = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        first = last = None
        if t in _DATE_COLUMN:
            c = ident(_DATE_COLUMN[t])
            lo, hi = con.execute(f"SELECT min({c}), max({c}) FROM {t}").fetchone()
            first, last = (str(lo)[:10] if lo else None), (str(hi)[:10] if hi else None)
        models = []
        if t in _MODEL_COLUMN:
            models = [r[0] for r in con.execute(f"SELECT DISTINCT model FROM {t} ORDER BY 1").fetchall()]
        loaded = con.execute(
            "SELECT max(loaded_at), count(*) FROM load_log WHERE table_name = ? AND status = 'loaded'", [t]
        ).fetchone()
        out.append(TableInfo(kind_name, t, rows, first, last, models, catalog.segment_columns(con, t),
                             f"{loaded[0]:%Y-%m-%d %H:%M}" if loaded[0] else None, loaded[1]))
    return out


_LAKE_SUMMARY = {"prediction_bins": "predictions", "model_score_range": "predictions",
                 "ranking_query_metrics": "rankings", "ranking_coverage": "rankings"}


def summary_tables(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The small tables interactions read, with their sizes and what built them."""
    out = []
    for t in ("prediction_bins", "model_score_range", "ranking_query_metrics", "ranking_coverage"):
        if catalog.table_exists(con, t):
            out.append({"table": t, "rows": con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0],
                        "built by": _built_by(con, t)})
    return out


def _built_by(con, table: str) -> str:
    parts = []
    if catalog.table_exists(con, "lake_partitions"):
        rows = con.execute("SELECT source, count(*), sum(rows) FROM lake_partitions WHERE summary = ? "
                           "GROUP BY 1 ORDER BY 1", [_LAKE_SUMMARY[table]]).fetchall()
        parts = [f"summarize: {n} partition(s), {r:,} raw rows of {src}" for src, n, r in rows]
    raw = {"prediction_bins": "predictions", "model_score_range": "predictions",
           "ranking_query_metrics": "rankings", "ranking_coverage": None}[table]
    if raw and catalog.table_exists(con, raw):
        parts.insert(0, f"ingest (from the raw `{raw}` table)")
    return "; ".join(parts)


def load_history(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[dict]:
    rows = con.execute(
        "SELECT load_id, kind, table_name, source, rows, loaded_at FROM load_log "
        "ORDER BY load_id DESC LIMIT ?", [limit]
    ).fetchall()
    return [dict(zip(("load", "kind", "table", "source", "rows", "loaded_at"), r)) for r in rows]


def segment_values(con: duckdb.DuckDBPyConnection, table: str, column: str, limit: int = 12) -> list[tuple[str, int]]:
    """Most common values of a declared segment column (the name must be declared for the table)."""
    if column not in catalog.segment_columns(con, table) or table not in {k.table for k in KINDS.values()}:
        raise ValueError(f"{column!r} is not a segment column of {table}")
    if table == "predictions":  # read the summary, not the raw rows
        return con.execute(
            "SELECT segment_value, sum(n_pos + n_neg + n_unlabeled) FROM prediction_bins "
            "WHERE segment_column = ? GROUP BY 1 ORDER BY 2 DESC LIMIT ?", [column, limit]
        ).fetchall()
    c = ident(column)
    return con.execute(
        f"SELECT coalesce({c}, '(missing)'), count(*) FROM {table} GROUP BY 1 ORDER BY 2 DESC LIMIT ?", [limit]
    ).fetchall()
