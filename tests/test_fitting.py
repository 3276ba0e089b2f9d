"""Tests of klbook.fit_gaussian and friends against independent references.

References: adaptive scipy quadrature of the KL integrand (tight tolerances,
breakpoints at the modes) minimised by Nelder-Mead; mpmath quadrature; central
finite differences of the quadrature objective; hand-derived Gaussian formulas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from klbook import (
    Distribution,
    FitResult,
    GaussianMixture,
    fit_factorised_gaussian,
    fit_gaussian,
    gaussian_kl,
    gaussian_kl_gradient,
)

W, M, S = [0.5, 0.5], [-2.0, 2.0], [0.6, 0.6]
P = GaussianMixture(W, M, S)


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def log_p_ref(x):
    """log p for the book's bimodal mixture, written out independently of klbook (scalar or array)."""
    a = -0.5 * ((x + 2.0) / 0.6) ** 2
    b = -0.5 * ((x - 2.0) / 0.6) ** 2
    return math.log(0.5) - math.log(0.6) - _HALF_LOG_2PI + np.logaddexp(a, b)


# Hand-written log densities of the scipy distributions used below (independent of scipy).
def log_logistic(loc, scale):
    def f(x):
        z = abs((x - loc) / scale)
        return -z - 2.0 * math.log1p(math.exp(-z)) - math.log(scale)

    return f


def log_t(df, loc, scale):
    c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi) - math.log(scale)
    return lambda x: c - (df + 1) / 2 * math.log1p(((x - loc) / scale) ** 2 / df)


def log_gumbel(x):
    return -x - math.exp(-x)


def log_cauchy(x):
    return -math.log(math.pi) - math.log1p(x * x)


def log_normal(m, s):
    return lambda x: -0.5 * ((x - m) / s) ** 2 - math.log(s) - _HALF_LOG_2PI


def reverse_kl_quad(logp, mu, sigma, breaks=(-2.0, 0.0, 2.0)):
    """KL(N(mu, sigma^2) || p) by adaptive scipy quadrature over x in mu +- 12 sigma (q's mass outside < 1e-32)."""

    def f(x):
        z = (x - mu) / sigma
        logq = -0.5 * z * z - math.log(sigma) - _HALF_LOG_2PI
        return math.exp(logq) * (logq - float(logp(x)))

    lo, hi = mu - 12 * sigma, mu + 12 * sigma
    pts = sorted({b for b in (*breaks, mu) if lo < b < hi})
    val, _ = integrate.quad(f, lo, hi, points=pts, limit=300, epsabs=1e-13, epsrel=1e-12)
    return val


def nelder_mead_reverse(logp, start, breaks=(-2.0, 0.0, 2.0)):
    """Reference reverse fit: Nelder-Mead over (mu, log sigma) on the quadrature objective."""
    obj = lambda t: reverse_kl_quad(logp, t[0], math.exp(t[1]), breaks)  # noqa: E731
    res = optimize.minimize(
        obj, start, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-14, "maxiter": 2000}
    )
    return res.x[0], math.exp(res.x[1]), res.fun


# ------------------------------------------------------------------- forward
def test_forward_fit_is_moment_matching_to_the_book_value():
    fit = fit_gaussian(P, direction="forward")
    # Var = sum w (s^2 + m^2) - 0^2, exactly 4.36 in rationals
    assert abs(fit.mean - 0.0) < 1e-12
    assert abs(fit.std**2 - 4.36) < 1e-6
    assert abs(fit.std**2 - 4.36) < 1e-13
    assert fit.direction == "forward" and fit.converged and fit.n_iter == 0
    np.testing.assert_allclose(fit.path, [[fit.mean, math.log(fit.std)]])


def test_forward_kl_matches_mpmath_quadrature():
    mp.mp.dps = 25
    lp = lambda t: mp.log(mp.fsum(mp.mpf(w) * mp.npdf(t, mp.mpf(m), mp.mpf(s)) for w, m, s in zip(W, M, S)))  # noqa: E731
    sd = mp.sqrt(mp.mpf("4.36"))
    lq = lambda t: mp.log(mp.npdf(t, 0, sd))  # noqa: E731
    ref = mp.quad(lambda t: mp.exp(v := lp(t)) * (v - lq(t)), [-mp.inf, -2, 0, 2, mp.inf])
    mp.mp.dps = 15
    fit = fit_gaussian(P, direction="forward")
    assert abs(fit.kl - float(ref)) < 1e-9


