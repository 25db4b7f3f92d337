"""Per-unit experiment logs -> sufficient statistics per experiment x variant x metric.

One row per unit (user) and metric: `experiment_id, variant, metric, value`, optional segment
columns. A unit's value spans the whole experiment, so sums over day partitions would count a unit
twice: each run recomputes the experiments present in the source, and loads them through the
ordinary `results` ingest (its validation, and replacing those experiments' stored rows).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from dashboard.lake import definitions as d
from dashboard.lake.engines import Source
from dashboard.lake.summarize import Outcome, _require, _segments
from dashboard.store.ingest import ingest_file
from dashboard.store.readers import InputError

UNIT_COLUMNS = {"experiment_id", "variant", "metric", "value", "unit_id", "user_id", "ts", "date", "day"}


def results(db_path, src: Source, source_key: str) -> Outcome:
    start = time.perf_counter()
    _require(src, ["experiment_id", "variant", "metric", "value"], "per-unit experiment logs")
    t = src.table
    value = t.value.cast("float64")
    bad = t.aggregate(rows=t.count(), bad=d.count_if(t, value.isnan() | value.isinf())).to_pyarrow().to_pylist()[0]
    if bad["bad"]:
        raise InputError([f"{src.spec}, column value: {bad['bad']:,} row(s) not a finite number", "nothing was written"])
    segments = _segments(src, UNIT_COLUMNS)
    stats = d.experiment_stats(t, segments).to_pyarrow()
    out = Outcome("results", source_key, partitions_new=1, partitions_total=1, rows_read=bad["rows"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "experiment_results_summary.parquet"
        pq.write_table(stats, path)
        loaded = ingest_file(db_path, "results", path, replace=True)
    out.rows_written = loaded.rows
    experiments = sorted(set(stats.column("experiment_id").to_pylist()))
    out.notes.append(f"experiments {', '.join(experiments[:10])}{' ...' if len(experiments) > 10 else ''} "
                     "replaced with the recomputed statistics")
    out.seconds = time.perf_counter() - start
    return out
