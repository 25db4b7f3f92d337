"""Model alerts for the weekly review, from the per-day score-bin summary (prediction_bins):

- quality: ROC AUC per model and segment this week against the four weeks before, on the fine
  score bins (dashboard.metrics.auc_change: exact up to ties within 1/10,000 of the score range),
  flagged when it drops by more than 0.02 *and* the drop is significant at one-sided 1% (DeLong
  variances of both periods), judged only with >= 30 positives and 30 negatives in each period:
  under no change about 1% of model-segment-weeks alert;
- drift: population stability index of the score distribution this week against last week and
  against a fixed baseline (default: each model's first 4 weeks of predictions), per model and
  segment, flagged from 0.1 (moderate) and 0.25 (major). The ten groups are quantiles of the
  reference taken on the fine score bins in SQL (dashboard.metrics.weekly.quantile_groups), so a
  fraud model whose scores sit near 0 still gets ten groups; the query returns at most ten rows a
  model, segment and period.

For AUC, SQL returns five sums per model, segment and period (a window over the fine bins), never
the bins themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np

from dashboard.metrics import auc_change as ac
from dashboard.metrics import weekly as wk
from dashboard.store import catalog

MIN_ROWS_PSI = 500
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


# Per model, segment and period ('this' week, 'before' = the BASELINE_WEEKS weeks before): the label
# counts and DeLong's placement sums over the fine bins (dashboard.metrics.auc_change.auc_sums).
_AUC_SQL = """
WITH b AS (
    SELECT model, segment_column, segment_value, CASE WHEN day >= $this_lo THEN 'this' ELSE 'before' END AS period,
           bin, sum(n_pos)::DOUBLE AS p, sum(n_neg)::DOUBLE AS n
    FROM prediction_bins WHERE day BETWEEN $before_lo AND $this_hi GROUP BY ALL HAVING sum(n_pos + n_neg) > 0),
w AS (
    SELECT *, sum(p) OVER s AS pt, sum(n) OVER s AS nt,
           coalesce(sum(n) OVER (s ORDER BY bin ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) + n / 2 AS mw,
           coalesce(sum(p) OVER (s ORDER BY bin ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING), 0) + p / 2 AS pa
    FROM b WINDOW s AS (PARTITION BY model, segment_column, segment_value, period))
SELECT model, segment_column, segment_value, period, any_value(pt), any_value(nt), fsum(p * mw),
       fsum(CASE WHEN nt > 0 THEN p * (mw / nt) ^ 2 ELSE 0 END), fsum(CASE WHEN pt > 0 THEN n * (pa / pt) ^ 2 ELSE 0 END)
FROM w GROUP BY ALL
"""


def auc_by_period(con: duckdb.DuckDBPyConnection, start: date, end: date) -> dict:
    """(model, column, value, 'this' | 'before') -> Auc (None: a class missing) over the fine bins."""
    rows = con.execute(_AUC_SQL, {"this_lo": start, "this_hi": end,
                                  "before_lo": start - timedelta(days=7 * BASELINE_WEEKS)}).fetchall()
    return {(model, col, val, period): ac.auc_from_sums(*sums) for model, col, val, period, *sums in rows}


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


def quality_slices_judged(con: duckdb.DuckDBPyConnection, start: date, end: date, aucs: dict | None = None) -> int:
    """How many model-segment AUCs this week are judged (enough of each class in both periods): each
    raises a false "AUC fell" in about ALERT_ALPHA of unchanged weeks. `aucs`: auc_by_period's result
    when the caller has it (one pass over the bins serves the alerts and this count)."""
    if not catalog.table_exists(con, "prediction_bins"):
        return 0
    aucs = auc_by_period(con, start, end) if aucs is None else aucs
    return sum(ac.judged(now, aucs.get(key[:3] + ("before",))) for key, now in aucs.items() if key[3] == "this")


def model_alerts(con: duckdb.DuckDBPyConnection, start: date, end: date,
                 baseline: DriftBaseline | None = None, aucs: dict | None = None) -> list[dict]:
    if not catalog.table_exists(con, "prediction_bins"):
        return []
    aucs = auc_by_period(con, start, end) if aucs is None else aucs
    alerts = []
    for model, col, val, period in sorted(aucs):
        now, before = aucs[(model, col, val, period)], aucs.get((model, col, val, "before"))
        if period == "this" and now is not None and before is not None:
            alerts += _quality(model, col, val, now, before)
    baseline = baseline or DriftBaseline()
    for (model, col, val), d in score_drift(con, start, end, baseline).items():
        alerts += _drift(model, col, val, d, baseline)
    return sorted(alerts, key=lambda a: (a["severity"] != "high", -a.get("size", 0)))


def _quality(model, col, val, now: ac.Auc, before: ac.Auc) -> list[dict]:
    if not ac.judged(now, before):
        return []
    d = ac.auc_drop(now, before)
    if not d.alert:
        return []
    return [{"kind": "model quality", "severity": "high" if d.drop > 2 * ac.MIN_DROP else "medium",
             "title": f"{model}: AUC fell {d.drop:.3f} for {_slice_name(col, val)}",
             "detail": f"ROC AUC {now.auc:.3f} this week against {before.auc:.3f} over the {BASELINE_WEEKS} weeks "
                       f"before ({now.n_pos:,} positives, {now.n_neg:,} negatives this week). A drop this large "
                       f"comes by chance in fewer than {ac.ALERT_ALPHA:.0%} of unchanged weeks (z = {d.z:.1f}, "
                       f"standard error {d.se:.3f}); drops under {ac.MIN_DROP} never alert.",
             "size": d.drop, "model": model, "segment_column": col, "segment_value": val,
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
