"""Quick CUPED calibration (benchmarks/calib/cuped.py): adjusted intervals cover, A/A rejects at 5%,
the variance reduction achieved is rho^2; and the check fails when the residual variance drops its
cross term (the adjusted interval then over-covers)."""

from __future__ import annotations

import pytest

from benchmarks.calib import cuped as calib
from dashboard.metrics import cuped


@pytest.fixture(scope="module")
def rates():
    return calib.simulations(quick=True)


def test_quick_calibration_is_within_tolerance(rates):
    assert len(rates) == 11
    for r in rates:
        if "A/A" in r.scenario:
            assert 0.025 <= r.rate <= 0.075, r
        elif "variance reduction" in r.claim:
            assert r.ok, r  # rho^2 +- 0.05 (one s.e. ~0.02 at 400 simulations)
        else:
            assert 0.925 <= r.rate <= 0.975, r


def test_residual_variance_without_cross_term_fails(monkeypatch):
    def wrong(s, theta, x_pooled):
        n = s.n
        mean = s.mean - theta * (s.pre_sum / n - x_pooled)
        var = s.variance + theta * theta * s.pre_variance  # the -2 theta cov term left out
        return cuped.SuffStats(n, n * mean, (n - 1) * var + n * mean * mean)

    monkeypatch.setattr(cuped, "_adjusted", wrong)
    got = calib.run(400, 7, calib._normal, 500, 0.7, 0.5)
    assert got["absolute"] > 0.975  # over-covers: the interval ignores the variance removed
    assert got["reported_reduction"] < 0.0
