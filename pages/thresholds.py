"""Thresholds: PR and ROC curves, the operating threshold, and what it costs per day, by segment."""

from datetime import date

import numpy as np
import pyarrow as pa
import streamlit as st

from dashboard import format as fmt
from dashboard.metrics import classification as clf
from dashboard.services import thresholds as svc
from dashboard.ui import background, state
from dashboard.ui import charts_thresholds as charts
from dashboard.ui.db import call
from dashboard.ui.text import md
from dashboard.services import thresholds_models as models_svc
from dashboard.ui import thresholds_drift as drift_ui
from dashboard.ui import thresholds_opening as opening
from dashboard.ui import thresholds_picker as picker
from dashboard.ui import thresholds_roc as roc_ui
from dashboard.ui import threshold_input, thresholds_quality as quality_ui
from dashboard.ui import thresholds_segments as segments_ui

st.title("Thresholds")
state.adopt_link(["thr.model", "thr.by", "thr.focus", "thr.from", "thr.to", "thr.view", "thr.week"])  # Weekly alerts
st.caption("Predict positive when `score >= threshold`. The slider snaps to the 10,000 bin edges of the "
           "model's score range; counts at an edge are exact. AP and ROC AUC are computed from the raw "
           "scores (ties included), not from bins, where the raw rows are loaded; from the bins, and marked "
           "(binned), where only summaries are.")

opts = call(svc.options)
models = opts["models"]
if not models:
    st.info("No predictions are loaded. Load a `predictions` file (model, score, label, segments) on the Data page.")
    st.stop()
segment_columns = list(opts["segments"])
default_model, _, default_by = svc.default_view(opts)

with st.sidebar:
    model = state.persist("thr.model", default_model, valid=lambda v: v in models)
    st.selectbox("Model", models, key=state.widget_key("thr.model"), on_change=state.on_change("thr.model"))
    first_day, last_day = opts["model_dates"][model]  # None: this model has no `ts`
    compare = state.persist("thr.compare", "", valid=lambda v: v == "" or v in models)
    st.selectbox("Compare with", [""] + models, key=state.widget_key("thr.compare"),
                 on_change=state.on_change("thr.compare"), format_func=lambda m: m or "(none)")
    by = state.persist("thr.by", default_by, valid=lambda v: v == "" or v in segment_columns)
    st.selectbox("Segments by", [""] + segment_columns, key=state.widget_key("thr.by"),
                 on_change=state.on_change("thr.by"), format_func=lambda c: c or "(none)")
    focus_options = [""] + [f"{c}={v}" for c, vals in opts["segments"].items() for v in vals]
    focus = state.persist("thr.focus", "", valid=lambda v: v in focus_options)
    st.selectbox("Only the segment", focus_options, key=state.widget_key("thr.focus"),
                 on_change=state.on_change("thr.focus"), format_func=lambda f: f or "(all traffic)")
    date_from, date_to = first_day, last_day
    if first_day is not None:
        start = state.persist("thr.from", first_day, date.fromisoformat, valid=lambda d: first_day <= d <= last_day)
        end = state.persist("thr.to", last_day, date.fromisoformat, valid=lambda d: first_day <= d <= last_day)
        picker.keep_widgets_in_range({"thr.from": start, "thr.to": end})  # another model's range was kept
        st.date_input("From", min_value=first_day, max_value=last_day, key=state.widget_key("thr.from"),
                      on_change=state.on_change("thr.from"))
        st.date_input("To", min_value=first_day, max_value=last_day, key=state.widget_key("thr.to"),
                      on_change=state.on_change("thr.to"))
        date_from, date_to = start, end
    else:
        st.caption(f"{md(model)} has no timestamps (`ts`): all its rows are shown, whatever the dates.")
    threshold_input.replace_history_on_moves()

focus_col, _, focus_val = focus.partition("=")
flt = svc.Filter(date_from, date_to, focus_col, focus_val)
if drift_ui.choose_view() == "drift":
    drift_ui.draw(model, focus_col, focus_val, drift_ui.current_threshold(model, call(models_svc.declared)))
    st.stop()
