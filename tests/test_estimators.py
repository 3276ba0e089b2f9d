"""Tests for klbook.core.estimators (mc_kl, estimator_moments).

References are independent of the implementation: moments derived by hand for
p = N(0, 1), q = N(mu, 1) (see below), and mpmath quadrature / summation of the
per-sample functions at 20 significant digits.

Hand derivation, p = N(0,1), q = N(mu,1): the log-ratio is l = log q - log p =
mu x - mu^2/2, so under p, l ~ N(-mu^2/2, mu^2). Then
  KL       = E[-l] = mu^2/2,
  k1 = -l:   mean mu^2/2,             sd mu              (sd/KL = 2/mu),
  k2 = l^2/2: E[l^2] = mu^2 + mu^4/4,  bias mu^4/8        (bias/KL = mu^2/4),
             Var[l^2] = 4 m^2 s^2 + 2 s^4 with m = -mu^2/2, s^2 = mu^2,
             so sd = mu^2 sqrt(mu^2 + 2) / 2                (sd/KL = sqrt(mu^2 + 2)),
  k3 = e^l - 1 - l: E[e^l] = exp(m + s^2/2) = 1 so unbiased;
             Var[e^l] = e^{mu^2} - 1, Var[l] = mu^2, Cov[e^l, l] = (m + s^2) - m = mu^2 (Stein),
             so Var[k3] = e^{mu^2} - 1 - mu^2                (sd/KL = 2 sqrt(e^{mu^2} - 1 - mu^2) / mu^2).
"""

from __future__ import annotations

import math
from functools import lru_cache

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.stats import binom, multivariate_normal, norm, poisson, uniform

from klbook.core.estimators import (
    ESTIMATORS,
    MCResult,
    _k3_from_logr,
    estimator_moments,
    mc_kl,
    mc_kl_replicates,
    naive_kl_gradients,
    per_sample_kl,
)
from klbook.core.mixtures import GaussianMixture
from refs.store import RefStore

MP_DPS = 20  # this module's mpmath precision: tests/conftest.py sets it around each test
mp.mp.dps = MP_DPS  # (and for references computed at import)


# ---------------------------------------------------------------- references


def hand_moments(mu: float) -> dict[str, tuple[float, float, float]]:
    """(true KL, bias, sd) of one sample of each estimator for N(0,1) vs N(mu,1), by the formulas above."""
    mu = mp.mpf(mu)
    kl = mu**2 / 2
    return {
        "k1": (kl, mp.mpf(0), mu),
        "k2": (kl, mu**4 / 8, mu**2 * mp.sqrt(mu**2 + 2) / 2),
        "k3": (kl, mp.mpf(0), mp.sqrt(mp.expm1(mu**2) - mu**2)),
    }


def mp_k(l, estimator):
    if estimator == "k1":
        return -l
    if estimator == "k2":
        return l * l / 2
    return mp.expm1(l) - l


def _memo(f):
    """``f`` remembering its values: the four quadratures below share their tanh-sinh nodes,
    so each log-density is evaluated once per node instead of three times per node and moment."""
    seen = {}

    def g(x):
        if x not in seen:
            seen[x] = f(x)
        return seen[x]

    return g


def mp_moments_continuous(logp, logq, estimator, points=(-mp.inf, 0, mp.inf), fourth=True):
    """(KL, mean, variance, 4th central moment) of one sample, by mpmath quadrature.

    ``fourth=False`` skips the 4th moment (returned as None) for callers that do not use it."""
    logp, logq = _memo(logp), _memo(logq)

    def ex(g):
        return mp.quad(lambda x: g(x) * mp.exp(logp(x)), list(points))

    def l(x):
        return logq(x) - logp(x)

    kl = ex(lambda x: -l(x))
    mean = ex(lambda x: mp_k(l(x), estimator))
    var = ex(lambda x: (mp_k(l(x), estimator) - mean) ** 2)
    m4 = ex(lambda x: (mp_k(l(x), estimator) - mean) ** 4) if fourth else None
    return kl, mean, var, m4


def mp_moments_discrete(logp, logq, ks, estimator):
    def ex(g):
        return mp.fsum(g(k) * mp.exp(logp(k)) for k in ks)

    def l(k):
        return logq(k) - logp(k)

    kl = ex(lambda k: -l(k))
    mean = ex(lambda k: mp_k(l(k), estimator))
    var = ex(lambda k: (mp_k(l(k), estimator) - mean) ** 2)
    m4 = ex(lambda k: (mp_k(l(k), estimator) - mean) ** 4)
    return kl, mean, var, m4


