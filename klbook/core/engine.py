r"""The pairwise engine: every divergence of two univariate distributions is integrated or summed here.

A divergence of two distributions is a *kernel*: a function of the two
log-densities at a point, :math:`k(\log p(x), \log q(x)) \ge 0`, summed over the
integers (discrete pairs) or integrated over the line (continuous pairs). This
module owns everything about the pair that does not depend on the kernel:

* :class:`Univariate`: one view of a frozen ``scipy.stats`` distribution or a
  :class:`klbook.Distribution` (log-density, cdf/sf, ppf/isf, support), with
  accurate log-densities for families whose scipy ``logpdf`` underflows;
* :func:`standardise_pair`: the pair re-expressed in p's standardised
  coordinates (divergences are invariant under a common affine map), so the
  error does not grow with p's location and scale;
* :func:`breakpoints`, :func:`quantiles`, :func:`modes`: where the body is split;
* :func:`integrate`: vectorised, globally adaptive Gauss-Kronrod quadrature;
  :func:`tail_integral`: the tails on a logarithmic ladder in the log domain,
  with a divergence test; :func:`integrate_pair` puts body and tails together;
* :func:`integrate_kernel`, :func:`sum_kernel`: a kernel of (log p, log q)
  over a continuous or discrete pair, with q's mass outside p's support
  (:func:`mass_outside`) and the underflow guards of both branches;
* :func:`pair_log_ratio`: :math:`\log p - \log q` without cancellation for two
  nearly equal members of one family (written forms, else an expansion in the
  parameters), which every kernel then uses (a kernel is 1-homogeneous:
  :math:`k(\log p, \log q) = p\,k(0, \log q - \log p)`);
* :func:`f_divergence`: the public entry point, :math:`D_f(p\,\|\,q) = \int q\,f(p/q)`.

:func:`klbook.kl_numeric`, :func:`klbook.js_divergence`,
:func:`klbook.renyi_divergence`, :func:`klbook.alpha_divergence`,
:func:`klbook.total_variation` and :func:`klbook.signed_areas` all integrate
through this module.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from typing import Any, Callable

import numpy as np
from scipy import special
from scipy.special import gammaln
from scipy.stats._distn_infrastructure import rv_continuous, rv_continuous_frozen, rv_discrete, rv_discrete_frozen

import scipy.stats as _stats

from .base import Distribution

__all__ = [
    "Univariate", "standardise_pair", "quantiles", "modes", "breakpoints", "integrate", "tail_integral",
    "tail_width", "integrate_pair", "ladder", "em_sum", "integrate_kernel", "sum_kernel", "discrete_values", "mass_outside",
    "scipy_logpmf", "f_divergence", "TAIL_EPS", "log_ratio", "pair_log_ratio",
]


# --------------------------------------------------------------------------------------
# Gauss-Kronrod 21-point rule (QUADPACK's qk21): Kronrod nodes on [-1, 1], the 21-point
# Kronrod weights, and the 10-point Gauss weights on the nodes of odd index.
_XK = np.array(
    [
        0.995657163025808080735527280689003,
        0.973906528517171720077964012084452,
        0.930157491355708226001207180059508,
        0.865063366688984510732096688423493,
        0.780817726586416897063717578345042,
        0.679409568299024406234327365114874,
        0.562757134668604683339000099272694,
        0.433395394129247190799265943165784,
        0.294392862701460198131126603103866,
        0.148874338981631210884826001129720,
        0.0,
    ]
)
_XK = np.concatenate([_XK, -_XK[-2::-1]])
_WK_HALF = np.array(
    [
        0.011694638867371874278064396062192,
        0.032558162307964727478818972459390,
        0.054755896574351996031381300244580,
        0.075039674810919952767043140916190,
        0.093125454583697605535065465083366,
        0.109387158802297641899210590325805,
        0.123491976262065851077958109831074,
        0.134709217311473325928054001771707,
        0.142775938577060080797094273138717,
        0.147739104901338491374841515972068,
        0.149445554002916905664936468389821,
    ]
)
_WK = np.concatenate([_WK_HALF, _WK_HALF[-2::-1]])
_WG_HALF = np.array(
    [
        0.066671344308688137593568809893332,
        0.149451349150580593145776339657697,
        0.219086362515982043995534934228163,
        0.269266719309996355091226921569469,
        0.295524224714752870173892994651338,
    ]
)
_WG = np.zeros(21)
_WG[1:10:2] = _WG_HALF
_WG[11:20:2] = _WG_HALF[::-1]

_RTOL = 1e-13  # target for the (pessimistic) Gauss-Kronrod error estimate |K21 - G10|
_MAX_INTERVALS = 40_000
TAIL_EPS = 1e-12  # the body of p is [ppf(1e-12), isf(1e-12)]; beyond it, the tails
_EPS = float(np.finfo(float).eps)




# --------------------------------------------------------------------------------------
# Vectorised, globally adaptive Gauss-Kronrod quadrature.
def _gk21(f: Callable[[np.ndarray], Any], a: np.ndarray, b: np.ndarray,
          with_noise: bool = False) -> tuple[np.ndarray, ...]:
    """K21 on each piece and its error estimate |K21 - G10|.

    ``f`` returns the values, or ``(values, noise)`` with the rounding noise of
    each value (absolute). A piece whose |K21 - G10| is within 50 times its
    integrated noise is at the noise floor: bisection cannot improve it, and
    its error is reported as minus the noise level. With ``with_noise`` the
    integrated noise of each piece and whether ``f`` gave any are returned too.
    """
    c = 0.5 * (a + b)
    h = 0.5 * (b - a)
    x = c[:, None] + h[:, None] * _XK[None, :]
    res = f(x.ravel())
    noise = None
    if isinstance(res, tuple):
        res, noise = res
    fx = np.asarray(res, dtype=float).reshape(x.shape)
    nz = np.zeros_like(h) if noise is None else None
    with np.errstate(invalid="ignore", over="ignore"):
        k = h * (fx @ _WK)
        g = h * (fx @ _WG)
        err = np.abs(k - g)
        if noise is not None:
            # A difference within 50x the rounding noise of the integrand is
            # noise, not truncation error: report the noise level instead.
            nz = np.abs(h) * (np.asarray(noise, dtype=float).reshape(x.shape) @ _WK)
            nz = np.where(np.isfinite(nz), nz, 0.0)
            err = np.where(err <= 50 * nz, -nz, err)  # negative marks "at the noise floor"
    err = np.where(np.isfinite(k), err, np.inf)
    if with_noise:
        return k, err, nz, noise is not None
    return k, err


def _rel_width(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Width of ``[a, b]`` relative to the magnitude of its ends."""
    return (b - a) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)


def integrate(
    f: Callable[[np.ndarray], np.ndarray],
    edges: np.ndarray,
    atol: float = 0.0,
    rtol: float = _RTOL,
    rel_width: Callable[[np.ndarray, np.ndarray], np.ndarray] = _rel_width,
) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:
    """Integrate ``f`` over consecutive pieces ``[edges[i], edges[i+1]]``.

    Bisects every piece whose error estimate exceeds its fair share of the
    tolerance ``max(atol, rtol * sum|K|)``, all pieces evaluated in one
    vectorised call per round. ``f`` returns the integrand's values, or
    ``(values, noise)`` with the rounding noise of each value: a piece whose
    error estimate is within 50 times its integrated noise is at the noise
    floor and is not bisected further. A pair of halves whose combined
    estimate is not below 0.7 of their parent's, while narrower than 1e-6 of
    their abscissa (``rel_width``; 1e-11 when ``f`` reports its noise), is
    rounding noise in the abscissae (bisection cannot help): those halves are
    frozen. Returns ``(total, error, a, b, piece_values)``; ``total`` is
    ``inf`` as soon as a piece is ``+inf``.
    """
    edges = np.asarray(edges, dtype=float)
    a, b = edges[:-1].copy(), edges[1:].copy()
    keep = b > a
    a, b = a[keep], b[keep]
    if a.size == 0:
        return 0.0, 0.0, a, b, np.zeros(0)
    k, err, _, noisy = _gk21(f, a, b, with_noise=True)
    # Rounding noise in the abscissae: pieces narrower than this (relative to their
    # position) whose halves do not improve on them are frozen. An integrand that reports
    # its own noise is frozen by that instead, and only the last digits of x count here
    # (a jump in the integrand needs ~40 halvings, not 20).
    noise_width = 1e-11 if noisy else 1e-6
    frozen = err < 0
    err = np.abs(err)
    while True:
        if np.isposinf(k).any():
            return math.inf, 0.0, a, b, k
        if not np.isfinite(k).all():
            raise ValueError("the quadrature produced a non-finite value (a NaN or -inf term); check the distributions' parameters")
        scale = float(np.sum(np.abs(k)))
        tol = max(atol, rtol * scale)
        total_err = float(np.sum(err))
        if total_err <= tol:
            break
        splittable = ((b - a) > 64 * np.finfo(float).eps * np.maximum(np.abs(a), np.abs(b)) + 1e-300) & ~frozen
        sel = (err > tol / (2.0 * a.size)) & splittable
        if not sel.any():
            break
        if a.size + int(sel.sum()) > _MAX_INTERVALS:
            warnings.warn(
                f"quadrature stopped at {a.size} pieces with estimated relative error "
                f"{total_err / max(scale, 1e-300):.1e}",
                RuntimeWarning,
                stacklevel=3,
            )
            break
        am, bm, parent = a[sel], b[sel], err[sel]
        mid = 0.5 * (am + bm)
        na = np.concatenate([am, mid])
        nb = np.concatenate([mid, bm])
        nk, nerr = _gk21(f, na, nb)
        floor = nerr < 0
        nerr = np.abs(nerr)
        m = am.size
        noise = (nerr[:m] + nerr[m:] >= 0.7 * parent) & (rel_width(am, bm) < noise_width)
        a = np.concatenate([a[~sel], na])
        b = np.concatenate([b[~sel], nb])
        k = np.concatenate([k[~sel], nk])
        err = np.concatenate([err[~sel], nerr])
        frozen = np.concatenate([frozen[~sel], noise | floor[:m], noise | floor[m:]])
    order = np.argsort(a)
    a, b, k = a[order], b[order], k[order]
    return float(math.fsum(k.tolist())), float(np.sum(err)), a, b, k


# --------------------------------------------------------------------------------------
# Accurate log-pmfs. scipy's ``logpmf`` combines log-gammas and loses
# about 1e-16 * n log n in absolute terms (relative error 2e-10 in the binomial
# pmf at n = 1e5), while its ``pmf`` (Boost) is accurate to a few ulp for
# binom and nbinom; the Poisson pmf is rebuilt with Loader's saddle-point form.
def _bd0(x: np.ndarray, mu: float) -> np.ndarray:
    r"""Loader's deviance term :math:`x\log(x/\mu) + \mu - x = \mu\,g((x-\mu)/\mu)`, never cancelling."""
    x = np.asarray(x, dtype=float)
    r = (x - mu) / mu
    out = np.empty_like(r)
    small = np.abs(r) < 0.1
    rs = r[small]
    acc = np.zeros_like(rs)
    for j in range(21, -1, -1):
        acc = acc * (-rs) + 1.0 / ((j + 1) * (j + 2))
    out[small] = mu * rs * rs * acc
    xb = x[~small]
    with np.errstate(divide="ignore", invalid="ignore"):
        rb = r[~small]
        # log1p(r) only while 1 + r keeps its digits; x (log x - log mu) when x << mu (mu = 1e30)
        direct = np.where(rb > -0.5, xb * np.log1p(rb), xb * (np.log(xb) - math.log(mu))) - (xb - mu)
        out[~small] = np.where(xb == 0.0, mu, direct)
    return out


def _stirlerr(n: np.ndarray) -> np.ndarray:
    r""":math:`\log n! - [(n + 1/2)\log n - n + \tfrac12\log 2\pi]` (asymptotic series for n > 15)."""
    n = np.asarray(n, dtype=float)
    out = np.empty_like(n)
    big = n > 15
    nb = n[big]
    n2 = 1.0 / (nb * nb)
    out[big] = (1 / 12 - n2 * (1 / 360 - n2 * (1 / 1260 - n2 * (1 / 1680 - n2 / 1188)))) / nb
    ns = n[~big]
    out[~big] = gammaln(ns + 1) - (ns + 0.5) * np.log(ns) + ns - 0.5 * math.log(2 * math.pi)
    return out


def _poisson_logpmf(k: np.ndarray, mu: float, real: bool = False) -> np.ndarray:
    r""":math:`\log(e^{-\mu}\mu^k/k!) = -\tfrac12\log(2\pi k) - \mathrm{stirlerr}(k) - \mathrm{bd0}(k, \mu)` (Loader).

    With ``real``, the same formula at real :math:`k \ge 0` (the continuous extension).
    """
    k = np.asarray(k, dtype=float)
    scalar = k.ndim == 0
    k = np.atleast_1d(k)
    out = np.full(k.shape, -np.inf)
    valid = (k >= 0) & ((k == np.floor(k)) | real) & np.isfinite(k)
    if mu == 0.0:
        out[valid & (k == 0)] = 0.0
    else:
        zero = valid & (k == 0)
        out[zero] = -mu
        pos = valid & (k > 0)
        kp = k[pos]
        out[pos] = -0.5 * np.log(2 * math.pi * kp) - _stirlerr(kp) - _bd0(kp, mu)
    return out[0] if scalar else out


def scipy_logpmf(dist: Any, k: np.ndarray, shapes: tuple) -> np.ndarray:
    r"""``log(pmf)`` where the pmf is a normal float (Boost-accurate), ``logpmf`` elsewhere.

    An atom above 1/2 (a near-degenerate member: nbinom(3, 1 - 1e-12) at 0) is
    ``log1p(-(cdf(k - 1) + sf(k)))`` when the family has its own cdf and sf, so
    that :math:`\log p_k \approx -3\cdot10^{-12}` keeps its digits.
    """
    k = np.asarray(k, dtype=float)
    with np.errstate(divide="ignore"):
        pm = np.asarray(dist.pmf(k, *shapes), dtype=float)
        out = np.log(pm)
    big = pm > 0.5
    if np.any(big) and type(dist)._cdf is not rv_discrete._cdf and type(dist)._sf is not rv_discrete._sf:
        with np.errstate(all="ignore"):
            kb = k[big] if k.ndim else k
            rest = np.asarray(dist.cdf(kb - 1, *shapes), dtype=float) + np.asarray(dist.sf(kb, *shapes), dtype=float)
            alt = np.log1p(-rest)
        if k.ndim:
            out = np.array(out, dtype=float)
            out[big] = np.where(np.isfinite(alt) & (rest < 0.5), alt, out[big])
        elif math.isfinite(float(alt)) and float(rest) < 0.5:
            out = np.asarray(float(alt))
    tiny = ~(pm >= 1e-290)
    if np.any(tiny):
        out = np.array(out, dtype=float, ndmin=1) if out.ndim == 0 else out
        out[tiny] = np.asarray(dist.logpmf(k, *shapes), dtype=float)[tiny] if k.ndim else dist.logpmf(k, *shapes)
        if k.ndim == 0:
            out = out[0]
    return out


# Continuous scipy families whose ``logpdf`` is ``log(pdf)`` (no ``_logpdf``), so
# that it underflows to -inf a few hundred units into the tails (laplace at
# |z| > 745): their log-densities written out, in standard coordinates z.
_LOG_2PI = math.log(2 * math.pi)


def _logcosh(z: np.ndarray) -> np.ndarray:
    a = np.abs(z)
    return a + np.log1p(np.exp(-2 * a)) - math.log(2.0)


def _std_logpdf_laplace(z: np.ndarray) -> np.ndarray:
    return -np.abs(z) - math.log(2.0)


def _std_logpdf_pareto(z: np.ndarray, b: float) -> np.ndarray:
    return np.where(z >= 1, math.log(b) - (b + 1) * np.log(np.where(z >= 1, z, 1.0)), -np.inf)


def _std_logpdf_levy(z: np.ndarray) -> np.ndarray:
    zz = np.where(z > 0, z, 1.0)
    return np.where(z > 0, -0.5 * _LOG_2PI - 1.5 * np.log(zz) - 0.5 / zz, -np.inf)


def _std_logpdf_levy_l(z: np.ndarray) -> np.ndarray:
    return _std_logpdf_levy(-z)


def _std_logpdf_hypsecant(z: np.ndarray) -> np.ndarray:
    return -math.log(math.pi) - _logcosh(z)


def _std_logpdf_moyal(z: np.ndarray) -> np.ndarray:
    return -0.5 * (z + np.exp(-z)) - 0.5 * _LOG_2PI


def _std_logpdf_foldnorm(z: np.ndarray, c: float) -> np.ndarray:
    val = np.logaddexp(-0.5 * (z - c) ** 2, -0.5 * (z + c) ** 2) - 0.5 * _LOG_2PI
    return np.where(z >= 0, val, -np.inf)


def _std_logpdf_foldcauchy(z: np.ndarray, c: float) -> np.ndarray:
    val = np.logaddexp(-np.log1p((z - c) ** 2), -np.log1p((z + c) ** 2)) - math.log(math.pi)
    return np.where(z >= 0, val, -np.inf)


def _std_logpdf_johnsonsu(z: np.ndarray, a: float, b: float) -> np.ndarray:
    return math.log(b) - np.log(np.hypot(z, 1.0)) - 0.5 * _LOG_2PI - 0.5 * (a + b * np.arcsinh(z)) ** 2


def _std_logpdf_loglaplace(z: np.ndarray, c: float) -> np.ndarray:
    zz = np.where(z > 0, z, 1.0)
    lz = np.log(zz)
    val = math.log(c / 2.0) + np.where(zz < 1, (c - 1) * lz, -(c + 1) * lz)
    return np.where(z > 0, val, -np.inf)


def _std_logpdf_cosine(z: np.ndarray) -> np.ndarray:
    # log((1 + cos z) / 2 pi) = 2 log|cos(z / 2)| - log(pi): scipy's log1p(cos z) rounds cos z
    # near -1 (z near +-pi, 1 + cos z = y^2 / 2 quantised at 1e-16: 1e-8 relative at y = 1e-4)
    inside = np.abs(z) <= math.pi
    return np.where(inside, 2.0 * np.log(np.abs(np.cos(0.5 * np.where(inside, z, 0.0)))) - math.log(math.pi), -np.inf)


def _std_logpdf_jf_skew_t(z: np.ndarray, a: float, b: float) -> np.ndarray:
    # scipy's pdf is (1 + z/s)^(a+1/2) (1 - z/s)^(b+1/2) / C, s = sqrt(a + b + z^2): its log underflows
    # (jf_skew_t(8, 4) at z = -1e5) and 1 -+ z/s cancels in the far tails. In logs, with
    # (s + z)(s - z) = a + b: log(s + z) for z >= 0, log(a + b) - log(s - z) below (and the mirror)
    r = a + b
    zz = np.asarray(z, dtype=float)
    s = np.hypot(zz, math.sqrt(r))
    big = np.log(s + np.abs(zz))  # log(s + |z|)
    small = math.log(r) - big  # log(s - |z|)
    l1 = np.where(zz >= 0, big, small)  # log(s + z)
    l2 = np.where(zz >= 0, small, big)  # log(s - z)
    log_c = (r - 1.0) * math.log(2.0) + float(special.betaln(a, b)) + 0.5 * math.log(r)
    return (a + 0.5) * l1 + (b + 0.5) * l2 - (r + 1.0) * np.log(s) - log_c


def _log1pmx(t: np.ndarray) -> np.ndarray:
    """log(1 + t) - t without cancellation (series for abs(t) < 0.1)."""
    t = np.asarray(t, dtype=float)
    small = np.abs(t) < 0.1
    ts = np.where(small, t, 0.0)
    acc = np.zeros_like(ts)
    for k in range(24, 1, -1):  # sum_{k>=2} (-1)^(k+1) t^k / k, Horner in t
        acc = acc * ts + (-1.0) ** (k + 1) / k
    with np.errstate(all="ignore"):
        big = np.log1p(np.where(small, 0.0, t)) - np.where(small, 0.0, t)
    return np.where(small, acc * ts * ts, big)


def _std_logpdf_pearson3(z: np.ndarray, skew: float) -> np.ndarray:
    # scipy: log|beta| + gamma(alpha).logpdf(beta (z - zeta)), beta = 2/skew, alpha = beta^2, whose terms
    # (alpha - 1) log x - x - lgamma(alpha) are each ~2e3 for skew 0.1 and cancel to O(1) (2e3 ulp).
    # With x = alpha (1 + t), t = z skew / 2 and lgamma by Stirling's series:
    # log|beta| - log(2 pi alpha) / 2 - stirlerr(alpha) + alpha (log1p(t) - t) - log1p(t)
    zz = np.asarray(z, dtype=float)
    if abs(skew) < 0.000016:  # (scipy's switch to the normal density)
        return -0.5 * zz * zz - 0.5 * _LOG_2PI
    beta = 2.0 / skew
    alpha = beta * beta
    t = zz * (skew / 2.0)
    inside = t > -1.0
    tt = np.where(inside, t, 0.0)
    const = math.log(abs(beta)) - 0.5 * (_LOG_2PI + math.log(alpha)) - float(_stirlerr(np.array([alpha]))[0])
    with np.errstate(all="ignore"):
        val = const + alpha * _log1pmx(tt) - np.log1p(tt)
    return np.where(inside, val, -np.inf)


_STD_LOGPDF: dict[str, Callable[..., np.ndarray]] = {
    "pearson3": _std_logpdf_pearson3,
    "jf_skew_t": _std_logpdf_jf_skew_t,
    "cosine": _std_logpdf_cosine,
    "laplace": _std_logpdf_laplace,
    "pareto": _std_logpdf_pareto,
    "levy": _std_logpdf_levy,
    "levy_l": _std_logpdf_levy_l,
    "hypsecant": _std_logpdf_hypsecant,
    "moyal": _std_logpdf_moyal,
    "foldnorm": _std_logpdf_foldnorm,
    "foldcauchy": _std_logpdf_foldcauchy,
    "johnsonsu": _std_logpdf_johnsonsu,
    "loglaplace": _std_logpdf_loglaplace,
}


