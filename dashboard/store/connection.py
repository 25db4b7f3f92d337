"""Opening the store. One connection per process; use .cursor() per query in threads.

`DASHBOARD_DUCKDB_MEMORY_LIMIT` (e.g. `512MB`, `2GB`) caps DuckDB's memory in every connection the
dashboard opens; builds then spill to disk instead of growing (see README, Measured speed).
Unset, DuckDB's own default applies (80% of RAM).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from dashboard.store.schema import META_DDL

MEMORY_LIMIT_ENV = "DASHBOARD_DUCKDB_MEMORY_LIMIT"
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def memory_limit() -> str | None:
    """The configured DuckDB memory limit, checked; None when unset."""
    value = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not value:
        return None
    if not _SIZE.match(value):
        raise ValueError(f"{MEMORY_LIMIT_ENV}={value!r}: expected a size such as 512MB or 2GB")
    return value


def configure(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Apply the dashboard's DuckDB settings to a connection (the value is checked above)."""
    limit = memory_limit()
    if limit:
        con.execute(f"SET memory_limit = '{limit}'")
    return con


def connect(db_path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(db_path)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"no database at {path}; run `python -m dashboard demo` or ingest")
        return configure(duckdb.connect(str(path), read_only=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    con = configure(duckdb.connect(str(path)))
    for ddl in META_DDL:
        con.execute(ddl)
    return con
