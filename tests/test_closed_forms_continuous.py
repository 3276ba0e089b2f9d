r"""Closed forms of KL for continuous families (klbook.core.closed_forms.continuous).

Independent references, never the implementation against itself:

* **Quadrature.** mpmath integrates the defining integral
  :math:`\int p\,(\log p - \log q)` with log-densities typed in below from the
  textbook formulas (scipy's parametrisation: ``loc``, ``scale``, shapes), not
  from scipy and not from klbook. When the supports agree the integrand is
  written :math:`p\,d - p + q` (:math:`d = \log p - \log q`), which has the same
  integral and is non-negative, so it does not cancel.
* **Textbook closed forms in high precision.** The usual, unrearranged formulas
  (``log(s2/s1) + (s1**2 + dm**2)/(2 s2**2) - 1/2`` and so on) evaluated with
  mpmath at 60 digits, with every float64 input converted exactly. At that
  precision their cancellation for nearly identical pairs is harmless. Each of
  them is itself checked against the quadrature in ``test_textbook_forms_agree``.

The quadratures (``quad_kl``, 0.05-0.3 CPU-s each) are stored in
``tests/refs/closed_forms_continuous.json`` by ``python tests/refs/generate.py``, keyed by the
case, with a hash of the code that computes them (tests/refs/store.py); ``LIVE`` ones are recomputed
on every run and must equal the stored values.

The worst relative errors per family pair are printed by ``-s`` runs of
``test_report_worst_errors``.
"""

from __future__ import annotations

import functools
import math
import zlib
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from scipy import stats

from klbook.core.closed_forms import continuous as cc
from klbook.core.closed_forms import kl_distributions, kl_registry_markdown, kl_registry_table
from refs.store import RefStore

STORE = RefStore("closed_forms_continuous")

# --------------------------------------------------------------------------
# Textbook log-densities in mpmath (x an mpf; parameters exact mpf of floats)
# --------------------------------------------------------------------------

NINF, PINF = -mp.inf, mp.inf


def _mpf(*xs):
    return [mp.mpf(float(x)) for x in xs]


def _logpdf(family: str, shapes: tuple, scale: float):
    """Textbook log-density as a function of ``(y, u)``: ``y = x - loc`` and, on a bounded
    support, ``u`` = the distance to the upper end (both passed exactly, so densities that
    are singular at an endpoint are evaluated right next to it). Also the support in y."""
    sh = _mpf(*shapes)
    (s,) = _mpf(scale)
    if family == "norm":
        return (lambda y, u: -mp.log(s * mp.sqrt(2 * mp.pi)) - (y / s) ** 2 / 2), NINF, PINF
    if family == "expon":
        return (lambda y, u: -mp.log(s) - y / s), 0, PINF
    if family == "gamma":
        (a,) = sh
        return (lambda y, u: (a - 1) * mp.log(y) - y / s - mp.loggamma(a) - a * mp.log(s)), 0, PINF
    if family == "chi2":
        (k,) = sh
        h = k / 2
        return (lambda y, u: (h - 1) * mp.log(y / s) - y / s / 2 - h * mp.log(2) - mp.loggamma(h) - mp.log(s)), 0, PINF
    if family == "beta":
        a, b = sh
        return (
            lambda y, u: (a - 1) * mp.log(y / s) + (b - 1) * mp.log(u / s) - mp.log(mp.beta(a, b)) - mp.log(s)
        ), 0, s
    if family == "uniform":
        return (lambda y, u: -mp.log(s)), 0, s
    if family == "laplace":
        return (lambda y, u: -mp.log(2 * s) - abs(y) / s), NINF, PINF
    if family == "lognorm":
        (sig,) = sh
        return (lambda y, u: -mp.log(y * sig * mp.sqrt(2 * mp.pi)) - (mp.log(y / s)) ** 2 / (2 * sig**2)), 0, PINF
    if family == "cauchy":
        return (lambda y, u: -mp.log(mp.pi * s * (1 + (y / s) ** 2))), NINF, PINF
    if family == "gumbel_r":
        return (lambda y, u: -mp.log(s) - y / s - mp.exp(-y / s)), NINF, PINF
    if family == "gumbel_l":
        return (lambda y, u: -mp.log(s) + y / s - mp.exp(y / s)), NINF, PINF
    if family == "pareto":
        (b,) = sh
        return (lambda y, u: mp.log(b) + b * mp.log(s) - (b + 1) * mp.log(y)), s, PINF
    if family == "halfnorm":
        return (lambda y, u: mp.log(mp.sqrt(2 / mp.pi) / s) - (y / s) ** 2 / 2), 0, PINF
    if family == "rayleigh":
        return (lambda y, u: mp.log(y / s**2) - (y / s) ** 2 / 2), 0, PINF
    if family == "weibull_min":
        (c,) = sh
        return (lambda y, u: mp.log(c / s) + (c - 1) * mp.log(y / s) - (y / s) ** c), 0, PINF
    if family == "weibull_max":
        (c,) = sh
        return (lambda y, u: mp.log(c / s) + (c - 1) * mp.log(-y / s) - (-y / s) ** c), NINF, 0
    raise KeyError(family)


def _frozen(family: str, shapes: tuple, loc: float, scale: float):
    return getattr(stats, family)(*shapes, loc=loc, scale=scale)


@functools.lru_cache(maxsize=None)
def quad_kl(fp: str, sp: tuple, lp: float, cp: float, fq: str, sq: tuple, lq: float, cq: float) -> float:
    """:func:`quad_kl_live`'s value stored in tests/refs/closed_forms_continuous.json (live for ``LIVE`` cases)."""
    case = (fp, sp, lp, cp, fq, sq, lq, cq)
    ref = STORE.get(repr(case), lambda: mp.mpf(quad_kl_live(*case)), dps=24, code=(quad_kl_live, _logpdf, _mpf),
                    live=case in LIVE)
    return float(ref)


