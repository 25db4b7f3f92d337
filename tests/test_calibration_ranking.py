"""Quick calibration of the ranking delta interval and segment flags (benchmarks/calib/ranking.py).
Fails if the interval goes back to the percentile bootstrap (88% at 30 queries here), shows an
interval under 30 queries, or colours a segment on other evidence than its interval."""

from __future__ import annotations

import numpy as np

from benchmarks.calib import ranking as calib
from dashboard.metrics import ranking as rk


def test_intervals_cover_where_shown_and_flags_stay_rare_under_no_change():
    rates = calib.simulations(quick=True)
    for r in rates:
        if "covers" in r.claim:
            assert r.n_simulations >= 500 and 0.925 <= r.rate <= 0.975, r  # 600 samples: +-0.9% se
        else:
            assert r.ok, r
    assert sum("covers" in r.claim for r in rates) == 4 and sum("under 30" in r.claim for r in rates) == 2


def test_the_old_percentile_bootstrap_under_covers_at_30_queries():
    """The same world and sample count: the method replaced would fail the test above."""
    rng = np.random.default_rng(18)
    diffs = calib.population(rng, calib.WORLDS["sparse"])
    old, shown, _ = calib.coverage(diffs, 30, 300, rng, interval=lambda x: rk.paired_bootstrap_ci(x, 500))
    assert shown == 300 and old < 0.925
