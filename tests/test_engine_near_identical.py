"""Near-identical pairs on the pairwise engine (issue 16, class 6), against mpmath.

Two members of one family whose parameters differ by a relative 1e-6 have a KL of
1e-12 .. 1e-15 while their log-densities are O(1): the plain difference log p - log q
keeps only ~1e-10 of its digits. The engine forms it without cancellation
(``klbook.core.engine.pair_log_ratio``: written forms, else an expansion in the
parameters), integrates p*phi(d) in the tails too, and takes q's mass beyond p's end
from its density where scipy's sf is ``1 - cdf``. JS, Hellinger and Renyi use the same
log-ratio (their kernels are 1-homogeneous: kernel(log p, log q) = p kernel(0, -d)).

References: mpmath at 30 digits with the log-densities written here from their textbook
formulas (not from scipy), computed once per session and cached in a module dict.
The full sweep over every scipy family is ``benchmarks/sweep_near_identical.py``.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

import klbook
from klbook.core import engine
from klbook.core.engine import Univariate, pair_log_ratio
from klbook.core.numeric import kl_numeric

DPS = 30
_REFS: dict[str, mp.mpf] = {}
D = 1e-6  # relative perturbation


def _cached(key, thunk):
    if key not in _REFS:
        with mp.workdps(DPS):
            _REFS[key] = thunk()
    return _REFS[key]


# Textbook log-densities of standard members, mpf -> mpf.
# (constants computed once per member: the integrands are evaluated thousands of times)
def _bradford(c):
    k = mp.log(c) - mp.log(mp.log1p(c))
    return lambda x: k - mp.log1p(c * x)


def _genpareto(c):
    return lambda x: -(1 + 1 / c) * mp.log1p(c * x)


def _alpha(a):
    k = -mp.log(2 * mp.pi) / 2 - mp.log(mp.ncdf(a))
    return lambda x: -2 * mp.log(x) - (a - 1 / x) ** 2 / 2 + k


def _kappa3(a):
    k, e = mp.log(a), (a + 1) / a
    return lambda x: k - e * mp.log(a + x**a)


def _norm():
    k = -mp.log(2 * mp.pi) / 2
    return lambda x: -x * x / 2 + k


def _t(nu):
    k = mp.loggamma((nu + 1) / 2) - mp.loggamma(nu / 2) - mp.log(nu * mp.pi) / 2
    return lambda x: k - (nu + 1) / 2 * mp.log1p(x * x / nu)


def _logistic():
    return lambda x: -x - 2 * mp.log1p(mp.exp(-x))


def _gumbel():
    return lambda x: -x - mp.exp(-x)


def _scaled(f, loc, scale):
    L, S = mp.mpf(loc), mp.mpf(scale)
    return lambda x: f((x - L) / S) - mp.log(S)


def _quad(term, lo, hi, cuts):
    pts = [mp.mpf(lo) if math.isfinite(lo) else (-mp.inf if lo < 0 else mp.inf)]
    pts += [mp.mpf(c) for c in cuts if lo < c < hi]
    pts += [mp.mpf(hi) if math.isfinite(hi) else mp.inf]
    return mp.quad(term, pts)


def _kl_term(lp, lq):
    def term(x):
        a = lp(x)
        d = a - lq(x)
        return mp.exp(a) * (d + mp.expm1(-d))

    return term


_CUTS = [-1e3, -100, -30, -10, -3, -1, 0, 1e-3, 0.1, 0.5, 1, 2, 3, 10, 30, 100, 1e3]

# (label, p, q, lo, hi, log p, log q): KL by the engine (kl_numeric: no closed form is used)
KL_PAIRS = [
    ("bradford(0.3) shape", stats.bradford(0.3), stats.bradford(0.3 * (1 + D)), 0.0, 1.0,
     lambda: _bradford(mp.mpf(0.3)), lambda: _bradford(mp.mpf(0.3 * (1 + D)))),
    ("genpareto(0.1) shape", stats.genpareto(0.1), stats.genpareto(0.1 * (1 + D)), 0.0, math.inf,
     lambda: _genpareto(mp.mpf(0.1)), lambda: _genpareto(mp.mpf(0.1 * (1 + D)))),
    ("alpha(3.57) shape", stats.alpha(3.57), stats.alpha(3.57 * (1 + D)), 0.0, math.inf,
     lambda: _alpha(mp.mpf(3.57)), lambda: _alpha(mp.mpf(3.57 * (1 + D)))),
    ("kappa3(1) scale", stats.kappa3(1.0), stats.kappa3(1.0, scale=1 + D), 0.0, math.inf,
     lambda: _kappa3(mp.mpf(1)), lambda: _scaled(_kappa3(mp.mpf(1)), 0.0, 1 + D)),
    ("norm scale (engine)", stats.norm(), stats.norm(scale=1 + D), -math.inf, math.inf,
     _norm, lambda: _scaled(_norm(), 0.0, 1 + D)),
]


@pytest.mark.parametrize("case", KL_PAIRS, ids=[c[0] for c in KL_PAIRS])
def test_near_identical_kl_of_families_without_a_written_form(case):
    label, p, q, lo, hi, lp, lq = case
    ref = _cached("kl " + label, lambda: _quad(_kl_term(lp(), lq()), lo, hi, _CUTS))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = kl_numeric(p, q)
    err = float(abs(mp.mpf(value) - ref) / ref)
    # before the expansion and the p*phi(d) tails: bradford 3.3e-2, genpareto 1.8e-5, alpha 1.6e-5,
    # kappa3 2.5e-6, norm 4.3e-11
    assert err <= 1e-12, (label, value, float(ref), err)


def test_q_mass_beyond_p_end_from_its_density():
    """bradford has scipy's generic sf = 1 - cdf (1e-16 absolute): a tail mass is integrated from the density instead."""
    q = stats.bradford(0.3, loc=-5e-7, scale=1 + 1e-6)
    c = mp.mpf(0.3)
    lq = _scaled(_bradford(c), -5e-7, 1 + 1e-6)
    with mp.workdps(40):
        q_hi = mp.mpf(-5e-7) + mp.mpf(1 + 1e-6)  # q's upper end (float parameters, exact: not at 53 bits)
    for x in (1.0, 1.0 - 1e-4):
        ref = _cached(f"bradford mass above {x}", lambda x=x: mp.quad(lambda t: mp.exp(lq(t)), [mp.mpf(x), q_hi]))
        got = Univariate(q, "q").mass_above(x)
        assert float(abs(mp.mpf(got) - ref) / ref) <= 1e-12, (x, got, float(ref), float(q.sf(x)))
    # the KL of this pair (q's support 5e-7 wider at each end: KL ~ 1e-6, mostly q's mass outside p's):
    # 1.3e-10 with the cdf-based tails; now p*phi(d) up to p's ends and q's slivers from its density
    # between p's end and q's exact end (support() rounds it: the 53-bit q_hi this test used to have
    # moved the reference by 6e-11)
    p = stats.bradford(0.3)
    ref = _cached("bradford loc/scale", lambda: _quad(_kl_term(_bradford(c), lq), 0.0, 1.0, [1e-3, 0.1, 0.5, 0.9, 1 - 1e-3])
                  + mp.quad(lambda x: mp.exp(lq(x)), [mp.mpf(-5e-7), 0]) + mp.quad(lambda x: mp.exp(lq(x)), [1, q_hi]))
    assert float(abs(mp.mpf(kl_numeric(p, q)) - ref) / ref) <= 1e-14


