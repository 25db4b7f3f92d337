"""Correlation of true lifts across experiments, each lift measured with known noise. Pure numpy/scipy.

Model (a bivariate random-effects meta-analysis): experiment i's observed lifts z_i = (x_i, y_i) are

    z_i ~ N(mu, Sigma + S_i)

where Sigma = [[sx^2, r sx sy], [r sx sy, sy^2]] is the covariance of the TRUE lifts across experiments
(what we want: r) and S_i the known 2x2 covariance of experiment i's estimation noise (each lift's
squared standard error on the diagonal; the noise covariance of two metrics measured on the same
units off it, Bibaut et al., KDD 2024). Sigma is fitted by restricted maximum likelihood (REML:
the likelihood of the contrasts free of mu, which removes the small-sample bias of plain ML in the
variances; Patterson & Thompson 1971) and the interval for r is the profile-likelihood interval:
the r whose REML profile (Sigma's two scales re-fitted at each r) stays within chi2_1(confidence) / 2
of the maximum.

Unlike the plug-in ratio (observed covariance minus mean noise covariance, over the corrected
variances) it never leaves [-1, 1] by construction, weights precise experiments more, and its
interval widens to the whole range when the history cannot separate signal from noise. Coverage
at 20-120 experiments is measured in benchmarks/calib/alignment.py.

The profile is computed on a grid of r (uniform in atanh r), all grid points at once: a coarse grid
search over the two log signal sds, then damped Newton steps with finite-difference derivatives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

GRID = np.tanh(np.linspace(-3.5, 3.5, 57))  # r from -0.998 to 0.998
_LOG_SD = (-7.0, 3.0)  # signal sd between e^-7 and e^3 of the observed sd (lifts are standardised)
_START = np.linspace(-4.0, 1.0, 5)
_H = 1e-3
_NEWTON_STEPS = 8


@dataclass(frozen=True)
class RemlFit:
    estimate: float
    ci_low: float
    ci_high: float
    sd_x: float  # sd of the proxy's true lifts across experiments (in the lifts' units)
    sd_y: float
    slope: float  # regression slope of the true y on the true x: r sd_y / sd_x
    n: int


def _loglik(lsx, lsy, r, data) -> np.ndarray:
    """REML log-likelihood (constants dropped) for arrays of (log sd x, log sd y, r), any shape G."""
    x, y, vxx, vyy, vxy = data
    sx, sy = np.exp(lsx)[..., None], np.exp(lsy)[..., None]
    a = sx * sx + vxx  # V_i = [[a, c], [c, b]]
    b = sy * sy + vyy
    c = r[..., None] * sx * sy + vxy
    det = a * b - c * c
    bad = (det <= 0).any(axis=-1)
    det = np.where(det > 0, det, 1.0)
    ia, ib, ic = b / det, a / det, -c / det  # V_i^-1
    w11, w22, w12 = ia.sum(-1), ib.sum(-1), ic.sum(-1)
    r1, r2 = (ia * x + ic * y).sum(-1), (ic * x + ib * y).sum(-1)
    w_det = w11 * w22 - w12 * w12
    bad |= w_det <= 0
    w_det = np.where(w_det > 0, w_det, 1.0)
    mu_x, mu_y = (w22 * r1 - w12 * r2) / w_det, (w11 * r2 - w12 * r1) / w_det
    dx, dy = x - mu_x[..., None], y - mu_y[..., None]
    quad = (ia * dx * dx + 2 * ic * dx * dy + ib * dy * dy).sum(-1)
    out = -0.5 * (np.log(det).sum(-1) + np.log(w_det) + quad)
    return np.where(bad, -np.inf, out)


def profile(data, grid: np.ndarray = GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(profile log-likelihood, log sd x, log sd y) at each r of the grid."""
    g = grid.size
    sx0, sy0 = np.meshgrid(_START, _START, indexing="ij")
    coarse = _loglik(np.broadcast_to(sx0.ravel(), (g, sx0.size)), np.broadcast_to(sy0.ravel(), (g, sx0.size)),
                     np.broadcast_to(grid[:, None], (g, sx0.size)), data)
    best = coarse.argmax(axis=1)
    p = np.stack([sx0.ravel()[best], sy0.ravel()[best]], axis=1)
    value = coarse[np.arange(g), best]
    for sweep in range(3):
        p, value = _newton(p, value, grid, data)
        # a point stuck away from its neighbours' optimum restarts from theirs (the profile is smooth)
        moved = False
        for shift in (1, -1):
            q = np.roll(p, shift, axis=0)
            cand = _loglik(q[:, 0], q[:, 1], grid, data)
            better = cand > value + 1e-9
            better[0 if shift == 1 else -1] = False
            p, value = np.where(better[:, None], q, p), np.where(better, cand, value)
            moved |= bool(better.any())
        if not moved:
            break
    return value, p[:, 0], p[:, 1]


