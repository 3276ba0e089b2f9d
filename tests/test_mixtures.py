"""Tests of klbook.GaussianMixture against independent references (mpmath at 50 digits)."""

from __future__ import annotations

import math
from functools import lru_cache

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from klbook import GaussianMixture
from klbook.core.base import Distribution
from refs.store import RefStore, assignment

STORE = RefStore("mixtures")

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
        # numpy reads these as floats (0.5, 1.0, NaN, 0.5 dropping 0j); klbook refuses them, naming the argument
        ((["0.5", "0.5"], [0.0, 1.0], [1.0, 1.0]), TypeError, "weights must be an array of real numbers"),
        (([True, False], [0.0, 1.0], [1.0, 1.0]), TypeError, "weights must be an array of real numbers"),
        (([0.5, 0.5], [0.0, None], [1.0, 1.0]), TypeError, "means must be an array of real numbers"),
        (([0.5, 0.5], [0.0, 1.0], [1.0 + 0j, 1.0]), TypeError, "stds must be an array of real numbers"),
        ((None, [0.0, 1.0], [1.0, 1.0]), TypeError, "weights must be an array of real numbers"),
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


@pytest.mark.parametrize("params", [BIMODAL, SKEWED])
def test_logpdf_dlogpdf_is_the_two_calls_bit_for_bit(params):
    """The one-pass pair used by the reverse-KL quadrature: the same floats as logpdf and dlogpdf
    (arrays of any shape, and a float for a scalar), far tails included; x = inf refused as
    dlogpdf refuses it."""
    p = GaussianMixture(*params)
    x = np.concatenate([np.linspace(-60.0, 60.0, 481), [-1e150, 1e150, 0.0]]).reshape(4, -1)
    lp, d = p.logpdf_dlogpdf(x)
    assert np.array_equal(lp, p.logpdf(x)) and np.array_equal(d, p.dlogpdf(x))
    lp1, d1 = p.logpdf_dlogpdf(0.4)
    assert type(lp1) is float and type(d1) is float
    assert (lp1, d1) == (p.logpdf(0.4), p.dlogpdf(0.4))
    with pytest.raises(ValueError, match="inf"):
        p.logpdf_dlogpdf([0.0, np.inf])


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


def _moment_quadratures_live() -> dict:
    """Mass, mean and variance of SKEWED by mpmath quadrature at 25 digits."""
    mp.mp.dps = 25
    try:
        w, m, s = SKEWED
        pts = [-mp.inf, -3, 0, 5, mp.inf]
        mass = mp.quad(lambda t: mp_pdf(w, m, s, t), pts)
        mean = mp.quad(lambda t: t * mp_pdf(w, m, s, t), pts)
        var = mp.quad(lambda t: (t - mean) ** 2 * mp_pdf(w, m, s, t), pts)
    finally:
        mp.mp.dps = 50
    return {"mass": mass, "mean": mean, "var": var}


MOMENT_QUADRATURES = lru_cache(maxsize=None)(_moment_quadratures_live)


def test_moments_match_mpmath_quadrature():
    # The three quadratures (0.8 CPU-s) are stored in tests/refs/mixtures.json (KLBOOK_REFS=live
    # recomputes them); every run checks the stored values against the exact moments in mpmath
    # (sum of w_k m_k, sum of w_k (s_k^2 + m_k^2) - mean^2), which are computed live, to 20 digits.
    w, m, s = SKEWED
    mass, mean, var = (STORE.get(f"moment quadrature of SKEWED: {k}", lambda k=k: MOMENT_QUADRATURES()[k], dps=25,
                                 code=(_moment_quadratures_live, mp_pdf, assignment(__file__, "SKEWED")))
                       for k in ("mass", "mean", "var"))
    W, M, S = ([mp.mpf(v) for v in vec] for vec in (w, m, s))
    exact_mean = mp.fsum(a * b for a, b in zip(W, M))
    exact_var = mp.fsum(a * (c**2 + b**2) for a, b, c in zip(W, M, S)) - exact_mean**2
    assert abs(mass - 1) < mp.mpf(10) ** -20
    assert abs(mean - exact_mean) < mp.mpf(10) ** -20 and abs(var - exact_var) < mp.mpf(10) ** -20 * exact_var
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
    def f(t):
        lp = logp(t)  # once per node: the same integrand, half the mpmath log-densities of p
        return mp.exp(lp) * (lp - logq(t))

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
            ("bimodal || norm(0.5, 1.5)", p, n, lp, ln),
            ("norm(0.5, 1.5) || bimodal", n, p, ln, lp),
            ("bimodal || skewed", p, r, lp, lr),
            ("skewed || bimodal", r, p, lr, lp),
        ]
        for label, a, b, la, lb in cases:
            # stored (tests/refs/mixtures.json; the code hash covers this test's source), the first live
            ref = float(STORE.get(f"kl_divergence check: {label}", lambda: _mp_kl(la, lb, brk), dps=20,
                                  code=(test_kl_divergence_mixture_against_scipy_and_itself_both_orders, _mp_kl,
                                        _mp_log_mix, mp_pdf), live=label == "bimodal || norm(0.5, 1.5)"))
            got = kl_divergence(a, b)
            assert abs(got - ref) <= 1e-8 * max(1.0, ref), (a, b, got, ref)
        assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-10)
        assert kl_divergence(p, GaussianMixture(*BIMODAL)) == pytest.approx(0.0, abs=1e-10)
    finally:
        mp.mp.dps = 50


