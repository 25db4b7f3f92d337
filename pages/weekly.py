"""Weekly review: what moved this week, ordered by how unusual, with alerts, decisions and an export."""

import pandas as pd
import streamlit as st

from dashboard.export import figures
from dashboard.export.format import pct, value
from dashboard.format import change, interval
from dashboard.metrics.week_verdict import ALERT_ALPHA, VERDICT_ALPHA
from dashboard.paths import PAGES_DIR
from dashboard.services import weekly as svc
from dashboard.ui import state
from dashboard.ui.db import call
from dashboard.ui.weekly_export import export_buttons
from dashboard.ui.text import md

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

st.title(md(review["title"]))
export_buttons(review)

moved = [r for r in metrics if r["status"] in ("worse", "better", "unusual")]
st.markdown("**" + ("; ".join(f"{md(r['name'])} {md(pct(r['wow']))} ({r['status']})" for r in moved[:4])
                    or "Nothing moved beyond its usual range this week") + "**")
false = review["expected_false"]
st.caption(
    "Each metric's week is judged against what was expected: the change the same week had a year ago (holidays "
    "and seasons cancel) and the spread of its past weekly changes (a year of them, so autocorrelation and "
    "outliers are in the reference). *better*/*worse*: the change left its usual range (an unchanged metric does "
    f"so in {VERDICT_ALPHA:.0%} of weeks); alerts: beyond the {ALERT_ALPHA:.0%} threshold in the bad direction. "
    f"With {len(metrics)} metrics, expect about {false['verdicts']:.1f} better/worse readings and "
    f"{false['alerts']:.2f} alerts a week by chance alone"
    + (f" (one false alert every {1 / false['alerts']:.0f} weeks)" if false["alerts"] else "")
    + ". Weekly value = mean of the daily values; ordered by how unusual.")
table = pd.DataFrame([{
    "metric": r["name"], "level": r["level"], "this week": value(r["value"], r.get("unit")),
    "vs last week": pct(r["wow"]), "expected": pct(r["expected"]),
    "usual range": interval(r["usual_low"], r["usual_high"], change),
    "vs a year ago": pct(r["yoy"]),
    "last 12 weeks": [v for v in r["sparkline"] if v is not None], "reading": r["status"],
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
    box(f"**{md(a['kind'])}: {md(a['title'])}**  \n{md(a['detail'])}")
    st.page_link(str(PAGES_DIR / a["page"]), label=f"Explained on: {md(a['link_label'])}", icon=":material/arrow_forward:",
                 query_params=a.get("query"))  # the alert's context (model, segment, week), where it has one

st.subheader("Decisions of the week")
if not review["decisions"]:
    st.caption("No experiment ended this week or awaits a decision.")


def _open_launch(experiment_id: str) -> None:
    state.set_value("exp", experiment_id)


for d in review["decisions"]:
    with st.container(border=True):
        st.markdown(f"**{md(d['experiment_id'])} · {md(d['name'])}** — ended {d['end_date']} ({md(d['status'])}).  \n"
                    f"Recommendation: **{md(d['headline'])}**")
        for reason in d["reasons"]:
            st.markdown(f"- {md(reason)}")
        if st.button("Open in Launch review", key=f"open-{d['experiment_id']}", on_click=_open_launch,
                     args=(d["experiment_id"],)):
            st.switch_page(str(PAGES_DIR / "launch_review.py"))

if review["annotations"]:
    with st.expander(f"Launches and events, last 12 weeks ({len(review['annotations'])})"):
        st.dataframe(pd.DataFrame(review["annotations"]), hide_index=True, width="stretch")
