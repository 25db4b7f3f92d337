"""Weekly review: what moved this week, ordered by how unusual, with alerts, decisions and an export."""

import pandas as pd
import streamlit as st

from dashboard.export import figures
from dashboard.export.format import pct, value, z
from dashboard.paths import PAGES_DIR
from dashboard.services import weekly as svc
from dashboard.ui import state
from dashboard.ui.db import call
from dashboard.ui.weekly_export import export_buttons

weeks = call(svc.available_weeks)
if not weeks:
    st.title("Weekly review")
    st.info("No daily metrics are loaded. Load a `daily` file (date, metric, value) on the Data page; "
            "the weekly review reads it, the metric tree and the experiments.")
    st.stop()

with st.sidebar:
    week = state.persist("week", weeks[0], valid=lambda v: v in weeks)
    st.selectbox("Week", weeks, key=state.widget_key("week"), on_change=state.on_change("week"),
                 help="ISO weeks (Monday to Sunday) the daily data covers completely; newest first.")
review = call(svc.week_review, week)
metrics = review["metrics"]
names = [r["metric"] for r in metrics]
with st.sidebar:
    chart_metric = state.persist("week.metric", names[0], valid=lambda v: v in names)
    st.selectbox("Chart", names, key=state.widget_key("week.metric"), on_change=state.on_change("week.metric"),
                 format_func=lambda m: next(r["name"] for r in metrics if r["metric"] == m))
state.sync_url(["week", "week.metric"])

st.title(review["title"])
export_buttons(review)

moved = [r for r in metrics if r["status"] in ("worse", "better")]
st.markdown("**" + ("; ".join(f"{r['name']} {pct(r['wow'])} ({r['status']})" for r in moved[:4])
                    or "Nothing moved beyond its usual week-to-week variation") + "**")
st.caption("Ordered by how unusual the change is: z = this week's change against the metric's own last 26 "
           "weekly changes (median and MAD, so past holidays and outages do not mask a real move). Weekly value = "
           "mean of the daily values. *worse*/*better*: |z| ≥ 2 in the metric's bad/good direction (from the "
           "metric tree).")
table = pd.DataFrame([{
    "metric": r["name"], "level": r["level"], "this week": value(r["value"], r.get("unit")),
    "vs last week": pct(r["wow"]), "vs a year ago": pct(r["yoy"]), "z": z(r["z"]),
    "last 12 weeks": [v for v in r["sparkline"] if v is not None], "reading": r["status"],
    "guardrail": "" if not r["guardrail"] else ("breached" if r["guardrail"]["breached"] else "ok"),
} for r in metrics])
st.dataframe(table, hide_index=True, width="stretch",
             column_config={"last 12 weeks": st.column_config.LineChartColumn("last 12 weeks", width="medium")})

row = next(r for r in metrics if r["metric"] == chart_metric)
st.plotly_chart(figures.timeseries_figure(review, row), width="stretch")
st.caption("Dotted lines: launches (shipped experiments) and other dated events from the `events` table; the "
           "shaded band is the reviewed week.")

st.subheader(f"Alerts ({len(review['alerts'])})")
if not review["alerts"]:
    st.success("No alerts this week.")
for i, a in enumerate(review["alerts"]):
    box = st.error if a["severity"] == "high" else st.warning
    box(f"**{a['kind']}: {a['title']}**  \n{a['detail']}")
    st.page_link(str(PAGES_DIR / a["page"]), label=f"Explained on: {a['link_label']}", icon=":material/arrow_forward:")

st.subheader("Decisions of the week")
if not review["decisions"]:
    st.caption("No experiment ended this week or awaits a decision.")


def _open_launch(experiment_id: str) -> None:
    state.set_value("exp", experiment_id)


for d in review["decisions"]:
    with st.container(border=True):
        st.markdown(f"**{d['experiment_id']} · {d['name']}** — ended {d['end_date']} ({d['status']}).  \n"
                    f"Recommendation: **{d['headline']}**")
        for reason in d["reasons"]:
            st.markdown(f"- {reason}")
        if st.button("Open in Launch review", key=f"open-{d['experiment_id']}", on_click=_open_launch,
                     args=(d["experiment_id"],)):
            st.switch_page(str(PAGES_DIR / "launch_review.py"))

if review["annotations"]:
    with st.expander(f"Launches and events, last 12 weeks ({len(review['annotations'])})"):
        st.dataframe(pd.DataFrame(review["annotations"]), hide_index=True, width="stretch")
