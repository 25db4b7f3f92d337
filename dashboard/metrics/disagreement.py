"""Where two models decide differently, for any pair of bin-edge thresholds, from joint bin counts.

The input is the paired rows' counts per (bin of model A, bin of model B): `score >= edge(i)` is
`bin >= i` bit for bit (metrics/binning.py), so the counts at edge thresholds are exact. What a
threshold pair needs is the dominance count D(i, j) = #(bin_a >= i and bin_b >= j):

    only_a = #(bin_a >= i) - D(i, j)        only_b = #(bin_b >= j) - D(i, j)

A dense (bins x bins) table would be 10,001^2 cells. Instead the joint counts are kept sparse,
sorted by bin_a, with one dense cumulative table at every `block`-th edge of model A:
C[I, j] = #(bin_a >= I * block, bin_b >= j). Then

    D(i, j) = C[ceil(i / block), j] + #(i <= bin_a < ceil(i / block) * block, bin_b >= j)

where the second term reads only the sparse cells of less than one block of A's bins: a move costs
a look-up and a slice of about 1/(number of blocks) of the cells, never the raw rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 128  # A's bins per dense row: 79 rows x 10,002 edges of B = 6 MB of int64 at 10,000 bins


@dataclass(frozen=True)
class JointCounts:
    """Paired rows counted per (bin_a, bin_b), ready to answer any threshold pair (see module doc)."""

    n_bins: int  # the highest bin index (bins are 0..n_bins; thresholds 0..n_bins + 1)
    bin_a: np.ndarray  # sparse cells, sorted by bin_a
    bin_b: np.ndarray
    n: np.ndarray
    above_a: np.ndarray  # #(bin_a >= i), i = 0..n_bins + 1
    above_b: np.ndarray  # #(bin_b >= j)
    dense: np.ndarray  # C[I, j], I = 0..ceil((n_bins + 1) / BLOCK) (the last row is zeros)

    @property
    def total(self) -> int:
        return int(self.above_a[0])

    def both_above(self, i: int, j: int) -> int:
        """D(i, j) = #(bin_a >= i and bin_b >= j)."""
        i, j = _clip(i, self.n_bins), _clip(j, self.n_bins)
        block = -(-i // BLOCK)
        key = self.bin_a.dtype.type  # searching with another dtype would convert the whole array per call
        lo = int(np.searchsorted(self.bin_a, key(i), side="left"))
        hi = int(np.searchsorted(self.bin_a, key(block * BLOCK), side="left"))
        strip = self.n[lo:hi][self.bin_b[lo:hi] >= j]
        return int(self.dense[block, j]) + int(strip.sum())

    def at(self, i: int, j: int) -> dict:
        """Rows flagged by A only (A at edge i, B below edge j), by B only, and the paired total."""
        both = self.both_above(i, j)
        only_a = int(self.above_a[_clip(i, self.n_bins)]) - both
        only_b = int(self.above_b[_clip(j, self.n_bins)]) - both
        total = self.total
        return {"paired_rows": total, "only_a": only_a, "only_b": only_b,
                "rate": None if total == 0 else (only_a + only_b) / total}


def _clip(k: int, n_bins: int) -> int:
    return int(min(max(k, 0), n_bins + 1))


def joint_counts(bin_a, bin_b, n, n_bins: int) -> JointCounts:
    """Build the structure from (bin_a, bin_b, count) cells (any order; a cell may repeat)."""
    bin_a = np.asarray(bin_a, dtype=np.int64)
    bin_b = np.asarray(bin_b, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    if len(bin_a) and (bin_a.min() < 0 or bin_b.min() < 0 or bin_a.max() > n_bins or bin_b.max() > n_bins):
        raise ValueError(f"bins must lie in 0..{n_bins}")
    order = np.argsort(bin_a, kind="stable")
    bin_a, bin_b, n = bin_a[order], bin_b[order], n[order]
    width = n_bins + 1
    count_type = np.int32 if n.sum() < 2**31 else np.int64  # the cache keeps this per view: ~2.5x smaller
    above_a = _suffix(np.bincount(bin_a, weights=n, minlength=width))
    above_b = _suffix(np.bincount(bin_b, weights=n, minlength=width))
    rows = -(-width // BLOCK)
    hist = np.bincount((bin_a // BLOCK) * width + bin_b, weights=n, minlength=rows * width)
    hist = np.rint(hist).astype(np.int64).reshape(rows, width)
    # suffix sums over A's blocks, then over B's bins; a zero row (I past the last bin) and column (j = n_bins + 1)
    dense = np.zeros((rows + 1, width + 1), dtype=count_type)
    dense[:rows, :width] = np.cumsum(np.cumsum(hist[::-1], axis=0)[::-1][:, ::-1], axis=1)[:, ::-1]
    bin_type = np.int16 if n_bins + BLOCK < 2**15 else np.int64  # edges up to the last block's end fit
    return JointCounts(n_bins, bin_a.astype(bin_type), bin_b.astype(bin_type), n.astype(count_type), above_a,
                       above_b, dense)


def _suffix(counts: np.ndarray) -> np.ndarray:
    """#(bin >= k) for k = 0..len, from counts per bin (float weights back to exact integers)."""
    c = np.rint(counts).astype(np.int64)
    return np.r_[np.cumsum(c[::-1])[::-1], 0]
