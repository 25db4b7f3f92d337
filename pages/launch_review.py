"""Launch review: one experiment's scorecard, guardrails and a ship / hold / roll back call."""

import streamlit as st

from dashboard import format as fmt
from dashboard.metrics.decision import __doc__ as RULES_DOC
from dashboard.services import experiments as svc
from dashboard.services import proxy as proxy_svc
from dashboard.services.tree import default_tree_path, tree_file_version
from dashboard.ui import state
from dashboard.ui.charts_launch import lift_chart
from dashboard.ui.charts_tree import tree_figure
from dashboard.ui.db import call, call_kept
from dashboard.ui.launch_tables import decided, noisy_controls, offline_table, scorecard, style
from dashboard.ui.text import bullets, md, md_list

st.title("Launch review")
state.adopt_link(["exp"])  # e.g. a Weekly review alert

experiments = call(svc.list_experiments)
if not experiments:
    st.info("No experiment results are loaded. Load `experiments`, `results` (sufficient statistics per "
            "variant and metric) and optionally `offline` files on the Data page.")
    st.stop()

ids = [e["experiment_id"] for e in experiments]
labels = {e["experiment_id"]: f"{e['experiment_id']} · {e.get('name') or ''}".rstrip(" ·") for e in experiments}
exp_id = state.persist("exp", ids[0], valid=lambda v: v in ids)

with st.sidebar:
    st.selectbox("Experiment", ids, format_func=labels.get, key=state.widget_key("exp"),
                 on_change=state.on_change("exp"))
    with st.expander("Decision rules", expanded=False):
        alpha = state.persist("alpha", 0.05, float, valid=lambda v: v in (0.01, 0.05, 0.1))
        st.select_slider("Significance level α", [0.01, 0.05, 0.1], key=state.widget_key("alpha"),
                         on_change=state.on_change("alpha"))
        rule = state.persist("grule", "interval", valid=lambda v: v in ("interval", "estimate"))
        st.radio("Guardrail passes when", ["interval", "estimate"], key=state.widget_key("grule"),
                 on_change=state.on_change("grule"), format_func={
                     "interval": "its whole interval is within the limit",
                     "estimate": "its estimate is within the limit"}.get)
        strict = state.persist("strict", False, state.parse_bool)
        st.checkbox("Engagement harm also rolls back", key=state.widget_key("strict"),
                    on_change=state.on_change("strict"))
rules = {"alpha": alpha, "guardrail_rule": rule,
         "protected_levels": ("business", "engagement") if strict else ("business",)}
tree_path = str(default_tree_path())
version = tree_file_version(tree_path)
report = call(svc.experiment_report, exp_id, tree_path, rules, tree_version=version)
online = [m["metric"] for m in report["metrics"]]
names = {m["metric"]: m["name"] for m in report["metrics"]}
default_primary = report.get("primary") or ""
if st.session_state.get(state.widget_key("primary"), "") not in [""] + online:
    state.set_value("primary", "")  # picked for another experiment
with st.sidebar:
    primary = state.persist("primary", "", valid=lambda v: v == "" or v in online)
    st.selectbox("Primary metric", [""] + online, key=state.widget_key("primary"),
                 on_change=state.on_change("primary"),
                 format_func=lambda m: f"tree's: {names.get(default_primary, 'none')}" if m == "" else names[m],
                 help="The metric the launch is decided on; the tree marks one with `primary: true`.")
if primary and primary != default_primary:
    report = call(svc.experiment_report, exp_id, tree_path, rules, primary, tree_version=version)
state.sync_url(["exp", "alpha", "grule", "strict", "primary"])

info = report["experiment"]
st.subheader(f"{md(info['experiment_id'])} · {md(info.get('name') or '')}")
if info.get("start_date"):  # experiments without a model (a checkout flow) leave the models empty
    models = " → ".join(f"{md(info[k])} ({k.split('_')[0]})" for k in ("control_model", "treatment_model")
                        if info.get(k))
    st.caption((f"{models}, " if models else "") + f"{info.get('start_date')} to {info.get('end_date')}"
               + (f" · owner {md(info['owner'])}" if info.get("owner") else "")
               + (f" · recorded decision: {md(info['decision'])}" if info.get("decision") else ""))
if report.get("error"):
    st.warning(md(report["error"]))
    st.stop()
if not report["tree"]["loaded"]:
    st.error("The metric tree cannot be used, so levels, directions and guardrails are unknown "
             "(every metric is assumed higher-is-better):\n\n"
             + bullets(p['text'] for p in report["tree"]["problems"]))

# ---- the recommendation
box = {"ship": st.success, "hold": st.warning, "roll back": st.error}[report["decision"]]
icons = {"block": ":material/block:", "warn": ":material/warning:", "ok": ":material/check_circle:",
         "info": ":material/info:"}
reasons = "\n".join(f"- {icons[r['severity']]} {md(r['text'])}" for r in report["reason_details"])
box(f"### {md(report['headline'])}\n\n{reasons}")

srm = report["srm"]
if srm:
    (st.error if srm["mismatch"] else st.caption)(
        f"{fmt.count(srm['n_control'])} control / {fmt.count(srm['n_treatment'])} treatment users — {md(srm['message'])}.")

# ---- the tree, lit where it broke
outside_tree = [m["name"] for m in report["metrics"] if not m.get("in_tree")]
if report.get("tree_nodes") and all(n["status"] == "no data" for n in report["tree_nodes"]):
    # a tree of nothing but empty boxes would push the scorecard below the fold and say nothing
    st.info("None of the metric tree's metrics were measured in this experiment, so the tree is not drawn. "
            + (f"Not in the tree: {md_list(outside_tree)}. " if outside_tree else "")
            + "Declare them in the tree file (docs/metric_tree.md) to give each its direction, level and "
              "guardrail, and to mark a primary metric.")
