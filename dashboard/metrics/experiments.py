"""A/B test statistics from sufficient statistics (n, sum, sum of squares per variant).

Pure numpy/scipy, no I/O (the GrowthBook gbstats split: SQL sums, Python does the maths).

Conventions (each checked against an independent oracle in tests/test_experiments*.py):

- mean = sum / n; variance is the sample variance (ddof = 1): (sum_sq - sum^2 / n) / (n - 1).
- Absolute lift = mean_t - mean_c with Welch's unequal-variance t interval and two-sided p-value,
  Welch-Satterthwaite degrees of freedom. Oracle: scipy.stats.ttest_ind_from_stats(equal_var=False).
- Relative lift = (mean_t - mean_c) / |mean_c|. Dividing by |mean_c| keeps the sign of the
  relative lift equal to the sign of the absolute lift when a metric (profit) can be negative;
  for positive means it is the usual mean_t / mean_c - 1. Its interval is Fieller's (1954) for the
  ratio R = mean_t / mean_c of two independent means: every R with
      (mean_t - R mean_c)^2 <= q^2 (se_t^2 + R^2 se_c^2),   q = t quantile at the Welch df,
  mapped to the relative scale (R - 1, sign-flipped for a negative control mean). Unlike the delta
  method it stays calibrated when the control mean is noisy (docs/statistics.md has the
  simulations). When mean_c^2 <= q^2 se_c^2 (the control mean is not distinguishable from 0) the
  set is unbounded: the relative interval is None with a "not estimable" note, never a wrong
  finite number. The relative p-value is the Welch p-value: Fieller's test of R = 1 is Welch's
  test, so the relative interval excludes 0 exactly when the absolute one does.
  `relative_se` stays the delta-method standard error, an approximation kept for weighting only.
- A control mean is flagged noisy when se(mean_c) > 10% of |mean_c| (the delta method's
  breaking point): `noisy_control` and a note say so.

Edge cases get documented values, never NaN or a ZeroDivisionError:

- n = 0 in a variant: no means, no lift; `note` says which variant is empty.
- n = 1 in a variant: means and lift, but no variance, so ci/p-value are None (note says why).
- zero variance in both variants: the difference is exact. CI = [lift, lift]; p-value = 0.0 when
  the lift is non-zero and 1.0 when it is zero (scipy returns p = 0 and NaN for these).
- control mean 0: relative lift and its interval are None with the note "control mean is 0".
- control mean not distinguishable from 0: relative lift shown, its interval None ("not estimable").
- sum_sq slightly below sum^2 / n from float rounding: variance clamped to 0; clearly inconsistent
  statistics (sum_sq < sum^2 / n beyond rounding) raise ValueError naming the variant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from scipy import special, stats

# relative tolerance for sum_sq - sum^2/n < 0 that is still float rounding
_ROUNDING = 1e-9
# se(control mean) / |control mean| above which the relative interval is flagged (delta method
# breaks down past it; Fieller's interval stays calibrated but gets wide and asymmetric)
NOISY_CONTROL = 0.10


@dataclass(frozen=True)
class SuffStats:
    """n units, sum and sum of squares of a per-unit metric in one variant."""

    n: int
    sum: float
    sum_sq: float

    @property
    def mean(self) -> float | None:
        return self.sum / self.n if self.n > 0 else None

    @property
    def variance(self) -> float | None:
        """Sample variance (ddof = 1); None with fewer than 2 units."""
        if self.n < 2:
            return None
        centred = self.sum_sq - self.sum * self.sum / self.n
        if centred < 0:
            if centred < -_ROUNDING * max(abs(self.sum_sq), 1.0):
                raise ValueError(
                    f"inconsistent sufficient statistics: sum_sq={self.sum_sq!r} is below "
                    f"sum^2/n={self.sum * self.sum / self.n!r} (n={self.n})"
                )
            centred = 0.0
        return centred / (self.n - 1)

    @classmethod
    def from_values(cls, values: Sequence[float] | np.ndarray) -> "SuffStats":
        x = np.asarray(values, dtype=np.float64)
        return cls(int(x.size), float(x.sum()), float((x * x).sum()))


@dataclass(frozen=True)
class Comparison:
    """Treatment vs control for one metric. Every optional field is None when undefined (see note)."""

    n_control: int
    n_treatment: int
    control_mean: float | None
    treatment_mean: float | None
    control_var: float | None
    treatment_var: float | None
    lift: float | None  # treatment_mean - control_mean
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    df: float | None
    relative_lift: float | None  # (treatment_mean - control_mean) / |control_mean|
    relative_se: float | None
    relative_ci_low: float | None
    relative_ci_high: float | None
    relative_p_value: float | None
    alpha: float
    notes: tuple[str, ...] = field(default_factory=tuple)
    control_relative_se: float | None = None  # se(mean_c) / |mean_c|

    @property
    def note(self) -> str:
        return "; ".join(self.notes)

    @property
    def noisy_control(self) -> bool:
        """se(control mean) > 10% of |control mean|: read the relative lift with care."""
        return self.control_relative_se is not None and self.control_relative_se > NOISY_CONTROL

    def significant(self, alpha: float | None = None) -> bool:
        """Absolute-lift Welch test below alpha (default: the alpha the intervals were built at)."""
        a = self.alpha if alpha is None else alpha
        return self.p_value is not None and self.p_value < a


def welch_df(var_c: float, n_c: int, var_t: float, n_t: int) -> float:
    """Welch-Satterthwaite degrees of freedom; inf when both variances are 0 (the normal limit)."""
    a, b = var_c / n_c, var_t / n_t
    denom = a * a / (n_c - 1) + b * b / (n_t - 1)
    if denom == 0.0:
        return math.inf
    return (a + b) ** 2 / denom


def _t_interval(estimate: float, se: float, df: float, alpha: float) -> tuple[float, float, float]:
    """(low, high, two-sided p) for estimate / se ~ t(df); se = 0 is the exact (degenerate) case."""
    if se == 0.0:
        return estimate, estimate, (1.0 if estimate == 0.0 else 0.0)
    q = _t_quantile(df, alpha)
    p = float(2.0 * special.stdtr(df, -abs(estimate / se)))  # = 2 * stats.t.sf, without its overhead
    return estimate - q * se, estimate + q * se, min(p, 1.0)


def compare(control: SuffStats, treatment: SuffStats, alpha: float = 0.05) -> Comparison:
    """Absolute (Welch) and relative (Fieller) lift of treatment over control."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    notes: list[str] = []
    m_c, m_t = control.mean, treatment.mean
    v_c, v_t = control.variance, treatment.variance
    empty = {"se": None, "ci_low": None, "ci_high": None, "p_value": None, "df": None,
             "relative_se": None, "relative_ci_low": None, "relative_ci_high": None,
             "relative_p_value": None}
    base = dict(n_control=control.n, n_treatment=treatment.n, control_mean=m_c,
                treatment_mean=m_t, control_var=v_c, treatment_var=v_t, alpha=alpha)
    if m_c is None or m_t is None:
        which = " and ".join(v for v, m in (("control", m_c), ("treatment", m_t)) if m is None)
        notes.append(f"no units in {which}: no lift can be computed")
        return Comparison(**base, lift=None, relative_lift=None, **empty, notes=tuple(notes))

    lift = m_t - m_c
    rel = lift / abs(m_c) if m_c != 0.0 else None
    if rel is None:
        notes.append("control mean is 0: relative lift is undefined (use the absolute lift)")
    if v_c is None or v_t is None:
        notes.append("fewer than 2 units in a variant: variance unknown, no interval or p-value")
        return Comparison(**base, lift=lift, relative_lift=rel, **empty, notes=tuple(notes))

    se = math.sqrt(v_c / control.n + v_t / treatment.n)
    df = welch_df(v_c, control.n, v_t, treatment.n)
    if se == 0.0:
        notes.append("no variation in either variant: the difference is exact")
    lo, hi, p = _t_interval(lift, se, df, alpha)

    r_se = r_lo = r_hi = r_p = c_rel = None
    if rel is not None:
        r_se = relative_se(m_c, v_c, control.n, m_t, v_t, treatment.n)
        c_rel = math.sqrt(v_c / control.n) / abs(m_c)
        q = _t_quantile(df, alpha) if se > 0.0 else 0.0
        interval = fieller_relative_interval(m_c, v_c / control.n, m_t, v_t / treatment.n, q)
        r_p = p
        if interval is None:
            notes.append("relative interval not estimable: the control mean is not distinguishable "
                         "from 0 (Fieller's interval is unbounded); use the absolute lift")
        else:
            r_lo, r_hi = interval
        if c_rel > NOISY_CONTROL:
            notes.append(f"noisy control mean (its standard error is {c_rel:.0%} of the mean): the "
                         "relative interval is wide and asymmetric; judge on the absolute lift")
    return Comparison(**base, lift=lift, se=se, ci_low=lo, ci_high=hi, p_value=p,
                      df=df, relative_lift=rel, relative_se=r_se, relative_ci_low=r_lo,
                      relative_ci_high=r_hi, relative_p_value=r_p, notes=tuple(notes),
                      control_relative_se=c_rel)


