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
  ndcg_lin_K, ndcg_exp_K, dcg_lin_K, dcg_exp_K for K in the configured cutoffs (`cutoffs()`), and
  per relevance level L (trec_eval `-l L`: grade >= L is relevant) the binary measures
  recall_K, hit_K, precision_K, map_K (trec_eval `map_cut_K`), rr (`recip_rank` over the whole
  list), ap (`map`), rprec (`Rprec`), n_relevant, with the suffix `_lL` for L > 1 (level 1 keeps the
  bare names). Levels stored: ${LEVELS_ENV} (default 1 and 2, trec_eval's usual `-l 2` for graded
  judgements), plus any already stored; the positive grades of the judgements go to
  `ranking_grades`, so a level between two grades reads the stored level that counts the same
  items (with grades 1 and 3, `-l 3` reads level 2). Then n_retrieved and each query
  segment column copied as `segment_<name>` (a re-split by segment is a GROUP BY over this table,
  ~8x faster than joining `queries` at 1M queries).
  A judged query that a scored model did not retrieve gets a row of zeros with n_retrieved = 0:
  read only with trec_eval's `-c` (every judged query counts, a missing one as 0).
"""

from __future__ import annotations

import os
import re

import duckdb

from dashboard.store import ranking_coverage, ranking_logged, ranking_sums
from dashboard.store.catalog import segment_columns, table_columns, table_exists
from dashboard.store.sqlutil import ident

DEFAULT_CUTOFFS = (1, 3, 5, 10, 20, 100, 1000)
K_VALUES = DEFAULT_CUTOFFS  # the default configuration; a database's own: stored_cutoffs(con)
MAX_CUTOFF = 1000
CUTOFFS_ENV = "DASHBOARD_RANKING_CUTOFFS"
DEFAULT_LEVELS = (1, 2)
LEVELS_ENV = "DASHBOARD_RANKING_LEVELS"
MAX_LEVEL = 127  # trec_eval reads grades from -127 to 127
SEGMENT_PREFIX = "segment_"
BINARY_PER_K = ("recall", "hit", "precision", "map")
BINARY_PER_QUERY = ("rr", "ap", "rprec", "bpref", "n_relevant")


def segment_column(name: str) -> str:
    """Column of ranking_query_metrics holding query segment `name`."""
    return SEGMENT_PREFIX + name


GAINS = {"lin": "CAST(rel AS DOUBLE)", "exp": "(pow(2.0, rel) - 1)"}


def _gain(name: str, rel: str) -> str:
    """GAINS[name] of the grade expression `rel`."""
    return re.sub(r"\brel\b", rel, GAINS[name])


def level_suffix(level: int) -> str:
    return "" if level == 1 else f"_l{int(level)}"


def parse_cutoffs(text: str, env: str = CUTOFFS_ENV, top: int = MAX_CUTOFF) -> tuple[int, ...]:
    """'1,5,10,100' -> (1, 5, 10, 100); each a whole number 1..top."""
    out = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        if not part.isdigit() or not 1 <= int(part) <= top:
            raise ValueError(f"{env}: {part!r} is not a whole number from 1 to {top}")
        out.add(int(part))
    if not out:
        raise ValueError(f"{env}: nothing given (e.g. {'1,3,5,10,20,100,1000' if env == CUTOFFS_ENV else '1,2'})")
    return tuple(sorted(out))


def configured_levels(con: duckdb.DuckDBPyConnection | None = None) -> tuple[int, ...]:
    """Relevance levels to build: ${LEVELS_ENV} when set (1 always added), else the defaults plus
    any the database already stores."""
    if os.environ.get(LEVELS_ENV):
        return tuple(sorted({1} | set(parse_cutoffs(os.environ[LEVELS_ENV], LEVELS_ENV, MAX_LEVEL))))
    stored = stored_levels(con) if con is not None else ()
    return tuple(sorted(set(DEFAULT_LEVELS) | set(stored)))


def stored_grades(con: duckdb.DuckDBPyConnection) -> tuple[int, ...] | None:
    """Positive grades of the judgements the table was built from; None for a table built before
    they were recorded."""
    if not table_exists(con, "ranking_grades"):
        return None
    return tuple(int(r[0]) for r in con.execute("SELECT grade FROM ranking_grades ORDER BY 1").fetchall())


def write_grades(con: duckdb.DuckDBPyConnection, grades) -> None:
    con.execute("CREATE OR REPLACE TABLE ranking_grades (grade INTEGER)")
    positive = sorted({int(g) for g in grades if g >= 1})
    if positive:
        con.executemany("INSERT INTO ranking_grades VALUES (?)", [[g] for g in positive])


def cutoffs(con: duckdb.DuckDBPyConnection | None = None) -> tuple[int, ...]:
    """Cutoffs to build: ${CUTOFFS_ENV} when set, else the defaults plus any the database already
    stores (a rebuild never drops a cutoff someone configured)."""
    if os.environ.get(CUTOFFS_ENV):
        return parse_cutoffs(os.environ[CUTOFFS_ENV])
    stored = stored_cutoffs(con) if con is not None else ()
    return tuple(sorted(set(DEFAULT_CUTOFFS) | set(stored)))


def stored_cutoffs(con: duckdb.DuckDBPyConnection, columns: set[str] | None = None) -> tuple[int, ...]:
    """Cutoffs with columns in the table; `columns`: the table's, when the caller has them."""
    columns = table_columns(con, "ranking_query_metrics") if columns is None else columns
    found = (re.fullmatch(r"ndcg_lin_(\d+)", c) for c in columns)
    return tuple(sorted(int(m.group(1)) for m in found if m))


