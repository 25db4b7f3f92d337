"""Ranking quality by segment, baseline vs candidate, from the per-query summary table.

Every figure is a mean over queries of the per-query values in `ranking_query_metrics` (built at
ingest with trec_eval conventions), so re-splitting by another segment or k never re-ranks raw rows.
"""

from __future__ import annotations

import argparse

import duckdb
import numpy as np

from dashboard.metrics import ranking as rk
from dashboard.store import catalog, ranking_coverage, ranking_sums
from dashboard.store.ranking_summary import (K_VALUES, LEVELS_ENV, level_suffix, segment_column, stored_cutoffs,
                                             stored_grades, stored_levels)
from dashboard.store.sqlutil import ident

GAINS = ("linear", "exp")
MIN_SEGMENT_QUERIES = rk.MIN_QUERIES
_GAIN_COLUMN = {"linear": "lin", "exp": "exp"}
# every measure a row carries, in display order (trec_eval names in docs/ranking.md)
METRICS = ("ndcg", "dcg", "mrr", "recall", "hit", "precision", "map_k", "map", "rprec", "bpref")
LABELS = {"ndcg": "NDCG@{k}", "dcg": "DCG@{k}", "mrr": "MRR", "recall": "Recall@{k}", "hit": "Hit@{k}",
          "precision": "P@{k}", "map_k": "MAP@{k}", "map": "MAP", "rprec": "R-prec", "bpref": "bpref"}


def metric_label(metric: str, k: int) -> str:
    return LABELS[metric].format(k=k)


def options(con: duckdb.DuckDBPyConnection) -> dict:
    if not catalog.table_exists(con, "ranking_query_metrics"):
        return {"models": [], "segments": [], "k_values": list(K_VALUES), "levels": [1], "max_list": {}}
    models = [r[0] for r in con.execute("SELECT DISTINCT model FROM ranking_query_metrics ORDER BY 1").fetchall()]
    lengths = dict(con.execute("SELECT model, max(n_retrieved) FROM ranking_query_metrics GROUP BY model").fetchall())
    return {"models": models, "segments": catalog.segment_columns(con, "queries"),
            "k_values": list(stored_cutoffs(con)), "levels": list(stored_levels(con)),
            "forms": catalog.run_forms(con), "max_list": lengths}


def _models(con) -> list[str]:
    """Models of the per-query table (options() also reads the raw run for each model's form: 70 ms
    of a re-split at 100k queries)."""
    if not catalog.table_exists(con, "ranking_query_metrics"):
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT model FROM ranking_query_metrics ORDER BY 1").fetchall()]


def _level_column(con, level: int, columns: set[str] | None = None) -> str | None:
    """Suffix of the stored level that `-l level` reads: that level, or one counting the same grades
    as relevant (with grades 1 and 3, level 3 reads level 2); None when no grade reaches `level`
    (nothing is relevant: every binary measure is 0, as trec_eval gives)."""
    if isinstance(level, bool) or not isinstance(level, int) or level < 1:
        raise ValueError(f"relevance level must be a whole number >= 1 (trec_eval -l), not {level!r}")
    stored = stored_levels(con, columns) or (1,)
    if level in stored:
        return level_suffix(level)
    grades = stored_grades(con)
    if grades is not None:
        relevant = {g for g in grades if g >= level}
        if not relevant:
            return None
        for s in stored:
            if {g for g in grades if g >= s} == relevant:
                return level_suffix(s)
    raise ValueError(f"relevance level {level} is not summarised (stored: {', '.join(map(str, stored))}); set "
                     f"{LEVELS_ENV}={','.join(map(str, sorted({*stored, level})))} and load the run again")


