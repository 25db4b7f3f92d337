"""Home: this week in one screen (top moves, alerts, decisions waiting), each linking to its page.

Everything comes from the Weekly review's service (week_review), so Home and Weekly review
always agree; nothing is recomputed here.
"""

import streamlit as st

from dashboard import format as fmt
from dashboard.paths import PAGES_DIR
from dashboard.services import overview
from dashboard.services import weekly as weekly_svc
from dashboard.ui import state
from dashboard.ui.app_pages import page_links
from dashboard.ui.db import call
from dashboard.ui.text import md

MOVES, ALERTS = 4, 5

tables = call(overview.tables)
weeks = call(weekly_svc.available_weeks)
review = call(weekly_svc.week_review, weeks[0]) if weeks else None

if review is None:
    st.title("Do our model improvements turn into business value?")
    st.markdown("Teams ship models that win offline (NDCG +8%) and lose online (retention −1.5%). This dashboard "
                "puts the offline metrics, the online experiments and the business metrics side by side, so the "
                "gap is visible and a decision can be defended.")
    if not tables:
        st.warning("The database is empty. Load files with `python -m dashboard ingest KIND PATH` "
                   "(see the README), or build the demo with `python -m dashboard demo`.")
    else:
        st.info("No daily metrics are loaded, so there is no week to summarise: load a `daily` file on the Data page.")
else:
    st.title(f"This week: {review['week']}")
    st.caption(f"{review['start']:%a %d %b} to {review['end']:%a %d %b %Y}, the last complete week: its most unusual "
               "moves, alerts and the decisions waiting, from the Weekly review, where each is explained.")

    # ---- top moves: the Weekly review's order (most unusual first)
    cols = st.columns(MOVES)
    for col, r in zip(cols, [r for r in review["metrics"] if r["value"] is not None][:MOVES]):
        col.metric(r["name"], fmt.value(r["value"], r.get("unit")),
                   f"{fmt.change(r['wow'])} vs last week · {r['status']}" if r["wow"] is not None else None,
                   delta_color="normal" if r.get("direction", "higher") == "higher" else "inverse",
                   border=True)
    st.page_link(str(PAGES_DIR / "weekly.py"), label="Every metric, charts and the export: **Weekly review**",
                 icon=":material/calendar_month:")

    left, right = st.columns(2, gap="large")
    with left:
        alerts = review["alerts"]
        st.subheader(f"Alerts ({len(alerts)})")
        if not alerts:
            st.success("No alerts this week.")
        for a in alerts[:ALERTS]:
            mark = ":red[:material/error:]" if a["severity"] == "high" else ":orange[:material/warning:]"
            st.markdown(f"{mark} **{md(a['kind'])}**: {md(a['title'])}")
            link = a.get("link") or {"page": a["page"], "label": a["link_label"], "params": {}}
            st.page_link(str(PAGES_DIR / link["page"]), label=f"Explained on {md(link['label'])}",
                         icon=":material/arrow_forward:",
                         query_params=state.link_params(link.get("params", {})))  # adopted over the session
        if len(alerts) > ALERTS:
            st.caption(f"{len(alerts) - ALERTS} more on the Weekly review.")
    with right:
        decisions = review["decisions"]
        st.subheader(f"Decisions waiting ({len(decisions)})")
        if not decisions:
            st.caption("No experiment ended this week or awaits a decision.")

        def _open(experiment_id: str) -> None:
            state.set_value("exp", experiment_id)

        for d in decisions:
            st.markdown(f"**{md(d['experiment_id'])} · {md(d['name'])}** (ended {d['end_date']}): **{md(d['headline'])}**")
            if st.button("Open in Launch review", key=f"home-open-{d['experiment_id']}", on_click=_open,
                         args=(d["experiment_id"],), icon=":material/rocket_launch:"):
                st.switch_page(str(PAGES_DIR / "launch_review.py"))

with st.expander("Every page", expanded=review is None):
    page_links()
if tables:
    st.caption("Loaded: " + ", ".join(f"{fmt.count(t.rows)} rows of {t.table.replace('_', ' ')}" for t in tables)
               + " (details on the Data page).")
