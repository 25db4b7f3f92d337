"""Summary tables built inside the ingest transaction, so the app never scans raw rows.

`prediction_bins`: labelled counts per model x day x segment x score bin (see schema.py), and with
them `prediction_quality`: exact AP/AUC per model over its whole range (store/quality.py).
Other summaries (ranking per-query metrics) register in SUMMARY_BUILDERS by module path, so this
module does not import them; a builder is `build(con) -> None`.
"""

from __future__ import annotations

import importlib

import duckdb

from dashboard.metrics.binning import N_BINS, score_range
from dashboard.store import bin_totals
from dashboard.store.catalog import segment_columns
from dashboard.store.quality import build_prediction_quality
from dashboard.store.sqlutil import ident, placeholders

# kind loaded -> builders to run afterwards ("module:function").
SUMMARY_BUILDERS: dict[str, list[str]] = {
    "run": ["dashboard.store.ranking_summary:build_ranking_summary"],
    "qrels": ["dashboard.store.ranking_summary:build_ranking_summary"],
    "queries": ["dashboard.store.ranking_summary:build_ranking_summary"],
}


def run_builders(con: duckdb.DuckDBPyConnection, kind: str) -> list[str]:
    """Run the registered builders for a kind; returns the ones that ran."""
    ran = []
    for target in SUMMARY_BUILDERS.get(kind, []):
        module_name, func_name = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # summary not built in this version
        getattr(module, func_name)(con)
        ran.append(target)
    return ran


def update_score_ranges(con: duckdb.DuckDBPyConnection, models: list[str]) -> list[str]:
    """Set each model's bin range from all its rows; returns models whose range changed."""
    rows = con.execute(
        f"SELECT model, min(score), max(score) FROM predictions WHERE model IN ({placeholders(len(models))}) "
        "GROUP BY model",
        models,
    ).fetchall()
    old = dict(
        (m, (lo, hi)) for m, lo, hi in con.execute("SELECT model, lo, hi FROM model_score_range").fetchall()
    )
    changed = []
    for model, lo_score, hi_score in rows:
        lo, hi = score_range(lo_score, hi_score)
        if old.get(model) != (lo, hi):
            changed.append(model)
        con.execute("DELETE FROM model_score_range WHERE model = ?", [model])
        con.execute("INSERT INTO model_score_range VALUES (?, ?, ?)", [model, lo, hi])
    return changed


_AGGREGATES = """count(*) FILTER (WHERE label = 1) AS n_pos,
               count(*) FILTER (WHERE label = 0) AS n_neg,
               count(*) FILTER (WHERE label IS NULL) AS n_unlabeled,
               coalesce(sum(weight) FILTER (WHERE label = 1), 0) AS w_pos,
               coalesce(sum(weight) FILTER (WHERE label = 0), 0) AS w_neg,
               coalesce(sum(value) FILTER (WHERE label = 1), 0) AS value_pos,
               coalesce(sum(value) FILTER (WHERE label = 0), 0) AS value_neg"""


def _binned(n_models: int, segments: list[str]) -> str:
    """WITH clause ending in `binned`: the models' rows with their day and score bin."""
    seg_select = "".join(f", p.{ident(s)}" for s in segments)
    return f"""
        WITH ranged AS (
            SELECT p.model, CAST(p.ts AS DATE) AS day, p.score, p.label,
                   coalesce(p.weight, 1.0) AS weight, coalesce(p.value, 0.0) AS value{seg_select},
                   r.lo, (r.hi - r.lo) / {N_BINS}.0 AS width
            FROM predictions p JOIN model_score_range r USING (model)
            WHERE p.model IN ({placeholders(n_models)})
        ), binned AS (
            SELECT *, {bin_sql("score", "lo", "width")} AS bin FROM ranged
        )"""


def bin_sql(score: str, lo: str, width: str) -> str:
    """The bin of `score`, as metrics.binning assigns it (floor, then corrected by the same edge
    expression as Python, so `bin >= i` is `score >= edge(i)` bit for bit)."""
    b0 = f"least({N_BINS}.0, greatest(0.0, floor(({score} - {lo}) / {width})))"
    return (f"CAST(least({N_BINS}.0, {b0} - CAST({score} < {lo} + {b0} * {width} AS INTEGER) "
            f"+ CAST({score} >= {lo} + ({b0} + 1) * {width} AS INTEGER)) AS INTEGER)")


def build_prediction_bins(con: duckdb.DuckDBPyConnection, models: list[str]) -> None:
    """Rebuild the bins of the given models from their raw rows: one plain GROUP BY per segment column,
    and the overall rows summed from the first column's (or from the raw rows when there is none).
    GROUPING SETS did one scan but exported aggregate states for millions of groups; end to end it
    measured about the same, with CASE GROUPING() bookkeeping."""
    if not models:
        return
    update_score_ranges(con, models)
    segments = segment_columns(con, "predictions")
    con.execute(f"DELETE FROM prediction_bins WHERE model IN ({placeholders(len(models))})", models)
    binned = _binned(len(models), segments)
    for seg in segments:
        con.execute(
            f"INSERT INTO prediction_bins {binned} SELECT model, day, ? AS segment_column, "
            f"coalesce({ident(seg)}, '(missing)') AS segment_value, bin, {_AGGREGATES} FROM binned GROUP BY ALL",
            models + [seg],
        )
    if segments:  # the overall rows add up one column's segments: no second pass over the raw rows
        con.execute(
            "INSERT INTO prediction_bins SELECT model, day, '', '', bin, sum(n_pos), sum(n_neg), sum(n_unlabeled), "
            "sum(w_pos), sum(w_neg), sum(value_pos), sum(value_neg) FROM prediction_bins "
            f"WHERE model IN ({placeholders(len(models))}) AND segment_column = ? GROUP BY model, day, bin",
            models + [segments[0]])
    else:
        con.execute(f"INSERT INTO prediction_bins {binned} SELECT model, day, '', '', bin, {_AGGREGATES} "
                    "FROM binned GROUP BY model, day, bin", models)
    bin_totals.build(con, models)  # the bins summed over days: the page's whole-range view
    # exact AP/AUC over the whole range, in the same transaction (a refused load keeps neither)
    build_prediction_quality(con, models)
