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
_BOUND_STEPS = 4  # regula falsi steps on the profile at each interval end


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


def profile(data, grid: np.ndarray = GRID, start: np.ndarray | None = None):
    """(profile log-likelihood, log sd x, log sd y) at each r of the grid, for a batch of histories.

    data: five arrays of shape (H, 1, n) (H histories of n experiments); grid: (G,) or (H, G);
    start: (H, G, 2) log sds to start from (a warm start skips the coarse search). Returns (H, G)
    arrays."""
    h = data[0].shape[0]
    grid = np.broadcast_to(grid, (h, grid.shape[-1]))
    g = grid.shape[-1]
    if start is None:
        # coarse search for a start: every start at every 4th grid point (the profile is smooth in r),
        # each grid point then starts from its nearest searched one
        sx0, sy0 = np.meshgrid(_START, _START, indexing="ij")
        combos, some = sx0.size, np.arange(0, g, 4)
        coarse = _loglik(np.broadcast_to(sx0.reshape(-1, 1, 1), (combos, h, some.size)),
                         np.broadcast_to(sy0.reshape(-1, 1, 1), (combos, h, some.size)),
                         np.broadcast_to(grid[:, some], (combos, h, some.size)), data)
        nearest = np.minimum((np.arange(g) + 2) // 4, some.size - 1)
        best = coarse.argmax(axis=0)[:, nearest]
        p = np.stack([sx0.ravel()[best], sy0.ravel()[best]], axis=-1)
        value = _loglik(p[..., 0], p[..., 1], grid, data)
    else:
        p = np.array(start, dtype=float)
        value = _loglik(p[..., 0], p[..., 1], grid, data)
    for _sweep in range(3):
        p, value = _newton(p, value, grid, data)
        # a point stuck away from its neighbours' optimum restarts from theirs (the profile is smooth)
        moved = False
        for shift in (1, -1):
            q = np.roll(p, shift, axis=-2)
            cand = _loglik(q[..., 0], q[..., 1], grid, data)
            better = cand > value + 1e-9
            better[..., 0 if shift == 1 else -1] = False
            p, value = np.where(better[..., None], q, p), np.where(better, cand, value)
            moved |= bool(better.any())
        if not moved:
            break
    return value, p[..., 0], p[..., 1]


def _newton(p, value, grid, data):
    """Damped Newton on every point at once; a point stops once its step is negligible or no longer
    improves it (at a bound of the log sds, say), and only the points still moving are computed."""
    shape = value.shape  # (H, G)
    p, value = p.reshape(-1, 2).copy(), value.ravel().copy()
    r = np.broadcast_to(grid, shape).ravel()
    rows = np.repeat(np.arange(shape[0]), shape[1])  # the history of each point
    todo = np.arange(value.size)
    for _ in range(_NEWTON_STEPS):
        sub = tuple(d[rows[todo], 0, :] for d in data)  # (points, n): each point's own history
        q, v, rr = p[todo], value[todo], r[todo]
        step = _newton_step(q, rr, sub, v)
        moving = np.abs(step).max(axis=-1) >= 1e-5
        improved = np.zeros(todo.size, dtype=bool)
        small = np.zeros(todo.size, dtype=bool)
        pending = np.flatnonzero(moving)
        for _halving in range(6):  # damped: accept only steps that improve (halving the others)
            if pending.size == 0:
                break
            trial = np.clip(q[pending] + step[pending], *_LOG_SD)
            new = _loglik(trial[:, 0], trial[:, 1], rr[pending], tuple(d[pending] for d in sub))
            better = new > v[pending]
            took = pending[better]
            small[took] = new[better] - v[took] < 1e-10
            q[took], v[took] = trial[better], new[better]
            improved[took] = True
            pending = pending[~better]
            step[pending] /= 2
        p[todo], value[todo] = q, v
        # still moving: a step that improved by a meaningful amount; the others are at their optimum
        todo = todo[improved & ~small]
        if todo.size == 0:
            break
    return p.reshape(shape + (2,)), value.reshape(shape)


def _newton_step(p: np.ndarray, r: np.ndarray, data, f00: np.ndarray) -> np.ndarray:
    """Newton step on the two log sds from finite differences: six evaluations in one batch (f00,
    the value at p, is known); an ascent step where the local surface is not concave."""
    offsets = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1)]
    d = np.array(offsets, dtype=float).reshape((6,) + (1,) * (p.ndim - 1) + (2,)) * _H
    lsx, lsy = p[None, ..., 0] + d[..., 0], p[None, ..., 1] + d[..., 1]
    f = dict(zip(offsets, _loglik(lsx, lsy, np.broadcast_to(r, lsx.shape), data)))
    g = np.stack([(f[1, 0] - f[-1, 0]) / (2 * _H), (f[0, 1] - f[0, -1]) / (2 * _H)], axis=-1)
    h11 = (f[1, 0] - 2 * f00 + f[-1, 0]) / _H ** 2
    h22 = (f[0, 1] - 2 * f00 + f[0, -1]) / _H ** 2
    h12 = (f[1, 1] - f[1, 0] - f[0, 1] + 2 * f00 - f[-1, 0] - f[0, -1] + f[-1, -1]) / (2 * _H ** 2)
    det = h11 * h22 - h12 * h12
    concave = (h11 < 0) & (det > 0) & np.isfinite(det)
    safe = np.where(concave, det, 1.0)
    newton = -np.stack([(h22 * g[..., 0] - h12 * g[..., 1]) / safe, (h11 * g[..., 1] - h12 * g[..., 0]) / safe],
                       axis=-1)
    ascent = 0.5 * g / np.maximum(1.0, np.abs(g).max(axis=-1, keepdims=True))
    step = np.where(concave[..., None], newton, ascent)
    step = np.where(np.isfinite(step), step, 0.0)
    return np.clip(step, -1.0, 1.0)


