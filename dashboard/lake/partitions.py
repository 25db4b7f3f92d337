"""Partitions of a source: which are new since the last run, and the source restricted to them."""

from __future__ import annotations

import ibis
import pyarrow as pa

WHOLE = "(whole source)"


def _key(row: dict, keys: tuple[str, ...]) -> str:
    return "/".join(f"{k}={row[k].isoformat() if hasattr(row[k], 'isoformat') else row[k]}" for k in keys)


def row_counts(table, keys: tuple[str, ...]) -> tuple[dict[str, int], pa.Table | None]:
    """Rows per partition (key string -> rows) and the distinct partition values."""
    if not keys:
        return {WHOLE: int(table.count().to_pyarrow().as_py())}, None
    values = table.group_by(list(keys)).aggregate(_rows=table.count()).to_pyarrow()
    counts = {_key(row, keys): int(row["_rows"]) for row in values.to_pylist()}
    return counts, values.drop(["_rows"])


def restrict(table, keys: tuple[str, ...], values: pa.Table | None, wanted: set[str]):
    """`table` limited to the partitions whose key is in `wanted` (all of it when unpartitioned)."""
    if values is None:
        return table
    rows = [r for r in values.to_pylist() if _key(r, keys) in wanted]
    if len(rows) == values.num_rows:
        return table
    subset = ibis.memtable(pa.Table.from_pylist(rows, schema=values.schema))
    subset = subset.rename({f"_p_{k}": k for k in keys})
    cond = [table[k] == subset[f"_p_{k}"] for k in keys]
    return table.semi_join(subset, cond)
