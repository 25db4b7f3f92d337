"""Quick calibration of the time-series verdicts (benchmarks/calib/timeseries.py): every rate
within 1.5x of the stated one, and the simulation catches the old methods if put back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from benchmarks.calib import timeseries as ts
from dashboard.metrics import week_verdict as wv


@pytest.fixture(scope="module")
def rates():
    return ts.simulations(quick=True)


def test_every_quick_rate_is_within_its_target(rates):
    off = [f"{r.claim} / {r.scenario}: {r.rate:.2%} (target {r.target_text()}, {r.n_simulations})"
           for r in rates if not r.ok]
    assert not off, off
    assert {r.scenario.split(",")[0] for r in rates} >= {"independent", "heavy-tailed t3", "AR(1) 0.8"}
    assert sum("holiday" in r.scenario for r in rates) == 9
    assert all(r.n_simulations >= 5000 for r in rates)


def _old_robust_z(weekly: np.ndarray, i: int, weeks: int = 1) -> wv.Scores:
    """The method this replaced: robust z of the week-over-week change over the last 26 changes,
    judged on normal quantiles (infinite degrees of freedom)."""
    w = weekly[:, ::1]
    changes = w[:, 1:] / w[:, :-1] - 1
    now, past = changes[:, i - 1], changes[:, i - 27:i - 1]
    med = np.median(past, axis=1)
    mad = 1.4826 * np.median(np.abs(past - med[:, None]), axis=1)
    nan = np.full(w.shape[0], np.nan)
    return wv.Scores(now, med, (now - med) / mad, np.full(w.shape[0], np.inf), nan + 26, nan,
                     np.zeros(w.shape[0], bool), nan * 0, nan)


def test_the_old_robust_z_would_fail_this_calibration():
    r = ts.fire_rates("AR(1) 0.8", 20_000, seed=1, scorer=_old_robust_z)
    assert r["verdict 1w"] > 1.5 * wv.VERDICT_ALPHA  # measured ~8%
    assert r["alert"] > 1.5 * wv.ALERT_ALPHA
    holiday = ts.fire_rates("independent", 5_000, seed=2, holiday=True, scorer=_old_robust_z)
    assert holiday["alert"] > 0.9  # no seasonal baseline: a yearly holiday always alerts


def test_welch_on_daily_values_would_fail_on_autocorrelated_days():
    """The tree's old period verdict: Welch on the last 7 daily values against the 7 before."""
    rng = np.random.default_rng(5)
    daily = 100 * (1 + np.tile(ts.WEEKDAY, 4)) * (1 + ts.NOISE * ts.daily_noise("AR(1) 0.8", rng, (4000, 28)))
    p = stats.ttest_ind(daily[:, -7:], daily[:, -14:-7], axis=1, equal_var=False).pvalue
    assert np.mean(p < wv.VERDICT_ALPHA) > 1.5 * wv.VERDICT_ALPHA
