"""Per-query ranking metrics, built at ingest so the Ranking page never re-ranks raw rows.

Conventions are trec_eval's (see README, Ranking): items sorted by score descending, ties broken by
item id descending; relevance of unjudged items is 0; the ideal DCG uses every judged item of the
query; a query is evaluated only when it has judgements; relevant means relevance >= 1; a query
with no relevant item scores 0.

Runs with a `position` column are ranked by it (the rank as served; a gap is an item not logged,
counted as not relevant). A logged ranking (position and relevance in every row, see
`dashboard/store/ranking_logged.py`) is judged by its own rows: no join to qrels and no sort, one
GROUP BY. Each model is one form or the other (checked at load).

Gains: linear (`rel`, trec_eval) and exponential (`2^rel - 1`, LightGBM / ranx `ndcg_burges`);
discount `log2(rank + 1)`.

Table `ranking_query_metrics`, one row per model x query:
  ndcg_lin_K, ndcg_exp_K, dcg_lin_K, dcg_exp_K, recall_K, hit_K, precision_K for K in K_VALUES,
  rr (reciprocal rank of the first relevant item over the whole list, trec_eval `recip_rank`),
  ap (average precision over the whole list, trec_eval `map`), n_relevant, n_retrieved,
  and each query segment column copied as `segment_<name>` (so a re-split by segment is a
  GROUP BY over this table, ~8x faster than joining `queries` at 1M queries).
"""

from __future__ import annotations

import duckdb

from dashboard.store import ranking_logged
from dashboard.store.catalog import segment_columns, table_columns, table_exists
from dashboard.store.sqlutil import ident

K_VALUES = (1, 3, 5, 10, 20)
SEGMENT_PREFIX = "segment_"


def segment_column(name: str) -> str:
    """Column of ranking_query_metrics holding query segment `name`."""
    return SEGMENT_PREFIX + name
GAINS = {"lin": "CAST(rel AS DOUBLE)", "exp": "(pow(2.0, rel) - 1)"}


def metric_columns() -> list[str]:
    cols = []
    for k in K_VALUES:
        cols += [f"ndcg_lin_{k}", f"ndcg_exp_{k}", f"dcg_lin_{k}", f"dcg_exp_{k}", f"recall_{k}", f"hit_{k}",
                 f"precision_{k}"]
    return cols + ["rr", "ap", "n_relevant", "n_retrieved"]


def _aggregates() -> str:
    parts = []
    for k in K_VALUES:
        for name, gain in GAINS.items():
            parts.append(f"coalesce(sum({gain.replace('rel', 'r.rel')} / log2(r.rank + 1)) "
                         f"FILTER (WHERE r.rank <= {k}), 0) AS dcg_{name}_{k}")
        parts.append(f"count(*) FILTER (WHERE r.rank <= {k} AND r.rel >= 1) AS relret_{k}")
    parts.append("min(r.rank) FILTER (WHERE r.rel >= 1) AS first_rel")
    parts.append("coalesce(sum(r.rel_so_far / r.rank) FILTER (WHERE r.rel >= 1), 0) AS ap_sum")
    parts.append("max(r.rank) AS n_retrieved")  # the list length as served (a logged gap counts)
    return ",\n               ".join(parts)


def _ideal() -> str:
    parts = []
    for k in K_VALUES:
        for name, gain in GAINS.items():
            parts.append(f"coalesce(sum({gain} / log2(irank + 1)) FILTER (WHERE irank <= {k}), 0) AS idcg_{name}_{k}")
    parts.append("count(*) FILTER (WHERE rel >= 1) AS n_relevant")
    return ",\n               ".join(parts)


def _final(segments: list[str], ideal: str = "i") -> str:
    """Per-query metrics from the aggregates (`p`) and the ideal DCGs (`ideal`)."""
    i = ideal
    parts = ["p.model", "p.query_id"] + [f"s.{ident(c)} AS {ident(segment_column(c))}" for c in segments]
    for k in K_VALUES:
        for name in GAINS:
            parts.append(f"CASE WHEN {i}.idcg_{name}_{k} > 0 THEN p.dcg_{name}_{k} / {i}.idcg_{name}_{k} ELSE 0 END "
                         f"AS ndcg_{name}_{k}")
            parts.append(f"p.dcg_{name}_{k}")
        parts.append(f"CASE WHEN {i}.n_relevant > 0 THEN p.relret_{k} / {i}.n_relevant ELSE 0 END AS recall_{k}")
        parts.append(f"CAST(p.relret_{k} > 0 AS DOUBLE) AS hit_{k}")
        parts.append(f"p.relret_{k} / {k}.0 AS precision_{k}")
    parts.append("coalesce(1.0 / p.first_rel, 0) AS rr")
    parts.append(f"CASE WHEN {i}.n_relevant > 0 THEN p.ap_sum / {i}.n_relevant ELSE 0 END AS ap")
    parts.append(f"coalesce({i}.n_relevant, 0) AS n_relevant")
    parts.append("p.n_retrieved")
    return ", ".join(parts)


