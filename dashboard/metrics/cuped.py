"""CUPED (regression adjustment on a pre-period covariate) from sufficient statistics.

Per variant we have n, sum and sum_sq of the metric y, and pre_sum, pre_sum_sq and sum_cross (sum of
y * x) of the same units' pre-period metric x. theta is pooled over both variants, each variant's
covariance and pre-period variance weighted by its degrees of freedom, as GrowthBook's gbstats pools
it (RegressionAdjustedStatistic): this is exactly the slope of the OLS fit y ~ treatment + x, so the
adjusted lift equals the OLS treatment coefficient.

    lift_adj = (ybar_t - ybar_c) - theta (xbar_t - xbar_c)
    var(adjusted mean of a variant) = (var_y + theta^2 var_x - 2 theta cov_xy) / n

theta is treated as known (its estimation error is O(1/n), as in gbstats and Deng et al. 2013).
Each variant's adjusted mean is ybar - theta (xbar - xbar_pooled): centring at the pooled pre-period
mean keeps the control's adjusted mean an estimate of the control mean, so the relative lift stays
a relative lift. The absolute and relative intervals then come from `compare` on these adjusted
means: Welch t for the absolute lift and Fieller's interval for the relative one, the same methods
as the unadjusted scorecard (Fieller stays calibrated with a noisy control, where the delta method
under-covers; see docs/statistics.md). The centring term is shared by both variants, so treating
the two adjusted means as independent ignores only an O(1/n) covariance.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.metrics.experiments import Comparison, SuffStats, compare

@dataclass(frozen=True)
class CupedStats(SuffStats):
    """SuffStats of y plus the same units' pre-period metric x: sum x, sum x^2, sum x*y."""

    pre_sum: float = 0.0
    pre_sum_sq: float = 0.0
    sum_cross: float = 0.0

    @property
    def pre_variance(self) -> float:
        return max(self.pre_sum_sq - self.pre_sum * self.pre_sum / self.n, 0.0) / (self.n - 1)

    @property
    def covariance(self) -> float:
        return (self.sum_cross - self.sum * self.pre_sum / self.n) / (self.n - 1)


@dataclass(frozen=True)
class CupedResult:
    theta: float
    adjusted: Comparison  # what the decision uses
    unadjusted: Comparison
    variance_reduction: float | None  # 1 - var(adjusted lift) / var(unadjusted lift)

    def as_dict(self) -> dict:
        a = self.adjusted
        return {"lift": a.lift, "relative_lift": a.relative_lift, "ci_low": a.ci_low,
                "ci_high": a.ci_high, "relative_ci_low": a.relative_ci_low,
                "relative_ci_high": a.relative_ci_high, "p_value": a.p_value,
                "variance_reduction": self.variance_reduction, "theta": self.theta}


def pooled_theta(control: CupedStats, treatment: CupedStats) -> float:
    """sum_v (n_v - 1) cov_v(y, x) / sum_v (n_v - 1) var_v(x); 0 when x never varies."""
    num = sum((s.n - 1) * s.covariance for s in (control, treatment))
    den = sum((s.n - 1) * s.pre_variance for s in (control, treatment))
    return num / den if den > 0.0 else 0.0


def cuped_compare(control: CupedStats, treatment: CupedStats, alpha: float = 0.05) -> CupedResult | None:
    """Adjusted comparison; None when a variant has fewer than 2 units (no variance to reduce)."""
    if control.n < 2 or treatment.n < 2:
        return None
    theta = pooled_theta(control, treatment)
    x_pooled = (control.pre_sum + treatment.pre_sum) / (control.n + treatment.n)
    adjusted = compare(_adjusted(control, theta, x_pooled), _adjusted(treatment, theta, x_pooled), alpha)
    plain = compare(control, treatment, alpha)
    reduction = None
    if plain.se and adjusted.se is not None:
        reduction = 1.0 - (adjusted.se / plain.se) ** 2
    return CupedResult(theta, adjusted, plain, reduction)


def _adjusted(s: CupedStats, theta: float, x_pooled: float) -> SuffStats:
    """SuffStats whose mean and variance are the variant's adjusted mean and residual variance."""
    n = s.n
    mean = s.mean - theta * (s.pre_sum / n - x_pooled)
    var = s.variance + theta * theta * s.pre_variance - 2.0 * theta * s.covariance
    var = max(var, 0.0)  # the residual variance of a PSD matrix, negative only by rounding
    return SuffStats(n, n * mean, (n - 1) * var + n * mean * mean)


def has_pre(*stats: SuffStats) -> bool:
    return all(isinstance(s, CupedStats) for s in stats)

