"""Tests for klbook.book.variational: the Normal-Normal model and the VAE KL term.

References: mpmath quadrature of the joint density (evidence, posterior moments, ELBO),
scipy's multivariate normal for the evidence (x ~ N(m0 1, sigma^2 I + s0^2 1 1')),
mpmath numerical differentiation for gradients, and the KL of two normals derived by hand.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from klbook.book.variational import NormalNormalModel, vae_kl, vae_kl_gradient
from refs.store import RefStore

MP_DPS = 30  # this module's mpmath precision: tests/conftest.py sets it around each test
mp.mp.dps = MP_DPS  # (and for references computed at import)

DATA = [1.2, 0.4, 2.0, 1.1, 0.7, -0.3]


_JOINT_CONSTANTS: dict = {}


def _joint_constants(model):
    """The model's numbers as mpf and the constants of its log-joint, at the current precision.

    They do not depend on z: computed once per model and precision instead of at every
    quadrature node (the same values, so the same log-joint to the last digit)."""
    key = (id(model), mp.mp.prec)
    if key not in _JOINT_CONSTANTS:
        x = [mp.mpf(v) for v in model.data]
        s, s0, m0 = mp.mpf(model.noise_sd), mp.mpf(model.prior_sd), mp.mpf(model.prior_mean)
        _JOINT_CONSTANTS[key] = (model, x, 2 * s**2, mp.log(s), mp.log(2 * mp.pi) / 2, m0, 2 * s0**2, mp.log(s0))
    return _JOINT_CONSTANTS[key][1:]


def mp_log_joint(model, z):
    x, two_s2, log_s, half_log_2pi, m0, two_s02, log_s0 = _joint_constants(model)
    ll = mp.fsum(-((xi - z) ** 2) / two_s2 - log_s - half_log_2pi for xi in x)
    return ll - (z - m0) ** 2 / two_s02 - log_s0 - half_log_2pi


def mp_evidence(model):
    return mp.quad(lambda z: mp.exp(mp_log_joint(model, z)), [-mp.inf, 0, 1, mp.inf])


def mp_kl_normals(m1, s1, m2, s2):
    """KL(N(m1,s1^2) || N(m2,s2^2)) = log(s2/s1) + (s1^2 + (m1-m2)^2)/(2 s2^2) - 1/2 (by hand)."""
    m1, s1, m2, s2 = map(mp.mpf, (m1, s1, m2, s2))
    return mp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - mp.mpf(1) / 2


def mp_elbo_live(model, m, s):
    m, s = mp.mpf(m), mp.mpf(s)

    def integrand(z):
        logq = -((z - m) ** 2) / (2 * s**2) - mp.log(s) - mp.log(2 * mp.pi) / 2
        return mp.exp(logq) * (mp_log_joint(model, z) - logq)

    return mp.quad(integrand, [-mp.inf, m - 3 * s, m, m + 3 * s, mp.inf])


def mp_posterior_live(model):
    """The evidence and the posterior's mean and variance, by quadrature of the joint density."""
    ev = mp_evidence(model)
    mean = mp.quad(lambda z: z * mp.exp(mp_log_joint(model, z)), [-mp.inf, 0, 1, mp.inf]) / ev
    var = mp.quad(lambda z: (z - mean) ** 2 * mp.exp(mp_log_joint(model, z)), [-mp.inf, 0, 1, mp.inf]) / ev
    return ev, mean, var


MODELS = [
    NormalNormalModel(DATA, 0.0, 1.0, 1.0),
    NormalNormalModel(DATA, -1.0, 0.5, 2.0),
    NormalNormalModel([3.0], 2.0, 3.0, 0.7),
]
ELBO_POINTS = [(0.0, 1.0), (1.5, 0.2), (-2.0, 3.0)]

# The quadratures (0.05-0.15 CPU-s each at 30 digits) are stored in tests/refs/variational.json
# (tests/refs/store.py: keyed by the model and the quantity, with a hash of the code that computes them;
# python tests/refs/generate.py writes them); those of MODELS[0] (its posterior, and its ELBO at
# ELBO_POINTS[0]) are recomputed on every run and must equal the stored values.
STORE = RefStore("variational")
_CODE = (mp_log_joint, _joint_constants)


def _model_key(model):
    return repr((model.data.tolist(), model.prior_mean, model.prior_sd, model.noise_sd))


def mp_posterior(model):
    """(evidence, posterior mean, posterior variance) of ``model``, stored (live for MODELS[0])."""
    live = []  # the three quadratures, computed once when a value is wanted live

    def compute(i):
        if not live:
            live.append(mp_posterior_live(model))
        return live[0][i]

    return tuple(STORE.get(f"{_model_key(model)}: {name}", lambda i=i: compute(i), dps=MP_DPS,
                           code=(mp_posterior_live, mp_evidence, *_CODE), live=model is MODELS[0])
                 for i, name in enumerate(("evidence", "posterior mean", "posterior variance")))


