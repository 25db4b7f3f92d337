"""A learned composite proxy: weights on K short-term metrics whose combined lift best predicts the
north star's lift across past experiments. Pure numpy/scipy, no I/O.

Data: experiment i has observed relative lifts z_i = (target, candidate 1..K) = delta_i + e_i, where
delta_i are the true lifts and e_i estimation noise of known covariance S_i ((K+1) x (K+1): squared
standard errors on the diagonal, the noise covariance of metrics measured on the same users off it;
0 where unknown). Following Tripuraneni et al. (KDD 2024, "Choosing a Proxy Metric from Past
Experiments"):

- the true lifts' covariance across experiments is Sigma = Cov(z) - mean_i S_i (method of moments;
  the observed covariance minus the average noise covariance);
- the composite's lift is c_i = w' z_i[1:] and its quality is the correlation of its *observed* lift
  in a new experiment with the target's *true* lift,
      corr(w' delta_K + w' e_K, delta_0) = w' Sigma_K0 / sqrt(Sigma_00 w' (Sigma_KK + Xi_KK) w),
  with Xi = mean_i S_i the noise of a typical experiment. It trades agreement with the north star
  (the latent correlation) against the composite's own signal-to-noise: a metric that tracks
  retention but is too noisy to move gets little weight. Its maximiser is closed-form,
      w = (Sigma_KK + lambda Xi_KK)^-1 Sigma_K0     (lambda = `noise_weight`, 1 by default),
  which is the best linear predictor of the target's true lift from the candidates' observed lifts:
  `coefficients` are in the target's units (the composite lift reads as a predicted target lift).
  lambda = 0 maximises the latent correlation alone; on noiseless data w is the least-squares fit.
- `weights` are the coefficients on standardised metrics (each lift divided by its spread across
  experiments), scaled so that sum |w| = 1: comparable across metrics of different units.

Validation is out of sample: each experiment's composite lift comes from weights learned without it
(leave-one-out), then sign agreement with the target, the noise-corrected correlation (REML, with the
composite's noise and its noise covariance with the target propagated from S_i: see
dashboard.metrics.alignment.noise_corrected) and sensitivity (share of experiments whose composite
interval excludes 0) are computed on those lifts. The same numbers in sample show the optimism of
judging weights on the experiments that chose them. Weight intervals: Fieller intervals of each
weight as a ratio (standardised coefficient / sum of their absolute values), the ratio's parts'
covariance from the jackknife over experiments (the leave-one-out fits), t quantile.
Calibration: benchmarks/calib/proxy.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from dashboard.metrics import alignment as al

RIDGE = 1e-9  # relative: keeps the solve defined when two candidates move identically


class ProxyError(ValueError):
    """The history cannot learn a composite (too few experiments, constant lifts...)."""


@dataclass(frozen=True)
class Fit:
    coefficients: np.ndarray  # (K,) on raw lifts, in the target's units
    weights: np.ndarray  # (K,) on standardised lifts, sum |w| = 1
    sigma: np.ndarray  # (K+1, K+1) estimated covariance of the true lifts
    scale: np.ndarray  # (K,) spread of each candidate's observed lift across experiments
    latent_correlation: float | None  # corr(w' delta_K, delta_0) under the estimated Sigma


def check(lifts, noise) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays (n, K+1) and (n, K+1, K+1), finite, noise symmetric; else ProxyError."""
    z = np.asarray(lifts, dtype=np.float64)
    s = np.asarray(noise, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ProxyError(f"need lifts as experiments x (target + candidates), got shape {z.shape}")
    n, k1 = z.shape
    if s.shape != (n, k1, k1):
        raise ProxyError(f"need one {k1}x{k1} noise covariance per experiment, got shape {s.shape}")
    if not (np.isfinite(z).all() and np.isfinite(s).all()):
        raise ProxyError("lifts and noise covariances must be finite numbers")
    if n < k1 + 2:
        raise ProxyError(f"only {n} experiments for {k1 - 1} candidate metric(s): at least {k1 + 2} are needed "
                         "to learn weights")
    if (np.ptp(z, axis=0) == 0).any():
        raise ProxyError("a metric's lift is the same in every experiment: a constant cannot predict or be predicted")
    return z, (s + np.swapaxes(s, 1, 2)) / 2


def noise_from_se(se) -> np.ndarray:
    """Diagonal noise covariances (n, K+1, K+1) from standard errors (n, K+1); NaN means unknown (0)."""
    se = np.asarray(se, dtype=np.float64)
    v = np.where(np.isfinite(se), se * se, 0.0)
    return np.einsum("ij,jk->ijk", v, np.eye(se.shape[1]))


def fit(lifts, noise, noise_weight: float = 1.0) -> Fit:
    z, s = check(lifts, noise)
    return _fit(z, s, noise_weight)


def _fit(z: np.ndarray, s: np.ndarray, noise_weight: float) -> Fit:
    observed = np.cov(z, rowvar=False, ddof=1)
    xi = s.mean(axis=0)
    sigma = observed - xi
    if noise_weight == 1.0:
        a = observed[1:, 1:]  # Sigma_KK + Xi_KK: the candidates' observed covariance
    else:
        a = _psd(sigma[1:, 1:]) + noise_weight * xi[1:, 1:]
    a = a + RIDGE * np.trace(a) / len(a) * np.eye(len(a))
    coef = np.linalg.solve(a, sigma[1:, 0])
    scale = np.sqrt(np.diag(observed)[1:])
    std = coef * scale
    total = np.abs(std).sum()
    weights = std / total if total > 0 else std
    return Fit(coef, weights, sigma, scale, latent_correlation(sigma, coef))


def _psd(m: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(m)
    return (vecs * np.clip(vals, 0, None)) @ vecs.T


def latent_correlation(sigma: np.ndarray, coef: np.ndarray) -> float | None:
    """Correlation of the composite's true lift with the target's, under a true-lift covariance."""
    var_c = float(coef @ sigma[1:, 1:] @ coef)
    if var_c <= 0 or sigma[0, 0] <= 0:
        return None
    return float(np.clip(coef @ sigma[1:, 0] / np.sqrt(var_c * sigma[0, 0]), -1, 1))


def composite(z: np.ndarray, s: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per experiment: the composite's lift, its standard error and its noise covariance with the
    target's lift. `coef` is (K,) for one set of weights or (n, K) for one per experiment."""
    coef = np.broadcast_to(coef, (z.shape[0], z.shape[1] - 1))
    lift = np.einsum("ik,ik->i", z[:, 1:], coef)
    var = np.einsum("ij,ijk,ik->i", coef, s[:, 1:, 1:], coef)
    cov0 = np.einsum("ik,ik->i", coef, s[:, 1:, 0])
    return lift, np.sqrt(np.clip(var, 0, None)), cov0


def leave_one_out(lifts, noise, noise_weight: float = 1.0) -> np.ndarray:
    """(n, K) coefficients, row i learned without experiment i."""
    return np.array([f.coefficients for f in _loo_fits(*check(lifts, noise), noise_weight)])


def _loo_fits(z: np.ndarray, s: np.ndarray, noise_weight: float) -> list[Fit]:
    n = z.shape[0]
    if n < z.shape[1] + 3:
        raise ProxyError(f"only {n} experiments: leave-one-out needs {z.shape[1] + 3}")
    keep = ~np.eye(n, dtype=bool)
    return [_fit(z[keep[i]], s[keep[i]], noise_weight) for i in range(n)]


def weight_intervals(full: Fit, fits: list[Fit], confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Fieller intervals of the standardised weights from the jackknife over experiments.

    A weight is a ratio, w_k = s_k / T (s = coefficients x scale, T = sum |s|). Its interval is the set
    of w whose pivot (s_k - w T) / se_J(s_k - w T) lies within t(n - K - 1) quantiles, se_J the
    jackknife standard error over the leave-one-out fits (`fits`); the jackknife covariance of (s_k, T)
    makes var_J(s_k - w T) a quadratic in w, so the bounds are the roots of one quadratic. Unbounded
    (the denominator not distinguishable from 0) gives [-1, 1]; bounds are clipped to [-1, 1].
    Fieller's inversion follows the ratio's asymmetry, which the jackknife of w_k itself (est +- t se)
    missed: it covered the near-zero weight 91.6-93.3% at 30-45 experiments, misses one-sided
    (docs/statistics.md, "Learned composite proxy"; benchmarks/calib/proxy.py)."""
    n = len(fits)
    k = full.weights.size
    q = stats.t.ppf(0.5 + confidence / 2, max(n - k - 1, 1))
    s_hat = full.coefficients * full.scale
    t_hat = np.abs(s_hat).sum()
    s_jack = np.array([g.coefficients * g.scale for g in fits])
    t_jack = np.abs(s_jack).sum(axis=1)
    ds, dt = s_jack - s_jack.mean(axis=0), t_jack - t_jack.mean()
    f = (n - 1) / n  # the jackknife's variance factor
    v_ss, v_st, v_tt = f * (ds ** 2).sum(axis=0), f * (ds * dt[:, None]).sum(axis=0), f * (dt ** 2).sum()
    a = t_hat ** 2 - q * q * v_tt
    if a <= 0:
        return np.full(k, -1.0), np.full(k, 1.0)
    b = -2 * (s_hat * t_hat - q * q * v_st)
    c = s_hat ** 2 - q * q * v_ss
    root = np.sqrt(np.clip(b * b - 4 * a * c, 0, None))  # >= 0: the estimate s_k / T is always inside
    return np.clip((-b - root) / (2 * a), -1, 1), np.clip((-b + root) / (2 * a), -1, 1)


@dataclass(frozen=True)
class Validation:
    """How well a composite's lifts (one per experiment) tracked the target's."""

    sign_agreement: float | None
    sign_agreement_ci: tuple[float | None, float | None]
    correlation: float | None  # noise-corrected (REML), None with a note when not available
    correlation_ci: tuple[float | None, float | None]
    sensitivity: float  # share of experiments whose interval excludes 0
    n: int
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"sign_agreement": self.sign_agreement, "sign_agreement_ci": list(self.sign_agreement_ci),
                "correlation": self.correlation, "correlation_ci": list(self.correlation_ci),
                "sensitivity": self.sensitivity, "n": self.n, "notes": list(self.notes)}


def sensitivity(lift, se, confidence: float = 0.95) -> float:
    """Share of experiments whose interval excludes 0 (how often the metric detects an effect at the
    sample sizes the history ran)."""
    lift, se = np.asarray(lift, float), np.asarray(se, float)
    q = stats.norm.ppf(0.5 + confidence / 2)
    return float(np.mean(np.abs(lift) > q * se))


def validate(lift, se, target, target_se, noise_cov, confidence: float = 0.95,
             min_experiments: int = al.MIN_CORRECTED) -> Validation:
    signs = al.sign_agreement(lift, target, confidence)
    try:
        c = al.noise_corrected(lift, target, se, target_se, noise_cov=noise_cov, confidence=confidence,
                               min_experiments=min_experiments)
        corr, ci, notes = c.estimate, (c.ci_low, c.ci_high), c.notes
    except al.AlignmentError as exc:
        corr, ci, notes = None, (None, None), (str(exc),)
    return Validation(signs.share, (signs.ci_low, signs.ci_high), corr, ci, sensitivity(lift, se, confidence),
                      int(len(lift)), tuple(notes))


@dataclass(frozen=True)
class Learned:
    names: tuple[str, ...]  # the K candidates
    fit: Fit
    weight_ci: tuple[np.ndarray, np.ndarray]
    loo_coefficients: np.ndarray  # (n, K)
    in_sample: Validation
    out_of_sample: Validation
    lift: np.ndarray  # composite lift per experiment, full-history weights
    se: np.ndarray
    loo_lift: np.ndarray  # composite lift per experiment, weights learned without it
    loo_se: np.ndarray
    loo_q2: float | None  # predictive R^2 of the target's lift from the left-out composite (with the fold's means)


def learn(lifts, noise, names, noise_weight: float = 1.0, confidence: float = 0.95,
          min_experiments: int = al.MIN_CORRECTED) -> Learned:
    """Weights, their intervals, and the composite validated in and out of sample."""
    z, s = check(lifts, noise)
    if len(names) != z.shape[1] - 1:
        raise ProxyError(f"{len(names)} names for {z.shape[1] - 1} candidates")
    f = _fit(z, s, noise_weight)
    lift, se, cov0 = composite(z, s, f.coefficients)
    target, target_se = z[:, 0], np.sqrt(s[:, 0, 0])
    inside = validate(lift, se, target, target_se, cov0, confidence, min_experiments)
    fits = _loo_fits(z, s, noise_weight)
    loo = np.array([g.coefficients for g in fits])
    loo_lift, loo_se, loo_cov0 = composite(z, s, loo)
    outside = validate(loo_lift, loo_se, target, target_se, loo_cov0, confidence, min_experiments)
    ci = weight_intervals(f, fits, confidence)
    return Learned(tuple(names), f, ci, loo, inside, outside, lift, se, loo_lift, loo_se, _loo_q2(z, loo))


def _loo_q2(z: np.ndarray, loo: np.ndarray) -> float | None:
    """1 - PRESS / total sum of squares, each target lift predicted by its fold's best linear predictor
    (fold means of target and candidates plus the fold's coefficients times the candidates' deviations):
    comparable with the single proxies' leave-one-out Q^2 on the leaderboard."""
    n = z.shape[0]
    fold_mean = (z.sum(axis=0) - z) / (n - 1)
    pred = fold_mean[:, 0] + np.einsum("ik,ik->i", loo, z[:, 1:] - fold_mean[:, 1:])
    total = float(((z[:, 0] - z[:, 0].mean()) ** 2).sum())
    return float(1 - ((z[:, 0] - pred) ** 2).sum() / total) if total > 0 else None


def single(lifts, noise, k: int, sign: int = 1, confidence: float = 0.95,
           min_experiments: int = al.MIN_CORRECTED) -> Validation:
    """Candidate k (1-based column) alone, oriented by its expected direction (`sign`: +1 when the
    candidate rising should mean the target rising, as the metric tree says), for comparison with
    the composite. Nothing is fitted, so in and out of sample are the same. (Learning the sign per
    fold instead would turn a useless metric into a spuriously negative one: leave-one-out is biased
    downwards where there is nothing to learn.)"""
    z, s = check(lifts, noise)
    lift, se, cov0 = sign * z[:, k], np.sqrt(s[:, k, k]), sign * s[:, k, 0]
    return validate(lift, se, z[:, 0], np.sqrt(s[:, 0, 0]), cov0, confidence, min_experiments)


def target_itself(lifts, noise, confidence: float = 0.95) -> dict:
    """The north star as its own proxy: perfect agreement, its own sensitivity."""
    z, s = check(lifts, noise)
    return {"sign_agreement": 1.0, "correlation": 1.0, "correlation_ci": [1.0, 1.0],
            "sensitivity": sensitivity(z[:, 0], np.sqrt(s[:, 0, 0]), confidence), "n": int(z.shape[0])}
