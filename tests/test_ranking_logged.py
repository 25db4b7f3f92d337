"""Logged rankings (position and relevance in every row) vs pytrec_eval and ir-measures.

The oracle gets, per model, the list's own rows as qrels and a run scored -position; a gap in the
logged positions becomes an unjudged filler item, so trec_eval ranks every item where it was served.
"""

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
from dashboard.store.readers import InputError

GRADES = [0, 1, 2, 3, 4]


def logged_collection(seed: int, n_queries: int = 160) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(n_queries):
        for model in ("a", "b"):
            n = int(rng.integers(1, 30)) if q % 13 else int(rng.integers(65, 90))  # some past the bit mask
            positions = np.sort(rng.choice(np.arange(1, n + 8), size=n, replace=False)) if q % 3 == 0 \
                else np.arange(1, n + 1)  # every third list has gaps (items not logged)
            p = [.6, .2, .1, .06, .04] if q % 7 else [1, 0, 0, 0, 0]  # some queries: nothing relevant
            rel = rng.choice(GRADES, size=n, p=p)
            items = rng.choice(400, size=n, replace=False)
            rows += [(model, f"q{q}", f"d{i}", int(pos), int(r)) for i, pos, r in zip(items, positions, rel)]
    return pd.DataFrame(rows, columns=["model", "query_id", "item_id", "position", "relevance"])


@pytest.fixture(scope="module", params=[5, 6])
def built(request, tmp_path_factory):
    log = logged_collection(request.param)
    path = tmp_path_factory.mktemp("logged")
    log.to_csv(path / "log.csv", index=False)
    db = path / "r.duckdb"
    ingest_file(db, "run", path / "log.csv")
    con = connect(db, read_only=True)
    table = con.execute("SELECT * FROM ranking_query_metrics").df()
    con.close()
    return log, table


def oracle_inputs(log: pd.DataFrame, model: str):
    run: dict = {}
    qrels: dict = {}
    for _, q, item, pos, rel in log[log.model == model].itertuples(index=False):
        run.setdefault(q, {})[item] = -float(pos)
        qrels.setdefault(q, {})[item] = int(rel)
    for q, items in run.items():
        served = {-s for s in items.values()}
        for gap in set(range(1, int(max(served)) + 1)) - served:
            items[f"gap{gap}"] = -float(gap)
    return run, qrels


@pytest.mark.parametrize("model", ["a", "b"])
def test_linear_metrics_match_pytrec_eval_query_by_query(built, model):
    log, table = built
    run, qrels = oracle_inputs(log, model)
    measures = {f"ndcg_cut_{k}" for k in K_VALUES} | {f"recall_{k}" for k in K_VALUES} | \
               {f"P_{k}" for k in K_VALUES} | {"recip_rank", "map"}
    expected = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    ours = table[table.model == model].set_index("query_id")
    assert set(ours.index) == set(expected)
    assert (ours.n_retrieved > 64).any() and (ours.n_relevant == 0).any()  # the edge cases are there
    for qid, values in expected.items():
        row = ours.loc[qid]
        for k in K_VALUES:
            assert row[f"ndcg_lin_{k}"] == pytest.approx(values[f"ndcg_cut_{k}"], abs=1e-9), (qid, k)
            assert row[f"recall_{k}"] == pytest.approx(values[f"recall_{k}"], abs=1e-9), (qid, k)
            assert row[f"precision_{k}"] == pytest.approx(values[f"P_{k}"], abs=1e-9), (qid, k)
            assert row[f"hit_{k}"] == float(values[f"recall_{k}"] > 0)
        assert row["rr"] == pytest.approx(values["recip_rank"], abs=1e-9), qid
        assert row["ap"] == pytest.approx(values["map"], abs=1e-9), qid


def test_exponential_ndcg_matches_ir_measures(built):
    log, table = built
    run, qrels = oracle_inputs(log, "a")
    gains = {0: 0, 1: 1, 2: 3, 3: 7, 4: 15}
    ours = table[table.model == "a"].set_index("query_id")
    for k in (1, 5, 10, 20):
        measure = ir_measures.nDCG(gains=gains) @ k
        for m in ir_measures.iter_calc([measure], qrels, run):
            assert ours.loc[m.query_id, f"ndcg_exp_{k}"] == pytest.approx(m.value, abs=1e-9)


