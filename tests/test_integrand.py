"""Tests for klbook.book.integrand: the log-ratio, the integrand curves and the signed areas.

References are independent of the implementation:

* hand-derived closed forms for two Gaussians of equal variance: with
  :math:`\\delta = (m_q - m_p)/s`, the log-ratio is linear, the only crossing is
  the midpoint, the positive area is :math:`\\tfrac{\\delta^2}{2}\\Phi(\\delta/2) + \\delta\\varphi(\\delta/2)`
  (for :math:`\\delta > 0`), the total variation :math:`2\\Phi(\\delta/2) - 1` and the
  probability of a negative log-ratio :math:`\\Phi(-\\delta/2)`;
* mpmath at 25 digits for everything else, with the log-densities written here
  from their textbook formulas (not from scipy), the crossings found by mpmath
  (quadratic formula, or bisection on a dense mpmath scan), and ``mp.quad`` over
  the pieces between them.
"""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_samples import t3_normal_kl_integrand
from scipy import stats

from klbook import GaussianMixture, kl_divergence, total_variation
from klbook.book.integrand import integrand_curves, kl_part, log_ratio, signed_areas
from refs.store import RefStore, assignment

STORE = RefStore("integrand")

MP_DPS = 25  # this module's mpmath precision: tests/conftest.py sets it around each test
mp.mp.dps = MP_DPS  # (and for references computed at import)


# ---------------------------------------------------------------------------------------
# Textbook log-densities in mpmath.
def m_norm(m, s):
    m, s = mp.mpf(m), mp.mpf(s)
    return lambda x: -((x - m) ** 2) / (2 * s**2) - mp.log(s) - mp.log(2 * mp.pi) / 2


def m_gamma(a):
    a = mp.mpf(a)
    return lambda x: (a - 1) * mp.log(x) - x - mp.loggamma(a) if x > 0 else -mp.inf


def m_t(nu):
    nu = mp.mpf(nu)
    c = mp.loggamma((nu + 1) / 2) - mp.loggamma(nu / 2) - mp.log(nu * mp.pi) / 2
    return lambda x: c - (nu + 1) / 2 * mp.log(1 + x**2 / nu)


def m_mixture(weights, means, stds):
    comps = [m_norm(m, s) for m, s in zip(means, stds)]
    return lambda x: mp.log(mp.fsum(mp.mpf(w) * mp.exp(c(x)) for w, c in zip(weights, comps)))


def reference(lp, lq, lo, hi, scan_lo, scan_hi, n_scan=600):
    """Positive and negative areas, TV over p's support and P(d < 0), all in mpmath.

    The crossings are located by mpmath bisection from a dense scan of
    ``[scan_lo, scan_hi]``; the integrals run over p's support ``(lo, hi)``.
    """
    d = lambda x: lp(x) - lq(x)  # noqa: E731
    xs = [mp.mpf(scan_lo) + (mp.mpf(scan_hi) - mp.mpf(scan_lo)) * i / n_scan for i in range(n_scan + 1)]
    ds = [d(x) for x in xs]
    cross = []
    for a, b, da, db in zip(xs[:-1], xs[1:], ds[:-1], ds[1:]):
        if da * db < 0:
            cross.append(mp.findroot(d, (a, b), solver="bisect", tol=mp.mpf(10) ** -28))
    edges = [mp.mpf(lo)] + cross + [mp.mpf(hi)]
    pos = neg = mass_neg = tv_in = mp.mpf(0)
    for a, b in zip(edges[:-1], edges[1:]):
        mid = (a + b) / 2 if mp.isfinite(a) and mp.isfinite(b) else (b - 1 if mp.isinf(a) else a + 1)
        val = mp.quad(lambda x: mp.exp(lp(x)) * d(x), [a, b])
        pm = mp.quad(lambda x: mp.exp(lp(x)), [a, b])
        qm = mp.quad(lambda x: mp.exp(lq(x)), [a, b])
        if d(mid) > 0:
            pos += val
        else:
            neg += val
            mass_neg += pm
            tv_in += qm - pm
    return pos, neg, tv_in, mass_neg, cross


def close(value, ref, tol):
    ref = mp.mpf(ref)
    return abs(mp.mpf(value) - ref) <= tol * max(1, abs(ref))


