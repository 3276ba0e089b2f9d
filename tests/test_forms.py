"""Tests of klbook.book.forms: the written forms of KL, per-outcome terms, code lengths, exact values.

References are independent of the implementation:

* mpmath at 50 significant digits, every float64 input converted exactly
  (``mpmath.mpf(float)``), so the reference is the exact value of the formula
  for the floats given;
* exact rationals (:class:`fractions.Fraction`) for inputs of :func:`kl_exact`
  (which uses :mod:`decimal`), and mpmath at 80 digits as its reference;
* closed forms derived by hand: dyadic distributions, whose code lengths are
  whole numbers of bits and whose divergence in bits is rational, and the
  divergences of normal, exponential, Laplace and uniform pairs.
"""

from __future__ import annotations

import decimal
import doctest
import math
import warnings
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_samples import t3_normal_kl_integrand
from scipy import stats

import klbook
import klbook.book.forms as kf
from klbook.book.forms import FORM_NAMES, KLForms, code_lengths, kl_exact, kl_forms, kl_terms

DPS = 50
EPS = 2.0**-52

# Two loaded dice whose probabilities are powers of 1/2 (the chapter's example).
DYADIC_P = [Fraction(1, 2), Fraction(1, 8), Fraction(1, 8), Fraction(1, 8), Fraction(1, 16), Fraction(1, 16)]
DYADIC_Q = [Fraction(1, 4), Fraction(1, 4), Fraction(1, 8), Fraction(1, 8), Fraction(1, 8), Fraction(1, 8)]


# --------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------


def mlog(x: float) -> mp.mpf:
    with mp.workdps(DPS):
        return mp.log(mp.mpf(x))


def terms_ref(p, q) -> list:
    """p_i (log p_i - log q_i) of the exact float inputs, 50 digits; 0 for p_i = 0; inf for p_i > 0 = q_i."""
    out = []
    with mp.workdps(DPS):
        for a, b in zip(np.asarray(p, float).tolist(), np.asarray(q, float).tolist()):
            if a == 0.0:
                out.append(mp.mpf(0))
            elif b == 0.0:
                out.append(mp.inf)
            else:
                out.append(mp.mpf(a) * (mlog(a) - mlog(b)))
    return out


def kl_ref(p, q) -> mp.mpf:
    with mp.workdps(DPS):
        return mp.fsum(terms_ref(p, q))


def scale_ref(p, q) -> float:
    """sum |p log p| + sum |p log q|: the size of what the literal forms round."""
    s = 0.0
    for a, b in zip(np.asarray(p, float).tolist(), np.asarray(q, float).tolist()):
        if a > 0.0 and b > 0.0:
            s += abs(a * math.log(a)) + abs(a * math.log(b))
    return s


@st.composite
def prob_pair(draw, with_zeros=True):
    """Two probability vectors of the same length (floats, normalised by division), some zeros."""
    n = draw(st.integers(min_value=1, max_value=12))
    weights = st.floats(min_value=1e-6, max_value=1.0)
    if with_zeros:
        weights = st.one_of(st.just(0.0), weights)
    a = np.array(draw(st.lists(weights, min_size=n, max_size=n)))
    b = np.array(draw(st.lists(st.floats(min_value=1e-6, max_value=1.0), min_size=n, max_size=n)))
    if a.sum() == 0.0:
        a[0] = 1.0
    if with_zeros and draw(st.booleans()):
        b[draw(st.integers(min_value=0, max_value=n - 1))] = 0.0  # q may miss an outcome
        if b.sum() == 0.0:
            b[:] = 1.0
    return a / a.sum(), b / b.sum()


# --------------------------------------------------------------------------
# kl_terms
# --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(prob_pair(), st.sampled_from([None, 2, 10, 1.5]))
def test_kl_terms_match_mpmath(pair, base):
    p, q = pair
    got = kl_terms(p, q, base=base)
    ref = terms_ref(p, q)
    assert got.shape == p.shape
    assert not np.isnan(got).any()
    lb = 1.0 if base is None else math.log(base)
    for g, r, a, b in zip(got.tolist(), ref, p.tolist(), q.tolist()):
        if r == mp.inf:
            assert g == (math.inf if lb > 0 else -math.inf)
        else:
            r = float(r) / lb
            # log(a/b) as written: the rounding of a/b costs eps relative to log(a/b)'s argument
            size = abs(r) + (a * (abs(math.log(a)) + abs(math.log(b))) + a) / abs(lb) if a > 0 else 0.0
            assert abs(g - r) <= 8 * EPS * size + 1e-300


