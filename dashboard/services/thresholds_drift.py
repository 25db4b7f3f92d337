"""Score drift on the Thresholds page: one model and segment, week by week, from prediction_bins.

Two queries of counts: per ISO week x fine bin, and per fine bin over the baseline window (by
default the model's first 28 days, as the Weekly review's drift alerts). The maths is
`dashboard.metrics.score_drift` (PSI by `dashboard.metrics.weekly.psi`), so the page shows the
numbers an alert quoted.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np

from dashboard.metrics import score_drift
from dashboard.metrics import weekly as wk
from dashboard.metrics.binning import N_BINS, bin_edges
from dashboard.services.weekly_models import DRIFT_BASELINE_DAYS, MIN_ROWS_PSI, DriftBaseline


def link_params(model: str, segment_column: str, segment_value: str, week: str) -> dict[str, str]:
    """URL parameters that open the drift view on this model, segment and ISO week (the Weekly
    review's drift alerts link with them, through dashboard.ui.state.link_params)."""
    return {"thr.model": model, "thr.focus": f"{segment_column}={segment_value}" if segment_column else "",
            "thr.view": "drift", "thr.week": week}


def drift(con: duckdb.DuckDBPyConnection, model: str, segment_column: str = "", segment_value: str = "",
          baseline: DriftBaseline | None = None, threshold: float | None = None) -> dict:
    """Weekly drift rows (see score_drift.weekly_drift), the weekly and baseline counts for the
    chart, and the baseline window actually used."""
    baseline = baseline or DriftBaseline()
    lo, hi = con.execute("SELECT lo, hi FROM model_score_range WHERE model = ?", [model]).fetchone() or (0.0, 1.0)
    edges = bin_edges(lo, hi)
    first, last = con.execute("SELECT min(day), max(day) FROM prediction_bins WHERE model = ?", [model]).fetchone()
    if first is None:
        return {"weeks": [], "rows": [], "available": False,
                "reason": f"{model} has no timestamps (`ts`): its scores cannot be split by week"}
    where = "model = ? AND segment_column = ? AND segment_value = ?"
    params = [model, segment_column, segment_value]
    rows = con.execute(
        f"SELECT CAST(date_trunc('week', day) AS DATE) AS monday, bin, sum(n_pos + n_neg + n_unlabeled) "
        f"FROM prediction_bins WHERE {where} AND day IS NOT NULL GROUP BY ALL ORDER BY monday", params).fetchnumpy()
    mondays = sorted({d for d in rows["monday"].tolist()})
    weeks = [wk.week_label(_as_date(d)) for d in mondays]
    index = {d: k for k, d in enumerate(mondays)}
    counts = np.zeros((len(weeks), N_BINS + 1))
    keys = list(rows)
    for d, b, n in zip(rows["monday"].tolist(), rows["bin"], rows[keys[2]]):
        counts[index[d], int(b)] += float(n)
    b_lo = baseline.start or first
    b_hi = baseline.end or (first + timedelta(days=baseline.days - 1))
    base = con.execute(
        f"SELECT bin, sum(n_pos + n_neg + n_unlabeled) FROM prediction_bins WHERE {where} "
        "AND day BETWEEN ? AND ? GROUP BY bin", params + [b_lo, b_hi]).fetchall()
    reference = np.zeros(N_BINS + 1)
    for b, n in base:
        reference[int(b)] = float(n)
    t_index = None if threshold is None else int(np.clip(np.searchsorted(edges, threshold, side="left"), 0, N_BINS + 1))
    return {"available": True, "weeks": weeks, "week_counts": counts, "baseline_counts": reference,
            "edges": edges, "baseline": (b_lo, b_hi), "first_day": first, "last_day": last,
            "default_week": _default_week(weeks, last),
            "rows": score_drift.weekly_drift(weeks, counts, reference, edges, t_index, MIN_ROWS_PSI)}


def _default_week(weeks: list[str], last_day: date) -> str | None:
    if not weeks:
        return None
    complete = wk.last_complete_week(last_day)
    return complete if complete in weeks else weeks[-1]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


__all__ = ["drift", "link_params", "DriftBaseline", "DRIFT_BASELINE_DAYS"]
