"""Warm the kept cache in the background: the costliest data-only results, once per data version.

On the demo, the first visit to Online vs offline after a load costs ~9 s of bootstraps and REML
fits (the proxy leaderboard, which also picks the proxy its headline shows) and Weekly review ~2 s.
The first script run that sees a new database version starts, once its page is drawn, one thread
computing them through call_kept, so whoever opens those pages next finds them ready, and a
restarted server reads them from disk. A page asking for a result being computed waits for that
computation (Streamlit's cache locks per key) instead of repeating it. `serve` also starts it when
the server starts (ui/launch.py), so a first visitor arriving seconds later finds them done; and
before the server listens, `prepare_process` does the pages' imports, so a first visitor's page
does not share the interpreter with them (a cold Thresholds visit at 50M scores, py-spy: the
warming thread's imports, ~0.8 s of CPU under the GIL, ran during the visitor's first page run).
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time

from dashboard.ui.db import call, call_kept, data_version, db_path

WARM_ENV = "DASHBOARD_WARM"  # set by `serve` (not by page tests, whose databases change under them)
START_DELAY_SECONDS = 1.0
PAGE_IMPORTS = ("pandas", "pyarrow", "scipy.stats", "plotly.graph_objects", "dashboard.ui.charts_tree",
                "dashboard.ui.charts_ranking", "dashboard.ui.charts_alignment", "dashboard.ui.launch_tables",
                "dashboard.export.figures", "dashboard.services.experiments", "dashboard.services.ranking",
                "dashboard.services.alignment", "dashboard.services.proxy", "dashboard.services.tree",
                "dashboard.services.overview", "dashboard.services.weekly", "dashboard.services.thresholds")
_seen: set[tuple] = set()
_lock = threading.Lock()
log = logging.getLogger(__name__)


def prepare_process() -> None:
    """From the launcher, before Streamlit listens: what every process's first page run would pay."""
    if os.environ.get(WARM_ENV) != "1":
        return
    _imports()
    from streamlit.string_util import is_emoji

    from dashboard.ui.app_pages import FAVICON

    is_emoji(FAVICON)  # set_page_config's check compiles Streamlit's emoji pattern once: 0.15 s of a first run


def _first_element_check() -> None:
    """Streamlit's first element of a process asks whether it runs in a REPL with inspect.stack(), which
    reads the source of every frame of the script thread's deep stack (0.15 s of a first visit). Asked
    here once the runtime exists (so it warns of nothing), from a shallow stack; private, so optional."""
    from streamlit import delta_generator

    check = getattr(delta_generator, "_maybe_print_use_warning", None)
    if check is not None:
        check()


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
            _first_element_check()
        except Exception as exc:  # noqa: BLE001 - Streamlit's internals moved: the first visit pays 0.15 s
            log.info("first element check skipped: %s", exc)
        try:
            start(delay=0.0)
        except Exception as exc:  # noqa: BLE001 - no database yet: the first page warms instead
            log.info("warming at start skipped: %s", exc)

    threading.Thread(target=wait_then_start, name="dashboard-warm-start", daemon=True).start()


def _run() -> None:
    # not niced: a low-priority thread holding the GIL on a busy machine would stall the pages' threads.
    # Home's review first (the likeliest first page), then the rest; the imports were done before the
    # server listened (prepare_process)
    for job in (_weekly, _thresholds, _alignment):
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


def _thresholds() -> None:
    """Thresholds' opening view, as its first run asks for it (same calls, same arguments): its bins,
    options and AP/AUC, ~0.3 s of a first visit at 50M scores, in the memory cache only (the bins of
    a 50M-row model are ~10 MB; the disk cache is for results that cost seconds)."""
    from dashboard.services import thresholds as svc, thresholds_models
    from dashboard.ui.thresholds_quality import Known

    opts = call(svc.options)
    if not opts["models"]:
        return
    model, flt, by = svc.default_view(opts)
    call(thresholds_models.declared)
    call(svc.counts, model, flt, by)
    Known(model, flt, by)


def _imports() -> None:
    """What the pages import at their first run (pandas, scipy.stats, plotly's figures, the services):
    seconds of a first visit on a busy machine, done once per process."""
    for module in PAGE_IMPORTS:
        importlib.import_module(module)


def _weekly() -> None:
    from dashboard.services import weekly

    weeks = call_kept(weekly.available_weeks)
    if weeks:
        call_kept(weekly.week_headline, weeks[0])  # Home's and the Weekly review's first numbers: ~0.1 s
        call_kept(weekly.week_review, weeks[0])
