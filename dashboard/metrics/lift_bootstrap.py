"""Relative lift of a candidate model over a baseline, with an interval, from summaries.

Two cases, both paired where the models share units:
- ranking: per-query values of both models on the same queries (paired);
  lift = mean(candidate) / mean(baseline) - 1, Student-t interval on the ratio's linearisation
  (`paired_mean_lift`; it replaced a percentile bootstrap that covered 91% at 30 queries).
  Above 5,000 queries the residuals are summed in 2,000 random batches (independent queries
  make independent batches) before the variance.
- classification: per-score-bin counts of positives and negatives of each model; resample rows
  with the Poisson bootstrap (each cell's count drawn as Poisson(count): every row gets a
  Poisson(1) weight, the large-sample equivalent of resampling rows, and ~10x faster than a
  multinomial over 20k cells).
  Paired (`paired_binned_metric_lift`): when both models scored the same rows, the cells are
  joint, (bin and label under model A, bin and label under model B) -> rows; each joint cell is
  drawn once and feeds both models' counts, so a row's weight is the same for both and var(lift)
  includes their covariance. Independent (`binned_metric_lift`): per-model bins only, each drawn
  on its own: conservative when the models share rows (overstates the lift's noise).
  The paired draws cost resamples x joint cells (about one per row on continuous scores); above
  MAX_JOINT_CELLS, adjacent bins are merged (x2, x4, ...) for the resampling only, until the
  joint cells fit, and the resampled lifts are shifted by (fine-bin lift - merged-bin lift): the
  point estimate stays the fine one, and the spread comes from a few hundred bins per model,
  which is enough for the lift's noise. The cost stays about that of the independent bootstrap.
Classification intervals are percentile intervals; the standard error is the resamples' standard
deviation. Given `metric_many` (the metric of all resamples at once) the resamples are scored in
one vectorised pass; Poisson counts of cells holding one or two rows are drawn by inversion
(`poisson`): together ~5x faster, the same distribution. A maximum over thresholds on heavily
tied scores (recall@precision>=P with a score level whose precision cannot be told from the
floor) is widened to the metric's values with that level counted either way (`alternatives`,
`_widen`): the bootstrap alone stays on the sample's side of the floor and covered 88.5-91%.
Coverage of all: benchmarks/calib/offline_lift.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import sparse
from scipy.stats import t as t_dist

RESAMPLES = 400
MAX_JOINT_CELLS = 10_000
_CHUNK = 100
_BATCH_ABOVE, _BATCHES = 5_000, 2_000


@dataclass(frozen=True)
class LiftEstimate:
    baseline: float
    candidate: float
    lift: float | None  # candidate / baseline - 1; None when the baseline is 0
    se: float | None
    ci_low: float | None
    ci_high: float | None
    note: str = ""  # why the interval is wider than the bootstrap's (tied score levels), else ""


# (positives, negatives) per bin -> (strict, lenient) values of the metric when a tied score level
# could count either way (gate_stats.threshold_alternatives), else None
Alternatives = Callable[[np.ndarray, np.ndarray], "tuple[float, float] | None"]


def _relative(baseline, candidate):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(baseline != 0, candidate / np.abs(baseline) - np.sign(baseline), np.nan)


def _summary(base: float, cand: float, boot: np.ndarray, confidence: float) -> LiftEstimate:
    if base == 0:
        return LiftEstimate(base, cand, None, None, None, None)
    lift = cand / abs(base) - np.sign(base)
    boot = boot[np.isfinite(boot)]
    if boot.size < 20:
        return LiftEstimate(base, cand, float(lift), None, None, None)
    lo, hi = np.quantile(boot, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return LiftEstimate(base, cand, float(lift), float(boot.std(ddof=1)), float(lo), float(hi))


def paired_mean_lift(baseline, candidate, resamples: int = RESAMPLES, confidence: float = 0.95,
                     seed: int = 0) -> LiftEstimate:
    """Lift of the mean of per-unit values, both models measured on the same units.

    Student-t interval on the ratio's linearisation (delta method): lift = sum(c) / sum(b) - 1,
    se = sqrt(n / (n - 1) * sum((c_i - R b_i)^2)) / |sum(b)|, t with n - 1 degrees of freedom.
    The percentile bootstrap it replaced covered 91% at 30 queries (too narrow at small n, like
    the ranking delta's; docs/statistics.md). Above 5,000 units the sums run over 2,000 random
    batches (same estimate, se from batch sums). `resamples` and `seed` only pick the batches."""
    del resamples  # kept for callers; no resampling any more
    b, c = np.asarray(baseline, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    if b.shape != c.shape or b.size == 0:
        raise ValueError("need the same non-empty set of units for both models")
    base, cand = float(b.mean()), float(c.mean())
    if base == 0:
        return LiftEstimate(base, cand, None, None, None, None)
    units_b, units_c = b, c
    if b.size > _BATCH_ABOVE:
        batch = np.random.default_rng(seed).permutation(b.size) % _BATCHES
        units_b, units_c = np.bincount(batch, b, _BATCHES), np.bincount(batch, c, _BATCHES)
    lift = cand / abs(base) - np.sign(base)
    k = units_b.size
    if k < 2:
        return LiftEstimate(base, cand, float(lift), None, None, None)
    ratio = cand / base
    resid = units_c - ratio * units_b
    se = float(np.sqrt(k / (k - 1) * np.sum(resid**2)) / abs(units_b.sum()))
    half = float(t_dist.ppf(0.5 + confidence / 2, k - 1)) * se
    return LiftEstimate(base, cand, float(lift), se, float(lift - half), float(lift + half))


def binned_metric_lift(metric: Callable[[np.ndarray, np.ndarray], float | None],
                       baseline: tuple[np.ndarray, np.ndarray], candidate: tuple[np.ndarray, np.ndarray],
                       resamples: int = RESAMPLES, confidence: float = 0.95, seed: int = 0,
                       metric_many: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                       alternatives: Alternatives | None = None) -> LiftEstimate:
    """Lift of a metric computed from (positives, negatives) per score bin of each model.
    `metric_many`: the same metric on (resamples, bins) arrays at once, NaN where undefined
    (e.g. gate_stats.classification_metric_many); the resamples are then scored in one pass."""
    rng = np.random.default_rng(seed)
    values = []
    for pos, neg in (baseline, candidate):
        pos, neg = np.asarray(pos, dtype=np.float64), np.asarray(neg, dtype=np.float64)
        point = metric(pos, neg)
        cells = np.r_[pos, neg]
        if point is None or cells.sum() == 0:
            return LiftEstimate(point if point is not None else float("nan"), float("nan"), None, None, None, None)
        draws = np.zeros((resamples, cells.size))
        nonzero = np.flatnonzero(cells)
        draws[:, nonzero] = poisson(rng, cells[nonzero], resamples)
        reps = _score(metric, metric_many, draws, pos.size)
        values.append((point, reps))
    (b, b_reps), (c, c_reps) = values
    est = _summary(float(b), float(c), _relative(b_reps, c_reps), confidence)
    return _widen(est, alternatives, [baseline, candidate])


def paired_binned_metric_lift(metric: Callable[[np.ndarray, np.ndarray], float | None], n_bins: int,
                              cell_a: np.ndarray, cell_b: np.ndarray, count: np.ndarray,
                              resamples: int = RESAMPLES, confidence: float = 0.95, seed: int = 0,
                              max_cells: int = MAX_JOINT_CELLS,
                              metric_many: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                              alternatives: Alternatives | None = None) -> LiftEstimate:
    """Lift of a binned metric with both models resampled on the same rows.

    Joint cell j holds count[j] rows; cell_a[j] is their cell in model A's vector
    [positives per bin, negatives per bin] (length 2 * n_bins), -1 when A did not score them
    (likewise cell_b for model B)."""
    cells = np.stack([np.asarray(cell_a, dtype=np.int64), np.asarray(cell_b, dtype=np.int64)])
    count = np.asarray(count, dtype=np.float64)
    if cells.shape[1] != count.size or (cells >= 2 * n_bins).any() or (cells < -1).any():
        raise ValueError("need one cell index per model (in [-1, 2 * n_bins)) and a count for every joint cell")
    per_model = [_split(np.bincount(c[c >= 0], count[c >= 0], 2 * n_bins), n_bins) for c in cells]
    points = [metric(*counts) for counts in per_model]
    if points[0] is None or points[1] is None:
        return LiftEstimate(_none_to_nan(points[0]), _none_to_nan(points[1]), None, None, None, None)
    rng = np.random.default_rng(seed)
    keep = count > 0
    cells, count = cells[:, keep], count[keep]
    shift = 0.0
    if count.size > max_cells:
        cells, count, n_bins = _merge_bins(cells, count, n_bins, max_cells)
        coarse = [metric(*_split(np.bincount(c[c >= 0], count[c >= 0], 2 * n_bins), n_bins)) for c in cells]
        if coarse[0] is None or coarse[1] is None or coarse[0] == 0:
            return LiftEstimate(float(points[0]), float(points[1]), None, None, None, None)
        shift = float(_relative(np.float64(points[0]), np.float64(points[1]))
                      - _relative(np.float64(coarse[0]), np.float64(coarse[1])))
    # joint cell -> the model's cell, as a sparse 0/1 matrix: (draws @ onehot) sums each model's counts
    onehot = [sparse.csr_matrix((np.ones(int((c >= 0).sum())), (np.flatnonzero(c >= 0), c[c >= 0])),
                                shape=(count.size, 2 * n_bins)) for c in cells]
    reps: list[list[float]] = [[], []]
    for start in range(0, resamples, _CHUNK):
        draws = poisson(rng, count, min(_CHUNK, resamples - start))
        for m, one in enumerate(onehot):
            reps[m] += list(_score(metric, metric_many, np.asarray(draws @ one), n_bins))
    est = _summary(float(points[0]), float(points[1]),
                   _relative(np.array(reps[0]), np.array(reps[1])) + shift, confidence)
    return _widen(est, alternatives, per_model)


def _widen(est: LiftEstimate, alternatives: Alternatives | None, counts) -> LiftEstimate:
    """The bootstrap interval moved out by the lift's change when a model's tied score level counts
    the other way (the union of the interval shifted to each alternative). A bootstrap of a maximum
    over a few tied thresholds stays on the sample's side of the floor: on ~15 score levels with a
    level's precision at the floor it covered 88.5-91% (benchmarks/calib/offline_lift.py)."""
    if alternatives is None or est.ci_low is None:
        return est
    alts = [alternatives(*c) for c in counts]
    if alts[0] is None and alts[1] is None:
        return est
    base = [est.baseline, *(alts[0] or ())]
    cand = [est.candidate, *(alts[1] or ())]
    lifts = [float(_relative(np.float64(b), np.float64(c))) for b in base for c in cand if b != 0]
    low = est.ci_low + min(0.0, min(lifts) - est.lift)
    high = est.ci_high + max(0.0, max(lifts) - est.lift)
    which = " and ".join(m for m, a in zip(("baseline", "candidate"), alts) if a is not None)
    note = (f"interval widened: the {which} model's scores are tied in few levels and one level's precision "
            f"is within noise of the floor, so the metric could be one level higher or lower "
            f"(lift {min(lifts):+.1%} to {max(lifts):+.1%} from that alone)")
    return LiftEstimate(est.baseline, est.candidate, est.lift, est.se, float(low), float(high), note)


def poisson(rng: np.random.Generator, lam: np.ndarray, size: int) -> np.ndarray:
    """(size, len(lam)) Poisson draws as floats. Means <= 2 (on continuous scores nearly every cell
    holds one or two rows) by inversion of uniforms, a few vectorised passes: ~10x faster than
    Generator.poisson there, the same distribution (tail beyond 1e-15 cut); larger means by numpy."""
    lam = np.asarray(lam, dtype=np.float64)
    out = np.empty((size, lam.size))
    small = lam <= 2.0
    if (~small).any():
        out[:, ~small] = rng.poisson(lam[~small], size=(size, int((~small).sum())))
    if small.any():
        l = lam[small]
        u = rng.random((size, l.size))
        x = np.zeros_like(u)
        pmf = np.exp(-l)
        cdf = pmf.copy()
        for k in range(1, 40):  # x = #{k >= 0: u > F(k)}; Poisson(2) passes 1e-15 by k = 21
            above = u > cdf
            if not above.any():
                break
            x += above
            pmf = pmf * l / k
            cdf = cdf + pmf
        out[:, small] = x
    return out


def _merge_bins(cells: np.ndarray, count: np.ndarray, n_bins: int, max_cells: int):
    """Merge 2, 4, 8... adjacent bins until the joint cells number at most max_cells."""
    factor = 1
    while True:
        factor *= 2
        coarse_bins = -(-n_bins // factor)
        merged = np.where(cells < 0, -1, (cells // n_bins) * coarse_bins + (cells % n_bins) // factor)
        key = (merged[0] + 1) * (2 * coarse_bins + 1) + (merged[1] + 1)
        uniq, inverse = np.unique(key, return_inverse=True)
        if uniq.size <= max_cells or coarse_bins == 1:
            joint = np.stack([uniq // (2 * coarse_bins + 1) - 1, uniq % (2 * coarse_bins + 1) - 1])
            return joint, np.bincount(inverse, count), coarse_bins


def _score(metric, metric_many, draws: np.ndarray, n_bins: int) -> np.ndarray:
    """The metric of each row of (resamples, 2 * n_bins) counts: [positives per bin, negatives per bin]."""
    if metric_many is not None:
        return np.asarray(metric_many(draws[:, :n_bins], draws[:, n_bins:]), dtype=np.float64)
    return np.array([_none_to_nan(metric(d[:n_bins], d[n_bins:])) for d in draws])


def _split(cells: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    return cells[:n_bins], cells[n_bins:]


def _none_to_nan(v: float | None) -> float:
    return np.nan if v is None else float(v)
