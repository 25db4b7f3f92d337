"""`report thresholds` at typed thresholds: exact counts at `score >= t` (scikit-learn's confusion
matrix as the oracle) at every two-decimal threshold, on seeded data with heavy ties; typed values on
a bin edge use that edge; no clamping; non-finite thresholds refused."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix

from dashboard.metrics.binning import bin_edges
from dashboard.services import thresholds as svc
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file

TWO_DECIMALS = [k / 100 for k in range(1, 100)]


def tied_frame(seed: int, n: int = 3000) -> pd.DataFrame:
    """Half the scores on the two-decimal grid (ties exactly at the typed thresholds), half continuous
    (rows just below a grid value catch a threshold snapped one bin down)."""
    rng = np.random.default_rng(seed)
    score = rng.beta(1.2, 3.0, n)
    grid = rng.random(n) < 0.5
    score[grid] = np.round(score[grid], 2)
    label = (rng.random(n) < score).astype(float)
    label[rng.random(n) < 0.1] = np.nan  # unlabeled rows count as flagged, not in the matrix
    return pd.DataFrame({"model": "m", "score": score, "label": label,
                         "country": rng.choice(["BR", "US", "JP"], n), "value": rng.gamma(2.0, 10.0, n)})


@pytest.fixture(scope="module")
def tied_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("tied")
    frame = tied_frame(11)
    frame.to_csv(path / "predictions.csv", index=False)
    ingest_file(path / "t.duckdb", "predictions", path / "predictions.csv")
    return path / "t.duckdb", frame


def args(threshold, by="country"):
    return argparse.Namespace(model="m", threshold=threshold, by=by, date_from=None, date_to=None)


def matrix(frame, t):
    labelled = frame[frame.label.notna()]
    return confusion_matrix(labelled.label, labelled.score >= t, labels=[0, 1]).ravel()  # tn fp fn tp


def test_raw_rows_give_exact_counts_at_every_two_decimal_threshold(tied_db):
    db, frame = tied_db
    con = connect(db, read_only=True)
    try:
        for t in TWO_DECIMALS:
            out = svc.report(con, args(t))
            assert out["threshold"] == t and out["counts_from"].startswith("raw rows")
            for row, part in [(out["overall"], frame)] + [
                    (seg, frame[frame.country == seg["value"]]) for seg in out["segments"]]:
                tn, fp, fn, tp = matrix(part, t)
                assert (row["tp"], row["fp"], row["tn"], row["fn"]) == (tp, fp, tn, fn), t
                assert row["flagged"] == int((part.score >= t).sum())
            caught = frame[(frame.label == 1) & (frame.score >= t)].value.sum()
            assert out["per_day"]["value_caught_per_day"] == pytest.approx(caught)
        # a threshold between bin edges is exact too (the raw rows are there)
        t = 0.123456789
        tn, fp, fn, tp = matrix(frame, t)
        o = svc.report(con, args(t, by=""))["overall"]
        assert (o["tp"], o["fp"], o["tn"], o["fn"]) == (tp, fp, tn, fn)
    finally:
        con.close()


def test_summaries_only_use_the_edge_a_typed_threshold_lies_on(tmp_path):
    """Only bins loaded (raw rows gone, as after `summarize`): continuous scores, so `score >= edge`
    equals `score >= t` when the edge is t within floating error (and not when it is one bin down)."""
    frame = tied_frame(5)
    frame["score"] = np.random.default_rng(5).beta(1.2, 3.0, len(frame))
    frame.to_csv(tmp_path / "p.csv", index=False)
    ingest_file(tmp_path / "s.duckdb", "predictions", tmp_path / "p.csv")
    con = connect(tmp_path / "s.duckdb")
    con.execute("DELETE FROM predictions")
    try:
        for t in TWO_DECIMALS:
            out = svc.report(con, args(t, by=""))
            assert out["threshold"] == t and out["counts_from"].startswith("score bins")
            tn, fp, fn, tp = matrix(frame, t)
            o = out["overall"]
            assert (o["tp"], o["fp"], o["tn"], o["fn"]) == (tp, fp, tn, fn), t
        above = svc.report(con, args(1.5, by=""))
        assert above["overall"]["flagged"] == 0 and "nothing is flagged" in above["note"]
        assert above["threshold"] == 1.5
    finally:
        con.close()


def test_snap_index_on_every_two_decimal_edge_and_outside_the_range():
    edges = bin_edges(0.0, 1.0)
    for t in TWO_DECIMALS:
        assert edges[svc.snap_index(edges, t)] == pytest.approx(t, abs=1e-12)
    assert svc.snap_index(edges, 0.70005) == 7000  # between edges: the one below
    assert svc.snap_index(edges, -3.0) == 0
    assert svc.snap_index(edges, 1.0) == 10_000
    assert svc.snap_index(edges, 1.5) == len(edges)  # above every edge: none, never clamped


def run_cli(db, *extra):
    return subprocess.run([sys.executable, "-m", "dashboard", "report", "thresholds", "--db", str(db),
                           "--model", "fraud-v3", *extra], capture_output=True, text=True)


def strict_json(text):
    def refuse(name):
        raise AssertionError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def test_cli_reports_the_typed_threshold_and_never_clamps(demo_db):
    out = run_cli(demo_db, "--threshold", "0.7")
    assert out.returncode == 0, out.stderr
    assert strict_json(out.stdout)["threshold"] == 0.7
    out = run_cli(demo_db, "--threshold", "1.5", "--by", "country")
    result = strict_json(out.stdout)
    assert result["overall"]["flagged"] == 0 and result["overall"]["tp"] + result["overall"]["fp"] == 0
    assert all(s["flagged"] == 0 for s in result["segments"])
    assert result["threshold"] == 1.5 and "nothing is flagged" in result["note"]


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "NaN", "abc"])
def test_cli_refuses_non_finite_thresholds(demo_db, bad):
    out = run_cli(demo_db, f"--threshold={bad}")
    assert out.returncode == 2 and out.stdout == ""
    assert "--threshold" in out.stderr and ("finite" in out.stderr or "number" in out.stderr)
    assert "Traceback" not in out.stderr
