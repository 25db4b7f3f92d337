"""Warm the kept cache in the background: the costliest data-only results, once per data version.

On the demo, the first visit to Online vs offline after a load costs ~9 s of bootstraps and REML
fits (the proxy leaderboard, which also picks the proxy its headline shows) and Weekly review ~2 s.
The first script run that sees a new database version starts, once its page is drawn, one thread
computing them through call_kept, so whoever opens those pages next finds them ready, and a
restarted server reads them from disk. A page asking for a result being computed waits for that
computation (Streamlit's cache locks per key) instead of repeating it.
"""

from __future__ import annotations

import logging
import os
import threading

from dashboard.ui.db import call_kept, data_version, db_path

WARM_ENV = "DASHBOARD_WARM"  # set by `serve` (not by page tests, whose databases change under them)
START_DELAY_SECONDS = 1.0
_seen: set[tuple] = set()
_lock = threading.Lock()
log = logging.getLogger(__name__)


def start() -> None:
    """Start the warming thread unless this database version was already warmed by this process."""
    if os.environ.get(WARM_ENV) != "1":
        return
    key = (str(db_path()), data_version())  # an edited tree is not re-warmed: its pages compute on demand
    with _lock:
        if key in _seen:
            return
        _seen.add(key)
    # called after a page's script ended; a moment more for the browser to ask for what it shows
    timer = threading.Timer(START_DELAY_SECONDS, _run)
    timer.name, timer.daemon = "dashboard-warm", True
    timer.start()


def _run() -> None:
    # not niced: a low-priority thread holding the GIL on a busy machine would stall the pages' threads
    for job in (_weekly, _alignment):  # the short one first
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - st.stop() (a load holding the file) is a BaseException
            log.info("warming %s skipped: %s", job.__name__, exc)


def _alignment() -> None:
    from dashboard.services import alignment, proxy  # here, not at the top: app.py imports this module on
    # every first visit, and scipy and the services cost seconds of the first page's time on a busy machine

    opts = call_kept(alignment.options)
    if len(opts["specs"]) < 2 or opts["default_target"] is None:
        return
    history = call_kept(alignment.history_view, opts["default_target"])
    chosen = history["best_proxy"] or opts["default_proxy"]
    if chosen:
        call_kept(alignment.view, chosen, opts["default_target"])
    if opts["default_target"].startswith("online:"):
        call_kept(proxy.view, opts["default_target"])  # the learned composite (leaderboard row, Launch review)


def _weekly() -> None:
    from dashboard.services import weekly

    weeks = call_kept(weekly.available_weeks)
    if weeks:
        call_kept(weekly.week_review, weeks[0])
