"""Thresholds page: AP and ROC AUC shown at once, exact where known, and refined after first paint.

Over a model's whole range the exact values are stored at load (read at once). For a filtered
view (dates, a segment) the page first shows the binned values with the interval the exact value
must lie in, draws everything else, and only then sorts the filtered rows for the exact values
(kept on disk across restarts, keyed by the data version) and replaces them in place.

`Known` holds what one view (model, filter, breakdown) shows; a slider move reads it instead of
asking the cache again, and the sort runs once per view, not once per move.
"""

from __future__ import annotations

from dashboard import format as fmt
from dashboard.services import thresholds as svc
from dashboard.ui.db import call, call_kept

NAMES = {"average_precision": "Average precision", "roc_auc": "ROC AUC"}


def quick(model: str, flt: svc.Filter, by: str = "") -> tuple[dict[str, dict], bool]:
    """(values to show now, whether exact ones are still to come)."""
    shown = call(svc.quick_quality, model, flt, by)
    pending = not shown.get("", {}).get("exact", True) and call(svc.has_raw_rows, model)
    return shown, pending


def exact(model: str, flt: svc.Filter, by: str = "") -> dict[str, dict]:
    return call_kept(svc.exact_quality, model, flt, by)


class Known:
    """AP/AUC of one view, overall ('') and by segment: the quick values until `refine` has run."""

    def __init__(self, model: str, flt: svc.Filter, by: str = "") -> None:
        self.model, self.flt, self.by = model, flt, by
        self.overall, self.overall_pending = quick(model, flt)
        self.segments, self.segments_pending = quick(model, flt, by) if by else ({}, False)

    def refine_overall(self) -> dict:
        if self.overall_pending:
            self.overall, self.overall_pending = exact(self.model, self.flt), False
        return self.overall.get("", {})

    def refine_segments(self) -> dict[str, dict]:
        if self.segments_pending:
            self.segments, self.segments_pending = exact(self.model, self.flt, self.by), False
        return self.segments


def headline(columns: list, known: Known) -> list:
    """Draw the AP and ROC AUC metrics into two columns; returns their slots (for `redraw`)."""
    slots = [c.empty() for c in columns]
    draw(slots, known.overall.get("", {}), known.overall_pending)
    return slots


def draw(slots: list, q: dict, pending: bool) -> None:
    exact_ = q.get("exact", True)
    for slot, key in zip(slots, NAMES):
        value = fmt.score(q.get(key))
        bounds = (q.get("bounds") or {}).get(key)
        if exact_:
            slot.metric(NAMES[key], value, help="Exact, from the raw scores of the rows in view (ties included).")
            continue
        within = "" if bounds is None else f"; the exact value lies in [{fmt.score(bounds[0])}, {fmt.score(bounds[1])}]"
        why = ("the exact value, from the raw scores of the rows in view, follows in a moment" if pending else
               "only summaries of this model are loaded; the exact value needs its raw rows")
        slot.metric(NAMES[key] + " (binned)", value,
                    help=f"From the 10,000 score bins, each read as one tied score{within}: {why}.")


def legend_values(q: dict) -> dict:
    """AP/AUC for a chart's legend: exact ones only (a binned value stays out of the legend)."""
    return q if q.get("exact", True) else {}