def test_kl_terms_conventions():
    # 0 log(0/q) = 0 for q > 0 and for q = 0; p log(p/0) = inf
    t = kl_terms([0.0, 0.0, 1.0], [0.5, 0.0, 0.5])
    assert t.tolist() == [0.0, 0.0, math.log(2.0)]
    t = kl_terms([0.25, 0.75], [1.0, 0.0], base=2)
    assert t[0] == -0.5 and t[1] == math.inf
    # a term is negative where q > p; the total is not
    t = kl_terms([0.2, 0.8], [0.6, 0.4])
    assert t[0] < 0 < t.sum()


def test_kl_terms_dyadic_in_bits_is_hand_derived():
    # p_i log2(p_i / q_i) with p_i / q_i a power of 2: (1/2)(1), (1/8)(-1), 0, 0, (1/16)(-1), (1/16)(-1)
    t = kl_terms([float(x) for x in DYADIC_P], [float(x) for x in DYADIC_Q], base=2)
    expected = [0.5, -0.125, 0.0, 0.0, -0.0625, -0.0625]
    assert np.allclose(t, expected, rtol=4 * EPS, atol=0)


@pytest.mark.parametrize(
    "p, q, exc",
    [
        ([0.5, 0.5], [1.0], ValueError),
        ([0.5, 0.6], [0.5, 0.5], ValueError),  # never renormalised
        ([1.5, -0.5], [0.5, 0.5], ValueError),
        ([float("nan"), 1.0], [0.5, 0.5], ValueError),
        (["a", "b"], [0.5, 0.5], TypeError),
    ],
)
def test_kl_terms_rejects_bad_vectors(p, q, exc):
    with pytest.raises(exc):
        kl_terms(p, q)


def test_kl_terms_rejects_bad_base():
    with pytest.raises(ValueError):
        kl_terms([1.0], [1.0], base=1)
    with pytest.raises(TypeError):
        kl_terms([1.0], [1.0], base="2")


# --------------------------------------------------------------------------
# code_lengths
# --------------------------------------------------------------------------


def test_code_lengths_dyadic_are_whole_bits():
    assert code_lengths([float(x) for x in DYADIC_P]).tolist() == [1.0, 3.0, 3.0, 3.0, 4.0, 4.0]
    assert code_lengths([float(x) for x in DYADIC_Q]).tolist() == [2.0, 2.0, 3.0, 3.0, 3.0, 3.0]
    assert code_lengths([1.0, 0.0]).tolist() == [0.0, math.inf]
    assert str(code_lengths([1.0])[0]) == "0.0"  # not -0.0


def test_extra_code_length_is_kl_in_bits():
    # hand-derived: sum_x p(x) (L_q(x) - L_p(x)) = 1/2 - 1/8 - 1/16 - 1/16 = 1/4 bit
    p = np.array([float(x) for x in DYADIC_P])
    q = np.array([float(x) for x in DYADIC_Q])
    extra = float(np.sum(p * (code_lengths(q) - code_lengths(p))))
    assert extra == 0.25
    assert abs(klbook.kl_divergence(p, q, base=2) - 0.25) <= 2 * EPS


@settings(max_examples=60, deadline=None)
@given(prob_pair(), st.sampled_from([2, 10, math.e]))
def test_code_lengths_match_mpmath(pair, base):
    q = pair[1]
    got = code_lengths(q, base=base)
    with mp.workdps(DPS):
        for g, x in zip(got.tolist(), q.tolist()):
            if x == 0.0:
                assert g == math.inf
            else:
                r = float(-mlog(x) / mp.log(mp.mpf(base)))
                assert abs(g - r) <= 4 * EPS * abs(r) + 1e-300


def test_code_lengths_rejects_none_base():
    with pytest.raises(TypeError):
        code_lengths([0.5, 0.5], base=None)