def _columns(con, k: int, gain: str, level: int = 1) -> dict[str, str]:
    """Metric name -> SQL over ranking_query_metrics `{a}` (names come from this fixed list only)."""
    present = catalog.table_columns(con, "ranking_query_metrics")  # one look-up serves every check below
    k_values = stored_cutoffs(con, present) or K_VALUES
    if k not in k_values:
        raise ValueError(f"k must be one of {', '.join(map(str, k_values))} (the cutoffs summarised at load "
                         "time; set DASHBOARD_RANKING_CUTOFFS and reload to add one, up to 1000)")
    if gain not in GAINS:
        raise ValueError("gain must be 'linear' (trec_eval) or 'exp' (2^rel - 1, LightGBM)")
    g, sfx = _GAIN_COLUMN[gain], _level_column(con, level, present)
    out = {"ndcg": f"{{a}}.ndcg_{g}_{k}", "dcg": f"{{a}}.dcg_{g}_{k}"}
    binary = {"mrr": "rr", "recall": f"recall_{k}", "hit": f"hit_{k}", "precision": f"precision_{k}",
              "map_k": f"map_{k}", "map": "ap", "rprec": "rprec", "bpref": "bpref"}
    for name, col in binary.items():
        out[name] = "0.0" if sfx is None else f"{{a}}.{col}{sfx}"
    if sfx is not None and f"bpref{sfx}" not in present:
        out["bpref"] = "CAST(NULL AS DOUBLE)"  # a summary built before bpref: none until the run is loaded again
    return out


def _query_from(con, model: str, k: int, gain: str, by: str, baseline: str, level: int,
                all_queries: bool) -> tuple[dict[str, str], str, str, list]:
    """(metric -> SQL for alias m / b, segment SQL, FROM ... WHERE ..., params) of the paired queries."""
    cols = _columns(con, k, gain, level)
    models = _models(con)
    for m in filter(None, (model, baseline)):
        if m not in models:
            raise ValueError(f"unknown ranking model {m!r}; loaded: {', '.join(models) or 'none'}")
    if by and by not in catalog.segment_columns(con, "queries"):
        raise ValueError(f"unknown query segment {by!r}; queries have: "
                         f"{', '.join(catalog.segment_columns(con, 'queries')) or 'none (load a queries file)'}")
    # segments are copied into the per-query table at build time (no join); older files: join
    copied = bool(by) and segment_column(by) in catalog.table_columns(con, "ranking_query_metrics")
    segment = "''"
    if by:
        source = f"m.{ident(segment_column(by))}" if copied else f"q.{ident(by)}"
        segment = f"coalesce({source}, '(missing)')"
    sql, params = " FROM ranking_query_metrics m", []
    if baseline:
        sql += " JOIN ranking_query_metrics b ON b.query_id = m.query_id AND b.model = ?"
        params.append(baseline)
    if by and not copied:
        sql += " LEFT JOIN queries q ON q.query_id = m.query_id"
    sql += " WHERE m.model = ?"
    params.append(model)
    if not all_queries:  # rows with n_retrieved = 0 are judged queries the model did not retrieve
        sql += " AND m.n_retrieved > 0" + (" AND b.n_retrieved > 0" if baseline else "")
    return cols, segment, sql, params


def per_query(con, model: str, k: int, gain: str, by: str = "", baseline: str = "", *, level: int = 1,
              all_queries: bool = False) -> dict[str, np.ndarray]:
    """Per-query values of `model` (and `baseline`, paired by query) with segments. By default the
    queries evaluated (judged and retrieved; both models when paired); `all_queries` (trec_eval -c):
    every judged query, one a model did not retrieve counting 0."""
    cols, segment, source, params = _query_from(con, model, k, gain, by, baseline, level, all_queries)
    select = ", ".join(f"{c.format(a='m')} AS {name}" for name, c in cols.items())
    if baseline:
        select += ", " + ", ".join(f"{c.format(a='b')} AS base_{name}" for name, c in cols.items())
    sql = f"SELECT m.query_id, {select}, m.n_retrieved, {segment} AS segment{source} ORDER BY m.query_id"
    return con.execute(sql, params).fetchnumpy()


