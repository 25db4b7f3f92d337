"""Exact AP / ROC AUC by one sort (store/quality.py), the table built at load, and the binned
bounds, against scikit-learn on the raw rows (ties, constant scores, a segment without positives)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from dashboard.metrics import classification as clf
from dashboard.services import thresholds as svc
from dashboard.store import summaries
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file
from dashboard.store.readers import InputError

DAY0 = datetime(2026, 3, 1)


def _frame(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    label = (rng.random(n) < 0.2).astype(np.int8)
    score = np.where(rng.random(n) < 0.5, np.round(rng.random(n), 2),  # half the rows heavily tied
                     rng.normal(0.3 + 0.3 * label, 0.2))
    seg = rng.choice(["a", "b", "c"], n)
    label[seg == "c"] = 0  # a segment with no positive: AP and AUC undefined there
    const = np.full(n, 0.5)  # a model scoring every row alike: AUC 1/2, AP the positive rate
    days = rng.integers(0, 10, n)
    return {"score": score, "label": label, "seg": seg, "const": const,
            "ts": np.array([DAY0 + timedelta(days=int(d)) for d in days]), "day": days}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    d = _frame(3000, 5)
    tmp = tmp_path_factory.mktemp("quality")
    n = len(d["score"])
    table = pa.table({"model": ["m"] * n + ["flat"] * n, "score": np.r_[d["score"], d["const"]],
                      "label": np.r_[d["label"], d["label"]], "ts": np.r_[d["ts"], d["ts"]],
                      "seg": np.r_[d["seg"], d["seg"]]})
    pq.write_table(table, tmp / "p.parquet")
    db = tmp / "db.duckdb"
    ingest_file(db, "predictions", tmp / "p.parquet")
    return db, d


def _oracle(label, score):
    if label.min() == label.max():
        return None if label.max() == 0 else 1.0, None
    return average_precision_score(label, score), roc_auc_score(label, score)


@pytest.mark.parametrize("model,key", [("m", "score"), ("flat", "const")])
def test_stored_values_match_sklearn(loaded, model, key):
    db, d = loaded
    con = connect(db, read_only=True)
    try:
        got = svc.exact_quality(con, model, by="seg")
        stored = con.execute("SELECT count(*) FROM prediction_quality WHERE model = ?", [model]).fetchone()[0]
    finally:
        con.close()
    assert stored == 4  # overall + a, b, c
    for value, mask in [("", np.ones(len(d["label"]), bool))] + [(s, d["seg"] == s) for s in "abc"]:
        ap, auc = _oracle(d["label"][mask], d[key][mask])
        row = got[value]
        assert row["exact"]
        if ap is None:
            assert row["average_precision"] is None and row["roc_auc"] is None
        else:
            assert row["average_precision"] == pytest.approx(ap, abs=1e-9)
            assert row["roc_auc"] == pytest.approx(auc, abs=1e-9)


def test_filtered_view_is_exact_by_one_sort(loaded):
    db, d = loaded
    flt = svc.Filter(date(2026, 3, 3), date(2026, 3, 7), "seg", "b")
    con = connect(db, read_only=True)
    try:
        assert svc.stored_quality(con, "m", flt) is None  # dates cut: not the stored whole range
        got = svc.exact_quality(con, "m", flt, by="seg")
        whole = svc.stored_quality(con, "m", svc.Filter(date(2026, 3, 1), date(2026, 3, 10)))
        quick = svc.quick_quality(con, "m", flt)
    finally:
        con.close()
    mask = (d["seg"] == "b") & (d["day"] >= 2) & (d["day"] <= 6)
    ap, auc = _oracle(d["label"][mask], d["score"][mask])
    for value in ("", "b"):
        assert got[value]["average_precision"] == pytest.approx(ap, abs=1e-9)
        assert got[value]["roc_auc"] == pytest.approx(auc, abs=1e-9)
    assert whole is not None and whole[""]["exact"]  # dates spanning every row read the table
    assert not quick[""]["exact"]
    lo, hi = quick[""]["bounds"]["average_precision"]
    assert lo <= ap <= hi
    lo, hi = quick[""]["bounds"]["roc_auc"]
    assert lo <= auc <= hi


def test_quality_from_sums_matches_sklearn_on_ties():
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(2, 200))
        label = (rng.random(n) < rng.random()).astype(int)
        score = rng.integers(0, int(rng.integers(1, 8)), n).astype(float)
        order = np.argsort(-score, kind="stable")
        s, y = score[order], label[order]
        # counts at or above each row's score (its ties included) and 1 + rows above it
        n_ge = np.searchsorted(-s, -s, side="right")
        rank = np.searchsorted(-s, -s, side="left") + 1
        tp_ge = np.cumsum(y)[n_ge - 1]
        pos = y == 1
        q = clf.quality_from_sums(int(pos.sum()), int((~pos).sum()), float(np.sum(tp_ge[pos] / n_ge[pos])),
                                  int(np.sum(n_ge[pos] + rank[pos])))
        ap, auc = _oracle(label, score)
        if label.max() == 0:
            assert q["average_precision"] is None
            continue
        assert q["average_precision"] == pytest.approx(ap, abs=1e-12)
        assert q["roc_auc"] == (None if auc is None else pytest.approx(auc, abs=1e-12))


def test_binned_bounds_hold_the_exact_values():
    rng = np.random.default_rng(11)
    for trial in range(300):
        n = int(rng.integers(2, 300))
        label = (rng.random(n) < rng.random()).astype(int)
        if label.min() == label.max():
            continue
        score = rng.integers(0, int(rng.integers(1, 20)), n) + (rng.random(n) if trial % 2 else 0.0)
        bins = np.floor(score / (score.max() + 1e-9) * int(rng.integers(1, 6))).astype(int)
        pos, neg = np.bincount(bins, label), np.bincount(bins, 1 - label)
        bounds = clf.binned_quality_bounds(pos, neg)
        for name, exact in [("average_precision", average_precision_score(label, score)),
                            ("roc_auc", roc_auc_score(label, score))]:
            lo, hi = bounds[name]
            assert lo - 1e-12 <= exact <= hi + 1e-12


def test_a_refused_load_leaves_the_stored_quality_as_it_was(loaded, tmp_path, monkeypatch):
    db, d = loaded
    copy = tmp_path / "db.duckdb"
    copy.write_bytes(db.read_bytes())
    con = connect(copy, read_only=True)
    before = con.execute("SELECT * FROM prediction_quality ORDER BY ALL").fetchall()
    con.close()
    n = 500
    pq.write_table(pa.table({"model": ["new"] * n, "score": np.linspace(0, 1, n), "label": np.arange(n) % 2,
                             "ts": [DAY0] * n, "seg": ["a"] * n}), tmp_path / "new.parquet")
    real = summaries.build_prediction_quality

    def build_then_fail(con, models):  # the table is written, then the load fails before commit
        real(con, models)
        assert con.execute("SELECT count(*) FROM prediction_quality WHERE model = 'new'").fetchone()[0] > 0
        raise InputError(["simulated failure after the quality table was built"])

    monkeypatch.setattr(summaries, "build_prediction_quality", build_then_fail)
    with pytest.raises(InputError):
        ingest_file(copy, "predictions", tmp_path / "new.parquet")
    con = connect(copy, read_only=True)
    try:
        assert con.execute("SELECT * FROM prediction_quality ORDER BY ALL").fetchall() == before
        assert con.execute("SELECT count(*) FROM predictions WHERE model = 'new'").fetchone()[0] == 0
    finally:
        con.close()
