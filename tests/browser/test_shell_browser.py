"""The real app in headless Chromium: every page in the navigation opens without an exception."""

from __future__ import annotations

import pytest

from dashboard.ui.app_pages import available_pages
from tests.browser.conftest import open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser


def test_home_opens_and_links_to_pages(page, server):
    open_page(page, server, "", "This week")
    screenshot(page, "home")
    page.get_by_role("link", name="Data").first.click()
    wait_idle(page, "Last refused load")
    assert "/data" in page.url


@pytest.mark.parametrize("width", [1440, 1024])
def test_home_path_opens_home_on_this_week(page, server, width):
    page.set_viewport_size({"width": width, "height": 1400})
    open_page(page, server, "home", "Decisions waiting")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Page not found" not in main and "This week" in main and "Alerts (" in main
    screenshot(page, f"home-{width}")
    page.get_by_role("link", name="Weekly review").last.click()  # the top moves lead to the review
    wait_idle(page, "Alerts")
    assert "/weekly" in page.url


def test_home_decision_opens_launch_review_on_its_experiment(page, server):
    open_page(page, server, "home", "Decisions waiting")
    page.get_by_role("button", name="Open in Launch review").first.click()
    wait_idle(page, "Launch review")
    assert "/launch" in page.url and "exp=E0" in page.url
    assert "Roll back" in page.locator('[data-testid="stMain"]').inner_text()


@pytest.mark.parametrize("width", [1440, 1024])
@pytest.mark.parametrize("script,title,url", [(p[0], p[1], p[4]) for p in available_pages()])
def test_every_page_opens(page, server, script, title, url, width):
    page.set_viewport_size({"width": width, "height": 2400})
    open_page(page, server, url)
    # the sidebar navigation lists the page and the main area rendered something
    assert page.locator('[data-testid="stSidebarNav"]').get_by_text(title).count() >= 1
    assert page.locator('[data-testid="stMain"]').inner_text().strip()
    # nothing pushes the page sideways (a projector at 1024 px shows what a laptop does)
    overflow = page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                             " return m.scrollWidth - m.clientWidth; }")
    assert overflow <= 1, f"{url} at {width} px scrolls sideways by {overflow} px"
    screenshot(page, f"page-{url}-{width}")
