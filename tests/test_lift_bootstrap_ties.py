"""recall@precision>=P lifts on heavily tied scores: the bootstrap interval is widened to the metric's
values with an ambiguous score level counted either way (gate_stats.threshold_alternatives)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve

from dashboard.metrics import gate_stats
from dashboard.metrics.lift_bootstrap import binned_metric_lift, paired_binned_metric_lift

NAME = "recall@precision>=0.6"
# three score levels, low to high: precision at or above them 0.5, 0.6 (the floor), 0.8
POS, NEG = np.array([10.0, 50.0, 40.0]), np.array([40.0, 50.0, 10.0])


def _sklearn_recall_at_precision(pos, neg, floor):
    scores = np.r_[np.repeat(np.arange(pos.size), pos.astype(int)), np.repeat(np.arange(neg.size), neg.astype(int))]
    y = np.r_[np.ones(int(pos.sum())), np.zeros(int(neg.sum()))]
    precision, recall, _ = precision_recall_curve(y, scores)
    return float(recall[precision >= floor].max())


def test_a_level_at_the_floor_gives_the_values_on_both_sides():
    point = gate_stats.classification_metric(NAME, POS, NEG)
    assert point == pytest.approx(_sklearn_recall_at_precision(POS, NEG, 0.6)) == pytest.approx(0.9)
    strict, lenient = gate_stats.threshold_alternatives(NAME, POS, NEG)
    # without the ambiguous middle level only the top one reaches 0.6; nothing lower is ambiguous
    assert strict == pytest.approx(_sklearn_recall_at_precision(POS[2:], NEG[2:], 0.6) * 40 / 100) == 0.4
    assert lenient == pytest.approx(0.9)


def test_levels_far_from_the_floor_or_continuous_scores_give_nothing():
    assert gate_stats.threshold_alternatives("recall@precision>=0.7", POS, NEG) is None  # 0.6 and 0.8: far
    assert gate_stats.threshold_alternatives("average_precision", POS, NEG) is None
    rng = np.random.default_rng(2)
    y = rng.random(3000) < 0.25
    bins = np.clip(((rng.normal(size=3000) + 1.2 * y + 4) / 10 * 2000).astype(int), 0, 1999)
    pos, neg = np.bincount(bins[y], minlength=2000), np.bincount(bins[~y], minlength=2000)
    for floor in (0.3, 0.5, 0.7):
        assert gate_stats.threshold_alternatives(f"recall@precision>={floor}", pos, neg) is None


def test_the_lift_interval_is_widened_to_both_sides_and_says_so():
    fn = lambda p, n: gate_stats.classification_metric(NAME, p, n)  # noqa: E731
    alts = lambda p, n: gate_stats.threshold_alternatives(NAME, p, n)  # noqa: E731
    base = (POS, NEG)
    cand = (np.array([5.0, 45.0, 60.0]), np.array([45.0, 40.0, 10.0]))  # 0.857 at the top: far from 0.6
    plain = binned_metric_lift(fn, base, cand, seed=1)
    wide = binned_metric_lift(fn, base, cand, seed=1, alternatives=alts)
    assert plain.note == "" and "widened" in wide.note and "baseline" in wide.note
    assert wide.lift == plain.lift and wide.se == plain.se
    point_c = fn(*cand)
    assert wide.ci_low == pytest.approx(plain.ci_low)  # the baseline's alternatives only raise the lift
    assert wide.ci_high == pytest.approx(plain.ci_high + point_c / 0.4 - point_c / 0.9)
    # paired: the same rows under both models; the same widening
    cells = np.r_[np.arange(3), 3 + np.arange(3)]
    count = np.r_[POS, NEG]
    paired = paired_binned_metric_lift(fn, 3, cells, cells, count, seed=1, alternatives=alts)
    assert paired.lift == 0.0 and paired.ci_low <= 0.4 / 0.9 - 1 and paired.ci_high >= 0.9 / 0.4 - 1
