"""No request leaves the machine: every page of the demo, its favicon and fonts, come from the server."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from dashboard.ui.app_pages import available_pages
from tests.browser.conftest import open_page

pytestmark = pytest.mark.browser
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def test_every_request_goes_to_the_local_server(page, server):
    outside: list[str] = []

    def record(request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOOPBACK:
            outside.append(request.url)

    page.on("request", record)
    for _script, _title, _icon, _section, url in available_pages():
        open_page(page, server, url if url != "home" else "")
        page.wait_for_timeout(500)  # the favicon is requested after the page settles
        # headless Chromium may not report the favicon's request: read where the page points it
        for href in page.eval_on_selector_all('link[rel~="icon"]', "els => els.map(e => e.href)"):
            parsed = urlparse(href)
            if parsed.scheme != "data" and parsed.hostname not in LOOPBACK:
                outside.append(href)
    assert outside == []
