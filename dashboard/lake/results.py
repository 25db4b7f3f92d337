"""Per-unit experiment logs -> sufficient statistics per experiment x variant x metric.

One row per unit (user) and metric: `experiment_id, variant, metric, value`, optional segment
columns. A unit's value spans the whole experiment, so sums over day partitions would count a unit
twice: each run recomputes the experiments present in the source, and loads them through the
ordinary `results` ingest (its validation, and replacing those experiments' stored rows).

With a unit id (`unit_id` or `user_id`), the cross-products of every pair of metrics measured on
the same units are computed too and loaded as `covariances` in the same transaction: sum_ab over
units with both metrics, kept for pairs where every unit of the variant has both (else the two
metrics' n differ and the pair is not measured on the same units).

With a pre-period column (`--pre-column`, or one named `pre_value`: each unit's value of the row's
metric before the experiment), the rows carry pre_sum, pre_sum_sq and sum_cross for CUPED; a unit
with a value but no finite pre-period value is refused.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from dashboard.lake import definitions as d
from dashboard.lake.engines import Source
from dashboard.lake.summarize import Outcome, _require, _segments, check_segment_values
from dashboard.store.ingest import ingest_files
from dashboard.store.readers import InputError

UNIT_COLUMNS = {"experiment_id", "variant", "metric", "value", "unit_id", "user_id", "ts", "date", "day"}
PRE_COLUMN = "pre_value"  # used for CUPED when present, unless --pre-column names another


def results(db_path, src: Source, source_key: str, pre_column: str | None = None) -> Outcome:
    start = time.perf_counter()
    _require(src, ["experiment_id", "variant", "metric", "value"], "per-unit experiment logs")
    t = src.table
    pre = _pre_column(src, pre_column)
    value = t.value.cast("float64")
    checks = {"rows": t.count(), "bad": d.count_if(t, value.isnan() | value.isinf())}
    if pre:  # CUPED needs every unit's pre-period value: a unit without one is refused, not dropped
        x = t[pre].cast("float64")
        checks["bad_pre"] = d.count_if(t, value.notnull() & (x.isnull() | x.isnan() | x.isinf()))
    bad = t.aggregate(**checks).to_pyarrow().to_pylist()[0]
    problems = []
    if bad["bad"]:
        problems.append(f"{src.spec}, column value: {bad['bad']:,} row(s) not a finite number")
    if bad.get("bad_pre"):
        problems.append(f"{src.spec}, column {pre}: {bad['bad_pre']:,} row(s) with a value but no finite "
                        "pre-period value; expected a number for every unit (0 for a unit with no "
                        "pre-period activity), or leave the column out to summarise without CUPED")
    if problems:
        raise InputError(problems + ["nothing was written"])
    segments = _segments(src, UNIT_COLUMNS | ({pre} if pre else set()))
    check_segment_values(src.spec, t, segments)
    stats = d.experiment_stats(t, segments, pre).to_pyarrow()
    out = Outcome("results", source_key, partitions_new=1, partitions_total=1, rows_read=bad["rows"])
    if pre:
        out.notes.append(f"pre-period values from column {pre}: pre_sum, pre_sum_sq and sum_cross for CUPED")
    unit = next((c for c in ("unit_id", "user_id") if c in t.columns), None)
    covariances = _consistent(cross_products(t, segments, unit).to_pyarrow(), stats, segments) if unit else None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "experiment_results_summary.parquet"
        pq.write_table(stats, path)
        items = [("results", path)]
        if covariances is not None and covariances.num_rows:
            cov_path = Path(tmp) / "experiment_covariances_summary.parquet"
            pq.write_table(covariances, cov_path)
            items.append(("covariances", cov_path))
        loaded = ingest_files(db_path, items, replace=True)
    out.rows_written = sum(r.rows for r in loaded)
    if len(loaded) > 1:
        out.notes.append(f"{loaded[1].rows:,} covariance rows (pairs of metrics on the same units)")
    experiments = sorted(set(stats.column("experiment_id").to_pylist()))
    out.notes.append(f"experiments {', '.join(experiments[:10])}{' ...' if len(experiments) > 10 else ''} "
                     "replaced with the recomputed statistics")
    out.seconds = time.perf_counter() - start
    return out


def _pre_column(src: Source, named: str | None) -> str | None:
    """--pre-column, else a column named pre_value, else None (no CUPED statistics)."""
    name = named or (PRE_COLUMN if PRE_COLUMN in src.table.columns else None)
    if name is None:
        return None
    if name not in src.table.columns:
        raise InputError([f"{src.spec}: --pre-column {name!r} is not a column (found: "
                          f"{', '.join(src.table.columns)})"])
    dtype = src.table.schema()[name]
    if not dtype.is_numeric():
        raise InputError([f"{src.spec}, column {name}: found {dtype}; expected numbers (each unit's "
                          "pre-period value of the row's metric)"])
    return name


def cross_products(units, segments: list[str], unit: str):
    """sum_ab and the count of units with both, per experiment x variant x pair (metric_a < metric_b):
    overall (segments NULL) and per segment column, as experiment_stats groups them."""
    base = units.select(experiment_id=units.experiment_id.cast("string"), variant=units.variant.cast("string"),
                        metric=units.metric.cast("string"), value=units.value.cast("float64"),
                        unit=units[unit].cast("string"),
                        **{s: d.clean_segment(units[s]).fill_null(d.MISSING) for s in segments})
    base = base.filter(base.value.notnull())
    a, b = base.view(), base.view()
    pairs = a.join(b, [a.experiment_id == b.experiment_id, a.variant == b.variant, a.unit == b.unit,
                       a.metric < b.metric])
    pairs = pairs.select(experiment_id=a.experiment_id, variant=a.variant, metric_a=a.metric, metric_b=b.metric,
                         ab=a.value * b.value, **{s: a[s] for s in segments})
    parts = []
    for active in [None] + segments:
        keys = ["experiment_id", "variant", "metric_a", "metric_b"] + ([active] if active else [])
        agg = pairs.group_by(keys).aggregate(sum_ab=pairs.ab.sum(), n_ab=pairs.count())
        agg = agg.mutate(**{s: ibis.null("string") for s in segments if s != active})
        parts.append(agg.select("experiment_id", "variant", "metric_a", "metric_b", "sum_ab", "n_ab", *segments))
    return ibis.union(*parts, distinct=False)


def _consistent(cross: pa.Table, stats: pa.Table, segments: list[str]) -> pa.Table:
    """Pairs whose units all have both metrics (n_ab equals both metrics' n), without n_ab."""
    keys = ["experiment_id", "variant", *segments]
    n = {(tuple(r[k] for k in keys), r["metric"]): r["n"] for r in stats.select([*keys, "metric", "n"]).to_pylist()}
    rows = [r for r in cross.to_pylist()
            if n.get((tuple(r[k] for k in keys), r["metric_a"])) == r["n_ab"] == n.get((tuple(r[k] for k in keys), r["metric_b"]))]
    columns = ["experiment_id", "variant", "metric_a", "metric_b", "sum_ab", *segments]
    return pa.table({c: pa.array([r[c] for r in rows], type=cross.schema.field(c).type) for c in columns})
