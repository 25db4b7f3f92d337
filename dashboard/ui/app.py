"""Streamlit entry point: `python -m dashboard serve` runs this file.

Pages live in the top-level pages/ folder (listed in ui/app_pages.py); a page whose script is
not there is not listed.
"""

from __future__ import annotations

import streamlit as st

from dashboard.paths import PAGES_DIR
from dashboard.ui.app_pages import FAVICON, available_pages
from dashboard.ui import warm
from dashboard.ui.auth import require_login
from dashboard.ui.db import db_path


def _home_alias(home):
    def go_home() -> None:
        st.switch_page(home)

    return go_home


def main() -> None:
    st.set_page_config(page_title="Offline → online", page_icon=FAVICON, layout="wide")
    sections: dict[str, list] = {}
    for script, title, icon, section, url in available_pages():
        home = script == "home.py"
        # the default page is served at "/" but reserves its own path, which the alias below takes
        page = st.Page(str(PAGES_DIR / script), title=title, icon=icon, url_path="index" if home else url,
                       default=home)
        sections.setdefault(section, []).append(page)
        if home:  # "/home" opens Home too, not "Page not found"
            sections[section].append(st.Page(_home_alias(page), title=title, icon=icon, url_path=url,
                                             visibility="hidden"))
    nav = st.navigation(sections)
    require_login()
    if not db_path().exists():
        st.error(f"No database `{db_path().name}` on the server. Build the demo with `python -m dashboard demo` "
                 "or load your files with `python -m dashboard ingest`.")
        st.stop()
    st.sidebar.caption(f"Database: `{db_path().name}`")
    try:
        nav.run()
    finally:  # once the page is drawn: the slow pages' results, computed in the background once per data version
        warm.start()


main()