def _t_quantile(df: float, alpha: float) -> float:
    """stats.t.ppf(1 - alpha/2, df) through the ufunc (same value, ~50x faster; tests compare)."""
    return float(special.stdtrit(df, 1.0 - alpha / 2.0))


def fieller_relative_interval(m_c: float, s2_c: float, m_t: float, s2_t: float,
                              q: float) -> tuple[float, float] | None:
    """Fieller's interval for (m_t - m_c) / |m_c| from two independent means.

    s2_c, s2_t are the squared standard errors of the means; q the critical value (t or z).
    The set of ratios R = m_t / m_c with (m_t - R m_c)^2 <= q^2 (s2_t + R^2 s2_c) is a bounded
    interval exactly when m_c^2 > q^2 s2_c; otherwise it is unbounded and None is returned.
    """
    a = m_c * m_c - q * q * s2_c
    if a <= 0.0 or m_c == 0.0:
        return None
    b = m_t * m_c
    disc = q * q * (m_t * m_t * s2_c + a * s2_t)  # = b^2 - a (m_t^2 - q^2 s2_t), never negative here
    half = math.sqrt(max(disc, 0.0))
    r_lo, r_hi = (b - half) / a, (b + half) / a
    if m_c > 0:
        return r_lo - 1.0, r_hi - 1.0
    return 1.0 - r_hi, 1.0 - r_lo  # (m_t - m_c)/|m_c| = 1 - R when m_c < 0


