"""Tests for klbook.book.properties: total variation, Pinsker, asymmetry, triangle, additivity, invariance, convexity.

References are independent of the implementation:

* exact rational arithmetic (``fractions.Fraction``) for total variation,
  products, pushforwards and mixtures of probability vectors (a float is an
  exact rational, so ``Fraction(x)`` loses nothing);
* mpmath at 30 digits for every divergence, summed from the textbook formula
  :math:`\\sum_i p_i \\log(p_i / q_i)` on the exact values of the floats given;
* hand-derived closed forms: the total variation of two Gaussians
  (:math:`2\\Phi(|\\Delta|/2\\sigma) - 1` for equal variances, cdf differences
  between the two roots of a quadratic otherwise), the Gaussian triangle
  gap :math:`2 - m^2/2 - (2 - m)^2/2`, the Gaussian KL
  :math:`\\log(s_2/s_1) + (s_1^2 + (m_1 - m_2)^2)/(2 s_2^2) - 1/2`,
  the Poisson and binomial pmfs, and the cdfs of the log-normal and
  Johnson SU images of a Gaussian written from :math:`\\Phi`.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from klbook.book.properties import (
    GaussianChecks,
    PropertyChecks,
    additivity_gap,
    bernoulli_asymmetry_grid,
    bernoulli_kl_grid,
    bretagnolle_huber_bound,
    check_gaussian_properties,
    check_properties,
    convexity_gap,
    gaussian_pushforwards,
    invariance_gap,
    kl_asymmetry,
    mixture,
    pinsker_bound,
    product_distribution,
    pushforward,
    random_distributions,
    total_variation,
    triangle_gap,
)

MP_DPS = 30  # this module's mpmath precision: tests/conftest.py sets it around each test
mp.mp.dps = MP_DPS  # (and for references computed at import)


# ---------------------------------------------------------------------------------------
# Independent references.
def m_kl(p, q):
    """sum p log(p/q) in mpmath on the exact values of the given numbers; 0 log 0 = 0, inf if p > 0 = q."""
    total = mp.mpf(0)
    for a, b in zip(p, q):
        a, b = mp.mpf(a), mp.mpf(b)
        if a == 0:
            continue
        if b == 0:
            return mp.inf
        total += a * mp.log(a / b)
    return total


def f_tv(p, q):
    """Total variation, exactly, from the exact rational values of the entries."""
    return sum(abs(Fraction(a) - Fraction(b)) for a, b in zip(p, q)) / 2


def m_bern_kl(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    return m_kl([a, 1 - a], [b, 1 - b])


def close(x, ref, rel=1e-13, abs_=1e-15):
    ref = float(ref) if not mp.isinf(ref) else math.inf
    if math.isinf(ref):
        return x == ref
    return abs(x - ref) <= rel * abs(ref) + abs_


# Probability vectors from positive integer weights: p_i = w_i / sum(w), rounded to floats.
weights = st.lists(st.integers(1, 1000), min_size=2, max_size=6)


def as_vector(w):
    s = sum(w)
    return [float(Fraction(x, s)) for x in w]


@st.composite
def pair(draw, k=None):
    n = draw(st.integers(2, 6)) if k is None else k
    w1 = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    w2 = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    return as_vector(w1), as_vector(w2)


# ---------------------------------------------------------------------------------------
# Total variation.
def test_tv_vectors_by_hand():
    assert total_variation([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4, abs=1e-16)
    assert total_variation([1.0, 0.0], [0.0, 1.0]) == 1.0  # disjoint supports
    assert total_variation([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    assert total_variation([0.25, 0.75, 0.0], [0.25, 0.25, 0.5]) == 0.5


@settings(max_examples=60, deadline=None)
@given(pair())
def test_tv_vectors_exact(pq):
    p, q = pq
    ref = f_tv(p, q)
    assert abs(Fraction(total_variation(p, q)) - ref) <= Fraction(1, 2**52)
    assert total_variation(p, q) == total_variation(q, p)


@settings(max_examples=40, deadline=None)
@given(pair(k=4), st.lists(st.integers(1, 1000), min_size=4, max_size=4))
def test_tv_triangle_and_pinsker(pq, w3):
    """TV is a metric (triangle inequality), and Pinsker's inequality holds against mpmath KL."""
    p, q = pq
    r = as_vector(w3)
    assert total_variation(p, q) <= total_variation(p, r) + total_variation(r, q) + 1e-15
    kl = m_kl(p, q)
    tv = f_tv(p, q)
    assert mp.mpf(tv.numerator) / tv.denominator <= mp.sqrt(kl / 2) + mp.mpf(10) ** -25
    assert float(tv) <= pinsker_bound(float(kl)) + 1e-15
    assert float(tv) <= bretagnolle_huber_bound(float(kl)) + 1e-15


