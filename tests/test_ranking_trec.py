"""trec_eval's options and measures against pytrec_eval, from TREC files as users have them.

Long lists (1,000 items), cutoffs 1..1000, relevance levels 1 and 2 (`-l`), averaging over every
judged query (`-c`), P@k, R-precision, MAP@k and MAP; run lines with fields after the tag, `#`
comments in qrels, grades below 0 (judged non-relevant), judged queries absent from the run and
queries with no relevant document. pytrec_eval reads the very same files.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import pytrec_eval

from dashboard.services import ranking as svc
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file
from dashboard.store.ranking_summary import LEVELS_ENV
from dashboard.store.readers import InputError

KS = (1, 5, 10, 20, 100, 1000)
MEASURES = {f"{m}_{k}" for m in ("ndcg_cut", "P", "recall", "map_cut") for k in KS} | {"recip_rank", "map", "Rprec", "bpref"}
OURS = {"ndcg_cut": "ndcg", "P": "precision", "recall": "recall", "map_cut": "map_k"}


def write_collection(path, seed: int = 11, n_queries: int = 60):
    """A run of two tags with long lists and tied scores, extra fields after the tag, and qrels
    with comments, grades -1..3, judged queries no model retrieved and queries with nothing relevant."""
    rng = np.random.default_rng(seed)
    run_lines, qrel_lines = [], ["# qrels with comments (MS MARCO style)"]
    for q in range(n_queries):
        qid = f"q{q}"
        n_docs = 1000 if q % 4 == 0 else int(rng.integers(5, 150))
        docs = [f"d{int(x)}" for x in rng.choice(3000, size=n_docs, replace=False)]
        for tag in ("bm25", "dense"):
            scores = np.round(rng.normal(0, 1, n_docs), 1)  # ties
            for rank, (d, s) in enumerate(zip(docs, scores), start=1):
                extra = " extra field" if rank % 7 == 0 else ""
                run_lines.append(f"{qid} Q0 {d} {rank} {s} {tag}{extra}")
        judged = rng.choice(docs, size=min(n_docs, int(rng.integers(1, 80))), replace=False)
        grades = [0, 0] if q % 9 == 0 else [-1, 0, 1, 2, 3]
        for d in judged:
            qrel_lines.append(f"{qid} 0 {d} {int(rng.choice(grades))}")
        qrel_lines.append(f"{qid} 0 never{q} {int(rng.choice([0, 1, 2]))}")  # judged, never retrieved
        if q % 10 == 0:
            qrel_lines.append(f"# a comment between {qid}'s lines")
    for q in range(n_queries, n_queries + 5):  # judged queries absent from the run (count with -c)
        qrel_lines += [f"m{q} 0 x1 2", f"m{q} 0 x2 -1"]
    (path / "run.trec").write_text("\n".join(run_lines) + "\n")
    (path / "qrels.trec").write_text("\n".join(qrel_lines) + "\n")
    return path / "run.trec", path / "qrels.trec"


@pytest.fixture(scope="module")
def trec(tmp_path_factory):
    path = tmp_path_factory.mktemp("trec")
    run_file, qrels_file = write_collection(path)
    db = path / "r.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(LEVELS_ENV, "2,3")  # levels 1, 2 and 3 (1 is always stored)
        ingest_file(db, "qrels", qrels_file)
        ingest_file(db, "run", run_file)
    with open(qrels_file) as f:  # pytrec_eval's parser takes no comments (trec_eval's does)
        qrels = pytrec_eval.parse_qrel(line for line in f if not line.lstrip().startswith("#"))
    with open(run_file) as f:
        runs = {}
        for line in f:
            qid, _, doc, _, score, tag = line.split()[:6]
            runs.setdefault(tag, {}).setdefault(qid, {})[doc] = float(score)
    con = connect(db, read_only=True)
    yield db, con, qrels, runs
    con.close()


@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("model", ["bm25", "dense"])
def test_every_measure_matches_pytrec_eval_at_long_cutoffs(trec, model, level):
    _, con, qrels, runs = trec
    expected = pytrec_eval.RelevanceEvaluator(qrels, MEASURES, relevance_level=level).evaluate(runs[model])
    for k in KS:
        got = {r["query_id"]: r for r in svc.query_values(con, model, k, "linear", level=level)}
        assert set(got) == set(expected)
        for qid, e in expected.items():
            for m, ours in OURS.items():
                assert got[qid][ours] == pytest.approx(e[f"{m}_{k}"], abs=1e-9), (qid, m, k, level)
            assert got[qid]["mrr"] == pytest.approx(e["recip_rank"], abs=1e-9)
            assert got[qid]["map"] == pytest.approx(e["map"], abs=1e-9)
            assert got[qid]["rprec"] == pytest.approx(e["Rprec"], abs=1e-9)
            assert got[qid]["bpref"] == pytest.approx(e["bpref"], abs=1e-9), (qid, level)


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_all_queries_averages_like_trec_eval_c(trec, level):
    """-c: every judged query counts; one the run did not retrieve adds 0 (mean of pytrec_eval's
    per-query values over the qrels' queries, missing ones as 0). Level 4: no grade reaches it."""
    _, con, qrels, runs = trec
    expected = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut_10", "recall_100", "map", "P_5"},
                                              relevance_level=level).evaluate(runs["dense"])
    row = svc.overall_summary(con, "dense", 100, level=level, all_queries=True)
    assert row["n_queries"] == len(qrels) == len(expected) + 5
    assert row["recall"] == pytest.approx(sum(e["recall_100"] for e in expected.values()) / len(qrels), abs=1e-12)
    assert row["map"] == pytest.approx(sum(e["map"] for e in expected.values()) / len(qrels), abs=1e-12)
    default = svc.overall_summary(con, "dense", 5, level=level)
    assert default["n_queries"] == len(expected)
    assert default["precision"] == pytest.approx(np.mean([e["P_5"] for e in expected.values()]), abs=1e-12)


