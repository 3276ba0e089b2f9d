r"""Kullback-Leibler divergence, entropy and cross-entropy: the public dispatchers and the vector engine.

:func:`kl_divergence`, :func:`entropy` and :func:`cross_entropy` accept either two
probability vectors or two distribution objects (frozen ``scipy.stats``
distributions, frozen ``multivariate_normal``, :class:`klbook.Distribution`).
Distributions go to :func:`klbook.core.closed_forms.kl_distributions`; vectors go to
the vector engine of this module.

.. rubric:: How the vector engine avoids cancellation

For probability vectors :math:`p, q` the divergence is

.. math::

   D_{KL}(p\,\|\,q) = \sum_i p_i \log\frac{p_i}{q_i}.

Summed as written it cancels catastrophically when :math:`p \approx q`: each
term is :math:`O(\delta)` while the sum is :math:`O(\delta^2)`. For every term
with :math:`\tfrac12 \le p_i/q_i \le 2` (a "near" term) the engine uses

.. math::

   & p\log\frac{p}{q} = q\,g(r) + (p - q), \\
   & r = \frac{p-q}{q}, \\
   & g(r) = (1+r)\log(1+r) - r \ \ge 0 .

There :math:`p - q` is exact (Sterbenz's lemma) and :math:`q\,g(r)` is evaluated
without cancellation, in double-double arithmetic where it decides the last bit:

* for :math:`|r| < 3.5/64`, :math:`2q\,g(r) = w + w\,r\,T_2(r)` with
  :math:`w = (p-q)^2/q` and the Taylor series
  :math:`T_2(r) = -\tfrac13 + \tfrac{r}{6} - \tfrac{r^2}{10} + \dots` of :math:`2\,(g(r)/r^2 - \tfrac12)/r`
  (degree chosen from :math:`\max|r|`); :math:`w` is formed to :math:`O(2^{-106})` from
  the exact remainder of :math:`r = \mathrm{fl}((p-q)/q)` (Dekker's TwoProduct,
  no fused multiply-add needed), the small part :math:`w\,r\,T_2` (at most 2 % of
  :math:`w`) in double;
* otherwise from a table of :math:`g(k/64)` and :math:`\log(1 + k/64)` (double-double
  values) and the exact identity

  .. math::

     & g(r_0 + h) = g(r_0) + h\log(1 + r_0) \\
     & \quad {} + (1 + r_0)\,g\!\left(\frac{h}{1+r_0}\right),

  its first two terms added by TwoProduct and TwoSum, the remainder of :math:`r`
  entering through :math:`g'(r) = \log(1 + r)`;

and the linear parts :math:`\sum_i (p_i - q_i)`, which need not vanish because
vectors only sum to 1 within ``SUM_RTOL``, are summed exactly by vectorised
error-free extraction (Rump, Ogita & Oishi, SIAM J. Sci. Comput. 31, 2008).
The remaining ("far") terms are summed as :math:`p\log(p/q)`, with
:math:`\log p - \log q` where :math:`p/q` over- or underflows; their
cancellation is bounded, since :math:`p\log(p/q) - (p - q)` is at least a fixed
fraction of :math:`|p\log(p/q)|` outside :math:`[\tfrac12, 2]`.

.. rubric:: Speed

Short vectors (at most 64 entries) are computed with a few numpy calls in long
double (64-bit significand where the platform has it): ``sum q g(r) + sum(p - q)`` with
the series of :math:`g` when every ratio is within 1/32 of 1, ``p log1p(r) - (p - q)``
when every ratio is in :math:`[\tfrac12, 2]`, else ``p log(p/q)``. Every rounding error is
bounded, and the value is kept only when the bound is at most 0.3 u of it (u = 2**-53);
otherwise the block path below computes it (see ``_kl_small``).

Long vectors whose every ratio is within 1/64 of 1 take ``_near_long`` first: per block
of ``2**14`` entries ``sum(p - q)`` exactly (every ``p_i - q_i`` is a multiple ``k_i Q`` of
the quantum ``Q`` of ``min(q)/2``: a plain sum when no partial sum can round, else the bits
of ``p_i - q_i + 1.5 * 2**52 Q`` summed as integers (one addition), else the integers
``k_i`` summed as int64, else error-free extraction), ``w = (p - q)^2/q`` summed in groups
of 8 (16 from ``2**19`` entries) whose sums are summed exactly at the end, and the rest of
the series of :math:`2q\,g(r)` as power sums ``sum w r^j``, as many as the data need (one
matrix product of the rows ``p - q, w`` with ``r, 1``, which also gives ``sum(p - q)``, or
with ``r, r^3``); the checks and sums of absolute values are single BLAS passes (``idamax``,
``dasum``) or ride on sums made anyway (``max|r|`` from the group sums of ``w`` or from
``sum|r^3|``, ``sum|p - q|`` from ``sum w``). The result is kept when the probabilistic bound
below is at most 0.15 ulp. That is 7 to 13 passes over a block in cache, against about 30
for the block path.

Otherwise vectors are processed in blocks of ``2**14`` entries whose work arrays stay in
the level-2 cache. Blocks where every term is near (near-equal vectors) take the
careful path, which needs no logarithm at all; for vectors longer than ``2**16``
entries its series terms are first summed in plain double (:math:`w` rounded
twice, the sum of :math:`w` exact by extraction, or numpy's pairwise sum for
vectors of ``2**23`` entries and more), and summed again in double-double only if
the probabilistic error bound below exceeds 0.15 ulp of the result. Blocks that mix
near and far terms first take a single fast pass (one ``log`` per entry); the
careful path is run on them afterwards only when the rounding errors of their
near terms could matter. Both tests use the probabilistic rounding-error analysis of Higham &
Mary (SIAM J. Sci. Comput. 41, 2019): independent rounding errors bounded by
:math:`c_i` sum to more than :math:`\lambda\sqrt{\sum_i c_i^2}` with probability
below :math:`2e^{-\lambda^2/2}` (:math:`\lambda = 6`). For the mixed blocks
:math:`c_i = (1 + 2\log 2)\,p_i\,2^{-53}` for :math:`p_i\log(p_i/q_i)`, and the fast
result is kept only if that is below half an ulp of the result.
"""

from __future__ import annotations

import bisect
import decimal
import math
import numbers
import threading

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg.blas import dasum, idamax
from scipy.stats._distn_infrastructure import rv_generic
from scipy.stats._multivariate import multi_rv_frozen, multi_rv_generic

from ._checks import check_base, to_base
from .closed_forms import entropy_distribution, is_distribution, kl_distributions, kl_validated

__all__ = ["kl_divergence", "entropy", "cross_entropy", "SUM_RTOL"]

SUM_RTOL: float = 1e-9
"""Tolerance on the sum of a probability vector: ``abs(sum(p) - 1) <= SUM_RTOL``.

Any float64 vector normalised by dividing by its (pairwise) floating-point sum
sums to 1 within about ``(log2(n) + 1) * 2**-53`` (3e-15 for n = 10**7), and
probabilities typed with 10 significant digits are within 1e-10; ``1e-9`` accepts
both with a wide margin, yet rejects any vector that is genuinely unnormalised
(a lost or duplicated entry, counts instead of frequencies, float32 rounding).
klbook never renormalises: divide by the sum yourself if that is what you mean.
"""

_TINY = float(np.finfo(np.float64).tiny)  # smallest normal float, 2.2250738585072014e-308
_CHUNK = 1 << 14  # entries per block: few Python-level steps, temporaries reused from block to block
_N_CAREFUL = 1 << 16  # up to this length every near term takes the double-double path
_LAMBDA = 6.0  # probabilistic bound: P(|error| > lambda sigma) < 2 exp(-lambda^2 / 2) = 3e-8
_U = 2.0**-53  # unit roundoff
_SUM, _MAX, _MIN = np.add.reduce, np.maximum.reduce, np.minimum.reduce  # pairwise sum; no wrapper overhead
_N_PLAIN = 1 << 23  # fast near blocks of vectors at least this long: plain pairwise sums of w (see _kl_vectors)
_W_NEAR = 1.0 + 2.0 * math.log(2.0)  # |error of p log(p/q)| <= _W_NEAR * p * 2**-53 for 1/2 <= p/q <= 2

# --------------------------------------------------------------------------
# g(r) = (1 + r) log(1 + r) - r = r^2 * S(r),  S(r) = sum_j (-1)^j r^j / ((j + 1)(j + 2))
# --------------------------------------------------------------------------

_S_COEF = [(-1.0) ** j / ((j + 1) * (j + 2)) for j in range(48)]
_R_SERIES = 3.5 / 64.0  # the series is used for |r| < 3.5/64, the table for 4 <= |64 r|


def _series_degree(m: float) -> int:
    """Smallest degree J with truncation error of S(r) below 2**-56 for |r| <= m < 1/2."""
    for j in range(len(_S_COEF) - 1):
        tail = m ** (j + 1) / ((j + 2) * (j + 3)) / (1.0 - m)
        if tail <= 2.0**-56:
            return j
    raise AssertionError("series degree table too short")  # pragma: no cover - m < 1/2 always


def _horner_S(x: np.ndarray, degree: int, out: np.ndarray) -> np.ndarray:
    """S(x) = sum_{j <= degree} c_j x^j by Horner's rule, into ``out``."""
    if degree == 0:
        out.fill(_S_COEF[0])
        return out
    np.multiply(x, _S_COEF[degree], out=out)
    out += _S_COEF[degree - 1]
    for j in range(degree - 2, -1, -1):
        out *= x
        out += _S_COEF[j]
    return out


