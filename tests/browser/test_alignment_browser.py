"""Online vs offline in a real browser: the proxy that tracks retention, the one that does not."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, screenshot

pytestmark = pytest.mark.browser


def test_good_proxy_bad_proxy_and_broken_experiments(page, server):
    open_page(page, server, "alignment?align.proxy=online:task_success&align.target=online:retention_7d",
              "Which proxy does the history support")
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Task success tracks 7-day retention" in body
    page.locator('[data-testid="stVegaLiteChart"] svg').first.wait_for()
    screenshot(page, "alignment-task-success")

    open_page(page, server, "alignment?align.proxy=online:ctr&align.target=online:retention_7d", "Where the proxy broke")
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Click-through rate does not reliably track 7-day retention" in body
    assert "Expected 7-day retention lift" not in body  # a failing proxy gets no big number
    screenshot(page, "alignment-ctr")

    open_page(page, server, "alignment?align.proxy=offline:ndcg@10&align.target=online:retention_7d", "Where the proxy broke")
    assert "E045" in page.locator('[data-testid="stMain"]').inner_text()
    screenshot(page, "alignment-ndcg")


def test_wide_tables_fit_at_1440(page, server):
    """No leaderboard or edge table is cut off on the right at a laptop width."""
    page.set_viewport_size({"width": 1440, "height": 1000})
    open_page(page, server, "alignment", "Which proxy does the history support")
    page.locator('[data-testid="stDataFrame"] .dvn-scroller').first.wait_for(timeout=30_000)  # lazily loaded grid
    for frame in page.locator('[data-testid="stDataFrame"]').all():
        frame.scroll_into_view_if_needed()
        box = frame.bounding_box()
        assert box and box["x"] + box["width"] <= 1440
        scroller = frame.locator(".dvn-scroller").first
        if scroller.count():
            assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth + 2"), "table scrolls sideways"
    screenshot(page, "alignment-1440")