def _js_term(lp, lq):
    def term(x):
        a = lp(x)
        r = mp.exp(lq(x) - a)  # q/p
        return mp.exp(a) / 2 * (mp.log(2 / (1 + r)) + r * mp.log(2 * r / (1 + r)))

    return term


def _h2_term(lp, lq):
    def term(x):
        v = lp(x)
        return mp.exp(v) / 2 * mp.expm1((lq(x) - v) / 2) ** 2

    return term


def _bc_term(lp, lq, a):
    def term(x):
        v = lp(x)
        return mp.exp(v - (1 - a) * (v - lq(x)))

    return term


OTHER = [
    # (label, what, p, q, reference thunk); the kernels saw only log p and log q before: 5e-11 .. 8e-10
    ("JS t(5) || t(5, loc=1e-6)", "js", stats.t(5), stats.t(5, loc=1e-6),
     lambda: _quad(_js_term(_t(mp.mpf(5)), _scaled(_t(mp.mpf(5)), 1e-6, 1.0)), -math.inf, math.inf, _CUTS)),
    ("H^2 logistic || logistic(scale=1+1e-6)", "h2", stats.logistic(), stats.logistic(scale=1 + 1e-6),
     lambda: _quad(_h2_term(_logistic(), _scaled(_logistic(), 0.0, 1 + 1e-6)), -math.inf, math.inf, _CUTS)),
    ("Renyi(0.5) t(5) || t(5.000005)", "renyi", stats.t(5), stats.t(5.000005),
     lambda: -2 * mp.log(_quad(_bc_term(_t(mp.mpf(5)), _t(mp.mpf(5.000005)), mp.mpf(0.5)), -math.inf, math.inf, _CUTS))),
    ("JS bradford(0.3) || shape (1+1e-6) (expansion)", "js", stats.bradford(0.3), stats.bradford(0.3 * (1 + 1e-6)),
     lambda: _quad(_js_term(_bradford(mp.mpf(0.3)), _bradford(mp.mpf(0.3 * (1 + 1e-6)))), 0.0, 1.0, [0.5])),
    ("H^2 gumbel_r || gumbel_r(scale=1+1e-6) (expansion)", "h2", stats.gumbel_r(), stats.gumbel_r(scale=1 + 1e-6),
     lambda: _quad(_h2_term(_gumbel(), _scaled(_gumbel(), 0.0, 1 + 1e-6)), -8.0, 80.0, _CUTS)),
]


