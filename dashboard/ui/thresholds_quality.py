"""Thresholds page: AP and ROC AUC shown at once, exact where known, and refined after first paint.

Over a model's whole range the exact values are stored at load (read at once). For a filtered
view (dates, a segment) the page first shows the binned values with the interval the exact value
must lie in, draws everything else, and only then sorts the filtered rows for the exact values
(kept on disk across restarts, keyed by the data version) and replaces them in place.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

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


def headline(columns: list, model: str, flt: svc.Filter) -> tuple[dict, Callable[[], dict]]:
    """Draw the AP and ROC AUC metrics into two columns; returns (shown values, refine) where
    refine() computes the exact values if still to come, redraws the metrics and returns them."""
    shown, pending = quick(model, flt)
    slots = [c.empty() for c in columns]
    _draw(slots, shown.get("", {}), pending)

    def refine() -> dict:
        if not pending:
            return shown.get("", {})
        values = exact(model, flt).get("", {})
        _draw(slots, values, False)
        return values
    return shown.get("", {}), refine


def _draw(slots: list, q: dict, pending: bool) -> None:
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
