"""Weekly review, model quality: how often "AUC fell" alerts on a model that did not change.

World: each week's labelled predictions of one model (and segment) are drawn from the same binormal
model (negatives' signal N(0, 1), positives' N(d, 1)); the score is a fraud-like probability
0.006 exp(0.6 signal) (most scores under 0.03) or a logistic one. The weeks before are 4 weeks of
the same size. Scores go into the product's 10,000 fine bins (dashboard.metrics.binning), then
through dashboard.metrics.auc_change (the functions the weekly review's SQL feeds): AUC and
DeLong variance of each period, and the alert (drop > 0.02 and one-sided p < 1%).

Measured: the alert rate under no change (stated: 1% of model-segment-weeks at most; target <= 1.5%,
within 1.5x as for the metric alerts); the rate at which the drop alone is significant at 1% (the
test's own calibration, without the 0.02 floor: target 0.67-1.5%); the same with this week's scores shifted
down 40% (a calibration drift that keeps the ranking); and the power against a real drop.
"""

from __future__ import annotations

import numpy as np

from benchmarks.calib import Rate
from dashboard.metrics import auc_change as ac
from dashboard.metrics import classification as clf
from dashboard.metrics.binning import N_BINS, assign_bins

AREA = "model_quality"
METHOD = ("AUC on 10,000 fine bins, DeLong variances of both periods, Wald test on logit AUC at one-sided 1%, "
          "and drop > 0.02")


def _week(rng, rows: int, base: float, d: float, shift: float, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Label counts per fine bin for one period of `rows` labelled predictions."""
    labels = rng.random(rows) < base
    signal = rng.normal(0.0, 1.0, rows) + d * labels
    if kind == "fraud":
        scores = np.minimum(0.006 * np.exp(0.6 * signal) * shift, 1.0)
    else:
        scores = shift / (1 + np.exp(-(signal - 1.5)))
    b = assign_bins(scores, 0.0, 1.0)
    return (np.bincount(b[labels], minlength=N_BINS + 1), np.bincount(b[~labels], minlength=N_BINS + 1))


def run(sims: int, rows: int, base: float, d: float, seed: int, kind: str = "fraud", shift: float = 1.0,
        d_now: float | None = None, old: bool = False) -> dict:
    """Alert rate and the rate at which the drop alone is significant. old=True: the rule this replaced."""
    rng = np.random.default_rng(seed)
    alert = significant = judged = 0
    for _ in range(sims):
        before_bins = _week(rng, 4 * rows, base, d, 1.0, kind)
        now_bins = _week(rng, rows, base, d if d_now is None else d_now, shift, kind)
        if old:
            fired = _old_rule(now_bins, before_bins)
            judged += fired is not None
            alert += bool(fired)
            significant += bool(fired)
            continue
        before, now = ac.binned_auc(*before_bins), ac.binned_auc(*now_bins)
        if not ac.judged(now, before):  # the page does not judge it either
            continue
        judged += 1
        result = ac.auc_drop(now, before)
        alert += result.alert
        significant += result.p_value < ac.ALERT_ALPHA
    k = max(judged, 1)
    return {"alert": alert / k, "significant": significant / k, "judged": judged}


def _old_rule(now_bins, before_bins) -> bool | None:
    """Before: AUC on 100 coarse bins (fine bin // 101), alert when the drop exceeds 0.02 and twice
    the Hanley-McNeil standard error of this week's AUC alone."""
    coarse = [tuple(np.bincount(np.arange(N_BINS + 1) // 101, weights=c, minlength=100) for c in bins)
              for bins in (now_bins, before_bins)]
    now, then = clf.binned_roc_auc(*coarse[0]), clf.binned_roc_auc(*coarse[1])
    if now is None or then is None:
        return None
    p, n = coarse[0][0].sum(), coarse[0][1].sum()
    q1, q2 = now / (2 - now), 2 * now * now / (1 + now)
    se = np.sqrt(max(now * (1 - now) + (p - 1) * (q1 - now * now) + (n - 1) * (q2 - now * now), 0) / (p * n))
    return then - now > 0.02 and then - now > 2 * se


def scenarios(quick: bool) -> list[tuple[str, int, float, float, str, float]]:
    """(label, labelled rows a week, positive share, binormal d, score kind, shift this week)."""
    out = [("400 labelled a week, 10% positives (~40; 30 is the minimum judged), d=1.5", 400, 0.10, 1.5, "logistic",
            1.0),
           ("1,300 labelled a week, 3% positives (~40), d=2, fraud-like scores", 1_300, 0.03, 2.0, "fraud", 1.0),
           ("2,000 labelled a week, 5% positives, d=2, fraud-like scores", 2_000, 0.05, 2.0, "fraud", 1.0),
           ("2,000 a week, fraud-like scores shifted down 40% this week (ranking unchanged)", 2_000, 0.05, 2.0,
            "fraud", 0.6)]
    if not quick:
        out.append(("10,000 labelled a week, 2% positives, d=2.5, fraud-like scores", 10_000, 0.02, 2.5, "fraud",
                    1.0))
    return out


def simulations(quick: bool) -> list[Rate]:
    sims = 600 if quick else 4_000
    out = []
    for i, (label, rows, base, d, kind, shift) in enumerate(scenarios(quick)):
        got = run(sims, rows, base, d, seed=300 + i, kind=kind, shift=shift)
        world = f"no change, {label}; 4 weeks before of the same size each"
        out.append(Rate(AREA, "'AUC fell' alert on an unchanged model (stated 1%, within 1.5x)", world,
                        got["alert"], 0.0, ac.ALERT_ALPHA * 1.5, got["judged"], METHOD))
        out.append(Rate(AREA, "AUC drop significant at one-sided 1% (without the 0.02 floor)", world,
                        got["significant"], ac.ALERT_ALPHA / 1.5, ac.ALERT_ALPHA * 1.5, got["judged"], METHOD))
    power = run(sims // 5, 2_000, 0.05, 2.0, seed=399, kind="fraud", d_now=1.4)
    out.append(Rate(AREA, "'AUC fell' alert (power)", "2,000 labelled a week, 5% positives, fraud-like scores, "
                    "AUC 0.92 -> 0.84 this week (binormal d 2 -> 1.4)", power["alert"], 0.8, 1.0, power["judged"],
                    METHOD))
    return out
