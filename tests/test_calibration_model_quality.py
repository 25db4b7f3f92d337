"""Quick calibration of the weekly review's model-quality alert (benchmarks/calib/model_quality.py),
and proof the test can fail: the rule it replaced (100 coarse bins, this week's standard error only)
alerts on a score shift that leaves the ranking unchanged (94% of 300 weeks measured)."""

from __future__ import annotations

from benchmarks.calib import model_quality as calib


def test_quick_calibration_is_within_tolerance():
    rates = calib.simulations(quick=True)
    assert len(rates) == 9
    for r in rates:
        assert r.n_simulations >= 100, r
        if "power" in r.claim:
            assert r.rate >= 0.8, r
        else:  # nominal 1%; 600 simulations: one s.e. ~0.4 points
            assert r.rate <= 0.025, r
    significant = [r.rate for r in rates if "significant" in r.claim]
    assert 0.004 <= sum(significant) / len(significant) <= 0.02  # the test holds its 1% on average, not 0


def test_the_old_rule_fails_the_targets():
    shifted = calib.run(200, 2_000, 0.05, 2.0, seed=5, kind="fraud", shift=0.6, old=True)
    assert shifted["alert"] > 0.3, shifted