@pytest.mark.parametrize("case", OTHER, ids=[c[0] for c in OTHER])
def test_near_identical_js_hellinger_renyi(case):
    label, what, p, q, thunk = case
    ref = _cached(label, thunk)
    if what == "js":
        value = klbook.js_divergence(p, q)
    elif what == "renyi":
        value = klbook.renyi_divergence(p, q, 0.5)
    else:
        value = klbook.hellinger_distance(p, q) ** 2
    assert float(abs(mp.mpf(value) - ref) / ref) <= 1e-13, (label, value, float(ref))


def test_near_identical_discrete_pairs_by_the_expansion():
    """geom(0.3) || geom(0.3 (1 + 1e-6)) through the engine (kl_numeric; the registry has it in closed form)."""
    a, b = 0.3, 0.3 * (1 + D)
    A, B = mp.mpf(a), mp.mpf(b)
    kl = _cached("geom kl", lambda: mp.log(A / B) + (1 - A) / A * mp.log1p((B - A) / (1 - B)))
    assert float(abs(mp.mpf(kl_numeric(stats.geom(a), stats.geom(b))) - kl) / kl) <= 1e-12  # was 8.8e-11

    def lp(k, P):
        return mp.log(P) + (k - 1) * mp.log1p(-P)

    h2 = _cached("geom h2", lambda: mp.nsum(lambda k: mp.exp(lp(k, A)) / 2 * (1 - mp.exp((lp(k, B) - lp(k, A)) / 2)) ** 2, [1, mp.inf]))
    value = klbook.hellinger_distance(stats.geom(a), stats.geom(b)) ** 2
    assert float(abs(mp.mpf(value) - h2) / h2) <= 1e-12  # was 3.5e-11


