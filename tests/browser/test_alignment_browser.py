"""Online vs offline in a real browser: the proxy that tracks retention, the one that does not."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, screenshot

pytestmark = pytest.mark.browser


def test_good_proxy_bad_proxy_and_broken_experiments(page, server):
    open_page(page, server, "alignment?align.proxy=online:task_success&align.target=online:retention_7d",
              "Which proxy does the history support")
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Task success (online) tracks 7-day retention (online)" in body
    page.locator(".js-plotly-plot").first.wait_for()
    screenshot(page, "alignment-task-success")

    open_page(page, server, "alignment?align.proxy=online:ctr&align.target=online:retention_7d", "Where the proxy broke")
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Click-through rate (online) does not reliably track 7-day retention (online)" in body
    screenshot(page, "alignment-ctr")

    open_page(page, server, "alignment?align.proxy=offline:ndcg@10&align.target=online:retention_7d", "Where the proxy broke")
    assert "E045" in page.locator('[data-testid="stMain"]').inner_text()
    screenshot(page, "alignment-ndcg")
