"""What is loaded: tables, segment columns, models. Names returned here are safe identifiers."""

from __future__ import annotations

import duckdb

from dashboard.store.schema import IDENTIFIER, KINDS


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'",
        [table],
    ).fetchone()
    return bool(row and row[0])  # duckdb_tables() is ~2x cheaper than information_schema


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'", [table]
    ).fetchall()
    return {r[0] for r in rows}


RUN_FORMS = {"scored": "scored run", "positioned": "run with positions",
             "logged": "logged ranking (position and relevance)"}


def run_forms(con: duckdb.DuckDBPyConnection, model: str | None = None) -> dict[str, str]:
    """Model -> how its stored runs are ordered and judged (a key of RUN_FORMS; one form per model,
    checked at load). Databases from before positions were supported hold scored runs only."""
    if not table_exists(con, "rankings"):
        return {}
    columns = table_columns(con, "rankings")
    judged = "bool_or(relevance IS NOT NULL)" if "relevance" in columns else "false"
    positioned = "bool_or(position IS NOT NULL)" if "position" in columns else "false"
    where, params = ("WHERE model = ?", [model]) if model is not None else ("", [])
    rows = con.execute(f"SELECT model, {judged}, {positioned} FROM rankings {where} GROUP BY model", params).fetchall()
    return {m: "logged" if j else "positioned" if p else "scored" for m, j, p in rows}


def segment_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Segment columns declared for a table, in load order; each matches schema.IDENTIFIER."""
    if not table_exists(con, "segment_columns"):
        return []
    rows = con.execute(
        "SELECT column_name FROM segment_columns WHERE table_name = ? ORDER BY rowid", [table]
    ).fetchall()
    return [r[0] for r in rows if IDENTIFIER.match(r[0])]


def segment_values(con: duckdb.DuckDBPyConnection, model: str | None = None) -> dict[str, list[str]]:
    """Segment column -> sorted values present in the prediction summary."""
    if not table_exists(con, "prediction_bins"):
        return {}
    sql = "SELECT DISTINCT segment_column, segment_value FROM prediction_bins WHERE segment_column <> ''"
    params: list = []
    if model is not None:
        sql += " AND model = ?"
        params.append(model)
    out: dict[str, list[str]] = {}
    for col, val in con.execute(sql + " ORDER BY 1, 2", params).fetchall():
        out.setdefault(col, []).append(val)
    return out


def prediction_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    if not table_exists(con, "model_score_range"):
        return []
    return [r[0] for r in con.execute("SELECT model FROM model_score_range ORDER BY model").fetchall()]


def ranking_models(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Models with raw runs or with per-query summaries (from `summarize`)."""
    tables = [t for t in ("rankings", "ranking_query_metrics") if table_exists(con, t)]
    if not tables:
        return []
    union = " UNION ".join(f"SELECT DISTINCT model FROM {t}" for t in tables)
    return [r[0] for r in con.execute(f"SELECT model FROM ({union}) ORDER BY model").fetchall()]


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    """Changes whenever a load commits; the UI keys its caches on it."""
    if not table_exists(con, "load_log"):
        return 0
    row = con.execute("SELECT coalesce(max(load_id), 0) FROM load_log").fetchone()
    return int(row[0]) if row else 0


def loaded_kinds(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [k for k, kind in KINDS.items() if table_exists(con, kind.table)]