def _sums(con, model: str, k: int, gain: str, by: str, baseline: str, level: int,
          all_queries: bool, with_overall: bool = False) -> list[dict]:
    """Per segment (one row '' without `by`): the count, sums of each measure and, with a baseline,
    sums of the paired differences and their squares. One GROUP BY, so a re-split reads no rows
    into Python; the t intervals need nothing else. `with_overall`: the all-queries row too, from
    the same pass (segment None, first). Read from the sums stored at load when they hold it."""
    stored = ranking_sums.read(con, model, baseline, by, all_queries, _columns(con, k, gain, level), with_overall)
    if stored is not None:
        return stored
    cols, segment, source, params = _query_from(con, model, k, gain, by, baseline, level, all_queries)
    parts = ["count(*) AS n", "max(m.n_retrieved) AS longest"]
    for name, c in cols.items():
        parts.append(f"sum({c.format(a='m')}) AS s_{name}")
        if baseline:
            d = f"({c.format(a='m')} - {c.format(a='b')})"
            parts += [f"sum({c.format(a='b')}) AS b_{name}", f"sum({d}) AS d_{name}", f"sum({d} * {d}) AS dd_{name}"]
    groups = "GROUPING SETS ((1), ())" if with_overall else "1"
    sql = f"SELECT {segment} AS segment, {', '.join(parts)}{source} GROUP BY {groups} ORDER BY 1 NULLS FIRST"
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _row(sums: dict, baseline: bool, min_size: int) -> dict:
    n = int(sums["n"])
    row = {"n_queries": n}
    for name in METRICS:
        total = sums[f"s_{name}"]
        row[name] = float(total) / n if n and total is not None else None
    row["no_relevant_in_top_k"] = 1 - row["hit"] if row["hit"] is not None else None
    row["longest_list"] = int(sums["longest"] or 0)
    if baseline:
        deltas = {m: rk.paired_delta_from_sums(n, sums[f"s_{m}"], sums[f"b_{m}"], sums[f"d_{m}"], sums[f"dd_{m}"],
                                               min_size=min_size) for m in METRICS if sums[f"s_{m}"] is not None}
        row["deltas"] = {m: _delta_dict(d) for m, d in deltas.items()}
        d = deltas["ndcg"]
        row.update(baseline_ndcg=d.mean_baseline, delta_ndcg=d.delta, ci_low=d.ci_low, ci_high=d.ci_high,
                   p_value=d.p_value, baseline_dcg=deltas["dcg"].mean_baseline, delta_dcg=deltas["dcg"].delta,
                   _deltas=deltas)
    return row


def _delta_dict(d: rk.PairedDelta) -> dict:
    return {"baseline": d.mean_baseline, "delta": d.delta, "ci_low": d.ci_low, "ci_high": d.ci_high,
            "confidence": d.confidence, "p_value": d.p_value}


def overall_summary(con, model: str, k: int = 10, gain: str = "linear", baseline: str = "", seed: int = 0, *,
                    level: int = 1, all_queries: bool = False, min_size: int = MIN_SEGMENT_QUERIES) -> dict:
    """All queries: means and the paired deltas (95% t intervals; none under `min_size` queries).
    `seed` is unused (t intervals need no resampling); kept for callers."""
    rows = _sums(con, model, k, gain, "", baseline, level, all_queries)
    return _overall_row(rows[0] if rows else None, model, baseline, min_size)


def _overall_row(sums: dict | None, model: str, baseline: str, min_size: int) -> dict:
    if not sums or not sums["n"]:
        raise ValueError(f"no evaluated queries for {model}" + (f" and {baseline}" if baseline else ""))
    row = _row(sums, bool(baseline), min_size)
    row.pop("_deltas", None)
    row["small"] = row["n_queries"] < min_size
    return row


