"""Thresholds page: AP and ROC AUC shown at once, exact where known, and refined without blocking.

Over a model's whole range the exact values are stored at load (read at once). For a filtered
view (dates, a segment) the page first shows the binned values with the interval the exact value
must lie in, draws everything else, and only then starts the sort of the filtered rows for the
exact values in the background (ui/background.py; kept on disk across restarts, keyed by the data
version). The page waits for it at most WAIT_SECONDS once per view, drawing it in place when it
comes (a few million rows); a bigger view (50M scores: 25-70 s) keeps its binned values, says so,
and shows the exact ones at the next interaction.

`Known` holds what one view (model, filter, breakdown) shows; a slider move reads it instead of
asking the cache again, and the sort runs once per view, not once per move.
"""

from __future__ import annotations

from dashboard import format as fmt
from dashboard.services import thresholds as svc
from dashboard.ui import background
from dashboard.ui.db import call

NAMES = {"average_precision": "Average precision", "roc_auc": "ROC AUC"}
WAIT_SECONDS = 1.0
STILL_COMPUTING = ("Exact AP and ROC AUC of this view: being computed in the background from the raw scores "
                   "(a minute at tens of millions of rows); the binned values are shown until then, and the next "
                   "move or change shows the exact ones once ready.")


def quick(model: str, flt: svc.Filter, by: str = "") -> tuple[dict[str, dict], bool]:
    """(values to show now, whether exact ones are still to come)."""
    shown = call(svc.quick_quality, model, flt, by)
    pending = not shown.get("", {}).get("exact", True) and call(svc.has_raw_rows, model)
    return shown, pending


def _job(model: str, flt: svc.Filter, by: str) -> tuple:
    """The background call for one view's exact values (the overall ones apart: a sort of their own)."""
    return svc.exact_quality_in_background, model, flt, by, False


class Known:
    """AP/AUC of one view, overall ('') and by segment: the quick values until the exact ones came."""

    def __init__(self, model: str, flt: svc.Filter, by: str = "") -> None:
        self.overall, overall_pending = quick(model, flt)
        self.segments, segments_pending = quick(model, flt, by) if by else ({}, False)
        self.failed = ""
        # the overall values apart: a sort of their own, shown first
        self._exact = background.Awaited({name: _job(model, flt, name) for name, pending in
                                          (("", overall_pending), (by, segments_pending)) if pending}, kept=True)
        self.refresh()

    @property
    def pending(self) -> bool:
        return self._exact.pending

    @property
    def overall_pending(self) -> bool:
        return "" in self._exact.pending_names

    @property
    def segments_binned(self) -> bool:
        return any(not q.get("exact", True) for q in self.segments.values())

    def ask(self) -> None:
        """After the page is drawn: start the sorts still needed (overall first)."""
        self._exact.ask()

    def wait(self, seconds: float) -> bool:
        """Once per view (a slider move never waits): at most `seconds` in all for the exact values
        still to come; True if any came."""
        return self._exact.wait_once(seconds) and self._take()

    def refresh(self) -> bool:
        """Take whatever exact values are ready now; True if any came."""
        return self._exact.refresh() and self._take()

    def _take(self) -> bool:
        for name, got in self._exact.results.items():
            if isinstance(got, background.Failed):
                self.failed = f"the exact value: {got}"  # the binned values stay, and the help text says why
            elif name == "":
                self.overall = got
            else:
                self.segments = got
        return True


def headline(columns: list, known: Known) -> list:
    """The AP and ROC AUC metrics, one per column (slots, for `draw` when the exact values come)."""
    slots = [c.empty() for c in columns]
    draw(slots, known)
    return slots


def draw(slots: list, known: Known) -> None:
    """Exact values, or binned ones with where the exact value lies and why it is not shown yet."""
    q, pending = known.overall.get("", {}), known.overall_pending
    for slot, key in zip(slots, NAMES):
        value = fmt.score(q.get(key))
        if q.get("exact", True):
            slot.metric(NAMES[key], value, help="Exact, from the raw scores of the rows in view (ties included).")
            continue
        bounds = (q.get("bounds") or {}).get(key)
        within = "" if bounds is None else f"; the exact value lies in [{fmt.score(bounds[0])}, {fmt.score(bounds[1])}]"
        why = known.failed or ("the exact value, from the raw scores of the rows in view, is being computed in the "
                               "background and replaces this one when ready" if pending else
                               "only summaries of this model are loaded; the exact value needs its raw rows")
        slot.metric(NAMES[key] + " (binned)", value,
                    help=f"From the 10,000 score bins, each read as one tied score{within}: {why}.")


def legend_values(q: dict) -> dict:
    """AP/AUC for a chart's legend: exact ones only (a binned value stays out of the legend)."""
    return q if q.get("exact", True) else {}
