"""Every number and numeric claim on chapter 5 (KL in practice), recomputed.

Closed forms derived by hand (Gaussian shift moments of k1, k2, k3; the coin counterexample
for k2; lambda*; the conjugate posterior and its step-size limit) are the references; where the
page prints a simulation, the test repeats it with the page's seed and checks the printed digits
and what the text says about them.
"""

import math

import numpy as np
import pytest
from scipy import optimize
from scipy.stats import betabinom, binom, multivariate_normal, norm

from klbook import cross_entropy, entropy, estimator_moments, gaussian_kl_gradient, kl_divergence, mc_kl
from klbook.core.estimators import f_divergence_samples, naive_kl_gradients
from klbook.book.learning import average_nll, empirical_pmf, finite_difference_gradient
from klbook.book.variational import LogisticRegressionModel, NormalNormalModel, vae_kl, vae_kl_gradient

P = norm(0, 1)


def test_first_estimates():
    out = {e: mc_kl(P, norm(1, 1), 10_000, estimator=e, seed=1) for e in ("k1", "k2", "k3")}
    assert kl_divergence(P, norm(1, 1)) == pytest.approx(0.5, abs=1e-15)
    assert f"{out['k1'].value:.4f} ± {out['k1'].stderr:.4f}" == "0.5109 ± 0.0100"
    assert f"{out['k2'].value:.4f}" == "0.6290" and f"{out['k3'].value:.4f}" == "0.5008"
    assert out["k1"].samples.min() < 0 and out["k3"].samples.min() >= 0 and out["k2"].samples.min() >= 0


@pytest.mark.parametrize("mu", [0.1, 1.0])
def test_estimator_moments_against_hand_derived_forms(mu):
    kl = mu**2 / 2
    m = {e: estimator_moments(P, norm(mu, 1), e) for e in ("k1", "k2", "k3")}
    assert m["k1"].relative_sd == pytest.approx(2 / mu, rel=1e-9)
    assert m["k2"].bias == pytest.approx(mu**4 / 8, rel=1e-9)
    assert m["k2"].relative_bias == pytest.approx(mu**2 / 4, rel=1e-9)
    assert m["k2"].relative_sd == pytest.approx(math.sqrt(2 + mu**2), rel=1e-9)
    assert m["k3"].sd ** 2 == pytest.approx(math.expm1(mu**2) - mu**2, rel=1e-8)
    assert abs(m["k3"].bias) < 1e-10 and m["k1"].kl == pytest.approx(kl, rel=1e-10)


def test_table_digits_and_text():
    rows = {}
    for mu in (0.1, 1.0):
        for e in ("k1", "k2", "k3"):
            rows[mu, e] = estimator_moments(P, norm(mu, 1), e)
    assert f"{rows[0.1, 'k1'].relative_sd:.3f}" == "20.000"
    assert f"{rows[0.1, 'k2'].relative_sd:.3f}" == "1.418" and f"{rows[0.1, 'k3'].relative_sd:.3f}" == "1.417"
    assert f"{rows[1.0, 'k2'].relative_bias:.4f}" == "0.2500" and f"{rows[1.0, 'k3'].relative_sd:.3f}" == "1.695"
    assert f"{rows[0.1, 'k2'].relative_bias:.4f}" == "0.0025"        # "a quarter of a percent"
    assert round((20 / 1.42) ** 2, -2) == 200                          # "about 200 times"
    # simulated columns within their sampling error
    for j, e in enumerate(("k1", "k2", "k3")):
        for mu in (0.1, 1.0):
            m = rows[mu, e]
            sim = mc_kl(P, norm(mu, 1), 400_000, estimator=e, seed=int(10 * mu) + j)
            assert abs((sim.value - m.mean) / m.kl) < 4 * m.relative_sd / math.sqrt(400_000)


def test_k2_can_underestimate():
    a = (1 - math.exp(-1)) / (math.exp(10) - math.exp(-1))
    p = np.array([1 - a, a])
    q = np.array([(1 - a) * math.exp(-1), a * math.exp(10)])
    assert abs(q.sum() - 1) < 1e-15 and f"{a:.2e}" == "2.87e-05"
    kl = kl_divergence(p, q)
    e_k2 = float(p @ (0.5 * np.log(q / p) ** 2))
    assert kl == pytest.approx(1 - 11 * a, rel=1e-12) and f"{kl:.2f}" == "1.00"
    assert e_k2 == pytest.approx(0.5 * (1 + 99 * a), rel=1e-12) and f"{e_k2:.2f}" == "0.50"


