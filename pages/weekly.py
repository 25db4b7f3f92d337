"""Weekly review: what moved this week, ordered by how unusual, with alerts, decisions and an export."""

import pandas as pd
import streamlit as st

from dashboard.export.format import pct
from dashboard.metrics.week_verdict import ALERT_ALPHA, VERDICT_ALPHA
from dashboard.paths import PAGES_DIR
from dashboard.services import alert_delivery
from dashboard.services import weekly as svc
from dashboard.ui import state
from dashboard.ui.charts_weekly import timeseries_chart
from dashboard.ui.db import call, call_kept
from dashboard.ui.weekly_export import export_buttons
from dashboard.ui.text import md
from dashboard.ui.weekly_table import WIDTHS, styled

state.adopt_link(["week", "week.metric"])
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
# the metric rows first (~0.1 s); the whole review (alerts, decisions, the chart's days: ~2 s on the demo
# when nothing is kept yet) after the table. Both kept across restarts and warmed at start.
head = call_kept(svc.week_headline, week)
metrics = head["metrics"]
names = [r["metric"] for r in metrics]
with st.sidebar:
    chart_metric = state.persist("week.metric", names[0], valid=lambda v: v in names)
    st.selectbox("Chart", names, key=state.widget_key("week.metric"), on_change=state.on_change("week.metric"),
                 format_func=lambda m: next(r["name"] for r in metrics if r["metric"] == m))
    exports = st.container()  # filled once the whole review is there
state.sync_url(["week", "week.metric"])

st.title(md(head["title"]))
# a projector (1024 px) beside the sidebar: narrower side margins so the table and buttons fit
st.html("<style>@media (max-width: 1200px) { [data-testid='stMainBlockContainer'] "
        "{ padding-left: 1.5rem; padding-right: 1.5rem; } }</style>")

moved = [r for r in metrics if r["status"] in ("worse", "better", "unusual")]
st.markdown("**" + ("; ".join(f"{md(r['name'])} {md(pct(r['wow']))} ({r['status']})" for r in moved[:4])
                    or "Nothing moved beyond its usual range this week") + "**")
note = st.empty()  # how many readings chance alone gives: from the whole review, below
st.dataframe(styled(metrics), hide_index=True, width="stretch", column_config={
    "metric": st.column_config.TextColumn(width=WIDTHS["metric"], pinned=True),
    "this week": st.column_config.TextColumn(width=WIDTHS["this week"]),
    "vs last week": st.column_config.TextColumn(width=WIDTHS["vs last week"]),
    "usual range": st.column_config.TextColumn(
        width=WIDTHS["usual range"],
        help="Where this week's change would fall 95% of the time if nothing unusual happened; centred on the change "
             "the same week had a year ago (or on the usual weekly change without a year of history)"),
    "vs a year ago": st.column_config.TextColumn(width=WIDTHS["vs a year ago"]),
    "last 12 weeks": st.column_config.LineChartColumn("last 12 weeks", width=WIDTHS["last 12 weeks"]),
    "reading": st.column_config.TextColumn(width=WIDTHS["reading"]),
})

review = call_kept(svc.week_review, week)
with exports:
    export_buttons(review)
false = review["expected_false"]
note.caption(
    "Each metric's week is judged against what was expected: the change the same week had a year ago (holidays "
    "and seasons cancel) and the spread of its past weekly changes (a year of them, so autocorrelation and "
    "outliers are in the reference). *better*/*worse*: the change left its usual range (an unchanged metric does "
    f"so in {VERDICT_ALPHA:.0%} of weeks); alerts: beyond the {ALERT_ALPHA:.0%} threshold in the bad direction. "
    f"With {len(metrics)} metrics, expect about {false['verdicts']:.1f} better/worse readings and "
    f"{false['alerts']:.2f} alerts a week by chance alone"
    + (f" (one false alert every {1 / false['alerts']:.0f} weeks)" if false["alerts"] else "")
    + (f"; with {false['model_slices']} model segments judged, about {false['model_alerts']:.2f} 'AUC fell' "
       "alerts" if false.get("model_slices") else "")
    + ". Weekly value = mean of the daily values; ordered by how unusual.")

row = next(r for r in metrics if r["metric"] == chart_metric)
st.vega_lite_chart(timeseries_chart(review, row), width="stretch")
st.caption("Dotted lines: launches (shipped experiments) and other dated events from the `events` table; the "
           "shaded band is the reviewed week.")

groups = review["alert_groups"]
st.subheader(f"Alerts ({len(groups)} subjects)")
if not groups:
    st.success("No alerts this week.")
BOXES = {"high": st.error, "medium": st.warning}
delivered = call(alert_delivery.week_deliveries, week)
for g in groups:
    lines = [f"**{md(g['subject'])}**"]
    lines += [f"- *{md(a['kind'])}*: {md(a['title'])}. {md(a['detail'])}" for a in g["alerts"]]
    if g["decision"]:
        d = g["decision"]
        lines.append(f"- *decision waiting* ({md(d['status'])}, ended {d['end_date']}): recommendation "
                     f"**{md(d['headline'])}**")
    BOXES.get(g["severity"], st.info)("\n".join(lines))
    link = g["link"]
    st.page_link(str(PAGES_DIR / link["page"]), label=f"Open {md(g['subject'])} on {link['label']}",
                 icon=":material/arrow_forward:", query_params=state.link_params(link["params"]))
    sent = delivered.get(alert_delivery.subject_key(g["alerts"][0]))
    if sent:  # what `python -m dashboard alerts` delivered on this subject (docs/alerts.md)
        st.caption("Delivered: " + "; ".join(
            f"{md(d['channel'])} {md(d['target'])} at {d['last']:%Y-%m-%d %H:%M} UTC"
            + ("" if len(d["kinds"]) == len(g["alerts"]) else f" ({md(', '.join(d['kinds']))})") for d in sent))

st.subheader("Decisions of the week")
pending = review["pending_decisions"]
merged = [g["subject"] for g in groups if g["decision"]]
if merged:
    st.caption("Also waiting, shown with its alert above: " + "; ".join(md(m) for m in merged) + ".")
if not pending:
    st.caption("No other experiment ended this week or awaits a decision.")


def _open_launch(experiment_id: str) -> None:
    state.set_value("exp", experiment_id)


for d in pending:
    with st.container(border=True):
        st.markdown(f"**{md(d['experiment_id'])} · {md(d['name'])}** — ended {d['end_date']} ({md(d['status'])}).  \n"
                    f"Recommendation: **{md(d['headline'])}**")
        for reason in d["reasons"]:
            st.markdown(f"- {md(reason)}")
        if st.button("Open in Launch review", key=f"open-{d['experiment_id']}", on_click=_open_launch,
                     args=(d["experiment_id"],)):
            st.switch_page(str(PAGES_DIR / "launch_review.py"), query_params=state.link_params({"exp": d["experiment_id"]}))

if review["annotations"]:
    with st.expander(f"Launches and events, last 12 weeks ({len(review['annotations'])})"):
        st.dataframe(pd.DataFrame(review["annotations"]), hide_index=True, width="stretch")
