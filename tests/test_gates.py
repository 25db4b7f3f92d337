"""`check` gates on a hand-made database: classification values vs scikit-learn, ranking per-query
values vs pytrec_eval, paired significance vs scipy, and the command's output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import pytrec_eval
from scipy import stats
from sklearn.metrics import precision_recall_curve, roc_auc_score

from dashboard.gates import GatesError, evaluate, parse_gates
from dashboard.gates_ranking import per_query_pairs, per_query_values
from dashboard.metrics.binning import assign_bins
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file

REPO = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(21)


def _predictions() -> pd.DataFrame:
    frames = []
    n = 4000
    country = RNG.choice(["de", "fr", "us"], n, p=[0.3, 0.3, 0.4])
    y = RNG.binomial(1, 0.15, n)
    for model, sep in (("fraud-v1", 0.35), ("fraud-v2", 0.28)):  # v2 separates worse
        score = np.round(np.clip(RNG.normal(0.3 + sep * y, 0.15), 0, 1), 3)  # rounding: ties
        frames.append(pd.DataFrame({"model": model, "score": score, "label": y, "country": country}))
    return pd.concat(frames)


def _ranking():
    queries, runs, qrels = [], [], []
    for q in range(240):
        qid = f"q{q:03d}"
        band = "head" if q < 120 else "tail"
        queries.append({"query_id": qid, "freq_band": band})
        items = [f"d{i:02d}" for i in range(30)]
        rel = RNG.choice([0, 0, 0, 1, 2, 3], 30)
        for it, r in zip(items, rel):
            if r > 0 or RNG.uniform() < 0.5:
                qrels.append({"query_id": qid, "item_id": it, "relevance": int(r)})
        noise_v3 = 1.0 if band == "head" else 3.0  # v3 worse on the tail
        for model, noise in (("search-v2", 1.5), ("search-v3", noise_v3)):
            score = np.round(rel + RNG.normal(0, noise, 30), 1)  # rounding: ties, broken by item id
            for it, s in zip(items[:25], score[:25]):
                runs.append({"model": model, "query_id": qid, "item_id": it, "score": float(s)})
    return pd.DataFrame(queries), pd.DataFrame(runs), pd.DataFrame(qrels)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = tmp_path_factory.mktemp("gates")
    preds = _predictions()
    queries, runs, qrels = _ranking()
    files = {"predictions": preds, "queries": queries, "qrels": qrels, "run": runs}
    for kind, frame in files.items():
        frame.to_csv(d / f"{kind}.csv", index=False)
    pd.DataFrame([{"experiment_id": "E1", "metric": "ndcg@10", "control_value": 0.5, "treatment_value": 0.54}]
                 ).to_csv(d / "offline.csv", index=False)
    path = d / "gates.duckdb"
    for kind in ("predictions", "queries", "qrels", "run", "offline"):
        ingest_file(path, kind, d / f"{kind}.csv")
    return path, preds, runs, qrels, queries


@pytest.fixture
def con(db):
    c = connect(db[0], read_only=True)
    yield c
    c.close()


def _gate(text):
    (g,) = parse_gates(text)
    return g


def _sk_recall_at_precision(y, s, target):
    p, r, _ = precision_recall_curve(y, s)
    return r[p >= target].max()


def test_classification_gate_values_match_sklearn(con, db):
    preds = db[1]
    g = _gate("gates:\n- {metric: recall@precision>=0.9, baseline: fraud-v1, candidate: fraud-v2, "
              "max_drop: 0.01, segments: all}\n")
    result = evaluate(con, g)
    checks = {c.segment: c for c in result.checks}
    assert set(checks) == {"overall", "country=de", "country=fr", "country=us"}
    for model, attr in (("fraud-v1", "baseline"), ("fraud-v2", "candidate")):
        m = preds[preds.model == model]
        # exact against sklearn on the binned scores, close to sklearn on the raw scores
        bins = assign_bins(m.score.to_numpy(), 0.0, 1.0)
        assert getattr(checks["overall"], attr) == pytest.approx(
            _sk_recall_at_precision(m.label, bins, 0.9), abs=1e-12)
        assert getattr(checks["overall"], attr) == pytest.approx(
            _sk_recall_at_precision(m.label, m.score, 0.9), abs=2e-3)
        de = m[m.country == "de"]
        assert getattr(checks["country=de"], attr) == pytest.approx(
            _sk_recall_at_precision(de.label, assign_bins(de.score.to_numpy(), 0.0, 1.0), 0.9), abs=1e-12)
    assert checks["overall"].size == (preds.model == "fraud-v2").sum()
    assert result.status == "FAIL" and "dropped" in checks["overall"].why
    auc = evaluate(con, _gate("gates:\n- {metric: auc, baseline: fraud-v1, candidate: fraud-v1, max_drop: 0}\n"))
    m = preds[preds.model == "fraud-v1"]
    assert auc.status == "PASS"
    assert auc.checks[0].candidate == pytest.approx(roc_auc_score(m.label, assign_bins(m.score.to_numpy(), 0, 1)))


def test_ranking_per_query_values_match_pytrec_eval(con, db):
    _, _, runs, qrels, _ = db
    qrel = {}
    for r in qrels.itertuples():
        qrel.setdefault(r.query_id, {})[r.item_id] = int(r.relevance)
    for model in ("search-v2", "search-v3"):
        run = {}
        for r in runs[runs.model == model].itertuples():
            run.setdefault(r.query_id, {})[r.item_id] = float(r.score)
        # recip_rank is uncut in trec_eval: cut the run at 10 (trec order) for MRR@10
        cut = {q: dict(sorted(d.items(), key=lambda kv: (-kv[1], tuple(-ord(ch) for ch in kv[0])))[:10])
               for q, d in run.items()}
        full = pytrec_eval.RelevanceEvaluator(qrel, {"ndcg_cut_10", "recall_10"}).evaluate(run)
        mrr = pytrec_eval.RelevanceEvaluator(qrel, {"recip_rank"}).evaluate(cut)
        for metric, ref in (("ndcg@10", {q: v["ndcg_cut_10"] for q, v in full.items()}),
                            ("recall@10", {q: v["recall_10"] for q, v in full.items()}),
                            ("mrr@10", {q: v["recip_rank"] for q, v in mrr.items()})):
            ids, base, cand = per_query_values(con, metric, model, model)
            got = dict(zip(ids, cand))
            assert set(got) == set(ref)
            assert [got[q] for q in sorted(ref)] == pytest.approx([ref[q] for q in sorted(ref)], abs=1e-12), metric


def test_ranking_gate_significant_drop_by_segment(con):
    g = _gate("gates:\n- name: NDCG holds\n  metric: ndcg@10\n  baseline: search-v2\n  candidate: search-v3\n"
              "  segments: all\n  no_significant_drop: true\n")
    result = evaluate(con, g)
    checks = {c.segment: c for c in result.checks}
    assert set(checks) == {"overall", "freq_band=head", "freq_band=tail"}
    assert result.status == "FAIL"
    assert checks["freq_band=tail"].passed is False and "significant drop" in checks["freq_band=tail"].why
    assert checks["freq_band=head"].passed is True
    # p-values are scipy's paired t-test; q-values BH across the three slices
    ids, base, cand = per_query_values(con, "ndcg@10", "search-v2", "search-v3")
    assert checks["overall"].p_value == pytest.approx(stats.ttest_rel(cand, base).pvalue, rel=1e-9)
    pairs = per_query_pairs(con, "ndcg@10", "search-v2", "search-v3", ["freq_band"])
    assert pairs["freq_band=tail"][2].n == 120
    q = stats.false_discovery_control([c.p_value for c in result.checks], method="bh")
    assert [c.q_value for c in result.checks] == pytest.approx(list(q))


def test_min_size_offline_and_errors(con):
    small = evaluate(con, _gate("gates:\n- {metric: auc, baseline: fraud-v1, candidate: fraud-v2, "
                                "max_drop: 1, segments: [country], min_size: 1300}\n"))
    skipped = [c for c in small.checks if c.passed is None]
    assert skipped and all("not judged" in c.why for c in skipped) and small.status == "PASS"
    off = evaluate(con, _gate("gates:\n- {experiment: E1, metric: ndcg@10, max_drop: 0}\n"))
    assert off.status == "PASS" and off.checks[0].candidate == 0.54
    missing = evaluate(con, _gate("gates:\n- {metric: auc, baseline: fraud-v9, candidate: fraud-v2, max_drop: 0}\n"))
    assert missing.status == "ERROR" and "fraud-v9" in missing.summary
    seg = evaluate(con, _gate("gates:\n- {metric: auc, baseline: fraud-v1, candidate: fraud-v2, max_drop: 0, segments: [planet]}\n"))
    assert seg.status == "ERROR" and "planet" in seg.summary


def test_invalid_gates_file_lists_every_problem():
    with pytest.raises(GatesError) as info:
        parse_gates("gates:\n- {metric: f1, baseline: a, candidate: b, max_drop: x}\n"
                    "- {metric: auc, baseline: a}\n- {metric: ndcg@10, baseline: a, candidate: b, maxdrop: 1}\n")
    msgs = "\n".join(info.value.problems)
    assert "<string>:2" in msgs and "unknown classification metric 'f1'" in msgs
    assert "`max_drop:` must be a number" in msgs
    assert "<string>:3" in msgs and "needs `baseline:` and `candidate:`" in msgs
    assert "<string>:4" in msgs and "unknown field 'maxdrop'" in msgs
    with pytest.raises(GatesError, match="non-empty list"):
        parse_gates("gates: []\n")


def _check(db_path, gates_path, *extra):
    return subprocess.run([sys.executable, "-m", "dashboard", "check", "--db", str(db_path), str(gates_path), *extra],
                          capture_output=True, text=True, cwd=REPO, timeout=120)


def test_check_command_exit_codes(db, tmp_path):
    passing = tmp_path / "pass.yaml"
    passing.write_text("gates:\n- {name: AUC floor, metric: auc, baseline: fraud-v1, candidate: fraud-v2, min_value: 0.5}\n")
    proc = _check(db[0], passing)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS  AUC floor: auc: candidate") and "1 gate(s) passed, 0 failed." in proc.stdout
    failing = tmp_path / "fail.yaml"
    failing.write_text("gates:\n- {name: NDCG, metric: ndcg@10, baseline: search-v2, candidate: search-v3, "
                       "segments: all, no_significant_drop: true}\n")
    proc = _check(db[0], failing)
    assert proc.returncode == 1 and "FAIL  NDCG" in proc.stdout and "freq_band=tail" in proc.stdout
    assert "CI of the change" in proc.stdout
    proc = _check(db[0], failing, "--json")
    out = json.loads(proc.stdout)
    assert out[0]["status"] == "FAIL" and {c["segment"] for c in out[0]["checks"]} >= {"overall", "freq_band=tail"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("gates:\n- {metric: auc}\n")
    proc = _check(db[0], bad)
    assert proc.returncode == 2 and "needs `baseline:`" in proc.stderr


def test_demo_gates_file_parses():
    gates = parse_gates((REPO / "data" / "gates.yaml").read_text())
    assert {g.family for g in gates} >= {"classification", "ranking"}
