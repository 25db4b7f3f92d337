"""The learned composite proxy's core (dashboard.metrics.composite_proxy) against independent
computations: numpy least squares on noiseless data, the population formula on a long simulated
history, explicit loops for leave-one-out and the composite's noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dashboard.metrics import composite_proxy as cp

COEF = np.array([0.6, 0.4, 0.0])
TRUE_COV = 1e-4 * np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.2], [0.2, 0.2, 1.0]])


def _truth(rng, n: int, resid: float = 0.002) -> np.ndarray:
    dk = rng.multivariate_normal(np.full(3, 0.002), TRUE_COV, n)
    return np.c_[dk @ COEF + rng.normal(0, resid, n), dk]


def test_noiseless_weights_are_the_least_squares_fit():
    rng = np.random.default_rng(3)
    z = _truth(rng, 40)
    f = cp.fit(z, np.zeros((40, 4, 4)))
    design = np.c_[np.ones(40), z[:, 1:]]
    ols = np.linalg.lstsq(design, z[:, 0], rcond=None)[0][1:]
    np.testing.assert_allclose(f.coefficients, ols, rtol=1e-6, atol=1e-9)
    # latent_correlation on noiseless data is the multiple correlation R of that fit
    r = np.corrcoef(z[:, 1:] @ ols, z[:, 0])[0, 1]
    assert f.latent_correlation == pytest.approx(r, rel=1e-6)
    # weights: the coefficients on standardised lifts, sum |w| = 1
    std = ols * z[:, 1:].std(axis=0, ddof=1)
    np.testing.assert_allclose(f.weights, std / np.abs(std).sum(), rtol=1e-6)
    assert np.abs(f.weights).sum() == pytest.approx(1.0)


def test_exact_linear_combination_is_recovered_exactly():
    rng = np.random.default_rng(4)
    z = _truth(rng, 30, resid=0.0)
    f = cp.fit(z, np.zeros((30, 4, 4)))
    np.testing.assert_allclose(f.coefficients, COEF, atol=1e-6)
    assert f.latent_correlation == pytest.approx(1.0)


def _noisy_history(rng, n):
    """True lifts plus noise whose target error is correlated 0.6 with the first candidate's (two
    metrics measured on the same users): naive least squares reads the shared noise as signal."""
    z = _truth(rng, n)
    se = np.array([0.006, 0.006, 0.008, 0.008])
    corr = np.eye(4)
    corr[0, 1] = corr[1, 0] = 0.6
    s = corr * np.outer(se, se)
    e = rng.multivariate_normal(np.zeros(4), s, n)
    return z + e, np.broadcast_to(s, (n, 4, 4)).copy(), z


def test_noise_and_shared_noise_are_corrected_population_formula():
    rng = np.random.default_rng(5)
    zo, s, _ = _noisy_history(rng, 20_000)
    f = cp.fit(zo, s)
    # independent: the population maximiser (Sigma_KK + Xi_KK)^-1 Sigma_K0 from the known parts
    sigma = np.zeros((4, 4))
    sigma[1:, 1:] = TRUE_COV
    sigma[1:, 0] = sigma[0, 1:] = TRUE_COV @ COEF
    xi = s[0]
    expected = np.linalg.solve(sigma[1:, 1:] + xi[1:, 1:], sigma[1:, 0])
    np.testing.assert_allclose(f.coefficients, expected, atol=0.02)
    naive = np.linalg.lstsq(np.c_[np.ones(len(zo)), zo[:, 1:]], zo[:, 0], rcond=None)[0][1:]
    assert naive[0] - expected[0] > 0.1  # the shared noise: what the correction removes
    # noise_weight 0: the latent-correlation maximiser Sigma_KK^-1 Sigma_K0 = the true coefficients
    np.testing.assert_allclose(cp.fit(zo, s, noise_weight=0.0).coefficients, COEF, atol=0.03)


def test_composite_lift_noise_and_leave_one_out_against_loops():
    rng = np.random.default_rng(6)
    zo, s, _ = _noisy_history(rng, 25)
    s[:, 2, 2] *= rng.uniform(0.5, 2.0, 25)  # experiments of different sizes
    coef = cp.fit(zo, s).coefficients
    lift, se, cov0 = cp.composite(zo, s, coef)
    for i in range(25):
        assert lift[i] == pytest.approx(zo[i, 1:] @ coef)
        assert se[i] == pytest.approx(np.sqrt(coef @ s[i, 1:, 1:] @ coef))
        assert cov0[i] == pytest.approx(coef @ s[i, 1:, 0])
    loo = cp.leave_one_out(zo, s)
    for i in (0, 7, 24):
        keep = np.arange(25) != i
        np.testing.assert_allclose(loo[i], cp.fit(zo[keep], s[keep]).coefficients, rtol=1e-10)


def test_sensitivity_and_validation_pieces():
    lift = np.array([0.02, -0.01, 0.001, 0.03])
    se = np.array([0.005, 0.004, 0.01, 0.02])
    q = stats.norm.ppf(0.975)
    assert cp.sensitivity(lift, se) == np.mean(np.abs(lift) / se > q) == 0.5
    rng = np.random.default_rng(8)
    zo, s, _ = _noisy_history(rng, 40)
    v = cp.validate(zo[:, 1], np.sqrt(s[:, 1, 1]), zo[:, 0], np.sqrt(s[:, 0, 0]), s[:, 1, 0])
    same = np.mean(np.sign(zo[:, 1]) == np.sign(zo[:, 0]))
    assert v.sign_agreement == pytest.approx(same) and v.n == 40
    assert v.correlation_ci[0] <= v.correlation <= v.correlation_ci[1]
    flipped = cp.single(zo, s, 1, sign=-1)
    assert flipped.correlation == pytest.approx(-cp.single(zo, s, 1).correlation, abs=0.02)
    assert cp.validate(zo[:15, 1], np.sqrt(s[:15, 1, 1]), zo[:15, 0], np.sqrt(s[:15, 0, 0]),
                       s[:15, 1, 0]).correlation is None  # below 20 experiments: not shown, with a note


def test_learn_out_of_sample_is_less_optimistic_and_weights_have_intervals():
    rng = np.random.default_rng(9)
    zo, s, _ = _noisy_history(rng, 45)
    r = cp.learn(zo, s, ["a", "b", "c"])
    lo, hi = r.weight_ci
    assert (lo <= r.fit.weights + 1e-12).all() and (r.fit.weights <= hi + 1e-12).all()
    assert r.out_of_sample.correlation <= r.in_sample.correlation + 1e-9
    np.testing.assert_allclose(r.loo_lift, np.einsum("ik,ik->i", zo[:, 1:], r.loo_coefficients))
    assert cp.target_itself(zo, s)["sensitivity"] == cp.sensitivity(zo[:, 0], np.sqrt(s[:, 0, 0]))


@pytest.mark.parametrize("lifts, noise, message", [
    (np.zeros((10, 1)), np.zeros((10, 1, 1)), "target \\+ candidates"),
    (np.ones((10, 3)), np.zeros((9, 3, 3)), "one 3x3 noise covariance per experiment"),
    (np.random.default_rng(0).normal(size=(4, 3)), np.zeros((4, 3, 3)), "only 4 experiments for 2"),
    (np.c_[np.random.default_rng(0).normal(size=(10, 2)), np.ones(10)], np.zeros((10, 3, 3)), "same in every"),
    (np.full((10, 3), np.nan), np.zeros((10, 3, 3)), "finite"),
])
def test_bad_histories_say_why(lifts, noise, message):
    with pytest.raises(cp.ProxyError, match=message):
        cp.fit(lifts, noise)


def test_noise_from_standard_errors_is_diagonal_and_unknown_is_zero():
    s = cp.noise_from_se(np.array([[0.1, np.nan], [0.2, 0.3]]))
    np.testing.assert_allclose(s[0], [[0.01, 0], [0, 0]])
    np.testing.assert_allclose(s[1], [[0.04, 0], [0, 0.09]])


def test_leave_one_out_q2_against_refitting_least_squares_on_noiseless_folds():
    """With no noise the fold's predictor is the least-squares line fitted without the experiment."""
    rng = np.random.default_rng(12)
    z = _truth(rng, 30)
    r = cp.learn(z, np.zeros((30, 4, 4)), ["a", "b", "c"])
    press = 0.0
    for i in range(30):
        keep = np.arange(30) != i
        beta = np.linalg.lstsq(np.c_[np.ones(29), z[keep, 1:]], z[keep, 0], rcond=None)[0]
        press += (z[i, 0] - beta[0] - z[i, 1:] @ beta[1:]) ** 2
    assert r.loo_q2 == pytest.approx(1 - press / ((z[:, 0] - z[:, 0].mean()) ** 2).sum(), rel=1e-6)


