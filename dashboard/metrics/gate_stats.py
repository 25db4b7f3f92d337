"""Classification metrics from score-bin counts (the `prediction_bins` summary), for gates.

Bins are ordered by score; a threshold at the lower edge of bin b predicts positive for every
row in bins >= b (see dashboard.metrics.binning). Scores inside one bin count as tied, so each
value here equals scikit-learn's on the binned scores exactly (tests check this) and is within
the binning error of the value on raw scores.
"""

from __future__ import annotations

import numpy as np


def _cumulative(n_pos: np.ndarray, n_neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives at each threshold, from the highest bin down (non-empty bins only)."""
    pos = np.asarray(n_pos, dtype=np.float64)[::-1]
    neg = np.asarray(n_neg, dtype=np.float64)[::-1]
    keep = (pos + neg) > 0
    return np.cumsum(pos[keep]), np.cumsum(neg[keep])


def recall_at_precision(n_pos, n_neg, min_precision: float) -> float | None:
    """Largest recall over thresholds whose precision >= min_precision; 0.0 if none reaches it
    (sklearn's curve ends at recall 0, precision 1); None without positives."""
    tp, fp = _cumulative(n_pos, n_neg)
    if tp.size == 0 or tp[-1] == 0:
        return None
    precision = tp / (tp + fp)
    ok = precision >= min_precision
    return float((tp[ok] / tp[-1]).max()) if ok.any() else 0.0


def precision_at_recall(n_pos, n_neg, min_recall: float) -> float | None:
    """Largest precision over thresholds whose recall >= min_recall; None without positives."""
    tp, fp = _cumulative(n_pos, n_neg)
    if tp.size == 0 or tp[-1] == 0:
        return None
    ok = tp / tp[-1] >= min_recall
    return float((tp[ok] / (tp[ok] + fp[ok])).max())


def roc_auc(n_pos, n_neg) -> float | None:
    """Area under the ROC curve with ties inside a bin (trapezoid); None without both classes."""
    tp, fp = _cumulative(n_pos, n_neg)
    if tp.size == 0 or tp[-1] == 0 or fp[-1] == 0:
        return None
    tpr = np.concatenate([[0.0], tp / tp[-1]])
    fpr = np.concatenate([[0.0], fp / fp[-1]])
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def average_precision(n_pos, n_neg) -> float | None:
    """Step-sum AP, sum (R_k - R_{k-1}) P_k (sklearn's definition); None without positives."""
    tp, fp = _cumulative(n_pos, n_neg)
    if tp.size == 0 or tp[-1] == 0:
        return None
    recall = tp / tp[-1]
    precision = tp / (tp + fp)
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))


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