def test_forward_fit_of_scipy_distribution():
    p = stats.gamma(3.0, scale=2.0)  # mean a*scale = 6, variance a*scale^2 = 12
    fit = fit_gaussian(p, direction="forward")
    assert fit.mean == pytest.approx(6.0, abs=1e-12)
    assert fit.std**2 == pytest.approx(12.0, abs=1e-10)
    q = stats.norm(fit.mean, fit.std)
    ref, _ = integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), 0, np.inf, epsabs=1e-13, limit=200)
    assert fit.kl == pytest.approx(ref, abs=1e-9)


@pytest.mark.parametrize("mu, sigma", [(-1.0, 0.5), (0.0, 2.0880613), (1.5, 4.0)])
def test_forward_objective_matches_quadrature_and_is_smallest_at_moments(mu, sigma):
    q = stats.norm(mu, sigma)
    p_pdf = lambda x: np.exp(log_p_ref(x))  # noqa: E731
    ref, _ = integrate.quad(
        lambda x: p_pdf(x) * (log_p_ref(x) - q.logpdf(x)), -30, 30, points=[-2, 0, 2], epsabs=1e-13, limit=300
    )
    assert gaussian_kl(P, mu, sigma, direction="forward") == pytest.approx(ref, abs=1e-9)
    assert ref >= fit_gaussian(P).kl - 1e-12


# ------------------------------------------------------------------- reverse
@pytest.mark.parametrize("start, side", [(1.0, +1), (-1.0, -1)])
def test_reverse_fit_lands_on_the_mode_it_starts_near(start, side):
    fit = fit_gaussian(P, direction="reverse", init=(start, 1.0))
    ref_mu, ref_sd, ref_kl = nelder_mead_reverse(log_p_ref, [start, 0.0])
    assert np.sign(fit.mean) == side
    assert abs(fit.mean - ref_mu) < 1e-5
    assert abs(fit.std - ref_sd) < 1e-5
    assert abs(fit.kl - ref_kl) < 1e-8
    # close to one component N(+-2, 0.6^2), with KL close to log 2
    assert abs(fit.mean - 2.0 * side) < 0.01 and abs(fit.std - 0.6) < 0.01
    assert abs(fit.kl - math.log(2)) < 0.002
    assert fit.converged and fit.is_minimum


def test_reverse_path_starts_at_init_ends_at_optimum_and_descends():
    fit = fit_gaussian(P, direction="reverse", init=(0.5, 3.0))
    assert fit.path.shape[1] == 2 and fit.path.shape[0] == fit.kl_path.shape[0] >= 3
    np.testing.assert_allclose(fit.path[0], [0.5, math.log(3.0)])
    np.testing.assert_allclose(fit.path[-1], [fit.mean, math.log(fit.std)])
    assert np.all(np.diff(fit.kl_path) <= 1e-12)
    assert fit.kl_path[-1] == pytest.approx(fit.kl, abs=1e-15)
    for (mu, rho), k in zip(fit.path[::3], fit.kl_path[::3]):
        assert k == pytest.approx(reverse_kl_quad(log_p_ref, mu, math.exp(rho)), abs=1e-9)


def test_reverse_central_stationary_point_is_found_and_classified():
    # From a symmetric start the mean gradient vanishes by symmetry: the fit stays at mu = 0.
    fit = fit_gaussian(P, direction="reverse", init=(0.0, 2.0))
    assert abs(fit.mean) < 1e-8
    # Independent check of its nature: scan the quadrature objective around it.
    k0 = reverse_kl_quad(log_p_ref, 0.0, fit.std)
    assert fit.kl == pytest.approx(k0, abs=1e-9)
    neighbours = [reverse_kl_quad(log_p_ref, d, fit.std) for d in (-0.05, 0.05)]
    assert fit.is_minimum == all(n > k0 for n in neighbours)
    assert fit.kl > fit_gaussian(P, direction="reverse", init=(1.0, 1.0)).kl + 0.3