def mp_norm_logpdf(m, s):
    m, s = mp.mpf(m), mp.mpf(s)
    c, h = -mp.log(s) - mp.log(2 * mp.pi) / 2, 1 / (2 * s**2)
    return lambda x: c - (x - m) ** 2 * h


def mp_binom_logpmf(n, prob):
    prob = mp.mpf(prob)
    return lambda k: mp.log(mp.binomial(n, k)) + k * mp.log(prob) + (n - k) * mp.log(1 - prob)


def mp_poisson_logpmf(lam):
    lam = mp.mpf(lam)
    return lambda k: k * mp.log(lam) - lam - mp.loggamma(k + 1)


# The quadratures of mp_moments_continuous (70 in all, 0.01-0.1 CPU-s each) are stored in
# tests/refs/estimators.json (tests/refs/store.py: keyed by the pair, the estimator and the moment, with a hash
# of the code that computes them; python tests/refs/generate.py writes them). One case of each group, the
# ones in MOMENTS_LIVE, is recomputed on every run and must equal the stored value.
STORE = RefStore("estimators")
N01 = ("norm", 0.0, 1.0)
MIX = ("mix", (0.4, 0.6), (-1.5, 1.0), (0.7, 0.9))  # test_gaussian_mixture_against_normal's p
MIX_Q = ("mix", (0.5, 0.5), (-1.0, 1.0), (1.0, 1.0))  # test_normal_against_gaussian_mixture_as_q's q
MOMENTS_LIVE = {(N01, ("norm", 1.0, 1.0), "k3"), (MIX, ("norm", 0.2, 1.1), "k3"), (N01, MIX_Q, "k3"),
                (N01, ("norm", 0.0, 1.4), "k3")}


def mp_logpdf(desc):
    """The mpmath log-density of ``("norm", mean, sd)`` or ``("mix", weights, means, sds)``."""
    return mp_norm_logpdf(*desc[1:]) if desc[0] == "norm" else _mp_mixture_logpdf(*desc[1:])


@lru_cache(maxsize=None)
def _moments_live(p, q, estimator, points, fourth):
    return mp_moments_continuous(mp_logpdf(p), mp_logpdf(q), estimator, points, fourth)


def moments(p, q, estimator, points=(-mp.inf, 0, mp.inf), fourth=True):
    """mp_moments_continuous for the pair described by ``p`` and ``q`` (see :func:`mp_logpdf`): (KL, mean,
    variance, 4th central moment or None), stored (recomputed live for the pairs in MOMENTS_LIVE)."""
    names = ("kl", "mean", "var", "m4") if fourth else ("kl", "mean", "var")
    live = (p, q, estimator) in MOMENTS_LIVE
    out = [STORE.get(moment_key(p, q, estimator, points, name),
                     lambda i=i: _moments_live(p, q, estimator, points, fourth)[i], dps=MP_DPS,
                     code=(mp_moments_continuous, mp_k, _memo, mp_logpdf, mp_norm_logpdf, _mp_mixture_logpdf),
                     live=live)
           for i, name in enumerate(names)]
    return (*out, None) if not fourth else tuple(out)


def moment_key(p, q, estimator, points, name):
    return f"{p!r} || {q!r}, {estimator}, points {[float(x) for x in points]!r}: {name}"


def assert_mc_agrees(res: MCResult, n: int, mean, var, m4, z: float = 5.0) -> None:
    """Sample mean within z standard errors of the exact mean, sample variance within z
    standard errors of the exact variance (SE of s^2 is sqrt((mu4 - sigma^4) / n))."""
    mean, var, m4 = float(mean), float(var), float(m4)
    assert res.samples.shape == (n,) and res.samples.dtype == np.float64
    assert res.value == pytest.approx(float(np.mean(res.samples)), rel=1e-12, abs=1e-15)
    se_mean = math.sqrt(var / n)
    assert abs(res.value - mean) < z * se_mean, (res.value, mean, se_mean)
    s2 = float(np.var(res.samples, ddof=1))
    se_var = math.sqrt(max(m4 - var * var, 0.0) / n)
    assert abs(s2 - var) < z * se_var, (s2, var, se_var)
    assert res.stderr == pytest.approx(math.sqrt(s2 / n), rel=1e-9)


# ---------------------------------------------------------------- exact moments, normal pair


HAND_MUS = [0.1, 1.0, 2.0]
MC_MUS = [0.1, 1.0]
MIX_PTS = (-mp.inf, -1.5, 0, 1.0, mp.inf)


