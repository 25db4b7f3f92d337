"""Alignment statistics against scipy, brute force and simulation with a known truth."""

import math

import numpy as np
import pytest
from scipy import stats

from dashboard.metrics import alignment as al


def _points(seed=1, n=25, rho=0.6):
    rng = np.random.default_rng(seed)
    xy = rng.multivariate_normal([0.01, 0.002], [[1e-4, rho * 1e-4 * 0.5], [rho * 1e-4 * 0.5, 0.25e-4]], n)
    return xy[:, 0], xy[:, 1]


@pytest.mark.parametrize("seed,n", [(1, 4), (2, 10), (3, 45), (4, 200)])
def test_pearson_matches_scipy_estimate_p_and_interval(seed, n):
    x, y = _points(seed, n)
    got = al.pearson(x, y)
    ref = stats.pearsonr(x, y)
    ci = ref.confidence_interval(0.95)
    assert got.estimate == pytest.approx(ref.statistic, abs=1e-12)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert (got.ci_low, got.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(0, 1, 40), 1)  # many ties
    y = np.round(x + rng.normal(0, 1, 40), 0)
    got = al.spearman(x, y)
    ref = stats.spearmanr(x, y)
    assert got.estimate == pytest.approx(ref.statistic, abs=1e-12)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    se = math.sqrt((1 + ref.statistic ** 2 / 2) / 37)
    z = math.atanh(ref.statistic)
    assert got.ci_low == pytest.approx(math.tanh(z - 1.959963984540054 * se), abs=1e-9)
    assert got.ci_low < got.estimate < got.ci_high


def test_three_experiments_give_an_estimate_with_an_uninformative_interval():
    got = al.pearson([0.01, 0.02, 0.04], [0.0, 0.01, 0.03])
    assert got.estimate == pytest.approx(stats.pearsonr([0.01, 0.02, 0.04], [0.0, 0.01, 0.03]).statistic)
    assert (got.ci_low, got.ci_high) == (-1.0, 1.0)


@pytest.mark.parametrize("x,y,match", [
    ([0.01, 0.02], [0.0, 0.01], "only 2 experiment"),
    ([], [], "only 0 experiment"),
    ([0.01, 0.01, 0.01, 0.01], [0.1, 0.2, 0.0, 0.3], "first metric's lift is the same"),
    ([0.01, 0.02, 0.03], [0.5, 0.5, 0.5], "second metric's lift is the same"),
    ([0.01, float("nan"), 0.03], [0.1, 0.2, 0.3], "finite"),
])
def test_degenerate_histories_get_a_clear_message(x, y, match):
    for fn in (al.pearson, al.spearman, al.fit_line, al.noise_corrected):
        with pytest.raises(al.AlignmentError, match=match):
            fn(x, y)


def test_line_matches_linregress_and_prediction_interval_matches_matrix_form():
    x, y = _points(7, 30)
    line = al.fit_line(x, y)
    ref = stats.linregress(x, y)
    assert line.slope == pytest.approx(ref.slope, rel=1e-10)
    assert line.intercept == pytest.approx(ref.intercept, abs=1e-12)
    # independent form: var(new) = s^2 (1 + x0' (X'X)^-1 x0)
    design = np.c_[np.ones_like(x), x]
    beta, rss, *_ = np.linalg.lstsq(design, y, rcond=None)
    s2 = rss[0] / (x.size - 2)
    for x0 in (-0.02, 0.0, 0.013, 0.05):
        v = np.array([1.0, x0])
        half = stats.t.ppf(0.975, x.size - 2) * math.sqrt(s2 * (1 + v @ np.linalg.inv(design.T @ design) @ v))
        y_hat, lo, hi = line.predict(x0)
        assert y_hat == pytest.approx(v @ beta, abs=1e-12)
        assert (lo, hi) == pytest.approx((v @ beta - half, v @ beta + half), abs=1e-12)


def test_prediction_interval_covers_new_experiments_at_the_nominal_rate():
    rng = np.random.default_rng(11)
    hits = 0
    sims = 2000
    for _ in range(sims):
        x = rng.normal(0, 1, 12)
        y = 0.5 * x + rng.normal(0, 1, 12)
        x0 = rng.normal(0, 1)
        _, lo, hi = al.fit_line(x, y).predict(x0)
        hits += lo <= 0.5 * x0 + rng.normal(0, 1) <= hi
    assert 0.93 <= hits / sims <= 0.97


def test_leave_one_out_equals_refitting_without_each_experiment():
    x, y = _points(9, 15)
    got = al.leave_one_out_errors(x, y)
    for i in range(x.size):
        keep = np.arange(x.size) != i
        ref = stats.linregress(x[keep], y[keep])
        assert got[i] == pytest.approx(y[i] - ref.intercept - ref.slope * x[i], abs=1e-12)