# ---------------------------------------------------------------------------------------
# Equal-variance Gaussians: closed forms derived by hand.
@settings(max_examples=20, deadline=None)
@given(
    m=st.floats(-5, 5),
    s=st.floats(0.2, 5),
    delta=st.floats(0.05, 6).flatmap(lambda v: st.sampled_from([v, -v])),
)
def test_equal_variance_gaussians_closed_form(m, s, delta):
    p, q = stats.norm(m, s), stats.norm(m + delta * s, s)
    a = signed_areas(p, q)
    u = mp.mpf(abs(delta))
    phi = mp.npdf(u / 2)
    pos = u**2 / 2 * mp.ncdf(u / 2) + u * phi
    neg = u**2 / 2 * mp.ncdf(-u / 2) - u * phi
    assert close(a.positive, pos, 1e-11)
    assert close(a.negative, neg, 1e-11)
    assert close(a.total, u**2 / 2, 1e-12)
    assert close(a.total_variation, 2 * mp.ncdf(u / 2) - 1, 1e-11)
    assert close(a.p_mass_negative, mp.ncdf(-u / 2), 1e-11)
    assert len(a.crossings) == 1
    assert a.crossings[0] == pytest.approx(m + delta * s / 2, rel=1e-12, abs=1e-12 * s)


def test_identical_distributions_have_no_area():
    a = signed_areas(stats.norm(1.5, 2.0), stats.norm(1.5, 2.0))
    assert (a.positive, a.negative, a.total, a.total_variation, a.p_mass_negative) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert a.crossings == ()


# ---------------------------------------------------------------------------------------
# Unequal variances: crossings from the quadratic formula, areas by mpmath.
UNEQUAL = [(0.0, 1.0, 1.0, 1.5), (0.0, 1.0, 0.0, 3.0), (0.0, 2.0, 0.5, 0.7), (-1.0, 0.3, 2.0, 4.0), (3.0, 1.0, 3.2, 1.05)]
# Their references (3 quadratures each, 0.05-0.1 CPU-s a pair) are stored in tests/refs/integrand.json; the pair
# UNEQUAL_LIVE is recomputed on every run and must equal its stored values.
UNEQUAL_LIVE = UNEQUAL[0]
UNEQUAL_FIELDS = ("positive", "negative", "total_variation", "p_mass_negative", "crossing 0", "crossing 1")


def unequal_reference(mp_, sp, mq, sq) -> dict:
    """:func:`unequal_reference_live`'s values, stored (live for UNEQUAL_LIVE)."""
    case = (mp_, sp, mq, sq)
    live = []

    def compute(i):
        if not live:
            live.append(unequal_reference_live(*case))
        return live[0][i]

    return {f: STORE.get(f"unequal normals {case!r}: {f}", lambda i=i: compute(i), dps=MP_DPS,
                         code=(unequal_reference_live, m_norm), live=case == UNEQUAL_LIVE)
            for i, f in enumerate(UNEQUAL_FIELDS)}


def unequal_reference_live(mp_, sp, mq, sq) -> tuple:
    """Positive and negative areas, total variation and p's mass where p < q, of N(mp_, sp) against
    N(mq, sq), by quadrature between the two roots of the quadratic log-ratio; then the two roots."""
    lp, lq = m_norm(mp_, sp), m_norm(mq, sq)
    # d(x) = A x^2 + B x + C
    A = 1 / (2 * mp.mpf(sq) ** 2) - 1 / (2 * mp.mpf(sp) ** 2)
    B = mp.mpf(mp_) / mp.mpf(sp) ** 2 - mp.mpf(mq) / mp.mpf(sq) ** 2
    C = lp(0) - lq(0)
    disc = B**2 - 4 * A * C
    roots = sorted([(-B - mp.sqrt(disc)) / (2 * A), (-B + mp.sqrt(disc)) / (2 * A)])
    edges = [-mp.inf] + roots + [mp.inf]
    pos = neg = mass_neg = tv = mp.mpf(0)
    for a, b in zip(edges[:-1], edges[1:]):
        mid = (a + b) / 2 if mp.isfinite(a) and mp.isfinite(b) else (b - 1 if mp.isinf(a) else a + 1)
        val = mp.quad(lambda x: mp.exp(v := lp(x)) * (v - lq(x)), [a, b])
        pm = mp.ncdf(b, mp_, sp) - mp.ncdf(a, mp_, sp)
        qm = mp.ncdf(b, mq, sq) - mp.ncdf(a, mq, sq)
        if lp(mid) > lq(mid):
            pos += val
        else:
            neg += val
            mass_neg += pm
            tv += qm - pm
    return pos, neg, tv, mass_neg, *roots


