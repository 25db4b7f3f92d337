"""The summary stage at lake scale: build time and peak memory, on DuckDB and Spark local mode, and
the dashboard's interaction times on the result against the same interactions on a small case.

    .venv/bin/python benchmarks/bench_lake.py [--rows 100000000] [--queries 1000000] [--spark-rows 10000000]

Writes hive-partitioned Parquet (predictions by day: 2 models, 3 segment columns; rankings by shard:
`--queries` x 20 items x 2 models, with qrels and query segments) under --dir, then runs
`python -m dashboard summarize` as a child process per stage, sampling the resident memory of the
whole process tree (Python, DuckDB's threads, Spark's JVM). Peer in the same run: the ingest path
(load the raw rows into DuckDB, then build the summaries there) at the Spark subset size, and each
engine against itself at 1/10 of the rows, to show how cost grows with rows.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dashboard.services import ranking as ranking_svc  # noqa: E402
from dashboard.services import thresholds as thr  # noqa: E402
from dashboard.store.connection import connect  # noqa: E402


def write_predictions(root: Path, rows: int, days: int = 30) -> Path:
    out = root / f"preds_{rows}"
    if out.exists():
        return out
    con = duckdb.connect()
    con.execute(f"""COPY (
        SELECT CASE WHEN i % 2 = 0 THEN 'fraud-v1' ELSE 'fraud-v2' END AS model,
               least(1.0, greatest(0.0, round(0.3 * (hash(i) % 2 = 0 AND random() < 0.1)::INT + random() * 0.7, 4))) AS score,
               CASE WHEN random() < 0.02 THEN NULL ELSE (random() < 0.05)::INT END AS label,
               TIMESTAMP '2026-10-01' + to_seconds(CAST((i % {days}) * 86400 + hash(i) % 86400 AS BIGINT)) AS ts,
               ['US','DE','BR','IN','FR'][1 + (hash(i * 7) % 5)::INT] AS country,
               ['ios','android','web'][1 + (hash(i * 13) % 3)::INT] AS device,
               ['free','pro','enterprise'][1 + (hash(i * 17) % 3)::INT] AS tier,
               DATE '2026-10-01' + CAST(i % {days} AS INTEGER) AS day
        FROM range({rows}) t(i)) TO '{out}' (FORMAT parquet, PARTITION_BY (day))""")
    return out


def write_rankings(root: Path, queries: int, items: int = 20, shards: int = 10) -> dict[str, Path]:
    out = {"runs": root / f"runs_{queries}", "qrels": root / f"qrels_{queries}.parquet",
           "queries": root / f"queries_{queries}.parquet"}
    if out["runs"].exists():
        return out
    con = duckdb.connect()
    con.execute(f"""CREATE TEMP TABLE pairs AS
        SELECT 'q' || q AS query_id, 'd' || ((q * 7919 + j * 104729) % 200000) AS item_id, q, j,
               (hash(q * 131 + j) % 10)::INT AS r
        FROM range({queries}) a(q), range({items}) b(j)""")
    con.execute(f"""COPY (SELECT m.model, query_id, item_id, round(r * 0.3 + random() * 3, 2) AS score,
                                 q % {shards} AS shard
                          FROM pairs, (VALUES ('search-v1'), ('search-v2')) m(model))
                    TO '{out['runs']}' (FORMAT parquet, PARTITION_BY (shard))""")
    con.execute(f"""COPY (SELECT query_id, item_id, greatest(r - 5, 0) AS relevance FROM pairs WHERE j % 2 = 0)
                    TO '{out['qrels']}' (FORMAT parquet)""")
    con.execute(f"""COPY (SELECT DISTINCT query_id, ['head','torso','tail'][1 + (hash(q) % 3)::INT] AS frequency,
                                 ['en','de','fr','es'][1 + (hash(q * 3) % 4)::INT] AS locale FROM pairs)
                    TO '{out['queries']}' (FORMAT parquet)""")
    return out


def subset(src: Path, dest: Path, days: int) -> Path:
    """The first `days` day partitions of a predictions directory."""
    if not dest.exists():
        dest.mkdir(parents=True)
        for p in sorted(src.iterdir())[:days]:
            shutil.copytree(p, dest / p.name)
    return dest


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its descendants."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack += children.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run_measured(args: list[str]) -> tuple[float, int]:
    """Seconds and peak tree memory of `python -m dashboard <args>`."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.2)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, _ = proc.communicate()
    t.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"dashboard {' '.join(args)} failed:\n{out[-3000:]}")
    return seconds, peak[0]


