"""Did a model's ROC AUC fall this week? Pure numpy/scipy, no I/O.

AUC from score bins, each bin one tied score (ties count 1/2: the Mann-Whitney AUC, equal to the
trapezoid AUC). On the product's 10,000 fine bins this is the exact AUC up to ties within a bin
(1e-4 of the score range); the 100 coarse bins it replaces tied whole swathes of a fraud model's
scores near 0, and a score shift then moved the AUC with nothing changed in the ranking.

Its variance is DeLong's (DeLong, DeLong & Clarke-Pearson 1988), from the placement values: a
positive in bin b has V10 = (negatives below b + half the negatives in b) / N, a negative
V01 = (positives above b + half the positives in b) / P; AUC = mean V10 = mean V01 and
var(AUC) = var(V10) / P + var(V01) / N. The SQL (dashboard.services.weekly_models) and
`auc_sums` below return the same five sums, so `auc_from_sums` serves both.

The alert: this week's AUC against the weeks before (independent rows), compared on the logit scale
(the Wald test on logit AUC, var(logit A) = var(A) / (A (1 - A))^2 by the delta method; on the raw
scale the variance grows as the AUC falls, which made the test fire at 0.2-0.4% instead of 1% in
benchmarks/calib/model_quality.py, the logit one at 0.8-0.9%); it fires when the drop is one-sided
significant at ALERT_ALPHA *and* larger than MIN_DROP on the AUC scale. Periods with fewer than MIN_CLASS positives or negatives are not judged. Under no change it therefore fires in at most ALERT_ALPHA of model-segment-weeks
(measured in benchmarks/calib/model_quality.py; far fewer where 0.02 is many standard errors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALERT_ALPHA = 0.01  # one-sided, in the bad direction: the weekly review's alert rate
MIN_DROP = 0.02  # smaller drops are not worth an alert however sure
# fewer positives or negatives than this in either period: not judged. DeLong's variance from 4-17
# positives is too small often enough that the demo's small segments alerted in ~3% of weeks; from
# 30 the test holds 1% (benchmarks/calib/model_quality.py); the threshold picker's small-segment rule
MIN_CLASS = 30


@dataclass(frozen=True)
class Auc:
    n_pos: int
    n_neg: int
    auc: float
    var: float  # DeLong variance of the estimate


@dataclass(frozen=True)
class AucDrop:
    now: Auc
    before: Auc
    drop: float  # before - now: positive when the model got worse
    se: float
    z: float  # on the logit scale
    p_value: float  # one-sided: a drop this large by chance
    alert: bool


def auc_sums(pos, neg) -> tuple[float, float, float, float, float]:
    """(P, N, sum of V10 over positives x N, sum of V10^2 over positives, sum of V01^2 over
    negatives) from per-bin label counts, bins in increasing score order (what the SQL returns)."""
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    p_total, n_total = pos.sum(), neg.sum()
    neg_below = np.cumsum(neg) - neg
    pos_above = p_total - np.cumsum(pos)
    mw = neg_below + neg / 2  # negatives ranked below each positive of the bin (ties 1/2)
    v10 = mw / n_total if n_total else np.zeros_like(mw)
    v01 = (pos_above + pos / 2) / p_total if p_total else np.zeros_like(mw)
    return float(p_total), float(n_total), float((pos * mw).sum()), float((pos * v10 ** 2).sum()), \
        float((neg * v01 ** 2).sum())


def auc_from_sums(n_pos: float, n_neg: float, mw_sum: float, v10_sq: float, v01_sq: float) -> Auc | None:
    """AUC and its DeLong variance; None without both classes."""
    if n_pos < 2 or n_neg < 2:
        return None
    auc = mw_sum / (n_pos * n_neg)
    var10 = max(v10_sq - n_pos * auc * auc, 0.0) / (n_pos - 1)
    var01 = max(v01_sq - n_neg * auc * auc, 0.0) / (n_neg - 1)
    return Auc(int(n_pos), int(n_neg), float(auc), var10 / n_pos + var01 / n_neg)


def binned_auc(pos, neg) -> Auc | None:
    return auc_from_sums(*auc_sums(pos, neg))


def judged(now: Auc | None, before: Auc | None) -> bool:
    """Enough of each class in both periods to judge a drop."""
    return now is not None and before is not None and min(now.n_pos, now.n_neg, before.n_pos, before.n_neg) >= MIN_CLASS


def auc_drop(now: Auc, before: Auc, alpha: float = ALERT_ALPHA, min_drop: float = MIN_DROP) -> AucDrop:
    """This week's AUC against the weeks before: alert on a drop both significant and material."""
    drop = before.auc - now.auc
    se = math.sqrt(now.var + before.var)  # on the AUC scale, for the text
    se_logit = math.sqrt(_logit_var(now) + _logit_var(before))
    gap = _logit(before.auc) - _logit(now.auc)
    if se_logit > 0:
        z = gap / se_logit
        p = float(stats.norm.sf(z))
    else:  # both perfectly separated or constant: no noise to judge against
        z, p = (math.inf if gap > 0 else 0.0), (0.0 if gap > 0 else 1.0)
    return AucDrop(now, before, drop, se, z, p, bool(drop > min_drop and p < alpha))


_EDGE = 1e-6


def _logit(a: float) -> float:
    a = min(max(a, _EDGE), 1 - _EDGE)
    return math.log(a / (1 - a))


def _logit_var(a: Auc) -> float:
    x = min(max(a.auc, _EDGE), 1 - _EDGE)
    return a.var / (x * (1 - x)) ** 2