def stored_levels(con: duckdb.DuckDBPyConnection, columns: set[str] | None = None) -> tuple[int, ...]:
    """Relevance levels with columns in the table (1 always; none without the table)."""
    columns = table_columns(con, "ranking_query_metrics") if columns is None else columns
    if not columns:
        return ()
    found = (re.fullmatch(r"n_relevant_l(\d+)", c) for c in columns)
    return tuple(sorted({1} | {int(m.group(1)) for m in found if m}))


def metric_columns(k_values: tuple[int, ...] = K_VALUES, levels: tuple[int, ...] = (1,)) -> list[str]:
    cols = []
    for k in k_values:
        cols += [f"ndcg_lin_{k}", f"ndcg_exp_{k}", f"dcg_lin_{k}", f"dcg_exp_{k}"]
    for level in levels:
        sfx = level_suffix(level)
        cols += [f"{m}_{k}{sfx}" for k in k_values for m in BINARY_PER_K]
        cols += [f"{m}{sfx}" for m in BINARY_PER_QUERY]
    return cols + ["n_retrieved"]


def _aggregates(k_values, levels) -> str:
    """Per-list sums over `valued` rows (their gain x discount and precision at each relevant rank
    computed once per row): CASE sums, about a third cheaper than the same sums with FILTER."""
    parts = []
    for k in k_values:
        for name in GAINS:
            parts.append(f"sum(CASE WHEN r.rank <= {k} THEN r.dg_{name} ELSE 0 END) AS dcg_{name}_{k}")
    for lv in levels:
        for k in k_values:
            parts.append(f"sum(CAST(r.rank <= {k} AND r.rel >= {lv} AS INTEGER)) AS relret_{k}_{lv}")
            parts.append(f"sum(CASE WHEN r.rank <= {k} THEN r.prec_{lv} ELSE 0 END) AS mapsum_{k}_{lv}")
        parts.append(f"min(r.rank) FILTER (WHERE r.rel >= {lv}) AS first_rel_{lv}")
        parts.append(f"sum(r.prec_{lv}) AS ap_sum_{lv}")
        parts.append(f"sum(CAST(r.rel >= {lv} AND r.rank <= r.nrel_{lv} AS INTEGER)) AS rret_{lv}")
        parts.append(f"sum(CAST(r.rel >= {lv} AS INTEGER)) AS relret_all_{lv}")
        parts.append(f"sum(r.bp_{lv}) AS bpsum_{lv}")
    parts.append("max(r.rank) AS n_retrieved")  # the list length as served (a logged gap counts)
    return ",\n               ".join(parts)


def _valued(levels) -> str:
    """Per ranked row: gain x discount per gain, and precision at its rank when relevant (else 0)."""
    parts = [f"{gain} / log2(rank + 1) AS dg_{name}" for name, gain in GAINS.items()]
    parts += [f"CASE WHEN rel >= {lv} THEN so_far_{lv} / rank ELSE 0 END AS prec_{lv}" for lv in levels]
    # bpref: judged non-relevant items above a relevant one (judged rows so far minus relevant so far)
    parts += [f"CASE WHEN rel >= {lv} THEN least(judged_so_far - so_far_{lv}, nrel_{lv}) ELSE 0 END AS bp_{lv}"
              for lv in levels]
    return ", ".join(parts)


