"""Quick calibration of the offline lifts' bootstrap intervals (benchmarks/calib/offline_lift.py).

Pooled over the 9 cells of each path the quick run has ~210 samples (simulation se ~1.6 points);
single cells of 20-25 samples are too noisy to check, so the paired AUC at ~90 positives (91.2% of
1,000 with the bootstrap, DeLong-t now) has its own test on 500 samples below. Fails if the
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
    assert 0.89 <= rate <= 0.98, rate  # quick run 93.8%; full run (1,000 a cell) 94.9%


def test_unpaired_classification_intervals_cover(rates):
    rate, shown, cells = _pooled(rates, "different rows, unpaired;")
    assert len(cells) == 9 and shown >= 200
    assert 0.86 <= rate <= 0.99, rate  # quick run 92.9%; full run (1,000 a cell) 94.5%


def test_ranking_lift_intervals_cover(rates):
    cells = [r for r in rates if "per-query" in r.scenario]
    assert len(cells) == 3
    small = [r for r in cells if r.n_simulations >= 150]
    for r in small:
        assert 0.915 <= r.rate <= 0.985, r  # 150 samples: se 1.8 points


@pytest.fixture(scope="module")
def tied_thresholded():
    """recall@precision>=0.5 on ~15 tied score levels (a level's precision at the floor), paired and
    unpaired, 150 samples each: (hits, shown) with the widened interval and with the bootstrap alone
    (the old method), on the same samples."""
    name = "recall@precision>=0.5"
    truth = calib.truth("ties")[name]
    out = {}
    for widen in (True, False):
        cells = [calib.classification_cell(("ties", name, paired, 150, truth, 41 + paired, None, widen))
                 for paired in (True, False)]
        out[widen] = (sum(h for h, _ in cells), sum(s for _, s in cells))
    return out


def test_thresholded_metric_on_tied_scores_covers_when_the_interval_is_widened(tied_thresholded):
    hits, shown = tied_thresholded[True]
    assert shown == 300
    assert 0.925 <= hits / shown <= 0.99, hits / shown  # full run (1,000 a cell): see docs/statistics.md
    old_hits, _ = tied_thresholded[False]
    assert old_hits / shown <= 0.92, old_hits / shown  # the bootstrap alone: 88.5-91% in the full run


def test_the_truth_is_the_analytic_binormal_auc_lift():
    analytic, sampled = calib.truth_check()
    assert sampled == pytest.approx(analytic, abs=0.002)


def test_paired_auc_at_90_positives_covers_with_the_t_quantile():
    """The rare world (~90 positives, AUC ~0.96, models correlated 0.8): the product's paired AUC
    interval (DeLong, t with Satterthwaite degrees of freedom) against the same interval with a normal
    quantile, on the same 500 samples (simulation se ~1 point). Full runs: t 93.8-95.7% (94.5% of
    8,000 samples), normal 92.2-93.5%, the paired bootstrap it replaced 91.2%."""
    t_hits, normal_hits, shown = calib.paired_auc_quantiles("rare", 500, seed=64)
    assert shown == 500
    assert 0.93 <= t_hits / shown <= 0.975, t_hits / shown
    assert t_hits - normal_hits >= 5, (t_hits, normal_hits)  # the t quantile matters here
