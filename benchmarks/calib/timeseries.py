"""Time-series verdicts: how often a week's verdict and the weekly alert fire on unchanged series.

Through the product's own function (dashboard.metrics.week_verdict, used by the Weekly review, the
Metric tree over a period and `report weekly`). Seeded daily series, two years (104 ISO weeks)
unless said otherwise, with a weekday cycle (weekend -1%) and 1% daily noise that is:
independent normal; heavy-tailed (Student t, 3 degrees of freedom, scaled to sd 1%); or AR(1)
with coefficient 0.8 between days. "Holiday": the judged week and the same ISO week a year before
dip 8% (a holiday that comes every year). Each series is judged at its last week.

Claims (stated on the pages): better/worse reading 5% a metric a week (two-sided); the unusual-move
alert 1% (bad direction). Target: within 1.5x of the stated rate. Power rows: a planted drop of
about 4 standard deviations of a seasonal-adjusted weekly change.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from benchmarks.calib import Rate
from dashboard.metrics import week_verdict as wv

WEEKDAY = np.array([0, 0, 0, 0, 0, -0.01, -0.01])  # weekend dip the size of the daily noise
NOISE = 0.01
HOLIDAY_DIP = 0.08
PLANTED_DROP = {"independent": 0.03, "AR(1) 0.8": 0.06}  # ~4 sd of a seasonal-adjusted weekly change
CHUNK = 5000


def daily_noise(kind: str, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Unit-variance daily noise of one of the simulated worlds."""
    if kind == "independent":
        return rng.standard_normal(shape)
    if kind == "heavy-tailed t3":
        return rng.standard_t(3, shape) / np.sqrt(3.0)
    if kind == "AR(1) 0.8":
        phi = 0.8
        z = rng.standard_normal(shape) * np.sqrt(1 - phi ** 2)
        z[:, 0] /= np.sqrt(1 - phi ** 2)  # start in the stationary distribution
        return lfilter([1.0], [1.0, -phi], z, axis=1)
    raise ValueError(kind)


def weekly_series(kind: str, rng: np.random.Generator, n: int, weeks: int = 104,
                  holiday: bool = False, drop: float = 0.0) -> np.ndarray:
    """n weekly series (means of 7 daily values) ending at the judged week."""
    daily = 100.0 * (1 + np.tile(WEEKDAY, weeks)) * (1 + NOISE * daily_noise(kind, rng, (n, 7 * weeks)))
    weekly = daily.reshape(n, weeks, 7).mean(axis=2)
    if holiday:
        for w in (weeks - 1, weeks - 1 - wv.SEASON_WEEKS):
            if w >= 0:
                weekly[:, w] *= 1 - HOLIDAY_DIP
    weekly[:, -1] *= 1 - drop
    return weekly


def fire_rates(kind: str, n: int, seed: int, weeks: int = 104, holiday: bool = False,
               drop: float = 0.0, scorer=None) -> dict[str, float]:
    """Share of series whose last week reads better/worse (1 and 4 weeks) and alerts (bad = down).
    `scorer(weekly, i, weeks) -> Scores` defaults to the product's surprise_scores (a test passes
    the old method to show the simulation would catch it)."""
    scorer = scorer or wv.surprise_scores
    rng = np.random.default_rng(seed)
    counts = {"verdict 1w": 0, "verdict 4w": 0, "alert": 0}
    done = 0
    while done < n:
        size = min(CHUNK, n - done)
        w = weekly_series(kind, rng, size, weeks, holiday, drop)
        one, four = scorer(w, weeks - 1, 1), scorer(w, weeks - 1, 4)
        counts["verdict 1w"] += int(wv.verdict_fires(one).sum())
        counts["verdict 4w"] += int(wv.verdict_fires(four).sum())
        counts["alert"] += int(wv.alert_fires(one, 1).sum())
        done += size
    return {k: v / n for k, v in counts.items()}


def _band(stated: float) -> tuple[float, float]:
    return stated / 1.5, stated * 1.5


WORLDS = ("independent", "heavy-tailed t3", "AR(1) 0.8")
METHOD = "t prediction bound on weekly changes, same week last year as baseline (dashboard.metrics.week_verdict)"


def simulations(quick: bool) -> list[Rate]:
    n = 20_000 if quick else 100_000
    out: list[Rate] = []
    for seed, kind in enumerate(WORLDS):
        for holiday in (False, True):
            scenario = f"{kind}, weekday cycle, 2 years" + (", yearly holiday dip 8% in the judged week" if holiday else "")
            r = fire_rates(kind, n, seed * 10 + holiday, holiday=holiday)
            out += _claims(r, scenario, n)
    for seed, kind in enumerate(("independent", "AR(1) 0.8")):
        r = fire_rates(kind, n, 100 + seed, weeks=40)
        out += _claims(r, f"{kind}, weekday cycle, 40 weeks (no year-ago baseline)", n)
    for seed, kind in enumerate(("independent", "AR(1) 0.8")):
        drop = PLANTED_DROP[kind]
        r = fire_rates(kind, n // 4, 200 + seed, drop=drop)
        out.append(Rate("timeseries", "unusual-move alert (power)",
                        f"{kind}, weekday cycle, 2 years, planted -{drop:.0%} in the judged week", r["alert"],
                        0.8, 1.0, n // 4, METHOD))
    return out


def _claims(r: dict[str, float], scenario: str, n: int) -> list[Rate]:
    v, a = wv.VERDICT_ALPHA, wv.ALERT_ALPHA
    return [
        Rate("timeseries", f"week reads better/worse (stated {v:.0%})", scenario, r["verdict 1w"], *_band(v), n, METHOD),
        Rate("timeseries", f"tree over 28 days better/worse (stated {v:.0%})", scenario, r["verdict 4w"], *_band(v), n,
             METHOD),
        Rate("timeseries", f"unusual-move alert (stated {a:.0%})", scenario, r["alert"], *_band(a), n, METHOD),
    ]
