"""What a person feels in a browser: Playwright + Debian's chromium against `python -m dashboard serve`.

    python benchmarks/bench_browser.py --demo                 # every page of the demo
    python benchmarks/bench_browser.py --rows 10000000        # Thresholds on N continuous scores
    python benchmarks/bench_browser.py --db PATH [--pages weekly alignment] [--sessions 1 5 20]

Measured, per page: navigation (a new tab: a fresh browser context) to the headline numbers
visible, and to the page idle (the app's script state notRunning), with a cold server (the first
visit after it starts, its disk cache empty: the first visit after a load), warm (a second new
tab), and restarted (a new server process, the disk cache kept: a shared link opened on Monday); and a
new tab beside an open one (same browser context: Streamlit's and Plotly's scripts come from its
cache). On Thresholds: 20 ArrowRight presses, each
timed by the browser itself from the key press to the headline showing the new threshold (median,
p95), with the server's CPU per move, the bytes it sent and how many script runs were fragment runs.
On Ranking: a change of k timed to idle. With --sessions: N sessions speaking Streamlit's websocket
protocol (benchmarks/streamlit_sessions.py: what N users' own browsers send, without N browsers on
this machine) open Thresholds and move the slider at once, timed from the move sent to the new
headline received, while one real tab moves it too and times it in the browser; with
--browser-sessions: N tabs of one headless browser instead. Errors (and the first one's reason),
median and p95, the server process group's own CPU seconds and the browsers' (Playwright's driver and
chromium, from /proc), each apart; the server's peak resident memory (VmHWM) and the machine's load
average are printed beside the results. Timings are printed, never asserted in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.conftest import APP_IDLE, CHROMIUM_ARGS, running_server  # noqa: E402

# page url -> what counts as its headline being visible
FIRST_CONTENT = ('[data-testid="stMain"] [data-testid="stMetricValue"], [data-testid="stMain"] [data-testid="stAlert"], '
                 '[data-testid="stMain"] [data-testid="stDataFrame"], [data-testid="stMain"] [data-testid="stPlotlyChart"], '
                 '[data-testid="stMain"] [data-testid="stPageLink"]')
HEADLINES = {"": FIRST_CONTENT, "weekly": FIRST_CONTENT, "launch": FIRST_CONTENT, "alignment": FIRST_CONTENT,
             "tree": FIRST_CONTENT, "thresholds": 'text=/At threshold \\d/', "ranking": FIRST_CONTENT,
             "data": FIRST_CONTENT}
# the same headlines found in the page (JavaScript), for the browser's own clock (paint_probe)
_FIND = {FIRST_CONTENT: f"document.querySelector({json.dumps(FIRST_CONTENT)})",
         HEADLINES["thresholds"]: """[...document.querySelectorAll('[data-testid="stMain"] h3')]
                                     .find(h => /^At threshold \\d/.test(h.innerText))"""}


def paint_probe(headline: str) -> str:
    """An init script noting the frame in which the headline is first drawn, by the browser's clock
    from the navigation's start (requestAnimationFrame callbacks run just before their frame is
    painted). Playwright's own check polls from this process: on a busy machine its answer came
    0.3-0.75 s after that paint when charts mounted right after it (the Metric tree), so both are
    printed."""
    return ("window.__painted = null; (() => { const look = () => { const e = " + _FIND[headline] + ";"
            " const r = e && e.getBoundingClientRect();"
            " if (r && r.width > 0 && r.height > 0) window.__painted = performance.now() / 1000;"
            " else requestAnimationFrame(look); }; requestAnimationFrame(look); })();")


def proc_stats() -> dict[int, list[str]]:
    """pid -> the fields of /proc/PID/stat after the command name (ppid first, process group third)."""
    stats = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stats[int(proc.name)] = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
    return stats


def cpu_seconds(pgid: int) -> float:
    """utime + stime (and of exited children) of every process in the server's process group."""
    total = sum(sum(int(x) for x in fields[11:15]) for fields in proc_stats().values()
                if int(fields[2]) == pgid)  # field 5 of stat: the process group
    return total / os.sysconf("SC_CLK_TCK")


