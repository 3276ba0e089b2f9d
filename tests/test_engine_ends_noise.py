"""The pairwise engine's noise floors, power-law discrete tails and singular upper ends (issue 16).

References are independent of the engine: mpmath sums and quadratures of hand-written
log-densities (30-40 digits), mpmath's Bessel and beta functions. The costly ones (0.2-0.9 CPU-s
each) are stored in ``tests/refs/engine_ends_noise.json`` by ``python tests/refs/generate.py``
(tests/refs/store.py: keyed by the inputs, with a hash of the code that computes them); one of each
group (``LIVE``) is recomputed with mpmath on every run and must equal the stored value.
"""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats._distr_params import distcont

import klbook
from klbook import hellinger_distance, js_divergence, kl_divergence, renyi_divergence, total_variation
from klbook.core import engine
from klbook.core.engine import Univariate
from klbook.core.numeric import entropy_numeric, kl_numeric
from refs.store import RefStore

STORE = RefStore("engine_ends_noise")


def rel(x, ref):
    ref = mp.mpf(ref)
    return float(abs((mp.mpf(x) - ref) / ref))


# --------------------------------------------------------------------------------------
# Rounding noise: p = q given as two different objects, near-identical pairs
class CountingMixture(klbook.GaussianMixture):
    """A GaussianMixture that counts the points its log-density is evaluated at."""

    points = 0

    def logpdf(self, x):
        CountingMixture.points += np.size(x)
        return super().logpdf(x)


SAME_PAIR_FUNCS = [
    pytest.param("kl p||q", lambda p, q: kl_divergence(p, q), id="kl p||q"),
    pytest.param("kl q||p", lambda p, q: kl_divergence(q, p), id="kl q||p"),
    pytest.param("js", js_divergence, id="js"),
    pytest.param("hellinger^2", lambda p, q: hellinger_distance(p, q) ** 2, id="hellinger^2"),
    pytest.param("tv", total_variation, id="tv"),
    pytest.param("renyi 0.5", lambda p, q: renyi_divergence(p, q, 0.5), id="renyi 0.5"),
]


@pytest.mark.parametrize("name,fn", SAME_PAIR_FUNCS)
def test_same_distribution_as_two_types_is_zero_without_warnings(name, fn):
    # a one-component mixture against the same normal: the integrand is pure rounding noise,
    # which used to be bisected to 31,787 pieces with two RuntimeWarnings (0.4 s)
    p, q = CountingMixture([1.0], [0.3], [1.7]), stats.norm(0.3, 1.7)
    CountingMixture.points = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = fn(p, q)
    assert 0.0 <= v <= 1e-15
    # a bounded amount of work (the old path evaluated ~1.3 million points)
    assert CountingMixture.points < 60_000, CountingMixture.points


def _near_identical_ref(family: str, what: str) -> mp.mpf:
    """JS or H^2 of t(5) || t(5.000001) or logistic() || logistic(1e-6): mpmath quadrature of
    written-out densities at 40 digits."""
    if family == "t":
        nu1, nu2 = mp.mpf(5), mp.mpf("5.000001")

        def lpdf(x, nu, m):
            return (mp.loggamma((nu + 1) / 2) - mp.loggamma(nu / 2) - mp.log(mp.pi * nu) / 2
                    - (nu + 1) / 2 * mp.log1p(x * x / nu))

        lp, lq = (lambda x: lpdf(x, nu1, 0)), (lambda x: lpdf(x, nu2, 0))
    else:
        def lpdf(x, m):
            z = x - m
            return -z - 2 * mp.log1p(mp.exp(-z))

        lp, lq = (lambda x: lpdf(x, 0)), (lambda x: lpdf(x, mp.mpf("1e-6")))
    with mp.workdps(40):
        def js_term(x):
            a, b = mp.exp(lp(x)), mp.exp(lq(x))
            m = (a + b) / 2
            return (a * mp.log(a / m) + b * mp.log(b / m)) / 2

        def h2_term(x):
            return (mp.exp(lp(x) / 2) - mp.exp(lq(x) / 2)) ** 2 / 2

        cuts = [-mp.inf, -1e4, -100, -10, 0, 10, 100, 1e4, mp.inf]
        return mp.quad(js_term if what == "js" else h2_term, cuts)