# --------------------------------------------------------------------------
# kl_forms on vectors
# --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(prob_pair(), st.sampled_from([None, 2]))
def test_kl_forms_vectors_match_mpmath(pair, base):
    p, q = pair
    f = kl_forms(p, q, base=base)
    assert isinstance(f, KLForms) and f.kind == "sum"
    assert f.unit == ("nats" if base is None else "bits")
    ref = kl_ref(p, q)
    lb = 1.0 if base is None else math.log(2.0)
    if ref == mp.inf:
        assert all(v == math.inf for v in f.as_dict().values())
        assert f.spread == 0.0
        return
    r = float(ref) / lb
    # The forms are evaluated literally, as written: log(p/q) of a rounded ratio carries an absolute
    # error of about eps per unit of p (log(1 + d) ~ d), so the bound has an absolute part, sum(p) = 1.
    tol = 64 * EPS * (scale_ref(p, q) / lb + abs(r) + 1.0 / lb) + 1e-300
    for name, v in f.as_dict().items():
        assert math.isfinite(v), name
        assert abs(v - r) <= tol, (name, v, r)
    assert f.spread <= 2 * tol


def test_kl_forms_dyadic_dice():
    p = [float(x) for x in DYADIC_P]
    q = [float(x) for x in DYADIC_Q]
    bits = kl_forms(p, q, base=2)
    for v in bits.as_dict().values():
        assert abs(v - 0.25) <= 4 * EPS
    nats = kl_forms(p, q)
    ln2 = float(mlog(2.0))
    for v in nats.as_dict().values():
        assert abs(v - 0.25 * ln2) <= 4 * EPS


def test_kl_forms_zero_and_infinite():
    f = kl_forms([0.3, 0.7, 0.0], [0.3, 0.7, 0.0])
    assert f.as_dict() == dict.fromkeys(FORM_NAMES, 0.0)
    g = kl_forms([0.5, 0.5], [1.0, 0.0])
    assert g.as_dict() == dict.fromkeys(FORM_NAMES, math.inf)
    assert g.spread == 0.0
    h = kl_forms([1.0, 0.0], [0.5, 0.5])  # 0 log(0/q) = 0: finite
    assert all(abs(v - math.log(2.0)) <= 2 * EPS for v in h.as_dict().values())


def test_kl_forms_container():
    f = kl_forms([0.5, 0.5], [0.25, 0.75])
    assert tuple(f.as_dict()) == FORM_NAMES
    assert set(f.labels()) == set(FORM_NAMES)
    assert "Σ" in f.labels()["direct"]
    vals = list(f.as_dict().values())
    assert f.spread == max(vals) - min(vals)
    with pytest.raises(AttributeError):
        f.direct = 1.0  # frozen


# --------------------------------------------------------------------------
# kl_forms on densities, against hand-derived closed forms
# --------------------------------------------------------------------------


def _normal(m1, s1, m2, s2):
    m1, s1, m2, s2 = (mp.mpf(v) for v in (m1, s1, m2, s2))
    return mp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - mp.mpf(1) / 2


def _exponential(l1, l2):  # rates
    l1, l2 = mp.mpf(l1), mp.mpf(l2)
    return mp.log(l1 / l2) + l2 / l1 - 1


def _laplace(b1, b2):  # same location
    b1, b2 = mp.mpf(b1), mp.mpf(b2)
    return mp.log(b2 / b1) + b1 / b2 - 1


def _uniform_in(w_p, w_q):
    return mp.log(mp.mpf(w_q) / mp.mpf(w_p))