def quad_kl_live(fp: str, sp: tuple, lp: float, cp: float, fq: str, sq: tuple, lq: float, cq: float) -> float:
    """KL by mpmath quadrature of the textbook densities (p's support inside q's).

    The variable is p's offset ``y = x - loc_p``; q sees ``y + (loc_p - loc_q)``. On a
    bounded support the upper half is integrated in the distance to the upper end.
    """
    with mp.workdps(24):
        logp, lo, hi = _logpdf(fp, sp, cp)
        logq, qlo, qhi = _logpdf(fq, sq, cq)
        shift = mp.mpf(lp) - mp.mpf(lq)
        same_support = shift == 0 and (lo, hi) == (qlo, qhi)
        scale = mp.mpf(cp)

        def integrand(y, u):
            a = logp(y, u)
            yq = y + shift
            b = logq(yq, u if same_support else (qhi - yq if qhi != PINF else None))
            ea = mp.exp(a)
            if same_support:
                return ea * (a - b) - ea + mp.exp(b)
            return ea * (a - b)

        def near_end(f, width):
            """int_0^width f(t) dt with t = w^4: integrable power singularities at t = 0 become bounded."""
            return mp.quad(lambda w: f(w**4) * 4 * w**3, [0, mp.root(width, 4)])

        # breakpoints: multiples of p's scale and q's location
        pts = {k * scale for k in (-60, -30, -10, -3, -1, 0, 1, 3, 10, 30, 60)} | {-shift}
        if "gumbel" in fp:  # double-exponential tail: cut far out (p's other tail decays slowly enough)
            pts = sorted(x for x in pts | {k * scale for k in (-200, -100, 100, 200)})
            return float(mp.quad(lambda y: integrand(y, None), pts))
        if hi == PINF and lo == NINF:
            return float(mp.quad(lambda y: integrand(y, None), [lo, *sorted(pts), hi]))
        if hi == PINF:  # [lo, lo + scale] near the end, then breakpoints out to infinity
            pts = sorted(x for x in pts if lo + scale < x)
            head = near_end(lambda t: integrand(lo + t, None), scale)
            return float(head + mp.quad(lambda y: integrand(y, None), [lo + scale, *pts, hi]))
        if lo == NINF:  # weibull_max: the mirror image, in the distance u to the upper end
            upts = sorted(hi - x for x in pts if x < hi - scale)
            head = near_end(lambda u: integrand(hi - u, u), scale)
            return float(head + mp.quad(lambda u: integrand(hi - u, u), [scale, *upts, PINF]))
        half = (hi - lo) / 2
        lower = near_end(lambda t: integrand(lo + t, hi - lo - t), half)
        upper = near_end(lambda u: integrand(hi - u, u), half)
        return float(lower + upper)


# --------------------------------------------------------------------------
# Textbook closed forms at 60 digits
# --------------------------------------------------------------------------

EG = mp.euler


def _tb_norm(m1, s1, m2, s2):
    return mp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - mp.mpf(1) / 2


def _tb_gamma(a1, s1, a2, s2):
    return (a1 - a2) * mp.digamma(a1) - mp.loggamma(a1) + mp.loggamma(a2) + a2 * mp.log(s2 / s1) + a1 * (s1 - s2) / s2


def _tb_beta(a1, b1, a2, b2):
    lb = lambda a, b: mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)  # noqa: E731
    return (
        lb(a2, b2) - lb(a1, b1) + (a1 - a2) * mp.digamma(a1) + (b1 - b2) * mp.digamma(b1)
        + (a2 - a1 + b2 - b1) * mp.digamma(a1 + b1)
    )


def _tb_gumbel(d, rho):  # d = (mu_p - mu_q)/beta_q, rho = beta_p/beta_q
    return -mp.log(rho) + EG * (rho - 1) - 1 + d + mp.exp(-d) * mp.gamma(1 + rho)


def _tb_weibull(c1, s1, c2, s2):
    k, rho = c2 / c1, s1 / s2
    return -mp.log(k) + EG * (k - 1) - 1 - c2 * mp.log(rho) + rho**c2 * mp.gamma(1 + k)


