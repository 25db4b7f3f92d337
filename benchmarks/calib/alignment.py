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

from concurrent.futures import ProcessPoolExecutor

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


def run(sims: int, n: int, rho: float, noise_rho: float, seed: int, use_noise_cov: bool = True,
        batch: int = 25) -> dict:
    """Coverage, rate of excluding 0, mean estimate and share of histories with no estimate.
    use_noise_cov=False is the old method: the noise covariance ignored (assumed 0). Histories go
    through the product's function in batches (al.noise_corrected_many: the same numbers as one call
    per history, vectorised)."""
    rng = np.random.default_rng(seed)
    results = []
    for start in range(0, sims, batch):
        x, y, se_x, se_y, cov = (np.array(a) for a in zip(*(history(rng, n, rho, noise_rho)
                                                          for _ in range(min(batch, sims - start)))))
        results += al.noise_corrected_many(x, y, se_x, se_y, cov if use_noise_cov else np.zeros_like(cov))
    # "noise as large as the spread": the page says so and shows no interval; rates among the others
    given = [c for c in results if c.estimate is not None]
    estimates = np.array([c.estimate for c in given])
    covered = sum(c.ci_low <= rho <= c.ci_high for c in given)
    excludes_zero = sum(not (c.ci_low <= 0 <= c.ci_high) for c in given)
    k = max(len(given), 1)
    return {"coverage": covered / k, "excludes_zero": excludes_zero / k, "given": len(given),
            "mean": float(estimates.mean()) if len(given) else float("nan"),
            "median": float(np.median(estimates)) if len(given) else float("nan"),
            "missing": 1 - len(given) / sims}


def scenarios(quick: bool) -> list[tuple[int, float, float]]:
    if quick:
        return [(20, 0.0, 0.5), (20, 0.5, 0.5), (50, 0.0, 0.5)]
    return [(n, rho, nr) for n in (20, 30, 50, 120) for rho in (0.0, 0.5) for nr in (0.0, 0.5)]


def _cell(args: tuple) -> tuple:
    i, (n, rho, nr), sims = args
    return n, rho, nr, run(sims, n, rho, nr, seed=100 + i)


def simulations(quick: bool) -> list[Rate]:
    # full: ~1,000 histories with an interval a cell, so a 95% rate has a simulation s.e. <= 0.7 points
    # (20-30 experiments lose up to 10% to "noise as large as the spread"); cells run on 2 processes
    jobs = [(i, cell, 150 if quick else (1_100 if cell[0] <= 30 else 1_000))
            for i, cell in enumerate(scenarios(quick))]
    if quick:
        cells = [_cell(j) for j in jobs]
    else:
        with ProcessPoolExecutor(max_workers=2) as pool:
            cells = list(pool.map(_cell, jobs))
    out = []
    for n, rho, nr, got in cells:
        world = (f"{n} experiments, true r {rho:g}, noise r {nr:g}, noise ~ signal; "
                 f"estimate mean {got['mean']:+.2f} (bias {got['mean'] - rho:+.2f}), median {got['median']:+.2f}"
                 + (f"; {got['missing']:.0%} of histories 'noise as large as the spread' (no interval shown), "
                    "rates among the others" if got["missing"] else ""))
        method = "REML bivariate random effects, known noise covariance; profile-likelihood interval"
        out.append(Rate(AREA, "noise-corrected r: 95% interval covers the true r", world, got["coverage"],
                        0.93, 0.97, got["given"], method))
        if rho == 0:
            out.append(Rate(AREA, "noise-corrected r: interval excludes 0 when the true r is 0", world,
                            got["excludes_zero"], 0.0, 0.075, got["given"], method))
    return out
