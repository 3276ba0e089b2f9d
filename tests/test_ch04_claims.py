"""Every number and numeric claim on chapter 4 (forward and reverse KL), recomputed.

References are independent where a closed form exists (moments of the mixture, the Gaussian
KL, the moment-matching minimum, Gauss-Hermite quadrature for the gradient identities, the
mean-field formulas); otherwise the test recomputes the page's quantity with the same call and
asserts the printed digits and the claim made about them.
"""

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats
from scipy.special import logsumexp

from klbook import (
    GaussianMixture,
    fit_factorised_gaussian,
    fit_gaussian,
    gaussian_kl,
    gaussian_kl_gradient,
    gaussian_neg_elbo,
    kl_divergence,
)
from klbook.book.learning import finite_difference_gradient


@pytest.fixture(scope="module")
def p():
    return GaussianMixture(weights=[0.5, 0.5], means=[-2.0, 2.0], stds=[0.6, 0.6])


@pytest.fixture(scope="module")
def fits(p):
    return {
        "forward": fit_gaussian(p, direction="forward"),
        "right": fit_gaussian(p, direction="reverse", init=(1.0, 1.0)),
        "left": fit_gaussian(p, direction="reverse", init=(-1.0, 1.0)),
        "centre": fit_gaussian(p, direction="reverse", init=(0.0, 2.0)),
    }


def _pdf(x):
    return 0.5 * stats.norm.pdf(x, -2, 0.6) + 0.5 * stats.norm.pdf(x, 2, 0.6)


def test_running_example(p):
    assert abs(p.mean()) < 1e-15 and math.isclose(p.var(), 0.6**2 + 2**2, rel_tol=1e-14)
    assert f"{_pdf(2.0):.4f}" == "0.3325" and f"{_pdf(0.0):.5f}" == "0.00257"
    assert f"{p.pdf(2.0):.4f}" == "0.3325" and f"{p.pdf(0.0):.5f}" == "0.00257"
    assert 4 / 0.6 > 6.5          # "about seven of their own standard deviations apart"


def test_candidate_table_and_rankings(p, fits):
    cands = [stats.norm(2.0, 0.6), stats.norm(0.0, 1.0), fits["forward"].q]
    fwd = [kl_divergence(p, q) for q in cands]
    rev = [kl_divergence(q, p) for q in cands]
    assert [f"{v:.4f}" for v in fwd] == ["10.4192", "1.4989", "0.5552"]
    assert [f"{v:.4f}" for v in rev] == ["0.6919", "2.1356", "1.2732"]
    assert f"{fits['forward'].std:.3f}" == "2.088"
    # one-bump: best by reverse, worst by forward; wide: best forward, second reverse; gap never best
    assert np.argmin(rev) == 0 and np.argmax(fwd) == 0
    assert np.argmin(fwd) == 2 and sorted(rev).index(rev[2]) == 1
    assert np.argmin(fwd) != 1 and np.argmin(rev) != 1


def test_integrand_statements(p):
    q = stats.norm(2.0, 0.6)
    # on the left bump q is smaller than p by more than e^20
    assert math.log(_pdf(-2.0) / q.pdf(-2.0)) > 20
    # on the right bump q = 2 p (up to the other component's leak): log-ratio -log 2
    assert abs(math.log(_pdf(2.0) / q.pdf(2.0)) + math.log(2)) < 1e-9


def test_gap_fractions(p, fits):
    """The page's draws, and the exact probabilities by root finding."""
    rng = np.random.default_rng(0)
    low = 0.01 * p.pdf(2.0)
    shares = []
    for dist in (p, fits["forward"].q, fits["right"].q):
        draws = dist.rvs(size=100_000, random_state=rng)
        shares.append(float(np.mean(p.pdf(draws) < low)))
    assert [f"{s:.1%}" for s in shares] == ["0.2%", "12.2%", "0.2%"]
    # exact: p < low on |x| < a (the gap) and |x| > b (the tails)
    f = lambda x: _pdf(x) - 0.01 * _pdf(2.0)
    a = optimize.brentq(f, 0.0, 2.0, xtol=1e-14)
    b = optimize.brentq(f, 2.0, 6.0, xtol=1e-14)
    sd = math.sqrt(4.36)
    exact_fwd = 2 * (stats.norm.cdf(a / sd) - 0.5) + 2 * stats.norm.sf(b / sd)
    assert abs(exact_fwd - 0.121) < 0.002
    assert abs(exact_fwd - 1 / 8) < 0.005                      # "one draw in eight"
    exact_p = 2 * 0.5 * (stats.norm.cdf(a, 2, 0.6) - stats.norm.cdf(-a, 2, 0.6)
                         + stats.norm.sf(b, 2, 0.6) + stats.norm.cdf(-b, 2, 0.6))
    assert 1 / 700 < exact_p < 1 / 350                         # "about one in five hundred"
    assert 1 / 700 < shares[2] < 1 / 350


