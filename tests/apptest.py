"""Helpers for Streamlit AppTest tests of single pages."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.paths import PACKAGE_DIR, PAGES_DIR
from dashboard.ui.deferred import painted_key

ENTRY = str(PACKAGE_DIR / "ui" / "app.py")


def run_page(script: str, query: dict[str, str] | None = None, timeout: float = 60, painted: bool = True) -> AppTest:
    """Run the app and switch to one page (pages/<script>), failing on any exception shown. painted:
    as after the browser's first paint of the page (dashboard/ui/deferred.py), which AppTest has not."""
    at = AppTest.from_file(ENTRY, default_timeout=timeout)
    if painted:
        at.session_state[painted_key(Path(script).stem)] = True
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if script != "home.py":
        at.switch_page(str(PAGES_DIR / script))
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
