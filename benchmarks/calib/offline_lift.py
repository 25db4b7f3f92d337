"""Offline lifts (Online vs offline): coverage of the bootstrap interval of a model's lift.

Classification: two binormal models scoring rows (label y ~ Bernoulli(p); model m's score is
d_m * y + z_m with corr(z_a, z_b) = 0.8, model B the better one), scores binned on BINS equal-width
bins (400: few enough to be cheap, enough that the scores are effectively continuous). Three
worlds: balanced (20% positives, 2,000 rows), rare (1.5% positives, 6,000 rows: ~90 positives,
AUC ~0.96), ties (25% positives, 2,000 rows, scores rounded to steps of 0.5: ~15 levels). The true lift of each metric is computed on one population
sample of 2,000,000 rows through the same metric (binned, as the product computes it); the
binormal AUC's analytic value Phi(d / sqrt(2)) is checked against it in `truth_check`.
- paired: both models score the same rows -> `paired_classification_lift` on the joint cells (the
  AUC by DeLong's paired variance with a Satterthwaite t quantile, the others by the paired bootstrap);
  `classification_cell(..., paired_fn=paired_binned_metric_lift)` measures the bootstrap for the AUC too;
- unpaired: each model scores its own independent rows -> `binned_metric_lift`.
Ranking: per-query values of two rankers on the same queries (a quarter of queries at 0, the rest
beta-distributed, the candidate moving 60% of them by a clipped t(3) step) -> `paired_mean_lift`;
the true lift is the population's mean ratio (400,000 queries).
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from benchmarks.calib import Rate
from dashboard.metrics import gate_stats
from dashboard.metrics.binning import assign_bins
from dashboard.metrics.lift_bootstrap import binned_metric_lift, paired_binned_metric_lift, paired_mean_lift
from dashboard.metrics.paired_auc import paired_classification_lift

BINS = 400
LO, HI = -4.0, 6.0
RHO = 0.8
METRICS = ("auc", "average_precision", "recall@precision>=0.5")
# name: (share of positives, rows, separation of model A, of model B, score rounding step or 0)
WORLDS = {
    "balanced": (0.20, 2_000, 1.0, 1.25, 0.0),
    "rare": (0.015, 6_000, 2.5, 2.8, 0.0),
    "ties": (0.25, 2_000, 1.2, 1.45, 0.5),
}
POPULATION = 2_000_000
QUERY_POPULATION = 400_000
QUERY_SIZES = (30, 200, 6_000)  # 6,000: above 5,000 queries the product resamples batches


def _scores(rng, world: str, n: int):
    p, _n, da, db, step = WORLDS[world]
    y = rng.random(n) < p
    z = rng.standard_normal((2, n))
    za, zb = z[0], RHO * z[0] + np.sqrt(1 - RHO**2) * z[1]
    out = []
    for d, zz in ((da, za), (db, zb)):
        s = d * y + zz
        if step:
            s = np.round(s / step) * step
        out.append(assign_bins(s, LO, HI, BINS - 1))
    return y, out[0], out[1]


def _counts(y, b):
    return np.bincount(b[y], minlength=BINS).astype(float), np.bincount(b[~y], minlength=BINS).astype(float)


def _metric(name):
    return lambda p, n: gate_stats.classification_metric(name, p, n)


def _metric_many(name):
    return lambda p, n: gate_stats.classification_metric_many(name, p, n)


def truth(world: str, seed: int = 99) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    pos_a, neg_a, pos_b, neg_b = (np.zeros(BINS) for _ in range(4))
    for _ in range(POPULATION // 1_000_000):
        y, ba, bb = _scores(rng, world, 1_000_000)
        for acc, val in zip((pos_a, neg_a, pos_b, neg_b), (*_counts(y, ba), *_counts(y, bb))):
            acc += val
    out = {}
    for name in METRICS:
        fn = _metric(name)
        out[name] = fn(pos_b, neg_b) / fn(pos_a, neg_a) - 1
    return out


def truth_check(world: str = "balanced") -> tuple[float, float]:
    """(analytic binormal AUC lift, population-sample AUC lift) for a continuous world."""
    from scipy.stats import norm

    _p, _n, da, db, _s = WORLDS[world]
    analytic = norm.cdf(db / np.sqrt(2)) / norm.cdf(da / np.sqrt(2)) - 1
    return float(analytic), truth(world)["auc"]


def _joint(y, ba, bb):
    cell = lambda b: np.where(y, b, BINS + b)  # noqa: E731
    keys, count = np.unique(np.stack([cell(ba), cell(bb)]), axis=1, return_counts=True)
    return keys[0], keys[1], count


def classification_cell(args) -> tuple[int, int]:
    """(hits, intervals shown) over `sims` samples of one world, metric and path."""
    world, name, paired, sims, true_lift, seed, paired_fn, *rest = args
    widen = rest[0] if rest else True  # False: the bootstrap interval alone (the old method)
    rng = np.random.default_rng(seed)
    fn, many = _metric(name), _metric_many(name)
    alts = (lambda p, q: gate_stats.threshold_alternatives(name, p, q)) if widen else None
    n = WORLDS[world][1]
    hits = shown = 0
    for i in range(sims):
        y, ba, bb = _scores(rng, world, n)
        if paired and paired_fn is None and widen:  # the product's paired path (DeLong-t for the AUC)
            est = paired_classification_lift(name, BINS, *_joint(y, ba, bb), seed=i)
        elif paired:
            est = (paired_fn or paired_binned_metric_lift)(fn, BINS, *_joint(y, ba, bb), seed=i, metric_many=many,
                                                           alternatives=alts)
        else:
            y2, _ba2, bb2 = _scores(rng, world, n)  # model B on its own rows
            est = binned_metric_lift(fn, _counts(y, ba), _counts(y2, bb2), seed=i, metric_many=many,
                                     alternatives=alts)
        if est.ci_low is None:
            continue
        shown += 1
        hits += est.ci_low <= true_lift <= est.ci_high
    return hits, shown


def paired_auc_quantiles(world: str, sims: int, seed: int) -> tuple[int, int, int]:
    """(hits of the product's paired AUC interval, hits of the same DeLong interval with a normal
    quantile, intervals shown) on the same `sims` samples: what the t quantile adds."""
    from scipy.stats import norm

    true_lift = truth(world)["auc"]
    rng = np.random.default_rng(seed)
    t_hits = normal_hits = shown = 0
    for _ in range(sims):
        y, ba, bb = _scores(rng, world, WORLDS[world][1])
        est = paired_classification_lift("auc", BINS, *_joint(y, ba, bb))
        if est.ci_low is None:
            continue
        shown += 1
        t_hits += est.ci_low <= true_lift <= est.ci_high
        half = norm.ppf(0.975) * est.se / (1 + est.lift)
        normal_hits += abs(np.log1p(true_lift) - np.log1p(est.lift)) <= half
    return t_hits, normal_hits, shown


def query_population(rng) -> tuple[np.ndarray, np.ndarray]:
    base = np.where(rng.random(QUERY_POPULATION) < 0.25, 0.0, rng.beta(2, 3, QUERY_POPULATION))
    moved = rng.random(QUERY_POPULATION) < 0.6
    cand = np.clip(base + np.where(moved, rng.standard_t(3, QUERY_POPULATION) * 0.12 + 0.02, 0.0), 0, 1)
    return base, cand


def ranking_cell(args) -> tuple[int, int]:
    n, sims, seed = args
    rng = np.random.default_rng(seed)
    base, cand = query_population(np.random.default_rng(7))
    true_lift = cand.mean() / base.mean() - 1
    hits = shown = 0
    for i in range(sims):
        idx = rng.integers(0, base.size, n)
        est = paired_mean_lift(base[idx], cand[idx], seed=i)
        if est.ci_low is None:
            continue
        shown += 1
        hits += est.ci_low <= true_lift <= est.ci_high
    return hits, shown


def _sims(quick: bool, world: str) -> int:
    return (25 if quick else 1_000) if world != "rare" else (20 if quick else 1_000)


def simulations(quick: bool, workers: int | None = None, scale: float = 1.0, widen: bool = True) -> list[Rate]:
    print(f"# offline_lift: load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    tasks, labels = [], []
    truths = {w: truth(w) for w in WORLDS}
    for k, world in enumerate(WORLDS):
        for j, name in enumerate(METRICS):
            for paired in (True, False):
                seed = 1000 * k + 10 * j + paired
                tasks.append((world, name, paired, int(scale * _sims(quick, world)), truths[world][name], seed, None, widen))
                labels.append(("classification", world, name, paired))
    for n in QUERY_SIZES:
        sims = int(scale * ((150 if quick else 600) if n < 1000 else (40 if quick else 200)))
        tasks.append(("ranking", n, sims, 5000 + n))
        labels.append(("ranking", n))
    with ProcessPoolExecutor(max_workers=workers or 2) as pool:
        results = list(pool.map(_run, tasks))  # cells are independent and seeded
    out = []
    for label, (hits, shown) in zip(labels, results):
        rate = hits / shown if shown else 0.0
        if label[0] == "ranking":
            out.append(Rate("offline_lift", "95% interval of a ranking lift covers the true lift",
                            f"per-query values, same queries, n={label[1]:,}", rate, 0.93, 0.97, shown,
                            "paired bootstrap of queries"))
            continue
        _, world, name, paired = label
        p, n, *_ = WORLDS[world]
        path = "same rows, paired" if paired else "different rows, unpaired"
        out.append(Rate("offline_lift", f"95% interval of the {name} lift covers the true lift",
                        f"{world}: {p:.1%} positives, {n:,} rows; {path}; true lift {truths[world][name]:+.1%}",
                        rate, 0.93, 0.97, shown,
                        _method(name, paired)))
    return out


def _method(name: str, paired: bool) -> str:
    if not paired:
        return "Poisson bootstrap per model"
    if name == "auc":
        return "DeLong paired variance of the log ratio, t quantile with Satterthwaite df (kurtosis)"
    return "paired Poisson bootstrap of rows"


def _run(task):
    if task[0] == "ranking":
        return ranking_cell(task[1:])
    return classification_cell(task)
