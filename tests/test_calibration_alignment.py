"""Quick calibration of the noise-corrected correlation (benchmarks/calib/alignment.py), and proof that
the test can fail: ignoring the noise two online metrics share (the old noise_correlation=0) misses."""

from __future__ import annotations

from benchmarks.calib import alignment as calib


def test_quick_calibration_is_within_tolerance():
    rates = calib.simulations(quick=True)
    assert len(rates) == 5
    for r in rates:
        assert r.n_simulations >= 80, r
        if "excludes 0" in r.claim:
            assert r.rate <= 0.10, r  # target <= 5% (7.5% with simulation error); one s.e. ~2.3 points
        else:
            assert 0.89 <= r.rate <= 0.99, r  # target 93-97%


def test_ignoring_the_shared_noise_fails_the_targets():
    """True r 0, noise r 0.5: the old method reads the shared noise as correlation."""
    old = calib.run(60, 50, 0.0, 0.5, seed=7, use_noise_cov=False)  # 60% / 40% / +0.45 measured at 120
    assert old["coverage"] < 0.85 and old["excludes_zero"] > 0.2 and old["mean"] > 0.3
