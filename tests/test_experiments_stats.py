"""Experiment statistics against independent oracles: scipy's Welch test, Fieller's interval found
here by root-finding its pivot (and its textbook closed form), a delta method written here in
matrix form from raw values, scipy's chi-square and BH, and a coverage simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from dashboard.metrics.experiments import (
    SuffStats,
    benjamini_hochberg,
    compare,
    delta_relative_interval,
    fieller_relative_interval,
    srm_test,
)

RNG_CASES = [
    # (seed, n_c, n_t, mean_c, mean_t, sd_c, sd_t)
    (1, 50, 60, 10.0, 10.5, 2.0, 3.0),
    (2, 5, 7, 1.0, 1.4, 0.5, 0.1),
    (3, 2, 2, 3.0, 4.0, 1.0, 1.0),  # tiny samples
    (4, 1000, 800, 0.2, 0.21, 0.4, 0.41),
    (5, 30, 30, -5.0, -4.0, 2.0, 2.0),  # negative means
]


def _raw(seed, n_c, n_t, mean_c, mean_t, sd_c, sd_t):
    rng = np.random.default_rng(seed)
    return rng.normal(mean_c, sd_c, n_c), rng.normal(mean_t, sd_t, n_t)


def _delta_oracle(c: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Relative lift m_t/m_c - 1 (scaled by |m_c|) and its delta-method SE via gradient @ cov @ gradient."""
    m_c, m_t = c.mean(), t.mean()
    cov = np.diag([c.var(ddof=1) / c.size, t.var(ddof=1) / t.size])
    # f(m_c, m_t) = (m_t - m_c) / |m_c|; d/dm_c = -m_t / (m_c |m_c|), d/dm_t = 1 / |m_c|
    grad = np.array([-m_t / (m_c * abs(m_c)), 1.0 / abs(m_c)])
    return (m_t - m_c) / abs(m_c), float(np.sqrt(grad @ cov @ grad))


@pytest.mark.parametrize("case", RNG_CASES)
def test_absolute_lift_matches_scipy_welch(case):
    c, t = _raw(*case)
    r = compare(SuffStats.from_values(c), SuffStats.from_values(t))
    ref = stats.ttest_ind_from_stats(t.mean(), t.std(ddof=1), t.size, c.mean(), c.std(ddof=1),
                                     c.size, equal_var=False)
    assert r.lift == pytest.approx(t.mean() - c.mean(), rel=1e-9, abs=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-7, abs=1e-12)
    raw = stats.ttest_ind(t, c, equal_var=False)  # scipy's own CI from the raw values
    lo, hi = raw.confidence_interval(0.95)
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), rel=1e-7)
    assert r.df == pytest.approx(raw.df, rel=1e-9)


def _fieller_oracle(m_c, s2_c, m_t, s2_t, q):
    """Fieller's set {R : (m_t - R m_c)^2 <= q^2 (s2_t + R^2 s2_c)} found by root-finding the pivot
    outward from R = m_t / m_c (no quadratic formula), mapped to (R - 1) * sign(m_c); None when the
    set is unbounded (the pivot never reaches q on one side)."""
    def excess(r):
        return (m_t - r * m_c) ** 2 - q * q * (s2_t + r * r * s2_c)

    r0 = m_t / m_c
    ends = []
    for direction in (-1.0, 1.0):
        step = max(abs(r0), 1.0) * 1e-3
        while excess(r0 + direction * step) < 0:
            step *= 2
            if step > 1e12:
                return None
        a, b = sorted((r0, r0 + direction * step))
        ends.append(optimize.brentq(excess, a, b, xtol=1e-15, rtol=1e-14) if excess(r0) < 0 else r0)
    lo, hi = ends
    return (lo - 1, hi - 1) if m_c > 0 else (1 - hi, 1 - lo)


