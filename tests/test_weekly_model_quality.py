"""Model-quality alerts of the weekly review: ROC AUC per week on the fine score bins with DeLong's
variance (dashboard.metrics.auc_change, SQL in dashboard.services.weekly_models), checked against
scikit-learn's AUC and a brute-force DeLong variance on the raw scores; the alert fires on a real
drop and not on a score shift that leaves the ranking unchanged (the old 100 coarse bins did)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from dashboard.metrics import auc_change as ac
from dashboard.metrics import classification as clf
from dashboard.services import weekly_models as wm
from dashboard.store.connection import connect
from dashboard.store.ingest import ingest_file

FIRST = date(2026, 10, 5)  # a Monday; five weeks, the last one 2026-W45 starts on WEEK
WEEK = date(2026, 11, 2)
ROWS_A_DAY = 300


def _delong_brute(scores, labels):
    """DeLong variance from every positive-negative pair (O(P N)), ties 1/2."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    cmp = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = cmp.mean(axis=1), cmp.mean(axis=0)
    return cmp.mean(), v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size


def _model_rows(rng, n, base, shift, degrade):
    """Fraud-like scores, mostly under 0.03 (a few of the old 100 coarse bins); label from a binormal score."""
    labels = (rng.random(n) < base).astype(int)
    signal = rng.normal(0, 1, n) + labels * (0.6 if degrade else 2.0)
    scores = np.clip(0.006 * np.exp(0.6 * signal) * shift, 0, 1)
    return scores, labels


@pytest.fixture(scope="module")
def quality_db(tmp_path_factory):
    """'steady': unchanged; 'shifted': its android scores fall 40% in the last week (a calibration
    drift, ranking unchanged); 'broken': its android ranking degrades in the last week."""
    rng = np.random.default_rng(4)
    frames = []
    for d in range(35):
        day = FIRST + timedelta(days=d)
        last = day >= WEEK
        for model in ("steady", "shifted", "broken"):
            for device in ("android", "ios"):
                hit = last and device == "android"
                s, y = _model_rows(rng, ROWS_A_DAY, 0.1, 0.6 if hit and model == "shifted" else 1.0,
                                   hit and model == "broken")
                frames.append(pd.DataFrame({"model": model, "score": s, "label": y, "device": device,
                                            "ts": [datetime(day.year, day.month, day.day, 12)] * s.size}))
    raw = pd.concat(frames, ignore_index=True)
    path = tmp_path_factory.mktemp("quality")
    raw.to_csv(path / "predictions.csv", index=False)
    db = path / "q.duckdb"
    ingest_file(db, "predictions", path / "predictions.csv")
    raw["day"] = raw.ts.dt.date
    return db, raw


def test_week_auc_and_its_variance_match_sklearn_and_brute_force_delong(quality_db):
    db, raw = quality_db
    with connect(db, read_only=True) as con:
        aucs = wm.auc_by_period(con, WEEK, WEEK + timedelta(days=6))
    for model in ("steady", "shifted", "broken"):
        for device in ("android", "ios"):
            for period, lo, hi in (("this", WEEK, WEEK + timedelta(days=6)),
                                   ("before", WEEK - timedelta(days=28), WEEK - timedelta(days=1))):
                sel = raw[(raw.model == model) & (raw.device == device) & (raw.day >= lo) & (raw.day <= hi)]
                got = aucs[(model, "device", device, period)]
                assert got.n_pos == sel.label.sum() and got.n_neg == (sel.label == 0).sum()
                # fine bins tie scores within 1e-4: the exact AUC within 2e-3
                assert got.auc == pytest.approx(roc_auc_score(sel.label, sel.score), abs=2e-3)
                auc_b, var_b = _delong_brute(np.floor(sel.score.to_numpy() * 10_000), sel.label.to_numpy())
                assert got.auc == pytest.approx(auc_b, abs=1e-12)  # binned: exactly the brute force on bins
                assert got.var == pytest.approx(var_b, rel=1e-9)
    overall = aucs[("steady", "", "", "this")]
    assert overall.n_pos + overall.n_neg == ((raw.model == "steady") & (raw.day >= WEEK)).sum()


def test_numpy_sums_equal_the_sql_sums():
    rng = np.random.default_rng(1)
    pos, neg = rng.poisson(2, 50).astype(float), rng.poisson(5, 50).astype(float)
    got = ac.binned_auc(pos, neg)
    scores = np.repeat(np.r_[np.arange(50), np.arange(50)], np.r_[pos, neg].astype(int))
    labels = np.repeat(np.r_[np.ones(50), np.zeros(50)], np.r_[pos, neg].astype(int))
    auc_b, var_b = _delong_brute(scores, labels)
    assert got.auc == pytest.approx(auc_b) and got.var == pytest.approx(var_b)


def test_alert_on_a_real_drop_not_on_a_score_shift(quality_db):
    db, _ = quality_db
    with connect(db, read_only=True) as con:
        alerts = [a for a in wm.model_alerts(con, WEEK, WEEK + timedelta(days=6)) if a["kind"] == "model quality"]
    subjects = {a["subject"] for a in alerts}
    assert "broken · device=android" in subjects
    assert not any(s.startswith(("steady", "shifted")) for s in subjects)
    assert "fewer than 1% of unchanged weeks" in next(a for a in alerts if a["subject"].startswith("broken"))["detail"]


def _old_rule(now, before):
    """The rule this replaced: AUC on 100 coarse bins, drop > 0.02 and > 2 Hanley-McNeil s.e. of this week."""
    def coarse(frame):
        b = np.minimum(np.floor(frame.score.to_numpy() * 10_000).astype(int) // 101, 100)
        y = frame.label.to_numpy()
        return np.bincount(b[y == 1], minlength=101), np.bincount(b[y == 0], minlength=101)
    (pn, nn), (pb, nb) = coarse(now), coarse(before)
    a_now, a_then = clf.binned_roc_auc(pn, nn), clf.binned_roc_auc(pb, nb)
    q1, q2, p, n = a_now / (2 - a_now), 2 * a_now ** 2 / (1 + a_now), pn.sum(), nn.sum()
    se = np.sqrt((a_now * (1 - a_now) + (p - 1) * (q1 - a_now ** 2) + (n - 1) * (q2 - a_now ** 2)) / (p * n))
    return a_then - a_now > 0.02 and a_then - a_now > 2 * se


def test_the_old_coarse_bins_alert_on_the_score_shift(quality_db):
    """The fixture can tell the methods apart: the old rule reads the shift as a quality drop."""
    _, raw = quality_db
    sel = raw[(raw.model == "shifted") & (raw.device == "android")]
    assert _old_rule(sel[sel.day >= WEEK], sel[(sel.day < WEEK) & (sel.day >= WEEK - timedelta(days=28))])


def test_the_drop_needs_both_significance_and_size():
    before = ac.Auc(500, 5000, 0.80, 0.0001)
    assert ac.auc_drop(ac.Auc(50, 500, 0.70, 0.01 ** 2), before).alert  # 0.10, z ~ 7
    assert not ac.auc_drop(ac.Auc(50, 500, 0.79, 0.0001 ** 2), before).alert  # sure but only 0.01
    assert not ac.auc_drop(ac.Auc(50, 500, 0.75, 0.04 ** 2), before).alert  # 0.05 but z ~ 1.2 (logit ~1.4)
