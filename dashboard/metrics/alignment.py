"""Does one metric's lift predict another's across past experiments? Pure numpy/scipy, no I/O.

Inputs are one point per experiment: x = the proxy's relative lift (offline NDCG, or an online
engagement metric), y = the target's relative lift (retention), each with its standard error
where known. Conventions (oracles in tests/test_alignment_metrics.py):

- Pearson r and its p-value as scipy.stats.pearsonr; interval by the Fisher z transform,
  atanh(r) +- z / sqrt(n - 3) (scipy's `confidence_interval()` for pearsonr is the same).
- Spearman rho as scipy.stats.spearmanr (average ranks for ties); interval by Fisher z with the
  Bonett & Wright (2000) standard error sqrt((1 + rho^2 / 2) / (n - 3)).
- Sign agreement: the share of experiments whose two lifts have the same sign (experiments
  where either lift is exactly 0 are left out), with a Wilson interval; and, of the offline
  wins, how many were online wins.
- Ordinary least squares y = intercept + slope * x, with the usual prediction interval for a
  new experiment, intercept + slope * x0 +- t(n-2) * s * sqrt(1 + 1/n + (x0 - mean x)^2 / Sxx).
- Leave-one-out prediction error: each experiment predicted from the fit on the others (exact
  closed form e_i / (1 - h_ii)).
- Noise-corrected correlation (errors in variables): every observed pair of lifts is the true
  pair plus estimation noise of known covariance S_i (squared standard errors; the noise
  covariance of two metrics measured on the same users, Bibaut et al., KDD 2024), independent
  across experiments. The true lifts' covariance is fitted by REML and the correlation's
  interval is its profile likelihood (dashboard.metrics.alignment_reml); the plug-in ratio
      (cov(x, y) - mean cov_noise) / sqrt((var x - mean se_x^2) (var y - mean se_y^2))
  is biased and clips at +-1 with few experiments. Not given below MIN_CORRECTED experiments,
  and undefined (None, with the reason) when the noise is as large as the observed spread.
- Noise covariance of two relative lifts (delta method, as each lift's own variance): with
  L = m_t / |m_c| - sign(m_c) for metrics a and b and per-variant covariances of the means
  cov_v(a, b) = s_ab / n_v,
      cov(L_a, L_b) = cov_t(a, b) / (|m_c,a| |m_c,b|) + m_t,a m_t,b cov_c(a, b) / (m_c,a m_c,b |m_c,a| |m_c,b|).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from dashboard.metrics import alignment_reml as reml
from dashboard.metrics.classification import wilson_interval

MIN_EXPERIMENTS = 3
SHORT_HISTORY = 8  # fewer experiments than this: intervals are wide, say so


class AlignmentError(ValueError):
    """The history cannot answer the question (too few experiments, constant lifts...)."""


@dataclass(frozen=True)
class Correlation:
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    method: str


@dataclass(frozen=True)
class SignAgreement:
    share: float | None  # same sign, of the experiments where both lifts are non-zero
    ci_low: float | None
    ci_high: float | None
    n: int
    proxy_wins: int  # x > 0
    proxy_wins_target_wins: int  # x > 0 and y > 0


@dataclass(frozen=True)
class Line:
    slope: float
    intercept: float
    residual_sd: float
    n: int
    x_mean: float
    sxx: float

    def predict(self, x0, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(expected y, prediction interval low, high) for new experiments at x0."""
        x0 = np.asarray(x0, dtype=np.float64)
        y_hat = self.intercept + self.slope * x0
        q = stats.t.ppf(0.5 + confidence / 2, self.n - 2)
        half = q * self.residual_sd * np.sqrt(1 + 1 / self.n + (x0 - self.x_mean) ** 2 / self.sxx)
        return y_hat, y_hat - half, y_hat + half


@dataclass(frozen=True)
class Corrected:
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    slope: float | None  # corrected regression slope of y on true x
    reliability_x: float | None  # share of x's observed variance that is signal
    reliability_y: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)