elif report.get("tree_nodes"):
    st.markdown("#### Where it moved in the metric tree")
    st.caption("Green improving, red worsening, grey inconclusive, in each metric's own direction, "
               "with the scorecard's evidence (the primary on its p-value, the others on their "
               "Benjamini-Hochberg q-value). A dark-red border marks what forced a roll back; red "
               "edges follow the damage upward.")
    st.vega_lite_chart(tree_figure(report["tree_nodes"], report["levels"], height_per_level=125),
                       width="stretch", key="launch_tree")

# ---- scorecard
st.markdown("#### Scorecard")
st.caption(f"Welch interval for the absolute lift, Fieller's interval for the relative lift "
           f"({1 - alpha:.0%} intervals; docs/statistics.md). {md(report['multiple_testing'])}")
if any(m.get("cuped") for m in report["metrics"]):
    st.caption("CUPED: where the results carry pre-period statistics, the status and the decision use the "
               "lift adjusted for each user's pre-period metric (the CUPED columns, with the variance "
               "reduction achieved); the chart shows the adjusted lifts, the other columns are unadjusted.")
drawn = [m for m in decided(report["metrics"]) if not m.get("noisy_control")]
st.vega_lite_chart(lift_chart(drawn, alpha), width="stretch", key="launch_lift")
if len(drawn) < len(report["metrics"]):
    st.caption("Not drawn (noisy control mean, its relative interval would squash the others): "
               + md_list(m["name"] for m in report["metrics"] if m.get("noisy_control")) + ".")
st.dataframe(style(scorecard(report["metrics"])), hide_index=True, width="stretch")
for text in noisy_controls(report["metrics"]):
    st.warning(md(text), icon=":material/warning:")

guards = [m for m in decided(report["metrics"]) if m.get("guardrail")]  # the numbers that judged them
if guards:
    st.markdown("#### Guardrails")
    for m in guards:
        mark = {"pass": ":green[:material/check_circle:]", "at risk": ":orange[:material/warning:]",
                "breached": ":red[:material/cancel:]", "unknown": ":gray[:material/help:]"}[m["guardrail_status"]]
        st.markdown(f"{mark} **{md(m['guardrail'])}** — {m['guardrail_status']}: relative change "
                    f"{fmt.change(m['relative_lift'])}" + (" (CUPED-adjusted)" if m.get("cuped") else "")
                    + (f", interval {fmt.interval(m['relative_ci_low'], m['relative_ci_high'], fmt.change)}"
                       if m['relative_ci_low'] is not None else ""))

# ---- the learned composite proxy: learned once per data version (kept), looked up here
target = f"online:{report['primary']}" if report.get("primary") else call(proxy_svc.default_target)
said = proxy_svc.for_experiment(call_kept(proxy_svc.view, target), exp_id) if target else None
if said:
    T, oos = md(said["target_name"]), said["out_of_sample"]
    st.markdown("#### What the learned proxy says")
    learned_on = (f"the {said['n_experiments']} experiments where {T} is known" if said["pending"]
                  else f"the other {said['n_experiments'] - 1} experiments")
    moved = (f"{T} itself is not measured in this experiment yet" if said["pending"] else
             f"{T} itself moved {fmt.change(said['target_lift'])} {fmt.interval(*said['target_ci'], fmt.change)}")
    st.markdown(
        f"The learned composite predicts a **{T}** lift of **{fmt.change(said['lift'])}** "
        f"{fmt.interval(*said['ci'], fmt.change)}, from weights learned on {learned_on} "
        f"({md(proxy_svc.weights_text(said))}); {moved}.")
    r = "not available" if oos["correlation"] is None else (
        f"{oos['correlation']:.2f} {fmt.interval(*oos['correlation_ci'], lambda v: f'{v:.2f}')}")
    st.caption(f"Validation, out of sample over {oos['n']} experiments (each judged with weights learned without "
               f"it): same sign as {T} in {fmt.percent(oos['sign_agreement'], digits=2)}, noise-corrected r {r}; "
               f"its interval excludes 0 in {fmt.percent(oos['sensitivity'], digits=2)} of experiments "
               f"({fmt.percent(said['north_star']['sensitivity'], digits=2)} for {T}). Details: Online vs offline.")

if report["offline"]:
    st.markdown("#### Offline model metrics")
    if report.get("offline_online_trap"):
        st.warning(md(next(r for r in report["reasons"] if r.startswith("Offline-online trap"))))
    st.dataframe(style(offline_table(report["offline"])), hide_index=True, width="stretch")

# ---- segments
if report["segments"]:
    st.markdown("#### Segments")
    columns = sorted({s["column"] for s in report["segments"]})
    column = columns[0] if len(columns) == 1 else st.selectbox("Segment column", columns, key="launch.segcol")
    st.caption("Same statistics per segment value (CUPED-adjusted where the segment's results carry "
               "pre-period statistics, as above); q-values are Benjamini-Hochberg over every "
               "segment x metric test of this experiment. Small segments have wide intervals.")
    for seg in [s for s in report["segments"] if s["column"] == column]:
        srm_seg = seg["srm"]
        flag = " · :orange[sample ratio mismatch]" if srm_seg and srm_seg["mismatch"] else ""
        with st.expander(f"{md(column)} = {md(seg['value'])}{flag}", expanded=True):
            st.dataframe(style(scorecard(seg["metrics"]).drop(columns=["level", "better when"])),
                         hide_index=True, width="stretch")

with st.expander("How the recommendation is made"):
    st.markdown(RULES_DOC.split("\n", 1)[1])
    st.markdown("Run the same review from a terminal: "
                f"`python -m dashboard report experiment --id {exp_id} --json`")