# =====================================================================================
# d-dimensional mixtures (issue 18)
# =====================================================================================
W2 = [0.3, 0.7]
MU2 = [[0.0, 0.0], [1.0, 2.0]]
COV2 = [[[1.0, 0.2], [0.2, 1.0]], [[0.5, 0.0], [0.0, 2.0]]]


@pytest.mark.parametrize(
    "args, kwargs, exc, words",
    [
        ((["a", "b"], MU2), {"covs": COV2}, TypeError, "real numbers"),
        (([0.3, 0.6], MU2), {"covs": COV2}, ValueError, "sum to 1"),
        (([0.3, 0.7], MU2), {"covs": [[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]}, ValueError,
         r"covs\[1\] is not positive definite"),
        (([0.3, 0.7], MU2), {"covs": [[[1.0, 0.5], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]}, ValueError,
         r"covs\[0\] is not symmetric"),
        (([0.3, 0.7], MU2), {"covs": [[[1.0, 0.0], [0.0, 1.0]]]}, ValueError, r"shape \(K, d, d\)"),
        (([0.3, 0.7], [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]), {"covs": COV2}, ValueError, r"shape \(K, d, d\)"),
        (([0.2, 0.3, 0.5], MU2), {"covs": COV2}, ValueError, "3 entries but means has 2 rows"),
        (([0.3, 0.7], [0.0, 1.0]), {"covs": COV2}, ValueError, "means must have 2 dimensions"),
        (([0.3, 0.7], MU2, [1.0, 1.0]), {"covs": COV2}, ValueError, "not both"),
        (([0.3, 0.7], MU2), {}, ValueError, "give stds"),
        (([0.3, 0.7], [[0.0, np.nan], [1.0, 2.0]]), {"covs": COV2}, ValueError, "means must be finite"),
    ],
)
def test_nd_invalid_parameters_raise_clearly(args, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        GaussianMixture(*args, **kwargs)


def test_nd_basics_repr_and_one_d_only_methods():
    p = GaussianMixture(W2, MU2, covs=COV2)
    assert p.dim == 2 and not p.univariate and p.n_components == 2
    assert p.means.shape == (2, 2) and p.covs.shape == (2, 2, 2)
    assert "0x" not in repr(p) and repr(p).startswith("GaussianMixture(weights=[0.3, 0.7], means=[[0.0, 0.0]")
    for name in ("cdf", "ppf", "sf", "dlogpdf"):
        with pytest.raises(NotImplementedError, match="one-dimensional"):
            getattr(p, name)(0.5)
    with pytest.raises(NotImplementedError, match="cov"):
        p.var()
    with pytest.raises(NotImplementedError):
        p.stds
    with pytest.raises(ValueError):
        p.covs[0, 0, 0] = 2.0  # read-only


def _scipy_mixture_logpdf(w, mu, cov, x):
    """Independent route: scipy's multivariate_normal per component, summed in mpmath."""
    out = []
    for xi in np.reshape(x, (-1, len(mu[0]))):
        terms = [mp.mpf(wk) * mp.e ** mp.mpf(stats.multivariate_normal(mk, ck).logpdf(xi)) for wk, mk, ck in zip(w, mu, cov)]
        out.append(float(mp.log(mp.fsum(terms))))
    return np.array(out)


def test_nd_logpdf_matches_scipy_components_and_shapes():
    p = GaussianMixture(W2, MU2, covs=COV2)
    x = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 4.0], [10.0, -10.0], [0.5, 0.7], [2.0, 2.0]]).reshape(2, 3, 2)
    got = p.logpdf(x)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got.ravel(), _scipy_mixture_logpdf(W2, MU2, COV2, x), rtol=1e-13, atol=1e-13)
    assert isinstance(p.logpdf([0.1, 0.2]), float)
    assert p.logpdf([np.inf, 0.0]) == -np.inf
    np.testing.assert_allclose(p.pdf(x), np.exp(got), rtol=1e-15)
    r = p.responsibilities(x)
    assert r.shape == (2, 3, 2)
    np.testing.assert_allclose(r.sum(axis=-1), 1.0, atol=1e-14)
    with pytest.raises(ValueError, match="last axis of length d = 2"):
        p.logpdf([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        p.logpdf([0.0, np.nan])


def test_nd_mean_cov_against_hand_sums_and_rvs():
    p = GaussianMixture(W2, MU2, covs=COV2)
    # law of total covariance in exact rationals
    from fractions import Fraction as Fr

    w = [Fr(3, 10), Fr(7, 10)]
    mu = [[Fr(0), Fr(0)], [Fr(1), Fr(2)]]
    cv = [[[Fr(1), Fr(1, 5)], [Fr(1, 5), Fr(1)]], [[Fr(1, 2), Fr(0)], [Fr(0), Fr(2)]]]
    mean = [sum(w[k] * mu[k][i] for k in range(2)) for i in range(2)]
    cov = [[sum(w[k] * (cv[k][i][j] + (mu[k][i] - mean[i]) * (mu[k][j] - mean[j])) for k in range(2))
            for j in range(2)] for i in range(2)]
    np.testing.assert_allclose(p.mean(), [float(v) for v in mean], rtol=1e-15)
    np.testing.assert_allclose(p.cov(), [[float(v) for v in row] for row in cov], rtol=1e-14)
    x = p.rvs(size=(200_000,), random_state=3)
    assert x.shape == (200_000, 2)
    np.testing.assert_array_equal(x[:5], p.rvs(size=200_000, random_state=np.random.default_rng(3))[:5])
    assert p.rvs(random_state=1).shape == (2,)
    se = np.sqrt(np.diag(p.cov()) / x.shape[0])
    assert np.all(np.abs(x.mean(axis=0) - p.mean()) < 5 * se)
    np.testing.assert_allclose(np.cov(x.T), p.cov(), rtol=0.02, atol=0.02)


def test_one_d_cov_is_the_variance():
    p = GaussianMixture(*SKEWED)
    assert p.cov().shape == (1, 1)
    assert abs(p.cov()[0, 0] - p.var()) < 1e-13 * p.var()


# ----------------------------------------------------------------- mixture_kl
from klbook import kl_divergence, mixture_kl  # noqa: E402
from klbook.core.mixtures import MixtureKL  # noqa: E402


def _mp_gauss_kl(m1, s1, m2, s2):
    m1, s1, m2, s2 = (mp.mpf(v) for v in (m1, s1, m2, s2))
    return mp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - mp.mpf(1) / 2


def _mp_kl_1d(pp, qq):
    """KL of two 1-D mixtures (weights, means, stds) by mpmath at 20 digits, breaks at every mean.

    The same pairs recur (the 1-D tests and the d-dimensional product pairs built on them):
    each is integrated once per test process."""
    return _mp_kl_1d_cached(*_key_pair(pp, qq))


@lru_cache(maxsize=None)
def _mp_kl_1d_cached(pp, qq):
    """Stored in tests/refs/mixtures.json (tests/refs/store.py; written by python tests/refs/generate.py),
    keyed by the pair; the pair in ONE_D_LIVE is recomputed on every run and must equal the stored value."""
    return STORE.get(repr((pp, qq)), lambda: _mp_kl_1d_live(pp, qq), dps=20,
                     code=(_mp_kl_1d_live, _mp_kl, _mp_log_mix, mp_pdf), live=(pp, qq) == ONE_D_LIVE)


def _mp_kl_1d_live(pp, qq):
    with mp.workdps(20):
        brk = sorted(set(pp[1]) | set(qq[1]))
        return _mp_kl(_mp_log_mix(*pp), _mp_log_mix(*qq), brk)


ONE_D_PAIRS = [  # the d-dimensional product pairs below are built on the first two
    (BIMODAL, SKEWED),
    (SKEWED, BIMODAL),
    (([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6]), ([0.3, 0.7], [-1.0, 1.5], [1.0, 0.8])),
    (([1.0], [0.0], [1.0]), ([0.5, 0.5], [-3.0, 3.0], [0.2, 0.2])),
]
ONE_D_LIVE = (((1.0,), (0.0,), (1.0,)), ((0.5, 0.5), (-3.0, 3.0), (0.2, 0.2)))


def _key_pair(pp, qq):
    return tuple(map(tuple, pp)), tuple(map(tuple, qq))


def test_stored_references_are_the_pairs():
    keys = {_key_pair(pp, qq) for pp, qq in ONE_D_PAIRS}
    STORE.check_keys({repr(k) for k in keys} | {f"kl_divergence check: {a} || {b}" for a, b in (
        ("bimodal", "norm(0.5, 1.5)"), ("norm(0.5, 1.5)", "bimodal"), ("bimodal", "skewed"), ("skewed", "bimodal"))}
                     | {f"moment quadrature of SKEWED: {k}" for k in ("mass", "mean", "var")})
    assert ONE_D_LIVE in keys


@pytest.mark.parametrize("pp, qq", ONE_D_PAIRS)
def test_mixture_kl_one_d_is_exact_against_mpmath_and_bracketed(pp, qq):
    ref = float(_mp_kl_1d(pp, qq))
    r = mixture_kl(GaussianMixture(*pp), GaussianMixture(*qq))
    assert isinstance(r, MixtureKL) and r.method == "quadrature"
    assert abs(r.value - ref) <= 1e-11 * max(ref, 1e-3)
    assert r.stderr < 1e-10
    assert r.lower <= ref <= r.upper
    assert r.bounds["durrieu_lower"] <= ref <= min(r.bounds["durrieu_upper"], r.bounds["variational_upper"])


def test_single_gaussians_variational_is_exact_and_bracket_holds():
    p = GaussianMixture([1.0], [[0.0, 1.0]], covs=[[[2.0, 0.3], [0.3, 1.0]]])
    q = GaussianMixture([1.0], [[0.5, 0.0]], covs=[[[1.0, 0.0], [0.0, 1.5]]])
    exact = kl_divergence(stats.multivariate_normal([0.0, 1.0], [[2.0, 0.3], [0.3, 1.0]]),
                          stats.multivariate_normal([0.5, 0.0], [[1.0, 0.0], [0.0, 1.5]]))
    r = mixture_kl(p, q)
    assert abs(r.variational - exact) < 1e-13
    assert abs(r.bounds["variational_upper"] - exact) < 1e-13  # one component each: the bound is tight
    assert r.lower <= exact <= r.upper + 1e-13
    assert abs(r.value - exact) < 1e-12  # clipped into a bracket of zero width
    # frozen scipy Gaussians are accepted as one-component mixtures
    r2 = mixture_kl(stats.multivariate_normal([0.0, 1.0], [[2.0, 0.3], [0.3, 1.0]]), q)
    assert abs(r2.value - exact) < 1e-12


def _random_orthogonal(d, rng):
    qm, rm = np.linalg.qr(rng.normal(size=(d, d)))
    return qm * np.sign(np.diag(rm))


def product_pair(pp, qq, d, rng):
    """A 1-D mixture pair times independent Gaussians in d - 1 further coordinates, rotated.

    KL is invariant under the rotation and additive over the independent factors, so the exact KL
    is the 1-D mixture KL (mpmath) plus the Gaussian KLs (hand-derived, mpmath).
    """
    extra = [(rng.normal(0, 1), np.exp(rng.normal(0, 0.3)), rng.normal(0, 1), np.exp(rng.normal(0, 0.3)))
             for _ in range(d - 1)]
    R = _random_orthogonal(d, rng)

    def build(params, which):
        w, m, s = params
        mus, covs = [], []
        for mk, sk in zip(m, s):
            mu = np.array([mk] + [e[2 * which] for e in extra])
            var = np.array([sk**2] + [e[2 * which + 1] ** 2 for e in extra])
            mus.append(R @ mu)
            covs.append(R @ np.diag(var) @ R.T)
        return GaussianMixture(w, np.array(mus), covs=np.array(covs))

    with mp.workdps(20):
        ref = _mp_kl_1d(pp, qq) + mp.fsum(_mp_gauss_kl(*e) for e in extra)
    return build(pp, 0), build(qq, 1), float(ref)


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("pair", [(BIMODAL, SKEWED), (SKEWED, BIMODAL)])
def test_mixture_kl_nd_against_exact_product_references(d, pair):
    p, q, ref = product_pair(*pair, d, np.random.default_rng(d))
    r = mixture_kl(p, q)
    assert r.method == "rqmc" and r.n_evaluations > 0
    assert r.lower <= ref <= r.upper
    assert abs(r.value - ref) <= max(6 * r.stderr, 1e-9)
    assert abs(r.value - ref) <= 2e-3 * ref
    assert "projection_lower" in r.bounds and r.bounds["projection_lower"] <= ref


def test_mixture_kl_nd_against_large_seeded_monte_carlo():
    rng = np.random.default_rng(11)
    p = GaussianMixture([0.2, 0.5, 0.3], rng.normal(0, 2, (3, 3)),
                        covs=[a @ a.T + 0.3 * np.eye(3) for a in rng.normal(0, 0.6, (3, 3, 3))])
    q = GaussianMixture([0.6, 0.4], rng.normal(0, 2, (2, 3)),
                        covs=[a @ a.T + 0.3 * np.eye(3) for a in rng.normal(0, 0.6, (2, 3, 3))])
    # independent plain Monte Carlo with scipy's multivariate normal densities
    x = p.rvs(size=400_000, random_state=99)

    def logmix(mix, pts):
        comps = [np.log(w) + stats.multivariate_normal(m, c).logpdf(pts) for w, m, c in zip(mix.weights, mix.means, mix.covs)]
        return np.logaddexp.reduce(comps, axis=0)

    h = logmix(p, x) - logmix(q, x)
    mc, se = h.mean(), h.std() / np.sqrt(h.size)
    r = mixture_kl(p, q)
    assert abs(r.value - mc) < 5 * np.hypot(se, r.stderr)
    assert r.stderr < se / 10  # the quasi-Monte Carlo is far more precise than plain Monte Carlo
    assert r.lower - 5 * se <= mc <= r.upper + 5 * se


nd_mixtures = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31))


