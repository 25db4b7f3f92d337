"""Launch review verdicts and experiment intervals, measured by seeded simulation.

(a) A/A experiments (no true effect) through the product's own decision path
    (dashboard.services.launch_evidence.evaluate, which `report experiment`, the Launch review
    and the Metric tree use) with the demo metric tree and its default rules: how often it says
    "roll back" (target <= 1%) and "ship" (<= 2.5%, the pre-declared primary's one-sided rate),
    also with "engagement harm also rolls back".
(b) The relative-lift interval (Fieller) covering the true relative lift 93-97% of the time for a
    revenue-like heavy-tailed metric and a conversion-like metric at n = 2,000 per arm, and its
    A/A rejection rate on the relative scale.
(c) The absolute (Welch) interval's coverage on the same worlds, as a control.

Every function takes the method under test as an argument, so the tests can show that the old
method (delta-method interval, roll back on raw p) falls outside the targets.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import stats

from benchmarks.calib import Rate
from dashboard.demo.company import ONLINE
from dashboard.metrics.decision import DecisionRules
from dashboard.metrics.experiments import SuffStats, compare, fieller_relative_interval, welch_df
from dashboard.services.launch_evidence import evaluate
from dashboard.tree import check_tree

AREA = "experiments"
TREE = Path(__file__).resolve().parents[2] / "data" / "metric_tree.yaml"
STRICT = {"protected_levels": ["business", "engagement"]}  # "engagement harm also rolls back"

# the demo company's per-user metrics: mean, sd, binary
DEMO_METRICS = ONLINE

Interval = Callable[[float, float, float, float, float], "tuple[float, float] | None"]


def demo_tree():
    loaded = check_tree(TREE.read_text(encoding="utf-8"), source=str(TREE), data_blocks=False)
    if loaded.tree is None:
        raise RuntimeError(f"the demo tree {TREE} does not load: {loaded.problems}")
    return loaded.tree


# ---------------------------------------------------------------- worlds


def _demo_suff_stats(rng, n: int, mean: float, sd: float | None, binary: bool) -> SuffStats:
    """As the demo generator draws them: exact binomial counts; continuous metrics through the
    sampling distribution of their mean and variance (n is 40,000 to 400,000 per arm there)."""
    if binary:
        total = float(rng.binomial(n, mean))
        return SuffStats(n, total, total)
    total = (mean + rng.normal(0, sd / math.sqrt(n))) * n
    var = sd * sd * rng.chisquare(n - 1) / (n - 1)
    return SuffStats(n, total, var * (n - 1) + total * total / n)


def revenue_like(rng, n: int, scale: float = 1.0) -> np.ndarray:
    """Revenue per user: 5% buy, amount lognormal(0, 1.5) (se of the mean ~22% of it at n = 2,000)."""
    buys = rng.random(n) < 0.05
    return np.where(buys, scale * rng.lognormal(0.0, 1.5, n), 0.0)


def conversion_like(rng, n: int, scale: float = 1.0) -> np.ndarray:
    """Conversion: 5% convert (se of the mean ~10% of it at n = 2,000)."""
    return (rng.random(n) < 0.05 * scale).astype(np.float64)


def _unit_metric(rng, n: int, metric: str) -> SuffStats:
    """Unit-level values with the demo's means and realistic shapes (heavy-tailed revenue)."""
    mean, sd, binary = DEMO_METRICS[metric]
    if binary:
        return SuffStats.from_values((rng.random(n) < mean).astype(np.float64))
    if metric == "revenue_per_user":
        return SuffStats.from_values(revenue_like(rng, n) * (mean / (0.05 * math.exp(1.125))))
    if metric == "ctr":
        k = mean * (1 - mean) / (sd * sd) - 1  # beta with this mean and sd
        return SuffStats.from_values(rng.beta(mean * k, (1 - mean) * k, n))
    shape = (mean / sd) ** 2  # gamma with this mean and sd (latency, session length)
    return SuffStats.from_values(rng.gamma(shape, mean / shape, n))


# ---------------------------------------------------------------- (a) A/A decisions


def aa_decisions(sims: int, seed: int, unit_level_n: int | None = None,
                 rule_sets: dict[str, dict] | None = None) -> dict[str, dict[str, float]]:
    """Share of A/A experiments each rule set calls ship / hold / roll back.

    unit_level_n None: demo-sized experiments (n per arm log-uniform in 40,000-400,000, as the
    demo draws them); a number: unit-level values at that n per arm (heavy-tailed revenue).
    Every rule set judges the same simulated experiments."""
    rule_sets = rule_sets or {"default": {}, "strict": STRICT}
    rules = {k: DecisionRules.from_mapping(v) for k, v in rule_sets.items()}
    tree = demo_tree()
    rng = np.random.default_rng(seed)
    counts = {k: {"ship": 0, "hold": 0, "roll back": 0} for k in rules}
    for _ in range(sims):
        if unit_level_n is None:
            n = int(math.exp(rng.uniform(math.log(40_000), math.log(400_000))))
            stats_ = {m: (_demo_suff_stats(rng, n, *spec), _demo_suff_stats(rng, n, *spec))
                      for m, spec in DEMO_METRICS.items()}
        else:
            stats_ = {m: (_unit_metric(rng, unit_level_n, m), _unit_metric(rng, unit_level_n, m))
                      for m in DEMO_METRICS}
        for k, r in rules.items():
            counts[k][evaluate(stats_, {}, tree, r).decision.verdict] += 1
    return {k: {v: c / sims for v, c in row.items()} for k, row in counts.items()}


