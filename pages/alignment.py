"""Online vs offline: does a proxy's lift predict the business metric's lift across past experiments?"""

import pandas as pd
import streamlit as st

from dashboard import format as fmt
from dashboard.services import alignment as svc
from dashboard.ui import state
from dashboard.ui.charts_alignment import leaderboard_figure, scatter_figure
from dashboard.ui.db import call
from dashboard.ui.text import md


NAMES: dict[str, str] = {}  # spec or tree node id -> the tree's name (set from the service's options below)


def label(spec: str) -> str:
    if spec in NAMES:
        return NAMES[spec]
    source, _, name = spec.partition(":")
    return f"{name} ({source})"


def pct(v, digits=2) -> str:
    return fmt.change(v)


def corrected(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.2f} (clipped)" if abs(v) >= 0.9999 else f"{v:.2f}"


def interval(pair, style="{:+.2f}") -> str:
    """'[a, b]' (dashboard/format.py): relative lifts when `style` is a percent, else correlations."""
    return fmt.interval(*pair, fmt.change if "%" in style else (lambda v: f"{v:+.2f}"))


st.title("Online vs offline")
opts = call(svc.options)
specs = opts["specs"]
NAMES.update(opts.get("names", {}))
if len(specs) < 2:
    st.info("This page needs past experiments with at least two metrics: load `experiments` and `results` "
            "(online sufficient statistics), and `offline` results or both models' logs, on the Data page.")
    st.stop()

with st.sidebar:
    proxy = state.persist("align.proxy", opts["default_proxy"], valid=lambda v: v in specs)
    st.selectbox("Proxy (x): offline or intermediate metric", specs, key=state.widget_key("align.proxy"),
                 on_change=state.on_change("align.proxy"), format_func=label)
    target = state.persist("align.target", opts["default_target"], valid=lambda v: v in specs)
    st.selectbox("Target (y): business metric", specs, key=state.widget_key("align.target"),
                 on_change=state.on_change("align.target"), format_func=label)
    candidate = state.persist("align.candidate", 0.05, float)
    st.number_input("Candidate's proxy lift (0.05 = +5%)", step=0.005, format="%.3f",
                    key=state.widget_key("align.candidate"), on_change=state.on_change("align.candidate"))
state.sync_url(["align.proxy", "align.target", "align.candidate"])

st.caption(f"One point per past experiment with both metrics ({opts['n_experiments']} experiments loaded). "
           "Lifts are relative: treatment over control − 1. Online intervals come from the variants' sufficient "
           "statistics (delta method); offline ones by bootstrap where both models' logs are loaded, otherwise "
           "the typed-in offline value has no interval.")

result = call(svc.view, proxy, target)
if "error" in result:
    st.warning(f":material/info: {md(result['error'])}")
    st.stop()
for w in result["warnings"]:
    st.warning(md(w))

P, T = label(proxy), label(target)
Pm, Tm = md(P), md(T)  # as literal text in markdown
cols = st.columns(5)
cols[0].metric("Experiments", result["n_experiments"])
cols[1].metric("Pearson r (naive)", f"{result['pearson']:.2f}", help="Correlation of the observed lifts; "
               "estimation noise in each experiment pulls it towards 0.")
cols[2].metric("Noise-corrected r", corrected(result["corrected_correlation"]),
               help="Errors-in-variables: each experiment's own standard errors removed from the spread of lifts.")
cols[3].metric("Spearman ρ", f"{result['spearman']:.2f}")
cols[4].metric("Sign agreement", "n/a" if result["sign_agreement"] is None else f"{result['sign_agreement']:.0%}")

ci = interval(result["pearson_ci"])
verdict = ("tracks" if result["pearson_ci"][0] > 0 else
           "moves against" if result["pearson_ci"][1] < 0 else "does not reliably track")
st.markdown(
    f"**{Pm} {verdict} {Tm}** across {result['n_experiments']} experiments: naive Pearson r = "
    f"{result['pearson']:.2f} {ci} (95%, Fisher z), Spearman ρ = {result['spearman']:.2f} "
    f"{interval(result['spearman_ci'])}; noise-corrected r = "
    + ("n/a" if result["corrected_correlation"] is None else
       f"{result['corrected_correlation']:.2f} {interval(result['corrected_ci'])} (bootstrap over experiments)")
    + f". When the proxy won, the target won in {result['offline_wins_online_wins']} of "
      f"{result['offline_wins']} experiments.")
for note in result["corrected_notes"]:
    st.caption(f"Noise correction: {md(note)}")

st.plotly_chart(scatter_figure(result, P, T), width="stretch")

broken = [r for r in result["experiments"] if r["broken"]]
st.subheader(f"Where the proxy broke ({len(broken)})")
if broken:
    st.caption(f"{Pm} moved in its good direction while {Tm} moved in its bad one. *Significant*: the online "
               f"interval excludes 0. Disagreement: where both models' logs are loaded, how much traffic the "
               f"models decide differently — a model can only move outcomes where it disagrees.")
    st.dataframe(pd.DataFrame([{
        "experiment": r["experiment_id"], "name": r["name"], "decision": r["decision"] or "undecided",
        f"{P} lift": pct(r["offline_lift"]), "source": r["offline_source"],
        f"{T} lift": pct(r["online_lift"]),
        "online 95% CI": interval((r["online_ci_low"], r["online_ci_high"]), "{:+.2%}"),
        "significant": "yes" if r["online_loss_significant"] else "no",
        "disagreement": "" if r["disagreement"] is None else fmt.percent(r["disagreement"]),
    } for r in broken]), hide_index=True, width="stretch")
