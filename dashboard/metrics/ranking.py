"""Comparing two rankers on the same queries: paired intervals, false-discovery control, the trap.

Per-query metric values come from the summary table (see store/ranking_summary.py); this module
only aggregates them. Queries are the unit: a segment's value is the mean over its queries, and a
baseline-vs-candidate difference is paired query by query (same queries in both).

Intervals are t intervals on the paired per-query differences (the percentile bootstrap covered
91% at 30 queries: benchmarks/calib/ranking.py). None is given under `min_size` queries. Segment
intervals are false-coverage-rate adjusted (Benjamini & Yekutieli 2005): after Benjamini-Hochberg
selects R of the m tested segments, every segment's interval is at level 1 - max(R, 1) * alpha / m,
so a segment is flagged exactly when its interval excludes 0 (the colour and the interval are the
same evidence).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


MIN_QUERIES = 30
BOOTSTRAP_RESAMPLES = 1000
CHUNK = 64  # resamples drawn at once: bounds memory at CHUNK x n indices


def _stats():
    """scipy.stats, imported when a difference is first tested: it is ~1 s of a CLI process's
    start-up, which a report without a baseline never needs."""
    from scipy import stats

    return stats


@dataclass(frozen=True)
class PairedDelta:
    n: int
    mean_candidate: float
    mean_baseline: float
    delta: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    se: float | None = None
    confidence: float | None = None  # of the interval given (None: no interval, too few queries)


def paired_t_interval(diffs: np.ndarray, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Student-t interval of the mean paired difference; (None, None) under 2 queries."""
    diffs = np.asarray(diffs, dtype=np.float64)
    n = len(diffs)
    if n < 2:
        return None, None
    mean, se = float(diffs.mean()), float(diffs.std(ddof=1) / np.sqrt(n))
    half = float(_stats().t.ppf(0.5 + confidence / 2, n - 1)) * se
    return mean - half, mean + half


def paired_bootstrap_ci(diffs: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES, confidence: float = 0.95,
                        seed: int = 0) -> tuple[float | None, float | None]:
    """Percentile interval of the mean paired difference, resampling queries with replacement.
    Kept for the calibration benchmark's comparison only (under-covers at small n)."""
    diffs = np.asarray(diffs, dtype=np.float64)
    n = len(diffs)
    if n < 2:
        return None, None
    rng = np.random.default_rng(seed)
    values = diffs.astype(np.float32)  # gathers 4x faster; means accumulate in float64
    means = np.empty(resamples)
    for start in range(0, resamples, CHUNK):
        size = min(CHUNK, resamples - start)
        idx = rng.integers(0, n, size=(size, n), dtype=np.int32 if n < 2**31 else np.int64)
        means[start:start + size] = values[idx].mean(axis=1, dtype=np.float64)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def paired_p_value(diffs: np.ndarray) -> float | None:
    """Two-sided paired t-test p-value (scipy ttest_1samp on the differences); None if undefined."""
    diffs = np.asarray(diffs, dtype=np.float64)
    if len(diffs) < 2:
        return None
    if np.all(diffs == diffs[0]):
        return 1.0 if diffs[0] == 0 else 0.0  # no spread: the difference is exact
    return float(_stats().ttest_1samp(diffs, 0.0).pvalue)


def paired_delta(candidate: np.ndarray, baseline: np.ndarray, confidence: float = 0.95,
                 min_size: int = MIN_QUERIES) -> PairedDelta:
    """Means, the mean paired difference, its t interval (none under `min_size` queries) and p."""
    candidate = np.asarray(candidate, dtype=np.float64)
    baseline = np.asarray(baseline, dtype=np.float64)
    diffs = candidate - baseline
    n = len(diffs)
    shown = n >= max(min_size, 2)
    low, high = paired_t_interval(diffs, confidence) if shown else (None, None)
    se = float(diffs.std(ddof=1) / np.sqrt(n)) if n >= 2 else None
    return PairedDelta(n, float(candidate.mean()) if n else 0.0, float(baseline.mean()) if n else 0.0,
                       float(diffs.mean()) if n else 0.0, low, high, paired_p_value(diffs), se,
                       confidence if shown else None)


def paired_delta_from_sums(n: int, sum_candidate: float, sum_baseline: float, sum_diff: float, sum_sq_diff: float,
                           confidence: float = 0.95, min_size: int = MIN_QUERIES) -> PairedDelta:
    """`paired_delta` from sufficient statistics (a GROUP BY's count and sums): the same t interval
    and p without the per-query values."""
    if n == 0:
        return PairedDelta(0, 0.0, 0.0, 0.0, None, None, None)
    mean = sum_diff / n
    if n < 2:
        return PairedDelta(n, sum_candidate / n, sum_baseline / n, mean, None, None, None)
    var = max(0.0, (sum_sq_diff - n * mean * mean) / (n - 1))
    if var <= 1e-14 * max(1.0, mean * mean):  # no spread (rounding aside): the difference is exact
        var, p = 0.0, (1.0 if abs(mean) <= 1e-12 else 0.0)
    else:
        p = float(2 * _stats().t.sf(abs(mean) / np.sqrt(var / n), n - 1))
    se = float(np.sqrt(var / n))
    shown = n >= max(min_size, 2)
    half = float(_stats().t.ppf(0.5 + confidence / 2, n - 1)) * se
    return PairedDelta(n, sum_candidate / n, sum_baseline / n, mean, mean - half if shown else None,
                       mean + half if shown else None, p, se, confidence if shown else None)


def _interval(d: PairedDelta, confidence: float) -> PairedDelta:
    """The same difference at another confidence level (t interval from its standard error)."""
    if d.se is None or d.ci_low is None:
        return d
    half = float(_stats().t.ppf(0.5 + confidence / 2, d.n - 1)) * d.se
    return replace(d, ci_low=d.delta - half, ci_high=d.delta + half, confidence=confidence)


def flag_segments(deltas: list[PairedDelta], overall_delta: float, alpha: float = 0.05,
                  min_size: int = MIN_QUERIES) -> list[dict]:
    """BH-adjust segment p-values; flag significant regressions under a rising overall average.

    Segments below `min_size` queries are reported but neither tested, flagged nor given an
    interval. Tested segments get FCR-adjusted intervals (see the module docstring): `ci_low`,
    `ci_high`, `confidence` in each dict agree with `significant`.
    """
    testable = [d.n >= min_size and d.p_value is not None for d in deltas]
    from dashboard.metrics.experiments import benjamini_hochberg  # imports scipy.stats

    q = benjamini_hochberg([d.p_value if t else None for d, t in zip(deltas, testable)])
    m = sum(testable)
    selected = sum(1 for t, qv in zip(testable, q) if t and qv is not None and qv < alpha)
    level = 1 - max(selected, 1) * alpha / m if m else None
    rising = overall_delta > 0
    out = []
    for d, t, qv in zip(deltas, testable, q):
        significant = bool(t and qv is not None and qv < alpha)
        shown = _interval(d, level) if t and level is not None else replace(d, ci_low=None, ci_high=None,
                                                                             confidence=None)
        out.append({"q_value": qv, "significant": significant, "small": not t,
                    "trap": bool(significant and rising and d.delta < 0),
                    "ci_low": shown.ci_low, "ci_high": shown.ci_high, "confidence": shown.confidence})
    return out


def group_means(values: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    out = {}
    for g in np.unique(groups):
        out[str(g)] = float(values[groups == g].mean())
    return out
