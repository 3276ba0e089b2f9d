r"""Numerical KL divergence and entropy for any pair of univariate distributions.

This is the fallback behind :func:`klbook.core.closed_forms.kl_distributions` for
pairs of families that have no closed form in the registry. It accepts frozen
``scipy.stats`` distributions (continuous or discrete) and klbook's own
:class:`klbook.Distribution` objects. Only log-densities are used, never a
ratio of densities, so nothing overflows to ``p/q = inf`` or ``0/0``.

**How the integral is formed.** With :math:`d(x) = \log p(x) - \log q(x)` and
:math:`\varphi(d) = d + e^{-d} - 1 \ge 0`, for any set :math:`A`

.. math::

    \int_A p\,d\,dx &= \int_A p\,\varphi(d)\,dx \\
    &\quad {} + P(A) - Q(A).

On the body :math:`A = [x_L, x_R]` of p (its quantiles :math:`10^{-12}` and
:math:`1 - 10^{-12}`) the integrand :math:`p\,\varphi(d) = p\,d + q - p` is
non-negative, so the quadrature does not cancel even when :math:`p \approx q`
and the KL is :math:`O(\delta^2)` while :math:`p\,d` is :math:`O(\delta)`;
where :math:`p(x) = 0` it is :math:`q(x)`, never ``0 * inf = NaN``. On the
tails, where p carries at most :math:`2\cdot10^{-12}` of its mass and where a
narrow q far away would be invisible to the quadrature, the integrand is
:math:`p\,d`, formed as :math:`\pm\exp(\log p + \log|d| + \log|dx/dt|)`, and
the correction :math:`Q(A^c) - P(A^c)` comes from the cdfs:

.. math::

    & D_{KL}(p\,\|\,q) = \int_{x_L}^{x_R} p\,\varphi(d)\,dx + \int_{A^c} p\,d\,dx \\
    & \quad {} + \big[Q(x < x_L) + Q(x > x_R)\big] \\
    & \quad {} - \big[P(x < x_L) + P(x > x_R)\big].

Discrete sums use :math:`\sum_k p_k\,\varphi(d_k) + Q(\text{outside p's support})`,
all terms non-negative.

The entropy uses :math:`-p \log p` with :math:`0 \log 0 = 0`.
"""

from __future__ import annotations

import math
import warnings
from typing import Callable

import numpy as np

from .engine import TAIL_EPS, Univariate, em_sum, integrate_pair, log_ratio, pair_log_ratio, quantiles, standardise_pair

__all__ = ["kl_numeric", "entropy_numeric", "kl_terms_log", "entropy_terms_log"]

_SUM_RTOL = 1e-17  # discrete truncation: remainder bound <= 1e-17 * partial sum
_MAX_BULK = 20_000_000  # discrete sums: most terms in the bulk [ppf(1e-12), isf(1e-12)]
_MAX_TERMS = 4_000_000  # discrete sums: most terms evaluated in the tails beyond the bulk
_CHUNK = 1_000_000
_EM_BULK = 65_536  # a wider bulk of slowly varying terms is summed by Euler-Maclaurin
_EM_AFTER = 8_192  # a tail still unconverged after this many terms: Euler-Maclaurin for the rest
_EPS_N = float(np.finfo(float).eps)
_EM_HEAD = 2_048  # terms summed one by one next to a finite end before Euler-Maclaurin takes over
_EM_U = np.array([1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5,
                  0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1 - 1e-4, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12])




# --------------------------------------------------------------------------------------
# The integrand p * phi(log p - log q), guarded.
def _phi_small(d: np.ndarray) -> np.ndarray:
    """:math:`\\varphi(d) = d + e^{-d} - 1 = \\sum_{k\\ge 2} (-d)^k / k!` by its series (|d| < 0.1)."""
    acc = np.zeros_like(d)
    for j in range(12, -1, -1):  # d^2 * sum_j (-d)^j / (j + 2)!
        acc = acc * (-d) + 1.0 / math.factorial(j + 2)
    return d * d * acc