def test_stored_references_are_the_quadratures():
    default = (-mp.inf, 0, mp.inf)
    cases = ([(N01, ("norm", mu, 1.0), e, default, 3) for mu in HAND_MUS for e in ESTIMATORS]
             + [(N01, ("norm", mu, 1.0), e, default, 4) for mu in MC_MUS for e in ESTIMATORS]
             + [(MIX, ("norm", 0.2, 1.1), e, MIX_PTS, 4) for e in ESTIMATORS]
             + [(N01, MIX_Q, "k3", default, 4), (N01, ("norm", 0.0, 1.4), "k3", default, 3)])
    STORE.check_keys({moment_key(p, q, e, pts, name) for p, q, e, pts, n in cases for name in ("kl", "mean", "var", "m4")[:n]})
    assert MOMENTS_LIVE <= {c[:3] for c in cases}


@pytest.mark.parametrize("mu", HAND_MUS)
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_hand_derivation_agrees_with_mpmath_quadrature(mu, estimator):
    kl_h, bias_h, sd_h = hand_moments(mu)[estimator]
    kl, mean, var, _ = moments(N01, ("norm", mu, 1.0), estimator, fourth=False)
    assert mp.almosteq(kl, kl_h, rel_eps=mp.mpf(10) ** -16)
    assert mp.almosteq(mean - kl, bias_h, rel_eps=mp.mpf(10) ** -15, abs_eps=mp.mpf(10) ** -18)
    assert mp.almosteq(mp.sqrt(var), sd_h, rel_eps=mp.mpf(10) ** -15)


def test_issue_ratios_for_the_normal_pair():
    """The ratios quoted in the issue: sd/KL of k1 is 2/mu, bias/KL of k2 is mu^2/4."""
    for mu in (0.1, 1.0):
        m1 = estimator_moments(norm(0, 1), norm(mu, 1), "k1")
        m2 = estimator_moments(norm(0, 1), norm(mu, 1), "k2")
        assert m1.kl == pytest.approx(mu**2 / 2, rel=1e-10)
        assert m1.relative_sd == pytest.approx(2 / mu, rel=1e-9)
        assert m2.relative_bias == pytest.approx(mu**2 / 4, rel=1e-8)


@pytest.mark.parametrize("mu", [0.1, 1.0, 2.0])
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_estimator_moments_normal_pair(mu, estimator):
    kl_h, bias_h, sd_h = (float(v) for v in hand_moments(mu)[estimator])
    m = estimator_moments(norm(0, 1), norm(mu, 1), estimator)
    assert m.estimator == estimator
    assert m.kl == pytest.approx(kl_h, rel=1e-10)
    assert m.bias == pytest.approx(bias_h, rel=1e-8, abs=1e-12 * kl_h)
    assert m.mean == pytest.approx(kl_h + bias_h, rel=1e-10)
    assert m.sd == pytest.approx(sd_h, rel=1e-9)
    assert m.relative_sd == pytest.approx(sd_h / kl_h, rel=1e-9)
    assert m.sd_of_mean(100) == pytest.approx(sd_h / 10, rel=1e-9)


@pytest.mark.parametrize("mu", MC_MUS)
@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_mc_kl_mean_and_sd_normal_pair(mu, estimator):
    n = 200_000
    kl, mean, var, m4 = moments(N01, ("norm", mu, 1.0), estimator)
    res = mc_kl(norm(0, 1), norm(mu, 1), n, estimator=estimator, seed=20240607)
    assert_mc_agrees(res, n, mean, var, m4)
    # and the exact sd is the hand-derived one
    assert math.sqrt(float(var)) == pytest.approx(float(hand_moments(mu)[estimator][2]), rel=1e-12)


def test_k2_bias_is_visible_by_sampling():
    """For mu = 2 the bias of k2 (mu^4/8 = 2) dwarfs the standard error: sampling shows it."""
    res = mc_kl(norm(0, 1), norm(2, 1), 100_000, estimator="k2", seed=3)
    kl, bias, _ = hand_moments(2.0)["k2"]
    assert abs(res.value - float(kl + bias)) < 5 * res.stderr
    assert res.value - float(kl) > 50 * res.stderr