def test_logged_and_scored_forms_of_the_same_lists_agree(tmp_path):
    """The same lists as a scored run + qrels (trec path, contiguous positions) give the same table."""
    log = logged_collection(7, n_queries=60)
    log = log[log.groupby(["model", "query_id"]).position.transform("max")
              == log.groupby(["model", "query_id"]).position.transform("size")]  # no gaps
    log = log[log.model == "a"]
    log.to_csv(tmp_path / "log.csv", index=False)
    scored = log.assign(score=-log.position)[["model", "query_id", "item_id", "score"]]
    scored.to_csv(tmp_path / "run.csv", index=False)
    log[["query_id", "item_id", "relevance"]].to_csv(tmp_path / "qrels.csv", index=False)
    ingest_file(tmp_path / "l.duckdb", "run", tmp_path / "log.csv")
    ingest_file(tmp_path / "s.duckdb", "qrels", tmp_path / "qrels.csv")
    ingest_file(tmp_path / "s.duckdb", "run", tmp_path / "run.csv")
    frames = []
    for name in ("l", "s"):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True) as con:
            frames.append(con.execute("SELECT * FROM ranking_query_metrics ORDER BY model, query_id").df())
    pd.testing.assert_frame_equal(frames[0], frames[1], check_dtype=False, atol=1e-12)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_position_only_run_is_ranked_by_position_and_judged_by_qrels(tmp_path):
    db = tmp_path / "p.duckdb"
    ingest_file(db, "qrels", write(tmp_path, "qrels.csv", "query_id,item_id,relevance\nq1,x,1\nq1,y,2\n"))
    # score would rank y first; the served positions put x first and leave position 2 empty
    ingest_file(db, "run", write(tmp_path, "run.csv", "model,query_id,item_id,position,score\n"
                                                       "m,q1,x,1,0.1\nm,q1,y,3,0.9\n"))
    with duckdb.connect(str(db), read_only=True) as con:
        rr, dcg, ap, n = con.execute("SELECT rr, dcg_lin_3, ap, n_retrieved FROM ranking_query_metrics").fetchone()
    assert rr == 1.0 and dcg == pytest.approx(1 + 2 / np.log2(4)) and ap == pytest.approx((1 + 2 / 3) / 2)
    assert n == 3


@pytest.mark.parametrize("text, message", [
    ("model,query_id,item_id,position,relevance\nm,q,a,1,1\nm,q,b,1,0\n",
     r"log.csv, lines 2, 3: duplicate position \(model='m', query_id='q', position='1'\)"),
    ("model,query_id,item_id,position,relevance\nm,q,a,0,1\n",
     r"log.csv, line 2, column 'position': found '0'; expected a whole number >= 1"),
    ("model,query_id,item_id,position,relevance\nm,q,a,1,2\nm,q,b,2,\n",
     r"log.csv, line 3, column 'relevance': is empty"),
    ("model,query_id,item_id,score,relevance\nm,q,a,0.5,1\n",
     r"log.csv: column 'relevance' needs column 'position' beside it"),
    ("model,query_id,item_id,relevance\nm,q,a,1\n", r"log.csv: missing column 'score'"),
])
def test_bad_logged_rankings_are_refused_with_the_row(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        ingest_file(tmp_path / "b.duckdb", "run", write(tmp_path, "log.csv", text))


def test_score_may_be_left_out_when_position_is_given(tmp_path):
    result = ingest_file(tmp_path / "s.duckdb", "run", write(
        tmp_path, "log.csv", "model,query_id,item_id,position,relevance\nm,q,a,1,1\n"))
    assert result.rows == 1


def snapshot(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * FROM rankings ORDER BY ALL").fetchall(), con.execute(
            "SELECT * FROM ranking_query_metrics ORDER BY ALL").fetchall()


def test_a_model_keeps_one_form_and_a_list_comes_whole(tmp_path):
    db = tmp_path / "f.duckdb"
    ingest_file(db, "run", write(tmp_path, "log.csv", "model,query_id,item_id,position,relevance\n"
                                                       "m,q1,a,1,1\nm,q1,b,2,0\n"))
    before = snapshot(db)
    scored = write(tmp_path, "run.csv", "model,query_id,item_id,score\nm,q2,a,0.3\n")
    with pytest.raises(InputError, match="model 'm' is stored as a logged ranking .*this file is a scored run"):
        ingest_file(db, "run", scored)
    more = write(tmp_path, "more.csv", "model,query_id,item_id,position,relevance\nm,q1,c,3,2\n")
    with pytest.raises(InputError, match=r"more.csv, line 2: model 'm', query 'q1' already has a list loaded"):
        ingest_file(db, "run", more)
    assert snapshot(db) == before
    ingest_file(db, "run", more, replace=True)  # the stored list is swapped whole
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT item_id, position FROM rankings").fetchall() == [("c", 3)]
        assert con.execute("SELECT rr, n_retrieved FROM ranking_query_metrics").fetchall() == [(1 / 3, 3)]


def test_a_database_from_before_positions_gains_the_columns(tmp_path):
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:  # the run table as earlier versions created it
        con.execute("CREATE TABLE rankings (model VARCHAR, query_id VARCHAR, item_id VARCHAR, score DOUBLE)")
        con.execute("INSERT INTO rankings VALUES ('old', 'q1', 'a', 1.0)")
    ingest_file(db, "qrels", write(tmp_path, "qrels.csv", "query_id,item_id,relevance\nq1,a,1\n"))
    ingest_file(db, "run", write(tmp_path, "log.csv", "model,query_id,item_id,position,relevance\n"
                                                       "new,q1,b,1,2\n"))
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT model, ndcg_lin_10 FROM ranking_query_metrics ORDER BY model").fetchall() == [
            ("new", 1.0), ("old", 1.0)]


