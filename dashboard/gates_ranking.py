"""Per-query ranking metrics of two models, paired by query, for the `check` command's gates.

trec_eval conventions (docs/metric_tree.md, REFERENCES.md): items ranked by score with ties
broken by item id descending (or by logged position, docs/ranking.md#logged-rankings); linear gain `rel`, discount log2(rank + 1); ideal DCG from all
judged items of the query; relevant means rel >= 1; a query with no relevant item scores 0.
Queries paired: those with judgements that both models ranked (trec_eval's default query set).

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
from dashboard.store.ranking_summary import K_VALUES, segment_column
from dashboard.store.sqlutil import ident

_METRIC = re.compile(r"^(ndcg|mrr|recall)@(\d+)$", re.IGNORECASE)

def _column(name: str, k: int, alias: str) -> str:
    """SQL for one metric from ranking_query_metrics (column names from the summary's fixed list)."""
    if k not in K_VALUES:
        raise LookupError(f"ranking gates support K in {', '.join(map(str, K_VALUES))} (the cutoffs "
                          f"summarised at load time), not {k}")
    if name == "ndcg":
        return f"{alias}.ndcg_lin_{k}"
    if name == "recall":
        return f"{alias}.recall_{k}"
    return f"CASE WHEN {alias}.rr >= 1.0 / {k} THEN {alias}.rr ELSE 0 END"


def parse_ranking_metric(metric: str) -> tuple[str, int]:
    m = _METRIC.match(metric.strip())
    if not m:
        raise LookupError(f"unknown ranking metric {metric!r}: use ndcg@K, mrr@K or recall@K")
    return m.group(1).lower(), int(m.group(2))


def per_query_values(con: duckdb.DuckDBPyConnection, metric: str, baseline: str,
                     candidate: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query ids, baseline values, candidate values) over the paired queries."""
    name, k = parse_ranking_metric(metric)
    if not catalog.table_exists(con, "ranking_query_metrics"):
        raise LookupError("no ranking summary loaded: ranking gates need a run and judgements")
    models = catalog.ranking_models(con)
    for m in (baseline, candidate):
        if m not in models:
            raise LookupError(f"model {m!r} has no ranking run; loaded: {', '.join(models) or 'none'}")
    rows = con.execute(
        f"SELECT b.query_id, {_column(name, k, 'b')}, {_column(name, k, 'c')} "
        "FROM ranking_query_metrics b JOIN ranking_query_metrics c ON b.query_id = c.query_id "
        "WHERE b.model = ? AND c.model = ? ORDER BY b.query_id", [baseline, candidate]).fetchall()
    if not rows:
        raise LookupError(f"no judged query was ranked by both {baseline!r} and {candidate!r}")
    ids = np.array([r[0] for r in rows], dtype=object)
    return ids, np.array([r[1] for r in rows], dtype=float), np.array([r[2] for r in rows], dtype=float)


def per_query_pairs(con: duckdb.DuckDBPyConnection, metric: str, baseline: str, candidate: str,
                    segment_columns: list[str]) -> dict[str, tuple[SuffStats, SuffStats, SuffStats]]:
    """slice ('overall' or 'column=value') -> (baseline, candidate, difference) statistics."""
    ids, base, cand = per_query_values(con, metric, baseline, candidate)
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