@pytest.mark.parametrize("case", RNG_CASES)
def test_relative_lift_matches_independent_fieller_and_delta_se(case):
    c, t = _raw(*case)
    r = compare(SuffStats.from_values(c), SuffStats.from_values(t), alpha=0.1)
    rel, se = _delta_oracle(c, t)
    raw = stats.ttest_ind(t, c, equal_var=False)
    q = stats.t.ppf(0.95, raw.df)
    assert r.relative_lift == pytest.approx(rel, rel=1e-9)
    assert r.relative_se == pytest.approx(se, rel=1e-9)  # delta-method se, kept for weighting
    ref = _fieller_oracle(c.mean(), c.var(ddof=1) / c.size, t.mean(), t.var(ddof=1) / t.size, q)
    if ref is None:
        assert r.relative_ci_low is None and "not estimable" in r.note
    else:
        assert (r.relative_ci_low, r.relative_ci_high) == pytest.approx(ref, rel=1e-8, abs=1e-12)
        assert r.relative_ci_low <= r.relative_lift <= r.relative_ci_high
    # Fieller's test of "no relative change" is Welch's test: one p-value, one verdict
    assert r.relative_p_value == pytest.approx(raw.pvalue, rel=1e-7)
    # the sign of the relative lift is the sign of the absolute lift, negative means included
    assert math.copysign(1, r.relative_lift) == math.copysign(1, r.lift)


def test_fieller_against_textbook_closed_form_and_known_values():
    # Fieller (1954) in the textbook form with g = q^2 s2_c / m_c^2 (e.g. Franz 2007, eq. 4):
    # R = [R0 -/+ (q/m_c) sqrt(s2_t + R0^2 s2_c - g s2_t)] / (1 - g), R0 = m_t / m_c
    m_c, s2_c, m_t, s2_t, q = 2.0, 0.09, 2.3, 0.16, 1.96
    g = q * q * s2_c / m_c ** 2
    r0 = m_t / m_c
    half = q / m_c * math.sqrt(s2_t + r0 * r0 * s2_c - g * s2_t)
    expected = ((r0 - half) / (1 - g) - 1, (r0 + half) / (1 - g) - 1)
    assert fieller_relative_interval(m_c, s2_c, m_t, s2_t, q) == pytest.approx(expected, rel=1e-12)
    # no noise in the control: Fieller is the delta interval (m_t +- q se_t) / m_c - 1
    assert fieller_relative_interval(2.0, 0.0, 2.3, 0.16, q) == pytest.approx((0.15 - q * 0.2, 0.15 + q * 0.2))
    # noisy control: the interval is asymmetric, longer on the side of small control means
    lo, hi = fieller_relative_interval(1.0, 0.04, 1.0, 0.04, 1.96)
    assert hi - 0 > 0 - lo > 0
    # the delta method stays symmetric there: the shape Fieller adds
    d_lo, d_hi = delta_relative_interval(1.0, 0.04, 1.0, 0.04, 1.96)
    assert d_hi == pytest.approx(-d_lo)


@pytest.mark.parametrize("m_c", [0.0, 1e-9, 0.05, -0.05, 0.39])
def test_control_mean_near_zero_is_not_estimable_never_a_wrong_number(m_c):
    # se(control mean) 0.2: any |m_c| <= 1.96 * 0.2 = 0.392 leaves the ratio unbounded
    assert fieller_relative_interval(m_c, 0.04, 1.0, 0.01, 1.96) is None
    assert _fieller_oracle(m_c, 0.04, 1.0, 0.01, 1.96) is None if m_c != 0 else True
    n = 100  # sufficient statistics with this control mean and se 0.2 (sd 2)
    control = SuffStats(n, m_c * n, 4.0 * (n - 1) + m_c * m_c * n)
    r = compare(control, SuffStats(n, 100.0, 1.0 * (n - 1) + 100.0))
    assert r.relative_ci_low is None and r.relative_ci_high is None
    if m_c != 0:
        assert "not estimable" in r.note and r.relative_lift is not None and r.noisy_control
    assert r.ci_low is not None and r.p_value is not None  # the absolute lift is still there


