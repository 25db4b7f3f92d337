"""Every page in the browser on a database holding every odd-but-valid value (constant scores, no `ts`,
hostile markdown in model, segment and experiment names, unicode, UTF-16 and Latin-1 loads): no
exception box and no request to any host but the dashboard itself. And a CLI load while a browser
session keeps rerunning a page: the load succeeds, the page then shows the new model, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

from dashboard.cli import main
from dashboard.store.ingest import PAUSE_ENV
from tests.bad_inputs.corpus import FILES, HOSTILE, VALID
from tests.browser.conftest import running_server, screenshot, wait_idle
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def odd_db(demo_db, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("odd") / "odd.duckdb"
    shutil.copy(demo_db, db)
    for name, kind, _, args in VALID:
        assert main(["ingest", kind, str(FILES / name), "--db", str(db), *args]) == 0, name
    return db


@pytest.fixture(scope="module")
def odd_server(odd_db):
    with running_server(odd_db, "odd-server") as url:
        yield url


def outside(requests: list[str]) -> list[str]:
    return [u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
            and urlparse(u).hostname not in LOCAL]


PAGES = [
    ("home", "home"), ("weekly", "weekly"), ("launch?exp=E9", "launch-hostile"), ("alignment", "alignment"),
    ("tree", "tree"), ("thresholds?thr.model=const", "thresholds-constant"),
    ("thresholds?thr.model=big-const", "thresholds-constant-large"),
    ("thresholds?thr.model=no-ts&thr.compare=const", "thresholds-no-ts"),
    (f"thresholds?thr.model={quote(HOSTILE)}&thr.by=country", "thresholds-hostile"),
    (f"thresholds?thr.model={quote('modèle-ü 🚀')}&thr.by=city", "thresholds-unicode"),
    ("ranking", "ranking"), ("data", "data"),
]


@pytest.mark.parametrize("path,name", PAGES, ids=[p[1] for p in PAGES])
def test_odd_values_render_as_text_and_load_nothing_from_outside(page, odd_server, path, name):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{odd_server}/{path}")
    wait_idle(page)  # fails on an exception box
    page.wait_for_timeout(500)
    screenshot(page, f"odd-{name}")
    assert not outside(requests), outside(requests)
    main_area = page.locator('[data-testid="stMain"]')
    assert main_area.locator('img[src*="198.51.100.7"]').count() == 0  # no image from the data's addresses
    assert main_area.locator('a[href*="198.51.100.7"]').count() == 0
    assert main_area.locator('a[href^="mailto:"]').count() == 0  # an address in the data is text, not a link


def test_hostile_names_show_literally(page, odd_server):
    page.goto(f"{odd_server}/launch?exp=E9")
    wait_idle(page, "E9")
    text = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")  # the invisible joiner
    assert "![x](http://198.51.100.7/beacon.png)" in text and "**bold**" in text and ":red[x]" in text
    assert "$x$" in text and "<b>b</b>" in text and "ops@example.org" in text


def _predictions(path: Path, model: str, rows: int) -> Path:
    with path.open("w") as f:
        f.write("model,score,label\n")
        for i in range(rows):
            f.write(f"{model},{(i * 7919 % 1000) / 1000:.3f},{i % 2}\n")
    return path


def test_cli_load_while_a_page_reruns(page, demo_db, tmp_path):
    db = tmp_path / "live.duckdb"
    shutil.copy(demo_db, db)
    new = _predictions(tmp_path / "yesterday.csv", "loaded-while-open", 50_000)
    err_path = tmp_path / "ingest.err"
    with running_server(db, "live-server") as url:
        page.goto(f"{url}/thresholds")
        wait_idle(page)
        env = dict(os.environ, **{PAUSE_ENV: "4"})  # hold the write transaction while pages rerun
        with err_path.open("w") as err_file:
            load = subprocess.Popen([sys.executable, "-m", "dashboard", "ingest", "predictions", str(new), "--db",
                                     str(db)], env=env, stdout=subprocess.PIPE, stderr=err_file, text=True)
            during = 0
            while load.poll() is None:
                page.goto(f"{url}/thresholds")  # a rerun; while the load holds the file it waits for the commit
                wait_idle(page)  # fails on an exception box
                if "paused inside the open transaction" in err_path.read_text() and load.poll() is None:
                    during += 1
            out = load.communicate()[0]
        err = err_path.read_text()
        assert load.returncode == 0, err
        assert "Traceback" not in err and "loaded 50000 rows" in out
        assert during >= 1  # at least one rerun started while the load held the database
        page.goto(f"{url}/thresholds?thr.model=loaded-while-open")
        wait_idle(page, "loaded-while-open")
        screenshot(page, "live-load-then-page")
    for log in ARTIFACTS.glob("live-server-*.log"):
        assert "Traceback" not in log.read_text()
