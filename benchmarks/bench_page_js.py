"""What a page costs the browser: script bytes fetched and the tab's main-thread time, per page.

    python benchmarks/bench_page_js.py --demo [--pages launch alignment weekly ''] [--visits 3]
    python benchmarks/bench_page_js.py --db PATH --pages launch
    python benchmarks/bench_page_js.py --demo --pages 'thresholds?thr.model=fraud-v3&thr.view=drift'

Each visit is a new tab in a fresh browser context (nothing cached) against a warm server (one visit
of every page first). Measured from navigation until the page is idle and its charts are drawn:
the bytes of JavaScript fetched (Plotly's chunk alone is 4.7 MB), and Chromium's own counters for
the tab (CDP Performance.getMetrics): ScriptDuration (time running JavaScript) and TaskDuration
(all main-thread work: scripts, style, layout, paint). These are CPU time of the tab's renderer, so
they move far less with the machine's load than wall-clock times do (bench_browser.py); medians of
the visits are printed with the load average. Numbers are printed, never asserted in tests.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_browser import HEADLINES, fresh_home_and_db, load_average  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS, running_server, wait_idle  # noqa: E402

CHARTS = '[data-testid="stVegaLiteChart"] svg.marks, [data-testid="stPlotlyChart"] .js-plotly-plot'
DRIFT_HEADLINE = "text=/Score drift of /"  # Thresholds' drift view (thr.view=drift) has no "At threshold"


def headline(path: str) -> str:
    return DRIFT_HEADLINE if "thr.view=drift" in path else HEADLINES[path.split("?")[0]]


def visit(browser, url: str, path: str) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    fetched: list = []
    page.on("requestfinished", lambda r: fetched.append(r) if r.resource_type == "script" else None)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    start = time.perf_counter()
    page.goto(f"{url}/{path}")
    page.locator(headline(path)).first.wait_for(timeout=120_000)
    wait_idle(page)
    page.wait_for_load_state("networkidle")  # a chart's chunk is fetched after the run ends: counted too
    charts = page.locator(CHARTS)
    for i in range(charts.count()):  # charts mount lazily: each one drawn
        charts.nth(i).scroll_into_view_if_needed(timeout=60_000)
    page.wait_for_timeout(500)
    wall = time.perf_counter() - start
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    script_bytes = sum(r.sizes()["responseBodySize"] for r in fetched)
    plotly = any("PlotlyChart" in r.url for r in fetched)
    context.close()
    return {"wall": wall, "script": metrics["ScriptDuration"], "task": metrics["TaskDuration"],
            "bytes": script_bytes, "plotly": plotly}


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true", help="build the demo")
    parser.add_argument("--db", default="")
    parser.add_argument("--pages", nargs="*", default=["", "weekly", "launch", "alignment"],
                        help="url paths ('' = home), a query allowed (launch?exp=E045)")
    parser.add_argument("--visits", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = fresh_home_and_db(Path(tmp), args.demo, args.db)
        with running_server(db, "bench-page-js") as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            for path in args.pages:  # warm the server: what is kept is kept
                visit(browser, url, path)
            print(f"{load_average()}\n\n| page | script fetched | Plotly's chunk | tab's JavaScript time | "
                  "tab's main-thread time | navigation to idle, charts drawn (wall) |\n|---|---|---|---|---|---|",
                  flush=True)
            for path in args.pages:
                runs = [visit(browser, url, path) for _ in range(args.visits)]
                med = {k: statistics.median(r[k] for r in runs) for k in ("wall", "script", "task", "bytes")}
                print(f"| {path or 'home'} | {med['bytes'] / 1e6:.2f} MB | {sum(r['plotly'] for r in runs)}/{len(runs)} visits | "
                      f"{med['script']:.2f} s | {med['task']:.2f} s | {med['wall']:.2f} s |", flush=True)
            browser.close()
        print(f"\n{load_average()}; medians of {args.visits} visits each", flush=True)


if __name__ == "__main__":
    main()
