"""Binary classification at a threshold, from counts.

One building block (as in scikit-learn's `_binary_clf_curve`): counts of positives and negatives at
or above every candidate threshold. Binned counts (bins from `binning.py`) feed the slider, the
curves and the threshold pickers; counts per distinct score feed the exact average precision and
ROC AUC.

Operating rule: predict positive when `score >= threshold`.

Edge-case values (documented, never NaN):
- precision with no predicted positive: None ("n/a"); the PR curve uses 1.0 there, as sklearn.
- recall with no positive example: None; FPR with no negative example: None.
- F1 is None when precision or recall is None, 0.0 when both are 0.
- AP and ROC AUC with a single class: None.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np


@dataclass(frozen=True)
class Cumulative:
    """Counts at or above each threshold index i (0..len-1): `score >= edge[i]`."""

    tp: np.ndarray
    fp: np.ndarray
    positives: float
    negatives: float
    flagged_unlabeled: np.ndarray  # unlabeled rows at or above the threshold (alert volume)
    value_tp: np.ndarray  # money of positives caught
    value_fp: np.ndarray  # money of negatives flagged

    @property
    def fn(self) -> np.ndarray:
        return self.positives - self.tp

    @property
    def tn(self) -> np.ndarray:
        return self.negatives - self.fp

    @property
    def flagged(self) -> np.ndarray:
        return self.tp + self.fp + self.flagged_unlabeled

    def at(self, i: int) -> Cumulative:
        """The counts at index i only, as a 1-element Cumulative (cheap ratios for one point)."""
        one = slice(i, i + 1)
        return Cumulative(self.tp[one], self.fp[one], self.positives, self.negatives,
                          self.flagged_unlabeled[one], self.value_tp[one], self.value_fp[one])


def cumulate_at(i: int, pos, neg, unlabeled=None, value_pos=None, value_neg=None) -> Cumulative:
    """cumulate(...).at(i) without building the whole curve: sums of bins i.. (integer counts, so
    the same values as the cumulative sums)."""
    def tail(a):
        return np.array([0.0 if a is None else float(np.sum(np.asarray(a, dtype=np.float64)[i:]))])
    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    return Cumulative(tail(pos), tail(neg), float(pos.sum()), float(neg.sum()),
                      tail(unlabeled), tail(value_pos), tail(value_neg))


def suffix_sum(per_bin: np.ndarray) -> np.ndarray:
    return np.cumsum(np.asarray(per_bin, dtype=np.float64)[::-1])[::-1]


def cumulate(pos, neg, unlabeled=None, value_pos=None, value_neg=None) -> Cumulative:
    """Per-bin counts (bin b holds edge[b] <= score < edge[b+1]) -> counts at or above each edge."""
    pos = np.asarray(pos, dtype=np.float64)
    zeros = np.zeros_like(pos)
    tp = suffix_sum(pos)
    fp = suffix_sum(neg)
    return Cumulative(
        tp=tp, fp=fp, positives=float(tp[0]) if len(tp) else 0.0,
        negatives=float(fp[0]) if len(fp) else 0.0,
        flagged_unlabeled=suffix_sum(zeros if unlabeled is None else unlabeled),
        value_tp=suffix_sum(zeros if value_pos is None else value_pos),
        value_fp=suffix_sum(zeros if value_neg is None else value_neg),
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.broadcast_to(np.asarray(den, dtype=np.float64), num.shape)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision(c: Cumulative) -> np.ndarray:
    return _ratio(c.tp, c.tp + c.fp)


def recall(c: Cumulative) -> np.ndarray:
    return _ratio(c.tp, np.full_like(c.tp, c.positives))


def fpr(c: Cumulative) -> np.ndarray:
    return _ratio(c.fp, np.full_like(c.fp, c.negatives))


def f1(c: Cumulative) -> np.ndarray:
    p, r = precision(c), recall(c)
    total = p + r
    out = np.where(total > 0, 2 * p * r / np.where(total > 0, total, 1), 0.0)
    return np.where(np.isnan(p) | np.isnan(r), np.nan, out)


def clean(x: float) -> float | None:
    """NaN (undefined) -> None for display and JSON."""
    x = float(x)
    return None if np.isnan(x) else x


def operating_point(c: Cumulative, i: int) -> dict:
    """Every number of the confusion matrix at threshold index i."""
    total = c.positives + c.negatives
    c = c.at(i)  # a slider move computes ratios at one edge, not along the whole curve
    row = {
        "tp": int(c.tp[0]), "fp": int(c.fp[0]), "tn": int(c.tn[0]), "fn": int(c.fn[0]),
        "precision": clean(precision(c)[0]), "recall": clean(recall(c)[0]),
        "fpr": clean(fpr(c)[0]), "f1": clean(f1(c)[0]),
        "predicted_positive_rate": clean((c.tp[0] + c.fp[0]) / total) if total else None,
        "positives": int(c.positives), "negatives": int(c.negatives),
        "flagged": int(c.flagged[0]),
    }
    return row


# --- picking a threshold ------------------------------------------------------------------------

def best_recall_at_precision(c: Cumulative, floor: float, also: list[Cumulative] = (), *,
                             guaranteed: bool = False, confidence: float = 0.95,
                             min_flagged: float = 0) -> int | None:
    """Index with the highest recall whose precision >= floor (in `c` and every one of `also`).

    Best estimate (default): the observed precision reaches the floor. Guaranteed: the Wilson lower
    bound of precision at `confidence` does (the precision a fresh sample would show is below the
    floor in at most ~(1 - confidence)/2 of picks; see benchmarks/calib/thresholds.py). A curve in
    `also` flagging fewer than `min_flagged` rows at a threshold is not judged there (too few rows to
    say anything). Among equal recalls the highest threshold wins (fewest alerts). None when no
    threshold reaches the floor.
    """
    def reaches(cum: Cumulative) -> np.ndarray:
        p = precision_lower_bound(cum, confidence) if guaranteed else precision(cum)
        return np.nan_to_num(p, nan=-1.0) >= floor

    ok = reaches(c)
    for other in also:
        ok &= reaches(other) | (other.tp + other.fp < min_flagged)
    if not ok.any():
        return None
    rec = np.where(ok, recall(c), -1.0)
    best = np.nanmax(rec)
    return int(np.flatnonzero(rec == best)[-1])


def precision_lower_bound(c: Cumulative, confidence: float = 0.95) -> np.ndarray:
    """Wilson lower bound of precision at every threshold; NaN where nothing labelled is flagged."""
    lower, _ = wilson_bounds(c.tp, c.tp + c.fp, confidence)
    return lower


def expected_cost(c: Cumulative, cost_fp: float, cost_fn: float) -> np.ndarray:
    return cost_fp * c.fp + cost_fn * c.fn


def min_cost_index(c: Cumulative, cost_fp: float, cost_fn: float) -> int:
    cost = expected_cost(c, cost_fp, cost_fn)
    return int(np.flatnonzero(cost == cost.min())[-1])


def net_value(c: Cumulative, cost_fp: float) -> np.ndarray:
    """Money of positives caught minus the cost of reviewing/blocking each false positive."""
    return c.value_tp - cost_fp * c.fp


def max_value_index(c: Cumulative, cost_fp: float) -> int:
    value = net_value(c, cost_fp)
    return int(np.flatnonzero(value == value.max())[-1])


def capacity_index(c: Cumulative, budget_per_day: float, days: float) -> int | None:
    """Lowest threshold whose flagged volume (labelled or not) per day fits the budget."""
    per_day = c.flagged / max(days, 1e-12)
    fits = np.flatnonzero(per_day <= budget_per_day)
    return int(fits[0]) if len(fits) else None


# --- uncertainty -------------------------------------------------------------------------------

@lru_cache(maxsize=8)  # computed twice per segment row on every slider move otherwise
def _z(confidence: float) -> float:
    # the standard library's normal quantile (within 1e-15 of scipy's norm.ppf): importing
    # scipy.stats cost a cold Thresholds visit ~0.3-1 s before its headline
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: float, trials: float, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion; (None, None) with no trials."""
    if trials <= 0:
        return None, None
    lower, upper = wilson_bounds(np.array([successes]), np.array([trials]), confidence)
    return float(lower[0]), float(upper[0])