def delta_relative_interval(m_c: float, s2_c: float, m_t: float, s2_t: float,
                            q: float) -> tuple[float, float] | None:
    """The former delta-method interval (rel +- q * se), kept only so the calibration benchmark
    can show what it under-covers; the product uses fieller_relative_interval."""
    if m_c == 0.0:
        return None
    rel = (m_t - m_c) / abs(m_c)
    mc2 = m_c * m_c
    half = q * math.sqrt(s2_t / mc2 + m_t * m_t * s2_c / (mc2 * mc2))
    return rel - half, rel + half


def log_ratio_relative_interval(m_c: float, s2_c: float, m_t: float, s2_t: float,
                                q: float) -> tuple[float, float] | None:
    """exp(log(m_t / m_c) +- q * se_log) - 1, se_log^2 = s2_t/m_t^2 + s2_c/m_c^2 (delta method on
    the log scale); defined only when both means are positive. Compared in the benchmark."""
    if m_c <= 0.0 or m_t <= 0.0:
        return None
    log_r = math.log(m_t / m_c)
    half = q * math.sqrt(s2_t / (m_t * m_t) + s2_c / (m_c * m_c))
    return math.exp(log_r - half) - 1.0, math.exp(log_r + half) - 1.0


def relative_se(m_c: float, v_c: float, n_c: int, m_t: float, v_t: float, n_t: int) -> float:
    """Delta-method standard error of (m_t - m_c) / |m_c| (requires m_c != 0): an approximation
    used to weight lifts (alignment), not for the interval."""
    mc2 = m_c * m_c
    var = v_t / (n_t * mc2) + m_t * m_t * v_c / (n_c * mc2 * mc2)
    return math.sqrt(var)


