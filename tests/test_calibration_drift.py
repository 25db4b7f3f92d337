"""Quick calibration of the weekly review's score-drift alert (benchmarks/calib/drift.py), and proof
the test can fail: the old grouping of 100 coarse bins misses a shift of scores that all sit in its
lowest bin."""

from __future__ import annotations

from benchmarks.calib import drift as calib


def test_quick_calibration_is_within_tolerance():
    rates = calib.simulations(quick=True)
    assert len(rates) == 4
    for r in rates:
        if "power" in r.claim:
            assert r.rate >= 0.8, r
        else:
            assert r.rate <= 0.02, r  # target <= 1%; 400 simulations


def test_the_old_coarse_bins_miss_a_shift_near_zero():
    assert calib.run(50, 5_000, seed=3, kind="tiny", shift=0.8, old=True) < 0.1
    assert calib.run(50, 5_000, seed=3, kind="tiny", shift=0.8) > 0.8