@pytest.mark.parametrize(
    "p, logp",
    [
        (stats.logistic(0.5, 1.2), log_logistic(0.5, 1.2)),
        (stats.t(4, loc=-1.0, scale=0.5), log_t(4, -1.0, 0.5)),
    ],
)
def test_reverse_fit_of_scipy_distributions_matches_nelder_mead(p, logp):
    fit = fit_gaussian(p, direction="reverse")
    ref_mu, ref_sd, ref_kl = nelder_mead_reverse(logp, [fit.mean + 0.3, math.log(fit.std) - 0.2], ())
    assert abs(fit.mean - ref_mu) < 1e-5
    assert abs(fit.std - ref_sd) < 1e-5
    assert abs(fit.kl - ref_kl) < 1e-8


def test_reverse_fit_of_gumbel_matches_hand_derived_optimum():
    # log p = -x - exp(-x): E_q[log p] = -mu - exp(-mu + sigma^2/2), so the reverse KL is
    # -log sigma - log(2 pi e)/2 + mu + exp(-mu + sigma^2/2); its gradient vanishes at sigma = 1, mu = 1/2.
    fit = fit_gaussian(stats.gumbel_r(), direction="reverse")
    assert fit.mean == pytest.approx(0.5, abs=1e-8)
    assert fit.std == pytest.approx(1.0, abs=1e-8)
    assert fit.kl == pytest.approx(1.5 - 0.5 * math.log(2 * math.pi * math.e), abs=1e-10)
    assert fit.kl == pytest.approx(reverse_kl_quad(log_gumbel, 0.5, 1.0, ()), abs=1e-10)


@pytest.mark.parametrize("init", [(2.0, 0.6), (2.5, 0.4), (1.2, 2.0), (3.5, 0.2)])
def test_reverse_optimum_does_not_depend_on_the_path(init):
    # BFGS alone stops wherever the gradient first drops below gtol (1e-9), a point that moves
    # with the start and, through the line search, with the last bits of exp and log on a given
    # CPU (the stored explorer HTML keeps 12 digits of it). The Newton polish puts every run on
    # the stationary point itself.
    ref = fit_gaussian(P, direction="reverse", init=(1.0, 1.0))
    fit = fit_gaussian(P, direction="reverse", init=init)
    assert abs(fit.mean - ref.mean) < 1e-13
    assert abs(fit.std - ref.std) < 1e-13
    assert max(np.max(np.abs(fit.grad)), np.max(np.abs(ref.grad))) < 1e-13
    np.testing.assert_allclose(fit.path[-1], [fit.mean, math.log(fit.std)], rtol=0, atol=1e-15)


@pytest.mark.parametrize("init", [None, (-1.0, 0.4), (2.0, 3.0)])
def test_polished_reverse_fit_of_gumbel_is_the_hand_derived_optimum(init):
    # Stationary point of -log sigma + mu + exp(-mu + sigma^2/2) (see the test above): (1/2, 1).
    fit = fit_gaussian(stats.gumbel_r(), direction="reverse", init=init)
    assert abs(fit.mean - 0.5) < 1e-12
    assert abs(fit.std - 1.0) < 1e-12


def test_reverse_fit_of_a_normal_recovers_it_exactly():
    fit = fit_gaussian(stats.norm(-0.4, 2.5), direction="reverse", init=(3.0, 0.3))
    assert fit.mean == pytest.approx(-0.4, abs=1e-8)
    assert fit.std == pytest.approx(2.5, abs=1e-8)
    assert fit.kl == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=12, deadline=None)
@given(
    m=st.floats(-5, 5),
    s=st.floats(0.2, 5),
    start=st.tuples(st.floats(-3, 3), st.floats(0.3, 3)),
)
def test_property_reverse_fit_of_any_normal_recovers_it(m, s, start):
    fit = fit_gaussian(stats.norm(m, s), direction="reverse", init=(m + start[0] * s, s * start[1]))
    assert fit.mean == pytest.approx(m, abs=1e-6 * s)
    assert fit.std == pytest.approx(s, rel=1e-6)


