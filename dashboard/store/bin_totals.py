"""`prediction_bin_totals`: the score bins of each model summed over its days, built with the bins.

The Thresholds page opens on a model's whole date range; summing `prediction_bins` over days for
that view is a GROUP BY of millions of rows at 50M predictions (28 days x 21 segment values x
10,001 bins: 1.2 s at 10M on this machine, before the headline of a cold server). This table holds
the answer (segment values x 10,001 bins per model and segment column), read in tens of ms.

It is trusted only while it adds up to the bins: `summarize` (a lake) writes `prediction_bins`
alone, so a model whose bins changed without this table falls back to summing the bins.
"""

from __future__ import annotations

import duckdb

from dashboard.store.catalog import table_exists
from dashboard.store.sqlutil import placeholders

TABLE = "prediction_bin_totals"  # its DDL is in schema.META_DDL

# sums that change whenever a model's overall bins change (counts, and where in the range they lie)
_CHECK = "sum(n_pos), sum(n_neg), sum(n_unlabeled), sum(bin * n_pos), sum(bin * n_neg), sum(bin * n_unlabeled)"


def build(con: duckdb.DuckDBPyConnection, models: list[str]) -> None:
    """Rebuild the totals of `models` from their `prediction_bins` (inside the load's transaction)."""
    if not models:
        return
    con.execute(f"DELETE FROM {TABLE} WHERE model IN ({placeholders(len(models))})", models)
    con.execute(
        f"INSERT INTO {TABLE} SELECT model, segment_column, segment_value, bin, sum(n_pos), sum(n_neg), "
        "sum(n_unlabeled), sum(w_pos), sum(w_neg), sum(value_pos), sum(value_neg) FROM prediction_bins "
        f"WHERE model IN ({placeholders(len(models))}) GROUP BY ALL", models)


def usable(con: duckdb.DuckDBPyConnection, model: str) -> bool:
    """Does the table hold `model`, adding up to its bins as they are now?"""
    if not table_exists(con, TABLE):
        return False
    totals, bins = (con.execute(f"SELECT {_CHECK} FROM {table} WHERE model = ? AND segment_column = ''",
                                [model]).fetchone() for table in (TABLE, "prediction_bins"))
    return totals[0] is not None and totals == bins


def segment_values(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """catalog.segment_values() read from this table (tens of rows per column, not millions)."""
    out: dict[str, list[str]] = {}
    for col, val in con.execute(f"SELECT DISTINCT segment_column, segment_value FROM {TABLE} "
                                "WHERE segment_column <> '' ORDER BY 1, 2").fetchall():
        out.setdefault(col, []).append(val)
    return out