@functools.lru_cache(maxsize=None)
def textbook_kl(fp: str, sp: tuple, lp: float, cp: float, fq: str, sq: tuple, lq: float, cq: float) -> float:
    """The usual closed form for a same-family pair (equal loc where needed), at 60 digits."""
    with mp.workdps(60):
        S1, S2 = _mpf(*sp), _mpf(*sq)
        l1, s1, l2, s2 = _mpf(lp, cp, lq, cq)
        assert fp == fq
        f = fp
        if f == "norm":
            r = _tb_norm(l1, s1, l2, s2)
        elif f == "expon":
            r = mp.log(s2 / s1) + (l1 - l2 + s1) / s2 - 1
        elif f == "gamma":
            r = _tb_gamma(S1[0], s1, S2[0], s2)
        elif f == "chi2":
            r = _tb_gamma(S1[0] / 2, 2 * s1, S2[0] / 2, 2 * s2)
        elif f == "beta":
            r = _tb_beta(*S1, *S2)
        elif f == "uniform":
            r = mp.log(s2 / s1)
        elif f == "laplace":
            d = abs(l1 - l2)
            r = mp.log(s2 / s1) + d / s2 + s1 / s2 * mp.exp(-d / s1) - 1
        elif f == "lognorm":
            r = _tb_norm(mp.log(s1), S1[0], mp.log(s2), S2[0])
        elif f == "cauchy":
            r = mp.log(((s1 + s2) ** 2 + (l1 - l2) ** 2) / (4 * s1 * s2))
        elif f == "gumbel_r":
            r = _tb_gumbel((l1 - l2) / s2, s1 / s2)
        elif f == "gumbel_l":
            r = _tb_gumbel((l2 - l1) / s2, s1 / s2)
        elif f == "pareto":
            b1, b2 = S1[0], S2[0]
            r = mp.log(b1 / b2) + b2 * mp.log(s1 / s2) + (b2 - b1) / b1
        elif f == "halfnorm":
            d = l1 - l2
            r = mp.log(s2 / s1) + (s1**2 + 2 * d * s1 * mp.sqrt(2 / mp.pi) + d**2) / (2 * s2**2) - mp.mpf(1) / 2
        elif f == "rayleigh":
            r = 2 * mp.log(s2 / s1) + s1**2 / s2**2 - 1
        elif f in ("weibull_min", "weibull_max"):
            r = _tb_weibull(S1[0], s1, S2[0], s2)
        else:
            raise KeyError(f)
        return float(r)


def _rel_err(value: float, ref: float) -> float:
    if ref == 0.0:
        return abs(value)
    return abs(value - ref) / abs(ref)


WORST: dict[str, float] = {}


def _record(key: str, value: float, ref: float) -> float:
    e = _rel_err(value, ref)
    WORST[key] = max(WORST.get(key, 0.0), e)
    return e


# --------------------------------------------------------------------------
# Every registered continuous pair against quadrature
# --------------------------------------------------------------------------

# (p family, p shapes, p loc, p scale, q family, q shapes, q loc, q scale)
QUAD_CASES = [
    ("norm", (), 0.3, 1.2, "norm", (), -1.0, 0.7),
    ("expon", (), 0.5, 1.5, "expon", (), -0.25, 2.0),
    ("gamma", (2.5,), 0.0, 1.5, "gamma", (0.7,), 0.0, 2.0),
    ("gamma", (2.5,), 1.0, 1.5, "expon", (), 0.5, 2.0),
    ("expon", (), 0.0, 1.5, "gamma", (3.2,), 0.0, 0.5),
    ("chi2", (3.0,), 0.0, 1.5, "gamma", (2.2,), 0.0, 2.0),
    ("gamma", (0.3,), 0.0, 3.0, "chi2", (5.0,), 0.0, 1.0),
    ("chi2", (4.0,), 0.0, 1.0, "chi2", (7.0,), 0.0, 1.0),
    ("expon", (), 0.0, 1.0, "chi2", (3.0,), 0.0, 1.0),
    ("chi2", (3.0,), 0.0, 1.0, "expon", (), 0.0, 2.0),
    ("beta", (2.5, 0.7), 0.0, 1.0, "beta", (0.8, 3.0), 0.0, 1.0),
    ("beta", (2.5, 1.7), 1.0, 2.0, "uniform", (), 0.5, 3.0),
    ("uniform", (), 1.0, 2.0, "beta", (0.8, 3.0), 1.0, 2.0),
    ("uniform", (), 1.0, 2.0, "uniform", (), 0.5, 3.0),
    ("laplace", (), 0.3, 1.2, "laplace", (), -1.0, 0.7),
    ("lognorm", (0.5,), 0.2, 1.5, "lognorm", (0.9,), 0.2, 0.7),
    ("cauchy", (), 0.3, 1.2, "cauchy", (), -1.0, 0.7),
    ("gumbel_r", (), 0.3, 1.2, "gumbel_r", (), -1.0, 0.7),
    ("gumbel_l", (), 0.3, 1.2, "gumbel_l", (), -1.0, 0.7),
    ("gumbel_r", (), 0.3, 0.6, "gumbel_l", (), -1.0, 0.9),
    ("gumbel_l", (), 0.3, 0.6, "gumbel_r", (), -1.0, 0.9),
    ("pareto", (2.5,), 0.0, 1.5, "pareto", (0.7,), 0.0, 1.2),
    ("halfnorm", (), 0.5, 1.5, "halfnorm", (), 0.2, 0.7),
    ("rayleigh", (), 0.2, 1.5, "rayleigh", (), 0.2, 0.7),
    ("weibull_min", (2.5,), 0.0, 1.5, "weibull_min", (0.7,), 0.0, 2.0),
    ("weibull_max", (2.5,), 1.0, 1.5, "weibull_max", (0.7,), 1.0, 2.0),
    ("expon", (), 0.0, 1.5, "weibull_min", (1.7,), 0.0, 2.0),
    ("weibull_min", (0.6,), 0.0, 1.5, "expon", (), 0.0, 2.0),
    ("norm", (), 0.3, 1.2, "laplace", (), -1.0, 0.7),
    ("norm", (), 10.0, 1.0, "laplace", (), -1.0, 2.0),
    ("laplace", (), 0.3, 1.2, "norm", (), -1.0, 0.7),
    ("uniform", (), 0.3, 1.2, "norm", (), -1.0, 0.7),
    ("norm", (), 0.3, 1.2, "gumbel_r", (), -1.0, 0.7),
    ("norm", (), 0.3, 1.2, "gumbel_l", (), -1.0, 0.7),
    ("gumbel_r", (), 0.3, 1.2, "norm", (), -1.0, 0.7),
    ("gumbel_l", (), 0.3, 1.2, "norm", (), -1.0, 0.7),
]


