"""The per-segment sums stored at load give every re-split exactly what grouping the per-query
table gives: each model alone and each pair in both orders, every segment column, with and
without trec_eval's -c, at several k, gains and levels (one above every grade)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.services import ranking as svc
from dashboard.store import ranking_sums
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file

MODELS = ("m1", "m2", "m3")


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    """Three scored models, each missing some judged queries (rows of zeros with -c), a logged one,
    query segments with an empty value and a query without segments."""
    path = tmp_path_factory.mktemp("sums")
    rng = np.random.default_rng(4)
    queries = [f"q{i}" for i in range(60)]
    qrels = [(q, f"d{j}", int(rng.choice([-1, 0, 0, 1, 2, 3]))) for q in queries for j in range(8)]
    pd.DataFrame(qrels, columns=["query_id", "item_id", "relevance"]).to_csv(path / "qrels.csv", index=False)
    run = [(m, q, f"d{j}", round(float(rng.normal()), 1)) for i, m in enumerate(MODELS) for q in queries
           if rng.random() > 0.1 * (i + 1) for j in rng.choice(10, size=6, replace=False)]
    pd.DataFrame(run, columns=["model", "query_id", "item_id", "score"]).to_csv(path / "run.csv", index=False)
    logged = [("logged", q, f"d{j}", j + 1, int(rng.integers(0, 3))) for q in queries[:40] for j in range(5)]
    pd.DataFrame(logged, columns=["model", "query_id", "item_id", "position", "relevance"]).to_csv(
        path / "log.csv", index=False)
    known = queries[:-1]  # the last query has no segments: '(missing)' in every column
    seg = pd.DataFrame({"query_id": known, "tier": rng.choice(["free", "plus", ""], len(known)),
                        "locale": rng.choice(["de", "en"], len(known))})
    seg.to_csv(path / "queries.csv", index=False)
    db = path / "s.duckdb"
    for kind, name in (("qrels", "qrels.csv"), ("run", "run.csv"), ("run", "log.csv"), ("queries", "queries.csv")):
        ingest_file(db, kind, path / name)
    c = connect(db, read_only=True)
    yield c
    c.close()


def _same(a: dict, b: dict) -> bool:
    for key in b:
        x, y = a[key], b[key]
        if key == "segment":
            if (x or "") != (y or ""):
                return False
        elif x is None or y is None:
            if not (x is None and y is None):
                return False
        elif not math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12):
            return False
    return set(a) == set(b)


PAIRS = [(m, b) for m in [*MODELS, "logged"] for b in ["", *MODELS, "logged"] if m != b]  # not against itself


@pytest.mark.parametrize("model,baseline", PAIRS)
def test_stored_sums_equal_the_group_by(con, monkeypatch, model, baseline):
    live_read = ranking_sums.read
    for by in ("", "tier", "locale"):
        for all_queries in (False, True):
            for k, gain, level in ((5, "exp", 2), (10, "linear", 9)):
                for overall in (False, True) if by else (False,):
                    args = (con, model, k, gain, by, baseline, level, all_queries)
                    stored = ranking_sums.read(con, model, baseline, by, all_queries,
                                               svc._columns(con, k, gain, level), overall)
                    assert stored is not None, args[1:]
                    monkeypatch.setattr(ranking_sums, "read", lambda *a: None)
                    live = svc._sums(*args, with_overall=overall)
                    monkeypatch.setattr(ranking_sums, "read", live_read)
                    assert len(stored) == len(live) and all(map(_same, stored, live)), args[1:]


def test_unknown_model_or_column_falls_back_to_the_checks(con):
    with pytest.raises(ValueError, match="unknown ranking model"):
        svc.segment_table(con, "nope", 5, "linear", "tier")
    with pytest.raises(ValueError, match="unknown query segment"):
        svc.segment_table(con, "m1", 5, "linear", "nope", "m2")
    assert ranking_sums.read(con, "m1", "", "nope", False, svc._columns(con, 5, "linear", 1), True) is None


@pytest.mark.parametrize("model", [*MODELS, "logged"])
def test_coverage_grouped_at_load_equals_the_raw_run(con, monkeypatch, model):
    """The coverage column reads counts grouped at load: the same shares as ranking the raw run."""
    from dashboard.store import ranking_coverage

    for by in ("", "tier", "locale"):
        stored = svc.coverage_by_k(con, model, by)
        assert ranking_coverage.read(con, model, by), (model, by)
        monkeypatch.setattr(ranking_coverage, "read", lambda *a: None)
        assert stored == svc.coverage_by_k(con, model, by), (model, by)
        monkeypatch.undo()
    assert svc.coverage(con, model, 5, "tier") == svc.coverage_by_k(con, model, "tier")[5]