def _final(segments: list[str], k_values, levels, ideal: str = "i") -> str:
    """Per-query metrics from the aggregates (`p`) and the ideal DCGs (`ideal`); n_relevant_L in `p`."""
    i = ideal
    parts = ["p.model", "p.query_id"] + [f"s.{ident(c)} AS {ident(segment_column(c))}" for c in segments]
    for k in k_values:
        for name in GAINS:
            parts.append(f"CASE WHEN {i}.idcg_{name}_{k} > 0 THEN p.dcg_{name}_{k} / {i}.idcg_{name}_{k} ELSE 0 END "
                         f"AS ndcg_{name}_{k}")
            parts.append(f"p.dcg_{name}_{k}")
    for lv in levels:
        sfx, n = level_suffix(lv), f"coalesce(p.nrel_{lv}, 0)"
        for k in k_values:
            parts.append(f"CASE WHEN {n} > 0 THEN p.relret_{k}_{lv} / {n} ELSE 0 END AS recall_{k}{sfx}")
            parts.append(f"CAST(p.relret_{k}_{lv} > 0 AS DOUBLE) AS hit_{k}{sfx}")
            parts.append(f"p.relret_{k}_{lv} / {k}.0 AS precision_{k}{sfx}")
            parts.append(f"CASE WHEN {n} > 0 THEN p.mapsum_{k}_{lv} / {n} ELSE 0 END AS map_{k}{sfx}")
        parts.append(f"coalesce(1.0 / p.first_rel_{lv}, 0) AS rr{sfx}")
        parts.append(f"CASE WHEN {n} > 0 THEN p.ap_sum_{lv} / {n} ELSE 0 END AS ap{sfx}")
        parts.append(f"CASE WHEN {n} > 0 THEN p.rret_{lv} / {n} ELSE 0 END AS rprec{sfx}")
        parts.append(f"{_bpref(lv, n)} AS bpref{sfx}")
        parts.append(f"{n} AS n_relevant{sfx}")
    parts.append("p.n_retrieved")
    return ", ".join(parts)


def _bpref(lv: int, n: str) -> str:
    """trec_eval's bpref: (1/R) x sum over retrieved relevant items of 1 - min(N above it, R) / min(N, R),
    N = judged non-relevant items (grades 0 to level - 1; below 0 is unjudged); from the count of
    retrieved relevant items, the sum of min(N above, R), and N (`nnon`)."""
    low = f"least(coalesce(p.nnon_{lv}, 0), {n})"
    return (f"CASE WHEN {n} > 0 THEN (p.relret_all_{lv} - CASE WHEN {low} > 0 THEN p.bpsum_{lv} / {low} ELSE 0 END) "
            f"/ {n} ELSE 0 END")


def _zero_rows(segments: list[str], k_values, levels) -> str:
    """trec_eval -c: a judged query a scored model did not retrieve, as a row of zeros."""
    parts = ["z.model", "z.query_id"] + [f"s.{ident(c)} AS {ident(segment_column(c))}" for c in segments]
    parts += [f"0.0 AS {c}" for c in metric_columns(k_values, ()) if c != "n_retrieved"]
    for lv in levels:
        sfx = level_suffix(lv)
        parts += [f"0.0 AS {m}_{k}{sfx}" for k in k_values for m in BINARY_PER_K]
        parts += [f"0.0 AS {m}{sfx}" for m in ("rr", "ap", "rprec", "bpref")]
        parts.append(f"z.nrel_{lv} AS n_relevant{sfx}")
    parts.append("0 AS n_retrieved")
    join = "LEFT JOIN queries s ON s.query_id = z.query_id" if segments else ""
    return (f"SELECT {', '.join(parts)} FROM (SELECT m.model, j.* FROM scored_models m CROSS JOIN judged j "
            f"ANTI JOIN per_query p ON p.model = m.model AND p.query_id = j.query_id) z {join}")


