"""Weekly review in a real browser: opens on the last week, retention on top; both exports download;
readable at 1440 and 1024 px; every alert link lands on its subject; the tree agrees on the week."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, open_page, screenshot, wait_idle

pytestmark = pytest.mark.browser


def test_weekly_opens_on_last_week_and_exports(page, server, tmp_path):
    open_page(page, server, "weekly", "Decisions of the week")
    assert "Weekly metric review 2026-W47" in page.locator("h1").first.inner_text()
    first_row = page.locator('[data-testid="stDataFrame"]').first
    first_row.wait_for()
    screenshot(page, "weekly-2026-W47")
    for label, suffix in (("Export HTML", ".html"), ("Export PDF", ".pdf")):
        with page.expect_download(timeout=90_000) as info:
            page.get_by_role("button", name=label).click()
        download = info.value
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        assert target.name == f"weekly-review-2026-W47{suffix}"
        assert target.stat().st_size > 10_000
        data = target.read_bytes()
        assert data.startswith(b"%PDF") if suffix == ".pdf" else b"7-day retention" in data
        (ARTIFACTS / target.name).write_bytes(data)


@pytest.mark.parametrize("width", [1440, 1024])
def test_weekly_layout_is_readable(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 2600})
    page = context.new_page()
    try:
        open_page(page, server, "weekly", "Decisions of the week")
        for label in ("Export HTML", "Export PDF"):  # whole labels, not "Export..."
            button = page.get_by_role("button", name=label)
            button.wait_for(state="visible", timeout=30_000)
            box = button.bounding_box()
            assert box["width"] >= 100, (label, box)
        grid = page.locator('[data-testid="stDataFrame"]').first
        box = grid.bounding_box()
        viewport = page.viewport_size["width"]
        assert box["x"] + box["width"] <= viewport + 1  # the table fits the screen
        screenshot(page, f"weekly-2026-W47-{width}px")
    finally:
        context.close()


def test_alert_links_land_on_their_subject_in_the_browser(page, server):
    open_page(page, server, "weekly", "Decisions of the week")
    # page links are drawn a moment after the script run ends: wait for one per alert subject
    heading = page.get_by_text(re.compile(r"^Alerts \(\d+ subjects\)$")).first.inner_text()
    n_subjects = int(re.search(r"\d+", heading).group())
    links = page.locator('[data-testid="stPageLink-NavLink"]')
    for _ in range(60):
        if links.filter(has_text="Open ").count() >= n_subjects:
            break
        page.wait_for_timeout(500)
    alert_links = []
    for i in range(links.count()):
        label = links.nth(i).inner_text().replace("arrow_forward", "").strip()  # the icon is a ligature
        if label.startswith("Open "):
            alert_links.append((label, links.nth(i).get_attribute("href")))
    assert len(alert_links) >= 5 and all("via=link" in href for _, href in alert_links)
    # click through, in the same session (the sidebar remembers other views of each page)
    for label, _ in alert_links:
        open_page(page, server, "weekly", "Decisions of the week")
        page.locator('[data-testid="stPageLink-NavLink"]', has_text=label).click()
        subject = label.removeprefix("Open ").rsplit(" on ", 1)[0]
        wait_idle(page, subject.split(" · ")[0])
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert subject.split(" · ")[0] in body, (label, body[:400])
        if "Metric tree" in label:
            assert page.locator("h3").first.inner_text() == subject
            assert "2026-11-16..2026-11-22" in body
            screenshot(page, f"tree-from-alert-{subject.replace(' ', '_')}")
        if "Thresholds" in label:
            assert "thr.week=2026-W47" in page.url and "thr.view=drift" in page.url
            assert "Score drift of fraud-v3, device = android" in body
            screenshot(page, "thresholds-from-drift-alert")


def test_tree_over_the_week_agrees_with_weekly(page, server):
    # wait for the node panel's own text: "Revenue per user" alone is already in the sidebar's picker
    open_page(page, server, "tree?mode=period&days=7&week=2026-W47&node=revenue_per_user", "2026-11-16..2026-11-22")
    wait_idle(page, "within normal")
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "within normal" in body and "2026-11-16..2026-11-22" in body
    screenshot(page, "tree-period-2026-W47")
