"""Ranking runs -> ranking_query_metrics (per model x query) and ranking_coverage, on the engine.

Appending partitions adds their queries' rows; a query's ranked list must sit in one partition
(a query found again in a later partition is refused: rerun with --rebuild). Coverage is a distinct
count, which does not add across partitions, so it is recomputed over the whole source each run
(skip it with --no-coverage; the page then says coverage needs raw rows).
"""

from __future__ import annotations

import time

from dashboard.lake import definitions as d
from dashboard.lake import store
from dashboard.lake.engines import Source
from dashboard.lake.summarize import Outcome, _require, _segments, check_segment_values, new_partitions
from dashboard.store import ranking_sums
from dashboard.store.catalog import table_columns, table_exists
from dashboard.store.ranking_summary import (SEGMENT_PREFIX, configured_levels, cutoffs, stored_cutoffs,
                                             stored_grades, stored_levels, write_grades)
from dashboard.store.readers import InputError
from dashboard.store.sqlutil import finish_pending, ident


def rankings(con, src: Source, qrels: Source | None, queries: Source | None, source_key: str, *,
             rebuild: bool = False, coverage: bool = True) -> Outcome:
    """`src` is scored runs judged by `qrels`, or logged rankings (position and relevance in every
    row, docs/ranking.md#logged-rankings) judged by their own rows."""
    start = time.perf_counter()
    logged = _is_logged(src)
    _require(src, ["model", "query_id", "item_id"] + (["position", "relevance"] if logged else ["score"]),
             "logged rankings" if logged else "ranking runs")
    if not logged:
        if qrels is None:
            raise InputError([f"{src.spec}: scored runs need --qrels (the relevance judgements); a logged ranking "
                              "carries position and relevance in every row instead"])
        _require(qrels, ["query_id", "item_id", "relevance"], "qrels")
    if queries is not None:
        _require(queries, ["query_id"], "query segments")
    segments = _segments(queries, {"query_id"}) if queries is not None else []
    if queries is not None:
        check_segment_values(queries.spec, queries.table, segments)
    out = Outcome("rankings", source_key)
    if logged and qrels is not None:
        out.notes.append("a logged ranking is judged by its own rows: --qrels was not used")
        qrels = None
    store.ensure_tables(con)
    k_values, levels = cutoffs(con), configured_levels(con)
    changed = [what for what, differs in (
        ("query segment columns", _stored_segments(con) not in (None, set(segments))),
        ("cutoffs", bool(stored_cutoffs(con)) and stored_cutoffs(con) != k_values),
        ("relevance levels", bool(stored_levels(con)) and stored_levels(con) != levels)) if differs]
    if changed:
        out.notes.append(f"{' and '.join(changed)} changed: the per-query table is rebuilt; "
                         "re-summarise any other ranking source")
        con.execute("DROP TABLE ranking_query_metrics")
        con.execute(f"DROP TABLE IF EXISTS {ranking_sums.TABLE}")
        con.execute("DELETE FROM lake_partitions WHERE summary = 'rankings'")
    t = src.table
    done = set() if rebuild else store.done_partitions(con, "rankings", source_key)
    counts, new, fresh = new_partitions(src, done, out)
    if not new:
        return out
    _check(src.spec, fresh, queries, logged)
    q = queries.table if queries is not None else None
    metrics = d.ranking_query_metrics(fresh, qrels.table if qrels else None, q, segments, k_values,
                                      levels).to_pyarrow()
    models = sorted(set(metrics.column("model").to_pylist()))
    clash = sorted(set(models) & store.raw_models(con, "rankings"))
    if clash:
        raise InputError([f"model(s) {', '.join(clash)} are loaded as raw runs in this database; "
                          "summarise them into another --db"])
    if done:
        _refuse_overlap(con, metrics)
    cover = d.ranking_coverage(t, q, segments, logged).to_pyarrow() if coverage else None
    with store.transaction(con):
        if not done:
            store.forget_partitions(con, "rankings", source_key)
            store.delete_models(con, "ranking_query_metrics", models)
        if done:
            _insert_keeping_one_row_per_query(con, metrics)
        else:
            store.insert_arrow(con, "ranking_query_metrics", metrics)
        if cover is not None:
            store.delete_models(con, "ranking_coverage", models)
            store.insert_arrow(con, "ranking_coverage", cover)
        write_grades(con, set(_grades(src.table if logged else qrels.table)) | set(
            (stored_grades(con) or ()) if done else ()))
        store.register_segments(con, "queries", segments)
        store.record_partitions(con, "rankings", source_key, {k: counts[k] for k in new})
        out.rows_read = sum(counts[k] for k in new)
        out.rows_written = metrics.num_rows + (cover.num_rows if cover is not None else 0)
        store.record_load(con, "rankings", "ranking_query_metrics", source_key, out.rows_read, "; ".join(out.notes))
        ranking_sums.build(con)  # the re-splits' per-segment sums, from the table as now written
    out.seconds = time.perf_counter() - start
    return out