def test_coverage_of_a_logged_model_counts_the_served_top_k(tmp_path):
    from dashboard.services.ranking import coverage
    db = tmp_path / "c.duckdb"
    ingest_file(db, "run", write(tmp_path, "log.csv", "model,query_id,item_id,position,relevance,score\n"
                                                       "m,q1,a,2,1,0.9\nm,q1,b,1,0,0.1\nm,q2,a,1,0,0.9\nm,q2,c,2,0,0.1\n"))
    with duckdb.connect(str(db), read_only=True) as con:
        assert coverage(con, "m", 1) == {"": pytest.approx(2 / 3)}  # b and a; by score only a
        assert con.execute("SELECT count(*) FROM ranking_query_metrics").fetchone()[0] == 2


def logged_and_scored_db(tmp_path):
    """A store with `feed-logged` (a logged ranking) and `feed-scored` (the same kind of lists as a
    scored run judged by qrels) over the same 80 queries: for the page and browser tests."""
    log = logged_collection(8, n_queries=80)
    log[log.model == "a"].assign(model="feed-logged").to_csv(tmp_path / "log.csv", index=False)
    base = log[log.model == "b"]
    base.assign(model="feed-scored", score=-base.position)[["model", "query_id", "item_id", "score"]].to_csv(
        tmp_path / "run.csv", index=False)
    base[["query_id", "item_id", "relevance"]].to_csv(tmp_path / "qrels.csv", index=False)
    tiers = pd.DataFrame({"query_id": sorted(set(log.query_id))})
    tiers["tier"] = np.where(tiers.index % 2 == 0, "free", "plus")
    tiers.to_csv(tmp_path / "queries.csv", index=False)
    db = tmp_path / "f.duckdb"
    for kind, name in (("queries", "queries.csv"), ("qrels", "qrels.csv"), ("run", "run.csv"), ("run", "log.csv")):
        ingest_file(db, kind, tmp_path / name)
    return db


def test_empty_position_and_relevance_columns_load_as_a_scored_run(tmp_path):
    """A rankings table exported with its unused columns (all empty) loads as the scored run it is."""
    db = tmp_path / "e.duckdb"
    ingest_file(db, "qrels", write(tmp_path, "qrels.csv", "query_id,item_id,relevance\nq1,a,1\n"))
    run = pd.DataFrame({"model": ["m", "m"], "query_id": ["q1", "q1"], "item_id": ["a", "b"], "score": [0.1, 0.9],
                        "position": pd.array([None, None], dtype="Int64"), "relevance": pd.array([None, None], dtype="Int64")})
    run.to_parquet(tmp_path / "export.parquet")
    run.to_csv(tmp_path / "export.csv", index=False)
    ingest_file(db, "run", tmp_path / "export.parquet")
    ingest_file(db, "run", tmp_path / "export.csv", model="m2")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT model, rr FROM ranking_query_metrics ORDER BY model").fetchall() == [
            ("m", 0.5), ("m2", 0.5)]  # ranked by score: b first
    half = write(tmp_path, "half.csv", "model,query_id,item_id,relevance\nm3,q1,a,1\n")  # relevance, no position
    half_empty = write(tmp_path, "half_empty.csv", "model,query_id,item_id,position,relevance\nm3,q1,a,,1\n")
    for path in (half, half_empty):
        with pytest.raises(InputError, match="column 'relevance' needs column 'position'"):
            ingest_file(db, "run", path)