@pytest.mark.parametrize(
    "p, q, ref",
    [
        (stats.norm(0, 1), stats.norm(1, 2), lambda: _normal(0, 1, 1, 2)),
        (stats.norm(0.3, 0.5), stats.norm(-1, 0.8), lambda: _normal(0.3, 0.5, -1, 0.8)),
        (stats.norm(2, 1), stats.norm(2, 1), lambda: mp.mpf(0)),
        (stats.expon(scale=1 / 2.0), stats.expon(scale=1 / 0.5), lambda: _exponential(2.0, 0.5)),
        (stats.laplace(0, 1), stats.laplace(0, 3), lambda: _laplace(1, 3)),
        (stats.uniform(0, 1), stats.uniform(-1, 3), lambda: _uniform_in(1, 3)),
    ],
    ids=["normal", "normal-2", "equal", "exponential", "laplace", "uniform"],
)
def test_kl_forms_densities_match_closed_forms(p, q, ref):
    with mp.workdps(DPS):
        r = float(ref())
    f = kl_forms(p, q)
    assert f.kind == "integral" and f.unit == "nats"
    for name, v in f.as_dict().items():
        assert abs(v - r) <= 1e-11 * max(1.0, abs(r)), (name, v, r)
    fb = kl_forms(p, q, base=2)
    for v in fb.as_dict().values():
        assert abs(v - r / math.log(2.0)) <= 2e-11 * max(1.0, abs(r))


def test_kl_forms_densities_infinite():
    # q misses part of p's support
    f = kl_forms(stats.uniform(0, 2), stats.uniform(0, 1))
    assert f.as_dict() == dict.fromkeys(FORM_NAMES, math.inf)
    # heavy-tailed p against a light-tailed q: E_p[x^2] is infinite
    g = kl_forms(stats.cauchy(), stats.norm())
    assert g.as_dict() == dict.fromkeys(FORM_NAMES, math.inf)


@pytest.mark.parametrize(
    "p, q, exc",
    [
        (stats.norm(), [0.5, 0.5], TypeError),
        ([0.5, 0.5], stats.norm(), TypeError),
        (stats.poisson(2), stats.poisson(3), TypeError),
        (stats.multivariate_normal([0, 0]), stats.multivariate_normal([1, 0]), TypeError),
        (stats.norm(0, -1), stats.norm(), ValueError),
    ],
    ids=["dist-vector", "vector-dist", "discrete", "multivariate", "bad-scale"],
)
def test_kl_forms_rejects(p, q, exc):
    with pytest.raises(exc):
        kl_forms(p, q)


# --------------------------------------------------------------------------
# kl_exact
# --------------------------------------------------------------------------


def exact_ref(p, q, base=None, dps=80) -> mp.mpf:
    """mpmath at 80 digits of sum p_i log(p_i/q_i) for Fraction inputs (a different library from decimal)."""
    with mp.workdps(dps):
        s = mp.mpf(0)
        for a, b in zip(p, q):
            if a == 0:
                continue
            if b == 0:
                return mp.inf
            s += mp.mpf(a.numerator) / a.denominator * (
                mp.log(mp.mpf(a.numerator) / a.denominator) - mp.log(mp.mpf(b.numerator) / b.denominator)
            )
        if base is not None:
            s /= mp.log(base)
        return s


def test_kl_exact_dyadic_is_a_quarter_bit():
    d = kl_exact(DYADIC_P, DYADIC_Q, base=2)
    assert d == decimal.Decimal("0.25")
    assert str(d) == "0." + "25" + "0" * 28  # 30 significant digits shown
    assert kl_exact(DYADIC_P, DYADIC_Q, base=2, digits=5) == decimal.Decimal("0.25000")


@st.composite
def fraction_pair(draw):
    n = draw(st.integers(min_value=1, max_value=8))
    a = draw(st.lists(st.integers(min_value=0, max_value=50), min_size=n, max_size=n))
    b = draw(st.lists(st.integers(min_value=1, max_value=50), min_size=n, max_size=n))
    if sum(a) == 0:
        a[0] = 1
    return [Fraction(x, sum(a)) for x in a], [Fraction(x, sum(b)) for x in b]


@settings(max_examples=80, deadline=None)
@given(fraction_pair(), st.sampled_from([None, 2, 10]), st.sampled_from([5, 30, 60]))
def test_kl_exact_matches_mpmath(pair, base, digits):
    p, q = pair
    d = kl_exact(p, q, base=base, digits=digits)
    r = exact_ref(p, q, base)
    if r == 0:
        assert d == 0
        return
    # |d - r| within half a unit in the last of `digits` significant digits
    with mp.workdps(80):
        ulp = mp.mpf(10) ** (mp.floor(mp.log10(abs(r))) - digits + 1)
        assert abs(mp.mpf(str(d)) - r) <= ulp / 2 * (1 + mp.mpf(10) ** -20)


