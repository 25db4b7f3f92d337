"""Model alerts for the weekly review, from the per-day score-bin summary (prediction_bins):

- quality: binned ROC AUC per model and segment this week against the four weeks before,
  flagged when it drops by more than 0.02 and more than twice its standard error
  (Hanley & McNeil 1982, from this week's positives and negatives);
- drift: population stability index of the score distribution this week against last week,
  per model and segment, flagged from 0.1 (moderate) and 0.25 (major).

Bins are coarsened to 100 per model in SQL (bin // 100), so the query returns a few thousand rows
whatever the volume of predictions.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb
import numpy as np

from dashboard.metrics import classification as clf
from dashboard.metrics import weekly as wk
from dashboard.metrics.binning import N_BINS
from dashboard.store import catalog

COARSE = 100
MIN_LABELLED = 200  # positives + negatives in a segment-week to judge its AUC
MIN_ROWS_PSI = 500
AUC_DROP = 0.02
BASELINE_WEEKS = 4


def _fetch(con, start: date, end: date):
    return con.execute(
        """SELECT model, segment_column, segment_value,
                  CASE WHEN day >= ? THEN 'this' WHEN day >= ? THEN 'last' ELSE 'before' END AS period,
                  bin // ? AS b, sum(n_pos), sum(n_neg), sum(n_pos + n_neg + n_unlabeled)
           FROM prediction_bins WHERE day BETWEEN ? AND ? GROUP BY ALL""",
        [start, start - timedelta(days=7), _bin_divisor(), start - timedelta(days=7 * BASELINE_WEEKS), end],
    ).fetchall()


def _bin_divisor() -> int:
    """Fine bins per coarse bin, so bin // divisor < COARSE."""
    return -(-(N_BINS + 1) // COARSE)


def _arrays(rows) -> dict:
    """(model, column, value, period) -> (pos, neg, all) per coarse bin."""
    out: dict = {}
    for model, col, val, period, b, p, n, total in rows:
        key = (model, col, val, period)
        if key not in out:
            out[key] = np.zeros((3, COARSE + 1))
        out[key][:, int(b)] += (p, n, total)
    return out


def _auc_se(auc: float, n_pos: float, n_neg: float) -> float:
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


def _slice_name(col: str, val: str) -> str:
    return "all traffic" if col == "" else f"{col}={val}"


def model_alerts(con: duckdb.DuckDBPyConnection, start: date, end: date) -> list[dict]:
    if not catalog.table_exists(con, "prediction_bins"):
        return []
    arrays = _arrays(_fetch(con, start, end))
    alerts = []
    slices = sorted({k[:3] for k in arrays if k[3] == "this"})
    for model, col, val in slices:
        this = arrays[(model, col, val, "this")]
        before = sum((arrays[k] for k in ((model, col, val, "last"), (model, col, val, "before")) if k in arrays),
                     np.zeros_like(this))
        alerts += _quality(model, col, val, this, before)
        last = arrays.get((model, col, val, "last"))
        if last is not None:
            alerts += _drift(model, col, val, last, this)
    return sorted(alerts, key=lambda a: (a["severity"] != "high", -a.get("size", 0)))


def _quality(model, col, val, this, before) -> list[dict]:
    if this[0].sum() + this[1].sum() < MIN_LABELLED or before[0].sum() + before[1].sum() < MIN_LABELLED:
        return []
    now, then = clf.binned_roc_auc(this[0], this[1]), clf.binned_roc_auc(before[0], before[1])
    if now is None or then is None:
        return []
    se = _auc_se(now, this[0].sum(), this[1].sum())
    drop = then - now
    if drop <= AUC_DROP or drop <= 2 * se:
        return []
    return [{"kind": "model quality", "severity": "high" if drop > 2 * AUC_DROP else "medium",
             "title": f"{model}: AUC fell {drop:.3f} for {_slice_name(col, val)}",
             "detail": f"ROC AUC {now:.3f} this week against {then:.3f} over the {BASELINE_WEEKS} weeks before "
                       f"(± {2 * se:.3f} at two standard errors; {int(this[0].sum()):,} positives, "
                       f"{int(this[1].sum()):,} negatives this week).",
             "page": "thresholds.py", "link_label": "Thresholds", "size": drop}]


def _drift(model, col, val, last, this) -> list[dict]:
    if this[2].sum() < MIN_ROWS_PSI or last[2].sum() < MIN_ROWS_PSI:
        return []
    value = wk.psi(last[2], this[2])
    if value is None or value < wk.PSI_MODERATE:
        return []
    return [{"kind": "score drift", "severity": "high" if value > wk.PSI_MAJOR else "medium",
             "title": f"{model}: score distribution shifted for {_slice_name(col, val)} (PSI {value:.2f})",
             "detail": f"Population stability index {value:.2f} against last week ({wk.psi_reading(value)}; "
                       f"< 0.1 stable, > 0.25 major), over deciles of last week's scores; "
                       f"{int(this[2].sum()):,} predictions this week.",
             "page": "thresholds.py", "link_label": "Thresholds", "size": value}]
