"""Weekly review statistics: ISO weeks, week-over-week and year-over-year changes, how unusual a
change is, and score drift. Pure numpy, no I/O.

- Weeks are ISO 8601 (Monday to Sunday, labelled `2026-W47`); a week is complete when the data
  reaches its Sunday.
- A metric's weekly value is the mean of its daily values in the week.
- Changes are relative: this week / last week - 1; year over year against the same ISO week
  number one year earlier (52 weeks back, which keeps the weekday mix).
- Whether a change is unusual (the week's verdict) is dashboard.metrics.week_verdict.
- Score drift is the population stability index over deciles of the reference's scores (groups
  of ~equal reference mass taken on the fine score bins, so a fraud model's scores near 0 still
  get their ten groups): PSI = sum((a - e) * ln(a / e)), shares floored at 1e-4 so an empty
  group is finite.
  Conventional reading: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

PSI_EPS = 1e-4
PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
PSI_GROUPS = 10
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def week_label(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(label: str) -> date:
    """Monday of an ISO week label such as 2026-W47; ValueError naming the expected form."""
    m = _WEEK.match(label.strip())
    if not m:
        raise ValueError(f"week {label!r} should look like 2026-W47 (ISO year, 'W', two-digit week)")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"week {label!r} does not exist: {year} has "
                         f"{date(year, 12, 28).isocalendar()[1]} ISO weeks") from None


def last_complete_week(last_day: date) -> str:
    """The latest week whose Sunday is on or before `last_day`."""
    sunday = last_day - timedelta(days=(last_day.weekday() + 1) % 7)
    return week_label(sunday)


@dataclass(frozen=True)
class WeekChange:
    value: float | None
    previous: float | None
    wow: float | None  # relative change against last week
    year_ago: float | None
    yoy: float | None


def relative(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or not np.isfinite(a) or not np.isfinite(b):
        return None
    return a / abs(b) - np.sign(b)


def week_change(weekly: np.ndarray, i: int) -> WeekChange:
    """Change of week i of a weekly series (NaN where a week has no data)."""
    w = np.asarray(weekly, dtype=np.float64)
    value, previous, year_ago = _at(w, i), _at(w, i - 1), _at(w, i - 52)
    return WeekChange(value, previous, relative(value, previous), year_ago, relative(value, year_ago))


def _at(w: np.ndarray, i: int) -> float | None:
    if i < 0 or i >= w.size or not np.isfinite(w[i]):
        return None
    return float(w[i])


def quantile_groups(reference: np.ndarray, n: int = PSI_GROUPS) -> np.ndarray:
    """Group (0..n-1) of every fine bin, so the reference counts fall into n groups of ~equal mass:
    group = ceil(n * cum / total) - 1, cum the reference count up to and including the bin. A bin
    heavier than 1/n of the mass is one group on its own (groups merge, never split a bin); empty
    bins join the group below. The same rule runs in SQL (dashboard.services.weekly_models)."""
    ref = np.asarray(reference, dtype=np.int64)
    cum, total = np.cumsum(ref), int(ref.sum())
    if total <= 0:
        return np.zeros(ref.size, dtype=np.int64)
    return np.clip((n * cum + total - 1) // total - 1, 0, n - 1)


def psi_from_groups(expected: np.ndarray, actual: np.ndarray) -> float | None:
    """PSI = sum((a - e) * ln(a / e)) over groups given as counts; shares floored at PSI_EPS."""
    e, a = np.asarray(expected, dtype=np.float64), np.asarray(actual, dtype=np.float64)
    if e.sum() <= 0 or a.sum() <= 0:
        return None
    e, a = np.maximum(e / e.sum(), PSI_EPS), np.maximum(a / a.sum(), PSI_EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(reference: np.ndarray, current: np.ndarray, n: int = PSI_GROUPS) -> float | None:
    """PSI of `current` against `reference`, both counts over the same fine score bins, grouped
    into n quantile groups of the reference. None when either is empty."""
    ref, cur = np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)
    if ref.sum() <= 0 or cur.sum() <= 0:
        return None
    g = quantile_groups(ref.astype(np.int64), n)
    size = int(g.max()) + 1
    return psi_from_groups(np.bincount(g, ref, size), np.bincount(g, cur, size))


def psi_reading(value: float | None) -> str:
    if value is None:
        return "no data"
    return "major shift" if value > PSI_MAJOR else ("moderate shift" if value >= PSI_MODERATE else "stable")
