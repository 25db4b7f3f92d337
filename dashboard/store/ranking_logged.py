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
  count bits, and average precision sums bit counts (cutoffs past 64 count rows). A query whose list
  runs past position 64 gets its AP, MAP@K (K > 64) and R-precision (R > 64) from a window over its
  rows afterwards (`fill_long_lists`). Every binary measure exists per relevance level (`-l`).
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


def _bits_upto(mask: str, upto: str) -> str:
    """Relevant bits at positions 1..upto (upto <= 64; a right shift by 64 is 0, never an overflow)."""
    return f"(bit_count({mask}) - bit_count({mask} >> {upto}))"


def _precision_sum(mask: str, upto: str) -> str:
    """Sum over relevant positions p <= upto (<= 64) of (relevant bits up to p) / p."""
    return (f"coalesce(list_sum(list_transform(range(1, {upto} + 1), lambda pos: "
            f"CASE WHEN (({mask} >> (pos - 1)) & 1) = 1 THEN {_bits_upto(mask, 'pos')} / pos ELSE 0 END)), 0)")


def _bpref_sum(mask: str, nonmask: str, n_rel: str) -> str:
    """Sum over relevant positions p (<= 64) of min(judged non-relevant positions above p, R)."""
    above = f"(bit_count({nonmask}) - bit_count({nonmask} >> (pos - 1)))"
    return (f"coalesce(list_sum(list_transform(range(1, n_retrieved + 1), lambda pos: "
            f"CASE WHEN (({mask} >> (pos - 1)) & 1) = 1 THEN least({above}, {n_rel}) ELSE 0 END)), 0)")


def ctes(grades: list[int], k_values: tuple[int, ...], gains: dict[str, str], levels: tuple[int, ...] = (1,)) -> str:
    """CTEs ending in `logged`: per model x query the columns `_final` reads (dcg_*, idcg_*, and per
    level L relret_K_L, mapsum_K_L, first_rel_L, ap_sum_L, rret_L, nrel_L; n_retrieved). `grades`
    and `levels` are ints (from the table or validated), so formatting them into SQL carries no text.
    Sums the bits cannot give (past position 64) are left NULL for `fill_long_lists`."""
    grades, levels = [int(g) for g in grades], [int(lv) for lv in levels]
    m = MASK_POSITIONS
    aggs = []
    for k in k_values:
        for name, gain in gains.items():
            aggs.append(f"coalesce(sum({gain} / log2(position + 1)) FILTER (WHERE position <= {k}), 0) "
                        f"AS dcg_{name}_{k}")
    aggs.append("max(position) AS n_retrieved")
    for lv in levels:
        aggs.append(f"min(position) FILTER (WHERE rel >= {lv}) AS first_rel_{lv}")
        aggs.append(f"count(*) FILTER (WHERE rel >= {lv}) AS nrel_{lv}")
        aggs.append(f"coalesce(bit_or(CAST(1 AS UBIGINT) << ((position - 1) % {m})) "
                    f"FILTER (WHERE rel >= {lv} AND position <= {m}), CAST(0 AS UBIGINT)) AS mask_{lv}")
        aggs += [f"count(*) FILTER (WHERE rel >= {lv} AND position <= {k}) AS relret_{k}_{lv}"
                 for k in k_values if k > m]
        # bpref: judged non-relevant rows (grades 0 to level - 1; below 0 is unjudged), and their bits
        nonrel = f"raw >= 0 AND raw < {lv}"
        aggs.append(f"count(*) FILTER (WHERE {nonrel}) AS nnon_{lv}")
        aggs.append(f"coalesce(bit_or(CAST(1 AS UBIGINT) << ((position - 1) % {m})) "
                    f"FILTER (WHERE {nonrel} AND position <= {m}), CAST(0 AS UBIGINT)) AS nonmask_{lv}")
    aggs += [f"count(*) FILTER (WHERE rel >= {g}) AS at_least_{j}" for j, g in enumerate(grades)]
    cols = ["model", "query_id", "n_retrieved"] + [f"dcg_{n}_{k}" for k in k_values for n in gains]
    for k in k_values:
        for name in gains:
            cols.append(f"{_ideal(grades, k, name)} AS idcg_{name}_{k}")
    for lv in levels:
        mask = f"mask_{lv}"
        cols += [f"first_rel_{lv}", f"nrel_{lv}"]
        for k in k_values:
            if k <= m:
                cols.append(f"{_bits_upto(mask, str(k))} AS relret_{k}_{lv}")
                cols.append(f"{_precision_sum(mask, f'least(n_retrieved, {k})')} AS mapsum_{k}_{lv}")
            else:
                cols.append(f"relret_{k}_{lv}")
                cols.append(f"CASE WHEN n_retrieved <= {m} THEN {_precision_sum(mask, 'n_retrieved')} END "
                            f"AS mapsum_{k}_{lv}")
        cols.append(f"CASE WHEN n_retrieved <= {m} THEN {_precision_sum(mask, 'n_retrieved')} END AS ap_sum_{lv}")
        cols.append(f"CASE WHEN nrel_{lv} <= {m} THEN {_bits_upto(mask, f'nrel_{lv}')} END AS rret_{lv}")
        cols += [f"nnon_{lv}", f"nrel_{lv} AS relret_all_{lv}",  # a logged list holds all its relevant rows
                 f"CASE WHEN n_retrieved <= {m} THEN {_bpref_sum(mask, f'nonmask_{lv}', f'nrel_{lv}')} END "
                 f"AS bpsum_{lv}"]
    return f"""logged_agg AS (
    SELECT model, query_id,
           {', '.join(aggs)}
    FROM (SELECT model, query_id, position, greatest(relevance, 0) AS rel, relevance AS raw
          FROM rankings WHERE relevance IS NOT NULL)
    GROUP BY model, query_id
),
logged AS (SELECT {', '.join(cols)} FROM logged_agg)"""


