"""A logged ranking on the Ranking page in a real browser, against a scored baseline."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_page, running_server, screenshot
from tests.test_ranking_logged import logged_and_scored_db

pytestmark = pytest.mark.browser


def test_logged_ranking_is_named_and_compared(page, tmp_path):
    db = logged_and_scored_db(tmp_path)
    with running_server(db, "logged") as url:
        open_page(page, url, "ranking?rank.model=feed-logged&rank.baseline=feed-scored&rank.by=tier&rank.min=10", "is a logged ranking")
        text = page.locator('[data-testid="stMain"]').inner_text()
        assert "feed-logged is a logged ranking: ordered by served position" in text
        assert "feed-scored is ordered by score, judged by the qrels" in text
        page.locator('[data-testid="stVegaLiteChart"] svg').first.wait_for()  # the segment bars and forest plot
        assert "By tier" in text
        screenshot(page, "ranking-logged-vs-scored")
