"""Browser tests: the real server (`python -m dashboard serve`) driven by Debian's chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.ui.deferred import PENDING_PREFIX
from tests.conftest import ARTIFACTS

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# idle: no script running and no chart still waiting for its deferred draw (dashboard/ui/deferred.py)
APP_IDLE = f'[data-testid="stApp"][data-test-script-state="notRunning"]:not(:has([class*="st-key-{PENDING_PREFIX}"]))'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(db: Path, name: str = "server", extra_args: tuple[str, ...] = ()):
    """`python -m dashboard serve` on a free port, from an unrelated working directory; yields the URL."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"{name}-{port}.log", "w")
    # own process group, so stopping it stops everything it started
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "serve", "--db", str(db), "--port", str(port), *extra_args],
        cwd="/", stdout=log, stderr=subprocess.STDOUT, start_new_session=True,  # any working directory must do
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the dashboard server did not start in 90 s")
    try:
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def server(demo_db):
    with running_server(demo_db) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (scripts/test.sh installs it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 2400})
    pg = context.new_page()
    yield pg
    context.close()


def wait_idle(page, text: str | None = None, timeout: float = 60_000) -> None:
    """Wait for `text` to appear, then for the script run to finish; fail on a shown exception."""
    if text:
        page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)
    page.wait_for_selector(APP_IDLE, timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector(APP_IDLE, timeout=timeout)
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()


def open_page(page, server: str, path: str, text: str | None = None) -> None:
    page.goto(f"{server}/{path}")
    wait_idle(page, text)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