@pytest.mark.parametrize("delta,sigma", [(1.0, 1.0), (0.1, 2.0), (3.0, 0.5), (1e-4, 1.0), (12.0, 1.0)])
def test_tv_gaussians_equal_variance(delta, sigma):
    ref = 2 * mp.ncdf(mp.mpf(delta) / (2 * sigma)) - 1
    got = total_variation(stats.norm(0.3, sigma), stats.norm(0.3 + delta, sigma))
    assert close(got, ref, rel=1e-12, abs_=1e-15)


@pytest.mark.parametrize("m1,s1,m2,s2", [(0, 1, 0, 2), (0, 1, 1, 0.5), (2, 0.7, -1, 1.3)])
def test_tv_gaussians_different_variance(m1, s1, m2, s2):
    """Crossings are the roots of a quadratic in x; TV = sum of (Q - P) over the pieces where q > p."""
    m1, s1, m2, s2 = (mp.mpf(v) for v in (m1, s1, m2, s2))
    # log p - log q = 0  <=>  A x^2 + B x + C = 0
    A = 1 / (2 * s2**2) - 1 / (2 * s1**2)
    B = m1 / s1**2 - m2 / s2**2
    C = m2**2 / (2 * s2**2) - m1**2 / (2 * s1**2) + mp.log(s2 / s1)
    disc = mp.sqrt(B**2 - 4 * A * C)
    roots = sorted([(-B - disc) / (2 * A), (-B + disc) / (2 * A)])
    edges = [-mp.inf] + roots + [mp.inf]
    P = lambda x: mp.ncdf((x - m1) / s1)  # noqa: E731
    Q = lambda x: mp.ncdf((x - m2) / s2)  # noqa: E731
    lp = lambda x: -((x - m1) ** 2) / (2 * s1**2) - mp.log(s1)  # noqa: E731
    lq = lambda x: -((x - m2) ** 2) / (2 * s2**2) - mp.log(s2)  # noqa: E731
    ref = mp.mpf(0)
    for a, b in zip(edges[:-1], edges[1:]):
        mid = (a + b) / 2 if mp.isfinite(a) and mp.isfinite(b) else (b - 1 if mp.isinf(a) else a + 1)
        if lq(mid) > lp(mid):
            ref += (Q(b) - Q(a)) - (P(b) - P(a))
    got = total_variation(stats.norm(float(m1), float(s1)), stats.norm(float(m2), float(s2)))
    assert close(got, ref, rel=1e-11, abs_=1e-14)


def test_tv_discrete_distributions():
    # Bernoulli: |a - b|
    assert total_variation(stats.bernoulli(0.3), stats.bernoulli(0.6)) == pytest.approx(0.3, abs=1e-15)
    # Binomial with rational parameters: exact
    n, a, b = 8, Fraction(1, 4), Fraction(3, 5)
    pmf = lambda t, k: math.comb(n, k) * t**k * (1 - t) ** (n - k)  # noqa: E731
    ref = sum(abs(pmf(a, k) - pmf(b, k)) for k in range(n + 1)) / 2
    got = total_variation(stats.binom(n, float(a)), stats.binom(n, float(b)))
    assert abs(got - float(ref)) <= 1e-14
    # Poisson: infinite support, mpmath sum from the pmf formula
    for mu1, mu2 in [(3.0, 4.0), (20.0, 21.5), (0.5, 7.0)]:
        pois = lambda mu, k: mp.exp(-mp.mpf(mu)) * mp.mpf(mu) ** k / mp.factorial(k)  # noqa: E731
        ref = mp.fsum(abs(pois(mu1, k) - pois(mu2, k)) for k in range(400)) / 2
        got = total_variation(stats.poisson(mu1), stats.poisson(mu2))
        assert close(got, ref, rel=1e-12, abs_=1e-15)


