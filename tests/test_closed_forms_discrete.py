"""Tests for klbook.core.closed_forms.discrete: Bernoulli, binomial (different n included),
Poisson, geometric, negative binomial and discrete uniform, in scipy's parametrisation.

References are independent of the implementation: the textbook formulas and
exact sums over the support, evaluated by mpmath at 40-60 significant digits
(where cancellation is harmless), with the pmfs written here from their formulas.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st_h
from scipy import stats

from klbook import kl_divergence
from klbook.core.closed_forms import kl_distributions, kl_registry_table
from klbook.core.closed_forms.discrete import kl_bernoulli_params, kl_poisson_params

INF = mp.inf


def rel_err(value: float, ref) -> float:
    ref = mp.mpf(ref)
    if ref == 0:
        return abs(value)
    return float(abs(mp.mpf(value) - ref) / abs(ref))


# --------------------------------------------------------------------------------------
# Textbook references (mpmath; inputs are the exact binary floats).
def xlogy(x, y):
    """x log y with 0 log 0 = 0."""
    return mp.mpf(0) if x == 0 else x * mp.log(y)


def ref_bernoulli(a, b):
    # a log(a/b) + (1-a) log((1-a)/(1-b)); the second log as log1p((b-a)/(1-b)) so that
    # a, b ~ 1e-300 are not lost in 1 - a at any working precision.
    with mp.workdps(60):
        a, b = mp.mpf(a), mp.mpf(b)
        first = mp.mpf(0) if a == 0 else a * mp.log(a / b)
        if a == 1:
            second = mp.mpf(0)
        elif b == 1:
            second = INF
        else:
            second = (1 - a) * mp.log1p((b - a) / (1 - b))
        return first + second


def ref_poisson(m1, m2):
    with mp.workdps(60):
        m1, m2 = mp.mpf(m1), mp.mpf(m2)
        return (m1 * mp.log(m1 / m2) if m1 > 0 else 0) - m1 + m2


def ref_geom(a, b):
    # E[K - 1] = (1 - a)/a failures before the first success.
    with mp.workdps(60):
        a, b = mp.mpf(a), mp.mpf(b)
        return mp.log(a / b) + (xlogy(1 - a, (1 - a) / (1 - b)) / a if a < 1 else 0)


def ref_nbinom(n, a, b):
    with mp.workdps(60):
        n, a, b = mp.mpf(n), mp.mpf(a), mp.mpf(b)
        return n * mp.log(a / b) + (n * xlogy(1 - a, (1 - a) / (1 - b)) / a if a < 1 else 0)


def lpmf_binom(n, p, loc=0):
    p = mp.mpf(p)

    def f(k):
        j = k - loc
        if not 0 <= j <= n:
            return -INF
        return mp.log(mp.binomial(n, j)) + xlogy(j, p) + xlogy(n - j, 1 - p)

    return f


def lpmf_poisson(mu, loc=0):
    mu = mp.mpf(mu)
    return lambda k: (k - loc) * mp.log(mu) - mu - mp.loggamma(k - loc + 1) if k >= loc else -INF


def lpmf_geom(p, loc=0):
    p = mp.mpf(p)
    return lambda k: (k - loc - 1) * mp.log(1 - p) + mp.log(p) if k >= loc + 1 else -INF


def lpmf_nbinom(n, p):
    n, p = mp.mpf(n), mp.mpf(p)
    return lambda k: mp.loggamma(k + n) - mp.loggamma(n) - mp.loggamma(k + 1) + n * mp.log(p) + k * mp.log(1 - p)


def sum_kl(lp, lq, ks, dps=40):
    """:math:`\\sum_k p_k (\\log p_k - \\log q_k)` over ``ks`` in mpmath."""
    with mp.workdps(dps):
        total = mp.mpf(0)
        for k in ks:
            a = lp(k)
            if a == -INF:
                continue
            b = lq(k)
            if b == -INF:
                return INF
            total += mp.exp(a) * (a - b)
        return total


# --------------------------------------------------------------------------------------
# Bernoulli
@pytest.mark.parametrize(
    "a,b",
    [
        (0.3, 0.7),
        (0.5, 1e-300),
        (1e-10, 2e-10),
        (1 - 1e-10, 1 - 2e-10),
        (0.3, 0.3000001),
        (0.5, 0.5 + 1e-12),  # KL ~ 2e-24: every term is O(1e-12), the sum O(1e-24)
        (0.25, 0.25 * (1 + 2**-40)),
    ],
)
def test_bernoulli_against_mpmath(a, b):
    value = kl_distributions(stats.bernoulli(a), stats.bernoulli(b))
    assert rel_err(value, ref_bernoulli(a, b)) < 1e-14


unit = st_h.floats(min_value=1e-300, max_value=1.0, exclude_max=True)


@settings(max_examples=150, deadline=None)
@given(a=unit, b=unit, rel=st_h.one_of(st_h.just(0.0), st_h.floats(-1e-3, 1e-3)))
def test_bernoulli_property_against_mpmath(a, b, rel):
    """Random pairs, including near-equal ones (b = a(1 + rel))."""
    if rel != 0.0:
        b = a * (1 + rel)
        assume(0 < b < 1)
    value = kl_bernoulli_params(a, b)
    ref = ref_bernoulli(a, b)
    assert value >= 0 and not math.isnan(value)
    assert rel_err(value, ref) < 1e-13 or abs(value - float(ref)) < 1e-300


def test_bernoulli_boundaries_and_infinity():
    assert kl_bernoulli_params(0.5, 0.0) == math.inf
    assert kl_bernoulli_params(0.5, 1.0) == math.inf
    assert kl_bernoulli_params(0.0, 0.0) == 0.0
    assert kl_bernoulli_params(1.0, 1.0) == 0.0
    assert rel_err(kl_bernoulli_params(0.0, 0.3), -mp.log(mp.mpf(1) - mp.mpf(0.3))) < 1e-15
    assert rel_err(kl_bernoulli_params(1.0, 0.3), -mp.log(mp.mpf(0.3))) < 1e-15
    # Through the registry, scipy objects, and the example.
    assert kl_distributions(stats.bernoulli(0.5), stats.bernoulli(0)) == math.inf


@settings(max_examples=60, deadline=None)
@given(a=st_h.sampled_from([0.0, 1.0, 0.5, 1e-300, 1 - 2**-53]), b=st_h.sampled_from([0.0, 1.0, 0.5, 1e-300, 0.25]))
def test_bernoulli_never_nan_zero_iff_equal(a, b):
    v = kl_distributions(stats.bernoulli(a), stats.bernoulli(b))
    assert not math.isnan(v) and v >= 0
    assert (v == 0.0) == (a == b)


def test_bernoulli_with_locs():
    # Different locs: p's atoms {1, 2} are not all atoms of q's {0, 1}.
    assert kl_distributions(stats.bernoulli(0.5, loc=1), stats.bernoulli(0.5)) == math.inf
    # ... unless p's mass at 2 is exactly 0: bernoulli(0, loc=1) is the point mass at 1.
    assert rel_err(kl_distributions(stats.bernoulli(0.0, loc=1), stats.bernoulli(0.3)), -mp.log(mp.mpf(0.3))) < 1e-14
    # Atoms between q's atoms.
    assert kl_distributions(stats.bernoulli(0.5, loc=0.5), stats.bernoulli(0.5)) == math.inf
    # Same non-zero loc: the closed form.
    v = kl_distributions(stats.bernoulli(0.2, loc=-3), stats.bernoulli(0.6, loc=-3))
    assert rel_err(v, ref_bernoulli(0.2, 0.6)) < 1e-14
    # Cross-family with a shift: Bernoulli on {1, 2} against Binomial(3) on {0, .., 3}.
    v = kl_distributions(stats.bernoulli(0.4, loc=1), stats.binom(3, 0.5))
    ref = sum_kl(lambda k: mp.log(mp.mpf(0.4) if k == 2 else 1 - mp.mpf(0.4)) if k in (1, 2) else -INF,
                 lpmf_binom(3, 0.5), range(0, 4))
    assert rel_err(v, ref) < 1e-14


# --------------------------------------------------------------------------------------
# Binomial
@pytest.mark.parametrize(
    "n1,a,n2,b",
    [
        (10, 0.3, 10, 0.35),
        (3, 0.5, 3, 0.5000001),  # near-identical, same n
        (1000, 0.4, 1000, 0.4 + 1e-9),
        (10, 0.3, 12, 0.3),  # different n
        (100, 0.5, 101, 0.5),  # KL ~ 5e-3 out of terms of size 0.7: no cancellation allowed
        (100, 0.5, 101, 0.49),
        (1000, 0.4, 1001, 0.4),
        (50, 0.2, 300, 0.1),  # m = 250 > 64: compensated prefix sums
        (600, 0.4, 603, 0.41),
        (0, 0.3, 5, 0.2),  # n1 = 0: point mass at 0
        (5, 0.0, 3, 0.5),  # p1 = 0: point mass at 0
        (5, 1.0, 7, 0.5),  # p1 = 1: point mass at 5
    ],
)
def test_binomial_against_exact_sums(n1, a, n2, b):
    value = kl_distributions(stats.binom(n1, a), stats.binom(n2, b))
    ref = sum_kl(lpmf_binom(n1, a), lpmf_binom(n2, b), range(0, n1 + 1), dps=50)
    assert rel_err(value, ref) < 1e-13


def test_binomial_large_n_window():
    """n1 > 2e6: summed over [ppf(1e-40), isf(1e-40)] with the stated bound checked."""
    n1, n2, a = 2_100_000, 2_100_040, 0.02
    value = kl_distributions(stats.binom(n1, a), stats.binom(n2, a))
    sd = math.sqrt(n1 * a * (1 - a))
    k0, k1 = int(n1 * a - 9 * sd), int(n1 * a + 9 * sd)  # the mass outside is below 1e-18
    with mp.workdps(30):
        lab = mp.log(mp.mpf(a)) - mp.log(1 - mp.mpf(a))
        # log p_k and log q_k at k0 from log-gammas, then by the ratio recurrences
        # p_{k+1}/p_k = (n - k)/(k + 1) * a/(1 - a).
        lp = mp.loggamma(n1 + 1) - mp.loggamma(k0 + 1) - mp.loggamma(n1 - k0 + 1) + k0 * mp.log(a) + (n1 - k0) * mp.log(1 - mp.mpf(a))
        lq = mp.loggamma(n2 + 1) - mp.loggamma(k0 + 1) - mp.loggamma(n2 - k0 + 1) + k0 * mp.log(a) + (n2 - k0) * mp.log(1 - mp.mpf(a))
        total = mp.mpf(0)
        for k in range(k0, k1 + 1):
            total += mp.exp(lp) * (lp - lq)
            lk = mp.log(k + 1)
            lp += mp.log(n1 - k) - lk + lab
            lq += mp.log(n2 - k) - lk + lab
    assert rel_err(value, total) < 1e-10


@pytest.mark.parametrize(
    "p,q",
    [
        (stats.binom(10, 0.3), stats.binom(8, 0.3)),  # n1 > n2
        (stats.binom(5, 0.3), stats.binom(7, 0.0)),  # q is the point mass at 0
        (stats.binom(5, 0.3), stats.binom(7, 1.0)),  # q is the point mass at 7
        (stats.binom(5, 1.0), stats.binom(4, 0.5)),
        (stats.binom(5, 0.3), stats.binom(5, 0.0)),
        (stats.binom(10, 0.3, loc=3), stats.binom(12, 0.3)),  # atoms up to 13 > 12
        (stats.binom(4, 0.5), stats.binom(4, 0.5, loc=1)),
    ],
)
def test_binomial_infinite(p, q):
    assert kl_distributions(p, q) == math.inf


def test_binomial_shifted_finite():
    v = kl_distributions(stats.binom(10, 0.3, loc=2), stats.binom(12, 0.3))
    ref = sum_kl(lpmf_binom(10, 0.3, loc=2), lpmf_binom(12, 0.3), range(2, 13))
    assert rel_err(v, ref) < 1e-13


def test_binomial_point_masses_exact():
    # binom(5, 0) || binom(3, 1/2) = -log q_0 = 3 log 2
    assert rel_err(kl_distributions(stats.binom(5, 0.0), stats.binom(3, 0.5)), 3 * mp.log(2)) < 1e-15
    # binom(5, 1) || binom(7, 1/2) = -log(C(7,5) / 2^7), with the probability an exact rational
    q5 = Fraction(math.comb(7, 5), 2**7)
    assert rel_err(kl_distributions(stats.binom(5, 1.0), stats.binom(7, 0.5)), -mp.log(mp.mpf(q5.numerator) / q5.denominator)) < 1e-14
    assert kl_distributions(stats.binom(0, 0.3), stats.binom(0, 0.9)) == 0.0


# --------------------------------------------------------------------------------------
# Poisson
@pytest.mark.parametrize(
    "m1,m2",
    [(3.0, 4.0), (3.0, 3.000001), (1e6, 1e6 + 1), (1e-300, 5.0), (5.0, 1e-300), (0.0, 2.0), (7.0, 7 * (1 + 2**-45))],
)
def test_poisson_against_closed_form(m1, m2):
    value = kl_distributions(stats.poisson(m1), stats.poisson(m2))
    assert rel_err(value, ref_poisson(m1, m2)) < 1e-14


@settings(max_examples=100, deadline=None)
@given(
    m1=st_h.floats(1e-200, 1e200),
    m2=st_h.floats(1e-200, 1e200),
    rel=st_h.one_of(st_h.just(0.0), st_h.floats(-1e-2, 1e-2)),
)
def test_poisson_property_against_mpmath(m1, m2, rel):
    if rel != 0.0:
        m2 = m1 * (1 + rel)
    value = kl_poisson_params(m1, m2)
    assert value >= 0
    assert rel_err(value, ref_poisson(m1, m2)) < 1e-13


def test_poisson_direct_sum_and_locs():
    ref = sum_kl(lpmf_poisson(3), lpmf_poisson(4), range(0, 150))
    assert rel_err(kl_distributions(stats.poisson(3), stats.poisson(4)), ref) < 1e-14
    assert kl_distributions(stats.poisson(3), stats.poisson(3, loc=1)) == math.inf
    assert kl_distributions(stats.poisson(2), stats.poisson(0)) == math.inf
    assert kl_distributions(stats.poisson(0), stats.poisson(2)) == 2.0  # -log q_0 = mu2, exactly
    v = kl_distributions(stats.poisson(3, loc=2), stats.poisson(4, loc=1))
    ref = sum_kl(lpmf_poisson(3, 2), lpmf_poisson(4, 1), range(2, 200))
    assert rel_err(v, ref) < 1e-13


# --------------------------------------------------------------------------------------
# Geometric and negative binomial
@pytest.mark.parametrize(
    "a,b", [(0.3, 0.31), (0.2, 0.7), (0.5, 1e-300), (1e-10, 2e-10), (0.9999999999, 0.9999999998), (0.5, 0.5 + 1e-12)]
)
def test_geometric_against_textbook_form(a, b):
    value = kl_distributions(stats.geom(a), stats.geom(b))
    assert rel_err(value, ref_geom(a, b)) < 1e-14


def test_geometric_direct_sum_edges_and_locs():
    ref = sum_kl(lpmf_geom(0.3), lpmf_geom(0.2), range(1, 400))
    assert rel_err(kl_distributions(stats.geom(0.3), stats.geom(0.2)), ref) < 1e-13
    assert kl_distributions(stats.geom(0.5), stats.geom(1.0)) == math.inf  # q is the point mass at 1
    assert rel_err(kl_distributions(stats.geom(1.0), stats.geom(0.5)), mp.log(2)) < 1e-15
    assert kl_distributions(stats.geom(0.4), stats.geom(0.3, loc=1)) == math.inf
    v = kl_distributions(stats.geom(0.4, loc=2), stats.geom(0.3))
    ref = sum_kl(lpmf_geom(0.4, 2), lpmf_geom(0.3), range(3, 400))
    assert rel_err(v, ref) < 1e-13


@settings(max_examples=80, deadline=None)
@given(a=st_h.floats(1e-6, 1.0), b=st_h.floats(1e-6, 1.0, exclude_max=True), n=st_h.floats(0.1, 1e4))
def test_nbinom_same_n_property(a, b, n):
    value = kl_distributions(stats.nbinom(n, a), stats.nbinom(n, b))
    assert rel_err(value, ref_nbinom(n, a, b)) < 1e-13


def test_nbinom_direct_sum_different_n_and_infinity():
    ref = sum_kl(lpmf_nbinom(4, 0.3), lpmf_nbinom(4, 0.4), range(0, 600))
    assert rel_err(kl_distributions(stats.nbinom(4, 0.3), stats.nbinom(4, 0.4)), ref) < 1e-13
    # Different n: the numerical path, against an exact sum.
    ref = sum_kl(lpmf_nbinom(3, 0.4), lpmf_nbinom(5.5, 0.5), range(0, 500))
    assert rel_err(kl_distributions(stats.nbinom(3, 0.4), stats.nbinom(5.5, 0.5)), ref) < 1e-12
    assert kl_distributions(stats.nbinom(3, 0.4), stats.nbinom(3, 1.0)) == math.inf
    assert rel_err(kl_distributions(stats.nbinom(3, 1.0), stats.nbinom(3, 0.5)), 3 * mp.log(2)) < 1e-15


# --------------------------------------------------------------------------------------
# Discrete uniform
def test_randint():
    # p on {0..3}, q on {-1..6}: log(8/4), the ratio as an exact rational.
    r = Fraction(8, 4)
    assert rel_err(kl_distributions(stats.randint(0, 4), stats.randint(-1, 7)), mp.log(mp.mpf(r.numerator) / r.denominator)) < 1e-15
    assert kl_distributions(stats.randint(0, 4), stats.randint(1, 7)) == math.inf
    assert kl_distributions(stats.randint(0, 4, loc=0.5), stats.randint(0, 10)) == math.inf
    assert rel_err(kl_distributions(stats.randint(0, 4, loc=3), stats.randint(0, 10)), mp.log(mp.mpf(10) / 4)) < 1e-15
    assert kl_distributions(stats.randint(2, 9), stats.randint(2, 9)) == 0.0
    # log1p keeps a huge support ratio near 1 exact: N_q / N_p = 1 + 1e-12
    n = 10**12
    v = kl_distributions(stats.randint(0, n), stats.randint(0, n + 1))
    assert rel_err(v, mp.log1p(mp.mpf(1) / n)) < 1e-15


# --------------------------------------------------------------------------------------
def test_registry_rows_and_public_api():
    rows = {(fp, fq) for fp, fq, _ in kl_registry_table()}
    for fam in ("bernoulli", "binom", "poisson", "geom", "nbinom", "randint"):
        assert (fam, fam) in rows
    # The public dispatcher reaches the same closed form, and base=2 gives bits.
    v = kl_divergence(stats.binom(100, 0.5), stats.binom(101, 0.5))
    ref = sum_kl(lpmf_binom(100, 0.5), lpmf_binom(101, 0.5), range(0, 101), dps=50)
    assert rel_err(v, ref) < 1e-13
    assert rel_err(kl_divergence(stats.poisson(3), stats.poisson(4), base=2), ref_poisson(3, 4) / mp.log(2)) < 1e-14