def test_expansion_keeps_the_plain_difference_where_it_cannot_apply():
    """Far-apart members, different families, or a kink inside the stencil: no expansion / the plain difference."""
    assert pair_log_ratio(stats.gamma(2.0), stats.gamma(2.5)) is None  # 25% apart
    assert pair_log_ratio(stats.gamma(2.0), stats.weibull_min(2.0)) is None
    p, q = stats.laplace(), stats.laplace(loc=1e-6)
    ratio = pair_log_ratio(p, q)

    x = np.array([-3.0, -1e-3, 0.0, 5e-7, 1e-3, 2.0])
    lp, lq = Univariate(p, "p").logdens(x), Univariate(q, "q").logdens(x)
    d, _ = ratio(x, lp, lq)
    exact = [float(abs(mp.mpf(v) - mp.mpf(1e-6)) - abs(mp.mpf(v))) for v in x]  # log p - log q = |x - 1e-6| - |x|
    np.testing.assert_allclose(d, exact, rtol=1e-9, atol=1e-22)


@pytest.mark.parametrize("a, b", [(0.3, 0.3 * (1 + 1e-9)), (0.3 * (1 + 1e-9), 0.3), (0.7, 0.7 * (1 - 1e-7))])
def test_registry_geom_near_identical(a, b):
    """The closed form (registry) of geom || geom at relative differences 1e-9: log(a/b) + (1-a)/a log((1-a)/(1-b))."""
    with mp.workdps(40):
        A, B = mp.mpf(a), mp.mpf(b)
        ref = mp.log(A / B) + (1 - A) / A * mp.log((1 - A) / (1 - B))
    value = klbook.kl_divergence(stats.geom(a), stats.geom(b))
    assert float(abs(mp.mpf(value) - ref) / ref) <= 1e-15


# --------------------------------------------------------------------------------------
# Nearly equal members that move a finite end of the support, or whose log-density has a kink:
# KL against the mpmath references that benchmarks/sweep_near_identical.py stores (scipy's own
# formulas evaluated at 30 digits; q's ends in exact arithmetic, kinks as cuts). The engine
# integrates p*phi(d) up to p's end in the distance to it, adds q's sliver beyond p's end from
# q's density, and takes d from a stencil 64 times narrower where the first one straddles a kink.
_SWEEP_REFS = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" / "sweep_near_identical_refs.json").read_text())


def _widened(dist, *shapes, delta=D):
    """The sweep's 'scale+' partner of dist(*shapes) with a finite support: q's support wider by delta*w/2 at each end."""
    p = dist(*shapes)
    lo, hi = (float(v) for v in p.support())
    if math.isfinite(lo) and math.isfinite(hi):
        loc = -lo * delta - delta * (hi - lo) / 2
    elif math.isfinite(lo) or math.isfinite(hi):
        loc = -(lo if math.isfinite(lo) else hi) * delta
    else:
        loc = 0.0
    return p, dist(*shapes, loc=loc, scale=1 + delta)


def _shifted_shape(dist, *shapes, sign=1.0, delta=D):
    """The sweep's 'shape0+-' partner: the first shape times (1 +- delta)."""
    sq = (shapes[0] * (1 + sign * delta), *shapes[1:])
    return dist(*shapes), dist(*sq)