def _grades(t) -> list[int]:
    """Positive grades of the judgements (qrels, or a logged ranking's own rows): the levels stored."""
    rel = t.relevance.cast("int64")
    rows = t.filter(rel >= 1).select(g=rel).distinct().to_pyarrow().column("g").to_pylist()
    return [int(g) for g in rows]


def _insert_keeping_one_row_per_query(con, metrics) -> None:
    """Appended partitions: a zero row (a judged query the partition did not retrieve, -c) gives
    way to the real row of the partition that holds that query, and is never stored twice."""
    finish_pending(con)
    con.register("_lake_new", metrics)
    try:
        con.execute("DELETE FROM ranking_query_metrics m WHERE m.n_retrieved = 0 AND EXISTS (SELECT 1 FROM "
                    "_lake_new n WHERE n.model = m.model AND n.query_id = m.query_id AND n.n_retrieved > 0)")
        con.execute("INSERT INTO ranking_query_metrics BY NAME SELECT * FROM _lake_new n WHERE n.n_retrieved > 0 "
                    "OR NOT EXISTS (SELECT 1 FROM ranking_query_metrics m WHERE m.model = n.model "
                    "AND m.query_id = n.query_id)")
    finally:
        con.unregister("_lake_new")


def _stored_segments(con) -> set[str] | None:
    if not table_exists(con, "ranking_query_metrics"):
        return None
    cols = table_columns(con, "ranking_query_metrics")
    return {c.removeprefix(SEGMENT_PREFIX) for c in cols if c.startswith(SEGMENT_PREFIX)}


def _is_logged(src: Source) -> bool:
    """Logged rankings carry position and relevance; columns empty in every row are as if absent (a
    rankings table exported from the dashboard has them for its scored runs)."""
    t = src.table
    present = [c for c in ("position", "relevance") if c in t.columns]
    if not present:
        return False
    filled = t.aggregate(**{c: t[c].count() for c in present}).to_pyarrow().to_pylist()[0]
    used = [c for c in present if filled[c]]
    if used == ["position"]:  # ranked by position but judged by qrels: ingest handles that form
        raise InputError([f"{src.spec}: has position but no relevance; summarize takes scored runs + qrels or "
                          "logged rankings (position and relevance). Load runs with positions with `ingest`"])
    if used == ["relevance"]:
        raise InputError([f"{src.spec}: has relevance but no position; a logged ranking needs both"])
    return bool(used)


def _check(spec: str, runs, queries: Source | None, logged: bool) -> None:
    lists = runs.model.cast("string") + "\x1f" + runs.query_id.cast("string") + "\x1f"
    checks = {"rows": runs.count(), "keys": (lists + runs.item_id.cast("string")).nunique()}
    if logged:
        pos = runs.position.cast("float64")
        checks["bad_position"] = d.count_if(runs, pos.isnull() | (pos < d.f64(1)) | (pos != pos.floor()))
        checks["bad_relevance"] = d.count_if(runs, runs.relevance.isnull())
        checks["positions"] = (lists + runs.position.cast("int64").cast("string")).nunique()
    else:
        checks["bad_score"] = d.count_if(runs, runs.score.isnull() | runs.score.cast("float64").isnan())
    row = runs.aggregate(**checks).to_pyarrow().to_pylist()[0]
    problems = []
    if row.get("bad_score"):
        problems.append(f"{spec}, column score: {row['bad_score']:,} row(s) not a number")
    if row.get("bad_position"):
        problems.append(f"{spec}, column position: {row['bad_position']:,} row(s) not a whole number >= 1")
    if row.get("bad_relevance"):
        problems.append(f"{spec}, column relevance: {row['bad_relevance']:,} empty row(s)")
    if row["keys"] != row["rows"]:
        problems.append(f"{spec}: {row['rows'] - row['keys']:,} duplicate (model, query_id, item_id) row(s)")
    if logged and not row["bad_position"] and row["positions"] != row["rows"]:
        problems.append(f"{spec}: {row['rows'] - row['positions']:,} duplicate (model, query_id, position) row(s)")
    if queries is not None:
        qt = queries.table
        qrow = qt.aggregate(rows=qt.count(), keys=qt.query_id.nunique()).to_pyarrow().to_pylist()[0]
        if qrow["rows"] != qrow["keys"]:
            problems.append(f"{queries.spec}: {qrow['rows'] - qrow['keys']:,} duplicate query_id row(s)")
    if problems:
        raise InputError(problems + ["nothing was written"])


def _refuse_overlap(con, metrics) -> None:
    if not table_exists(con, "ranking_query_metrics"):
        return
    finish_pending(con)
    con.register("_lake_new", metrics.select(["model", "query_id", "n_retrieved"]))
    try:
        n = con.execute(f"SELECT count(*) FROM _lake_new n JOIN ranking_query_metrics m "
                        f"ON m.model = n.model AND m.{ident('query_id')} = n.query_id "
                        "WHERE n.n_retrieved > 0 AND m.n_retrieved > 0").fetchall()[0][0]
    finally:
        con.unregister("_lake_new")
    if n:
        raise InputError([f"{n:,} (model, query) pair(s) in the new partitions were summarised from an earlier "
                          "partition; a query's ranked list must sit in one partition. Rerun with --rebuild."])