@pytest.mark.parametrize("mu, rho", [(1.0, 0.0), (0.2, 0.6), (-2.5, -0.7), (3.0, 1.2)])
@pytest.mark.parametrize("method", ["pathwise", "stein"])
def test_reverse_gradient_matches_finite_differences_of_quadrature(mu, rho, method):
    value, grad = gaussian_kl_gradient(P, mu, rho, direction="reverse", method=method)
    h = 1e-5
    f = lambda a, b: reverse_kl_quad(log_p_ref, a, math.exp(b))  # noqa: E731
    fd = [(f(mu + h, rho) - f(mu - h, rho)) / (2 * h), (f(mu, rho + h) - f(mu, rho - h)) / (2 * h)]
    assert value == pytest.approx(f(mu, rho), abs=1e-10)
    np.testing.assert_allclose(grad, fd, rtol=0, atol=2e-7)


def test_stein_gradient_for_scipy_p_matches_finite_differences():
    p = stats.logistic(0.5, 1.2)
    value, grad = gaussian_kl_gradient(p, 1.0, 0.3, direction="reverse")
    h = 1e-5
    f = lambda a, b: reverse_kl_quad(log_logistic(0.5, 1.2), a, math.exp(b), ())  # noqa: E731
    fd = [(f(1.0 + h, 0.3) - f(1.0 - h, 0.3)) / (2 * h), (f(1.0, 0.3 + h) - f(1.0, 0.3 - h)) / (2 * h)]
    np.testing.assert_allclose(grad, fd, rtol=0, atol=2e-7)


def test_forward_gradient_matches_finite_differences():
    value, grad = gaussian_kl_gradient(P, 0.7, 0.2, direction="forward")
    h = 1e-6
    f = lambda a, b: gaussian_kl(P, a, math.exp(b), direction="forward")  # noqa: E731
    fd = [(f(0.7 + h, 0.2) - f(0.7 - h, 0.2)) / (2 * h), (f(0.7, 0.2 + h) - f(0.7, 0.2 - h)) / (2 * h)]
    np.testing.assert_allclose(grad, fd, rtol=0, atol=1e-7)


def test_reverse_landscape_vectorised_matches_quadrature():
    mus = np.array([-3.0, -1.0, 0.0, 2.0])
    rhos = np.array([-1.0, 0.0, 1.0])
    grid = gaussian_kl(P, mus[:, None], np.exp(rhos)[None, :], direction="reverse")
    assert grid.shape == (4, 3)
    for i, mu in enumerate(mus):
        for j, rho in enumerate(rhos):
            assert grid[i, j] == pytest.approx(reverse_kl_quad(log_p_ref, mu, math.exp(rho)), abs=1e-9)


def test_reverse_kl_is_infinite_for_bounded_support():
    p = stats.beta(2.0, 3.0)
    assert gaussian_kl(p, 0.5, 0.2, direction="reverse") == math.inf
    with pytest.raises(ValueError, match="support"):
        fit_gaussian(p, direction="reverse")
    fwd = fit_gaussian(p, direction="forward")  # the forward fit exists
    assert fwd.mean == pytest.approx(0.4, abs=1e-12)


# ------------------------------------------------------------ argument checks
def test_argument_errors_are_clear():
    with pytest.raises(ValueError, match="direction"):
        fit_gaussian(P, direction="backward")
    with pytest.raises(ValueError, match="alpha"):
        fit_gaussian(P, direction="reverse", alpha=0.5)
    with pytest.raises(ValueError, match="init std"):
        fit_gaussian(P, direction="reverse", init=(0.0, -1.0))
    with pytest.raises(TypeError, match="pair"):
        fit_gaussian(P, direction="reverse", init=1.0)
    with pytest.raises(TypeError, match="continuous"):
        fit_gaussian(stats.poisson(3.0))
    with pytest.raises(TypeError):
        fit_gaussian([0.5, 0.5])
    with pytest.raises(ValueError, match="finite mean and variance"):
        fit_gaussian(stats.cauchy(), direction="forward")
    with pytest.raises(ValueError, match="std"):
        gaussian_kl(P, 0.0, 0.0, direction="reverse")
    with pytest.raises(TypeError, match="pathwise"):
        gaussian_kl_gradient(stats.norm(), 0.0, 0.0, method="pathwise")


