"""Precision-floor picks: how often the picked threshold's true precision is below the floor.

The picker chooses a threshold on the same rows it reports on. Each simulation draws a labelled
sample from a binormal model (logit score ~ N(0, 1) for negatives, N(d, 1) for positives, base rate
pi), bins it into the product's 10,000 score bins, and picks with `services.thresholds.pick` in
both modes. The true precision at the picked edge is the population value, computed exactly from
the two normal tails (what a fresh sample of any size converges to). The rate is the share of picks
whose true precision is below the floor.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logit
from scipy.stats import norm

from benchmarks.calib import Rate
from dashboard.metrics.binning import N_BINS, assign_bins
from dashboard.services import thresholds as svc

FLOOR = 0.9
# (base rate, separation d, labelled rows): a 2% fraud model and a 10% one, at a few sample sizes
SCENARIOS = [(0.02, 3.5, 5_000), (0.02, 3.5, 20_000), (0.10, 3.0, 2_000), (0.10, 3.0, 10_000)]


def true_precision(threshold: float, pi: float, d: float) -> float:
    c = logit(threshold)
    caught, false = pi * norm.sf(c - d), (1 - pi) * norm.sf(c)
    return caught / (caught + false) if caught + false > 0 else float("nan")


def one_sample(rng: np.random.Generator, pi: float, d: float, n: int) -> svc.Counts:
    label = rng.random(n) < pi
    score = 1 / (1 + np.exp(-(rng.standard_normal(n) + d * label)))
    bins = assign_bins(score, 0.0, 1.0)
    pos = np.bincount(bins[label], minlength=N_BINS + 1).astype(float)
    neg = np.bincount(bins[~label], minlength=N_BINS + 1).astype(float)
    zeros = np.zeros(N_BINS + 1)
    arrays = {"pos": pos, "neg": neg, "unlabeled": zeros, "value_pos": zeros, "value_neg": zeros}
    return svc.Counts("simulated", 0.0, 1.0, 1, arrays)


def below_floor_rates(pi: float, d: float, n: int, sims: int, seed: int) -> dict[bool, tuple[float, int]]:
    """guaranteed? -> (share of picks whose true precision < FLOOR, number of picks)."""
    rng = np.random.default_rng(seed)
    below = {False: 0, True: 0}
    picks = {False: 0, True: 0}
    for _ in range(sims):
        counts = one_sample(rng, pi, d, n)
        for guaranteed in (False, True):
            i = svc.pick(counts, "precision", precision_floor=FLOOR, guaranteed=guaranteed)
            if i is None:
                continue
            p = true_precision(float(counts.edges[i]), pi, d)
            if np.isnan(p):
                continue
            picks[guaranteed] += 1
            below[guaranteed] += p < FLOOR
    return {g: (below[g] / picks[g] if picks[g] else 0.0, picks[g]) for g in (False, True)}


def simulations(quick: bool) -> list[Rate]:
    sims = 200 if quick else 2_000
    rates = []
    for k, (pi, d, n) in enumerate(SCENARIOS):
        measured = below_floor_rates(pi, d, n, sims, seed=100 + k)
        scenario = f"base rate {pi:.0%}, binormal d={d}, {n:,} labelled rows, floor {FLOOR:.0%}"
        for guaranteed, (rate, picks) in measured.items():
            rates.append(Rate(
                area="thresholds",
                claim=("guaranteed pick: true precision below the floor" if guaranteed else
                       "best-estimate pick: true precision below the floor (contrast, no promise)"),
                scenario=scenario, rate=rate, target_low=0.0, target_high=0.05 if guaranteed else 1.0,
                n_simulations=picks,
                method="Wilson 95% lower bound of precision >= floor" if guaranteed else "observed precision >= floor"))
    return rates
