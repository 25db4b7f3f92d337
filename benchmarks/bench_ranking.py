"""Ranking speed: our per-query summary build vs dense numpy and scikit-learn, in one run.

    python benchmarks/bench_ranking.py --queries 1000000 --items 20

Times (median of repeats):
- ours: DuckDB building `ranking_query_metrics` from raw rows (NDCG/DCG linear+exp, recall, hit,
  precision at k = 1, 3, 5, 10, 20, plus RR and AP: 77 numbers per query), exactly as at ingest;
- dense numpy: NDCG@10, MRR and recall@10 on a queries x items matrix (trec tie-break), the
  fastest single-machine baseline;
- scikit-learn ndcg_score(k=10) on the same matrix (NDCG only; sklearn averages over ties);
- pandas from the same raw tables ours reads (string ids, separate judgements): join, sort, rank,
  NDCG@10, MRR, recall@10 (the dense baseline is handed pre-aligned integer matrices instead);
- a re-split: means by another segment and k read from the cached per-query table.
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb
import numpy as np
import pyarrow as pa

from dashboard.store.ranking_summary import build_sql, segment_column


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    q, m = args.queries, args.items
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

    t_ours = timed(lambda: con.execute(build_sql(["locale", "tier"])), args.repeat)
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
    rows = q * m
    print(f"| work ({q:,} queries x {m} items = {rows:,} rows) | time | vs ours |")
    print("|---|---|---|")
    print(f"| ours: per-query table from raw rows in DuckDB (77 metrics per query) | {t_ours:.2f} s | 1.0x |")
    print(f"| dense numpy: NDCG@10, MRR, recall@10 on a matrix | {t_numpy:.2f} s | ours is {t_ours / t_numpy:.2f}x its time |")
    print(f"| scikit-learn ndcg_score(k=10), NDCG only | {t_sklearn:.2f} s | ours is {t_sklearn / t_ours:.1f}x faster |")
    print(f"| pandas from the same raw rows (join, sort, rank): NDCG@10, MRR, recall@10 | {t_pandas:.2f} s | "
          f"ours is {t_pandas / t_ours:.1f}x faster |")
    print(f"| re-split by another segment and k, from the per-query table | {t_split * 1e3:.0f} / {t_split2 * 1e3:.0f} ms | |")


if __name__ == "__main__":
    main()
