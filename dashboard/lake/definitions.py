"""One Ibis definition per summary: the same expression runs on DuckDB, Spark and warehouses.

Each mirrors the in-database build of the ingest path (dashboard/store/summaries.py and
ranking_summary.py) operation for operation, so a table summarised here equals one built from raw
rows loaded into the dashboard; tests/test_lake_parity.py checks DuckDB, Spark and the ingest path
against each other and the metrics against pytrec_eval. Only +, -, *, / and comparisons decide a
score's bin, so every IEEE-754 engine puts it in the same bin.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from dashboard.metrics.binning import N_BINS
from dashboard.store.ranking_summary import K_VALUES, segment_column

MISSING = "(missing)"


def f64(x: float) -> ir.FloatingScalar:
    """A DOUBLE literal: Spark reads a bare `3.0` as DECIMAL(2,1), and bigint / decimal rounds to
    6 decimals (1/3 -> 0.333333)."""
    return ibis.literal(float(x), "float64")


def count_if(t: ir.Table, cond: ir.BooleanColumn) -> ir.IntegerScalar:
    """Rows where `cond` holds; 0, not NULL, for a group with none (Spark's form returns NULL)."""
    return t.count(where=cond).fill_null(0)


def clean_segment(col: ir.Column) -> ir.StringColumn:
    """As the ingest path stores a segment value: trimmed text, empty as NULL."""
    return col.cast("string").strip().nullif("")


# --- predictions -------------------------------------------------------------------------------

def score_ranges(preds: ir.Table) -> ir.Table:
    return preds.group_by("model").aggregate(min_score=preds.score.min(), max_score=preds.score.max(),
                                             rows=preds.count())


def prediction_problems(preds: ir.Table) -> ir.Table:
    """One row of counts of values the ingest validator would refuse."""
    score_bad = preds.score.isnull() | preds.score.isnan() | preds.score.isinf()
    label = preds.label.cast("float64")
    return preds.aggregate(
        rows=preds.count(),
        bad_model=count_if(preds, preds.model.isnull() | (preds.model.cast("string").strip() == "")),
        bad_score=count_if(preds, score_bad),
        bad_label=count_if(preds, label.notnull() & (label != 0) & (label != 1)),
    )


def prediction_bins(preds: ir.Table, ranges: ir.Table, segments: list[str], day: ir.Column | None) -> ir.Table:
    """Labelled counts per model x day x segment x score bin (schema: store/schema.py).

    `ranges`: model, lo, hi (from metrics.binning.score_range). `day`: a column of `preds`, or None.
    """
    day_expr = day.cast("date") if day is not None else ibis.null("date")
    cols = {
        "model": preds.model.cast("string"),
        "day": day_expr,
        "score": preds.score.cast("float64"),
        "label": preds.label.cast("float64"),
        "weight": preds.weight.cast("float64").fill_null(f64(1)) if "weight" in preds.columns else f64(1),
        "value": preds.value.cast("float64").fill_null(f64(0)) if "value" in preds.columns else f64(0),
    }
    cols.update({f"seg_{i}": clean_segment(preds[s]).fill_null(MISSING) for i, s in enumerate(segments)})
    t = preds.select(**cols).inner_join(ranges, "model")
    width = (t.hi - t.lo) / f64(N_BINS)
    b0 = ibis.least(f64(N_BINS), ibis.greatest(f64(0), ((t.score - t.lo) / width).floor().cast("float64")))
    t = t.mutate(b0=b0, width=width)
    fix = (t.score < t.lo + t.b0 * t.width).cast("int64")
    up = (t.score >= t.lo + (t.b0 + 1) * t.width).cast("int64")
    t = t.mutate(bin=ibis.greatest(f64(0), ibis.least(f64(N_BINS), t.b0 - fix + up)).cast("int32"))
    sets = [("", None)] + [(name, f"seg_{i}") for i, name in enumerate(segments)]
    parts = []
    for name, col in sets:
        g = t.mutate(segment_column=ibis.literal(name), segment_value=t[col] if col else ibis.literal(""))
        parts.append(g.group_by(["model", "day", "segment_column", "segment_value", "bin"]).aggregate(
            n_pos=count_if(g, g.label == 1),
            n_neg=count_if(g, g.label == 0),
            n_unlabeled=count_if(g, g.label.isnull()),
            w_pos=g.weight.sum(where=g.label == 1).fill_null(f64(0)),
            w_neg=g.weight.sum(where=g.label == 0).fill_null(f64(0)),
            value_pos=g.value.sum(where=g.label == 1).fill_null(f64(0)),
            value_neg=g.value.sum(where=g.label == 0).fill_null(f64(0)),
        ))
    return ibis.union(*parts, distinct=False)


# --- rankings ----------------------------------------------------------------------------------

def _gain(rel: ir.NumericColumn, kind: str) -> ir.NumericColumn:
    return rel.cast("float64") if kind == "lin" else f64(2) ** rel.cast("float64") - f64(1)


def ranked_judged(runs: ir.Table, qrels: ir.Table) -> ir.Table:
    """Judged queries' items with trec_eval's rank (score desc, item id desc) and running relevant count."""
    judged = qrels.select("query_id").distinct()
    q = qrels.select(q_query=qrels.query_id, q_item=qrels.item_id, relevance=qrels.relevance)
    r = runs.select("model", "query_id", "item_id", "score").semi_join(judged, "query_id")
    r = r.left_join(q, (r.query_id == q.q_query) & (r.item_id == q.q_item))
    r = r.select("model", "query_id", "item_id", "score", raw=r.relevance.fill_null(0))
    order = [ibis.desc(r.score), ibis.desc(r.item_id)]
    return r.mutate(
        rank=ibis.row_number().over(group_by=[r.model, r.query_id], order_by=order) + 1,
        rel=ibis.greatest(r.raw, 0),
        rel_so_far=(r.raw >= 1).cast("int64").sum().over(
            ibis.cumulative_window(group_by=[r.model, r.query_id], order_by=order)),
    )


def _per_query(ranked: ir.Table) -> ir.Table:
    t = ranked
    aggs = {}
    for k in K_VALUES:
        for kind in ("lin", "exp"):
            aggs[f"dcg_{kind}_{k}"] = (_gain(t.rel, kind) / (t.rank + 1).cast("float64").log2()).sum(where=t.rank <= k).fill_null(f64(0))
        aggs[f"relret_{k}"] = count_if(t, (t.rank <= k) & (t.rel >= 1))
    aggs["first_rel"] = t.rank.min(where=t.rel >= 1)
    aggs["ap_sum"] = (t.rel_so_far.cast("float64") / t.rank).sum(where=t.rel >= 1).fill_null(f64(0))
    aggs["n_retrieved"] = t.rank.max()  # the list length as served (a logged gap counts)
    return t.group_by(["model", "query_id"]).aggregate(**aggs)


def ranked_logged(log: ir.Table) -> ir.Table:
    """A logged ranking's rows: rank = served position, judged by their own relevance."""
    r = log.select("model", "query_id", "item_id", position=log.position.cast("int64"),
                   raw=log.relevance.cast("int64"))
    return r.mutate(
        rank=r.position,
        rel=ibis.greatest(r.raw, 0),
        rel_so_far=(r.raw >= 1).cast("int64").sum().over(
            ibis.cumulative_window(group_by=[r.model, r.query_id], order_by=[r.position])),
    )


def _ideal(judged: ir.Table, keys: list[str]) -> ir.Table:
    """Ideal DCGs per `keys` (query for qrels; model and query for a logged ranking's own rows)."""
    q = judged.filter(judged.relevance > 0)
    q = q.mutate(irank=ibis.row_number().over(group_by=[q[k] for k in keys], order_by=ibis.desc(q.relevance)) + 1,
                 rel=ibis.greatest(q.relevance, 0))
    aggs = {f"idcg_{kind}_{k}": (_gain(q.rel, kind) / (q.irank + 1).cast("float64").log2()).sum(where=q.irank <= k).fill_null(f64(0))
            for k in K_VALUES for kind in ("lin", "exp")}
    aggs["n_rel"] = count_if(q, q.rel >= 1)
    return q.group_by([q[k].name(f"i_{k}") for k in keys]).aggregate(**aggs)


def ranking_query_metrics(runs: ir.Table, qrels: ir.Table | None, queries: ir.Table | None,
                          segments: list[str]) -> ir.Table:
    """One row per model x judged query, columns as store/ranking_summary.py's table. `qrels` None:
    the runs are logged rankings (position and relevance in every row), judged by their own rows."""
    if qrels is None:
        p = _per_query(ranked_logged(runs))
        i = _ideal(runs.select("model", "query_id", relevance=runs.relevance.cast("int64")), ["model", "query_id"])
        t = p.left_join(i, (p.model == i.i_model) & (p.query_id == i.i_query_id))
    else:
        p = _per_query(ranked_judged(runs, qrels))
        i = _ideal(qrels, ["query_id"])
        t = p.left_join(i, p.query_id == i.i_query_id)
    if queries is not None and segments:
        s = queries.select(s_query=queries.query_id, **{f"s_{n}": clean_segment(queries[n]) for n in segments})
        t = t.left_join(s, t.query_id == s.s_query)
    out = {"model": t.model, "query_id": t.query_id}
    out.update({segment_column(n): t[f"s_{n}"] for n in segments})
    n_rel = t.n_rel.fill_null(0)
    for k in K_VALUES:
        for kind in ("lin", "exp"):
            idcg, dcg = t[f"idcg_{kind}_{k}"], t[f"dcg_{kind}_{k}"]
            out[f"ndcg_{kind}_{k}"] = ibis.ifelse(idcg.fill_null(f64(0)) > 0, dcg / idcg, f64(0))
            out[f"dcg_{kind}_{k}"] = dcg
        relret = t[f"relret_{k}"]
        out[f"recall_{k}"] = ibis.ifelse(n_rel > 0, relret.cast("float64") / n_rel, f64(0))
        out[f"hit_{k}"] = (relret > 0).cast("float64")
        out[f"precision_{k}"] = relret.cast("float64") / f64(k)
    out["rr"] = (f64(1) / t.first_rel).fill_null(f64(0))
    out["ap"] = ibis.ifelse(n_rel > 0, t.ap_sum / n_rel, f64(0))
    out["n_relevant"] = n_rel
    out["n_retrieved"] = t.n_retrieved
    return t.select(**out)


def ranking_coverage(runs: ir.Table, queries: ir.Table | None, segments: list[str], logged: bool = False) -> ir.Table:
    """Distinct items in each model's top k, overall and per query segment, with the catalogue size
    (distinct items any model retrieved). Distinct counts do not add up across partitions.
    `logged`: the top k by served position, not by score."""
    if logged:
        r = runs.select("model", "query_id", "item_id", rank=runs.position.cast("int64"))
    else:
        r = runs.select("model", "query_id", "item_id", "score")
        r = r.mutate(rank=ibis.row_number().over(group_by=[r.model, r.query_id],
                                                 order_by=[ibis.desc(r.score), ibis.desc(r.item_id)]) + 1)
    r = r.filter(r.rank <= max(K_VALUES))
    long = [r.select("model", "item_id", "rank", segment_column=ibis.literal(""), segment_value=ibis.literal(""))]
    if queries is not None and segments:
        s = queries.select(s_query=queries.query_id, **{f"s_{n}": clean_segment(queries[n]) for n in segments})
        j = r.left_join(s, r.query_id == s.s_query)
        for n in segments:
            long.append(j.select("model", "item_id", "rank", segment_column=ibis.literal(n),
                                 segment_value=j[f"s_{n}"].fill_null(MISSING)))
    stacked = ibis.union(*long, distinct=False)
    per_k = [stacked.filter(stacked.rank <= k).group_by(["model", "segment_column", "segment_value"])
             .aggregate(n_items=stacked.item_id.nunique()).mutate(k=ibis.literal(k, "int64"))
             for k in K_VALUES]
    catalogue = runs.aggregate(catalogue=runs.item_id.nunique())
    return ibis.union(*per_k, distinct=False).cross_join(catalogue)


# --- experiments -------------------------------------------------------------------------------

def experiment_stats(units: ir.Table, segments: list[str]) -> ir.Table:
    """Sufficient statistics per experiment x variant x metric from one row per unit (user):
    overall (every segment NULL) and per segment column (the others NULL), as `results` holds them."""
    base = units.select(experiment_id=units.experiment_id.cast("string"), variant=units.variant.cast("string"),
                        metric=units.metric.cast("string"), value=units.value.cast("float64"),
                        **{s: clean_segment(units[s]).fill_null(MISSING) for s in segments})
    base = base.filter(base.value.notnull())
    parts = []
    for active in [None] + segments:
        keys = ["experiment_id", "variant", "metric"] + ([active] if active else [])
        agg = base.group_by(keys).aggregate(n=base.count(), sum=base.value.sum(),
                                            sum_sq=(base.value * base.value).sum())
        agg = agg.mutate(**{s: ibis.null("string") for s in segments if s != active})
        parts.append(agg.select("experiment_id", "variant", "metric", "n", "sum", "sum_sq", *segments))
    return ibis.union(*parts, distinct=False)