def check_points(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of equal length with >= 3 finite points and some spread in each; else a
    clear AlignmentError."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise AlignmentError(f"need two lists of lifts of equal length, got {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise AlignmentError("lifts must be finite numbers")
    if x.size < MIN_EXPERIMENTS:
        raise AlignmentError(f"only {x.size} experiment(s) have both metrics; at least "
                             f"{MIN_EXPERIMENTS} are needed to say anything about a relation")
    for name, v in (("first", x), ("second", y)):
        if np.ptp(v) == 0:
            raise AlignmentError(f"the {name} metric's lift is the same ({v[0]:+.4g}) in every experiment: "
                                 "a constant cannot predict or be predicted")
    return x, y


def _fisher_interval(r: float, se: float, confidence: float) -> tuple[float, float]:
    if not math.isfinite(se):
        return -1.0, 1.0
    z = math.atanh(max(min(r, 1 - 1e-15), -1 + 1e-15))
    q = stats.norm.ppf(0.5 + confidence / 2)
    return math.tanh(z - q * se), math.tanh(z + q * se)


def pearson(x, y, confidence: float = 0.95) -> Correlation:
    x, y = check_points(x, y)
    res = stats.pearsonr(x, y)
    r = float(res.statistic)
    se = 1 / math.sqrt(x.size - 3) if x.size > 3 else math.inf
    lo, hi = _fisher_interval(r, se, confidence)
    return Correlation(r, lo, hi, float(res.pvalue), int(x.size), "pearson")


def spearman(x, y, confidence: float = 0.95) -> Correlation:
    x, y = check_points(x, y)
    res = stats.spearmanr(x, y)
    rho = float(res.statistic)
    if not math.isfinite(rho):  # ranks constant: check_points excludes it, kept as a guard
        raise AlignmentError("ranks are constant: no rank correlation")
    se = math.sqrt((1 + rho * rho / 2) / (x.size - 3)) if x.size > 3 else math.inf
    lo, hi = _fisher_interval(rho, se, confidence)
    return Correlation(rho, lo, hi, float(res.pvalue), int(x.size), "spearman")


def sign_agreement(x, y, confidence: float = 0.95) -> SignAgreement:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    both = (x != 0) & (y != 0)
    agree = int(((np.sign(x) == np.sign(y)) & both).sum())
    n = int(both.sum())
    lo, hi = wilson_interval(agree, n, confidence)
    return SignAgreement(agree / n if n else None, lo, hi, n, int((x > 0).sum()), int(((x > 0) & (y > 0)).sum()))


def fit_line(x, y) -> Line:
    x, y = check_points(x, y)
    x_mean = float(x.mean())
    sxx = float(((x - x_mean) ** 2).sum())
    slope = float(((x - x_mean) * (y - y.mean())).sum() / sxx)
    intercept = float(y.mean() - slope * x_mean)
    resid = y - intercept - slope * x
    dof = x.size - 2
    residual_sd = float(math.sqrt((resid ** 2).sum() / dof)) if dof > 0 else math.inf
    return Line(slope, intercept, residual_sd, int(x.size), x_mean, sxx)


def leave_one_out_errors(x, y) -> np.ndarray:
    """y_i minus its prediction from the line fitted without experiment i."""
    x, y = check_points(x, y)
    line = fit_line(x, y)
    resid = y - line.intercept - line.slope * x
    leverage = 1 / x.size + (x - line.x_mean) ** 2 / line.sxx
    with np.errstate(divide="ignore", invalid="ignore"):
        # leverage 1 (an experiment alone at its x) cannot be predicted from the others
        return np.where(leverage < 1 - 1e-12, resid / (1 - leverage), np.nan)


MIN_CORRECTED = 20  # below this the corrected interval's coverage is not shown to hold (benchmarks/calib)


def noise_corrected(x, y, se_x=None, se_y=None, noise_cov=None, noise_correlation: float = 0.0,
                    confidence: float = 0.95, min_experiments: int = MIN_CORRECTED) -> Corrected:
    """Correlation of the true lifts, removing each experiment's estimation noise (see module doc):
    a bivariate random-effects model with known noise, fitted by REML (dashboard.metrics.alignment_reml).

    se_x / se_y: standard errors per experiment; None (or NaN entries) means no noise known
    (an offline metric typed in from a fixed evaluation set). noise_cov: per experiment, the
    covariance of the two lifts' estimation noise (two metrics measured on the same units);
    otherwise noise_correlation * se_x * se_y (0: different data, e.g. offline vs online).
    """
    x, y = check_points(x, y)
    if x.size < min_experiments:
        return Corrected(None, None, None, None, None, None,
                         (f"not available below {min_experiments} experiments (this history has {x.size}): "
                          "with fewer, its interval does not hold its stated coverage",))
    var_x, var_y = _noise_var(se_x, x.size), _noise_var(se_y, x.size)
    if noise_cov is None:
        noise_cov = noise_correlation * np.sqrt(var_x * var_y)
    noise_cov = np.asarray(noise_cov, dtype=np.float64)
    if noise_cov.shape != x.shape or not np.isfinite(noise_cov).all():
        raise AlignmentError("need one finite noise covariance per experiment")
    return _corrected(reml.fit(x, y, var_x, var_y, noise_cov, confidence), x, y, var_x, var_y)


def noise_corrected_many(x, y, se_x, se_y, noise_cov, confidence: float = 0.95) -> list[Corrected]:
    """noise_corrected() for H histories of n >= MIN_CORRECTED experiments at once (arrays (H, n)),
    vectorised across histories; the same numbers as H calls (the calibration runs thousands)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if x.ndim != 2 or x.shape[1] < MIN_CORRECTED:
        raise AlignmentError(f"need histories of at least {MIN_CORRECTED} experiments as rows, got {x.shape}")
    var_x, var_y = np.asarray(se_x, np.float64) ** 2, np.asarray(se_y, np.float64) ** 2
    fits = reml.fit_many(x, y, var_x, var_y, noise_cov, confidence)
    return [_corrected(f, *a) for f, *a in zip(fits, x, y, var_x, var_y)]


def _corrected(f: reml.RemlFit, x, y, var_x, var_y) -> Corrected:
    obs_vx, obs_vy = float(x.var(ddof=1)), float(y.var(ddof=1))
    rel_x = max(0.0, 1 - var_x.mean() / obs_vx)
    rel_y = max(0.0, 1 - var_y.mean() / obs_vy)
    flat = [n for n, sd, v, rel in (("the proxy", f.sd_x, obs_vx, rel_x), ("the target", f.sd_y, obs_vy, rel_y))
            if sd * sd < 1e-4 * v or rel == 0]
    if flat:
        return Corrected(None, None, None, None, rel_x, rel_y, (
            f"estimation noise is as large as the spread of {' and '.join(flat)} across experiments: "
            "the true correlation cannot be separated from noise",))
    return Corrected(f.estimate, f.ci_low, f.ci_high, f.slope, rel_x, rel_y, ())


def relative_lift_covariance(control_a: float, treatment_a: float, control_b: float, treatment_b: float,
                             cov_control: float, cov_treatment: float, n_control: int, n_treatment: int) -> float:
    """Delta-method covariance of two relative lifts measured on the same units (module doc);
    cov_control / cov_treatment: unit-level covariance s_ab of the two metrics in each variant."""
    scale = abs(control_a) * abs(control_b)
    return (cov_treatment / n_treatment / scale
            + treatment_a * treatment_b * cov_control / n_control / (control_a * control_b * scale))


def _noise_var(se, n: int) -> np.ndarray:
    if se is None:
        return np.zeros(n)
    v = np.asarray(se, dtype=np.float64)
    if v.shape != (n,):
        raise AlignmentError(f"need one standard error per experiment ({n}), got {v.shape}")
    return np.where(np.isfinite(v), v * v, 0.0)


def history_warnings(x, x0: float | None = None) -> list[str]:
    """Why a prediction from this history deserves caution."""
    x = np.asarray(x, dtype=np.float64)
    out = []
    if x.size < SHORT_HISTORY:
        out.append(f"only {x.size} past experiments: the history is short and intervals are wide")
    if x0 is not None and x.size and not (x.min() <= x0 <= x.max()):
        out.append(f"the candidate's lift {x0:+.2%} lies outside the history "
                   f"({x.min():+.2%} to {x.max():+.2%}): the line is extrapolated")
    return out
