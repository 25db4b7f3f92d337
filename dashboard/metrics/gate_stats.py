"""Classification metrics from score-bin counts (the `prediction_bins` summary), for gates.

Thin named wrappers over dashboard.metrics.classification, the one confusion-at-thresholds core.

Bins are ordered by score; a threshold at the lower edge of bin b predicts positive for every
row in bins >= b (see dashboard.metrics.binning). Scores inside one bin count as tied, so each
value here equals scikit-learn's on the binned scores exactly (tests check this) and is within
the binning error of the value on raw scores.
"""

from __future__ import annotations

import numpy as np

from dashboard.metrics import classification as clf


def recall_at_precision(n_pos, n_neg, min_precision: float) -> float | None:
    """Largest recall over thresholds whose precision >= min_precision; 0.0 if none reaches it
    (sklearn's curve ends at recall 0, precision 1); None without positives."""
    c = clf.cumulate(n_pos, n_neg)
    if c.positives == 0:
        return None
    i = clf.best_recall_at_precision(c, min_precision)
    return 0.0 if i is None else float(clf.recall(c)[i])


def precision_at_recall(n_pos, n_neg, min_recall: float) -> float | None:
    """Largest precision over thresholds whose recall >= min_recall; None without positives."""
    c = clf.cumulate(n_pos, n_neg)
    if c.positives == 0:
        return None
    precision = np.where(clf.recall(c) >= min_recall, clf.precision(c), np.nan)
    return float(np.nanmax(precision))


def roc_auc(n_pos, n_neg) -> float | None:
    """Area under the ROC curve with ties inside a bin (trapezoid); None without both classes."""
    return clf.binned_roc_auc(n_pos, n_neg)


def average_precision(n_pos, n_neg) -> float | None:
    """Step-sum AP, sum (R_k - R_{k-1}) P_k (sklearn's definition); None without positives."""
    return clf.binned_average_precision(n_pos, n_neg)


def classification_metric(name: str, n_pos, n_neg) -> float | None:
    """'auc', 'average_precision', 'recall@precision>=X' or 'precision@recall>=X'."""
    kind, arg = parse_classification_metric(name)
    if kind == "auc":
        return roc_auc(n_pos, n_neg)
    if kind == "average_precision":
        return average_precision(n_pos, n_neg)
    if kind == "recall@precision":
        return recall_at_precision(n_pos, n_neg, arg)
    return precision_at_recall(n_pos, n_neg, arg)


def parse_classification_metric(name: str) -> tuple[str, float | None]:
    """Canonical (kind, argument) of a metric name; ValueError naming the accepted forms."""
    n = name.strip().lower().replace(" ", "")
    if n in ("auc", "roc_auc"):
        return "auc", None
    if n in ("ap", "average_precision", "pr_auc"):
        return "average_precision", None
    for kind in ("recall@precision", "precision@recall"):
        if n.startswith(kind + ">="):
            try:
                value = float(n[len(kind) + 2:])
            except ValueError:
                break
            if 0.0 <= value <= 1.0:
                return kind, value
    raise ValueError(f"unknown classification metric {name!r}: use auc, average_precision, "
                     "recall@precision>=X or precision@recall>=X with X in [0, 1]")


def classification_metric_many(name: str, n_pos, n_neg) -> np.ndarray:
    """`classification_metric` of each row of (R, bins) count arrays at once (NaN where it is None):
    the bootstrap's resamples in one pass instead of R calls (the same values; tests check it)."""
    kind, arg = parse_classification_metric(name)
    pos, neg = np.atleast_2d(np.asarray(n_pos, np.float64)), np.atleast_2d(np.asarray(n_neg, np.float64))
    tp = np.cumsum(pos[:, ::-1], axis=1)[:, ::-1]  # rows at or above each bin
    fp = np.cumsum(neg[:, ::-1], axis=1)[:, ::-1]
    positives, negatives = tp[:, 0], fp[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        rec = tp / positives[:, None]
        if kind == "auc":
            above = tp - pos  # positives strictly above the bin
            out = (neg * (above + 0.5 * pos)).sum(axis=1) / (positives * negatives)
            return np.where((positives > 0) & (negatives > 0), out, np.nan)
        if kind == "average_precision":
            out = np.where(pos > 0, pos * prec, 0.0).sum(axis=1) / positives
        elif kind == "recall@precision":
            out = np.where(np.nan_to_num(prec, nan=-1.0) >= arg, rec, 0.0).max(axis=1)
        else:
            out = np.where(rec >= arg, prec, np.nan)
            out = np.where(np.isnan(out).all(axis=1), np.nan, np.nanmax(np.nan_to_num(out, nan=-np.inf), axis=1))
    return np.where(positives > 0, out, np.nan)


# A tied score level "could count the other way" when the floor is within this many standard
# errors of its precision. Measured on the 'ties' world (benchmarks/calib/offline_lift.py), whose
# control model has a level at precision 0.498 on a 0.5 floor (the worst case), 1,000 samples:
# paired coverage 91.3% at 1.0; paired / unpaired 94.2% / 96.6% at 1.5, 96.2% / 98.3% at 1.96.
AMBIGUITY_Z = 1.5


def threshold_alternatives(name: str, n_pos, n_neg, z: float = AMBIGUITY_Z) -> tuple[float, float] | None:
    """recall@precision>=P on heavily tied scores: (strict, lenient) values when a score level the
    floor cannot be told from (|precision - P| <= z standard errors at P) holds more positives than
    the metric's own standard error, so counting that level the other way moves the metric by a
    whole step; None otherwise (continuous scores: every level's step is small). A bootstrap cannot
    see such a step (it resamples around the sample's side of the floor); the lift's interval is
    widened to the values on both sides (dashboard.metrics.lift_bootstrap)."""
    kind, floor = parse_classification_metric(name)
    if kind != "recall@precision":
        return None
    pos, neg = np.asarray(n_pos, np.float64), np.asarray(n_neg, np.float64)
    positives = pos.sum()
    levels = np.flatnonzero(pos + neg > 0)
    if positives == 0 or levels.size == 0:
        return None
    tp = np.cumsum(pos[::-1])[::-1][levels]
    flagged = np.cumsum((pos + neg)[::-1])[::-1][levels]
    precision, recall = tp / flagged, tp / positives
    point = recall_at_precision(pos, neg, floor)
    noise = max(np.sqrt(point * (1 - point) / positives), 1 / positives)
    unsure = np.abs(precision - floor) <= z * np.sqrt(floor * (1 - floor) / flagged)
    unsure &= pos[levels] / positives > noise
    if not unsure.any():
        return None
    sure = (precision >= floor) & ~unsure
    strict = float(np.max(recall, where=sure, initial=0.0))
    lenient = float(np.max(recall, where=(precision >= floor) | unsure, initial=0.0))
    return (strict, lenient) if (strict, lenient) != (point, point) else None