@settings(max_examples=25, deadline=None)
@given(spec=nd_mixtures)
def test_property_bracket_always_holds(spec):
    """Random pairs in d = 1..3 with 1..4 components: lower <= KL <= upper.

    References: in 1-D the engine's numerical fallback (klbook.core.numeric, an independent
    quadrature); in d > 1 seeded plain Monte Carlo (200 000 draws), allowing 5 standard errors.
    """
    d, kp, kq, seed = spec
    rng = np.random.default_rng(seed)

    def rand_mix(k):
        w = rng.dirichlet(np.ones(k))
        w[-1] = 1.0 - math.fsum(w[:-1].tolist())
        mu = rng.normal(0, 2, (k, d))
        a = rng.normal(0, 0.7, (k, d, d))
        cov = a @ np.swapaxes(a, 1, 2) + 0.2 * np.eye(d)
        if d == 1:
            return GaussianMixture(w, mu[:, 0], np.sqrt(cov[:, 0, 0]))
        return GaussianMixture(w, mu, covs=cov)

    p, q = rand_mix(kp), rand_mix(kq)
    r = mixture_kl(p, q, n_points=1024, replicates=8)
    if d == 1:
        from klbook.core.numeric import kl_numeric

        ref = kl_numeric(p, q)
        assert r.lower <= ref * (1 + 1e-9) + 1e-12 and ref <= r.upper * (1 + 1e-9) + 1e-12
    else:
        x = p.rvs(size=200_000, random_state=seed % 1000)
        h = p.logpdf(x) - q.logpdf(x)
        mc, se = h.mean(), h.std() / np.sqrt(h.size)
        assert r.lower <= mc + 5 * se and mc - 5 * se <= r.upper
    assert 0.0 <= r.lower <= r.value <= r.upper


