"""Per-segment sums of every per-query measure, built with the per-query table, so a re-split
(another segment column, k, level, gain or baseline) reads a few rows instead of grouping 100k.

Table `ranking_segment_sums`, one row per model x baseline ('' alone) x segment column ('' for
every query) x segment value x (model retrieved the query, baseline retrieved it):
  n, longest (the model's longest list), longest_base, and for each measure column C of
  `ranking_query_metrics`: s_C (sum over the model's rows); with a baseline also b_C (the
  baseline's) and dd_C (the sum of squared differences), over the queries both have (the sum of
  the differences is s_C - b_C).
The flags split what trec_eval's `-c` changes: a re-split of the evaluated queries reads the rows
where both retrieved the query; `-c` adds them all (sums and counts add; longest is a max).

Pairs are stored for up to MAX_PAIRED_MODELS models (both orders: one join per unordered pair,
mirrored); with more, a paired re-split groups the per-query table as before.
"""

from __future__ import annotations

import duckdb

from dashboard.store.catalog import table_columns, table_exists
from dashboard.store.sqlutil import ident

TABLE = "ranking_segment_sums"
MAX_PAIRED_MODELS = 8
MISSING = "(missing)"  # as services/ranking.py shows an empty segment
_NOT_MEASURES = ("model", "query_id", "n_retrieved")


def measure_columns(columns) -> list[str]:
    return sorted(c for c in columns if c not in _NOT_MEASURES and not c.startswith(("segment_", "n_relevant")))


