"""Ranking in a real browser: the power-user regression is visible and flagged on the demo."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, screenshot

pytestmark = pytest.mark.browser


def test_power_user_regression_flagged(page, server):
    open_page(page, server, "ranking?rank.model=search-v3&rank.baseline=search-v2&rank.by=user_tier", "By user_tier")
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="Regression under a rising average")
    assert alert.count() == 1 and "user_tier=power" in alert.inner_text()
    page.locator(".js-plotly-plot").first.wait_for()
    screenshot(page, "ranking-power-user-trap")