# Recomputed with mpmath on every run: one case per kind of support (real line, half line, interval).
LIVE = {
    ("norm", (), 0.3, 1.2, "norm", (), -1.0, 0.7),
    ("expon", (), 0.5, 1.5, "expon", (), -0.25, 2.0),
    ("uniform", (), 1.0, 2.0, "uniform", (), 0.5, 3.0),
    ("rayleigh", (), 1.0, 1.0, "rayleigh", (), 0.5, 1.5),  # and one of the fallback's shifted pairs
}


def test_stored_quadratures_are_the_cases():
    STORE.check_keys(repr(c) for c in QUAD_CASES + NUMERIC_CASES)
    assert LIVE <= set(QUAD_CASES + NUMERIC_CASES)


def _case_id(c):
    return f"{c[0]}{list(c[1])}({c[2]},{c[3]})||{c[4]}{list(c[5])}({c[6]},{c[7]})"


@pytest.mark.parametrize("case", QUAD_CASES, ids=_case_id)
def test_against_quadrature(case):
    fp, sp, lp, cp, fq, sq, lq, cq = case
    value = kl_distributions(_frozen(fp, sp, lp, cp), _frozen(fq, sq, lq, cq))
    ref = quad_kl(*case)
    assert math.isfinite(value) and ref > 0
    assert _record(f"{fp}||{fq} (quadrature)", value, ref) < 1e-13


def test_every_continuous_pair_is_checked_against_quadrature():
    """No registered continuous pair escapes the quadrature test (cauchy || light tails are inf)."""
    checked = {(c[0], c[4]) for c in QUAD_CASES}
    registered = {(fp, fq) for fp, fq, _ in kl_registry_table() if fp in cc.FAMILY_NAMES}
    always_inf = {(fp, fq) for fp, fq in registered if fp == "cauchy" and fq != "cauchy"}
    assert registered - always_inf <= checked, sorted(registered - always_inf - checked)


SAME_FAMILY = [c for c in QUAD_CASES if c[0] == c[4]]


@pytest.mark.parametrize("case", SAME_FAMILY, ids=_case_id)
def test_textbook_forms_agree_with_quadrature(case):
    """The 60-digit textbook references used below are right (checked against the integral)."""
    assert _rel_err(textbook_kl(*case), quad_kl(*case)) < 1e-14


# --------------------------------------------------------------------------
# Nearly identical, far apart, and extreme parameters against the textbook forms
# --------------------------------------------------------------------------

# family -> (shape ranges as log10 (lo, hi)), whether loc must be equal
FAMILIES = {
    "norm": ((), False),
    "expon": ((), True),
    "gamma": (((-4, 7),), True),
    "chi2": (((-3, 6),), True),
    "beta": (((-4, 7), (-4, 7)), True),
    "uniform": ((), True),
    "laplace": ((), False),
    "lognorm": (((-3, 2),), True),
    "cauchy": ((), False),
    "gumbel_r": ((), False),
    "gumbel_l": ((), False),
    "pareto": (((-2, 2),), True),
    "halfnorm": ((), True),
    "rayleigh": ((), True),
    "weibull_min": (((-2, 2),), True),
    "weibull_max": (((-2, 2),), True),
}
RELSTEPS = [0.0, 1e-13, 1e-9, 1e-5, 1e-2, 0.3, 3.0]


def _near_cases(family: str, n: int = 10):
    """Seeded random pairs: parameters over many decades, q = p perturbed by a relative step."""
    rng = np.random.default_rng(zlib.crc32(family.encode()))  # hash() of a str differs per process
    ranges, same_loc = FAMILIES[family]
    out = []
    for i in range(n):
        step = RELSTEPS[i % len(RELSTEPS)]
        shapes1 = tuple(float(10 ** rng.uniform(*r)) for r in ranges)
        loc1 = float(rng.normal() * 10 ** rng.uniform(-3, 3))
        scale1 = float(10 ** rng.uniform(-3, 3))

        def nudge(x):
            return float(x * math.exp(step * rng.uniform(-1, 1))) if rng.random() < 0.75 else x

        shapes2 = tuple(nudge(s) for s in shapes1)
        scale2 = nudge(scale1)
        loc2 = loc1 if same_loc else float(loc1 + step * scale1 * rng.normal())
        if family == "pareto" and scale1 < scale2:  # p's support must be inside q's
            scale1, scale2 = scale2, scale1
        if family == "beta":  # the closed form needs the same support
            scale2 = scale1
        if family == "uniform":  # p inside q
            loc1, scale1 = loc1, min(scale1, scale2)
        out.append((family, shapes1, loc1, scale1, family, shapes2, loc2, scale2))
    return out


NEAR_CASES = [c for f in FAMILIES for c in _near_cases(f)]


@pytest.mark.parametrize("case", NEAR_CASES, ids=lambda c: f"{c[0]}-{c[3]:.3g}-{c[7]:.3g}")
def test_near_and_far_pairs_against_textbook_form(case):
    fp, sp, lp, cp, fq, sq, lq, cq = case
    value = kl_distributions(_frozen(fp, sp, lp, cp), _frozen(fq, sq, lq, cq))
    ref = textbook_kl(*case)
    if ref == 0.0 or case[1:4] == case[5:8]:
        assert value == 0.0
        return
    assert _record(f"{fp}||{fq} (near/far)", value, ref) < 1e-13


def test_normal_one_ulp():
    """N(0, 1) || N(1e-6, 1): exactly (1e-6)^2 / 2 for the float 1e-6, to one ulp."""
    value = kl_distributions(stats.norm(0.0, 1.0), stats.norm(1e-6, 1.0))
    with mp.workdps(50):
        ref = mp.mpf(1e-6) ** 2 / 2
    assert abs(mp.mpf(value) - ref) <= math.ulp(float(ref))


