"""Per-query ranking metrics of two models, paired by query, for the `check` command's gates.

trec_eval conventions (docs/metric_tree.md, REFERENCES.md): items ranked by score with ties
broken by item id descending; linear gain `rel`, discount log2(rank + 1); ideal DCG from all
judged items of the query; relevant means rel >= 1; a query with no relevant item scores 0.
Queries paired: those with judgements that both models ranked (trec_eval's default query set).

Values are computed here in DuckDB from `rankings` and `qrels` (one window sort; only per-query
values leave the database), independently of the Ranking page's summary, so a gate never depends
on how that summary was configured. A gate run is a one-off command, not an interaction: a few
seconds on the 3M-row demo run is acceptable.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np

from dashboard.metrics.experiments import SuffStats
from dashboard.store import catalog
from dashboard.store.sqlutil import ident

_METRIC = re.compile(r"^(ndcg|mrr|recall)@(\d+)$", re.IGNORECASE)

_PER_QUERY_SQL = """
WITH judged_queries AS (SELECT DISTINCT query_id FROM qrels),
ranked AS (
    SELECT r.model, r.query_id, r.item_id,
           row_number() OVER (PARTITION BY r.model, r.query_id ORDER BY r.score DESC, r.item_id DESC) AS rank
    FROM rankings r SEMI JOIN judged_queries j ON r.query_id = j.query_id
    WHERE r.model IN (?, ?)
),
top AS (
    SELECT t.model, t.query_id, t.rank, coalesce(q.relevance, 0) AS rel
    FROM ranked t LEFT JOIN qrels q ON q.query_id = t.query_id AND q.item_id = t.item_id
    WHERE t.rank <= ?
),
ideal AS (
    SELECT query_id, sum(relevance / log2(rank + 1)) AS idcg
    FROM (SELECT query_id, relevance,
                 row_number() OVER (PARTITION BY query_id ORDER BY relevance DESC) AS rank
          FROM qrels WHERE relevance > 0)
    WHERE rank <= ?
    GROUP BY query_id
),
n_rel AS (SELECT query_id, count(*) FILTER (WHERE relevance >= 1) AS n_rel FROM qrels GROUP BY query_id),
per_query AS (
    SELECT t.model, t.query_id,
           coalesce(sum(greatest(t.rel, 0) / log2(t.rank + 1)) / nullif(any_value(i.idcg), 0), 0) AS ndcg,
           coalesce(max(CASE WHEN t.rel >= 1 THEN 1.0 / t.rank END), 0) AS mrr,
           coalesce(count(*) FILTER (WHERE t.rel >= 1) / nullif(any_value(n.n_rel), 0), 0) AS recall
    FROM top t LEFT JOIN ideal i USING (query_id) LEFT JOIN n_rel n USING (query_id)
    GROUP BY t.model, t.query_id
)
SELECT b.query_id, b.{metric} AS base, c.{metric} AS cand
FROM per_query b JOIN per_query c ON b.query_id = c.query_id AND b.model = ? AND c.model = ?
"""


def parse_ranking_metric(metric: str) -> tuple[str, int]:
    m = _METRIC.match(metric.strip())
    if not m:
        raise LookupError(f"unknown ranking metric {metric!r}: use ndcg@K, mrr@K or recall@K")
    return m.group(1).lower(), int(m.group(2))


def per_query_values(con: duckdb.DuckDBPyConnection, metric: str, baseline: str,
                     candidate: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query ids, baseline values, candidate values) over the paired queries."""
    name, k = parse_ranking_metric(metric)
    for table in ("rankings", "qrels"):
        if not catalog.table_exists(con, table):
            raise LookupError(f"no {table} loaded: ranking gates need a run and judgements")
    models = catalog.ranking_models(con)
    for m in (baseline, candidate):
        if m not in models:
            raise LookupError(f"model {m!r} has no ranking run; loaded: {', '.join(models) or 'none'}")
    sql = _PER_QUERY_SQL.format(metric=name)  # name is one of three literals from _METRIC
    rows = con.execute(sql, [baseline, candidate, k, k, baseline, candidate]).fetchall()
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
        seg = dict(con.execute(
            f"SELECT query_id, {ident(col)} FROM queries WHERE {ident(col)} IS NOT NULL").fetchall())
        labels = np.array([seg.get(q) for q in ids], dtype=object)
        for value in sorted({v for v in labels if v is not None}):
            mask = labels == value
            out[f"{col}={value}"] = _stats(base[mask], cand[mask])
    return out


def _stats(base: np.ndarray, cand: np.ndarray) -> tuple[SuffStats, SuffStats, SuffStats]:
    return SuffStats.from_values(base), SuffStats.from_values(cand), SuffStats.from_values(cand - base)