def test_tv_supports():
    # Uniform(0, 2) against Uniform(0, 1): q > p on (0, 1) where q - p = 1/2
    assert total_variation(stats.uniform(0, 2), stats.uniform(0, 1)) == pytest.approx(0.5, abs=1e-14)
    assert total_variation(stats.uniform(0, 1), stats.uniform(0, 2)) == pytest.approx(0.5, abs=1e-14)
    assert total_variation(stats.uniform(0, 1), stats.uniform(3, 1)) == pytest.approx(1.0, abs=1e-14)
    assert total_variation(stats.norm(0, 1), stats.poisson(3)) == 1.0  # mutually singular
    assert total_variation(stats.norm(1, 2), stats.norm(1, 2)) == 0.0


def test_tv_errors():
    with pytest.raises(TypeError):
        total_variation([0.5, 0.5], stats.norm(0, 1))
    with pytest.raises(ValueError, match="sums to"):
        total_variation([0.5, 0.6], [0.5, 0.5])
    with pytest.raises(ValueError, match="same length"):
        total_variation([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(TypeError, match="multivariate"):
        total_variation(stats.multivariate_normal([0, 0]), stats.multivariate_normal([0, 1]))
    with pytest.raises(ValueError, match="q.*negative"):
        total_variation([0.5, 0.5], [1.5, -0.5])


# ---------------------------------------------------------------------------------------
# Pinsker and Bretagnolle-Huber.
def test_bounds_by_hand():
    assert pinsker_bound(0.5) == 0.5
    assert pinsker_bound(2.0) == 1.0
    assert pinsker_bound(0.0) == 0.0
    assert pinsker_bound(math.inf) == math.inf
    np.testing.assert_array_equal(pinsker_bound([0.0, 0.5, 8.0]), [0.0, 0.5, 2.0])
    assert bretagnolle_huber_bound(0.0) == 0.0
    assert bretagnolle_huber_bound(math.inf) == 1.0
    assert bretagnolle_huber_bound(math.log(2)) == pytest.approx(math.sqrt(0.5), rel=1e-15)
    assert bretagnolle_huber_bound(math.log(4)) == pytest.approx(math.sqrt(0.75), rel=1e-15)
    # tiny divergences: sqrt(1 - e^-k) ~ sqrt(k), no cancellation
    for k in (1e-20, 1e-12, 1e-6):
        ref = mp.sqrt(-mp.expm1(-mp.mpf(k)))  # 1 - exp(-k) would lose 20 of the 30 digits
        assert close(bretagnolle_huber_bound(k), ref, rel=1e-15, abs_=0)


def test_bounds_cross_near_1_6_nats():
    """Pinsker is the stronger bound below the crossing, Bretagnolle-Huber above it (mpmath root)."""
    root = mp.findroot(lambda k: mp.sqrt(k / 2) - mp.sqrt(1 - mp.exp(-k)), 1.6)
    assert 1.5 < root < 1.65
    assert pinsker_bound(float(root) - 0.01) < bretagnolle_huber_bound(float(root) - 0.01)
    assert pinsker_bound(float(root) + 0.01) > bretagnolle_huber_bound(float(root) + 0.01)


def test_bounds_errors():
    for fn in (pinsker_bound, bretagnolle_huber_bound):
        with pytest.raises(ValueError, match=">= 0"):
            fn(-0.1)
        with pytest.raises(ValueError, match="NaN"):
            fn([0.1, math.nan])
        with pytest.raises(TypeError):
            fn("a lot")


# ---------------------------------------------------------------------------------------
# Asymmetry and the Bernoulli grid.
def test_asymmetry_worked_example():
    p, q = [0.5, 0.5], [0.9, 0.1]
    ref = m_kl(p, q) - m_kl(q, p)
    assert close(kl_asymmetry(p, q), ref)
    assert close(kl_asymmetry(q, p), -ref)
    assert kl_asymmetry([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl_asymmetry([1.0, 0.0], [0.5, 0.5]) == -math.inf
    with pytest.raises(ValueError, match="infinite"):
        kl_asymmetry([1.0, 0.0], [0.0, 1.0])


def test_bernoulli_kl_grid_against_mpmath():
    a = [0.0, 1e-9, 0.1, 0.3, 0.5, 0.7, 0.999, 1.0]
    b = [0.0, 0.05, 0.3, 0.3 + 1e-9, 0.5, 1.0]
    K = bernoulli_kl_grid(a, b)
    assert K.shape == (len(a), len(b))
    for i, ai in enumerate(a):
        for j, bj in enumerate(b):
            assert close(K[i, j], m_bern_kl(ai, bj), rel=1e-13, abs_=1e-300), (ai, bj)


def test_bernoulli_asymmetry_grid():
    a = np.linspace(0.01, 0.99, 15)
    G = bernoulli_asymmetry_grid(a, a)
    for i, ai in enumerate(a):
        for j, aj in enumerate(a):
            ref = m_bern_kl(ai, aj) - m_bern_kl(aj, ai)
            assert close(G[i, j], ref, rel=1e-12, abs_=1e-15)
    np.testing.assert_array_equal(G, -G.T)  # antisymmetric, exactly
    assert np.all(np.diag(G) == 0.0)
    # zero on the anti-diagonal a + b = 1 (where b = 1 - a is exact)
    a = np.array([0.125, 0.25, 0.375])
    G2 = bernoulli_asymmetry_grid(a, 1.0 - a)
    assert np.all(np.abs(np.diag(G2)) <= 1e-15)
    assert bernoulli_asymmetry_grid([0.0], [0.5])[0, 0] == -math.inf  # KL(0.5 || 0) = inf
    with pytest.raises(ValueError, match="both directions"):
        bernoulli_asymmetry_grid([0.0, 0.5], [1.0])
    with pytest.raises(ValueError, match=r"a\[1\]"):
        bernoulli_kl_grid([0.5, 1.5], [0.5])
    with pytest.raises(ValueError, match="1-D"):
        bernoulli_kl_grid([[0.5]], [0.5])


# ---------------------------------------------------------------------------------------
# The triangle inequality.
@pytest.mark.parametrize("m", [-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
def test_triangle_gaussians_closed_form(m):
    ref = 2 - m**2 / 2 - (2 - m) ** 2 / 2
    got = triangle_gap(stats.norm(0, 1), stats.norm(m, 1), stats.norm(2, 1))
    assert got == pytest.approx(ref, abs=1e-14)


def test_triangle_vectors_and_infinities():
    p, q, r = [0.9, 0.1], [0.5, 0.5], [0.1, 0.9]
    ref = m_kl(p, r) - m_kl(p, q) - m_kl(q, r)
    assert ref > 0  # a counterexample
    assert close(triangle_gap(p, q, r), ref)
    assert triangle_gap([0.5, 0.5], [1.0, 0.0], [0.5, 0.5]) == -math.inf
    with pytest.raises(ValueError, match="both sides"):
        triangle_gap([0.5, 0.5], [1.0, 0.0], [1.0, 0.0])


# ---------------------------------------------------------------------------------------
# Products, pushforwards, mixtures.
def test_product_distribution_exact():
    p1, p2, p3 = [0.5, 0.5], [0.25, 0.75], [0.125, 0.375, 0.5]
    got = product_distribution(p1, p2, p3)
    ref = [Fraction(a) * Fraction(b) * Fraction(c) for a in p1 for b in p2 for c in p3]
    assert [Fraction(x) for x in got] == ref
    np.testing.assert_array_equal(product_distribution(p2), p2)
    with pytest.raises(TypeError):
        product_distribution()
    with pytest.raises(ValueError, match=r"factors\[1\] sums to"):
        product_distribution([0.5, 0.5], [0.5, 0.6])


@settings(max_examples=40, deadline=None)
@given(pair(), pair())
def test_additivity(pq1, pq2):
    (p1, q1), (p2, q2) = pq1, pq2
    joint_ref = m_kl([a * b for a in map(mp.mpf, p1) for b in map(mp.mpf, p2)],
                     [a * b for a in map(mp.mpf, q1) for b in map(mp.mpf, q2)])
    sum_ref = m_kl(p1, q1) + m_kl(p2, q2)
    scale = float(sum_ref) + 1e-300
    # The identity itself, in mpmath, for the floats given (whose sums are 1 only to within rounding):
    # sum_ij p1_i p2_j log(p1_i p2_j / (q1_i q2_j)) = KL(p1 || q1) sum(p2) + KL(p2 || q2) sum(p1).
    s1, s2 = mp.fsum(map(mp.mpf, p1)), mp.fsum(map(mp.mpf, p2))
    assert abs(joint_ref - (m_kl(p1, q1) * s2 + m_kl(p2, q2) * s1)) <= mp.mpf(10) ** -27
    assert abs(additivity_gap(p1, q1, p2, q2)) <= 1e-14 * scale + 1e-16


def test_additivity_infinite_and_errors():
    assert additivity_gap([0.5, 0.5], [1.0, 0.0], [0.5, 0.5], [0.5, 0.5]) == 0.0  # inf = inf
    with pytest.raises(ValueError, match="q1"):
        additivity_gap([0.5, 0.5], [0.5, 0.2], [0.5, 0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="p2 and q2 must have the same length"):
        additivity_gap([0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.2, 0.3, 0.5])


def test_pushforward_exact_and_errors():
    p = [0.125, 0.25, 0.5, 0.125]
    got = pushforward(p, [2, 0, 2, 1])
    assert [Fraction(x) for x in got] == [Fraction(1, 4), Fraction(1, 8), Fraction(5, 8)]
    np.testing.assert_array_equal(pushforward(p, [0, 0, 0, 0], n_out=3), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(pushforward(p, [3, 2, 1, 0]), p[::-1])
    with pytest.raises(ValueError, match="one entry per outcome"):
        pushforward(p, [0, 1])
    with pytest.raises(TypeError, match="integers"):
        pushforward(p, [0.0, 1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="0 .. 1"):
        pushforward(p, [0, 1, 2, 0], n_out=2)


@settings(max_examples=40, deadline=None)
@given(pair(k=5), st.permutations(range(5)), st.lists(st.integers(0, 2), min_size=5, max_size=5))
def test_invariance_and_data_processing(pq, perm, merge):
    p, q = pq
    ref = m_kl(p, q)
    assert abs(invariance_gap(p, q, list(perm))) <= 1e-14 * float(ref) + 1e-16
    # merging: reference from exact sums of the entries, then mpmath
    pm = [sum((Fraction(a) for a, t in zip(p, merge) if t == v), Fraction(0)) for v in range(3)]
    qm = [sum((Fraction(b) for b, t in zip(q, merge) if t == v), Fraction(0)) for v in range(3)]
    merged_ref = m_kl([mp.mpf(x.numerator) / x.denominator for x in pm], [mp.mpf(x.numerator) / x.denominator for x in qm])
    gap = invariance_gap(p, q, merge, n_out=3)
    assert close(gap, merged_ref - ref, rel=1e-12, abs_=1e-15)
    assert gap <= 1e-15  # data processing


def test_mixture_exact_and_errors():
    got = mixture([0.5, 0.5, 0.0], [0.0, 0.25, 0.75], 0.5)
    assert [Fraction(x) for x in got] == [Fraction(1, 4), Fraction(3, 8), Fraction(3, 8)]
    np.testing.assert_array_equal(mixture([0.5, 0.5], [0.0, 1.0], 1.0), [0.5, 0.5])
    for bad in (-0.1, 1.5, math.nan):
        with pytest.raises(ValueError, match="weight"):
            mixture([0.5, 0.5], [0.0, 1.0], bad)
    with pytest.raises(TypeError, match="weight"):
        mixture([0.5, 0.5], [0.0, 1.0], True)


# Three unit roundoffs (u = 2^-53) per rounded mixture entry: fl(w a + fl(1 - w) b)
# rounds w*a once, fl(1 - w)*b twice and the sum once, so every entry of the float mixture is within 3u
# (relative) of the exact one the mpmath reference uses.
MIX_ROUNDING = 3 * 2.0**-53


def mixture_rounding_bound(mp_, mq):
    r"""First-order bound on how far the rounding of the mixture's entries moves :math:`D(p_\lambda\|q_\lambda)`.

    :math:`dD = \sum_i p_i[(\ell_i + 1)\delta_i - \epsilon_i]` for relative errors :math:`|\delta_i|, |\epsilon_i|
    \le 3u` in :math:`p_i, q_i`, :math:`\ell_i = \log(p_i/q_i)`: an absolute error of up to
    :math:`3u\sum_i p_i(|\ell_i| + 2)` (about 7e-16), not one relative to the divergence, which can be tiny.
    """
    return MIX_ROUNDING * float(sum(a * (abs(mp.log(a / b)) + 2) for a, b in zip(mp_, mq) if a > 0))


@settings(max_examples=40, deadline=None)
@given(pair(k=3), pair(k=3), st.fractions(0, 1, max_denominator=64))
# equal pairs: the true gap is 0 and only the mixture's rounding is left (-1.16e-16, -1.12e-16 against the
# 1e-14 * scale = 8.9e-17, 5.1e-18 that a bound relative to the divergences allowed)
@example(pq1=(as_vector([328, 418, 513]), as_vector([412, 659, 682])),
         pq2=(as_vector([328, 418, 513]), as_vector([412, 659, 682])), lam=Fraction(7, 23))
@example(pq1=(as_vector([596, 590, 176]), as_vector([637, 643, 202])),
         pq2=(as_vector([596, 590, 176]), as_vector([637, 643, 202])), lam=Fraction(7, 23))
def test_convexity(pq1, pq2, lam):
    (p1, q1), (p2, q2) = pq1, pq2
    w = float(lam)
    mp_ = [w * a + (1 - w) * b for a, b in zip(map(mp.mpf, p1), map(mp.mpf, p2))]
    mq = [w * a + (1 - w) * b for a, b in zip(map(mp.mpf, q1), map(mp.mpf, q2))]
    ref = w * m_kl(p1, q1) + (1 - w) * m_kl(p2, q2) - m_kl(mp_, mq)
    assert ref >= -mp.mpf(10) ** -25  # the inequality itself, in mpmath
    got = convexity_gap(p1, q1, p2, q2, w)
    scale = float(m_kl(p1, q1) + m_kl(p2, q2)) + 1e-300
    assert abs(got - float(ref)) <= 1e-13 * scale + 1e-16
    # the divergences' own relative error, plus the mixture's rounding (absolute, mixture_rounding_bound)
    assert got >= -(1e-14 * scale + mixture_rounding_bound(mp_, mq))


def test_convexity_edges():
    p1, q1, p2, q2 = [0.2, 0.8], [0.6, 0.4], [0.7, 0.3], [0.1, 0.9]
    assert abs(convexity_gap(p1, q1, p2, q2, 1.0)) <= 1e-16
    assert abs(convexity_gap(p1, q1, p2, q2, 0.0)) <= 1e-16
    # an infinite term with weight 0 is left out; with positive weight the chord is infinite
    assert abs(convexity_gap([1.0, 0.0], [0.0, 1.0], p2, q2, 0.0)) <= 1e-16
    assert convexity_gap([1.0, 0.0], [0.0, 1.0], p2, q2, 0.5) == math.inf
    with pytest.raises(ValueError, match="both sides"):
        convexity_gap([1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], 0.5)
    with pytest.raises(ValueError, match="p1 and p2"):
        convexity_gap(p1, q1, [0.2, 0.3, 0.5], [0.2, 0.3, 0.5], 0.5)


# ---------------------------------------------------------------------------------------
# Random pairs and the checks.
def test_random_distributions():
    a = random_distributions(50, 4, seed=3)
    assert a.shape == (50, 4)
    assert np.all(a > 0)
    assert np.all(np.abs(a.sum(axis=1) - 1) <= 1e-12)
    np.testing.assert_array_equal(a, random_distributions(50, 4, seed=3))
    assert not np.array_equal(a, random_distributions(50, 4, seed=4))
    with pytest.raises(ValueError, match="k must be at least 2"):
        random_distributions(5, 1)
    with pytest.raises(ValueError, match="concentration"):
        random_distributions(5, 3, concentration=0.0)
    with pytest.raises(TypeError, match="seed"):
        random_distributions(5, 3, seed="seven")


def test_check_properties_against_mpmath():
    c = check_properties(12, 4, k2=3, seed=5)
    assert isinstance(c, PropertyChecks)
    assert c.p.shape == (12, 4) and c.p2.shape == (12, 3)
    assert np.all(c.kl_self == 0.0)
    for i in range(12):
        p, q, r = c.p[i], c.q[i], c.r[i]
        kpq = m_kl(p, q)
        assert close(c.kl_pq[i], kpq) and close(c.kl_qp[i], m_kl(q, p))
        assert Fraction(c.tv[i]) - f_tv(p, q) <= Fraction(1, 2**52)
        joint = m_kl([mp.mpf(a) * mp.mpf(b) for a in p for b in c.p2[i]],
                     [mp.mpf(a) * mp.mpf(b) for a in q for b in c.q2[i]])
        assert close(c.kl_joint[i], joint, rel=1e-12) and close(c.kl_sum[i], joint, rel=1e-12)
        perm = c.permutations[i]
        assert sorted(perm.tolist()) == list(range(4))
        assert close(c.kl_permuted[i], kpq, rel=1e-12)
        m = c.merges[i]
        assert len(set(m.tolist())) == 3 and set(m.tolist()) == {0, 1, 2}
        pm = [mp.fsum(mp.mpf(a) for a, t in zip(p, m) if t == v) for v in range(3)]
        qm = [mp.fsum(mp.mpf(b) for b, t in zip(q, m) if t == v) for v in range(3)]
        assert close(c.kl_merged[i], m_kl(pm, qm), rel=1e-12)
        assert c.kl_merged[i] <= c.kl_pq[i] + 1e-15
        w = mp.mpf(c.weights[i])
        mixed = m_kl([w * a + (1 - w) * b for a, b in zip(map(mp.mpf, p), map(mp.mpf, c.p3[i]))],
                     [w * a + (1 - w) * b for a, b in zip(map(mp.mpf, q), map(mp.mpf, c.q3[i]))])
        chord = w * kpq + (1 - w) * m_kl(c.p3[i], c.q3[i])
        assert close(c.kl_mixed[i], mixed, rel=1e-12) and close(c.kl_chord[i], chord, rel=1e-12)
        assert c.kl_chord[i] >= c.kl_mixed[i] - 1e-15
        assert close(c.triangle[i], kpq - m_kl(p, r) - m_kl(r, q), rel=1e-11, abs_=1e-14)
    np.testing.assert_array_equal(c.kl_pq, check_properties(12, 4, k2=3, seed=5).kl_pq)


def test_gaussian_pushforwards_are_the_images():
    mu, sd = 0.4, 0.8
    img = gaussian_pushforwards(mu, sd)
    for x in (-2.0, -0.3, 0.0, 0.9, 2.5):
        ref = mp.ncdf((mp.mpf(x) - mu) / sd)  # P(X <= x) = P(g(X) <= g(x)) for increasing g
        assert close(float(img["exp"].cdf(math.exp(x))), ref, rel=1e-12, abs_=1e-15)
        assert close(float(img["sinh"].cdf(math.sinh(x))), ref, rel=1e-12, abs_=1e-15)
    with pytest.raises(ValueError, match="std"):
        gaussian_pushforwards(0.0, 0.0)
    with pytest.raises(ValueError, match="mean"):
        gaussian_pushforwards(math.inf, 1.0)


def test_check_gaussian_properties_against_closed_form():
    c = check_gaussian_properties(3, dim=2, seed=1)
    assert isinstance(c, GaussianChecks)

    def m_gauss(m1, s1, m2, s2):
        m1, s1, m2, s2 = (mp.mpf(v) for v in (m1, s1, m2, s2))
        return mp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - mp.mpf(1) / 2

    for i in range(3):
        args = [(c.means_p[i, j], c.stds_p[i, j], c.means_q[i, j], c.stds_q[i, j]) for j in range(2)]
        ref = m_gauss(*args[0])
        assert close(c.kl[i], ref, rel=1e-13)
        assert close(c.kl_exp[i], ref, rel=1e-9, abs_=1e-12)
        assert close(c.kl_sinh[i], ref, rel=1e-9, abs_=1e-12)
        total = m_gauss(*args[0]) + m_gauss(*args[1])
        assert close(c.kl_joint[i], total, rel=1e-12) and close(c.kl_sum[i], total, rel=1e-13)


def test_check_errors():
    with pytest.raises(ValueError, match="n_pairs"):
        check_properties(0)
    with pytest.raises(TypeError, match="n_pairs"):
        check_properties(2.5)
    with pytest.raises(ValueError, match="dim"):
        check_gaussian_properties(2, dim=0)


def test_docstring_examples():
    import doctest

    import klbook.book.properties as kp

    result = doctest.testmod(kp, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0
