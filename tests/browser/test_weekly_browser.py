"""Weekly review in a real browser: opens on the last week, retention on top; both exports download."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, open_page, screenshot

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
