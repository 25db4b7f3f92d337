"""Thresholds page: AP and ROC AUC shown at once, exact where known, and refined without blocking.

Over a model's whole range the exact values are stored at load (read at once). For a filtered
view (dates, a segment) the page first shows the binned values with the interval the exact value
must lie in, draws everything else, and only then starts the sort of the filtered rows for the
exact values, in a background thread (the result kept on disk across restarts, keyed by the data
version). The page waits for it at most WAIT_SECONDS, drawing it in place when it comes (a few
million rows); a bigger view (50M scores: 25-70 s) keeps its binned values, says so, and shows the
exact ones at the next interaction. Run in the script, that sort held every slider move of the
view until it ended (83 s for the first move at 50M). No `run_every` poller: its timed reruns
drop other fragments' widget values (a slider press undone; Streamlit PR #14064).

`Known` holds what one view (model, filter, breakdown) shows; a slider move reads it instead of
asking the cache again, and the sort runs once per view, not once per move.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, wait

import streamlit as st

from dashboard import format as fmt
from dashboard.services import thresholds as svc
from dashboard.ui.db import call, call_kept, data_version, db_path

NAMES = {"average_precision": "Average precision", "roc_auc": "ROC AUC"}
WAIT_SECONDS = 1.0
STILL_COMPUTING = ("Exact AP and ROC AUC of this view: being computed in the background from the raw scores "
                   "(a minute at tens of millions of rows); the binned values are shown until then, and the next "
                   "move or change shows the exact ones once ready.")


class _Worker:
    """One daemon thread running jobs in order: one sort at a time (DuckDB spreads each over every
    core; two would hold two sorts' memory). Not a ThreadPoolExecutor: its threads are joined at
    exit, and a 50M-row sort held a stopping server for a minute."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn, *args) -> Future:
        job: Future = Future()
        self._queue.put((job, fn, args))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dashboard-exact", daemon=True)
                self._thread.start()
        return job

    def _run(self) -> None:
        while True:
            job, fn, args = self._queue.get()
            if not job.set_running_or_notify_cancel():
                continue
            try:
                job.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the job
                job.set_exception(exc)


_executor = _Worker()
_jobs: dict[tuple, Future] = {}
_results: OrderedDict[tuple, dict | str] = OrderedDict()  # per view: a few numbers; the last MAX_RESULTS
MAX_RESULTS = 512
_jobs_lock = threading.Lock()
log = logging.getLogger(__name__)


def quick(model: str, flt: svc.Filter, by: str = "") -> tuple[dict[str, dict], bool]:
    """(values to show now, whether exact ones are still to come)."""
    shown = call(svc.quick_quality, model, flt, by)
    pending = not shown.get("", {}).get("exact", True) and call(svc.has_raw_rows, model)
    return shown, pending


def _exact(model: str, flt: svc.Filter, by: str) -> dict[str, dict] | str:
    """In the background thread: the exact values, or why there are none (a load holding the file)."""
    try:
        if by:
            return call_kept(svc.exact_quality_in_background, model, flt, by, with_overall=False)
        return call_kept(svc.exact_quality_in_background, model, flt, by)
    except BaseException as exc:  # noqa: BLE001 - st.stop() from a busy store is a BaseException
        log.warning("exact AP/AUC of %s %s by %r failed: %s", model, flt, by, exc)
        return f"the exact value could not be computed ({type(exc).__name__})"


def _key(model: str, flt: svc.Filter, by: str) -> tuple:
    return str(db_path()), data_version(), model, flt, by


def ask(model: str, flt: svc.Filter, by: str = "") -> None:
    """Start computing the exact values in the background, unless done or under way."""
    key = _key(model, flt, by)
    with _jobs_lock:
        if key not in _jobs and key not in _results:
            _jobs[key] = _executor.submit(_exact, model, flt, by)


def ready(model: str, flt: svc.Filter, by: str = "") -> dict[str, dict] | str | None:
    """The exact values (or why there are none) if computed, else None; never waits."""
    key = _key(model, flt, by)
    with _jobs_lock:
        if key in _results:
            _results.move_to_end(key)
            return _results[key]
        job = _jobs.get(key)
        if job is None or not job.done():
            return None
        _results[key] = job.result()
        del _jobs[key]
        while len(_results) > MAX_RESULTS:
            _results.popitem(last=False)
        return _results[key]


def wait_until(model: str, flt: svc.Filter, by: str, deadline_seconds: float) -> None:
    """Wait (bounded) for the job of this view, if one is under way."""
    with _jobs_lock:
        job = _jobs.get(_key(model, flt, by))
    if job is not None:
        wait([job], timeout=max(0.0, deadline_seconds))


def wait_for_background() -> None:
    """Until every exact computation asked for has ended (tests)."""
    _executor.submit(lambda: None).result()


class Known:
    """AP/AUC of one view, overall ('') and by segment: the quick values until the exact ones came."""

    def __init__(self, model: str, flt: svc.Filter, by: str = "") -> None:
        self.model, self.flt, self.by = model, flt, by
        self.overall, self.overall_pending = quick(model, flt)
        self.segments, self.segments_pending = quick(model, flt, by) if by else ({}, False)
        self.failed, self.waited = "", False
        self.refresh()

    @property
    def pending(self) -> bool:
        return self.overall_pending or self.segments_pending

    @property
    def segments_binned(self) -> bool:
        return any(not q.get("exact", True) for q in self.segments.values())

    def ask(self) -> None:
        """After the page is drawn: start the sorts still needed (overall first)."""
        if self.overall_pending:
            ask(self.model, self.flt)
        if self.segments_pending:
            ask(self.model, self.flt, self.by)

    def wait(self, seconds: float) -> bool:
        """Once per view (a slider move never waits): at most `seconds` in all for the exact values
        still to come; True if any came."""
        if self.waited:
            return False
        self.waited = True
        deadline = time.monotonic() + seconds
        if self.overall_pending:
            wait_until(self.model, self.flt, "", deadline - time.monotonic())
        if self.segments_pending:
            wait_until(self.model, self.flt, self.by, deadline - time.monotonic())
        return self.refresh()

    def refresh(self) -> bool:
        """Take whatever exact values are ready now; True if any came."""
        came = False
        if self.overall_pending and (got := ready(self.model, self.flt)) is not None:
            self.overall = self._take(got, self.overall)
            self.overall_pending, came = False, True
        if self.segments_pending and (got := ready(self.model, self.flt, self.by)) is not None:
            self.segments = self._take(got, self.segments)
            self.segments_pending, came = False, True
        return came

    def _take(self, got: dict | str, binned: dict) -> dict:
        if isinstance(got, str):
            self.failed = got  # the binned values stay, and the help text says why
            return binned
        return got


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
