"""Thresholds speed: our summary path vs scikit-learn on the same data, as ratios, in one run.

    python benchmarks/bench_thresholds.py --rows 1000000 10000000 [50000000] [--kinds float64 rare] [--quick]

Scores are realistic by default (continuous float64 and float32, a skewed rare-event model); the
rounded case (<= 10,001 distinct scores) is a labelled extra row, not the headline.

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


KINDS = {
    "float64": "continuous float64 scores (a distinct value per row)",
    "float32": "continuous float32 scores (~16M distinct values at most)",
    "rare": "skewed rare-event model: 0.5% positives, most scores near 0 (beta), float64",
    "rounded": "extra: scores rounded to 4 decimals (<= 10,001 distinct values; flattering)",
}
KIND = os.environ.get("BENCH_SCORE_KIND", "float64")


def data(n: int, seed: int = 0, kind: str = ""):
    """Scores as real models give them (see KINDS); the rounded case only as a labelled extra."""
    kind = kind or KIND
    rng = np.random.default_rng(seed)
    segment = rng.integers(0, SEGMENTS, n).astype(np.int8)
    if kind == "rare":
        labels = (rng.random(n) < 0.005).astype(np.int8)
        scores = np.where(labels == 1, rng.beta(2, 5, n), rng.beta(0.3, 12, n))
        return scores, labels, segment
    labels = (rng.random(n) < 0.05).astype(np.int8)
    scores = np.clip(rng.normal(0.3 + 0.3 * labels, 0.15), 0, 1)
    if kind == "float32":
        scores = scores.astype(np.float32)
    elif kind == "rounded":
        scores = scores.round(4)
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


def report_side(n: int, repeat: int, db: str) -> dict:
    """`report thresholds --by seg` as the CLI runs it (exact counts at the typed threshold from the
    raw rows, exact AP/AUC overall and per segment), on a read-only connection."""
    import argparse as ap

    from dashboard.services import thresholds as th
    from dashboard.store.connection import connect

    con = connect(db, read_only=True)
    args = ap.Namespace(model="m", threshold=0.4321, precision_floor=None, guaranteed=False, by="seg",
                        date_from=None, date_to=None)
    t_cold = timed(lambda: th.report(con, args), 1)
    return {"report": timed(lambda: th.report(con, args), repeat), "report_cold": t_cold,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def script_side(n: int, repeat: int, db: str) -> dict:
    """The scikit-learn script a user would write instead: from the same Parquet file, the PR curve,
    AP, ROC AUC and the confusion counts of 20 segments at the threshold."""
    import pyarrow.parquet as pq
    from sklearn.metrics import average_precision_score, confusion_matrix, precision_recall_curve, roc_auc_score

    def script():
        t = pq.read_table(db + ".parquet", columns=["score", "label", "seg"])
        y, s = t["label"].to_numpy(), t["score"].to_numpy()
        seg = t["seg"].combine_chunks().dictionary_encode().indices.to_numpy()  # small ints, cheap masks
        precision_recall_curve(y, s), average_precision_score(y, s), roc_auc_score(y, s)
        flagged = s >= 0.4321
        for value in np.unique(seg):
            m = seg == value
            confusion_matrix(y[m], flagged[m], labels=[0, 1])

    return {"script": timed(script, max(1, repeat // 2)),
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


def run_side(side: str, n: int, repeat: int, db: str = "", cap: str = "", kind: str = "float64") -> dict:
    env = {k: v for k, v in os.environ.items() if k != MEMORY_LIMIT_ENV}
    env["BENCH_SCORE_KIND"] = kind
    if cap:
        env[MEMORY_LIMIT_ENV] = cap
    out = subprocess.run([sys.executable, __file__, "--side", side, "--rows", str(n), "--repeat", str(repeat),
                          "--db", db], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", choices=["prepare", "load", "build", "page", "sklearn", "report", "script"])
    parser.add_argument("--kinds", nargs="+", default=["float64", "float32", "rare", "rounded"], choices=list(KINDS))
    parser.add_argument("--quick", action="store_true", help="page and report vs scikit-learn only (no capped "
                        "runs, no separate build)")
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    if args.side:
        n = args.rows[0]
        result = {"prepare": lambda: prepare(n, args.db), "load": lambda: load(n, args.db), "build": lambda: build(n, args.repeat, args.db),
                  "page": lambda: page(n, args.repeat, args.db),
                  "sklearn": lambda: sklearn_side(n, args.repeat),
                  "report": lambda: report_side(n, args.repeat, args.db),
                  "script": lambda: script_side(n, args.repeat, args.db)}[args.side]()
        print(json.dumps(result))
        return
    print("| rows | scores | step | ours | scikit-learn | ours / scikit-learn |")
    print("|---|---|---|---|---|---|")
    for n in args.rows:
        for kind in args.kinds:
            measure(n, kind, args.repeat, args.quick)


def measure(n: int, kind: str, repeat: int, quick: bool) -> None:
    def side(name, db="", cap=""):
        return run_side(name, n, repeat, db, cap, kind)

    def row(label, ours, theirs, unit="ms"):
        scale = 1e3 if unit == "ms" else 1.0
        print(f"| {n:,} | {kind} | {label} | {ours * scale:,.1f} {unit} | {theirs * scale:,.1f} {unit} | "
              f"{ours / theirs:.2f}x |")

    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        side("prepare", db)
        loaded = side("load", db)
        a = side("page", db)
        r = side("report", db)
        script = side("script", db)
        if not quick:
            Path(tmp, "capped.duckdb.parquet").symlink_to(db + ".parquet")
            loaded_capped = side("load", str(Path(tmp) / "capped.duckdb"), CAP)
            built = side("build", db)
            capped = side("build", db, CAP)
    b = side("sklearn")
    row("`report thresholds --by seg` (exact counts, AP, AUC; first call) vs the scikit-learn script "
        "(PR curve, AP, AUC, 20 segment confusion counts from the Parquet file)", r["report_cold"], script["script"], "s")
    row("the same, median of repeats", r["report"], script["script"], "s")
    for key, label in [("first_load", "first page load (bin counts, PR curve, exact AP/AUC) vs PR curve + AP"),
                       ("slider", "slider move (overall + 20 segments) vs one confusion matrix"),
                       ("segment_curves", "PR curves for 20 segments")]:
        row(label, a[key], b[key])
    print(f"| {n:,} | {kind} | peak memory: page process vs scikit-learn's | {a['peak_mb']:,.0f} MB | "
          f"{b['peak_mb']:,.0f} MB | {a['peak_mb'] / b['peak_mb']:.2f}x |")
    print(f"| {n:,} | {kind} | one-off: ingest of the Parquet file (validation, bins, exact AP/AUC table) | "
          f"{loaded['ingest']:,.1f} s, {loaded['peak_mb']:,.0f} MB peak | | |")
    if not quick:
        for label, res in [("", built), (f", {MEMORY_LIMIT_ENV}={CAP}", capped)]:
            print(f"| {n:,} | {kind} | summary build at ingest (bins + exact AP/AUC table){label} | "
                  f"{res['build']:,.1f} s, {res['peak_mb']:,.0f} MB peak | | |")
        print(f"| {n:,} | {kind} | one-off ingest, {MEMORY_LIMIT_ENV}={CAP} | {loaded_capped['ingest']:,.1f} s, "
              f"{loaded_capped['peak_mb']:,.0f} MB peak | | |")
    sys.stdout.flush()

if __name__ == "__main__":
    main()
