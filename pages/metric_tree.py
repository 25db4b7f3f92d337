"""Metric tree: from business outcome down to model metric, each node's value and movement."""

import pandas as pd
import streamlit as st

from dashboard.services import experiments as exp_svc
from dashboard.metrics.week_verdict import VERDICT_ALPHA
from dashboard.services import tree as svc
from dashboard.services import week_verdicts
from dashboard.ui import deferred, state
from dashboard.ui.charts_tree import (HISTORY_HEIGHT, STATUS_WORDS, TREE_SELECTION, fmt_change, fmt_value,
                                      history_figure, offline_history_figure, tree_figure)
from dashboard.ui.db import call
from dashboard.ui.launch_tables import node_table, style
from dashboard.ui.text import md

st.title("Metric tree")
state.adopt_link(["mode", "days", "week", "node", "exp"])
tree_path = str(svc.default_tree_path())
version = svc.tree_file_version(tree_path)  # edits of the file show without a restart

experiments = call(exp_svc.list_experiments)
ids = [e["experiment_id"] for e in experiments]
labels = {e["experiment_id"]: f"{e['experiment_id']} · {e.get('name') or ''}".rstrip(" ·") for e in experiments}
modes = ["period", "experiment"] if ids else ["period"]

mode = state.persist("mode", "period", valid=lambda v: v in modes)
days = state.persist("days", 7, int, valid=lambda v: v in (7, 14, 28))
exp_id = state.persist("exp", ids[0] if ids else "", valid=lambda v: v in ids or not ids)
c1, c2 = st.columns([1, 2])
c1.radio("Movement", modes, horizontal=True, key=state.widget_key("mode"), on_change=state.on_change("mode"),
         format_func={"period": "over a period", "experiment": "in an experiment"}.get)
if mode == "experiment":
    c2.selectbox("Experiment", ids, format_func=labels.get, key=state.widget_key("exp"),
                 on_change=state.on_change("exp"))
weeks = call(week_verdicts.available_weeks)
week = state.persist("week", weeks[0] if weeks else "", valid=lambda v: v in weeks or not weeks)
if mode == "period":
    p1, p2 = c2.columns(2)
    p1.select_slider("Period (days, whole weeks, against as many days before)", [7, 14, 28],
                     key=state.widget_key("days"), on_change=state.on_change("days"))
    if weeks:
        p2.selectbox("Ending with week", weeks, key=state.widget_key("week"), on_change=state.on_change("week"),
                     help="ISO weeks (Monday to Sunday); the same week the Weekly review shows.")

view = call(svc.tree_view, tree_path, exp_id if mode == "experiment" else None, days, tree_version=version,
            week=week or None)
errors = [p for p in view["problems"] if p["severity"] == "error"]
warnings = [p for p in view["problems"] if p["severity"] == "warning"]
if errors or warnings:
    with st.expander(f"Tree file `{view['path']}`: {len(errors)} error(s), {len(warnings)} warning(s)",
                     expanded=not view["nodes"]):
        st.markdown("\n".join(f"- {':red[error]' if p['severity'] == 'error' else ':orange[warning]'} {p['text']}"
                              for p in view["problems"]))
if not view["nodes"]:
    st.error("The metric tree has errors and cannot be drawn; fix the file and reload.")
    st.stop()

nodes = view["nodes"]
by_id = {n["id"]: n for n in nodes}
node_id = state.persist("node", nodes[0]["id"], valid=lambda v: v in by_id)

if mode == "period" and view.get("window"):
    w = view["window"]
    st.caption(f"Daily series: mean of {w['cur_start']}..{w['end']} against {w['prev_start']}..{w['prev_end']}, "
               "judged as the Weekly review judges a week: against the change the same weeks had a year ago and "
               "the spread of past changes over as many weeks (autocorrelation and the weekday cycle accounted "
               f"for). In brackets: the usual range of the change; better/worse when it is left, which an "
               f"unchanged metric does in {VERDICT_ALPHA:.0%} of periods.")
elif mode == "experiment":
    st.caption("Online nodes: treatment vs control lift (Welch / delta method). Offline nodes: the "
               "treatment model's metric vs the control model's (one value each, no interval).")