def server_pid(port: int) -> int | None:
    """The process group of `python -m dashboard serve --port PORT` (it runs in its own session and
    starts Streamlit with `--server.port PORT`, whichever launcher it execs)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ") + b" "
        except OSError:
            continue
        if f"--port {port} ".encode() in cmd or f"--server.port {port} ".encode() in cmd:
            return os.getpgid(int(proc.name))
    return None


def browser_cpu_seconds(server_pgid: int | None) -> float:
    """CPU seconds of this process's descendants outside the server's process group: Playwright's
    driver and the chromium processes (the load generator, measured apart from the server)."""
    stats = proc_stats()
    parents = {pid: int(fields[1]) for pid, fields in stats.items()}
    total, me = 0, os.getpid()
    for pid, fields in stats.items():
        if int(fields[2]) == server_pgid:
            continue
        p = parents.get(pid)
        while p not in (None, 0, 1, me):
            p = parents.get(p)
        if p == me:
            total += sum(int(x) for x in fields[11:15])  # its own and its reaped children's (closed tabs)
    return total / os.sysconf("SC_CLK_TCK")


def fresh_home_and_db(tmp: Path, demo: bool, db: str) -> Path:
    """An empty HOME under tmp (the server's disk cache, ~/.streamlit/cache, starts empty: the first
    visit is a cold one), and the database: the demo built under tmp, or the one given."""
    os.environ["HOME"] = str(tmp / "home")
    Path(os.environ["HOME"]).mkdir()
    if not demo:
        return Path(db)
    from dashboard.demo.build import build_demo_db

    build_demo_db(tmp / "demo.duckdb", seed=7)
    return tmp / "demo.duckdb"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def open_timed(browser, url: str, headline: str) -> tuple[float, float, float]:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    timed = await time_tab(await context.new_page(), url, headline)
    await context.close()
    return timed


async def time_tab(page, url: str, headline: str) -> tuple[float, float, float]:
    """Seconds from navigation to the headline seen by Playwright, to the app idle, and to the frame
    the headline was painted in (the browser's clock)."""
    await page.add_init_script(paint_probe(headline))
    start = time.perf_counter()
    await page.goto(url)
    await page.locator(headline).first.wait_for(timeout=120_000)
    shown = time.perf_counter() - start
    painted = await page.evaluate("window.__painted")
    await idle(page)
    return shown, time.perf_counter() - start, painted if painted is not None else shown


async def idle(page) -> None:
    await page.wait_for_selector(APP_IDLE, timeout=120_000)
    await page.wait_for_timeout(200)
    await page.wait_for_selector(APP_IDLE, timeout=120_000)


# In the page: the time from a key press to the headline's text changing, measured by the browser
# itself (performance.now(), a MutationObserver), so the load generator's own polling and Playwright's
# round trips on a busy machine are not counted in it.
WATCH_HEADLINE = """() => {
  window.__moves = [];
  const find = () => [...document.querySelectorAll('[data-testid="stMain"] h3')].find(h => h.innerText.startsWith('At threshold'));
  let last = find()?.innerText;
  document.addEventListener('keydown', () => { window.__pressed = performance.now(); }, true);
  new MutationObserver(() => {
    const text = find()?.innerText;
    if (text !== undefined && text !== last && window.__pressed !== undefined) {
      window.__moves.push(performance.now() - window.__pressed);
      window.__pressed = undefined;
    }
    last = text ?? last;
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


async def slider_moves(browser, url: str, moves: int, counter: dict | None = None,
                       server_cpu: Callable[[], float] | None = None) -> list[float]:
    """Open Thresholds in a new tab, then `moves` ArrowRight presses, each waiting for the headline
    to change; returns the in-browser key-press-to-headline times (s). `counter` gathers the
    websocket bytes and script runs (whole page / fragment) the moves caused and, with `server_cpu`,
    the server's CPU seconds during the moves alone (the page's opening excluded)."""
    tab = await open_thresholds(browser, url)
    try:
        return await tab.moves(moves, counter, server_cpu)
    finally:
        await tab.context.close()


class Tab:
    def __init__(self, context, page, frames: list) -> None:
        self.context, self.page, self.frames = context, page, frames

    async def moves(self, moves: int, counter: dict | None = None,
                    server_cpu: Callable[[], float] | None = None) -> list[float]:
        page, frames = self.page, self.frames
        await page.evaluate(WATCH_HEADLINE)
        await page.locator('[data-testid="stSlider"] input[type="range"]').first.focus()
        seen, cpu0 = len(frames), server_cpu() if server_cpu else 0.0
        for k in range(moves):
            await page.keyboard.press("ArrowRight")
            await page.wait_for_function(f"() => window.__moves.length > {k}", polling=20, timeout=30_000)
        times = [t / 1e3 for t in await page.evaluate("() => window.__moves")]
        await idle(page)
        if counter is not None:
            _count_frames(frames[seen:], counter)
            if server_cpu:
                counter["server_cpu"] = counter.get("server_cpu", 0.0) + server_cpu() - cpu0
        return times


async def open_thresholds(browser, url: str) -> Tab:
    """Thresholds in a new tab (a fresh context), its first run ended; the websocket frames it gets
    are gathered from the start."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    frames: list = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(f)))
    await page.goto(url + "/thresholds", timeout=120_000)
    await page.get_by_text("At threshold", exact=False).first.wait_for(timeout=120_000)
    await idle(page)
    return Tab(context, page, frames)