def test_kl_exact_survives_cancellation():
    # p and q differ by 1e-30: terms of size 1e-30 cancel to a divergence of order 1e-60
    e = Fraction(1, 10**30)
    p = [Fraction(1, 2) + e, Fraction(1, 2) - e]
    q = [Fraction(1, 2) - e, Fraction(1, 2) + e]
    d = kl_exact(p, q, digits=20)
    r = exact_ref(p, q, dps=200)
    with mp.workdps(200):
        assert abs(mp.mpf(str(d)) / r - 1) < mp.mpf(10) ** -19
    assert d > 0


def test_kl_exact_inputs_and_conventions():
    assert kl_exact(["1/2", "1/2"], [0.25, 0.75]) == kl_exact([Fraction(1, 2)] * 2, ["0.25", "0.75"])
    assert kl_exact([decimal.Decimal("0.5"), 0.5], [1, 0]) == decimal.Decimal("Infinity")
    assert kl_exact([1, 0], [Fraction(1, 3), Fraction(2, 3)], digits=10) == decimal.Decimal(
        str(mp.nstr(mp.log(3), 10))
    )
    assert kl_exact(["1/3", "2/3"], ["1/3", "2/3"]) == 0
    # the float of the exact value is the correctly rounded double of the 50-digit reference
    p, q = [Fraction(1, 6)] * 6, [Fraction(1, 4), Fraction(1, 4)] + [Fraction(1, 8)] * 4
    assert float(kl_exact(p, q, digits=40)) == float(exact_ref(p, q))


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"p": [0.1] * 10, "q": [Fraction(1, 10)] * 10}, ValueError),  # float 0.1s do not sum to 1 exactly
        ({"p": ["1/2", "1/3"], "q": ["1/2", "1/2"]}, ValueError),
        ({"p": ["3/2", "-1/2"], "q": ["1/2", "1/2"]}, ValueError),
        ({"p": [1], "q": ["1/2", "1/2"]}, ValueError),
        ({"p": [], "q": []}, ValueError),
        ({"p": ["x", 1], "q": ["1/2", "1/2"]}, ValueError),
        ({"p": [True], "q": [1]}, TypeError),
        ({"p": [None], "q": [1]}, TypeError),
        ({"p": "1", "q": [1]}, TypeError),
        ({"p": [1], "q": [1], "base": 1}, ValueError),
        ({"p": [1], "q": [1], "base": -2}, ValueError),
        ({"p": [1], "q": [1], "digits": 0}, ValueError),
        ({"p": [1], "q": [1], "digits": 2.5}, TypeError),
        ({"p": [float("inf")], "q": [1]}, ValueError),
    ],
)
def test_kl_exact_rejects(kwargs, exc):
    with pytest.raises(exc):
        kl_exact(**kwargs)


def test_kl_exact_agrees_with_float_engine():
    p, q = DYADIC_P, [Fraction(1, 6)] * 6
    exact = float(kl_exact(p, q))
    assert abs(klbook.kl_divergence([float(x) for x in p], [float(x) for x in q]) - exact) <= 4 * EPS * exact


def test_doctests():
    res = doctest.testmod(kf, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted >= 10


def test_kl_forms_heavy_tail_and_near_equal_densities():
    """Through the engine's quadrature: t_3 against N(0, 1) (a tail that decays like x^-2 log x) to
    1e-11 of an mpmath reference; nearly equal normals (each literal term is O(1e-6) while the
    divergence is 5e-13) come back without an error or a warning, each form within the literal
    forms' documented loss (about eps / D = 1e-4 relative)."""
    with mp.workdps(30):
        ref = float(2 * mp.quad(t3_normal_kl_integrand, [0, 1, 10, 100, mp.inf]))
    for v in kl_forms(stats.t(3), stats.norm()).as_dict().values():
        assert abs(v - ref) <= 1e-11 * ref
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forms = kl_forms(stats.norm(0, 1), stats.norm(1e-6, 1))
    for v in forms.as_dict().values():
        assert abs(v - 5e-13) <= 1e-3 * 5e-13