# ---------------------------------------------------------------- per-sample accuracy


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.floats(-1e-6, 1e-6, allow_nan=False),
        st.floats(-2.0, 2.0, allow_nan=False),
        st.floats(-700.0, 700.0, allow_nan=False),
    )
)
def test_k3_per_sample_accuracy(l):
    got = float(_k3_from_logr(np.array([l]))[0])
    # e^l - 1 - l ~ l^2/2 loses about -2 log10|l| digits to cancellation: work with enough of them
    digits = 40 + (int(-2 * math.log10(abs(l))) if l != 0 else 0)
    with mp.workdps(max(digits, 40)):
        want = mp.expm1(mp.mpf(l)) - mp.mpf(l)
    assert got >= 0.0
    if want == 0:
        assert got == 0.0
    else:
        assert abs(got - float(want)) <= 4e-16 * float(want) + 1e-300


def test_k3_limits():
    out = _k3_from_logr(np.array([-np.inf, 0.0, -1e-300, 800.0]))
    assert out[0] == np.inf and out[1] == 0.0 and out[2] == 0.0 and out[3] == np.inf
    assert not np.any(np.isnan(out))


def test_k3_samples_are_exact_functions_of_the_log_ratio():
    """Same seed, same draws: the k1 samples give l = -k1, and k2, k3 must be l^2/2 and e^l - 1 - l."""
    p, q = norm(0.3, 1.2), norm(-0.5, 0.9)
    k1 = mc_kl(p, q, 2000, estimator="k1", seed=11).samples
    k2 = mc_kl(p, q, 2000, estimator="k2", seed=11).samples
    k3 = mc_kl(p, q, 2000, estimator="k3", seed=11).samples
    for a, b, c in zip(k1[:200], k2[:200], k3[:200]):
        l = -mp.mpf(float(a))
        assert float(b) == pytest.approx(float(l * l / 2), rel=1e-15)
        assert float(c) == pytest.approx(float(mp.expm1(l) - l), rel=1e-14)
    assert np.all(k3 >= 0.0)


# ---------------------------------------------------------------- other families


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_discrete_binomial_pair(estimator):
    p, q = binom(10, 0.3), binom(10, 0.5)
    kl, mean, var, m4 = mp_moments_discrete(mp_binom_logpmf(10, 0.3), mp_binom_logpmf(10, 0.5), range(11), estimator)
    m = estimator_moments(p, q, estimator)
    assert m.kl == pytest.approx(float(kl), rel=1e-13)
    assert m.mean == pytest.approx(float(mean), rel=1e-12)
    assert m.sd == pytest.approx(float(mp.sqrt(var)), rel=1e-12)
    n = 100_000
    assert_mc_agrees(mc_kl(p, q, n, estimator=estimator, seed=5), n, mean, var, m4)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_discrete_poisson_pair_infinite_support(estimator):
    p, q = poisson(3.0), poisson(4.5)
    kl, mean, var, m4 = mp_moments_discrete(mp_poisson_logpmf(3), mp_poisson_logpmf(4.5), range(150), estimator)
    # the poisson closed form, 3 log(3/4.5) + 4.5 - 3, as a second reference for the KL itself
    assert mp.almosteq(kl, 3 * mp.log(mp.mpf(3) / mp.mpf(4.5)) + mp.mpf(1.5), rel_eps=mp.mpf(10) ** -17)
    m = estimator_moments(p, q, estimator)
    assert m.kl == pytest.approx(float(kl), rel=1e-12)
    assert m.mean == pytest.approx(float(mean), rel=1e-12)
    assert m.sd == pytest.approx(float(mp.sqrt(var)), rel=1e-12)
    n = 100_000
    assert_mc_agrees(mc_kl(p, q, n, estimator=estimator, seed=6), n, mean, var, m4)


def _mp_mixture_logpdf(weights, means, stds):
    comps = [(mp.mpf(w) / (mp.sqrt(2 * mp.pi) * s), mp.mpf(m), 1 / (2 * mp.mpf(s) ** 2)) for w, m, s in zip(weights, means, stds)]
    return lambda x: mp.log(mp.fsum(c * mp.exp(-((x - m) ** 2) * h) for c, m, h in comps))


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_gaussian_mixture_against_normal(estimator):
    # q^2/p must be integrable for Var[k3]: sd_q^2 < 2 * 0.9^2 = 1.62 (checked below)
    p, q = GaussianMixture(*MIX[1:]), norm(0.2, 1.1)
    kl, mean, var, m4 = moments(MIX, ("norm", 0.2, 1.1), estimator, MIX_PTS)
    mo = estimator_moments(p, q, estimator)
    assert mo.kl == pytest.approx(float(kl), rel=1e-9)
    assert mo.mean == pytest.approx(float(mean), rel=1e-9)
    assert mo.sd == pytest.approx(float(mp.sqrt(var)), rel=1e-9)
    n = 100_000
    assert_mc_agrees(mc_kl(p, q, n, estimator=estimator, seed=7), n, mean, var, m4)
    if estimator == "k3":
        with pytest.raises(ValueError, match="variance of k3"):
            estimator_moments(p, norm(0.2, 1.3), "k3")


