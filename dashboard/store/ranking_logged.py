"""Per-query metrics of logged rankings: rows that carry their position and their judgement.

A logged list needs no join to qrels and no sort: every metric is an aggregate over the query's
rows, so the whole build is one GROUP BY (about 6x faster than ranking by score and joining
judgements, benchmarks/bench_ranking.py). Conventions match trec_eval given, as qrels, the list's
own rows: the rank of an item is its logged position (a gap is an item not logged: not relevant);
the ideal DCG orders the list's judged rows by grade; relevant means relevance >= 1.

- Ideal DCG without sorting: with positive grades g_1 < ... < g_n and C_j the number of items with
  grade >= g_j, the ideal list puts those C_j items first, so
  IDCG@k = sum_j (gain(g_j) - gain(g_{j-1})) * D(min(k, C_j)), D(m) = sum_{i<=m} 1/log2(i + 1).
- Relevant positions up to 64 are kept as bits of one integer: recall@k, hit@k and precision@k
  count bits, and average precision sums bit counts. A query whose list runs past position 64 gets
  its AP from a window over its rows afterwards (`fill_long_list_ap`).
"""

from __future__ import annotations

import math

import duckdb

MASK_POSITIONS = 64


def stored_grades(con: duckdb.DuckDBPyConnection) -> list[int] | None:
    """Positive grades of the stored logged rows; None when no logged ranking is stored."""
    rows = con.execute("SELECT DISTINCT greatest(relevance, 0) FROM rankings WHERE relevance IS NOT NULL "
                       "ORDER BY 1").fetchall()
    if not rows:
        return None
    return [int(r[0]) for r in rows if r[0] > 0]


def _discount_sums(k_max: int) -> str:
    """SQL list [D(0), ..., D(k_max)]: the ideal DCG of m relevant items of gain 1 at ranks 1..m."""
    sums = [0.0]
    for i in range(1, k_max + 1):
        sums.append(sums[-1] + 1 / math.log2(i + 1))
    return "CAST([" + ", ".join(repr(v) for v in sums) + "] AS DOUBLE[])"  # not DECIMAL literals


def _gain(name: str, grade: int) -> float:
    return float(grade) if name == "lin" else 2.0 ** grade - 1


def _ideal(grades: list[int], k: int, name: str) -> str:
    if not grades:
        return "0.0"
    sums = _discount_sums(k)
    terms, previous = [], 0
    for j, g in enumerate(grades):
        step = _gain(name, g) - _gain(name, previous)
        terms.append(f"CAST({step!r} AS DOUBLE) * {sums}[least(at_least_{j}, {k}) + 1]")
        previous = g
    return " + ".join(terms)


def ctes(grades: list[int], k_values: tuple[int, ...], gains: dict[str, str]) -> str:
    """CTEs ending in `logged`: per model x query the columns `_final` reads (dcg_*, idcg_*, relret_k,
    first_rel, ap_sum, n_relevant, n_retrieved). `grades` are ints read from the table by
    `stored_grades`, so formatting them into SQL cannot carry text in."""
    grades = [int(g) for g in grades]
    aggs = []
    for k in k_values:
        for name, gain in gains.items():
            aggs.append(f"coalesce(sum({gain} / log2(position + 1)) FILTER (WHERE position <= {k}), 0) "
                        f"AS dcg_{name}_{k}")
    aggs.append("min(position) FILTER (WHERE rel >= 1) AS first_rel")
    aggs.append("max(position) AS n_retrieved")
    aggs.append(f"coalesce(bit_or(CAST(1 AS UBIGINT) << ((position - 1) % {MASK_POSITIONS})) "
                f"FILTER (WHERE rel >= 1 AND position <= {MASK_POSITIONS}), CAST(0 AS UBIGINT)) AS rel_mask")
    aggs += [f"count(*) FILTER (WHERE rel >= {g}) AS at_least_{j}" for j, g in enumerate(grades)]
    cols = ["model", "query_id"] + [f"dcg_{n}_{k}" for k in k_values for n in gains]
    cols += ["first_rel", "n_retrieved", "at_least_0 AS n_relevant" if grades else "0 AS n_relevant"]
    for k in k_values:
        # relevant bits below position k + 1 (a right shift never overflows; >> 64 is 0)
        cols.append(f"bit_count(rel_mask) - bit_count(rel_mask >> {k}) AS relret_{k}")
        for name in gains:
            cols.append(f"{_ideal(grades, k, name)} AS idcg_{name}_{k}")
    # precision at each relevant position p: relevant bits at or below p, over p
    cols.append(f"""CASE WHEN n_retrieved <= {MASK_POSITIONS} THEN coalesce(list_sum(list_transform(
                range(1, n_retrieved + 1), lambda pos: CASE WHEN ((rel_mask >> (pos - 1)) & 1) = 1
                THEN (bit_count(rel_mask) - bit_count(rel_mask >> pos)) / pos ELSE 0 END)), 0) END AS ap_sum""")
    return f"""logged_agg AS (
    SELECT model, query_id,
           {', '.join(aggs)}
    FROM (SELECT model, query_id, position, greatest(relevance, 0) AS rel
          FROM rankings WHERE relevance IS NOT NULL)
    GROUP BY model, query_id
),
logged AS (SELECT {', '.join(cols)} FROM logged_agg)"""


def fill_long_list_ap(con: duckdb.DuckDBPyConnection) -> None:
    """AP of logged lists longer than the bit mask: a running count over their rows (rare, so the
    window sort is paid only for them). `_final` left their AP NULL."""
    if con.execute("SELECT 1 FROM ranking_query_metrics WHERE ap IS NULL LIMIT 1").fetchone() is None:
        return
    con.execute("""
        UPDATE ranking_query_metrics m SET ap = l.ap FROM (
            SELECT model, query_id, sum(so_far / position) FILTER (WHERE rel >= 1)
                                    / count(*) FILTER (WHERE rel >= 1) AS ap
            FROM (SELECT r.model, r.query_id, r.position, r.relevance AS rel,
                         sum(CAST(r.relevance >= 1 AS INTEGER)) OVER (
                             PARTITION BY r.model, r.query_id ORDER BY r.position ROWS UNBOUNDED PRECEDING) AS so_far
                  FROM rankings r
                  SEMI JOIN (SELECT model, query_id FROM ranking_query_metrics WHERE ap IS NULL) x
                       ON x.model = r.model AND x.query_id = r.query_id
                  WHERE r.relevance IS NOT NULL)
            GROUP BY model, query_id) l
        WHERE m.model = l.model AND m.query_id = l.query_id""")
