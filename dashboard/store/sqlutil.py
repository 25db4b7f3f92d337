"""Identifier quoting. Only names that already passed schema.IDENTIFIER reach here."""

from __future__ import annotations

from dashboard.store.schema import IDENTIFIER


def ident(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a valid column name: {name!r}")
    return '"' + name + '"'


def placeholders(n: int) -> str:
    return ", ".join("?" * n)


def finish_pending(con) -> None:
    """DuckDB 2 refuses register() while a fetchone() result is open; drop it (no-op before 2.0)."""
    abort = getattr(con, "abort", None)
    if abort is not None:
        abort()
