"""The app's access to the store: one read-only connection per process, cached service calls.

Services take a DuckDB cursor first; `call(fn, *args)` runs one with caching keyed on the
database path and its data version, so a reload of the data invalidates every cached result.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

import duckdb
import streamlit as st

from dashboard.paths import default_db
from dashboard.store import catalog
from dashboard.store.connection import connect


def db_path() -> Path:
    return default_db().resolve()


@st.cache_resource(show_spinner=False)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    return connect(path, read_only=True)


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the shared connection (connections are not thread-safe; cursors are cheap)."""
    return _connection(str(db_path())).cursor()


def release() -> None:
    """Close the shared connection (before a write from the app) so DuckDB's file lock is free."""
    _connection.clear()
    st.cache_data.clear()


def data_version() -> int:
    return catalog.data_version(cursor())


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(cursor, *args, **kwargs), cached per (function, arguments, database, data version)."""
    return _cached(fn.__module__, fn.__qualname__, str(db_path()), data_version(), args,
                   tuple(sorted(kwargs.items())))


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(module: str, qualname: str, path: str, version: int, args: tuple, kwargs: tuple) -> Any:
    fn: Any = importlib.import_module(module)
    for part in qualname.split("."):
        fn = getattr(fn, part)
    return fn(_connection(path).cursor(), *args, **dict(kwargs))