def test_cauchy_reverse_fit_exists_though_forward_does_not():
    fit = fit_gaussian(stats.cauchy(), direction="reverse")
    ref_mu, ref_sd, ref_kl = nelder_mead_reverse(log_cauchy, [0.2, 0.1], ())
    assert abs(fit.mean) < 1e-7
    assert abs(fit.std - ref_sd) < 1e-5 and abs(fit.kl - ref_kl) < 1e-8


def test_fit_result_repr_and_q():
    fit = fit_gaussian(P, direction="reverse", init=(1.0, 1.0))
    assert isinstance(fit, FitResult)
    r = repr(fit)
    assert r.startswith("FitResult(direction='reverse'") and "0x" not in r
    assert fit.q.mean() == pytest.approx(fit.mean) and fit.q.std() == pytest.approx(fit.std)
    assert fit.log_std == pytest.approx(math.log(fit.std))


# --------------------------------------------------------- factorised fits
def _mp_gauss_kl(m0, c0, m1, c1):
    """KL(N(m0, c0) || N(m1, c1)), hand-derived closed form, in mpmath."""
    m0, m1 = mp.matrix(m0), mp.matrix(m1)
    c0, c1 = mp.matrix(c0), mp.matrix(c1)
    inv1 = c1**-1
    d = m1 - m0
    k = c0.rows
    tr = sum((inv1 * c0)[i, i] for i in range(k))
    quad = (d.T * inv1 * d)[0, 0]
    return (tr + quad - k + mp.log(mp.det(c1) / mp.det(c0))) / 2


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_factorised_fit_matches_nelder_mead_on_the_closed_form(direction):
    mean = [1.0, -0.5]
    cov = [[1.0, 0.9 * 1.0 * 0.8], [0.9 * 1.0 * 0.8, 0.64]]
    p = stats.multivariate_normal(mean, cov)
    fit = fit_factorised_gaussian(p, direction=direction)

    def obj(t):
        qc = [[math.exp(2 * t[2]), 0], [0, math.exp(2 * t[3])]]
        a = (mean, cov, list(t[:2]), qc) if direction == "forward" else (list(t[:2]), qc, mean, cov)
        return float(_mp_gauss_kl(*a))

    mp.mp.dps = 20
    res = optimize.minimize(obj, [0.0, 0.0, 0.0, 0.0], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 20000, "maxfev": 20000})
    mp.mp.dps = 15
    np.testing.assert_allclose(fit.mean, res.x[:2], atol=1e-6)
    np.testing.assert_allclose(fit.std, np.exp(res.x[2:]), atol=1e-6)
    assert fit.kl == pytest.approx(res.fun, abs=1e-9)
    # forward over-spreads, reverse under-spreads, relative to the marginals
    marg = np.sqrt(np.diag(cov))
    if direction == "forward":
        np.testing.assert_allclose(fit.std, marg, rtol=1e-14)
    else:
        assert np.all(fit.std < marg)
        np.testing.assert_allclose(fit.std, marg * math.sqrt(1 - 0.9**2), rtol=1e-12)


def test_factorised_fit_errors():
    with pytest.raises(TypeError, match="multivariate_normal"):
        fit_factorised_gaussian(stats.norm())
    with pytest.raises(ValueError, match="direction"):
        fit_factorised_gaussian(stats.multivariate_normal([0, 0], np.eye(2)), direction="alpha")