# Continuous families on a finite interval whose density behaves as a power of the distance to an
# end: their log-densities written in (z, dlo, dhi, log dlo, log dhi), dlo = z - lo and dhi = hi - z
# the distances to the standard member's ends, with their logs (a distance of 1e-320 is still a
# log). The engine forms them from x and the member's ends in exact arithmetic (_ends_logpdf), or
# from the log-distance itself next to an end (_member_log_at_end). scipy's formulas form 1 - z^2
# or 1 - z from z = (x - loc)/scale rounded: a relative error eps / dhi in the distance, 1e-10 of a
# near-identical pair's KL whose q ends 1e-6 beyond p's.
def _std_ends_argus(z: np.ndarray, dlo: np.ndarray, dhi: np.ndarray, llo: np.ndarray, lhi: np.ndarray,
                    chi: float) -> np.ndarray:
    # scipy: A + log z + log(1 - z^2) / 2 - chi^2 (1 - z^2) / 2, with 1 - z^2 = dhi (1 + z)
    a = 3 * math.log(chi) - 0.5 * _LOG_2PI - math.log(float(special.gammainc(1.5, chi * chi / 2)) / 2)
    y = dhi * (1.0 + z)
    return a + llo + 0.5 * (lhi + np.log1p(z)) - chi * chi * y / 2


def _std_ends_rdist(z: np.ndarray, dlo: np.ndarray, dhi: np.ndarray, llo: np.ndarray, lhi: np.ndarray,
                    c: float) -> np.ndarray:
    # scipy: -log 2 + beta(c/2, c/2) log-density at (z + 1) / 2 = dlo / 2 (1 - that = dhi / 2)
    return (-math.log(2.0) + (c / 2 - 1.0) * (llo + lhi - 2 * math.log(2.0))
            - float(special.betaln(c / 2, c / 2)))


def _std_ends_trapezoid(z: np.ndarray, dlo: np.ndarray, dhi: np.ndarray, llo: np.ndarray, lhi: np.ndarray,
                        c: float, d: float) -> np.ndarray:
    # scipy: u z / c below c, u between c and d, u (1 - z) / (1 - d) above d; u = 2 / (d - c + 1)
    lu = math.log(2.0 / (d - c + 1.0))
    rise = lu + llo - math.log(c) if c > 0.0 else np.full(np.shape(z), lu)
    fall = lu + lhi - math.log1p(-d) if d < 1.0 else np.full(np.shape(z), lu)
    return np.where(z < c, rise, np.where(z > d, fall, lu))


def _std_ends_semicircular(z: np.ndarray, dlo: np.ndarray, dhi: np.ndarray, llo: np.ndarray,
                           lhi: np.ndarray) -> np.ndarray:
    # log(2/pi) + log((1 - z)(1 + z)) / 2
    return math.log(2.0 / math.pi) + 0.5 * (llo + lhi)


def _std_ends_triang(z: np.ndarray, dlo: np.ndarray, dhi: np.ndarray, llo: np.ndarray, lhi: np.ndarray,
                     c: float) -> np.ndarray:
    # scipy: 2 z / c below c, 2 (1 - z) / (1 - c) from c on (c = 0: 2 - 2z; c = 1: 2z)
    rise = math.log(2.0) + llo - math.log(c) if c > 0.0 else np.full(np.shape(z), -np.inf)
    fall = math.log(2.0) + lhi - math.log1p(-c) if c < 1.0 else np.full(np.shape(z), -np.inf)
    return np.where(z < c, rise, fall) if 0.0 < c < 1.0 else (fall if c == 0.0 else rise)


# (pi/4 - float(pi/4): anglit's ends are +-pi/4, which the float support rounds by 3e-17)
_PI4_LO = float(Fraction("0.78539816339744830961566084581987572104929234984378")
                - Fraction(math.pi / 4))


def _std_ends_anglit(z: np.ndarray, dlo: np.ndarray, dhi: np.ndarray, llo: np.ndarray, lhi: np.ndarray) -> np.ndarray:
    # scipy: cos(2z) = sin(2 (pi/4 - z)) = sin(2 (pi/4 + z)); the distances to the float ends, plus
    # the ends' rounding (_PI4_LO), from whichever end is nearer
    near_hi = z > 0
    dist = np.where(near_hi, dhi, dlo) + _PI4_LO
    return np.log(np.sin(2.0 * dist))


def _std_ends_genhalflogistic(z: np.ndarray, dlo: np.ndarray, dhi: np.ndarray, llo: np.ndarray, lhi: np.ndarray,
                              c: float) -> np.ndarray:
    # scipy: 2 t^(1/c - 1) / (1 + t^(1/c))^2 with t = 1 - c z = c (1/c - z): the distance to the
    # exact end 1/c (off: 1/c - float(1/c), which the float support rounds away)
    off = float(Fraction(1) / Fraction(c) - Fraction(1.0 / c))
    near_hi = z > 0.5 / c
    lt = np.where(near_hi, math.log(c) + np.log(dhi + off), np.log1p(-c * z))
    return math.log(2.0) + (1.0 / c - 1.0) * lt - 2.0 * np.log1p(np.exp(lt / c))


_STD_LOGPDF_ENDS: dict[str, Callable[..., np.ndarray]] = {
    "triang": _std_ends_triang,
    "anglit": _std_ends_anglit,
    "genhalflogistic": _std_ends_genhalflogistic,
    "argus": _std_ends_argus,
    "rdist": _std_ends_rdist,
    "trapezoid": _std_ends_trapezoid,
    "semicircular": _std_ends_semicircular,
}


def _end_parts(loc: float, scale: float, e: float) -> tuple[float, float]:
    """``loc + scale * e`` as a float and its rounding error (exact: the float plus the error is the end to 1e-32)."""
    if not math.isfinite(e):
        return float(e), 0.0
    exact = Fraction(loc) + Fraction(scale) * Fraction(e)
    f = float(exact)
    return f, float(exact - Fraction(f))


def _std_support(name: str, shapes: tuple) -> tuple[tuple[float, ...], float, float] | None:
    """The shapes as floats and the support ``(lo, hi)`` of the standard member of scipy family ``name``."""
    sh = tuple(float(v) for v in shapes)
    try:
        lo_s, hi_s = (float(v) for v in getattr(_stats, name).support(*sh))
    except (TypeError, ValueError):  # pragma: no cover
        return None
    return sh, lo_s, hi_s