counts = call(svc.counts, model, flt, by)
lo, hi, width = counts.lo, counts.hi, (counts.hi - counts.lo) / 10_000
edges = counts.edges  # a property that computes them: once per run
cum = svc.cumulative(counts.overall)
if cum.positives + cum.negatives == 0:
    st.warning("No labelled predictions match these filters.")
    st.stop()


def snap(t: float) -> float:
    return float(edges[int(np.clip(round((t - lo) / width), 0, 10_000))])


# ---- pickers: each moves the slider to its answer (callbacks run before the slider is drawn)
mode = state.persist("thr.mode", "precision", valid=lambda v: v in ("precision", "cost", "capacity"))
floor = state.persist("thr.floor", 0.9, float)
every = state.persist("thr.every", False, state.parse_bool)
sure = picker.persist_mode()
cost_fp = state.persist("thr.cfp", 5.0, float)
cost_fn = state.persist("thr.cfn", 100.0, float)
use_value = state.persist("thr.value", False, state.parse_bool)
budget = state.persist("thr.budget", 50.0, float)
message = st.session_state.pop("thr.pick_message", None)
declared = call(models_svc.declared)
threshold = opening.open_threshold(edges, model, declared, lambda: svc.pick(
    counts, mode, precision_floor=floor, every_segment=every, guaranteed=sure, cost_fp=cost_fp, cost_fn=cost_fn,
    use_value=use_value, budget_per_day=budget), snap)


def apply_pick() -> None:
    def current(key):  # a widget not drawn this run has no widget state: fall back to the stored value
        value = st.session_state.get(state.widget_key(key), st.session_state.get(key))
        st.session_state[key] = value
        return value

    i = svc.pick(counts, current("thr.mode"), precision_floor=current("thr.floor"),
                 every_segment=current("thr.every"), guaranteed=current(picker.SURE_KEY), cost_fp=current("thr.cfp"), cost_fn=current("thr.cfn"),
                 use_value=current("thr.value"), budget_per_day=current("thr.budget"))
    if i is None:
        st.session_state["thr.pick_message"] = "No threshold satisfies this rule; the slider was not moved."
    else:
        state.set_value("thr.t", float(counts.edges[i]))


with st.container(border=True):
    st.markdown("**Pick the threshold**")
    st.radio("Rule", ["precision", "cost", "capacity"], horizontal=True, key=state.widget_key("thr.mode"),
             on_change=state.on_change("thr.mode"), format_func={
                 "precision": "Precision floor (best recall)", "cost": "Costs of errors",
                 "capacity": "Review capacity"}.get)
    cols = st.columns([1, 1, 1, 1])
    if mode == "precision":
        picker.precision_inputs(cols, by)
    elif mode == "cost":
        cols[0].number_input("Cost of a false positive", 0.0, step=1.0, key=state.widget_key("thr.cfp"), on_change=state.on_change("thr.cfp"),
                             help="e.g. a legitimate customer blocked, or an analyst's review")
        cols[1].number_input("Cost of a false negative", 0.0, step=1.0, key=state.widget_key("thr.cfn"), on_change=state.on_change("thr.cfn"),
                             disabled=use_value)
        cols[2].checkbox("Use the money at stake (`value`)", key=state.widget_key("thr.value"), on_change=state.on_change("thr.value"),
                         help="Maximise value of positives caught minus the cost of false positives.")
    else:
        cols[0].number_input("Alerts per day the team can review", 0.0, step=10.0, key=state.widget_key("thr.budget"),
                           on_change=state.on_change("thr.budget"))
    cols[3].button("Move the slider here", on_click=apply_pick, type="primary")
    if message:
        st.warning(md(message))
    if mode == "precision":
        st.caption(picker.pick_statement(floor, sure))


TILE_WIDE, TILE = 180, 140  # pixels: five and six tiles a row at 1440 px, wrapping below

# ---- what a slider move reads but never changes: computed once per full run of the page, so a
# move costs the operating point's arithmetic and the drawing of what shows it, nothing else
known = quality_ui.Known(model, flt, by)
segment_stack = svc.segment_stack(counts)
curve = svc.curves(counts)
other = None
if compare and compare != model:
    flt_other = flt if opts["model_dates"][compare][0] is not None else svc.undated(flt)
    other = call(svc.counts, compare, flt_other, "")
    other_edges, other_cum, other_curve = other.edges, svc.cumulative(other.overall), svc.curves(other)
    q_other = quality_ui.legend_values(call(svc.quick_quality, compare, flt_other).get("", {}))
    # read from a link here, before the fragment's sync_url writes the URL without it
    state.persist("thr.t_compare", declared.get(compare, {}).get("threshold", threshold), float)
