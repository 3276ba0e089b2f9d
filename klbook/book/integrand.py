r"""The KL integrand, piece by piece: the log-ratio, its weighting by p, and its signed area.

For univariate densities p and q,

.. math::

    D_{\mathrm{KL}}(p\,\|\,q) &= \int p(x) \log\frac{p(x)}{q(x)}\,dx \\
    &= \mathbb{E}_{x\sim p}\big[\log p(x) - \log q(x)\big].

The function under the integral, :math:`f(x) = p(x)\,d(x)` with the
*log-ratio* :math:`d(x) = \log p(x) - \log q(x)`, is negative wherever
:math:`q(x) > p(x)`. Its total is never negative, because :math:`\log t \le t - 1`
gives the pointwise bound

.. math::

    p(x)\log\frac{p(x)}{q(x)} \;\ge\; p(x) - q(x),

and the right-hand side integrates to :math:`1 - 1 = 0`. Integrating the bound
over :math:`A = \{x : q(x) > p(x)\}` alone shows that the negative area is
at least :math:`-\mathrm{TV}(p, q)`, where :math:`\mathrm{TV}(p, q)` is the
total variation distance: :math:`\int_A (q - p)\,dx`, which equals
:math:`\sup_B |P(B) - Q(B)|`.

This module gives the pieces a figure of the integrand needs:

* :func:`log_ratio`: :math:`d(x)` at given points;
* :func:`integrand_curves`: p, q, their logs, :math:`d`, :math:`f` and the
  lower bound :math:`p - q` on a grid, for drawing;
* :func:`signed_areas`: the positive and negative areas under :math:`f`, the
  total, the total variation distance, the probability under p that the
  log-ratio is negative, and the points where :math:`p = q`.

Conventions, as everywhere in klbook: natural logarithms (nats);
:math:`0 \log(0/q) = 0`; :math:`p \log(p/0) = +\infty` for :math:`p > 0`; never NaN.
"""

from __future__ import annotations

import math
from typing import Any
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr
from scipy.stats._multivariate import multivariate_normal_frozen

from ..core._checks import check_array
from ..core.closed_forms import is_discrete, is_distribution
from ..core.divergences import kl_divergence
from ..core.fitting import kl_integrand
from ..core.engine import Univariate, breakpoints, integrate, ladder, quantiles, tail_width

__all__ = ["log_ratio", "IntegrandCurves", "integrand_curves", "SignedAreas", "signed_areas", "kl_part"]

#: Standard-normal scores of the quantiles of p and of q where the sign of the
#: log-ratio is scanned (tail probabilities down to about 1e-12 on each side).
SCAN_Z = np.linspace(-7.0, 7.0, 701)


def _check_continuous(d: object, name: str, who: str) -> None:
    if not is_distribution(d) or isinstance(d, multivariate_normal_frozen):
        raise TypeError(
            f"{who}: {name} must be a univariate continuous distribution (a frozen scipy.stats "
            f"distribution or a klbook.Distribution), got {type(d).__name__}"
        )
    if is_discrete(d):
        raise TypeError(f"{who}: {name} must be continuous (it has a density), got a discrete distribution")
    if not callable(getattr(d, "logpdf", None)):
        raise TypeError(f"{who}: {name} must have a logpdf method, {type(d).__name__} has none")


