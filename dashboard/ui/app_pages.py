"""Links to the pages that exist in this version."""

from __future__ import annotations

import streamlit as st

from dashboard.paths import PAGES_DIR

# an emoji favicon is drawn in the browser; a :material: one is fetched from fonts.gstatic.com
FAVICON = "📈"
# (script, title, icon, section, url path)
PAGES = [
    ("home.py", "Home", ":material/home:", "Overview", "home"),
    ("weekly.py", "Weekly review", ":material/calendar_month:", "Overview", "weekly"),
    ("launch_review.py", "Launch review", ":material/rocket_launch:", "Decide", "launch"),
    ("alignment.py", "Online vs offline", ":material/scatter_plot:", "Decide", "alignment"),
    ("metric_tree.py", "Metric tree", ":material/account_tree:", "Decide", "tree"),
    ("thresholds.py", "Thresholds", ":material/tune:", "Models", "thresholds"),
    ("ranking.py", "Ranking", ":material/format_list_numbered:", "Models", "ranking"),
    ("data.py", "Data", ":material/database:", "Data", "data"),
]


def available_pages() -> list[tuple[str, str, str, str, str]]:
    return [p for p in PAGES if (PAGES_DIR / p[0]).exists()]


# script -> who it is for and what it answers
PURPOSE = {
    "weekly.py": "Weekly metric review: what moved this week, ordered by how unusual, with alerts and an export.",
    "launch_review.py": "For a PM: one experiment's scorecard, guardrails and a ship / hold / roll back recommendation.",
    "alignment.py": "Across past experiments: does offline lift predict online lift? Which proxy can we trust?",
    "metric_tree.py": "The cascade from business metric to model metric, each node's value and movement.",
    "thresholds.py": "For ML engineers: PR/ROC curves, the operating threshold and what it costs per day, by segment.",
    "ranking.py": "NDCG, MRR and recall by segment, baseline vs candidate, with intervals.",
    "data.py": "What is loaded, from where, and the problems of the last refused file.",
}


def page_links() -> None:
    for script, title, icon, _section, _url in available_pages():
        if script == "home.py":
            continue
        st.page_link(str(PAGES_DIR / script), label=f"**{title}** — {PURPOSE.get(script, '')}", icon=icon)