def segment_table(con, model: str, k: int = 10, gain: str = "linear", by: str = "", baseline: str = "",
                  min_size: int = MIN_SEGMENT_QUERIES, seed: int = 0, overall: dict | None = None, *,
                  level: int = 1, all_queries: bool = False) -> dict:
    """Overall and per-segment means, and paired deltas against the baseline for every measure:
    per measure, segments are BH-adjusted and their intervals FCR-adjusted to agree with the flag."""
    rows = []
    if by:  # one pass over the per-query table gives the overall row too when it is not given
        rows = _sums(con, model, k, gain, by, baseline, level, all_queries, with_overall=overall is None)
        if overall is None:
            first, rows = rows[0], rows[1:]
            overall = _overall_row(first, model, baseline, min_size)
    overall = dict(overall or overall_summary(con, model, k, gain, baseline, seed, level=level,
                                              all_queries=all_queries, min_size=min_size))
    segments = [{"column": by, "value": str(sums["segment"]), **_row(sums, bool(baseline), min_size)} for sums in rows]
    if baseline and segments:
        for metric in [m for m in METRICS if m in overall["deltas"]]:
            flags = rk.flag_segments([s["_deltas"][metric] for s in segments],
                                     overall["deltas"][metric]["delta"], min_size=min_size)
            for s, f in zip(segments, flags):
                s["deltas"][metric].update(f)
                if metric == "ndcg":
                    s.update(f)
    for r in [overall, *segments]:
        r.pop("_deltas", None)
        r["small"] = r["n_queries"] < min_size
    return {"model": model, "baseline": baseline or None, "k": k, "gain": gain, "by": by or None,
            "relevance_level": level, "all_queries": all_queries, "min_size": min_size,
            "overall": overall, "segments": segments}


def experiments_for(con, baseline: str, candidate: str) -> list[dict]:
    """Experiments that tested the same two models (either way round), oldest first."""
    if not (baseline and candidate) or not catalog.table_exists(con, "experiments"):
        return []
    rows = con.execute(
        "SELECT experiment_id, name, control_model, treatment_model, CAST(end_date AS VARCHAR), "
        "decision FROM experiments WHERE (control_model = ? AND treatment_model = ?) "
        "OR (control_model = ? AND treatment_model = ?) ORDER BY start_date, experiment_id",
        [baseline, candidate, candidate, baseline]).fetchall()
    keys = ("experiment_id", "name", "control_model", "treatment_model", "end_date", "decision")
    return [dict(zip(keys, r)) for r in rows]


def short_lists(opts: dict, models: list[str], k: int) -> dict[str, int]:
    """Models whose longest list is shorter than k: at k their @k measures (but P@k) repeat the
    longest list's, and P@k counts the missing positions as not relevant."""
    return {m: int(opts["max_list"][m]) for m in models if m and opts["max_list"].get(m, k) < k}


def coverage(con, model: str, k: int, by: str = "") -> dict[str, float]:
    """Share of the catalogue (items any loaded model retrieved) shown in `model`'s top k, per segment.

    Reads the raw run once for every stored cutoff (coverage_by_k); the only figure here that needs
    raw rows. Without them, the `ranking_coverage` summary that `summarize` builds; {} when neither
    is loaded.
    """
    _columns(con, k, "linear")
    if not catalog.table_exists(con, "rankings"):
        if by and by not in catalog.segment_columns(con, "queries"):
            raise ValueError(f"unknown query segment {by!r}")
        return _summarised_coverage(con, model, k, by)
    return coverage_by_k(con, model, by).get(k, {})


