"""Weekly review, score drift: how often "score distribution shifted" alerts when nothing moved.

World: one model's scores (fraud-like 0.006 exp(0.6 N(0, 1)), most under 0.03, or logistic) drawn
from the same distribution every week. This week has `rows` predictions, last week as many, the
fixed baseline 4 weeks of them. Scores go into the product's 10,000 fine bins; PSI over ten
quantile groups of each reference (dashboard.metrics.weekly.psi: the rule the SQL runs, checked
against it in tests/test_weekly_drift.py). The alert fires when either PSI reaches 0.1 with at
least 500 predictions this week and in the reference (dashboard.services.weekly_models._drift).

The 0.1 / 0.25 levels are the industry's rule of thumb, not a test at a stated rate; the target
here is the weekly review's alert rate (1%), and the power row shows what it catches.
"""

from __future__ import annotations

import numpy as np

from benchmarks.calib import Rate
from dashboard.metrics import weekly as wk
from dashboard.metrics.binning import N_BINS, assign_bins

AREA = "drift"
METHOD = "PSI over ten quantile groups of the reference on the fine bins; alert from 0.1, vs last week or baseline"


def _counts(rng, rows: int, kind: str, shift: float) -> np.ndarray:
    signal = rng.normal(0.0, 1.0, rows)
    scale = {"fraud": 0.006, "tiny": 0.002}.get(kind)
    scores = np.minimum(scale * np.exp(0.6 * signal) * shift, 1.0) if scale else \
        shift / (1 + np.exp(-(signal - 1.5)))
    return np.bincount(assign_bins(scores, 0.0, 1.0), minlength=N_BINS + 1)


def _coarse(counts: np.ndarray) -> np.ndarray:
    """The old grouping's input: 100 coarse bins (fine bin // 101)."""
    return np.bincount(np.arange(counts.size) // 101, weights=counts)


def run(sims: int, rows: int, seed: int, kind: str = "fraud", shift: float = 1.0, old: bool = False) -> float:
    """Alert rate; old=True groups 100 coarse bins (what the drift check read before)."""
    rng = np.random.default_rng(seed)
    alerts = 0
    for _ in range(sims):
        last, base = _counts(rng, rows, kind, 1.0), _counts(rng, 4 * rows, kind, 1.0)
        this = _counts(rng, rows, kind, shift)
        if old:
            last, base, this = _coarse(last), _coarse(base), _coarse(this)
        alerts += max(wk.psi(last, this), wk.psi(base, this)) >= wk.PSI_MODERATE
    return alerts / sims


def simulations(quick: bool) -> list[Rate]:
    sims = 400 if quick else 4_000
    out = []
    for i, (rows, kind) in enumerate([(500, "fraud"), (500, "logistic"), (5_000, "fraud")]):
        rate = run(sims, rows, seed=500 + i, kind=kind)
        out.append(Rate(AREA, "score drift alert (PSI >= 0.1) on unchanged scores (target: the alert rate, 1%)",
                        f"{rows:,} predictions this week and last, baseline 4 weeks, {kind} scores", rate, 0.0,
                        0.01, sims, METHOD))
    power = run(sims // 4, 5_000, seed=599, kind="tiny", shift=0.8)
    out.append(Rate(AREA, "score drift alert (power)", "5,000 predictions a week, scores all near 0 (99.9% under "
                    "0.01, one old coarse bin) 20% lower this week", power, 0.8, 1.0, sims // 4, METHOD))
    return out
