"""One way to write numbers, for pages, reports and exports (no Streamlit, no I/O).

A metric's unit comes from the metric tree (`unit:` of a node): "share of ..." or "%" is a rate
shown as a percentage, "$"/"€"/"£" is money with its symbol, "ms"/"s"/"min" a duration with its
unit, "users"/"orders"/... a count with thousands separators; no unit is a plain score (NDCG,
AUC). Nothing is ever written in scientific notation; p- and q-values below 0.001 read
"< 0.001"; every interval is "[low, high]".

    value(0.4591, "share of users") -> "45.9%"      value(2.512, "$") -> "$2.51"
    value(191.4, "ms")              -> "191 ms"     value(379115, "users") -> "379,115"
    change(-0.0183)                 -> "-1.8%"      p_value(1.1e-45) -> "< 0.001"
    interval(-0.003, 0.027, change) -> "[-0.3%, +2.7%]"
"""

from __future__ import annotations

import math
from typing import Callable, Literal

Kind = Literal["rate", "money", "duration", "count", "score"]
NA = "n/a"
MONEY = ("$", "€", "£", "¥")
DURATIONS = ("ms", "s", "sec", "min", "h", "hours", "days")


def unit_kind(unit: str | None) -> Kind:
    """How a tree unit is written: 'share of users' -> rate, '$' -> money, 'ms' -> duration..."""
    u = (unit or "").strip().lower()
    if not u:
        return "score"
    if u.startswith(("share", "rate", "fraction", "proportion")) or u in ("%", "percent"):
        return "rate"
    if u in MONEY or u in ("usd", "eur", "gbp"):
        return "money"
    if u in DURATIONS:
        return "duration"
    return "count"


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def number(v: float | None, digits: int = 3) -> str:
    """A plain number, never scientific: thousands separated from 1,000, else `digits` significant
    digits (0.000123, 0.412, 2.51, 191)."""
    if _missing(v):
        return NA
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a == 0:
        return "0"
    decimals = min(6, max(0, digits - 1 - math.floor(math.log10(a))))
    text = f"{v:.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("0", "-0") else text


def score(v: float | None, decimals: int = 3) -> str:
    """A model score or metric in [0, 1] (NDCG, AUC, precision as a score): 0.412."""
    if _missing(v):
        return NA
    return f"{v:.{decimals}f}" if abs(v) >= 10 ** -decimals or v == 0 else number(v)


def percent(v: float | None, signed: bool = False, digits: int = 3) -> str:
    """A rate as a percentage with `digits` significant digits and at least one decimal:
    45.9%, 1.02%, 0.145%, 100.0%."""
    if _missing(v):
        return NA
    p = v * 100
    a = abs(p)
    decimals = 1 if a == 0 else min(4, max(1, digits - 1 - math.floor(math.log10(a))))
    return f"{p:{'+' if signed else ''}.{decimals}f}%"


def change(v: float | None) -> str:
    """A relative change, signed, two significant digits below 10%: +1.8%, -0.66%, +12.3%."""
    return percent(v, signed=True, digits=2)


def count(v: float | int | None) -> str:
    if _missing(v):
        return NA
    return f"{round(v):,}"


def money(v: float | None, symbol: str = "$", signed: bool = False) -> str:
    """$2.51, $1,234, -$0.40 (cents below 1,000, whole units above)."""
    if _missing(v):
        return NA
    sign = "-" if v < 0 else ("+" if signed and v > 0 else "")
    a = abs(v)
    body = f"{a:,.0f}" if a >= 1000 else f"{a:,.2f}"
    return f"{sign}{symbol}{body}"


def duration(v: float | None, unit: str = "ms", signed: bool = False) -> str:
    """191 ms, 4.3 min."""
    if _missing(v):
        return NA
    text = number(v)
    if signed and v > 0:
        text = "+" + text
    return f"{text} {unit}"


def value(v: float | None, unit: str | None = "") -> str:
    """A metric's value in the unit its tree node declares."""
    kind = unit_kind(unit)
    u = (unit or "").strip()
    if kind == "rate":
        return percent(v)
    if kind == "money":
        return money(v, u)
    if kind == "duration":
        return duration(v, u)
    if kind == "count":
        return count(v) if _missing(v) or abs(v) >= 100 else number(v)
    return number(v) if not _missing(v) and abs(v) >= 10 else score(v)


def delta(v: float | None, unit: str | None = "") -> str:
    """An absolute change in the metric's unit, signed: rates in percentage points (+0.40 pp),
    money and durations with their unit."""
    if _missing(v):
        return NA
    kind = unit_kind(unit)
    u = (unit or "").strip()
    if kind == "rate":
        return f"{v * 100:+.2f} pp"
    if kind == "money":
        return money(v, u, signed=True)
    if kind == "duration":
        return duration(v, u, signed=True)
    text = number(v)
    return text if v <= 0 else "+" + text


def p_value(p: float | None) -> str:
    """p or q for a reader: '< 0.001', '0.043', '1.000'."""
    if _missing(p):
        return NA
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_is(p: float | None, name: str = "p") -> str:
    """'p < 0.001' or 'p = 0.043' (or 'q ...') for a sentence."""
    text = p_value(p)
    return f"{name} {text}" if text.startswith("<") else f"{name} = {text}"


def z(v: float | None) -> str:
    return NA if _missing(v) else f"{v:+.1f}"


def interval(lo: float | None, hi: float | None, fmt: Callable[[float], str] = number) -> str:
    """The one interval style: [low, high], each end written by `fmt`."""
    if _missing(lo) or _missing(hi):
        return NA
    return f"[{fmt(lo)}, {fmt(hi)}]"


def with_interval(v: float | None, lo: float | None, hi: float | None,
                  fmt: Callable[[float], str] = number) -> str:
    """'+1.2% [-0.3%, +2.7%]'; the bare value when the interval is unknown."""
    if _missing(v):
        return NA
    ci = interval(lo, hi, fmt)
    return fmt(v) if ci == NA else f"{fmt(v)} {ci}"


def axis(unit: str | None = "") -> dict:
    """Plotly axis settings writing ticks the same way (d3 formats; no SI suffixes like 'm', 'µ')."""
    kind = unit_kind(unit)
    u = (unit or "").strip()
    if kind == "rate":
        return {"tickformat": ".1%"}
    if kind == "money":
        return {"tickformat": ",.2f", "tickprefix": u}
    if kind == "duration":
        return {"tickformat": ",~r", "ticksuffix": f" {u}"}
    if kind == "count":
        return {"tickformat": ",~r"}
    return {"tickformat": ",~r"}


def hover(unit: str | None = "") -> str:
    """Plotly hover placeholder format for a value in `unit` ('%{y:.2%}' style, without the name)."""
    kind = unit_kind(unit)
    if kind == "rate":
        return ":.2%"
    if kind == "money":
        return ":,.2f"
    if kind == "duration":
        return ":,.1f"
    return ":,.4~r"


def unit_label(unit: str | None) -> str:
    """The unit as an axis title suffix: 'share of users' -> '%', '$' -> '$', 'ms' -> 'ms'."""
    kind = unit_kind(unit)
    return "%" if kind == "rate" else (unit or "").strip()
