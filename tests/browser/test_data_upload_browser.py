"""Data page upload in the real browser: a bad Parquet file is refused with its row and column (read
in place by DuckDB), a good one loads. The page reruns after a load so the tables above include it;
those are canvas grids, so the screenshot shows that and the test checks the stored rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard.store.ingest import ingest_file
from tests.browser.conftest import open_page, running_server, screenshot, wait_idle

pytestmark = pytest.mark.browser
EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("upload") / "small.duckdb"
    ingest_file(db, "predictions", EXAMPLES / "predictions.csv")
    return db


@pytest.fixture(scope="module")
def small_server(small_db):
    with running_server(small_db, "upload-server", ("--allow-uploads",)) as url:
        yield url


def upload(page, path: Path, expect: str) -> None:
    page.set_input_files('[data-testid="stFileUploader"] input[type=file]', str(path))
    page.get_by_text(path.name).first.wait_for()
    page.get_by_role("button", name="Validate and load").click()
    wait_idle(page, expect)


def test_parquet_upload_refused_then_loaded(page, small_server, small_db, tmp_path):
    bad, good = tmp_path / "bad_upload.parquet", tmp_path / "good_upload.parquet"
    pd.DataFrame({"model": ["up-1"] * 3, "score": [0.2, float("nan"), 0.9], "label": [0, 1, 1]}).to_parquet(bad)
    pd.DataFrame({"model": ["up-1"] * 4, "score": [0.2, 0.4, 0.9, 0.7], "label": [0, 1, 1, 0]}).to_parquet(good)
    open_page(page, small_server, "data", "Load a file")
    upload(page, bad, "was refused; nothing was changed")
    main = page.locator('[data-testid="stMain"]')
    assert "bad_upload.parquet, row 2, column 'score': is empty; expected a finite number" in main.inner_text()
    upload(page, good, "Loaded 4 rows from")
    screenshot(page, "data-upload-parquet")  # the tables (canvas grids) show 14 rows, 2 files
    con = duckdb.connect(str(small_db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM predictions WHERE model = 'up-1'").fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM load_log WHERE status = 'loaded'").fetchone()[0] == 2
    finally:
        con.close()