# ------------------------------------------------- forward by BFGS, integrands, ELBO
@pytest.mark.parametrize("start", [(1.0, 0.3), (-3.0, 5.0), (0.5, 2.0)])
def test_forward_bfgs_path_reaches_the_moments_from_any_start(start):
    fit = fit_gaussian(P, direction="forward", init=start, method="bfgs")
    assert fit.mean == pytest.approx(0.0, abs=1e-7)
    assert fit.std**2 == pytest.approx(4.36, abs=1e-7)
    np.testing.assert_allclose(fit.path[0], [start[0], math.log(start[1])])
    assert np.all(np.diff(fit.kl_path) <= 1e-12)
    assert fit.kl == pytest.approx(fit_gaussian(P, direction="forward").kl, abs=1e-12)
    # Hessian at the optimum, derived by hand from the closed-form objective: diag(1/var, 2)
    np.testing.assert_allclose(fit.hessian, [[1 / 4.36, 0], [0, 2]], atol=1e-5)


def test_method_argument_checks():
    with pytest.raises(ValueError, match="init"):
        fit_gaussian(P, direction="forward", method="bfgs")
    with pytest.raises(ValueError, match="no exact solution"):
        fit_gaussian(P, direction="reverse", method="exact")
    with pytest.raises(ValueError, match="method"):
        fit_gaussian(P, method="newton")
    with pytest.raises(ValueError, match="init"):
        fit_gaussian(P, direction="forward", method="gd")


def test_kl_integrand_pointwise_and_conventions():
    from klbook import kl_integrand

    q = stats.norm(0.5, 1.5)
    x = np.array([-40.0, -2.0, 0.0, 1.3, 2.0, 40.0])
    got = kl_integrand(P, q, x)
    lq = log_normal(0.5, 1.5)
    for xi, g in zip(x, got):
        ref = mp.exp(log_p_ref(xi)) * (mp.mpf(float(log_p_ref(xi))) - lq(xi))
        assert g == pytest.approx(float(ref), rel=1e-12, abs=1e-300)
    rev = kl_integrand(q, P, 0.0)
    assert rev == pytest.approx(math.exp(lq(0.0)) * (lq(0.0) - float(log_p_ref(0.0))), rel=1e-12)
    # its integral is the divergence
    val, _ = integrate.quad(lambda t: kl_integrand(P, q, t), -30, 30, points=[-2, 0, 2], limit=200)
    ref_kl, _ = integrate.quad(lambda t: math.exp(v := log_p_ref(t)) * (v - lq(t)), -30, 30,
                               points=[-2, 0, 2], limit=200)
    assert val == pytest.approx(ref_kl, abs=1e-10)
    # 0 log 0 = 0 outside p's support; p log(p/0) = inf outside q's
    u = stats.uniform(0, 1)
    assert kl_integrand(u, q, 2.0) == 0.0
    assert kl_integrand(stats.norm(), u, 2.0) == math.inf
    assert not np.signbit(kl_integrand(P, q, 100.0))


def test_neg_elbo_differs_from_reverse_kl_by_log_z_only():
    from klbook import gaussian_neg_elbo

    log_z = math.log(7.0)
    for mu, rho in [(1.0, 0.2), (-0.4, 0.8), (2.2, -0.5)]:
        v, g = gaussian_neg_elbo(lambda x: log_p_ref(x) + log_z, mu, rho)
        ref = reverse_kl_quad(log_p_ref, mu, math.exp(rho))
        assert v == pytest.approx(ref - log_z, abs=1e-9)
        h = 1e-5
        fd = [
            (reverse_kl_quad(log_p_ref, mu + h, math.exp(rho)) - reverse_kl_quad(log_p_ref, mu - h, math.exp(rho))) / (2 * h),
            (reverse_kl_quad(log_p_ref, mu, math.exp(rho + h)) - reverse_kl_quad(log_p_ref, mu, math.exp(rho - h))) / (2 * h),
        ]
        np.testing.assert_allclose(g, fd, atol=2e-7)
    with pytest.raises(TypeError):
        gaussian_neg_elbo(P, 0.0, 0.0)


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_gradient_descent_paths_descend_in_small_steps_to_the_same_minima(direction):
    start = (2.6, 2.0)
    gd = fit_gaussian(P, direction=direction, init=start, method="gd", gtol=1e-7, max_iter=5000)
    ref = fit_gaussian(P, direction=direction, init=start, method="bfgs")
    assert gd.converged
    assert gd.mean == pytest.approx(ref.mean, abs=1e-6) and gd.std == pytest.approx(ref.std, abs=1e-6)
    steps = np.linalg.norm(np.diff(gd.path, axis=0), axis=1)
    assert np.all(steps <= 0.1 + 1e-12)
    assert np.all(np.diff(gd.kl_path) <= 0)
    if direction == "reverse":  # independent check of the optimum value
        assert gd.kl == pytest.approx(reverse_kl_quad(log_p_ref, gd.mean, gd.std), abs=1e-9)