def test_cli_json_lists_every_measure_with_level_and_all_queries(trec):
    db, _, qrels, runs = trec
    out = subprocess.run([sys.executable, "-m", "dashboard", "report", "ranking", "--db", str(db), "--model", "dense",
                          "--baseline", "bm25", "--k", "1000", "--relevance-level", "2", "--all-queries",
                          "--per-query", "--json"], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["relevance_level"] == 2 and result["all_queries"] and len(result["queries"]) == len(qrels)
    expected = pytrec_eval.RelevanceEvaluator(qrels, {"map_cut_1000", "Rprec", "P_1000"},
                                              relevance_level=2).evaluate(runs["dense"])
    for row in result["queries"]:
        e = expected.get(row["query_id"], {"map_cut_1000": 0.0, "Rprec": 0.0, "P_1000": 0.0})
        assert set(svc.METRICS) <= set(row)
        assert (row["map_k"], row["rprec"], row["precision"]) == pytest.approx(
            (e["map_cut_1000"], e["Rprec"], e["P_1000"]), abs=1e-9)
    assert set(result["overall"]["deltas"]) == set(svc.METRICS)


def test_every_wrong_field_count_is_reported_at_once(tmp_path):
    (tmp_path / "run.trec").write_text("q1 Q0 d1 1 2.5 bm25\nq1 Q0 d2 2 1.5\nq1 Q0 d3 3 1.0 bm25 x y\nq2 d1\n")
    with pytest.raises(InputError) as err:
        ingest_file(tmp_path / "r.duckdb", "run", tmp_path / "run.trec")
    assert err.value.problems == [
        "run.trec, line 2: 5 fields; a TREC run line is 'qid Q0 docno rank score tag' (6 fields; more are ignored)",
        "run.trec, line 4: 2 fields; a TREC run line is 'qid Q0 docno rank score tag' (6 fields; more are ignored)"]
    (tmp_path / "qrels.trec").write_text("# comment\nq1 0 d1 1\nq1 0 d2 1 extra\n  # indented comment\nq1 d3 1\n")
    with pytest.raises(InputError) as err:
        ingest_file(tmp_path / "r.duckdb", "qrels", tmp_path / "qrels.trec")
    assert [p.split(":")[0] for p in err.value.problems] == ["qrels.trec, line 3", "qrels.trec, line 5"]
    assert "5 fields; a TREC qrels line is 'qid 0 docno rel' (4 fields)" in err.value.problems[0]
    assert not (tmp_path / "r.duckdb").exists() or "qrels" not in str(
        connect(tmp_path / "r.duckdb", read_only=True).execute("SHOW TABLES").fetchall())


def test_many_bad_lines_are_counted_past_the_first_twenty(tmp_path):
    (tmp_path / "qrels.trec").write_text("".join(f"q{i} 0 d1\n" for i in range(50)))
    with pytest.raises(InputError) as err:
        ingest_file(tmp_path / "r.duckdb", "qrels", tmp_path / "qrels.trec")
    assert len(err.value.problems) == 21
    assert err.value.problems[-1] == "qrels.trec: 30 more line(s) with a wrong number of fields (50 in all)"


@pytest.mark.parametrize("level", [1, 2, 3])
def test_logged_long_lists_match_pytrec_eval_past_the_bit_mask(tmp_path, monkeypatch, level):
    """Logged rankings keep relevant positions <= 64 as bits; past them (lists of 400, R > 64,
    cutoffs 100 and 1000) a window fills AP, MAP@k and R-precision."""
    import pandas as pd

    from tests.test_ranking_logged import oracle_inputs

    rng = np.random.default_rng(level)
    rows = []
    for q in range(24):
        n = 400 if q % 2 else int(rng.integers(3, 60))
        p = [.2, .3, .3, .2] if q % 3 else [.9, .1, 0, 0]
        rel = rng.choice([-1, 1, 2, 3], size=n, p=p) if q % 5 else rng.choice([0, 1], size=n)
        rows += [("a", f"q{q}", f"d{i}", i + 1, int(r)) for i, r in enumerate(rel)]
    log = pd.DataFrame(rows, columns=["model", "query_id", "item_id", "position", "relevance"])
    log.to_csv(tmp_path / "log.csv", index=False)
    monkeypatch.setenv(LEVELS_ENV, "1,2,3")
    ingest_file(tmp_path / "r.duckdb", "run", tmp_path / "log.csv")
    run, qrels = oracle_inputs(log, "a")
    expected = pytrec_eval.RelevanceEvaluator(qrels, MEASURES, relevance_level=level).evaluate(run)
    con = connect(tmp_path / "r.duckdb", read_only=True)
    try:
        assert max(sum(v >= level for v in qrels[q].values()) for q in expected) > 64  # R past the mask
        for k in KS:
            got = {r["query_id"]: r for r in svc.query_values(con, "a", k, "linear", level=level)}
            for qid, e in expected.items():
                for m, ours in OURS.items():
                    assert got[qid][ours] == pytest.approx(e[f"{m}_{k}"], abs=1e-9), (qid, m, k)
                assert (got[qid]["mrr"], got[qid]["map"], got[qid]["rprec"], got[qid]["bpref"]) == pytest.approx(
                    (e["recip_rank"], e["map"], e["Rprec"], e["bpref"]), abs=1e-9), qid
    finally:
        con.close()


def test_levels_not_stored_are_refused_or_read_from_an_equivalent_level(tmp_path):
    """Default levels 1 and 2. With grades 1 and 3 only, -l 3 counts what -l 2 counts (read from it);
    -l 4 counts nothing (every binary measure 0, as pytrec_eval); with a grade 3 and a grade 2,
    -l 3 is not stored and the error says how to store it."""
    (tmp_path / "run.trec").write_text("q1 Q0 a 1 3 t\nq1 Q0 b 2 2 t\nq1 Q0 c 3 1 t\n")
    (tmp_path / "qrels.trec").write_text("q1 0 a 1\nq1 0 b 3\nq1 0 c 0\n")
    ingest_file(tmp_path / "r.duckdb", "qrels", tmp_path / "qrels.trec")
    ingest_file(tmp_path / "r.duckdb", "run", tmp_path / "run.trec")
    run, qrels = {"q1": {"a": 3.0, "b": 2.0, "c": 1.0}}, {"q1": {"a": 1, "b": 3, "c": 0}}
    con = connect(tmp_path / "r.duckdb", read_only=True)
    try:
        for level in (3, 4):
            e = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank", "map", "P_5"}, relevance_level=level).evaluate(run)
            row = svc.overall_summary(con, "t", 5, level=level)
            assert (row["mrr"], row["map"], row["precision"]) == pytest.approx(
                (e["q1"]["recip_rank"], e["q1"]["map"], e["q1"]["P_5"]), abs=1e-12)
        assert svc.overall_summary(con, "t", 5, level=3)["mrr"] == 0.5
    finally:
        con.close()
    (tmp_path / "qrels2.trec").write_text("q1 0 a 2\nq1 0 b 3\n")
    ingest_file(tmp_path / "r2.duckdb", "qrels", tmp_path / "qrels2.trec")
    ingest_file(tmp_path / "r2.duckdb", "run", tmp_path / "run.trec")
    con = connect(tmp_path / "r2.duckdb", read_only=True)
    try:
        with pytest.raises(ValueError, match=f"relevance level 3 is not summarised .*{LEVELS_ENV}=1,2,3"):
            svc.overall_summary(con, "t", 5, level=3)
    finally:
        con.close()


def test_gates_take_the_new_measures_with_level_and_all_queries(trec, tmp_path):
    """A gate on map@1000 at relevance level 2 over every judged query (-c) judges the values
    pytrec_eval gives (missing queries 0); a bad level is refused with the gate's line."""
    from dashboard.gates import GatesError, evaluate, load_gates
    from dashboard.gates_ranking import per_query_values

    _, con, qrels, runs = trec
    ids, base, cand = per_query_values(con, "map@1000", "bm25", "dense", level=2, all_queries=True)
    assert len(ids) == len(qrels)
    for model, got in (("bm25", base), ("dense", cand)):
        e = pytrec_eval.RelevanceEvaluator(qrels, {"map_cut_1000"}, relevance_level=2).evaluate(runs[model])
        assert list(got) == pytest.approx([e.get(q, {"map_cut_1000": 0.0})["map_cut_1000"] for q in ids], abs=1e-9)
    for metric in ("rprec", "p@5", "precision@100", "hit@1000", "map", "mrr@10"):
        per_query_values(con, metric, "bm25", "dense", level=3)
    path = tmp_path / "gates.yaml"
    path.write_text("gates:\n- {metric: map@1000, baseline: bm25, candidate: dense, min_value: 0, relevance_level: 2,"
                    " all_queries: true}\n- {metric: rprec, baseline: bm25, candidate: dense, max_drop: 1,"
                    " relevance_level: 0}\n")
    with pytest.raises(GatesError, match="relevance_level:` must be a whole number >= 1"):
        load_gates(path)
    path.write_text("gates:\n- {metric: map@1000, baseline: bm25, candidate: dense, min_value: 0, relevance_level: 2,"
                    " all_queries: true}\n")
    result = evaluate(con, load_gates(path)[0])
    assert result.status == "PASS" and result.checks[0].size == len(qrels)
    assert result.checks[0].candidate == pytest.approx(float(np.mean(cand)), abs=1e-12)
