"""Ranking quality by segment, baseline vs candidate, from the per-query summary table.

Every figure is a mean over queries of the per-query values in `ranking_query_metrics` (built at
ingest with trec_eval conventions), so re-splitting by another segment or k never re-ranks raw rows.
"""

from __future__ import annotations

import argparse

import duckdb
import numpy as np

from dashboard.metrics import ranking as rk
from dashboard.store import catalog
from dashboard.store.ranking_summary import K_VALUES, segment_column
from dashboard.store.sqlutil import ident

GAINS = ("linear", "exp")
MIN_SEGMENT_QUERIES = 30
_GAIN_COLUMN = {"linear": "lin", "exp": "exp"}


def options(con: duckdb.DuckDBPyConnection) -> dict:
    if not catalog.table_exists(con, "ranking_query_metrics"):
        return {"models": [], "segments": [], "k_values": list(K_VALUES)}
    models = [r[0] for r in con.execute("SELECT DISTINCT model FROM ranking_query_metrics ORDER BY 1").fetchall()]
    return {"models": models, "segments": catalog.segment_columns(con, "queries"), "k_values": list(K_VALUES),
            "forms": catalog.run_forms(con)}


def _columns(k: int, gain: str) -> dict[str, str]:
    """Metric name -> column of ranking_query_metrics (names come from this fixed list only)."""
    if k not in K_VALUES:
        raise ValueError(f"k must be one of {', '.join(map(str, K_VALUES))} (the cutoffs summarised at load time)")
    if gain not in GAINS:
        raise ValueError("gain must be 'linear' (trec_eval) or 'exp' (2^rel - 1, LightGBM)")
    g = _GAIN_COLUMN[gain]
    return {"ndcg": f"ndcg_{g}_{k}", "dcg": f"dcg_{g}_{k}", "mrr": "rr", "recall": f"recall_{k}",
            "hit": f"hit_{k}", "map": "ap"}


def per_query(con, model: str, k: int, gain: str, by: str = "", baseline: str = "") -> dict[str, np.ndarray]:
    """Per-query values of `model` (and `baseline`, on the queries both evaluated) with segments."""
    cols = _columns(k, gain)
    models = options(con)["models"]
    for m in filter(None, (model, baseline)):
        if m not in models:
            raise ValueError(f"unknown ranking model {m!r}; loaded: {', '.join(models) or 'none'}")
    if by and by not in catalog.segment_columns(con, "queries"):
        raise ValueError(f"unknown query segment {by!r}; queries have: "
                         f"{', '.join(catalog.segment_columns(con, 'queries')) or 'none (load a queries file)'}")
    select = ", ".join(f"m.{c} AS {name}" for name, c in cols.items())
    sql = f"SELECT m.query_id, {select}, m.n_relevant"
    params: list = []
    if baseline:
        sql += ", " + ", ".join(f"b.{c} AS base_{name}" for name, c in cols.items())
    # segments are copied into the per-query table at build time (no join); older files: join
    copied = bool(by) and segment_column(by) in catalog.table_columns(con, "ranking_query_metrics")
    segment = "''"
    if by:
        source = f"m.{ident(segment_column(by))}" if copied else f"q.{ident(by)}"
        segment = f"coalesce({source}, '(missing)')"
    sql += f", {segment} AS segment FROM ranking_query_metrics m"
    if baseline:
        sql += " JOIN ranking_query_metrics b ON b.query_id = m.query_id AND b.model = ?"
        params.append(baseline)
    if by and not copied:
        sql += " LEFT JOIN queries q ON q.query_id = m.query_id"
    sql += " WHERE m.model = ? ORDER BY m.query_id"
    params.append(model)
    return con.execute(sql, params).fetchnumpy()


def _row(data: dict, mask: np.ndarray, baseline: bool, seed: int) -> dict:
    row = {"n_queries": int(mask.sum())}
    for name in ("ndcg", "dcg", "mrr", "recall", "hit", "map"):
        row[name] = float(data[name][mask].mean()) if mask.any() else None
    row["no_relevant_in_top_k"] = 1 - row["hit"] if row["hit"] is not None else None
    if baseline:
        d = rk.paired_delta(data["ndcg"][mask], data["base_ndcg"][mask], seed=seed)
        row.update(baseline_ndcg=d.mean_baseline, delta_ndcg=d.delta, ci_low=d.ci_low, ci_high=d.ci_high,
                   p_value=d.p_value, baseline_dcg=float(data["base_dcg"][mask].mean()) if mask.any() else None,
                   delta_dcg=float((data["dcg"][mask] - data["base_dcg"][mask]).mean()) if mask.any() else None,
                   _delta=d)
    return row


