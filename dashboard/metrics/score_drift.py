"""Score drift of one model and segment, week by week, from its stored score bins. Pure numpy.

Input: prediction counts per ISO week over the model's fine score bins (labelled or not: drift is
about the traffic scored), and the same counts over a fixed baseline window. Per week: its volume,
score quantiles (read off the bins: the lower edge of the bin where the cumulative share crosses
q), the share at or above a threshold, and the population stability index against the week before
and against the baseline, with `dashboard.metrics.weekly.psi` (ten quantile groups of the reference
on the fine bins: the same rule as the Weekly review's drift alerts).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from dashboard.metrics import weekly as wk

QUANTILES = (0.1, 0.5, 0.9)


def quantile_scores(counts: np.ndarray, edges: np.ndarray, qs=QUANTILES) -> list[float | None]:
    """Score quantiles of counts over bins (bin b starts at edges[b]); None when empty."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return [None for _ in qs]
    cum = np.cumsum(counts) / total
    return [float(edges[min(int(np.searchsorted(cum, q, side="left")), len(edges) - 1)]) for q in qs]


def weekly_drift(weeks: list[str], week_counts: np.ndarray, baseline: np.ndarray, edges: np.ndarray,
                 threshold_index: int | None = None, min_rows: int = 500) -> list[dict]:
    """One row per week (weeks sorted, ISO labels like 2026-W47; week_counts[w] its fine-bin counts).

    psi_last: against the immediately preceding ISO week (None when that week has no data);
    psi_baseline: against the baseline counts. A PSI whose reference or week has fewer than
    `min_rows` predictions is None (too few to read). flagged_share: share of the week's
    predictions in bins >= threshold_index.
    """
    week_counts = np.asarray(week_counts, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    rows = []
    for w, label in enumerate(weeks):
        this = week_counts[w]
        n = float(this.sum())
        previous = None
        if w > 0 and wk.week_start(weeks[w - 1]) == wk.week_start(label) - timedelta(days=7):
            previous = week_counts[w - 1]
        p10, p50, p90 = quantile_scores(this, edges)
        rows.append({
            "week": label, "rows": int(n), "p10": p10, "median": p50, "p90": p90,
            "flagged_share": (float(this[threshold_index:].sum()) / n if n and threshold_index is not None
                              else None),
            "psi_last": _psi(previous, this, min_rows),
            "psi_baseline": _psi(baseline, this, min_rows),
        })
    return rows


def _psi(reference: np.ndarray | None, current: np.ndarray, min_rows: int) -> float | None:
    if reference is None or reference.sum() < min_rows or current.sum() < min_rows:
        return None
    return wk.psi(reference, current)
