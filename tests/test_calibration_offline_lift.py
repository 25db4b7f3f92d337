"""Quick calibration of the offline lifts' bootstrap intervals (benchmarks/calib/offline_lift.py).

Pooled over the 9 cells of each path the quick run has ~210 samples (simulation se ~1.6 points);
single cells of 20-25 samples are too noisy to check. The pooled bands are wide at the bottom
because two cells under-cover for known reasons (docs/statistics.md: AP at ~90 positives, a
thresholded metric on heavily tied scores). Fails if the
paired path stops pairing: resampling each model on its own when they share rows (correlation 0.8)
covers ~100%, above the paired band."""

from __future__ import annotations

import pytest

from benchmarks.calib import offline_lift as calib
from benchmarks.calibration import as_text


@pytest.fixture(scope="module")
def rates():
    out = calib.simulations(quick=True)
    print("\n" + as_text(out))  # shown with -s: the rates behind a failure
    return out


def _pooled(rates, word):
    cells = [r for r in rates if word in r.scenario]
    shown = sum(r.n_simulations for r in cells)
    return sum(r.rate * r.n_simulations for r in cells) / shown, shown, cells


def test_paired_classification_intervals_cover_and_are_not_conservative(rates):
    rate, shown, cells = _pooled(rates, "same rows, paired;")
    assert len(cells) == 9 and shown >= 200
    assert 0.86 <= rate <= 0.98, rate  # quick 90.5-91.5%, full run 93.5%


def test_unpaired_classification_intervals_cover(rates):
    rate, shown, cells = _pooled(rates, "different rows, unpaired;")
    assert len(cells) == 9 and shown >= 200
    assert 0.86 <= rate <= 0.99, rate  # quick ~92%, full run 93.1%


def test_ranking_lift_intervals_cover(rates):
    cells = [r for r in rates if "per-query" in r.scenario]
    assert len(cells) == 3
    small = [r for r in cells if r.n_simulations >= 150]
    for r in small:
        assert 0.915 <= r.rate <= 0.985, r  # 150 samples: se 1.8 points


def test_the_truth_is_the_analytic_binormal_auc_lift():
    analytic, sampled = calib.truth_check()
    assert sampled == pytest.approx(analytic, abs=0.002)