def _newton(p, value, grid, data):
    for _ in range(_NEWTON_STEPS):
        step = _newton_step(p, grid, data)
        if np.abs(step).max() < 1e-5:
            break
        for _halving in range(6):  # damped: accept only steps that improve
            trial = np.clip(p + step, *_LOG_SD)
            new = _loglik(trial[:, 0], trial[:, 1], grid, data)
            better = new > value
            p = np.where(better[:, None], trial, p)
            value = np.where(better, new, value)
            if better.all():
                break
            step = np.where(better[:, None], 0.0, step / 2)
    return p, value


def _newton_step(p: np.ndarray, r: np.ndarray, data) -> np.ndarray:
    offsets = [(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    d = np.array(offsets, dtype=float)[:, None, :] * _H  # all nine evaluations in one batch
    values = _loglik(p[None, :, 0] + d[..., 0], p[None, :, 1] + d[..., 1], np.broadcast_to(r, (9, r.size)), data)
    f = dict(zip(offsets, values))
    g = np.stack([(f[1, 0] - f[-1, 0]) / (2 * _H), (f[0, 1] - f[0, -1]) / (2 * _H)], axis=1)
    h11 = (f[1, 0] - 2 * f[0, 0] + f[-1, 0]) / _H ** 2
    h22 = (f[0, 1] - 2 * f[0, 0] + f[0, -1]) / _H ** 2
    h12 = (f[1, 1] - f[1, -1] - f[-1, 1] + f[-1, -1]) / (4 * _H ** 2)
    det = h11 * h22 - h12 * h12
    concave = (h11 < 0) & (det > 0) & np.isfinite(det)
    safe = np.where(concave, det, 1.0)
    newton = -np.stack([(h22 * g[:, 0] - h12 * g[:, 1]) / safe, (h11 * g[:, 1] - h12 * g[:, 0]) / safe], axis=1)
    ascent = 0.5 * g / np.maximum(1.0, np.abs(g).max(axis=1, keepdims=True))
    step = np.where(concave[:, None], newton, ascent)
    step = np.where(np.isfinite(step), step, 0.0)
    return np.clip(step, -1.0, 1.0)


def fit(x, y, var_x, var_y, cov_xy, confidence: float = 0.95) -> RemlFit:
    """REML estimate of the true lifts' correlation with its profile-likelihood interval.

    var_x, var_y: each experiment's noise variance (0 where none is known); cov_xy: the noise
    covariance of its two lifts (0 for metrics measured on different data)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    scale_x, scale_y = float(x.std(ddof=1)), float(y.std(ddof=1))
    data = ((x - x.mean()) / scale_x, (y - y.mean()) / scale_y,
            np.asarray(var_x, float) / scale_x ** 2, np.asarray(var_y, float) / scale_y ** 2,
            np.asarray(cov_xy, float) / (scale_x * scale_y))
    value, lsx, lsy = profile(data)
    z = np.arctanh(GRID)
    best = int(np.argmax(value))
    z_hat = _vertex(z, value, best)
    if 0 < best < z.size - 1:  # refine the maximum on a fine local grid (9 points across two steps)
        step = z[1] - z[0]
        fine = np.linspace(z[best] - step, z[best] + step, 9)
        fine_value, _, _ = profile(data, np.tanh(fine))
        i = int(np.argmax(fine_value))
        z_hat = _vertex(fine, fine_value, i) if 0 < i < fine.size - 1 else float(fine[i])
    deficit = value.max() - value - stats.chi2.ppf(confidence, 1) / 2
    low = _crossing(z, deficit, best, -1)
    high = _crossing(z, deficit, best, +1)
    r_hat = math.tanh(z_hat)
    sx, sy = math.exp(lsx[best]) * scale_x, math.exp(lsy[best]) * scale_y
    return RemlFit(r_hat, low, high, sx, sy, r_hat * sy / sx, int(x.size))


def _vertex(z: np.ndarray, v: np.ndarray, i: int) -> float:
    """Maximum of the parabola through the grid maximum and its neighbours."""
    if i == 0 or i == z.size - 1 or not np.isfinite(v[i - 1:i + 2]).all():
        return float(z[i])
    a, b, c = v[i - 1], v[i], v[i + 1]
    denom = a - 2 * b + c
    shift = 0.0 if denom >= 0 else 0.5 * (a - c) / denom
    return float(z[i] + shift * (z[1] - z[0]))


def _crossing(z: np.ndarray, deficit: np.ndarray, best: int, direction: int) -> float:
    """r where the profile first drops below the cut walking from the maximum; +-1 if it never does."""
    i = best
    while 0 <= i + direction < z.size:
        j = i + direction
        if not np.isfinite(deficit[j]) or deficit[j] > 0:
            if not np.isfinite(deficit[j]):
                return math.tanh(z[j])
            t = -deficit[i] / (deficit[j] - deficit[i])  # linear between the two grid points
            return math.tanh(z[i] + t * (z[j] - z[i]))
        i = j
    return float(direction)
