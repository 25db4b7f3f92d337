"""Identifier quoting. Only names that already passed schema.IDENTIFIER reach here."""

from __future__ import annotations

from dashboard.store.schema import IDENTIFIER


def ident(name: str) -> str:
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a valid column name: {name!r}")
    return '"' + name + '"'


def placeholders(n: int) -> str:
    return ", ".join("?" * n)