def test_weight_intervals_are_fieller_intervals_from_the_jackknife():
    """Each bound is where the pivot (s_k - w T) / se_J(s_k - w T) reaches the t(n - K - 1) quantile,
    s the standardised coefficients, T = sum |s|, se_J the textbook jackknife standard error over fits
    refitted without each experiment; the pivot is inside the quantiles between the bounds."""
    rng = np.random.default_rng(13)
    zo, s, _ = _noisy_history(rng, 30)
    r = cp.learn(zo, s, ["a", "b", "c"])
    folds = [(np.delete(zo, i, 0), np.delete(s, i, 0)) for i in range(30)]
    jack = np.array([cp.fit(z, v).coefficients * np.std(z[:, 1:], axis=0, ddof=1) for z, v in folds])
    full = r.fit.coefficients * np.std(zo[:, 1:], axis=0, ddof=1)
    q = stats.t.ppf(0.975, 26)

    def pivot(k, w):
        x = jack[:, k] - w * np.abs(jack).sum(1)
        se = np.sqrt(29 / 30 * ((x - x.mean()) ** 2).sum())
        return (full[k] - w * np.abs(full).sum()) / se

    for k in range(3):
        lo, hi = r.weight_ci[0][k], r.weight_ci[1][k]
        assert lo < r.fit.weights[k] < hi
        for bound, at in ((lo, q), (hi, -q)):  # a bound clipped at -1 or 1 (sum |w| = 1) is inside
            assert pivot(k, bound) == pytest.approx(at, rel=1e-6) if abs(bound) < 1 else abs(pivot(k, bound)) <= q
        assert abs(pivot(k, (lo + hi) / 2)) < q
    assert (np.abs(np.r_[r.weight_ci[0], r.weight_ci[1]]) < 1).sum() >= 4  # most bounds are roots, not clips
    # not the symmetric jackknife interval it replaced
    w_jack = jack / np.abs(jack).sum(1, keepdims=True)
    se = np.sqrt(29 / 30 * ((w_jack - w_jack.mean(0)) ** 2).sum(0))
    assert not np.allclose(r.weight_ci[1] - r.fit.weights, r.fit.weights - r.weight_ci[0], rtol=1e-3)
    assert not np.allclose(r.weight_ci[0], r.fit.weights - q * se, rtol=1e-3)


def test_weight_intervals_are_unbounded_when_the_denominator_is_noise():
    """A jackknife spread of sum |s| beyond T / q: every ratio fits, the interval is [-1, 1]."""
    fit = lambda c: cp.Fit(np.array(c, float), np.array([1.0, 1.0]), np.eye(3), np.ones(2), None)  # noqa: E731
    full = fit([0.1, 0.05])
    fits = [fit([0.1 + d, 0.05 - d]) for d in (-1.0, 1.0, -1.0, 1.0, 0.5, -0.5, 0.0)]
    lo, hi = cp.weight_intervals(full, fits)
    np.testing.assert_array_equal(lo, [-1, -1]) and np.testing.assert_array_equal(hi, [1, 1])
