r"""Closed forms of KL for continuous univariate families (registered on import).

Every form is written in scipy's parametrisation, ``loc`` and ``scale``
included, and arranged so that it does not cancel when the two distributions
are nearly identical: parameter differences are formed exactly (with
:class:`fractions.Fraction`) before any logarithm, and the divergence is
written as a sum of terms that are each non-negative. The workhorses are

.. math::

   \eta(y) &= e^{y} - 1 - y \ge 0, \\
   x - 1 - \log x &= \eta(\log x),

evaluated by its Taylor series for :math:`|y| \le 1`, and the Bregman
divergence of :math:`\log\Gamma`,

.. math::

   B(a, a') &= \log\Gamma(a') - \log\Gamma(a) \\
   &\quad {} - (a' - a)\,\psi(a) \ge 0,

split into Stirling's main part (written with :math:`\eta`) plus the
Bregman divergence of Stirling's remainder :math:`R(x)`, the difference of
:math:`\log\Gamma(x)` and :math:`(x - \tfrac12)\log x - x + \tfrac12\log 2\pi`,
which is convex, so each piece is non-negative.

Support first: when the support of ``p`` is not inside the support of ``q``
(decided exactly from the parameters) the divergence is ``math.inf``. Where a
family's closed form needs equal ``loc`` (gamma, beta, lognormal, Pareto,
Rayleigh, Weibull) and the locations differ with ``p``'s support inside
``q``'s, the pair is handed to :func:`klbook.core.numeric.kl_numeric`.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Callable

import numpy as np
from scipy import special

from ..numeric import kl_numeric
from . import Params, register_kl

__all__: list[str] = []  # everything here is registered, nothing is imported by name

EULER_GAMMA = 0.5772156649015329  # Euler-Mascheroni constant, -psi(1)
_LOG_MAX = math.log(np.finfo(float).max)  # exp overflows past this
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_HALF = Fraction(1, 2)


# --------------------------------------------------------------------------
# Stable building blocks
# --------------------------------------------------------------------------


def _to_float(x: Fraction) -> float:
    """Correctly rounded float of an exact rational; overflow gives +-inf."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _log_of(x: Fraction) -> float:
    """log of an exact positive rational, to a few ulp.

    Near 1 this is ``log1p`` of the correctly rounded ``x - 1``; far from 1 the
    logarithm of the correctly rounded float, or of numerator and denominator
    separately when the float would over- or underflow.
    """
    if x <= 0:
        raise ValueError("log of a non-positive number")
    if _HALF <= x <= 2:
        return math.log1p(_to_float(x - 1))
    f = _to_float(x)
    if 2.2250738585072014e-308 <= f < math.inf:
        return math.log(f)
    return math.log(x.numerator) - math.log(x.denominator)


def log_quotient(a: float, b: float) -> float:
    """``log(a / b)`` for positive floats, without rounding ``a / b`` first near 1.

    Bit-identical to :func:`_log_of` of the exact quotient, but in floats where
    IEEE arithmetic is already exact: for ``b/2 <= a <= 2b`` the difference
    ``a - b`` is exact (Sterbenz) and ``(a - b)/b`` is rounded once; elsewhere
    ``a / b`` is rounded once. Subnormal or overflowing quotients take the
    rational path.
    """
    tiny = 2.2250738585072014e-308
    if tiny <= a < math.inf and tiny <= b < 8.98846567431158e307:
        if 0.5 * b <= a <= 2.0 * b:
            x = (a - b) / b
            if x == 0.0 or abs(x) >= 2.2250738585072014e-308:
                return math.log1p(x)
        else:
            r = a / b
            if 2.2250738585072014e-308 <= r < math.inf:
                return math.log(r)
    return _log_of(Fraction(a) / Fraction(b))


def _rel(a: float, b: float) -> float:
    """``(a - b) / b``, correctly rounded.

    In floats when ``b/2 <= a <= 2b`` (``a - b`` is then exact by Sterbenz's lemma and
    the division rounds once); through the rationals otherwise.
    """
    if 2.2250738585072014e-308 <= b < 8.98846567431158e307 and 0.5 * b <= a <= 2.0 * b:
        x = (a - b) / b
        if x == 0.0 or abs(x) >= 2.2250738585072014e-308:
            return x
    return _to_float((Fraction(a) - Fraction(b)) / Fraction(b))


_SPLIT = 134217729.0  # 2**27 + 1, Veltkamp's splitting constant