def _scored_ctes(k_values, levels, positioned: bool, mixed: bool, lists: str | None = None) -> str:
    """Runs judged by qrels. Ranked by score: each list gathered in rank order (`_listed_ctes`);
    with logged positions (`positioned`: they order the lists, and a gap is a rank): one window
    sort, aggregated. `mixed`: logged rankings are stored too (rows with relevance), which this path
    leaves to the logged one."""
    if not positioned:
        return _listed_ctes(k_values, levels, mixed, lists)
    order = "r.position ASC NULLS LAST, r.score DESC, r.item_id DESC"
    rank = "coalesce(r.position, row_number() OVER w)"
    where = "WHERE r.relevance IS NULL" if mixed else ""
    so_far = ",\n           ".join(
        f"sum(CAST(coalesce(q.relevance, 0) >= {lv} AS INTEGER)) OVER (w ROWS UNBOUNDED PRECEDING) AS so_far_{lv}"
        for lv in levels)
    return f"""{_judged_cte(levels)},
scored_models AS (SELECT DISTINCT model FROM rankings r {where}),
running AS (
    -- one sort serves every window: rank and the running count of relevant items per level (AP)
    SELECT r.model, r.query_id, {', '.join(f'j.nrel_{lv}, j.nnon_{lv}' for lv in levels)},
           {rank} AS rank,
           greatest(coalesce(q.relevance, 0), 0) AS rel,
           {so_far},
           sum(CAST(q.relevance >= 0 AS INTEGER)) OVER (w ROWS UNBOUNDED PRECEDING) AS judged_so_far
    FROM rankings r
    JOIN judged j ON r.query_id = j.query_id
    LEFT JOIN qrels q ON q.query_id = r.query_id AND q.item_id = r.item_id
    {where}
    WINDOW w AS (PARTITION BY r.model, r.query_id ORDER BY {order})
),
valued AS (SELECT *, {_valued(levels)} FROM running),
per_query AS (
    SELECT r.model, r.query_id,
           {', '.join(f'any_value(r.nrel_{lv}) AS nrel_{lv}, any_value(r.nnon_{lv}) AS nnon_{lv}' for lv in levels)},
               {_aggregates(k_values, levels)}
    FROM valued r GROUP BY r.model, r.query_id
),
{_ideal_ctes(k_values, levels)}"""


def _judged_cte(levels) -> str:
    nrel = ", ".join(f"count(*) FILTER (WHERE relevance >= {lv}) AS nrel_{lv}, "
                     f"count(*) FILTER (WHERE relevance >= 0 AND relevance < {lv}) AS nnon_{lv}" for lv in levels)
    # the positive grades too, for the ideal DCG: one pass over the judgements
    return f"judged AS (SELECT query_id, {nrel}, list(relevance) FILTER (WHERE relevance > 0) AS ig FROM qrels GROUP BY query_id)"


# trec_eval's order of a scored list, and a retrieved item's grade in the arrays (-1: not judged,
# as a grade below 0)
SCORE_ORDER = "r.score DESC, r.item_id DESC"
GRADE = "greatest(coalesce(q.relevance, -1), -1)"
LISTS = "_ranked_lists"


def gather_lists(con: duckdb.DuckDBPyConnection, judged: bool) -> str:
    """Every list ranked by score (rows without a position) gathered once in trec_eval's order as
    {s: score, i: item, g: grade} structs, into a temporary table both the per-query table
    (`judged`: grades from qrels) and the coverage read: one gathering for both (~0.5 s of CPU
    less at 2M rows than one each). Returns its name; the caller drops it.

    The order is SCORE_ORDER: the structs sorted descending compare the score, then the item id
    (a list holds each item once, so the grade never decides). An unordered aggregate then
    `list_sort` is ~0.3-0.4 s of CPU less at 2M rows than an ordered aggregate (which sorts each
    of the 100k groups apart), with the same lists. A missing score sorts last, as NULLS LAST."""
    columns = table_columns(con, "rankings")
    grade = GRADE if judged else "CAST(-1 AS BIGINT)"
    join = "LEFT JOIN qrels q ON q.query_id = r.query_id AND q.item_id = r.item_id" if judged else ""
    where = "WHERE r.position IS NULL" if "position" in columns else ""  # a logged row has one
    struct = f"{{'s': coalesce(r.score, CAST('-inf' AS DOUBLE)), 'i': r.item_id, 'g': {grade}}}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {LISTS} AS SELECT model, query_id, list_sort(gi, 'DESC') AS gi "
                f"FROM (SELECT r.model, r.query_id, list({struct}) AS gi "
                f"FROM rankings r {join} {where} GROUP BY r.model, r.query_id)")
    return LISTS


