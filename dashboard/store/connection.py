"""Opening the store. One connection per process; use .cursor() per query in threads."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dashboard.store.schema import META_DDL


def connect(db_path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(db_path)
    if read_only:
        if not path.exists():
            raise FileNotFoundError(f"no database at {path}; run `python -m dashboard demo` or ingest")
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for ddl in META_DDL:
        con.execute(ddl)
    return con