def _make_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """g(k/64) and log(1 + k/64) for k = -32..64 as double-double pairs (hi correctly rounded, lo the rest).

    Computed in 50-digit decimal arithmetic.
    """
    ctx = decimal.Context(prec=50)
    g0, g0_lo, l0, l0_lo = [], [], [], []
    for k in range(-32, 65):
        r0 = decimal.Decimal(k) / decimal.Decimal(64)  # exact: k/64 is a finite decimal
        c = ctx.add(decimal.Decimal(1), r0)
        lc = c.ln(ctx)
        gc = ctx.subtract(ctx.multiply(c, lc), r0)
        for val, hi, lo in ((lc, l0, l0_lo), (gc, g0, g0_lo)):
            hi.append(float(val))
            lo.append(float(ctx.subtract(val, decimal.Decimal(hi[-1]))))
    return np.array(g0), np.array(l0), np.array(g0_lo), np.array(l0_lo)


_G0, _L0, _G0_LO, _L0_LO = _make_table()
_TABLE_DEGREE = _series_degree(1.0 / 64.0)  # |h / (1 + r0)| <= (1/128) / (1/2)


_BUFFER_NAMES = ("ratio", "d", "r", "t1", "t2", "a2", "b2", "w", "t3")
_buffers = threading.local()  # per thread: concurrent calls must not share work space


def _work_buffers() -> dict[str, np.ndarray]:
    """Work arrays of one block, kept from call to call (fresh ones would cost page faults every time)."""
    bufs = getattr(_buffers, "arrays", None)
    if bufs is None or bufs["d"].size != _CHUNK:
        bufs = _buffers.arrays = {name: np.empty(_CHUNK) for name in _BUFFER_NAMES}
    return bufs


class _Acc:
    """Floats whose exact sum is the result, bookkeeping for the error bounds, and work buffers."""

    __slots__ = ("parts", "parts2", "fast2", "neglected", "neglected2", "fast_var", "fast_det", "n_fast",
                 "extract", "last_dsum") + _BUFFER_NAMES

    def __init__(self) -> None:
        self.parts: list[float] = []  # floats whose exact sum is part of the result
        self.parts2: list[float] = []  # floats whose exact sum is twice a part of the result
        self.fast2: list[float] = []  # the same, from near blocks summed in plain double (see _kl_vectors)
        self.neglected = 0.0  # bound on what the early-stopped exact sums of ``parts`` left out
        self.neglected2 = 0.0  # the same for ``parts2``
        self.fast_var = 0.0  # sum of squared bounds of independent rounding errors in ``fast2``
        self.fast_det = 0.0  # bound on the other errors in ``fast2``, in units of 2**-53
        self.n_fast = 0  # near blocks summed into ``fast2``
        self.extract = True  # fast near blocks: sum w exactly (error-free extraction)
        self.last_dsum = 0.0  # sum(a - b) of the last block _careful_near took (rounded once)
        for name, arr in _work_buffers().items():
            setattr(self, name, arr)


def _pairwise_error(n: int) -> float:
    """Bound on |fl(sum x) - sum x| / sum|x| for numpy's pairwise summation of n terms."""
    return (n.bit_length() + 24) * 2.0**-53


def _extract_sum(x: np.ndarray, floor: float, parts: list[float], t: np.ndarray, m: float | None = None) -> float:
    """Append to ``parts`` floats whose exact sum is sum(x), up to at most ``floor``; return what was left out (a bound).

    Error-free vectorised extraction (Rump, Ogita & Oishi, "Accurate floating-point
    summation, part I", SIAM J. Sci. Comput. 31, 2008, ExtractVector): with
    sigma = 2**(M + e), 2**M >= n + 2 and max|x| < 2**e, ``t = (sigma + x) - sigma``
    and ``x - t`` are exact, and ``sum(t)`` is exact in any order. Each pass takes
    53 - M bits off every entry; once the plain (pairwise) sum of what is left is
    certainly within ``floor``, that sum ends it. ``x`` and ``t`` are overwritten.
    ``m``: max|x| when the caller knows it.
    """
    n = x.size
    if m is None:
        m = float(_MAX(np.abs(x, out=t)))
    if m == 0.0:
        return 0.0
    M = (n + 1).bit_length()  # 2**M >= n + 2
    e = math.frexp(m)[1]  # every |x_i| < 2**e
    err = _pairwise_error(n)
    passes = 0
    while True:
        if e + M <= -1021:
            # n 2**e <= 2**-1021: every partial sum is an exact multiple of 2**-1074
            parts.append(float(_SUM(x)))
            return 0.0
        bound = n * math.ldexp(err, e)
        if bound <= floor:
            parts.append(float(_SUM(x)))
            return bound
        if passes and not x.any():
            return 0.0
        passes += 1
        sigma = math.ldexp(1.0, e + M)
        np.add(x, sigma, out=t)
        t -= sigma
        parts.append(float(_SUM(t)))
        x -= t
        e = e + M - 53  # now every |x_i| <= 2**-53 sigma = 2**e


# 2 q g(r) = w + w r T2(r) with w = d r = d^2 / q and T2(r) = 2 (S(r) - 1/2) / r = -1/3 + r/6 - r^2/10 + ...
_T2_COEF = [2.0 * c for c in _S_COEF[1:]]
_SPLITTER = 134217729.0  # 2**27 + 1: Dekker's split of a float into two 26-bit halves


