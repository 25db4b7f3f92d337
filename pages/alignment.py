"""Online vs offline: does a proxy's lift predict the business metric's lift across past experiments?"""

import pandas as pd
import streamlit as st

from dashboard import format as fmt
from dashboard.services import alignment as svc
from dashboard.services import proxy as proxy_svc
from dashboard.ui import state
from dashboard.ui.charts_alignment import leaderboard_chart, scatter_chart
from dashboard.ui.db import call, call_kept
from dashboard.ui.text import md


def r_text(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.2f} (clipped)" if abs(v) >= 0.9999 else f"{v:.2f}"


def r_with_ci(v, pair) -> str:
    """'0.62 [0.31, 0.80]' in one cell, so tables stay narrow."""
    return "n/a" if v is None else f"{r_text(v)} {fmt.interval(pair[0], pair[1], lambda x: f'{x:+.2f}')}"


def pct_ci(lo, hi) -> str:
    return fmt.interval(lo, hi, fmt.change)


st.title("Online vs offline")
opts = call(svc.options)
specs, names = opts["specs"], opts["names"]
if len(specs) < 2:
    st.info("This page needs past experiments with at least two metrics: load `experiments` and `results` "
            "(online sufficient statistics), and `offline` results or both models' logs, on the Data page.")
    st.stop()


def name(spec: str) -> str:
    return names.get(spec, spec.partition(":")[2])


with st.sidebar:
    target = state.persist("align.target", opts["default_target"], valid=lambda v: v in specs)
    st.selectbox("Target (y): business metric", specs, key=state.widget_key("align.target"),
                 on_change=state.on_change("align.target"), format_func=name)
# the leaderboard (bootstraps and REML fits for every proxy: seconds) is needed before the headline
# only to pick the proxy a new visit opens on; a chosen or linked proxy shows its numbers first
chosen = st.session_state.get("align.proxy") in specs or st.query_params.get("align.proxy") in specs
history = None if chosen else call_kept(svc.history_view, target)
with st.sidebar:
    # opens on the proxy the history supports best, not on an arbitrary one
    proxy = state.persist("align.proxy", (history and history["best_proxy"]) or opts["default_proxy"],
                          valid=lambda v: v in specs)
    st.selectbox("Proxy (x): offline or intermediate metric", specs, key=state.widget_key("align.proxy"),
                 on_change=state.on_change("align.proxy"), format_func=name)
    candidate = state.persist("align.candidate", 0.05, float)
    st.number_input("Candidate's proxy lift (0.05 = +5%)", step=0.005, format="%.3f",
                    key=state.widget_key("align.candidate"), on_change=state.on_change("align.candidate"))
state.sync_url(["align.proxy", "align.target", "align.candidate"])

st.caption(f"One point per past experiment with both metrics ({opts['n_experiments']} experiments loaded). "
           "Lifts are relative: treatment over control − 1. Online intervals come from the variants' sufficient "
           "statistics (delta method); offline ones by bootstrap where both models' logs are loaded, otherwise "
           "the typed-in offline value has no interval.")

result = call_kept(svc.view, proxy, target)
if "error" in result:
    st.warning(f":material/info: {result['error']}")
    st.stop()
for w in result["warnings"]:
    st.warning(w)

P, T = name(proxy), name(target)
expected = result["directions"]["offline"] * result["directions"]["online"]
al = svc.aligned(result, expected)
cols = st.columns(5)
cols[0].metric("Experiments", result["n_experiments"])
cols[1].metric("Pearson r (naive)", r_text(al["aligned_pearson"]), help="Correlation of the observed lifts in the "
               "direction the metric tree expects; estimation noise pulls it towards 0, and noise two online metrics "
               "share pushes it up.")
cols[2].metric("Noise-corrected r", r_text(al["aligned_corrected"]),
               help="The true lifts' correlation, each experiment's own noise (and the noise two online metrics "
                    "share) removed: REML with a profile-likelihood interval.")
cols[3].metric("Spearman ρ", f"{expected * result['spearman']:.2f}")
cols[4].metric("Sign agreement", "n/a" if result["sign_agreement"] is None else f"{result['sign_agreement']:.0%}")