if mode == "cost":
    if use_value:
        cost_y, cost_label, best = clf.net_value(cum, cost_fp), "net value caught ($)", clf.max_value_index(cum, cost_fp)
    else:
        cost_y, cost_label = clf.expected_cost(cum, cost_fp, cost_fn), "expected cost"
        best = clf.min_cost_index(cum, cost_fp, cost_fn)
    cost_spec = charts.cost_chart(edges, cost_y, cost_label)
specs: dict = {}  # chart specs by what their static part shows (legend, axis): built once each
# the compared models' joint bin counts: asked for once per full run, read by every move
paired = background.Awaited({"joint": (svc.paired_counts_in_background, model, compare, flt)}) if other else None
PAIRING = ("the two models' rows are being paired on `id` in the background (minutes at tens of millions of "
           "rows); a later move shows it once ready")


def spec(key: tuple, build) -> dict:
    if key not in specs:
        specs[key] = build()
    return specs[key]


def draw_curves(threshold: float, i: int, point: dict, log_fpr: bool) -> None:
    """PR and ROC: the curves' spec is the same on every move; only the points dataset changes."""
    q = quality_ui.legend_values(known.overall.get("", {}))
    series = [{"name": model, "curve": curve, "point": point, "threshold": threshold,
               "ap": q.get("average_precision"), "auc": q.get("roc_auc")}]
    if other is not None:
        t_other = state.persist("thr.t_compare", declared.get(compare, {}).get("threshold", threshold), float)
        j = svc.threshold_index(other, t_other)
        series.append({"name": compare, "curve": other_curve, "point": clf.operating_point(other_cum, j),
                       "threshold": float(other_edges[j]), "ap": q_other.get("average_precision"),
                       "auc": q_other.get("roc_auc")})
    legend = tuple((s["name"], s["ap"], s["auc"]) for s in series)
    c1, c2 = st.columns(2)
    c1.vega_lite_chart(charts.with_points(spec(("pr", legend), lambda: charts.pr_chart(series)),
                                          charts.pr_points(series)), width="stretch")
    c2.vega_lite_chart(charts.with_points(spec(("roc", legend, log_fpr), lambda: charts.roc_chart(series, log_fpr)),
                                          charts.roc_points(series, log_fpr)), width="stretch")
    roc_ui.toggle(c2)
    if other is not None:
        st.number_input(f"Threshold of {md(compare)}", step=float(other.hi - other.lo) / 10_000, format="%.4f",
                        key=state.widget_key("thr.t_compare"), on_change=state.on_change("thr.t_compare"))
        # joined in the background: a moment's wait once per view, then never (minutes at 50M scores)
        joint = paired.first_look("joint")
        d = ({"available": False, "reason": str(joint)} if isinstance(joint, background.Failed) else
             None if joint is None else svc.disagreement_at(joint, i, j))
        if d is None:
            st.caption(f"Disagreement rate: {PAIRING}.")
        elif d["available"]:
            st.info(f"**The two models decide differently on {fmt.percent(d['rate'])} of traffic** "
                    f"({d['only_a']:,} rows flagged only by {md(model)}, {d['only_b']:,} only by {md(compare)}, "
                    f"of {d['paired_rows']:,} paired rows). A new model can only change outcomes where it disagrees.")
        else:
            st.caption(f"Disagreement rate unavailable: {md(d['reason'])}.")


def draw_segments(i: int, overall_precision: float | None):
    """The same threshold by segment; AP/AUC binned (the column names say so) where the exact values
    are still to come. Returns the table's slot, to redraw it when they come."""
    st.subheader(f"The same threshold by {md(by)}")
    st.caption(picker.small_caption())
    table_slot = st.empty()
    segments_ui.draw(table_slot, segment_stack, i, known.segments, overall_precision, known.segments_binned)
    st.caption(segments_ui.CAPTION)
    return table_slot