NEAR_IDENTICAL_KEYS = {f"near-identical {what} {family}": (family, what)
                       for family in ("t", "logistic") for what in ("js", "h2")}


@pytest.mark.parametrize("p,q", [(stats.t(5), stats.t(5.000001)), (stats.logistic(), stats.logistic(1e-6))])
def test_near_identical_pairs_js_and_hellinger_against_mpmath(p, q):
    # JS ~ KL/4 and H^2 ~ KL/8 for nearby members; references by mpmath quadrature of written-out densities
    family = "t" if p.dist.name == "t" else "logistic"
    js_ref, h2_ref = (stored(f"near-identical {what} {family}", lambda w=what: _near_identical_ref(family, w),
                             40, (_near_identical_ref,)) for what in ("js", "h2"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # limited by the rounding of log p - log q (relative 1e-16 |log p| / 1e-6): 4e-10 and 4e-11 now
        assert rel(js_divergence(p, q), js_ref) < 5e-9
        assert rel(hellinger_distance(p, q) ** 2, h2_ref) < 5e-9


def test_a_tail_that_dips_then_grows_diverges():
    # E_p[(q/p)^2] with q wider than every component of p: q^2/p grows like exp(0.026 x^2)
    # beyond x ~ 30 after decaying first (a trimmed tail ladder once missed it)
    p, q = klbook.GaussianMixture([0.4, 0.6], [-1.5, 1.0], [0.7, 0.9]), stats.norm(0.2, 1.3)

    def log_kernel(lp, lq):
        lp, lq = np.broadcast_arrays(np.asarray(lp, float), np.asarray(lq, float))
        with np.errstate(all="ignore"):
            return np.where(np.isfinite(lp), 2 * lq - lp, -np.inf)

    def kernel(lp, lq):
        return np.exp(log_kernel(lp, lq))

    assert engine.integrate_kernel(p, q, kernel, log_kernel, 0.0, "E_p[r^2]", guard=True) == math.inf
    # and a converging one (q narrower than p) stays finite: E_p[(q/p)^2] = int q^2/p for N(0,1), N(0, 0.8)
    s = 0.8
    ref = 1.0 / (s * s * math.sqrt(2.0 / (s * s) - 1.0))  # int N(0,s)^2 / N(0,1) dx
    got = engine.integrate_kernel(stats.norm(), stats.norm(0, s), kernel, log_kernel, 0.0, "E_p[r^2]")
    assert got == pytest.approx(ref, rel=1e-11)


# --------------------------------------------------------------------------------------
# scipy's logpdf without per-call overhead: the same numbers
# (studentized_range is left out: its ppf, used to place the test points, takes 20 s)
@pytest.mark.parametrize("name,args", [(n, a) for n, a in distcont
                                       if n not in engine._STD_LOGPDF and n not in engine._STD_LOGPDF_ENDS
                                       and n != "studentized_range"])
def test_direct_logpdf_is_bit_identical_to_scipy(name, args):
    d = getattr(stats, name)(*args, loc=0.3, scale=1.7)
    U = Univariate(d, "p")
    rng = np.random.default_rng(7)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.concatenate([d.ppf(np.linspace(0.001, 0.999, 40)), rng.normal(0.3, 30, 40), [np.nan, -np.inf, np.inf]])
        a, b = np.asarray(d.logpdf(x)), np.asarray(U.logdens(x))
        s = U.logdens(0.5)
    assert np.array_equal(a, b, equal_nan=True)
    assert np.ndim(s) == 0


# The families whose log-densities the engine writes in the distance to their support ends
# (engine._STD_LOGPDF_ENDS: scipy's formulas lose that distance) are not scipy's bits, but in the
# bulk, where scipy's formula is accurate, they are scipy's numbers; outside the support -inf.
@pytest.mark.parametrize("name,args", [(n, a) for n, a in distcont if n in engine._STD_LOGPDF_ENDS])
def test_ends_form_logpdf_agrees_with_scipy_in_the_bulk(name, args):
    d = getattr(stats, name)(*args, loc=0.3, scale=1.7)
    U = Univariate(d, "p")
    lo, hi = d.support()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = d.ppf(np.linspace(0.01, 0.99, 41))
        a, b = np.asarray(d.logpdf(x)), np.asarray(U.logdens(x))
        out = np.asarray(U.logdens(np.array([lo - 1.0, hi + 1.0, np.nan])))
    assert np.all(np.abs(a - b) <= 1e-12 * np.maximum(1.0, np.abs(a))), (name, np.max(np.abs(a - b)))
    assert out[0] == -np.inf and out[1] == -np.inf and np.isnan(out[2])


# --------------------------------------------------------------------------------------
# yulesimon: log-pmf written out, power-law tails summed by Euler-Maclaurin
def _ys_lpmf(k, a):
    return mp.log(a) + mp.log(mp.beta(k, a + 1))


@pytest.mark.parametrize("a", [0.3, 1.2, 4.0, 25.0])
def test_yulesimon_logpmf_against_mpmath(a):
    ks = np.array([1.0, 2, 3, 7, 14, 15, 16, 17, 100, 1e3, 12345, 1e5, 1e7, 1e12, 1e18, 1e30])
    got = Univariate(stats.yulesimon(a), "p").logdens(ks)
    with mp.workdps(40):
        for k, g in zip(ks, got):
            r = _ys_lpmf(mp.mpf(k), mp.mpf(a))
            assert abs(g - r) <= 1e-15 * max(1.0, abs(float(r))), (k, g, r)


def _em_series(f, lo, n_head=100):
    """sum_{k >= lo} f(k) at 30 digits: the first n_head terms one by one, the rest by
    Euler-Maclaurin with mpmath's quadrature and its numerical derivatives (three corrections;
    checked against mp.nsum(method='e') to 1e-20 on these series, which takes 30x longer)."""
    with mp.workdps(30):
        n = lo + n_head
        head = mp.fsum(f(k) for k in range(lo, n))
        integ = mp.quad(f, [n, 2 * n, 8 * n, 64 * n, 1024 * n, mp.inf])
        d1, d3, d5 = (mp.diff(f, n, j) for j in (1, 3, 5))
        return head + integ + f(n) / 2 - d1 / 12 + d3 / 720 - d5 / 30240


def _nsum_pair(lp, lq, term, lo):
    return _em_series(lambda k: term(lp(k), lq(k)), lo)


def _js_term(a, b):
    pa, pb = mp.exp(a), mp.exp(b)
    m = (pa + pb) / 2
    return (pa * mp.log(pa / m) if pa else 0) / 2 + (pb * mp.log(pb / m) if pb else 0) / 2


def _kl_term(a, b):
    return mp.exp(a) * (a - b)


YULESIMON_PAIRS = [(1.2, 4.0), (2.5, 0.8), (0.6, 0.7)]


@pytest.mark.parametrize("a1,a2", YULESIMON_PAIRS)
def test_yulesimon_pairs_against_mpmath(a1, a2):
    p, q = stats.yulesimon(a1), stats.yulesimon(a2)
    lp = lambda k: _ys_lpmf(k, mp.mpf(a1))  # noqa: E731
    lq = lambda k: _ys_lpmf(k, mp.mpf(a2))  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        js = js_divergence(p, q)
        kl = kl_divergence(p, q)
    code = (_ys_lpmf, _em_series, _nsum_pair, _js_term, _kl_term, test_yulesimon_pairs_against_mpmath)
    assert rel(js, stored(f"yulesimon({a1!r}) || yulesimon({a2!r}) js", lambda: _nsum_pair(lp, lq, _js_term, 1), 30, code)) < 1e-11
    assert rel(kl, stored(f"yulesimon({a1!r}) || yulesimon({a2!r}) kl", lambda: _nsum_pair(lp, lq, _kl_term, 1), 30, code)) < 1e-11


def test_skellam_against_yulesimon_against_mpmath():
    # skellam has no continuous extension; yulesimon's power-law tail beyond it is summed by
    # Euler-Maclaurin on yulesimon's alone (this pair used to run for minutes)
    p, q = stats.skellam(3.0, 2.0), stats.yulesimon(2.0)

    def lp(k):
        k = int(k)
        return -mp.mpf(5) + mp.mpf(k) / 2 * mp.log(mp.mpf(3) / 2) + mp.log(mp.besseli(abs(k), 2 * mp.sqrt(6)))

    def lq(k):
        return _ys_lpmf(mp.mpf(k), mp.mpf(2)) if k >= 1 else -mp.inf

    with mp.workdps(30):
        near = mp.fsum(_js_term(lp(k), lq(k)) for k in range(-80, 200))
        # beyond 200 skellam is below 1e-200: the terms are yulesimon's alone, q log 2 / 2
        far = mp.log(2) / 2 * _em_series(lambda k: mp.exp(_ys_lpmf(k, mp.mpf(2))), 200)
        ref = near + far
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = js_divergence(p, q)
    assert rel(got, ref) < 1e-11


# --------------------------------------------------------------------------------------
# Singular at a finite upper end: beta-like densities approached in the distance to the end
def _beta_lxy(a, b, loc, scale, x, y):
    """mpmath log-density of beta(a, b, loc, scale) at x = 1 - y (both given exactly)."""
    z = (x - loc) / scale  # standard coordinate, and 1 - z from y (no cancellation near 1)
    u = (loc + scale - 1 + y) / scale
    if not (0 < z <= 1 and 0 < u <= 1):  # z or u rounds to 1 only when the other is below 1e-30
        return -mp.inf
    return (a - 1) * mp.log(z) + (b - 1) * mp.log(u) - mp.log(mp.beta(a, b)) - mp.log(scale)


def _ref_unit(lpq, term):
    """int_0^1 term(log p, log q) dx at 30 digits: [0, 1/2] in x = e^{-s}/2, [1/2, 1] in y = 1 - x = e^{-s}/2."""
    with mp.workdps(30):
        cuts = [0, 2, 8, 32, 128, 512, 2048, 8192, mp.inf]

        def lower(s_):
            x = mp.exp(-s_) / 2
            return term(*lpq(x, 1 - x)) * x

        def upper(s_):
            y = mp.exp(-s_) / 2
            return term(*lpq(1 - y, y)) * y

        return mp.quad(lower, cuts) + mp.quad(upper, cuts)


def _kl_t(a, b):
    return mp.exp(a) * (a - b) if a > -mp.inf else mp.mpf(0)


UPPER_CASES = [
    # p = beta(a, b) singular at 1 (b < 1); q from another family, or shifted (cross-family path)
    ((2.0, 0.3), ("beta", (1.5, 0.5, -0.5, 1.5))),
    ((1.0, 0.05), ("beta", (1.0, 0.1, 0.0, 1.0))),
    ((3.0, 0.01), ("beta", (2.0, 0.02, 0.0, 1.0))),
    ((0.7, 0.2), ("beta", (0.7, 0.2, -1.0, 2.0))),
    ((2.0, 0.5), ("uniform", ())),
    ((1.5, 0.4), ("arcsine", ())),
]


def _upper_ref(pab, qspec, what: str) -> mp.mpf:
    """KL or JS of beta(*pab) || qspec at 30 digits: _ref_unit's quadrature in the distances to both ends."""
    a, b = (mp.mpf(v) for v in pab)
    name, qa = qspec
    if name == "beta":
        qa_, qb_, qloc, qscale = qa
        lq = lambda x, y: _beta_lxy(mp.mpf(qa_), mp.mpf(qb_), mp.mpf(qloc), mp.mpf(qscale), x, y)  # noqa: E731
    elif name == "uniform":
        lq = lambda x, y: mp.mpf(0)  # noqa: E731
    else:
        lq = lambda x, y: -mp.log(mp.pi) - mp.log(x) / 2 - mp.log(y) / 2  # noqa: E731

    def lpq(x, y):
        return _beta_lxy(a, b, mp.mpf(0), mp.mpf(1), x, y), lq(x, y)

    if what == "kl":
        return _ref_unit(lpq, _kl_t)
    js_ref = _ref_unit(lpq, _js_term)
    if name == "beta" and qloc < 0:  # q's mass below 0, outside p's support: its JS term is q log 2 / 2
        with mp.workdps(30):
            js_ref += mp.log(2) / 2 * mp.betainc(qa_, qb_, 0, mp.mpf(-qloc) / qscale, regularized=True)
    return js_ref


def _upper_key(pab, qspec, what):
    return f"beta{pab!r} || {qspec[0]}{qspec[1]!r} {what}"


@pytest.mark.parametrize("pab,qspec", UPPER_CASES, ids=[f"beta{p}||{q[0]}{q[1]}" for p, q in UPPER_CASES])
def test_kl_and_js_singular_at_upper_end_against_mpmath(pab, qspec):
    p = stats.beta(*pab)
    name, qa = qspec
    q = stats.beta(qa[0], qa[1], loc=qa[2], scale=qa[3]) if name == "beta" else getattr(stats, name)()
    code = (_upper_ref, _ref_unit, _beta_lxy, _kl_t, _js_term)
    kl_ref, js_ref = (stored(_upper_key(pab, qspec, what), lambda w=what: _upper_ref(pab, qspec, w), 30, code)
                      for what in ("kl", "js"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kl = kl_numeric(p, q)
        js = js_divergence(p, q)
    assert rel(kl, kl_ref) < 1e-12
    assert rel(js, js_ref) < 1e-12


def _beta_pair_closed_forms(a, b, a2, b2):
    """KL, Renyi divergence of order 1/2 and Hellinger distance of beta(a, b) || beta(a2, b2) at 30 digits.

    KL = log B(a2,b2)/B(a,b) + (a-a2) psi(a) + (b-b2) psi(b) + (a2-a+b2-b) psi(a+b);
    int sqrt(p q) = B((a+a2)/2, (b+b2)/2) / sqrt(B(a,b) B(a2,b2)) = e^L: Renyi 1/2 = -2 L, H = sqrt(1 - e^L).
    """
    with mp.workdps(30):
        A, B, A2, B2 = (mp.mpf(v) for v in (a, b, a2, b2))
        lb, lb2 = mp.log(mp.beta(A, B)), mp.log(mp.beta(A2, B2))
        kl = (lb2 - lb + (A - A2) * mp.digamma(A) + (B - B2) * mp.digamma(B)
              + (A2 - A + B2 - B) * mp.digamma(A + B))
        log_bc = mp.log(mp.beta((A + A2) / 2, (B + B2) / 2)) - (lb + lb2) / 2
        return kl, -2 * log_bc, mp.sqrt(-mp.expm1(log_bc))


# A beta with b ~ 0.03 holds nearly all its mass within 1e-15 of 1 (1 - x ~ U^(1/b)). The examples:
# near-identical pairs whose KL was 1.4e-11 to 5.3e-11 off (2.4e-11 the draw that found it: the tail that
# holds that mass integrated p d with a cdf correction of ~1; a written log-ratio since, engine._beta_log_ratio)
@settings(max_examples=12)
@given(a=st.floats(0.3, 6.0), b=st.floats(0.02, 0.95), b2=st.floats(0.02, 0.95))
@example(a=2.0, b=0.03125, b2=0.030937212908628258)
@example(a=6.0, b=0.03125, b2=0.0315625)
@example(a=0.3, b=0.03125, b2=0.0309375)
@example(a=1.0, b=0.02, b2=0.0202)
@example(a=6.0, b=0.05, b2=0.0495)
def test_property_singular_upper_end_matches_the_closed_form(a, b, b2):
    # beta pair through the numerical path (kl_numeric) against mpmath's closed form
    ref = _beta_pair_closed_forms(a, b, a, b2)[0]
    if ref < 1e-12:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = kl_numeric(stats.beta(a, b), stats.beta(a, b2))
    # (327 random draws, a third of them within 1e-7..0.4 of each other: worst 1.0e-14; 2.1e-9 before)
    assert rel(got, ref) < 1e-12


# betas singular at an end, near-identical (b or a ~ 0.02-0.05, the other shape 0.3-6): before the written
# log-ratio and the lower end in the distance to it (engine._STD_REFLECT_LO), KL was up to 5e-11 off at the
# upper end and 2e-6 (with RuntimeWarnings) at the lower one, Renyi and Hellinger 2e-6 at the lower one
# without a warning (beta(0.02, 0.3) holds 1e-6 of its mass below 1e-300); now all <= 6.2e-15
NEAR_SINGULAR_BETAS = [
    (2.0, 0.03125, 2.0, 0.030937212908628258),
    (6.0, 0.03125, 6.0, 0.0315625),
    (2.0, 0.02, 2.0, 0.020002),
    (0.03125, 2.0, 0.0309375, 2.0),
    (0.02, 0.3, 0.02002, 0.3),
    (0.02, 6.0, 0.0198, 6.0),
    (0.03125, 1.0, 0.03125003125, 1.0),
    # farther apart, p holding 1e-3 to 1e-6 of its mass below 1e-300 (q's density there from its own
    # distance to 0): JS, Hellinger and Renyi of beta(0.01, 1) || beta(0.02, 1.5) were 7e-5 to 2e-4 off
    (0.01, 1.0, 0.02, 1.5),
    (0.01, 1.0, 0.5, 1.0),
    (0.01, 1.0, 2.0, 1.0),
    (0.03, 0.5, 0.08, 0.5),
]


@pytest.mark.parametrize("a,b,a2,b2", NEAR_SINGULAR_BETAS)
def test_betas_singular_at_an_end_against_closed_forms(a, b, a2, b2):
    p, q = stats.beta(a, b), stats.beta(a2, b2)
    kl_ref, renyi_ref, hellinger_ref = _beta_pair_closed_forms(a, b, a2, b2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = (kl_numeric(p, q), renyi_divergence(p, q, 0.5), hellinger_distance(p, q))
    errors = [rel(g, r) for g, r in zip(got, (kl_ref, renyi_ref, hellinger_ref))]
    assert max(errors) < 1e-13, errors


def test_entropy_of_a_shifted_beta_with_most_of_its_mass_next_to_its_lower_end():
    # beta(0.02, 2) on [3, 5]: 70% of its mass within 3e-8 of 3 (where floats stopped the tail and
    # extrapolated: -5.34 instead of -45.36), half of it within 1e-15; taken in the distance to 3 now
    a, b = 0.02, 2.0
    with mp.workdps(30):
        ref = (mp.log(mp.beta(a, b)) - (a - 1) * mp.digamma(a) - (b - 1) * mp.digamma(b)
               + (a + b - 2) * mp.digamma(mp.mpf(a) + b) + mp.log(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = entropy_numeric(stats.beta(a, b, loc=3.0, scale=2.0))
    assert rel(got, ref) < 1e-13


def test_entropy_of_a_beta_singular_at_one():
    # h = log B(a,b) - (a-1) psi(a) - (b-1) psi(b) + (a+b-2) psi(a+b)
    a, b = 2.0, 0.05
    with mp.workdps(30):
        ref = (mp.log(mp.beta(a, b)) - (a - 1) * mp.digamma(a) - (b - 1) * mp.digamma(b)
               + (a + b - 2) * mp.digamma(mp.mpf(a) + b))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = entropy_numeric(stats.beta(a, b))
    assert rel(got, ref) < 1e-12


def _q_singular_ref(what: str) -> mp.mpf:
    """JS, or the alpha-divergence of order 0.3, of cauchy(-0.4868, 1.9382) || beta(0.5371, 4.9464) at 30 digits."""
    m, s, a, b = mp.mpf("-0.4868"), mp.mpf("1.9382"), mp.mpf("0.5371"), mp.mpf("4.9464")
    with mp.workdps(30):
        lp = lambda x: -mp.log(mp.pi * s) - mp.log1p(((x - m) / s) ** 2)  # noqa: E731
        lq = lambda x: (a - 1) * mp.log(x) + (b - 1) * mp.log1p(-x) - mp.log(mp.beta(a, b))  # noqa: E731
        cuts = [0, mp.mpf("1e-6"), mp.mpf("1e-3"), 0.1, 0.5, 1]
        p_out = 1 - (mp.atan((1 - m) / s) - mp.atan(-m / s)) / mp.pi  # p's mass outside [0, 1]
        if what == "js":
            return mp.quad(lambda x: _js_term(lp(x), lq(x)), cuts) + mp.log(2) / 2 * p_out
        al = mp.mpf("0.3")

        def alpha_term(x):
            P, Q = mp.exp(lp(x)), mp.exp(lq(x))
            return (al * P + (1 - al) * Q - P**al * Q ** (1 - al)) / (al * (1 - al))

        return mp.quad(alpha_term, cuts) + p_out / (1 - al)


def test_q_singular_at_its_start_inside_p_support_against_mpmath():
    # beta(0.5371, 4.9464) (singular at 0) inside a Cauchy p located at -0.4868: p's standardised
    # coordinates put q's end at 0.2511..., resolved only to 5e-17 (JS was off by 4e-9, alpha by 8e-9)
    p, q = stats.cauchy(-0.4868, 1.9382), stats.beta(0.5371, 4.9464)
    js_ref, alpha_ref = (stored(f"cauchy(-0.4868, 1.9382) || beta(0.5371, 4.9464) {what}",
                                lambda w=what: _q_singular_ref(w), 30, (_q_singular_ref, _js_term))
                         for what in ("js", "alpha 0.3"))
    assert rel(js_divergence(p, q), js_ref) < 1e-13
    assert rel(klbook.alpha_divergence(p, q, 0.3), alpha_ref) < 1e-13


# --------------------------------------------------------------------------------------
# The stored references (tests/refs/engine_ends_noise.json)
# Recomputed with mpmath on every run: one per group of stored references.
LIVE = {
    "near-identical h2 logistic",
    "yulesimon(1.2) || yulesimon(4.0) kl",
    "beta(2.0, 0.5) || uniform() kl",
    "cauchy(-0.4868, 1.9382) || beta(0.5371, 4.9464) js",
}


def stored(key: str, compute, dps: int, code) -> mp.mpf:
    """The mpmath reference ``key`` from tests/refs/engine_ends_noise.json (live if in LIVE)."""
    return STORE.get(key, compute, dps=dps, code=code, live=key in LIVE)


def stored_keys() -> set[str]:
    return (set(NEAR_IDENTICAL_KEYS)
            | {f"yulesimon({a1!r}) || yulesimon({a2!r}) {w}" for a1, a2 in YULESIMON_PAIRS for w in ("js", "kl")}
            | {_upper_key(pab, qspec, w) for pab, qspec in UPPER_CASES for w in ("kl", "js")}
            | {f"cauchy(-0.4868, 1.9382) || beta(0.5371, 4.9464) {w}" for w in ("js", "alpha 0.3")})


def test_stored_references_are_the_tests_inputs():
    STORE.check_keys(stored_keys())
    assert LIVE <= stored_keys()