def test_moment_matching(p, fits):
    f = fits["forward"]
    assert abs(f.mean) < 1e-12 and math.isclose(f.std**2, 4.36, rel_tol=1e-13)
    h_p = -integrate.quad(lambda x: _pdf(x) * math.log(_pdf(x)), -12, 12, epsabs=1e-13, limit=200)[0]
    minimum = 0.5 * math.log(2 * math.pi * math.e * 4.36) - h_p
    assert abs(f.kl - minimum) < 1e-9 and f"{f.kl:.6f}" == "0.555156"
    bfgs = fit_gaussian(p, direction="forward", init=(3.0, 0.3), method="bfgs")
    assert bfgs.converged and bfgs.n_iter < 25
    assert abs(bfgs.mean - f.mean) < 1e-8 and abs(bfgs.std**2 - f.std**2) < 1e-8
    assert f"{round(bfgs.mean, 6) + 0.0:.4f}" == "0.0000" and f"{bfgs.std**2:.6f}" == "4.360000"


def test_reverse_gradient_three_ways_and_by_parts_formula(p):
    mu, rho = 1.0, math.log(1.5)
    value, g_path = gaussian_kl_gradient(p, mu, rho, direction="reverse", method="pathwise")
    _, g_parts = gaussian_kl_gradient(p, mu, rho, direction="reverse", method="stein")
    g_fd = finite_difference_gradient(
        lambda t: gaussian_kl(p, t[0], math.exp(t[1]), direction="reverse"), np.array([mu, rho]))
    assert f"{value:.8f}" == "1.24062864"
    for g in (g_path, g_parts, g_fd):
        assert [f"{v:+.8f}" for v in g] == ["+0.04156127", "-0.05668808"]
    assert np.max(np.abs(g_path - g_parts)) < 1e-14          # "about 1e-15"
    assert np.max(np.abs(g_path - g_fd)) < 1e-9              # "about 1e-10"
    # the page's integration-by-parts formulas, by adaptive quadrature in z (independent of klbook)
    sigma = 1.5

    def g(t):
        return logsumexp([stats.norm.logpdf(t, -2, 0.6), stats.norm.logpdf(t, 2, 0.6)]) + math.log(0.5)

    kinks = [(-2 - mu) / sigma, -mu / sigma, (2 - mu) / sigma]
    opts = dict(points=kinks, limit=400, epsabs=1e-14)
    d_mu = -integrate.quad(lambda z: z * g(mu + sigma * z) * stats.norm.pdf(z), -40, 40, **opts)[0] / sigma
    d_rho = -1 - integrate.quad(lambda z: (z * z - 1) * g(mu + sigma * z) * stats.norm.pdf(z), -40, 40, **opts)[0]
    assert abs(d_mu - g_path[0]) < 1e-10 and abs(d_rho - g_path[1]) < 1e-10


def test_reverse_optima(fits):
    for name, sign in (("right", 1), ("left", -1)):
        f = fits[name]
        assert f.converged and f.n_iter < 20                   # "fewer than twenty BFGS steps"
        assert f"{f.mean:+.4f}" == f"{sign * 1.9971:+.4f}"
        assert f"{f.std:.4f}" == "0.6049" and f"{f.kl:.6f}" == "0.691836"
        assert f.kl < math.log(2) and 0 < 2 - abs(f.mean) < 0.01 and f.std > 0.6