@pytest.mark.parametrize(
    "p,q,ref",
    [
        # normals 1e6 standard deviations apart, narrow: ((m1-m2)/s)^2/2 dominates
        (stats.norm(0.0, 1e-3), stats.norm(1e3, 1e-3), lambda: _tb_norm(*_mpf(0.0, 1e-3, 1e3, 1e-3))),
        (stats.norm(-1e150, 1e-150), stats.norm(1e150, 1e150), lambda: _tb_norm(*_mpf(-1e150, 1e-150, 1e150, 1e150))),
        (stats.laplace(0.0, 1e-3), stats.laplace(1e3, 1e-3),
         lambda: (lambda l1, b1, l2, b2: mp.log(b2 / b1) + abs(l1 - l2) / b2 + b1 / b2 * mp.exp(-abs(l1 - l2) / b1) - 1)(
             *_mpf(0.0, 1e-3, 1e3, 1e-3))),
        (stats.laplace(0.0, 1e-300), stats.laplace(1e5, 1e10),
         lambda: (lambda l1, b1, l2, b2: mp.log(b2 / b1) + abs(l1 - l2) / b2 + b1 / b2 * mp.exp(-abs(l1 - l2) / b1) - 1)(
             *_mpf(0.0, 1e-300, 1e5, 1e10))),
        (stats.gumbel_r(0.0, 1e-3), stats.gumbel_r(-5.0, 1e-3), lambda: _tb_gumbel(mp.mpf(5.0) / mp.mpf(1e-3), mp.mpf(1))),
        (stats.gumbel_r(0.0, 1e-3), stats.gumbel_r(0.5, 1e-3), lambda: _tb_gumbel(-mp.mpf(0.5) / mp.mpf(1e-3), mp.mpf(1))),
        (stats.cauchy(0.0, 1e-200), stats.cauchy(1e200, 1e-200),
         lambda: (lambda m1, g1, m2, g2: mp.log(((g1 + g2) ** 2 + (m1 - m2) ** 2) / (4 * g1 * g2)))(*_mpf(0, 1e-200, 1e200, 1e-200))),
        (stats.norm(0.0, 1e-300), stats.laplace(1e10, 1.0),
         lambda: (lambda s, b, d: -mp.log(2 * mp.pi * mp.e * s**2) / 2 + mp.log(2 * b) + d / b)(*_mpf(1e-300, 1.0, 1e10))),
    ],
    ids=["norm-far", "norm-huge", "laplace-far", "laplace-tiny", "gumbel-far-left", "gumbel-overflowing-exp",
         "cauchy-far", "norm-laplace-far"],
)
def test_far_apart_narrow_pairs(p, q, ref):
    value = kl_distributions(p, q)
    with mp.workdps(60):
        r = ref()
    if mp.isinf(r) or r > mp.mpf(1.7976931348623157e308):
        assert value == math.inf
    else:
        # the exponent is formed from parameters rounded once: relative error up to eps * |exponent|
        assert _record(f"{p.dist.name}||{q.dist.name} (far)", value, float(r)) < 1e-14 * max(1.0, math.log(float(r)))


# --------------------------------------------------------------------------
# Infinite exactly when p's support is not inside q's (decided from parameters)
# --------------------------------------------------------------------------

INF_CASES = [
    (stats.expon(0.0, 1.0), stats.expon(1e-300, 1.0)),
    (stats.gamma(2.0, loc=-1e-12), stats.gamma(2.0, loc=0.0)),
    (stats.gamma(2.0, loc=0.0), stats.expon(loc=5e-324)),
    (stats.chi2(3.0, loc=0.0), stats.gamma(2.0, loc=0.5)),
    (stats.beta(2, 3, loc=0.0, scale=1.0), stats.beta(2, 3, loc=0.0, scale=0.999999)),
    (stats.beta(2, 3, loc=-1e-9, scale=1.0), stats.uniform(0.0, 2.0)),
    (stats.uniform(0.1, 0.2), stats.uniform(0.0, 0.3)),  # 0.1 + 0.2 > 0.3 exactly for these floats
    (stats.uniform(-1.0, 2.0), stats.beta(2, 2, loc=-1.0, scale=1.5)),
    (stats.lognorm(0.5, loc=0.0), stats.lognorm(0.5, loc=1e-3)),
    (stats.pareto(2.0, loc=0.0, scale=1.0), stats.pareto(2.0, loc=0.0, scale=1.0000000000000002)),
    (stats.pareto(2.0, loc=0.5, scale=1.0), stats.pareto(2.0, loc=0.0, scale=2.0)),
    (stats.halfnorm(0.0, 1.0), stats.halfnorm(1e-10, 1.0)),
    (stats.rayleigh(0.0, 1.0), stats.rayleigh(0.5, 1.0)),
    (stats.weibull_min(2.0, loc=0.0), stats.weibull_min(2.0, loc=1.0)),
    (stats.weibull_max(2.0, loc=1.0), stats.weibull_max(2.0, loc=0.0)),
    (stats.expon(0.0, 1.0), stats.weibull_min(1.5, loc=0.1)),
    (stats.gumbel_r(0.0, 1.0), stats.gumbel_l(0.0, 1.0)),  # E_p exp((x-mu_q)/beta_q) diverges for beta_p >= beta_q
    (stats.gumbel_l(0.0, 2.0), stats.gumbel_r(0.0, 1.0)),
    (stats.cauchy(0.0, 1.0), stats.norm(0.0, 100.0)),
    (stats.cauchy(0.0, 1.0), stats.laplace(0.0, 100.0)),
    (stats.cauchy(0.0, 1.0), stats.gumbel_r(0.0, 100.0)),
    (stats.cauchy(0.0, 1.0), stats.gumbel_l(0.0, 100.0)),
    (stats.cauchy(0.0, 1.0), stats.logistic(0.0, 100.0)),
]


