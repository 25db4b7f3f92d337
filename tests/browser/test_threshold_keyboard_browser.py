"""Thresholds in a real browser: arrow keys move the threshold by a visible step; a typed value
moves the slider, the headline numbers and the link."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser


def test_arrow_keys_and_typed_threshold(page, server):
    open_page(page, server, "thresholds?thr.model=fraud-v2&thr.t=0.3", "At threshold")
    thumb = page.locator('[data-testid="stSlider"] input[type="range"]')
    heading = page.get_by_text("At threshold", exact=False).first
    assert heading.inner_text().startswith("At threshold 0.3000")
    thumb.focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page)
    moved = float(thumb.get_attribute("aria-valuetext"))
    assert moved == pytest.approx(0.301, abs=1e-9)  # a thousandth of fraud-v2's [0, 1] range
    assert heading.inner_text().startswith("At threshold 0.3010")

    box = page.locator('[data-testid="stNumberInput"]').filter(has_text="Type a threshold").locator("input")
    assert float(box.input_value()) == pytest.approx(0.301)
    box.fill("0.45678")
    box.press("Enter")
    wait_idle(page)
    page.get_by_text("At threshold 0.4567", exact=False).first.wait_for(timeout=10_000)
    assert float(thumb.get_attribute("aria-valuetext")) == pytest.approx(0.4567)
    assert "thr.t=0.4567" in page.url
    screenshot(page, "thresholds-typed-threshold")
