"""Home: this week in one screen (top moves, alerts, decisions waiting), each linking to its page.

Everything comes from the Weekly review's service (week_review), so Home and Weekly review
always agree; nothing is recomputed here. The top moves come from week_headline (the review's metric
rows alone, a tenth of a second), the alerts and decisions from the whole review after them; both are
kept (on disk, keyed by the data and tree versions, warmed in the background).
"""

import streamlit as st

from dashboard import format as fmt
from dashboard.paths import PAGES_DIR
from dashboard.services import overview
from dashboard.services import weekly as weekly_svc
from dashboard.ui import state
from dashboard.ui.app_pages import page_links
from dashboard.ui.db import call, call_kept
from dashboard.ui.text import md

MOVES, ALERTS = 4, 5

weeks = call(weekly_svc.available_weeks)
head = call_kept(weekly_svc.week_headline, weeks[0]) if weeks else None  # the metric rows alone: ~0.1 s

if head is None:
    tables = call(overview.tables)
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
    st.title(f"This week: {head['week']}")
    st.caption(f"{head['start']:%a %d %b} to {head['end']:%a %d %b %Y}, the last complete week: its most unusual "
               "moves (change vs the week before; reading against its usual range), alerts and the decisions "
               "waiting, from the Weekly review, where each is explained.")

    # ---- top moves: the Weekly review's order (most unusual first)
    with st.container(horizontal=True, wrap=True):  # four cards in a row at 1440 px, two at 1024
        for r in [r for r in head["metrics"] if r["value"] is not None][:MOVES]:
            st.metric(md(r["name"]), fmt.value(r["value"], r.get("unit")),
                      fmt.change(r["wow"]) if r["wow"] is not None else None,
                      delta_description=r["status"],
                      delta_color="normal" if r.get("direction", "higher") == "higher" else "inverse",
                      border=True, width=220)
    st.page_link(str(PAGES_DIR / "weekly.py"), label="Every metric, charts and the export: **Weekly review**",
                 icon=":material/calendar_month:")

    # alerts and decisions: the whole review (seconds when nothing is kept yet), after the headline
    review = call_kept(weekly_svc.week_review, weeks[0])
    left, right = st.columns(2, gap="large")
    with left:  # the Weekly review's alert groups: one per subject, duplicates merged, with its link
        groups = review["alert_groups"]
        st.subheader(f"Alerts ({len(groups)} subjects)")
        if not groups:
            st.success("No alerts this week.")
        for g in groups[:ALERTS]:
            mark = {"high": ":red[:material/error:]", "medium": ":orange[:material/warning:]"}.get(
                g["severity"], ":blue[:material/info:]")
            first = g["alerts"][0] if g["alerts"] else None
            more = f" (+{len(g['alerts']) - 1} more)" if len(g["alerts"]) > 1 else ""
            if first and first["title"].startswith(g["subject"]):  # "Latency +11.8% week over week"
                st.markdown(f"{mark} **{md(first['title'])}**{more}")
            else:
                st.markdown(f"{mark} **{md(g['subject'])}**" + (f": {md(first['title'])}{more}" if first else ""))
            if len(g["alerts"]) > 1:  # the merged duplicates, so nothing in the group is hidden
                st.caption(" · ".join(md(a["title"]) for a in g["alerts"][1:]))
            link = g["link"]
            st.page_link(str(PAGES_DIR / link["page"]), label=f"Open on {md(link['label'])}",
                         icon=":material/arrow_forward:", query_params=state.link_params(link["params"]))
        if len(groups) > ALERTS:
            st.caption(f"{len(groups) - ALERTS} more on the Weekly review.")
    with right:
        decisions = [g["decision"] for g in review["alert_groups"] if g["decision"]] + review["pending_decisions"]
        st.subheader(f"Decisions waiting ({len(decisions)})")
        if not decisions:
            st.caption("No experiment ended this week or awaits a decision.")
        for d in decisions:
            st.markdown(f"**{md(d['experiment_id'])} · {md(d['name'])}** (ended {d['end_date']}): "
                        f"**{md(d['headline'])}**")
            if st.button("Open in Launch review", key=f"home-open-{d['experiment_id']}",
                         icon=":material/rocket_launch:"):
                st.switch_page(str(PAGES_DIR / "launch_review.py"),
                               query_params=state.link_params({"exp": d["experiment_id"]}))

with st.expander("Every page", expanded=head is None):
    page_links()
tables = call(overview.tables)  # after the headline: only the footer needs it when there is a week
if tables:
    st.caption("Loaded: " + ", ".join(f"{fmt.count(t.rows)} rows of {t.table.replace('_', ' ')}" for t in tables)
               + " (details on the Data page).")
