"""Online vs offline: the noise-corrected correlation's interval, measured by seeded simulation.

World: a history of n experiments. Each has true relative lifts (x, y) of two metrics drawn from
a bivariate normal (sd 1%, correlation `rho`: what the page estimates), observed with estimation
noise whose standard errors vary with the experiment's size (0.5-1.5% for x, 0.6-1.4% for y, so
noise is about as large as the signal, as in the demo) and whose two errors are correlated
`noise_rho` (two online metrics measured on the same users; 0 for offline vs online). The
product's function (dashboard.metrics.alignment.noise_corrected, REML with the known noise
covariance and a profile-likelihood interval) gets the lifts, their standard errors and the
per-experiment noise covariance, as the page passes them from `results` and `covariances`.

Measured: how often the 95% interval covers the true rho (target 93-97%) at 20, 30, 50 and 120
experiments; with rho = 0, how often it excludes 0 (target <= 5%, i.e. 2.5-7.5% allowing for the
simulation count); the mean estimate (its bias) is in the scenario text. Histories where the
noise is as large as the spread get no interval (the page says the correlation cannot be separated
from noise): their share is in the scenario text and the rates are over the others.
"""

from __future__ import annotations

import numpy as np

from benchmarks.calib import Rate
from dashboard.metrics import alignment as al

AREA = "alignment"
SD = 0.01


def history(rng, n: int, rho: float, noise_rho: float):
    """(x, y, se_x, se_y, noise covariance) for one simulated history."""
    truth = rng.multivariate_normal([0.003, 0.002], SD * SD * np.array([[1, rho], [rho, 1]]), n)
    se_x = SD * rng.uniform(0.5, 1.5, n)
    se_y = SD * rng.uniform(0.6, 1.4, n)
    e = rng.normal(size=(n, 2))
    noise_x = se_x * e[:, 0]
    noise_y = se_y * (noise_rho * e[:, 0] + np.sqrt(1 - noise_rho ** 2) * e[:, 1])
    return truth[:, 0] + noise_x, truth[:, 1] + noise_y, se_x, se_y, noise_rho * se_x * se_y


def run(sims: int, n: int, rho: float, noise_rho: float, seed: int, use_noise_cov: bool = True) -> dict:
    """Coverage, rate of excluding 0, mean estimate and share of histories with no estimate.
    use_noise_cov=False is the old method: the noise covariance ignored (assumed 0)."""
    rng = np.random.default_rng(seed)
    covered = excludes_zero = missing = 0  # rates among the histories where an interval is given
    estimates = []
    for _ in range(sims):
        x, y, se_x, se_y, cov = history(rng, n, rho, noise_rho)
        c = al.noise_corrected(x, y, se_x, se_y, noise_cov=cov if use_noise_cov else np.zeros(n))
        if c.estimate is None:  # "noise as large as the spread": the page says so and shows no interval
            missing += 1
            continue
        estimates.append(c.estimate)
        covered += c.ci_low <= rho <= c.ci_high
        excludes_zero += not (c.ci_low <= 0 <= c.ci_high)
    given = max(sims - missing, 1)
    return {"coverage": covered / given, "excludes_zero": excludes_zero / given, "given": sims - missing,
            "mean": float(np.mean(estimates)) if estimates else float("nan"), "missing": missing / sims}


def scenarios(quick: bool) -> list[tuple[int, float, float]]:
    if quick:
        return [(20, 0.0, 0.5), (20, 0.5, 0.5), (50, 0.0, 0.5)]
    return [(n, rho, nr) for n in (20, 30, 50, 120) for rho in (0.0, 0.5) for nr in (0.0, 0.5)]


def simulations(quick: bool) -> list[Rate]:
    sims = 100 if quick else 150
    out = []
    for i, (n, rho, nr) in enumerate(scenarios(quick)):
        got = run(sims, n, rho, nr, seed=100 + i)
        world = (f"{n} experiments, true r {rho:g}, noise r {nr:g}, noise ~ signal; "
                 f"mean estimate {got['mean']:+.2f}" + (f"; {got['missing']:.0%} of histories 'noise as large as the spread' (no interval shown), "
                    "rates among the others" if got["missing"] else ""))
        method = "REML bivariate random effects, known noise covariance; profile-likelihood interval"
        out.append(Rate(AREA, "noise-corrected r: 95% interval covers the true r", world, got["coverage"],
                        0.93, 0.97, got["given"], method))
        if rho == 0:
            out.append(Rate(AREA, "noise-corrected r: interval excludes 0 when the true r is 0", world,
                            got["excludes_zero"], 0.0, 0.075, got["given"], method))
    return out
