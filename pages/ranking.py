"""Ranking: trec_eval's measures by segment, baseline vs candidate, with honest uncertainty."""

import pandas as pd
import streamlit as st

from dashboard.format import delta, interval, p_is, p_value, score
from dashboard.paths import PAGES_DIR
from dashboard.services import ranking as svc
from dashboard.ui import state
from dashboard.ui.charts_ranking import forest_chart, segment_bars
from dashboard.ui.db import call
from dashboard.ui.text import code, md

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
    levels = opts["levels"] or [1]
    level = state.persist("rank.level", 1, int, valid=lambda v: v in levels)
    st.selectbox("Relevant from grade (trec_eval -l)", levels, key=state.widget_key("rank.level"),
                 on_change=state.on_change("rank.level"),
                 help="Binary measures (MRR, recall, hit, P, MAP, R-prec) count grade ≥ this as relevant. "
                      "NDCG and DCG use every grade's gain.")
    all_queries = state.persist("rank.allq", False, state.parse_bool)
    st.checkbox("Every judged query (trec_eval -c)", key=state.widget_key("rank.allq"),
                on_change=state.on_change("rank.allq"),
                help="Average over every query in the judgements; a query a model did not retrieve counts 0. "
                     "Off: the queries both models retrieved.")
    segments = opts["segments"]
    by = state.persist("rank.by", "user_tier" if "user_tier" in segments else (segments[0] if segments else ""),
                       valid=lambda v: v == "" or v in segments)
    st.selectbox("Segments by", [""] + segments, key=state.widget_key("rank.by"), on_change=state.on_change("rank.by"),
                 format_func=lambda c: c or "(none)")
    metric = state.persist("rank.metric", "ndcg", valid=lambda v: v in svc.METRICS)
    st.selectbox("Compare segments on", svc.METRICS, key=state.widget_key("rank.metric"),
                 on_change=state.on_change("rank.metric"), format_func=lambda m: svc.metric_label(m, k))
    min_size = state.persist("rank.min", svc.MIN_SEGMENT_QUERIES, int)
    st.number_input("Minimum queries per segment", 2, step=10, key=state.widget_key("rank.min"),
                    on_change=state.on_change("rank.min"))
state.sync_url(["rank.model", "rank.baseline", "rank.k", "rank.gain", "rank.level", "rank.allq", "rank.by",
                "rank.metric", "rank.min"], encode=lambda v: str(v).lower())
if baseline == model:
    baseline = ""
label = svc.metric_label(metric, k)

gain_name = "linear gain (rel), as trec_eval" if gain == "linear" else "exponential gain (2^rel − 1), as LightGBM"
st.caption(f"NDCG@{k} with {gain_name}; ideal DCG from all judged items of the query; ties in score broken by "
           f"item id descending; a query with no relevant item scores 0; relevant means grade ≥ {level}. MRR is "
           f"trec_eval's reciprocal rank over the whole list, MAP its average precision, MAP@{k} `map_cut_{k}`, "
           f"R-prec the precision at rank R (R = relevant items), bpref trec_eval's (judged non-relevant items "
           f"ranked above each relevant one; unjudged items are skipped). Means over "
           + ("every judged query (-c)." if all_queries else "the queries evaluated for both models."))
forms = {m: opts["forms"].get(m, "scored") for m in (model, baseline) if m}  # summaries only: scored
if any(f != "scored" for f in forms.values()):
    how = {"logged": "a logged ranking: ordered by served position and judged by its own rows (ideal DCG "
                     "from the list's judged rows, no qrels)",
           "positioned": "ordered by served position (not score), judged by the qrels",
           "scored": "ordered by score, judged by the qrels"}
    st.caption(" ".join(f"{code(m)} is {how[f]}." for m, f in forms.items()))
short = svc.short_lists(opts, [model, baseline], k)
if short:
    st.warning(":material/straighten: k = {k} is beyond the lists: ".format(k=k) + "; ".join(
        f"{code(m)} returns at most {n} items, so its @{k} measures repeat @{n} (P@{k} counts the {k - n} missing "
        f"positions as not relevant)" for m, n in short.items()) + ".")

tested_online = st.container()  # links to experiments of these models: filled after the headline numbers
overall = call(svc.overall_summary, model, k, gain, baseline, level=level, all_queries=all_queries,
               min_size=min_size)
if overall[metric] is None:  # a per-query table built before the measure existed (bpref)
    st.info(f"{label} is not in this database's ranking summary (built before it was added); load the run "
            "again to add it. Segments are compared on NDCG.")
    metric, label = "ndcg", svc.metric_label("ndcg", k)

CARDS = svc.METRICS
cols = [c for _ in range(2) for c in st.columns(6)]
for col, m in zip(cols, CARDS):
    d = overall.get("deltas", {}).get(m) if baseline else None
    col.metric(svc.metric_label(m, k), score(overall[m], 3 if m == "dcg" else 4),
               delta(d["delta"]) if d else None)  # six cards a row: "vs baseline" is said once, below
cols[len(CARDS)].metric("Queries", f"{overall['n_queries']:,}")
if baseline:
    st.caption(f"Arrows: the change from {md(baseline)} (paired over the same queries; intervals in the table below).")

