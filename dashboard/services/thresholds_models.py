"""Declared facts about classification models (the `models` kind): the production threshold the
Thresholds page opens at, and a description."""

from __future__ import annotations

import duckdb

from dashboard.store import catalog


def declared(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    """model -> {"threshold", "description"} for every model in the `models` table ({} if none)."""
    if not catalog.table_exists(con, "models"):
        return {}
    rows = con.execute("SELECT model, production_threshold, description FROM models ORDER BY model").fetchall()
    return {m: {"threshold": float(t), "description": d or ""} for m, t, d in rows}
