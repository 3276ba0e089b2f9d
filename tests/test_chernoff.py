"""Tests of klbook.chernoff_information against independent mpmath references.

References: g(lambda) = log sum p^lambda q^(1-lambda) summed (vectors) or in
hand-derived closed form (normal, exponential, Poisson pairs) at 40 digits,
minimised over [0, 1] by golden-section search in mpmath (g is convex).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from klbook import ChernoffResult, chernoff_information, kl_divergence, renyi_divergence

MP_DPS = 40


def golden_min(g, lo=mp.mpf(0), hi=mp.mpf(1), iters=200):
    """Minimise a convex function of one variable on [lo, hi] (mpmath), ends included."""
    phi = (mp.sqrt(5) - 1) / 2
    a, b = mp.mpf(lo), mp.mpf(hi)
    c, d = b - phi * (b - a), a + phi * (b - a)
    gc, gd = g(c), g(d)
    for _ in range(iters):
        if gc < gd:
            b, d, gd = d, c, gc
            c = b - phi * (b - a)
            gc = g(c)
        else:
            a, c, gc = c, d, gd
            d = a + phi * (b - a)
            gd = g(d)
    x = (a + b) / 2
    cands = [(g(x), x), (g(mp.mpf(lo)), mp.mpf(lo)), (g(mp.mpf(hi)), mp.mpf(hi))]
    return min(cands, key=lambda t: t[0])


def ref_vectors(p, q):
    P = [mp.mpf(float(v)) for v in p]
    Q = [mp.mpf(float(v)) for v in q]

    def g(lam):
        s = mp.fsum(a**lam * b ** (1 - lam) for a, b in zip(P, Q) if a > 0 and b > 0)
        if lam == 0:
            s = mp.fsum(b for a, b in zip(P, Q) if a > 0)
        if lam == 1:
            s = mp.fsum(a for a, b in zip(P, Q) if b > 0)
        return mp.log(s)

    val, lam = golden_min(g)
    return -val, lam


def ref_normal(m1, s1, m2, s2):
    m1, s1, m2, s2 = (mp.mpf(float(v)) for v in (m1, s1, m2, s2))

    def g(lam):  # log int N(m1,s1^2)^lam N(m2,s2^2)^(1-lam), derived by completing the square
        v = (1 - lam) * s1**2 + lam * s2**2
        return (1 - lam) * mp.log(s1) + lam * mp.log(s2) - mp.log(v) / 2 - lam * (1 - lam) * (m1 - m2) ** 2 / (2 * v)

    val, lam = golden_min(g)
    return -val, lam


def ref_expon(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    val, lam = golden_min(lambda t: t * mp.log(a) + (1 - t) * mp.log(b) - mp.log(t * a + (1 - t) * b))
    return -val, lam


def ref_poisson(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    val, lam = golden_min(lambda t: a**t * b ** (1 - t) - t * a - (1 - t) * b)
    return -val, lam


def rel(x, ref):
    ref = mp.mpf(ref)
    return float(abs((mp.mpf(x) - ref) / ref)) if ref != 0 else abs(x)


def dyadic(rng, n, eps):
    m_ = 2**52
    k = np.floor(rng.dirichlet(np.ones(n)) * m_).astype(np.int64)
    k[np.argmax(k)] += m_ - k.sum()
    w = k * np.exp(eps * rng.normal(size=n))
    q = np.floor(w / w.sum() * m_).astype(np.int64)
    q[np.argmax(q)] += m_ - q.sum()
    return k / m_, q / m_


@pytest.mark.parametrize("eps", [1.0, 0.1, 1e-3, 1e-6])
@pytest.mark.parametrize("seed", range(3))
def test_vectors_match_mpmath(seed, eps):
    p, q = dyadic(np.random.default_rng(seed), 7, eps)
    ref, lam = ref_vectors(p, q)
    r = chernoff_information(p, q)
    assert rel(r.value, ref) < 1e-12
    if eps >= 1e-3:
        assert abs(r.lam - float(lam)) < 1e-6


def test_near_identical_vectors_keep_relative_accuracy():
    d = 2.0**-30
    p, q = [0.5, 0.5], [0.5 + d, 0.5 - d]
    ref, _ = ref_vectors(p, q)
    r = chernoff_information(p, q)
    assert rel(r.value, ref) < 1e-12 and abs(r.lam - 0.5) < 1e-6


def test_vectors_with_partial_supports_and_endpoint_optimum():
    # supp p inside supp q with q restricted to supp p proportional to p: the optimum is lambda = 0
    r = chernoff_information([0.5, 0.5, 0.0], [0.25, 0.25, 0.5])
    assert r.lam == 0.0 and rel(r.value, mp.log(2)) < 1e-15
    p, q = [0.2, 0.3, 0.5, 0.0], [0.0, 0.4, 0.4, 0.2]
    ref, _ = ref_vectors(p, q)
    assert rel(chernoff_information(p, q).value, ref) < 1e-12


def test_special_values():
    r = chernoff_information([0.3, 0.7], [0.3, 0.7])
    assert r.value == 0.0 and math.copysign(1, r.value) == 1 and r.lam == 0.5
    assert chernoff_information([1.0, 0.0], [0.0, 1.0]).value == math.inf
    assert chernoff_information(stats.poisson(2), stats.norm(0, 1)).value == math.inf
    assert isinstance(chernoff_information([0.5, 0.5], [0.9, 0.1]), ChernoffResult)
    assert float(chernoff_information([0.5, 0.5], [0.9, 0.1])) == chernoff_information([0.5, 0.5], [0.9, 0.1]).value


@pytest.mark.parametrize(
    "m1,s1,m2,s2", [(0, 1, 2, 1), (0, 1, 1, 2), (3, 0.5, -1, 4), (1e6, 1, 1e6 + 1e-6, 1), (0, 1, 0, 1 + 2**-30)]
)
def test_normal_pairs_match_closed_form(m1, s1, m2, s2):
    ref, lam = ref_normal(m1, s1, m2, s2)
    r = chernoff_information(stats.norm(m1, s1), stats.norm(m2, s2))
    assert rel(r.value, ref) < 1e-11
    assert abs(r.lam - float(lam)) < 1e-5


def test_equal_variance_normals_give_a_quarter_of_the_bhattacharyya_midpoint():
    r = chernoff_information(stats.norm(0, 2), stats.norm(3, 2))
    assert rel(r.value, mp.mpf(9) / 32) < 1e-15 and abs(r.lam - 0.5) < 1e-8


def test_multivariate_normals_equal_covariance_closed_form():
    cov = np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 3.0]])
    m1, m2 = np.array([0.0, 1.0, -1.0]), np.array([1.0, 0.5, 0.0])
    d = mp.matrix((m1 - m2).tolist())
    ref = (d.T * mp.inverse(mp.matrix(cov.tolist())) * d)[0] / 8
    r = chernoff_information(stats.multivariate_normal(m1, cov), stats.multivariate_normal(m2, cov))
    assert rel(r.value, ref) < 1e-13 and abs(r.lam - 0.5) < 1e-8


@pytest.mark.parametrize("a,b", [(1.0, 3.0), (2.0, 2.5), (0.1, 10.0)])
def test_exponential_pairs_by_quadrature(a, b):
    ref, lam = ref_expon(a, b)
    r = chernoff_information(stats.expon(scale=1 / a), stats.expon(scale=1 / b))
    assert rel(r.value, ref) < 1e-9
    assert abs(r.lam - float(lam)) < 1e-4


@pytest.mark.parametrize("a,b", [(3.0, 5.0), (0.5, 40.0)])
def test_poisson_pairs_by_summation(a, b):
    ref, lam = ref_poisson(a, b)
    r = chernoff_information(stats.poisson(a), stats.poisson(b))
    assert rel(r.value, ref) < 1e-10
    assert abs(r.lam - float(lam)) < 1e-4


@settings(max_examples=30)
@given(
    st.lists(st.floats(0.01, 1.0), min_size=2, max_size=6),
    st.lists(st.floats(0.01, 1.0), min_size=2, max_size=6),
)
def test_bounds_and_symmetry(a, b):
    n = min(len(a), len(b))
    p = np.array(a[:n]) / sum(a[:n])
    q = np.array(b[:n]) / sum(b[:n])
    p, q = p / p.sum(), q / q.sum()
    r, s = chernoff_information(p, q), chernoff_information(q, p)
    assert abs(r.value - s.value) <= 1e-12 * max(r.value, 1e-300) + 1e-300
    # -log BC = D_1/2 / 2 <= C <= min of the two KLs
    tol = 1e-12 * max(r.value, 1e-300)
    assert 0.5 * renyi_divergence(p, q, 0.5) <= r.value + tol
    assert r.value <= min(kl_divergence(p, q), kl_divergence(q, p)) + tol


def test_base_and_bad_input():
    p, q = [0.5, 0.5], [0.9, 0.1]
    assert chernoff_information(p, q, base=2).value == pytest.approx(chernoff_information(p, q).value / math.log(2), rel=1e-15)
    with pytest.raises(TypeError, match="q"):
        chernoff_information(p, None)
    with pytest.raises(TypeError):
        chernoff_information(stats.norm(), p)
    with pytest.raises(ValueError):
        chernoff_information([0.5, 0.6], q)
