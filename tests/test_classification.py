"""Classification core vs scikit-learn on seeded data with heavy ties and degenerate segments."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (average_precision_score, confusion_matrix, f1_score, precision_recall_curve,
                             roc_auc_score)

from dashboard.metrics import classification as clf
from dashboard.metrics.binning import assign_bins, bin_edges

N = 1000  # coarse bins make ties between bins and thresholds common


def binned(scores, labels, lo=0.0, hi=1.0, n_bins=N):
    b = assign_bins(scores, lo, hi, n_bins)
    pos = np.bincount(b[labels == 1], minlength=n_bins + 1)
    neg = np.bincount(b[labels == 0], minlength=n_bins + 1)
    return pos, neg


def distinct(scores, labels):
    u, inv = np.unique(scores, return_inverse=True)
    return u, np.bincount(inv, weights=labels == 1, minlength=len(u)), np.bincount(inv, weights=labels == 0, minlength=len(u))


def on_edges(scores, n_bins):
    """Snap scores onto bin edges (bit-exact), so bin thresholds and score thresholds coincide."""
    return bin_edges(0.0, 1.0, n_bins)[assign_bins(scores, 0.0, 1.0, n_bins)]


def data(seed, n=3000, tie_decimals=2, rate=0.2):
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < rate).astype(int)
    scores = np.clip(rng.normal(0.4 + 0.25 * labels, 0.2), 0, 1)
    scores = np.round(scores, tie_decimals)  # heavy ties, many exactly on bin edges
    return scores, labels


@pytest.mark.parametrize("seed", range(6))
def test_counts_at_every_edge_equal_sklearn_confusion_matrix(seed):
    scores, labels = data(seed)
    c = clf.cumulate(*binned(scores, labels, n_bins=N))
    edges = bin_edges(0.0, 1.0, N)
    for i in list(range(0, N + 1, 37)) + [0, 1, N - 1, N]:
        tn, fp, fn, tp = confusion_matrix(labels, scores >= edges[i], labels=[0, 1]).ravel()
        point = clf.operating_point(c, i)
        assert (point["tp"], point["fp"], point["tn"], point["fn"]) == (tp, fp, tn, fn)
        if tp + fp:
            assert point["precision"] == pytest.approx(tp / (tp + fp), abs=1e-12)
            assert point["f1"] == pytest.approx(f1_score(labels, scores >= edges[i]), abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_one_point_counts_equal_sklearn_and_the_whole_curve(seed):
    # segment rows on a slider move use cumulate_at (sums from bin i) instead of the whole curve
    scores, labels = data(seed)
    pos, neg = binned(scores, labels, n_bins=N)
    unlabeled = np.random.default_rng(seed).integers(0, 3, N + 1)
    whole = clf.cumulate(pos, neg, unlabeled)
    edges = bin_edges(0.0, 1.0, N)
    for i in [0, 1, 250, 401, N - 1, N]:
        tn, fp, fn, tp = confusion_matrix(labels, scores >= edges[i], labels=[0, 1]).ravel()
        point = clf.operating_point(clf.cumulate_at(i, pos, neg, unlabeled), 0)
        assert (point["tp"], point["fp"], point["tn"], point["fn"]) == (tp, fp, tn, fn)
        assert point == clf.operating_point(whole, i)
        assert point["flagged"] == tp + fp + unlabeled[i:].sum()


@pytest.mark.parametrize("seed,decimals", [(0, 1), (1, 2), (2, 3), (3, 6), (4, 0)])
def test_exact_ap_and_auc_match_sklearn_with_ties(seed, decimals):
    scores, labels = data(seed, tie_decimals=decimals)
    u, pos, neg = distinct(scores, labels)
    assert clf.average_precision(u, pos, neg) == pytest.approx(average_precision_score(labels, scores), abs=1e-9)
    assert clf.roc_auc(u, pos, neg) == pytest.approx(roc_auc_score(labels, scores), abs=1e-9)


def test_binned_ap_is_close_and_pr_curve_points_match_sklearn():
    scores, labels = data(9, tie_decimals=6)
    pos, neg = binned(scores, labels, n_bins=10_000)
    assert clf.binned_average_precision(pos, neg) == pytest.approx(average_precision_score(labels, scores), abs=2e-3)
    # when the scores are the bin edges themselves, binned == exact
    scores3 = on_edges(scores, 1000)
    pos3, neg3 = binned(scores3, labels, n_bins=1000)
    assert clf.binned_average_precision(pos3, neg3) == pytest.approx(average_precision_score(labels, scores3), abs=1e-9)
    c = clf.cumulate(pos3, neg3)
    p_sk, r_sk, t_sk = precision_recall_curve(labels, scores3)
    edges = bin_edges(0.0, 1.0, 1000)
    idx = np.searchsorted(edges, t_sk - 1e-12)
    np.testing.assert_allclose(clf.precision(c)[idx], p_sk[:-1], atol=1e-12)
    np.testing.assert_allclose(clf.recall(c)[idx], r_sk[:-1], atol=1e-12)


def test_single_class_and_empty_segments_give_documented_values():
    only_neg = clf.cumulate(np.zeros(5), np.array([1, 0, 2, 0, 1]))
    point = clf.operating_point(only_neg, 2)
    assert point["recall"] is None and point["f1"] is None and point["precision"] == 0.0
    assert clf.average_precision([0.1, 0.2], [0, 0], [3, 1]) is None
    assert clf.roc_auc([0.1, 0.2], [1, 2], [0, 0]) is None
    empty = clf.cumulate(np.zeros(5), np.zeros(5))
    point = clf.operating_point(empty, 0)
    assert point == {**point, "tp": 0, "precision": None, "recall": None, "fpr": None, "predicted_positive_rate": None}
    top = clf.operating_point(clf.cumulate(np.array([0, 1, 0]), np.array([2, 0, 0])), 2)  # nothing flagged
    assert top["precision"] is None and top["recall"] == 0.0


def test_recall_at_precision_floor_matches_brute_force_on_sklearn_curve():
    scores, labels = data(5, tie_decimals=3)
    scores = on_edges(scores, 1000)
    pos, neg = binned(scores, labels, n_bins=1000)
    c = clf.cumulate(pos, neg)
    p_sk, r_sk, _ = precision_recall_curve(labels, scores)
    for floor in (0.3, 0.5, 0.7, 0.85, 0.9):
        i = clf.best_recall_at_precision(c, floor)
        reachable = [r for p, r in zip(p_sk[:-1], r_sk[:-1]) if p >= floor]
        if not reachable:
            assert i is None
            continue
        assert clf.recall(c)[i] == pytest.approx(max(reachable), abs=1e-12)
        assert clf.precision(c)[i] >= floor
    assert clf.best_recall_at_precision(c, 1.01) is None


def test_floor_required_in_every_segment_is_stricter():
    a = clf.cumulate(np.array([0, 5, 5]), np.array([5, 1, 0]))
    b = clf.cumulate(np.array([0, 1, 5]), np.array([5, 5, 0]))
    overall = clf.cumulate(np.array([0, 6, 10]), np.array([10, 5, 0]))
    assert clf.best_recall_at_precision(overall, 0.6) == 1
    assert clf.best_recall_at_precision(overall, 0.6, also=[a, b]) == 2


def test_cost_value_and_capacity_pickers_against_brute_force():
    scores, labels = data(7, tie_decimals=2)
    rng = np.random.default_rng(1)
    value = rng.lognormal(3, 1, len(scores))
    b = assign_bins(scores, 0.0, 1.0, N)
    pos, neg = binned(scores, labels)
    vpos = np.bincount(b[labels == 1], weights=value[labels == 1], minlength=N + 1)
    c = clf.cumulate(pos, neg, value_pos=vpos)
    edges = bin_edges(0.0, 1.0, N)
    brute = [5 * ((scores >= t) & (labels == 0)).sum() + 50 * ((scores < t) & (labels == 1)).sum() for t in edges]
    assert clf.expected_cost(c, 5, 50)[clf.min_cost_index(c, 5, 50)] == min(brute)
    brute_value = [value[(scores >= t) & (labels == 1)].sum() - 5 * ((scores >= t) & (labels == 0)).sum() for t in edges]
    assert clf.net_value(c, 5)[clf.max_value_index(c, 5)] == pytest.approx(max(brute_value))
    i = clf.capacity_index(c, budget_per_day=100, days=3)
    assert (scores >= edges[i]).sum() / 3 <= 100 < (scores >= edges[i - 1]).sum() / 3


def test_wilson_interval_matches_statsmodels_formula_and_edges():
    lo, hi = clf.wilson_interval(8, 10)
    # reference values of the Wilson interval for 8/10 at 95% (Agresti & Coull 1998 formula)
    assert lo == pytest.approx(0.4901625, abs=1e-6) and hi == pytest.approx(0.9433178, abs=1e-6)
    assert clf.wilson_interval(0, 0) == (None, None)
    lo, hi = clf.wilson_interval(0, 20)
    assert lo == 0.0 and 0 < hi < 0.2


def test_guaranteed_pick_uses_the_wilson_lower_bound_against_scipy_and_brute_force():
    from scipy.stats import binomtest

    rng = np.random.default_rng(3)
    y = rng.random(800) < 0.2
    score = np.round(rng.beta(1 + 3 * y, 3 - 1.5 * y), 2)  # heavy ties
    bins = assign_bins(score, 0.0, 1.0, 100)
    c = clf.cumulate(np.bincount(bins[y], minlength=101), np.bincount(bins[~y], minlength=101))
    lower = clf.precision_lower_bound(c)
    for i in range(0, 101, 7):
        k, n = int(c.tp[i]), int(c.tp[i] + c.fp[i])
        if n == 0:
            assert np.isnan(lower[i])
            continue
        oracle = binomtest(k, n).proportion_ci(0.95, method="wilson").low
        assert lower[i] == pytest.approx(oracle, abs=1e-12)
    for floor in (0.5, 0.6, 0.7):
        got = clf.best_recall_at_precision(c, floor, guaranteed=True)
        ok = [i for i in range(101) if c.tp[i] + c.fp[i] > 0 and lower[i] >= floor]
        best = max(c.tp[i] for i in ok)
        assert got == max(i for i in ok if c.tp[i] == best)
        estimate = clf.best_recall_at_precision(c, floor)
        assert estimate <= got  # a floor on the lower bound can only raise the threshold
        assert lower[got] >= floor


def test_a_segment_flagging_few_rows_is_not_judged():
    c = clf.cumulate([10, 10, 0], [10, 0, 0])  # precision 0.67, 1.0, n/a
    few = clf.cumulate([0, 0, 2], [0, 10, 3])  # flags 15 rows at edge 1: precision 0.13
    assert clf.best_recall_at_precision(c, 0.9, [few]) is None
    assert clf.best_recall_at_precision(c, 0.9, [few], min_flagged=30) == 1
