"""Per-query ranking metrics of two models, paired by query, for the `check` command's gates.

trec_eval conventions (docs/metric_tree.md, REFERENCES.md): items ranked by score with ties
broken by item id descending (or by logged position, docs/ranking.md#logged-rankings); linear gain `rel`, discount log2(rank + 1); ideal DCG from all
judged items of the query; relevant means rel >= the gate's `relevance_level` (default 1, trec_eval -l); a query with no
relevant item scores 0. Queries paired: those with judgements that both models ranked (trec_eval's
default query set), or with `all_queries: true` every judged query, a missing one counting 0 (-c).

Values are read from the per-query summary `ranking_query_metrics` (built at load time with the
same conventions, see dashboard/store/ranking_summary.py), so a gate and the Ranking page can
never disagree. MRR@K is the whole-list reciprocal rank when the first relevant item is within
the top K, else 0.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np

from dashboard.metrics.experiments import SuffStats
from dashboard.store import catalog
from dashboard.store.ranking_summary import K_VALUES, segment_column, stored_cutoffs
from dashboard.store.sqlutil import ident

_METRIC = re.compile(r"^(ndcg|mrr|recall|precision|p|map|hit)@(\d+)$|^(map|rprec|mrr|bpref)$", re.IGNORECASE)
METRIC_HELP = "ndcg@K, mrr@K, recall@K, precision@K (or p@K), map@K, hit@K, map, rprec, bpref or mrr"


def _column(con, name: str, k: int | None, alias: str, level: int) -> str:
    """SQL for one metric from ranking_query_metrics (column names from the summary's fixed list),
    binary measures at relevance `level` (trec_eval -l; see services.ranking._columns)."""
    from dashboard.services.ranking import _columns  # one mapping of names to columns for page and gates

    if k is not None and k not in (stored_cutoffs(con) or K_VALUES):
        raise LookupError(f"ranking gates support K in {', '.join(map(str, stored_cutoffs(con) or K_VALUES))} "
                          f"(the cutoffs summarised at load time), not {k}")
    try:
        cols = _columns(con, k if k is not None else (stored_cutoffs(con) or K_VALUES)[0], "linear", level)
    except ValueError as exc:
        raise LookupError(str(exc)) from None
    if name == "mrr" and k is not None:
        rr = cols["mrr"].format(a=alias)
        return f"CASE WHEN {rr} >= 1.0 / {k} THEN {rr} ELSE 0 END"
    key = {"p": "precision", "map": "map_k" if k is not None else "map"}.get(name, name)
    return cols[key].format(a=alias)


def parse_ranking_metric(metric: str) -> tuple[str, int | None]:
    m = _METRIC.match(metric.strip())
    if not m:
        raise LookupError(f"unknown ranking metric {metric!r}: use {METRIC_HELP}")
    if m.group(3):
        return m.group(3).lower(), None
    return m.group(1).lower(), int(m.group(2))


def per_query_values(con: duckdb.DuckDBPyConnection, metric: str, baseline: str, candidate: str, *,
                     level: int = 1, all_queries: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query ids, baseline values, candidate values) over the paired queries: judged and ranked by
    both, or with `all_queries` (trec_eval -c) every judged query, a missing one counting 0."""
    name, k = parse_ranking_metric(metric)
    if not catalog.table_exists(con, "ranking_query_metrics"):
        raise LookupError("no ranking summary loaded: ranking gates need a run and judgements")
    models = catalog.ranking_models(con)
    for m in (baseline, candidate):
        if m not in models:
            raise LookupError(f"model {m!r} has no ranking run; loaded: {', '.join(models) or 'none'}")
    both = "" if all_queries else " AND b.n_retrieved > 0 AND c.n_retrieved > 0"
    rows = con.execute(
        f"SELECT b.query_id, {_column(con, name, k, 'b', level)}, {_column(con, name, k, 'c', level)} "
        "FROM ranking_query_metrics b JOIN ranking_query_metrics c ON b.query_id = c.query_id "
        f"WHERE b.model = ? AND c.model = ?{both} ORDER BY b.query_id", [baseline, candidate]).fetchall()
    if not rows:
        raise LookupError(f"no judged query was ranked by both {baseline!r} and {candidate!r}")
    ids = np.array([r[0] for r in rows], dtype=object)
    return ids, np.array([r[1] for r in rows], dtype=float), np.array([r[2] for r in rows], dtype=float)


def per_query_pairs(con: duckdb.DuckDBPyConnection, metric: str, baseline: str, candidate: str,
                    segment_columns: list[str], *, level: int = 1,
                    all_queries: bool = False) -> dict[str, tuple[SuffStats, SuffStats, SuffStats]]:
    """slice ('overall' or 'column=value') -> (baseline, candidate, difference) statistics."""
    ids, base, cand = per_query_values(con, metric, baseline, candidate, level=level, all_queries=all_queries)
    out = {"overall": _stats(base, cand)}
    for col in segment_columns:
        seg = _query_segment(con, col)
        labels = np.array([seg.get(q) for q in ids], dtype=object)
        for value in sorted({v for v in labels if v is not None}):
            mask = labels == value
            out[f"{col}={value}"] = _stats(base[mask], cand[mask])
    return out


def _query_segment(con, col: str) -> dict:
    """query_id -> value of a query segment: from the raw queries table, else from the copy in
    the per-query summary (all a database built by `summarize` has)."""
    if catalog.table_exists(con, "queries"):
        sql = f"SELECT query_id, {ident(col)} FROM queries WHERE {ident(col)} IS NOT NULL"
    else:
        c = ident(segment_column(col))
        sql = f"SELECT DISTINCT query_id, {c} FROM ranking_query_metrics WHERE {c} IS NOT NULL"
    return dict(con.execute(sql).fetchall())


def _stats(base: np.ndarray, cand: np.ndarray) -> tuple[SuffStats, SuffStats, SuffStats]:
    return SuffStats.from_values(base), SuffStats.from_values(cand), SuffStats.from_values(cand - base)