def test_kl_divergence_accepts_nd_mixtures():
    p, q, ref = product_pair(BIMODAL, SKEWED, 2, np.random.default_rng(5))
    got = kl_divergence(p, q)
    assert type(got) is float
    assert abs(got - ref) < 2e-3 * ref
    assert got == mixture_kl(p, q).value  # seeded: the same number every call
    with pytest.raises(ValueError, match="same dimension"):
        kl_divergence(p, GaussianMixture([1.0], [[0.0, 0.0, 0.0]], covs=[np.eye(3)]))
    with pytest.raises(ValueError, match="same dimension"):
        mixture_kl(p, GaussianMixture(*BIMODAL))
    with pytest.raises(TypeError, match="GaussianMixture"):
        mixture_kl(p, [0.5, 0.5])
    with pytest.raises(ValueError, match="replicates"):
        mixture_kl(p, q, replicates=1)


def test_equal_mixtures_in_2d_give_zero_promptly():
    """Regression: a projection with KL exactly 0 once made the adaptive quadrature split forever."""
    p = GaussianMixture([0.5, 0.5], [[-1.5, 0.0], [1.5, 0.0]], covs=[np.eye(2), np.eye(2)])
    q = GaussianMixture([1.0], [[0.0, 0.0]], covs=[np.diag([1.0 + 1.5**2, 1.0])])
    r = mixture_kl(p, p)
    assert r.value == 0.0 and r.lower == 0.0 and 0.0 <= r.upper < 1e-15
    r = mixture_kl(p, q)
    # q differs from p only along the first axis: the projection bound is nearly the value
    assert r.bounds["projection_lower"] <= r.value <= r.upper
    assert r.value - r.bounds["projection_lower"] < 1e-3