def test_alpha_quadrature_panels_are_one_gauss_legendre_rule_per_segment():
    """The alpha objective's quadrature nodes: one 12-point Gauss-Legendre panel per segment of
    the sorted edges, empty segments skipped, in order; exactly the nodes and weights of the
    rule mapped onto each segment one by one (the reference loop below), and exact for
    polynomials of degree <= 23 on the whole span."""
    from klbook.core.fitting import _panel_nodes

    t, wt = np.polynomial.legendre.leggauss(12)
    rng = np.random.default_rng(5)
    for trial in range(100):
        edges = np.sort(rng.normal(size=int(rng.integers(2, 200))) * 10.0 ** rng.uniform(-3, 3))
        if trial % 3 == 0:  # repeated edges give empty segments
            edges = np.sort(np.concatenate([edges, edges[: len(edges) // 2]]))
        xs, ws = [], []
        for a, b in zip(edges[:-1], edges[1:]):
            if b > a:
                xs.append(0.5 * (a + b) + 0.5 * (b - a) * t)
                ws.append(0.5 * (b - a) * wt)
        x, w = _panel_nodes(edges)
        np.testing.assert_array_equal(x, np.concatenate(xs))
        np.testing.assert_array_equal(w, np.concatenate(ws))
    edges = np.array([-3.0, -1.0, -1.0, 0.5, 2.0, 7.0])
    x, w = _panel_nodes(edges)
    assert x.size == 12 * 4
    for k in range(24):
        exact = (7.0 ** (k + 1) - (-3.0) ** (k + 1)) / (k + 1)
        assert math.isclose(float(np.dot(w, x**k)), exact, rel_tol=1e-12, abs_tol=1e-12 * 7.0 ** (k + 1))


class _Logistic:
    """A user's klbook distribution (the logistic at ``loc``), written as users write them."""

    def __init__(self, loc: float) -> None:
        self.loc = loc

    def logpdf(self, x):
        return stats.logistic(self.loc).logpdf(x)

    def cdf(self, x):
        return stats.logistic(self.loc).cdf(x)

    def ppf(self, u):
        return stats.logistic(self.loc).ppf(u)

    def rvs(self, size=None, random_state=None):
        return stats.logistic(self.loc).rvs(size=size, random_state=random_state)

    def mean(self):
        return self.loc

    def var(self):
        return math.pi**2 / 3

    def support(self):
        return (-math.inf, math.inf)


def test_alpha_fit_of_an_unhashable_user_distribution():
    # The alpha fit remembers its reverse-KL start per distribution object (weak keys): an object that
    # cannot be a key (a dataclass, or __eq__ without __hash__) must be fitted all the same, to the bit
    # of the same distribution as a hashable object (e1aa19f; 4e3f83d raised TypeError: unhashable type).
    @dataclass
    class Unhashable(_Logistic, Distribution):
        loc: float = 0.0

    class Hashable(_Logistic, Distribution):
        def __repr__(self) -> str:
            return f"Hashable({self.loc!r})"

    assert Unhashable.__hash__ is None
    got = fit_gaussian(Unhashable(0.3), direction="alpha", alpha=0.5)
    want = fit_gaussian(Hashable(0.3), direction="alpha", alpha=0.5)
    assert (got.mean, got.std) == (want.mean, want.std)
    assert got.mean == pytest.approx(0.3, abs=1e-9)   # a symmetric p: the fit is centred on it
