"""Score drift of the weekly review: PSI on quantile groups of the fine score bins, against last
week and a fixed baseline, checked against PSI computed independently from the raw scores."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from dashboard.metrics import weekly as wk
from dashboard.services import weekly_models as wm
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file

FIRST = date(2026, 10, 5)  # a Monday; six weeks of predictions, the last one is 2026-W46
WEEK = date(2026, 11, 9)
ROWS_A_DAY = 400


def _scores(rng, n, a, b, factor=1.0):
    return np.clip(rng.beta(a, b, n) * factor, 0, 1)


@pytest.fixture(scope="module")
def drift_db(tmp_path_factory):
    """Model 'wide': scores around 0.03, android shifted up 40% in the last week. Model 'rare':
    a fraud-like model with every score below 0.01 (one coarse bin of 100), android shifted x1.6."""
    rng = np.random.default_rng(11)
    frames, raw = [], []
    for d in range(42):
        day = FIRST + timedelta(days=d)
        last = day >= WEEK
        for model, (a, b) in (("wide", (2.0, 60.0)), ("rare", (2.0, 3000.0))):
            for device in ("android", "ios"):
                factor = (1.4 if model == "wide" else 1.6) if (last and device == "android") else 1.0
                s = _scores(rng, ROWS_A_DAY, a, b, factor)
                ts = [datetime(day.year, day.month, day.day, 12) for _ in s]
                frames.append(pd.DataFrame({"model": model, "score": s, "label": rng.integers(0, 2, s.size),
                                            "ts": ts, "device": device}))
                raw.append(pd.DataFrame({"model": model, "score": s, "day": day, "device": device}))
    path = tmp_path_factory.mktemp("drift")
    pd.concat(frames).to_csv(path / "predictions.csv", index=False)
    db = path / "d.duckdb"
    ingest_file(db, "predictions", path / "predictions.csv")
    return db, pd.concat(raw, ignore_index=True)


def _psi_from_raw(reference: np.ndarray, current: np.ndarray) -> float:
    """Independent PSI: deciles of the raw reference scores (numpy quantiles), shares floored."""
    edges = np.quantile(reference, np.arange(1, 10) / 10)
    e = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=10) / reference.size
    a = np.bincount(np.searchsorted(edges, current, side="right"), minlength=10) / current.size
    e, a = np.maximum(e, 1e-4), np.maximum(a, 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def _raw(raw, model, device, lo, hi):
    sel = (raw.model == model) & (raw.day >= lo) & (raw.day <= hi)
    if device:
        sel &= raw.device == device
    return raw.loc[sel, "score"].to_numpy()


@pytest.mark.parametrize("device", ["android", "ios", ""])
def test_psi_against_last_week_and_baseline_matches_raw_scores(drift_db, device):
    db, raw = drift_db
    con = connect(db, read_only=True)
    try:
        got = wm.score_drift(con, WEEK, WEEK + timedelta(days=6))
    finally:
        con.close()
    entry = got[("wide", "device" if device else "", device)]
    this = _raw(raw, "wide", device, WEEK, WEEK + timedelta(days=6))
    last = _raw(raw, "wide", device, WEEK - timedelta(days=7), WEEK - timedelta(days=1))
    base = _raw(raw, "wide", device, FIRST, FIRST + timedelta(days=27))
    assert entry["n_this"] == this.size and entry["n_last"] == last.size and entry["n_baseline"] == base.size
    assert entry["last"] == pytest.approx(_psi_from_raw(last, this), abs=0.01, rel=0.05)
    assert entry["baseline"] == pytest.approx(_psi_from_raw(base, this), abs=0.01, rel=0.05)
    if device == "android":
        assert entry["last"] > wk.PSI_MODERATE and entry["baseline"] > wk.PSI_MODERATE
    if device == "ios":
        assert entry["last"] < wk.PSI_MODERATE and entry["baseline"] < wk.PSI_MODERATE


def test_a_shift_inside_the_lowest_coarse_bin_is_seen(drift_db):
    """Every score of 'rare' is below 0.01: 100 coarse bins put them all in one group (PSI 0.000);
    quantile groups of the fine bins see the android shift as raw scores do."""
    db, raw = drift_db
    con = connect(db, read_only=True)
    try:
        got = wm.score_drift(con, WEEK, WEEK + timedelta(days=6))
        alerts = wm.model_alerts(con, WEEK, WEEK + timedelta(days=6))
    finally:
        con.close()
    this = _raw(raw, "rare", "android", WEEK, WEEK + timedelta(days=6))
    last = _raw(raw, "rare", "android", WEEK - timedelta(days=7), WEEK - timedelta(days=1))
    assert this.max() < 0.01 and last.max() < 0.01
    coarse = lambda s: np.bincount(np.minimum((s * 100).astype(int), 100), minlength=101)  # noqa: E731
    assert wk.psi_from_groups(coarse(last), coarse(this)) < 0.01  # the old reading
    entry = got[("rare", "device", "android")]
    assert entry["last"] == pytest.approx(_psi_from_raw(last, this), abs=0.02, rel=0.1)
    assert entry["last"] > wk.PSI_MAJOR
    drift = {(a["model"], a["segment_value"]) for a in alerts if a["kind"] == "score drift"}
    assert ("rare", "android") in drift and ("wide", "android") in drift
    assert ("rare", "ios") not in drift and ("wide", "ios") not in drift


def test_an_explicit_baseline_window(drift_db):
    db, raw = drift_db
    lo, hi = FIRST + timedelta(days=14), FIRST + timedelta(days=20)
    con = connect(db, read_only=True)
    try:
        got = wm.score_drift(con, WEEK, WEEK + timedelta(days=6), wm.DriftBaseline(lo, hi))
    finally:
        con.close()
    entry = got[("wide", "device", "android")]
    base = _raw(raw, "wide", "android", lo, hi)
    this = _raw(raw, "wide", "android", WEEK, WEEK + timedelta(days=6))
    assert entry["n_baseline"] == base.size
    assert entry["baseline"] == pytest.approx(_psi_from_raw(base, this), abs=0.01, rel=0.05)
    assert wm.DriftBaseline(lo, hi).describe() == "2026-10-19..2026-10-25"


def test_quantile_groups_rule():
    ref = np.array([0, 5, 0, 0, 50, 5, 10, 30, 0])
    g = wk.quantile_groups(ref, 10)
    assert list(g) == [0, 0, 0, 0, 5, 5, 6, 9, 9]  # a heavy bin is one group; empty bins join the one below
    assert np.all(np.diff(g) >= 0)
    assert list(wk.quantile_groups(np.zeros(4, dtype=int))) == [0, 0, 0, 0]


def test_report_weekly_takes_a_drift_baseline(drift_db, capsys):
    import json

    from dashboard.cli import main

    db, _ = drift_db
    daily = db.parent / "daily.csv"
    pd.DataFrame({"date": pd.date_range("2026-10-05", "2026-11-15").date, "metric": "dau",
                  "value": 100.0}).to_csv(daily, index=False)
    ingest_file(db, "daily", daily)
    assert main(["report", "weekly", "--db", str(db), "--week", "2026-W46",
                 "--drift-baseline", "2026-10-19:2026-10-25"]) == 0
    out = json.loads(capsys.readouterr().out)
    drift = [a for a in out["alerts"] if a["kind"] == "score drift"]
    assert drift and all("2026-10-19..2026-10-25" in a["detail"] for a in drift)
    assert main(["report", "weekly", "--db", str(db), "--drift-baseline", "last month"]) == 2
    assert "2026-09-28:2026-10-25" in capsys.readouterr().err