def _horner_T2(r: np.ndarray, degree: int, out: np.ndarray) -> np.ndarray:
    """T2(r) = sum_{j <= degree} 2 c_{j+1} r^j by Horner's rule, into ``out``."""
    np.multiply(r, _T2_COEF[degree], out=out)
    if degree == 0:
        out.fill(_T2_COEF[0])
        return out
    out += _T2_COEF[degree - 1]
    for j in range(degree - 2, -1, -1):
        out *= r
        out += _T2_COEF[j]
    return out


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x = hi + lo exactly, hi and lo with at most 26 significant bits (Dekker; |x| < 2**996)."""
    c = x * _SPLITTER
    hi = c - (c - x)
    return hi, x - hi


def _two_prod_error(xh: np.ndarray, xl: np.ndarray, yh: np.ndarray, yl: np.ndarray, prod: np.ndarray) -> np.ndarray:
    """x y - fl(x y), exactly (Dekker's TwoProduct without a fused multiply-add)."""
    e = xh * yh
    e -= prod
    e += xh * yl
    e += xl * yh
    e += xl * yl
    return e


def _series_accurate(d: np.ndarray, b: np.ndarray, r: np.ndarray, m: float, acc: _Acc) -> float:
    """Add sum 2 q g(r) (|r| <= m < 3.5/64) to ``acc.parts2``, to about 0.05 ulp of itself.

    ``w = d^2 / q`` in double-double: ``r = fl(d / q)`` has the exact remainder
    ``d - r q`` (TwoProduct), so ``w = d r + d (d - r q) / q`` is known to
    :math:`O(u^2)`; the small part ``w r T2(r)`` (at most ``m/3`` of ``w``) in double.
    Both sums are exact up to a floor of ``2**-62`` of the result (error-free extraction).
    Returns an estimate of the sum.
    """
    r_lo, rh, rl = _ratio_remainder(d, b, r)
    wh = d * r
    dh, dl = _split(d)
    lo = _two_prod_error(dh, dl, rh, rl, wh)
    r_lo *= d
    lo += r_lo
    degree = _series_degree(m)
    if degree >= 1:
        tau = _horner_T2(r, degree - 1, np.empty_like(r))
        tau *= r
        tau *= wh
        lo += tau
    sw = float(np.sum(wh))
    floor = 2.0**-62 * sw
    acc.neglected2 += _extract_sum(wh, floor, acc.parts2, np.empty_like(wh))
    acc.neglected2 += _extract_sum(lo, floor, acc.parts2, np.empty_like(lo))
    return sw


def _ratio_remainder(d: np.ndarray, b: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """((d - r b) / b, hi, lo): the rest of ``r = fl(d / b)`` (to O(u^2) of r) and Dekker's halves of r."""
    ph = r * b
    rh, rl = _split(r)
    bh, bl = _split(b)
    r_lo = d - ph  # exact (Sterbenz: r b = d (1 + 2u at most))
    r_lo -= _two_prod_error(rh, rl, bh, bl, ph)
    r_lo /= b
    return r_lo, rh, rl


def _table_accurate(d: np.ndarray, b: np.ndarray, r: np.ndarray, acc: _Acc) -> float:
    """Add sum q g(r) for 3.5/64 <= |r|, -1/2 <= r <= 1 to ``acc.parts``, to about 0.2 ulp of itself.

    ``g(r) = g(r0) + h log(1 + r0) + (1 + r0) g(h / (1 + r0))`` with ``r0 = k/64``: the
    table values in double-double, ``h log(1 + r0)`` by TwoProduct, the first two terms
    added by TwoSum; the last term (at most 5 % of g) in double; the rest of
    ``r = fl(d / q)`` enters through ``g'(r) = log(1 + r)``; the product with q by TwoProduct.
    Returns an estimate of the sum.
    """
    r_lo, _, _ = _ratio_remainder(d, b, r)
    kf = np.rint(r * 64.0)
    h = r - kf * (1.0 / 64.0)  # exact (Sterbenz)
    ki = kf.astype(np.intp)
    ki += 32
    c = kf * (1.0 / 64.0)
    c += 1.0  # 1 + r0, exact
    s = h / c
    gs = _horner_S(s, _TABLE_DEGREE, np.empty_like(s))
    gs *= s
    gs *= s
    gs *= c  # (1 + r0) g(s)
    l0 = _L0.take(ki)
    t1 = h * l0
    hh, hl = _split(h)
    lh, ll = _split(l0)
    lo = _two_prod_error(hh, hl, lh, ll, t1)
    g0 = _G0.take(ki)
    gh = g0 + t1
    z = gh - g0  # TwoSum (Knuth): g0 + t1 = gh + ((g0 - (gh - z)) + (t1 - z)) exactly
    lo += g0 - (gh - z)
    lo += t1 - z
    lo += _G0_LO.take(ki)
    lo += h * _L0_LO.take(ki)
    lo += gs
    r_lo *= np.log1p(r)
    lo += r_lo
    ph = gh * b
    gh_h, gh_l = _split(gh)
    bh, bl = _split(b)
    out = _two_prod_error(gh_h, gh_l, bh, bl, ph)
    lo *= b
    out += lo
    sp = float(_SUM(ph))
    floor = 2.0**-62 * sp
    acc.neglected += _extract_sum(ph, floor, acc.parts, np.empty_like(ph))
    acc.neglected += _extract_sum(out, floor, acc.parts, np.empty_like(out))
    return sp


def _series_fast(d: np.ndarray, r: np.ndarray, m: float, md: float, acc: _Acc, extract: bool) -> float:
    """Add sum 2 q g(r) (|r| <= m < 3.5/64) to ``acc.fast2`` in plain double (one rounding per step).

    Records the error bounds of :func:`_kl_vectors`' acceptance test: every term
    ``w = fl(d fl(d / q))`` is within ``2u w`` of ``d^2 / q`` (independent roundings,
    ``acc.fast_var`` sums their squares), the small part adds at most
    ``(degree + 3 + log2 n) u`` of its size (``acc.fast_det``); with ``extract`` the
    sum of ``w`` is exact (error-free extraction), otherwise numpy's pairwise sum,
    whose rounding errors are counted as one of ``u`` times the block's sum.
    Returns an estimate of the sum.
    """
    n = d.size
    w = np.multiply(d, r, out=acc.w[:n])
    mw = m * md  # every w = d r <= max|d| max|r|
    degree = _series_degree(m)
    if degree >= 1:
        if degree == 1:  # T2 = -1/3
            tau = np.multiply(r, _T2_COEF[0], out=acc.t3[:n])
        else:
            tau = _horner_T2(r, degree - 1, acc.t3[:n])
            tau *= r
        tau *= w
        acc.fast2.append(float(_SUM(tau)))
    if extract:
        before = len(acc.fast2)
        acc.fast_det += _extract_sum(w, 2.0**-62 * mw, acc.fast2, acc.t3[:n], float(_MAX(w))) / _U
        sw_est = math.fsum(acc.fast2[before:])
    else:
        sw_est = float(_SUM(w))
        acc.fast2.append(sw_est)
        acc.fast_var += sw_est * sw_est
    acc.fast_var += 4.0 * mw * sw_est
    if degree >= 1:
        acc.fast_det += (degree + 3 + n.bit_length()) * (m / 3.0) * (1.0 + m) * sw_est
    return sw_est



def _careful_near(
    a: np.ndarray, b: np.ndarray, acc: _Acc, exact: bool, check: bool = False, fast: bool = False, linear: bool = True
) -> bool:
    """Add sum a log(a/b) for entries with 1/2 <= a/b <= 2 (a >= 0, b > 0), without cancellation.

    With ``check``, first make sure that every |a/b - 1| <= 1/2 (a sufficient condition),
    and return False, having added nothing, if not. ``fast``: series terms in plain double
    (:func:`_series_fast`, counted in ``acc.n_fast``), else :func:`_series_accurate`.
    ``linear=False`` leaves out the linear part sum(a - b) (a block summed again).
    """
    n = a.size
    acc.last_dsum = 0.0
    d = np.subtract(a, b, out=acc.d[:n])  # exact (Sterbenz)
    r = np.divide(d, b, out=acc.r[:n])
    rmax = float(_MAX(r))
    rmin = float(_MIN(r))
    m = max(rmax, -rmin)
    if check and not m <= 0.5:  # NaN (0/0) fails too
        return False
    if m == 0.0:
        return True
    md = max(float(_MAX(d)), -float(_MIN(d)))
    if m < _R_SERIES:
        if fast:
            sp2 = _series_fast(d, r, m, md, acc, acc.extract)
            acc.n_fast += 1
        else:
            sp2 = _series_accurate(d, b, r, m, acc)
    else:
        ar = np.abs(r, out=acc.t1[:n])
        small = ar < _R_SERIES
        i_s = np.flatnonzero(small)
        i_t = np.flatnonzero(~small)
        sp2 = 0.0
        if i_s.size:
            ds, rs = d[i_s], r[i_s]
            ms = float(ar[i_s].max())
            if fast:
                sp2 = _series_fast(ds, rs, ms, md, acc, acc.extract)
                acc.n_fast += 1
            else:
                sp2 = _series_accurate(ds, b[i_s], rs, ms, acc)
        sp2 += 2.0 * _table_accurate(d[i_t], b[i_t], r[i_t], acc)
    if linear:
        k = len(acc.parts)
        acc.neglected += _extract_sum(d, 0.0 if exact else 2.0**-59 * sp2, acc.parts, acc.t1[:n], md)
        acc.last_dsum = math.fsum(acc.parts[k:])
    return True


def _far_sum(a: np.ndarray, b: np.ndarray, ratio: np.ndarray, lr: np.ndarray, safe: bool = False) -> float:
    """sum a log(a/b), term by term (``inf`` if some a > 0 = b); 0 log 0 = 0. ``lr`` is work space.

    ``safe``: the caller knows every ratio is a normal finite float (no zeros, over- or underflow).
    """
    np.log(ratio, out=lr)
    if not (safe or (float(ratio.min()) >= _TINY and float(ratio.max()) < math.inf)):  # NaN fails too
        zp = a == 0.0
        bad = ~((ratio >= _TINY) & (ratio < math.inf))
        bad &= ~zp
        ib = np.flatnonzero(bad)
        if ib.size:
            bb = b[ib]
            if not bb.all():
                return math.inf
            # p/q over- or underflows (or is subnormal): log p - log q keeps full accuracy here
            lr[ib] = np.log(a[ib]) - np.log(bb)
        lr[zp] = 0.0
    lr *= a
    return float(np.sum(lr))  # pairwise summation (no BLAS dot: its threads stall on a busy machine)


def _careful_mixed(a: np.ndarray, b: np.ndarray, ratio: np.ndarray, acc: _Acc, exact: bool) -> bool:
    """One block by the careful path. Returns False when the divergence is infinite."""
    n = a.size
    near = (ratio >= 0.5) & (ratio <= 2.0)
    far = ~near
    if not (far & (a != 0.0)).any():
        # every far entry has p = 0 and contributes 0: neutralise it (p = q = 1) instead of gathering
        a2, b2 = acc.a2[:n], acc.b2[:n]
        np.copyto(a2, a)
        np.copyto(b2, b)
        np.copyto(a2, 1.0, where=far)
        np.copyto(b2, 1.0, where=far)
        _careful_near(a2, b2, acc, exact)
        return True
    i_n = np.flatnonzero(near)
    if i_n.size:
        _careful_near(a[i_n], b[i_n], acc, exact)
    i_f = np.flatnonzero(far)
    t = _far_sum(a[i_f], b[i_f], ratio[i_f], np.empty(i_f.size))
    if t == math.inf:
        return False
    acc.parts.append(t)
    return True


def _only_zeros_far(a: np.ndarray, ratio: np.ndarray) -> bool:
    """True when every entry outside 1/2 <= a/b <= 2 has a = 0."""
    return not (~((ratio >= 0.5) & (ratio <= 2.0)) & (a != 0.0)).any()


def _maybe_all_near(a: np.ndarray, b: np.ndarray) -> bool:
    """Cheap screen on four entries: could every entry have 1/2 <= a/b <= 2 or a = 0?"""
    n = a.size
    for i in (0, n // 3, (2 * n) // 3, n - 1):
        x, y = a.item(i), b.item(i)
        if not (x == 0.0 or 0.5 * y <= x <= 2.0 * y):
            return False
    return True


_NEAR_BLOCK = 1 << 14  # entries per block of the long near path (_near_long)
_DOT_BLOCK = 8192  # at most this many entries per np.dot: OpenBLAS runs longer dots on several threads
_R_LONG = 2.0**-6  # _near_long takes blocks whose every |r| is at most this
_J_LONG = 8  # and needs at most this many power sums of the series
_NEAR_FLUSH = 1 << 16  # _near_long sums its group sums exactly whenever this many are waiting
# dasum (BLAS, single-threaded below 10**5 entries) adds |x| in some order: for k <= 2**22 entries
# its result is within (k - 1) u < 2**-31 of the exact sum; this factor makes it an upper bound
_SAFE_BLAS = 1.0 + 2.0**-30


def _dot(x: np.ndarray, y: np.ndarray) -> float:
    """sum x y with np.dot on pieces of at most _DOT_BLOCK entries (single-threaded BLAS, no temporaries)."""
    k = x.size
    if k <= _DOT_BLOCK:
        return float(np.dot(x, y))
    if k <= 2 * _DOT_BLOCK:
        return float(np.dot(x[:_DOT_BLOCK], y[:_DOT_BLOCK])) + float(np.dot(x[_DOT_BLOCK:], y[_DOT_BLOCK:]))
    return math.fsum([float(np.dot(x[i : i + _DOT_BLOCK], y[i : i + _DOT_BLOCK])) for i in range(0, k, _DOT_BLOCK)])


def _flush_groups(v: np.ndarray, t: np.ndarray, parts: list[float], ss: float, neg: float) -> tuple[float, float]:
    """Sum the group sums ``v`` (>= 0) exactly into ``parts``; return ``ss + sum v^2`` and ``neg`` + what was left out."""
    if v.size:
        for i in range(0, v.size, _DOT_BLOCK):
            x = v[i : i + _DOT_BLOCK]
            ss += float(np.dot(x, x))
        neg += _extract_sum(v, 2.0**-63 * float(_SUM(v)), parts, t[: v.size], float(_MAX(v)))
    return ss, neg


def _near_buffers(nb: int, nv: int) -> tuple[np.ndarray, ...]:
    """Work arrays of :func:`_near_long`, kept per thread from call to call.

    ``DW`` (rows p - q and w) and ``RX`` (rows r, r^3 and ones, the last written once here)
    of ``nb`` entries, laid out as matrices so that one matrix product gives the power sums of
    a block, with ``sum(p - q)`` from the row of ones when only ``s_1`` is needed (with the
    blocks of ``p`` and ``q`` being read, 0.8 MB for 2**14 entries: they stay in a level-2 cache); a
    float and an int64 array of ``nb`` entries (the higher powers, the integers of p - q);
    two arrays of ``nv`` entries for the group sums.
    """
    bufs = getattr(_buffers, "near", None)
    if bufs is None or bufs[0].shape[1] != nb or bufs[4].size != nv:
        bufs = _buffers.near = (
            np.empty((2, nb)), np.empty((3, nb)), np.empty(nb), np.empty(nb, dtype=np.int64), np.empty(nv), np.empty(nv)
        )
        bufs[1][2] = 1.0
    return bufs


def _near_rows(n: int) -> int:
    """Group size of :func:`_near_long`'s sums of w: 8, or 16 for vectors of 2**19 entries and more.

    Each group sum carries up to rows - 1 roundings; with n / rows groups of similar size the
    error bound grows as sqrt(rows (rows + 1) / n) of the result (times ``_LAMBDA`` u: 0.14 u,
    about 0.07 ulp of the 0.15 allowed, for 16 rows at 2**19 entries; 0.07 u for 8), while the
    exact sum at the end costs n / rows.
    """
    return 8 if n < 1 << 19 else 16


def _scaled_int_sum(d: np.ndarray, es: int, t: np.ndarray, ib: np.ndarray, approx: float | None) -> int:
    """``sum(d) * 2**es`` exactly, as a Python int, when every ``d * 2**es`` is an integer below 2**63.

    The scaling by a power of two is exact, so is the conversion of those integers to int64;
    they are summed modulo 2**64 (as uint64, whose wrap-around is defined). The sum itself is
    the representative in ``[-2**63, 2**63)`` when ``approx`` is None (the caller knows that
    ``sum|d| * 2**es < 2**63``), else the one nearest to ``approx``, an estimate of it within
    2**62. ``t`` (float) and ``ib`` (int64) are work arrays of the size of ``d``.
    """
    np.multiply(d, math.ldexp(1.0, es), out=t)
    np.copyto(ib, t, casting="unsafe")
    s = int(_SUM(ib.view(np.uint64)))
    if approx is None:
        return s - (1 << 64) if s >= 1 << 63 else s
    return s + round((approx - s) * 2.0**-64) * (1 << 64)


def _magic_int_sum(d: np.ndarray, e: int, t: np.ndarray) -> int:
    """``sum(d) / Q`` exactly, as a Python int, for ``Q = 2**(e - 52)`` when every ``d`` is a multiple of
    ``Q`` with ``|d| < 2**51 Q``, ``sum|d| < 2**63 Q`` and ``2**e`` a normal float.

    ``M = 1.5 * 2**e`` has the spacing ``Q`` between its neighbours in ``[2**e, 2**(e+1))``, and
    every ``d + M`` lies in that range, so ``fl(d + M) = d + M`` exactly and its bit pattern, as an
    integer, is that of ``M`` plus ``d / Q``. One addition and an integer sum (modulo 2**64, as
    uint64, whose wrap-around is defined) instead of a scaling and a float-to-integer conversion.
    ``t`` (float) is a work array of the size of ``d``.
    """
    m = 1.5 * math.ldexp(1.0, e)
    np.add(d, m, out=t)
    # the bits of 1.5 * 2**e (a normal float): biased exponent e + 1023, the leading fraction bit
    s = (int(_SUM(t.view(np.uint64))) - d.size * (((e + 1023) << 52) | (1 << 51))) % (1 << 64)
    return s - (1 << 64) if s >= 1 << 63 else s


def _near_long(p: np.ndarray, q: np.ndarray, rows: int | None = None) -> float | None:
    """KL of long near-equal vectors (every |p/q - 1| <= _R_LONG) in few passes, or None.

    Twice the divergence is ``2 sum(p - q) + sum w + sum_j T2_j s_j`` with ``r = (p - q)/q``,
    ``w = (p - q) r`` and the power sums ``s_j = sum w r^j`` of the series of
    :math:`2q\\,g(r)` (see :func:`_series_accurate`). Per block of ``_NEAR_BLOCK`` entries
    (data in cache; the BLAS calls ``dasum`` and ``idamax`` are single passes without
    temporaries), 7 full passes when the series needs ``s_1`` alone and no partial sum of
    ``p - q`` can round, 13 when it needs ``r^3`` and ``sum(p - q)`` is summed as integers:

    * ``p - q`` (exact, Sterbenz, once the block is known to be near), ``r`` and ``w``: three
      elementwise passes, the only ones every block needs;
    * ``w`` summed in groups of :func:`_near_rows` (one numpy call), the group sums kept and
      summed exactly at the end (error-free extraction); ``W`` = their sum (BLAS ``dasum``);
    * the checks ride on reductions: ``min q > 0``, ``W`` finite (NaN and infinite entries of
      p or q make some ``w`` NaN or infinite), ``max|r| <= _R_LONG``, ``sum p = dasum(p)`` for
      the sum check (every ``p > 0`` in a near block) and ``sum q = sum p - sum(p - q)``.
      ``max|r|`` (which also bounds the series): when ``W / sum p`` (about a mean of ``r^2``)
      says that the series needs ``r^3``, bounded by ``dasum(r^3)**(1/3)`` from the ``r^3``
      computed for the series (kept when at most 2**-10); else by ``sqrt(max V / min q)``
      (``r^2 = w / q`` is at most its group sum ``V`` over ``min q``: 1/8 or 1/16 of a pass),
      kept when it says that ``s_1`` alone is enough; else by BLAS ``idamax``;
    * as many power sums as the data need, the first omitted term being bounded by
      ``|T2_J| m^(J-1) s_2`` (``m = max|r|``, ``s_2 = sum w r^2 >= 0``), at most 2 % of an ulp
      of the block's ``sum w``: when ``s_1`` alone is enough, one matrix product of the rows
      ``p - q, w`` with ``r`` and a row of ones gives ``s_1 = w.r`` and ``sum(p - q)`` (exact in
      any order when no partial sum can round, see below); else ``r^3`` (two passes) and one
      matrix product of the rows ``p - q, w`` with ``r, r^3``, which gives ``s_1``,
      ``s_2 = (p - q).r^3`` and ``s_3 = w.r^3`` at once; ``s_4, s_5, ...`` one pass and one
      dot each (rare);
    * ``sum(p - q)`` exactly. Every ``p_i - q_i`` is a multiple of ``Q = 2**(e - 54)``
      (``frexp(min q)`` has exponent ``e``, and every entry of both is at least ``min(q)/2``).
      ``sum|p - q| = sum q |r| <= sqrt(W sum q)`` (Cauchy-Schwarz) decides the way, or BLAS
      ``dasum(p - q)`` when that bound is too large for the integer sums.
      If ``sum|p - q| < 2**53 Q`` every partial sum is exact and any sum is the exact sum;
      else, when ``max|p - q| < 2**51 Q`` (BLAS ``idamax``), the bits of ``p - q + 1.5 * 2**52 Q``
      summed as integers (:func:`_magic_int_sum`: one addition, no float-to-integer conversion);
      else the integers ``(p - q)/Q`` are summed as int64 (:func:`_scaled_int_sum`) when
      they are below 2**62 (``sum|p - q| < 2**63 Q``, or ``max|p - q| < 2**62 Q`` with
      ``dasum(p) - dasum(q)`` to pick the representative modulo 2**64); else by error-free
      extraction (Rump, Ogita & Oishi).

    ``rows``: the group size (default :func:`_near_rows`); when groups of 16 fail the bound
    below, the vectors are summed again in groups of 8.

    The result is kept only if the error bound of Higham & Mary (rounding errors of the
    ``w``, of the group sums and of the dot products, independent, ``lambda = _LAMBDA``),
    plus the deterministic bounds, is at most 0.15 ulp of the result; None otherwise, and
    None as soon as a block is not near (NaN, infinite or negative entries included: the
    caller's path then checks them). Validates the sums of p and q (raising the errors of
    :func:`_check_entries`).
    """
    n = p.size
    nb = min(_NEAR_BLOCK, n)
    if rows is None:
        rows = _near_rows(n)
    # group sums of w, flushed (summed exactly) whenever the next block might not fit: a buffer
    # that stays in cache, not one of n / rows entries
    nv = max(_NEAR_FLUSH, nb // rows + rows)
    DW, RX, Y0, IB, V, VT = _near_buffers(nb, nv)
    D0, W0 = DW
    R0, X0 = RX[0], RX[1]
    iv = 0
    parts: list[float] = []  # floats whose exact sum is sum(w)
    ss = 0.0  # sum of the squared group sums (>= sum w^2)
    neg = 0.0  # bound on what the exact sums of the group sums left out
    parts_d: list[float] = []  # floats whose exact sum is sum(p - q)
    corr: list[float] = []  # the series' power-sum terms, per block
    sums_p: list[float] = []
    sums_q: list[float] = []
    det = 0.0  # deterministic error bound (absolute, on twice the result)
    var_c = 0.0  # variance bound of the dot products' rounding errors / u^2
    t0, t1, t2 = _T2_COEF[0], _T2_COEF[1], _T2_COEF[2]
    at0, at1, at2 = abs(t0), abs(t1), abs(t2)
    budget_rel = 0.02 * _U
    safe = 1.0 + 2.0**-40
    r_long = _R_LONG
    # above this max|r| the series needs more than s_1 (|T2_1| m^2 / (1 - m) > budget_rel), times 1 + 2 r_long
    m_s1 = math.sqrt(budget_rel / at1) * (1.0 + 2.0 * r_long)
    m_s1_sq = m_s1 * m_s1
    sqrt = math.sqrt
    inf = math.inf
    frexp, ldexp = math.frexp, math.ldexp
    subtract, divide, multiply, square, matmul = np.subtract, np.divide, np.multiply, np.square, np.matmul
    with np.errstate(all="ignore"):
        for s in range(0, n, nb):
            a = p[s : s + nb]
            b = q[s : s + nb]
            k = a.size
            if iv + k // rows + rows > nv:
                ss, neg = _flush_groups(V[:iv], VT, parts, ss, neg)
                iv = 0
            if k == nb:
                dw, rx, d, w, r, x, y = DW, RX, D0, W0, R0, X0, Y0
            else:
                dw, rx = DW[:, :k], RX[:, :k]
                d, w, r, x, y = D0[:k], W0[:k], R0[:k], X0[:k], Y0[:k]
            subtract(a, b, d)  # exact (Sterbenz) once the block is known to be near
            sa = dasum(a)  # sum(p) of the block if it is near (then every p > 0)
            mb = float(_MIN(b))
            if not mb > 0.0:  # NaN fails too
                return None
            divide(d, b, r)
            # w = fl(d fl(d / q)) >= 0, within 2u of d^2 / q, and its group sums (before the block is
            # known to be near: if it is not, all this is dropped)
            multiply(d, r, w)
            k8 = k - k % rows
            i0 = iv
            if k8:
                iv += k8 // rows
                _SUM(w[:k8].reshape(rows, -1), axis=0, out=V[i0:iv])
            if k8 != k:
                V[iv : iv + k - k8] = w[k8:]
                iv += k - k8
            W = dasum(V[i0:iv]) * _SAFE_BLAS  # >= sum w of the block
            if not W < inf:  # a NaN or infinite entry of p or q makes some w NaN or infinite (NaN fails too)
                return None
            # sum q r^2 / sum q (sum q <= sum p (1 + 2 r_long) in a near block) is a mean of r^2: when it
            # exceeds m_s1^2, so does max r^2, and the series needs r^3; then max|r|^3 <= sum|r^3| bounds
            # max|r| (a choice of speed only: every way below is exact)
            cube = W > m_s1_sq * sa
            if cube:
                square(r, x)
                x *= r  # r^3 (every entry finite, q > 0: r is finite)
                m = (dasum(x) * _SAFE_BLAS) ** (1.0 / 3.0) * (1.0 + 2.0**-40)
                close = m <= 2.0**-10  # above, the series' length depends on a close bound
            else:
                # r^2 = w / q (w to 3u) is at most its group's sum over min q: max r^2 <= max V / min q, a
                # bound without another pass over the block, kept when it says that s_1 alone is enough
                m = sqrt(float(_MAX(V[i0:iv])) / mb) * safe
                close = m <= r_long and at1 * m * m / (1.0 - m) <= budget_rel
            if not close:
                m = abs(float(r[idamax(r)])) * (1.0 + 2.0**-50)  # >= every |exact (p - q)/q|
            if not m <= r_long:  # b > 0 and |r| <= 1/64 give a > 0
                return None
            sd1 = None  # sum(p - q) in some order (from the matrix product with the row of ones)
            # the series: 2 q g(r) = w + sum_j T2_{j-1} s_j, s_j = sum w r^j; the first omitted
            # term is at most |T2_J| m^(J-1) s_2 (or |T2_1| m^2 W before s_2), within 2 % of an ulp of W
            budget = budget_rel * W
            tail = at1 * m * m * W / (1.0 - m)  # bounds the terms from w r^2 on
            b1 = m * W  # >= sum |w r|
            if tail > budget:
                # r^3, then one matrix product: [p - q; w] times [r; r^3] gives (p - q).r (unused),
                # s_2 = (p - q).r^3 ((p - q) r = w) and s_1 = w.r, s_3 = w.r^3
                if not cube:
                    square(r, x)
                    x *= r
                (_, s2), (s1, s3) = matmul(dw, rx[:2].T).tolist()
                c = t0 * s1 + t1 * s2
                s2 = max(s2, 0.0) * _SAFE_BLAS  # every (p - q) r^3 = q r^4 >= 0: an upper bound
                b1 = min(b1, math.sqrt(W * s2) * safe)  # Cauchy-Schwarz
                var_c += k * (t1 * s2) ** 2
                det += at1 * 6.0 * s2 * _U  # roundings of r^3 (5) and the product
                bj = m * s2  # >= sum w |r|^3
                tail = at2 * bj / (1.0 - m)
                j = 2
                if tail > budget:  # s_3 is needed
                    c += t2 * s3
                    var_c += k * (t2 * bj) ** 2
                    det += at2 * 10.0 * bj * _U  # roundings of w, r^3 and the product
                    j = 3
                    tail = abs(_T2_COEF[3]) * m * bj / (1.0 - m)
                    while tail > budget:
                        if j >= _J_LONG:
                            return None
                        if j == 3:
                            multiply(x, r, y)  # r^4
                        else:
                            y *= r  # r^j
                        sj = _dot(w, y)
                        bj *= m  # >= sum w |r|^(j+1)
                        c += _T2_COEF[j] * sj
                        var_c += k * (_T2_COEF[j] * bj) ** 2
                        det += abs(_T2_COEF[j]) * (2.0 * j + 6.0) * bj * _U  # roundings of r^j and w
                        j += 1
                        tail = abs(_T2_COEF[j]) * m * bj / (1.0 - m)
            else:
                # [p - q; w] times [r; 1]: s_1 = w.r and sum(p - q) (exact in any order when no partial
                # sum can round, see below), one pass over the four rows
                (_, sd1), (s1, _) = matmul(dw, rx[::2].T).tolist()
                c = t0 * s1
            var_c += k * (t0 * b1) ** 2
            det += at0 * 4.0 * b1 * _U + tail
            corr.append(c)
            # sum(p - q) of the block, exactly: every p - q is a multiple of Q = 2**(e_mb - 54)
            e_mb = frexp(mb)[1]
            # sum|p - q| = sum q |r| <= sqrt(sum q r^2 sum q) (Cauchy-Schwarz), sum q <= sum p / (1 - m);
            # BLAS dasum (one more pass) only when that bound is too large for the integer sums
            ad = sqrt(W * sa * _SAFE_BLAS / (1.0 - m)) * safe  # dasum(p) within 2**-31 of sum p
            if ad >= ldexp(1.0, e_mb + 9):
                ad = min(ad, dasum(d) * _SAFE_BLAS)
            if ad < ldexp(1.0, max(e_mb - 1, -1021)):  # sum|p - q| < 2**53 Q: no partial sum rounds
                sd = float(_SUM(d)) if sd1 is None else sd1
                parts_d.append(sd)
            else:
                si = None
                ib = IB[:k]
                if e_mb > -960:  # 2**es = 1/Q is a finite float
                    es = 54 - e_mb
                    md = abs(float(d[idamax(d)]))
                    if md < ldexp(1.0, e_mb - 3) and ad < ldexp(1.0, e_mb + 9):
                        # every |p - q| < 2**51 Q and sum|p - q| < 2**63 Q: p - q + 1.5 * 2**52 Q is exact,
                        # and its bits are those of 1.5 * 2**52 Q plus (p - q)/Q
                        si = _magic_int_sum(d, e_mb - 2, x)
                    elif ad < ldexp(1.0, e_mb + 9):  # sum|p - q| < 2**63 Q
                        si = _scaled_int_sum(d, es, x, ib, None)
                    elif md < ldexp(1.0, e_mb + 8):  # every |p - q| < 2**62 Q
                        sb = dasum(b)
                        # dasum(p) - dasum(q) is within 2 k u (sum p + sum q) of sum(p - q): that, / Q, below 2**61
                        if 2.0 * k * _U * (sa + sb) < ldexp(1.0, e_mb + 7):
                            si = _scaled_int_sum(d, es, x, ib, ldexp(sa - sb, es))
                if si is not None:
                    hi = float(si)
                    sd = ldexp(hi, -es)
                    parts_d.append(sd)
                    parts_d.append(ldexp(float(si - int(hi)), -es))
                else:
                    j0 = len(parts_d)
                    det += 2.0 * _extract_sum(d, 2.0**-63 * W, parts_d, x)
                    sd = math.fsum(parts_d[j0:])
            sums_p.append(sa)
            sums_q.append(sa - sd)
        if not (abs(math.fsum(sums_p) - 1.0) <= SUM_RTOL and abs(math.fsum(sums_q) - 1.0) <= SUM_RTOL):
            _check_entries(p, "p")
            _check_entries(q, "q")
        ss, neg = _flush_groups(V[:iv], VT, parts, ss, neg)
        # each w carries two roundings (<= u w each), each group sum at most rows - 1 (<= u S each)
        var = (2.0 + (rows - 1)) * ss * safe
    total2 = math.fsum([2.0 * x for x in parts_d] + parts + corr)
    err = _LAMBDA * math.sqrt(var + var_c) * _U + det + neg
    if not err <= 0.3 * _U * abs(total2):
        # groups of 16 double the bound's share of the group sums' roundings: heavy-tailed w can
        # pass with 8 where 16 fails, and that costs one more pass, not the block path
        return _near_long(p, q, 8) if rows > 8 else None
    return max(total2 * 0.5, 0.0)


def _kl_vectors(p: np.ndarray, q: np.ndarray, exact: bool = False, validate: bool = False) -> float:
    """sum p log(p/q) in nats for float64 vectors of equal length (result clamped at 0).

    With ``validate`` the entries and sums are checked block by block on the way
    (as :func:`_check_entries` would, and raising its errors); otherwise they must
    have been checked already.
    """
    n = p.size
    if n > _N_CAREFUL and not exact and _maybe_all_near(p[:_NEAR_BLOCK], q[:_NEAR_BLOCK]):
        value = _near_long(p, q)
        if value is not None:
            return value
    acc = _Acc()
    fast_parts: list[float] = []
    fast_starts: list[int] = []
    sums_p: list[float] = []
    sums_q: list[float] = []
    amax = 0.0  # sum of p_i^2 over the fast blocks is <= amax * sum(p_i) <= amax (1 + SUM_RTOL)
    small = n <= _N_CAREFUL or exact
    fast_near = not small
    acc.extract = n < _N_PLAIN
    near_starts: list[int] = []  # blocks whose series terms went to acc.fast2
    result = None
    with np.errstate(all="ignore"):
        for s in range(0, n, _CHUNK):
            a = p[s : s + _CHUNK]
            b = q[s : s + _CHUNK]
            safe = False
            b_checked = not validate
            if validate:
                sa, ma = float(_SUM(a)), float(_MIN(a))
                if not (ma >= 0.0 and sa < math.inf):
                    _check_entries(p, "p")
                    _check_entries(q, "q")
                sums_p.append(sa)
            maybe_near = _maybe_all_near(a, b)
            k0 = acc.n_fast
            # every |a/b - 1| <= 1/2: with a >= 0 (checked), every b is positive and finite
            if maybe_near and _careful_near(a, b, acc, exact, check=True, fast=fast_near):
                if acc.n_fast != k0:
                    near_starts.append(s)
                if validate:
                    sums_q.append(sa - acc.last_dsum)  # sum(b) = sum(a) - sum(a - b)
                continue
            if validate:
                sb = float(_SUM(b))
                if not sb < math.inf:
                    _check_entries(p, "p")
                    _check_entries(q, "q")
                sums_q.append(sb)
                # No b_i < 0 is left unseen by the fast path below: with a_i > 0 its log is NaN, with
                # a_i = 0 the term is 0 * log(-0) = NaN, and NaN sends the block to the checked path.
                # a/b >= min(a)/max(b) >= ma/sb: no zero, subnormal or NaN ratios (overflow gives inf).
                safe = ma >= _TINY * (sb * 1.001)
            if (small or maybe_near or not safe) and not b_checked:
                if not float(b.min()) >= 0.0:
                    _check_entries(q, "q")
                b_checked = True
            ratio = np.divide(a, b, out=acc.ratio[: a.size])
            if small or maybe_near:
                rmin = float(ratio.min())
                rmax = float(ratio.max())
                if rmin >= 0.5 and rmax <= 2.0:
                    _careful_near(a, b, acc, exact, fast=fast_near)
                    if acc.n_fast != k0:
                        near_starts.append(s)
                    continue
                if small or (not rmin > 0.0 and _only_zeros_far(a, ratio)):
                    # short vectors, or near-equal blocks whose other entries all have p = 0
                    if not _careful_mixed(a, b, ratio, acc, exact):
                        result = math.inf
                        break
                    continue
            t = _far_sum(a, b, ratio, acc.t1[: a.size], safe)
            if not -math.inf < t < math.inf and safe:  # NaN (negative b) or inf (p/q overflows)
                if not b_checked and not float(b.min()) >= 0.0:
                    _check_entries(q, "q")
                t = _far_sum(a, b, ratio, acc.t1[: a.size])
            if t == math.inf:
                result = math.inf
                break
            fast_parts.append(t)
            fast_starts.append(s)
            amax = max(amax, float(a.max()))
        if validate:
            if result is not None:  # stopped early: the rest still has to be valid
                _check_entries(p, "p")
                _check_entries(q, "q")
            elif not (abs(math.fsum(sums_p) - 1.0) <= SUM_RTOL and abs(math.fsum(sums_q) - 1.0) <= SUM_RTOL):
                _check_entries(p, "p")
                _check_entries(q, "q")
        if result is not None:
            return result
        total2 = math.fsum([2.0 * x for x in acc.parts + fast_parts] + acc.parts2 + acc.fast2)  # twice the result
        if acc.n_fast and not _LAMBDA * math.sqrt(acc.fast_var) + acc.fast_det <= 0.3 * abs(total2):
            # the error bound of the fast near blocks is not below 0.15 ulp of the result: sum them again,
            # first with exact sums of w (when they were plain), then in double-double
            for accurate in (False, True) if not acc.extract else (True,):
                acc.fast2 = []
                acc.fast_var = acc.fast_det = 0.0
                acc.extract = True
                for s in near_starts:
                    _careful_near(p[s : s + _CHUNK], q[s : s + _CHUNK], acc, exact, fast=not accurate, linear=False)
                total2 = math.fsum([2.0 * x for x in acc.parts + fast_parts] + acc.parts2 + acc.fast2)
                if accurate or _LAMBDA * math.sqrt(acc.fast_var) + acc.fast_det <= 0.3 * abs(total2):
                    break
        if fast_parts and _LAMBDA * _W_NEAR * math.sqrt(amax * (1.0 + SUM_RTOL)) > 0.25 * abs(total2):
            # the probabilistic error bound of the fast blocks is not small against the result
            for s in fast_starts:
                a = p[s : s + _CHUNK]
                b = q[s : s + _CHUNK]
                _careful_mixed(a, b, np.divide(a, b, out=acc.ratio[: a.size]), acc, exact)
            total2 = math.fsum([2.0 * x for x in acc.parts] + acc.parts2 + acc.fast2)
        total = total2 * 0.5
    if not exact and acc.neglected + 0.5 * acc.neglected2 > 2.0**-56 * abs(total):
        # the linear part cancelled against the rest (p and q sum to different values): sum it exactly
        return _kl_vectors(p, q, exact=True)
    if math.isnan(total):  # pragma: no cover - every path above is NaN-free
        raise FloatingPointError("KL of probability vectors came out NaN; please report the input")
    return max(total, 0.0)


def _entropy_vector(p: np.ndarray) -> float:
    """-sum p log p in nats (0 log 0 = 0); every term is >= 0, so the sum does not cancel."""
    parts = []
    with np.errstate(all="ignore"):
        for s in range(0, p.size, _CHUNK):
            a = p[s : s + _CHUNK]
            la = np.log(a)
            la[a == 0.0] = 0.0
            la *= a
            parts.append(-float(np.sum(la)))
    return max(math.fsum(parts), 0.0)


def _cross_entropy_vector(p: np.ndarray, q: np.ndarray) -> float:
    """-sum p log q in nats; ``inf`` if some p_i > 0 = q_i; 0 log 0 = 0."""
    parts = []
    with np.errstate(all="ignore"):
        for s in range(0, p.size, _CHUNK):
            a = p[s : s + _CHUNK]
            b = q[s : s + _CHUNK]
            lb = np.log(b)
            zp = a == 0.0
            if np.any((b == 0.0) & ~zp):
                return math.inf
            lb[zp] = 0.0
            lb *= a
            parts.append(-float(np.sum(lb)))
    return max(math.fsum(parts), 0.0)


# --------------------------------------------------------------------------
# Short vectors (n <= _N_SMALL): a few numpy calls in extended precision, certified a posteriori
# --------------------------------------------------------------------------

_N_SMALL = 64  # vectors up to this length try _kl_small first
_LD = np.longdouble
_LD_U = float(np.finfo(_LD).eps) / 2.0  # unit roundoff of long double: 2**-64 for the x87 80-bit format
# only IEEE-like extended formats (80-bit or quad); elsewhere (long double = double, IBM double-double) the
# bounds of _kl_small could not be trusted or would never pass, and short vectors take the block path
_HAVE_LD = np.finfo(_LD).nmant in (63, 112)
_R_SMALL_SERIES = 2.0**-5  # all-near short vectors with every |p/q - 1| below this: the series
_S_LD = [_LD((-1) ** j) / _LD((j + 1) * (j + 2)) for j in range(48)]  # the coefficients of S, in long double
_S_COEF_ARR = np.array(_S_COEF)


_TRUNC_SMALL = 2.0**-57  # relative truncation of the series of _kl_small: 1/16 of an ulp


def _ld_truncation(m: float, j: int) -> float:
    """Bound on |S(r) - (its series up to r**j)| / S(r) for |r| <= m <= 2**-5 (where S(r) >= 0.49)."""
    return m ** (j + 1) / ((j + 2) * (j + 3)) / (1.0 - m) / 0.49


# the largest m for which the series up to r**j is within _TRUNC_SMALL (increasing in j)
_M_SMALL = [
    (_TRUNC_SMALL * 0.49 * (1.0 - _R_SMALL_SERIES) * (j + 2) * (j + 3)) ** (1.0 / (j + 1)) for j in range(40)
]


def _kl_small(p: np.ndarray, q: np.ndarray, p_min: float = 0.0, q_min: float = 0.0) -> float | None:
    """KL of short validated vectors in long double, or None when its error bound is not small enough.

    Three ways, by the ratios ``p/q``:

    * all within ``1 +- _R_SMALL_SERIES``: ``sum q g(r) = sum w S(r)`` with ``w = (p - q) r``,
      ``r = (p - q)/q`` and the series ``S`` (every term >= 0), plus ``sum(p - q)`` summed exactly;
    * all in ``[1/2, 2]``: ``sum (p log1p(r) - (p - q)) + sum(p - q)`` (``p - q`` exact);
    * otherwise ``sum p log(p/q)`` (``0 log 0 = 0``; ``inf`` when some ``p > 0 = q``).

    Each term's rounding errors are bounded (the long double operations and its ``log``/``log1p``,
    the latter within 2 of their ulps), and the result is kept only if the total bound is at
    most 0.3 u of it (u = 2**-53): with the final rounding, within 0.8 ulp. ``sum(p - q)`` and
    the long double sum (split into two floats) are added by ``math.fsum`` (one rounding).
    Few numpy calls and little Python per entry: on a handful of entries a call costs far
    more than its arithmetic. ``p_min``, ``q_min``: the smallest entries, when the caller knows them.
    """
    if not _HAVE_LD:
        return None
    zeros = p_min == 0.0 or q_min == 0.0
    if zeros or q_min < 2.0**-960:
        with np.errstate(all="ignore"):  # 0/0, p/0, log(0) and p/q overflowing in double are expected here
            return _kl_small_terms(p, q, zeros)
    return _kl_small_terms(p, q, False)


def _min_max(v: np.ndarray) -> tuple[float, float]:
    """min and max of a short vector, the cheaper way for its length (NaN: a NaN or a wrong order)."""
    if v.size <= 24:
        lst = v.tolist()
        return min(lst), max(lst)
    return float(_MIN(v)), float(_MAX(v))


def _kl_small_terms(p: np.ndarray, q: np.ndarray, zeros: bool) -> float | None:
    """The computation of :func:`_kl_small`."""
    n = p.size
    u = _LD_U
    lo, hi = _min_max(p / q)  # decides the way (exactly: 1/2 and 2 are no rounding boundary here)
    if not zeros and lo >= 0.5 and hi <= 2.0:  # every term near: p - q exact
        b = q.astype(_LD)
        d64 = p - q
        d = d64.astype(_LD)
        r = d / b
        m = max(hi - 1.0, 1.0 - lo) * (1.0 + 2.0**-40) + 2.0**-60
        if m <= _R_SMALL_SERIES:
            j = bisect.bisect_left(_M_SMALL, m)  # the series of S up to r**j
            t = d * r  # w
            if j:
                # S(r) - 1/2 (at most m/5 of S) in double: rows r, r^2, ..., r^j and one product
                r64 = d64 / q
                pw = np.empty((j, n))
                pw[:] = r64
                np.multiply.accumulate(pw, axis=0, out=pw)
                t *= np.add(_S_COEF_ARR[1 : j + 1] @ pw, _S_LD[0], dtype=_LD)
            else:
                t *= _S_LD[0]
            total = _SUM(t)
            # w: 2 roundings (r, d r); S: 1/2 + y, y in double to (j + 3) u of |y| <= m/5 S; the product;
            # the sum; the truncation (at most _TRUNC_SMALL, by the choice of j)
            bound = float(total) * ((n + 5.0) * u + (j + 3.0) * _U * m * 0.2 + _TRUNC_SMALL)
        else:
            aL = p.astype(_LD) * np.log1p(r)
            t = aL - d
            total = _SUM(t)
            # r's rounding, log1p within 2 ulp, the product: <= 8 u |p log1p(r)| (|log1p(r)| >= 0.69 |r|);
            # the difference and the sum: <= (n + 1) u sum|t|, and sum|t| <= |total| + the errors (t >= 0)
            e = 8.0 * float(_SUM(np.abs(aL))) * u
            bound = e + (n + 1.0) * u * (abs(float(total)) + 2.0 * e)
        th = float(total)
        value = math.fsum([th, float(total - _LD(th))] + d64.tolist())
    else:
        a = p.astype(_LD)
        aL = a * np.log(a / q.astype(_LD))
        if zeros:
            aL[p == 0.0] = 0.0  # 0 log(0/q) = 0, also for q = 0
        value = float(_SUM(aL))
        if value == math.inf:
            return value  # some p > 0 = q (p/q overflows in no finite case: long double range)
        # ratio rounding (u p, sum p <= 1 + SUM_RTOL), log within 2 ulp and the product (<= 5 u |p log|), the sum
        bound = (1.0 + SUM_RTOL + (n + 6.0) * float(_SUM(np.abs(aL)))) * u
    if not bound * (1.0 + 2.0**-40) <= 0.3 * _U * abs(value):
        return None
    return max(value, 0.0)


def _check_short(v: np.ndarray, name: str) -> float:
    """The checks of :func:`_check_entries`, cheaper for short vectors (same errors, raised by it).

    Returns the smallest entry.
    """
    if v.size <= 24:
        lst = v.tolist()
        low = min(lst)
        try:
            total = math.fsum(lst)
        except (ValueError, OverflowError):  # inf - inf, or partial sums overflowing
            total = math.nan
    else:
        low = float(_MIN(v))
        total = float(_SUM(v))
    # NaN fails too; near the tolerance the exact sum decides, as in _check_entries
    if not (low >= 0.0 and abs(total - 1.0) <= SUM_RTOL - 1e-15):
        _check_entries(v, name)
    return low


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


def _describe(x: object) -> str:
    return type(x).__name__


def _unsupported_distribution(x: object) -> str | None:
    """What is wrong with a distribution-like object klbook does not take (None if ``x`` is not one)."""
    if isinstance(x, np.ndarray):
        return None
    if isinstance(x, rv_generic):
        return (
            f"an unfrozen scipy.stats distribution ({_describe(x)}); freeze it by calling it with its "
            f"parameters, e.g. scipy.stats.norm(0, 1) rather than scipy.stats.norm"
        )
    if isinstance(x, (multi_rv_frozen, multi_rv_generic)):
        return (
            f"a scipy.stats multivariate distribution ({_describe(x)}); among multivariate distributions "
            f"klbook takes only a frozen multivariate_normal"
        )
    if any(hasattr(x, attr) for attr in ("logpdf", "logpmf", "pdf", "pmf")):
        return (
            f"a distribution object klbook does not know ({_describe(x)}); pass a frozen scipy.stats "
            f"distribution (e.g. scipy.stats.norm(0, 1)), a frozen multivariate_normal or a klbook.Distribution"
        )
    return None


def _as_vector(x: object, name: str) -> np.ndarray:
    """Convert a 1-D array-like of probabilities to a contiguous float64 array, or raise."""
    if type(x) is np.ndarray and x.dtype == np.float64 and x.ndim == 1 and x.size:  # the common case, at once
        return x if x.flags.c_contiguous else np.ascontiguousarray(x)
    if x is None or isinstance(x, (str, bytes, dict, set, frozenset)):
        raise TypeError(f"{name} must be a 1-D array-like of probabilities, got {_describe(x)} {x!r:.60}")
    reason = _unsupported_distribution(x)
    if reason is not None:
        raise TypeError(f"{name} is {reason}")
    try:
        arr = np.asarray(x)
    except ValueError as err:  # ragged nested sequences
        raise ValueError(f"{name} must be a 1-D array-like of probabilities; it is ragged: {err}") from None
    if arr.ndim == 0 and arr.dtype.kind == "O" and not isinstance(x, (numbers.Number, decimal.Decimal)):
        raise TypeError(
            f"{name} must be a 1-D array-like of probabilities, got {_describe(x)} {x!r:.60}; "
            f"pass a list or a numpy array"
        )
    if arr.ndim == 0:
        raise TypeError(
            f"{name} must be a 1-D array-like of probabilities, got a scalar ({_describe(x)} {x!r:.60}); "
            f"wrap a single probability in a list"
        )
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; a probability vector needs at least one entry")
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(f"{name} is a boolean array; pass numbers (e.g. {name}.astype(float)) if you mean 0/1 probabilities")
    if kind == "c":
        bad = np.flatnonzero(arr.imag != 0)
        i = int(bad[0]) if bad.size else 0
        raise ValueError(f"{name} has complex entries ({name}[{i}] = {arr[i]!r}); probabilities are real")
    if kind == "O":
        vals = []
        for i, v in enumerate(arr):
            if isinstance(v, (bool, np.bool_)):
                raise TypeError(f"{name}[{i}] is a boolean ({v!r}); probabilities are numbers")
            if isinstance(v, numbers.Complex) and not isinstance(v, numbers.Real):
                raise ValueError(f"{name}[{i}] = {v!r} is complex; probabilities are real")
            if isinstance(v, (numbers.Real, decimal.Decimal)):
                try:
                    vals.append(float(v))  # Fraction and Decimal round correctly
                except OverflowError:
                    raise ValueError(f"{name}[{i}] = {v!r:.60} is too large for a probability") from None
            else:
                raise TypeError(f"{name}[{i}] = {v!r:.60} is not a number ({_describe(v)})")
        return np.array(vals, dtype=np.float64)
    if kind not in "iuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {arr.dtype} (e.g. {name}[0] = {arr[0]!r:.60})")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _check_entries(v: np.ndarray, name: str) -> None:
    """Entries finite and >= 0, sum within SUM_RTOL of 1, else ValueError naming the place."""
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, or an overflowing sum: reported below
        total = float(np.sum(v))
    if not (math.isfinite(total) and float(v.min()) >= 0.0):
        bad = np.flatnonzero(~(v >= 0.0) | np.isinf(v))
        i = int(bad[0])
        x = float(v[i])
        what = "NaN" if math.isnan(x) else ("infinite" if math.isinf(x) else "negative")
        raise ValueError(f"{name}[{i}] = {x!r} is {what}; probabilities must be finite and >= 0")
    if v.size <= 4096:
        total = math.fsum(v.tolist())  # the exact sum, rounded once
    if not abs(total - 1.0) <= SUM_RTOL:
        raise ValueError(
            f"{name} sums to {total!r}, not 1 (|sum - 1| = {abs(total - 1.0):.3g} > SUM_RTOL = {SUM_RTOL:g}); "
            f"klbook never renormalises: divide by the sum yourself if that is what you mean"
        )


def check_vectors(p: object, q: object | None, check_entries: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate one or two probability vectors: the one place klbook checks them.

    1-D, numeric, finite, entries >= 0, summing to 1 within ``SUM_RTOL``
    (never renormalised), the same length; ``q=None`` checks p alone. Returns
    them as float arrays. Raises ``TypeError`` (not array-like, a distribution,
    booleans, strings) or ``ValueError`` (naming the argument and the problem).
    """
    pv = _as_vector(p, "p")
    qv = None if q is None else _as_vector(q, "q")
    if qv is not None and qv.size != pv.size:
        raise ValueError(f"p and q must have the same length, got len(p) = {pv.size} and len(q) = {qv.size}")
    if check_entries:
        _check_entries(pv, "p")
        if qv is not None:
            _check_entries(qv, "q")
    return pv, qv


def is_distribution_pair(p: object, q: object) -> bool:
    """True for two distributions, False for two vectors, ``TypeError`` for one of each, ``None`` or an unsupported object."""
    if type(p) is np.ndarray and type(q) is np.ndarray:  # the common case, at once
        return False
    for name, x in (("p", p), ("q", q)):
        if x is None:
            raise TypeError(
                f"{name} is None; {name} must be a 1-D array-like of probabilities or a distribution "
                "(pass two probability vectors or two distributions p and q)"
            )
    pd, qd = is_distribution(p), is_distribution(q)
    for name, x, xd in (("p", p, pd), ("q", q, qd)):
        reason = None if xd else _unsupported_distribution(x)
        if reason is not None:
            raise TypeError(f"{name} is {reason}")
    if pd != qd:
        dist, vec = ("p", "q") if pd else ("q", "p")
        raise TypeError(
            f"{dist} is a distribution ({_describe(p if pd else q)}) but {vec} is not "
            f"({_describe(q if pd else p)}); pass two distributions or two probability vectors"
        )
    return pd


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def kl_divergence(p: ArrayLike | object, q: ArrayLike | object, *, base: float | None = None) -> float:
    r"""Kullback-Leibler divergence :math:`D_{KL}(p\,\|\,q)`, in nats unless ``base`` is given.

    For probability vectors

    .. math::

       D_{KL}(p\,\|\,q) = \sum_i p_i \log\frac{p_i}{q_i},

    and for distributions :math:`\int p(x)\log\frac{p(x)}{q(x)}\,dx` (a sum for
    discrete ones), computed by :func:`klbook.core.closed_forms.kl_distributions`.

    Parameters
    ----------
    p, q : array_like or distribution
        Either two 1-D array-likes of probabilities of the same length, or two
        distributions: frozen ``scipy.stats`` distributions (univariate, or
        ``multivariate_normal``) or :class:`klbook.Distribution` objects.
    base : float, optional
        Logarithm base of the result: ``None`` (default) gives nats, ``2`` bits.

    Returns
    -------
    float
        The divergence, :math:`\ge 0`; ``math.inf`` exactly when p is not
        absolutely continuous with respect to q.

    Notes
    -----
    Conventions: :math:`0 \log 0 = 0` (and :math:`0 \log(0/0) = 0`); the result is
    ``math.inf`` exactly when some :math:`p_i > 0 = q_i`. Vectors are never
    renormalised: each must satisfy :math:`|\sum_i p_i - 1| \le` ``SUM_RTOL``
    :math:`= 10^{-9}`. Within that tolerance the value is the exact
    :math:`\sum_i p_i\log(p_i/q_i)` of the floats given; when p and q sum to
    different values it can dip below zero (by at most
    :math:`\sum_i q_i - \sum_i p_i`), and is then reported as ``0.0``.

    Distribution objects are validated on first use and remembered (weakly, with their
    parameters; a multivariate normal with the Cholesky factor of its covariance), so a loop
    that calls again with the same objects pays for the closed form alone. An object whose
    ``args`` or ``kwds`` (mean or covariance) have changed since is validated again.

    Accuracy: within a few ulp of the exact value of the given floats, also with
    zeros and entries down to 5e-324 (``log p - log q`` where ``p/q`` over- or
    underflows); within 1 ulp when every ratio :math:`p_i/q_i` lies in
    :math:`[\tfrac12, 2]`, near-equal vectors included (each term :math:`O(\delta)`,
    the sum :math:`O(\delta^2)`); for vectors longer than ``2**16`` entries that
    bound holds with probability :math:`1 - 3\cdot10^{-8}` (probabilistic
    rounding-error analysis). See the module docstring for the method.

    Raises
    ------
    TypeError
        Non-numeric, boolean or scalar input; one distribution and one vector;
        a ``base`` that is not a real number.
    ValueError
        Empty, 2-D or ragged input; lengths that differ; negative, NaN,
        infinite or complex entries (the message names the index); a vector
        whose sum is not within ``SUM_RTOL`` of 1 (the message gives the sum);
        ``base`` :math:`\le 0` or equal to 1; invalid distribution parameters.

    Examples
    --------
    >>> import scipy.stats
    >>> from klbook import kl_divergence
    >>> kl_divergence([0.5, 0.5], [0.9, 0.1])
    0.5108256237659906
    >>> kl_divergence([0.5, 0.5], [0.9, 0.1], base=2)
    0.7369655941662061
    >>> kl_divergence([1.0, 0.0], [0.5, 0.5])  # 0 log 0 = 0
    0.6931471805599453
    >>> kl_divergence([0.5, 0.5], [1.0, 0.0])  # p has mass where q has none
    inf
    >>> kl_divergence([0.5 - 1e-6, 0.5 + 1e-6], [0.5 + 1e-6, 0.5 - 1e-6])  # near-equal: no cancellation
    8.000000000026668e-12
    >>> kl_divergence([0.5, 0.6], [0.5, 0.5])  # never renormalised
    Traceback (most recent call last):
        ...
    ValueError: p sums to 1.1, not 1 (|sum - 1| = 0.1 > SUM_RTOL = 1e-09); ...
    >>> kl_divergence(scipy.stats.norm(0, 1), scipy.stats.norm(1, 1))  # closed form: (1 - 0)^2 / 2
    0.5
    """
    b = check_base(base)
    value = kl_validated(p, q)  # distributions validated before: straight to the closed form
    if value is not None:
        return value if b is None else to_base(value, b)
    if is_distribution_pair(p, q):
        return to_base(kl_distributions(p, q), b)
    pv, qv = check_vectors(p, q, check_entries=False)
    if pv.size <= _N_SMALL:
        p_min = _check_short(pv, "p")
        value = _kl_small(pv, qv, p_min, _check_short(qv, "q"))
        return to_base(_kl_vectors(pv, qv) if value is None else value, b)
    if pv.size <= _CHUNK:
        _check_entries(pv, "p")
        _check_entries(qv, "q")
        return to_base(_kl_vectors(pv, qv), b)
    return to_base(_kl_vectors(pv, qv, validate=True), b)  # checked block by block, while in cache


def entropy(p: ArrayLike | object, *, base: float | None = None) -> float:
    r"""Shannon entropy of a probability vector (or entropy of a distribution), in nats unless ``base``.

    .. math::

       H(p) = -\sum_i p_i \log p_i ,

    with :math:`0\log 0 = 0`. For a distribution object this is its Shannon
    (discrete) or differential (continuous) entropy, from
    :func:`klbook.core.closed_forms.entropy_distribution`.

    Parameters
    ----------
    p : array_like or distribution
        A 1-D array-like of probabilities, or a distribution (see :func:`kl_divergence`).
    base : float, optional
        ``None`` (default) gives nats, ``2`` bits.

    Returns
    -------
    float
        :math:`H(p) \ge 0` for vectors (every term :math:`-p_i\log p_i \ge 0`, so
        the sum does not cancel and is accurate to a few ulp).

    Notes
    -----
    The vector must sum to 1 within ``SUM_RTOL`` :math:`= 10^{-9}`; it is never
    renormalised. A tiny negative value caused only by entries slightly above 1
    is reported as ``0.0``.

    Raises
    ------
    TypeError
        ``p`` is None, a string, a scalar, boolean or non-numeric; an unfrozen scipy
        distribution or an object klbook does not know; ``base`` is not a real number.
    ValueError
        ``p`` is empty, 2-D or ragged, has a negative, NaN or infinite entry (the message
        names the index) or does not sum to 1 within ``SUM_RTOL`` (the message gives the
        sum); ``base`` is not a finite number > 1; invalid distribution parameters.

    Examples
    --------
    >>> from klbook import entropy
    >>> entropy([0.5, 0.5], base=2)
    1.0
    >>> entropy([0.25, 0.25, 0.5])
    1.0397207708399179
    >>> entropy([1.0, 0.0])
    0.0
    """
    b = check_base(base)
    if is_distribution(p):
        return to_base(entropy_distribution(p), b)
    pv, _ = check_vectors(p, None)
    return to_base(_entropy_vector(pv), b)


def cross_entropy(p: ArrayLike | object, q: ArrayLike | object, *, base: float | None = None) -> float:
    r"""Cross-entropy :math:`H(p, q)`, in nats unless ``base`` is given.

    .. math::

       H(p, q) &= -\sum_i p_i \log q_i \\
       &= H(p) + D_{\mathrm{KL}}(p\,\|\,q),

    with :math:`0\log 0 = 0`; ``math.inf`` when some :math:`p_i > 0 = q_i`. For two
    distributions it is computed as ``entropy(p) + kl_divergence(p, q)`` (an
    infinite divergence stays infinite).

    Parameters
    ----------
    p, q : array_like or distribution
        Two probability vectors of the same length, or two distributions
        (see :func:`kl_divergence`).
    base : float, optional
        ``None`` (default) gives nats, ``2`` bits.

    Returns
    -------
    float
        :math:`H(p, q)`. For vectors every term :math:`-p_i\log q_i \ge 0`, so the
        sum is accurate to a few ulp.

    Notes
    -----
    Vectors must each sum to 1 within ``SUM_RTOL`` :math:`= 10^{-9}`; they are
    never renormalised.

    Raises
    ------
    TypeError
        The argument checks of :func:`kl_divergence`: one distribution and one vector,
        None, strings, scalars, booleans, objects that are not distributions.
    ValueError
        The value checks of :func:`kl_divergence`: lengths that differ, entries that
        are negative, NaN or infinite, sums not within ``SUM_RTOL`` of 1, a ``base``
        that is not > 1, invalid distribution parameters.

    Examples
    --------
    >>> from klbook import cross_entropy
    >>> cross_entropy([0.5, 0.5], [0.25, 0.75], base=2)
    1.207518749639422
    >>> cross_entropy([0.5, 0.5], [1.0, 0.0])
    inf
    """
    b = check_base(base)
    if is_distribution_pair(p, q):
        kl = kl_distributions(p, q)
        if kl == math.inf:
            return to_base(math.inf, b)
        return to_base(entropy_distribution(p) + kl, b)
    pv, qv = check_vectors(p, q)
    return to_base(_cross_entropy_vector(pv, qv), b)
