"""Tests of klbook.GaussianMixture against independent references (mpmath at 50 digits)."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from klbook import GaussianMixture
from klbook.core.base import Distribution

MP_DPS = 50  # this module's mpmath precision: tests/conftest.py sets it around each test
mp.mp.dps = MP_DPS  # (and for references computed at import)

BIMODAL = ([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
SKEWED = ([0.2, 0.3, 0.5], [-3.0, 0.0, 5.0], [0.5, 2.0, 1.0])


# ----------------------------------------------------------- mpmath references
def mp_pdf(w, m, s, x):
    x = mp.mpf(x)
    return mp.fsum(mp.mpf(wk) * mp.npdf(x, mp.mpf(mk), mp.mpf(sk)) for wk, mk, sk in zip(w, m, s))


def mp_cdf(w, m, s, x):
    x = mp.mpf(x)
    return mp.fsum(mp.mpf(wk) * mp.ncdf(x, mp.mpf(mk), mp.mpf(sk)) for wk, mk, sk in zip(w, m, s))


def mp_sf(w, m, s, x):
    x = mp.mpf(x)
    return mp.fsum(mp.mpf(wk) * mp.ncdf(-x, -mp.mpf(mk), mp.mpf(sk)) for wk, mk, sk in zip(w, m, s))


def rel(a, b):
    return abs(float((mp.mpf(a) - b) / b))


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    "args, exc, words",
    [
        (([0.5, 0.5], [0.0], [1.0, 1.0]), ValueError, "same length"),
        (([1.5, -0.5], [0.0, 1.0], [1.0, 1.0]), ValueError, ">= 0"),
        (([0.5, 0.6], [0.0, 1.0], [1.0, 1.0]), ValueError, "sum to 1"),
        (([0.5, 0.5], [0.0, 1.0], [1.0, 0.0]), ValueError, "stds must be > 0"),
        (([0.5, 0.5], [0.0, np.nan], [1.0, 1.0]), ValueError, "finite"),
        (([0.5, 0.5], [0.0, np.inf], [1.0, 1.0]), ValueError, "finite"),
        (([], [], []), ValueError, "empty"),
        (([[0.5, 0.5]], [[0.0, 1.0]], [[1.0, 1.0]]), ValueError, "one-dimensional"),
        ((["a", "b"], [0.0, 1.0], [1.0, 1.0]), TypeError, "real numbers"),
    ],
)
def test_invalid_parameters_raise_clearly(args, exc, words):
    with pytest.raises(exc, match=words):
        GaussianMixture(*args)


def test_weights_are_never_renormalised():
    with pytest.raises(ValueError, match="never renormalised"):
        GaussianMixture([1.0, 1.0], [0.0, 1.0], [1.0, 1.0])


def test_is_a_distribution_and_repr_has_no_address():
    p = GaussianMixture(*BIMODAL)
    assert isinstance(p, Distribution)
    assert not p.discrete
    assert repr(p) == "GaussianMixture(weights=[0.5, 0.5], means=[-2.0, 2.0], stds=[0.6, 0.6])"
    assert "0x" not in repr(p)
    assert p.support() == (-math.inf, math.inf)
    assert p.n_components == 2
    with pytest.raises(ValueError):
        p.means[0] = 3.0  # parameters are read-only


# ------------------------------------------------------------------- densities
@pytest.mark.parametrize("params", [BIMODAL, SKEWED])
@pytest.mark.parametrize("x", [-300.0, -40.0, -7.5, -2.0, -0.3, 0.0, 1.1, 2.0, 9.0, 40.0, 1000.0])
def test_logpdf_matches_mpmath_including_far_tails(params, x):
    p = GaussianMixture(*params)
    ref = mp.log(mp_pdf(*params, x))
    got = p.logpdf(x)
    assert math.isfinite(got)
    assert abs(got - float(ref)) <= 1e-13 * max(1.0, abs(float(ref)))


def test_pdf_logpdf_vectorised_shapes_and_infinities():
    p = GaussianMixture(*SKEWED)
    x = np.linspace(-10, 10, 12).reshape(3, 4)
    assert p.logpdf(x).shape == (3, 4)
    assert p.pdf(x).shape == (3, 4)
    for xi, got in zip(x.ravel(), p.pdf(x).ravel()):
        assert rel(got, mp_pdf(*SKEWED, xi)) < 1e-13
    assert p.logpdf(np.inf) == -np.inf and p.logpdf(-np.inf) == -np.inf
    assert p.pdf(np.inf) == 0.0
    with pytest.raises(ValueError, match="NaN"):
        p.logpdf([0.0, np.nan])


@pytest.mark.parametrize("x", [-2.5, 0.0, 0.4, 3.0, 7.0])
def test_dlogpdf_matches_mpmath_derivative(x):
    p = GaussianMixture(*SKEWED)
    ref = mp.diff(lambda t: mp.log(mp_pdf(*SKEWED, t)), mp.mpf(x))
    assert abs(p.dlogpdf(x) - float(ref)) <= 1e-12 * max(1.0, abs(float(ref)))


def test_responsibilities_sum_to_one():
    p = GaussianMixture(*SKEWED)
    r = p.responsibilities(np.linspace(-50, 50, 101))
    assert r.shape == (101, 3)
    np.testing.assert_allclose(r.sum(axis=-1), 1.0, rtol=0, atol=1e-14)


# ----------------------------------------------------------- cdf, sf, quantiles
@pytest.mark.parametrize("params", [BIMODAL, SKEWED])
@pytest.mark.parametrize("x", [-60.0, -20.0, -4.0, -1.0, 0.0, 0.5, 3.0, 8.0])
def test_cdf_and_logcdf_match_mpmath_in_left_tail(params, x):
    p = GaussianMixture(*params)
    ref = mp_cdf(*params, x)
    if ref > mp.mpf("1e-300"):
        assert rel(p.cdf(x), ref) < 1e-12
    assert abs(p.logcdf(x) - float(mp.log(ref))) <= 1e-12 * max(1.0, abs(float(mp.log(ref))))


@pytest.mark.parametrize("params", [BIMODAL, SKEWED])
@pytest.mark.parametrize("x", [-3.0, 0.0, 2.0, 6.0, 15.0, 30.0, 80.0])
def test_sf_and_logsf_match_mpmath_in_right_tail(params, x):
    p = GaussianMixture(*params)
    ref = mp_sf(*params, x)
    if ref > mp.mpf("1e-300"):
        assert rel(p.sf(x), ref) < 1e-12
    assert abs(p.logsf(x) - float(mp.log(ref))) <= 1e-12 * max(1.0, abs(float(mp.log(ref))))


@pytest.mark.parametrize("params", [BIMODAL, SKEWED])
def test_ppf_inverts_the_mpmath_cdf_from_tail_to_tail(params):
    p = GaussianMixture(*params)
    u = np.array([1e-300, 1e-100, 1e-12, 1e-3, 0.1, 0.37, 0.5, 0.63, 0.9, 0.999, 1 - 1e-12])
    x = p.ppf(u)
    assert x.shape == u.shape and np.all(np.diff(x) > 0)
    for ui, xi in zip(u, x):
        if ui <= 0.5:
            assert rel(ui, mp_cdf(*params, xi)) < 1e-11
        else:
            assert rel(1 - ui, mp_sf(*params, xi)) < 1e-11  # 1 - ui is exact for ui > 1/2
    # isf passes tiny upper-tail probabilities without rounding them through 1 - u
    for qi in [1e-200, 1e-20, 0.25]:
        assert rel(qi, mp_sf(*params, p.isf(qi))) < 1e-11


def test_ppf_edges_and_errors():
    p = GaussianMixture(*BIMODAL)
    assert p.ppf(0.0) == -math.inf and p.ppf(1.0) == math.inf
    assert p.ppf(0.5) == 0.0  # symmetric mixture: the median is 0
    assert isinstance(p.ppf(0.25), float)
    with pytest.raises(ValueError):
        p.ppf(1.5)
    with pytest.raises(ValueError):
        p.ppf([-0.1, 0.5])
    with pytest.raises(ValueError):
        p.ppf(np.nan)


mixtures = st.integers(min_value=1, max_value=4).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(0.05, 1.0), min_size=k, max_size=k),
        st.lists(st.floats(-20.0, 20.0), min_size=k, max_size=k),
        st.lists(st.floats(0.05, 5.0), min_size=k, max_size=k),
    )
)


def _make(raw):
    w, m, s = raw
    w = np.array(w) / math.fsum(w)
    w[-1] = 1.0 - math.fsum(w[:-1].tolist())
    return w.tolist(), m, s


@settings(max_examples=40, deadline=None)
@given(raw=mixtures, u=st.floats(1e-250, 1 - 1e-9))
def test_property_ppf_solves_mpmath_cdf(raw, u):
    w, m, s = _make(raw)
    p = GaussianMixture(w, m, s)
    x = p.ppf(u)
    if u <= 0.5:
        assert rel(u, mp_cdf(w, m, s, x)) < 1e-10
    else:
        assert rel(1 - u, mp_sf(w, m, s, x)) < 1e-10


@settings(max_examples=60, deadline=None)
@given(raw=mixtures)
def test_property_moments_match_mpmath_raw_moments(raw):
    # Independent route: raw moments E[x] = sum w m, E[x^2] = sum w (s^2 + m^2) at 50 digits,
    # variance as E[x^2] - E[x]^2 (the implementation uses the centred form instead).
    w, m, s = _make(raw)
    p = GaussianMixture(w, m, s)
    W, M, S = ([mp.mpf(v) for v in vec] for vec in (w, m, s))
    mean = mp.fsum(a * b for a, b in zip(W, M))
    var = mp.fsum(a * (c**2 + b**2) for a, b, c in zip(W, M, S)) - mean**2
    assert abs(p.mean() - float(mean)) <= 1e-13 * (1 + float(mp.fsum(abs(a * b) for a, b in zip(W, M))))
    assert rel(p.var(), var) < 1e-12
    assert rel(p.std(), mp.sqrt(var)) < 1e-12


def test_moments_match_mpmath_quadrature():
    mp.mp.dps = 25
    try:
        w, m, s = SKEWED
        pts = [-mp.inf, -3, 0, 5, mp.inf]
        mass = mp.quad(lambda t: mp_pdf(w, m, s, t), pts)
        mean = mp.quad(lambda t: t * mp_pdf(w, m, s, t), pts)
        var = mp.quad(lambda t: (t - mean) ** 2 * mp_pdf(w, m, s, t), pts)
    finally:
        mp.mp.dps = 50
    p = GaussianMixture(w, m, s)
    assert abs(float(mass) - 1.0) < 1e-15
    assert abs(p.mean() - float(mean)) < 1e-13
    assert rel(p.var(), var) < 1e-13


def test_bimodal_moments_are_the_book_values():
    p = GaussianMixture(*BIMODAL)
    # E[x] = 0 and Var = 0.6^2 + 2^2 = 4.36, exactly in rationals
    assert p.mean() == 0.0
    assert abs(p.var() - 4.36) < 1e-15


# ------------------------------------------------------------------- sampling
def test_rvs_is_seeded_shaped_and_distributed_like_p():
    p = GaussianMixture(*SKEWED)
    a = p.rvs(size=(200, 3), random_state=7)
    b = p.rvs(size=(200, 3), random_state=np.random.default_rng(7))
    assert a.shape == (200, 3)
    np.testing.assert_array_equal(a, b)
    assert isinstance(p.rvs(random_state=1), float)
    x = p.rvs(size=20000, random_state=123)
    # Kolmogorov-Smirnov against the cdf (itself checked against mpmath above)
    assert stats.kstest(x, p.cdf).pvalue > 1e-3
    with pytest.raises(ValueError):
        p.rvs(size=-1)


# ---------------------------------------------------------------------- modes
def _mp_modes(w, m, s):
    """Roots of p'(x) in [min m, max m] where p'' < 0, located by a fine sign scan and mpmath.findroot."""
    def d1(t):  # p'(t), differentiated by hand: sum_k w_k N(t; m_k, s_k) (m_k - t) / s_k^2
        t = mp.mpf(t)
        return mp.fsum(
            mp.mpf(wk) * mp.npdf(t, mp.mpf(mk), mp.mpf(sk)) * (mp.mpf(mk) - t) / mp.mpf(sk) ** 2
            for wk, mk, sk in zip(w, m, s)
        )

    grid = np.linspace(min(m), max(m), 801)
    vals = [d1(g) for g in grid]
    out = []
    for i in range(len(grid) - 1):
        if vals[i] > 0 >= vals[i + 1]:
            out.append(float(mp.findroot(d1, (mp.mpf(grid[i]), mp.mpf(grid[i + 1])), solver="anderson")))
    if vals[0] <= 0:
        out.insert(0, float(grid[0]))
    if vals[-1] >= 0:
        out.append(float(grid[-1]))
    return out