@pytest.mark.parametrize("p,q", INF_CASES, ids=lambda d: f"{d.dist.name}{d.args}{d.kwds}")
def test_infinite_exactly_when_it_should_be(p, q):
    assert kl_distributions(p, q) == math.inf


def test_uniform_support_decided_exactly():
    """The exact rational sum decides, not the rounded float sum."""
    lo, w = 0.1, 0.2
    inside = Fraction(lo) + Fraction(w) <= Fraction(0.3)
    assert not inside  # 0.1 + 0.2 > 0.3 for these floats ...
    assert kl_distributions(stats.uniform(lo, w), stats.uniform(0.0, 0.3)) == math.inf
    # ... and just inside: [0.1, 0.1 + 0.2] is inside [0, 0.30000000000000004]
    assert Fraction(lo) + Fraction(w) <= Fraction(0.30000000000000004)
    v = kl_distributions(stats.uniform(lo, w), stats.uniform(0.0, 0.30000000000000004))
    with mp.workdps(40):
        assert _rel_err(v, float(mp.log(mp.mpf(0.30000000000000004) / mp.mpf(w)))) < 1e-15


def test_boundary_equal_supports_are_finite():
    assert math.isfinite(kl_distributions(stats.pareto(2.0, loc=0.0, scale=1.0), stats.pareto(3.0, loc=0.0, scale=1.0)))
    assert math.isfinite(kl_distributions(stats.gumbel_r(0.0, 0.999), stats.gumbel_l(0.0, 1.0)))


# --------------------------------------------------------------------------
# Bad parameters
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p,q",
    [
        (stats.norm(0.0, -1.0), stats.norm()),
        (stats.norm(0.0, 0.0), stats.norm()),
        (stats.norm(), stats.norm(math.nan, 1.0)),
        (stats.norm(), stats.norm(math.inf, 1.0)),
        (stats.norm(), stats.norm(0.0, math.inf)),
        (stats.gamma(-1.0), stats.gamma(1.0)),
        (stats.gamma(math.nan), stats.gamma(1.0)),
        (stats.gamma(1.0), stats.gamma(math.inf)),
        (stats.beta(0.0, 1.0), stats.beta(1.0, 1.0)),
        (stats.beta(1.0, 1.0), stats.beta(math.inf, 1.0)),
        (stats.pareto(0.0), stats.pareto(1.0)),
        (stats.lognorm(-0.5), stats.lognorm(0.5)),
        (stats.weibull_min(1.0), stats.weibull_min(math.inf)),
    ],
    ids=lambda d: f"{d.dist.name}{d.args}{d.kwds}",
)
def test_invalid_parameters_raise(p, q):
    with pytest.raises(ValueError, match="invalid|finite"):
        kl_distributions(p, q)


def test_discrete_against_continuous_is_inf():
    assert kl_distributions(stats.poisson(3.0), stats.norm(3.0, 2.0)) == math.inf


# --------------------------------------------------------------------------
# Pairs deferred to the numerical fallback (loc differs; p's support inside q's)
# --------------------------------------------------------------------------

NUMERIC_CASES = [
    ("gamma", (2.5,), 1.0, 1.5, "gamma", (1.7,), 0.5, 2.0),
    ("weibull_min", (1.5,), 1.0, 2.0, "weibull_min", (1.7,), 0.5, 2.0),
    ("beta", (2.5, 3.0), 0.2, 0.5, "beta", (1.7, 2.0), 0.0, 1.0),
    ("rayleigh", (), 1.0, 1.0, "rayleigh", (), 0.5, 1.5),
    ("lognorm", (0.5,), 1.0, 2.0, "lognorm", (0.7,), 0.5, 2.0),
]


@pytest.mark.parametrize("case", NUMERIC_CASES, ids=_case_id)
def test_numerical_fallback_for_shifted_loc(case):
    pytest.importorskip("klbook.core.numeric")
    fp, sp, lp, cp, fq, sq, lq, cq = case
    value = kl_distributions(_frozen(fp, sp, lp, cp), _frozen(fq, sq, lq, cq))
    assert _record(f"{fp}||{fq} (numerical fallback)", value, quad_kl(*case)) < 1e-9


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

positive = st.floats(1e-3, 1e3)
finite = st.floats(-1e3, 1e3)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(FAMILIES)), positive, positive, finite, positive, positive, positive, finite, positive)
def test_nonnegative_never_nan_and_zero_iff_equal(family, a1, b1, l1, s1, a2, b2, l2, s2):
    ranges, same_loc = FAMILIES[family]
    sh1, sh2 = (a1, b1)[: len(ranges)], (a2, b2)[: len(ranges)]
    if same_loc:
        l2 = l1
    p, q = _frozen(family, sh1, l1, s1), _frozen(family, sh2, l2, s2)
    value = kl_distributions(p, q)
    assert not math.isnan(value) and value >= 0.0
    assert kl_distributions(p, _frozen(family, sh1, l1, s1)) == 0.0
    if (sh1, l1, s1) != (sh2, l2, s2) and math.isfinite(value):
        assert value > 0.0