# ---------------------------------------------------------------- (b, c) interval coverage


def coverage(sims: int, seed: int, world: Callable, n: int, true_lift: float,
             interval: Interval = fieller_relative_interval, alpha: float = 0.05) -> dict[str, float]:
    """Share of simulated experiments whose relative interval (method `interval`, at the Welch
    t quantile) and absolute Welch interval cover the truth. An interval the method cannot bound
    (None) counts as covering: it claims nothing."""
    rng = np.random.default_rng(seed)
    mean_c = float(world(np.random.default_rng(0), 2_000_000).mean())  # the world's true mean
    true_abs = mean_c * true_lift
    rel_hits = abs_hits = unbounded = 0
    for _ in range(sims):
        c, t = world(rng, n), world(rng, n, 1.0 + true_lift)
        m_c, m_t = c.mean(), t.mean()
        v_c, v_t = c.var(ddof=1) / n, t.var(ddof=1) / n
        df = welch_df(v_c * n, n, v_t * n, n)
        q = float(stats.t.ppf(1 - alpha / 2, df))
        iv = interval(m_c, v_c, m_t, v_t, q)
        unbounded += iv is None
        rel_hits += iv is None or iv[0] <= true_lift <= iv[1]
        half = q * math.sqrt(v_c + v_t)
        abs_hits += abs((m_t - m_c) - true_abs) <= half
    return {"relative": rel_hits / sims, "absolute": abs_hits / sims, "unbounded": unbounded / sims}


def check_product_uses_fieller(seed: int = 3) -> None:
    """The scorecard's relative interval is the one measured here (not a copy that could drift)."""
    rng = np.random.default_rng(seed)
    c, t = revenue_like(rng, 2_000), revenue_like(rng, 2_000, 1.05)
    r = compare(SuffStats.from_values(c), SuffStats.from_values(t))
    q = float(stats.t.ppf(0.975, r.df))
    iv = fieller_relative_interval(c.mean(), c.var(ddof=1) / c.size, t.mean(), t.var(ddof=1) / t.size, q)
    assert iv is not None and np.allclose(iv, (r.relative_ci_low, r.relative_ci_high), rtol=1e-9)


# ---------------------------------------------------------------- the table


def ship_target(sims: int) -> float:
    """A false ship is the pre-declared primary's one-sided 2.5% by design (less whatever else
    holds it), so a simulation measures 2.5% give or take its own noise: allow 2 standard errors."""
    return 0.025 + 2.0 * math.sqrt(0.025 * 0.975 / sims)


def simulations(quick: bool) -> list[Rate]:
    check_product_uses_fieller()
    n_demo, n_unit, n_cov = (400, 200, 400) if quick else (10_000, 4_000, 4_000)
    rates: list[Rate] = []
    method = "BH over the roll-back family at 0.01; primary on its own p for ship"
    for label, unit_n, sims in (("demo-sized (40k-400k per arm)", None, n_demo),
                                ("n=2,000 per arm, unit-level, heavy-tailed revenue", 2_000, n_unit)):
        got = aa_decisions(sims, seed=11 if unit_n is None else 12, unit_level_n=unit_n)
        for key, rule_text in (("default", "default rules"), ("strict", "engagement harm also rolls back")):
            scenario = f"A/A, demo tree, {rule_text}, {label}"
            rates.append(Rate(AREA, "Launch review says roll back", scenario, got[key]["roll back"],
                              0.0, 0.01, sims, method))
            rates.append(Rate(AREA, "Launch review says ship (nominal 2.5%, + 2 simulation s.e.)",
                              scenario, got[key]["ship"], 0.0, ship_target(sims), sims, method))
    worlds = (("revenue-like (5% buy, lognormal sd 1.5)", revenue_like),
              ("conversion-like (5%)", conversion_like))
    for i, (name, world) in enumerate(worlds):
        cov = coverage(n_cov, 21 + i, world, 2_000, 0.05)
        scenario = f"{name}, n=2,000 per arm, true lift +5%"
        rates.append(Rate(AREA, "relative-lift 95% interval covers the truth", scenario, cov["relative"],
                          0.93, 0.97, n_cov, "Fieller"))
        rates.append(Rate(AREA, "absolute-lift 95% interval covers the truth (control)", scenario,
                          cov["absolute"], 0.93, 0.97, n_cov, "Welch"))
    aa = coverage(n_cov, 31, revenue_like, 2_000, 0.0)
    rates.append(Rate(AREA, "relative lift significant in an A/A test", "revenue-like, n=2,000 per arm, A/A",
                      1.0 - aa["relative"], 0.03, 0.07, n_cov, "Fieller"))
    return rates