def _listed_ctes(k_values, levels, mixed: bool, lists: str | None = None) -> str:
    """A scored run's lists as arrays of grades in trec_eval's order (score descending, then item id
    descending; -1: not judged, as a grade below 0), one ordered aggregate per list, and every sum
    from the arrays: no window (the window sort and its running sums cost about a third more
    CPU at 2M rows, with the same numbers to the last bit). The rank is the array index."""
    where = "WHERE r.relevance IS NULL" if mixed else ""
    judged_cols = ", ".join(f"j.nrel_{lv}, j.nnon_{lv}" for lv in levels)
    # grades as ranked; per level the ranks of the relevant items (ascending) and, for bpref, their
    # places among the judged items (so a relevant item's judged-so-far count)
    arrays = [f"list_where(range(1, len(g) + 1), list_transform(g, lambda x: x >= {lv})) AS rk_{lv}, "
              f"list_where(range(1, len(jl) + 1), list_transform(jl, lambda x: x >= {lv})) AS jp_{lv}"
              for lv in levels]
    # AP's precision at the j-th relevant rank r is j / r: the running count is the array index
    prec = [f"list_transform(rk_{lv}, lambda r, j: j / r) AS pj_{lv}" for lv in levels]
    # a cutoff past the list's end takes the whole list (most cutoffs, on short lists)
    relret = [f"CASE WHEN len(g) <= {k} THEN len(rk_{lv}) ELSE len(list_filter(rk_{lv}, lambda r: r <= {k})) END "
              f"AS relret_{k}_{lv}" for lv in levels for k in k_values]
    sums = []
    for k in k_values:
        sums += [f"CASE WHEN len(g) <= {k} THEN dcg_{name} ELSE list_sum(dg_{name}[1:{k}]) END AS dcg_{name}_{k}"
                 for name in GAINS]
    for lv in levels:
        for k in k_values:  # the first relret_k relevant ranks are those within k
            sums += [f"relret_{k}_{lv}", f"coalesce(list_sum(pj_{lv}[1:relret_{k}_{lv}]), 0) AS mapsum_{k}_{lv}"]
        sums += [f"rk_{lv}[1] AS first_rel_{lv}", f"coalesce(list_sum(pj_{lv}), 0) AS ap_sum_{lv}",
                 f"len(list_filter(rk_{lv}, lambda r: r <= nrel_{lv})) AS rret_{lv}",
                 f"len(rk_{lv}) AS relret_all_{lv}",
                 # bpref: judged non-relevant items above the j-th relevant one, at most R
                 f"coalesce(list_sum(list_transform(jp_{lv}, lambda p, j: least(p - j, nrel_{lv}))), 0) AS bpsum_{lv}"]
    source = (f"SELECT model, query_id, list_transform(gi, lambda x: x.g) AS g FROM {lists}" if lists else
              f"SELECT r.model, r.query_id, list({GRADE} ORDER BY {SCORE_ORDER}) AS g FROM rankings r "
              f"LEFT JOIN qrels q ON q.query_id = r.query_id AND q.item_id = r.item_id {where} GROUP BY r.model, r.query_id")
    return f"""{_judged_cte(levels)},
scored_models AS (SELECT DISTINCT model FROM rankings r {where}),
lists AS ({source}),
gained AS (
    SELECT l.model, l.query_id, l.g, {judged_cols},
           {', '.join(f"list_transform(l.g, lambda x, i: {_gain(name, 'greatest(x, 0)')} / log2(i + 1)) AS dg_{name}" for name in GAINS)},
           list_filter(l.g, lambda x: x >= 0) AS jl
    FROM lists l JOIN judged j ON j.query_id = l.query_id
),
placed AS (SELECT *, {', '.join(arrays)} FROM gained),
counted AS (SELECT *, {', '.join(prec + relret + [f"list_sum(dg_{name}) AS dcg_{name}" for name in GAINS])} FROM placed),
per_query AS (
    SELECT model, query_id, {', '.join(f'nrel_{lv}, nnon_{lv}' for lv in levels)},
           {', '.join(sums)},
           len(g) AS n_retrieved
    FROM counted
),
{_ideal_ctes(k_values, levels)}"""


def _ideal_ctes(k_values, levels) -> str:
    """Each judged query's ideal DCG at every cutoff: its positive grades (`judged`), best first."""
    gains = ", ".join(f"list_transform(ig, lambda x, i: {_gain(name, 'x')} / log2(i + 1)) AS idg_{name}"
                      for name in GAINS)
    idcg = ", ".join(f"CASE WHEN len(ig) <= {k} THEN list_sum(idg_{name}) ELSE list_sum(idg_{name}[1:{k}]) END "
                     f"AS idcg_{name}_{k}" for k in k_values for name in GAINS)
    return f"""ideal AS (
    SELECT query_id, {idcg}
    FROM (SELECT query_id, ig, {gains}
          FROM (SELECT query_id, list_sort(ig, 'DESC') AS ig FROM judged WHERE len(ig) > 0))
)"""


