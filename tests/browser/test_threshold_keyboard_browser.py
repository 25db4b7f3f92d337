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


def test_slider_moves_replace_the_history_entry_and_the_link_follows(page, server, browser):
    """Each move used to push a browser history entry (Back stepped through every threshold); a move
    now replaces the entry, the URL still carries the threshold, and that link opens on it."""
    open_page(page, server, "thresholds?thr.model=fraud-v2&thr.t=0.3", "At threshold 0.3000")
    thumb = page.locator('[data-testid="stSlider"] input[type="range"]')
    heading = page.get_by_text("At threshold", exact=False).first
    length = page.evaluate("history.length")
    thumb.focus()
    for k in range(1, 5):
        page.keyboard.press("ArrowRight")
        wait_idle(page)
        assert heading.inner_text().startswith(f"At threshold {0.3 + k / 1000:.4f}")
    assert page.evaluate("history.length") == length
    assert "thr.t=0.304" in page.url and "thr.model=fraud-v2" in page.url
    link = page.url
    other = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
    try:
        other.goto(link)
        wait_idle(other, "At threshold 0.3040")
    finally:
        other.context.close()
    # a choice other than the threshold is still a step Back can undo
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="fraud-v3").click()
    wait_idle(page)
    assert "thr.model=fraud-v3" in page.url
    assert page.evaluate("history.length") == length + 1