def build(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the sums from `ranking_query_metrics` (inside the caller's transaction): one pass
    over the rows (and one over the paired rows) into cells of every segment column at once, then
    each segment column's sums from those few cells."""
    if not table_exists(con, "ranking_query_metrics"):
        con.execute(f"DROP TABLE IF EXISTS {TABLE}")
        return
    columns = table_columns(con, "ranking_query_metrics")
    measures = measure_columns(columns)
    segments = sorted(c for c in columns if c.startswith("segment_"))
    models = con.execute("SELECT count(DISTINCT model) FROM ranking_query_metrics").fetchone()[0]
    cells_of = "".join(f"coalesce(m.{ident(s)}, '{MISSING}') AS {ident(s)}, " for s in segments)
    cells = [f"SELECT m.model, '' AS baseline, {cells_of}m.n_retrieved > 0 AS m_ret, "
             "CAST(NULL AS BOOLEAN) AS b_ret, count(*) AS n, max(m.n_retrieved) AS longest, "
             "CAST(NULL AS BIGINT) AS longest_base, "
             + ", ".join(f"sum(m.{ident(c)}) AS {ident('s_' + c)}" for c in measures)
             + " FROM ranking_query_metrics m GROUP BY ALL"]
    if 2 <= models <= MAX_PAIRED_MODELS:
        sums = []
        for c in measures:
            d = f"(m.{ident(c)} - b.{ident(c)})"
            sums += [f"sum(m.{ident(c)}) AS {ident('s_' + c)}", f"sum(b.{ident(c)}) AS {ident('b_' + c)}",
                     f"sum({d} * {d}) AS {ident('dd_' + c)}"]
        cells.append(f"SELECT m.model, b.model AS baseline, {cells_of}m.n_retrieved > 0 AS m_ret, "
                     "b.n_retrieved > 0 AS b_ret, count(*) AS n, max(m.n_retrieved) AS longest, "
                     f"max(b.n_retrieved) AS longest_base, {', '.join(sums)} "
                     "FROM ranking_query_metrics m JOIN ranking_query_metrics b "
                     "ON b.query_id = m.query_id AND m.model < b.model GROUP BY ALL")
    else:  # the columns a pair fills, empty
        cells[0] = cells[0].replace(" FROM ranking_query_metrics m", ", " + ", ".join(
            f"CAST(NULL AS DOUBLE) AS {ident(p + c)}" for c in measures for p in ("b_", "dd_"))
            + " FROM ranking_query_metrics m")
    con.execute("CREATE OR REPLACE TEMP TABLE _ranking_cells AS " + "\nUNION ALL BY NAME\n".join(cells))
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS {_per_column(segments, measures)}")
    con.execute("DROP TABLE _ranking_cells")
    # the other order: model and baseline swap, so do their sums and flags (d = s - b changes sign)
    swapped = ["baseline AS model", "model AS baseline", "segment_column", "segment_value", "b_ret AS m_ret",
               "m_ret AS b_ret", "n", "longest_base AS longest", "longest AS longest_base"]
    for c in measures:
        s, b, dd = (ident(p + c) for p in ("s_", "b_", "dd_"))
        swapped += [f"{b} AS {s}", f"{s} AS {b}", dd]
    con.execute(f"INSERT INTO {TABLE} BY NAME SELECT {', '.join(swapped)} FROM {TABLE} WHERE baseline > model")


def _per_column(segments: list[str], measures: list[str]) -> str:
    """Each segment column's sums (and those over every query) from the cells."""
    sums = ["sum(n) AS n", "max(longest) AS longest", "max(longest_base) AS longest_base"]
    sums += [f"sum({ident(p + c)}) AS {ident(p + c)}" for c in measures for p in ("s_", "b_", "dd_")]
    parts = []
    for seg in [None, *segments]:
        column = f"'{seg.removeprefix('segment_')}'" if seg else "''"
        value = ident(seg) if seg else "''"
        parts.append(f"SELECT model, baseline, {column} AS segment_column, {value} AS segment_value, m_ret, b_ret, "
                     f"{', '.join(sums)} FROM _ranking_cells GROUP BY model, baseline, segment_value, m_ret, b_ret")
    return "\nUNION ALL\n".join(parts)


def read(con: duckdb.DuckDBPyConnection, model: str, baseline: str, by: str, all_queries: bool,
         cols: dict[str, str], with_overall: bool) -> list[dict] | None:
    """The rows services/ranking.py `_sums` returns, from the stored sums; None when they do not
    hold this model (or pair, or segment column): the caller groups the per-query table then."""
    stored = table_columns(con, TABLE)
    if not stored:  # not built (a database loaded before the sums were)
        return None
    parts = ["sum(n) AS n", "max(longest) AS longest"]
    for name, sql in cols.items():
        for prefix in ("s_", "b_", "d_", "dd_") if baseline else ("s_",):
            col = _column(sql, prefix, stored)
            if col is False:
                return None
            parts.append(f"{col} AS {prefix}{name}")
    where = "model = ? AND baseline = ? AND segment_column IN (?, '')"
    if not all_queries:
        where += " AND m_ret" + (" AND b_ret" if baseline else "")
    rows = con.execute(f"SELECT CASE WHEN segment_column = '' THEN NULL ELSE segment_value END AS segment, "
                       f"{', '.join(parts)} FROM {TABLE} WHERE {where} GROUP BY segment_column, segment_value "
                       "ORDER BY 1 NULLS FIRST", [model, baseline, by]).fetchall()
    names = ["segment", "n", "longest"] + [p.rsplit(" AS ", 1)[1] for p in parts[2:]]
    out = [dict(zip(names, r)) for r in rows]
    if not out or out[0]["segment"] is not None or (by and len(out) == 1):
        return None  # not stored (an unknown model or column: the caller's checks name it)
    if not by:
        return out
    return out if with_overall else out[1:]


def _column(sql: str, prefix: str, stored: set[str]) -> str | bool:
    """SQL of the sum of one measure: a stored column's, a constant's (a level above every grade:
    0; bpref of an older table: NULL); False when the column is not stored."""
    if sql.startswith("{a}."):
        col = sql.removeprefix("{a}.")
        if prefix == "d_":  # the sum of the differences is the difference of the sums
            return f"sum({ident('s_' + col)}) - sum({ident('b_' + col)})" if "s_" + col in stored else False
        return f"sum({ident(prefix + col)})" if prefix + col in stored else False
    return "CAST(NULL AS DOUBLE)" if "NULL" in sql else "0.0"