# (sweep label, pair, bound): bounds ~3x the measured error; "before" = this file's previous engine
MOVING = [
    # (gausshyper, 3.3e-12 from 1.9e-4, is in the sweep only: its density costs 1 s here)
    # support ends moved by 5e-7 (before: semicircular 8.3e-5, argus 2.8e-4, anglit 1.1e-6, trapezoid 2.7e-6,
    # triang 9.1e-7, genhalflogistic 1.7e-4, vonmises_line 5.5e-7, beta 5.2e-7, cosine 2.2e-10)
    # (argus 1.3e-10, trapezoid 3.0e-11 and semicircular 2.3e-12 before their log-densities were written
    # in the distance to the ends, engine._STD_LOGPDF_ENDS)
    ("semicircular() vs scale+", _widened(stats.semicircular), 2e-13),
    ("argus(1.0,) vs scale+", _widened(stats.argus, 1.0), 2e-13),
    ("anglit() vs scale+", _widened(stats.anglit), 2e-12),  # 8.9e-12 before its ends form
    ("trapezoid(0.2, 0.8) vs scale+", _widened(stats.trapezoid, 0.2, 0.8), 3e-12),
    ("triang(0.15785029824528218,) vs scale+", _widened(stats.triang, 0.15785029824528218), 5e-13),  # 8.3e-12
    ("genhalflogistic(0.7727472780992932,) vs scale+", _widened(stats.genhalflogistic, 0.7727472780992932),
     1e-13),  # 6.7e-12 before its ends form (1 - c z = c (1/c - z), the exact end 1/c)
    ("genhalflogistic(0.7727472780992932,) vs shape0-",
     _shifted_shape(stats.genhalflogistic, 0.7727472780992932, sign=-1.0), 1e-13),
    ("vonmises_line(3.99390425810714,) vs scale+", _widened(stats.vonmises_line, 3.99390425810714), 1e-12),
    ("beta(2.3098496451481823, 0.6268795430096368) vs scale+",
     _widened(stats.beta, 2.3098496451481823, 0.6268795430096368), 1e-12),
    ("cosine() vs scale+", _widened(stats.cosine), 1e-11),
    ("uniform() vs scale+", _widened(stats.uniform), 1e-12),
    ("truncnorm(-1.0978730080013919, 2.730675410903198) vs scale+",
     _widened(stats.truncnorm, -1.0978730080013919, 2.730675410903198), 3e-11),
    ("loguniform(0.01, 1.25) vs shape0-", _shifted_shape(stats.loguniform, 0.01, 1.25, sign=-1.0), 1e-12),
    # kinks (before: crystalball 1.8e-6 and laplace_asymmetric 6.3e-7 were the old references' error, cut
    # across the kink; loglaplace 5.2e-10 likewise), pearson3 (before 5.3e-7: scipy's formula cancels
    # 2e3 ulp inside, the expansion was rejected)
    # (3.5e-12 and 8.9e-13 until both members' kinks at -beta * scale became breakpoints, engine._STD_KINKS)
    ("crystalball(2.0, 3.0) vs scale+", _widened(stats.crystalball, 2.0, 3.0), 6e-13),
    ("crystalball(2.0, 3.0) vs shape0+", _shifted_shape(stats.crystalball, 2.0, 3.0), 3e-13),
    ("laplace_asymmetric(2.0,) vs scale+", _widened(stats.laplace_asymmetric, 2.0), 1e-12),
    ("loglaplace(3.2505926592051435,) vs scale+", _widened(stats.loglaplace, 3.2505926592051435), 1e-12),
    # (6.9e-11 and 3.9e-12 with scipy's formula, which cancels 2e3 ulp; written by Stirling's series now)
    ("pearson3(0.1,) vs shape0+", _shifted_shape(stats.pearson3, 0.1), 2e-12),
    ("pearson3(0.1,) vs scale+", _widened(stats.pearson3, 0.1), 3e-13),
    # singular at both ends, q's ends 1e-6 beyond p's (before: 5-6 s, 1e-2 of the tails extrapolated
    # with warnings, the stored reference was inf); the shape pair was 1.3e-6 off in 1.9 s
    ("rdist(1.6,) vs scale+", _widened(stats.rdist, 1.6), 1e-13),
    ("rdist(1.6,) vs shape0+", _shifted_shape(stats.rdist, 1.6), 1e-13),
    # scipy's log-density log(pdf) underflows in the tails (before: ValueError); written in logs
    ("jf_skew_t(8.0, 4.0) vs scale+", _widened(stats.jf_skew_t, 8.0, 4.0), 2e-13),
    ("jf_skew_t(8.0, 4.0) vs shape0+", _shifted_shape(stats.jf_skew_t, 8.0, 4.0), 2e-13),
    # the expansion's 8th-order G' off by 5e-12 of d near the mode (poles of the log-density at
    # c = x -+ i), which the e6^2/e4 estimate put at 1e-13: checked at half the step (before: 2.0e-12)
    ("foldcauchy(4.716467345583189,) vs shape0+", _shifted_shape(stats.foldcauchy, 4.716467345583189), 2e-13),
    # these three were right; their stored references were not (kappa4 4.2e-10, f 3.1e-11 off: computed
    # by an older reference code; genextreme 1.9e-9 for a KL of 1.0e-14: exp(a) * expm1(-d) with
    # a = -1e160, -d = 1e160 - 1e60 rounded at 30 digits). See test_reference_fixes_live below.
    ("kappa4(0.0, 0.0) vs scale+", _widened(stats.kappa4, 0.0, 0.0), 2e-13),
    ("f(29.0, 18.0) vs shape0+", _shifted_shape(stats.f, 29.0, 18.0), 3e-12),
    ("genextreme(-0.1,) vs shape0-", _shifted_shape(stats.genextreme, -0.1, sign=-1.0), 3e-13),
]