# Smallest |dm| whose every scaling 2^e dm, e >= -60, is still a normal float, hence exact: below it
# 2^e dm can fall into the subnormals and lose bits (0.5 * 5e-324 == 0), and the premise is false.
EXACT_SHIFT_MIN = 2.0**60 * np.finfo(float).tiny


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-2.0, 2.0).filter(lambda d: d == 0.0 or abs(d) >= EXACT_SHIFT_MIN),
    st.floats(0.1, 10.0),
    st.integers(-60, 60),
)
@example(dm=EXACT_SHIFT_MIN, s=6.0, e=-60)  # the edge of the domain: 2^-60 dm is the smallest normal float
@example(dm=-EXACT_SHIFT_MIN, s=0.1, e=-60)
def test_invariant_under_exact_rescaling(dm, s, e):
    """KL is invariant under x -> 2^e x; with exact power-of-two scalings the result is identical."""
    c = 2.0**e
    assert (c * dm) / c == dm and (c * s) / c == s  # the premise: the scaling is exact
    for fam in ("norm", "laplace", "cauchy", "gumbel_r"):
        base = kl_distributions(_frozen(fam, (), 0.0, 1.0), _frozen(fam, (), dm, s))
        assert kl_distributions(_frozen(fam, (), 0.0, c), _frozen(fam, (), c * dm, c * s)) == base
    base = kl_distributions(stats.gamma(2.5, scale=1.0), stats.gamma(s, scale=s))
    assert kl_distributions(stats.gamma(2.5, scale=c), stats.gamma(s, scale=c * s)) == base


def test_kl_divergence_dispatches_here():
    klbook = pytest.importorskip("klbook")
    if not hasattr(klbook, "kl_divergence"):
        pytest.skip("klbook.kl_divergence not wired yet")
    p, q = stats.gamma(2.5, scale=1.5), stats.gamma(0.7, scale=2.0)
    assert klbook.kl_divergence(p, q) == kl_distributions(p, q)


# Stable building blocks against mpmath

# Results of O(y^2) for tiny y land in the subnormal range, where a float has only a few
# significant bits left: allow the last few of them (16 * 5e-324 = 8e-323 absolute).
SUBNORMAL_SLACK = 16 * 5e-324


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.floats(-1.0, 1.0), st.floats(-700.0, 700.0), st.floats(-1e-8, 1e-8)))
def test_eta_against_mpmath(y):
    value = cc.eta(y)
    with mp.workdps(40 + (2 * int(-math.log10(abs(y))) if y else 0)):  # the result is O(y^2)
        y_ = mp.mpf(y)
        ref = float(mp.expm1(y_) - y_)
    assert abs(value - ref) <= max(4e-16 * ref, SUBNORMAL_SLACK)  # subnormal results: to the last bits there


def _lgamma_bregman_ref(a: float, u: float) -> float:
    """log Gamma(a(1+u)) - log Gamma(a) - a u psi(a) in mpmath, with room for the O(u^2) result."""
    with mp.workdps(40 + (2 * int(-math.log10(abs(u))) if u else 0)):
        a_, u_ = mp.mpf(a), mp.mpf(u)
        return float(mp.loggamma(a_ * (1 + u_)) - mp.loggamma(a_) - a_ * u_ * mp.digamma(a_))


# The Bregman divergence of log Gamma is accurate to a few ulp everywhere (worst seen over 12,000
# random draws with a in [1e-300, 1e8]: 8e-16): small shapes (a < 1, |u| > 1/4) take one step of
# R(x) = R(x+1) + phi(x) instead of a difference of large R values (which lost 4.8e-14 at
# a = 1e-6, u = 0.3125), and R itself below 12 is a sum of positive phi terms rather than
# gammaln minus (x - 1/2) log x (4.4e-14 lost at a = 7.78, u = 0.2500001).
BREGMAN_RTOL = 2e-15


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(st.floats(1e-6, 1e8), st.floats(1e-300, 1e-6)),
    st.one_of(st.floats(-0.9, 3.0), st.floats(-1e-6, 1e-6), st.floats(0.24, 0.34), st.floats(-0.34, -0.24)),
)
def test_lgamma_bregman_against_mpmath(a, u):
    # The result is about a*u^2/2: for |u| < 1e-150 it falls below the normal range (2.2e-308),
    # where a float keeps only a few significant bits; the KL it feeds is then 0 to working precision.
    assume(u == 0 or abs(u) > 1e-150)
    value = cc._breg_lgamma(a, u)
    ref = _lgamma_bregman_ref(a, u)
    assert abs(value - ref) <= max(BREGMAN_RTOL * ref, SUBNORMAL_SLACK)


@pytest.mark.parametrize(
    "a, u",
    [
        (1e-6, 0.3125),  # the draw that failed under random hypothesis runs (4.8e-14)
        (7.779638723549, 0.2500001),  # R from gammaln for 1 <= a < 12 (4.4e-14)
        (1e-300, 0.5),
        (1e-300, -0.9),
        (0.999, 2.5),
        (1.0, -0.5),
        (11.9, 0.26),
        (12.0, 0.25),
        (12.0, -0.25),
        (3985.78, -0.65),
    ],
)
def test_lgamma_bregman_known_hard_points(a, u):
    ref = _lgamma_bregman_ref(a, u)
    assert abs(cc._breg_lgamma(a, u) - ref) <= BREGMAN_RTOL * ref


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.floats(1e-300, 1.0), st.floats(1.0, 12.0), st.floats(12.0, 1e12)))
def test_stirling_remainder_against_mpmath(x):
    """R(x) and R'(x) to a few ulp of each, also where log Gamma and (x - 1/2) log x nearly cancel."""
    r, r1 = cc._stirling_R(x)
    with mp.workdps(50):
        x_ = mp.mpf(x)
        ref = mp.loggamma(x_) - (x_ - mp.mpf(0.5)) * mp.log(x_) + x_ - mp.log(2 * mp.pi) / 2
        ref1 = mp.digamma(x_) - mp.log(x_) + 1 / (2 * x_)
    assert abs(r - float(ref)) <= 2e-15 * abs(float(ref))
    assert abs(r1 - float(ref1)) <= 2e-15 * abs(float(ref1))