else:
    st.success("In no experiment did the proxy win while the target lost.")

st.subheader("Prediction for a new candidate")
pred = svc.predict(result, float(candidate))
c1, c2 = st.columns([1, 2])
c1.metric(f"Expected {Tm} lift", pct(pred["expected_online_lift"]),
          help="From the fitted line; the interval is a 95% prediction interval for one new experiment.")
c2.markdown(f"For a candidate whose **{Pm}** lift is **{pct(candidate)}**, past experiments predict a **{Tm}** lift "
            f"of **{pct(pred['expected_online_lift'])}**, 95% prediction interval "
            f"**{interval(pred['interval'], '{:+.2%}')}**.")
for w in pred["warnings"]:
    st.warning(md(w))
logged = [r for r in result["experiments"] if r["offline_source"] == "logs"]
if logged:
    st.caption("Computed from loaded logs (not typed in): " + "; ".join(
        f"{r['experiment_id']} {pct(r['offline_lift'])} "
        f"{interval((r['offline_ci_low'], r['offline_ci_high']), '{:+.2%}')}"
        + ("" if r["offline_typed_lift"] is None else f" (typed: {pct(r['offline_typed_lift'])})")
        + ("" if r["disagreement"] is None else f", disagreement {fmt.percent(r['disagreement'])}")
        for r in logged))

history = call(svc.history_view, target)
st.subheader(f"Which proxy does the history support for {Tm}?")
board = history["leaderboard"]
for kind, heading in (("offline", "Offline proxies"), ("online", "Online proxies")):
    ranked = [r for r in board if not r["problem"] and r["kind"] == kind]
    if not ranked:
        continue
    st.markdown(f"**{heading}** ({len(ranked)})")
    st.plotly_chart(leaderboard_figure(ranked, T), width="stretch", key=f"board-{kind}")
    st.dataframe(pd.DataFrame([{
        "proxy": label(r["proxy"]), "experiments": r["n_experiments"],
        "r (expected direction)": round(r["aligned_pearson"], 3),
        "r 95% CI": interval(r["aligned_pearson_ci"]),
        "noise-corrected r (expected direction)": corrected(r["aligned_corrected"]),
        "corrected 95% CI": interval(r["aligned_corrected_ci"]),
        "sign agreement": None if r["sign_agreement"] is None else f"{r['sign_agreement']:.0%}",
        "leave-one-out Q²": None if r["loo_q2"] is None else round(r["loo_q2"], 2),
        "proxy won, target lost": r["broken"],
    } for r in ranked]), hide_index=True, width="stretch")
st.caption("Offline and online proxies are ranked apart: two online metrics measured on the same users share "
           "estimation noise, which inflates their naive correlation. Every r and interval is in the direction the "
           "metric tree expects (a lower-is-better proxy should move against a higher-is-better target). "
           "Leave-one-out Q²: 1 − (error predicting each experiment from the others)² / spread of the target; below 0 "
           "the proxy predicts worse than the average lift.")
for r in board:
    if r["problem"]:
        st.caption(f"{md(label(r['proxy']))}: {md(r['problem'])}")

edges = [e for e in history["edges"] if not e["problem"]]
if edges:
    st.subheader("Metric tree: how strongly each child's lift tracked its parent's")
    st.dataframe(pd.DataFrame([{
        "child": NAMES.get(e["child"], e["child"]), "parent": NAMES.get(e["parent"], e["parent"]),
        "experiments": e["n_experiments"],
        "r (expected direction)": round(e["aligned_pearson"], 3), "r 95% CI": interval(e["aligned_pearson_ci"]),
        "noise-corrected r (expected direction)": corrected(e["aligned_corrected"]),
        "corrected 95% CI": interval(e["aligned_corrected_ci"]),
        "strength": e["strength"],
    } for e in edges]), hide_index=True, width="stretch")
    missing = [e for e in history["edges"] if e["problem"]]
    if missing:
        st.caption("Edges without experiment data on both ends: " +
                   ", ".join(f"{md(NAMES.get(e['child'], e['child']))} → {md(NAMES.get(e['parent'], e['parent']))}"
                             for e in missing))

with st.expander("How these numbers are computed"):
    st.markdown(
        "- **Naive correlation**: Pearson r of the observed lifts (scipy), interval by Fisher z; Spearman ρ with "
        "the Bonett–Wright interval.\n"
        "- **Noise-corrected correlation**: each observed lift is the true lift plus estimation noise whose "
        "variance is the experiment's squared standard error. Subtracting the average noise variance from each "
        "metric's spread (errors in variables, method of moments) removes the attenuation; the interval is a "
        "bootstrap over experiments. It assumes the two metrics' noise is independent — true for offline vs "
        "online, not quite for two online metrics measured on the same users (Bibaut et al., KDD 2024), where "
        "shared noise inflates both the naive and the corrected value. *(clipped)*: the estimate reached ±1 — the "
        "history is too noisy to pin it down; read its interval instead.\n"
        "- **Fitted line and band**: least squares; the band is the 95% prediction interval for one new "
        "experiment. **Sign agreement**: share of experiments with both lifts of the same sign (Wilson "
        "interval).\n- The demo's experiment history is generated: no public dataset pairs offline with online "
        "lifts across many experiments.")