def _scored_ctes(positioned: bool, mixed: bool) -> str:
    """Runs judged by qrels: join, one window sort per list, aggregate. `positioned`: some runs
    carry a logged position, which orders their lists; `mixed`: logged rankings are stored too
    (rows with relevance), which this path leaves to the logged one."""
    order = "r.position ASC NULLS LAST, r.score DESC, r.item_id DESC" if positioned else "r.score DESC, r.item_id DESC"
    rank = "coalesce(r.position, row_number() OVER w)" if positioned else "row_number() OVER w"
    where = "WHERE r.relevance IS NULL" if mixed else ""
    return f"""judged_queries AS (SELECT DISTINCT query_id FROM qrels),
running AS (
    -- one sort serves both windows: rank and the running count of relevant items (for AP)
    SELECT r.model, r.query_id,
           {rank} AS rank,
           greatest(coalesce(q.relevance, 0), 0) AS rel,
           sum(CAST(coalesce(q.relevance, 0) >= 1 AS INTEGER)) OVER (w ROWS UNBOUNDED PRECEDING) AS rel_so_far
    FROM rankings r
    SEMI JOIN judged_queries j ON r.query_id = j.query_id
    LEFT JOIN qrels q ON q.query_id = r.query_id AND q.item_id = r.item_id
    {where}
    WINDOW w AS (PARTITION BY r.model, r.query_id ORDER BY {order})
),
per_query AS (
    SELECT r.model, r.query_id,
               {_aggregates()}
    FROM running r GROUP BY r.model, r.query_id
),
ideal_ranked AS (
    SELECT query_id, greatest(relevance, 0) AS rel,
           row_number() OVER (PARTITION BY query_id ORDER BY relevance DESC) AS irank
    FROM qrels WHERE relevance > 0
),
ideal AS (
    SELECT query_id,
               {_ideal()}
    FROM ideal_ranked GROUP BY query_id
)"""


def build_sql(segments: list[str], *, scored: bool = True, positioned: bool = False,
              logged_grades: list[int] | None = None) -> str:
    """The build statement; `segments`: query segment columns to copy (names from the schema).
    `logged_grades`: the positive relevance grades of stored logged rankings (None: none stored)."""
    join = "LEFT JOIN queries s ON s.query_id = p.query_id" if segments else ""
    logged = logged_grades is not None
    ctes, selects = [], []
    if scored:
        ctes.append(_scored_ctes(positioned, mixed=logged))
        selects.append(f"SELECT {_final(segments)}\nFROM per_query p LEFT JOIN ideal i USING (query_id) {join}")
    if logged:
        ctes.append(ranking_logged.ctes(logged_grades, K_VALUES, GAINS))
        selects.append(f"SELECT {_final(segments, ideal='p')}\nFROM logged p {join}")
    return ("CREATE OR REPLACE TABLE ranking_query_metrics AS\nWITH " + ",\n".join(ctes) + "\n"
            + "\nUNION ALL BY NAME\n".join(selects))


def build_ranking_summary(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the per-query table once runs and their judgements are loaded."""
    if not table_exists(con, "rankings"):
        return
    columns = table_columns(con, "rankings")
    logged_grades = ranking_logged.stored_grades(con) if "relevance" in columns else None
    mixed = logged_grades is not None
    unjudged = "WHERE relevance IS NULL" if mixed else ""
    scored = table_exists(con, "qrels") and _any(con, f"SELECT 1 FROM rankings {unjudged} LIMIT 1")
    if not (scored or mixed):
        return
    positioned = scored and "position" in columns and _any(
        con, f"SELECT 1 FROM rankings WHERE position IS NOT NULL {'AND relevance IS NULL' if mixed else ''} LIMIT 1")
    segments = segment_columns(con, "queries") if table_exists(con, "queries") else []
    con.execute(build_sql(segments, scored=scored, positioned=positioned, logged_grades=logged_grades))
    if mixed:
        ranking_logged.fill_long_list_ap(con)


def _any(con, sql: str) -> bool:
    return con.execute(sql).fetchone() is not None
