"""One Ibis definition per summary: the same expression runs on DuckDB, Spark and warehouses.

Each mirrors the in-database build of the ingest path (dashboard/store/summaries.py and
ranking_summary.py) operation for operation, so a table summarised here equals one built from raw
rows loaded into the dashboard; tests/test_lake_parity.py checks DuckDB, Spark, PostgreSQL and the
ingest path against each other and the metrics against pytrec_eval. Only +, -, *, / and
comparisons decide a score's bin, so every IEEE-754 engine puts it in the same bin. Constants are
typed (f64) and booleans become numbers through CASE (indicator), so no engine's literal or cast
rules change a result.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from dashboard.metrics.binning import N_BINS
from dashboard.store.ranking_summary import K_VALUES, level_suffix, segment_column

MISSING = "(missing)"


def f64(x: float) -> ir.FloatingScalar:
    """A DOUBLE constant every engine types as DOUBLE: CAST('3.0' AS DOUBLE). A bare `3.0` is
    DECIMAL on Spark (bigint / decimal rounds to 6 decimals: 1/3 -> 0.333333) and NUMERIC on
    PostgreSQL (sum(1.0) is NUMERIC; Ibis drops its own cast of a float literal in some positions).
    repr() is the shortest round-tripping text, so every engine parses the same double."""
    return ibis.literal(repr(float(x))).cast("float64")


def indicator(cond: ir.BooleanValue, dtype: str = "int64") -> ir.NumericValue:
    """1 where `cond` holds, else 0: a CASE, since PostgreSQL casts no boolean to BIGINT or DOUBLE."""
    return ibis.ifelse(cond, 1, 0).cast(dtype)


def count_if(t: ir.Table, cond: ir.BooleanColumn) -> ir.IntegerScalar:
    """Rows where `cond` holds; 0, not NULL, for a group with none (Spark's form returns NULL)."""
    return t.count(where=cond).fill_null(0)


# what DuckDB's trim() removes on the ingest path: the Unicode space separators (category Zs), not
# tabs or newlines (Ibis's strip() removes those, and no no-break space); control characters are
# refused before (summarize.check_segment_values)
SPACES = " \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_TRIM = f"^[{SPACES}]+|[{SPACES}]+$"


def trim_spaces(col: ir.StringValue) -> ir.StringValue:
    return col.re_replace(_TRIM, "")


def clean_segment(col: ir.Column) -> ir.StringColumn:
    """As the ingest path stores a segment value: trimmed of spaces, empty as NULL."""
    return trim_spaces(col.cast("string")).nullif("")


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
    fix = indicator(t.score < t.lo + t.b0 * t.width)
    up = indicator(t.score >= t.lo + (t.b0 + 1) * t.width)
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


def _int_sum(x: ir.IntegerColumn, window) -> ir.IntegerColumn:
    """A windowed sum of integers, as BIGINT: PostgreSQL's sum(bigint) is NUMERIC (Python Decimal)."""
    return x.sum().over(window).cast("int64")


def _so_far(raw: ir.NumericColumn, levels: tuple[int, ...], group: list, order: list) -> dict:
    """Running count of relevant items per level (grade >= level), in rank order (for AP)."""
    return {f"so_far_{lv}": _int_sum(indicator(raw >= lv), ibis.cumulative_window(group_by=group, order_by=order))
            for lv in levels}


def judged_counts(qrels: ir.Table, levels: tuple[int, ...]) -> ir.Table:
    """Per judged query: the number of relevant items at each level (trec_eval's num_rel)."""
    aggs = {}
    for lv in levels:
        aggs[f"nrel_{lv}"] = count_if(qrels, qrels.relevance >= lv)
        aggs[f"nnon_{lv}"] = count_if(qrels, (qrels.relevance >= 0) & (qrels.relevance < lv))  # bpref's N
    return qrels.group_by("query_id").aggregate(**aggs)


def ranked_judged(runs: ir.Table, qrels: ir.Table, levels: tuple[int, ...] = (1,)) -> ir.Table:
    """Judged queries' items with trec_eval's rank (score desc, item id desc), running relevant
    counts and the query's relevant counts per level."""
    judged = judged_counts(qrels, levels).rename(j_query="query_id")
    q = qrels.select(q_query=qrels.query_id, q_item=qrels.item_id, relevance=qrels.relevance)
    r = runs.select("model", "query_id", "item_id", "score")
    r = r.join(judged, r.query_id == judged.j_query)
    r = r.left_join(q, (r.query_id == q.q_query) & (r.item_id == q.q_item))
    r = r.select("model", "query_id", "item_id", "score", *[c for lv in levels for c in (f"nrel_{lv}", f"nnon_{lv}")],
                 raw=r.relevance.fill_null(0), judged=indicator(r.relevance.notnull() & (r.relevance >= 0)))
    order = [ibis.desc(r.score), ibis.desc(r.item_id)]
    group = [r.model, r.query_id]
    return r.mutate(rank=ibis.row_number().over(group_by=group, order_by=order) + 1, rel=ibis.greatest(r.raw, 0),
                    judged_so_far=_int_sum(r.judged, ibis.cumulative_window(group_by=group, order_by=order)),
                    **_so_far(r.raw, levels, group, order))


def _per_query(ranked: ir.Table, k_values: tuple[int, ...], levels: tuple[int, ...]) -> ir.Table:
    t = ranked
    aggs = {}
    for k in k_values:
        for kind in ("lin", "exp"):
            aggs[f"dcg_{kind}_{k}"] = (_gain(t.rel, kind) / (t.rank + 1).cast("float64").log2()).sum(where=t.rank <= k).fill_null(f64(0))
    for lv in levels:
        rel, prec = t.rel >= lv, t[f"so_far_{lv}"].cast("float64") / t.rank
        for k in k_values:
            aggs[f"relret_{k}_{lv}"] = count_if(t, (t.rank <= k) & rel)
            aggs[f"mapsum_{k}_{lv}"] = prec.sum(where=rel & (t.rank <= k)).fill_null(f64(0))
        aggs[f"first_rel_{lv}"] = t.rank.min(where=rel)
        aggs[f"ap_sum_{lv}"] = prec.sum(where=rel).fill_null(f64(0))
        aggs[f"rret_{lv}"] = count_if(t, rel & (t.rank <= t[f"nrel_{lv}"]))
        aggs[f"nrel_{lv}"] = t[f"nrel_{lv}"].max()
        # bpref: judged non-relevant items above each relevant one (judged so far minus relevant so far)
        above = ibis.least(t.judged_so_far - t[f"so_far_{lv}"], t[f"nrel_{lv}"])
        aggs[f"relret_all_{lv}"] = count_if(t, rel)
        aggs[f"bpsum_{lv}"] = above.sum(where=rel).cast("int64").fill_null(0)
        aggs[f"nnon_{lv}"] = t[f"nnon_{lv}"].max()
    aggs["n_retrieved"] = t.rank.max()  # the list length as served (a logged gap counts)
    return t.group_by(["model", "query_id"]).aggregate(**aggs)


def ranked_logged(log: ir.Table, levels: tuple[int, ...] = (1,)) -> ir.Table:
    """A logged ranking's rows: rank = served position, judged by their own relevance."""
    r = log.select("model", "query_id", "item_id", position=log.position.cast("int64"),
                   raw=log.relevance.cast("int64"))
    whole = ibis.window(group_by=[r.model, r.query_id])
    r = r.mutate(**{f"nrel_{lv}": _int_sum(indicator(r.raw >= lv), whole) for lv in levels},
                 **{f"nnon_{lv}": _int_sum(indicator((r.raw >= 0) & (r.raw < lv)), whole) for lv in levels})
    return r.mutate(rank=r.position, rel=ibis.greatest(r.raw, 0),
                    judged_so_far=_int_sum(indicator(r.raw >= 0), ibis.cumulative_window(
                        group_by=[r.model, r.query_id], order_by=[r.position])),
                    **_so_far(r.raw, levels, [r.model, r.query_id], [r.position]))


def _ideal(judged: ir.Table, keys: list[str], k_values: tuple[int, ...]) -> ir.Table:
    """Ideal DCGs per `keys` (query for qrels; model and query for a logged ranking's own rows)."""
    q = judged.filter(judged.relevance > 0)
    q = q.mutate(irank=ibis.row_number().over(group_by=[q[k] for k in keys], order_by=ibis.desc(q.relevance)) + 1,
                 rel=ibis.greatest(q.relevance, 0))
    aggs = {f"idcg_{kind}_{k}": (_gain(q.rel, kind) / (q.irank + 1).cast("float64").log2()).sum(where=q.irank <= k).fill_null(f64(0))
            for k in k_values for kind in ("lin", "exp")}
    return q.group_by([q[k].name(f"i_{k}") for k in keys]).aggregate(**aggs)


def _zero_rows(runs: ir.Table, qrels: ir.Table, per_query: ir.Table, k_values, levels) -> ir.Table:
    """trec_eval -c: a judged query a model of `runs` did not retrieve, as a row of zeros
    (n_retrieved = 0); the columns `_final` reads."""
    models = runs.select("model").distinct()
    judged = judged_counts(qrels, levels)
    z = models.cross_join(judged)
    z = z.anti_join(per_query, [z.model == per_query.model, z.query_id == per_query.query_id])
    zero, none = f64(0), ibis.null("int64")
    cols = {"model": z.model, "query_id": z.query_id, "n_retrieved": ibis.literal(0, "int64")}
    for k in k_values:
        cols.update({f"dcg_{kind}_{k}": zero for kind in ("lin", "exp")})
    for lv in levels:
        for k in k_values:
            cols[f"relret_{k}_{lv}"] = ibis.literal(0, "int64")
            cols[f"mapsum_{k}_{lv}"] = zero
        cols.update({f"first_rel_{lv}": none, f"ap_sum_{lv}": zero, f"rret_{lv}": ibis.literal(0, "int64"),
                     f"nrel_{lv}": z[f"nrel_{lv}"], f"relret_all_{lv}": ibis.literal(0, "int64"),
                     f"bpsum_{lv}": ibis.literal(0, "int64"), f"nnon_{lv}": z[f"nnon_{lv}"]})
    return z.select(**cols)


def ranking_query_metrics(runs: ir.Table, qrels: ir.Table | None, queries: ir.Table | None,
                          segments: list[str], k_values: tuple[int, ...] = K_VALUES,
                          levels: tuple[int, ...] = (1,)) -> ir.Table:
    """One row per model x judged query, columns as store/ranking_summary.py's table. `qrels` None:
    the runs are logged rankings (position and relevance in every row), judged by their own rows.
    With qrels, a judged query a model did not retrieve gets a row of zeros (n_retrieved = 0, -c)."""
    if qrels is None:
        p = _per_query(ranked_logged(runs, levels), k_values, levels)
        i = _ideal(runs.select("model", "query_id", relevance=runs.relevance.cast("int64")), ["model", "query_id"],
                   k_values)
        t = p.left_join(i, (p.model == i.i_model) & (p.query_id == i.i_query_id))
    else:
        p = _per_query(ranked_judged(runs, qrels, levels), k_values, levels)
        p = ibis.union(p, _zero_rows(runs, qrels, p, k_values, levels).select(*p.columns), distinct=False)
        i = _ideal(qrels, ["query_id"], k_values)
        t = p.left_join(i, p.query_id == i.i_query_id)
    if queries is not None and segments:
        s = queries.select(s_query=queries.query_id, **{f"s_{n}": clean_segment(queries[n]) for n in segments})
        t = t.left_join(s, t.query_id == s.s_query)
    out = {"model": t.model, "query_id": t.query_id}
    out.update({segment_column(n): t[f"s_{n}"] for n in segments})
    for k in k_values:
        for kind in ("lin", "exp"):
            idcg, dcg = t[f"idcg_{kind}_{k}"], t[f"dcg_{kind}_{k}"]
            out[f"ndcg_{kind}_{k}"] = ibis.ifelse(idcg.fill_null(f64(0)) > 0, dcg / idcg, f64(0))
            out[f"dcg_{kind}_{k}"] = dcg
    for lv in levels:
        sfx, n_rel = level_suffix(lv), t[f"nrel_{lv}"].fill_null(0)
        for k in k_values:
            relret = t[f"relret_{k}_{lv}"]
            out[f"recall_{k}{sfx}"] = ibis.ifelse(n_rel > 0, relret.cast("float64") / n_rel, f64(0))
            out[f"hit_{k}{sfx}"] = indicator(relret > 0, "float64")
            out[f"precision_{k}{sfx}"] = relret.cast("float64") / f64(k)
            out[f"map_{k}{sfx}"] = ibis.ifelse(n_rel > 0, t[f"mapsum_{k}_{lv}"] / n_rel, f64(0))
        out[f"rr{sfx}"] = (f64(1) / t[f"first_rel_{lv}"]).fill_null(f64(0))
        out[f"ap{sfx}"] = ibis.ifelse(n_rel > 0, t[f"ap_sum_{lv}"] / n_rel, f64(0))
        out[f"rprec{sfx}"] = ibis.ifelse(n_rel > 0, t[f"rret_{lv}"].cast("float64") / n_rel, f64(0))
        low = ibis.least(t[f"nnon_{lv}"].fill_null(0), n_rel)
        penalty = ibis.ifelse(low > 0, t[f"bpsum_{lv}"].cast("float64") / low, f64(0))
        out[f"bpref{sfx}"] = ibis.ifelse(n_rel > 0, (t[f"relret_all_{lv}"].cast("float64") - penalty) / n_rel, f64(0))
        out[f"n_relevant{sfx}"] = n_rel
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

def experiment_stats(units: ir.Table, segments: list[str], pre: str | None = None) -> ir.Table:
    """Sufficient statistics per experiment x variant x metric from one row per unit (user):
    overall (every segment NULL) and per segment column (the others NULL), as `results` holds them.
    `pre`: the column holding each unit's pre-period value of the same metric; adds pre_sum,
    pre_sum_sq and sum_cross (sum of value x pre-period value) for CUPED."""
    cols = {"experiment_id": units.experiment_id.cast("string"), "variant": units.variant.cast("string"),
            "metric": units.metric.cast("string"), "value": units.value.cast("float64")}
    if pre:
        cols["pre"] = units[pre].cast("float64")
    base = units.select(**cols, **{s: clean_segment(units[s]).fill_null(MISSING) for s in segments})
    base = base.filter(base.value.notnull())
    sums = {"n": base.count(), "sum": base.value.sum(), "sum_sq": (base.value * base.value).sum()}
    if pre:
        sums.update(pre_sum=base.pre.sum(), pre_sum_sq=(base.pre * base.pre).sum(),
                    sum_cross=(base.value * base.pre).sum())
    parts = []
    for active in [None] + segments:
        keys = ["experiment_id", "variant", "metric"] + ([active] if active else [])
        agg = base.group_by(keys).aggregate(**sums)
        agg = agg.mutate(**{s: ibis.null("string") for s in segments if s != active})
        parts.append(agg.select("experiment_id", "variant", "metric", *sums, *segments))
    return ibis.union(*parts, distinct=False)
