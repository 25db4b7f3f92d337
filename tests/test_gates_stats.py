"""Bin-count classification metrics vs scikit-learn on the binned scores; paired test vs scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from dashboard.metrics.experiments import SuffStats, paired
from dashboard.metrics.gate_stats import (
    average_precision,
    classification_metric,
    parse_classification_metric,
    precision_at_recall,
    recall_at_precision,
    roc_auc,
)


def _binned(seed: int, n: int = 3000, n_bins: int = 40, pos_rate: float = 0.2):
    rng = np.random.default_rng(seed)
    y = rng.binomial(1, pos_rate, n)
    score = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 0.999)
    b = np.floor(score * n_bins).astype(int)  # many ties: each bin is one score
    n_pos = np.bincount(b[y == 1], minlength=n_bins)
    n_neg = np.bincount(b[y == 0], minlength=n_bins)
    return y, b, n_pos, n_neg


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bin_metrics_match_sklearn_on_binned_scores(seed):
    y, b, n_pos, n_neg = _binned(seed)
    assert roc_auc(n_pos, n_neg) == pytest.approx(roc_auc_score(y, b), abs=1e-12)
    assert average_precision(n_pos, n_neg) == pytest.approx(average_precision_score(y, b), abs=1e-12)
    precision, recall, _ = precision_recall_curve(y, b)
    for target in (0.5, 0.7, 0.9, 0.95):
        ok = precision >= target
        assert recall_at_precision(n_pos, n_neg, target) == pytest.approx(recall[ok].max(), abs=1e-12)
        assert classification_metric(f"recall@precision>={target}", n_pos, n_neg) == pytest.approx(recall[ok].max())
    for target in (0.1, 0.5, 0.9):
        ok = recall >= target
        assert precision_at_recall(n_pos, n_neg, target) == pytest.approx(precision[ok].max(), abs=1e-12)


def test_edge_cases():
    assert recall_at_precision([0, 0], [3, 4], 0.9) is None  # no positives
    assert roc_auc([1, 2], [0, 0]) is None  # one class
    assert recall_at_precision([5, 0], [0, 5], 0.99) == 0.0  # top bin is all negatives: never reaches 99%
    assert recall_at_precision([0, 5], [5, 0], 0.99) == 1.0
    assert average_precision([], []) is None
    assert roc_auc([0, 5], [5, 0]) == 1.0


def test_metric_names():
    assert parse_classification_metric("recall@precision>=0.95") == ("recall@precision", 0.95)
    assert parse_classification_metric("AUC") == ("auc", None)
    for bad in ("recall@precision>=1.5", "f1", "recall@precision>=x"):
        with pytest.raises(ValueError, match="unknown classification metric"):
            parse_classification_metric(bad)


def test_paired_matches_scipy_ttest_rel():
    rng = np.random.default_rng(5)
    base = rng.uniform(0, 1, 200)
    cand = np.clip(base + rng.normal(-0.02, 0.1, 200), 0, 1)
    r = paired(SuffStats.from_values(cand - base))
    ref = stats.ttest_rel(cand, base)
    lo, hi = ref.confidence_interval(0.95)
    assert r.mean == pytest.approx((cand - base).mean())
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), rel=1e-9)
    assert paired(SuffStats(0, 0, 0)).p_value is None
    one = paired(SuffStats.from_values([0.3]))
    assert one.mean == pytest.approx(0.3) and one.p_value is None
    same = paired(SuffStats.from_values([0.1, 0.1, 0.1]))
    assert same.p_value == 0.0 and same.ci_low == pytest.approx(0.1)
