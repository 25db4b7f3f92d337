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
