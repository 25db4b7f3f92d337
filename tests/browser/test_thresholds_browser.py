"""Thresholds in a real browser: find recall at 95% precision; a PM reads the cost per day."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser


def metric_value(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_recall_at_95_precision_and_slider(page, server):
    open_page(page, server, "thresholds?thr.model=fraud-v3&thr.by=country&thr.floor=0.95", "The same threshold by")
    thumb = page.locator('[data-testid="stSlider"] input[type="range"]')
    before = thumb.get_attribute("aria-valuetext")
    page.get_by_role("button", name="Move the slider here").click()
    wait_idle(page)
    after = thumb.get_attribute("aria-valuetext")
    assert after != before
    assert float(metric_value(page, "Precision").rstrip("%")) >= 95.0
    assert "thr.t=" in page.url  # the view is a link
    screenshot(page, "thresholds-95-precision")

    alerts = metric_value(page, "Alerts per day")
    thumb.focus()
    page.keyboard.press("PageDown")  # a tenth of the range down: many more alerts
    wait_idle(page)
    assert metric_value(page, "Alerts per day") != alerts
    assert re.match(r"^\$[\d,]+$", metric_value(page, "Money missed per day"))
    screenshot(page, "thresholds-slider-moved")