def test_short_axis_sums_and_log_sum_exp_are_numpys_to_the_bit():
    """mixture_kl's row sums and log-sum-exp over a few components, written out one entry at a time,
    give the floats of np.sum / np.max over that axis: magnitudes 1e-13 to 1e13 (where the order of
    the additions shows), rows of -inf, inf and NaN, 1 to 10 entries (8 and more: numpy's own sum),
    rows stored contiguously or strided, and the d-dimensional component log-densities."""
    from klbook.core.mixtures import _SHORT_AXIS, _lse_rows, _sum_last_axis

    assert _SHORT_AXIS == 8
    rng = np.random.default_rng(17)
    for k in range(1, 11):
        a = np.abs(rng.standard_normal((4000, k))) * np.exp(rng.uniform(-30, 30, (4000, k)))
        for arr in (a, np.asfortranarray(a), a[::-1], a[None]):
            assert _sum_last_axis(arr).tobytes() == np.sum(arr, axis=-1).tobytes(), (k, arr.flags)
        t = np.log(a) * rng.choice([-1.0, 1.0], a.shape)
        t[::9] = -np.inf
        t[4, 0], t[5, -1] = np.nan, np.inf
        mx = np.max(t, axis=-1, keepdims=True)
        mx = np.where(np.isfinite(mx), mx, 0.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            plain = np.log(np.sum(np.exp(t - mx), axis=-1)) + mx[..., 0]
            assert _lse_rows(t).tobytes() == plain.tobytes(), k
    for d in (2, 3, 9):
        p = GaussianMixture([0.5, 0.3, 0.2], rng.normal(0, 2, (3, d)),
                            covs=[b @ b.T + 0.3 * np.eye(d) for b in rng.normal(0, 0.6, (3, d, d))])
        x = p.rvs(size=3000, random_state=4)
        x[7, 1] = -np.inf
        chol = np.linalg.cholesky(p.covs)
        for k in range(3):
            z = np.linalg.solve(chol[k], (x[np.isfinite(x).all(axis=1)] - p.means[k]).T)
            want = (math.log(p.weights[k]) - 0.5 * np.sum(z * z, axis=0) - np.sum(np.log(np.diag(chol[k])))
                    - 0.5 * d * math.log(2 * math.pi))
            got = p._component_logpdf_nd(x)[:, k]
            assert got[7] == -np.inf and np.max(np.abs(np.delete(got, 7) - want)) < 1e-10 * (1 + np.max(np.abs(want)))