@st.fragment
def readouts() -> None:
    """The slider, the box and everything that reads the threshold: a move reruns only this."""
    known.refresh()  # exact AP/AUC computed in the background since the last run, if any (never waits)
    threshold = snap(threshold_input.controls(counts))
    opening.caption(model, declared, threshold, width)
    i = int(np.clip(round((threshold - lo) / width), 0, 10_000))
    log_fpr = roc_ui.persist(cum.positives, cum.negatives)
    state.sync_url(["thr.model", "thr.compare", "thr.by", "thr.focus", "thr.from", "thr.to", "thr.t", "thr.mode",
                    "thr.floor", "thr.every", picker.SURE_KEY, "thr.cfp", "thr.cfn", "thr.value", "thr.budget", "thr.t_compare",
                    roc_ui.KEY])

    point = clf.operating_point(cum, i)

    # ---- the operating point, as a PM reads it
    reading = svc.business_reading(counts, i)
    st.subheader(f"At threshold {threshold:.4f}, over {reading['days']} days")
    # tiles of a fixed width in a wrapping row: at 1024 px (a projector) they wrap instead of truncating
    m = st.container(horizontal=True)
    m.metric("Alerts per day", f"{reading['alerts_per_day']:,.1f}", width=TILE_WIDE,
             help="Predictions at or above the threshold per day, labelled or not: the review team's load.")
    m.metric("Legitimate blocked per day", f"{reading['legit_blocked_per_day']:,.1f}", width=TILE_WIDE,
             help="False positives per day, among labelled predictions (unlabelled ones are not judged)")
    m.metric("Bad cases missed per day", f"{reading['bad_missed_per_day']:,.1f}", width=TILE_WIDE,
             help="False negatives per day, among labelled predictions (unlabelled ones are not judged)")
    m.metric("Money caught per day", fmt.money(reading["value_caught_per_day"]), width=TILE_WIDE,
             help="Sum of `value` of true positives per day; n/a when the rows carry no `value`")
    m.metric("Money missed per day", fmt.money(reading["value_missed_per_day"]), width=TILE_WIDE,
             help="Sum of `value` of positives below the threshold per day; n/a when the rows carry no `value`")
    m = st.container(horizontal=True)
    m.metric("Precision", fmt.percent(point["precision"]), width=TILE)
    m.metric("Recall", fmt.percent(point["recall"]), width=TILE)
    m.metric("F1", fmt.percent(point["f1"]), width=TILE)
    m.metric("False-positive rate", fmt.percent(point["fpr"]), width=TILE)
    quality_slots = quality_ui.headline([m.container(width=TILE), m.container(width=TILE)], known)
    if point["predicted_positive_rate"] is not None:
        st.caption(f"{fmt.percent(point['predicted_positive_rate'])} of labelled traffic is predicted positive; "
                   f"{fmt.count(point['positives'])} positives and {fmt.count(point['negatives'])} negatives are labelled in this view.")
    # a static table: a grid component redrawn on every move costs the browser more than it shows
    # (Arrow, not a pandas frame: half the cost of this element on every move)
    st.table(pa.table({"": ["actual positive", "actual negative"],
                       "predicted positive": [fmt.count(point["tp"]), fmt.count(point["fp"])],
                       "predicted negative": [fmt.count(point["fn"]), fmt.count(point["tn"])]}),
             width="content", hide_index=True)

    draw_curves(threshold, i, point, log_fpr)
    if mode == "cost":
        st.vega_lite_chart(charts.with_points(cost_spec, charts.cost_rules(threshold, float(edges[best]))),
                           width="stretch")
    table_slot = draw_segments(i, point["precision"]) if by and counts.segments else None
    known.ask()  # the exact values' sorts start once all above is drawn, in the background
    if known.pending and known.wait(quality_ui.WAIT_SECONDS):  # a few million rows: here in time, drawn in place
        quality_ui.draw(quality_slots, known)
        if table_slot is not None:
            segments_ui.draw(table_slot, segment_stack, i, known.segments, point["precision"], known.segments_binned)
    if known.pending:
        st.caption(quality_ui.STILL_COMPUTING)


readouts()
