"""One page of two checkouts side by side: what a change did, with both sides under the same load.

    git archive <old-commit> | tar -x -C /tmp/old
    python benchmarks/bench_page_ab.py --old /tmp/old --db demo.duckdb --page tree

On a busy machine two runs of bench_browser.py minutes apart differ by 2x; here an old and a new
server (each `python -m dashboard serve` run from its own checkout, so each imports its own code)
serve the same database at once and the visits alternate between them. Per side, after one visit
that warms its caches: `--visits` new tabs in a fresh browser context (headline visible and idle, as
bench_browser.py times them), `--tabs` new tabs beside an open one, and `--cpu` fresh tabs left to
settle, with Chromium's own main-thread task and script time (Performance.getMetrics) and the bytes
the tab fetched. Medians are printed with the load average; nothing is asserted.

With `--cold N`: N rounds, each starting a new server per side (an empty HOME: no disk cache), in
alternating order, and timing its first visit as soon as it answers (a fresh browser context): what
bench_browser.py calls cold, with both sides under the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_browser import HEADLINES, idle, load_average, open_timed, time_tab  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402

NEW = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def serving(checkout: Path, db: Path, home: Path):
    """`python -m dashboard serve` from `checkout` (its own code: -m puts the working directory first)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "server.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dashboard", "serve", "--db", str(db), "--port", str(port)],
                                cwd=checkout, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "HOME": str(home)})
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(180):
                with contextlib.suppress(OSError):
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                        break
                time.sleep(0.5)
            else:
                raise SystemExit(f"the server from {checkout} did not start (log: {home / 'server.log'})")
            yield url
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


async def beside(browser, url: str, headline: str, n: int) -> list[tuple[float, float]]:
    """n new tabs of a context that has the page open already (its scripts in the browser's cache)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    first = await context.new_page()
    await first.goto(url)
    await idle(first)
    out = []
    for _ in range(n):
        tab = await context.new_page()
        out.append(await time_tab(tab, url, headline))
        await tab.close()
    await context.close()
    return out


async def settled(browser, url: str, headline: str) -> tuple[float, float, float]:
    """A fresh tab left 3 s after idle: Chromium's main-thread task and script seconds, MB fetched."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Performance.enable")
    await page.goto(url)
    await page.locator(headline).first.wait_for(timeout=120_000)
    await idle(page)
    await page.wait_for_timeout(3000)
    metrics = {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
    fetched = await page.evaluate("performance.getEntriesByType('resource').reduce((s, e) => s + e.encodedBodySize, 0)")
    await context.close()
    return metrics["TaskDuration"], metrics["ScriptDuration"], fetched / 1e6


def _median(rows: list[tuple], i: int) -> float:
    return statistics.median(r[i] for r in rows)


async def compare(urls: dict[str, str], headline: str, visits: int, tabs: int, cpu: int) -> None:
    from playwright.async_api import async_playwright

    fresh, near, work = ({k: [] for k in urls} for _ in range(3))
    print(f"Start: {load_average()}", flush=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for url in urls.values():  # warm each server's caches
            await open_timed(browser, url, headline)
        order = [list(urls), list(urls)[::-1]]
        for i in range(visits):
            for side in order[i % 2]:
                fresh[side].append(await open_timed(browser, urls[side], headline))
        for i in range(2):
            for side in order[i % 2]:
                near[side] += await beside(browser, urls[side], headline, (tabs + 1) // 2)
        for i in range(cpu):
            for side in order[i % 2]:
                work[side].append(await settled(browser, urls[side], headline))
        await browser.close()
    print(f"End: {load_average()}\n")
    print(f"| medians | {' | '.join(urls)} |\n|---|{'---|' * len(urls)}")
    rows = [(f"new tab, fresh profile, headline painted (seen) / idle ({visits} each)", fresh,
             "{2:.2f} ({0:.2f}) / {1:.2f} s"),
            (f"new tab beside an open one, headline painted (seen) / idle ({len(near[next(iter(urls))])} each)",
             near, "{2:.2f} ({0:.2f}) / {1:.2f} s"),
            (f"main-thread time to settled, of it script ({cpu} each)", work, "{0:.2f} s ({1:.2f} s)"),
            ("MB fetched by a fresh tab", {k: [(v[2], 0.0) for v in work[k]] for k in urls}, "{0:.1f}")]
    for label, data, fmt in rows:
        cells = [fmt.format(*(_median(data[k], i) for i in range(len(data[k][0])))) if data[k] else "n/a"
                 for k in urls]
        print(f"| {label} | {' | '.join(cells)} |")


async def cold_rounds(old: Path, db: Path, tmp: Path, page: str, rounds: int) -> None:
    from playwright.async_api import async_playwright

    sides, times = {"before": old, "after": NEW}, {"before": [], "after": []}
    print(f"Start: {load_average()}", flush=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        for i in range(rounds):
            for side in (list(sides) if i % 2 == 0 else list(sides)[::-1]):
                with serving(sides[side], db, tmp / f"{side}-{i}") as url:
                    times[side].append(await open_timed(browser, f"{url}/{page}", HEADLINES[page]))
                print(f"round {i} {side}: headline {times[side][-1][0]:.2f} s, idle {times[side][-1][1]:.2f} s",
                      flush=True)
        await browser.close()
    print(f"End: {load_average()}\n\n| medians of {rounds} | before | after |\n|---|---|---|")
    cells = [f"{_median(times[k], 2):.2f} ({_median(times[k], 0):.2f}) / {_median(times[k], 1):.2f} s" for k in sides]
    print(f"| cold server, first visit: headline / idle | {' | '.join(cells)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, type=Path, help="a checkout of the old code (git archive REV | tar -x)")
    parser.add_argument("--db", type=Path, help="a database both serve (default: the demo, built once)")
    parser.add_argument("--page", default="tree", choices=[p for p in HEADLINES if p], help="url path")
    parser.add_argument("--visits", type=int, default=8)
    parser.add_argument("--tabs", type=int, default=6)
    parser.add_argument("--cpu", type=int, default=4)
    parser.add_argument("--settle", type=float, default=30, help="seconds to wait after both servers started")
    parser.add_argument("--cold", type=int, default=0, help="instead: N rounds of a new server's first visit per side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            from dashboard.demo.build import build_demo_db

            db = Path(tmp) / "demo.duckdb"
            build_demo_db(db, seed=7)
        if args.cold:
            asyncio.run(cold_rounds(args.old.resolve(), db.resolve(), Path(tmp), args.page, args.cold))
            return
        with serving(args.old.resolve(), db.resolve(), Path(tmp) / "old") as old, \
                serving(NEW, db.resolve(), Path(tmp) / "new") as new:
            urls = {"before": f"{old}/{args.page}", "after": f"{new}/{args.page}"}
            time.sleep(args.settle)  # each server warms its caches in a thread at start (dashboard/ui/warm.py)
            asyncio.run(compare(urls, HEADLINES[args.page], args.visits, args.tabs, args.cpu))


if __name__ == "__main__":
    main()
