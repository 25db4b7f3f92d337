"""The app's access to the store: cached service calls on short-lived read-only connections.

Services take a DuckDB connection first; `call(fn, *args)` runs one with caching keyed on the
database path and its version (the file's size and modification time), so a load from the CLI
or the Data page invalidates every cached result. Connections are opened only on a cache miss
and closed right after, so `python -m dashboard ingest` can write while the app is open.
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import streamlit as st

from dashboard.paths import default_db
from dashboard.store.connection import StoreBusy, connect

# A load holds the file for its whole transaction (a 10M-row file: ~15-30 s): a page waits that long
# for it to commit, then reads the new data.
BUSY_RETRY_SECONDS = 90.0
UPLOADS_ENV = "DASHBOARD_ALLOW_UPLOADS"  # set by `serve --allow-uploads`


def uploads_allowed() -> bool:
    """Loading (and --replace) from the browser is off unless the server was started to allow it."""
    return os.environ.get(UPLOADS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


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
    """A read-only connection, held for one service call; waits (bounded) while a load is writing."""
    deadline = time.monotonic() + BUSY_RETRY_SECONDS
    while True:
        try:
            con = connect(db_path(), read_only=True)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() > deadline:
                raise StoreBusy("a load is still writing the database") from None
            time.sleep(0.1)
    try:
        yield con
    finally:
        con.close()


def release() -> None:
    """Forget cached results (after a write from the app)."""
    st.cache_data.clear()


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(con, *args, **kwargs), cached per (function, arguments, database, data version). When a load
    keeps the database locked past the wait, the page says so and stops (no traceback)."""
    try:
        return _cached(fn.__module__, fn.__qualname__, str(db_path()), data_version(), args,
                       tuple(sorted(kwargs.items())))
    except StoreBusy:
        _busy()


def _busy() -> None:
    st.info(f"A load is still being written to the database after {BUSY_RETRY_SECONDS:.0f} s; this page "
            "shows the new data once it commits. Reload the page in a moment.", icon=":material/hourglass:")
    st.stop()


def call_kept(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """call(), also kept on disk across restarts and sessions: for results that are costly and
    depend only on stored data and the metric tree file (the key holds both versions, so a load or
    an edit of the tree invalidates them)."""
    from dashboard.services.tree import tree_file_version  # here: it imports scipy, which not every page needs

    try:
        return _kept(fn.__module__, fn.__qualname__, str(db_path()), (data_version(), tree_file_version()), args,
                     tuple(sorted(kwargs.items())))
    except StoreBusy:
        _busy()


# Decorating before the server's runtime exists (`serve` checking options, the launcher warming up)
# logs "No runtime found, using MemoryCacheStorageManager" per cache: harmless (each call looks the
# storage up again, the server's once it runs) but alarming in a user's terminal.
logging.getLogger("streamlit.runtime.caching.cache_data_api").addFilter(
    lambda record: "No runtime found" not in record.getMessage())


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