@pytest.mark.parametrize("mp_, sp, mq, sq", UNEQUAL)
def test_gaussians_unequal_variance_vs_mpmath(mp_, sp, mq, sq):
    ref = unequal_reference(mp_, sp, mq, sq)
    got = signed_areas(stats.norm(mp_, sp), stats.norm(mq, sq))
    assert close(got.positive, ref["positive"], 1e-11)
    assert close(got.negative, ref["negative"], 1e-11)
    assert close(got.total_variation, ref["total_variation"], 1e-11)
    assert close(got.p_mass_negative, ref["p_mass_negative"], 1e-11)
    assert np.allclose(got.crossings, [float(ref[f"crossing {i}"]) for i in (0, 1)], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------
# Other shapes: skewed, heavy-tailed, bimodal p; a heavy-tailed q.
CASES = {
    "gamma vs normal": (stats.gamma(3.0), stats.norm(3.0, 2.0), m_gamma(3), m_norm(3, 2), (0, mp.inf), (1e-6, 30)),
    "t5 vs normal": (stats.t(5), stats.norm(0, 1), m_t(5), m_norm(0, 1), (-mp.inf, mp.inf), (-30, 30)),
    "normal vs t3": (stats.norm(0, 1), stats.t(3), m_norm(0, 1), m_t(3), (-mp.inf, mp.inf), (-30, 30)),
    "mixture vs normal": (
        GaussianMixture([0.6, 0.4], [-1.0, 1.5], [0.7, 1.0]),
        stats.norm(0.0, 1.5),
        m_mixture([0.6, 0.4], [-1.0, 1.5], [0.7, 1.0]),
        m_norm(0, 1.5),
        (-mp.inf, mp.inf),
        (-15, 15),
    ),
}


# The mpmath references of these pairs (scan, bisection, 3 quadratures per piece: 0.3-1.4 CPU-s a pair)
# are stored in tests/refs/integrand.json (tests/refs/store.py); LIVE_PAIR is recomputed with mpmath
# on every run and must equal its stored values, KLBOOK_REFS=live recomputes every pair.
LIVE_PAIR = "t5 vs normal"
FIELDS = ("positive", "negative", "total_variation", "p_mass_negative")


@functools.lru_cache(maxsize=None)
def reference_live(name: str) -> dict:
    """:func:`reference` of ``CASES[name]``, with q's mass outside p's support in the total variation."""
    p, q, lp, lq, (lo, hi), (s_lo, s_hi) = CASES[name]
    pos, neg, tv_in, mass_neg, cross = reference(lp, lq, lo, hi, s_lo, s_hi)
    # q's mass outside p's support counts in the total variation too
    outside = mp.quad(lambda x: mp.exp(lq(x)), [-mp.inf, lo]) if mp.isfinite(lo) else mp.mpf(0)
    out = {"positive": pos, "negative": neg, "total_variation": tv_in + outside, "p_mass_negative": mass_neg,
           "crossings": mp.mpf(len(cross))}
    out.update({f"crossing {i}": c for i, c in enumerate(cross)})
    return out


def stored_reference(name: str) -> dict:
    code = (reference, reference_live, m_norm, m_gamma, m_t, m_mixture, assignment(__file__, "CASES"))

    def get(field):
        return STORE.get(f"{name}: {field}", lambda: reference_live(name)[field], dps=MP_DPS, code=code,
                         live=name == LIVE_PAIR)

    out = {field: get(field) for field in FIELDS}
    out["crossings"] = [get(f"crossing {i}") for i in range(int(get("crossings")))]
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_other_pairs_vs_mpmath(name):
    p, q = CASES[name][:2]
    ref = stored_reference(name)
    got = signed_areas(p, q)
    assert close(got.positive, ref["positive"], 1e-10)
    assert close(got.negative, ref["negative"], 1e-10)
    assert close(got.p_mass_negative, ref["p_mass_negative"], 1e-10)
    assert close(got.total_variation, ref["total_variation"], 1e-10)
    assert np.allclose(got.crossings, [float(c) for c in ref["crossings"]], rtol=1e-10, atol=1e-10)
    assert got.positive + got.negative == pytest.approx(got.total, rel=1e-10, abs=1e-13)


def test_stored_pair_references_are_the_cases():
    keys = set()
    for name in CASES:
        n = int(mp.mpf(STORE.entries[f"{name}: crossings"]["value"])) if f"{name}: crossings" in STORE.entries else 0
        keys |= {f"{name}: {f}" for f in FIELDS + ("crossings",)} | {f"{name}: crossing {i}" for i in range(n)}
    keys |= {f"unequal normals {case!r}: {f}" for case in UNEQUAL for f in UNEQUAL_FIELDS}
    STORE.check_keys(keys)
    assert LIVE_PAIR in CASES and UNEQUAL_LIVE in UNEQUAL


def test_infinite_divergence_keeps_a_finite_negative_area():
    # q = uniform on (-1, 1) misses p's tails: KL is infinite, but the negative area
    # (inside (-1, 1), where q = 1/2 > p) is finite.
    got = signed_areas(stats.norm(0, 1), stats.uniform(-1, 2))
    lp = m_norm(0, 1)
    neg = mp.quad(lambda x: mp.exp(v := lp(x)) * (v + mp.log(2)), [-1, 1])
    assert got.total == math.inf and got.positive == math.inf
    assert close(got.negative, neg, 1e-11)
    assert close(got.p_mass_negative, mp.ncdf(1) - mp.ncdf(-1), 1e-12)
    # TV = mass of p outside (-1, 1) (p > q = 0 there; inside, q = 1/2 > p everywhere)
    assert close(got.total_variation, 2 * mp.ncdf(-1), 1e-12)
    assert np.allclose(got.crossings, [-1.0, 1.0], atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(
    mp_=st.floats(-3, 3), sp=st.floats(0.3, 3), mq=st.floats(-3, 3), sq=st.floats(0.3, 3)
)
def test_negative_area_is_bounded_by_total_variation(mp_, sp, mq, sq):
    a = signed_areas(stats.norm(mp_, sp), stats.norm(mq, sq))
    assert -a.total_variation - 1e-12 <= a.negative <= 0.0
    assert a.positive >= 0.0 and a.total >= 0.0
    assert 0.0 <= a.total_variation <= 1.0 and 0.0 <= a.p_mass_negative <= 1.0
    assert a.positive + a.negative == pytest.approx(a.total, rel=1e-10, abs=1e-13)


# ---------------------------------------------------------------------------------------
# log_ratio and integrand_curves.
def test_log_ratio_matches_textbook_formula_far_in_the_tails():
    p, q = stats.norm(0.0, 1.0), stats.norm(1.0, 2.0)
    x = np.array([-60.0, -3.0, 0.0, 0.7, 5.0, 60.0])  # at +-60 both densities underflow to 0
    ref = [m_norm(0, 1)(mp.mpf(v)) - m_norm(1, 2)(mp.mpf(v)) for v in x]
    got = log_ratio(p, q, x)
    assert got.shape == x.shape
    for g, r in zip(got, ref):
        assert close(g, r, 1e-14)
    assert isinstance(log_ratio(p, q, 0.3), float)


def test_log_ratio_conventions():
    # p = 0 < q: -inf;  q = 0 < p: +inf;  both 0: error.
    assert log_ratio(stats.gamma(2.0), stats.norm(0, 1), -1.0) == -math.inf
    assert log_ratio(stats.norm(0, 1), stats.uniform(-1, 2), 3.0) == math.inf
    with pytest.raises(ValueError, match="both zero"):
        log_ratio(stats.uniform(0, 1), stats.uniform(0, 2), [0.5, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        log_ratio(stats.norm(), stats.norm(1), [0.0, float("nan")])


@pytest.mark.parametrize(
    "p, q",
    [
        (stats.poisson(2.0), stats.norm()),
        (stats.norm(), stats.binom(3, 0.5)),
        (stats.multivariate_normal([0, 0]), stats.norm()),
        ([0.5, 0.5], stats.norm()),
    ],
)
def test_rejects_non_continuous_inputs(p, q):
    for fn in (lambda: log_ratio(p, q, 0.0), lambda: signed_areas(p, q), lambda: integrand_curves(p, q, [0.0])):
        with pytest.raises(TypeError):
            fn()


def test_integrand_curves_fields_and_bound():
    p, q = GaussianMixture([0.7, 0.3], [-1.0, 2.0], [0.6, 0.8]), stats.norm(0.5, 1.2)
    x = np.linspace(-8.0, 9.0, 4001)
    c = integrand_curves(p, q, x)
    lp = m_mixture([0.7, 0.3], [-1.0, 2.0], [0.6, 0.8])
    lq = m_norm(0.5, 1.2)
    for i in (0, 1000, 2000, 3500):
        xv = mp.mpf(x[i])
        assert close(c.log_ratio[i], lp(xv) - lq(xv), 1e-13)
        assert close(c.integrand[i], mp.exp(lp(xv)) * (lp(xv) - lq(xv)), 1e-13)
        assert close(c.lower_bound[i], mp.exp(lp(xv)) - mp.exp(lq(xv)), 1e-13)
    assert np.all(c.integrand >= c.lower_bound - 1e-15)
    assert np.array_equal(c.p, np.exp(c.log_p)) and np.array_equal(c.q, np.exp(c.log_q))
    # the areas under the curves: the integrand's is the KL, the bound's is 0
    h = x[1] - x[0]
    kl_ref = mp.quad(lambda t: mp.exp(v := lp(t)) * (v - lq(t)), [-mp.inf, -1, 2, mp.inf])
    assert np.trapezoid(c.integrand, dx=h) == pytest.approx(float(kl_ref), rel=1e-8)
    assert abs(np.trapezoid(c.lower_bound, dx=h)) < 1e-8


def test_integrand_curves_outside_p_support_and_errors():
    c = integrand_curves(stats.gamma(2.0), stats.norm(1.0, 1.0), [-1.0, 0.5, 2.0])
    assert c.log_ratio[0] == -math.inf and c.integrand[0] == 0.0 and c.p[0] == 0.0
    assert c.lower_bound[0] == pytest.approx(-float(mp.npdf(-1, 1, 1)), rel=1e-14)
    with pytest.raises(ValueError, match="one-dimensional"):
        integrand_curves(stats.norm(), stats.norm(1), np.zeros((2, 2)))
    with pytest.raises(TypeError):
        integrand_curves(stats.norm(), stats.norm(1), ["a", "b"])


def _t_pdf_mp(x: mp.mpf, nu: mp.mpf) -> mp.mpf:
    return mp.gamma((nu + 1) / 2) / (mp.sqrt(nu * mp.pi) * mp.gamma(nu / 2)) * (1 + x**2 / nu) ** (-(nu + 1) / 2)


def _t_sf_mp(x: mp.mpf, nu: mp.mpf) -> mp.mpf:
    # P(T > x) for x > 0 through the regularised incomplete beta function.
    return mp.betainc(nu / 2, mp.mpf(1) / 2, 0, nu / (nu + x**2), regularized=True) / 2


@pytest.mark.parametrize("a, b, guess", [("0.1", "0.2", 300), ("0.3", "1", 3), ("0.5", "3", 3)])
def test_very_heavy_t_pairs_find_both_crossings(a, b, guess):
    """Regression: crossings of t(0.1) vs t(0.2) sit at +-360 while the scan reaches 1e115; the
    merge tolerance once scaled with that span and fused both crossings into one (TV came out 0).
    For two centred t densities with p the heavier, p wins outside +-c, so
    TV = 2 (P_p(X > c) - P_q(X > c)), computed here with mpmath's incomplete beta."""
    with mp.workdps(30):
        nu_p, nu_q = mp.mpf(a), mp.mpf(b)
        c = mp.findroot(lambda x: mp.log(_t_pdf_mp(x, nu_p)) - mp.log(_t_pdf_mp(x, nu_q)), guess)
        ref = float(2 * (_t_sf_mp(c, nu_p) - _t_sf_mp(c, nu_q)))
    p, q = stats.t(float(a)), stats.t(float(b))
    assert math.isclose(total_variation(p, q), ref, rel_tol=1e-12)


def _kl_part_mp(logp, logq, lo, hi):
    """mpmath reference for the part of KL(p || q) over (lo, hi), from log-densities typed in here."""
    with mp.workdps(30):
        pts = [lo] + [x for x in (-10, -3, -1, 0, 1, 3, 10) if lo < x < hi] + [hi]
        return float(mp.quad(lambda x: mp.exp(v := logp(x)) * (v - logq(x)), pts))


def _log_norm(mu, s):
    return lambda x: -((x - mu) / s) ** 2 / 2 - mp.log(s) - mp.log(2 * mp.pi) / 2


@pytest.mark.parametrize("lo, hi", [(5.0, math.inf), (10.0, math.inf), (-math.inf, -5.0), (-1.0, 1.0),
                                    (100.0, math.inf), (-math.inf, math.inf), (0.3, 2.0)])
def test_kl_part_t3_against_normal_vs_mpmath(lo, hi):
    with mp.workdps(30):
        ref = float(mp.quad(t3_normal_kl_integrand, [mp.mpf(lo)] + [x for x in (-10, -3, -1, 0, 1, 3, 10) if lo < x < hi] + [mp.mpf(hi)]))
    assert math.isclose(kl_part(stats.t(3), stats.norm(), lo, hi), ref, rel_tol=1e-11, abs_tol=1e-300)


def test_kl_part_pieces_add_up_and_edge_cases():
    p, q = stats.norm(0, 1), stats.norm(1, 2)
    cuts = [-math.inf, -2.0, 0.0, 0.7, 3.0, math.inf]
    parts = [kl_part(p, q, a, b) for a, b in zip(cuts[:-1], cuts[1:])]
    assert math.isclose(sum(parts), float(kl_divergence(p, q)), rel_tol=1e-12)
    for (a, b), v in zip(zip(cuts[:-1], cuts[1:]), parts):
        ref = _kl_part_mp(_log_norm(0, 1), _log_norm(1, 2), mp.mpf(a), mp.mpf(b))
        assert math.isclose(v, ref, rel_tol=1e-11, abs_tol=1e-16)
    # expon: no mass below 0, so (-1, 0) contributes nothing; q = expon vanishes where p = norm has mass
    assert kl_part(stats.expon(), stats.norm(), -1.0, 0.0) == 0.0
    assert kl_part(stats.norm(), stats.expon(), -1.0, 1.0) == math.inf
    with pytest.raises(ValueError, match="lo must be less than hi"):
        kl_part(p, q, 1.0, 1.0)
    with pytest.raises(ValueError, match="hi must not be NaN"):
        kl_part(p, q, 0.0, math.nan)
    with pytest.raises(TypeError, match="lo must be a real number"):
        kl_part(p, q, "0", 1.0)
    with pytest.raises(TypeError):
        kl_part(None, q, 0.0, 1.0)


@pytest.mark.parametrize("a1, b1, a2, b2", [(0.01, 1.0, 0.02, 1.5), (0.05, 2.0, 0.3, 1.0)])
def test_areas_and_parts_reach_a_singular_end(a1, b1, a2, b2):
    """beta(0.01, 1) has 6e-4 of its mass below the smallest double: the tails must be extrapolated
    to x = 0 (the engine's ladder does it). Reference: the beta-beta closed form in mpmath."""
    with mp.workdps(30):
        A1, B1, A2, B2 = (mp.mpf(v) for v in (a1, b1, a2, b2))
        ref = float(mp.log(mp.beta(A2, B2)) - mp.log(mp.beta(A1, B1)) + (A1 - A2) * mp.digamma(A1)
                    + (B1 - B2) * mp.digamma(B1) + (A2 - A1 + B2 - B1) * mp.digamma(A1 + B1))
    p, q = stats.beta(a1, b1), stats.beta(a2, b2)
    areas = signed_areas(p, q)
    assert math.isclose(areas.positive + areas.negative, ref, rel_tol=1e-11)
    assert math.isclose(kl_part(p, q, 0.0, 0.3) + kl_part(p, q, 0.3, 1.0), ref, rel_tol=1e-11)