def test_f_divergence_table():
    q = norm(0.3, 0.9)
    x = P.rvs(size=10_000, random_state=np.random.default_rng(1))
    log_r = q.logpdf(x) - P.logpdf(x)
    exact = {"kl": math.log(0.9) + (1 + 0.09) / (2 * 0.81) - 0.5,       # KL(p||q), closed form
             "reverse_kl": math.log(1 / 0.9) + (0.81 + 0.09) / 2 - 0.5}  # KL(q||p)
    assert f"{exact['kl']:.4f}" == "0.0675" and f"{exact['reverse_kl']:.4f}" == "0.0554"
    for f in ("kl", "reverse_kl"):
        plain = f_divergence_samples(log_r, f, control_variate=False)
        recipe = f_divergence_samples(log_r, f)
        se_plain = plain.std(ddof=1) / 100
        se_rec = recipe.std(ddof=1) / 100
        assert abs(recipe.mean() - exact[f]) < se_rec                    # "within their standard errors"
        assert 2.5 < se_plain / se_rec < 4                                # "about three times smaller"
        assert recipe.min() >= 0


def test_naive_gradients():
    g = naive_kl_gradients(P, 1.0, 1.5, 200_000, seed=3)
    rev = gaussian_kl_gradient(P, 1.0, math.log(1.5), direction="reverse")[1][0]
    fwd = gaussian_kl_gradient(P, 1.0, math.log(1.5), direction="forward")[1][0]
    assert rev == pytest.approx(1.0, abs=1e-12)                          # theta / sigma_p^2
    assert fwd == pytest.approx(1.0 / 2.25, abs=1e-12) and f"{fwd:.4f}" == "0.4444"
    assert abs(g["k1"].value) < 3 * g["k1"].stderr
    assert abs(g["k2"].value - rev) < 3 * g["k2"].stderr
    assert abs(g["k3"].value - fwd) < 3 * g["k3"].stderr


def test_closed_forms_vs_monte_carlo_and_the_trap():
    cov3 = [[1.3, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]]
    a = multivariate_normal([0.0, 1.0, -0.5], cov3)
    b = multivariate_normal([0.3, 0.5, 0.0], np.eye(3))
    assert f"{kl_divergence(a, b):.5f}" == "0.40641"
    mc = mc_kl(a, b, 200_000, estimator="k3", seed=5)
    assert abs(mc.value - kl_divergence(a, b)) < 2 * mc.stderr
    pn, qw = norm(2, 0.5), norm(0, 1)
    assert f"{kl_divergence(pn, qw):.4f}" == "2.3181"
    assert f"{estimator_moments(pn, qw, 'k1').sd:.4f}" == "1.1319"
    with pytest.raises(ValueError, match="variance of k3"):
        estimator_moments(pn, qw, "k3")


def test_vae_term():
    rng = np.random.default_rng(8)
    prior = multivariate_normal(np.zeros(8), np.eye(8))
    for _ in range(5):
        mu = rng.normal(0.0, 1.0, size=8)
        sd = np.exp(rng.normal(0.0, 0.5, size=8))
        general = kl_divergence(multivariate_normal(mu, np.diag(sd**2)), prior)
        assert abs(vae_kl(mu, sd) - general) < 1e-14 * general
    assert [f"{vae_kl([m], [s]):.3f}" for m, s in [(0, 0.1), (0, 3.0), (2, 1.0)]] == ["1.808", "2.901", "2.000"]
    mu_z, rho_z = np.array([0.8, -0.3, 1.5]), np.log([0.5, 1.2, 0.9])
    _, g_mu, g_rho = vae_kl_gradient(mu_z, rho_z)
    fd = finite_difference_gradient(lambda t: vae_kl(t[:3], np.exp(t[3:])), np.concatenate([mu_z, rho_z]))
    assert np.max(np.abs(fd - np.concatenate([g_mu, g_rho]))) < 1e-9


def test_vae_collapse_solution():
    eta, s = 0.1, 0.05
    assert (1 - eta) * s + eta / s == pytest.approx(2.045)
    assert math.exp(-6) - 1 == pytest.approx(-0.9975, abs=5e-5)
    for e in (0.1, 0.5, 0.99):
        assert all((1 - e) * t + e / t > 0 for t in np.geomspace(1e-6, 1e6, 50))


def test_maximum_likelihood():
    data = betabinom(10, 2.0, 3.0).rvs(size=300, random_state=np.random.default_rng(6))
    k = np.arange(11)
    p_hat = empirical_pmf(data, 11)
    h = entropy(p_hat)
    assert f"{h:.6f}" == "2.250273"
    for t in np.linspace(0.03, 0.97, 471):
        nll = average_nll(binom(10, t), data)
        kl = kl_divergence(p_hat, binom(10, t).pmf(k))
        assert abs(nll - (kl + h)) < 1e-13 and abs(nll - cross_entropy(p_hat, binom(10, t).pmf(k))) < 1e-13
    opts = dict(bounds=(1e-6, 1 - 1e-6), method="bounded", options={"xatol": 1e-10})
    theta = optimize.minimize_scalar(lambda t: average_nll(binom(10, t), data), **opts).x
    assert f"{theta:.8f}" == "0.40566667" and abs(theta - data.mean() / 10) < 1e-8
    assert f"{kl_divergence(p_hat, binom(10, theta).pmf(k)):.4f}" == "0.3664"


