"""Costly results a page shows after its headline, computed in a background thread, never in the script.

A sort of tens of millions of rows (exact AP/AUC of a filtered view) or a join of two models' rows
(the disagreement rate) takes from seconds to minutes at 50M scores. Run in a page's script, it held
every later interaction of that view until it ended (a slider move waited 83 s). Here a page asks
for the result (`ask`), may wait a moment once (`wait`: a few million rows come in time and are drawn
at once), and otherwise reads it at a later interaction (`ready`). The result goes through the
app's caches as any other call (`call` or `call_kept`), so whoever asks next finds it. `Awaited`
is that pattern for one full run of a page.

No `run_every` fragment polls for it: its timed reruns dropped widget values of other fragments (a
slider press undone; Streamlit PR #14064).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, wait as wait_futures
from typing import Any, Callable

from dashboard.ui.db import call, call_kept, data_version, db_path

MAX_RESULTS = 32  # finished results held for the `ready` look-up; beyond, they come back from the caches
log = logging.getLogger(__name__)


class _Worker:
    """One daemon thread running jobs in order: one heavy query at a time (DuckDB spreads each over
    every core; two would hold two sorts' memory). Not a ThreadPoolExecutor: its threads are joined
    at exit, and a 50M-row sort held a stopping server for a minute."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable, *args: Any) -> Future:
        job: Future = Future()
        self._queue.put((job, fn, args))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dashboard-background", daemon=True)
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


_worker = _Worker()
_jobs: dict[tuple, Future] = {}
_results: OrderedDict[tuple, Any] = OrderedDict()
_lock = threading.Lock()


class Failed(str):
    """Why a background result could not be computed (a load holding the file, an error): shown
    instead of the value, which the page then keeps in its quick form."""


def _key(fn: Callable, args: tuple, kept: bool) -> tuple:
    return str(db_path()), data_version(), fn.__module__, fn.__qualname__, args, kept


def _compute(fn: Callable, args: tuple, kept: bool) -> Any:
    try:
        return (call_kept if kept else call)(fn, *args)
    except BaseException as exc:  # noqa: BLE001 - st.stop() from a busy store is a BaseException
        log.warning("background %s%r failed: %s", fn.__qualname__, args, exc)
        return Failed(f"it could not be computed ({type(exc).__name__}); reload the page to try again")


def ask(fn: Callable, *args: Any, kept: bool = False) -> None:
    """Start computing fn(con, *args) in the background, unless done or under way. kept: also on disk."""
    key = _key(fn, args, kept)
    with _lock:
        if key not in _jobs and key not in _results:
            _jobs[key] = _worker.submit(_compute, fn, args, kept)


def ready(fn: Callable, *args: Any, kept: bool = False) -> Any | None:
    """The result (or a `Failed`) if computed, else None; never waits."""
    key = _key(fn, args, kept)
    with _lock:
        if key in _results:
            _results.move_to_end(key)
            return _results[key]
        job = _jobs.get(key)
        if job is None or not job.done():
            return None
        del _jobs[key]
        if isinstance(job.result(), Failed):
            return job.result()  # not kept: the next page run asks again
        _results[key] = job.result()
        while len(_results) > MAX_RESULTS:
            _results.popitem(last=False)
        return _results[key]


def wait(fn: Callable, *args: Any, kept: bool = False, seconds: float) -> Any | None:
    """ready(), after waiting at most `seconds` for a job under way."""
    with _lock:
        job = _jobs.get(_key(fn, args, kept))
    if job is not None:
        wait_futures([job], timeout=max(0.0, seconds))
    return ready(fn, *args, kept=kept)


class Awaited:
    """What one full run of a page waits for in the background, by name: asked for (as soon as the run
    starts, or once the page is drawn), waited for once (at most `seconds`, one deadline for all), and
    then read by that run's later fragment reruns (slider moves) without waiting."""

    def __init__(self, jobs: dict[str, tuple], kept: bool = False) -> None:
        self._jobs, self._kept = jobs, kept  # name -> (fn, *args)
        self.results: dict[str, Any] = {}  # name -> result or Failed, once come
        self._waited = False

    @property
    def pending_names(self) -> list[str]:
        return [name for name in self._jobs if name not in self.results]

    @property
    def pending(self) -> bool:
        return bool(self.pending_names)

    def ask(self) -> None:
        for name in self.pending_names:
            ask(*self._jobs[name], kept=self._kept)

    def wait_once(self, seconds: float) -> bool:
        """The first time only: wait at most `seconds` in all for the results still to come. True if any came."""
        if self._waited:
            return False
        self._waited = True
        deadline = time.monotonic() + seconds
        for name in self.pending_names:
            wait(*self._jobs[name], kept=self._kept, seconds=deadline - time.monotonic())
        return self.refresh()

    def refresh(self) -> bool:
        """Take the results ready now (never waits). True if any came."""
        came = False
        for name in self.pending_names:
            if (got := ready(*self._jobs[name], kept=self._kept)) is not None:
                self.results[name], came = got, True
        return came

    def first_look(self, name: str, seconds: float = 1.0) -> Any | None:
        """The result if come; else ask for it, wait once, and give what came (None: not yet)."""
        if name not in self.results:
            self.refresh()
        if name not in self.results:
            self.ask()
            self.wait_once(seconds)
        return self.results.get(name)


def wait_for_all() -> None:
    """Until every job asked for so far has ended (tests)."""
    _worker.submit(lambda: None).result()