def test_noisy_control_is_flagged_above_ten_percent():
    n = 400  # sd 2 -> se 0.1
    quiet = compare(SuffStats(n, 1.05 * n, 4.0 * (n - 1) + 1.05 ** 2 * n), SuffStats(n, 1.1 * n, 4.0 * (n - 1) + 1.21 * n))
    noisy = compare(SuffStats(n, 0.95 * n, 4.0 * (n - 1) + 0.95 ** 2 * n), SuffStats(n, 1.1 * n, 4.0 * (n - 1) + 1.21 * n))
    assert quiet.control_relative_se == pytest.approx(0.1 / 1.05) and not quiet.noisy_control
    assert noisy.control_relative_se == pytest.approx(0.1 / 0.95) and noisy.noisy_control
    assert "noisy control mean" in noisy.note and "noisy control" not in quiet.note


def test_relative_interval_excludes_zero_exactly_when_welch_does():
    rng = np.random.default_rng(5)
    for _ in range(300):
        c, t = rng.exponential(1.0, 60), rng.exponential(rng.uniform(0.8, 1.4), 60)
        r = compare(SuffStats.from_values(c), SuffStats.from_values(t))
        assert (r.p_value < 0.05) == (not r.relative_ci_low <= 0 <= r.relative_ci_high)


def test_hand_computed_sufficient_statistics():
    # control: values 1, 2, 3 -> n 3, sum 6, sum_sq 14, mean 2, var 1
    # treatment: values 2, 4, 6, 8 -> n 4, sum 20, sum_sq 120, mean 5, var 20/3
    r = compare(SuffStats(3, 6.0, 14.0), SuffStats(4, 20.0, 120.0))
    assert (r.control_mean, r.treatment_mean) == (2.0, 5.0)
    assert r.control_var == pytest.approx(1.0)
    assert r.treatment_var == pytest.approx(20 / 3)
    se = math.sqrt(1 / 3 + (20 / 3) / 4)
    assert r.se == pytest.approx(se)
    df = (1 / 3 + 5 / 3) ** 2 / ((1 / 3) ** 2 / 2 + (5 / 3) ** 2 / 3)
    assert r.df == pytest.approx(df)
    assert r.relative_lift == pytest.approx(1.5)
    # delta method by hand: 20/3/(4*4) + 25*1/(3*16)
    assert r.relative_se == pytest.approx(math.sqrt(20 / 3 / 16 + 25 / 48))
    ref = stats.ttest_ind_from_stats(5, math.sqrt(20 / 3), 4, 2, 1, 3, equal_var=False)
    assert r.p_value == pytest.approx(ref.pvalue)


def test_zero_variance_in_both_variants_is_exact_not_nan():
    r = compare(SuffStats(10, 10.0, 10.0), SuffStats(10, 20.0, 40.0))
    assert r.se == 0.0
    assert (r.ci_low, r.ci_high, r.p_value) == (1.0, 1.0, 0.0)
    assert r.relative_lift == pytest.approx(1.0)
    assert (r.relative_ci_low, r.relative_ci_high, r.relative_p_value) == (1.0, 1.0, 0.0)
    assert "exact" in r.note
    same = compare(SuffStats(10, 10.0, 10.0), SuffStats(5, 5.0, 5.0))
    assert (same.lift, same.p_value, same.ci_low, same.ci_high) == (0.0, 1.0, 0.0, 0.0)


def test_zero_variance_in_one_variant_matches_scipy():
    c = SuffStats(8, 8.0, 8.0)  # all ones
    t = SuffStats.from_values([1.0, 2.0, 1.5, 3.0, 2.5])
    r = compare(c, t)
    ref = stats.ttest_ind_from_stats(t.mean, math.sqrt(t.variance), 5, 1.0, 0.0, 8, equal_var=False)
    assert r.p_value == pytest.approx(ref.pvalue)
    assert r.df == pytest.approx(4.0)  # all the variance is the treatment's: n_t - 1


def test_single_unit_gives_lift_without_interval():
    r = compare(SuffStats(1, 3.0, 9.0), SuffStats(5, 20.0, 90.0))
    assert r.lift == pytest.approx(1.0)
    assert r.p_value is None and r.ci_low is None and r.relative_ci_low is None
    assert "fewer than 2 units" in r.note