def kl_terms_log(
    logp: np.ndarray,
    logq: np.ndarray,
    q_name: str | None = None,
    with_noise: bool = False,
    q_exact: bool = False,
    d: np.ndarray | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Pointwise :math:`p\,\varphi(\log p - \log q) = p\,d + q - p`, never NaN.

    The KL kernel of the pairwise engine (:mod:`klbook.core.engine`), from the
    two log-densities at the same points:

    * ``p = 0`` (``logp = -inf``): the term is ``q``;
    * ``p > 0 = q``: ``+inf`` (p not absolutely continuous there). With
      ``q_name`` (a continuous q, inside its support) ``log q = -inf`` is not a
      zero density: where :math:`p \le e^{-600}` the term is dropped; elsewhere
      it is ``+inf`` when ``q_exact`` (q's log-density is written out, so
      ``-inf`` means below the float range) and a ``ValueError`` otherwise
      (an underflow of ``log(pdf)``: the term cannot be evaluated);
    * ``|d| < 0.1``: ``p * phi(d)`` with the series (no cancellation);
    * ``d >= -1``: ``p * (d + expm1(-d))``;
    * ``d < -1``: ``p * (d - 1) + q`` (``e^{-d}`` could overflow).

    With ``with_noise``, also returns the rounding noise of each term: the
    log-densities carry an absolute error of a few ulp of their size, which
    moves the term by :math:`|p\,(1 - e^{-d})|\,\delta d`.

    ``d``, when given, is :math:`\log p - \log q` computed without
    cancellation (same-family pairs, :func:`klbook.core.engine.pair_log_ratio`); it replaces the
    difference of the two log-densities where both are finite.
    """
    logp = np.asarray(logp, dtype=float)
    logq = np.asarray(logq, dtype=float)
    if np.isnan(logp).any() or np.isnan(logq).any():
        raise ValueError("a log-density came out NaN; check the distributions' parameters")
    out = np.zeros(np.broadcast(logp, logq).shape)
    logp, logq = np.broadcast_arrays(logp, logq)
    with np.errstate(all="ignore"):
        p = np.exp(logp)
        q = np.exp(logq)
        zero_p = p == 0.0
        out[zero_p] = q[zero_p]
        pos = ~zero_p
        qzero = pos & np.isneginf(logq)
        if q_name is not None and qzero.any():
            # Continuous q, inside its support: log q = -inf is an underflow (of log(pdf), or
            # of a log-density below the float range), not a zero density. Negligible where p
            # is itself below e^-600; elsewhere infinite (exact log-density) or unknown.
            live = qzero & (logp > -600.0)
            if q_exact and live.any():
                out[live] = np.inf
                qzero = qzero & ~live
            elif np.any(logp[qzero] > -600.0):
                raise ValueError(
                    f"the log-density of q ({q_name}) underflows to -inf inside its support where p "
                    "still has mass; scipy computes it as log(pdf) for this family"
                )
            out[qzero] = 0.0
        else:
            out[qzero] = np.inf
        ok = pos & ~qzero
        if d is None:
            d = np.where(ok, logp - logq, 0.0)
        else:
            d = np.where(ok, np.broadcast_to(np.asarray(d, dtype=float), ok.shape), 0.0)
        small = ok & (np.abs(d) < 0.1)
        mid = ok & ~small & (d >= -1.0)
        neg = ok & (d < -1.0)
        out[small] = p[small] * _phi_small(d[small])
        out[mid] = p[mid] * (d[mid] + np.expm1(-d[mid]))
        out[neg] = p[neg] * (d[neg] - 1.0) + q[neg]
    if np.isnan(out).any():
        raise ValueError("the KL integrand came out NaN; check the distributions' parameters")
    if with_noise:
        eps = np.finfo(float).eps
        with np.errstate(all="ignore"):
            lpa = np.where(ok, np.abs(logp), 0.0)
            lqa = np.where(ok, np.abs(logq), 0.0)
            slope = np.where(ok, np.abs(p * np.expm1(-np.clip(d, -700, 700))), 0.0)
            noise = slope * 2 * eps * (lpa + lqa + 1.0) + 2 * eps * np.abs(out)
            noise = np.where(np.isfinite(noise), noise, 0.0)
        return out, noise
    return out


def entropy_terms_log(logp: np.ndarray) -> np.ndarray:
    """Pointwise :math:`-p \\log p` with :math:`0 \\log 0 = 0`."""
    logp = np.asarray(logp, dtype=float)
    if np.isnan(logp).any():
        raise ValueError("a log-density came out NaN; check the distribution's parameters")
    with np.errstate(all="ignore"):
        p = np.exp(logp)
        out = np.where(p > 0.0, -p * logp, 0.0)
    return out




# --------------------------------------------------------------------------------------
# Discrete sums.
def _discrete_sum(P: Univariate, Q: Univariate | None, s: float, what: str) -> float:
    """Sum KL terms (``Q`` given) or entropy terms (``Q is None``) over p's support.

    Coordinates are p's standardised integers ``k``; q is evaluated at ``k + s``.
    The bulk is summed exactly, the tails outwards in doubling chunks until the
    stated bound (see :func:`kl_numeric`) is met.
    """
    eps = np.finfo(float).eps
    lo, hi = P.lo, P.hi
    ratio = log_ratio(P, Q) if (Q is not None and s == 0.0) else None
    ratio2 = pair_log_ratio(P.obj, Q.obj) if (Q is not None and s == 0.0 and ratio is None) else None

    def d_of(k: np.ndarray, lp: np.ndarray, lq: np.ndarray) -> np.ndarray | None:
        if ratio is not None:
            return ratio(k)
        if ratio2 is not None:
            return ratio2(np.asarray(k, dtype=float) + P.loc, lp, lq)[0]
        return None
    exact = P.exact_cdf and (Q is None or Q.exact_cdf)
    a = b = math.nan
    with np.errstate(all="ignore"):
        if P.exact_ppf:
            a = float(np.asarray(P.ppf(TAIL_EPS)))
            b = float(np.asarray(P.isf(TAIL_EPS)))
        elif not math.isfinite(lo) and hasattr(P.obj, "mean"):
            # No usable ppf and no lower end (skellam): start from mean +- 10 sd.
            mu, sd = float(np.asarray(P.obj.mean())), float(np.asarray(P.obj.std()))
            if math.isfinite(mu) and math.isfinite(sd):
                a, b = math.floor(mu - P.loc - 10 * sd), math.ceil(mu - P.loc + 10 * sd)
    if not math.isfinite(a):
        a = lo if math.isfinite(lo) else 0.0
    if not math.isfinite(b):
        b = hi if math.isfinite(hi) else a + 4096
    a, b = max(a, lo), min(b, hi)
    if b < a:
        a, b = b, a
    if (math.isfinite(lo) and a - lo <= 4096) or (not exact and math.isfinite(lo)):
        a = lo
    if math.isfinite(hi) and hi - b <= 4096:
        b = hi
    n_terms = b - a + 1
    smooth = P.smooth is not None and (Q is None or Q.smooth is not None)

    def smooth_terms(x: np.ndarray) -> np.ndarray:
        """The terms at real x (continuous extensions of the log-pmfs), for Euler-Maclaurin."""
        with np.errstate(all="ignore"):
            lp = P.smooth(x)
            if Q is None:
                return entropy_terms_log(lp)
            lq = Q.smooth(np.asarray(x, dtype=float) + s)
            return kl_terms_log(lp, lq, d=d_of(x, lp, lq) if ratio is not None else None)

    if n_terms > _EM_BULK and smooth:
        wide = _em_wide(P, Q, s, smooth_terms, what)
        if wide is not None:
            return wide
    if n_terms > _MAX_BULK:
        raise ValueError(
            f"{what}: the bulk of {P.name} spans {n_terms:.3g} support points, more than the "
            f"{_MAX_BULK:.0e} this exact summation evaluates"
        )

    def evaluate(k: np.ndarray) -> tuple[float, float, float]:
        with np.errstate(all="ignore"):
            lp = np.asarray(P.logdens(k), dtype=float)
            if Q is None:
                t = entropy_terms_log(lp)
                sq = 0.0
            else:
                lq = np.asarray(Q.logdens(k + s), dtype=float)
                if not Q.exact_logdens:
                    # q's logpmf is log(pmf) (skellam, ...): -inf inside q's support is an
                    # underflow, not a zero: negligible where p is below e^-600, else an error.
                    under = np.isneginf(lq) & (k + s >= Q.lo) & (k + s <= Q.hi)
                    if np.any(lp[under] > -600.0):
                        raise ValueError(
                            f"the log-pmf of q ({Q.family}) underflows to -inf inside its support where p "
                            f"({P.family}) still has mass (scipy computes it as log(pmf)); this KL cannot be "
                            "evaluated in double precision"
                        )
                    lp = np.where(under, -np.inf, lp)
                t = kl_terms_log(lp, lq, d=d_of(k, lp, lq))
                sq = float(np.sum(np.exp(lq)))
            return float(np.sum(t)), float(np.sum(np.exp(lp))), sq

    def spread(k: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            lp = np.asarray(P.logdens(k), dtype=float)
            if Q is None:
                return np.abs(lp)
            return np.abs(lp - np.asarray(Q.logdens(k + s), dtype=float))

    sums = {"t": [], "p": [], "q": []}

    def chunk_sum(k0: float, k1: float) -> float:
        parts = []
        while k0 <= k1:
            kk = min(k1, k0 + _CHUNK - 1)
            t, sp, sq = evaluate(np.arange(k0, kk + 1, dtype=float))
            parts.append(t)
            sums["p"].append(sp)
            sums["q"].append(sq)
            k0 = kk + 1
        return math.fsum(parts)

    q_below = 0.0
    if Q is not None and not Q.exact_cdf and lo + s > Q.lo:
        with np.errstate(all="ignore"):
            q_below = float(Q.cdf(lo + s - 1))

    def remainder(edge: float, right: bool) -> tuple[float, float]:
        """(p's mass beyond edge, q's mass beyond edge) -- exact or by running sums."""
        with np.errstate(all="ignore"):
            if right:
                pr = float(P.sf(edge)) if P.exact_cdf else max(0.0, 1.0 - math.fsum(sums["p"]))
                if Q is None:
                    qr = 0.0
                elif Q.exact_cdf:
                    qr = float(Q.sf(edge + s))
                else:
                    qr = max(0.0, 1.0 - q_below - math.fsum(sums["q"]))
            else:
                pr = float(P.cdf(edge - 1))
                qr = 0.0 if Q is None else float(Q.cdf(edge + s - 1))
        return pr, qr

    total = chunk_sum(a, b)
    if math.isinf(total):
        return math.inf
    used = 0
    for right in (True, False):
        edge, end = (b, hi) if right else (a, lo)
        step = max(64.0, math.floor((b - a + 1) / 4))
        prev_bound = math.inf
        flat = 0  # consecutive doublings over which the tail bound did not shrink
        side_used = 0
        tried_em = not smooth
        while (edge < end) if right else (edge > end):
            if side_used >= _EM_AFTER and not tried_em:
                # Slowly decaying terms (zipf-type): the rest of this side by Euler-Maclaurin.
                tried_em = True
                rest = em_sum(smooth_terms, edge + 1, end, np.zeros(0), what, total) if right else \
                    em_sum(smooth_terms, end, edge - 1, np.zeros(0), what, total)
                if rest is not None:
                    total += rest
                    break
            if right:
                k0, k1 = edge + 1, min(end, edge + step)
            else:
                k0, k1 = max(end, edge - step), edge - 1
            chunk = chunk_sum(k0, k1)
            if math.isinf(chunk):
                return math.inf
            total += chunk
            used += k1 - k0 + 1
            side_used += k1 - k0 + 1
            edge = k1 if right else k0
            if edge == end:
                break
            far = edge + (edge - a + 1) if right else edge - (b - edge + 1)
            far = min(far, end) if right else max(far, end)
            sp = spread(np.array([edge, far], dtype=float))
            sp = sp[np.isfinite(sp)]
            dmax = max(1.0, float(np.max(sp))) if sp.size else 1.0
            p_rem, q_rem = remainder(edge, right)
            bound = p_rem * dmax + q_rem
            thr = _SUM_RTOL * abs(total)
            at_floor = not exact and p_rem <= 64 * eps and q_rem <= 64 * eps
            if not at_floor and ((bound <= thr and abs(chunk) <= thr) or bound == 0.0):
                break
            if at_floor and abs(chunk) <= thr:
                # Running-sum remainders are at their rounding floor: they no longer bound the
                # rest, which is up to 64 eps * dmax (zipf(4.5) || geom(0.7): p_k d_k ~ k^-3.5
                # left 8.6e-12 beyond k = 2e4). Slowly varying terms: the rest by Euler-Maclaurin.
                if not tried_em and 64 * eps * dmax > thr:
                    tried_em = True
                    rest = em_sum(smooth_terms, edge + 1, end, np.zeros(0), what, total) if right else \
                        em_sum(smooth_terms, end, edge - 1, np.zeros(0), what, total)
                    if rest is not None:
                        total += rest
                break
            flat = flat + 1 if bound >= 0.95 * prev_bound else 0
            if flat >= 6:
                # p * |log p - log q| carries a non-shrinking mass ever further out:
                # the sum diverges (e.g. a zipf(2) p against a geometric q).
                return math.inf
            if used >= _MAX_TERMS:
                if bound > 1e-9 * abs(total):
                    warnings.warn(
                        f"{what}: stopped after {used:.3g} terms with a tail bound of {bound:.2e} "
                        f"against a sum of {total:.6e}; the result may be inaccurate",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                break
            prev_bound = bound
            step *= 2
    return total


def _em_wide(P: Univariate, Q: Univariate | None, s: float, terms: Callable[[np.ndarray], np.ndarray],
             what: str) -> float | None:
    """A discrete sum whose bulk is too wide to enumerate, by Euler-Maclaurin.

    The terms next to a finite end (:data:`_EM_HEAD` of them, where a pmf may
    vary fast) are summed one by one; the rest is the integral of the
    terms' continuous extension, split at p's and q's quantiles, plus the
    Euler-Maclaurin end corrections (:func:`klbook.core.engine.em_sum`).
    None when the terms vary too fast for the formula.
    """
    lo, hi = P.lo, P.hi
    head = tail = 0.0
    a, b = lo, hi
    with np.errstate(all="ignore"):
        if math.isfinite(lo):
            k = np.arange(lo, lo + _EM_HEAD, dtype=float)
            head = math.fsum(np.asarray(terms(k), dtype=float).tolist())
            a = lo + _EM_HEAD
        if math.isfinite(hi):
            k = np.arange(hi - _EM_HEAD + 1, hi + 1, dtype=float)
            tail = math.fsum(np.asarray(terms(k), dtype=float).tolist())
            b = hi - _EM_HEAD
        if b < a:
            return None
        pts = [quantiles(P, _EM_U)]
        if Q is not None:
            pts.append(quantiles(Q, _EM_U) - s)
        pts = np.concatenate(pts)
    pts = np.unique(np.round(pts[np.isfinite(pts)]))
    if not (math.isfinite(head) and math.isfinite(tail)):
        return math.inf
    body = em_sum(terms, a, b, pts, what, head + tail)
    if body is None:
        return None
    return head + body + tail


# --------------------------------------------------------------------------------------
def _as_pair(p: object, q: object) -> tuple[Univariate, Univariate]:
    P, Q = Univariate(p, "p"), Univariate(q, "q")
    return P, Q


def kl_numeric(p: object, q: object) -> float:
    r"""KL divergence :math:`D_{KL}(p\,\|\,q)` in nats by quadrature or summation.

    Works for any pair of univariate distributions: frozen ``scipy.stats``
    continuous or discrete distributions, or :class:`klbook.Distribution`
    objects (which supply ``logpdf``, ``cdf``, ``ppf``, ``support`` and
    optionally ``sf``, ``isf``, ``modes``; a discrete one sets
    ``discrete = True`` and may supply ``logpmf``).

    Parameters
    ----------
    p, q : distribution
        Both continuous or both discrete (otherwise the result is ``inf``:
        neither is absolutely continuous with respect to the other).

    Returns
    -------
    float
        :math:`D_{KL}(p\,\|\,q) \ge 0` in nats; ``math.inf`` when p is not
        absolutely continuous with respect to q. Never NaN.

    Notes
    -----
    **Support first.** ``inf`` is returned, before any integral, when p's
    support ``[a_p, b_p]`` (from ``support()``) is not inside q's; for discrete
    distributions also when the lattices ``loc_p + k`` and ``loc_q + k`` do not
    line up. scipy reports degenerate members too widely (``bernoulli(0)``:
    ``(0, 1)``); a part of p's reported support outside q's where p's log-pmf
    is exactly ``-inf`` is trimmed rather than declared infinite. Besides the
    support check, a discrete term with :math:`p_k > 0 = q_k` (degenerate q)
    gives ``inf``, and so does a sum or integral that diverges although the
    supports agree (a heavy-tailed p against a light-tailed q: Cauchy against
    normal, ``t(2)`` against normal, ``zipf(2)`` against geometric).

    **Continuous quadrature** (see the module docstring for the integrand).
    The body is split at p's quantiles (``ppf`` below the median, ``isf`` above) of levels
    :math:`10^{-12}, 10^{-9}, 10^{-6}, 10^{-4}, 10^{-3}`, :math:`0.01, 0.05, 0.1, 0.2, \dots, 0.9, 0.95, 0.99`
    and one minus each of the first five, at the modes of p and of q
    (local maxima of the log-density, where kinks such as Laplace's live),
    and at q's quantiles inside p's body (where :math:`p \ll q` the integrand
    is about q, whose mass must be resolved). Breakpoints closer to a finite
    support end than :math:`10^{-3}` of its distance to the median are left
    to the tail. Each piece is integrated by a vectorised, globally adaptive
    21-point Gauss-Kronrod rule until the summed estimates
    :math:`|K_{21} - G_{10}|` fall below :math:`10^{-13}` of the total; an
    estimate within 50 times the integrand's rounding noise (``logpdf``'s
    error of a few ulp of :math:`|\log p| + |\log q|`) counts as converged.
    Each tail is mapped to :math:`t \ge 0` on unit pieces:
    :math:`x = x_0 \pm w(e^t - 1)` out to :math:`|x| \approx 10^{150}` for an
    infinite end; :math:`x = e + (x_0 - e)e^{-t}` towards a finite end
    :math:`e` until :math:`|x - e|` reaches :math:`10^{-8}|e|` (or
    :math:`10^{-300}`). On an infinite tail, if the last quarter of the ladder
    still carries more than :math:`10^{-12}` of the total and is not smaller
    than the quarter before, the integral diverges (``inf``). What lies beyond
    the ladder is extrapolated geometrically from its last pieces, with a
    ``RuntimeWarning`` when that remainder exceeds :math:`10^{-10}` of the
    result (e.g. ``beta(0.5, 0.5)`` against anything: the mass within
    :math:`10^{-15}` of the end 1 is not resolvable in double precision).

    **Discrete sums and the stated tail bound.** Terms are summed exactly over
    the bulk :math:`[\mathrm{ppf}(10^{-12}), \mathrm{isf}(10^{-12})]` (the whole
    support when an end is within 4096 points), then outwards in chunks that
    double in length. Since :math:`p\,\varphi(d) \le p\,|d|` for :math:`d \ge 0`
    and :math:`\le q` for :math:`d < 0`, the remainder beyond :math:`K` obeys

    .. math::

        & \sum_{k > K} p_k\,\varphi(d_k) \\
        & \quad \le P(X > K)\,D_K + Q(Y > K), \\
        & D_K = \max(1, |d_K|, |d_{2K - a}|),

    assuming :math:`|d_k| \le D_K` where p's remaining mass lives (true for
    log-pmfs that are monotone or polynomial-logarithmic in :math:`k`, i.e.
    the scipy families). Summation stops once this bound and the last chunk
    are both :math:`\le 10^{-17}` of the partial sum (mirrored on the left).
    For families whose scipy cdf is the generic pmf sum (``zipf``,
    ``logser``, ``betanbinom``, ...) the remaining masses are
    :math:`1 -` (running sums), accurate to about :math:`10^{-16}`, and the
    sum also stops when both are below :math:`64\epsilon` and the last chunk
    is below :math:`10^{-17}` of the sum. A bound that fails to shrink over
    six doublings means divergence (``inf``). At most :math:`2\cdot10^{7}`
    terms in the bulk (else ``ValueError``) and :math:`4\cdot10^{6}` in the
    tails (then a ``RuntimeWarning`` if the bound still exceeds
    :math:`10^{-9}` of the sum).

    **Log-densities.** scipy's ``logpmf`` for binom and nbinom loses about
    :math:`10^{-16} n\log n` (relative error :math:`2\cdot10^{-10}` in the
    binomial pmf at :math:`n = 10^5`), so ``log(pmf)`` (Boost, a few ulp) is
    used where the pmf is a normal float, and the Poisson pmf is rebuilt in
    Loader's saddle-point form. For continuous families whose scipy
    ``logpdf`` is ``log(pdf)`` and underflows (laplace, pareto, levy, levy_l,
    hypsecant, moyal, foldnorm, foldcauchy, johnsonsu, loglaplace) the
    log-density is written out. For other such families, a q whose
    ``logpdf`` underflows to ``-inf`` inside its support where p still has
    mass raises ``ValueError`` (where p is below :math:`e^{-600}` the
    term is dropped). A node that lands exactly on an isolated zero of q
    (``dgamma`` with :math:`a > 1` at its centre) is moved by :math:`10^{-9}`
    of p's interquartile range. In the tails, a NaN log-density (scipy's
    formulas overflowing far out, e.g. ``exponpow`` at :math:`10^{150}`)
    counts as a zero density; in the body it raises ``ValueError``.
    Families whose shape is a vector (``poisson_binom``) are evaluated through
    their frozen methods; families without a usable ``ppf`` and no lower end
    (``skellam``) start the bulk at the mean :math:`\pm 10` standard deviations.

    **Accuracy.** On the pairs tested against 20-digit mpmath references the
    relative error is below :math:`10^{-15}`. The floor is the absolute
    rounding error of the log-densities (about :math:`10^{-16}|\log p|`): for
    near-identical pairs with :math:`|d| \sim \delta` the plain difference
    :math:`\log p - \log q` keeps a relative error of about
    :math:`10^{-16}|\log p|/\delta`. Two members of one scipy family whose
    parameters (shapes, loc, scale) differ by at most :math:`10^{-3}`
    (relative) get :math:`d` without that cancellation
    (:func:`klbook.core.engine.pair_log_ratio`): written forms for t,
    logistic, genlogistic, hypsecant, burr, burr12, fisk, gennorm, halfcauchy,
    halflogistic and gompertz (from :math:`x - w` and the differences of the
    parameters), for every other family an expansion of scipy's own
    log-density in its parameters about their midpoint (central differences
    0.5% apart divide the rounding by about :math:`5\cdot10^{-3}/\delta`).
    Two betas on one support whose shapes differ by at most 50% get
    :math:`d` as the sum of :math:`(a_1 - a_2)\log x`, :math:`(b_1 - b_2)\log(1 - x)`
    and a constant :math:`C` (log-gamma differences), next to an end from the
    log-distance to it.
    For such pairs the tails also integrate :math:`p\,\varphi(d)` (no cdf
    correction, whose two terms would cancel), a finite end of p other than 0
    is approached in the distance to it down to the last float before it
    (:math:`p\,\varphi(d) \to q` there), and q's mass beyond p's support (the
    sliver a loc or scale leaves between p's end and q's, whose width is taken
    from q's end in exact arithmetic: ``support()`` rounds it by
    :math:`10^{-16}`, :math:`10^{-10}` of a sliver of :math:`10^{-6}`) is
    q's density integrated towards q's end. Where the expansion's stencil
    straddles a kink or an end, a stencil 64 times narrower is tried before
    the plain difference; where scipy's formula itself cancels (pearson3), the
    plain difference's noise is measured and the expansion accepted within it.
    ``benchmarks/sweep_near_identical.py`` measures every
    scipy family at :math:`\delta = 10^{-6}` against mpmath: most stay below
    :math:`10^{-12}`; its table names the exceptions and their causes.

    Raises
    ------
    TypeError
        If ``p`` or ``q`` is not a univariate distribution.
    ValueError
        Invalid parameters, or a discrete bulk wider than the term limit.
        A log-density that is NaN, or q's ``log(pdf)`` underflowing where p has mass.

    Examples
    --------
    >>> from scipy import stats
    >>> round(kl_numeric(stats.norm(0, 1), stats.t(5)), 12)
    0.033376682351
    >>> kl_numeric(stats.cauchy(), stats.norm())
    inf
    """
    p, q = standardise_pair(p, q)
    P, Q = _as_pair(p, q)
    if P.discrete != Q.discrete:
        return math.inf
    if P.key == Q.key:
        return 0.0
    if P.discrete:
        return _kl_discrete(P, Q)
    # Support check (from support(), never from an integral).
    if P.lo < Q.lo or P.hi > Q.hi:
        return math.inf

    nudge = 1e-9 * max(float(np.ptp(quantiles(P, np.array([0.25, 0.75])))), 1e-300)

    def log_densities(x: np.ndarray, tail: bool) -> tuple[np.ndarray, np.ndarray]:
        lp = np.asarray(P.logdens(x), dtype=float).copy()
        lq = np.asarray(Q.logdens(x), dtype=float).copy()
        if tail:
            # Far out in the tails some scipy log-densities overflow into NaN
            # (exponpow at 1e150, invweibull at 1e-300): the density is 0 there.
            lp[np.isnan(lp)] = -np.inf
            lq[np.isnan(lq)] = -np.inf
        # An isolated zero of q inside its support (dgamma(a > 1) at its centre)
        # hit exactly by a node: evaluate both densities a hair away instead.
        hit = np.isneginf(lq) & (lp > -600.0)
        if hit.any():
            x2 = np.asarray(x, dtype=float)[hit] + nudge
            lq2 = np.asarray(Q.logdens(x2), dtype=float)
            ok = np.isfinite(lq2)
            if ok.any():
                idx = np.flatnonzero(hit)[ok]
                lq[idx] = lq2[ok]
                lp[idx] = np.asarray(P.logdens(x2[ok]), dtype=float)
        return lp, lq

    # Two nearly equal members of one family: log p - log q without cancellation (written
    # forms, else the expansion in the parameters); the tails then integrate p phi(d) too.
    ratio = pair_log_ratio(p, q)
    # For them the tails integrate p phi(d) too, which is >= 0 and tends to q where p vanishes,
    # and only q's mass outside p's support is added (the sliver a loc or scale that moves a
    # finite end leaves between the two ends, integrated from q's density towards q's end). A
    # finite end of p is approached in the distance to it out to the last float before it
    # (integrate_pair's ends_in_distance): stopping at 1e-8 |end| and extrapolating missed the
    # region within q's 1e-6 of the end (semicircular 8e-5, argus 3e-4) or lost 1e-10 (bradford).
    ratio_tails = ratio is not None

    def f(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            lp, lq = log_densities(x, tail=False)
            # q's log-density at -inf: a true zero (log-density written out) gives inf, an
            # underflow of log(pdf) a ValueError where p still has mass.
            if ratio is not None:
                dd, dn = ratio(x, lp, lq)
                out = kl_terms_log(lp, lq, Q.family, q_exact=Q.exact_logdens, d=dd)
                # p phi(d) moves by p |1 - e^-d| dn when d moves by dn
                noise = np.exp(lp) * np.abs(np.expm1(-np.clip(dd, -700, 700))) * dn + 4 * _EPS_N * np.abs(out)
                return out, np.where(np.isfinite(noise), noise, 0.0)
            return kl_terms_log(lp, lq, Q.family, with_noise=True, q_exact=Q.exact_logdens)

    def f_tail(x: np.ndarray, given: tuple[np.ndarray, np.ndarray, tuple] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # p * d in log form: log|p d| = log p + log|d|, sign of d; p = 0 contributes 0.
        # (given: the log-densities from the distance to p's end, see integrate_pair)
        with np.errstate(all="ignore"):
            if given is None:
                lp, lq = log_densities(x, tail=True)
            else:
                lp, lq = (np.array(v, dtype=float, ndmin=1) for v in given[:2])
                lp[np.isnan(lp)] = -np.inf
                lq[np.isnan(lq)] = -np.inf
            live = lp > -np.inf
            under = live & np.isneginf(lq)  # -inf: below the float range, or an underflow of log(pdf)
            if Q.exact_logdens:
                # a written-out log-density is -inf only below the float range: p d = +inf where
                # p is above e^-600, negligible below
                under &= lp <= -600.0
            if np.any(lp[under] > -600.0):
                raise ValueError(
                    f"the log-density of q ({Q.family}) underflows to -inf inside its support where p "
                    "still has mass; scipy computes it as log(pdf) for this family"
                )
            live &= ~under
            if ratio_tails:
                # (given: from the distance to p's end, the log-ratio from the members' distances too)
                d, dn = ratio(x, lp, lq, None if given is None else given[2])
                # p phi(d) = p d + q - p >= 0 (no cdf correction, which would cancel: Q(tails) ~ P(tails))
                d = np.where(live, d, 0.0)
                small = np.abs(d) < 0.1
                phi = np.where(small, _phi_small(np.where(small, d, 0.0)), d + np.expm1(-d))
                # d < -30: p phi(d) = q (1 + (d - 1) e^d), from log q itself (lp - d would cancel
                # when both are huge: kappa4 far in a tail, log p = -7e44, log q = -9e7)
                logabs = np.where(d < -30.0, lq + np.log1p((d - 1.0) * np.exp(d)), lp + np.log(phi))
                logabs = np.where(live & (phi > 0.0), logabs, -np.inf)
                # p = 0 < q inside p's support (p vanishing at its end): the term is q
                p0 = np.isneginf(lp) & np.isfinite(lq)
                logabs = np.where(p0, lq, logabs)
                # noise: p |1 - e^-d| dn + 4 eps p phi
                lnoise = np.logaddexp(lp + np.log(np.abs(np.expm1(-np.clip(d, -700, 700))) * dn),
                                      logabs + math.log(4 * _EPS_N))
                lnoise = np.where(p0, lq + math.log(4 * _EPS_N), lnoise)
                keep = (live | p0) & np.isfinite(logabs)
                return logabs, np.where(live | p0, 1.0, 0.0), np.where(keep, lnoise, -np.inf)
            d = lp - lq   # (ratio is None here: the pairs with one take the branch above)
            d = np.where(live, d, 0.0)
            logabs = np.where(live, lp + np.log(np.abs(d)), -np.inf)
            # rounding noise of p * d (the engine accepts a tail piece at that level: p = q given as
            # two different objects is pure noise)
            lnoise = lp + np.log(2 * np.finfo(float).eps * (np.abs(lp) + np.abs(lq) + 1.0))
            return logabs, np.where(live, np.sign(d), 0.0), np.where(live, lnoise, -np.inf)

    total, xl, xr = integrate_pair(P, Q, f, f_tail, "kl_numeric", ends_in_distance=ratio_tails)
    if math.isinf(total):
        return math.inf
    with np.errstate(all="ignore"):
        if ratio_tails:
            # the tails' integrand was p*phi(d) = p*d + q - p: add only q's mass outside p's support
            q_out = (Q.mass_to_end(P.lo, upper=False) if math.isfinite(P.lo) else 0.0) + (
                Q.mass_to_end(P.hi, upper=True) if math.isfinite(P.hi) else 0.0
            )
            return max(total + q_out, 0.0)
        # In the tails the integrand is p*d, not p*phi(d) = p*d + q - p, so add
        # Q(tails) - P(tails); Q(tails) includes q's mass outside p's support.
        # (mass_above: scipy's sf is 1 - cdf for some families, 1e-16 absolute)
        q_tails = float(np.asarray(Q.cdf(xl))) + Q.mass_above(xr)
        p_tails = float(np.asarray(P.cdf(xl))) + P.mass_above(xr)
    return max(total + (q_tails - p_tails), 0.0)


def _kl_discrete(P: Univariate, Q: Univariate) -> float:
    """The discrete branch of :func:`kl_numeric` (standardised coordinates)."""
    shift = P.loc - Q.loc
    if shift != round(shift):
        return math.inf  # the atoms of p sit between q's atoms
    s = float(round(shift))
    # p's support in q's coordinates must lie inside q's. scipy reports the
    # support of degenerate members too widely (bernoulli(0): (0, 1)); a part
    # outside q's support where p's log-pmf is exactly -inf (a zero mass, not
    # an underflow: log-pmfs do not underflow) is trimmed instead.
    for left in (True, False):
        if left and P.lo + s < Q.lo:
            region = (P.lo, Q.lo - s - 1)
        elif not left and P.hi + s > Q.hi:
            region = (Q.hi - s + 1, P.hi)
        else:
            continue
        probe = np.array([v for v in region if math.isfinite(v)], dtype=float)
        with np.errstate(all="ignore"):
            lp = np.asarray(P.logdens(probe), dtype=float)
        if probe.size == 0 or np.any(lp > -np.inf):
            return math.inf
        if left:
            P.lo = Q.lo - s
        else:
            P.hi = Q.hi - s
    lo, hi = P.lo + s, P.hi + s  # p's support in q's coordinates
    if lo > hi:
        return math.inf

    total = _discrete_sum(P, Q, s, "kl_numeric")
    if math.isinf(total):
        return math.inf
    q_out = 0.0
    with np.errstate(all="ignore"):
        if lo > Q.lo:
            q_out += float(Q.cdf(lo - 1))
        if hi < Q.hi:
            q_out += float(Q.sf(hi))
    return max(total + q_out, 0.0)


def entropy_numeric(p: object) -> float:
    r"""Entropy of one univariate distribution in nats, by quadrature or summation.

    Differential entropy :math:`H(p) = -\int p \log p\,dx` for a continuous
    ``p``, Shannon entropy :math:`H(p) = -\sum_k p_k \log p_k` for a discrete
    one, with :math:`0 \log 0 = 0`.

    Parameters
    ----------
    p : distribution
        A frozen univariate ``scipy.stats`` distribution or a
        :class:`klbook.Distribution`.

    Returns
    -------
    float
        The entropy in nats (may be negative for a continuous ``p``; ``inf``
        if the integral diverges).

    Notes
    -----
    The same machinery as :func:`kl_numeric`: p's quantiles and modes as
    breakpoints, adaptive Gauss-Kronrod pieces, tail ladders; discrete sums are
    truncated once :math:`P(X > K)` times :math:`\max(1, |\log p_K|, |\log p_{2K-a}|)` and the
    last chunk are below :math:`10^{-17}` of the partial sum.
    """
    P = Univariate(p, "p")
    if P.discrete:
        return _discrete_sum(P, None, 0.0, "entropy_numeric")

    def f(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            return entropy_terms_log(P.logdens(x))

    def f_tail(x: np.ndarray, given: tuple[np.ndarray, None, tuple] | None = None) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            # (given: log p from the distance to p's end, see integrate_pair)
            lp = np.array(P.logdens(x) if given is None else given[0], dtype=float, ndmin=1)
            lp[np.isnan(lp)] = -np.inf  # overflow far out in the tails (see kl_numeric)
            live = np.isfinite(lp)
            return np.where(live, lp + np.log(np.abs(lp)), -np.inf), np.where(live, -np.sign(lp), 0.0)

    total, _, _ = integrate_pair(P, None, f, f_tail, "entropy_numeric")
    return total
