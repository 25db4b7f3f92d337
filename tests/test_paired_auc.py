"""Paired AUC lift (dashboard.metrics.paired_auc) against a direct computation on rows: scikit-learn's
roc_auc_score for the AUCs, placement values by all positive x negative pairs (ties 1/2) for DeLong's
variance, scipy's kurtosis and t quantile for the degrees of freedom."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from dashboard.metrics.paired_auc import paired_auc_lift

BINS = 12


def _rows(seed: int, n: int = 300, share: float = 0.2):
    """Labels and tied integer scores (bins) of two correlated models; -1: the model did not score the row."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < share
    z = rng.normal(size=(2, n))
    sa = np.clip(np.round(2 + 1.0 * y + z[0] * 1.5), 0, BINS - 1).astype(int)
    sb = np.clip(np.round(2 + 1.6 * y + (0.8 * z[0] + 0.6 * z[1]) * 1.5), 0, BINS - 1).astype(int)
    return y, sa, sb


def _joint(y, sa, sb):
    cell = lambda s: np.where(s < 0, -1, np.where(y, s, BINS + s))  # noqa: E731
    keys, count = np.unique(np.stack([cell(sa), cell(sb)]), axis=1, return_counts=True)
    return keys[0], keys[1], count


def _placements(y, s):
    """Per row: V10 for positives, V01 for negatives, from all pairs (ties count 1/2)."""
    pos, neg = s[y], s[~y]
    v10 = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean(axis=1)
    v01 = ((pos[None, :] > neg[:, None]) + 0.5 * (pos[None, :] == neg[:, None])).mean(axis=1)
    out = np.empty(s.size)
    out[y], out[~y] = v10, v01
    return out


def _oracle(y, sa, sb, confidence=0.95):
    """(AUC_a, AUC_b, se of the log ratio, degrees of freedom, interval) row by row."""
    influence = np.zeros(y.size)
    aucs = []
    for sign, s in ((-1, sa), (1, sb)):
        on = s >= 0
        auc = roc_auc_score(y[on], s[on])
        aucs.append(auc)
        place = _placements(y[on], s[on])
        per_class = np.where(y[on], y[on].sum(), (~y[on]).sum())
        influence[on] += sign * (place - auc) / per_class / auc
    var, denom = 0.0, 0.0
    for c in (y, ~y):
        x = influence[c]
        v = x.size * x.var(ddof=1)
        k = stats.kurtosis(x, fisher=False, bias=True)
        var += v
        denom += v * v * (k / x.size - (x.size - 3) / (x.size * (x.size - 1)))
    nu = 2 * var * var / denom
    half = stats.t.ppf(0.5 + confidence / 2, nu) * np.sqrt(var)
    log_ratio = np.log(aucs[1] / aucs[0])
    return aucs[0], aucs[1], np.sqrt(var), nu, (np.expm1(log_ratio - half), np.expm1(log_ratio + half))


def test_matches_a_row_by_row_delong_computation_with_ties():
    y, sa, sb = _rows(3)
    est = paired_auc_lift(BINS, *_joint(y, sa, sb))
    auc_a, auc_b, se_log, nu, (lo, hi) = _oracle(y, sa, sb)
    assert est.baseline == pytest.approx(auc_a, abs=1e-12) and est.candidate == pytest.approx(auc_b, abs=1e-12)
    assert est.lift == pytest.approx(auc_b / auc_a - 1, abs=1e-12)
    assert est.se == pytest.approx((1 + est.lift) * se_log, rel=1e-9)
    assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi), rel=1e-9)
    assert 5 < nu < 400  # a real t quantile, not a normal one in disguise


def test_the_variance_is_delongs_paired_covariance_formula():
    """With every row scored by both: var(log AUC_b / AUC_a) by the delta method from DeLong's
    2 x 2 covariance S10 / P + S01 / N of the two AUCs."""
    y, sa, sb = _rows(5, n=400)
    est = paired_auc_lift(BINS, *_joint(y, sa, sb))
    pa, pb = _placements(y, sa), _placements(y, sb)
    cov = np.cov(pa[y], pb[y]) / y.sum() + np.cov(pa[~y], pb[~y]) / (~y).sum()
    grad = np.array([-1 / est.baseline, 1 / est.candidate])
    assert est.se / (1 + est.lift) == pytest.approx(np.sqrt(grad @ cov @ grad), rel=1e-9)


def test_rows_scored_by_one_model_only_count_for_that_model():
    y, sa, sb = _rows(7, n=350)
    sa, sb = sa.copy(), sb.copy()
    sa[:40], sb[40:70] = -1, -1
    est = paired_auc_lift(BINS, *_joint(y, sa, sb))
    auc_a, auc_b, se_log, _nu, (lo, hi) = _oracle(y, sa, sb)
    assert est.baseline == pytest.approx(auc_a) and est.candidate == pytest.approx(auc_b)
    assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi), rel=1e-9)


def test_heavy_tailed_placements_widen_the_interval_beyond_the_normal_one():
    """A rare class (~40 positives, a few ranked very differently by the two models): few effective
    degrees of freedom, so the interval is wider than DeLong's with a normal quantile."""
    rng = np.random.default_rng(11)
    n = 4000
    y = rng.random(n) < 0.01
    z = rng.normal(size=(2, n))
    sa = np.clip(np.round((2.5 * y + z[0] + 4) * 10), 0, 119).astype(int)
    sb = np.clip(np.round((2.8 * y + 0.8 * z[0] + 0.6 * z[1] + 4) * 10), 0, 119).astype(int)
    cells = lambda s: np.where(y, s, 120 + s)  # noqa: E731
    keys, count = np.unique(np.stack([cells(sa), cells(sb)]), axis=1, return_counts=True)
    est = paired_auc_lift(120, keys[0], keys[1], count)
    se_log = est.se / (1 + est.lift)
    normal_half = stats.norm.ppf(0.975) * se_log
    assert np.log1p(est.ci_high) - np.log1p(est.lift) > 1.05 * normal_half


def test_refuses_a_row_labelled_differently_and_needs_both_classes():
    with pytest.raises(ValueError, match="same label"):
        paired_auc_lift(3, [0, 4], [3, 1], [5, 5])
    est = paired_auc_lift(3, [0, 1], [0, 1], [5, 5])  # positives only
    assert est.lift is None and est.ci_low is None