def wilson_bounds(successes, trials, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for arrays of proportions; NaN where trials == 0."""
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exactly 0 with no success and 1 with all (centre - half is 0 there only up to rounding)
    lower = np.where(n > 0, np.where(k <= 0, 0.0, np.maximum(0.0, centre - half)), np.nan)
    upper = np.where(n > 0, np.where(k >= n, 1.0, np.minimum(1.0, centre + half)), np.nan)
    return lower, upper


# --- exact ranking quality from counts per distinct score -------------------------------------

def exact_curve_counts(scores, pos, neg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct scores (any order) with their counts -> descending thresholds, tps, fps."""
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    return scores[order], np.cumsum(np.asarray(pos, float)[order]), np.cumsum(np.asarray(neg, float)[order])


def average_precision(scores, pos, neg) -> float | None:
    """sklearn's step-wise AP: sum over thresholds of (R_n - R_{n-1}) * P_n; ties grouped."""
    _, tps, fps = exact_curve_counts(scores, pos, neg)
    if len(tps) == 0 or tps[-1] == 0:
        return None
    prec = tps / (tps + fps)
    rec = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))


def roc_auc(scores, pos, neg) -> float | None:
    """Area under the ROC curve by the trapezoid rule over distinct thresholds (ties grouped)."""
    _, tps, fps = exact_curve_counts(scores, pos, neg)
    if len(tps) == 0 or tps[-1] == 0 or fps[-1] == 0:
        return None
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr_ = np.r_[0.0, fps / fps[-1]]
    return float(np.trapezoid(tpr, fpr_))