def overall_summary(con, model: str, k: int = 10, gain: str = "linear", baseline: str = "", seed: int = 0) -> dict:
    """All queries: means and the paired delta (separate so a re-split does not redo its bootstrap)."""
    data = per_query(con, model, k, gain, "", baseline)
    n = len(data["query_id"])
    if n == 0:
        raise ValueError(f"no evaluated queries for {model}" + (f" and {baseline}" if baseline else ""))
    row = _row(data, np.ones(n, bool), bool(baseline), seed)
    row.pop("_delta", None)
    return row


def segment_table(con, model: str, k: int = 10, gain: str = "linear", by: str = "", baseline: str = "",
                  min_size: int = MIN_SEGMENT_QUERIES, seed: int = 0, overall: dict | None = None) -> dict:
    """Overall and per-segment means (and paired deltas against the baseline, BH-adjusted)."""
    overall = dict(overall or overall_summary(con, model, k, gain, baseline, seed))
    data = per_query(con, model, k, gain, by, baseline) if by else {}
    segments = []
    if by:
        for value in np.unique(data["segment"]):
            segments.append({"column": by, "value": str(value), **_row(data, data["segment"] == value, bool(baseline), seed)})
    if baseline and segments:
        flags = rk.flag_segments([s["_delta"] for s in segments], overall["delta_ndcg"], min_size=min_size)
        for s, f in zip(segments, flags):
            s.update(f)
    for r in [overall, *segments]:
        r.pop("_delta", None)
        if not baseline:
            r["small"] = r["n_queries"] < min_size
    return {"model": model, "baseline": baseline or None, "k": k, "gain": gain, "by": by or None,
            "overall": overall, "segments": segments}


def coverage(con, model: str, k: int, by: str = "") -> dict[str, float]:
    """Share of the catalogue (items any loaded model retrieved) shown in `model`'s top k, per segment.

    Reads the raw run once (cached by the app); the only figure here that needs raw rows. Without
    them, the `ranking_coverage` summary that `summarize` builds; {} when neither is loaded.
    """
    _columns(k, "linear")
    if by and by not in catalog.segment_columns(con, "queries"):
        raise ValueError(f"unknown query segment {by!r}")
    if not catalog.table_exists(con, "rankings"):
        return _summarised_coverage(con, model, k, by)
    seg = f"coalesce(q.{ident(by)}, '(missing)')" if by else "''"
    join = "LEFT JOIN queries q ON q.query_id = r.query_id" if by else ""
    rows = con.execute(
        f"""WITH ranked AS (
              SELECT r.query_id, r.item_id, {seg} AS segment, {_rank(con, model)} AS rank
              FROM rankings r {join} WHERE r.model = ?)
            SELECT segment, count(DISTINCT item_id) FROM ranked WHERE rank <= ? GROUP BY segment""",
        [model, k]).fetchall()
    catalogue = con.execute("SELECT count(DISTINCT item_id) FROM rankings").fetchall()[0][0]
    return {str(s): c / catalogue for s, c in rows} if catalogue else {}


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


def query_values(con, model: str, k: int, gain: str) -> list[dict]:
    data = per_query(con, model, k, gain)
    return [{"query_id": str(q), "ndcg": float(n), "mrr": float(m), "recall": float(r)}
            for q, n, m, r in zip(data["query_id"], data["ndcg"], data["mrr"], data["recall"])]


# --- command line --------------------------------------------------------------------------

def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True)
    parser.add_argument("--baseline", default="")
    parser.add_argument("--k", type=int, default=10, choices=K_VALUES)
    parser.add_argument("--gain", default="linear", choices=GAINS)
    parser.add_argument("--by", default="", help="query segment column")
    parser.add_argument("--per-query", action="store_true", help="also list every query's values")
    parser.add_argument("--min-size", type=int, default=MIN_SEGMENT_QUERIES)


def report(con, args) -> dict:
    result = segment_table(con, args.model, args.k, args.gain, args.by, args.baseline, args.min_size)
    if args.per_query:
        result["queries"] = query_values(con, args.model, args.k, args.gain)
    return result
