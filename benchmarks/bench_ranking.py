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
- a re-split: means by another segment and k read from the cached per-query table.
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb
import numpy as np
import pyarrow as pa

from dashboard.store import ranking_logged
from dashboard.store.ranking_summary import build_ranking_summary, build_sql, segment_column


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
        ("ours, scored run + qrels: per-query table (77 metrics, join + sort)", t_ours),
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


if __name__ == "__main__":
    main()
