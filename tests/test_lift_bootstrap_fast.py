"""The classification bootstrap's fast paths give the same numbers as the slow ones: metrics of all
resamples at once (gate_stats.classification_metric_many) and Poisson draws by inversion."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

from dashboard.metrics import gate_stats
from dashboard.metrics.lift_bootstrap import binned_metric_lift, paired_binned_metric_lift, poisson

NAMES = ["auc", "average_precision", "recall@precision>=0.5", "recall@precision>=0.9",
         "precision@recall>=0.8", "precision@recall>=0"]


@pytest.mark.parametrize("name", NAMES)
def test_metric_of_many_rows_equals_the_metric_of_each(name):
    rng = np.random.default_rng(3)
    for _ in range(150):
        bins = int(rng.integers(1, 25))
        keep = rng.random((6, bins)) < 0.6  # empty bins and rows without positives or negatives
        pos = rng.poisson(rng.uniform(0, 3), (6, bins)) * keep
        neg = rng.poisson(rng.uniform(0, 3), (6, bins)) * (rng.random((6, bins)) < 0.6)
        many = gate_stats.classification_metric_many(name, pos, neg)
        one = [gate_stats.classification_metric(name, p, n) for p, n in zip(pos, neg)]
        np.testing.assert_allclose(many, [np.nan if v is None else v for v in one], rtol=0, atol=1e-12)


def test_metric_of_many_rows_matches_sklearn_on_tied_scores():
    rng = np.random.default_rng(4)
    pos, neg = rng.poisson(2, (20, 12)), rng.poisson(5, (20, 12))  # 12 score levels: many ties
    auc = gate_stats.classification_metric_many("auc", pos, neg)
    ap = gate_stats.classification_metric_many("average_precision", pos, neg)
    for r in range(20):
        scores = np.r_[np.repeat(np.arange(12), pos[r]), np.repeat(np.arange(12), neg[r])]
        y = np.r_[np.ones(pos[r].sum()), np.zeros(neg[r].sum())]
        assert auc[r] == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
        assert ap[r] == pytest.approx(average_precision_score(y, scores), abs=1e-12)


def test_poisson_by_inversion_has_the_poisson_distribution():
    rng = np.random.default_rng(5)
    lam = np.repeat([0.3, 1.0, 2.0, 3.5], 500)
    draws = poisson(rng, lam, 400)
    for mean in (0.3, 1.0, 2.0, 3.5):
        x = draws[:, lam == mean].ravel().astype(int)
        k = np.arange(8)
        expected = stats.poisson.pmf(k, mean) * x.size
        expected[-1] += stats.poisson.sf(7, mean) * x.size
        observed = np.bincount(np.minimum(x, 7), minlength=8)
        assert stats.chisquare(observed, expected).pvalue > 1e-3, (mean, observed, expected)


@pytest.mark.parametrize("name", ["auc", "average_precision", "recall@precision>=0.5"])
def test_bootstrap_with_the_vectorised_metric_gives_the_same_interval(name):
    rng = np.random.default_rng(6)
    bins, n = 50, 1500
    y = rng.random(n) < 0.3
    a = rng.normal(size=n) + y
    b = 0.8 * a + 0.6 * rng.normal(size=n) + 1.2 * y
    to_bin = lambda s: np.clip(((s + 3) / 7 * bins).astype(int), 0, bins - 1)  # noqa: E731
    ba, bb = to_bin(a), to_bin(b)
    cell = lambda x: np.where(y, x, bins + x)  # noqa: E731
    keys, count = np.unique(np.stack([cell(ba), cell(bb)]), axis=1, return_counts=True)
    fn = lambda p, q: gate_stats.classification_metric(name, p, q)  # noqa: E731
    many = lambda p, q: gate_stats.classification_metric_many(name, p, q)  # noqa: E731
    slow = paired_binned_metric_lift(fn, bins, keys[0], keys[1], count, seed=2)
    fast = paired_binned_metric_lift(fn, bins, keys[0], keys[1], count, seed=2, metric_many=many)
    assert (fast.lift, fast.ci_low, fast.ci_high) == pytest.approx((slow.lift, slow.ci_low, slow.ci_high), abs=1e-12)
    counts = [(np.bincount(x[y], minlength=bins), np.bincount(x[~y], minlength=bins)) for x in (ba, bb)]
    slow = binned_metric_lift(fn, *counts, seed=2)
    fast = binned_metric_lift(fn, *counts, seed=2, metric_many=many)
    assert (fast.se, fast.ci_low, fast.ci_high) == pytest.approx((slow.se, slow.ci_low, slow.ci_high), abs=1e-12)