# after the headline numbers: the links placed above them, then the segments
with tested_online:
    for e in call(svc.experiments_for, baseline, model) if baseline else []:
        st.page_link(str(PAGES_DIR / "launch_review.py"), query_params={"exp": e["experiment_id"]},
                     icon=":material/rocket_launch:",
                     label=f"{md(e['experiment_id'])} · {md(e['name'])} tested {md(e['control_model'])} → "
                           f"{md(e['treatment_model'])} online" + (f" ({md(e['decision'])})" if e.get("decision") else "")
                           + ": open in Launch review")
table = call(svc.segment_table, model, k, gain, by, baseline, min_size, 0, overall, level=level,
             all_queries=all_queries)

too_few = f"too few queries (n < {min_size})"
if baseline:
    st.subheader(f"{md(model)} vs {md(baseline)}, all queries")
    rows = [{"measure": svc.metric_label(m, k), baseline: score(d["baseline"], 4), model: score(overall[m], 4),
             "Δ": delta(d["delta"]),
             "95% CI": interval(d["ci_low"], d["ci_high"], delta) if d["ci_low"] is not None else too_few,
             "p": p_value(d["p_value"])} for m, d in overall["deltas"].items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"{overall['n_queries']:,} queries. Paired over queries: 95% Student-t interval of the mean "
               f"per-query difference and a paired t-test; no interval under {min_size} queries "
               f"(benchmarks/calib/ranking.py: 95-96% coverage at 30 and 100 queries).")

segs = table["segments"]
traps = [s for s in segs if s.get("trap")]
if traps:
    names = ", ".join(f"**{md(s['column'])}={md(s['value'])}** ({delta(s['delta_ndcg'])}, {s['confidence']:.1%} CI "
                      f"{interval(s['ci_low'], s['ci_high'], delta)}, {p_is(s['q_value'], 'q')})" for s in traps)
    st.error(f":material/warning: **Regression under a rising average.** {md(model)} beats {md(baseline)} overall "
             f"on NDCG@{k} ({delta(overall['delta_ndcg'])}) but is significantly worse for {names}. "
             "The average hides them.")

tested = [s for s in segs if not s.get("small")]
level_text = f"{tested[0]['deltas'][metric]['confidence']:.1%}" if baseline and tested else "no"
if baseline and segs:
    st.vega_lite_chart(forest_chart(overall, segs, label, metric), width="stretch")
    st.caption(f"Segments are tested with a paired t-test over queries and corrected across the {len(tested)} tested "
               f"segments of '{by}' with Benjamini-Hochberg (false discovery rate 5%). Their intervals are "
               f"false-coverage-rate adjusted to the same evidence ({level_text} here; Benjamini & Yekutieli "
               f"2005): a segment is coloured exactly when its interval excludes 0. Grey: not significant after "
               f"correction, or fewer than {min_size} queries (not tested, no interval).")

if segs:
    st.subheader(f"By {md(by)}" + (f": {md(label)}, {md(model)} vs {md(baseline)}" if baseline else ""))
    if baseline:
        rows = []
        ci_name = f"{level_text} CI"
        for s in segs:
            d = s["deltas"].get(metric) or {"baseline": None, "delta": None, "ci_low": None, "ci_high": None}
            rows.append({by: s["value"], "queries": f"{s['n_queries']:,}", baseline: score(d["baseline"], 4),
                         model: score(s[metric], 4), "Δ": delta(d["delta"]),
                         ci_name: interval(d["ci_low"], d["ci_high"], delta) if d["ci_low"] is not None else too_few,
                         "q (BH)": p_value(d.get("q_value")),
                         "flag": ("regresses under rising average" if s.get("trap") and metric == "ndcg" else
                                  ("better" if d["delta"] > 0 else "worse") if d.get("significant") else "")})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    coverage = call(svc.coverage_by_k, model, by).get(k, {})  # every cutoff in one pass: a new k reads no raw rows
    rows = []
    for s in segs:
        row = {by: s["value"] + (" (small)" if s.get("small") else ""), "queries": f"{s['n_queries']:,}"}
        row.update({svc.metric_label(m, k): score(s[m], 3 if m == "dcg" else 4) for m in CARDS})
        row[f"none relevant @{k}"] = f"{s['no_relevant_in_top_k']:.1%}"
        cov = coverage.get(s["value"])
        row[f"coverage @{k}"] = f"{cov:.1%}" if cov is not None else "n/a"
        rows.append(row)
    st.caption(f"{md(model)} by {md(by)}, every measure:")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"None relevant @{k}: share of queries with no relevant item in the top {k}. Coverage: distinct items "
               "the candidate shows in its top k for the segment's queries, as a share of every item any loaded "
               "model retrieved (the catalogue).")
    c1, c2 = st.columns(2)
    c1.vega_lite_chart(segment_bars(segs, model, baseline or None, metric, label), width="stretch")
    c2.vega_lite_chart(segment_bars(segs, model, baseline or None, "dcg", f"DCG@{k}"), width="stretch")
    st.caption("DCG beside the chosen measure: normalisation divides by each query's ideal, so a model can win on "
               "NDCG and lose on DCG when segments differ in how many relevant items they have.")
