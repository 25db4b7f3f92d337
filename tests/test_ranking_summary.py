"""Per-query ranking metrics vs pytrec_eval (linear gain) and ir-measures (exponential gain)."""

from __future__ import annotations

import duckdb
import ir_measures
import numpy as np
import pandas as pd
import pytest
import pytrec_eval

from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file
from dashboard.store.ranking_summary import K_VALUES


def random_collection(seed: int, n_queries: int = 150):
    rng = np.random.default_rng(seed)
    runs, qrels = [], []
    for q in range(n_queries):
        qid = f"q{q}"
        n_docs = int(rng.integers(1, 40))
        docs = [f"d{int(x)}" for x in rng.choice(500, size=n_docs, replace=False)]
        scores = np.round(rng.normal(0, 1, n_docs), 1)  # many ties
        for model in ("a", "b"):
            s = scores if model == "a" else np.round(scores + rng.normal(0, 0.5, n_docs), 1)
            runs += [(model, qid, d, float(x)) for d, x in zip(docs, s)]
        if q % 17 == 0:
            continue  # retrieved but never judged: not evaluated (as trec_eval)
        judged = set(rng.choice(docs, size=int(rng.integers(0, n_docs + 1)), replace=False))
        judged |= {f"u{q}_{i}" for i in range(int(rng.integers(0, 4)))}  # relevant, never retrieved
        no_relevant = q % 11 == 0
        for d in judged:
            qrels.append((qid, d, 0 if no_relevant else int(rng.choice(5, p=[.5, .25, .12, .08, .05]))))
        if not judged:
            qrels.append((qid, "zzz", 0))
    return pd.DataFrame(runs, columns=["model", "query_id", "item_id", "score"]), pd.DataFrame(
        qrels, columns=["query_id", "item_id", "relevance"])


@pytest.fixture(scope="module", params=[3, 4])
def built(request, tmp_path_factory):
    run, qrels = random_collection(request.param)
    path = tmp_path_factory.mktemp("rank")
    run.to_csv(path / "run.csv", index=False)
    qrels.to_csv(path / "qrels.csv", index=False)
    db = path / "r.duckdb"
    ingest_file(db, "qrels", path / "qrels.csv")
    ingest_file(db, "run", path / "run.csv")
    con = connect(db, read_only=True)
    table = con.execute("SELECT * FROM ranking_query_metrics").df()
    con.close()
    return run, qrels, table


def as_dicts(run, qrels, model):
    r: dict = {}
    for _, q, d, s in run[run.model == model].itertuples(index=False):
        r.setdefault(q, {})[d] = float(s)
    j: dict = {}
    for q, d, rel in qrels.itertuples(index=False):
        j.setdefault(q, {})[d] = int(rel)
    return r, j


@pytest.mark.parametrize("model", ["a", "b"])
def test_linear_metrics_match_pytrec_eval_query_by_query(built, model):
    run, qrels, table = built
    r, j = as_dicts(run, qrels, model)
    measures = {f"ndcg_cut_{k}" for k in K_VALUES} | {f"recall_{k}" for k in K_VALUES} | \
               {f"P_{k}" for k in K_VALUES} | {"recip_rank", "map"}
    expected = pytrec_eval.RelevanceEvaluator(j, measures).evaluate(r)
    ours = table[table.model == model].set_index("query_id")
    assert set(ours.index) == set(expected)
    for qid, values in expected.items():
        row = ours.loc[qid]
        for k in K_VALUES:
            assert row[f"ndcg_lin_{k}"] == pytest.approx(values[f"ndcg_cut_{k}"], abs=1e-9), (qid, k)
            assert row[f"recall_{k}"] == pytest.approx(values[f"recall_{k}"], abs=1e-9)
            assert row[f"precision_{k}"] == pytest.approx(values[f"P_{k}"], abs=1e-9)
        assert row["rr"] == pytest.approx(values["recip_rank"], abs=1e-9)
        assert row["ap"] == pytest.approx(values["map"], abs=1e-9)


def test_exponential_ndcg_matches_ir_measures(built):
    run, qrels, table = built
    r, j = as_dicts(run, qrels, "a")
    gains = {0: 0, 1: 1, 2: 3, 3: 7, 4: 15}
    ours = table[table.model == "a"].set_index("query_id")
    for k in (5, 10):
        measure = ir_measures.nDCG(gains=gains) @ k
        for m in ir_measures.iter_calc([measure], j, r):
            assert ours.loc[m.query_id, f"ndcg_exp_{k}"] == pytest.approx(m.value, abs=1e-9)


def test_hit_and_invariants(built):
    _, _, table = built
    for k in K_VALUES:
        assert ((table[f"hit_{k}"] > 0) == (table[f"recall_{k}"] > 0)).all()
        assert (table[f"ndcg_lin_{k}"] <= 1 + 1e-12).all() and (table[f"ndcg_lin_{k}"] >= 0).all()
    no_rel = table[table.n_relevant == 0]
    assert len(no_rel) > 0 and (no_rel[[c for c in table.columns if c.startswith("ndcg")]] == 0).all().all()


def test_query_segments_are_copied_into_the_per_query_table(demo_con):
    """The re-split reads segments from the summary itself; they must equal the queries file's."""
    mismatched = demo_con.execute(
        """SELECT count(*) FROM ranking_query_metrics m JOIN queries q USING (query_id)
           WHERE m.segment_user_tier IS DISTINCT FROM q.user_tier
              OR m.segment_locale IS DISTINCT FROM q.locale
              OR m.segment_frequency IS DISTINCT FROM q.frequency""").fetchone()[0]
    assert mismatched == 0
    assert demo_con.execute("SELECT count(*) FROM ranking_query_metrics WHERE segment_user_tier IS NULL").fetchone()[0] == 0