lo, hi = al["aligned_corrected_ci"] if al["aligned_corrected"] is not None else al["aligned_pearson_ci"]
verdict = ("tracks" if lo > 0 else "moves against" if hi < 0 else "does not reliably track")
direction = "" if expected > 0 else " (a lower-is-better metric: r is turned so that positive means it helps)"
st.markdown(
    f"**{P} {verdict} {T}** across {result['n_experiments']} experiments{direction}: naive Pearson r = "
    f"{r_with_ci(al['aligned_pearson'], al['aligned_pearson_ci'])} (95%, Fisher z); noise-corrected r = "
    + (r_with_ci(al["aligned_corrected"], al["aligned_corrected_ci"]) + " (REML, profile likelihood)"
       if al["aligned_corrected"] is not None else "not available")
    + f". When the proxy won, the target won in {result['offline_wins_online_wins']} of "
      f"{result['offline_wins']} experiments.")
for note in result["corrected_notes"]:
    st.caption(f"Noise correction: {note}")

st.vega_lite_chart(scatter_chart(result, P, T), width="stretch")

broken = [r for r in result["experiments"] if r["broken"]]
st.subheader(f"Where the proxy broke ({len(broken)})")
if broken:
    st.caption(f"{P} moved in its good direction while {T} moved in its bad one. *Significant*: the online "
               f"interval excludes 0. Disagreement: where both models' logs are loaded, how much traffic the "
               f"models decide differently — a model can only move outcomes where it disagrees.")
    st.dataframe(pd.DataFrame([{
        "experiment": r["experiment_id"], "name": r["name"], "decision": r["decision"] or "undecided",
        "proxy lift": fmt.change(r["offline_lift"]), "source": r["offline_source"],
        "target lift [95% CI]": f"{fmt.change(r['online_lift'])} {pct_ci(r['online_ci_low'], r['online_ci_high'])}",
        "significant": "yes" if r["online_loss_significant"] else "no",
        "disagreement": "" if r["disagreement"] is None else fmt.percent(r["disagreement"]),
    } for r in broken]), hide_index=True, width="stretch")
else:
    st.success("In no experiment did the proxy win while the target lost.")

st.subheader("Prediction for a new candidate")
pred = svc.predict(result, float(candidate))
band = pct_ci(*pred["interval"])
if pred["proxy_validated"]:
    c1, c2 = st.columns([1, 2])
    c1.metric(f"Expected {T} lift", f"{fmt.change(pred['expected_online_lift'])}", help="From the fitted line.")
    c1.caption(f"95% prediction interval {band}")
    c2.markdown(f"For a candidate whose **{P}** lift is **{fmt.change(candidate)}**, past experiments predict a "
                f"**{T}** lift of **{fmt.change(pred['expected_online_lift'])}**, 95% prediction interval **{band}** "
                "(where one new experiment should land).")
else:
    # the proxy failed: no big number, the range says how little the proxy tells
    st.markdown(f"Past experiments do not show that {P} predicts {T}, so a candidate's {P} lift of "
                f"{fmt.change(candidate)} says little about its {T} lift: the fitted line gives "
                f"{fmt.change(pred['expected_online_lift'])}, 95% prediction interval {band}.")
for w in pred["warnings"]:
    st.warning(w)
logged = [r for r in result["experiments"] if r["offline_source"] == "logs"]
if logged:
    st.caption("Computed from loaded logs (not typed in): " + "; ".join(
        f"{r['experiment_id']} {fmt.change(r['offline_lift'])} {pct_ci(r['offline_ci_low'], r['offline_ci_high'])}"
        + ("" if r["offline_typed_lift"] is None else f" (typed: {fmt.change(r['offline_typed_lift'])})")
        + ("" if r["disagreement"] is None else f", disagreement {fmt.percent(r['disagreement'])}")
        for r in logged))
    for r in logged:
        if r.get("offline_ci_note"):
            st.caption(f"{md(r['experiment_id'])}: {md(r['offline_ci_note'])}")

st.subheader(f"Which proxy does the history support for {T}?")
history = history or call_kept(svc.history_view, target)
board = history["leaderboard"]
# the learned composite: computed once per data version (kept on disk), never on a rerun
composite = call_kept(proxy_svc.view, target) if target.startswith("online:") else {"error": "offline target"}
composite_row = proxy_svc.leaderboard_row(composite)
if composite_row is not None:
    names = {**names, proxy_svc.SPEC: composite_row["label"]}
