"""Relative lift of a candidate model over a baseline, with a bootstrap interval, from summaries.

Two cases, both resampling the unit the metric is averaged over:
- ranking: per-query values of both models on the same queries (paired); resample queries;
  lift = mean(candidate) / mean(baseline) - 1. Above 5,000 queries they are resampled in
  random batches (2,000 batches of sums): batches of independent queries are themselves
  independent, so resampling batches is a valid bootstrap of the mean and ~50x cheaper.
- classification: per-score-bin counts of positives and negatives of each model; resample rows
  with the Poisson bootstrap (each cell's count drawn as Poisson(count): every row gets a
  Poisson(1) weight, the large-sample equivalent of resampling rows, and ~10x faster than a
  multinomial over 20k cells), independently per model (pairing by row is not in the summary,
  so the interval is conservative when both models scored the same rows).
Intervals are percentile intervals; the standard error is the resamples' standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

RESAMPLES = 400
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
    """Lift of the mean of per-unit values, both models measured on the same units."""
    b, c = np.asarray(baseline, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    if b.shape != c.shape or b.size == 0:
        raise ValueError("need the same non-empty set of units for both models")
    rng = np.random.default_rng(seed)
    units_b, units_c, weight = b, c, np.ones_like(b)
    if b.size > _BATCH_ABOVE:
        batch = rng.permutation(b.size) % _BATCHES
        units_b, units_c = np.bincount(batch, b, _BATCHES), np.bincount(batch, c, _BATCHES)
        weight = np.bincount(batch, minlength=_BATCHES).astype(np.float64)
    boot = []
    for start in range(0, resamples, _CHUNK):
        idx = rng.integers(0, units_b.size, size=(min(_CHUNK, resamples - start), units_b.size))
        n = weight[idx].sum(axis=1)
        boot.append(_relative(units_b[idx].sum(axis=1) / n, units_c[idx].sum(axis=1) / n))
    return _summary(float(b.mean()), float(c.mean()), np.concatenate(boot), confidence)


def binned_metric_lift(metric: Callable[[np.ndarray, np.ndarray], float | None],
                       baseline: tuple[np.ndarray, np.ndarray], candidate: tuple[np.ndarray, np.ndarray],
                       resamples: int = RESAMPLES, confidence: float = 0.95, seed: int = 0) -> LiftEstimate:
    """Lift of a metric computed from (positives, negatives) per score bin of each model."""
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
        draws[:, nonzero] = rng.poisson(cells[nonzero], size=(resamples, nonzero.size))
        k = pos.size
        reps = np.array([_none_to_nan(metric(d[:k], d[k:])) for d in draws])
        values.append((point, reps))
    (b, b_reps), (c, c_reps) = values
    return _summary(float(b), float(c), _relative(b_reps, c_reps), confidence)


def _none_to_nan(v: float | None) -> float:
    return np.nan if v is None else float(v)