def test_fisher_interval_covers_the_true_correlation_at_the_nominal_rate():
    rng = np.random.default_rng(3)
    rho, n, sims = 0.5, 20, 2000
    cov = [[1, rho], [rho, 1]]
    hits = 0
    for _ in range(sims):
        xy = rng.multivariate_normal([0, 0], cov, n)
        c = al.pearson(xy[:, 0], xy[:, 1])
        hits += c.ci_low <= rho <= c.ci_high
    assert 0.93 <= hits / sims <= 0.97


def _noisy_history(rng, n, rho, noise_scale):
    """True lifts with correlation rho (sd 1%), observed with per-experiment noise."""
    sd = 0.01
    truth = rng.multivariate_normal([0, 0], [[sd * sd, rho * sd * sd], [rho * sd * sd, sd * sd]], n)
    se_x = rng.uniform(0.5, 1.5, n) * sd * noise_scale
    se_y = rng.uniform(0.5, 1.5, n) * sd * noise_scale
    x = truth[:, 0] + rng.normal(0, se_x)
    y = truth[:, 1] + rng.normal(0, se_y)
    return x, y, se_x, se_y


def test_noise_correction_recovers_the_true_correlation_where_naive_is_attenuated():
    rng = np.random.default_rng(21)
    naive, corrected = [], []
    for _ in range(30):  # coverage at 20-120 experiments: tests/test_calibration_alignment.py
        x, y, se_x, se_y = _noisy_history(rng, 150, 0.7, 1.0)
        naive.append(al.pearson(x, y).estimate)
        corrected.append(al.noise_corrected(x, y, se_x, se_y).estimate)
    # noise variance ~ signal variance: naive shrinks to ~0.7 / (1 + 1.08) ~ 0.34
    assert np.mean(naive) == pytest.approx(0.34, abs=0.05)
    assert np.mean(corrected) == pytest.approx(0.7, abs=0.05)


def test_reml_maximum_equals_a_brute_force_optimisation():
    """The grid-and-Newton profile finds the same maximum as Nelder-Mead on all three parameters."""
    from scipy import optimize

    from dashboard.metrics import alignment_reml as reml
    rng = np.random.default_rng(5)
    for _ in range(4):
        x, y, se_x, se_y = _noisy_history(rng, 25, 0.5, 0.8)
        cov = 0.3 * se_x * se_y
        f = reml.fit(x, y, se_x ** 2, se_y ** 2, cov)
        sx, sy = x.std(ddof=1), y.std(ddof=1)
        data = ((x - x.mean()) / sx, (y - y.mean()) / sy, se_x ** 2 / sx ** 2, se_y ** 2 / sy ** 2, cov / (sx * sy))

        def neg(p):
            return -reml._loglik(np.array([p[0]]), np.array([p[1]]), np.array([np.tanh(p[2])]), data)[0]
        best = min((optimize.minimize(neg, s0, method="Nelder-Mead",
                                      options=dict(xatol=1e-8, fatol=1e-10, maxiter=4000))
                    for s0 in ([-1, -1, 0], [0, 0, 0.5], [-0.5, -0.5, -0.5])), key=lambda r: r.fun)
        if abs(np.tanh(best.x[2])) < 0.99:
            assert f.estimate == pytest.approx(np.tanh(best.x[2]), abs=2e-3)


def test_without_noise_the_reml_estimate_is_pearson():
    x, y = _points(4, 30)
    c = al.noise_corrected(x, y)
    assert c.estimate == pytest.approx(stats.pearsonr(x, y).statistic, abs=2e-3)
    assert c.reliability_x == pytest.approx(1.0)


def test_shared_noise_is_removed_not_read_as_correlation():
    """True lifts independent, noise correlated 0.6: ignoring the noise covariance reads it as signal."""
    rng = np.random.default_rng(12)
    n, ignore, use = 60, [], []
    for _ in range(12):
        truth = rng.normal(0, 0.01, (n, 2))
        se = rng.uniform(0.5, 1.5, n) * 0.01
        e = rng.normal(size=(n, 2))
        noise = np.c_[e[:, 0], 0.6 * e[:, 0] + 0.8 * e[:, 1]] * se[:, None]
        x, y = (truth + noise).T
        ignore.append(al.noise_corrected(x, y, se, se).estimate)
        use.append(al.noise_corrected(x, y, se, se, noise_cov=0.6 * se * se).estimate)
    assert np.mean(ignore) > 0.4
    assert abs(np.mean(use)) < 0.12


def test_short_history_says_not_available():
    x, y = _points(4, 12)
    c = al.noise_corrected(x, y)
    assert c.estimate is None and "not available below 20 experiments" in c.notes[0]


def test_noise_as_large_as_the_spread_is_reported_not_guessed():
    rng = np.random.default_rng(2)
    x, y = rng.normal(0, 0.01, 20), rng.normal(0, 0.01, 20)
    c = al.noise_corrected(x, y, np.full(20, 0.05), np.full(20, 0.001))
    assert c.estimate is None and "the proxy" in c.notes[0]


