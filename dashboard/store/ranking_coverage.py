"""Catalogue coverage of every model's top k, pre-grouped at load so the Ranking page's coverage
column reads a few rows instead of ranking the raw run again for each segment column (0.6 s of
CPU per column at 100k queries x 20 items).

Table `ranking_run_coverage`, one row per model x segment column ('' for every query) x segment
value x stored cutoff k: n_items (distinct items the model shows in the top k of those queries)
and catalogue (distinct items any loaded model retrieved). Built from the raw `rankings` with the
per-query table; the `ranking_coverage` table of `summarize` (docs/lake.md) is its lake twin.
"""

from __future__ import annotations

import duckdb

from dashboard.store.catalog import segment_columns, table_columns, table_exists
from dashboard.store.sqlutil import ident

TABLE = "ranking_run_coverage"
MISSING = "(missing)"


def build(con: duckdb.DuckDBPyConnection, k_values: tuple[int, ...], lists: str | None = None) -> None:
    """One ranking pass over the run (each item's best rank per cell of every segment column at
    once), then each segment column's counts per cutoff from those cells. `lists`: a table of the
    lists ranked by score, gathered once (ranking_summary.gather_lists: model, query_id, gi = the
    {s: score, i: item, g: grade} structs in rank order), else they are gathered here."""
    if not table_exists(con, "rankings"):
        con.execute(f"DROP TABLE IF EXISTS {TABLE}")
        return
    k_values = tuple(int(k) for k in k_values)
    segments = segment_columns(con, "queries") if table_exists(con, "queries") else []
    positioned = "position" in table_columns(con, "rankings")
    top = max(k_values)
    # a model is one form: its rows all carry a position (the rank as served) or none (ranked by
    # score, then item id descending: each list's top items gathered in that order, the rank their
    # place; a window over every row cost ~20% more CPU)
    scored = "WHERE position IS NULL" if positioned else ""
    items = (f"SELECT model, query_id, list_transform(gi[1:{top}], lambda x: x.i) AS items FROM {lists}" if lists
             else f"SELECT model, query_id, list(item_id ORDER BY score DESC, item_id DESC)[1:{top}] AS items "
                  f"FROM rankings {scored} GROUP BY model, query_id")
    ranked = f"SELECT model, query_id, unnest(items) AS item_id, generate_subscripts(items, 1) AS rank FROM ({items})"
    if positioned:
        ranked += f" UNION ALL SELECT model, query_id, item_id, position AS rank FROM rankings WHERE position <= {top}"
    # each item's best rank per cell (a combination of segment values, numbered), the cell joined
    # after the ranking so the sort carries no segment text
    segs = [f"coalesce({ident(s)}, '{MISSING}') AS {ident(s)}" for s in segments]
    if segments:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _coverage_cell_values AS
            SELECT *, row_number() OVER () AS cell FROM (SELECT DISTINCT {', '.join(segs)} FROM queries)""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _coverage_query_cells AS
            SELECT q.query_id, v.cell FROM queries q JOIN _coverage_cell_values v
            ON {' AND '.join(f"v.{ident(s)} = coalesce(q.{ident(s)}, '{MISSING}')" for s in segments)}""")
    cell = "coalesce(c.cell, 0)" if segments else "0"
    join = "LEFT JOIN _coverage_query_cells c ON c.query_id = r.query_id" if segments else ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _coverage_cells AS
        SELECT r.model, {cell} AS cell, r.item_id, min(r.rank) AS best
        FROM ({ranked}) r {join}
        GROUP BY ALL""")
    counts = ", ".join(f"count(*) FILTER (WHERE best <= {k}) AS n_{k}" for k in k_values)
    per_column = []
    for seg in [None, *segments]:
        column = f"'{seg}'" if seg else "''"
        # a query without a queries row is in cell 0: every segment '(missing)'
        value = f"coalesce(v.{ident(seg)}, '{MISSING}')" if seg else "''"
        cells = "_coverage_cells x LEFT JOIN _coverage_cell_values v USING (cell)" if segments else "_coverage_cells x"
        per_column.append(f"SELECT model, {column} AS segment_column, value AS segment_value, {counts} "
                          f"FROM (SELECT x.model, {value} AS value, x.item_id, min(x.best) AS best FROM {cells} "
                          "GROUP BY ALL) GROUP BY model, value")
    catalogue = con.execute("SELECT count(DISTINCT item_id) FROM rankings").fetchone()[0]
    long = " UNION ALL ".join(f"SELECT model, segment_column, segment_value, {k} AS k, n_{k} AS n_items FROM w"
                              for k in k_values)
    con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS WITH w AS ({' UNION ALL '.join(per_column)}) "
                f"SELECT *, CAST(? AS BIGINT) AS catalogue FROM ({long})", [catalogue])
    for temp in ("_coverage_cells", "_coverage_cell_values", "_coverage_query_cells"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")


def read(con: duckdb.DuckDBPyConnection, model: str, by: str) -> dict[int, dict[str, float]] | None:
    """k -> segment value -> share of the catalogue in the top k; None when not built."""
    if not table_exists(con, TABLE):
        return None
    rows = con.execute(f"SELECT k, segment_value, n_items, catalogue FROM {TABLE} "
                       "WHERE model = ? AND segment_column = ?", [model, by]).fetchall()
    out: dict[int, dict[str, float]] = {}
    for k, value, n, catalogue in rows:
        out.setdefault(int(k), {})
        if n and catalogue:
            out[int(k)][str(value)] = n / catalogue
    return out
