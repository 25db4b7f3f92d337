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
    assert re.match(r"^\$[\d,]+(\.\d\d)?$", metric_value(page, "Money missed per day"))
    screenshot(page, "thresholds-slider-moved")


def test_opens_at_production_threshold_with_log_fpr_roc(page, server):
    open_page(page, server, "thresholds?thr.model=fraud-v3", "production threshold of fraud-v3")
    thumb = page.locator('[data-testid="stSlider"] input[type="range"]')
    assert thumb.get_attribute("aria-valuetext") == "0.3500"
    page.locator('[data-testid="stVegaLiteChart"] svg text', has_text="ROC (log FPR)").first.wait_for(timeout=20_000)
    screenshot(page, "thresholds-production-log-roc")


def test_drift_alert_link_opens_the_drift_view(page, server):
    from dashboard.services.thresholds_drift import link_params
    from urllib.parse import urlencode

    open_page(page, server, "thresholds?" + urlencode(link_params("fraud-v3", "device", "android", "2026-W47")),
              "Score drift of fraud-v3, device = android")
    assert metric_value(page, "PSI vs baseline") not in ("", "n/a")
    assert "thr.week=2026-W47" in page.url
    page.locator('[data-testid="stVegaLiteChart"] svg text', has_text="PSI by week").first.wait_for(timeout=60_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    screenshot(page, "thresholds-drift")


def test_weekly_drift_alert_lands_on_its_model_segment_and_week(page, server):
    # the session last showed another model: the alert's link must still win
    open_page(page, server, "thresholds?thr.model=fraud-v1", "At threshold")
    page.locator('[data-testid="stSidebarNav"] a', has_text="Weekly review").first.click()
    wait_idle(page, "Alerts")
    link = page.locator('a[href*="thr.view=drift"][href*="device%3Dandroid"]').first
    href = link.get_attribute("href")
    assert "thr.model=fraud-v3" in href
    link.click()
    wait_idle(page, "Score drift of fraud-v3, device = android")
    week = re.search(r"thr\.week=([0-9]{4}-W[0-9]{2})", href).group(1)
    assert f"thr.week={week}" in page.url and "thr.model=fraud-v3" in page.url
    psi = float(metric_value(page, "PSI vs baseline"))
    assert psi > 0.1  # the planted fraud-v3 android shift
    screenshot(page, "thresholds-drift-from-weekly-alert")
