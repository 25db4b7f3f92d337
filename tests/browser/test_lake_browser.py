"""A database holding only summaries (the demo's logs exported as partitioned Parquet, then
`summarize`d) opens in a real browser: the same thresholds and ranking findings, and the figures
that need raw rows say so."""

from __future__ import annotations

import duckdb
import pytest

from dashboard.cli import main
from tests.browser.conftest import open_page, running_server, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lake_server(demo_db, tmp_path_factory):
    root = tmp_path_factory.mktemp("lake_demo")
    con = duckdb.connect(str(demo_db), read_only=True)
    con.execute(f"COPY (SELECT *, CAST(ts AS DATE) AS day FROM predictions) TO '{root}/preds' "
                "(FORMAT parquet, PARTITION_BY (day))")
    con.execute(f"COPY rankings TO '{root}/runs.parquet' (FORMAT parquet)")
    con.execute(f"COPY qrels TO '{root}/qrels.parquet' (FORMAT parquet)")
    con.execute(f"COPY queries TO '{root}/queries.parquet' (FORMAT parquet)")
    con.close()
    db = root / "summaries.duckdb"
    assert main(["summarize", "predictions", "--source", str(root / "preds"), "--db", str(db)]) == 0
    assert main(["summarize", "rankings", "--source", str(root / "runs.parquet"), "--qrels", str(root / "qrels.parquet"),
                 "--queries", str(root / "queries.parquet"), "--db", str(db)]) == 0
    with running_server(db, "lake-server") as url:
        yield url


def test_thresholds_and_ranking_from_summaries_alone(page, lake_server):
    open_page(page, lake_server, "thresholds?thr.model=fraud-v3&thr.compare=fraud-v2&thr.by=country",
              "Average precision (binned)")
    assert page.get_by_text("only their summaries are loaded", exact=False).count() >= 1
    page.locator('[data-testid="stVegaLiteChart"] svg').first.wait_for()
    screenshot(page, "lake-thresholds-summaries-only")
    open_page(page, lake_server, "ranking?rank.model=search-v3&rank.baseline=search-v2&rank.by=user_tier",
              "By user_tier")
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="Regression under a rising average")
    assert alert.count() == 1 and "user_tier=power" in alert.inner_text()
    screenshot(page, "lake-ranking-summaries-only")
    open_page(page, lake_server, "data", "summarize")
    screenshot(page, "lake-data-page")