def test_empty_variant():
    r = compare(SuffStats(0, 0.0, 0.0), SuffStats(5, 20.0, 90.0))
    assert r.lift is None and r.relative_lift is None and r.p_value is None
    assert "no units in control" in r.note


def test_zero_control_mean_has_a_message_not_an_error():
    r = compare(SuffStats.from_values([-1.0, 1.0, 0.0]), SuffStats.from_values([1.0, 2.0, 3.0]))
    assert r.control_mean == 0.0
    assert r.relative_lift is None and r.relative_ci_low is None and r.relative_p_value is None
    assert r.p_value is not None and r.lift == pytest.approx(2.0)
    assert "control mean is 0" in r.note


def test_rounding_below_zero_variance_is_clamped_but_nonsense_is_refused():
    x = np.full(1000, 0.1)
    s = SuffStats(1000, float(x.sum()), float((x * x).sum()))
    assert s.variance == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="inconsistent"):
        SuffStats(10, 100.0, 5.0).variance
    with pytest.raises(ValueError):
        compare(SuffStats(3, 6.0, 14.0), SuffStats(3, 6.0, 14.0), alpha=0)


def test_confidence_intervals_cover_the_true_lift_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    sims, n_c, n_t = 2000, 150, 120
    mu_c, mu_t = 2.0, 2.3  # exponential metric: skewed, like revenue
    hits_abs = hits_rel = 0
    for _ in range(sims):
        c = rng.exponential(mu_c, n_c)
        t = rng.exponential(mu_t, n_t)
        r = compare(SuffStats.from_values(c), SuffStats.from_values(t))
        hits_abs += r.ci_low <= mu_t - mu_c <= r.ci_high
        hits_rel += r.relative_ci_low <= mu_t / mu_c - 1 <= r.relative_ci_high
    # binomial sd at 2000 sims is 0.005: +-0.02 is four of them
    assert abs(hits_abs / sims - 0.95) < 0.02, hits_abs / sims
    assert abs(hits_rel / sims - 0.95) < 0.02, hits_rel / sims


def test_coverage_test_can_fail():
    """A biased interval (z instead of t at tiny n) must fall measurably short of 95%."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(2000):
        c, t = rng.normal(0, 1, 3), rng.normal(0, 1, 3)
        r = compare(SuffStats.from_values(c), SuffStats.from_values(t))
        hits += abs(r.lift) <= 1.96 * r.se
    assert hits / 2000 < 0.90


def test_srm_matches_scipy_chisquare():
    for n_c, n_t, share in [(5000, 5000, 0.5), (5120, 4880, 0.5), (5400, 4600, 0.5), (3000, 7100, 0.3)]:
        r = srm_test(n_c, n_t, share)
        total = n_c + n_t
        ref = stats.chisquare([n_c, n_t], [total * share, total * (1 - share)])
        assert r.chi2 == pytest.approx(ref.statistic)
        assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
        assert r.mismatch == (ref.pvalue < 0.001)
    assert srm_test(5400, 4600).mismatch and "mismatch" in srm_test(5400, 4600).message
    assert not srm_test(5000, 5010).mismatch
    empty = srm_test(0, 0)
    assert empty.p_value is None and not empty.mismatch and "cannot be checked" in empty.message


def test_benjamini_hochberg_matches_scipy_with_ties_and_missing():
    rng = np.random.default_rng(3)
    p = np.concatenate([rng.uniform(0, 1, 30), rng.uniform(0, 0.01, 10), [0.02, 0.02, 0.02, 1.0, 0.0]])
    rng.shuffle(p)
    q = benjamini_hochberg(list(p))
    assert q == pytest.approx(list(stats.false_discovery_control(p, method="bh")))
    with_none = benjamini_hochberg([0.01, None, 0.04, 0.03])
    ref = stats.false_discovery_control([0.01, 0.04, 0.03], method="bh")
    assert with_none[1] is None
    assert [with_none[0], with_none[2], with_none[3]] == pytest.approx(list(ref))
    assert benjamini_hochberg([]) == [] and benjamini_hochberg([None]) == [None]
    with pytest.raises(ValueError):
        benjamini_hochberg([1.5])
