"""CUPED calibration: coverage of the adjusted absolute (Welch) and relative (Fieller) intervals,
false "significant" under A/A, and the variance reduction achieved against its theory, rho^2
(var(adjusted lift) / var(unadjusted lift) = 1 - rho^2 for a covariate with correlation rho).

Units are simulated, reduced to the sufficient statistics the `results` file carries, and judged by
the product's path (dashboard.metrics.cuped.cuped_compare).
"""

from __future__ import annotations

import numpy as np

from benchmarks.calib import Rate
from dashboard.metrics.cuped import CupedStats, cuped_compare

AREA = "cuped"


def _normal(rng, n, rho, shift):
    x = rng.normal(5.0, 2.0, n)
    y = 10.0 + shift + rho * (x - 5.0) / 2.0 + np.sqrt(1 - rho * rho) * rng.normal(0.0, 1.0, n)
    return y, x


def _revenue(rng, n, rho, shift):
    """Skewed, zero-heavy spend: this period's spend follows last period's; mean 10 in control."""
    x = rng.lognormal(1.5, 1.0, n) * (rng.random(n) < 0.6)
    y = (0.8 * x + rng.lognormal(1.0, 1.0, n) * (rng.random(n) < 0.5)) * (1.0 + shift / 10.0)
    return y, x


def _stats(y, x) -> CupedStats:
    return CupedStats(len(y), float(y.sum()), float((y * y).sum()), float(x.sum()), float((x * x).sum()),
                      float((x * y).sum()))


def run(n_sims: int, seed: int, world, n: int, rho: float, shift: float) -> dict:
    """Coverage of the true lift (absolute and relative), rejections, and the lifts' spreads."""
    rng = np.random.default_rng(seed)
    true_c = float(np.mean(world(np.random.default_rng(seed + 10**6), 2_000_000, rho, 0.0)[0]))
    true_t = float(np.mean(world(np.random.default_rng(seed + 10**6), 2_000_000, rho, shift)[0]))
    abs_true, rel_true = true_t - true_c, (true_t - true_c) / abs(true_c)
    cover_abs = cover_rel = reject = 0
    adj, plain, reductions = [], [], []
    for _ in range(n_sims):
        r = cuped_compare(_stats(*world(rng, n, rho, 0.0)), _stats(*world(rng, n, rho, shift)))
        a = r.adjusted
        cover_abs += a.ci_low <= abs_true <= a.ci_high
        cover_rel += a.relative_ci_low is not None and a.relative_ci_low <= rel_true <= a.relative_ci_high
        reject += a.p_value < 0.05
        adj.append(a.lift)
        plain.append(r.unadjusted.lift)
        reductions.append(r.variance_reduction)
    return {"absolute": cover_abs / n_sims, "relative": cover_rel / n_sims, "reject": reject / n_sims,
            "empirical_reduction": 1.0 - np.var(adj) / np.var(plain),
            "reported_reduction": float(np.mean(reductions))}


def simulations(quick: bool) -> list[Rate]:
    sims, n = (400, 500) if quick else (4000, 2000)
    rates: list[Rate] = []
    for name, world, rho in (("normal, rho=0.7", _normal, 0.7), ("normal, rho=0.9", _normal, 0.9),
                             ("revenue-like, skewed", _revenue, None)):
        got = run(sims, 7, world, n, rho or 0.0, 0.5)
        scen = f"{name}, n={n:,} per arm, true lift 5%"
        rates += [
            Rate(AREA, "adjusted absolute 95% interval covers the true lift", scen, got["absolute"],
                 0.93, 0.97, sims, "CUPED, pooled theta, Welch t"),
            Rate(AREA, "adjusted relative 95% interval covers the true relative lift", scen,
                 got["relative"], 0.93, 0.97, sims, "CUPED, pooled theta, Fieller"),
        ]
        if rho is not None:
            # the variance of the adjusted lift across simulations, against theory 1 - rho^2
            rates.append(Rate(AREA, f"variance reduction across simulations (theory rho^2 = {rho * rho:.2f})",
                              scen, got["empirical_reduction"], rho * rho - 0.05, rho * rho + 0.05, sims,
                              f"reported mean {got['reported_reduction']:.3f}"))
        aa = run(sims, 17, world, n, rho or 0.0, 0.0)
        rates.append(Rate(AREA, "adjusted lift significant at 5% under A/A", scen.replace("true lift 5%", "A/A"),
                          aa["reject"], 0.03, 0.07, sims, "CUPED, pooled theta, Welch t"))
    return rates