@pytest.fixture(scope="module")
def nn_model():
    x = np.random.default_rng(11).normal(1.5, 1.0, size=8)
    return NormalNormalModel(x, prior_mean=0.0, prior_sd=2.0, noise_sd=1.0)


def test_conjugate_elbo(nn_model):
    post = nn_model.posterior()
    # conjugate update by hand
    prec = 1 / 4 + 8
    assert post.std() == pytest.approx(math.sqrt(1 / prec), rel=1e-14)
    assert post.mean() == pytest.approx(nn_model.data.sum() / prec, rel=1e-14)
    assert f"N({post.mean():.4f}, {post.std():.4f}^2)" == "N(1.6723, 0.3482^2)"
    lpx = nn_model.log_evidence()
    assert f"{lpx:.6f}" == "-11.411064"
    for m, s in [(0.0, 1.0), (2.5, 0.2), (1.0, 0.5), (post.mean(), post.std())]:
        assert abs(nn_model.elbo(m, s) + kl_divergence(norm(m, s), post) - lpx) < 1e-10
    path = nn_model.maximise_elbo(-2.5, 1.2, step=0.05, n_steps=120)
    assert f"{path.elbos[0]:.2f}" == "-87.42" and f"{path.elbos[-1]:.4f}" == "-11.4111"
    gaps = np.array([kl_divergence(norm(m, s), post) for m, s in zip(path.means, path.stds)])
    assert np.max(np.abs((lpx - path.elbos) - gaps)) < 1e-12


def test_step_size_limit(nn_model):
    s2 = nn_model.posterior().var()
    ok = nn_model.maximise_elbo(0.0, nn_model.posterior().std(), step=1.9 * s2, n_steps=200)
    bad = nn_model.maximise_elbo(0.0, nn_model.posterior().std(), step=2.1 * s2, n_steps=60)
    assert abs(ok.means[-1] - nn_model.posterior().mean()) < 1e-6
    assert abs(bad.means[-1] - nn_model.posterior().mean()) > 1.0


def test_gradient_comparison(nn_model):
    post = nn_model.posterior()
    m0, rho0 = 0.4, math.log(0.7)
    _, g_elbo = nn_model.elbo_gradient(m0, rho0)
    g_fit = gaussian_kl_gradient(post, m0, rho0, direction="reverse")[1]
    # by hand: d/dm = (m - m_n)/s_n^2, d/drho = s^2/s_n^2 - 1
    hand = np.array([(m0 - post.mean()) / post.var(), 0.49 / post.var() - 1])
    assert np.allclose(-g_elbo, hand, rtol=1e-13)
    assert np.max(np.abs(g_fit - hand) / np.abs(hand)) < 1e-12
    assert [f"{v:.8f}" for v in hand] == ["-10.49666252", "3.04250000"]
    h = 1e-5
    fd = [(kl_divergence(norm(m0 + h * a, math.exp(rho0 + h * b)), post)
           - kl_divergence(norm(m0 - h * a, math.exp(rho0 - h * b)), post)) / (2 * h) for a, b in [(1, 0), (0, 1)]]
    assert [f"{v:.8f}" for v in fd] == ["-10.49666252", "3.04250000"]


def test_lambda_star_exercise():
    assert f"{1 / (math.e - 1):.3f}" == "0.582"
    assert f"{math.sqrt(1 - 1 / (math.e - 1)):.3f}" == "0.647" and f"{math.sqrt(math.e - 2):.3f}" == "0.848"


def test_logistic_regression_section():
    rng = np.random.default_rng(3)
    x = np.round(rng.uniform(0, 4, size=16), 2)
    y = (rng.uniform(size=16) < 1 / (1 + np.exp(2.5 - 1.3 * x))).astype(int)
    assert 0 < y.sum() < 16
    lr = LogisticRegressionModel(x, y, prior_sd=2.0)
    assert f"{lr.log_evidence():.4f}" == "-12.6417"
    mean, cov = lr.posterior_moments()
    sd = np.sqrt(np.diag(cov))
    rho = cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])
    assert [f"{v:.3f}" for v in sd] == ["1.014", "0.496"] and f"{rho:.2f}" == "-0.85"
    mf, fr = lr.fit_vi("mean-field"), lr.fit_vi("full-rank")
    assert [f"{v:.3f}" for v in mf.std] == ["0.539", "0.265"]
    assert f"{mf.elbo:.4f}" == "-13.2702" and f"{mf.gap:.4f}" == "0.6285" and f"{mf.gap:.2f}" == "0.63"
    assert f"{fr.gap:.4f}" == "0.0064" and f"{fr.gap:.3f}" == "0.006" and fr.gap > 0
    assert f"{math.sqrt(1 - rho**2):.2f}" == "0.53"
    assert np.all(np.abs(mf.std / sd - 0.53) < 0.02)                   # "about half", sqrt(1 - rho^2)
    assert np.all(np.abs(mf.mean - mean) < 0.1 * sd)                   # "near the centre"
