"""Ranking: NDCG, MRR and recall by segment, baseline vs candidate, with honest uncertainty."""

import pandas as pd
import streamlit as st

from dashboard.format import delta, interval, p_value
from dashboard.services import ranking as svc
from dashboard.ui import state
from dashboard.ui.charts_ranking import forest_figure, segment_bars
from dashboard.ui.db import call

st.title("Ranking")
opts = call(svc.options)
models = opts["models"]
if not models:
    st.info("No ranking runs with judgements are loaded. Load `run` (or TREC run files) and `qrels`, or a "
            "logged ranking (a `run` with `position` and `relevance` in every row), and optionally `queries` "
            "(segments) on the Data page.")
    st.stop()

with st.sidebar:
    model = state.persist("rank.model", models[-1], valid=lambda v: v in models)
    st.selectbox("Candidate model", models, key=state.widget_key("rank.model"), on_change=state.on_change("rank.model"))
    default_base = models[-2] if len(models) > 1 else ""
    baseline = state.persist("rank.baseline", default_base, valid=lambda v: v == "" or v in models)
    st.selectbox("Baseline model", [""] + models, key=state.widget_key("rank.baseline"),
                 on_change=state.on_change("rank.baseline"), format_func=lambda m: m or "(none)")
    k = state.persist("rank.k", 10, int, valid=lambda v: v in opts["k_values"])
    st.select_slider("k (cutoff)", opts["k_values"], key=state.widget_key("rank.k"), on_change=state.on_change("rank.k"))
    gain = state.persist("rank.gain", "linear", valid=lambda v: v in svc.GAINS)
    st.radio("Gain", svc.GAINS, key=state.widget_key("rank.gain"), on_change=state.on_change("rank.gain"),
             format_func={"linear": "linear: rel (trec_eval)", "exp": "exponential: 2^rel − 1 (LightGBM)"}.get)
    segments = opts["segments"]
    by = state.persist("rank.by", "user_tier" if "user_tier" in segments else (segments[0] if segments else ""),
                       valid=lambda v: v == "" or v in segments)
    st.selectbox("Segments by", [""] + segments, key=state.widget_key("rank.by"), on_change=state.on_change("rank.by"),
                 format_func=lambda c: c or "(none)")
    min_size = state.persist("rank.min", svc.MIN_SEGMENT_QUERIES, int)
    st.number_input("Minimum queries per segment", 2, step=10, key=state.widget_key("rank.min"),
                    on_change=state.on_change("rank.min"))
state.sync_url(["rank.model", "rank.baseline", "rank.k", "rank.gain", "rank.by", "rank.min"])
if baseline == model:
    baseline = ""

gain_name = "linear gain (rel), as trec_eval" if gain == "linear" else "exponential gain (2^rel − 1), as LightGBM"
st.caption(f"NDCG@{k} with {gain_name}; ideal DCG from all judged items of the query; ties in score broken by "
           f"item id descending; a query with no relevant item scores 0; relevant means grade ≥ 1. MRR is "
           f"trec_eval's reciprocal rank over the whole list, MAP its average precision. Means over queries.")
forms = {m: opts["forms"].get(m, "scored") for m in (model, baseline) if m}  # summaries only: scored
if any(f != "scored" for f in forms.values()):
    how = {"logged": "a logged ranking: ordered by served position and judged by its own rows (ideal DCG "
                     "from the list's judged rows, no qrels)",
           "positioned": "ordered by served position (not score), judged by the qrels",
           "scored": "ordered by score, judged by the qrels"}
    st.caption(" ".join(f"`{m}` is {how[f]}." for m, f in forms.items()))

overall = call(svc.overall_summary, model, k, gain, baseline)
table = call(svc.segment_table, model, k, gain, by, baseline, min_size, 0, overall)

cols = st.columns(6)
cols[0].metric(f"NDCG@{k}", f"{overall['ndcg']:.4f}",
               f"{overall['delta_ndcg']:+.4f} vs {baseline}" if baseline else None)