def interactions(db: Path, repeat: int = 20) -> dict[str, float]:
    """Milliseconds (median) of what a slider move and a ranking re-split cost on the summaries."""
    con = connect(db, read_only=True)
    try:
        counts = thr.counts(con, "fraud-v2", thr.Filter(), "country")

        def slider():
            for i in (1000, 5000, 9000):
                thr.clf.operating_point(thr.cumulative(counts.overall), i)
                thr.segment_rows(counts, i)

        def resplit():
            ranking_svc.per_query(con, "search-v2", 5, "linear", "locale")
        out = {}
        for name, fn in (("load model counts", lambda: thr.counts(con, "fraud-v2", thr.Filter(), "country")),
                         ("slider move (3 thresholds)", slider), ("ranking re-split", resplit)):
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            out[name] = statistics.median(times) * 1000
        return out
    finally:
        con.close()


def summarize_all(db: Path, preds: Path, ranks: dict[str, Path] | None, engine: str) -> dict[str, tuple[float, int]]:
    res = {"predictions": run_measured(["summarize", "predictions", "--source", str(preds), "--db", str(db),
                                        "--engine", engine, "--score-range", "0", "1"])}
    if ranks:
        res["rankings"] = run_measured(["summarize", "rankings", "--source", str(ranks["runs"]),
                                        "--qrels", str(ranks["qrels"]), "--queries", str(ranks["queries"]),
                                        "--db", str(db), "--engine", engine])
    return res


def ingest_path(db: Path, preds: Path) -> tuple[float, int]:
    """The peer: load the raw rows into DuckDB through `ingest`, which builds the same bins."""
    flat = preds.parent / (preds.name + ".flat.parquet")
    if not flat.exists():
        duckdb.connect().execute(f"COPY (SELECT * EXCLUDE (day) FROM read_parquet('{preds}/**/*.parquet', "
                                 f"hive_partitioning = true)) TO '{flat}' (FORMAT parquet)")
    return run_measured(["ingest", "predictions", str(flat), "--db", str(db)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--queries", type=int, default=500_000, help="x 20 items x 2 models = ranking rows")
    ap.add_argument("--spark-rows", type=int, default=10_000_000)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "dashboard-bench-lake")
    ap.add_argument("--no-spark", action="store_true")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"writing data under {args.dir} ...", flush=True)
    big = write_predictions(args.dir, args.rows)
    small_days = 3  # 30 days: 1/10 of the rows
    small = subset(big, args.dir / f"preds_{args.rows}_first{small_days}", small_days)
    ranks = write_rankings(args.dir, args.queries)
    spark_src = subset(big, args.dir / f"preds_{args.rows}_spark",
                       max(1, round(30 * args.spark_rows / args.rows)))
    rows = []

    def stage(label, n, secs_peak):
        rows.append((label, n, *secs_peak))
        print(f"  {label:<48} {n:>13,} rows {secs_peak[0]:8.1f} s  peak {secs_peak[1] / 2**30:5.2f} GB", flush=True)

    dbs = args.dir / "dbs"
    shutil.rmtree(dbs, ignore_errors=True)
    dbs.mkdir()
    big_res = summarize_all(dbs / "big.duckdb", big, ranks, "duckdb")
    stage("DuckDB: prediction_bins", args.rows, big_res["predictions"])
    stage("DuckDB: ranking_query_metrics + coverage", args.queries * 40, big_res["rankings"])
    stage("DuckDB: prediction_bins, 1/10 of the rows", args.rows // 10,
          summarize_all(dbs / "small.duckdb", small, None, "duckdb")["predictions"])
    n_spark = args.rows * len(list(spark_src.iterdir())) // 30
    small_ranks = write_rankings(args.dir, max(1, args.queries // 10))
    subset_res = summarize_all(dbs / "subset.duckdb", spark_src, small_ranks, "duckdb")
    stage("DuckDB: prediction_bins, Spark subset", n_spark, subset_res["predictions"])
    stage("DuckDB: ranking_query_metrics + coverage, 1/10", args.queries * 4, subset_res["rankings"])
    stage("ingest path (load raw + build), Spark subset", n_spark, ingest_path(dbs / "ingest.duckdb", spark_src))
    if not args.no_spark:
        stage("Spark local[2]: prediction_bins, Spark subset", n_spark,
              summarize_all(dbs / "spark.duckdb", spark_src, None, "spark")["predictions"])
    print("\ninteractions on the loaded summaries (median ms):")
    big_i, small_i = interactions(dbs / "big.duckdb"), interactions(dbs / "subset.duckdb")
    print(f"  {'':<30} {args.rows:>14,} rows {n_spark:>12,} rows   ratio  (ranking: {args.queries * 40:,} vs "
          f"{args.queries * 4:,} rows)")
    for name in big_i:
        print(f"  {name:<30} {big_i[name]:14.2f} {small_i[name]:17.2f}   {big_i[name] / small_i[name]:5.2f}")
    con = connect(dbs / "big.duckdb", read_only=True)
    sizes = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
             for t in ("prediction_bins", "ranking_query_metrics", "ranking_coverage")}
    con.close()
    print(f"\nsummary sizes: {sizes}; database file {os.path.getsize(dbs / 'big.duckdb') / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