def build_sql(segments: list[str], *, scored: bool = True, positioned: bool = False,
              logged_grades: list[int] | None = None, k_values: tuple[int, ...] = K_VALUES,
              levels: tuple[int, ...] = (1,), lists: str | None = None, ordered: bool = True) -> str:
    """The build statement; `segments`: query segment columns to copy (names from the schema).
    `logged_grades`: the positive relevance grades of stored logged rankings (None: none stored).
    `k_values`, `levels`: validated whole numbers (formatted into SQL as ints). `lists`: the table
    `gather_lists` made (the lists ranked by score, judged), else they are gathered here.
    `ordered`: sort the rows by model (False when one model is stored: nothing to skip)."""
    k_values, levels = tuple(int(k) for k in k_values), tuple(int(lv) for lv in levels)
    join = "LEFT JOIN queries s ON s.query_id = p.query_id" if segments else ""
    logged = logged_grades is not None
    ctes, selects = [], []
    if scored:
        ctes.append(_scored_ctes(k_values, levels, positioned, mixed=logged, lists=lists))
        selects.append(f"SELECT {_final(segments, k_values, levels)}\n"
                       f"FROM per_query p LEFT JOIN ideal i USING (query_id) {join}")
        selects.append(_zero_rows(segments, k_values, levels))
    if logged:
        ctes.append(ranking_logged.ctes(logged_grades, k_values, GAINS, levels))
        selects.append(f"SELECT {_final(segments, k_values, levels, ideal='p')}\nFROM logged p {join}")
    # stored in model order: a re-split reads one model's row groups (min/max skip the others),
    # 40% less work for a paired re-split of two models at 100k queries. By model alone: sorting by
    # query too cost a fifth of the build (0.5 of 3.7 s of CPU at 100k queries) and nothing reads it
    return ("CREATE OR REPLACE TABLE ranking_query_metrics AS\nWITH " + ",\n".join(ctes) + "\n"
            + "SELECT * FROM (\n" + "\nUNION ALL BY NAME\n".join(selects) + "\n)"
            + (" ORDER BY model" if ordered else ""))


def build_ranking_summary(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the per-query table once runs and their judgements are loaded."""
    if not table_exists(con, "rankings"):
        return
    columns = table_columns(con, "rankings")
    logged_grades = ranking_logged.stored_grades(con) if "relevance" in columns else None
    mixed = logged_grades is not None
    unjudged = "WHERE relevance IS NULL" if mixed else ""
    scored = table_exists(con, "qrels") and _any(con, f"SELECT 1 FROM rankings {unjudged} LIMIT 1")
    positioned = scored and "position" in columns and _any(
        con, f"SELECT 1 FROM rankings WHERE position IS NOT NULL {'AND relevance IS NULL' if mixed else ''} LIMIT 1")
    lists = gather_lists(con, judged=scored and not positioned)
    ranking_coverage.build(con, cutoffs(con), lists)  # judged or not, every run's top k shows items
    if scored or mixed:
        _build(con, scored, positioned, logged_grades, lists if scored and not positioned else None)
    con.execute(f"DROP TABLE IF EXISTS {lists}")


def _build(con, scored: bool, positioned: bool, logged_grades, lists: str | None) -> None:
    """The per-query table, the grades it was built from, and the per-segment sums."""
    mixed = logged_grades is not None
    segments = segment_columns(con, "queries") if table_exists(con, "queries") else []
    grades = list(logged_grades or [])
    if scored:
        grades += [int(r[0]) for r in con.execute("SELECT DISTINCT relevance FROM qrels WHERE relevance >= 1").fetchall()]
    k_values, levels = cutoffs(con), configured_levels(con)
    # one model: the sort by model has nothing to order (~0.2 s of CPU at 100k queries x 99 columns)
    ordered = mixed or lists is None or con.execute(
        f"SELECT count(DISTINCT model) > 1 FROM {lists}").fetchone()[0]
    con.execute(build_sql(segments, scored=scored, positioned=positioned, logged_grades=logged_grades,
                          k_values=k_values, levels=levels, lists=lists, ordered=ordered))
    write_grades(con, grades)
    if mixed:
        ranking_logged.fill_long_lists(con, k_values, levels)
    ranking_sums.build(con)


def _any(con, sql: str) -> bool:
    return con.execute(sql).fetchone() is not None