def _two_prod(a: float, b: float) -> tuple[float, float]:
    """``a * b = p + e`` exactly (Dekker's TwoProduct; the caller keeps a, b, p in a safe range)."""
    p = a * b
    c = _SPLIT * a
    ah = c - (c - a)
    al = a - ah
    c = _SPLIT * b
    bh = c - (c - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def log_product_ratio(a1: float, b1: float, a2: float, b2: float) -> float:
    """``log((a1 b1) / (a2 b2))`` for positive floats, to about an ulp, without rational arithmetic.

    Both products are carried exactly as ``p + e`` (Dekker). Near 1 the numerator
    ``a1 b1 - a2 b2`` is summed exactly rounded (``math.fsum`` of the four parts) before
    ``log1p``; far from 1 the quotient is rounded once and corrected to first order.
    Arguments or products outside ``[1e-140, 1e140]`` take the exact rational path.
    """
    lo, hi = 1e-140, 1e140
    if lo < a1 < hi and lo < b1 < hi and lo < a2 < hi and lo < b2 < hi:
        p1, e1 = _two_prod(a1, b1)
        p2, e2 = _two_prod(a2, b2)
        if lo < p1 < hi and lo < p2 < hi:
            if 0.5 * p2 <= p1 <= 2.0 * p2:
                x = math.fsum((p1, e1, -p2, -e2)) / p2
                return math.log1p(x - x * (e2 / p2))
            return math.log(p1 / p2) + (e1 / p1 - e2 / p2)
    return _log_of((Fraction(a1) * Fraction(b1)) / (Fraction(a2) * Fraction(b2)))


def _two_sum(a: float, b: float) -> tuple[float, float]:
    """``a + b = s + e`` exactly (Knuth's TwoSum; finite floats, no overflow)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def sum_exceeds(a1: float, b1: float, a2: float, b2: float) -> bool:
    """True when ``a1 + b1 > a2 + b2`` exactly (support ends ``loc + scale`` compared without rounding).

    Both sums are carried as ``s + e`` (TwoSum); rounding to nearest is monotone, so
    ``s1 > s2`` already decides, and equal ``s`` leave the exact errors to compare.
    Sums that overflow take the rationals.
    """
    s1, e1 = _two_sum(a1, b1)
    s2, e2 = _two_sum(a2, b2)
    if abs(s1) == math.inf or abs(s2) == math.inf or e1 != e1 or e2 != e2:
        return Fraction(a1) + Fraction(b1) > Fraction(a2) + Fraction(b2)
    return s1 > s2 or (s1 == s2 and e1 > e2)


def _dd_mul(xh: float, xl: float, yh: float, yl: float) -> tuple[float, float]:
    """Double-double product ``(xh + xl)(yh + yl)`` to about 2**-104 relative (moderate magnitudes)."""
    p, e = _two_prod(xh, yh)
    e += xh * yl + xl * yh
    s = p + e
    return s, e - (s - p)


def _log_dd(nh: float, nl: float, dh: float, dl: float) -> float:
    """``log((nh + nl) / (dh + dl))`` for positive double-doubles, to about an ulp.

    Near 1 the difference of numerator and denominator is summed exactly rounded before
    ``log1p``; far from 1 the quotient is rounded once and corrected to first order.
    """
    if 0.5 * dh <= nh <= 2.0 * dh:
        x = math.fsum((nh, nl, -dh, -dl)) / dh
        return math.log1p(x - x * (dl / dh))
    return math.log(nh / dh) + (nl / nh - dl / dh)


def _diff(a: float, b: float) -> float:
    """``a - b``, correctly rounded (and no spurious overflow)."""
    d = a - b  # IEEE subtraction is correctly rounded; only an overflow needs the rationals
    if math.isfinite(d):
        return d
    return _to_float(Fraction(a) - Fraction(b))


# 1/k! for k = 2..21: eta(y) = y^2 (1/2! + y/3! + y^2/4! + ...)
_ETA_COEF = [1.0 / math.factorial(k) for k in range(2, 22)]


def _eta_tiers() -> tuple[tuple[float, tuple[float, ...]], ...]:
    """(bound on |y|, coefficients for Horner's rule, highest first) with truncation error below 2**-56 of y^2/2."""
    tiers = []
    for bound in (2.0**-26, 2.0**-10, 2.0**-3, 1.0):
        j = next(j for j in range(1, len(_ETA_COEF)) if bound**j / math.factorial(j + 2) <= 2.0**-57)
        tiers.append((bound, tuple(reversed(_ETA_COEF[:j]))))
    return tuple(tiers)


_ETA_TIERS = _eta_tiers()


def eta(y: float) -> float:
    r""":math:`\eta(y) = e^y - 1 - y \ge 0`, to a few ulp for every real ``y``.

    Taylor series for :math:`|y| \le 1` (as many terms as :math:`|y|` needs for a
    truncation error below :math:`2^{-56}\,y^2/2`); ``expm1(y) - y`` otherwise (no
    cancellation there); ``inf`` once :math:`e^y` overflows.
    """
    ay = abs(y)
    if ay <= 1.0:
        for bound, coef in _ETA_TIERS:
            if ay <= bound:
                s = 0.0
                for c in coef:
                    s = s * y + c
                return s * y * y
    if y != y:
        raise ValueError("eta(nan): a NaN reached the closed form")
    if y > _LOG_MAX:
        return math.inf
    return math.expm1(y) - y


# Stirling series of R(x): sum_m B_{2m} / (2m (2m-1) x^{2m-1}), m = 1..8
_STIRLING = [
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360360.0,
    1.0 / 156.0,
    -3617.0 / 122400.0,
]
_STIRLING_MIN = 12.0  # the 8-term series is accurate to well below an ulp of R from here on
_ZETA_K = np.arange(2, 44, dtype=float)  # Taylor orders for the remainder's Bregman divergence
_ZETA_INV_K = 1.0 / _ZETA_K
_ZETA_SIGNED_INV_K = np.where(_ZETA_K % 2 == 0, 1.0, -1.0) / _ZETA_K  # (-1)^k / k
_ZETA_INV_KM1 = 1.0 / (_ZETA_K - 1.0)


def _phi(x: float) -> tuple[float, float]:
    r""":math:`\varphi(x) = R(x) - R(x+1) = (x+\tfrac12)\log(1+1/x) - 1 > 0` and :math:`\varphi'(x)`.

    With :math:`t = 1/(2x+1)`, :math:`\varphi = \sum_{j\ge1} t^{2j}/(2j+1)` and
    :math:`\varphi' = -\sum_{j\ge1} 4j\,t^{2j+1}/(2j+1)`: terms of one sign, no cancellation
    (used for :math:`x \ge 1/4`, where :math:`t^2 \le 4/9`). Below, the closed form, where
    :math:`\tfrac12\log(1/x)` dominates.
    """
    if x < 0.25:
        lg = math.log1p(x) - math.log(x)  # log(1 + 1/x) without overflow of 1/x
        return (x + 0.5) * lg - 1.0, lg - (x + 0.5) / (x * (x + 1.0))
    t = 1.0 / (2.0 * x + 1.0)
    t2 = t * t
    phi = dphi = 0.0
    pw = t2
    j = 1
    while True:
        term = pw / (2 * j + 1)
        phi += term
        dphi += 4 * j * term
        if term <= 1e-18 * phi:
            return phi, -dphi * t
        pw *= t2
        j += 1


@functools.lru_cache(maxsize=1024)
def _stirling_R(x: float) -> tuple[float, float]:
    r"""Stirling's remainder and its derivative at ``x``, :math:`(R(x), R'(x))`, to a few ulp of each.

    :math:`R(x) = \log\Gamma(x) - (x-\frac12)\log x + x - \frac12\log 2\pi` and
    :math:`R'(x) = \psi(x) - \log x + 1/(2x)`: by their asymptotic series (8 terms) for
    :math:`x \ge 12`; below, :math:`R(x) = R(x+n) + \sum_{k<n}\varphi(x+k)` with
    :math:`x + n \ge 12` (:func:`_phi`), a sum of positive terms (the direct formula from
    ``gammaln`` would cancel to an absolute error of ulps of :math:`\log\Gamma(x)`).
    Memoised: a distribution's shape recurs from call to call.
    """
    if x >= _STIRLING_MIN:
        inv = 1.0 / x
        inv2 = inv * inv
        r = r1 = 0.0
        t = inv
        for m, c in enumerate(_STIRLING, start=1):  # t = x^(1 - 2m)
            r += c * t
            r1 += c * (1 - 2 * m) * (t * inv)
            t *= inv2
        return r, r1
    n = math.ceil(_STIRLING_MIN - x)
    r, r1 = _stirling_R(x + n)
    for k in range(n - 1, -1, -1):  # smallest terms first
        f, f1 = _phi(x + k)
        r += f
        r1 += f1
    return r, r1


@functools.lru_cache(maxsize=1024)
def _zeta_orders(a: float) -> np.ndarray:
    r""":math:`Z_k(a) = \tfrac12 + a^k\zeta(k, a+1) - a/(k-1)` for :math:`k = 2, \dots, 43` (read-only).

    Memoised on ``a``: a distribution's shape recurs from call to call (a loop over
    q's parameters, a fit), and the 42 Hurwitz zeta values cost more than the rest
    of a closed form.
    """
    z = 0.5 + np.power(a, _ZETA_K) * special.zeta(_ZETA_K, a + 1.0) - a * _ZETA_INV_KM1
    z.flags.writeable = False
    return z


def _breg_R(a1: float, a2: float, u: float) -> float:
    r"""Bregman divergence of Stirling's remainder, :math:`R(a_2) - R(a_1) - (a_2 - a_1) R'(a_1) \ge 0`.

    ``u`` is :math:`(a_2 - a_1)/a_1`, correctly rounded; ``a2`` is only used
    when :math:`|u| > 1/4`, where rounding in it cannot matter.

    - :math:`|u| \le 1/4`, :math:`a_1 \ge 12`: Stirling's series term by term,
      :math:`\sum_m c_m a_1^{1-2m}[(1+u)^{-n} - 1 + nu]` with :math:`n = 2m-1`, each bracket
      written as :math:`\eta(-n\log(1+u)) + n\,\eta(\log(1+u))`, two non-negative terms.
    - :math:`|u| \le 1/4`, :math:`a_1 < 12`: the Taylor series in u,
      :math:`\sum_{k\ge2} (-u)^k Z_k(a_1)/k`, over the orders that matter.
    - :math:`|u| > 1/4`, :math:`a_1 < 1`: one step of :math:`R(x) = R(x+1) + \varphi(x)`,
      :math:`\varphi(x) = (x+\tfrac12)\log(1+1/x) - 1`, whose Bregman divergence is
      :math:`(a_2+1)\eta(-\log(1+w)) + \tfrac12\eta(\log(1+w)) + \tfrac12\eta(\log(1+u)) - a_2\eta(-\log(1+u))`
      with :math:`w = (a_2 - a_1)/(a_1 + 1)` (the difference of R values below would cancel: R grows
      like :math:`-\tfrac12\log x` near 0).
    - otherwise the difference :math:`R(a_2) - R(a_1) - (a_2-a_1)R'(a_1)` itself.
    """
    if u == 0.0:
        return 0.0
    au = abs(u)
    if au <= 0.25:
        if a1 >= _STIRLING_MIN:
            lu = math.log1p(u)
            e1 = eta(lu)
            s = 0.0
            apow = 1.0
            inv_a2 = 1.0 / (a1 * a1)
            for m, c in enumerate(_STIRLING, start=1):
                n = 2 * m - 1
                s += c * apow * (eta(-n * lu) + n * e1)
                apow *= inv_a2
            return s / a1
        # Taylor series: sum_{k>=2} (-u)^k / k * Z_k(a),
        # Z_k(a) = a^k zeta(k, a) - a/(k-1) - 1/2 = 1/2 + a^k zeta(k, a+1) - a/(k-1)
        # Orders past K add less than 1e-18 of the sum: |Z_k| <= 3/2 + a, Z_2(a) >= 1e-2 for a < 12,
        # so |u|^(K-2) (a + 2) / K < 5e-21 suffices (all 42 orders when |u| is near 1/4).
        n = math.ceil(math.log(5e-21 * 0.5 / (a1 + 2.0)) / math.log(au)) + 3 if au > 1e-300 else 2
        m = max(2, min(n, _ZETA_K.size))
        terms = np.power(au, _ZETA_K[:m]) * (_ZETA_INV_K[:m] if u < 0 else _ZETA_SIGNED_INV_K[:m]) * _zeta_orders(a1)[:m]
        return math.fsum(terms.tolist())
    h = a2 - a1
    if a1 < 1.0:
        b1 = a1 + 1.0
        w = h / b1
        lw, lu = math.log1p(w), math.log1p(u)
        step = (a2 + 1.0) * eta(-lw) + 0.5 * eta(lw) + 0.5 * eta(lu) - a2 * eta(-lu)
        return _breg_R(b1, b1 + h, w) + step
    r1, d1 = _stirling_R(a1)
    return _stirling_R(a2)[0] - r1 - h * d1


def _breg_lgamma(a: float, u: float) -> float:
    r"""Bregman divergence of :math:`\log\Gamma`: :math:`\log\Gamma(a(1+u)) - \log\Gamma(a) - a u\,\psi(a) \ge 0`.

    Written as :math:`a(1+u)\,\eta(-\log(1+u)) + \tfrac12\eta(\log(1+u)) + B_R`.
    """
    if u == 0.0:
        return 0.0
    L = math.log1p(u)
    return a * (1.0 + u) * eta(-L) + 0.5 * eta(L) + _breg_R(a, a * (1.0 + u), u)


def _check_finite_shapes(*ps: Params) -> None:
    for d in ps:
        for s in d.shapes:
            if not math.isfinite(s):
                raise ValueError(f"{d.family}{d.shapes}: shape parameters must be finite")


def _numeric(p: Params, q: Params) -> float:
    """Defer to the quadrature fallback, :func:`klbook.core.numeric.kl_numeric`."""
    return float(kl_numeric(p.dist, q.dist))


#: Display names of the families, for the registry table.
FAMILY_NAMES = {
    "norm": "normal",
    "lognorm": "log-normal",
    "halfnorm": "half-normal",
    "rayleigh": "Rayleigh",
    "expon": "exponential",
    "gamma": "gamma",
    "chi2": "chi-squared",
    "beta": "beta",
    "uniform": "uniform",
    "laplace": "Laplace",
    "cauchy": "Cauchy",
    "logistic": "logistic",
    "gumbel_r": "Gumbel (right-skewed)",
    "gumbel_l": "Gumbel (left-skewed)",
    "weibull_min": "Weibull",
    "weibull_max": "Weibull (reflected)",
    "pareto": "Pareto",
}


def _register_all(pairs: list[tuple[str, str]], summary: str) -> Callable:
    """Register one function for several pairs of families.

    Each pair gets a thin wrapper whose docstring starts with ``summary``
    (``{P}`` and ``{Q}`` replaced by the families' names), so that every row of
    :func:`~klbook.core.closed_forms.kl_registry_table` names its own pair.
    """

    def decorator(fn):
        body = (fn.__doc__ or "").split("\n", 1)[1] if fn.__doc__ else ""
        for fp, fq in pairs:

            def wrapper(p: Params, q: Params, _fn=fn) -> float:
                return _fn(p, q)

            wrapper.__name__ = wrapper.__qualname__ = f"{fn.__name__}_{fp}_{fq}"
            first = summary.format(P=FAMILY_NAMES[fp], Q=FAMILY_NAMES[fq])
            wrapper.__doc__ = first[0].upper() + first[1:] + "\n" + body
            register_kl(fp, fq)(wrapper)
        return fn

    return decorator


# --------------------------------------------------------------------------
# Normal, log-normal, half-normal, Rayleigh
# --------------------------------------------------------------------------


def _norm_core(m1: float, s1: float, m2: float, s2: float) -> float:
    r"""KL between normals: :math:`\tfrac12\eta(2\log(s_1/s_2)) + \tfrac12((m_1-m_2)/s_2)^2`."""
    z = _diff(m1, m2) / s2
    return 0.5 * eta(2.0 * log_quotient(s1, s2)) + 0.5 * z * z


@register_kl("norm", "norm")
def _kl_norm_norm(p: Params, q: Params) -> float:
    r"""Normal ‖ normal: any loc and scale.

    With :math:`\rho = \sigma_p/\sigma_q`:

    .. math::

       D = \log\frac{\sigma_q}{\sigma_p} + \frac{\sigma_p^2 + (\mu_p-\mu_q)^2}{2\sigma_q^2} - \frac12
         = \tfrac12\,\eta(2\log\rho) + \frac{(\mu_p-\mu_q)^2}{2\sigma_q^2}.
    """
    return _norm_core(p.loc, p.scale, q.loc, q.scale)


@register_kl("lognorm", "lognorm")
def _kl_lognorm_lognorm(p: Params, q: Params) -> float:
    r"""Log-normal ‖ log-normal: equal loc; otherwise numerical (inf if loc_p < loc_q).

    scipy's ``lognorm(s, loc, scale)``: :math:`\log(x - \mathrm{loc}) \sim N(\log \mathrm{scale}, s^2)`.
    KL is invariant under that change of variable, so with equal loc

    .. math::

       D = \tfrac12\,\eta\!\left(2\log\frac{s_p}{s_q}\right)
         + \frac{\log^2(\mathrm{scale}_p/\mathrm{scale}_q)}{2 s_q^2},

    ``inf`` when :math:`\mathrm{loc}_p < \mathrm{loc}_q`.
    """
    _check_finite_shapes(p, q)
    if p.loc < q.loc:
        return math.inf
    if p.loc != q.loc:
        return _numeric(p, q)
    (s1,), (s2,) = p.shapes, q.shapes
    z = log_quotient(p.scale, q.scale) / s2
    return 0.5 * eta(2.0 * log_quotient(s1, s2)) + 0.5 * z * z


@register_kl("halfnorm", "halfnorm")
def _kl_halfnorm_halfnorm(p: Params, q: Params) -> float:
    r"""Half-normal ‖ half-normal: any loc and scale (inf if loc_p < loc_q).

    With :math:`\rho = \sigma_p/\sigma_q` and :math:`\Delta = \mathrm{loc}_p - \mathrm{loc}_q \ge 0`,
    using :math:`\mathbb E_p(x-\mathrm{loc}_q)^2 = \sigma_p^2 + 2\Delta\sigma_p\sqrt{2/\pi} + \Delta^2`:

    .. math::

       D = \tfrac12\,\eta(2\log\rho) + \frac{\Delta}{\sigma_q}\,\rho\sqrt{\frac{2}{\pi}}
         + \frac{\Delta^2}{2\sigma_q^2}.
    """
    if p.loc < q.loc:
        return math.inf
    z = _diff(p.loc, q.loc) / q.scale
    rho = p.scale / q.scale
    return 0.5 * eta(2.0 * log_quotient(p.scale, q.scale)) + z * rho * _SQRT_2_OVER_PI + 0.5 * z * z


@register_kl("rayleigh", "rayleigh")
def _kl_rayleigh_rayleigh(p: Params, q: Params) -> float:
    r"""Rayleigh ‖ Rayleigh: equal loc; otherwise numerical (inf if loc_p < loc_q).

    .. math::

       D = \frac{\sigma_p^2}{\sigma_q^2} - 1 - \log\frac{\sigma_p^2}{\sigma_q^2}
         = \eta\!\left(2\log\frac{\sigma_p}{\sigma_q}\right),

    ``inf`` when :math:`\mathrm{loc}_p < \mathrm{loc}_q`.
    """
    if p.loc < q.loc:
        return math.inf
    if p.loc != q.loc:
        return _numeric(p, q)
    return eta(2.0 * log_quotient(p.scale, q.scale))


# --------------------------------------------------------------------------
# Gamma family: gamma, exponential, chi-squared
# --------------------------------------------------------------------------

_GAMMA_LIKE = ("gamma", "expon", "chi2")


def _as_gamma(d: Params) -> tuple[float, float, float]:
    """``(shape, loc, scale)`` of the gamma distribution equal to ``d`` (exactly: only powers of 2)."""
    if d.family == "gamma":
        _check_finite_shapes(d)
        return d.shapes[0], d.loc, d.scale
    if d.family == "expon":
        return 1.0, d.loc, d.scale
    if d.family == "chi2":
        _check_finite_shapes(d)
        return d.shapes[0] / 2.0, d.loc, 2.0 * d.scale
    raise TypeError(d.family)


def _gamma_core(a1: float, s1: float, a2: float, s2: float) -> float:
    r"""KL between gammas with equal loc (shape a, scale s), as a sum of non-negative terms."""
    if a1 == a2:  # equal shapes (exponentials among them): a eta(log(s_p / s_q)) exactly
        return a2 * eta(log_quotient(s1, s2))
    u = _rel(a2, a1)
    return a2 * eta(log_product_ratio(a1, s1, a2, s2)) + 0.5 * eta(log_quotient(a2, a1)) + _breg_R(a1, a2, u)


@_register_all(
    [(fp, fq) for fp in _GAMMA_LIKE for fq in _GAMMA_LIKE],
    "{P} ‖ {Q}: equal loc, or q exponential; otherwise numerical (inf if loc_p < loc_q).",
)
def _kl_gamma_gamma(p: Params, q: Params) -> float:
    r"""Gamma ‖ gamma (also exponential and chi-squared): equal loc, or q exponential; otherwise numerical.

    ``expon(loc, s)`` is ``gamma(1, loc, s)`` and ``chi2(k, loc, s)`` is ``gamma(k/2, loc, 2 s)``.
    For shapes :math:`a_p, a_q`, scales :math:`s_p, s_q` and equal loc:

    .. math::

       D = (a_p - a_q)\psi(a_p) - \log\Gamma(a_p) + \log\Gamma(a_q)
           + a_q \log\frac{s_q}{s_p} + a_p\frac{s_p - s_q}{s_q},

    evaluated as the sum of non-negative terms

    .. math::

       D = a_q\,\eta\!\left(\log\frac{a_p s_p}{a_q s_q}\right)
         + \tfrac12\,\eta\!\left(\log\frac{a_q}{a_p}\right) + B_R(a_p, a_q).

    ``inf`` when :math:`\mathrm{loc}_p < \mathrm{loc}_q`. When
    :math:`\mathrm{loc}_p > \mathrm{loc}_q` and q is exponential
    (:math:`a_q = 1`) the form above gains :math:`(\mathrm{loc}_p - \mathrm{loc}_q)/s_q`;
    other shapes of q go to the numerical fallback.
    """
    a1, l1, s1 = _as_gamma(p)
    a2, l2, s2 = _as_gamma(q)
    if l1 < l2:
        return math.inf
    if l1 == l2:
        return _gamma_core(a1, s1, a2, s2)
    if a2 == 1.0:
        return _gamma_core(a1, s1, a2, s2) + _diff(l1, l2) / s2
    return _numeric(p, q)


# --------------------------------------------------------------------------
# Beta and uniform
# --------------------------------------------------------------------------


def _beta_core(a1: float, b1: float, a2: float, b2: float) -> float:
    r"""KL between standard betas, as a sum of terms that do not cancel near p = q.

    Ratios of products of the parameters and :math:`c = a + b` are formed in double-double
    arithmetic (:math:`c` exactly as a TwoSum pair) and their logs taken by :func:`_log_dd`;
    parameters outside :math:`[10^{-60}, 10^{60}]` take exact rationals instead.
    """
    if not (1e-60 < a1 < 1e60 and 1e-60 < b1 < 1e60 and 1e-60 < a2 < 1e60 and 1e-60 < b2 < 1e60):
        return _beta_core_exact(a1, b1, a2, b2)
    c1, c1e = _two_sum(a1, b1)
    c2, c2e = _two_sum(a2, b2)
    main = a2 * eta(_log_dd(*_dd_mul(a1, 0.0, c2, c2e), *_dd_mul(a2, 0.0, c1, c1e)))
    main += b2 * eta(_log_dd(*_dd_mul(b1, 0.0, c2, c2e), *_dd_mul(b2, 0.0, c1, c1e)))
    log_s = _log_dd(*_dd_mul(*_two_prod(a2, b2), c1, c1e), *_dd_mul(*_two_prod(a1, b1), c2, c2e))
    p1, e1 = _two_prod(a2, b1)
    p2, e2 = _two_prod(a1, b2)
    cross = math.fsum((p1, e1, -p2, -e2))  # a2 b1 - a1 b2, rounded once
    stirling_f = 0.5 * eta(log_s) + 0.5 * ((cross / (a1 * b1)) * (cross / (c1 * c2)))
    uc = math.fsum((c2, c2e, -c1, -c1e)) / c1
    uc -= uc * (c1e / c1)
    rem = _breg_R(a1, a2, _rel(a2, a1)) + _breg_R(b1, b2, _rel(b2, b1)) - _breg_R(c1, c2, uc)
    return main + stirling_f + rem


def _beta_core_exact(a1: float, b1: float, a2: float, b2: float) -> float:
    """:func:`_beta_core` in exact rationals (parameters of extreme size)."""
    A1, B1, A2, B2 = Fraction(a1), Fraction(b1), Fraction(a2), Fraction(b2)
    C1, C2 = A1 + B1, A2 + B2
    c1, c2 = _to_float(C1), _to_float(C2)
    main = a2 * eta(_log_of(A1 * C2 / (A2 * C1))) + b2 * eta(_log_of(B1 * C2 / (B2 * C1)))
    cross = A2 * B1 - A1 * B2
    stirling_f = 0.5 * eta(_log_of(A2 * B2 * C1 / (A1 * B1 * C2))) + 0.5 * _to_float(
        cross * cross / (A1 * B1 * C1 * C2)
    )
    rem = (
        _breg_R(a1, a2, _to_float((A2 - A1) / A1))
        + _breg_R(b1, b2, _to_float((B2 - B1) / B1))
        - _breg_R(c1, c2, _to_float((C2 - C1) / C1))
    )
    return main + stirling_f + rem


def _beta_like(a1, b1, l1, s1, a2, b2, l2, s2, p: Params, q: Params) -> float:
    if l1 < l2 or sum_exceeds(l1, s1, l2, s2):
        return math.inf
    if l1 == l2 and s1 == s2:
        return _beta_core(a1, b1, a2, b2)
    if a2 == 1.0 and b2 == 1.0:  # q uniform on its support: D = log(s_q) - H(p)
        return log_quotient(s2, s1) + _beta_core(a1, b1, 1.0, 1.0)
    return _numeric(p, q)


def _as_beta(d: Params) -> tuple[float, float, float, float]:
    if d.family == "beta":
        _check_finite_shapes(d)
        return d.shapes[0], d.shapes[1], d.loc, d.scale
    if d.family == "uniform":
        return 1.0, 1.0, d.loc, d.scale
    raise TypeError(d.family)


@_register_all(
    [("beta", "beta"), ("beta", "uniform"), ("uniform", "beta")],
    "{P} ‖ {Q}: equal support, or q uniform; otherwise numerical (inf if p's support is not inside q's).",
)
def _kl_beta_beta(p: Params, q: Params) -> float:
    r"""Beta ‖ beta (uniform = beta(1, 1)): equal support, or q uniform; otherwise numerical.

    On a common support, with :math:`c = a + b`:

    .. math::

       D = \log\frac{B(a_q, b_q)}{B(a_p, b_p)} + (a_p - a_q)\psi(a_p) + (b_p - b_q)\psi(b_p)
           + (c_q - c_p)\psi(c_p),

    evaluated as

    .. math::

       D = a_q\,\eta\!\left(\log\frac{a_p c_q}{a_q c_p}\right)
         + b_q\,\eta\!\left(\log\frac{b_p c_q}{b_q c_p}\right)
         + \tfrac12\,\eta\!\left(\log\frac{a_q b_q c_p}{a_p b_p c_q}\right)
         + \frac{(a_q b_p - a_p b_q)^2}{2\,a_p b_p c_p c_q}
         + B_R(a) + B_R(b) - B_R(c).

    ``inf`` when p's support :math:`[\mathrm{loc}, \mathrm{loc}+\mathrm{scale}]` is not
    inside q's. When q is uniform on a larger interval,
    :math:`D = \log(\mathrm{scale}_q/\mathrm{scale}_p) + D(p \,\|\, \text{uniform on p's support})`.
    """
    return _beta_like(*_as_beta(p), *_as_beta(q), p, q)


@register_kl("uniform", "uniform")
def _kl_uniform_uniform(p: Params, q: Params) -> float:
    r"""Uniform ‖ uniform: any loc and scale (inf if p's support is not inside q's).

    .. math::

       D = \log\frac{\mathrm{scale}_q}{\mathrm{scale}_p}
       \quad\text{if } [\mathrm{loc}_p, \mathrm{loc}_p + \mathrm{scale}_p]
       \subseteq [\mathrm{loc}_q, \mathrm{loc}_q + \mathrm{scale}_q],
       \text{ else } \infty.
    """
    if p.loc < q.loc or sum_exceeds(p.loc, p.scale, q.loc, q.scale):
        return math.inf
    return log_quotient(q.scale, p.scale)


# --------------------------------------------------------------------------
# Laplace, Cauchy
# --------------------------------------------------------------------------


@register_kl("laplace", "laplace")
def _kl_laplace_laplace(p: Params, q: Params) -> float:
    r"""Laplace ‖ Laplace: any loc and scale.

    With :math:`\rho = b_p/b_q` and :math:`t = |\mu_p - \mu_q|/b_p`:

    .. math::

       D = \log\frac{b_q}{b_p} + \frac{|\mu_p-\mu_q|}{b_q} + \rho\, e^{-t} - 1
         = \eta(\log\rho) + \rho\,(t - 1 + e^{-t}).
    """
    delta = abs(_diff(p.loc, q.loc))
    t = delta / p.scale
    rho = p.scale / q.scale
    if t > 1.0:
        tail = delta / q.scale + rho * math.expm1(-t)
    else:
        tail = rho * eta(-t)
    return eta(log_quotient(p.scale, q.scale)) + tail


@register_kl("cauchy", "cauchy")
def _kl_cauchy_cauchy(p: Params, q: Params) -> float:
    r"""Cauchy ‖ Cauchy: any loc and scale.

    .. math::

       D = \log\frac{(\gamma_p + \gamma_q)^2 + (\mu_p - \mu_q)^2}{4\gamma_p\gamma_q}
         = \log\!\left(1 + \frac{(\gamma_p - \gamma_q)^2 + (\mu_p-\mu_q)^2}{4\gamma_p\gamma_q}\right).
    """
    g1, g2 = p.scale, q.scale
    dm = _diff(p.loc, q.loc)
    if 1e-140 < g1 < 1e140 and 1e-140 < g2 < 1e140 and (dm == 0.0 or 1e-140 < abs(dm) < 1e140):
        # (g1 - g2)^2 + dm^2 over 4 g1 g2 with exact products (g1 - g2 exact where it cancels, Sterbenz)
        dg = g1 - g2
        pg, eg = _two_prod(dg, dg)
        pm, em = _two_prod(dm, dm)
        num = math.fsum((pg, eg, pm, em))
        den, err = _two_prod(g1, g2)
        x = num / (4.0 * den)
        return math.log1p(x - x * (err / den))
    G1, G2 = Fraction(g1), Fraction(g2)
    DM, DG = Fraction(p.loc) - Fraction(q.loc), G1 - G2
    return _log_of(1 + (DG * DG + DM * DM) / (4 * G1 * G2))


@_register_all(
    [("cauchy", f) for f in ("norm", "laplace", "gumbel_r", "gumbel_l", "logistic")],
    "{P} ‖ {Q}: always inf (the Cauchy tail is too heavy).",
)
def _kl_cauchy_light(p: Params, q: Params) -> float:
    r"""Cauchy ‖ normal, Laplace, Gumbel or logistic: always inf.

    The supports agree, but :math:`-\log q(x)` grows at least like :math:`|x|` and
    :math:`\mathbb E_p|x| = \infty` for a Cauchy p:

    .. math::

       D = -H(p) - \mathbb E_p[\log q(x)] = \infty.
    """
    return math.inf


# --------------------------------------------------------------------------
# Gumbel and Weibull (the logarithm of a Weibull variable is Gumbel)
# --------------------------------------------------------------------------


def _gumbel_core(delta: float, beta1: float, beta2: float) -> float:
    r"""KL between right-skewed Gumbels with :math:`\delta = (\mu_p - \mu_q)/\beta_q`."""
    eps = _rel(beta1, beta2)
    b1 = _breg_lgamma(1.0, eps)  # log Gamma(1 + eps) + gamma * eps
    y = log_quotient(beta1, beta2) + b1 - EULER_GAMMA * eps - delta  # log Gamma(1 + rho) - delta
    return eta(y) + b1


@register_kl("gumbel_r", "gumbel_r")
def _kl_gumbel_r_gumbel_r(p: Params, q: Params) -> float:
    r"""Gumbel (right-skewed) ‖ Gumbel (right-skewed): any loc and scale.

    With :math:`\rho = \beta_p/\beta_q = 1 + \varepsilon` and :math:`\delta = (\mu_p - \mu_q)/\beta_q`:

    .. math::

       D = \log\frac{\beta_q}{\beta_p} + \gamma(\rho - 1) - 1 + \delta
           + e^{-\delta}\,\Gamma(1 + \rho)
         = \eta\big(\log\Gamma(1+\rho) - \delta\big)
           + \big[\log\Gamma(1+\varepsilon) + \gamma\varepsilon\big],

    the bracket being the Bregman divergence of :math:`\log\Gamma` at 1 (γ is Euler's constant).
    """
    return _gumbel_core(_diff(p.loc, q.loc) / q.scale, p.scale, q.scale)


@register_kl("gumbel_l", "gumbel_l")
def _kl_gumbel_l_gumbel_l(p: Params, q: Params) -> float:
    r"""Gumbel (left-skewed) ‖ Gumbel (left-skewed): any loc and scale.

    The mirror image :math:`x \mapsto -x` of ``gumbel_r``; KL is invariant, so with
    :math:`\delta = (\mu_q - \mu_p)/\beta_q` the ``gumbel_r`` form applies:

    .. math::

       D = \eta\big(\log\Gamma(1+\rho) - \delta\big) + \log\Gamma(1+\varepsilon) + \gamma\varepsilon.
    """
    return _gumbel_core(_diff(q.loc, p.loc) / q.scale, p.scale, q.scale)


def _gumbel_cross(delta: float, beta1: float, beta2: float) -> float:
    """KL(gumbel_r(mu_p, beta_p) || gumbel_l(mu_q, beta_q)) with delta = (mu_p - mu_q)/beta_q."""
    if beta1 >= beta2:
        return math.inf
    rho = beta1 / beta2
    lg = float(special.gammaln(-_rel(beta1, beta2)))  # log Gamma(1 - rho)
    return eta(lg + delta) - log_quotient(beta1, beta2) - EULER_GAMMA * (1.0 + rho) + lg


@register_kl("gumbel_r", "gumbel_l")
def _kl_gumbel_r_gumbel_l(p: Params, q: Params) -> float:
    r"""Gumbel (right-skewed) ‖ Gumbel (left-skewed): any loc and scale; inf unless scale_p < scale_q.

    p's right tail is exponential, q's doubly exponential; with :math:`\rho = \beta_p/\beta_q`
    and :math:`\delta = (\mu_p - \mu_q)/\beta_q`,
    :math:`\mathbb E_p\, e^{(x-\mu_q)/\beta_q} = e^{\delta}\,\Gamma(1-\rho)`, which is infinite for
    :math:`\rho \ge 1`:

    .. math::

       D = -\log\rho - \gamma(1+\rho) - \delta + e^{\delta}\,\Gamma(1-\rho)
         = \eta\big(\log\Gamma(1-\rho) + \delta\big) - \log\rho - \gamma(1+\rho) + \log\Gamma(1-\rho).
    """
    return _gumbel_cross(_diff(p.loc, q.loc) / q.scale, p.scale, q.scale)


@register_kl("gumbel_l", "gumbel_r")
def _kl_gumbel_l_gumbel_r(p: Params, q: Params) -> float:
    r"""Gumbel (left-skewed) ‖ Gumbel (right-skewed): any loc and scale; inf unless scale_p < scale_q.

    The mirror image of ``gumbel_r ‖ gumbel_l``, with :math:`\delta = (\mu_q - \mu_p)/\beta_q`:

    .. math::

       D = \eta\big(\log\Gamma(1-\rho) + \delta\big) - \log\rho - \gamma(1+\rho) + \log\Gamma(1-\rho).
    """
    return _gumbel_cross(_diff(q.loc, p.loc) / q.scale, p.scale, q.scale)


def _as_weibull(d: Params) -> tuple[float, float, float]:
    if d.family == "expon":
        return 1.0, d.loc, d.scale
    _check_finite_shapes(d)
    return d.shapes[0], d.loc, d.scale


def _weibull_core(c1: float, s1: float, c2: float, s2: float) -> float:
    eps = _rel(c2, c1)  # k - 1 with k = c_q / c_p
    b1 = _breg_lgamma(1.0, eps)  # log Gamma(1 + eps) + gamma * eps = log Gamma(k) + gamma (k - 1)
    y = c2 * log_quotient(s1, s2) + log_quotient(c2, c1) + b1 - EULER_GAMMA * eps  # c_q log rho + log Gamma(1+k)
    return eta(y) + b1


@_register_all(
    [("weibull_min", "weibull_min"), ("weibull_min", "expon"), ("expon", "weibull_min")],
    "{P} ‖ {Q}: equal loc; otherwise numerical (inf if loc_p < loc_q).",
)
def _kl_weibull_min(p: Params, q: Params) -> float:
    r"""Weibull ‖ Weibull (``weibull_min``; expon = weibull_min(1)): equal loc; otherwise numerical.

    With shapes :math:`c_p, c_q`, :math:`k = c_q/c_p = 1 + \varepsilon` and
    :math:`\rho = \mathrm{scale}_p/\mathrm{scale}_q`:

    .. math::

       D = -\log k + \gamma(k - 1) - 1 - c_q\log\rho + \rho^{c_q}\,\Gamma(1 + k)
         = \eta\big(c_q\log\rho + \log\Gamma(1+k)\big)
           + \big[\log\Gamma(1+\varepsilon) + \gamma\varepsilon\big].

    ``inf`` when :math:`\mathrm{loc}_p < \mathrm{loc}_q`.
    """
    c1, l1, s1 = _as_weibull(p)
    c2, l2, s2 = _as_weibull(q)
    if l1 < l2:
        return math.inf
    if l1 != l2:
        return _numeric(p, q)
    return _weibull_core(c1, s1, c2, s2)


@register_kl("weibull_max", "weibull_max")
def _kl_weibull_max(p: Params, q: Params) -> float:
    r"""Weibull (reflected) ‖ Weibull (reflected): equal loc; otherwise numerical (inf if loc_p > loc_q).

    The mirror image of ``weibull_min``, same closed form:

    .. math::

       D = \eta\big(c_q\log\rho + \log\Gamma(1+k)\big) + \log\Gamma(1+\varepsilon) + \gamma\varepsilon,

    ``inf`` when :math:`\mathrm{loc}_p > \mathrm{loc}_q`.
    """
    _check_finite_shapes(p, q)
    if p.loc > q.loc:
        return math.inf
    if p.loc != q.loc:
        return _numeric(p, q)
    return _weibull_core(p.shapes[0], p.scale, q.shapes[0], q.scale)


# --------------------------------------------------------------------------
# Pareto
# --------------------------------------------------------------------------


@register_kl("pareto", "pareto")
def _kl_pareto_pareto(p: Params, q: Params) -> float:
    r"""Pareto ‖ Pareto: equal loc; otherwise numerical (inf if p's support is not inside q's).

    scipy's ``pareto(b, loc, scale)`` lives on :math:`[\mathrm{loc} + \mathrm{scale}, \infty)`.
    With equal loc, shapes :math:`b_p, b_q` and scales :math:`\sigma_p \ge \sigma_q`:

    .. math::

       D = \log\frac{b_p}{b_q} + b_q\log\frac{\sigma_p}{\sigma_q} + \frac{b_q - b_p}{b_p}
         = \eta\!\left(\log\frac{b_q}{b_p}\right) + b_q\log\frac{\sigma_p}{\sigma_q},

    ``inf`` when :math:`\mathrm{loc}_p + \sigma_p < \mathrm{loc}_q + \sigma_q`.
    """
    _check_finite_shapes(p, q)
    if sum_exceeds(q.loc, q.scale, p.loc, p.scale):
        return math.inf
    if p.loc != q.loc:
        return _numeric(p, q)
    (b1,), (b2,) = p.shapes, q.shapes
    return eta(log_quotient(b2, b1)) + b2 * log_quotient(p.scale, q.scale)


# --------------------------------------------------------------------------
# Cross pairs: normal with Laplace, uniform, Gumbel
# --------------------------------------------------------------------------


@register_kl("norm", "laplace")
def _kl_norm_laplace(p: Params, q: Params) -> float:
    r"""Normal ‖ Laplace: any loc and scale.

    With :math:`t = (m - \mu)/\sigma`, :math:`\rho = \sigma/b` and the folded-normal mean
    :math:`\mathbb E_p|x - \mu| = \sigma M`, :math:`M = \sqrt{2/\pi}\,Q`,
    :math:`Q = e^{-t^2/2} + |t|\sqrt{\pi/2}\,\mathrm{erf}(|t|/\sqrt2) \ge 1`:

    .. math::

       D = -\tfrac12\log(2\pi e\sigma^2) + \log(2b) + \frac{\sigma M}{b}
         = \eta(\log(\rho M)) + \log Q + \tfrac12 + \log\frac{2}{\pi}.
    """
    delta = abs(_diff(p.loc, q.loc))
    t = delta / p.scale
    if t > 40.0:  # erf = 1 and exp(-t^2/2) < 1e-347: sigma M = |m - mu| exactly
        log_q = log_quotient(delta, p.scale) - 0.5 * math.log(2.0 / math.pi)
        return eta(log_quotient(delta, q.scale)) + log_q + (0.5 + math.log(2.0 / math.pi))
    if t < 1.0:
        log_q = math.log1p(math.expm1(-0.5 * t * t) + t * math.sqrt(math.pi / 2.0) * math.erf(t / math.sqrt(2.0)))
    else:
        log_q = math.log(math.exp(-0.5 * t * t) + t * math.sqrt(math.pi / 2.0) * math.erf(t / math.sqrt(2.0)))
    log_rho_m = log_quotient(p.scale, q.scale) + 0.5 * math.log(2.0 / math.pi) + log_q
    return eta(log_rho_m) + log_q + (0.5 + math.log(2.0 / math.pi))


@register_kl("laplace", "norm")
def _kl_laplace_norm(p: Params, q: Params) -> float:
    r"""Laplace ‖ normal: any loc and scale.

    With :math:`\rho = b/\sigma`, :math:`\mathbb E_p(x - m)^2 = 2b^2 + (\mu - m)^2`:

    .. math::

       D = -1 - \log(2b) + \tfrac12\log(2\pi\sigma^2) + \frac{2b^2 + (\mu-m)^2}{2\sigma^2}
         = \tfrac12\,\eta(\log 2\rho^2) + \frac{(\mu-m)^2}{2\sigma^2} + \tfrac12(\log\pi - 1).
    """
    z = _diff(p.loc, q.loc) / q.scale
    return 0.5 * eta(math.log(2.0) + 2.0 * log_quotient(p.scale, q.scale)) + 0.5 * z * z + 0.5 * (math.log(math.pi) - 1.0)


@register_kl("uniform", "norm")
def _kl_uniform_norm(p: Params, q: Params) -> float:
    r"""Uniform ‖ normal: any loc and scale.

    For p uniform on :math:`[a, a + w]` with centre :math:`c = a + w/2`,
    :math:`\mathbb E_p(x-m)^2 = w^2/12 + (c - m)^2`, so with :math:`\rho = w/\sigma`:

    .. math::

       D = \log\frac{\sigma\sqrt{2\pi}}{w} + \frac{w^2/12 + (c-m)^2}{2\sigma^2}
         = \tfrac12\,\eta(\log(\rho^2/12)) + \frac{(c-m)^2}{2\sigma^2} + \tfrac12\big(1 + \log\tfrac{\pi}{6}\big).
    """
    half = 0.5 * p.scale
    if half * 2.0 == p.scale and abs(p.loc) < 1e300 and abs(q.loc) < 1e300:  # exact halving: fsum rounds once
        c = math.fsum((p.loc, half, -q.loc))
    else:
        c = _to_float(Fraction(p.loc) + Fraction(p.scale) / 2 - Fraction(q.loc))
    z = c / q.scale
    lr = 2.0 * log_quotient(p.scale, q.scale) - math.log(12.0)
    return 0.5 * eta(lr) + 0.5 * z * z + 0.5 * (1.0 + math.log(math.pi / 6.0))


def _norm_gumbel_r(delta: float, log_sigma: float, sigma: float) -> float:
    """KL(N(m, s) || gumbel_r(mu, beta)), delta = (m - mu)/beta, sigma = s/beta."""
    y = -delta + 0.5 * sigma * sigma
    return eta(y) + 0.5 * eta(2.0 * log_sigma) + (1.0 - _HALF_LOG_2PI)


@register_kl("norm", "gumbel_r")
def _kl_norm_gumbel_r(p: Params, q: Params) -> float:
    r"""Normal ‖ Gumbel (right-skewed): any loc and scale.

    With :math:`\delta = (m-\mu)/\beta`, :math:`\varsigma = \sigma/\beta` and
    :math:`\mathbb E_p e^{-(x-\mu)/\beta} = e^{-\delta + \varsigma^2/2}`:

    .. math::

       D = -\tfrac12\log(2\pi e\sigma^2) + \log\beta + \delta + e^{-\delta+\varsigma^2/2}
         = \eta(\varsigma^2/2 - \delta) + \tfrac12\,\eta(2\log\varsigma) + 1 - \tfrac12\log 2\pi.
    """
    return _norm_gumbel_r(_diff(p.loc, q.loc) / q.scale, log_quotient(p.scale, q.scale), p.scale / q.scale)


@register_kl("norm", "gumbel_l")
def _kl_norm_gumbel_l(p: Params, q: Params) -> float:
    r"""Normal ‖ Gumbel (left-skewed): any loc and scale.

    The mirror image of ``norm ‖ gumbel_r`` with :math:`\delta = (\mu - m)/\beta`:

    .. math::

       D = \eta(\varsigma^2/2 - \delta) + \tfrac12\,\eta(2\log\varsigma) + 1 - \tfrac12\log 2\pi.
    """
    return _norm_gumbel_r(_diff(q.loc, p.loc) / q.scale, log_quotient(p.scale, q.scale), p.scale / q.scale)


def _gumbel_r_norm(mu: float, beta: float, m: float, s: float) -> float:
    """KL(gumbel_r(mu, beta) || N(m, s))."""
    if 1e-140 < beta < 1e140 and abs(mu) < 1e300 and abs(m) < 1e300:
        gb, ge = _two_prod(EULER_GAMMA, beta)  # gamma * beta exactly
        c = math.fsum((mu, gb, ge, -m))
    else:
        c = _to_float(Fraction(mu) + Fraction(EULER_GAMMA) * Fraction(beta) - Fraction(m))
    z = c / s
    log_kappa = 2.0 * log_quotient(beta, s) + math.log(math.pi**2 / 6.0)
    const = 0.5 * math.log(math.pi**3 / 3.0) - EULER_GAMMA - 0.5
    return 0.5 * eta(log_kappa) + 0.5 * z * z + const


@register_kl("gumbel_r", "norm")
def _kl_gumbel_r_norm(p: Params, q: Params) -> float:
    r"""Gumbel (right-skewed) ‖ normal: any loc and scale.

    With mean :math:`\mu + \gamma\beta`, variance :math:`\pi^2\beta^2/6` and
    :math:`\kappa = \pi^2\beta^2/(6\sigma^2)`:

    .. math::

       D = -\log\beta - \gamma - 1 + \tfrac12\log(2\pi\sigma^2)
           + \frac{\pi^2\beta^2/6 + (\mu + \gamma\beta - m)^2}{2\sigma^2}
         = \tfrac12\,\eta(\log\kappa) + \frac{(\mu+\gamma\beta-m)^2}{2\sigma^2}
           + \tfrac12\log\frac{\pi^3}{3} - \gamma - \tfrac12.
    """
    return _gumbel_r_norm(p.loc, p.scale, q.loc, q.scale)


@register_kl("gumbel_l", "norm")
def _kl_gumbel_l_norm(p: Params, q: Params) -> float:
    r"""Gumbel (left-skewed) ‖ normal: any loc and scale.

    The mirror image of ``gumbel_r ‖ norm`` (mean :math:`\mu - \gamma\beta`):

    .. math::

       D = \tfrac12\,\eta(\log\kappa) + \frac{(\mu-\gamma\beta-m)^2}{2\sigma^2}
           + \tfrac12\log\frac{\pi^3}{3} - \gamma - \tfrac12.
    """
    return _gumbel_r_norm(-p.loc, p.scale, -q.loc, q.scale)
