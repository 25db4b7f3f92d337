"""Kept for the weekly page and export's imports: the formats live in dashboard/format.py."""

from __future__ import annotations

from dashboard.format import change, value, z

__all__ = ["pct", "value", "z"]


def pct(v: float | None, digits: int = 1) -> str:
    """A signed relative change (`digits` is ignored: one format everywhere)."""
    return change(v)