def _long_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Level-dependent columns a logged list past the bits can leave NULL (ap, map_K, rprec)."""
    cols = [c[0] for c in con.execute("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = 'ranking_query_metrics'").fetchall()]
    return [c for c in cols if c.startswith(("ap", "map_", "rprec", "bpref"))]


def fill_long_lists(con: duckdb.DuckDBPyConnection, k_values: tuple[int, ...], levels: tuple[int, ...]) -> None:
    """AP, MAP@K (K > 64) and R-precision (R > 64) of logged lists longer than the bit mask: a
    running count over their rows (rare, so the window sort is paid only for them). `_final` left
    them NULL."""
    from dashboard.store.ranking_summary import level_suffix  # the column names live there

    long = " OR ".join(f"{c} IS NULL" for c in _long_columns(con))
    if con.execute(f"SELECT 1 FROM ranking_query_metrics WHERE {long} LIMIT 1").fetchone() is None:
        return
    so_far = ", ".join(f"sum(CAST(r.relevance >= {lv} AS INTEGER)) OVER (PARTITION BY r.model, r.query_id "
                       f"ORDER BY r.position ROWS UNBOUNDED PRECEDING) AS so_far_{lv}" for lv in levels)
    aggs, sets = [], []
    for lv in levels:
        sfx = level_suffix(lv)
        n = f"count(*) FILTER (WHERE rel >= {lv})"
        aggs.append(f"sum(so_far_{lv} / position) FILTER (WHERE rel >= {lv}) / {n} AS ap{sfx}")
        aggs.append(f"count(*) FILTER (WHERE rel >= {lv} AND position <= n_rel_{lv}) / {n} AS rprec{sfx}")
        sets += [f"ap{sfx} = coalesce(m.ap{sfx}, l.ap{sfx})", f"rprec{sfx} = coalesce(m.rprec{sfx}, l.rprec{sfx})"]
        low = f"least(max(n_non_{lv}), {n})"
        above = f"sum(least(non_so_far_{lv}, n_rel_{lv})) FILTER (WHERE rel >= {lv})"
        aggs.append(f"({n} - CASE WHEN {low} > 0 THEN {above} / {low} ELSE 0 END) / {n} AS bpref{sfx}")
        sets.append(f"bpref{sfx} = coalesce(m.bpref{sfx}, l.bpref{sfx})")
        for k in k_values:
            if k > MASK_POSITIONS:
                aggs.append(f"sum(so_far_{lv} / position) FILTER (WHERE rel >= {lv} AND position <= {k}) / {n} "
                            f"AS map_{k}{sfx}")
                sets.append(f"map_{k}{sfx} = coalesce(m.map_{k}{sfx}, l.map_{k}{sfx})")
    n_rel = ", ".join(f"count(*) FILTER (WHERE r.relevance >= {lv}) OVER (PARTITION BY r.model, r.query_id) "
                      f"AS n_rel_{lv}, count(*) FILTER (WHERE r.relevance >= 0 AND r.relevance < {lv}) OVER "
                      f"(PARTITION BY r.model, r.query_id) AS n_non_{lv}, "
                      f"sum(CAST(r.relevance >= 0 AND r.relevance < {lv} AS INTEGER)) OVER (PARTITION BY r.model, "
                      f"r.query_id ORDER BY r.position ROWS UNBOUNDED PRECEDING) AS non_so_far_{lv}" for lv in levels)
    con.execute(f"""
        UPDATE ranking_query_metrics m SET {', '.join(sets)} FROM (
            SELECT model, query_id, {', '.join(aggs)}
            FROM (SELECT r.model, r.query_id, r.position, r.relevance AS rel, {so_far}, {n_rel}
                  FROM rankings r
                  SEMI JOIN (SELECT model, query_id FROM ranking_query_metrics WHERE {long}) x
                       ON x.model = r.model AND x.query_id = r.query_id
                  WHERE r.relevance IS NOT NULL)
            GROUP BY model, query_id) l
        WHERE m.model = l.model AND m.query_id = l.query_id""")