def test_normal_against_gaussian_mixture_as_q():
    p, q = norm(0, 1), GaussianMixture(*MIX_Q[1:])
    kl, mean, var, m4 = moments(N01, MIX_Q, "k3")
    assert estimator_moments(p, q, "k3").sd == pytest.approx(float(mp.sqrt(var)), rel=1e-9)
    n = 100_000
    assert_mc_agrees(mc_kl(p, q, n, estimator="k3", seed=8), n, mean, var, m4)


def test_unequal_variances_quadrature_and_infinite_variance():
    """Var[k3] involves E_p[r^2] = int q^2/p, finite for N(0,1) vs N(0, s^2) iff s^2 < 2."""
    kl, mean, var, _ = moments(N01, ("norm", 0.0, 1.4), "k3", fourth=False)
    m = estimator_moments(norm(0, 1), norm(0, 1.4), "k3")
    assert m.kl == pytest.approx(float(kl), rel=1e-10)
    assert m.sd == pytest.approx(float(mp.sqrt(var)), rel=1e-8)
    with pytest.raises(ValueError, match="variance of k3"):
        estimator_moments(norm(0, 1), norm(0, 1.5), "k3")
    # k1 and k2 have all moments there
    assert math.isfinite(estimator_moments(norm(0, 1), norm(0, 1.5), "k2").sd)


def _mp_mvn_kl(m0, S0, m1, S1):
    """KL(N(m0,S0) || N(m1,S1)) = (tr(S1^-1 S0) + d' S1^-1 d - k + log det S1 - log det S0) / 2, in mpmath."""
    m0, m1, S0, S1 = mp.matrix(m0), mp.matrix(m1), mp.matrix(S0), mp.matrix(S1)
    inv = S1**-1
    d = m1 - m0
    k = S0.rows
    tr = mp.fsum((inv * S0)[i, i] for i in range(k))
    quad = (d.T * inv * d)[0, 0]
    return (tr + quad - k + mp.log(mp.det(S1)) - mp.log(mp.det(S0))) / 2


@pytest.mark.parametrize("estimator", ["k1", "k3"])
def test_multivariate_normal_unbiased(estimator):
    m0, S0 = [0.0, 1.0], [[1.0, 0.3], [0.3, 0.5]]
    m1, S1 = [0.5, 0.5], [[1.2, -0.2], [-0.2, 0.8]]
    kl = float(_mp_mvn_kl(m0, S0, m1, S1))
    res = mc_kl(multivariate_normal(m0, S0), multivariate_normal(m1, S1), 100_000, estimator=estimator, seed=9)
    assert res.samples.shape == (100_000,)
    assert abs(res.value - kl) < 5 * res.stderr


def test_multivariate_normal_dimension_one_and_small_n():
    res = mc_kl(multivariate_normal([0.0], [[1.0]]), multivariate_normal([1.0], [[1.0]]), 2, seed=1)
    assert res.samples.shape == (2,)
    res = mc_kl(multivariate_normal([0.0, 0.0]), multivariate_normal([1.0, 0.0]), 2, seed=1)
    assert res.samples.shape == (2,)


# ---------------------------------------------------------------- supports, property test


def test_q_missing_part_of_p_gives_inf_not_nan():
    res = mc_kl(uniform(0, 2), uniform(0, 1), 1000, estimator="k3", seed=0)
    beyond = res.samples == np.inf
    assert 300 < beyond.sum() < 700 and not np.any(np.isnan(res.samples))
    # where q covers the sample, l = log(1) - log(1/2) = log 2 and k3 = 2 - 1 - log 2
    assert np.allclose(res.samples[~beyond], float(1 - mp.log(2)), rtol=1e-15, atol=0)
    assert res.value == math.inf and res.stderr == math.inf
    with pytest.raises(ValueError, match="infinite"):
        estimator_moments(uniform(0, 2), uniform(0, 1), "k1")