# ---------------------------------------------------------------- sample-ratio mismatch


@dataclass(frozen=True)
class SRMResult:
    n_control: int
    n_treatment: int
    expected_control_share: float
    observed_control_share: float | None
    chi2: float | None
    p_value: float | None
    threshold: float
    mismatch: bool  # p_value < threshold

    @property
    def message(self) -> str:
        if self.p_value is None:
            return "no units assigned: sample ratio cannot be checked"
        share = f"{self.observed_control_share:.2%} control (expected {self.expected_control_share:.0%})"
        if self.mismatch:
            return (f"sample ratio mismatch: {share}, chi-square p = {self.p_value:.2g} < "
                    f"{self.threshold:g}; assignment or logging is broken, results are not trustworthy")
        return f"sample ratio as expected: {share}, chi-square p = {self.p_value:.2g}"


def srm_test(n_control: int, n_treatment: int, expected_control_share: float = 0.5,
             threshold: float = 0.001) -> SRMResult:
    """Chi-square goodness-of-fit test of the observed split against the designed split.

    threshold 0.001 is the common SRM alarm level (Fabijan et al., KDD 2019): SRM checks run on
    every experiment, so a stricter level keeps false alarms rare. Oracle: scipy.stats.chisquare.
    """
    if not 0.0 < expected_control_share < 1.0:
        raise ValueError(f"expected control share must be in (0, 1), got {expected_control_share!r}")
    total = n_control + n_treatment
    if total <= 0:
        return SRMResult(n_control, n_treatment, expected_control_share, None, None, None,
                         threshold, False)
    e_c = total * expected_control_share
    e_t = total - e_c
    chi2 = (n_control - e_c) ** 2 / e_c + (n_treatment - e_t) ** 2 / e_t
    p = float(stats.chi2.sf(chi2, 1))
    return SRMResult(n_control, n_treatment, expected_control_share, n_control / total,
                     float(chi2), p, threshold, p < threshold)


# ---------------------------------------------------------------- multiple testing


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """BH-adjusted p-values (q-values); None entries stay None and do not count as tests.

    q_(i) = min over j >= i of p_(j) * m / j, capped at 1. Rejecting q < alpha controls the false
    discovery rate at alpha for independent or positively dependent tests.
    Oracle: scipy.stats.false_discovery_control(method='bh').
    """
    idx = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    if not idx:
        return out
    p = np.array([p_values[i] for i in idx], dtype=np.float64)
    if np.any((p < 0) | (p > 1) | np.isnan(p)):
        raise ValueError("p-values must be in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    for k, i in enumerate(idx):
        out[i] = float(q[k])
    return out


# ---------------------------------------------------------------- paired differences


@dataclass(frozen=True)
class PairedResult:
    """Mean of per-unit differences (candidate - baseline) with a one-sample t interval."""

    n: int
    mean: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    note: str = ""


def paired(diffs: SuffStats, alpha: float = 0.05) -> PairedResult:
    """Paired t-test from sufficient statistics of the differences (n, sum d, sum d^2).

    Used for two models scored on the same queries. Oracle: scipy.stats.ttest_rel. Fewer than 2
    pairs: mean only. All differences equal: exact (p = 0, or 1 when they are all 0).
    """
    if diffs.n == 0:
        return PairedResult(0, None, None, None, None, None, "no pairs")
    mean = diffs.mean
    var = diffs.variance
    if var is None:
        return PairedResult(diffs.n, mean, None, None, None, None, "one pair: no interval")
    se = math.sqrt(var / diffs.n)
    lo, hi, p = _t_interval(mean, se, diffs.n - 1, alpha)
    return PairedResult(diffs.n, mean, se, lo, hi, p, "every pair differs by the same amount" if se == 0 else "")
