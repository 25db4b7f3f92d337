"""The app's access to the store: cached service calls on short-lived read-only connections.

Services take a DuckDB connection first; `call(fn, *args)` runs one with caching keyed on the
database path and its version (the file's size and modification time), so a load from the CLI
or the Data page invalidates every cached result. Connections are opened only on a cache miss
and closed right after, so `python -m dashboard ingest` can write while the app is open.
"""

from __future__ import annotations

import importlib
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import streamlit as st

from dashboard.paths import default_db
from dashboard.store.connection import connect

BUSY_RETRY_SECONDS = 5.0


def db_path() -> Path:
    return default_db().resolve()


def data_version() -> tuple:
    """Changes whenever the database (or its write-ahead log) is written."""
    parts = []
    for suffix in ("", ".wal"):
        try:
            stat = Path(str(db_path()) + suffix).stat()
            parts.append((stat.st_mtime_ns, stat.st_size))
        except FileNotFoundError:
            parts.append((0, 0))
    return tuple(parts)


@contextmanager
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; waits briefly if a load is writing the file."""
    deadline = time.monotonic() + BUSY_RETRY_SECONDS
    while True:
        try:
            con = connect(db_path(), read_only=True)
            break
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise RuntimeError("the database is being written by a load; try again in a moment") from None
            time.sleep(0.2)
    try:
        yield con
    finally:
        con.close()


def release() -> None:
    """Forget cached results (after a write from the app)."""
    st.cache_data.clear()


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(con, *args, **kwargs), cached per (function, arguments, database, data version)."""
    return _cached(fn.__module__, fn.__qualname__, str(db_path()), data_version(), args,
                   tuple(sorted(kwargs.items())))


def call_kept(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """call(), also kept on disk across restarts and sessions: for results that are costly and
    depend only on stored data (the key holds the data version, so a load invalidates them)."""
    return _kept(fn.__module__, fn.__qualname__, str(db_path()), data_version(), args,
                 tuple(sorted(kwargs.items())))


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(module: str, qualname: str, path: str, version: tuple, args: tuple, kwargs: tuple) -> Any:
    fn: Any = importlib.import_module(module)
    for part in qualname.split("."):
        fn = getattr(fn, part)
    with connection() as con:
        return fn(con, *args, **dict(kwargs))


@st.cache_data(show_spinner=False, max_entries=256, persist="disk")
def _kept(module: str, qualname: str, path: str, version: tuple, args: tuple, kwargs: tuple) -> Any:
    return _cached(module, qualname, path, version, args, kwargs)
