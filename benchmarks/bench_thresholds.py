"""Thresholds speed: our summary path vs scikit-learn on the same data, as ratios, in one run.

    python benchmarks/bench_thresholds.py --rows 1000000 10000000 [50000000]

For each size: generate scores/labels/20 segments over 28 days and load them as a user would (a
Parquet file through `ingest`, timed as a one-off). Then, in fresh processes holding no raw data:
- page: what the Thresholds page does on a read-only connection: first load (bin counts overall and
  by segment, PR curve, exact AP/AUC from the raw scores) vs sklearn.precision_recall_curve +
  average_precision_score on the raw arrays; a slider move (operating point plus 20 segment rows
  with Wilson intervals) vs sklearn.confusion_matrix at one threshold; 20 per-segment PR curves vs
  looping sklearn per segment; peak memory (ru_maxrss) of each process;
- build: the summary build ingest runs after storing rows (the model's bins from its raw rows),
  time and peak memory, uncapped and with DuckDB capped by DASHBOARD_DUCKDB_MEMORY_LIMIT.
Timings are medians of repeats; never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dashboard.store.connection import MEMORY_LIMIT_ENV

SEGMENTS = 20


def data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.05).astype(np.int8)
    scores = np.clip(rng.normal(0.3 + 0.3 * labels, 0.15), 0, 1).round(4)
    segment = rng.integers(0, SEGMENTS, n).astype(np.int8)
    return scores, labels, segment


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def prepare(n: int, db: str) -> dict:
    """Write the generated rows to `<db>.parquet` (its own process: generation is not measured)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    scores, labels, segment = data(n)
    days = np.arange(n) % 28
    table = pa.table({"model": pa.array(np.full(n, "m")), "score": scores, "label": labels,
                      "ts": pa.array(np.datetime64("2026-01-01") + days.astype("timedelta64[D]")),
                      "seg": pa.array(np.char.add("s", segment.astype(str)))})
    pq.write_table(table, db + ".parquet")
    return {}


def load(n: int, db: str) -> dict:
    """The one-off load a user runs: `ingest` of the Parquet file (validation, insert, bins)."""
    from dashboard.store.ingest import ingest_file

    start = time.perf_counter()
    ingest_file(db, "predictions", db + ".parquet")
    return {"ingest": time.perf_counter() - start, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def build(n: int, repeat: int, db: str) -> dict:
    """The summary build ingest runs after storing rows: the model's bins from its raw rows."""
    from dashboard.store.connection import connect
    from dashboard.store.summaries import build_prediction_bins

    con = connect(db)
    return {"build": timed(lambda: build_prediction_bins(con, ["m"]), max(1, repeat // 2)),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def page(n: int, repeat: int, db: str) -> dict:
    """What the Thresholds page does, on a read-only connection as the app opens it: bin counts
    overall and by segment, the curve, exact AP/AUC from the raw scores; then slider moves."""
    from dashboard.metrics import classification as clf
    from dashboard.services import thresholds as th
    from dashboard.store.connection import connect

    con = connect(db, read_only=True)
    state = {}

    def first_load():
        state["c"] = c = th.counts(con, "m", by="seg")
        th.curves(c), th.exact_quality(con, "m")

    t_first = timed(first_load, max(1, repeat // 2))
    c = state["c"]

    def slider():
        i = th.threshold_index(c, 0.4321)
        return th.segment_rows(c, i), clf.operating_point(th.cumulative(c.overall), i)

    def segment_curves():
        for arrays in c.segments.values():
            cum = th.cumulative(arrays)
            clf.precision(cum), clf.recall(cum)

    return {"first_load": t_first, "slider": timed(slider, repeat * 5), "segment_curves": timed(segment_curves, repeat),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def sklearn_side(n: int, repeat: int) -> dict:
    from sklearn.metrics import average_precision_score, confusion_matrix, precision_recall_curve

    scores, labels, segment = data(n)
    t_first = timed(lambda: (precision_recall_curve(labels, scores), average_precision_score(labels, scores)),
                    max(1, repeat // 2))
    t_slider = timed(lambda: confusion_matrix(labels, scores >= 0.4321), repeat)

    def per_segment():
        for s in range(SEGMENTS):
            m = segment == s
            precision_recall_curve(labels[m], scores[m])

    return {"first_load": t_first, "slider": t_slider, "segment_curves": timed(per_segment, max(1, repeat // 2)),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


CAP = "512MB"  # DASHBOARD_DUCKDB_MEMORY_LIMIT for the capped run


def run_side(side: str, n: int, repeat: int, db: str = "", cap: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if k != MEMORY_LIMIT_ENV}
    if cap:
        env[MEMORY_LIMIT_ENV] = cap
    out = subprocess.run([sys.executable, __file__, "--side", side, "--rows", str(n), "--repeat", str(repeat),
                          "--db", db], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", choices=["prepare", "load", "build", "page", "sklearn"])
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    if args.side:
        n = args.rows[0]
        result = {"prepare": lambda: prepare(n, args.db), "load": lambda: load(n, args.db), "build": lambda: build(n, args.repeat, args.db),
                  "page": lambda: page(n, args.repeat, args.db),
                  "sklearn": lambda: sklearn_side(n, args.repeat)}[args.side]()
        print(json.dumps(result))
        return
    print("| rows | step | ours | scikit-learn | speed-up |")
    print("|---|---|---|---|---|")
    for n in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            db = str(Path(tmp) / "bench.duckdb")
            run_side("prepare", n, args.repeat, db)
            loaded = run_side("load", n, args.repeat, db)
            Path(tmp, "capped.duckdb.parquet").symlink_to(db + ".parquet")
            loaded_capped = run_side("load", n, args.repeat, str(Path(tmp) / "capped.duckdb"), CAP)
            a = run_side("page", n, args.repeat, db)
            built = run_side("build", n, args.repeat, db)
            capped = run_side("build", n, args.repeat, db, CAP)
        b = run_side("sklearn", n, args.repeat)
        for key, label in [("first_load", "first page load (bin counts, PR curve, exact AP/AUC)"),
                           ("slider", "slider move (overall + 20 segments)"),
                           ("segment_curves", "PR curves for 20 segments")]:
            print(f"| {n:,} | {label} | {a[key] * 1e3:,.1f} ms | {b[key] * 1e3:,.1f} ms | {b[key] / a[key]:,.1f}x |")
        print(f"| {n:,} | peak memory: page process vs scikit-learn's | {a['peak_mb']:,.0f} MB | {b['peak_mb']:,.0f} MB | "
              f"{b['peak_mb'] / a['peak_mb']:.1f}x less |")
        for label, r in [("", built), (f", {MEMORY_LIMIT_ENV}={CAP}", capped)]:
            print(f"| {n:,} | summary build at ingest (bins from stored rows){label} | {r['build']:,.1f} s, "
                  f"{r['peak_mb']:,.0f} MB peak | {b['first_load']:,.1f} s, {b['peak_mb']:,.0f} MB (PR curve + AP) | |")
        for label, r in [("", loaded), (f", {MEMORY_LIMIT_ENV}={CAP}", loaded_capped)]:
            print(f"| {n:,} | one-off: ingest of the Parquet file (validation + bins){label} | "
                  f"{r['ingest']:,.1f} s, {r['peak_mb']:,.0f} MB peak | | |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
