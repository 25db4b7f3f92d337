"""Weekly series of the daily metrics and each metric's verdict for a week: the one place the
Weekly review, the Metric tree over a period and `report weekly` get a week's verdict from.

The maths is dashboard.metrics.week_verdict; this module reads ISO-week means of the overall
daily series (a few hundred rows) from DuckDB.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np

from dashboard.metrics import week_verdict as wv
from dashboard.metrics import weekly as wk
from dashboard.store import catalog
from dashboard.store.sqlutil import ident

PERIOD_WEEKS = (1, 2, 4)


def history_weeks(weeks: int) -> int:
    """Weeks of data a verdict can use: a year back for the baseline, a year of past surprises."""
    return wv.SEASON_WEEKS + wv.REFERENCE_WEEKS + 2 * weeks


def available_weeks(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Complete ISO weeks of the daily series, newest first."""
    if not catalog.table_exists(con, "daily_metrics"):
        return []
    lo, hi = con.execute("SELECT min(date), max(date) FROM daily_metrics").fetchone()
    if lo is None:
        return []
    last = wk.week_start(wk.last_complete_week(hi))
    first = lo - timedelta(days=lo.weekday())
    out, d = [], last
    while d >= first:
        out.append(wk.week_label(d))
        d -= timedelta(days=7)
    return out


def weekly_values(con: duckdb.DuckDBPyConnection, end: date, weeks: int) -> tuple[list[date], dict[str, np.ndarray]]:
    """Mean daily value per metric and ISO week, for `weeks` weeks up to the week ending `end`
    (a Sunday). A week missing any day is NaN: its weekday mix would bias the mean."""
    seg = catalog.segment_columns(con, "daily_metrics")
    overall = " AND ".join(f"{ident(c)} IS NULL" for c in seg) or "TRUE"
    start = end - timedelta(days=7 * weeks - 1)
    rows = con.execute(
        f"""SELECT metric, CAST(date_trunc('week', date) AS DATE) AS week, avg(value), count(DISTINCT date)
            FROM daily_metrics WHERE date BETWEEN ? AND ? AND {overall} GROUP BY ALL""",
        [start, end]).fetchall()
    starts = [start + timedelta(days=7 * i) for i in range(weeks)]
    index = {d: i for i, d in enumerate(starts)}
    out: dict[str, np.ndarray] = {}
    for metric, week, value, days in rows:
        out.setdefault(metric, np.full(weeks, np.nan))[index[week]] = value if days == 7 else np.nan
    return starts, out


def week_end(week: str) -> date:
    return wk.week_start(week) + timedelta(days=6)


def window(week: str, weeks: int) -> dict:
    """The compared dates: the `weeks` weeks ending with `week` against the `weeks` before."""
    end = week_end(week)
    cur_start = end - timedelta(days=7 * weeks - 1)
    prev_end = cur_start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=7 * weeks - 1)
    return {"week": week, "weeks": weeks, "end": end.isoformat(), "cur_start": cur_start.isoformat(),
            "prev_end": prev_end.isoformat(), "prev_start": prev_start.isoformat()}


def metric_verdicts(con: duckdb.DuckDBPyConnection, week: str, weeks: int = 1,
                    signs: dict[str, int] | None = None) -> dict[str, dict]:
    """metric -> {verdict (wv.Verdict), value, previous}: the `weeks` weeks ending with `week`
    against the weeks before. signs: +1 higher is better, -1 lower, missing = 0 (no direction)."""
    if weeks not in PERIOD_WEEKS:
        raise ValueError(f"a period is {', '.join(map(str, PERIOD_WEEKS))} weeks, not {weeks}")
    if not catalog.table_exists(con, "daily_metrics"):
        return {}
    signs = signs or {}
    n = history_weeks(weeks)
    _, series = weekly_values(con, week_end(week), n)
    out = {}
    for metric, values in series.items():
        block = wv.block_means(values[None, :], weeks)[0]
        out[metric] = {
            "verdict": wv.period_verdict(values, n - 1, weeks, signs.get(metric, 0)),
            "value": _num(block[n - 1]), "previous": _num(block[n - 1 - weeks]),
        }
    return out


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None
