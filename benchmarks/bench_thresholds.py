"""Thresholds speed: our summary path vs scikit-learn on the same data, as ratios, in one run.

    python benchmarks/bench_thresholds.py --rows 1000000 10000000 [50000000]

For each size: generate scores/labels/20 segments, then time
- first curve load: building the 10,000-bin counts in DuckDB (what ingest does) and the PR curve
  from them, vs sklearn.precision_recall_curve + average_precision_score on the raw arrays;
- slider move: the operating point plus all 20 segments' confusion counts from the cached bins,
  vs sklearn.confusion_matrix on the raw arrays at one threshold;
- per-segment curves for 20 segments from the bins vs looping sklearn per segment;
- peak memory of each side (separate processes, ru_maxrss).
Timings are medians of repeats; never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

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


def ours(n: int, repeat: int) -> dict:
    import duckdb
    import pyarrow as pa

    from dashboard.metrics import classification as clf
    from dashboard.metrics.binning import N_BINS

    scores, labels, segment = data(n)
    con = duckdb.connect()
    con.register("raw", pa.table({"score": scores, "label": labels, "seg": segment}))
    con.execute("CREATE TABLE p AS SELECT * FROM raw")
    del scores, labels, segment
    width = 1.0 / N_BINS
    sql = f"""
        WITH b0 AS (SELECT seg, label, score, least({N_BINS}.0, floor(score / {width})) AS b FROM p),
        b AS (SELECT seg, label, CAST(least({N_BINS}.0, b - CAST(score < b * {width} AS INT)
                                + CAST(score >= (b + 1) * {width} AS INT)) AS INT) AS bin FROM b0)
        SELECT coalesce(seg, {SEGMENTS}) AS seg, bin, count(*) FILTER (WHERE label = 1), count(*) FILTER (WHERE label = 0)
        FROM b GROUP BY GROUPING SETS ((seg, bin), (bin))"""

    state = {}

    def first_load():
        rows = con.execute(sql).fetchnumpy()
        keys = list(rows)
        pos = np.zeros((SEGMENTS + 1, N_BINS + 1))
        neg = np.zeros((SEGMENTS + 1, N_BINS + 1))
        seg = np.asarray(rows["seg"], dtype=int)  # the GROUPING SETS total row is segment SEGMENTS
        np.add.at(pos, (seg, rows["bin"]), rows[keys[2]])
        np.add.at(neg, (seg, rows["bin"]), rows[keys[3]])
        state["pos"], state["neg"] = pos, neg
        c = clf.cumulate(pos[SEGMENTS], neg[SEGMENTS])
        clf.precision(c), clf.recall(c), clf.binned_average_precision(pos[SEGMENTS], neg[SEGMENTS])

    t_first = timed(first_load, max(1, repeat // 2))
    cums = [clf.cumulate(state["pos"][s], state["neg"][s]) for s in range(SEGMENTS + 1)]

    def slider():
        i = 4321
        return [clf.operating_point(c, i) for c in cums]

    def segment_curves():
        for s in range(SEGMENTS):
            c = clf.cumulate(state["pos"][s], state["neg"][s])
            clf.precision(c), clf.recall(c)

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


def run_side(side: str, n: int, repeat: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--side", side, "--rows", str(n), "--repeat", str(repeat)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", choices=["ours", "sklearn"])
    args = parser.parse_args()
    if args.side:
        fn = ours if args.side == "ours" else sklearn_side
        print(json.dumps(fn(args.rows[0], args.repeat)))
        return
    print("| rows | step | ours | scikit-learn | speed-up |")
    print("|---|---|---|---|---|")
    for n in args.rows:
        a, b = run_side("ours", n, args.repeat), run_side("sklearn", n, args.repeat)
        for key, label in [("first_load", "first curve load (bins + PR curve + AP)"),
                           ("slider", "slider move (overall + 20 segments)"),
                           ("segment_curves", "PR curves for 20 segments")]:
            print(f"| {n:,} | {label} | {a[key] * 1e3:,.1f} ms | {b[key] * 1e3:,.1f} ms | {b[key] / a[key]:,.1f}x |")
        print(f"| {n:,} | peak memory | {a['peak_mb']:,.0f} MB | {b['peak_mb']:,.0f} MB | {b['peak_mb'] / a['peak_mb']:.1f}x less |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