def _count_frames(frames: list, counter: dict) -> None:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    for f in frames:
        if not isinstance(f, bytes):
            continue
        counter["bytes"] = counter.get("bytes", 0) + len(f)
        msg = ForwardMsg.FromString(f)
        if msg.WhichOneof("type") == "new_session":
            key = "fragment runs" if msg.metadata.run.fragment_ids else "whole-page runs"
            counter[key] = counter.get(key, 0) + 1


async def ranking_k(browser, url: str) -> float | None:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(url + "/ranking")
    await idle(page)
    k = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"] [role="slider"]').first
    if not await k.count():
        await context.close()
        return None
    await k.focus()
    start = time.perf_counter()
    await page.keyboard.press("ArrowRight")
    await page.wait_for_timeout(50)
    await idle(page)
    took = time.perf_counter() - start
    await context.close()
    return took


def peak_rss_mb(pgid: int) -> float:
    """The largest peak resident memory (VmHWM) of a process in the server's process group."""
    peak = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError):
            continue
    return peak / 1024


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" ({os.cpu_count()} cores)"


async def time_pages(browser, url: str, pages: list[str], visits: int) -> dict[str, list]:
    out: dict[str, list] = {}
    for path in pages:
        try:
            out[path] = [await open_timed(browser, f"{url}/{path}", HEADLINES[path]) for _ in range(visits)]
        except Exception as exc:  # a page that never shows its headline is a result, not a crash
            out[path] = [f"failed: {type(exc).__name__}"]
    return out