def mp_elbo(model, m, s):
    """:func:`mp_elbo_live`, stored (live for MODELS[0] at ELBO_POINTS[0])."""
    return STORE.get(f"{_model_key(model)}: ELBO at {(m, s)!r}", lambda: mp_elbo_live(model, m, s), dps=MP_DPS,
                     code=(mp_elbo_live, *_CODE), live=model is MODELS[0] and (m, s) == ELBO_POINTS[0])


def test_stored_references_are_the_quadratures():
    STORE.check_keys({f"{_model_key(model)}: {name}" for model in MODELS
                      for name in ("evidence", "posterior mean", "posterior variance")}
                     | {f"{_model_key(model)}: ELBO at {ms!r}" for model in MODELS[:2] for ms in ELBO_POINTS})


@pytest.mark.parametrize("model", MODELS)
def test_evidence_and_posterior_against_quadrature(model):
    ev, mean, var = mp_posterior(model)
    assert model.log_evidence() == pytest.approx(float(mp.log(ev)), rel=1e-13)
    n = model.n
    cov = model.noise_sd**2 * np.eye(n) + model.prior_sd**2 * np.ones((n, n))
    assert model.log_evidence() == pytest.approx(
        float(multivariate_normal(np.full(n, model.prior_mean), cov).logpdf(model.data)), rel=1e-12
    )
    post = model.posterior()
    assert post.mean() == pytest.approx(float(mean), rel=1e-12, abs=1e-14)
    assert post.std() == pytest.approx(float(mp.sqrt(var)), rel=1e-12)
    z = np.array([-1.0, 0.5, 2.0])
    assert np.allclose(model.log_joint(z), [float(mp_log_joint(model, mp.mpf(v))) for v in z], rtol=1e-13)


@pytest.mark.parametrize("model", MODELS[:2])
@pytest.mark.parametrize("m, s", ELBO_POINTS)
def test_elbo_against_quadrature_and_the_identity(model, m, s):
    elbo = model.elbo(m, s)
    assert elbo == pytest.approx(float(mp_elbo(model, m, s)), rel=1e-12)
    post = model.posterior()
    # log p(x) = ELBO + KL(q || posterior), with the KL of two normals by hand
    kl = mp_kl_normals(m, s, post.mean(), post.std())
    assert model.log_evidence() == pytest.approx(elbo + float(kl), rel=1e-12)


def test_elbo_is_maximal_at_the_posterior_and_vectorises():
    model = MODELS[0]
    post = model.posterior()
    assert model.elbo(post.mean(), post.std()) == pytest.approx(model.log_evidence(), rel=1e-14)
    grid = model.elbo(np.array([0.0, post.mean(), 2.0]), np.array([[0.1], [post.std()], [1.0]]))
    assert grid.shape == (3, 3) and np.all(grid <= model.log_evidence() + 1e-12)
    with pytest.raises(ValueError, match="std"):
        model.elbo(0.0, 0.0)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("m, rho", [(0.0, 0.0), (1.5, -1.2), (-2.0, 0.8)])
def test_elbo_gradient_against_mpmath_differentiation(model, m, rho):
    value, g = model.elbo_gradient(m, rho)
    assert g.shape == (2,)
    post = model.posterior()

    def neg_kl(mm, rr):  # ELBO = log p(x) - KL(q || posterior): same gradient as -KL
        return -mp_kl_normals(mm, mp.exp(rr), post.mean(), post.std())

    gm = mp.diff(lambda t: neg_kl(t, rho), m)
    gr = mp.diff(lambda t: neg_kl(m, t), rho)
    assert g[0] == pytest.approx(float(gm), rel=1e-10, abs=1e-12)
    assert g[1] == pytest.approx(float(gr), rel=1e-10, abs=1e-12)
    assert value == pytest.approx(model.elbo(m, math.exp(rho)), rel=1e-15)


def test_maximise_elbo_converges_to_the_posterior():
    model = MODELS[0]
    path = model.maximise_elbo(-2.0, 2.0, step=0.05, n_steps=200)
    assert path.means.shape == path.stds.shape == path.elbos.shape == (201,)
    gaps = model.log_evidence() - path.elbos
    assert np.all(gaps >= -1e-12)
    assert np.all(np.diff(path.elbos) >= -1e-12)  # step below 1 / curvature: monotone ascent
    post = model.posterior()
    assert path.means[-1] == pytest.approx(post.mean(), abs=1e-9)
    assert path.stds[-1] == pytest.approx(post.std(), rel=1e-9)
    assert gaps[-1] < 1e-12 and gaps[0] > 1.0
    assert path.path.thetas.shape == (201, 2)


def test_elbo_mc_is_unbiased_for_the_elbo():
    model = MODELS[1]
    res = model.elbo_mc(0.3, 0.8, 100_000, seed=1)
    assert abs(res.value - model.elbo(0.3, 0.8)) < 5 * res.stderr
    post = model.posterior()
    at_post = model.elbo_mc(post.mean(), post.std(), 100, seed=2)
    # at the posterior, log p(x,z) - log q(z) = log p(x) for every z: zero variance
    assert np.allclose(at_post.samples, model.log_evidence(), rtol=1e-12)