@pytest.mark.parametrize(
    "params",
    [BIMODAL, SKEWED, ([0.5, 0.5], [-0.5, 0.5], [1.0, 1.0]), ([0.3, 0.7], [0.0, 3.0], [1.0, 0.4])],
)
def test_modes_match_mpmath_stationary_points(params):
    p = GaussianMixture(*params)
    ref = _mp_modes(*params)
    got = p.modes()
    assert len(got) == len(ref)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)


def test_single_component_mode_is_its_mean():
    np.testing.assert_array_equal(GaussianMixture([1.0], [1.5], [0.2]).modes(), [1.5])


# ---------------------------------------------------- KL through kl_divergence
def _mp_kl(logp, logq, breaks):
    f = lambda t: mp.exp(logp(t)) * (logp(t) - logq(t))  # noqa: E731
    return mp.quad(f, [-mp.inf] + sorted(breaks) + [mp.inf])


def _mp_log_mix(w, m, s):
    return lambda t: mp.log(mp_pdf(w, m, s, t))


def test_kl_divergence_mixture_against_scipy_and_itself_both_orders():
    from klbook.core.divergences import kl_divergence

    mp.mp.dps = 20
    try:
        p = GaussianMixture(*BIMODAL)
        r = GaussianMixture(*SKEWED)
        n = stats.norm(0.5, 1.5)
        lp = _mp_log_mix(*BIMODAL)
        lr = _mp_log_mix(*SKEWED)
        ln = lambda t: mp.log(mp.npdf(t, mp.mpf(0.5), mp.mpf(1.5)))  # noqa: E731
        brk = [-3.0, -2.0, 0.0, 0.5, 2.0, 5.0]
        cases = [
            (p, n, lp, ln),
            (n, p, ln, lp),
            (p, r, lp, lr),
            (r, p, lr, lp),
        ]
        for a, b, la, lb in cases:
            ref = float(_mp_kl(la, lb, brk))
            got = kl_divergence(a, b)
            assert abs(got - ref) <= 1e-8 * max(1.0, ref), (a, b, got, ref)
        assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-10)
        assert kl_divergence(p, GaussianMixture(*BIMODAL)) == pytest.approx(0.0, abs=1e-10)
    finally:
        mp.mp.dps = 50
