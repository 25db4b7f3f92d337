"""Predictions that would count twice: a file whose times overlap the stored rows of the same model.

Predictions have no key (an entity may be scored many times), so a re-exported day looks like new
rows and every count, rate and cost of those days would double. Exports are normally disjoint time
windows; an overlap is refused unless the caller says the rows are different predictions (`append`,
e.g. one file per country for the same weeks). Files without `ts` are checked by content only.
"""

from __future__ import annotations

import duckdb

from dashboard.store.catalog import table_exists
from dashboard.store.readers import ROW

MAX_LISTED = 5


def check(con: duckdb.DuckDBPyConnection, name: str, row_label: str, typed: str, columns: list[str],
          append: bool) -> list[str]:
    """Problems for models whose time range in this file overlaps their stored range.
    `typed`: the staged rows as typed columns (model, ts, ...) with the file's row numbers."""
    if append or "ts" not in columns or not table_exists(con, "predictions"):
        return []
    rows = con.execute(f"""
        WITH f AS (SELECT model, min(ts) AS lo, max(ts) AS hi, min({ROW}) AS first_row
                   FROM ({typed}) WHERE ts IS NOT NULL GROUP BY model),
             t AS (SELECT model, min(ts) AS lo, max(ts) AS hi FROM predictions
                   WHERE model IN (SELECT model FROM f) AND ts IS NOT NULL GROUP BY model)
        SELECT * FROM (
            SELECT f.model, f.lo, f.hi, t.lo, t.hi,
                   (SELECT min({ROW}) FROM ({typed}) s WHERE s.model = f.model AND s.ts BETWEEN t.lo AND t.hi) AS first
            FROM f JOIN t ON f.model = t.model AND f.lo <= t.hi AND f.hi >= t.lo)
        WHERE first IS NOT NULL  -- rows on both sides of the stored range, none inside it, add no day twice
        ORDER BY first LIMIT {MAX_LISTED}""").fetchall()
    return [f"{name}, {row_label} {first}, column 'ts': model {model!r} already has predictions from "
            f"{_t(stored_lo)} to {_t(stored_hi)}, and this file's run from {_t(lo)} to {_t(hi)}: the rows "
            "in the overlap would count twice. Load only the new period, pass --replace to replace this "
            "model's rows, or --append if these are different predictions (e.g. one file per country)"
            for model, lo, hi, stored_lo, stored_hi, first in rows]


def _t(value) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}"