def test_landscape_descent_ends_and_centre_minimum(p, fits):
    starts = [(-3.6, 3.8), (0.4, 4.2), (3.6, 0.22), (0.35, 0.25), (-1.3, 2.4), (2.6, 2.0)]
    expected_rev = ["(-2.00, 0.60)", "(+0.00, 1.79)", "(+2.00, 0.60)", "(+2.00, 0.60)",
                    "(-2.00, 0.60)", "(+2.00, 0.60)"]

    def where(f):
        return f"({round(f.mean, 2) + 0.0:+.2f}, {f.std:.2f})"

    for s, exp in zip(starts, expected_rev):
        fw = fit_gaussian(p, direction="forward", init=s, method="gd", gtol=1e-6, max_iter=5000)
        rv = fit_gaussian(p, direction="reverse", init=s, method="gd", gtol=1e-6, max_iter=5000)
        assert where(fw) == "(+0.00, 2.09)" and where(rv) == exp
    c = fits["centre"]
    eig = np.linalg.eigvalsh(c.hessian)
    assert f"{c.std:.4f}" == "1.7903" and f"{c.kl:.4f}" == "1.1384"
    assert [f"{e:.3f}" for e in eig] == ["0.312", "9.838"] and c.is_minimum
    r_eig = np.linalg.eigvalsh(fits["right"].hessian)
    assert [f"{e:.3f}" for e in r_eig] == ["1.855", "2.741"]
    assert c.kl > fits["right"].kl + 0.4                       # "well above the other two"


def test_mean_field_two_dimensions():
    rho = 0.9
    cov = np.array([[1.0, rho], [rho, 1.0]])
    p2 = stats.multivariate_normal(mean=[0.0, 0.0], cov=cov)
    fw = fit_factorised_gaussian(p2, direction="forward")
    rv = fit_factorised_gaussian(p2, direction="reverse")
    assert np.allclose(fw.std, 1.0, atol=1e-13)
    assert np.allclose(rv.std, math.sqrt(1 - rho**2), atol=1e-13)
    assert f"{rv.std[0]:.4f}" == "0.4359"
    closed = -0.5 * math.log(1 - rho**2)
    assert abs(fw.kl - closed) < 1e-12 and abs(rv.kl - closed) < 1e-12 and f"{closed:.4f}" == "0.8304"
    assert 5 < 1 / (1 - rho**2) < 5.5                            # "too small by a factor of about five"
    x = np.array([1.0, -1.0])
    assert f"{math.sqrt(x @ x):.1f}" == "1.4"                    # under q (unit marginals)
    assert f"{math.sqrt(x @ np.linalg.solve(cov, x)):.1f}" == "4.5"


def test_elbo_offset_is_log_7(p, fits):
    def log_p_tilde(t):
        return p.logpdf(t) + math.log(7.0)

    for mu, sigma in [(1.0, 1.0), (-0.5, 2.0), (fits["right"].mean, fits["right"].std)]:
        neg_elbo, g_elbo = gaussian_neg_elbo(log_p_tilde, mu, math.log(sigma))
        kl, g_kl = gaussian_kl_gradient(p, mu, math.log(sigma), direction="reverse")
        assert abs(kl - neg_elbo - math.log(7)) < 1e-10
        assert f"{kl - neg_elbo:.10f}" == "1.9459101491"
        assert np.max(np.abs(g_kl - g_elbo)) < 1e-12


def test_exercises():
    p_uneq = GaussianMixture([0.7, 0.3], [-2.0, 2.0], [0.6, 0.6])
    heavy = fit_gaussian(p_uneq, direction="reverse", init=(-2.0, 0.6))
    light = fit_gaussian(p_uneq, direction="reverse", init=(2.0, 0.6))
    assert f"{-math.log(0.7):.3f}" == "0.357" and f"{-math.log(0.3):.3f}" == "1.204"
    assert heavy.kl < -math.log(0.7) and light.kl < -math.log(0.3)
    assert -math.log(0.7) - heavy.kl < 0.02 and -math.log(0.3) - light.kl < 0.05
    assert heavy.kl < light.kl
    assert fit_gaussian(p_uneq, direction="reverse", init=(1.0, 1.0)).mean < -1.9
    fw = fit_gaussian(p_uneq, direction="forward")
    assert abs(fw.mean + 0.8) < 1e-12 and abs(fw.std**2 - 3.72) < 1e-12
    with pytest.raises(ValueError):
        fit_gaussian(stats.cauchy(), direction="forward")
    cauchy_rev = fit_gaussian(stats.cauchy(), direction="reverse")
    assert abs(cauchy_rev.mean) < 1e-6 and f"{cauchy_rev.std:.2f}" == "1.63" and cauchy_rev.std > 1
    assert math.isclose(stats.cauchy().entropy(), math.log(4 * math.pi), rel_tol=1e-12)