def coverage_by_k(con, model: str, by: str = "") -> dict[int, dict[str, float]]:
    """coverage() at every stored cutoff: from the counts grouped at load (ranking_coverage.py), or
    in databases loaded before them, from one pass over the raw run: each item's best rank per
    segment, then a count per cutoff. (Ranking the run again for each k cost 3.5-5.3 s at the first
    use of each k on the demo.)"""
    if by and by not in catalog.segment_columns(con, "queries"):
        raise ValueError(f"unknown query segment {by!r}")
    k_values = stored_cutoffs(con) or K_VALUES
    grouped = ranking_coverage.read(con, model, by)  # pre-grouped at load
    if grouped is not None:
        return {k: grouped.get(k, {}) for k in k_values}
    if not catalog.table_exists(con, "rankings"):
        return {k: _summarised_coverage(con, model, k, by) for k in k_values}
    seg = f"coalesce(q.{ident(by)}, '(missing)')" if by else "''"
    join = "LEFT JOIN queries q ON q.query_id = r.query_id" if by else ""
    counts = ", ".join(f"count(*) FILTER (WHERE best <= {int(k)})" for k in k_values)
    rows = con.execute(
        f"""WITH ranked AS (
              SELECT r.query_id, r.item_id, {seg} AS segment, {_rank(con, model)} AS rank
              FROM rankings r {join} WHERE r.model = ?),
            best AS (SELECT segment, item_id, min(rank) AS best FROM ranked GROUP BY segment, item_id)
            SELECT segment, {counts} FROM best GROUP BY segment""",
        [model]).fetchall()
    catalogue = con.execute("SELECT count(DISTINCT item_id) FROM rankings").fetchall()[0][0]
    if not catalogue:
        return {k: {} for k in k_values}
    out: dict[int, dict[str, float]] = {k: {} for k in k_values}
    for segment, *per_k in rows:
        for k, n in zip(k_values, per_k):
            if n:
                out[k][str(segment)] = n / catalogue
    return out


def _rank(con, model: str) -> str:
    """A model's runs are ranked by logged position or all by score (one form per model, see ingest)."""
    if catalog.run_forms(con, model).get(model, "scored") != "scored":
        return "r.position"
    return "row_number() OVER (PARTITION BY r.query_id ORDER BY r.score DESC, r.item_id DESC)"


def _summarised_coverage(con, model: str, k: int, by: str) -> dict[str, float]:
    if not catalog.table_exists(con, "ranking_coverage"):
        return {}
    rows = con.execute("SELECT segment_value, n_items, catalogue FROM ranking_coverage "
                       "WHERE model = ? AND k = ? AND segment_column = ?", [model, k, by]).fetchall()
    return {str(s): n / c for s, n, c in rows if c}


def query_values(con, model: str, k: int, gain: str, *, level: int = 1, all_queries: bool = False) -> list[dict]:
    """Every stored measure of each query (at `k`, `gain` and relevance `level`)."""
    data = per_query(con, model, k, gain, level=level, all_queries=all_queries)
    def value(m, i):
        v = data[m][i]
        return None if v is np.ma.masked or v is None else float(v)

    return [{"query_id": str(q), **{m: value(m, i) for m in METRICS}, "n_retrieved": int(data["n_retrieved"][i])}
            for i, q in enumerate(data["query_id"])]


# --- command line --------------------------------------------------------------------------

def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True)
    parser.add_argument("--baseline", default="")
    parser.add_argument("--k", type=int, default=10,
                        help="cutoff: one of the database's stored cutoffs (default 1,3,5,10,20,100,1000)")
    parser.add_argument("--gain", default="linear", choices=GAINS)
    parser.add_argument("--by", default="", help="query segment column")
    parser.add_argument("--relevance-level", type=int, default=1, metavar="N",
                        help="grade >= N counts as relevant for binary measures (trec_eval -l N)")
    parser.add_argument("--all-queries", action="store_true",
                        help="average over every judged query; one a model did not retrieve counts 0 (trec_eval -c)")
    parser.add_argument("--per-query", action="store_true", help="also list every query's values")
    parser.add_argument("--min-size", type=int, default=MIN_SEGMENT_QUERIES)


def report(con, args) -> dict:
    result = segment_table(con, args.model, args.k, args.gain, args.by, args.baseline, args.min_size,
                           level=args.relevance_level, all_queries=args.all_queries)
    if args.per_query:
        result["queries"] = query_values(con, args.model, args.k, args.gain, level=args.relevance_level,
                                         all_queries=args.all_queries)
    return result
