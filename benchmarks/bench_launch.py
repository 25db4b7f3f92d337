"""Speed of the launch review and the `check` gates against the obvious peer, in one run.

    .venv/bin/python benchmarks/bench_launch.py [--rows 2000000] [--queries 5000] [--repeat 5]

Builds a synthetic database through the normal ingest path, then times (median of --repeat):
- a classification gate (recall at 95% precision, overall + 3 segments) from `prediction_bins`,
  against scikit-learn's precision_recall_curve on the raw scores pulled from DuckDB;
- a ranking gate (NDCG@10 per query, two models, paired) computed in DuckDB, against pytrec_eval
  on the run pulled into Python dicts;
- a launch review (6 metrics x 3 slices, SRM, BH, tree, decision) from stored sufficient
  statistics in DuckDB, against scipy's Welch test on raw per-user values already in memory for
  the same 18 comparisons (what you would do without the statistics, minus reading the users).
Prints a table with each ratio peer / ours.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.gates import evaluate, parse_gates  # noqa: E402
from dashboard.services.experiments import experiment_report  # noqa: E402
from dashboard.store.connection import connect  # noqa: E402
from dashboard.store.ingest import ingest_file  # noqa: E402


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def build(d: Path, rows: int, queries: int, users: int) -> tuple[Path, dict]:
    rng = np.random.default_rng(0)
    db = d / "bench.duckdb"
    y = rng.binomial(1, 0.05, rows)
    seg = rng.choice(np.array(["de", "fr", "us"]), rows)
    frames = [pd.DataFrame({"model": m, "score": np.clip(rng.normal(0.3 + s * y, 0.15), 0, 1),
                            "label": y, "country": seg}) for m, s in (("v1", 0.4), ("v2", 0.38))]
    pd.concat(frames).to_parquet(d / "predictions.parquet", index=False)
    ingest_file(db, "predictions", d / "predictions.parquet")
    run, qrels = [], []
    for q in range(queries):
        rel = rng.choice([0, 0, 0, 1, 2, 3], 50)
        for i in range(50):
            if rel[i] or rng.uniform() < 0.3:
                qrels.append((f"q{q}", f"d{i}", int(rel[i])))
        for m, noise in (("s2", 1.5), ("s3", 1.4)):
            for i, s in enumerate(rel + rng.normal(0, noise, 50)):
                run.append((m, f"q{q}", f"d{i}", float(s)))
    pd.DataFrame(qrels, columns=["query_id", "item_id", "relevance"]).to_parquet(d / "qrels.parquet", index=False)
    pd.DataFrame(run, columns=["model", "query_id", "item_id", "score"]).to_parquet(d / "run.parquet", index=False)
    ingest_file(db, "qrels", d / "qrels.parquet")
    ingest_file(db, "run", d / "run.parquet")
    raw: dict = {}
    results = []
    for tier in ("", "free", "premium"):
        for metric in ("retention_7d", "revenue_per_user", "ctr", "latency_ms", "session_length", "task_success"):
            for variant in ("control", "treatment"):
                x = rng.exponential(1.0, users)
                raw[(tier, metric, variant)] = x
                results.append({"experiment_id": "B1", "variant": variant, "metric": metric, "n": users,
                                "sum": float(x.sum()), "sum_sq": float((x * x).sum()), "user_tier": tier})
    pd.DataFrame(results).to_csv(d / "results.csv", index=False)
    ingest_file(db, "results", d / "results.csv")
    return db, raw


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000, help="prediction rows per model")
    ap.add_argument("--queries", type=int, default=5_000)
    ap.add_argument("--users", type=int, default=200_000, help="users per variant (raw peer only)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import pytrec_eval
    from scipy import stats
    from sklearn.metrics import precision_recall_curve

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        db, raw = build(Path(tmp), args.rows, args.queries, args.users)
        print(f"built {db.name} in {time.perf_counter() - t0:.1f} s "
              f"({args.rows:,} predictions per model, {args.queries:,} queries x 50 items x 2 models)")
        con = connect(db, read_only=True)
        cls_gate = parse_gates("gates:\n- {metric: recall@precision>=0.95, baseline: v1, candidate: v2, "
                               "max_drop: 0.01, segments: all}\n")[0]
        rank_gate = parse_gates("gates:\n- {metric: ndcg@10, baseline: s2, candidate: s3, "
                                "no_significant_drop: true}\n")[0]

        def sklearn_peer():
            for model in ("v1", "v2"):
                df = con.execute("SELECT score, label, country FROM predictions WHERE model = ?", [model]).df()
                for part in [df] + [g for _, g in df.groupby("country")]:
                    p, r, _ = precision_recall_curve(part.label, part.score)
                    r[p >= 0.95].max()

        def trec_peer():
            qrel: dict = {}
            for q, i, r in con.execute("SELECT query_id, item_id, relevance FROM qrels").fetchall():
                qrel.setdefault(q, {})[i] = r
            ev = pytrec_eval.RelevanceEvaluator(qrel, {"ndcg_cut_10"})
            vals = {}
            for model in ("s2", "s3"):
                run: dict = {}
                for q, i, s in con.execute("SELECT query_id, item_id, score FROM rankings WHERE model = ?",
                                           [model]).fetchall():
                    run.setdefault(q, {})[i] = s
                vals[model] = ev.evaluate(run)
            qs = sorted(vals["s2"])
            stats.ttest_rel([vals["s3"][q]["ndcg_cut_10"] for q in qs], [vals["s2"][q]["ndcg_cut_10"] for q in qs])

        def scipy_peer():  # the same 18 comparisons, raw values already in memory
            for tier, metric, variant in raw:
                if variant == "control":
                    stats.ttest_ind(raw[(tier, metric, "treatment")], raw[(tier, metric, "control")],
                                    equal_var=False)

        rows = [
            ("classification gate (recall@p95, 4 slices)", lambda: evaluate(con, cls_gate), sklearn_peer,
             "sklearn on raw scores"),
            ("ranking gate (NDCG@10 paired)", lambda: evaluate(con, rank_gate), trec_peer, "pytrec_eval + ttest_rel"),
            ("launch review (6 metrics, 3 slices, decision)", lambda: experiment_report(con, "B1"), scipy_peer,
             "scipy Welch on raw users in memory, same 18 tests"),
        ]
        print(f"\n| work | ours (s) | peer | peer (s) | peer / ours |\n|---|---|---|---|---|")
        for name, ours, peer, peer_name in rows:
            a, b = timed(ours, args.repeat), timed(peer, args.repeat)
            print(f"| {name} | {a:.3f} | {peer_name} | {b:.3f} | {b / a:.1f}x |")
        con.close()


if __name__ == "__main__":
    main()