@pytest.mark.parametrize("case", MOVING, ids=[c[0].split(" vs ")[0].split("(")[0] + " " + c[0].split(" vs ")[1]
                                              for c in MOVING])
def test_near_identical_moving_ends_and_kinks_against_stored_references(case):
    label, (p, q), bound = case
    ref = mp.mpf(_SWEEP_REFS[f"{label} delta=1e-06"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = kl_numeric(p, q)
    err = float(abs(mp.mpf(value) - ref) / ref)
    assert err <= bound, (label, value, float(ref), err)


def test_crystalball_kink_live_mpmath():
    """crystalball(2, 3) against scale 1 + 1e-6: the textbook density (Gaussian core, power-law tail below
    -beta), cut at both members' kinks; the stored sweep reference and the engine (3.5e-12 off with the
    kinks inside Gauss-Kronrod pieces)."""
    beta, m, sq = mp.mpf(2), mp.mpf(3), mp.mpf(1 + 1e-6)

    def logpdf(x, s):
        n = 1 / (m / beta / (m - 1) * mp.exp(-beta**2 / 2) + mp.sqrt(2 * mp.pi) * mp.ncdf(beta))
        z = x / s
        core = -z * z / 2 if z > -beta else m * mp.log(m / beta) - beta**2 / 2 - m * mp.log(m / beta - beta - z)
        return mp.log(n) + core - mp.log(s)

    def ref():
        def f(x):
            a = logpdf(x, 1)
            d = a - logpdf(x, sq)
            return mp.exp(a) * (d + mp.expm1(-d))

        cuts = [-mp.inf, -1e3, -20, -3, -beta * sq, -beta, 0, 3, 10, mp.inf]
        return mp.quad(f, cuts)

    live = _cached("crystalball scale+", ref)
    stored = mp.mpf(_SWEEP_REFS["crystalball(2.0, 3.0) vs scale+ delta=1e-06"])
    assert float(abs(live - stored) / stored) <= 1e-15  # the stored reference is what it says
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = kl_numeric(stats.crystalball(2.0, 3.0), stats.crystalball(2.0, 3.0, scale=1 + 1e-6))
    assert float(abs(mp.mpf(value) - live) / live) <= 6e-13, (value, float(live))


def test_semicircular_moving_ends_live_mpmath():
    """One of the stored references recomputed here from the textbook density (2/pi) sqrt(1 - x^2)."""
    p, q = _widened(stats.semicircular)
    L, C = mp.mpf(float(q.kwds["loc"])), mp.mpf(float(q.kwds["scale"]))

    def lq(x):
        z = (x - L) / C
        return mp.log(2 / mp.pi) + mp.log1p(-z * z) / 2 - mp.log(C) if abs(z) < 1 else -mp.inf

    def lp(x):
        return mp.log(2 / mp.pi) + mp.log1p(-x * x) / 2

    def ref():
        cuts = [-1, -1 + mp.mpf(10) ** -12, -1 + mp.mpf(10) ** -8, -1 + mp.mpf(10) ** -6, -1 + mp.mpf(10) ** -4, 0,
                1 - mp.mpf(10) ** -4, 1 - mp.mpf(10) ** -6, 1 - mp.mpf(10) ** -8, 1 - mp.mpf(10) ** -12, 1]
        def term(x):  # p phi(d); where p vanishes (a node rounded onto +-1) the term is q
            a, b = lp(x), lq(x)
            return mp.exp(b) if a == -mp.inf else mp.exp(a) * ((a - b) + mp.expm1(b - a))

        body = mp.quad(term, cuts)
        sliver = mp.quad(lambda x: mp.exp(lq(x)), [L - C, -1]) + mp.quad(lambda x: mp.exp(lq(x)), [1, L + C])
        return body + sliver

    live = _cached("semicircular scale+", ref)
    stored = mp.mpf(_SWEEP_REFS["semicircular() vs scale+ delta=1e-06"])
    assert float(abs(live - stored) / stored) <= 1e-15  # the stored reference is what it says
    value = kl_numeric(p, q)
    assert float(abs(mp.mpf(value) - live) / live) <= 2e-11, (value, float(live))


def test_semicircular_moving_ends_js_and_hellinger_live_mpmath():
    """JS and H^2 of the same pair go through integrate_kernel: before, 1.4e-3 and 1.2e-3 off (and 1.6-2.4 s)."""
    p, q = _widened(stats.semicircular)
    C = mp.mpf(float(q.kwds["scale"]))

    def dens(x, c):
        z = x / c
        return 2 / mp.pi * mp.sqrt(1 - z * z) / c if abs(z) < 1 else mp.mpf(0)

    def js(x):
        a, b = dens(x, 1), dens(x, C)
        m = (a + b) / 2
        return ((a * mp.log(a / m) if a else 0) + (b * mp.log(b / m) if b else 0)) / 2

    def h2(x):
        return (mp.sqrt(dens(x, 1)) - mp.sqrt(dens(x, C))) ** 2 / 2

    def cuts():
        inner = [s * (1 - mp.mpf(10) ** -k) for s in (-1, 1) for k in (12, 9, 7, 6, 5, 4, 2)]
        return sorted([-C, -1, 0, 1, C] + inner)

    ref_js = _cached("semicircular js", lambda: mp.quad(js, cuts()))
    ref_h2 = _cached("semicircular h2", lambda: mp.quad(h2, cuts()))
    assert float(abs(mp.mpf(klbook.js_divergence(p, q)) - ref_js) / ref_js) <= 2e-11
    assert float(abs(mp.mpf(klbook.hellinger_distance(p, q) ** 2) - ref_h2) / ref_h2) <= 2e-11


def test_rdist_singular_moving_ends_live_mpmath():
    """One stored reference of the singular-end group recomputed from the textbook density, in the distance y = 1 - x."""
    p, q = _widened(stats.rdist, 1.6)
    assert float(q.kwds["loc"]) == 0.0
    c, s = mp.mpf(1.6), mp.mpf(float(q.kwds["scale"]))

    def ref():
        lb, k = mp.log(mp.beta(c / 2, c / 2)), c / 2 - 1

        def term(y):  # p log(p/q) at x = 1 - y (both halves alike); q's end lies s - 1 beyond p's
            a = -mp.log(2) + k * (mp.log((2 - y) / 2) + mp.log(y / 2)) - lb
            b = -mp.log(2) + k * (mp.log((s + 1 - y) / (2 * s)) + mp.log((s - 1 + y) / (2 * s))) - lb - mp.log(s)
            return mp.exp(a) * (a - b)

        cuts = [0] + [mp.mpf(10) ** -j for j in (13, 10, 8, 7, 6, 5, 4, 2)] + [mp.mpf(1) / 2, 1]
        return 2 * mp.quad(term, cuts)

    live = _cached("rdist scale+", ref)
    stored = mp.mpf(_SWEEP_REFS["rdist(1.6,) vs scale+ delta=1e-06"])
    assert float(abs(live - stored) / stored) <= 1e-14
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = kl_numeric(p, q)
    assert float(abs(mp.mpf(value) - live) / live) <= 1e-13, (value, float(live))
    # JS, H^2 and Renyi go through the same distance-to-end tails (each was 5-6 s with warnings)
    for fn in (klbook.js_divergence, klbook.hellinger_distance, lambda a, b: klbook.renyi_divergence(a, b, 0.5)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert 0.0 < fn(p, q) < 1e-2


def test_reference_fixes_live():
    """The stored references that were wrong, checked against independent forms.

    kappa4(0, 0) is the Gumbel: KL(G(0, 1) || G(0, s)) = log s + gamma (1/s - 1) + Gamma(1 + 1/s) - 1 exactly.
    genextreme(-0.1) against its shape neighbour: half the Fisher information times the squared step (to the
    O(delta) of that approximation; the old stored value was 1.9e-9 for this 1.0e-14).
    """
    p, q = _widened(stats.kappa4, 0.0, 0.0)
    s = mp.mpf(float(q.kwds["scale"]))
    with mp.workdps(40):
        exact = mp.log(s) + mp.euler * (1 / s - 1) + mp.gamma(1 + 1 / s) - 1
    stored = mp.mpf(_SWEEP_REFS["kappa4(0.0, 0.0) vs scale+ delta=1e-06"])
    assert float(abs(stored - exact) / exact) <= 1e-14
    assert float(abs(mp.mpf(kl_numeric(p, q)) - exact) / exact) <= 2e-13

    c1, c2 = mp.mpf(-0.1), mp.mpf(-0.1 * (1 - D))

    def lg(x, c):
        t = 1 - c * x
        return -mp.exp(mp.log(t) / c) + (1 / c - 1) * mp.log(t) if t > 0 else -mp.inf

    def fisher():
        def s2(x):
            a = lg(x, c1)
            return mp.exp(a) * mp.diff(lambda c: lg(x, c), c1) ** 2 if a > -mp.inf else mp.mpf(0)
        return mp.quad(s2, [1 / c1, -9, -5, -2, 0, 2, 5, 10, 30, 100, 1e3, 1e4, 1e6, mp.inf]) * (c2 - c1) ** 2 / 2

    approx = _cached("genextreme fisher", fisher)
    stored = mp.mpf(_SWEEP_REFS["genextreme(-0.1,) vs shape0- delta=1e-06"])
    assert float(abs(stored - approx) / approx) <= 1e-5


def test_jf_skew_t_written_log_density():
    """engine's jf_skew_t log-density (in logs, (s + z)(s - z) = a + b) against mpmath, out to |z| = 1e300."""
    fn = engine._STD_LOGPDF["jf_skew_t"]
    z = np.array([-1e300, -1e5, -30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 50.0, 1e6, 1e300])
    for a, b in ((8.0, 4.0), (0.5, 3.0), (2.0, 2.0)):
        got = fn(z, a, b)
        with mp.workdps(700):  # (1 + z/s at z = -1e300 needs 600 digits)
            A, B = mp.mpf(a), mp.mpf(b)
            for zi, gi in zip(z, got):
                x = mp.mpf(zi)
                r = A + B
                sq = mp.sqrt(r + x * x)
                ref = ((A + 0.5) * mp.log(1 + x / sq) + (B + 0.5) * mp.log(1 - x / sq)
                       - (r - 1) * mp.log(2) - mp.log(mp.beta(A, B)) - mp.log(r) / 2)
                assert abs(float((mp.mpf(gi) - ref) / ref)) <= 2e-15, (a, b, zi, gi, float(ref))


def test_pearson3_written_log_density():
    """engine's pearson3 log-density (Stirling's series, log1p(t) - t) against scipy's formula in mpmath."""
    fn = engine._STD_LOGPDF["pearson3"]
    for skew in (0.1, -0.1, 0.5, 2.0, 1e-3):
        d = stats.pearson3(skew)
        z = np.concatenate([d.ppf([1e-12, 1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6, 1 - 1e-12]), [-5.0, 0.0, 5.0]])
        got = fn(z, skew)
        with mp.workdps(40):
            sk = mp.mpf(skew)
            b = 2 / sk
            a = b * b
            for zi, gi in zip(z, got):
                x = b * (mp.mpf(zi) + a / b)
                if x <= 0:
                    assert gi == -np.inf
                    continue
                ref = mp.log(abs(b)) + (a - 1) * mp.log(x) - x - mp.loggamma(a)
                assert abs(float(mp.mpf(gi) - ref)) <= 4e-15 * (1 + abs(float(ref))), (skew, zi, gi, float(ref))