def _logs(p: object, q: object, xa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        lp = np.asarray(p.logpdf(xa), dtype=float)  # type: ignore[attr-defined]
        lq = np.asarray(q.logpdf(xa), dtype=float)  # type: ignore[attr-defined]
    for name, arr in (("p", lp), ("q", lq)):
        if np.any(np.isnan(arr)) or np.any(arr == np.inf):
            raise ValueError(f"log {name} is NaN or +inf at some of the points x")
    return lp, lq


def _difference(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    """``lp - lq`` with ``-inf - finite = -inf`` and ``finite - (-inf) = +inf``; both -inf is the caller's problem."""
    with np.errstate(invalid="ignore"):
        return lp - lq


def log_ratio(p: object, q: object, x: ArrayLike) -> np.ndarray | float:
    r"""The log-ratio :math:`d(x) = \log p(x) - \log q(x)` at ``x``, in nats.

    Formed as a difference of log-densities, never as the log of a quotient,
    so it stays accurate far in the tails where both densities underflow.
    Where :math:`p(x) = 0 < q(x)` it is :math:`-\infty`; where
    :math:`q(x) = 0 < p(x)` it is :math:`+\infty`.

    Parameters
    ----------
    p, q : distribution
        Univariate continuous distributions: frozen ``scipy.stats``
        distributions or :class:`klbook.Distribution` objects.
    x : array_like
        Points (no NaN).

    Returns
    -------
    float or numpy.ndarray
        Shaped like ``x``. Positive where :math:`p > q` (the point is evidence
        for p against q), negative where :math:`q > p`.

    Raises
    ------
    TypeError
        If p or q is not a univariate continuous distribution, or x is not numeric.
    ValueError
        If x contains NaN, or a point lies outside both supports (there
        :math:`\log 0 - \log 0` has no value).

    Examples
    --------
    >>> from scipy import stats
    >>> float(log_ratio(stats.norm(0, 1), stats.norm(1, 1), 0.0))  # = 1/2 - 0 for this pair
    0.5
    """
    who = "log_ratio"
    _check_continuous(p, "p", who)
    _check_continuous(q, "q", who)
    xa = check_array(x, f"{who}: x", finite=False, nonempty=False)
    lp, lq = _logs(p, q, xa)
    both = np.isneginf(lp) & np.isneginf(lq)
    if np.any(both):
        bad = float(xa[both].ravel()[0]) if xa.ndim else float(xa)
        raise ValueError(f"{who}: p and q are both zero at x = {bad:g}, where the log-ratio has no value")
    out = _difference(lp, lq) + 0.0
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class IntegrandCurves:
    r"""Everything a figure of the KL integrand draws, on one grid (see :func:`integrand_curves`).

    Attributes
    ----------
    x : numpy.ndarray
        The grid.
    p, q : numpy.ndarray
        The densities at ``x``.
    log_p, log_q : numpy.ndarray
        Their natural logs (``-inf`` where a density is zero).
    log_ratio : numpy.ndarray
        :math:`\log p - \log q` (nats); ``-inf`` where only p is zero, ``+inf``
        where only q is.
    integrand : numpy.ndarray
        :math:`p \log(p/q)` (nats per unit of x), 0 where p is zero.
    lower_bound : numpy.ndarray
        :math:`p - q`, which never exceeds the integrand and integrates to 0.
    """

    x: np.ndarray
    p: np.ndarray
    q: np.ndarray
    log_p: np.ndarray
    log_q: np.ndarray
    log_ratio: np.ndarray
    integrand: np.ndarray
    lower_bound: np.ndarray


def integrand_curves(p: object, q: object, x: ArrayLike) -> IntegrandCurves:
    r"""The densities, log-densities, log-ratio, integrand and its lower bound on a grid.

    .. math::

        d(x) &= \log p(x) - \log q(x), \\
        f(x) &= p(x)\,d(x) \;\ge\; p(x) - q(x),

    with :math:`\int f\,dx = D_{\mathrm{KL}}(p\,\|\,q)` and
    :math:`\int (p - q)\,dx = 0`. The integrand comes from
    :func:`klbook.kl_integrand`; the conventions are those of :func:`log_ratio`.

    Parameters
    ----------
    p, q : distribution
        Univariate continuous distributions.
    x : array_like
        One-dimensional grid (no NaN); every point must lie in the support of
        p or of q.

    Returns
    -------
    IntegrandCurves

    Raises
    ------
    TypeError
        If p or q is not a univariate continuous distribution.
    ValueError
        If x is not one-dimensional, contains NaN, or has a point outside both supports.
    """
    who = "integrand_curves"
    xa = check_array(x, f"{who}: x", finite=False, nonempty=False)
    if xa.ndim != 1:
        raise ValueError(f"{who}: x must be one-dimensional, got shape {xa.shape}")
    d = np.asarray(log_ratio(p, q, xa), dtype=float)
    lp, lq = _logs(p, q, xa)
    dens_p, dens_q = np.exp(lp), np.exp(lq)
    f = np.asarray(kl_integrand(p, q, xa), dtype=float)
    return IntegrandCurves(
        x=xa, p=dens_p, q=dens_q, log_p=lp, log_q=lq, log_ratio=d, integrand=f, lower_bound=dens_p - dens_q
    )


@dataclass(frozen=True)
class SignedAreas:
    r"""The signed areas under the KL integrand (see :func:`signed_areas`). All in nats except masses.

    Attributes
    ----------
    positive : float
        :math:`\int_{p > q} p \log(p/q)\,dx \ge 0` (``inf`` when the divergence is).
    negative : float
        :math:`\int_{q > p} p \log(p/q)\,dx \le 0`, never below ``-total_variation``.
    total : float
        :math:`D_{\mathrm{KL}}(p\,\|\,q)` from :func:`klbook.kl_divergence`;
        equals ``positive + negative`` up to rounding.
    total_variation : float
        :math:`\mathrm{TV}(p, q)`, that is :math:`\int \max(q - p, 0)\,dx` or
        :math:`\sup_B |P(B) - Q(B)|`; in :math:`[0, 1]`.
    p_mass_negative : float
        :math:`P_{x \sim p}\big(d(x) < 0\big)`: how often a draw from p has a negative log-ratio.
    crossings : tuple of float
        The points inside p's support where the sign of the log-ratio changes
        (where :math:`p = q`, or where q's support begins or ends).
    """

    positive: float
    negative: float
    total: float
    total_variation: float
    p_mass_negative: float
    crossings: tuple[float, ...]


def sign_changes(P: Univariate, Q: Univariate, p: object, q: object) -> list[float]:
    """Points of p's support where sign(log p - log q) changes, found on quantile grids of p and q."""
    us = np.asarray(_norm_cdf(SCAN_Z))
    xs = np.concatenate([quantiles(P, us), quantiles(Q, us)])
    xs = xs[np.isfinite(xs) & (xs > P.lo) & (xs < P.hi)]
    xs = np.unique(xs)
    if xs.size < 2:
        return []
    lp, lq = _logs(p, q, xs)

    def sgn(lpv: np.ndarray, lqv: np.ndarray) -> np.ndarray:
        out = np.sign(_difference(lpv, lqv))
        return np.where(np.isneginf(lpv) & np.isneginf(lqv), 0.0, out)

    s = sgn(lp, lq)
    nz = np.flatnonzero(s != 0)  # points where p = q exactly are not sign changes: skip them
    out: list[float] = []
    for i, j in zip(nz[:-1], nz[1:]):
        if s[i] * s[j] > 0:
            continue
        a, b, sa = float(xs[i]), float(xs[j]), s[i]
        for _ in range(200):  # bisection on the sign: works across jumps (edges of q's support) too
            m = 0.5 * (a + b)
            if not (a < m < b):
                break
            lpm, lqm = _logs(p, q, np.array([m]))
            sm = sgn(lpm, lqm)[0]
            if sm == 0:
                a = b = m
                break
            if sm == sa:
                a = m
            else:
                b = m
        out.append(0.5 * (a + b))
    # One crossing found from two neighbouring scan intervals (rounding makes d flicker
    # around 0 next to it) is one crossing: merge points closer than 1e-12 of their own size or of
    # p's interquartile range. (Not of the scanned span: for very heavy tails it reaches 1e115 and
    # would merge distinct crossings.)
    q1, q3 = quantiles(P, np.array([0.25, 0.75]))
    scale = float(q3 - q1) if np.isfinite(q3 - q1) and q3 > q1 else 1.0
    merged: list[list[float]] = []
    for c in sorted(out):
        if merged and c - merged[-1][-1] <= 1e-12 * max(abs(c), abs(merged[-1][-1]), scale):
            merged[-1].append(c)
        else:
            merged.append([c])
    return [float(np.median(group)) for group in merged]


def _norm_cdf(z: np.ndarray) -> np.ndarray:
    return ndtr(z)


def _mass(D: Univariate, lo: float, hi: float) -> float:
    """D's probability of (lo, hi), from the cdf or the survival function (whichever does not cancel)."""
    if hi <= lo:
        return 0.0
    with np.errstate(all="ignore"):
        if math.isfinite(hi) and float(D.cdf(hi)) <= 0.5:
            val = float(D.cdf(hi)) - (float(D.cdf(lo)) if math.isfinite(lo) else 0.0)
        else:
            val = (float(D.sf(lo)) if math.isfinite(lo) else 1.0) - (float(D.sf(hi)) if math.isfinite(hi) else 0.0)
    return min(max(val, 0.0), 1.0)


def _part_integral(p: object, q: object, P: Univariate, Q: Univariate, crossings: list[float],
                   part: float | None, lo: float = -math.inf, hi: float = math.inf) -> float:
    """Integral of p * d over (lo, hi), where sign(d) == part (everywhere if part is None).

    The body goes to Gauss-Kronrod between breakpoints (p's and q's quantiles, modes, the crossings and
    the finite ends lo, hi); an infinite side is finished on the engine's tail ladders.
    """

    def keep_of(lp: np.ndarray, d: np.ndarray) -> np.ndarray:
        keep = np.isfinite(lp)
        return keep if part is None else keep & (np.sign(d) == part)

    def f_body(x: np.ndarray) -> np.ndarray:
        lp, lq = _logs(p, q, x)
        d = _difference(lp, lq)
        with np.errstate(all="ignore"):
            out = np.where(keep_of(lp, d), np.exp(lp) * d, 0.0)
        return out

    def f_tail(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lp, lq = _logs(p, q, x)
        d = _difference(lp, lq)
        keep = keep_of(lp, d)
        with np.errstate(all="ignore"):
            logabs = np.where(keep, lp + np.log(np.abs(d)), -np.inf)
        return logabs, np.where(keep, np.sign(d), 0.0)

    lo, hi = max(lo, P.lo), min(hi, P.hi)
    if not hi > lo:
        return 0.0
    cut_lo, cut_hi = lo > P.lo, hi < P.hi  # a cut inside p's support, not p's own end
    grid = breakpoints(P, Q)
    pts = np.concatenate([grid, np.array(crossings, dtype=float), [lo] * cut_lo, [hi] * cut_hi])
    pts = np.unique(pts[np.isfinite(pts) & (pts >= lo) & (pts <= hi)])
    body = 0.0
    if pts.size >= 2:
        body, _, _, _, _ = integrate(f_body, pts, atol=1e-300)
    total = body
    for left, cut in ((True, cut_lo), (False, cut_hi)):
        if cut:
            continue  # the body reaches a cut; p's own ends (finite or not) go to the tail ladders,
            # which also handle a singular density at a finite end
        end = lo if left else hi
        x0 = float(pts[0] if left else pts[-1]) if pts.size else float(hi if left else lo)
        width = tail_width(pts if pts.size >= 2 else grid, left)
        total += ladder(f_tail, x0, end, width, 1e-16 * max(abs(body), 1e-300), total, "kl_part")
        if math.isinf(total):
            return total
    return float(total)


def kl_part(p: object, q: object, lo: float, hi: float) -> float:
    r"""The part of :math:`D_{\mathrm{KL}}(p\,\|\,q)` contributed by the interval :math:`(lo, hi)`.

    .. math::

        & D_{(lo, hi)}(p\,\|\,q) \\
        & \quad = \int_{lo}^{hi} p(x)\,\log\frac{p(x)}{q(x)}\,dx .

    Unlike the whole divergence this part can be negative (where q > p). Over
    :math:`(-\infty, \infty)` it is :func:`klbook.kl_divergence` up to the
    quadrature's accuracy.

    Parameters
    ----------
    p, q : distribution
        Univariate continuous distributions: frozen ``scipy.stats``
        distributions or :class:`klbook.Distribution` objects.
    lo, hi : float
        The interval's ends, ``lo < hi``; either may be infinite.

    Returns
    -------
    float
        The part, in nats: ``inf`` if q vanishes on a part of the interval where p has mass.

    Raises
    ------
    TypeError
        If p or q is not a univariate continuous distribution, or lo/hi is not a real number.
    ValueError
        If lo or hi is NaN or lo >= hi.

    Notes
    -----
    Computed from log-densities with the engine's adaptive Gauss-Kronrod
    quadrature (:func:`klbook.core.engine.integrate`) between the quantiles of p
    and q and the sign changes of :math:`\log p - \log q`, and on the
    engine's geometric ladders (:func:`klbook.core.engine.ladder`, which extrapolates a
    singular end) on an
    infinite side; about :math:`10^{-12}` relative.

    Examples
    --------
    >>> from scipy import stats
    >>> p, q = stats.norm(0, 1), stats.norm(1, 1)
    >>> round(kl_part(p, q, -float("inf"), 0.5) + kl_part(p, q, 0.5, float("inf")), 12)
    0.5
    """
    who = "kl_part"
    _check_continuous(p, "p", who)
    _check_continuous(q, "q", who)
    ends = []
    for name, v in (("lo", lo), ("hi", hi)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{who}: {name} must be a real number, got {type(v).__name__}")
        if math.isnan(v):
            raise ValueError(f"{who}: {name} must not be NaN")
        ends.append(float(v))
    lo, hi = ends
    if not lo < hi:
        raise ValueError(f"{who}: lo must be less than hi, got lo={lo!r}, hi={hi!r}")
    P, Q = Univariate(p, "p"), Univariate(q, "q")
    lo_p, hi_p = max(lo, P.lo), min(hi, P.hi)
    if not hi_p > lo_p:
        return 0.0
    if _mass(P, max(lo_p, Q.hi), hi_p) > 0 or _mass(P, lo_p, min(hi_p, Q.lo)) > 0:
        return math.inf  # p has mass in (lo, hi) outside q's support
    crossings = sign_changes(P, Q, p, q)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _part_integral(p, q, P, Q, crossings, None, lo, hi)


def masses_where_q_wins(p: Any, q: Any, P: Any, Q: Any, crossings: list[float]) -> tuple[float, float]:
    """Total variation and p's mass where q > p, exact from the cdfs once the crossings are known.

    The pieces between consecutive sign changes of log p - log q are classified
    by one interior point each. Returns ``(TV(p, q), P_p(q > p))``, unclipped:
    TV is q's mass outside p's support plus, over pieces with q > p, q(piece) - p(piece).
    """
    edges = [P.lo] + crossings + [P.hi]
    tv = _mass(Q, -math.inf, P.lo) + _mass(Q, P.hi, math.inf)  # q's mass outside p's support
    mass_neg = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        if not hi > lo:
            continue
        if math.isfinite(lo) and math.isfinite(hi):
            mid = 0.5 * (lo + hi)
        else:
            mid = _representative(P, Q, lo, hi)
        lp, lq = _logs(p, q, np.array([mid]))
        if np.isneginf(lp[0]) and np.isneginf(lq[0]):
            continue
        if _difference(lp, lq)[0] < 0:  # q > p on this piece
            pm = _mass(P, lo, hi)
            mass_neg += pm
            tv += _mass(Q, lo, hi) - pm
    return tv, mass_neg


def signed_areas(p: object, q: object) -> SignedAreas:
    r"""Split :math:`D_{\mathrm{KL}}(p\,\|\,q)` into the positive and negative areas under its integrand.

    With :math:`d = \log p - \log q` and :math:`f = p\,d`,

    .. math::

        & \underbrace{\int_{d > 0} f\,dx}_{\text{positive}}
        + \underbrace{\int_{d < 0} f\,dx}_{\text{negative}} \\
        & \quad = D_{\mathrm{KL}}(p\,\|\,q) \;\ge\; 0, \\
        & \text{negative} \;\ge\; -\mathrm{TV}(p, q) \;\ge\; -1,

    where :math:`\mathrm{TV}(p, q) = \int \max(q - p, 0)\,dx`. The bound holds
    because :math:`f \ge p - q` pointwise (see the module docstring).

    Parameters
    ----------
    p, q : distribution
        Univariate continuous distributions: frozen ``scipy.stats``
        distributions or :class:`klbook.Distribution` objects.

    Returns
    -------
    SignedAreas
        ``positive``, ``negative`` and ``total`` in nats, ``total_variation``,
        ``p_mass_negative`` and the ``crossings``.

    Raises
    ------
    TypeError
        If p or q is not a univariate continuous distribution.
    ValueError
        If a distribution's parameters are invalid.

    Notes
    -----
    ``total`` is :func:`klbook.kl_divergence` (closed form when one exists).
    The two areas are integrated separately with klbook's vectorised adaptive
    Gauss-Kronrod quadrature (:mod:`klbook.core.engine`), from log-densities, with
    the sign changes of :math:`d` as breakpoints; each is accurate to about
    :math:`10^{-12}` relative. The sign changes are located (by bisection, to
    the last bit) on grids of 701 quantiles of p and of q reaching
    probabilities of about :math:`10^{-12}` in each tail; a sign change beyond
    those grids moves ``total_variation`` and ``p_mass_negative`` by less than
    about :math:`10^{-12}` and the areas not at all. When the divergence is
    infinite, ``positive`` is ``inf`` and ``negative`` is still finite.

    Examples
    --------
    >>> from scipy import stats
    >>> a = signed_areas(stats.norm(0, 1), stats.norm(1, 1))
    >>> round(a.positive, 6), round(a.negative, 6), round(a.total, 6)
    (0.697797, -0.197797, 0.5)
    >>> [round(c, 12) for c in a.crossings]
    [0.5]
    """
    who = "signed_areas"
    _check_continuous(p, "p", who)
    _check_continuous(q, "q", who)
    total = float(kl_divergence(p, q))
    P, Q = Univariate(p, "p"), Univariate(q, "q")
    crossings = sign_changes(P, Q, p, q)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        negative = _part_integral(p, q, P, Q, crossings, -1.0)
        positive = math.inf if math.isinf(total) else _part_integral(p, q, P, Q, crossings, 1.0)

    tv, mass_neg = masses_where_q_wins(p, q, P, Q, crossings)
    negative = min(negative, 0.0) + 0.0
    positive = max(positive, 0.0)
    return SignedAreas(
        positive=float(positive),
        negative=float(negative),
        total=total,
        total_variation=float(min(max(tv, 0.0), 1.0)),
        p_mass_negative=float(min(max(mass_neg, 0.0), 1.0)),
        crossings=tuple(float(c) for c in crossings),
    )


def _representative(P: Univariate, Q: Univariate, lo: float, hi: float) -> float:
    """A finite point inside (lo, hi) where p or q has mass, for an interval with an infinite end."""
    us = np.asarray(_norm_cdf(SCAN_Z))
    xs = np.concatenate([quantiles(P, us), quantiles(Q, us)])
    xs = xs[np.isfinite(xs) & (xs > lo) & (xs < hi)]
    if xs.size:
        return float(np.median(xs))
    if math.isinf(lo) and math.isinf(hi):
        return 0.0
    return (hi - 1.0) if math.isinf(lo) else (lo + 1.0)