async def time_tabs(browser, url: str, pages: list[str]) -> dict[str, tuple | str]:
    """A new tab of a browser that has the app open already (its HTTP cache holds Streamlit's and
    Plotly's scripts, immutable for a year): what a returning user feels, beside the fresh profile of
    open_timed (a first visit ever)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    first = await context.new_page()
    await first.goto(url + "/ranking")  # a page with charts: Plotly's script is fetched once here
    await idle(first)
    out: dict[str, tuple | str] = {}
    for path in pages:
        tab = await context.new_page()
        try:
            out[path] = await time_tab(tab, f"{url}/{path}", HEADLINES[path])
        except Exception as exc:  # noqa: BLE001 - a result, not a crash
            out[path] = f"failed: {type(exc).__name__}"
        await tab.close()
    await context.close()
    return out


def cell(r) -> str:
    """headline painted (seen by Playwright) | idle"""
    return f"{r[2]:.2f} s ({r[0]:.2f} s) | {r[1]:.2f} s" if isinstance(r, tuple) else f"{r} |"


async def run(db: Path, pages: list[str], sessions: list[int], moves: int,
              browser_sessions: list[int] = ()) -> None:
    from playwright.async_api import async_playwright

    print(f"Before the run: {load_average()}", flush=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        with running_server(db, "bench-browser") as url:
            pid = server_pid(int(url.rsplit(":", 1)[1]))
            first = await time_pages(browser, url, pages, 2)
            tabs = await time_tabs(browser, url, pages)
            server_cpu = (lambda: cpu_seconds(pid)) if pid else None
            if "thresholds" in pages:
                counter: dict = {}
                times = await slider_moves(browser, url, moves, counter, server_cpu)
                cpu = counter.get("server_cpu", float("nan")) / moves
                slider = (f"Thresholds slider, {moves} ArrowRight presses to the new headline (in-browser time): median "
                          f"{statistics.median(times) * 1e3:.0f} ms, p95 {pct(times, 0.95) * 1e3:.0f} ms, max "
                          f"{max(times) * 1e3:.0f} ms; server CPU {cpu * 1e3:.0f} ms per move; per move "
                          f"{counter.get('bytes', 0) / moves / 1e3:.0f} kB from the server, script runs: "
                          f"{counter.get('fragment runs', 0)} fragment, {counter.get('whole-page runs', 0)} whole page")
                print(slider, f"({load_average()})", flush=True)
            if "ranking" in pages:
                took = await ranking_k(browser, url)
                if took is not None:
                    print(f"Ranking: k change to idle {took:.2f} s", flush=True)
            for n in sessions:  # n users on their own machines: the protocol, plus one real tab beside them
                from benchmarks.streamlit_sessions import concurrent

                watcher = await open_thresholds(browser, url)  # opened first: its moves run beside the others'
                cpu0, browsers0, wall0 = cpu_seconds(pid) if pid else 0.0, browser_cpu_seconds(pid), time.perf_counter()
                try:
                    load = await concurrent(url, n, 5, on_opened=lambda: watcher.moves(10))
                except Exception as exc:  # noqa: BLE001 - a failed run is a result
                    load = exc
                await watcher.context.close()
                cpu, wall = (cpu_seconds(pid) - cpu0 if pid else float("nan")), time.perf_counter() - wall0
                if isinstance(load, BaseException):
                    print(f"{n} protocol sessions: failed: {type(load).__name__}: {load}", flush=True)
                    continue
                times, errors, tab = load["moves"], load["errors"], load["beside"]
                why = f" (first: {type(errors[0]).__name__}: {str(errors[0])[:120]})" if errors else ""
                in_tab = (f"median {statistics.median(tab) * 1e3:.0f} ms, p95 {pct(tab, 0.95) * 1e3:.0f} ms"
                          if not isinstance(tab, BaseException) else f"failed: {type(tab).__name__}")
                print(f"{n} concurrent sessions over the websocket (each opens Thresholds, then 5 moves at once with "
                      f"the others): {len(errors)} errors{why}; opening median "
                      f"{statistics.median(load['open']) if load['open'] else float('nan'):.2f} s; move to the new headline "
                      f"(the server's answer) median {statistics.median(times) * 1e3 if times else float('nan'):.0f} ms, "
                      f"p95 {pct(times, 0.95) * 1e3 if times else float('nan'):.0f} ms; meanwhile one browser tab, 10 "
                      f"moves in the browser: {in_tab}; wall {wall:.1f} s; server CPU {cpu:.1f} s "
                      f"({cpu / max(1, n * 6 + 11) * 1e3:.0f} ms per interaction, openings included), browser "
                      f"{browser_cpu_seconds(pid) - browsers0:.1f} s; {load_average()}", flush=True)
            for n in browser_sessions:  # n tabs of one browser on this machine: the browsers' load included
                cpu0 = cpu_seconds(pid) if pid else 0.0
                browsers0 = browser_cpu_seconds(pid)
                wall0 = time.perf_counter()
                counters = [{} for _ in range(n)]
                results = await asyncio.gather(*[slider_moves(browser, url, 5, c, server_cpu) for c in counters],
                                               return_exceptions=True)
                errors = [r for r in results if isinstance(r, BaseException)]
                times = [t for r in results if not isinstance(r, BaseException) for t in r]
                cpu = cpu_seconds(pid) - cpu0 if pid else float("nan")
                browsers = browser_cpu_seconds(pid) - browsers0
                wall = time.perf_counter() - wall0
                p95 = f"{pct(times, 0.95) * 1e3:.0f} ms" if times else "n/a"
                why = f" (first: {type(errors[0]).__name__}: {str(errors[0])[:120]})" if errors else ""
                print(f"{n} concurrent browser tabs (each opens Thresholds, then 5 moves): "
                      f"{len(errors)} errors{why}, slider median "
                      f"{statistics.median(times) * 1e3 if times else float('nan'):.0f} ms, p95 {p95} (in-browser "
                      f"times); wall {wall:.1f} s; CPU: server {cpu:.1f} s ({cpu / max(1, n * 6) * 1e3:.0f} ms per "
                      f"interaction, page openings included), browsers and Playwright {browsers:.1f} s; "
                      f"{load_average()}", flush=True)
            if pid:
                print(f"Server process peak resident memory (VmHWM): {peak_rss_mb(pid):,.0f} MB", flush=True)
        with running_server(db, "bench-browser-restart") as url:  # same HOME: the disk cache is kept
            again = await time_pages(browser, url, pages, 1)
        await browser.close()
    print("\nHeadline: the frame it was painted in, by the browser's clock (in brackets: when Playwright saw it).")
    print("\n| page | headline visible, cold | idle, cold | headline visible, warm | idle, warm "
          "| headline visible, restarted | idle, restarted |")
    print("|---|---|---|---|---|---|---|")
    for path in pages:
        runs = first[path] + [None] * (2 - len(first[path]))
        print(f"| {path or 'home'} | {cell(runs[0])} | {cell(runs[1]) if runs[1] else ' |'} | {cell(again[path][0])} |")
    print("\nWarm server, a new tab beside an open one (the browser's cache holds the app's scripts):\n"
          "| page | headline visible | idle |\n|---|---|---|")
    for path in pages:
        print(f"| {path or 'home'} | {cell(tabs[path])}")
    print(f"\nAfter the run: {load_average()}", flush=True)


def generated_db(n: int, tmp: Path) -> Path:
    """N continuous float64 scores (bench_thresholds' data), loaded through ingest."""
    import subprocess

    db = tmp / "bench.duckdb"
    bench = Path(__file__).with_name("bench_thresholds.py")
    env = {**os.environ, "BENCH_SCORE_KIND": "float64"}
    for side in ("prepare", "load"):
        subprocess.run([sys.executable, str(bench), "--side", side, "--rows", str(n), "--db", str(db)],
                       check=True, env=env, capture_output=True)
    return db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", action="store_true", help="build the demo and time every page")
    parser.add_argument("--rows", type=int, default=0, help="generate N continuous scores; time Thresholds")
    parser.add_argument("--db", default="")
    parser.add_argument("--sessions", type=int, nargs="*", default=[1, 5, 20],
                        help="N sessions over Streamlit's websocket protocol (no browser each) and one real tab")
    parser.add_argument("--browser-sessions", type=int, nargs="*", default=[],
                        help="N tabs of one headless browser on this machine (their CPU included)")
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--pages", nargs="*", default=None, help="only these url paths ('' = home)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = fresh_home_and_db(Path(tmp), args.demo, args.db)
        if args.demo:
            pages = list(HEADLINES)
        elif args.rows:
            db, pages = generated_db(args.rows, Path(tmp)), ["thresholds"]
        else:
            db, pages = Path(args.db), list(HEADLINES)
        pages = pages if args.pages is None else [p for p in args.pages if p in HEADLINES]
        asyncio.run(run(db, pages, args.sessions, args.moves, args.browser_sessions))


if __name__ == "__main__":
    main()
