"""Opening the store. One connection per process; use .cursor() per query in threads.

`DASHBOARD_DUCKDB_MEMORY_LIMIT` (e.g. `512MB`, `2GB`) caps DuckDB's memory in every connection the
dashboard opens; builds then spill to disk instead of growing (see README, Measured speed).
Unset, DuckDB's own default applies (80% of RAM).
"""

from __future__ import annotations

import os
import re
import time
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


# How long a load waits for readers (the open dashboard: one short query at a time) to let go.
WRITE_WAIT_ENV = "DASHBOARD_WRITE_WAIT_SECONDS"
WRITE_WAIT_SECONDS = 60.0


class StoreBusy(RuntimeError):
    """The database stayed locked by another process for longer than the wait allowed."""


def _locked(exc: duckdb.Error) -> bool:
    """Another process's lock, or a read-only connection of this process (the app's own readers:
    DuckDB refuses a second configuration of an open file)."""
    text = str(exc).lower()
    return "lock" in text or "different configuration" in text


def write_wait_seconds() -> float:
    raw = os.environ.get(WRITE_WAIT_ENV, "").strip()
    try:
        return max(0.0, float(raw)) if raw else WRITE_WAIT_SECONDS
    except ValueError:
        return WRITE_WAIT_SECONDS


def connect_for_write(db_path: Path | str, wait_seconds: float | None = None,
                      on_wait=None) -> duckdb.DuckDBPyConnection:
    """A write connection, waiting (bounded) while another process holds the file: the app's
    readers hold it for one query at a time, another load for its whole transaction.
    `on_wait(message)` is called once when waiting starts (the CLI prints it)."""
    wait = write_wait_seconds() if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            return connect(db_path)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _locked(exc):
                raise
            if time.monotonic() >= deadline:
                raise StoreBusy(f"{Path(db_path).name} is still in use by another process after {wait:.0f} s "
                                "(another load, or a program holding it open); nothing was loaded. Try again "
                                f"when it is done, or wait longer with {WRITE_WAIT_ENV}.") from None
            if not told and on_wait is not None:
                on_wait(f"{Path(db_path).name} is in use by another process; waiting up to {wait:.0f} s...")
                told = True
            time.sleep(0.1)
