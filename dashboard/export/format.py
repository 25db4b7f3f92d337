"""Number formatting shared by the weekly page and its exported reports."""

from __future__ import annotations


def pct(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:+.{digits}%}"


def value(v: float | None) -> str:
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def z(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.1f}"