# the top level's numbers first, as text: a reader should not wait for the chart to see how the business moved
top = [n for n in nodes if n["level"] == nodes[0]["level"]][:4]
for col, n in zip(st.columns(len(top)), top):
    moved = n["status"] not in ("no data", "n/a") and (n.get("relative_change") is not None or n.get("change") is not None)
    col.metric(n["name"], fmt_value(n.get("value"), n.get("unit", "")) if n["status"] != "no data" else "n/a",
               f"{fmt_change(n)} · {STATUS_WORDS.get(n['status'], n['status'])}" if moved else None,
               delta_color={"better": "green", "worse": "red"}.get(n["status"], "gray"), delta_arrow="off")

# a click's selection arrives in the chart's state before the chart is drawn again: read it first, so the
# box drawn selected is the one clicked. The chart keeps its selection across reruns: act only when it
# changes; a node picked in the list below gets a new chart (a new key), whose selection is empty, so
# a click on the node selected before selects it again.
chart_key = f"tree_chart.{st.session_state.get('tree.chart_generation', 0)}"
chart = st.session_state.get(chart_key)
picked = [p.get("id") for p in chart["selection"].get(TREE_SELECTION, [])] if chart else []
if picked != st.session_state.get("tree.last_pick"):
    st.session_state["tree.last_pick"] = picked
    if picked and picked[0] in by_id:
        state.set_value("node", picked[0])
        node_id = picked[0]
tree_spec = tree_figure(nodes, view["levels"], selected=node_id, selectable=True)
charts_now = deferred.ready("metric_tree")  # the charts mount once the headline has painted
if charts_now:
    st.vega_lite_chart(tree_spec, width="stretch", on_select="rerun", selection_mode=TREE_SELECTION, key=chart_key)
else:
    deferred.placeholder("tree", tree_spec["height"], "Drawing the tree…")


def picked_in_list() -> None:
    state.on_change("node")()
    st.session_state["tree.chart_generation"] = st.session_state.get("tree.chart_generation", 0) + 1


st.selectbox("Node", list(by_id), format_func=lambda i: f"{by_id[i]['name']} ({by_id[i]['level']})",
             key=state.widget_key("node"), on_change=picked_in_list)
node = by_id[node_id]
detail = call(svc.node_detail, tree_path, node_id, tree_version=version)
state.sync_url(["mode", "exp", "node"] if mode == "experiment" else ["mode", "days", "week", "node"])

st.subheader(md(node["name"]))
facts = [f"level **{node['level']}**", f"**{node['direction']}** is better"]
if node["unit"]:
    facts.append(f"unit {node['unit']}")
if node["owner"]:
    facts.append(f"owner {node['owner']}")
if detail.get("composite"):
    facts.append(md(detail["composite"]))
if detail.get("data"):
    facts.append("data: " + ", ".join(f"{k} `{v}`" for k, v in detail["data"].items()))
st.markdown(" · ".join(facts))
if detail.get("description"):
    st.caption(md(detail["description"]))
if node.get("guardrail"):
    st.info(f"Guardrail: {md(node['name'])} {md(node['guardrail'])} in an experiment.")
if node.get("note"):
    st.caption(md(node["note"]))

left, right = st.columns(2)
with left:
    if detail.get("daily"):
        st.markdown("**History** (daily, overall)" + (
            " — shaded: previous period grey, current blue; drag it sideways for earlier days" if mode == "period"
            else ""))
        if charts_now:
            st.vega_lite_chart(history_figure(detail["daily"], node["name"], node["unit"],
                                              view.get("window") if mode == "period" else None),
                               width="stretch", key="node_history")
        else:
            deferred.placeholder("history", HISTORY_HEIGHT + 40, "Drawing the daily history…")
    if detail.get("offline"):
        st.markdown("**Offline, across experiments** (control and treatment model)")
        if charts_now:
            st.vega_lite_chart(offline_history_figure(detail["offline"], node["name"]), width="stretch",
                               key="node_offline")
        else:
            deferred.placeholder("offline", HISTORY_HEIGHT + 40, "Drawing the offline values…")
    if not detail.get("daily") and not detail.get("offline"):
        st.caption("No daily series or offline history for this node.")
with right:
    children = [by_id[c] for c in node["children"]]
    parents = [by_id[p] for p in node["parents"] if p in by_id]
    if parents:
        st.markdown("**Drives** " + ", ".join(p["name"] for p in parents))
    st.markdown("**Children** (what drives it)" if children else "**Children**: none (a leaf)")
    if children:
        st.dataframe(style(node_table(children, compact=True)), hide_index=True, width="stretch")

with st.expander("All nodes"):
    st.dataframe(style(node_table(nodes)), hide_index=True, width="stretch")
    st.caption(f"Tree file: `{view['path']}` (set DASHBOARD_TREE to use another).")