def binned_average_precision(pos, neg) -> float | None:
    """AP treating each bin as one tied score: what summaries alone allow (~1e-4 from exact).
    Bins without labelled rows are dropped: they are no threshold of the curve (and 0/0 at the top)."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    keep = (pos + neg) > 0
    return average_precision(np.flatnonzero(keep), pos[keep], neg[keep])


def binned_roc_auc(pos, neg) -> float | None:
    return roc_auc(np.arange(len(pos)), pos, neg)


def disagreement_rate(only_a: int, only_b: int, total: int) -> float | None:
    """Share of traffic where two models decide differently."""
    return None if total == 0 else (only_a + only_b) / total


def quality_from_sums(n_pos: int, n_neg: int, precision_sum: float, rank_sum: int) -> dict:
    """Exact AP and ROC AUC from two sums over the positive rows of a score-descending order
    (dashboard/store/quality.py), ties included:
    - precision_sum: sum of TP(>= s) / n(>= s) at each positive's score s. A tie group with k
      positives adds k * its precision, so /P is sklearn's step-wise AP.
    - rank_sum: sum of n(>= s) + rank(s), where rank(s) = 1 + rows scored above s. A positive's
      ascending mid-rank is (2T + 2 - n(>= s) - rank(s)) / 2 (T labelled rows), so the
      Mann-Whitney AUC (ties count 1/2, equal to the trapezoid AUC) follows in integers."""
    total = n_pos + n_neg
    ap = precision_sum / n_pos if n_pos else None
    auc = None
    if n_pos and n_neg:
        twice_rank = n_pos * (2 * total + 2) - rank_sum  # twice the positives' mid-rank sum
        auc = (twice_rank - n_pos * (n_pos + 1)) / (2 * n_pos * n_neg)
    return {"n_pos": n_pos, "n_neg": n_neg, "average_precision": ap, "roc_auc": auc}


def binned_quality_bounds(pos, neg) -> dict[str, tuple[float, float] | None]:
    """The interval the exact AP and ROC AUC lie in, from per-bin counts alone (bins in ascending
    score order), whatever the order and ties of the scores inside each bin.

    AUC: only pairs of a positive and a negative in the same bin are unknown (binned counts them
    1/2, exact 0, 1/2 or 1): binned +- sum_b pos_b * neg_b / (2 P N).
    AP: with a positives and b rows above a bin of p positives and n negatives, the j-th positive
    of the bin has precision at least (a + j) / (b + n + j) (all the bin's negatives before it)
    and at most (a + p) / (b + p) (none before it, all the bin's positives tied with it); the
    lower sum is p - (b + n - a) * (H(b + n + p) - H(b + n)), in digamma form."""
    from scipy.special import digamma

    pos = np.asarray(pos, dtype=np.float64)[::-1]
    neg = np.asarray(neg, dtype=np.float64)[::-1]
    total_pos, total_neg = float(pos.sum()), float(neg.sum())
    if total_pos == 0:
        return {"average_precision": None, "roc_auc": None}
    keep = pos > 0
    a = (np.cumsum(pos) - pos)[keep]
    b = (np.cumsum(pos + neg) - pos - neg)[keep]
    p, n = pos[keep], neg[keep]
    c = b + n
    lower = np.sum(p - (c - a) * (digamma(c + p + 1) - digamma(c + 1))) / total_pos
    upper = np.sum(p * (a + p) / (b + p)) / total_pos
    ap_bounds = (max(0.0, float(lower)), min(1.0, float(upper)))
    if total_neg == 0:
        return {"average_precision": ap_bounds, "roc_auc": None}
    auc = binned_roc_auc(pos[::-1], neg[::-1])
    half = float(np.sum(pos * neg)) / (2 * total_pos * total_neg)
    return {"average_precision": ap_bounds, "roc_auc": (max(0.0, auc - half), min(1.0, auc + half))}