cols[1].metric(f"DCG@{k}", f"{overall['dcg']:.3f}",
               f"{overall['delta_dcg']:+.3f}" if baseline else None)
cols[2].metric("MRR", f"{overall['mrr']:.4f}")
cols[3].metric(f"Recall@{k}", f"{overall['recall']:.4f}")
cols[4].metric(f"Hit@{k}", f"{overall['hit']:.2%}")
cols[5].metric("Queries", f"{overall['n_queries']:,}")
if baseline:
    st.caption(f"Overall Δ NDCG@{k} 95% paired bootstrap interval: {interval(overall['ci_low'], overall['ci_high'], delta)} "
               f"over {overall['n_queries']:,} queries evaluated for both models.")

segs = table["segments"]
traps = [s for s in segs if s.get("trap")]
if traps:
    names = ", ".join(f"**{s['column']}={s['value']}** ({s['delta_ndcg']:+.4f}, 95% CI "
                      f"{interval(s['ci_low'], s['ci_high'], delta)}, q = {p_value(s['q_value'])})" for s in traps)
    st.error(f":material/warning: **Regression under a rising average.** {model} beats {baseline} overall "
             f"({overall['delta_ndcg']:+.4f}) but is significantly worse for {names}. The average hides them.")

if baseline and segs:
    st.plotly_chart(forest_figure(overall, segs, f"NDCG@{k}"), width="stretch")
    st.caption(f"Segments are tested with a paired t-test over queries and corrected across the {len(segs)} segments "
               f"of '{by}' with Benjamini-Hochberg (false discovery rate 5%); intervals are paired bootstrap "
               f"percentile intervals (1,000 resamples of queries). Grey: not significant after correction, or "
               f"fewer than {min_size} queries (not tested).")

if segs:
    st.subheader(f"By {by}")
    coverage = call(svc.coverage, model, k, by)
    rows = []
    for s in segs:
        row = {by: s["value"] + (" (small)" if s.get("small") else ""), "queries": s["n_queries"],
               f"NDCG@{k}": s["ndcg"], f"DCG@{k}": s["dcg"], "MRR": s["mrr"], f"Recall@{k}": s["recall"],
               "MAP": s["map"], f"no relevant in top {k}": s["no_relevant_in_top_k"],
               f"catalogue coverage @{k}": coverage.get(s["value"])}
        if baseline:
            row.update({f"baseline NDCG@{k}": s["baseline_ndcg"], "Δ NDCG": s["delta_ndcg"],
                        "95% CI": interval(s["ci_low"], s["ci_high"], delta),
                        "q (BH)": s.get("q_value"), "flag": "regresses under rising average" if s.get("trap") else ""})
        rows.append(row)
    frame = pd.DataFrame(rows)
    fmt = {c: "{:.4f}" for c in frame.columns if c.startswith(("NDCG", "MRR", "Recall", "MAP", "baseline", "Δ"))}
    fmt.update({f"DCG@{k}": "{:.3f}", f"no relevant in top {k}": "{:.1%}", f"catalogue coverage @{k}": "{:.1%}",
                "q (BH)": p_value, "queries": "{:,}"})
    st.dataframe(frame.style.format(fmt, na_rep="n/a"), hide_index=True, width="stretch")
    st.caption("Catalogue coverage: distinct items the candidate shows in its top k for the segment's queries, as a "
               "share of every item any loaded model retrieved.")
    c1, c2 = st.columns(2)
    c1.plotly_chart(segment_bars(segs, model, baseline or None, "ndcg"), width="stretch")
    c2.plotly_chart(segment_bars(segs, model, baseline or None, "dcg"), width="stretch")
    st.caption("DCG beside NDCG: normalisation divides by each query's ideal, so a model can win on one and "
               "lose on the other when segments differ in how many relevant items they have.")
