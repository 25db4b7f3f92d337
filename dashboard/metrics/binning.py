"""Score bins shared by the summary builder (SQL) and the threshold maths.

Bin b of a model holds lo + b*width <= score < lo + (b+1)*width with width = (hi - lo) / n_bins,
and the last bin (b = n_bins) holds every score >= lo + n_bins*width. The edges are computed with
exactly this expression on both sides, so `score >= edge(i)` equals `bin >= i` bit for bit.
"""

from __future__ import annotations

import numpy as np

N_BINS = 10_000


def bin_width(lo: float, hi: float, n_bins: int = N_BINS) -> float:
    return (hi - lo) / n_bins


def bin_edges(lo: float, hi: float, n_bins: int = N_BINS) -> np.ndarray:
    """Threshold i (0..n_bins) is the lower edge of bin i; `score >= edges[i]` <=> `bin >= i`."""
    width = bin_width(lo, hi, n_bins)
    return lo + np.arange(n_bins + 1, dtype=np.float64) * width


def score_range(min_score: float, max_score: float) -> tuple[float, float]:
    """[0, 1] for probabilities; otherwise the model's own range (never of zero width)."""
    if min_score >= 0.0 and max_score <= 1.0:
        return 0.0, 1.0
    if max_score <= min_score:
        return float(min_score), float(min_score) + 1.0
    return float(min_score), float(max_score)


def assign_bins(scores: np.ndarray, lo: float, hi: float, n_bins: int = N_BINS) -> np.ndarray:
    """Reference implementation of the SQL binning (used by tests and small in-memory data)."""
    width = bin_width(lo, hi, n_bins)
    b0 = np.clip(np.floor((scores - lo) / width), 0, n_bins)
    b = b0 - (scores < lo + b0 * width) + (scores >= lo + (b0 + 1) * width)
    return np.clip(b, 0, n_bins).astype(np.int64)