def test_q_wider_than_p_constant_ratio_and_biased_k3():
    """p = U(0,1), q = U(-1,2): r = 1/3 on p's support, so k1 = log 3 exactly (zero variance) and
    E_p[r] = 1/3, not 1: k3 underestimates by 1 - 1/3 = 2/3 (q has mass where p has none)."""
    p, q = uniform(0, 1), uniform(-1, 3)
    res = mc_kl(p, q, 100, estimator="k1", seed=0)
    assert np.allclose(res.samples, math.log(3), rtol=1e-15) and res.stderr < 1e-15
    m = estimator_moments(p, q, "k3")
    assert m.kl == pytest.approx(math.log(3), rel=1e-12)
    assert m.bias == pytest.approx(-2 / 3, rel=1e-12)
    assert m.sd == pytest.approx(0.0, abs=1e-12)


def normal_k3_moments(sp, sq, dm):
    r"""Var_p(log r) and Var_p(k3) for p = N(0, sp^2), q = N(dm, sq^2), r = q/p, k3 = r - 1 - log r, hand-derived.

    With z ~ p, :math:`\log r = \alpha z^2 + \beta z + c`, :math:`\alpha = 1/(2s_p^2) - 1/(2s_q^2)`,
    :math:`\beta = d/s_q^2`, so :math:`\mathrm{Var}(\log r) = 2\alpha^2 s_p^4 + \beta^2 s_p^2`. Since
    :math:`E_p[r\,f] = E_q[f]`, :math:`E_p[(r-1)\log r] = D(q\|p) + D(p\|q)`, so
    :math:`\mathrm{Var}(k_3) = (E_p[r^2] - 1) - 2(D(p\|q) + D(q\|p)) + \mathrm{Var}(\log r)`,
    with :math:`E_p[r^2] = \int q^2/p = \frac{s_p}{\sqrt{2\pi}s_q^2}\sqrt{\pi/A}\,e^{B^2/(4A) + C}`,
    :math:`A = 1/s_q^2 - 1/(2s_p^2)` (> 0 for :math:`s_q < \sqrt2 s_p`), :math:`B = 2d/s_q^2`, :math:`C = -d^2/s_q^2`.
    """
    sp, sq, dm = mp.mpf(sp), mp.mpf(sq), mp.mpf(dm)
    alpha, beta = 1 / (2 * sp**2) - 1 / (2 * sq**2), dm / sq**2
    var_log = 2 * alpha**2 * sp**4 + beta**2 * sp**2
    kl_pq = mp.log(sq / sp) + (sp**2 + dm**2) / (2 * sq**2) - mp.mpf(0.5)
    kl_qp = mp.log(sp / sq) + (sq**2 + dm**2) / (2 * sp**2) - mp.mpf(0.5)
    A, B, C = 1 / sq**2 - 1 / (2 * sp**2), 2 * dm / sq**2, -(dm**2) / sq**2
    r2 = sp / (mp.sqrt(2 * mp.pi) * sq**2) * mp.sqrt(mp.pi / A) * mp.exp(B**2 / (4 * A) + C)
    return float(var_log), float((r2 - 1) - 2 * (kl_pq + kl_qp) + var_log)


@settings(max_examples=20, deadline=None)
@given(
    mp_=st.floats(-2, 2),
    sp=st.floats(0.5, 2.0),
    dm=st.floats(-1.5, 1.5),
    ratio=st.floats(0.8, 1.3),
    seed=st.integers(0, 2**32 - 1),
)
# log r ~ N(-4.5, 3^2): r is lognormal with sd 90, k3 was 8.4 sample standard errors off
@example(mp_=0.0, sp=0.5, dm=1.5, ratio=1.0, seed=224)
def test_k1_k3_unbiased_for_random_normal_pairs(mp_, sp, dm, ratio, seed):
    sq = sp * ratio
    # KL of two normals, hand-derived: log(sq/sp) + (sp^2 + dm^2) / (2 sq^2) - 1/2
    kl = float(mp.log(mp.mpf(sq) / sp) + (mp.mpf(sp) ** 2 + mp.mpf(dm) ** 2) / (2 * mp.mpf(sq) ** 2) - mp.mpf(0.5))
    p, q = norm(mp_, sp), norm(mp_ + dm, sq)
    n = 20_000
    # k1 = -log r is a quadratic of a normal: light tails, the CLT and the sample standard error hold.
    res = mc_kl(p, q, n, estimator="k1", seed=seed)
    assert abs(res.value - kl) < 5.5 * res.stderr + 1e-12
    # k3 = r - 1 - log r has r's tail: lognormal-like with sd(log r) up to ~4 here. Where sd(log r) <= 1
    # (r's skewness <= 6.2, the mean's <= 0.05 at this n) and sq^2 < 4/3 sp^2 (E_p[r^4] finite, so the
    # sample variance converges) the CLT and the sample standard error hold as for k1. Elsewhere the
    # sample misses r's rare huge values and understates the error; the exact variance does not:
    # Chebyshev, P(|mean - KL| >= 30 sd/sqrt(n)) <= 1/900 for every distribution with that variance.
    var_log, var_k3 = normal_k3_moments(sp, sq, dm)
    res = mc_kl(p, q, n, estimator="k3", seed=seed)
    if var_log <= 1.0 and sq**2 < 4 / 3 * sp**2:
        assert abs(res.value - kl) < 5.5 * res.stderr + 1e-12
    else:
        assert abs(res.value - kl) < 30 * math.sqrt(var_k3 / n) + 1e-12
    assert np.all(mc_kl(p, q, 1000, estimator="k3", seed=seed).samples >= 0)


