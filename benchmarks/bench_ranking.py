"""Ranking speed: our per-query summary build vs dense numpy and scikit-learn, in one run.

    python benchmarks/bench_ranking.py --queries 1000000 --items 20

Times (median of repeats):
- ours: DuckDB building `ranking_query_metrics` from raw rows (NDCG/DCG linear+exp, recall, hit,
  precision at k = 1, 3, 5, 10, 20, plus RR and AP: 77 numbers per query), exactly as at ingest,
  from a scored run + separate qrels (join, sort) and from a logged ranking (the same lists with
  position and relevance in each row: one GROUP BY);
- the logged rows' NDCG@10, MRR and recall@10 by segment alone (one GROUP BY, three metrics: what
  the dense baseline computes, not what the product stores);
- dense numpy: NDCG@10, MRR and recall@10 on a queries x items matrix (trec tie-break), the
  fastest single-machine baseline;
- scikit-learn ndcg_score(k=10) on the same matrix (NDCG only; sklearn averages over ties);
- pandas from the same raw tables ours reads (string ids, separate judgements): join, sort, rank,
  NDCG@10, MRR, recall@10 (the dense baseline is handed pre-aligned integer matrices instead);
- a re-split: means by another segment and k read from the cached per-query table;
- the per-query table's size and build time with the default cutoffs (1, 3, 5, 10, 20, 100, 1000)
  against the old five (1, 3, 5, 10, 20), at every relevance level of grades 0-4;
- `--trec`: the same lists as TREC files (run `qid Q0 docno rank score tag`, qrels `qid 0 docno
  rel`), ours (`ingest` qrels + run into a new database, then the first `report ranking`, and
  re-splits by segment, k and level with two models loaded, which read the per-segment sums stored
  at load, and the page's coverage column, grouped at load) beside pytrec_eval (parse both files
  + evaluate the same measures per query, bpref included), in wall time and in CPU (every thread,
  user + system); then as a user runs them: three `python -m dashboard` processes against one
  Python process running pytrec_eval, start-up included.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from dashboard.store import ranking_logged
from dashboard.store.ranking_summary import (DEFAULT_CUTOFFS, DEFAULT_LEVELS, LEVELS_ENV, build_ranking_summary,
                                             build_sql, segment_column, stored_levels)

OLD_CUTOFFS = (1, 3, 5, 10, 20)


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def make(q: int, m: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    rel = rng.choice(5, size=(q, m), p=[.6, .2, .1, .06, .04]).astype(np.int8)
    score = np.round(rel * 0.3 + rng.normal(0, 1, (q, m)), 2)
    item = np.tile(np.arange(m), (q, 1))
    return rel, score, item


def dense_numpy(rel, score, item, k=10):
    order = np.lexsort((-item, -score))  # last key first: score desc, then item id desc
    ranked = np.take_along_axis(rel, order, axis=1)
    disc = 1 / np.log2(np.arange(2, k + 2))
    dcg = (ranked[:, :k] * disc).sum(1)
    ideal = -np.sort(-rel, axis=1)[:, :k]
    idcg = (ideal * disc).sum(1)
    ndcg = np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)
    relevant = ranked >= 1
    first = np.where(relevant.any(1), relevant.argmax(1) + 1, np.inf)
    rr = 1 / first
    n_rel = (rel >= 1).sum(1)
    recall = np.divide(relevant[:, :k].sum(1), n_rel, out=np.zeros(len(rel)), where=n_rel > 0)
    return ndcg.mean(), rr.mean(), recall.mean()


def pandas_from_raw(run, qrels, k=10):
    """The same three metrics from the same raw tables ours reads: join, sort (trec tie-break on
    the string ids), rank, aggregate. What a team writes without a dense matrix."""
    j = run.merge(qrels, on=["query_id", "item_id"], how="left")
    j["rel"] = j["relevance"].fillna(0).clip(lower=0)
    j = j.sort_values(["model", "query_id", "score", "item_id"], ascending=[True, True, False, False])
    j["rank"] = j.groupby(["model", "query_id"], sort=False).cumcount() + 1
    j["dcg"] = np.where(j["rank"] <= k, j["rel"] / np.log2(j["rank"] + 1), 0.0)
    j["rr"] = np.where(j["rel"] >= 1, 1.0 / j["rank"], 0.0)
    j["hit"] = (j["rel"] >= 1) & (j["rank"] <= k)
    per_query = j.groupby(["model", "query_id"], sort=False).agg(dcg=("dcg", "sum"), rr=("rr", "max"), hits=("hit", "sum"))
    ideal = qrels[qrels["relevance"] > 0].sort_values(["query_id", "relevance"], ascending=[True, False])
    ideal["irank"] = ideal.groupby("query_id", sort=False).cumcount() + 1
    ideal["g"] = np.where(ideal["irank"] <= k, ideal["relevance"] / np.log2(ideal["irank"] + 1), 0.0)
    ideal = ideal.groupby("query_id").agg(idcg=("g", "sum"), n_rel=("g", "size"))
    m = per_query.join(ideal, on="query_id")
    ndcg = np.where(m["idcg"] > 0, m["dcg"] / m["idcg"], 0.0)
    recall = np.where(m["n_rel"] > 0, m["hits"] / m["n_rel"], 0.0)
    return ndcg.mean(), m["rr"].mean(), recall.mean()


def logged_store(con, rel, score, item):
    """The same lists as a logged ranking: each row carries its served position and judgement."""
    q, m = rel.shape
    # trec order on the string ids ("d9" > "d10"), so both of our forms hold the same lists
    string_rank = np.argsort(np.argsort(np.char.add("d", np.arange(m).astype(str))))
    order = np.lexsort((-string_rank[item], -score))
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.broadcast_to(np.arange(1, m + 1), (q, m)), axis=1)
    qid = np.repeat(np.arange(q), m).astype(str)
    logged = duckdb.connect()
    logged.register("l", pa.table({"model": np.full(q * m, "a"), "query_id": qid,
                                   "item_id": np.char.add("d", item.ravel().astype(str)), "score": score.ravel(),
                                   "position": position.ravel().astype(np.int64),
                                   "relevance": rel.ravel().astype(np.int64)}))
    logged.execute("CREATE TABLE rankings AS SELECT * FROM l")
    logged.register("s", con.sql("SELECT * FROM queries").to_arrow_table())
    logged.execute("CREATE TABLE queries AS SELECT * FROM s")
    logged.execute("CREATE TABLE segment_columns AS SELECT 'queries' AS table_name, unnest(['locale', 'tier']) AS column_name")
    return logged


def three_metrics_by_segment(logged):
    """NDCG@10 (ideal from grade counts, as the product's logged build), MRR, recall@10 by locale."""
    grades = [1, 2, 3, 4]
    counts = ", ".join(f"count(*) FILTER (WHERE relevance >= {g}) AS at_least_{j}" for j, g in enumerate(grades))
    return logged.execute(f"""
        WITH per_query AS (
            SELECT query_id,
                   sum(relevance / log2(position + 1)) FILTER (WHERE position <= 10) AS dcg,
                   min(position) FILTER (WHERE relevance >= 1) AS first_rel,
                   count(*) FILTER (WHERE relevance >= 1 AND position <= 10) AS relret, {counts}
            FROM rankings GROUP BY query_id)
        SELECT s.locale,
               avg(CASE WHEN at_least_0 > 0 THEN dcg / ({ranking_logged._ideal(grades, 10, "lin")}) ELSE 0 END),
               avg(coalesce(1 / first_rel, 0)), avg(CASE WHEN at_least_0 > 0 THEN relret / at_least_0 ELSE 0 END),
               count(*)
        FROM per_query JOIN queries s USING (query_id) GROUP BY s.locale""").fetchall()


def check_logged(con, logged):
    """Both forms of the same lists give the same table (the oracle tests are in tests/)."""
    cols = "avg(ndcg_lin_10), avg(ndcg_exp_5), avg(rr), avg(ap), avg(recall_20)"
    a = con.execute(f"SELECT {cols} FROM ranking_query_metrics").fetchone()
    b = logged.execute(f"SELECT {cols} FROM ranking_query_metrics").fetchone()
    assert np.allclose(a, b, rtol=0, atol=1e-9), (a, b)


def table_size(con) -> tuple[int, int, float]:
    """(rows, columns, MB of the per-query table written alone to a DuckDB file)."""
    rows = con.execute("SELECT count(*) FROM ranking_query_metrics").fetchone()[0]
    cols = len(con.execute("SELECT * FROM ranking_query_metrics LIMIT 0").description)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.duckdb"
        con.execute(f"ATTACH '{path}' AS sized")
        con.execute("CREATE TABLE sized.t AS SELECT * FROM ranking_query_metrics")
        con.execute("DETACH sized")
        return rows, cols, path.stat().st_size / 1e6


def cutoff_cost(con, repeat: int) -> list[tuple[str, float, int, int, float]]:
    """Build time and table size: the old five cutoffs vs the default seven, levels of grades 0-4."""
    out = []
    for name, ks, lv in (("old: k 1,3,5,10,20, level 1", OLD_CUTOFFS, (1,)),
                         ("k 1,3,5,10,20,100,1000, level 1", DEFAULT_CUTOFFS, (1,)),
                         ("default: k 1,3,5,10,20,100,1000, levels 1 and 2", DEFAULT_CUTOFFS, DEFAULT_LEVELS),
                         ("k 1,3,5,10,20,100,1000, levels 1-4 (DASHBOARD_RANKING_LEVELS=1,2,3,4)", DEFAULT_CUTOFFS,
                          (1, 2, 3, 4))):
        sql = build_sql(["locale", "tier"], k_values=ks, levels=lv)
        seconds = timed(lambda: con.execute(sql), repeat)
        out.append((name, seconds, *table_size(con)))
    return out


def write_trec(rel, score, item, path: Path, tag: str = "a") -> tuple[Path, Path]:
    q, m = rel.shape
    qid = np.repeat(np.arange(q), m).astype(str)
    docs = np.char.add("d", item.ravel().astype(str))
    rank = np.tile(np.arange(1, m + 1), q).astype(str)
    lines = np.char.add(np.char.add(np.char.add(np.char.add(qid, " Q0 "), docs), " "), rank)
    lines = np.char.add(np.char.add(lines, " "), np.char.add(score.ravel().astype(str), f" {tag}"))
    (path / f"run_{tag}.trec" if tag != "a" else path / "run.trec").write_text("\n".join(lines.tolist()) + "\n")
    if tag != "a":
        return path / f"run_{tag}.trec", path / "qrels.trec"
    qlines = np.char.add(np.char.add(np.char.add(np.char.add(qid, " 0 "), docs), " "), rel.ravel().astype(str))
    (path / "qrels.trec").write_text("\n".join(qlines.tolist()) + "\n")
    return path / "run.trec", path / "qrels.trec"


PYTREC_MEASURES = {"ndcg_cut", "P", "recall", "map_cut", "recip_rank", "map", "Rprec", "bpref"}


def _queries_csv(q: int, path: Path) -> Path:
    rng = np.random.default_rng(1)
    locale, tier = rng.choice(["en", "de", "fr", "ja", "pt"], q), rng.choice(["free", "plus", "power"], q)
    rows = np.char.add(np.char.add(np.char.add(np.char.add(np.arange(q).astype(str), ","), locale), ","), tier)
    (path / "queries.csv").write_text("query_id,locale,tier\n" + "\n".join(rows.tolist()) + "\n")
    return path / "queries.csv"


def resplits(db: Path, rel, score, item, tmp: Path) -> list[tuple[str, float]]:
    """Re-splits as the page and `report ranking --by` do them, after a queries file (segments
    locale, tier) and a second model's run are loaded (median of 7 each)."""
    from dashboard.services import ranking as svc
    from dashboard.store.connection import connect
    from dashboard.store.ingest import ingest_file

    ingest_file(db, "queries", _queries_csv(rel.shape[0], tmp))
    rng = np.random.default_rng(2)
    run_b, _ = write_trec(rel, np.round(score + rng.normal(0, 0.5, score.shape), 2), item, tmp, tag="b")
    ingest_file(db, "run", run_b)
    con = connect(db, read_only=True)
    try:
        overall = svc.overall_summary(con, "b", 10, "linear", "a")
        out = [("ours: page re-split to another segment column (b vs a, by tier, overall given)",
                timed(lambda: svc.segment_table(con, "b", 10, "linear", "tier", "a", overall=overall), 7)),
               ("ours: CLI re-split: k = 100, level 2, by locale, b vs a (overall in the same pass)",
                timed(lambda: svc.segment_table(con, "b", 100, "linear", "locale", "a", level=2), 7)),
               ("ours: re-split of one model (k = 100, level 2, by tier)",
                timed(lambda: svc.segment_table(con, "b", 100, "linear", "tier", level=2), 7)),
               ("ours: the page's coverage column by locale, every cutoff (grouped at load)",
                timed(lambda: svc.coverage_by_k(con, "b", "locale"), 7))]
    finally:
        con.close()
    return out


def _cpu() -> float:
    """CPU seconds of this process so far, every thread (DuckDB's too), user + system."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _process(cmd: list[str]) -> tuple[float, float]:
    """(CPU, wall) seconds of one child process, start-up and imports included."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[1])
    _, status, usage = os.wait4(proc.pid, 0)
    if status:
        raise RuntimeError(f"{cmd} failed: {proc.stderr.read().decode()[-2000:]}")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - start


PYTREC_PROCESS = """
import sys, pytrec_eval
with open(sys.argv[1]) as f: qrels = pytrec_eval.parse_qrel(f)
with open(sys.argv[2]) as f: run = pytrec_eval.parse_run(f)
pytrec_eval.RelevanceEvaluator(qrels, set(sys.argv[3].split(","))).evaluate(run)
"""


def cli_vs_pytrec(run_file: Path, qrels_file: Path, tmp: Path, repeat: int) -> list[tuple[str, float]]:
    """As a user runs them: three `python -m dashboard` processes (ingest qrels, ingest run into a
    new database, report ranking) against one Python process running pytrec_eval; CPU and wall
    of the processes, start-up included, interleaved (medians)."""
    ours, theirs = [], []
    for i in range(repeat):
        db = tmp / f"cli{i}.duckdb"
        parts = [_process([sys.executable, "-m", "dashboard", *cmd, "--db", str(db)])
                 for cmd in (["ingest", "qrels", str(qrels_file)], ["ingest", "run", str(run_file)],
                             ["report", "ranking", "--model", "a"])]
        ours.append((sum(p[0] for p in parts), sum(p[1] for p in parts)))
        os.remove(db)
        theirs.append(_process([sys.executable, "-c", PYTREC_PROCESS, str(qrels_file), str(run_file),
                                ",".join(sorted(PYTREC_MEASURES))]))
    cpu_o, wall_o = (statistics.median(x[i] for x in ours) for i in range(2))
    cpu_p, wall_p = (statistics.median(x[i] for x in theirs) for i in range(2))
    return [("CLI, ours: three processes (ingest qrels, ingest run, report ranking), wall", wall_o),
            ("CLI, pytrec_eval: one process (import, parse, evaluate), wall", wall_p),
            ("CLI, ours: CPU of the three processes", cpu_o), ("CLI, pytrec_eval: CPU of its process", cpu_p)]


def trec_vs_pytrec(rel, score, item, repeat: int) -> list[tuple[str, float]]:
    """Ours from TREC files (ingest + first report + a re-split) beside pytrec_eval (parse + evaluate)."""
    import pytrec_eval

    from dashboard.services import ranking as svc
    from dashboard.store.connection import connect
    from dashboard.store.ingest import ingest_file

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_file, qrels_file = write_trec(rel, score, item, tmp)
        rows = []

        def pytrec(measures):
            with open(qrels_file) as f:
                qrels = pytrec_eval.parse_qrel(f)
            with open(run_file) as f:
                run = pytrec_eval.parse_run(f)
            return pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)

        def ours():
            db = tmp / f"b{time.perf_counter_ns()}.duckdb"
            c0 = _cpu()
            t0 = time.perf_counter()
            ingest_file(db, "qrels", qrels_file)
            t1 = time.perf_counter()
            ingest_file(db, "run", run_file)
            t2 = time.perf_counter()
            con = connect(db, read_only=True)
            svc.segment_table(con, "a", 10, "linear")
            t3, c3 = time.perf_counter(), _cpu()
            resplit = timed(lambda: svc.segment_table(con, "a", 100, "linear", level=max(stored_levels(con))), 5)
            con.close()
            os.remove(db)
            return t1 - t0, t2 - t1, t3 - t2, resplit, c3 - c0

        def pytrec_cpu(measures):
            c0 = _cpu()
            pytrec(measures)
            return _cpu() - c0

        # interleaved, so machine load drifts over all three alike
        parts, level1, t_py, cpu_py = [], [], [], []
        for _ in range(repeat):
            parts.append(ours())
            os.environ[LEVELS_ENV] = "1"  # binary measures at level 1 only, as pytrec_eval computes them
            try:
                level1.append(ours())
            finally:
                del os.environ[LEVELS_ENV]
            start = time.perf_counter()
            cpu_py.append(pytrec_cpu(PYTREC_MEASURES))
            t_py.append(time.perf_counter() - start)
        qrels_s, run_s, report_s, resplit_s, cpu_ours = (statistics.median(p[i] for p in parts) for i in range(5))
        l1_s = statistics.median(sum(p[:3]) for p in level1)
        t_py, cpu_py = statistics.median(t_py), statistics.median(cpu_py)
        db = tmp / "resplit.duckdb"
        ingest_file(db, "qrels", qrels_file)
        ingest_file(db, "run", run_file)

        t_py3 = timed(lambda: pytrec({"ndcg_cut_10", "recip_rank", "recall_10"}), repeat)
        rows.append((f"ours (default: levels 1 and 2): ingest qrels {qrels_s:.2f} s + run {run_s:.2f} s + first "
                     f"report {report_s:.2f} s",
                     qrels_s + run_s + report_s))
        rows.append(("ours with binary measures at level 1 only, as pytrec_eval (DASHBOARD_RANKING_LEVELS=1): "
                     "ingest + first report", l1_s))
        rows.append(("pytrec_eval: parse both files + evaluate ndcg_cut, P, recall, map_cut (k 5..1000), "
                     "recip_rank, map, Rprec, bpref", t_py))
        rows.append(("pytrec_eval: parse + evaluate ndcg_cut_10, recip_rank, recall_10 only", t_py3))
        rows.append(("CPU (user + system, every thread), ours default: ingest qrels + run + first report", cpu_ours))
        rows.append(("CPU, pytrec_eval: parse both files + evaluate the full measures", cpu_py))
        rows.append(("ours: a re-split of one model, no segments (k = 100, level 2)", resplit_s))
        rows += resplits(db, rel, score, item, tmp)
        rows += cli_vs_pytrec(run_file, qrels_file, tmp, repeat)
        return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trec", action="store_true", help="only the TREC files: ours vs pytrec_eval")
    args = parser.parse_args()
    q, m = args.queries, args.items
    if args.trec:
        rel, score, item = make(q, m)
        print(f"| work ({q:,} queries x {m} items, TREC files) | time |")
        print("|---|---|")
        rows = trec_vs_pytrec(rel, score, item, args.repeat)
        for name, seconds in rows:
            print(f"| {name} | {seconds * 1e3:.0f} ms |" if seconds < 1 else f"| {name} | {seconds:.2f} s |")
        print(f"| ours / pytrec_eval (full measures) | {rows[0][1] / rows[2][1]:.2f}x |")
        print(f"| ours with level 1 only / pytrec_eval (full measures) | {rows[1][1] / rows[2][1]:.2f}x |")
        cpu = [v for k, v in rows if k.startswith("CPU")]
        cli = [v for k, v in rows if k.startswith("CLI")]
        print(f"| CPU: ours / pytrec_eval | {cpu[0] / cpu[1]:.2f}x |")
        print(f"| CLI processes: ours / pytrec_eval, wall / CPU | {cli[0] / cli[1]:.2f}x / {cli[2] / cli[3]:.2f}x |")
        print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        return
    rel, score, item = make(q, m)
    qid = np.repeat(np.arange(q), m)
    con = duckdb.connect()
    con.register("r", pa.table({"model": np.full(q * m, "a"), "query_id": qid.astype(str),
                                "item_id": np.char.add("d", item.ravel().astype(str)), "score": score.ravel()}))
    con.execute("CREATE TABLE rankings AS SELECT * FROM r")
    con.register("j", pa.table({"query_id": qid.astype(str), "item_id": np.char.add("d", item.ravel().astype(str)),
                                "relevance": rel.ravel().astype(np.int64)}))
    con.execute("CREATE TABLE qrels AS SELECT * FROM j")
    rng = np.random.default_rng(1)
    con.register("s", pa.table({"query_id": np.arange(q).astype(str),
                                "locale": rng.choice(["en", "de", "fr", "ja", "pt"], q),
                                "tier": rng.choice(["free", "plus", "power"], q)}))
    con.execute("CREATE TABLE queries AS SELECT * FROM s")

    sizes = cutoff_cost(con, args.repeat)
    t_ours = sizes[2][1]
    con.execute(build_sql(["locale", "tier"], k_values=DEFAULT_CUTOFFS, levels=DEFAULT_LEVELS))
    logged = logged_store(con, rel, score, item)
    t_logged = timed(lambda: build_ranking_summary(logged), args.repeat)
    t_three = timed(lambda: three_metrics_by_segment(logged), args.repeat)
    check_logged(con, logged)
    by_locale = np.array([r[1:] for r in three_metrics_by_segment(logged)])
    overall = (by_locale[:, :3] * by_locale[:, 3:]).sum(0) / by_locale[:, 3].sum()
    stored = logged.execute("SELECT avg(ndcg_lin_10), avg(rr), avg(recall_10) FROM ranking_query_metrics").fetchone()
    assert np.allclose(overall, stored, rtol=0, atol=1e-9), (overall, stored)
    logged.close()
    run_df, qrels_df = con.execute("SELECT * FROM rankings").df(), con.execute("SELECT * FROM qrels").df()
    t_pandas = timed(lambda: pandas_from_raw(run_df, qrels_df), 1)
    del run_df, qrels_df
    # the dense baseline gets item ids as integers; ours sorts the string ids as trec_eval does
    t_numpy = timed(lambda: dense_numpy(rel, score, item), args.repeat)
    from sklearn.metrics import ndcg_score
    t_sklearn = timed(lambda: ndcg_score(rel, score, k=10), 1)

    def resplit(col, k):
        # segments are copied into the per-query table at build time, as at ingest
        con.execute(f"SELECT {segment_column(col)}, avg(ndcg_lin_{k}), avg(rr), avg(recall_{k}), count(*) "
                    "FROM ranking_query_metrics GROUP BY 1").fetchall()

    t_split = timed(lambda: resplit("locale", 5), args.repeat * 3)
    t_split2 = timed(lambda: resplit("tier", 20), args.repeat * 3)
    rows_out = [
        ("ours, scored run + qrels: per-query table (default cutoffs and levels, join + sort)", t_ours),
        ("ours, logged ranking (position + relevance per row): the same table, one GROUP BY", t_logged),
        ("logged rows: NDCG@10, MRR, recall@10 by segment only (one GROUP BY, not stored)", t_three),
        ("dense numpy: NDCG@10, MRR, recall@10 on a pre-aligned integer matrix", t_numpy),
        ("scikit-learn ndcg_score(k=10), NDCG only, on that matrix", t_sklearn),
        ("pandas from the scored run + qrels (join, sort, rank): NDCG@10, MRR, recall@10", t_pandas),
    ]
    print(f"| work ({q:,} queries x {m} items = {q * m:,} rows) | time | / dense numpy |")
    print("|---|---|---|")
    for name, seconds in rows_out:
        print(f"| {name} | {seconds:.2f} s | {seconds / t_numpy:.2f}x |")
    print(f"| re-split by another segment and k, from the per-query table | {t_split * 1e3:.0f} / {t_split2 * 1e3:.0f} ms | |")
    print()
    print("| per-query table (scored run + qrels) | build | rows | columns | size on disk |")
    print("|---|---|---|---|---|")
    for name, seconds, rows, cols, mb in sizes:
        print(f"| {name} | {seconds:.2f} s | {rows:,} | {cols} | {mb:.0f} MB |")


if __name__ == "__main__":
    main()