def fit(x, y, var_x, var_y, cov_xy, confidence: float = 0.95) -> RemlFit:
    """REML estimate of the true lifts' correlation with its profile-likelihood interval.

    var_x, var_y: each experiment's noise variance (0 where none is known); cov_xy: the noise
    covariance of its two lifts (0 for metrics measured on different data)."""
    return fit_many(*(np.asarray(a, float)[None] for a in (x, y, var_x, var_y, cov_xy)), confidence=confidence)[0]


def fit_many(x, y, var_x, var_y, cov_xy, confidence: float = 0.95) -> list[RemlFit]:
    """fit() for H histories of the same length at once (arrays of shape (H, n)): the same numbers
    as H calls of fit(), vectorised across histories (the calibration runs thousands)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    scale_x, scale_y = x.std(ddof=1, axis=1, keepdims=True), y.std(ddof=1, axis=1, keepdims=True)
    data = tuple(a[:, None, :] for a in (
        (x - x.mean(axis=1, keepdims=True)) / scale_x, (y - y.mean(axis=1, keepdims=True)) / scale_y,
        np.asarray(var_x, float) / scale_x ** 2, np.asarray(var_y, float) / scale_y ** 2,
        np.asarray(cov_xy, float) / (scale_x * scale_y)))
    value, lsx, lsy = profile(data)
    z = np.arctanh(GRID)
    h = x.shape[0]
    best = np.argmax(value, axis=1)
    # refine the maximum on a fine local grid (9 points across two steps), warm-started from the best point
    step = z[1] - z[0]
    centre = z[np.clip(best, 1, z.size - 2)]
    fine = centre[:, None] + np.linspace(-step, step, 9)[None, :]
    start = np.stack([lsx[np.arange(h), best], lsy[np.arange(h), best]], axis=-1)[:, None, :]
    fine_value, _, _ = profile(data, np.tanh(fine), np.broadcast_to(start, (h, 9, 2)))
    cut = stats.chi2.ppf(confidence, 1) / 2
    z_hat = np.zeros(h)
    for k in range(h):
        b = int(best[k])
        if 0 < b < z.size - 1:
            i = int(np.argmax(fine_value[k]))
            z_hat[k] = _vertex(fine[k], fine_value[k], i) if 0 < i < 8 else float(fine[k, i])
        else:
            z_hat[k] = z[b]
    # the maximum itself (at the vertex), so each end's cut is measured from the true top
    at_hat, _, _ = profile(data, np.tanh(z_hat)[:, None], start)
    top = np.maximum.reduce([value.max(axis=1), fine_value.max(axis=1), np.where(np.isfinite(at_hat[:, 0]),
                                                                                  at_hat[:, 0], -np.inf)])
    bounds = _bounds(data, z, value, lsx, lsy, best, top, cut)
    out = []
    for k in range(h):
        b = int(best[k])
        r_hat = math.tanh(z_hat[k])
        sx, sy = math.exp(lsx[k, b]) * scale_x[k, 0], math.exp(lsy[k, b]) * scale_y[k, 0]
        out.append(RemlFit(r_hat, float(bounds[k, 0]), float(bounds[k, 1]), sx, sy, r_hat * sy / sx,
                           int(x.shape[1])))
    return out


def _bounds(data, z, value, lsx, lsy, best, top, cut, iterations: int = _BOUND_STEPS) -> np.ndarray:
    """(H, 2) interval ends in r: where the profile falls `cut` below its maximum on each side.

    The grid brackets each crossing; the crossing is then solved on the profile itself (Illinois
    regula falsi, each new point warm-started from the inside end), not read off the chord between
    grid points: the deficit is convex in z, so the chord crosses early and narrowed the interval
    when it spans only a few grid steps (many experiments)."""
    h = value.shape[0]
    deficit = top[:, None] - value - cut
    out = np.zeros((h, 2))
    lo_z, hi_z, lo_d, hi_d = (np.zeros((h, 2)) for _ in range(4))
    start = np.zeros((h, 2, 2))
    solve = np.zeros((h, 2), dtype=bool)
    for k in range(h):
        for side, direction in enumerate((-1, 1)):
            i = int(best[k])
            out[k, side] = float(direction)  # never drops below the cut: the whole range
            while 0 <= i + direction < z.size:
                j = i + direction
                if not np.isfinite(deficit[k, j]):  # the likelihood ends here (a singular fit)
                    out[k, side] = math.tanh(z[j])
                    break
                if deficit[k, j] > 0:
                    lo_z[k, side], hi_z[k, side] = z[i], z[j]
                    lo_d[k, side], hi_d[k, side] = min(deficit[k, i], 0.0), deficit[k, j]
                    start[k, side] = lsx[k, i], lsy[k, i]
                    solve[k, side] = True
                    break
                i = j
    if not solve.any():
        return out
    keep = -1.0 * np.ones((h, 2))  # Illinois: which end was kept last time (-1 none, 0 inside, 1 outside)
    for _ in range(iterations):
        zt = lo_z - lo_d * (hi_z - lo_z) / np.where(solve, hi_d - lo_d, 1.0)
        vt, sxt, syt = profile(data, np.tanh(zt), start)
        dt = np.where(np.isfinite(vt), top[:, None] - vt - cut, np.inf)
        inside = dt <= 0
        lo_z, lo_d = np.where(inside, zt, lo_z), np.where(inside, dt, lo_d)
        hi_z, hi_d = np.where(inside, hi_z, zt), np.where(inside, hi_d, np.where(np.isfinite(dt), dt, hi_d))
        start = np.where(inside[..., None], np.stack([sxt, syt], axis=-1), start)
        # an end kept twice in a row has its deficit halved, so the iteration does not stall
        hi_d = np.where(inside & (keep == 1), hi_d / 2, hi_d)
        lo_d = np.where(~inside & (keep == 0), lo_d / 2, lo_d)
        keep = np.where(inside, 1.0, 0.0)
    final = lo_z - lo_d * (hi_z - lo_z) / np.where(solve, hi_d - lo_d, 1.0)
    return np.where(solve, np.tanh(final), out)


def _vertex(z: np.ndarray, v: np.ndarray, i: int) -> float:
    """Maximum of the parabola through the grid maximum and its neighbours."""
    if i == 0 or i == z.size - 1 or not np.isfinite(v[i - 1:i + 2]).all():
        return float(z[i])
    a, b, c = v[i - 1], v[i], v[i + 1]
    denom = a - 2 * b + c
    shift = 0.0 if denom >= 0 else 0.5 * (a - c) / denom
    return float(z[i] + shift * (z[1] - z[0]))
