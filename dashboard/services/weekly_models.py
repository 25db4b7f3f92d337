"""Model alerts for the weekly review, from the per-day score-bin summary (prediction_bins):

- quality: binned ROC AUC per model and segment this week against the four weeks before,
  flagged when it drops by more than 0.02 and more than twice its standard error
  (Hanley & McNeil 1982, from this week's positives and negatives);
- drift: population stability index of the score distribution this week against last week and
  against a fixed baseline (default: each model's first 4 weeks of predictions), per model and
  segment, flagged from 0.1 (moderate) and 0.25 (major). The ten groups are quantiles of the
  reference taken on the fine score bins in SQL (dashboard.metrics.weekly.quantile_groups), so a
  fraud model whose scores sit near 0 still gets ten groups; the query returns at most ten rows a
  model, segment and period.

For AUC, bins are coarsened to 100 per model in SQL (bin // 100): a few thousand rows whatever the
volume of predictions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
BASELINE_WEEKS = 4  # AUC: this week against the 4 weeks before
DRIFT_BASELINE_DAYS = 28  # default fixed drift reference: a model's first 4 weeks


@dataclass(frozen=True)
class DriftBaseline:
    """The fixed reference window of score drift: explicit dates, or each model's first `days`."""

    start: date | None = None
    end: date | None = None
    days: int = DRIFT_BASELINE_DAYS

    def describe(self) -> str:
        if self.start is not None:
            return f"{self.start.isoformat()}..{self.end.isoformat()}"
        return f"the model's first {self.days // 7} weeks"


# Quantile groups of a reference period on the fine bins, then every period's count per group.
# $ref_lo/$ref_hi: the reference dates (NULL: each model's first $days days); $g groups.
_DRIFT_SQL = """
WITH first_day AS (SELECT model, min(day) AS d0 FROM prediction_bins GROUP BY model),
ref AS (
    SELECT p.model, p.segment_column, p.segment_value, p.bin, sum(p.n_pos + p.n_neg + p.n_unlabeled) AS n
    FROM prediction_bins p JOIN first_day f USING (model)
    WHERE p.day BETWEEN coalesce(CAST($ref_lo AS DATE), f.d0)
                    AND coalesce(CAST($ref_hi AS DATE), f.d0 + CAST($days - 1 AS INTEGER))
    GROUP BY ALL),
grouped AS (
    SELECT model, segment_column, segment_value, bin,
           greatest(0, least($g - 1, ($g * sum(n) OVER w + sum(n) OVER s - 1) // sum(n) OVER s - 1)) AS grp
    FROM ref
    WINDOW s AS (PARTITION BY model, segment_column, segment_value),
           w AS (PARTITION BY model, segment_column, segment_value ORDER BY bin ROWS UNBOUNDED PRECEDING)),
edges AS (
    SELECT model, segment_column, segment_value, grp, min(bin) AS lo FROM grouped GROUP BY ALL),
ranges AS (
    SELECT model, segment_column, segment_value, grp,
           CASE WHEN grp = min(grp) OVER s THEN -1 ELSE lo END AS lo,
           coalesce(lead(lo) OVER (PARTITION BY model, segment_column, segment_value ORDER BY grp), 2147483647) AS hi
    FROM edges WINDOW s AS (PARTITION BY model, segment_column, segment_value)),
counts AS (
    SELECT model, segment_column, segment_value, bin, 'this' AS period, sum(n_pos + n_neg + n_unlabeled) AS n
    FROM prediction_bins WHERE day BETWEEN $this_lo AND $this_hi GROUP BY ALL
    UNION ALL
    SELECT model, segment_column, segment_value, bin, 'reference', n FROM ref)
SELECT c.model, c.segment_column, c.segment_value, r.grp, c.period, sum(c.n)
FROM counts c JOIN ranges r
  ON c.model = r.model AND c.segment_column = r.segment_column AND c.segment_value = r.segment_value
 AND c.bin >= r.lo AND c.bin < r.hi
GROUP BY ALL
"""


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


def drift_counts(con: duckdb.DuckDBPyConnection, start: date, end: date, ref_lo: date | None,
                 ref_hi: date | None, days: int = DRIFT_BASELINE_DAYS) -> dict:
    """(model, column, value) -> (reference, this) counts per quantile group of the reference."""
    rows = con.execute(_DRIFT_SQL, {"this_lo": start, "this_hi": end, "ref_lo": ref_lo, "ref_hi": ref_hi,
                                    "days": days, "g": wk.PSI_GROUPS}).fetchall()
    out: dict = {}
    for model, col, val, grp, period, n in rows:
        pair = out.setdefault((model, col, val), np.zeros((2, wk.PSI_GROUPS)))
        pair[0 if period == "reference" else 1, int(grp)] += n
    return out


def score_drift(con: duckdb.DuckDBPyConnection, start: date, end: date,
                baseline: DriftBaseline | None = None) -> dict:
    """(model, column, value) -> PSI of the week [start, end] against last week and the baseline,
    with the prediction counts each rests on."""
    baseline = baseline or DriftBaseline()
    last = drift_counts(con, start, end, start - timedelta(days=7), start - timedelta(days=1))
    base = drift_counts(con, start, end, baseline.start, baseline.end, baseline.days)
    out = {}
    for key in sorted(set(last) | set(base)):
        entry = {}
        for name, counts in (("last", last.get(key)), ("baseline", base.get(key))):
            ref, this = counts if counts is not None else (np.zeros(1), np.zeros(1))
            entry[name] = wk.psi_from_groups(ref, this) if ref.sum() >= MIN_ROWS_PSI else None
            entry[f"n_{name}"] = int(ref.sum())
            entry["n_this"] = max(entry.get("n_this", 0), int(this.sum()))
        out[key] = entry
    return out


def model_alerts(con: duckdb.DuckDBPyConnection, start: date, end: date,
                 baseline: DriftBaseline | None = None) -> list[dict]:
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
    baseline = baseline or DriftBaseline()
    for (model, col, val), d in score_drift(con, start, end, baseline).items():
        alerts += _drift(model, col, val, d, baseline)
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
             "size": drop, "model": model, "segment_column": col, "segment_value": val,
             "subject": f"{model} · {_slice_name(col, val)}"}]


def _drift(model, col, val, d: dict, baseline: DriftBaseline) -> list[dict]:
    if d["n_this"] < MIN_ROWS_PSI:
        return []
    values = [v for v in (d["last"], d["baseline"]) if v is not None]
    if not values or max(values) < wk.PSI_MODERATE:
        return []
    size = max(values)

    def text(v):
        return "n/a" if v is None else f"{v:.2f} ({wk.psi_reading(v)})"

    return [{"kind": "score drift", "severity": "high" if size > wk.PSI_MAJOR else "medium",
             "title": f"{model}: score distribution shifted for {_slice_name(col, val)} (PSI {size:.2f})",
             "detail": f"Population stability index against last week {text(d['last'])}, against the baseline "
                       f"({baseline.describe()}) {text(d['baseline'])}; < 0.1 stable, > 0.25 major; over ten "
                       f"quantile groups of the reference's scores; {d['n_this']:,} predictions this week.",
             "size": size, "model": model, "segment_column": col, "segment_value": val,
             "subject": f"{model} · {_slice_name(col, val)}",
             "psi_last": d["last"], "psi_baseline": d["baseline"]}]