for kind, heading in (("offline", "Offline proxies"), ("online", "Online proxies")):
    ranked = [r for r in board if not r["problem"] and r["kind"] == kind]
    if kind == "online" and composite_row is not None:
        ranked = [composite_row] + ranked
    if not ranked:
        continue
    st.markdown(f"**{heading}** ({len(ranked)})")
    st.vega_lite_chart(leaderboard_chart(ranked, T, name), width="stretch", key=f"board-{kind}")
    st.dataframe(pd.DataFrame([{
        "proxy": name(r["proxy"]), "n": r["n_experiments"],
        "r [95% CI]": r_with_ci(r["aligned_pearson"], r["aligned_pearson_ci"]),
        "corrected r [95% CI]": r_with_ci(r["aligned_corrected"], r["aligned_corrected_ci"]),
        "verdict": svc.strength(r),
        "same sign": None if r["sign_agreement"] is None else f"{r['sign_agreement']:.0%}",
        "LOO Q²": None if r["loo_q2"] is None else round(r["loo_q2"], 2),
        "broke": r["broken"],
    } for r in ranked]), hide_index=True, width="stretch")
if composite_row is not None:
    oos = composite["out_of_sample"]
    st.caption(
        f"Learned composite: {proxy_svc.weights_text(composite)} (weights on standardised lifts, sum of sizes 1). "
        f"Every number in its row is out of sample: each experiment's composite lift comes from weights learned "
        f"without it. Sensitivity {fmt.percent(oos['sensitivity'], digits=2)} of experiments detect it, "
        f"{fmt.percent(composite['north_star']['sensitivity'], digits=2)} detect {T} itself; "
        f"`python -m dashboard report proxy --target {target.partition(':')[2]}` gives the weights' intervals "
        "and each metric alone.")
st.caption("Offline and online proxies are ranked apart: two online metrics measured on the same users share "
           "estimation noise, which inflates their naive correlation. n: experiments with both metrics; same sign: "
           "share of experiments whose two lifts had the same sign; broke: the proxy won while the target lost. Every r and interval is in the direction the "
           "metric tree expects (a lower-is-better proxy should move against a higher-is-better target); the verdict "
           "reads the noise-corrected interval where there is one. LOO Q² (leave-one-out): 1 − (error predicting each "
           "experiment from the others)² / spread of the target; below 0 the proxy predicts worse than the average.")
for r in board:
    if r["problem"]:
        st.caption(f"{name(r['proxy'])}: {r['problem']}")

edges = [e for e in history["edges"] if not e["problem"]]
if edges:
    st.subheader("Metric tree: how strongly each child's lift tracked its parent's")
    st.dataframe(pd.DataFrame([{
        "child": name(e["child_metric"]), "parent": name(e["parent_metric"]), "n": e["n_experiments"],
        "r [95% CI]": r_with_ci(e["aligned_pearson"], e["aligned_pearson_ci"]),
        "corrected r [95% CI]": r_with_ci(e["aligned_corrected"], e["aligned_corrected_ci"]),
        "verdict": e["strength"],
    } for e in edges]), hide_index=True, width="stretch")
    missing = [e for e in history["edges"] if e["problem"]]
    if missing:
        st.caption("Edges without experiment data on both ends: " +
                   ", ".join(f"{e['child_name']} → {e['parent_name']}" for e in missing))

with st.expander("How these numbers are computed"):
    st.markdown(
        "- **Naive correlation**: Pearson r of the observed lifts (scipy), interval by Fisher z; Spearman ρ.\n"
        "- **Noise-corrected correlation**: each experiment's pair of lifts is the true pair plus estimation noise "
        "whose covariance is known: each lift's squared standard error, and for two online metrics measured on "
        "the same users the covariance of their noise (from the `covariances` file, delta method). A bivariate "
        "random-effects model is fitted by REML and the interval is its profile likelihood (Bibaut et al., KDD "
        "2024). Without covariances, two online metrics get no corrected value; with fewer than 20 experiments, "
        "none either (its coverage is not shown to hold there). Offline vs online: noise covariance 0 (different "
        "data). *(clipped)*: the estimate reached ±1.\n"
        "- **Fitted line and band**: least squares; the band is the 95% prediction interval for one new "
        "experiment. **Sign agreement**: share of experiments with both lifts of the same sign.\n"
        "- The demo's experiment history is generated: no public dataset pairs offline with online "
        "lifts across many experiments.")
