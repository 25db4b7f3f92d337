"""Thresholds page: the segment table at the slider's threshold, redrawn on every move.

Built straight as an Arrow table from svc.segment_columns (all segments in one array operation):
counts stay numbers (the browser formats them, and sorts them as numbers); rates are written by
`fmt.percent`, so an undefined one reads "n/a" (the grid would write a missing number as "None").
A pandas Styler (the red precision cells it drew before) cost ~60% of the server's CPU per move:
Streamlit turns every cell of a styled frame into display text, column by column.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import streamlit as st

from dashboard import format as fmt
from dashboard.services import thresholds as svc

LOW_PRECISION = 0.6  # of the overall precision at the same threshold
COUNTS = ("labelled", "positives", "tp", "fp", "fn", "tn", "flagged")
_COUNT = st.column_config.NumberColumn(format="localized")  # 160,340 as every count reads
COLUMNS = {"low precision": st.column_config.CheckboxColumn(
               help=f"Precision below {LOW_PRECISION:.0%} of the overall precision at this threshold"),
           **{c: _COUNT for c in COUNTS}}
CAPTION = f"Low precision: below {LOW_PRECISION:.0%} of the overall precision at this threshold."


def table(cols: dict[str, np.ndarray], by: str, quality: dict, overall_precision: float | None,
          binned: bool) -> pa.Table:
    """The segment table at one threshold; `quality` holds AP/AUC per segment value (binned: the
    column names say so)."""
    values = [str(v) for v in cols["value"]]
    precision = cols["precision"]
    low = ~np.isnan(precision) & (precision < LOW_PRECISION * (overall_precision or 0))
    ap, auc = ("AP (binned)", "ROC AUC (binned)") if binned else ("AP", "ROC AUC")

    def interval(lo, hi):
        return [fmt.interval(None if np.isnan(a) else a, None if np.isnan(b) else b, fmt.percent)
                for a, b in zip(lo, hi)]

    def rate(x):
        return [fmt.percent(None if np.isnan(v) else float(v)) for v in x]

    def count(x):
        return pa.array(np.asarray(x).astype(np.int64))
    return pa.table({
        by: [v + (" (small)" if s else "") for v, s in zip(values, cols["small"])],
        "low precision": pa.array(low), "labelled": count(cols["positives"] + cols["negatives"]),
        "positives": count(cols["positives"]), "tp": count(cols["tp"]), "fp": count(cols["fp"]),
        "fn": count(cols["fn"]), "tn": count(cols["tn"]), "precision": rate(precision),
        "precision 95% CI": interval(cols["precision_lo"], cols["precision_hi"]), "recall": rate(cols["recall"]),
        "recall 95% CI": interval(cols["recall_lo"], cols["recall_hi"]), "FPR": rate(cols["fpr"]),
        "flagged": count(cols["flagged"]),
        ap: [fmt.score(quality.get(v, {}).get("average_precision")) for v in values],
        auc: [fmt.score(quality.get(v, {}).get("roc_auc")) for v in values],
    })


def draw(slot, stack: svc.SegmentStack, i: int, quality: dict, overall_precision: float | None,
         binned: bool) -> None:
    slot.dataframe(table(svc.segment_columns(stack, i), stack.by, quality, overall_precision, binned),
                   hide_index=True, width="stretch", column_config=COLUMNS)