_EXACT_FLOATS = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([0.1, 0.2, 0.3, 0.7, 1.0, 1e-300, 5e-324, 1e308, -1e308, 2.0**53, 1.0 + 2.0**-52]),
)


@settings(max_examples=200, deadline=None)
@given(_EXACT_FLOATS, _EXACT_FLOATS, _EXACT_FLOATS, _EXACT_FLOATS)
def test_sum_exceeds_is_exact(a1, b1, a2, b2):
    """Support ends loc + scale compared exactly (Fractions are the reference)."""
    assert cc.sum_exceeds(a1, b1, a2, b2) == (Fraction(a1) + Fraction(b1) > Fraction(a2) + Fraction(b2))


def test_sum_exceeds_where_rounding_would_decide():
    assert cc.sum_exceeds(0.1, 0.2, 0.0, 0.3) and not cc.sum_exceeds(0.0, 0.3, 0.1, 0.2)
    # both sums round to 1.0: only the exact remainders decide
    assert cc.sum_exceeds(1.0, 2.0**-60, 1.0, 0.0) and not cc.sum_exceeds(1.0, 0.0, 1.0, 2.0**-60)
    assert not cc.sum_exceeds(1.0, 2.0**-60, 1.0 - 2.0**-53, 2.0**-53 + 2.0**-60)  # equal exactly


@pytest.mark.parametrize(
    "a1, b1, a2, b2",
    [(2.0, 3.0, 2.5, 1.5), (0.3, 5e3, 0.31, 4.9e3), (7.0, 7.0, 7.0 * (1 + 2.0**-40), 7.0), (1e50, 2.0, 3.0, 1e-50)],
)
def test_beta_core_double_double_against_mpmath(a1, b1, a2, b2):
    """The double-double beta form (and its exact-rational twin for extreme parameters) vs the textbook form."""
    value = cc._beta_core(a1, b1, a2, b2)
    with mp.workdps(80):
        ref = float(_tb_beta(*_mpf(a1, b1, a2, b2)))
    assert abs(value - ref) <= 1e-14 * ref
    if 1e-60 < min(a1, b1, a2, b2) and max(a1, b1, a2, b2) < 1e60:
        assert abs(cc._beta_core_exact(a1, b1, a2, b2) - ref) <= 1e-14 * ref


def test_validation_is_cached_per_object_and_redone_when_it_changes():
    """A frozen distribution is validated once; replacing its args or editing its kwds re-validates it."""
    klbook = pytest.importorskip("klbook")
    p, q = stats.norm(0.0, 1.0), stats.norm(1.0, 2.0)
    first = klbook.kl_divergence(p, q)
    assert klbook.kl_divergence(p, q) == first == kl_distributions(stats.norm(0.0, 1.0), stats.norm(1.0, 2.0))
    p.args = (0.5, 1.0)
    assert klbook.kl_divergence(p, q) == kl_distributions(stats.norm(0.5, 1.0), stats.norm(1.0, 2.0))
    p.args = (0.5, -1.0)
    with pytest.raises(ValueError, match="p = norm"):
        klbook.kl_divergence(p, q)
    g = stats.gamma(2.0, scale=1.5)
    klbook.kl_divergence(g, stats.gamma(3.0))
    g.kwds["scale"] = 2.5  # edited in place
    assert klbook.kl_divergence(g, stats.gamma(3.0)) == kl_distributions(stats.gamma(2.0, scale=2.5), stats.gamma(3.0))
    g.kwds["scale"] = -1.0
    with pytest.raises(ValueError, match="p = gamma"):
        klbook.kl_divergence(g, stats.gamma(3.0))


# --------------------------------------------------------------------------
# The registry as a table for the book
# --------------------------------------------------------------------------


def test_registry_table_names_each_pair_and_documents_the_formula():
    from klbook.core.closed_forms import _REGISTRY

    rows = [r for r in kl_registry_table() if r[0] in cc.FAMILY_NAMES]
    assert len(rows) >= 40
    for fp, fq, summary in rows:
        assert "‖" in summary and ":math:" not in summary and "``" not in summary, summary
        left, right = summary.split("‖", 1)
        assert cc.FAMILY_NAMES[fp].lower() in left.lower(), summary
        assert cc.FAMILY_NAMES[fq].lower() in right.lower(), summary
        assert ".. math::" in _REGISTRY[(fp, fq)].__doc__
    md = kl_registry_markdown()
    assert md.count("\n") == len(kl_registry_table()) + 2
    assert "| `norm` | `norm` |" in md


def test_registry_covers_the_issue_families():
    pairs = {(fp, fq) for fp, fq, _ in kl_registry_table()}
    for f in ("norm", "expon", "gamma", "beta", "uniform", "laplace", "lognorm", "cauchy", "gumbel_r",
              "gumbel_l", "pareto", "halfnorm"):
        assert (f, f) in pairs
    assert ("multivariate_normal", "multivariate_normal") in pairs


def test_report_worst_errors(capsys):
    """Print the worst relative error seen per family pair (run with -s to read it)."""
    with capsys.disabled():
        print("\nworst relative error vs mpmath, per family pair:")
        for k in sorted(WORST):
            print(f"  {k:48s} {WORST[k]:.1e}")
