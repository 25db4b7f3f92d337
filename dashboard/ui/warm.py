"""Warm the kept cache in the background: the costliest data-only results, once per data version.

On the demo, the first visit to Online vs offline after a load costs ~9 s of bootstraps and REML
fits (the proxy leaderboard, which also picks the proxy its headline shows) and Weekly review ~2 s.
The first script run that sees a new database version starts, once its page is drawn, one thread
computing them through call_kept, so whoever opens those pages next finds them ready, and a
restarted server reads them from disk. A page asking for a result being computed waits for that
computation (Streamlit's cache locks per key) instead of repeating it. `serve` also starts it when
the server starts (ui/launch.py), with the other pages' imports, so a first visitor arriving seconds
later finds them done.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time

from dashboard.ui.db import call_kept, data_version, db_path

WARM_ENV = "DASHBOARD_WARM"  # set by `serve` (not by page tests, whose databases change under them)
START_DELAY_SECONDS = 1.0
PAGE_IMPORTS = ("pandas", "plotly.graph_objects", "dashboard.ui.charts_tree", "dashboard.ui.charts_ranking",
                "dashboard.ui.charts_alignment", "dashboard.ui.launch_tables", "dashboard.export.figures",
                "dashboard.services.experiments", "dashboard.services.ranking", "dashboard.services.alignment",
                "dashboard.services.proxy", "dashboard.services.tree", "dashboard.services.overview")
_seen: set[tuple] = set()
_lock = threading.Lock()
log = logging.getLogger(__name__)


def start(delay: float = START_DELAY_SECONDS) -> None:
    """Start the warming thread unless this database version was already warmed by this process."""
    if os.environ.get(WARM_ENV) != "1":
        return
    key = (str(db_path()), data_version())  # an edited tree is not re-warmed: its pages compute on demand
    with _lock:
        if key in _seen:
            return
        _seen.add(key)
    # called after a page's script ended; a moment more for the browser to ask for what it shows
    timer = threading.Timer(delay, _run)
    timer.name, timer.daemon = "dashboard-warm", True
    timer.start()


def start_when_served(wait_seconds: float = 60.0) -> None:
    """From the launcher (ui/launch.py), before Streamlit starts: warm as soon as its runtime exists
    (the disk cache is the runtime's), so the first visitor finds the imports done and the results
    computed or being computed. The pages still call start() for a database loaded later."""
    if os.environ.get(WARM_ENV) != "1":
        return

    def wait_then_start() -> None:
        from streamlit import runtime

        deadline = time.monotonic() + wait_seconds
        while not runtime.exists():
            if time.monotonic() > deadline:
                log.info("warming at start skipped: the Streamlit runtime did not start")
                return
            time.sleep(0.05)
        try:
            start(delay=0.0)
        except Exception as exc:  # noqa: BLE001 - no database yet: the first page warms instead
            log.info("warming at start skipped: %s", exc)

    threading.Thread(target=wait_then_start, name="dashboard-warm-start", daemon=True).start()


def _run() -> None:
    # not niced: a low-priority thread holding the GIL on a busy machine would stall the pages' threads
    # pandas first: Streamlit imports it for any table or chart, so every page's first run waited for
    # it (0.3-0.7 s of a cold Thresholds visit at load 10); then Home's review (the likeliest first
    # page), then the rest
    for job in (_pandas, _weekly, _imports, _alignment):
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


def _pandas() -> None:
    importlib.import_module("pandas")


def _imports() -> None:
    """What the other pages import at their first run (plotly's figures, pandas, the services): seconds
    of a first visit on a busy machine, done here once per process."""
    for module in PAGE_IMPORTS:
        importlib.import_module(module)


def _weekly() -> None:
    from dashboard.services import weekly

    weeks = call_kept(weekly.available_weeks)
    if weeks:
        call_kept(weekly.week_headline, weeks[0])  # Home's and the Weekly review's first numbers: ~0.1 s
        call_kept(weekly.week_review, weeks[0])