# ---------------------------------------------------------------- seeds and errors


def test_seeds_reproduce_and_generators_are_used():
    a = mc_kl(norm(0, 1), norm(1, 1), 50, seed=123).samples
    b = mc_kl(norm(0, 1), norm(1, 1), 50, seed=123).samples
    c = mc_kl(norm(0, 1), norm(1, 1), 50, seed=124).samples
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    g = np.random.default_rng(123)
    d = mc_kl(norm(0, 1), norm(1, 1), 50, seed=g).samples
    e = mc_kl(norm(0, 1), norm(1, 1), 50, seed=g).samples
    assert np.array_equal(a, d) and not np.array_equal(d, e)
    assert mc_kl(norm(0, 1), norm(1, 1), 50).samples.shape == (50,)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(n=1), ValueError, "n must be >= 2"),
        (dict(n=0), ValueError, "n must be >= 2"),
        (dict(n=-5), ValueError, "n must be >= 2"),
        (dict(n=10.0), TypeError, "n must be an integer"),
        (dict(n=True), TypeError, "n must be an integer"),
        (dict(n="10"), TypeError, "n must be an integer"),
        (dict(n=10, estimator="k4"), ValueError, "estimator must be one of"),
        (dict(n=10, estimator=None), ValueError, "estimator must be one of"),
        (dict(n=10, seed=-1), ValueError, "seed must be non-negative"),
        (dict(n=10, seed=1.5), TypeError, "seed must be"),
        (dict(n=10, seed="abc"), TypeError, "seed must be"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        mc_kl(norm(0, 1), norm(1, 1), **kwargs)


def test_numpy_integer_n_is_accepted():
    assert mc_kl(norm(0, 1), norm(1, 1), np.int64(5), seed=0).samples.shape == (5,)


def test_bad_pairs():
    with pytest.raises(TypeError, match="p must be"):
        mc_kl([0.5, 0.5], norm(0, 1), 10)
    with pytest.raises(TypeError, match="q must be"):
        mc_kl(norm(0, 1), "norm", 10)
    with pytest.raises(ValueError, match="discrete"):
        mc_kl(binom(10, 0.5), norm(5, 2), 10)
    with pytest.raises(TypeError, match="multivariate"):
        mc_kl(multivariate_normal([0.0, 0.0]), norm(0, 1), 10)
    with pytest.raises(ValueError, match="dimensions"):
        mc_kl(multivariate_normal([0.0, 0.0]), multivariate_normal([0.0, 0.0, 0.0]), 10)
    with pytest.raises(ValueError, match="invalid|scale"):
        mc_kl(norm(0, -1), norm(0, 1), 10)
    with pytest.raises(ValueError, match="estimator must be one of"):
        estimator_moments(norm(0, 1), norm(1, 1), "k0")
    with pytest.raises(TypeError, match="univariate"):
        estimator_moments(multivariate_normal([0.0]), multivariate_normal([1.0]), "k1")


# ---------------------------------------------------------------- replicates


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_replicates_spread_matches_exact_sd_over_root_n(estimator):
    n, repeats, mu = 50, 4000, 1.0
    kl, bias, sd = (float(v) for v in hand_moments(mu)[estimator])
    est = mc_kl_replicates(norm(0, 1), norm(mu, 1), n, repeats, estimator=estimator, seed=12)
    assert est.shape == (repeats,)
    assert abs(est.mean() - (kl + bias)) < 5 * sd / math.sqrt(n * repeats)
    # the sd of a mean of n draws is sd / sqrt(n); its sampling error is about 1/sqrt(2 R) relative
    assert est.std(ddof=1) == pytest.approx(sd / math.sqrt(n), rel=6 / math.sqrt(2 * repeats))


def test_replicates_bad_repeats():
    with pytest.raises(ValueError, match="repeats"):
        mc_kl_replicates(norm(0, 1), norm(1, 1), 10, 1)
    with pytest.raises(ValueError, match="repeats"):
        mc_kl_replicates(norm(0, 1), norm(1, 1), 10, 2.0)


# ---------------------------------------------------------------- gradients of estimates


def test_naive_gradients_normal_target():
    """p = N(0,1), q = N(theta, s^2). Hand-derived: d/dtheta KL(q||p) = theta (reverse),
    d/dtheta KL(p||q) = theta / s^2 (forward). Naive gradients: k1 -> 0, k2 -> reverse, k3 -> forward."""
    theta, s, n = 1.0, 1.5, 200_000
    g = naive_kl_gradients(norm(0, 1), theta, s, n, seed=21)
    assert abs(g["k1"].value - 0.0) < 5 * g["k1"].stderr
    assert abs(g["k2"].value - theta) < 5 * g["k2"].stderr
    assert abs(g["k3"].value - theta / s**2) < 5 * g["k3"].stderr
    # and the three are told apart: k3 is far from the true gradient
    assert abs(g["k3"].value - theta) > 50 * g["k3"].stderr


def test_naive_gradients_are_derivatives_at_fixed_samples():
    """Recover x from the k1 gradient (the score (x - theta)/s^2) and differentiate the
    per-sample k2 and k3 in mpmath with x held fixed."""
    theta, s = 0.3, 1.2
    p_m, p_s = -0.5, 0.9
    g = naive_kl_gradients(norm(p_m, p_s), theta, s, 50, seed=4)
    logp = mp_norm_logpdf(p_m, p_s)
    for i in range(50):
        x = mp.mpf(theta) + mp.mpf(s) ** 2 * mp.mpf(float(g["k1"].samples[i]))

        def ell(t, x=x):
            return logp(x) - mp_norm_logpdf(t, s)(x)

        d2 = mp.diff(lambda t: ell(t) ** 2 / 2, theta)
        d3 = mp.diff(lambda t: mp.expm1(ell(t)) - ell(t), theta)
        assert float(g["k2"].samples[i]) == pytest.approx(float(d2), rel=1e-9, abs=1e-12)
        assert float(g["k3"].samples[i]) == pytest.approx(float(d3), rel=1e-9, abs=1e-12)


def test_naive_k3_gradient_is_forward_gradient_for_a_mixture():
    """d/dtheta KL(p || N(theta, s^2)) = (theta - E_p[x]) / s^2 for any p with a mean."""
    w, m, sd = [0.3, 0.7], [-2.0, 1.0], [0.5, 0.8]
    p = GaussianMixture(w, m, sd)
    theta, s = 0.5, 2.0
    g = naive_kl_gradients(p, theta, s, 200_000, seed=2)
    mean_p = w[0] * m[0] + w[1] * m[1]
    assert abs(g["k3"].value - (theta - mean_p) / s**2) < 5 * g["k3"].stderr


def test_naive_gradients_bad_arguments():
    with pytest.raises(TypeError, match="univariate continuous"):
        naive_kl_gradients(binom(10, 0.5), 1.0, 1.0, 10)
    with pytest.raises(ValueError, match="std"):
        naive_kl_gradients(norm(0, 1), 1.0, 0.0, 10)
    with pytest.raises(ValueError, match="mean"):
        naive_kl_gradients(norm(0, 1), float("nan"), 1.0, 10)
    with pytest.raises(ValueError, match="infinite"):
        naive_kl_gradients(uniform(0, 1), 0.5, 1.0, 100, seed=0)


def test_per_sample_kl_public_function():
    l = np.array([-3.0, -0.2, 0.0, 1e-9, 2.5, -np.inf])
    for est in ESTIMATORS:
        got = per_sample_kl(l, est)
        assert got.shape == l.shape
        for a, b in zip(l[:-1], got[:-1]):
            with mp.workdps(50):
                assert float(b) == pytest.approx(float(mp_k(mp.mpf(float(a)), est)), rel=1e-15, abs=0)
        assert got[-1] == np.inf
    with pytest.raises(ValueError, match="NaN"):
        per_sample_kl([np.nan], "k1")
    with pytest.raises(ValueError, match="estimator"):
        per_sample_kl([0.0], "k5")
