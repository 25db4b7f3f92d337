"""A week's verdict for a metric's weekly series: better / worse / unusual / within normal.

One definition serves the Weekly review, the Metric tree "over a period" and `report weekly`.
Pure numpy/scipy, no I/O. The series are weekly means of daily values (ISO weeks), so the weekday
cycle cancels exactly; what is left is judged like this:

1. The period is the last `weeks` weeks (1, 2 or 4) ending at week i; its value is the mean of
   those weeks, compared with the `weeks` weeks before: change d = log(B_i / B_{i-m}) (a
   difference scaled by the mean level when a series has values <= 0).
2. Seasonal baseline: when the data reaches a year back far enough (MIN_REFERENCE past
   year-over-year comparisons), the expected change is the same period's change a year earlier
   (52 weeks: same weekday mix), and the surprise is e = d_i - d_{i-52}. A holiday that comes
   every year then cancels. Otherwise the surprise is the change itself.
3. Honest reference: the same surprise at the K past, non-overlapping positions i - m, i - 2m, ...
   (up to a year back). Surprises of the past are judged exactly as this one, so autocorrelation
   between weeks and any trend are in the reference.
4. Calibrated threshold: score T = (e - mean) / (sd * sqrt(1 + 1/K)), the t prediction statistic
   (a new value against K past ones): under an unchanged series it follows Student's t with K - 1
   degrees of freedom, so small K widens the threshold instead of firing more often (a robust z on
   26 changes compared with normal quantiles fired about twice its nominal rate).

Verdict: |T| beyond the two-sided VERDICT_ALPHA quantile -> better / worse in the metric's
direction (unusual when it has none); otherwise within normal. Alert: T beyond the one-sided
ALERT_ALPHA quantile in the bad direction. Measured rates: benchmarks/calib/timeseries.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

VERDICT_ALPHA = 0.05  # two-sided: chance an unchanged metric reads better or worse in a week
ALERT_ALPHA = 0.01  # one-sided, bad direction: chance an unchanged metric raises an alert in a week
SEASON_WEEKS = 52
REFERENCE_WEEKS = 52  # how far back past surprises are taken
MIN_REFERENCE = 6  # fewer past surprises than this: no verdict


@dataclass(frozen=True)
class Scores:
    """Per-series arrays (shape S) for one target week; NaN where not defined."""

    change: np.ndarray  # this period's change (transformed units)
    expected: np.ndarray  # the change expected (year-ago change + mean past surprise)
    score: np.ndarray  # t prediction statistic
    dof: np.ndarray  # K - 1
    reference: np.ndarray  # K, past surprises in the reference
    margin: np.ndarray  # half-width of the usual range at VERDICT_ALPHA (transformed units)
    seasonal: np.ndarray  # bool: judged against the same period a year ago
    scale: np.ndarray  # per series: 0 for log changes, else the level used to scale differences
    previous: np.ndarray  # B_{i-m}, to turn transformed changes back into relative ones


def _transform(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log of the block means where a series is positive, else block / mean |block|."""
    finite = np.isfinite(block)
    positive = np.all(~finite | (block > 0), axis=-1)
    level = np.nanmean(np.where(finite, np.abs(block), np.nan), axis=-1)
    level = np.where(np.isfinite(level) & (level > 0), level, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.log(np.where(block > 0, block, np.nan))
    y = np.where(positive[:, None], logged, block / level[:, None])
    return y, np.where(positive, 0.0, level)


def block_means(weekly: np.ndarray, weeks: int) -> np.ndarray:
    """Mean of the `weeks` weeks ending at each position (NaN when any of them is missing)."""
    w = np.asarray(weekly, dtype=np.float64)
    out = np.full_like(w, np.nan)
    for j in range(weeks - 1, w.shape[-1]):
        out[..., j] = w[..., j - weeks + 1:j + 1].mean(axis=-1)
    return out


def surprise_scores(weekly: np.ndarray, i: int, weeks: int = 1) -> Scores:
    """Scores of week i (period of `weeks` weeks ending there) for every row of `weekly` (S x T)."""
    w = np.atleast_2d(np.asarray(weekly, dtype=np.float64))
    m = int(weeks)
    block = block_means(w, m)
    y, scale = _transform(block)
    d = np.full_like(y, np.nan)
    d[:, m:] = y[:, m:] - y[:, :-m]
    e = np.full_like(d, np.nan)
    e[:, SEASON_WEEKS:] = d[:, SEASON_WEEKS:] - d[:, :-SEASON_WEEKS]
    positions = [i - k * m for k in range(1, REFERENCE_WEEKS // m + 1) if i - k * m >= 0]
    take = lambda a: a[:, positions] if positions else np.empty((a.shape[0], 0))  # noqa: E731
    seasonal_ref, plain_ref = take(e), take(d)
    now_e, now_d = _at(e, i), _at(d, i)
    seasonal = (np.isfinite(seasonal_ref).sum(axis=1) >= MIN_REFERENCE) & np.isfinite(now_e)
    ref = np.where(seasonal[:, None], seasonal_ref, plain_ref)
    now = np.where(seasonal, now_e, now_d)
    k = np.isfinite(ref).sum(axis=1).astype(np.float64)
    enough = k >= MIN_REFERENCE
    with np.errstate(invalid="ignore", divide="ignore"):
        filled = np.where(np.isfinite(ref), ref, 0.0)
        mean = np.where(enough, filled.sum(axis=1) / k, np.nan)
        dev = np.where(np.isfinite(ref), ref - mean[:, None], 0.0)
        sd = np.sqrt((dev ** 2).sum(axis=1) / (k - 1))
        spread = np.where(enough, sd * np.sqrt(1 + 1 / k), np.nan)
        score = np.where(spread > 0, (now - mean) / spread, np.nan)
        dof = np.where(enough, k - 1, np.nan)
        margin = stats.t.ppf(1 - VERDICT_ALPHA / 2, dof) * spread
    year_ago = np.where(seasonal, _at(d, i - SEASON_WEEKS), 0.0)
    return Scores(now_d, year_ago + mean, score, dof, k, margin, seasonal, scale, _at(block, i - m))


def _at(a: np.ndarray, j: int) -> np.ndarray:
    return a[:, j] if 0 <= j < a.shape[1] else np.full(a.shape[0], np.nan)


def p_two_sided(s: Scores) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return 2 * stats.t.sf(np.abs(s.score), s.dof)


def verdict_fires(s: Scores) -> np.ndarray:
    """Better/worse/unusual (the change is beyond its usual range at VERDICT_ALPHA)."""
    with np.errstate(invalid="ignore"):
        return np.abs(s.score) >= stats.t.ppf(1 - VERDICT_ALPHA / 2, s.dof)


def alert_fires(s: Scores, sign: int | np.ndarray = 1) -> np.ndarray:
    """Beyond the ALERT_ALPHA one-sided quantile in the bad direction (either side at half the
    rate each when the metric has no direction, sign 0)."""
    sign = np.broadcast_to(np.asarray(sign), s.score.shape)
    with np.errstate(invalid="ignore"):
        one = sign * s.score <= stats.t.ppf(ALERT_ALPHA, s.dof)
        two = np.abs(s.score) >= stats.t.ppf(1 - ALERT_ALPHA / 2, s.dof)
    return np.where(sign == 0, two, one)


@dataclass(frozen=True)
class Verdict:
    verdict: str  # better / worse / unusual / within normal / not enough history / no data
    change: float | None  # relative change of the period against the period before
    expected: float | None  # relative change expected (same period last year, or the usual one)
    usual_low: float | None  # range of a usual change (relative) at VERDICT_ALPHA
    usual_high: float | None
    score: float | None  # t prediction statistic (how many usual spreads away from expected)
    p_value: float | None  # two-sided, Student's t with `reference - 1` degrees of freedom
    alert: bool  # beyond the alert threshold in the bad direction
    baseline: str  # "same period last year" / "past weeks" / ""
    reference: int  # past surprises the judgement rests on
    weeks: int


def period_verdict(weekly: np.ndarray, i: int, weeks: int = 1, sign: int = 1) -> Verdict:
    """Verdict of the `weeks` weeks ending at index i of one weekly series; sign +1 higher is
    better, -1 lower is better, 0 no direction."""
    s = surprise_scores(np.asarray(weekly, dtype=np.float64)[None, :], i, weeks)
    rel = lambda v: _relative(float(v), float(s.scale[0]), float(s.previous[0]))  # noqa: E731
    change = rel(s.change[0])
    k = int(s.reference[0])
    baseline = "same period last year" if s.seasonal[0] else ("past weeks" if k else "")
    if change is None:
        return Verdict("no data", None, None, None, None, None, None, False, baseline, k, weeks)
    if k < MIN_REFERENCE or not np.isfinite(s.score[0]):
        return Verdict("not enough history", change, None, None, None, None, None, False, baseline, k, weeks)
    score = float(s.score[0])
    if not verdict_fires(s)[0]:
        word = "within normal"
    elif sign == 0:
        word = "unusual"
    else:
        word = "better" if sign * score > 0 else "worse"
    ex, mg = float(s.expected[0]), float(s.margin[0])
    return Verdict(word, change, rel(ex), rel(ex - mg), rel(ex + mg), score, float(p_two_sided(s)[0]),
                   bool(alert_fires(s, sign)[0]), baseline, k, weeks)


def _relative(v: float, scale: float, previous: float) -> float | None:
    """Transformed change -> relative change (as `this / previous - 1`)."""
    if not np.isfinite(v):
        return None
    if scale == 0:
        return float(np.expm1(v))
    if not np.isfinite(previous) or previous == 0:
        return None
    return float(v * scale / abs(previous))


def expected_false(n_metrics: int) -> dict[str, float]:
    """False verdicts and alerts to expect in a week across `n_metrics` unchanged metrics."""
    return {"verdicts": n_metrics * VERDICT_ALPHA, "alerts": n_metrics * ALERT_ALPHA}