def test_model_validation():
    with pytest.raises(ValueError, match="non-empty"):
        NormalNormalModel([])
    with pytest.raises(ValueError, match="non-empty"):
        NormalNormalModel([1.0, float("inf")])
    with pytest.raises(ValueError, match="prior_sd"):
        NormalNormalModel([1.0], prior_sd=0.0)
    with pytest.raises(ValueError, match="noise_sd"):
        NormalNormalModel([1.0], noise_sd=-1.0)
    with pytest.raises(ValueError, match="prior_mean"):
        NormalNormalModel([1.0], prior_mean=float("nan"))
    with pytest.raises(TypeError, match="real numbers"):
        NormalNormalModel(["a"])
    with pytest.raises(ValueError, match="step"):
        MODELS[0].maximise_elbo(0.0, 1.0, step=0.0, n_steps=3)
    with pytest.raises(ValueError, match="std0"):
        MODELS[0].maximise_elbo(0.0, -1.0, step=0.1, n_steps=3)


# ---------------------------------------------------------------- VAE term


def mp_vae_kl(mu, sigma):
    """(1/2) sum (mu^2 + sigma^2 - 1 - log sigma^2), at high precision.

    Written as mu^2 + (t - log1p(t)), t = (sigma - 1)(sigma + 1) = sigma^2 - 1: both parts are >= 0, so
    nothing of mu^2 is lost against the 1 (mu^2 + sigma^2 - 1 at 30 digits gave 0 for mu = 2.7e-74,
    sigma = 1), and t - log1p(t), which cancels about log10(1/|t|) digits, gets 200 more bits than the
    caller's precision (an mp.diff caller's included).
    """
    with mp.workprec(mp.mp.prec + 200):
        total = mp.mpf(0)
        for m, s in zip(mu, sigma):
            m, s = mp.mpf(m), mp.mpf(s)
            t = (s - 1) * (s + 1)
            total += (m**2 + (t - mp.log1p(t))) / 2
    return +total


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-5, 5), st.one_of(st.floats(0.05, 5.0), st.floats(1 - 1e-6, 1 + 1e-6))),
        min_size=1,
        max_size=6,
    )
)
@example(pairs=[(2.670260809791835e-74, 1.0)])  # mu^2/2 = 3.565e-148: the old reference's 30 digits gave 0
def test_vae_kl_against_mpmath(pairs):
    mu, sigma = [p[0] for p in pairs], [p[1] for p in pairs]
    want = float(mp_vae_kl(mu, sigma))
    got = vae_kl(mu, sigma)
    assert got == pytest.approx(want, rel=1e-13, abs=1e-300)
    assert got >= 0


def test_vae_kl_equals_the_multivariate_gaussian_kl():
    """Against the general KL(N(m0,S0) || N(m1,S1)) = (tr(S1^-1 S0) + m' S1^-1 m - d + log det S1/det S0)/2
    evaluated in mpmath with S0 = diag(sigma^2), m1 = 0, S1 = I."""
    mu, sigma = [0.5, -1.0, 2.0], [1.0, 0.3, 1.7]
    S0 = mp.diag([mp.mpf(s) ** 2 for s in sigma])
    m = mp.matrix(mu)
    want = (sum(S0[i, i] for i in range(3)) + (m.T * m)[0, 0] - 3 - mp.log(mp.det(S0))) / 2
    assert vae_kl(mu, sigma) == pytest.approx(float(want), rel=1e-14)


def test_vae_kl_batches_and_gradient():
    mu = np.array([[0.5, -1.0], [0.0, 0.0], [1.0, 2.0]])
    rho = np.array([[0.0, -1.2], [0.0, 0.0], [0.3, 0.1]])
    v = vae_kl(mu, np.exp(rho))
    assert v.shape == (3,) and v[1] == 0.0
    for i in range(3):
        assert v[i] == pytest.approx(float(mp_vae_kl(mu[i], np.exp(rho[i]))), rel=1e-13)
    value, gm, gr = vae_kl_gradient(mu, rho)
    assert np.allclose(value, v, rtol=1e-15)
    for i in range(3):
        for j in range(2):
            dm = mp.diff(lambda t: mp_vae_kl([t], [mp.exp(rho[i, j])]), mu[i, j])
            dr = mp.diff(lambda t: mp_vae_kl([mu[i, j]], [mp.exp(t)]), rho[i, j])
            assert gm[i, j] == pytest.approx(float(dm), rel=1e-12, abs=1e-15)
            assert gr[i, j] == pytest.approx(float(dr), rel=1e-12, abs=1e-15)


def test_vae_kl_errors():
    with pytest.raises(ValueError, match="std"):
        vae_kl([0.0], [0.0])
    with pytest.raises(ValueError, match="vectors"):
        vae_kl(0.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        vae_kl_gradient([float("nan")], [0.0])