def test_relative_lift_covariance_matches_the_delta_method_by_simulation():
    """Covariance of two relative lifts from correlated per-user metrics: delta formula vs simulation."""
    rng = np.random.default_rng(4)
    n_c, n_t, reps = 400, 500, 6000
    mean_c, mean_t = np.array([2.0, 0.5]), np.array([2.1, 0.52])
    unit = np.array([[1.0, 0.3], [0.3, 0.25]])
    mc = rng.multivariate_normal(mean_c, unit / n_c, reps)
    mt = rng.multivariate_normal(mean_t, unit / n_t, reps)
    lifts = mt / np.abs(mc) - 1
    expected = np.cov(lifts.T)[0, 1]
    got = al.relative_lift_covariance(2.0, 2.1, 0.5, 0.52, 0.3, 0.3, n_c, n_t)
    assert got == pytest.approx(expected, rel=0.06)
    var = al.relative_lift_covariance(2.0, 2.1, 2.0, 2.1, 1.0, 1.0, n_c, n_t)
    from dashboard.metrics.experiments import relative_se
    assert var == pytest.approx(relative_se(2.0, 1.0, n_c, 2.1, 1.0, n_t) ** 2, rel=1e-12)


def test_sign_agreement_counts_and_wilson_interval_match_scipy():
    x = [0.02, 0.01, -0.01, 0.03, 0.0, -0.02, 0.01]
    y = [0.01, -0.01, -0.02, 0.02, 0.01, 0.01, 0.0]
    s = al.sign_agreement(x, y)
    assert (s.n, s.proxy_wins, s.proxy_wins_target_wins) == (5, 4, 2)
    assert s.share == pytest.approx(3 / 5)
    ci = stats.binomtest(3, 5).proportion_ci(0.95, method="wilson")
    assert (s.ci_low, s.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_history_warnings_for_short_history_and_extrapolation():
    assert any("short" in w for w in al.history_warnings([0.01, 0.02, 0.03]))
    w = al.history_warnings(np.linspace(-0.01, 0.02, 20), 0.08)
    assert len(w) == 1 and "outside the history" in w[0]
    assert al.history_warnings(np.linspace(-0.01, 0.02, 20), 0.0) == []


def _standardised(x, y, vx, vy, c):
    sx, sy = x.std(ddof=1), y.std(ddof=1)
    return tuple(a[None, None, :] for a in ((x - x.mean()) / sx, (y - y.mean()) / sy, vx / sx ** 2, vy / sy ** 2,
                                            c / (sx * sy)))


def test_interval_ends_lie_on_the_profile_cut():
    """Each end is where the profile (sds re-fitted) is chi2_1(0.95)/2 below its maximum, to 2e-3 in
    log-likelihood; the chord between grid points (the old reading) missed by up to ~0.04."""
    from scipy import optimize

    from dashboard.metrics import alignment_reml as reml
    rng = np.random.default_rng(8)
    for _ in range(3):
        x, y, se_x, se_y = _noisy_history(rng, 120, 0.3, 1.0)
        cov = 0.5 * se_x * se_y
        f = reml.fit(x, y, se_x ** 2, se_y ** 2, cov)
        data = _standardised(x, y, se_x ** 2, se_y ** 2, cov)

        def neg(p):
            return -reml._loglik(np.array([p[0]]), np.array([p[1]]), np.array([np.tanh(p[2])]), data)[0]
        top = -optimize.minimize(neg, [-0.5, -0.5, np.arctanh(f.estimate)], method="Nelder-Mead",
                                 options=dict(xatol=1e-9, fatol=1e-11, maxiter=4000)).fun
        for r in (f.ci_low, f.ci_high):
            value, _, _ = reml.profile(data, np.array([r]))
            assert top - value[0, 0] == pytest.approx(stats.chi2.ppf(0.95, 1) / 2, abs=2e-3)


def test_many_histories_at_once_give_the_same_numbers_as_one_at_a_time():
    rng = np.random.default_rng(9)
    hist = [_noisy_history(rng, 25, 0.4, 0.9) for _ in range(4)]
    x, y, se_x, se_y = (np.array(a) for a in zip(*hist))
    cov = 0.3 * se_x * se_y
    many = al.noise_corrected_many(x, y, se_x, se_y, cov)
    for k in range(4):
        one = al.noise_corrected(x[k], y[k], se_x[k], se_y[k], noise_cov=cov[k])
        assert (one.estimate is None) == (many[k].estimate is None)
        if one.estimate is not None:
            assert (many[k].estimate, many[k].ci_low, many[k].ci_high) == pytest.approx(
                (one.estimate, one.ci_low, one.ci_high), abs=1e-6)