def _ends_logpdf(name: str, shapes: tuple, loc: float, scale: float) -> Callable[[np.ndarray], np.ndarray] | None:
    """The log-density of a member of a family of ``_STD_LOGPDF_ENDS`` at x, with the distances to its ends exact.

    ``x - lo`` and ``hi - x`` are exact next to an end (Sterbenz) and the ends' own rounding
    (:func:`_end_parts`) is added back, so the distances carry a relative error of a few eps
    however close x is to an end, instead of eps abs(x) / distance.
    """
    fn = _STD_LOGPDF_ENDS.get(name)
    std = _std_support(name, shapes) if fn is not None else None
    if std is None:
        return None
    sh, lo_s, hi_s = std
    if not (math.isfinite(lo_s) and math.isfinite(hi_s)):
        return None
    (lo_f, lo_e), (hi_f, hi_e) = _end_parts(loc, scale, lo_s), _end_parts(loc, scale, hi_s)
    log_scale = math.log(scale)
    mid = 0.5 * (lo_s + hi_s)

    def logpdf(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            dlo = ((x - lo_f) - lo_e) / scale
            dhi = ((hi_f - x) + hi_e) / scale
            inside = (dlo > 0.0) & (dhi > 0.0)
            z = np.where(inside, (x - loc) / scale, mid)
            dlo = np.where(inside, dlo, mid - lo_s)
            dhi = np.where(inside, dhi, hi_s - mid)
            out = fn(z, dlo, dhi, np.log(dlo), np.log(dhi), *sh) - log_scale
            out = np.where(inside, out, -np.inf)
        return np.where(np.isnan(x), np.nan, out)

    return logpdf


# Discrete scipy families whose ``logpmf`` is ``log(pmf)`` (no ``_logpmf``) and underflows
# to -inf where the pmf is merely below 1e-308: their log-pmfs written out, on the integers k
# of the standard member (loc 0). zipf, zipfian and randint underflow only beyond any reach.
def _debye_log_iv(v: np.ndarray, z: float) -> np.ndarray:
    r""":math:`\log I_v(z)` for large orders by Debye's uniform expansion (four correction terms)."""
    t = z / v
    r = np.sqrt(1.0 + t * t)
    p = 1.0 / r
    eta = r + np.log(t / (1.0 + r))
    p2 = p * p
    u1 = p * (3.0 - 5.0 * p2) / 24.0
    u2 = p2 * (81.0 - 462.0 * p2 + 385.0 * p2 * p2) / 1152.0
    u3 = p * p2 * (30375.0 - 369603.0 * p2 + 765765.0 * p2**2 - 425425.0 * p2**3) / 414720.0
    u4 = p2 * p2 * (4465125.0 - 94121676.0 * p2 + 349922430.0 * p2**2 - 446185740.0 * p2**3
                    + 185910725.0 * p2**4) / 39813120.0
    series = 1.0 + u1 / v + u2 / v**2 + u3 / v**3 + u4 / v**4
    return v * eta - 0.5 * np.log(2.0 * math.pi * v) - 0.25 * np.log1p(t * t) + np.log(series)


def _log_iv(v: np.ndarray, z: float) -> np.ndarray:
    r""":math:`\log I_v(z)`, :math:`v \ge 0`, :math:`z > 0`: scaled Bessel where it is a normal float, Debye beyond."""
    v = np.asarray(v, dtype=float)
    with np.errstate(all="ignore"):
        iv = special.ive(v, z)
        out = np.log(iv) + z
    bad = ~(iv > 1e-290)
    if np.any(bad):
        out = np.array(out, dtype=float, ndmin=1)
        out[bad] = _debye_log_iv(np.atleast_1d(v)[bad], z)
    return out


def _std_logpmf_skellam(k: np.ndarray, mu1: float, mu2: float) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    ok = np.isfinite(k) & (k == np.floor(k))
    kk = np.where(ok, k, 0.0)
    if mu1 == 0.0 or mu2 == 0.0:  # a (reflected) Poisson
        mu, sgn = (mu1, 1.0) if mu2 == 0.0 else (mu2, -1.0)
        j = sgn * kk
        with np.errstate(all="ignore"):
            val = np.where(j >= 0, j * math.log(mu) - mu - special.gammaln(np.maximum(j, 0.0) + 1.0), -np.inf)
        return np.where(ok, val, -np.inf)
    val = -(mu1 + mu2) + 0.5 * kk * (math.log(mu1) - math.log(mu2)) + _log_iv(np.abs(kk), 2.0 * math.sqrt(mu1 * mu2))
    return np.where(ok, val, -np.inf)


def _std_logpmf_logser(k: np.ndarray, a: float) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    ok = (k >= 1) & (k == np.floor(k)) & np.isfinite(k)
    kk = np.where(ok, k, 1.0)
    return np.where(ok, kk * math.log(a) - np.log(kk) - math.log(-math.log1p(-a)), -np.inf)


def _std_logpmf_planck(k: np.ndarray, lam: float) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    ok = (k >= 0) & (k == np.floor(k)) & np.isfinite(k)
    kk = np.where(ok, k, 0.0)
    return np.where(ok, math.log(-math.expm1(-lam)) - lam * kk, -np.inf)


def _std_logpmf_dlaplace(k: np.ndarray, a: float) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    ok = (k == np.floor(k)) & np.isfinite(k)
    kk = np.where(ok, k, 0.0)
    return np.where(ok, math.log(-math.expm1(-a)) - math.log1p(math.exp(-a)) - a * np.abs(kk), -np.inf)


def _std_logpmf_boltzmann(k: np.ndarray, lam: float, n: float) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    ok = (k >= 0) & (k <= n - 1) & (k == np.floor(k))
    kk = np.where(ok, k, 0.0)
    return np.where(ok, math.log(-math.expm1(-lam)) - lam * kk - math.log(-math.expm1(-lam * n)), -np.inf)


def _std_logpmf_zipf(k: np.ndarray, a: float) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    ok = (k >= 1) & (k == np.floor(k)) & np.isfinite(k)
    kk = np.where(ok, k, 1.0)
    return np.where(ok, -a * np.log(kk) - math.log(special.zeta(a, 1)), -np.inf)


def _lgamma_ratio(x: np.ndarray, s: float) -> np.ndarray:
    r""":math:`\log\Gamma(x) - \log\Gamma(x + s)` for real :math:`x > 0`, :math:`s > 0`, without cancellation.

    Below 15 from ``gammaln``; above, from Stirling's series of both terms,
    :math:`-s\log x + [s - (x + s - \tfrac12)\,\mathrm{log1p}(s/x)] + S(x) - S(x+s)`
    with :math:`S(y) = \frac1{12y} - \frac1{360y^3} + \dots` (the error of
    ``gammaln(x) - gammaln(x + s)`` grows like :math:`\epsilon\,x\log x`, and
    scipy's ``betaln`` is off by up to 3e-11 near :math:`x = 10^5`).
    """
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    big = x > 15.0
    xs = x[~big]
    out[~big] = gammaln(xs) - gammaln(xs + s)
    xb = x[big]
    out[big] = (-s * np.log(xb) + (s - (xb + s - 0.5) * np.log1p(s / xb))
                + _stirlerr(xb) - _stirlerr(xb + s))
    return out


def _logpmf_yulesimon_real(x: np.ndarray, a: float) -> np.ndarray:
    r""":math:`\log p(x) = \log\alpha + \log B(x, \alpha + 1)` for real :math:`x \ge 1` (-inf below)."""
    x = np.asarray(x, dtype=float)
    ok = (x >= 1) & np.isfinite(x)
    xx = np.where(ok, x, 1.0)
    # betaln where it is accurate (small x; it is not near 1e3-1e5), Stirling differences beyond
    small = xx <= 15.0
    with np.errstate(all="ignore"):
        val = np.where(small, special.betaln(np.where(small, xx, 1.0), a + 1.0),
                       float(gammaln(a + 1.0)) + _lgamma_ratio(np.where(small, 16.0, xx), a + 1.0))
    return np.where(ok, math.log(a) + val, -np.inf)


def _std_logpmf_yulesimon(k: np.ndarray, a: float) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    return np.where(k == np.floor(k), _logpmf_yulesimon_real(k, a), -np.inf)


_STD_LOGPMF: dict[str, Callable[..., np.ndarray]] = {
    "zipf": _std_logpmf_zipf,
    "yulesimon": _std_logpmf_yulesimon,
    "skellam": _std_logpmf_skellam,
    "logser": _std_logpmf_logser,
    "planck": _std_logpmf_planck,
    "dlaplace": _std_logpmf_dlaplace,
    "boltzmann": _std_logpmf_boltzmann,
}


def _override_logpdf(name: str, shapes: tuple, loc: float, scale: float) -> Callable[[np.ndarray], np.ndarray] | None:
    if name in _STD_LOGPDF_ENDS:
        return _ends_logpdf(name, shapes, loc, scale)
    fn = _STD_LOGPDF.get(name)
    if fn is None:
        return None
    log_scale = math.log(scale)

    def logpdf(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            out = fn((x - loc) / scale, *shapes) - log_scale
        return out

    return logpdf


def _direct_logpdf(dist: Any, shapes: tuple, loc: float, scale: float) -> Callable[[np.ndarray], np.ndarray]:
    """scipy's ``logpdf`` of a validated member of a named family without its per-call overhead.

    The same arithmetic as ``rv_continuous.logpdf`` (standardise, the family's
    support mask, its ``_logpdf`` on the points inside with the shapes
    broadcast, minus log scale; ``-inf`` outside, NaN at NaN): the argument
    checks and ``argsreduce`` are done once, not on every call (2-3x faster
    on the quadrature's arrays). One member of :func:`_members_logpdf`.
    """
    many = _members_logpdf(dist, [(shapes, loc, scale)])

    def logpdf(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = many(x)[0]
        return out if x.ndim else out[0]

    return logpdf


def _members_logpdf(dist: Any, members: list[tuple[tuple, float, float]]) -> Callable[[np.ndarray], np.ndarray]:
    """scipy's ``logpdf`` of several validated members ``(shapes, loc, scale)`` of one named family
    at the same points, as one array of shape ``(len(members),) + x.shape`` (at least 1-d).

    Each point is standardised by its own member, and all go through the family's
    support mask and ``_logpdf`` in one call: scipy's per-call overhead is paid once,
    not once per member (triang's ``_pdf`` costs ~0.3 ms a call whatever the size), and
    every value is the one a call per member would give (the same elementwise arithmetic).
    """
    k = len(members)
    shapes = np.array([[float(v) for v in sh] for sh, _, _ in members], dtype=float).reshape(k, -1)
    locs = np.array([loc for _, loc, _ in members], dtype=float)
    scales = np.array([scale for _, _, scale in members], dtype=float)
    log_scales = np.array([math.log(scale) for _, _, scale in members], dtype=float)

    def logpdf(x: np.ndarray) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, dtype=float))
        col = (k,) + (1,) * x.ndim
        zf = (x[None, ...] - locs.reshape(col)) / scales.reshape(col)
        cols = [np.broadcast_to(shapes[:, j].reshape(col), zf.shape) for j in range(shapes.shape[1])]
        out = np.full(zf.shape, -np.inf)
        with np.errstate(all="ignore"):
            inside = np.asarray(dist._support_mask(zf, *cols), dtype=bool) & ~np.isnan(zf)
            if inside.any():
                out[inside] = (dist._logpdf(zf[inside], *(c[inside] for c in cols))
                               - np.broadcast_to(log_scales.reshape(col), zf.shape)[inside])
        out[np.isnan(zf)] = np.nan
        return out

    return logpdf


# Log-densities of standard members at (upper end - u), u >= 0, from lu = log u: floats cannot
# place x closer to 1 than 1.1e-16, while beta(1, 0.05) has 40% of its mass within 1e-8 of 1 and
# beta(3, 0.01) 0.1% within 1e-300 of it.
def _reflect_beta(lu: np.ndarray, a: float, b: float) -> np.ndarray:
    return special.xlog1py(a - 1.0, -np.exp(lu)) + (b - 1.0) * lu - special.betaln(a, b)


def _reflect_arcsine(lu: np.ndarray) -> np.ndarray:
    return -math.log(math.pi) - 0.5 * lu - 0.5 * np.log1p(-np.exp(lu))


def _reflect_powerlaw(lu: np.ndarray, a: float) -> np.ndarray:
    return math.log(a) + special.xlog1py(a - 1.0, -np.exp(lu))


_STD_REFLECT: dict[str, Callable[..., np.ndarray]] = {
    "beta": _reflect_beta,
    "arcsine": _reflect_arcsine,
    "powerlaw": _reflect_powerlaw,
}


def _reflect_beta_lo(lu: np.ndarray, a: float, b: float) -> np.ndarray:
    return _reflect_beta(lu, b, a)  # beta(a, b) at u above 0 is beta(b, a) at u below 1


# The same at (lower end + u), for a family whose standard member holds more than _REFLECT_LO_MASS
# within 1e-300 of its lower end (_member_log_at_end): floats place x down to 1e-308 there, but
# beta(0.02, 2) has 1e-6 of its mass below 1e-300, which a tail in x can only extrapolate.
_STD_REFLECT_LO: dict[str, Callable[..., np.ndarray]] = {"beta": _reflect_beta_lo}
_REFLECT_LO_MASS = 1e-18


# Continuous extensions of log-pmfs (k real), for the Euler-Maclaurin sums of slowly varying
# terms: the family's own formula evaluated between the integers.
def _smooth_zipf(x: np.ndarray, a: float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        return np.where(x >= 1, -a * np.log(np.maximum(x, 1.0)) - math.log(special.zeta(a, 1)), -np.inf)


def _smooth_logpmf(dist: Any, shapes: tuple, lo: float, hi: float,
                   logdens: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray] | None:
    """log p(x) for real x inside ``[lo, hi]`` that agrees with ``logdens`` on the integers, or None."""
    name = dist.name
    if name == "zipf":
        def raw(x: np.ndarray) -> np.ndarray:
            return _smooth_zipf(x, *shapes)
    elif name == "yulesimon":
        def raw(x: np.ndarray) -> np.ndarray:
            return _logpmf_yulesimon_real(x, *shapes)
    elif name == "poisson":
        def raw(x: np.ndarray) -> np.ndarray:
            return _poisson_logpmf(x, float(shapes[0]), real=True)
    elif type(dist)._logpmf is not rv_discrete._logpmf and name not in _STD_LOGPMF:
        def raw(x: np.ndarray) -> np.ndarray:
            # log of the (Boost) pmf where it is a normal float, the family's log-pmf beyond
            pm = np.asarray(dist._pmf(x, *shapes), dtype=float)
            out = np.log(pm)
            tiny = ~(pm >= 1e-290)
            if np.any(tiny):
                out = np.where(tiny, np.asarray(dist._logpmf(x, *shapes), dtype=float), out)
            return out
    elif name not in _STD_LOGPMF:
        def raw(x: np.ndarray) -> np.ndarray:
            return np.log(np.asarray(dist._pmf(x, *shapes), dtype=float))
    else:
        return None

    def smooth(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        inside = (x >= lo) & (x <= hi)
        with np.errstate(all="ignore"):
            out = np.where(inside, raw(np.where(inside, x, max(lo, 0.0))), -np.inf)
        return np.where(np.isnan(out), -np.inf, out)

    # It must reproduce the log-pmf at a few integers (else: no extension).
    start = lo if math.isfinite(lo) else (hi - 40 if math.isfinite(hi) else 0.0)
    probe = start + np.array([0.0, 1.0, 2.0, 7.0, 30.0, 1000.0])
    probe = probe[probe <= hi]
    with np.errstate(all="ignore"):
        try:
            a, b = smooth(probe), np.asarray(logdens(probe), dtype=float)
        except Exception:  # noqa: BLE001 - a family whose private formula does not take these shapes
            return None
    fin = np.isfinite(b) & (b > -700)
    if not fin.any() or np.any(np.abs(a[fin] - b[fin]) > 1e-9 * (1.0 + np.abs(b[fin]))):
        return None
    return smooth


# --------------------------------------------------------------------------------------
# A uniform view of scipy frozen distributions and klbook Distributions.
def _is_builtin_family(d: Any) -> bool:
    """True when ``d`` is a frozen member of one of scipy.stats' named families."""
    family = getattr(_stats, getattr(d.dist, "name", "") or "", None)
    return family is not None and type(family) is type(d.dist)


class _QuadCdf:
    r"""cdf, sf, ppf and isf of a continuous member on a finite support from the engine's own quadrature of its density.

    For the families whose cdf or ppf scipy has only numerically (gausshyper's cdf is
    ``quad`` of the pdf at every point, so its ppf runs ``quad`` inside ``brentq``: 2 s for
    one pair's breakpoints; argus's ppf is ``brentq`` on a cdf that cancels to 0 below
    :math:`x \approx 10^{-9}`). Built once, on first use, in the standard member's
    coordinates :math:`z = (x - \text{loc})/\text{scale}` from its log-density ``logpdf_std``:

    * pieces: 16 in the middle half of the support, then a geometric ladder (ratio 4) towards
      each end, in the distance to it (down to :math:`10^{-300}`, or :math:`4\epsilon|e|` when
      the end is not 0), cut where a piece's mass is below :math:`e^{-120}` of the largest (the
      power law below carries the rest);
    * each piece's mass by Gauss-Kronrod 21, pieces bisected until :math:`|K_{21} - G_{10}|
      \le 10^{-13} K_{21}` (relative per piece, so that the tails' small masses keep their
      digits); the mass closer to an end than the ladder reaches, from the power law
      fitted on its last two pieces;
    * ``cdf`` sums the pieces from the left, ``sf`` from the right, plus the part of a piece
      by one more Gauss-Kronrod 21, both divided by the total (which must be 1 within 1e-6);
    * ``ppf`` / ``isf``: the piece holding the level, then safeguarded Newton steps inside it.

    ``build()`` returns False (and the caller keeps scipy's functions) when the quadrature fails:
    a non-finite value, over 20,000 pieces, or a total mass not within 1e-6 of 1.
    """

    def __init__(self, logpdf_std: Callable[[np.ndarray], np.ndarray], lo_s: float, hi_s: float,
                 loc: float, scale: float) -> None:
        self.lg = logpdf_std
        self.A, self.B = float(lo_s), float(hi_s)
        self.loc, self.scale = float(loc), float(scale)
        self.built: bool | None = None

    def _f(self, z: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            v = np.exp(np.asarray(self.lg(z), dtype=float) - self.shift)
        return np.where(np.isnan(z), np.nan, np.where(np.isnan(v), 0.0, v))

    def _ladder(self, start: float, end: float) -> np.ndarray:
        """Points from ``start`` towards ``end`` (ratio 4 in the distance to it)."""
        d0 = abs(start - end)
        ds = d0 * 4.0 ** -np.arange(1, 520, dtype=float)
        ds = ds[ds >= max(1e-300, 4 * _EPS * abs(end))]
        return end + np.sign(start - end) * ds

    def build(self) -> bool:
        if self.built is not None:
            return self.built
        self.built = False
        A, B = self.A, self.B
        L, R = A + 0.25 * (B - A), B - 0.25 * (B - A)
        if not L < R:
            return False
        left = self._ladder(L, A)[::-1]
        right = self._ladder(R, B)
        edges = np.concatenate([left, np.linspace(L, R, 17), right])
        with np.errstate(all="ignore"):
            lg = np.asarray(self.lg(edges), dtype=float)
        if np.isnan(lg).any() or np.isposinf(lg).any():
            return False
        width = np.abs(np.gradient(edges))
        with np.errstate(divide="ignore"):
            h = lg + np.log(width)
        top = float(np.max(h))
        if not math.isfinite(top):
            return False
        self.shift = float(np.max(lg))
        live = np.flatnonzero(h >= top - 120.0)
        i0, i1 = max(int(live[0]) - 1, 0), min(int(live[-1]) + 1, edges.size - 1)
        edges = edges[i0:i1 + 1]
        a, b = edges[:-1], edges[1:]
        k, err = _gk21(self._f, a, b)

        def noise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            # next to an end e != 0, z = e -+ d carries eps |e| of the distance d: the density's
            # relative noise there (the rounding of the abscissae, not a truncation error to bisect)
            d = np.minimum(np.abs(a - A), np.abs(B - b))
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(d > 0, 8 * _EPS * np.maximum(np.abs(a), np.abs(b)) / d, np.inf)

        for _ in range(60):
            if not np.all(np.isfinite(k)):
                return False
            bad = ~(err <= (1e-13 + 50 * noise(a, b)) * np.abs(k) + 1e-300) & (
                (b - a) > 64 * _EPS * np.maximum(np.abs(a), np.abs(b)))
            if not bad.any():
                break
            if a.size + int(bad.sum()) > 20_000:
                return False
            mid = 0.5 * (a[bad] + b[bad])
            na, nb = np.concatenate([a[bad], mid]), np.concatenate([mid, b[bad]])
            nk, nerr = _gk21(self._f, na, nb)
            a, b = np.concatenate([a[~bad], na]), np.concatenate([b[~bad], nb])
            k, err = np.concatenate([k[~bad], nk]), np.concatenate([err[~bad], nerr])
        else:
            return False
        order = np.argsort(a)
        a, b, k = a[order], b[order], k[order]

        def rest(end: float, near: float, nxt: float) -> tuple[float, float]:
            """Mass between an end and the ladder's last point ``near`` (power law), its exponent."""
            if near == end:
                return 0.0, 1.0
            fz = self._f(np.array([near, nxt]))
            d1, d2 = abs(near - end), abs(nxt - end)
            if not (fz[0] > 0 and fz[1] > 0):
                return 0.0, 1.0
            expo = max(math.log((fz[1] * d2) / (fz[0] * d1)) / math.log(d2 / d1), 1e-3)
            return float(fz[0] * d1 / expo), expo

        self.rest_lo, self.expo_lo = rest(A, float(a[0]), float(b[0]))
        self.rest_hi, self.expo_hi = rest(B, float(b[-1]), float(a[-1]))
        total = math.fsum(k.tolist()) + self.rest_lo + self.rest_hi
        if not (total > 0 and abs(total * math.exp(self.shift) - 1.0) <= 1e-6):
            return False
        self.a, self.b, self.total = a, b, total
        self.cl = (self.rest_lo + np.concatenate([[0.0], np.cumsum(k)[:-1]])) / total  # mass left of a[i]
        self.cr = (self.rest_hi + np.concatenate([np.cumsum(k[::-1])[::-1][1:], [0.0]])) / total  # right of b[i]
        self.m = k / total
        self.built = True
        return True

    def _part(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        if lo.size == 0:
            return np.zeros(0)
        return _gk21(self._f, lo, hi)[0] / self.total

    def _tail(self, z: np.ndarray, upper: bool) -> np.ndarray:
        """P(Z < z) (``upper``: P(Z > z)) for standard z."""
        z = np.asarray(z, dtype=float)
        out = np.zeros(z.shape)
        i = np.clip(np.searchsorted(self.a, z, side="right") - 1, 0, self.a.size - 1)
        inner = (z >= self.a[0]) & (z <= self.b[-1])
        below, above = z < self.a[0], z > self.b[-1]
        with np.errstate(all="ignore"):  # the power laws next to a finite end (rest_lo, rest_hi)
            low = self.rest_lo / self.total * ((z[below] - self.A) / (self.a[0] - self.A)) ** self.expo_lo
            high = self.rest_hi / self.total * ((self.B - z[above]) / (self.B - self.b[-1])) ** self.expo_hi
        if upper:
            out[inner] = self.cr[i[inner]] + self._part(z[inner], self.b[i[inner]])
            out[below], out[above] = 1.0 - low, high
        else:
            out[inner] = self.cl[i[inner]] + self._part(self.a[i[inner]], z[inner])
            out[below], out[above] = low, 1.0 - high
        out[z <= self.A] = 1.0 if upper else 0.0
        out[z >= self.B] = 0.0 if upper else 1.0
        out = np.clip(out, 0.0, 1.0)
        out[np.isnan(z)] = np.nan
        return out

    def cdf(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = self._tail(((x - self.loc) / self.scale).ravel(), False).reshape(x.shape)
        return out if x.ndim else out[()]

    def sf(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = self._tail(((x - self.loc) / self.scale).ravel(), True).reshape(x.shape)
        return out if x.ndim else out[()]

    def _quantile(self, u: np.ndarray, upper: bool) -> np.ndarray:
        """Standard z with P(Z < z) = u (``upper``: P(Z > z) = u)."""
        u = np.asarray(u, dtype=float)
        z = np.full(u.shape, np.nan)
        z[u == 0.0] = self.B if upper else self.A
        z[u == 1.0] = self.A if upper else self.B
        ok = (u > 0.0) & (u < 1.0)
        if upper:  # P(Z > b[i]) = cr[i] decreases with i: the piece with cr[i] <= u < cr[i] + m[i]
            start = self.cr + self.m
            i = np.clip(np.searchsorted(-start, -u, side="right") - 1, 0, self.a.size - 1)
            near = ok & (u < self.cr[-1])
            with np.errstate(all="ignore"):
                z[near] = self.B - (self.B - self.b[-1]) * (u[near] * self.total / self.rest_hi) ** (1 / self.expo_hi)
            base = self.cr
        else:
            i = np.clip(np.searchsorted(self.cl, u, side="right") - 1, 0, self.a.size - 1)
            near = ok & (u < self.cl[0])
            with np.errstate(all="ignore"):
                z[near] = self.A + (self.a[0] - self.A) * (u[near] * self.total / self.rest_lo) ** (1 / self.expo_lo)
            base = self.cl
        live = np.flatnonzero(ok & ~near)
        if live.size == 0:
            return z
        idx = i[live]
        lo, hi = self.a[idx].copy(), self.b[idx].copy()
        t = u[live] - base[idx]  # the mass to find inside the piece (from its left end; upper: its right end)
        frac = np.clip(t / np.maximum(self.m[idx], 1e-300), 0.0, 1.0)
        x = np.where(upper, hi - frac * (hi - lo), lo + frac * (hi - lo))
        for _ in range(60):
            part = self._part(x, self.b[idx]) if upper else self._part(self.a[idx], x)
            r = part - t  # increasing in x (upper: decreasing)
            fx = self._f(x) / self.total
            if upper:
                hi = np.where(r < 0, x, hi)
                lo = np.where(r > 0, x, lo)
                with np.errstate(all="ignore"):
                    nx = x + r / fx
            else:
                lo = np.where(r < 0, x, lo)
                hi = np.where(r > 0, x, hi)
                with np.errstate(all="ignore"):
                    nx = x - r / fx
            # converged: a Newton step within rounding of x (then x stays); else the step, or a
            # bisection of the bracket where it would leave it
            conv = (np.abs(nx - x) <= 4 * _EPS * np.abs(x) + 1e-300) | (r == 0)
            nx = np.where(np.isfinite(nx) & (nx > lo) & (nx < hi), nx, 0.5 * (lo + hi))
            x = np.where(conv, x, nx)
            if conv.all():
                break
        z[live] = x
        return z

    def ppf(self, u: Any) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        out = self.loc + self.scale * self._quantile(u.ravel(), False).reshape(u.shape)
        return out if u.ndim else out[()]

    def isf(self, u: Any) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        out = self.loc + self.scale * self._quantile(u.ravel(), True).reshape(u.shape)
        return out if u.ndim else out[()]


class Univariate:
    """One univariate distribution as the engine sees it: log-density, cdf/sf, ppf/isf, support.

    Takes a frozen ``scipy.stats`` distribution (continuous or discrete) or a
    :class:`klbook.Distribution`; ``name`` ("p", "q") is used in error messages.
    For discrete distributions everything is in *standardised* integer
    coordinates ``k`` (the atoms are at ``loc + k``), so that shifted supports
    are compared exactly. Attributes: ``logdens``, ``cdf``, ``sf``, ``ppf``,
    ``isf`` (callables), ``lo``, ``hi`` (support), ``discrete``, ``family``,
    ``key`` (equal keys: equal distributions), ``exact_cdf`` / ``exact_ppf``
    (False for scipy's generic pmf-summing cdf), ``exact_logdens`` (False when
    the log-density is ``log(pdf)`` and may underflow to ``-inf`` where the
    density is only tiny), ``quad`` (the engine's own cdf/sf/ppf/isf, ``_QuadCdf``,
    behind those callables for a finite-support scipy family whose cdf or ppf scipy
    has only by a numerical search per point; else None).
    """

    def __init__(self, d: object, name: str) -> None:
        self.obj = d
        self.name = name
        self.smooth: Callable[[np.ndarray], np.ndarray] | None = None
        # (loc, scale, standard support) of a continuous scipy member: its ends are loc + scale * end
        # in exact arithmetic, which support() rounds (1e-16, 1e-10 of a sliver of 1e-6)
        self.exact_end: tuple[float, float, tuple[float, float]] | None = None
        # the log-density at (its upper end - exp(-s)) as a function of s, for a family written in the
        # distance to that end (see _member_log_at_end); None for others
        self.reflect: Callable[[np.ndarray], np.ndarray] | None = None
        # the same at (lower end + exp(-s)) (families of _STD_LOGPDF_ENDS)
        self.reflect_lo: Callable[[np.ndarray], np.ndarray] | None = None
        # (family, shapes, loc, scale) of a continuous scipy member
        self.member: tuple[str, tuple[float, ...], float, float] | None = None
        # a family written in the distance to its lower end by _STD_REFLECT_LO (beta): its log-density there
        # from the distance (any member, as q: _logdens_log_near); deep_lo: p takes that end in the distance
        # (reflect_lo) because it holds more than _REFLECT_LO_MASS within 1e-300 of it, beyond floats' reach
        self.form_lo = self.deep_lo = False
        # the engine's own cdf/sf/ppf/isf (_QuadCdf) where scipy's are numerical searches
        self.quad: _QuadCdf | None = None
        if isinstance(d, rv_discrete_frozen) and not _parses(d):
            # A family whose shape is a vector (poisson_binom): use the frozen methods.
            self._init_frozen_discrete(d, name)
        elif isinstance(d, (rv_continuous_frozen, rv_discrete_frozen)):
            parsed = d.dist._parse_args(*d.args, **d.kwds)
            shapes, loc = tuple(parsed[0]), float(parsed[1])
            scale = float(parsed[2]) if len(parsed) > 2 else 1.0
            if not (math.isfinite(loc) and math.isfinite(scale) and scale > 0):
                raise ValueError(f"{name} = {d.dist.name}{d.args}{d.kwds} needs a finite loc and a finite scale > 0")
            if not bool(np.all(d.dist._argcheck(*shapes))):
                raise ValueError(f"{name} = {d.dist.name}{d.args}{d.kwds} has invalid shape parameters")
            self.family = d.dist.name
            # Equal parameters mean equal distributions only for scipy's named families; a
            # distribution defined by data (rv_discrete(values=...), rv_histogram, a user's
            # subclass) is the same only as itself.
            if _is_builtin_family(d):
                self.key: tuple[Any, ...] = (d.dist.name, tuple(float(s) for s in shapes), loc, scale)
            else:
                self.key = (id(d),)
            self.discrete = isinstance(d, rv_discrete_frozen)
            self.loc = loc
            if self.discrete:
                dist = d.dist
                if dist.name == "poisson":
                    mu = float(shapes[0])
                    self.logdens = lambda k: _poisson_logpmf(k, mu)
                elif dist.name in _STD_LOGPMF and _is_builtin_family(d):
                    fn_ = _STD_LOGPMF[dist.name]
                    self.logdens = lambda k: fn_(k, *shapes)
                else:
                    self.logdens = lambda k: scipy_logpmf(dist, k, shapes)
                self.cdf = lambda k: dist.cdf(k, *shapes)
                self.sf = lambda k: dist.sf(k, *shapes)
                self.ppf = lambda u: dist.ppf(u, *shapes)
                self.isf = lambda u: dist.isf(u, *shapes)
                lo, hi = dist.support(*shapes)
                self.smooth = (
                    _smooth_logpmf(dist, shapes, float(lo), float(hi), self.logdens) if _is_builtin_family(d) else None
                )
            else:
                try:  # the standard member's support, for the exact ends loc + scale * end (end_distance)
                    std = tuple(float(v) for v in d.dist.support(*shapes))
                    self.exact_end = (loc, scale, std)
                except (TypeError, ValueError):  # pragma: no cover - a family without support()
                    pass
                self.logdens = _override_logpdf(d.dist.name, shapes, loc, scale) or (
                    _direct_logpdf(d.dist, shapes, loc, scale) if _is_builtin_family(d) else d.logpdf)
                self.cdf, self.sf, self.ppf, self.isf = d.cdf, d.sf, d.ppf, d.isf
                lo, hi = d.support()
                builtin = _is_builtin_family(d)
                if (builtin and self.exact_end is not None and all(map(math.isfinite, self.exact_end[2]))
                        and (type(d.dist)._cdf is rv_continuous._cdf or type(d.dist)._ppf is rv_continuous._ppf)):
                    # scipy has this family's cdf (gausshyper) or quantiles (argus) only by a numerical
                    # search per point: the engine's own quadrature of the standard density replaces them
                    quad = _QuadCdf(_override_logpdf(d.dist.name, shapes, 0.0, 1.0)
                                    or _direct_logpdf(d.dist, shapes, 0.0, 1.0),
                                    *self.exact_end[2], loc, scale)
                    self.quad = quad

                    def own(method: str, scipy_fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
                        def fn(x: Any) -> Any:
                            return getattr(quad, method)(x) if quad.build() else scipy_fn(x)
                        return fn

                    if type(d.dist)._cdf is rv_continuous._cdf:  # (argus keeps its own cdf and sf)
                        self.cdf, self.sf = own("cdf", d.cdf), own("sf", d.sf)
                    self.ppf, self.isf = own("ppf", d.ppf), own("isf", d.isf)
                # A family written in the distance to an end (_STD_LOGPDF_ENDS at both, _STD_REFLECT at the
                # upper one): its log-density at its own end -+ exp(-s), from s (_member_log_at_end)
                self.member = (d.dist.name, tuple(float(v) for v in shapes), loc, scale)
                if builtin and math.isfinite(float(hi)):
                    self.reflect = _member_log_at_end(*self.member, None, True)
                self.form_lo = builtin and d.dist.name in _STD_REFLECT_LO and self.exact_end is not None
                if self.form_lo:
                    with np.errstate(all="ignore"):
                        mass = float(d.dist.cdf(self.exact_end[2][0] + 1e-300, *shapes))  # (standard units)
                    self.deep_lo = mass > _REFLECT_LO_MASS
                if builtin and math.isfinite(float(lo)) and (self.deep_lo or not self.form_lo):
                    self.reflect_lo = _member_log_at_end(*self.member, None, False)
            self.modes_fn = None
            # A log-density that is log(pdf) underflows to -inf where the density is merely tiny;
            # one written out (scipy's own _logpdf/_logpmf, or klbook's overrides) is -inf only
            # where the true value is below the float range, i.e. where the density is zero.
            generic = rv_discrete._logpmf if self.discrete else rv_continuous._logpdf
            own = type(d.dist)._logpmf if self.discrete else type(d.dist)._logpdf
            self.exact_logdens = (
                own is not generic
                or (self.discrete and d.dist.name in ("poisson", *_STD_LOGPMF))
                or (not self.discrete and (d.dist.name in _STD_LOGPDF or d.dist.name in _STD_LOGPDF_ENDS))
            )
            # scipy's generic discrete cdf sums the pmf over an arange (zipf, logser,
            # betanbinom, ...): unusable far out, so running sums replace it; its
            # generic ppf searches with that cdf (skellam has a cdf but no ppf).
            self.exact_cdf = not self.discrete or type(d.dist)._cdf is not rv_discrete._cdf
            self.exact_ppf = not self.discrete or (self.exact_cdf and type(d.dist)._ppf is not rv_discrete._ppf)
        elif isinstance(d, Distribution):
            self.family = type(d).__name__
            self.key = (id(d),)
            self.discrete = bool(getattr(d, "discrete", False))
            self.loc = 0.0
            self.logdens = getattr(d, "logpmf", d.logpdf) if self.discrete else d.logpdf
            self.cdf = d.cdf
            self.sf = getattr(d, "sf", None) or (lambda x: 1.0 - np.asarray(d.cdf(x)))
            self.ppf = d.ppf
            self.isf = getattr(d, "isf", None) or (lambda u: d.ppf(1.0 - np.asarray(u)))
            lo, hi = d.support()
            self.modes_fn = getattr(d, "modes", None)
            self.exact_cdf = self.exact_ppf = True
            self.exact_logdens = True
        else:
            raise TypeError(
                f"{name} must be a frozen univariate scipy.stats distribution or a klbook.Distribution, "
                f"got {type(d).__name__}"
            )
        if not hasattr(self, "lo"):
            self.lo, self.hi = float(lo), float(hi)
        if math.isnan(self.lo) or math.isnan(self.hi) or self.lo > self.hi:
            raise ValueError(f"{name} has an invalid support ({self.lo}, {self.hi})")

    def mass_above(self, x: float) -> float:
        """:math:`P(X > x)`, accurate also when it is tiny and scipy's ``sf`` is the generic ``1 - cdf``.

        For such a family (bradford, argus, ...) a tail mass below 1e-3 is the
        density integrated from x to the upper end on the engine's tail ladder
        (``1 - cdf`` carries an absolute error of 1e-16: 1e-10 of a near-identical
        pair's KL of 1e-6 that is mostly q's mass beyond p's end).
        """
        with np.errstate(all="ignore"):
            v = float(np.asarray(self.sf(x)))
        obj = self.obj
        generic = (isinstance(obj, rv_continuous_frozen) and type(obj.dist)._sf is rv_continuous._sf
                   and not self.discrete)
        if not generic or not (0.0 < v < 1e-3) or not x < self.hi:
            return v

        def flog(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            with np.errstate(all="ignore"):
                lp = np.asarray(self.logdens(t), dtype=float).copy()
            lp[np.isnan(lp)] = -np.inf
            return lp, np.where(np.isfinite(lp), 1.0, 0.0)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if math.isinf(self.hi):
                val = ladder(flog, float(x), self.hi, max(abs(x) * 1e-3, 1e-300), 1e-17 * v, v, "mass_above")
            else:  # a finite piece: towards the exact end, in the distance to it
                return self.mass_to_end(float(x), upper=True)
        return val if math.isfinite(val) and abs(val - v) <= 1e-6 * v + 1e-15 else v

    def mass_to_end(self, x: float, upper: bool) -> float:
        """The mass between ``x`` and this distribution's own end (``hi`` if ``upper``, else ``lo``), from its density.

        For the sliver a near-identical q has beyond p's finite end (a loc or
        scale that moves the end by :math:`10^{-6}`): its density integrated on
        the tail ladder in the distance w to q's end, taken in exact arithmetic
        (:meth:`end_distance`), from the piece's width down to
        :math:`w = 10^{-300}` (the family's distance form where it has one,
        else the density at the abscissa, kept inside the float support, with
        the abscissa's rounding reported as noise), so that neither
        ``1 - cdf`` (absolute error :math:`10^{-16}`), a cdf formula that
        cancels next to its end (semicircular's ``0.5 + (...)/pi`` at -1) nor
        the rounded end of ``support()`` sets the error. Falls back to cdf/sf
        where the end is infinite, the piece is not a sliver (mass above 1e-3)
        or the ladder fails.
        """
        end = self.hi if upper else self.lo
        with np.errstate(all="ignore"):
            v = float(np.asarray(self.sf(x) if upper else self.cdf(x)))
        if self.discrete or not math.isfinite(end) or not math.isfinite(x) or (x >= end if upper else x <= end):
            return v if (x < end if upper else x > end) else 0.0
        if not (0.0 <= v < 1e-3):
            return v
        # the piece [x, end] by the distance w to the exact end (end_distance): the density at
        # x +- (width - w), kept inside the float support, down to w = 1e-300 on the tail ladder
        width = self.end_distance(x, upper)
        inside = np.nextafter(end, x)
        sgn = 1.0 if upper else -1.0

        reflect = self.reflect if upper else self.reflect_lo

        def flog(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            w = np.asarray(w, dtype=float)
            t = x + sgn * (width - w)
            t = np.where(sgn * (end - t) > 0.0, t, inside)
            with np.errstate(all="ignore"):
                if reflect is not None:  # written in the distance to the end (beta singular there)
                    lp = np.array(reflect(-np.log(w)), dtype=float, ndmin=1)
                    rel = np.full(lp.shape, 4 * _EPS)
                else:
                    lp = np.array(self.logdens(t), dtype=float, ndmin=1)
                    # the abscissa carries eps |t| of a distance w: the density's own noise there
                    # (else the quadrature bisects it: 23000 pieces for semicircular's sliver)
                    rel = np.minimum(1.0, 4 * _EPS * (1.0 + np.abs(t) / np.maximum(w, 1e-300)))
            lp[np.isnan(lp)] = -np.inf
            return lp, np.where(np.isfinite(lp), 1.0, 0.0), np.where(np.isfinite(lp), lp + np.log(rel), -np.inf)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            val = ladder(flog, width, 0.0, width, 1e-17 * max(v, 1e-300), max(v, 1e-300), "mass_to_end")
        # (the cdf or sf is only a sanity check: 1 - cdf, or a cdf by numerical integration as
        # gausshyper's, can be 1.5e-12 off a sliver of mass 1e-19)
        if not (math.isfinite(val) and val >= 0.0) or abs(val - v) > 1e-2 * max(v, val) + 1e-10:
            return v
        return val

    def end_distance(self, x: float, upper: bool) -> float:
        """The distance ``|end - x|`` to this distribution's upper (``upper``) or lower end, with the end in exact arithmetic.

        A scipy member's end is ``loc + scale * e`` (e its standard member's end); ``support()``
        rounds it, which moves a sliver of width 1e-6 by 1e-10 of itself. Other
        distributions: the float end.
        """
        end = self.hi if upper else self.lo
        if self.exact_end is None:
            return abs(end - x)
        loc, scale, std = self.exact_end
        e = std[1] if upper else std[0]
        if not math.isfinite(e):
            return abs(end - x)
        return abs(float(Fraction(loc) + Fraction(scale) * Fraction(e) - Fraction(x)))

    def logdens_below(self, end: float, y: np.ndarray) -> np.ndarray:
        """The log-density at ``end - y`` (``y >= 0``), without forming ``end - y`` where the family allows.

        For a family with a finite upper end whose log-density is written in
        the distance to that end (beta, arcsine, powerlaw) the distance is
        ``(hi - end + y) / scale`` (exactly ``y / scale`` when ``end`` is this
        distribution's own upper end ``hi``); for any other, ``logdens(end - y)``.
        """
        y = np.asarray(y, dtype=float)
        with np.errstate(all="ignore"):
            if self.reflect is not None:
                return self._logdens_log_near(end, -np.log(y), True)
            return np.asarray(self.logdens(end - y), dtype=float)

    def logdens_log_below(self, end: float, s: np.ndarray) -> np.ndarray:
        """The log-density at ``end - exp(-s)``: :meth:`logdens_below` with the distance given by its log."""
        return self._logdens_log_near(end, s, True)

    def logdens_log_above(self, end: float, s: np.ndarray) -> np.ndarray:
        """The log-density at ``end + exp(-s)``: :meth:`logdens_log_below` for a lower end (``reflect_lo``)."""
        return self._logdens_log_near(end, s, False)

    def _logdens_log_near(self, end: float, s: np.ndarray, upper: bool) -> np.ndarray:
        """The log-density at ``end -+ exp(-s)`` (``-`` below an upper end, ``+`` above a lower one).

        For a family written in the distance to its end (``reflect`` / ``reflect_lo``), that
        distance is formed from the member's own end in exact arithmetic
        (:func:`_member_log_at_end`: the one mechanism, also for the stencil members of a
        nearly equal pair); for any other, ``logdens`` at the rounded abscissa.
        """
        s = np.asarray(s, dtype=float)
        if (self.reflect is not None) if upper else (self.reflect_lo is not None or self.form_lo):  # (set with self.member)
            at = _member_log_at_end(*self.member, end, upper)
            if at is not None:
                return at(s)
        with np.errstate(all="ignore"):
            x = end - np.exp(-s) if upper else end + np.exp(-s)
            return np.asarray(self.logdens(x), dtype=float)

    def _init_frozen_discrete(self, d: Any, name: str) -> None:
        loc = float(d.kwds.get("loc", 0.0))
        if not math.isfinite(loc):
            raise ValueError(f"{name} = {d.dist.name}{d.args}{d.kwds} needs a finite loc")
        self.family = d.dist.name
        self.key = (d.dist.name, repr(d.args), repr(sorted(d.kwds.items()))) if _is_builtin_family(d) else (id(d),)
        self.discrete = True
        self.loc = loc
        self.logdens = lambda k: np.asarray(d.logpmf(np.asarray(k, dtype=float) + loc), dtype=float)
        self.cdf = lambda k: d.cdf(np.asarray(k, dtype=float) + loc)
        self.sf = lambda k: d.sf(np.asarray(k, dtype=float) + loc)
        self.ppf = lambda u: np.asarray(d.ppf(u), dtype=float) - loc
        self.isf = lambda u: np.asarray(d.isf(u), dtype=float) - loc
        lo, hi = d.support()
        self.lo, self.hi = float(lo) - loc, float(hi) - loc
        self.modes_fn = None
        self.exact_cdf = type(d.dist)._cdf is not rv_discrete._cdf
        self.exact_ppf = self.exact_cdf and type(d.dist)._ppf is not rv_discrete._ppf
        self.exact_logdens = type(d.dist)._logpmf is not rv_discrete._logpmf


def _parses(d: Any) -> bool:
    """True when scipy's ``_parse_args`` splits ``d`` into scalar shapes, loc (and scale)."""
    try:
        parsed = d.dist._parse_args(*d.args, **d.kwds)
        return all(np.ndim(s) == 0 for s in parsed[0]) and len(parsed[0]) == d.dist.numargs
    except (TypeError, ValueError):
        return False


def _generic_ppf(D: Univariate) -> bool:
    """True for a member of a named continuous scipy family without its own ``_ppf`` (a root search per point)
    but with its own ``_cdf``, on an infinite support (foldcauchy, exponnorm, ...). On a finite one (argus,
    gausshyper, vonmises_line, irwinhall) the engine's own quadrature gives the quantiles (:class:`_QuadCdf`)."""
    obj = D.obj
    return (D.quad is None and isinstance(obj, rv_continuous_frozen) and _is_builtin_family(obj)
            and type(obj.dist)._ppf is rv_continuous._ppf and type(obj.dist)._cdf is not rv_continuous._cdf
            and D.exact_end is not None)


def _solve_quantiles(D: Univariate, u: np.ndarray, upper: bool) -> np.ndarray:
    """x with cdf(x) = u (``upper``: sf(x) = u) for all u at once: one vectorised cdf (sf) call per step (Illinois).

    scipy's generic ``_ppf`` runs brentq point by point on a scalar cdf (exponnorm(1.5): 382 cdf
    points, 23 ms for the engine's 23 body quantiles; 11 ms here). Same accuracy as its brentq
    (2e-12 absolute, 4 ulp relative); the upper tail from sf, not from 1 - u.
    """
    loc, scale = D.exact_end[:2]
    out = np.full(u.size, np.nan)
    ok = (u > 0.0) & (u < 1.0)
    out[u == 0.0] = D.hi if upper else D.lo
    out[u == 1.0] = D.lo if upper else D.hi
    if not ok.any():
        return out
    uu = u[ok]

    def g(x: np.ndarray, t: np.ndarray) -> np.ndarray:  # increasing in x, 0 at the quantile
        with np.errstate(all="ignore"):
            return t - np.asarray(D.sf(x), dtype=float) if upper else np.asarray(D.cdf(x), dtype=float) - t

    a = np.full(uu.size, D.lo)
    b = np.full(uu.size, D.hi)
    for end, sgn in ((a, -1.0), (b, 1.0)):  # an infinite end: expand from loc by scale * 4^k
        if math.isinf(end[0]):
            w = np.full(uu.size, scale)
            x = loc + sgn * w
            for _ in range(520):
                bad = (g(x, uu) > 0.0) if sgn < 0 else (g(x, uu) < 0.0)
                if not bad.any():
                    break
                w[bad] *= 4.0
                x[bad] = loc + sgn * w[bad]
                if not np.all(np.isfinite(x)):
                    break
            end[:] = x
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return out  # (NaN: the caller keeps scipy's)
    # Illinois (false position, the kept end's value halved when it is kept twice), with a bisection
    # (geometric across several octaves of one sign: a quantile 1e-300 from 0) every third step
    ga, gb = g(a, uu), g(b, uu)
    ga = np.where(np.isfinite(ga), ga, -1.0)
    gb = np.where(np.isfinite(gb), gb, 1.0)
    side = np.zeros(uu.size)
    for it in range(600):
        width = b - a
        done = (width <= 2e-12 + 4 * _EPS * np.maximum(np.abs(a), np.abs(b))) | (ga == 0.0) | (gb == 0.0)
        if done.all():
            break
        geo = (a > 0.0) & (b > 4.0 * a) | (b < 0.0) & (a < 4.0 * b)
        with np.errstate(all="ignore"):
            mid = np.where(geo, np.sign(a) * np.sqrt(np.abs(a)) * np.sqrt(np.abs(b)), a + 0.5 * width)
            fp = b - gb * width / (gb - ga)
        use_fp = (it % 3 != 2) & ~geo & np.isfinite(fp) & (fp > a) & (fp < b)
        m = np.where(use_fp, fp, mid)
        live = np.flatnonzero(~done)
        gm = np.full(uu.size, np.nan)
        gm[live] = g(m[live], uu[live])
        low = ~done & (gm < 0.0)
        high = ~done & (gm > 0.0)
        hit = ~done & (gm == 0.0)
        a = np.where(low | hit, m, a)
        b = np.where(high | hit, m, b)
        # Illinois: the end that stays for a second time has its value halved
        gb = np.where(low & (side < 0), 0.5 * gb, gb)
        ga = np.where(high & (side > 0), 0.5 * ga, ga)
        ga = np.where(low | hit, np.where(hit, 0.0, gm), ga)
        gb = np.where(high | hit, np.where(hit, 0.0, gm), gb)
        side = np.where(low, -1.0, np.where(high, 1.0, side))
        bad = ~done & ~(low | high | hit)  # NaN from the cdf: plain bisection on that side
        if bad.any():
            a = np.where(bad, mid, a)
    out[ok] = np.where(ga == 0.0, a, np.where(gb == 0.0, b, 0.5 * (a + b)))
    return out


def quantiles(D: Univariate, us: np.ndarray) -> np.ndarray:
    """``ppf`` for u <= 1/2 and ``isf`` for the upper half (accurate in both tails).

    For families without their own ppf (scipy searches a root per point) all points are
    solved at once: on a finite support from the engine's own quadrature of the density
    (``Univariate.quad``, behind ``ppf``/``isf``), else by ``_solve_quantiles``.
    """
    us = np.asarray(us, dtype=float)
    if _generic_ppf(D):
        left = _solve_quantiles(D, us[us <= 0.5], False)
        right = _solve_quantiles(D, 1.0 - us[us > 0.5], True)
        res = np.concatenate([left, right])
        if not np.isnan(res).any():
            return res
    with np.errstate(all="ignore"):
        left = np.asarray(D.ppf(us[us <= 0.5]), dtype=float)
        right = np.asarray(D.isf(1.0 - us[us > 0.5]), dtype=float)
    return np.concatenate([left, right])


_BODY_U = np.array(
    [TAIL_EPS, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
     0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1 - 1e-4, 1 - 1e-6, 1 - 1e-9, 1 - TAIL_EPS]
)
_MODE_U = np.concatenate([[1e-6, 1e-4, 1e-3], np.linspace(0.005, 0.995, 67), [1 - 1e-3, 1 - 1e-4, 1 - 1e-6]])


def _argmax_bracket(fn: Callable[[np.ndarray], np.ndarray], lo: float, hi: float) -> float:
    """The maximiser of ``fn`` in ``[lo, hi]`` to about 1e-13 of the bracket's scale.

    Vectorised grid refinement: 33 points per round (one call of ``fn``), the
    bracket shrinks to the two grid cells around the best point (a factor of
    16 per round). Ties at the top (a plateau at rounding level) keep their
    middle.
    """
    tol = 1e-13 * max(abs(lo), abs(hi), hi - lo)
    for _ in range(30):
        if hi - lo <= tol:
            break
        xs = np.linspace(lo, hi, 33)
        with np.errstate(all="ignore"):
            v = np.asarray(fn(xs), dtype=float)
        v = np.where(np.isnan(v), -np.inf, v)
        top = np.flatnonzero(v == v.max())
        i = int(top[top.size // 2])
        lo, hi = float(xs[max(i - 1, 0)]), float(xs[min(i + 1, 32)])
    return 0.5 * (lo + hi)


def modes(D: Univariate) -> list[float]:
    """Local maxima of the log-density (where the integrand may have a kink or a peak)."""
    if D.modes_fn is not None:
        try:
            return [float(m) for m in np.atleast_1d(D.modes_fn())]
        except Exception:  # pragma: no cover - fall through to the grid search
            pass
    x = quantiles(D, _MODE_U)
    x = np.unique(x[np.isfinite(x)])
    if x.size < 3:
        return []
    with np.errstate(all="ignore"):
        lp = np.asarray(D.logdens(x), dtype=float)
    modes = []
    for i in range(1, x.size - 1):
        if not (lp[i] >= lp[i - 1] and lp[i] >= lp[i + 1]) or (lp[i] == lp[i - 1] and lp[i] == lp[i + 1]):
            continue
        modes.append(_argmax_bracket(D.logdens, float(x[i - 1]), float(x[i + 1])))
    if np.isfinite(lp[0]) and lp[0] > lp[1] and D.lo == -math.inf:  # pragma: no cover - odd shapes
        modes.append(float(x[0]))
    return modes


# Kinks of a standard member's log-density in x that are not modes (a branch of the formula changes
# there; the log-density is C1 but its second derivative jumps): crystalball's Gaussian core meets its
# power-law tail at -beta. A nearly equal q has its kink 1e-6 away from p's, and the Gauss-Kronrod
# piece holding both is frozen at the noise floor of the plain difference log p - log q (used next
# to a kink) before the jumps are resolved: crystalball scale+ 3.5e-12 of its KL without them.
_STD_KINKS: dict[str, Callable[..., list[float]]] = {
    "crystalball": lambda beta, m: [-beta],
}


def _kinks(D: Univariate) -> list[float]:
    """The kinks of D's log-density (``_STD_KINKS``) at ``loc + scale * k``; [] for other families."""
    if D.member is None or D.member[0] not in _STD_KINKS or not _is_builtin_family(D.obj):
        return []
    name, shapes, loc, scale = D.member
    return [loc + scale * k for k in _STD_KINKS[name](*shapes)]


def breakpoints(P: Univariate, Q: Univariate | None) -> np.ndarray:
    """p's quantiles (1e-12 ... 1 - 1e-12), p's modes and kinks, and q's modes and kinks inside that range."""
    x = quantiles(P, _BODY_U)
    x = x[np.isfinite(x)]
    x = np.clip(x, P.lo, P.hi)
    if x.size == 0:
        raise ValueError(f"{P.name}: could not compute any quantile (ppf) to place the quadrature")
    # Keep the body away from a finite support end: the piece next to it (where
    # the density may be singular, e.g. beta(1/2, 1/2)) belongs to the
    # geometric tail ladder.
    med = float(np.median(x))
    spread = float(x.max() - x.min())
    if math.isfinite(P.lo):
        # (the median itself may be at the end to double precision: beta(3, 0.01)'s is 1 - 1e-30)
        # (and as at the upper end: an end approached in the distance to it from beyond floats' reach)
        x = x[x - P.lo >= 1e-3 * ((med - P.lo) if (med > P.lo and not P.deep_lo) else spread)]
    if math.isfinite(P.hi) and x.size:
        # an end approached in the distance to it (P.reflect) may hold most of the mass within
        # 1e-15 of it (beta(2, 0.02)): its ladder starts 1e-3 of p's spread away
        ref = spread if (P.reflect is not None or not med < P.hi) else P.hi - med
        x = x[P.hi - x >= 1e-3 * ref]
    if x.size == 0:
        x = np.array([med])
    lo, hi = float(x.min()), float(x.max())
    extra = modes(P) + _kinks(P)
    if Q is not None:
        # q's modes and quantiles inside p's body: where p << q the integrand is ~q,
        # so q's mass there must be resolved.
        extra += modes(Q) + _kinks(Q)
        xq = quantiles(Q, _BODY_U)
        extra += [float(v) for v in xq[np.isfinite(xq)]]
        # q's finite support ends inside p's body: q may jump or be singular there
        extra += [v for v in (Q.lo, Q.hi) if math.isfinite(v)]
    extra = [m for m in extra if lo < m < hi]
    pts = np.unique(np.concatenate([x, np.array(extra, dtype=float)]))
    if pts.size == 1:  # a quantile function that is flat at 1e-12 precision: widen by the std
        s = float(np.asarray(P.obj.std())) if hasattr(P.obj, "std") else 1.0
        pts = np.array([max(P.lo, pts[0] - s), min(P.hi, pts[0] + s)])
    return pts


def tail_integral(
    flog: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    x0: float,
    end: float,
    width: float,
    atol: float,
) -> tuple[float, float, float]:
    """Integrate from ``x0`` outwards to the support end ``end`` along a substitution ladder of unit pieces.

    Returns ``(value, value over the last quarter of the t-range (unit piece
    towards a finite end), value over the quarter (piece) before)``.
    """
    total, last, before, _extra, _unit = _tail_bins(flog, x0, end, width, atol)
    return total, last, before


def _tail_bins(
    flog: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    x0: float,
    end: float,
    width: float,
    atol: float,
) -> tuple[float, float, float, tuple[float, float, float] | None, float | None]:
    """Integrate from ``x0`` outwards to the support end ``end`` (finite or infinite).

    ``flog(x)`` returns ``(log|f(x)|, sign f(x))``, or ``(log|f|, sign f, log noise)``
    with the log of the rounding noise of ``f(x)`` (a tail piece whose error estimate
    is at that level is accepted, not bisected); the integrand is formed as
    ``sign * exp(log|f| + log|dx/dt|)`` so that neither the density nor the
    Jacobian under- or overflows on its own. The tail is mapped to ``t >= 0``
    on unit pieces:

    * infinite end: :math:`x = x_0 \\pm w\\,(e^t - 1)` up to :math:`|x| \\approx 10^{150}`;
    * finite end: :math:`x = \\text{end} + (x_0 - \\text{end})\\,e^{-t}` until the
      distance to the end is at the limit of double precision.

    Returns ``(value, value over the last quarter of the t-range, value over the
    quarter before)``, the last two for the divergence test.
    """
    if x0 == end:
        return 0.0, 0.0, 0.0, None, None
    sign = 1.0 if end > x0 else -1.0
    if math.isinf(end):
        log_w = math.log(width)
        t_max = max(math.log(max(1e150 - abs(x0), 1.0)) - log_w, 1.0)

        def xt(t: np.ndarray) -> np.ndarray:
            return x0 + sign * width * np.expm1(t)

        def log_jac(t: np.ndarray) -> np.ndarray:
            return log_w + t
    else:
        h = abs(x0 - end)
        # Near a non-zero end, x = end -+ y carries an absolute rounding of eps |end|, i.e. a
        # relative error eps |end| / y in y: stop at y = 1e-8 |end| and extrapolate the rest.
        floor = max(abs(end) * 1e-8, 1e-300)
        if h <= floor:
            return 0.0, 0.0, 0.0, None, None
        t_max = math.log(h / floor)
        log_h = math.log(h)

        def xt(t: np.ndarray) -> np.ndarray:
            return end - sign * h * np.exp(-t)

        def log_jac(t: np.ndarray) -> np.ndarray:
            return log_h - t

    def g(t: np.ndarray) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        res = flog(xt(t))
        logabs, sgn = res[0], res[1]
        lj = log_jac(t)
        with np.errstate(all="ignore"):
            out = np.where(sgn == 0, 0.0, sgn * np.exp(logabs + lj))
        if np.isnan(out).any():
            raise ValueError("the tail integrand came out NaN; check the distributions' parameters")
        if len(res) > 2:  # the integrand's rounding noise, as a log (see _gk21)
            with np.errstate(all="ignore"):
                noise = np.exp(np.asarray(res[2], dtype=float) + lj)
            return out, np.where(np.isfinite(noise), noise, 0.0)
        return out

    n = max(int(math.ceil(t_max)), 4)
    edges = np.linspace(0.0, t_max, n + 1)
    unit = t_max / n
    # Where the integrand (per unit of t) has fallen below 1e-25 of its largest value on a probe
    # of 4 points per piece and stays there to the end of the ladder, the rest is negligible: a
    # light tail underflows after a few pieces of a ladder that runs to 1e150.
    tp = np.linspace(0.0, t_max, 4 * n + 1)
    res = flog(xt(tp))
    with np.errstate(all="ignore"):
        lg = np.where(np.asarray(res[1]) == 0, -np.inf, np.asarray(res[0], dtype=float) + log_jac(tp))
    lg = np.where(np.isnan(lg), np.inf, lg)  # unknown: keep
    top = float(np.max(lg))
    trimmed = False
    if top < math.inf:
        live = np.flatnonzero(lg >= top - 57.6) if top > -math.inf else np.zeros(0, dtype=int)
        j_last = int(live[-1]) if live.size else 0
        n_keep = max(4, int(math.ceil(tp[j_last] / unit - 1e-9)) + 2)
        if n_keep < n:
            trimmed = True
            edges = edges[: n_keep + 1]
    def rel_width_x(ta: np.ndarray, tb: np.ndarray) -> np.ndarray:
        xa, xb = xt(ta), xt(tb)
        return np.abs(xb - xa) / np.maximum(np.maximum(np.abs(xa), np.abs(xb)), 1e-300)

    if trimmed:
        total, _, a, _, k = integrate(g, edges, atol=atol, rel_width=rel_width_x)
        return total, 0.0, 0.0, None, None  # nothing left beyond: no remainder, no divergence
    if math.isinf(end):
        # Cheap divergence test on one unrefined pass before refining anything.
        # (no noise floor here: far out a growing integrand's noise estimate is larger than itself)
        k0, _ = _gk21(g, edges[:-1], edges[1:])
        if np.isposinf(k0).any():
            return math.inf, math.inf, math.inf, None, None
        a0 = edges[:-1]
        last0 = float(np.sum(k0[a0 >= 0.75 * t_max]))
        before0 = float(np.sum(k0[(a0 >= 0.5 * t_max) & (a0 < 0.75 * t_max)]))
        if abs(last0) > max(1e-6 * float(np.sum(np.abs(k0))), atol) and abs(last0) >= abs(before0):
            return math.inf, math.inf, math.inf, None, None
    total, _, a, _, k = integrate(g, edges, atol=atol, rel_width=rel_width_x)
    if math.isinf(total):
        return total, total, total, None, None
    if not math.isinf(end):
        # Towards a finite end, an integrand (x - end)^c (per unit of t: e^{-(c+1) t}, times a
        # polynomial in t) that does not decay along the ladder (c <= -1, fitted on the last four
        # unit pieces) makes the integral diverge (expon against levy at 0).
        step = min(t_max / 8.0, 40.0)
        gv = g(t_max - step * np.array([3.0, 2.0, 1.0, 0.0]))
        gt = np.asarray(gv[0] if isinstance(gv, tuple) else gv, dtype=float)
        extra = _extrapolate(gt, step)
        if extra[2] >= 1.0 - 1e-4 * step and abs(float(np.sum(k[a >= t_max - 4 * step]))) > max(
                1e-6 * float(np.sum(np.abs(k))), atol):
            return math.inf, math.inf, math.inf, None, None
    if math.isinf(end):
        # Last quarter of the ladder and the quarter before (divergence test).
        last = float(np.sum(k[a >= 0.75 * t_max]))
        before = float(np.sum(k[(a >= 0.5 * t_max) & (a < 0.75 * t_max)]))
    else:
        # Towards a finite end the integrand decays like (x - end)^a: compare the
        # last two unit pieces; what lies closer to the end than double precision
        # can resolve is extrapolated from their ratio by the caller.
        last = float(np.sum(k[a >= t_max - unit * 1.0001]))
        before = float(np.sum(k[(a >= t_max - 2.0001 * unit) & (a < t_max - unit * 1.0001)]))
        # what lies beyond the ladder, extrapolated from the integrand near its end
        return total, last, before, extra, unit
    return total, last, before, None, None


def tail_width(xs: np.ndarray, left: bool) -> float:
    """A length scale for the tail ladder: the spacing of the outermost breakpoints."""
    if xs.size >= 2:
        w = (xs[1] - xs[0]) if left else (xs[-1] - xs[-2])
    else:
        w = 1.0
    w = float(abs(w))
    if not (math.isfinite(w) and w > 0):
        w = max(abs(float(xs[0 if left else -1])) * 1e-3, 1e-300)
    return w


def _geometric_fill(pts: np.ndarray, ratio: float = 4.0) -> np.ndarray:
    """Breakpoints with points added so that no piece away from 0 spans more than a factor ``ratio``.

    A heavy tail's quantiles run over many decades (t(0.1) between its 1e-4 and
    1e-12 quantiles: 1e40 to 1e120); a power law is smooth on a logarithmic
    scale, so the body is cut into geometric pieces there instead of being
    bisected in x for dozens of rounds.
    """
    extra = []
    for a, b in zip(pts[:-1], pts[1:]):
        lo, hi = (a, b) if a > 0 else (-b, -a)
        if lo > 0 and hi / lo > 2 * ratio:
            g = np.geomspace(lo, hi, int(math.ceil(math.log(hi / lo) / math.log(ratio))) + 1)[1:-1]
            extra.append(g if a > 0 else -g)
    if not extra:
        return pts
    return np.unique(np.concatenate([pts, *extra]))


def _singular_at(P: Univariate, end: float, upper: bool) -> bool:
    """True when p's log-density grows (by more than 1e-3) from 1e-7 to 1e-13 of |end| before its finite end."""
    scale = max(abs(end), 1e-300)
    ys = np.array([1e-7, 1e-13]) * scale
    xs = end - ys if upper else end + ys
    with np.errstate(all="ignore"):
        lp = np.asarray(P.logdens(xs), dtype=float)
    if np.isnan(lp).any() or np.isposinf(lp).any():
        return True
    return bool(lp[1] > lp[0] + 1e-3)


def integrate_pair(
    P: Univariate,
    Q: Univariate | None,
    f_body: Callable[[np.ndarray], np.ndarray],
    f_tail: Callable[..., tuple[np.ndarray, ...]],
    what: str,
    *,
    ends_in_distance: bool = False,
) -> tuple[float, float, float]:
    r"""Body (between p's breakpoints) plus the two tails, with the divergence test.

    ``f_body(x)`` returns the integrand, or ``(integrand, rounding noise)``;
    ``f_tail(x, logs=None)`` returns ``(log|f|, sign f)`` or ``(log|f|, sign f, log noise)``
    (see :func:`integrate`). Without the noise, an integrand that is pure
    rounding noise (p = q given as two different objects) is bisected to the
    piece limit. ``logs``, when the engine passes it, is ``(log p, log q)`` at
    ``x`` (``log q`` None without ``Q``) computed more accurately than from ``x``
    itself: the kernel must use it instead of evaluating the densities at ``x``.

    **Finite ends in the distance to the end.** A tail towards a finite end
    :math:`e \ne 0` of p runs in :math:`s = -\log|e - x|` out to
    :math:`s = \infty` (a power law in the distance is an exponential in s;
    :math:`dx = e^{-s}\,ds`) when

    * p's family has a log-density written in the distance to that end
      (:meth:`Univariate.logdens_log_below` / :meth:`Univariate.logdens_log_above`:
      beta, arcsine, powerlaw at the upper end, ``_STD_REFLECT``; beta at its lower end too, even at 0,
      when it holds more than 1e-18 of its mass within 1e-300 of it, ``_STD_REFLECT_LO``; anglit, argus,
      genhalflogistic, rdist, semicircular, trapezoid, triang at both,
      ``_STD_LOGPDF_ENDS``): then ``logs`` carries the log-densities from that
      distance, down to :math:`10^{-300}`, and ``x = e \mp e^{-s}`` rounded is given
      for reference only; a third element ``(e, s, upper)`` lets a nearly equal pair
      form its log-ratio from each stencil member's own distance to its end;
    * or ``ends_in_distance`` (the caller's integrand tends to a finite limit
      at the end: nearly equal members, where q's end lies :math:`10^{-6}`
      beyond p's) and p's density does not grow towards the end: then
      ``logs`` is None and ``x`` is :math:`e \mp e^{-s}` rounded, kept off
      ``e`` itself (the last float before it); what lies closer to the end than
      a float can say weighs at most the integrand there times :math:`\epsilon|e|`.

    Otherwise floats stop the ladder at :math:`10^{-8}|e|` and the
    rest is extrapolated (beta(1, 0.05) has 40% of its mass within
    :math:`10^{-8}` of 1).

    Returns ``(total, x_left, x_right)``: the body's outer breakpoints, where the
    caller's tail corrections are evaluated.
    """
    pts = _geometric_fill(breakpoints(P, Q))
    body, _, _, _, _ = integrate(f_body, pts)
    if math.isinf(body):
        return body, float(pts[0]), float(pts[-1])
    atol = 1e-15 * abs(body)
    total = body
    for left in (True, False):
        x0 = float(pts[0] if left else pts[-1])
        end = P.lo if left else P.hi
        width = tail_width(pts, left)
        reflected = (P.reflect_lo if left else P.reflect) is not None
        # (floats themselves reach 1e-308 next to an end at 0: only a lower end of _STD_REFLECT_LO whose
        # mass lies below that too is taken in the distance there, when q has the distance form as well)
        deep = left and P.deep_lo and (Q is None or Q.form_lo)  # (q's density there from its distance too)
        if math.isfinite(end) and end != x0 and (end != 0.0 or deep) and (
                reflected or (ends_in_distance and not _singular_at(P, end, not left))):
            total += ladder(_distance_tail(f_tail, P, Q, end, x0, reflected), -math.log(abs(end - x0)),
                            math.inf, 1.0, atol, total, what, side="left" if left else "right")
        else:
            total += ladder(f_tail, x0, end, width, atol, total, what)
        if math.isinf(total):
            return math.inf, float(pts[0]), float(pts[-1])
    return total, float(pts[0]), float(pts[-1])


def _distance_tail(f_tail: Callable[..., tuple[np.ndarray, ...]], P: Univariate, Q: Univariate | None,
                   end: float, x0: float, reflected: bool) -> Callable[[np.ndarray], tuple[np.ndarray, ...]]:
    r"""The tail integrand per unit of :math:`s = -\log|\text{end} - x|` (log form, :math:`dx = e^{-s} ds`).

    ``f_tail`` gets the abscissae :math:`x = \text{end} \mp e^{-s}` (rounded, and never ``end``
    itself) and, with ``reflected``, the log-densities from the distance :math:`e^{-s}` itself
    (:meth:`Univariate.logdens_log_below` at an upper end, :meth:`Univariate.logdens_log_above` at a
    lower one) and ``(end, s, upper)``.
    """
    sign = 1.0 if end > x0 else -1.0
    inner = np.nextafter(end, x0)

    def f_s(sv: np.ndarray) -> tuple[np.ndarray, ...]:
        sv = np.asarray(sv, dtype=float)
        with np.errstate(all="ignore"):
            x = end - sign * np.exp(-sv)
        x = np.where(sign * (end - x) > 0.0, x, inner)
        if reflected:
            near = Univariate.logdens_log_below if sign > 0 else Univariate.logdens_log_above
            res = f_tail(x, (near(P, end, sv), None if Q is None else near(Q, end, sv), (end, sv, sign > 0)))
        else:
            res = f_tail(x)
            if len(res) > 2:
                # Near a non-zero end a formula in x loses what x carries of the distance
                # (cosine's 1 + cos x at pi - y: 1e-16 / y^2 relative): the integrand's change
                # when x moves by 2 ulp on either side is part of its noise, so that the
                # quadrature does not bisect it (40000 pieces, 1.5 s).
                lf = np.asarray(res[0], dtype=float)
                worst = np.zeros(lf.shape)
                for toward in (-math.inf, math.inf):
                    xn = np.nextafter(np.nextafter(x, toward), toward)
                    xn = np.where(sign * (end - xn) > 0.0, xn, inner)
                    with np.errstate(all="ignore"):
                        moved = np.abs(np.expm1(np.asarray(f_tail(xn)[0], dtype=float) - lf))
                    worst = np.maximum(worst, np.where(np.isfinite(moved), moved, 0.0))
                with np.errstate(all="ignore"):
                    extra = np.where(worst > 0.0, lf + np.log(worst), -np.inf)
                    res = (res[0], res[1], np.logaddexp(np.asarray(res[2], dtype=float), extra))
        return (res[0] - sv, res[1], *(r - sv for r in res[2:]))

    return f_s


def ladder(
    f_tail: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    x0: float,
    end: float,
    width: float,
    atol: float,
    total: float,
    what: str,
    side: str | None = None,
) -> float:
    """One tail from ``x0`` to ``end`` (:func:`tail_integral`) with the divergence test and the remainder.

    ``total`` is what the caller has summed so far (the scale of the test).
    Returns ``inf`` when the integrand does not decay along an infinite
    ladder; otherwise the tail plus its geometrically extrapolated remainder
    (a ``RuntimeWarning`` when that remainder exceeds :math:`10^{-10}` of the total).
    """
    val, last, before, extra, _unit = _tail_bins(f_tail, x0, end, width, atol)
    if math.isinf(val):
        return val
    total += val
    if last == 0.0:
        return val
    if math.isinf(end):
        if abs(last) <= 1e-12 * max(abs(total), 1e-300):
            return val
        if abs(last) >= 0.9 * abs(before):
            # The integrand does not decay along the ladder: the integral diverges.
            return math.inf
    doubt = 1.0
    if extra is not None:
        rest, doubt, _rho = extra
    else:
        rho = min(abs(last) / abs(before), 0.999) if before != 0.0 else 0.999
        rest = last * rho / (1.0 - rho)
    total += rest
    if abs(rest) * doubt > 1e-10 * max(abs(total), 1e-300):
        side = side or ("left" if end < x0 else "right")
        warnings.warn(
            f"{what}: the {side} tail converges too slowly for double precision; "
            f"a remainder of {rest:.2e} was extrapolated geometrically and the result may be inaccurate",
            RuntimeWarning,
            stacklevel=4,
        )
    return val + rest


def _extrapolate(g: np.ndarray, step: float) -> tuple[float, float, float]:
    r"""The integral beyond the end ``T`` of a ladder towards a finite end, from the integrand there.

    Near a power-law end, :math:`p(x) \propto (x - e)^{c'-1}` and the log-ratio
    (or :math:`\log p`) is linear in :math:`t = -\log|x - e|`, so the integrand
    per unit of t is :math:`g(t) = e^{-c t}(\alpha + \beta t)`. ``g`` holds its
    values at :math:`T - 3h, T - 2h, T - h, T` (``h = step``); they obey
    :math:`g_{m+2} = 2\rho g_{m+1} - \rho^2 g_m` with :math:`\rho = e^{-ch}`
    (solved from the four values; a pure exponential where :math:`\beta \approx 0`),
    and :math:`\int_T^\infty g = u/c + v/c^2` with :math:`u = g(T)`,
    :math:`v = (u - \rho\,g(T-h))/h`. Returns ``(remainder, relative doubt, rho)``:
    the doubt is how far the four values are from the model, divided by
    :math:`ch` (the remainder's sensitivity to c); 1 when the model does not apply.
    """
    g0, g1, g2, g3 = (float(v) for v in g)
    if g3 == 0.0:
        return 0.0, 0.0, 0.0
    if not all(math.isfinite(v) for v in (g0, g1, g2, g3)) or g2 == 0.0:
        return 0.0, 1.0, 1.0
    rho = g3 / g2
    # a pure exponential (beta = 0): the ratios agree
    doubt = (abs(g3 / g2 - g2 / g1) / max(abs(g3 / g2), 1e-300) if g1 != 0.0 else 1.0) + 1e-12
    det = g1 * g1 - g0 * g2
    if det != 0.0:
        c1 = (g2 * g1 - g0 * g3) / det
        c2 = (g1 * g3 - g2 * g2) / det
        r = 0.5 * c1
        lin_doubt = abs(c2 + r * r) / (r * r) + 1e-12 if r > 0.0 else math.inf
        if lin_doubt < doubt:  # the ratios drift as exp times linear predicts
            rho, doubt = r, lin_doubt
    if not (0.0 < rho < 1.0):
        return 0.0, 1.0, rho
    c = -math.log(rho) / step
    v = (g3 - rho * g2) / step
    rest = g3 / c + v / (c * c)
    return rest, min(1.0, doubt / min(1.0, c * step)), rho


# --------------------------------------------------------------------------------------
# Sums of slowly varying terms: Euler-Maclaurin (midpoint form).
# sum_{k=a}^{b} f(k) = int_{a-1/2}^{b+1/2} f + sum_j B_2j(1/2)/(2j)! [f^(2j-1)(b+1/2) - f^(2j-1)(a-1/2)],
# B_2(1/2)/2! = -1/24, B_4(1/2)/4! = 7/5760, B_6(1/2)/6! = -31/967680.
_EM_C = (-1.0 / 24.0, 7.0 / 5760.0, -31.0 / 967680.0)


def _em_end(f: Callable[[np.ndarray], np.ndarray], x: float) -> tuple[float, float]:
    """Euler-Maclaurin correction terms at ``x`` (derivatives by central differences of step 1),
    and a bound on what is neglected (the next term and the stencils' truncation)."""
    j = np.arange(-4.0, 5.0)
    v = np.asarray(f(x + j), dtype=float)
    if not np.all(np.isfinite(v)):
        return math.nan, math.inf
    m3, m2, m1, p1, p2, p3 = v[1], v[2], v[3], v[5], v[6], v[7]
    d1 = (-m3 + 9 * m2 - 45 * m1 + 45 * p1 - 9 * p2 + p3) / 60.0
    d3 = (-p3 + 8 * p2 - 13 * p1 + 13 * m1 - 8 * m2 + m3) / 8.0
    d5 = (p3 - 4 * p2 + 5 * p1 - 5 * m1 + 4 * m2 - m3) / 2.0
    d7 = (v[8] - 6 * p3 + 14 * p2 - 14 * p1 + 14 * m1 - 14 * m2 + 6 * m3 - v[0]) / 2.0
    corr = _EM_C[0] * d1 + _EM_C[1] * d3 + _EM_C[2] * d5
    return corr, 3e-4 * abs(d7) + 1e-16 * abs(v[4])


def em_sum(
    f: Callable[[np.ndarray], np.ndarray],
    lo: float,
    hi: float,
    pts: np.ndarray,
    what: str,
    scale: float,
    rtol: float = 1e-13,
) -> float | None:
    r""":math:`\sum_{k=lo}^{hi} f(k)` for non-negative terms that vary slowly (on scales :math:`\gg 1`).

    ``f`` is the continuous extension of the terms (real arguments). The sum is
    :math:`\int_{lo-1/2}^{hi+1/2} f\,dx` (adaptive Gauss-Kronrod between the
    breakpoints ``pts``, a log-domain ladder towards an infinite end, with the
    divergence test of :func:`ladder`) plus the Euler-Maclaurin corrections
    :math:`\sum_j B_{2j}(\tfrac12)/(2j)!\,[f^{(2j-1)}]` at each finite end
    (three terms, derivatives by central differences). Returns ``None`` when
    the first neglected correction exceeds ``rtol * scale`` (the terms vary
    too fast near an end for the formula), ``inf`` when the sum diverges.
    """
    a = lo - 0.5 if math.isfinite(lo) else -math.inf
    b = hi + 0.5 if math.isfinite(hi) else math.inf
    if b <= a:
        return 0.0
    pts = np.asarray(pts, dtype=float)
    pts = pts[np.isfinite(pts) & (pts > a) & (pts < b)]
    if pts.size and math.isfinite(a) and a > 0 and pts.max() > 4 * a:
        # power-law terms change by the same factor per octave: split every octave
        pts = np.concatenate([pts, np.geomspace(a, pts.max(), int(math.log2(pts.max() / a)) + 2)[1:-1]])
    edges = np.unique(np.concatenate([[a] if math.isfinite(a) else [], pts, [b] if math.isfinite(b) else []]))
    if edges.size == 0:
        edges = np.array([0.0])

    def flog(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            v = np.asarray(f(x), dtype=float)
            return np.log(v), np.where(v > 0, 1.0, 0.0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        body = integrate(lambda x: np.asarray(f(x), dtype=float), edges)[0] if edges.size > 1 else 0.0
    if math.isinf(body):
        return math.inf
    total = body
    scale_t = max(abs(scale), abs(body), 1e-300)
    for left in (True, False):
        end = a if left else b
        if math.isfinite(end):
            continue
        x0 = float(edges[0] if left else edges[-1])
        width = max(1.0, abs(x0 - float(edges[-1] if left else edges[0])), abs(x0) * 0.5)
        total += ladder(flog, x0, end, width, 1e-16 * scale_t, scale_t, what)
        if math.isinf(total):
            return math.inf
    corr = 0.0
    for x, sgn in ((a, -1.0), (b, 1.0)):
        if math.isfinite(x):
            c, err = _em_end(f, x)
            if not (math.isfinite(c) and err <= rtol * max(abs(scale), abs(total))):
                return None
            corr += sgn * c
    return total + corr


# --------------------------------------------------------------------------------------
# Log-ratios of two members of one family, free of cancellation.
def _lgamma_diff(x: np.ndarray, delta: float) -> np.ndarray:
    r""":math:`\log\Gamma(x + \delta) - \log\Gamma(x)`, by its Taylor series in :math:`\delta` where :math:`|\delta| \le x/100`."""
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        out = special.gammaln(x + delta) - special.gammaln(x)
        near = np.abs(delta) <= 0.01 * x
        if np.any(near):
            xs = x[near]
            acc = np.zeros_like(xs)
            term_c = 1.0
            for j in range(1, 10):  # sum_j psi^(j-1)(x) delta^j / j!
                term_c *= delta / j
                acc += special.polygamma(j - 1, xs) * term_c
            out[near] = acc
    return out


def log_ratio(P: Univariate, Q: Univariate) -> Callable[[np.ndarray], np.ndarray] | None:
    r""":math:`d(k) = \log p_k - \log q_k` for two members of one discrete family that differ
    slightly, written so that nothing cancels; None for other pairs.

    Negative binomial :math:`\binom{k+n-1}{k} a^n (1-a)^k`:

    .. math::

       d &= [\log\Gamma(k+n_1) - \log\Gamma(k+n_2)] \\
       &\quad {} - [\log\Gamma(n_1) - \log\Gamma(n_2)] \\
       &\quad {} + (n_1 - n_2)\log a \\
       &\quad {} + n_2\,\mathrm{log1p}\big(\tfrac{a-b}{b}\big) + k\,\mathrm{log1p}\big(\tfrac{b-a}{1-b}\big),

    the log-gamma differences by
    their Taylor series in :math:`n_1 - n_2` (:math:`d` is then accurate to a few
    ulp of itself, not of :math:`\log p_k`).
    """
    kp, kq = getattr(P, "key", None), getattr(Q, "key", None)
    if not (isinstance(kp, tuple) and isinstance(kq, tuple) and len(kp) == 4 and len(kq) == 4):
        return None
    if kp[0] != kq[0] or kp[2] != kq[2] or kp[0] != "nbinom":
        return None
    (n1, a), (n2, b) = kp[1], kq[1]
    if not (0.0 < a < 1.0 and 0.0 < b < 1.0):
        return None
    delta = n1 - n2
    const = -float(_lgamma_diff(np.array([n2]), delta)[0]) + delta * math.log(a) + n2 * math.log1p((a - b) / b)
    slope = math.log1p((b - a) / (1.0 - b))

    def d(k: np.ndarray) -> np.ndarray:
        k = np.asarray(k, dtype=float)
        return _lgamma_diff(k + n2, delta) + const + k * slope

    return d


def _t_log_ratio(p: Any, q: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    r"""d(x) = log p - log q for p = t(nu1) (standard) and q = t(nu2, loc, scale), free of cancellation.

    With :math:`w = (x - l)/s`, :math:`L_1 = \mathrm{log1p}(x^2/\nu_1)`, :math:`L_2 = \mathrm{log1p}(w^2/\nu_2)`:
    :math:`d = \Delta c + \log s - \tfrac{\nu_1+1}{2}(L_1 - L_2) - \tfrac{\nu_1-\nu_2}{2}L_2`, where
    :math:`L_1 - L_2 = \mathrm{log1p}\big([\nu_2(x-w)(x+w) + w^2(\nu_2-\nu_1)]/[\nu_1\nu_2(1 + w^2/\nu_2)]\big)`,
    :math:`x - w = ((s-1)x + l)/s` and :math:`\Delta c` from log-gamma differences by their series.
    """
    if not all(type(getattr(d, "dist", None)) is type(_stats.t) for d in (p, q)):
        return None
    try:
        (nu1,), l1, s1 = p.dist._parse_args(*p.args, **p.kwds)
        (nu2,), l2, s2 = q.dist._parse_args(*q.args, **q.kwds)
    except (TypeError, ValueError):
        return None
    nu1, nu2, l1, s1, l2, s2 = (float(v) for v in (nu1, nu2, l1, s1, l2, s2))
    if l1 != 0.0 or s1 != 1.0 or not (nu1 > 0 and nu2 > 0 and s2 > 0):
        return None
    dnu = nu1 - nu2
    dc = (float(_lgamma_diff(np.array([(nu2 + 1) / 2]), dnu / 2)[0]) - float(_lgamma_diff(np.array([nu2 / 2]), dnu / 2)[0])
          - 0.5 * math.log1p(dnu / nu2))
    sm1 = s2 - 1.0
    const = dc + math.log(s2)

    def d(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            w = (x - l2) / s2
            l2_ = np.log1p(w * w / nu2)
            xmw = (sm1 * x + l2) / s2
            num = nu2 * xmw * (x + w) - w * w * dnu
            diff = np.log1p(num / (nu1 * nu2 * (1.0 + w * w / nu2)))
            out = const - 0.5 * (nu1 + 1) * diff - 0.5 * dnu * l2_
        return out

    return d


def _shift_log1p_pow(k1: float, k2: float, dlog: np.ndarray, logw: np.ndarray) -> np.ndarray:
    r""":math:`\log(1 + x^{k_1}) - \log(1 + w^{k_2})` from :math:`\log x - \log w` (``dlog``) and :math:`\log w`.

    :math:`= \mathrm{log1p}\big(\mathrm{expit}(k_2\log w)\,\mathrm{expm1}(k_1\,\mathrm{dlog} + (k_1 - k_2)\log w)\big)`,
    free of cancellation when x is close to w and :math:`k_1` to :math:`k_2`.
    """
    return np.log1p(special.expit(k2 * logw) * np.expm1(k1 * dlog + (k1 - k2) * logw))


def _shift_softplus(xmw: np.ndarray, w: np.ndarray, k: float = 1.0) -> np.ndarray:
    r""":math:`\log(1 + e^{-kx}) - \log(1 + e^{-kw})` from ``xmw`` :math:`= x - w`: :math:`\mathrm{log1p}(\mathrm{expm1}(-k(x-w))/(1 + e^{kw}))`."""
    return np.log1p(np.expm1(-k * xmw) * special.expit(-k * w))


def _log_ratio_of(a: float, b: float) -> float:
    """log(a / b) for positive a, b, without rounding a / b first."""
    return math.log1p((a - b) / b)


def _form_logistic(x, w, xmw, a1, a2):
    # log f(z) = -z - 2 log(1 + e^-z)
    return -xmw - 2.0 * _shift_softplus(xmw, w)


def _form_genlogistic(x, w, xmw, a1, a2):
    # log f(z) = log c - z - (c + 1) log(1 + e^-z)
    (c1,), (c2,) = a1, a2
    softplus_w = np.logaddexp(0.0, -w)
    return _log_ratio_of(c1, c2) - xmw - (c1 + 1.0) * _shift_softplus(xmw, w) - (c1 - c2) * softplus_w


def _form_hypsecant(x, w, xmw, a1, a2):
    # log f(z) = -log(pi) - log cosh z,  log cosh z = z + log(1 + e^-2z) - log 2
    return -xmw - _shift_softplus(xmw, w, 2.0)


def _power_family(sign: float):
    """log f = log c + log d + (sign c - 1) log z - (d + 1) log(1 + z^(sign c)): burr12 (sign +1), burr (sign -1)."""

    def form(x, w, xmw, a1, a2):
        (c1, d1), (c2, d2) = a1, a2
        logw = np.log(w)
        dlog = np.log1p(xmw / w)  # log x - log w
        k1, k2 = sign * c1, sign * c2
        out = _log_ratio_of(c1, c2) + _log_ratio_of(d1, d2) + (k1 - 1.0) * dlog + (k1 - k2) * logw
        out -= (d1 + 1.0) * _shift_log1p_pow(k1, k2, dlog, logw)
        if d1 != d2:
            out -= (d1 - d2) * np.logaddexp(0.0, k2 * logw)
        return out

    return form


def _form_fisk(x, w, xmw, a1, a2):
    return _power_family(1.0)(x, w, xmw, (a1[0], 1.0), (a2[0], 1.0))


def _form_gennorm(x, w, xmw, a1, a2):
    # log f(z) = log b - log 2 - lgamma(1/b) - |z|^b
    (b1,), (b2,) = a1, a2
    ax, aw = np.abs(x), np.abs(w)
    same = ((x > 0) & (w > 0)) | ((x < 0) & (w < 0))
    amw = np.where(same, np.sign(x) * xmw, ax - aw)  # |x| - |w| (x, w on one side of 0: +-(x - w))
    logw = np.log(aw)
    dlog = np.log1p(amw / aw)
    pw = np.exp(b2 * logw)
    dpow = pw * np.expm1(b1 * dlog + (b1 - b2) * logw)  # |x|^b1 - |w|^b2
    dpow = np.where(aw == 0.0, ax**b1, dpow)  # w = 0 (x = w = 0 at the centre of a pure scale change)
    dlg = float(_lgamma_diff(np.array([1.0 / b2]), (b2 - b1) / (b1 * b2))[0])  # lgamma(1/b1) - lgamma(1/b2)
    return _log_ratio_of(b1, b2) - dlg - dpow


def _form_halfcauchy(x, w, xmw, a1, a2):
    # log f(z) = log(2/pi) - log(1 + z^2)
    return -np.log1p(xmw * (x + w) / (1.0 + w * w))


def _form_gompertz(x, w, xmw, a1, a2):
    # log f(z) = log c + z + c - c e^z;  c1 e^x - c2 e^w = c2 e^w expm1(log(c1/c2) + x - w)
    (c1,), (c2,) = a1, a2
    lc = _log_ratio_of(c1, c2)
    return lc + xmw + (c1 - c2) - c2 * np.exp(w) * np.expm1(lc + xmw)


# family -> log f(x; shapes_1) - log f(w; shapes_2) for standard densities, from x, w and x - w
_LOG_RATIO_FORMS = {
    "halfcauchy": _form_halfcauchy,
    "halflogistic": _form_logistic,  # log f(z) = log 2 - z - 2 log(1 + e^-z), z >= 0
    "gompertz": _form_gompertz,
    "logistic": _form_logistic,
    "genlogistic": _form_genlogistic,
    "hypsecant": _form_hypsecant,
    "burr": _power_family(-1.0),
    "burr12": _power_family(1.0),
    "fisk": _form_fisk,
    "gennorm": _form_gennorm,
}


def _family_log_ratio(p: Any, q: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    r"""d(x) = log p - log q for p and q of one family in :data:`_LOG_RATIO_FORMS`, free of cancellation.

    p standard (loc 0, scale 1, shapes :math:`a_1`), q with shapes :math:`a_2`, loc l and
    scale s: with :math:`w = (x - l)/s` and :math:`x - w = ((s-1)x + l)/s` (no cancellation),
    :math:`d = \log f(x; a_1) - \log f(w; a_2) + \log s`, the family's form written in
    :math:`x - w` and the differences of the shapes (log1p, expm1, expit). Non-finite
    values (outside the forms' range) are left to the caller.
    """
    dist_p, dist_q = getattr(p, "dist", None), getattr(q, "dist", None)
    if dist_p is None or type(dist_p) is not type(dist_q):
        return None
    form = _LOG_RATIO_FORMS.get(getattr(dist_p, "name", None))
    if form is None:
        return None
    try:
        a1, l1, s1 = dist_p._parse_args(*p.args, **p.kwds)
        a2, l2, s2 = dist_q._parse_args(*q.args, **q.kwds)
        a1, a2 = tuple(float(v) for v in a1), tuple(float(v) for v in a2)
        l1, s1, l2, s2 = float(l1), float(s1), float(l2), float(s2)
    except (TypeError, ValueError):
        return None
    if l1 != 0.0 or s1 != 1.0 or not (s2 > 0.0 and math.isfinite(l2) and all(math.isfinite(v) and v > 0 for v in a1 + a2)):
        return None
    sm1 = s2 - 1.0
    # The forms serve nearly equal members (class 6). Far apart, log p - log q has no cancellation
    # to avoid, and a form's own rounding (expm1/expit of large arguments far in a tail) is the
    # larger error: logistic(0, 1) || logistic(-2.97, 0.27) lost 7e-11 and hit the piece limit.
    if abs(sm1) > 0.01 or abs(l2) > 0.01 or any(abs(u - v) > 0.01 * v for u, v in zip(a1, a2)):
        return None
    log_s = math.log1p(sm1)

    def d(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            w = (x - l2) / s2
            xmw = (sm1 * x + l2) / s2
            return np.asarray(form(x, w, xmw, a1, a2) + log_s, dtype=float)

    return d



# Members of one family with nearly equal parameters, any family: log p - log q by a Taylor
# expansion in the parameters about their midpoint. With G(tau) = log f(x; m + tau u) (m the
# midpoint, u the difference of the parameter vectors (shapes, loc, scale)),
# d = G(-1/2) - G(1/2) = -[G'(0) + G'''(0)/24 + G^(5)(0)/1920 + ...]; G' and G''' come from
# central differences of scipy's own log-density at parameters 0.5% of their size apart, so the
# float64 rounding of the log-densities (eps |log p|, the floor of the plain difference) is
# divided by that step (a factor 5e3 at a relative difference of 1e-6).
_EXP_REL = 1e-3  # the expansion serves parameters that differ by at most this (relative)
_EXP_STEP = 0.005  # stencil spacing: 0.5% of each parameter's size
_C1 = np.array([4.0 / 5.0, -1.0 / 5.0, 4.0 / 105.0, -1.0 / 280.0])  # G'(0) h = sum_k c_k (G(kh) - G(-kh)), O(h^8)
_C1_6 = np.array([3.0 / 4.0, -3.0 / 20.0, 1.0 / 60.0, 0.0])  # the same to O(h^6) and O(h^4): from the three,
_C1_4 = np.array([2.0 / 3.0, -1.0 / 12.0, 0.0, 0.0])  # the truncation error of the O(h^8) one (see _expansion_log_ratio)
_C3 = np.array([-13.0 / 8.0, 1.0, -1.0 / 8.0, 0.0])  # G'''(0) h^3 = sum_k c_k (G(kh) - G(-kh)), O(h^4)


def _frozen_params(d: Any) -> tuple[Any, tuple[float, ...], float, float, bool] | None:
    """(family, shapes, loc, scale, discrete) of a frozen scipy member of a named family, else None."""
    if not isinstance(d, (rv_continuous_frozen, rv_discrete_frozen)) or not _is_builtin_family(d) or not _parses(d):
        return None
    parsed = d.dist._parse_args(*d.args, **d.kwds)
    try:
        shapes = tuple(float(v) for v in parsed[0])
        loc = float(parsed[1])
        scale = float(parsed[2]) if len(parsed) > 2 else 1.0
    except (TypeError, ValueError):
        return None
    return d.dist, shapes, loc, scale, isinstance(d, rv_discrete_frozen)


def _member_logdens(dist: Any, shapes: tuple, loc: float, scale: float, discrete: bool) -> Callable[[np.ndarray], np.ndarray]:
    """The log-density the engine uses for a member (as :class:`Univariate`), in the member's own coordinates."""
    if discrete:
        if dist.name == "poisson":
            return lambda k: _poisson_logpmf(k, shapes[0])
        if dist.name in _STD_LOGPMF:
            fn_ = _STD_LOGPMF[dist.name]
            return lambda k: fn_(k, *shapes)
        return lambda k: scipy_logpmf(dist, k, shapes)
    return _override_logpdf(dist.name, shapes, loc, scale) or _direct_logpdf(dist, shapes, loc, scale)


def _stencil_logdens(dist: Any, members: list[tuple[tuple, float, float]],
                     discrete: bool) -> Callable[[np.ndarray], np.ndarray]:
    """The log-densities of several members of one family at the same points, as one ``(len(members), n)`` array.

    Members with a written log-density (:func:`_override_logpdf`) and discrete members are
    evaluated one by one (:func:`_member_logdens`); the others in one call
    (:func:`_members_logpdf`: an expansion evaluates 8 members at every node).
    """
    if discrete or _override_logpdf(dist.name, *members[0]) is not None:
        fns = [_member_logdens(dist, sh, loc, scale, discrete) for sh, loc, scale in members]
        return lambda x: np.array([np.asarray(fn(x), dtype=float) for fn in fns])
    return _members_logpdf(dist, members)


def _member_log_at_end(name: str, shapes: tuple, loc: float, scale: float, end: float | None,
                       upper: bool) -> Callable[[np.ndarray], np.ndarray] | None:
    r"""The log-density of a member at ``end -+ exp(-s)`` (``-`` for an upper end) from the distance to its own end.

    For the families whose log-density is written in the distance to an end
    (``_STD_LOGPDF_ENDS`` at both ends; ``_STD_REFLECT`` at the upper one):
    the member's end on that side, :math:`e_k = \mathrm{loc} + \mathrm{scale}\,e`, is
    compared with ``end`` in exact arithmetic, and the member's distance is
    :math:`|e_k - \text{end}| \pm e^{-s}` formed in logs, so that no float x is formed
    (floats cannot place x within 1e-16 of 1). ``end`` None: the member's own end
    (the distance is :math:`e^{-s}` itself). None for other families.
    """
    fn_e = _STD_LOGPDF_ENDS.get(name)
    fn_r = _STD_REFLECT.get(name) if upper else _STD_REFLECT_LO.get(name)
    std = _std_support(name, shapes) if (fn_e is not None or fn_r is not None) else None
    if std is None:
        return None
    sh, lo_s, hi_s = std
    e_s = hi_s if upper else lo_s
    if not math.isfinite(e_s):
        return None
    if end is None:
        gap = 0.0
    else:
        if not math.isfinite(end):
            return None
        ex = Fraction(loc) + Fraction(scale) * Fraction(e_s) - Fraction(end)
        gap = float(ex if upper else -ex)  # > 0: the member's end lies beyond p's
    log_scale = math.log(scale)
    w_s = hi_s - lo_s

    def at(sv: np.ndarray) -> np.ndarray:
        sv = np.asarray(sv, dtype=float)
        with np.errstate(all="ignore"):
            if gap == 0.0:
                lu = -sv
            elif gap > 0.0:
                lu = np.logaddexp(math.log(gap), -sv)
            else:
                uu = gap + np.exp(-sv)
                lu = np.where(uu > 0.0, np.log(uu), -np.inf)
            lu = lu - log_scale  # in the member's standard units
            inside = lu < math.log(w_s)
            lu_in = np.where(inside, lu, math.log(w_s) - 1.0)
            if fn_e is not None:
                uv = np.exp(lu_in)
                far = np.log(w_s - uv)
                if upper:
                    out = fn_e(hi_s - uv, w_s - uv, uv, far, lu_in, *sh)
                else:
                    out = fn_e(lo_s + uv, uv, w_s - uv, lu_in, far, *sh)
            else:
                out = fn_r(lu_in, *sh)
            return np.where(inside & ~np.isneginf(lu), out - log_scale, -np.inf)

    return at


def _expansion_log_ratio(p: Any, q: Any) -> Callable[..., tuple[np.ndarray, np.ndarray]] | None:
    r"""log p - log q for two members of one scipy family whose parameters differ by at most 1e-3 (relative).

    Returns ``ratio(x, lp, lq) -> (d, noise)``, or None for other pairs. p must be
    standardised (loc 0, scale 1) for a continuous pair; a discrete pair must
    share its loc. With :math:`\theta = (\text{shapes}, \text{loc}, \text{scale})`,
    :math:`u = \theta_q - \theta_p`, :math:`m = (\theta_p + \theta_q)/2` and
    :math:`G(\tau) = \log f(x;\, m + \tau u)`,

    .. math::

        d = G(-\tfrac12) - G(\tfrac12) = -\Big[G'(0) + \frac{G'''(0)}{24}\Big] + O(|u|^5),

    with :math:`G'` (8th order) and :math:`G'''` (4th order) from central
    differences at :math:`\tau = \pm h, \dots, \pm 4h`, :math:`h` such that the
    largest parameter moves by 0.5% of its size per step. The rounding of the
    log-densities enters :math:`d` divided by :math:`h` instead of undivided.
    Where the expansion and the plain difference ``lp - lq`` disagree by more
    than the latter's rounding noise (a kink of the log-density in its
    parameters or in x, a support end, a formula that changes branch within
    the stencil) the plain difference is kept.
    """
    a, b = _frozen_params(p), _frozen_params(q)
    if a is None or b is None or type(a[0]) is not type(b[0]) or a[4] != b[4]:
        return None
    dist, s1, l1, c1, discrete = a
    _, s2, l2, c2, _ = b
    if len(s1) != len(s2):
        return None
    if discrete:
        if l1 != l2:
            return None
        t1, t2 = np.array(s1, dtype=float), np.array(s2, dtype=float)
        ref = np.where(t1 != 0.0, np.abs(t1), 1.0)
    else:
        if l1 != 0.0 or c1 != 1.0:
            return None
        t1, t2 = np.array([*s1, 0.0, 1.0]), np.array([*s2, l2, c2])
        ref = np.concatenate([np.where(np.array(s1) != 0.0, np.abs(s1), 1.0), [1.0, 1.0]]) if s1 else np.ones(2)
    if t1.size == 0 or not (np.all(np.isfinite(t1)) and np.all(np.isfinite(t2))):
        return None
    u = t2 - t1
    rel = float(np.max(np.abs(u) / ref))
    if rel == 0.0 or rel > _EXP_REL:
        return None
    h = _EXP_STEP / rel
    mid = 0.5 * (t1 + t2)
    ns = len(s1)

    stencil_members: dict[float, list[tuple[tuple, float, float]]] = {}

    def stencil(hh: float) -> Callable[[np.ndarray], np.ndarray] | None:
        mem = []
        for k in (1, 2, 3, 4, -1, -2, -3, -4):
            th = mid + (k * hh) * u
            sh = tuple(float(v) for v in th[:ns])
            loc, scale = (float(th[ns]), float(th[ns + 1])) if not discrete else (l1, 1.0)
            if not (scale > 0.0 and bool(np.all(dist._argcheck(*sh)))):
                return None
            mem.append((sh, loc, scale))
        stencil_members[hh] = mem
        return _stencil_logdens(dist, mem, discrete)

    members = stencil(h)
    if members is None:
        return None
    # A second stencil 64 times narrower, for the points where the first one straddles a kink or
    # an end of the support (loglaplace's kink at x = scale: +-2% of it fell back to the plain
    # difference, 1e-10 of d); built on first use.
    narrow: dict[str, Any] = {}
    # the two members themselves, to measure the rounding noise of their log-densities where the
    # expansion and the plain difference disagree (continuous families only: x moves by a few ulp)
    ends = None if discrete else (_member_logdens(dist, tuple(float(v) for v in s1), 0.0, 1.0, False),
                                  _member_logdens(dist, tuple(float(v) for v in s2), l2, c2, False))

    def plain_noise(x: np.ndarray) -> np.ndarray:
        """The rounding noise of log p - log q at x, from second differences across x (1 +- k 2^-40).

        scipy's formulas may cancel inside (pearson3's (alpha - 1) log z - z - lgamma(alpha) with
        alpha = 400 loses 2e3 ulp), so eps (|log p| + |log q|) can understate it a thousandfold; the
        function's own curvature over 1e-12 x is far below that.
        """
        est = np.zeros(x.shape)
        scale = np.where(x != 0.0, np.abs(x), 1.0)
        steps = (1.0, 3.0, 7.0)
        etas = [k * 2.0**-40 * scale for k in steps]
        # every shifted point in one call per member (scipy's per-call overhead once, same values)
        pts = np.concatenate([np.ravel(x)] + [np.ravel(v) for eta in etas for v in (x + eta, x - eta)])
        n = x.size
        for fn in ends:
            vals = np.asarray(fn(pts), dtype=float)
            v0 = vals[:n].reshape(x.shape)
            for i in range(len(steps)):
                plus = vals[(1 + 2 * i) * n:(2 + 2 * i) * n].reshape(x.shape)
                minus = vals[(2 + 2 * i) * n:(3 + 2 * i) * n].reshape(x.shape)
                second = plus + minus - 2 * v0
                est = np.maximum(est, np.where(np.isfinite(second), np.abs(second), 0.0))
        return est

    halves: dict[float, Callable[[np.ndarray], np.ndarray] | None] = {}

    def half_stencil(hh: float, at: tuple[float, bool] | None) -> Callable[[np.ndarray], np.ndarray] | None:
        """The stencil of step hh / 2 (in x, or at an end as :func:`at_end`), built on first use."""
        if hh not in halves:
            halves[hh] = stencil(hh / 2.0)
        return halves[hh] if at is None else at_end(hh / 2.0, *at)

    def expand(x: np.ndarray, plain: np.ndarray, size: np.ndarray, hh: float,
               mem: Callable[[np.ndarray], np.ndarray],
               at: tuple[float, bool] | None = None) -> tuple[np.ndarray, ...]:
        """(d, ok, noise of d) from one stencil of step hh (see the docstring); ``at = (end, upper)``: x is s (see ratio)."""
        g = np.asarray(mem(x - l1 if discrete else x), dtype=float).reshape((8,) + np.shape(x))
        diff = g[:4] - g[4:]  # G(kh) - G(-kh), k = 1..4
        g1 = np.tensordot(_C1, diff, axes=1) / hh
        g3 = np.tensordot(_C3, diff, axes=1) / hh**3
        d_exp = -(g1 + g3 / 24.0)
        spread = np.max(np.abs(g), axis=0) + 1.0
        # the plain difference's rounding (a few ulp of the log-densities); a disagreement
        # beyond it is either a kink/end inside the stencil or noise in the formula (retried below)
        tol = 256 * _EPS * size + 1e-9 * np.abs(plain)
        # truncation: where the log-density is not analytic well beyond the stencil (cosine
        # at 2.9, whose end is a scale factor 0.923 away) the 8th-order G' is off (2.6e-8 of d,
        # accepted by a tolerance of 256 ulp before). Its error, from the 4th- and 6th-order
        # ones (errors shrinking geometrically): e8 ~ e6^2 / e4
        e6 = np.abs(g1 - np.tensordot(_C1_6, diff, axes=1) / hh)
        e4 = np.abs(g1 - np.tensordot(_C1_4, diff, axes=1) / hh)
        trunc = np.where(e4 > 0.0, e6 * np.minimum(e6 / np.where(e4 > 0.0, e4, 1.0), 1.0), e6)
        fin = np.isfinite(d_exp) & np.isfinite(plain) & np.all(np.isfinite(g), axis=0)
        trunc_tol = 64 * _EPS * (spread / hh) + 1e-14 * np.abs(d_exp)
        eff = np.full(np.shape(x), hh)  # the step whose rounding the accepted value carries
        # The ratio e6^2/e4 assumes errors that shrink evenly with the order; a log-density with
        # complex singularities near the stencil breaks that (foldcauchy near its mode, poles at
        # c = x -+ i: e8 was 5e-12 of d, estimated 1e-13, and the KL 2e-12 off). Where the 6th-order
        # G' is off by more than the tolerance, the same stencil at half the step checks it, and
        # Richardson's extrapolation of the two (h^8 -> h^10) is taken.
        sus = fin & (e6 > trunc_tol) & (np.abs(d_exp - plain) <= tol)
        if sus.any() and hh > 2.0:
            mh = half_stencil(hh, at)
            if mh is not None:
                xs = x[sus]
                gh = np.asarray(mh(xs - l1 if discrete else xs), dtype=float).reshape((8,) + xs.shape)
                dh = gh[:4] - gh[4:]
                g1h = np.tensordot(_C1, dh, axes=1) / (hh / 2.0)
                g3h = np.tensordot(_C3, dh, axes=1) / (hh / 2.0) ** 3
                gap = g1h - g1[sus]
                d_r = -(g1h + gap / 255.0 + g3h / 24.0)
                spread_h = np.maximum(np.max(np.abs(gh), axis=0) + 1.0, spread[sus])
                # the rounding of the log-densities (scipy's formula may cancel inside: pearson3),
                # which the gap must exceed for a truncation to be seen at all
                nz_g = 4 * _EPS * spread_h
                if ends is not None and at is None:
                    nz_g = np.maximum(nz_g, plain_noise(xs))
                seen = np.abs(gap) > 16.0 * nz_g / hh
                good = (np.isfinite(d_r) & np.all(np.isfinite(gh), axis=0)
                        & (np.abs(gap) <= 1e-6 * np.abs(g1h) + 128 * _EPS * spread_h / hh)
                        & (np.abs(d_r - plain[sus]) <= tol[sus]))
                idx = np.flatnonzero(sus)[good & seen]
                d_exp[idx] = d_r[good & seen]
                spread[idx] = spread_h[good & seen]
                eff[idx] = hh / 2.0
                # (where the two steps agree within their rounding, the truncation is below it)
                trunc[np.flatnonzero(sus)[good]] = 0.0
        ok = fin & (trunc <= trunc_tol) & (np.abs(d_exp - plain) <= tol)
        noise = np.where(ok, 8 * _EPS * (spread / eff + np.abs(d_exp)), 4 * _EPS * size)
        # (a kink or an end inside the stencil is off by O(d), far beyond any formula's noise)
        retry = fin & ~ok & (np.abs(d_exp - plain) <= np.maximum(1e4 * tol, 1e-3 * np.abs(plain)))
        if ends is not None and retry.any() and at is None:
            # a disagreement may be the plain difference's own noise (a formula that cancels
            # inside): accept the expansion within 8x that noise, whose rounding it divides by h
            nz = plain_noise(x[retry])
            good = ((np.abs(d_exp[retry] - plain[retry]) <= tol[retry] + 8.0 * nz)
                    & (trunc[retry] <= trunc_tol[retry] + 8.0 * nz / hh))
            idx = np.flatnonzero(retry)[good]
            ok[idx] = True
            noise[idx] = 8 * _EPS * (spread[idx] / hh + np.abs(d_exp[idx])) + 4.0 * nz[good] / hh
            bad = np.flatnonzero(retry)[~good]
            noise[bad] = np.maximum(noise[bad], nz[~good])
        return np.where(ok, d_exp, plain), ok, noise

    at_cache: dict[tuple[float, float, bool], Callable[[np.ndarray], np.ndarray] | None] = {}

    def at_end(hh: float, end: float, upper: bool) -> Callable[[np.ndarray], np.ndarray] | None:
        """The stencil of step hh at ``end -+ e^{-s}``, each member from the distance to its own end."""
        key = (hh, end, upper)
        if key not in at_cache:
            fns = [_member_log_at_end(dist.name, sh, loc, scale, end, upper)
                   for sh, loc, scale in stencil_members.get(hh, [])]
            at_cache[key] = (None if discrete or not fns or any(fn is None for fn in fns)
                             else (lambda sv: np.array([np.asarray(fn(sv), dtype=float) for fn in fns])))
        return at_cache[key]

    def ratio(x: np.ndarray, lp: np.ndarray, lq: np.ndarray,
              at: tuple[float, np.ndarray, bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``at = (end, s, upper)``: the points are ``end -+ e^{-s}`` (x only rounded), lp and lq from the distance."""
        with np.errstate(all="ignore"):
            plain = lp - lq
            size = np.abs(lp) + np.abs(lq) + 1.0
            if at is None:
                pts, end_at, mem = np.asarray(x, dtype=float), None, members
            else:
                pts, end_at = np.asarray(at[1], dtype=float), (at[0], at[2])
                mem = at_end(h, *end_at)
                if mem is None:
                    return plain, 4 * _EPS * size
            d, ok, noise = expand(pts, plain, size, h, mem, end_at)
            rest = ~ok & np.isfinite(plain)
            if rest.any() and h > 64.0:
                if "mem" not in narrow:
                    narrow["mem"] = stencil(h / 64.0)
                mem_n = narrow["mem"] if end_at is None or narrow["mem"] is None else at_end(h / 64.0, *end_at)
                if mem_n is not None:
                    d2, ok2, n2 = expand(pts[rest], plain[rest], size[rest], h / 64.0, mem_n, end_at)
                    idx = np.flatnonzero(rest)[ok2]
                    d[idx] = d2[ok2]
                    noise[idx] = n2[ok2]
        return d, np.where(np.isfinite(noise), noise, 0.0)

    return ratio


_BETA_REL = 0.5  # the beta form serves shapes that differ by at most this (relative)


def _beta_log_ratio(p: Any, q: Any) -> Callable[..., tuple[np.ndarray, np.ndarray]] | None:
    r"""``ratio(x, lp, lq, at)`` (see :func:`pair_log_ratio`) for two betas on one support, free of cancellation.

    p = beta(a1, b1) standard, q = beta(a2, b2) with loc 0 and scale 1: the family is exponential in
    :math:`(\log x, \log(1 - x))`, so :math:`d = (a_1 - a_2)\log x + (b_1 - b_2)\log(1 - x) + C`,
    :math:`C = \log B(a_2, b_2) - \log B(a_1, b_1)` from log-gamma differences (:func:`_lgamma_diff`, the
    sums :math:`a + b` carried with their rounding). Next to an end (``at``, integrate_pair) the
    log-distance itself is :math:`\log x` or :math:`\log(1 - x)`. Shapes more than ``_BETA_REL`` apart
    (relative) keep the plain difference. A beta with b ~ 0.03 holds nearly all its mass within 1e-15 of
    1, in the tail: without a log-ratio kl_numeric integrates p d there and adds a cdf correction of ~1,
    and beta(2, 0.03125) || beta(2, 0.0309372) was 2.4e-11 off (2.3e-13 with p phi(d) and lp - lq there,
    4e-15 with this d).
    """
    if not all(type(getattr(d, "dist", None)) is type(_stats.beta) for d in (p, q)):
        return None
    try:
        (a1, b1), l1, s1 = p.dist._parse_args(*p.args, **p.kwds)
        (a2, b2), l2, s2 = q.dist._parse_args(*q.args, **q.kwds)
        a1, b1, a2, b2, l1, s1, l2, s2 = (float(v) for v in (a1, b1, a2, b2, l1, s1, l2, s2))
    except (TypeError, ValueError):
        return None
    if (l1, s1, l2, s2) != (0.0, 1.0, 0.0, 1.0) or not all(v > 0.0 and math.isfinite(v) for v in (a1, b1, a2, b2)):
        return None
    if abs(a1 - a2) > _BETA_REL * a2 or abs(b1 - b2) > _BETA_REL * b2:
        return None
    da, db = a1 - a2, b1 - b2

    def lg_diff(x: float, delta: float) -> float:  # log Gamma(x + delta) - log Gamma(x)
        return float(_lgamma_diff(np.array([x]), delta)[0])

    # log Gamma(a2 + b2) - log Gamma(a1 + b1) with both sums exact (s + e: Knuth's two-sum)
    sums = []
    for u, v in ((a1, b1), (a2, b2)):
        t = u + v
        w = t - u
        sums.append((t, (u - (t - w)) + (v - w)))
    (t1, e1), (t2, e2) = sums
    dsum = lg_diff(t1, t2 - t1) + float(special.digamma(t2)) * e2 - float(special.digamma(t1)) * e1
    const = lg_diff(a1, -da) + lg_diff(b1, -db) - dsum

    def ratio(x: np.ndarray, lp: np.ndarray, lq: np.ndarray, at: Any = None) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            plain = np.asarray(lp, dtype=float) - np.asarray(lq, dtype=float)
            if at is None:
                x = np.asarray(x, dtype=float)
                lx, l1x = np.log(x), np.log1p(-x)
            elif at[0] == (1.0 if at[2] else 0.0):  # the log-distance to p's (and q's) end itself
                lu = -np.asarray(at[1], dtype=float)
                far = np.log1p(-np.exp(lu))
                lx, l1x = (far, lu) if at[2] else (lu, far)
            else:
                return plain, 4 * _EPS * (np.abs(lp) + np.abs(lq) + 1.0)
            ta, tb = da * lx, db * l1x
            d = ta + tb + const
            ok = np.isfinite(d)
            noise = np.where(ok, 4 * _EPS * (np.abs(ta) + np.abs(tb) + abs(const) + np.abs(d)),
                             4 * _EPS * (np.abs(lp) + np.abs(lq) + 1.0))
            return np.where(ok, d, plain), np.where(np.isfinite(noise), noise, 0.0)

    return ratio


def pair_log_ratio(p: Any, q: Any) -> Callable[..., tuple[np.ndarray, np.ndarray]] | None:
    r""":math:`d(x) = \log p(x) - \log q(x)` free of cancellation, for two nearly equal members of one family.

    For a pair already in p's standardised coordinates (:func:`standardise_pair`):
    two betas on one support (shapes within 50%: :math:`d` linear in :math:`\log x`
    and :math:`\log(1 - x)`, also from the log-distance next to an end), the written forms (t, logistic, genlogistic, hypsecant, burr, burr12, fisk,
    gennorm, halfcauchy, halflogistic, gompertz: :math:`d` from :math:`x - w`,
    :math:`w = (x - \mathrm{loc})/\mathrm{scale}`, and the differences of the
    shapes), else an expansion of scipy's own log-density in the parameters
    (any scipy family, continuous or discrete, with parameters within
    :math:`10^{-3}` of each other, relative):

    .. math::

        & d = G(-\tfrac12) - G(\tfrac12) \\
        & \quad = -\Big[G'(0) + \frac{G'''(0)}{24}\Big] + O(|u|^5), \\
        & G(\tau) = \log f(x;\, m + \tau u),

    :math:`m` the midpoint and :math:`u` the difference of the parameter
    vectors (shapes, loc, scale), :math:`G'` and :math:`G'''` by central
    differences of step 0.5% of the parameters: the rounding of the
    log-densities enters divided by that step. Where the expansion and the
    plain difference disagree by more than the latter's rounding (a kink, a
    support end or a change of formula inside the stencil), the plain
    difference is kept. Returns ``ratio(x, lp, lq) -> (d, noise)``
    (``lp``, ``lq`` the engine's log-densities at x: where d cannot be formed,
    the plain difference; ``noise`` the absolute rounding error of d), or None.
    Nearly equal members are where :math:`\ell = \log p - \log q` is tiny and
    the plain difference of two log-densities loses all but
    :math:`|\ell| / (\epsilon|\log p|)` of its digits.
    """
    form = None
    if isinstance(p, rv_continuous_frozen) and isinstance(q, rv_continuous_frozen):
        beta = _beta_log_ratio(p, q)
        if beta is not None:
            return beta
        form = _t_log_ratio(p, q) or _family_log_ratio(p, q)
    if form is None:
        return _expansion_log_ratio(p, q)

    def ratio(x: np.ndarray, lp: np.ndarray, lq: np.ndarray, at: Any = None) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            plain = np.asarray(lp, dtype=float) - np.asarray(lq, dtype=float)
            if at is not None:  # (a written form takes x: at a finite end it is only rounded)
                return plain, 4 * _EPS * (np.abs(lp) + np.abs(lq) + 1.0)
            dd = np.asarray(form(x), dtype=float)
            ok = np.isfinite(dd)
            d = np.where(ok, dd, plain)  # outside a form's range: the plain difference
            noise = np.where(ok, 8 * _EPS * np.abs(dd), 4 * _EPS * (np.abs(lp) + np.abs(lq) + 1.0))
        return d, np.where(np.isfinite(noise), noise, 0.0)

    return ratio


# --------------------------------------------------------------------------------------
# The pair in p's standardised coordinates.
def _loc_scale(d: Any) -> tuple[tuple, float, float] | None:
    """(shapes, loc, scale) of a frozen continuous scipy distribution of a named family, else None."""
    if not isinstance(d, rv_continuous_frozen) or not _is_builtin_family(d) or not _parses(d):
        return None
    parsed = d.dist._parse_args(*d.args, **d.kwds)
    return tuple(parsed[0]), float(parsed[1]), float(parsed[2])


def standardise_pair(p: Any, q: Any) -> tuple[Any, Any]:
    r"""The pair in p's standardised coordinates :math:`z = (x - \mathrm{loc}_p)/\mathrm{scale}_p`.

    Every divergence of two densities, :math:`\int q\,f(p/q)\,dx`, is unchanged
    when both are pushed through the same affine bijection. For two frozen
    continuous ``scipy.stats`` distributions of named families this returns
    p's standard member and q re-frozen with
    :math:`\mathrm{loc}' = (\mathrm{loc}_q - \mathrm{loc}_p)/\mathrm{scale}_p`,
    :math:`\mathrm{scale}' = \mathrm{scale}_q/\mathrm{scale}_p`, so the
    quadrature works near the origin at unit scale whatever p's location
    (integrating in absolute x at loc/scale = 1e13 loses 13 digits of the
    abscissae). Any other pair is returned unchanged.
    """
    a, b = _loc_scale(p), _loc_scale(q)
    if a is None or b is None:
        return p, q
    (sp, lp, cp), (sq, lq, cq) = a, b
    if lp == 0.0 and cp == 1.0:
        return p, q
    loc, scale = (lq - lp) / cp, cq / cp
    if not (math.isfinite(loc) and math.isfinite(scale) and scale > 0.0):
        return p, q
    return p.dist(*sp), q.dist(*sq, loc=loc, scale=scale)


def _anchor_q_start(p: Any, q: Any) -> tuple[Any, Any]:
    """Shift a standardised pair so that q's finite lower end, inside p's support, is exactly 0.

    q may be singular there (beta(0.54, 5) against a Cauchy p): at 0 the quadrature
    resolves the end down to 1e-300, at 0.25 (where p's standardisation put it)
    only to 5e-17, which cost 4e-9 of JS. Other pairs are returned unchanged.
    """
    a, b = _loc_scale(p), _loc_scale(q)
    if a is None or b is None:
        return p, q
    with np.errstate(all="ignore"):
        plo, phi = (float(v) for v in p.support())
        qlo = float(q.support()[0])
    if not (math.isfinite(qlo) and plo < qlo < phi) or qlo == 0.0:
        return p, q
    (sp, lp, cp), (sq, lq, cq) = a, b
    return p.dist(*sp, loc=lp - qlo, scale=cp), q.dist(*sq, loc=lq - qlo, scale=cq)


# --------------------------------------------------------------------------------------
# Kernels of (log p, log q) over a pair: the one place a pair is summed or integrated.
Kernel = Callable[[np.ndarray, np.ndarray], np.ndarray]


def mass_outside(a: Any, b: Any) -> float:
    """Mass of distribution ``a`` outside the support of ``b`` (an interval, or its integer range)."""
    lo, hi = (float(v) for v in b.support())
    out = 0.0
    with np.errstate(all="ignore"):
        if math.isfinite(lo):
            # below lo: P(X < lo) (for a lattice, cdf just below lo: cdf(lo) - pmf(lo) leaves a
            # rounding residue that made every Renyi divergence of order >= 1 infinite)
            out += float(a.cdf(np.nextafter(lo, -math.inf) if hasattr(a, "pmf") else lo))
        if math.isfinite(hi):
            out += float(a.sf(hi))
    return min(max(out, 0.0), 1.0)


def _check_logs(lp: np.ndarray, lq: np.ndarray, P: Univariate, Q: Univariate, x: np.ndarray, guard: bool) -> None:
    """NaN log-densities and ambiguous underflows of q's log(pdf) where p has mass: ValueError."""
    if np.isnan(lp).any() or np.isnan(lq).any():
        raise ValueError(
            f"a log-density came out NaN (p = {P.family}, q = {Q.family}); check the distributions' parameters"
        )
    if guard and not Q.exact_logdens:
        under = np.isneginf(lq) & (lp > -600.0) & (x >= Q.lo) & (x <= Q.hi)
        if under.any():
            raise ValueError(
                f"the log-density of q ({Q.family}) underflows to -inf inside its support where p "
                f"({P.family}) still has mass (scipy computes it as log(pdf)); this divergence cannot be "
                "evaluated in double precision"
            )


def _discrete_body(d: Any) -> tuple[float, float]:
    """An integer range holding all but ~1e-12 of a discrete distribution's mass (its support if finite)."""
    lo, hi = (float(v) for v in d.support())
    if (isinstance(d, rv_discrete_frozen) and type(d.dist)._ppf is rv_discrete._ppf
            and (math.isfinite(lo) or math.isfinite(hi))):
        # scipy's generic ppf/isf search with the generic cdf, which sums the pmf over an
        # arange (zipf(1.2): gigabytes): start from the finite end instead; the caller
        # continues outwards and sums slowly decaying tails by Euler-Maclaurin.
        if math.isfinite(lo):
            return lo, min(hi, lo + 4095.0)
        return max(lo, hi - 4095.0), hi
    with np.errstate(all="ignore"):
        try:
            if not math.isfinite(lo):
                lo = float(d.ppf(1e-12))
            if not math.isfinite(hi):
                hi = float(d.isf(1e-12))
        except (RuntimeError, OverflowError, ValueError):
            lo, hi = (lo if math.isfinite(lo) else math.nan), (hi if math.isfinite(hi) else math.nan)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            m, sd = float(d.mean()), float(d.std())
            if not (math.isfinite(m) and math.isfinite(sd)):
                m, sd = float(d.median()), float(d.ppf(0.75) - d.ppf(0.25))
            if not (math.isfinite(m) and math.isfinite(sd)):
                raise ValueError(f"cannot place the summation range of {d.dist.name}{d.args}")
            lo = lo if math.isfinite(lo) else math.floor(m - 40 * sd)
            hi = hi if math.isfinite(hi) else math.ceil(m + 40 * sd)
    return lo, hi


def discrete_values(p: Any, q: Any, P: Univariate | None = None,
                    Q: Univariate | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """log-pmfs of two discrete distributions on the integers of (the bodies of) their supports.

    Returns ``(k, [log p(k), log q(k)], exact)``; ``exact`` is True when both
    supports are finite and the range is their whole union. The log-pmfs are
    scipy's ``logpmf``, or with ``P`` and ``Q`` (the two as :class:`Univariate`)
    theirs: written out where scipy's is ``log(pmf)`` (skellam's goes through
    the noncentral chi-squared and is 30 times slower).
    """
    sp, sq = p.support(), q.support()
    exact = all(math.isfinite(float(v)) for v in (*sp, *sq))
    (lo_p, hi_p), (lo_q, hi_q) = _discrete_body(p), _discrete_body(q)
    lo, hi = min(lo_p, lo_q), max(hi_p, hi_q)
    n = int(hi - lo + 1)
    if n > 20_000_000:
        if exact:
            raise ValueError(f"the union of the supports has {n} points; too many to enumerate")
        return np.zeros(0), np.zeros((2, 0)), False  # too wide: the caller sums it otherwise
    k = np.arange(lo, hi + 1)
    with np.errstate(all="ignore"):
        if P is None or Q is None:
            lpq = np.stack([np.asarray(p.logpmf(k), float), np.asarray(q.logpmf(k), float)])
        else:
            lpq = np.stack([np.asarray(P.logdens(k - P.loc), float), np.asarray(Q.logdens(k - Q.loc), float)])
    return k, lpq, exact


def sum_kernel(p: Any, q: Any, kernel: Kernel, *, guard: bool = False) -> float:
    r"""Sum ``kernel(log p_k, log q_k)`` (non-negative terms) over the integers.

    Finite supports: every point of their union (when it has at most
    :math:`2\times10^7` points). Otherwise the bodies (quantiles :math:`10^{-12}`
    and :math:`1-10^{-12}`, or 4096 points from a finite end for families without
    their own ppf) first, then chunks that double in length outwards on each
    infinite side until a chunk adds less than :math:`10^{-17}` of the total. A
    side still unconverged after 8192 terms (slowly decaying, zipf-type terms)
    is summed by Euler-Maclaurin (:func:`em_sum`) on the continuous extension of
    the log-pmfs, which also detects divergence (``inf``); a body wider than
    65536 points is summed the same way. Without a continuous extension, a side
    still growing after :math:`2\times10^7` terms makes the sum ``inf``, one that
    converges too slowly raises ``ValueError``. With ``guard`` (kernels unbounded
    as :math:`q\to 0`), a q whose ``logpmf`` underflows to ``-inf`` where p has
    mass raises ``ValueError`` instead of counting as a zero.
    """
    P, Q = Univariate(p, "p"), Univariate(q, "q")
    smooth = P.smooth is not None and Q.smooth is not None
    ratio = pair_log_ratio(p, q)  # nearly equal members of one family (see integrate_kernel)

    def terms(kk: np.ndarray, lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
        _check_logs(lp, lq, P, Q, kk - Q.loc, guard)
        out = kernel(lp, lq)
        if ratio is not None:
            with np.errstate(all="ignore"):
                d, _dn = ratio(np.asarray(kk, dtype=float), lp, lq)
                use = np.isfinite(lp) & np.isfinite(lq) & (np.abs(d) <= 1.0)
                if use.any():
                    out = np.array(out, dtype=float)
                    out[use] = np.exp(lp[use]) * np.asarray(kernel(np.zeros(int(use.sum())), -d[use]), dtype=float)
        return out

    def smooth_terms(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):
            return np.asarray(kernel(P.smooth(x - P.loc), Q.smooth(x - Q.loc)), dtype=float)

    sp, sq = p.support(), q.support()
    lo_all = min(float(sp[0]), float(sq[0]))
    hi_all = max(float(sp[1]), float(sq[1]))
    if smooth:
        (lo_p, hi_p), (lo_q, hi_q) = _discrete_body(p), _discrete_body(q)
        if max(hi_p, hi_q) - min(lo_p, lo_q) + 1 > _EM_BULK:
            wide = _em_wide_pair(P, Q, smooth_terms, lo_all, hi_all)
            if wide is not None:
                return wide
    k, lpq, exact = discrete_values(p, q, P, Q)
    if k.size == 0:
        raise ValueError("the bodies of p and q span more than 2e7 points, too many to enumerate, and their "
                         "log-pmfs have no continuous extension for an Euler-Maclaurin sum")
    total = float(np.sum(terms(k, lpq[0], lpq[1])))
    if exact or not math.isfinite(total):
        return total
    used = k.size
    for side in (+1, -1):
        end = hi_all if side > 0 else lo_all
        edge = float(k[-1]) if side > 0 else float(k[0])
        width = max(64.0, float(k.size))
        prev = math.inf
        side_used = 0
        tried_em = not (smooth or P.smooth is not None or Q.smooth is not None)
        while edge != end:
            if side_used >= _EM_AFTER and not tried_em:
                tried_em = True
                f_em = smooth_terms if smooth else _dominated_terms(P, Q, kernel, edge, end, side)
                rest = None
                if f_em is not None:
                    rest = em_sum(f_em, edge + 1, end, np.zeros(0), "sum_kernel", total) if side > 0 else \
                        em_sum(f_em, end, edge - 1, np.zeros(0), "sum_kernel", total)
                if rest is not None:
                    total += rest
                    break
            if side > 0:
                kk = np.arange(edge + 1, min(end, edge + width) + 1)
            else:
                kk = np.arange(max(end, edge - width), edge)
            if kk.size == 0:
                break
            with np.errstate(all="ignore"):
                # the engine's log-pmfs (written out where scipy's is log(pmf), and faster)
                t = terms(kk, np.asarray(P.logdens(kk - P.loc), float), np.asarray(Q.logdens(kk - Q.loc), float))
            s_ = float(np.sum(t))
            total += s_
            used += kk.size
            side_used += kk.size
            if not math.isfinite(total):
                return math.inf
            edge = float(kk[-1]) if side > 0 else float(kk[0])
            if s_ <= 1e-17 * total:
                break
            if used > 20_000_000:
                if s_ >= 0.5 * prev:
                    return math.inf
                raise ValueError("the series converges too slowly to sum in double precision (over 2e7 terms)")
            prev = s_
            width *= 2.0
    return total


def _dominated_terms(P: Univariate, Q: Univariate, kernel: Kernel, edge: float, end: float,
                     side: int) -> Callable[[np.ndarray], np.ndarray] | None:
    """The terms of one tail as a smooth function when one pmf is negligible there, else None.

    For a side beyond ``edge`` (absolute coordinates) on which one of the two
    pmfs has a continuous extension and the other is below :math:`e^{-60}`
    times it, falling further at 48 points spaced geometrically out to
    :math:`10^{30}` (or the support's end), the terms are the kernel with the
    negligible log-pmf at ``-inf`` (relative error below :math:`10^{-26}`):
    skellam (no extension) against yulesimon's power-law tail is then summed
    by Euler-Maclaurin instead of term by term.
    """
    span = (abs(end - edge) if math.isfinite(end) else 1e30)
    if span < 2:
        return None
    ks = np.unique(np.round(edge + side * np.geomspace(1.0, span, 48)))
    for S, O, s_is_p in ((P, Q, True), (Q, P, False)):
        if S.smooth is None:
            continue
        with np.errstate(all="ignore"):
            ls = np.asarray(S.smooth(ks - S.loc), dtype=float)
            lo = np.asarray(O.logdens(ks - O.loc), dtype=float)
        if np.isnan(ls).any() or np.isnan(lo).any() or not np.isfinite(ls).all():
            continue
        diff = np.where(np.isneginf(lo), -np.inf, lo - ls)
        fin = diff[np.isfinite(diff)]
        if np.all(diff < -60.0) and np.all(np.diff(fin) <= 1e-9 * np.abs(fin[1:])):
            smooth_s = S.smooth
            loc_s = S.loc

            def terms(x: np.ndarray) -> np.ndarray:
                x = np.asarray(x, dtype=float)
                with np.errstate(all="ignore"):
                    l1 = smooth_s(x - loc_s)
                    l0 = np.full(l1.shape, -np.inf)
                    return np.asarray(kernel(l1, l0) if s_is_p else kernel(l0, l1), dtype=float)

            return terms
    return None


_EM_BULK = 65_536  # a wider discrete bulk is summed by Euler-Maclaurin (when the log-pmfs extend to the reals)
_EM_AFTER = 8_192  # a discrete tail unconverged after this many terms: Euler-Maclaurin for the rest
_EM_HEAD = 2_048  # terms summed one by one next to a finite end before Euler-Maclaurin takes over


def _em_wide_pair(P: Univariate, Q: Univariate, terms: Callable[[np.ndarray], np.ndarray],
                  lo: float, hi: float) -> float | None:
    """sum_kernel over a range too wide to enumerate (absolute coordinates), by Euler-Maclaurin."""
    head = tail = 0.0
    a, b = lo, hi
    with np.errstate(all="ignore"):
        if math.isfinite(lo):
            head = math.fsum(np.asarray(terms(np.arange(lo, lo + _EM_HEAD, dtype=float)), dtype=float).tolist())
            a = lo + _EM_HEAD
        if math.isfinite(hi):
            tail = math.fsum(np.asarray(terms(np.arange(hi - _EM_HEAD + 1, hi + 1, dtype=float)), dtype=float).tolist())
            b = hi - _EM_HEAD
        if b < a:
            return None
        pts = []
        for D in (P, Q):
            if D.exact_ppf:
                pts.append(quantiles(D, _BODY_U) + D.loc)
        pts = np.concatenate(pts) if pts else np.zeros(0)
    pts = np.unique(np.round(pts[np.isfinite(pts)]))
    if not (math.isfinite(head) and math.isfinite(tail)):
        return math.inf
    body = em_sum(terms, a, b, pts, "sum_kernel", head + tail)
    if body is None:
        return None
    return head + body + tail




def _log_noise_shift(lp: np.ndarray, lq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The two log-densities moved apart by their rounding error, to measure a kernel's noise.

    A log-density computed in floating point carries an absolute error of a
    few ulp of its terms, about :math:`\epsilon(|\log p| + 1)`; the log-ratio
    :math:`\log p - \log q` carries their sum. Returns
    :math:`(\log p + \delta, \log q - \delta)` with
    :math:`\delta = \epsilon(|\log p| + |\log q| + 1)` (0 where either is
    infinite), so that ``|kernel(*shifted) - kernel(lp, lq)|`` is the rounding
    noise of the kernel's value: the quadrature accepts a piece whose error
    estimate is at that level instead of bisecting rounding noise.
    """
    lp = np.asarray(lp, dtype=float)
    lq = np.asarray(lq, dtype=float)
    with np.errstate(all="ignore"):
        d = _EPS * (np.abs(lp) + np.abs(lq) + 1.0)
    d = np.where(np.isfinite(d), d, 0.0)
    return lp + d, lq - d


def integrate_kernel(
    p: Any,
    q: Any,
    kernel: Kernel,
    log_kernel: Kernel,
    outside_factor: float,
    what: str,
    *,
    guard: bool = False,
) -> float:
    r"""Integrate a kernel of :math:`(\log p(x), \log q(x))` over two continuous distributions.

    The pair is first moved to p's standardised coordinates
    (:func:`standardise_pair`). p's body is split at its quantiles and at both
    distributions' modes (:func:`breakpoints`) and integrated by adaptive
    Gauss-Kronrod to :math:`10^{-13}`; each tail is mapped to a logarithmic
    ladder and integrated in the log domain (``log_kernel`` returns the
    logarithms of the terms), with a divergence test (``inf`` when the tail
    integrand does not decay). Where q has mass outside p's support the kernel
    is ``outside_factor * q`` (:math:`\tfrac12\log 2` for JS, :math:`1/\alpha`
    for the alpha family, ``inf`` for KL), added from q's cdf. NaN log-densities
    and (with ``guard``) ambiguous underflows of q's ``log(pdf)`` raise
    ``ValueError``; far out in the tails a NaN log-density counts as a zero
    density.
    """
    ps, qs = standardise_pair(p, q)
    # nearly equal members of one family: log p - log q without cancellation (pair_log_ratio);
    # every kernel is 1-homogeneous (as the change of coordinates above already assumes), so
    # kernel(log p, log q) = p kernel(0, -(log p - log q)) takes the accurate difference
    ratio = pair_log_ratio(ps, qs)
    p, q = _anchor_q_start(ps, qs)
    shift = 0.0
    if ratio is not None and p is not ps:
        shift = -float(_loc_scale(p)[1])  # anchored x = standardised x - shift
    P, Q = Univariate(p, "p"), Univariate(q, "q")

    def logs(x: np.ndarray, tail: bool) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            lp = np.array(P.logdens(x), dtype=float, ndmin=1)
            lq = np.array(Q.logdens(x), dtype=float, ndmin=1)
        if tail:
            lp[np.isnan(lp)] = -np.inf
            lq[np.isnan(lq)] = -np.inf
        _check_logs(lp, lq, P, Q, np.asarray(x, dtype=float), guard)
        return lp, lq

    def accurate(x: np.ndarray, lp: np.ndarray, lq: np.ndarray,
                 at: tuple[float, np.ndarray, bool] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(where, d, noise of d) at the points where the accurate log-ratio replaces lp - lq.

        ``at = (end, s, upper)``: the points are p's end -+ e^{-s} (see integrate_pair)."""
        if ratio is None:
            return None
        if at is not None:
            at = (at[0] + shift, at[1], at[2])
        d, dn = ratio(np.asarray(x, dtype=float) + shift, lp, lq, at)
        # only where d is small (there it cancels; kernel(0, -d) could overflow for a large |d|)
        use = np.isfinite(lp) & np.isfinite(lq) & (np.abs(d) <= 1.0)
        return (use, d[use], dn[use]) if use.any() else None

    def f(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lp, lq = logs(x, False)
        with np.errstate(all="ignore"):
            k = np.asarray(kernel(lp, lq), dtype=float)
            lpn, lqn = _log_noise_shift(lp, lq)
            noise = np.abs(np.asarray(kernel(lpn, lqn), dtype=float) - k) + 2 * _EPS * np.abs(k)
            acc = accurate(x, lp, lq)
            if acc is not None:
                use, d, dn = acc
                z = np.zeros(d.shape)
                pu = np.exp(lp[use])
                kd = np.asarray(kernel(z, -d), dtype=float)
                k[use] = pu * kd
                noise[use] = pu * np.abs(np.asarray(kernel(z, -d - dn), dtype=float) - kd) + 2 * _EPS * np.abs(k[use])
        return k, np.where(np.isfinite(noise), noise, 0.0)

    def f_tail(x: np.ndarray, given: tuple[np.ndarray, np.ndarray, tuple] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if given is None:
            lp, lq = logs(x, True)
        else:  # log-densities from the distance to p's end (integrate_pair): x is only rounded there
            lp, lq = (np.array(v, dtype=float, ndmin=1) for v in given[:2])
            lp[np.isnan(lp)] = -np.inf
            lq[np.isnan(lq)] = -np.inf
            _check_logs(lp, lq, P, Q, np.asarray(x, dtype=float), guard)
        with np.errstate(all="ignore"):
            lt = np.asarray(log_kernel(lp, lq), dtype=float)
            lpn, lqn = _log_noise_shift(lp, lq)
            dl = np.asarray(log_kernel(lpn, lqn), dtype=float) - lt
            # (from the distance to p's end: the log-ratio there too, if the pair has one)
            acc = accurate(x, lp, lq, None if given is None else given[2])
            if acc is not None:
                use, d, dn = acc
                z = np.zeros(d.shape)
                # the kernel itself, not log_kernel: with |d| <= 1 it neither under- nor overflows,
                # and a log_kernel may re-form log p - log q from its shifted arguments (JS's
                # log(p + q) shift cost 1e-16 absolute in d: 1e-10 of d = 1e-6)
                kd = np.asarray(kernel(z, -d), dtype=float)
                ld = np.log(kd)
                lt[use] = lp[use] + ld
                dl[use] = np.log(np.asarray(kernel(z, -d - dn), dtype=float)) - ld
            lnoise = np.logaddexp(lt + np.log(np.abs(np.expm1(dl))), lt + math.log(2 * _EPS))
            lnoise = np.minimum(lnoise, lt)  # at most the value itself (the kernel is >= 0)
        return lt, np.where(lt == -np.inf, 0.0, 1.0), np.where(np.isnan(lnoise), -np.inf, lnoise)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        total, _xl, _xr = integrate_pair(P, Q, f, f_tail, what, ends_in_distance=ratio is not None)
    if math.isinf(total):
        return math.inf
    outside = 0.0
    with np.errstate(all="ignore"):
        if P.lo > -math.inf:
            outside += Q.mass_to_end(P.lo, upper=False) if ratio is not None else float(np.asarray(Q.cdf(P.lo)))
        if P.hi < math.inf:
            outside += Q.mass_to_end(P.hi, upper=True) if ratio is not None else float(np.asarray(Q.sf(P.hi)))
    if outside > 0.0:
        if not math.isfinite(outside_factor):
            return math.inf
        total += outside_factor * outside
    return total


def f_divergence(p: Any, q: Any, f: Callable[[np.ndarray], np.ndarray], *, f0: float | None = None,
                 f_star0: float | None = None) -> float:
    r"""The f-divergence :math:`D_f(p\,\|\,q) = \sum_x q(x)\, f\big(p(x)/q(x)\big)` (an integral for densities).

    For a convex :math:`f` with :math:`f(1) = 0`: KL is :math:`f(t) = t\log t`,
    reverse KL :math:`-\log t`, total variation :math:`\tfrac12|t-1|`, squared
    Hellinger :math:`\tfrac12(\sqrt t - 1)^2`, Pearson's :math:`\chi^2`
    :math:`(t-1)^2`, Jensen-Shannon
    :math:`\tfrac12[t\log t - (1+t)\log\tfrac{1+t}{2}]`.

    Parameters
    ----------
    p, q : array_like or distribution
        Two probability vectors of the same length, or two univariate
        distributions (frozen ``scipy.stats`` or :class:`klbook.Distribution`),
        both discrete or both continuous.
    f : callable
        Vectorised :math:`f(t)` for :math:`t = p/q \in (0, \infty)`; convex with
        :math:`f(1) = 0` (checked at a few points: ``ValueError`` otherwise).
    f0 : float, optional
        :math:`f(0) = \lim_{t\to 0} f(t)`, the term per unit of q where
        :math:`p = 0`; default ``f(0.0)`` if finite, else ``inf``.
    f_star0 : float, optional
        :math:`\lim_{t\to\infty} f(t)/t`, the term per unit of p where
        :math:`q = 0`; default: estimated as ``f(t)/t`` at :math:`t = 10^{300}`
        (``inf`` when f grows faster than linearly, e.g. KL).

    Returns
    -------
    float
        :math:`D_f(p\,\|\,q) \ge 0` in nats (``math.inf`` when the sum or integral
        diverges). Never NaN.

    Notes
    -----
    Each term is :math:`q\,f(e^{\ell})` with :math:`\ell = \log p - \log q`
    formed from log-densities, so nothing overflows to ``p/q = inf``; the pair
    is summed or integrated by the same engine as every divergence of klbook
    (p's standardised coordinates, quantile splitting, adaptive Gauss-Kronrod,
    log-domain tails). Unlike the specialised functions
    (:func:`klbook.kl_divergence`, :func:`klbook.js_divergence`, ...), a
    generic f cannot be rearranged to avoid cancellation, so for nearly equal
    p and q the relative accuracy is that of evaluating f near 1.

    Raises
    ------
    TypeError
        ``f`` not callable; a distribution paired with a vector; unsupported objects.
    ValueError
        ``f`` not 0 at 1 or not convex on the probes; invalid vectors or distributions.

    Examples
    --------
    >>> import numpy as np
    >>> round(f_divergence([0.5, 0.5], [0.9, 0.1], lambda t: t * np.log(t)), 12)
    0.510825623766
    """
    if p is None or q is None:
        raise TypeError(f"{'p' if p is None else 'q'} is None; pass two probability vectors or two distributions p and q")
    if not callable(f):
        raise TypeError(f"f must be a callable f(t), got {type(f).__name__}")
    probe = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    with np.errstate(all="ignore"):
        fv = np.asarray(f(probe), dtype=float)
    if fv.shape != probe.shape or not np.all(np.isfinite(fv)):
        raise ValueError("f must map an array of ratios t > 0 to finite values of the same shape")
    if abs(fv[2]) > 1e-12 * max(1.0, float(np.max(np.abs(fv)))):
        raise ValueError(f"f must satisfy f(1) = 0, got f(1) = {fv[2]!r}")
    slopes = np.diff(fv) / np.diff(probe)
    if np.any(np.diff(slopes) < -1e-9 * (1.0 + np.abs(slopes[1:]))):
        raise ValueError("f must be convex (its values at t = 1/4, 1/2, 1, 2, 4 are not)")
    # f and f(t) - c (t - 1) give the same divergence (sum q (p/q - 1) = 0); with c = f'(1)
    # every term is >= 0, so the tails can be integrated in the log domain
    h = 1e-6
    with np.errstate(all="ignore"):
        c = float(np.asarray(f(np.array([1.0 + h])), float)[0] - np.asarray(f(np.array([1.0 - h])), float)[0]) / (2 * h)
    if not math.isfinite(c):
        raise ValueError("f must be differentiable at 1")
    with np.errstate(all="ignore"):
        if f0 is None:
            v = float(np.asarray(f(np.array([0.0])), dtype=float)[0])
            f0 = v if math.isfinite(v) else math.inf
        if f_star0 is None:
            big = 1e300
            v = float(np.asarray(f(np.array([big])), dtype=float)[0]) / big
            v2 = float(np.asarray(f(np.array([big / 1e10])), dtype=float)[0]) / (big / 1e10)
            f_star0 = v if (math.isfinite(v) and abs(v - v2) <= 1e-6 * max(1.0, abs(v))) else math.inf
    f0 = f0 + c if f0 != math.inf else math.inf
    f_star0 = f_star0 - c if f_star0 != math.inf else math.inf

    def kernel(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
        lp, lq = np.broadcast_arrays(np.asarray(lp, float), np.asarray(lq, float))
        out = np.zeros(lp.shape)
        fp, fq = np.isfinite(lp), np.isfinite(lq)
        with np.errstate(all="ignore"):
            both = fp & fq
            if both.any():
                t = np.exp(lp[both] - lq[both])
                out[both] = np.exp(lq[both]) * (np.asarray(f(t), dtype=float) - c * (t - 1.0))
            p0, q0 = ~fp & fq, fp & ~fq
            out[p0] = np.exp(lq[p0]) * f0 if f0 != math.inf else math.inf
            out[q0] = np.exp(lp[q0]) * f_star0 if f_star0 != math.inf else math.inf
        out[np.isnan(out)] = 0.0  # 0 * inf: a zero density times an unbounded f
        return np.maximum(out, 0.0)

    def log_kernel(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.log(kernel(lp, lq))

    from_dist = _is_distribution_like(p), _is_distribution_like(q)
    if from_dist[0] != from_dist[1]:
        raise TypeError("pass two distributions or two probability vectors, not one of each")
    if not from_dist[0]:
        pv, qv = (np.asarray(v, dtype=float) for v in (p, q))
        for name, v in (("p", pv), ("q", qv)):
            if v.ndim != 1 or v.size == 0:
                raise ValueError(f"{name} must be a non-empty 1-D probability vector")
            if not np.all(np.isfinite(v)) or np.any(v < 0):
                raise ValueError(f"{name} must have finite entries >= 0")
            if abs(math.fsum(v.tolist()) - 1.0) > 1e-9:
                raise ValueError(f"{name} must sum to 1 (klbook never renormalises)")
        if pv.size != qv.size:
            raise ValueError(f"p and q must have the same length, got {pv.size} and {qv.size}")
        with np.errstate(divide="ignore"):
            return float(max(math.fsum(kernel(np.log(pv), np.log(qv)).tolist()), 0.0))
    P, Q = Univariate(p, "p"), Univariate(q, "q")
    if P.discrete != Q.discrete:
        # mutually singular: p's mass where q = 0 and q's mass where p = 0
        return f0 + f_star0
    if P.key == Q.key:
        return 0.0
    if P.discrete:
        return max(sum_kernel(p, q, kernel, guard=f_star0 == math.inf), 0.0)
    if P.lo < Q.lo or P.hi > Q.hi:
        if f_star0 == math.inf:
            return math.inf
    val = integrate_kernel(p, q, kernel, log_kernel, f0, "f_divergence", guard=f_star0 == math.inf)
    if math.isfinite(val) and f_star0 != math.inf:
        val += f_star0 * mass_outside(p, q)
    return max(val, 0.0)


def _is_distribution_like(x: Any) -> bool:
    return isinstance(x, (rv_continuous_frozen, rv_discrete_frozen, Distribution))
