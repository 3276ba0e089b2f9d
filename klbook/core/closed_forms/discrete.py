r"""Closed forms of KL: discrete families (registered on import).

Every form is in scipy's parametrisation, ``loc`` included: a discrete scipy
distribution puts its atoms at ``loc + k``. When the two ``loc`` differ, the
supports are shifted against each other and the pair goes to the exact
summation of :func:`klbook.core.numeric.kl_numeric` (finite for the finite-support
families; ``inf`` when p's atoms are not all atoms of q).

Near-identical pairs must not cancel. The building block is

.. math::

    F(a, b) &= a \log\frac{a}{b} - (a - b) \\
    &= b\, g\!\left(\frac{a - b}{b}\right), \\
    g(r) &= (1 + r)\log(1 + r) - r \ge 0,

evaluated from the *difference* :math:`a - b` (formed from the parameters,
before any logarithm), with the series
:math:`g(r) = \sum_{k \ge 2} (-1)^k r^k / (k(k-1))` for :math:`|r| < 0.1`.
For instance :math:`D_{\mathrm{KL}}(\mathrm{Bern}(a)\,\|\,\mathrm{Bern}(b))` is :math:`F(a, b) + F(1-a, 1-b)`,
since the linear parts :math:`(a - b) + (b - a)` cancel exactly.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from ..engine import scipy_logpmf
from ..numeric import kl_numeric, kl_terms_log
from . import Params, register_kl

__all__ = [
    "kl_bernoulli_params",
    "kl_poisson_params",
]


# --------------------------------------------------------------------------------------
# Building blocks
def _g_series(r: float) -> float:
    """:math:`g(r)/r^2 = \\sum_{j \\ge 0} (-r)^j / ((j+1)(j+2))` for ``|r| < 0.1`` (22 terms)."""
    acc = 0.0
    for j in range(21, -1, -1):
        acc = acc * (-r) + 1.0 / ((j + 1) * (j + 2))
    return acc


def _F(a: float, b: float, diff: float) -> float:
    """:math:`F(a, b) = a\\log(a/b) - (a - b) \\ge 0`, given ``diff = a - b`` exactly.

    ``0 log 0 = 0``: ``F(0, b) = b``; ``F(a, 0) = inf`` for ``a > 0``; ``F(0, 0) = 0``.
    """
    if b == 0.0:
        return 0.0 if a == 0.0 else math.inf
    if a == 0.0:
        return b
    r = diff / b
    if abs(r) < 0.1:
        return b * r * r * _g_series(r)
    ratio = a / b
    if math.isfinite(ratio) and ratio > 0.0 and ratio >= 2.2250738585072014e-308:
        return a * math.log(ratio) - diff
    return a * (math.log(a) - math.log(b)) - diff


def _log_ratio(a: float, b: float, diff: float) -> float:
    """:math:`\\log(a/b)` from ``diff = a - b`` (log1p when a and b are close)."""
    if abs(diff) < 0.5 * b:
        return math.log1p(diff / b)
    return math.log(a) - math.log(b)


def kl_bernoulli_params(a: float, b: float) -> float:
    r"""KL between Bernoulli(a) and Bernoulli(b) on the same two atoms, in nats.

    .. math::

        D_{KL} &= a\log\frac{a}{b} + (1-a)\log\frac{1-a}{1-b} \\
        &= F(a, b) + F(1-a, 1-b),

    with :math:`F` of the module docstring, evaluated from :math:`a - b` so
    that near-equal :math:`a, b` keep full relative precision
    (:math:`D_{KL} \approx (a-b)^2 / (2b(1-b))`). ``inf`` when :math:`b \in \{0, 1\}`
    and :math:`a \ne b`.
    """
    diff = a - b
    return _F(a, b, diff) + _F(1.0 - a, 1.0 - b, -diff)


def kl_poisson_params(mu1: float, mu2: float) -> float:
    r"""KL between Poisson(mu1) and Poisson(mu2) with the same loc, in nats.

    .. math::

        D_{\mathrm{KL}} &= \mu_1 \log\frac{\mu_1}{\mu_2} - \mu_1 + \mu_2 \\
        &= \mu_2\, g\!\left(\frac{\mu_1 - \mu_2}{\mu_2}\right),

    with the series of :math:`g` for near-equal rates. ``mu1 = 0`` gives ``mu2``;
    ``mu2 = 0 < mu1`` gives ``inf``.
    """
    return _F(mu1, mu2, mu1 - mu2)


def _same_loc(p: Params, q: Params) -> bool:
    return p.loc == q.loc


def _numeric(p: Params, q: Params) -> float:
    return kl_numeric(p.dist, q.dist)


# --------------------------------------------------------------------------------------
@register_kl("bernoulli", "bernoulli")
def _kl_bernoulli_bernoulli(p: Params, q: Params) -> float:
    r"""Bernoulli: :math:`a\log(a/b) + (1-a)\log((1-a)/(1-b))`, written as :math:`F(a,b) + F(1-a,1-b)`.

    Different ``loc``: exact sum over p's (at most two) atoms; ``inf`` when an
    atom of p is not an atom of q.
    """
    if not _same_loc(p, q):
        return _numeric(p, q)
    return kl_bernoulli_params(p.shapes[0], q.shapes[0])


@register_kl("binom", "binom")
def _kl_binom_binom(p: Params, q: Params) -> float:
    r"""Binomial: :math:`n\,D_{KL}(\mathrm{Bern}(a)\|\mathrm{Bern}(b))` for equal n; different n by an exact finite sum.

    For :math:`n_1 \ne n_2` (same ``loc``), with :math:`0 < a < 1`, the result is
    ``inf`` unless :math:`n_1 \le n_2` and :math:`0 < b < 1`; then with
    :math:`m = n_2 - n_1` and

    .. math::

        d_k = \log\frac{p_k}{q_k}
            = L_k + k\log\frac{a}{b} + (n_1 - k)\log\frac{1-a}{1-b} - m\log(1-b),
        \qquad L_k = \log\frac{\binom{n_1}{k}}{\binom{n_2}{k}}
                   = \sum_{i=0}^{k-1}\log\!\Big(1 - \frac{m}{n_2 - i}\Big),

    the KL is the finite sum

    .. math::

        D_{KL} = \sum_{k=0}^{n_1} p_k\,\varphi(d_k) + Q(K > n_1),
        \qquad \varphi(d) = d + e^{-d} - 1 \ge 0,

    whose terms are all non-negative (no cancellation, unlike
    :math:`\mathbb{E}_p[L_K] - m\log(1-b) + \ldots`). :math:`L_k` is accumulated
    with ``log1p``: as :math:`\sum_{j=n_1+1}^{n_2}\log(1 - k/j)` when
    :math:`m \le 64`, else by compensated prefix sums. When :math:`n_1 > 2\cdot10^6`
    the sum runs over :math:`[\mathrm{ppf}(10^{-40}), \mathrm{isf}(10^{-40})]`
    and the dropped terms are bounded by
    :math:`P(\text{outside})\max_k|d_k| + Q(\text{outside window})`
    (checked to be :math:`\le 10^{-17}` of the sum).
    Degenerate p (:math:`a \in \{0, 1\}` or :math:`n_1 = 0`) is a point mass:
    :math:`-\log q_{k_0}`.
    """
    if not _same_loc(p, q):
        return _numeric(p, q)
    n1, a = p.shapes
    n2, b = q.shapes
    if n1 == n2:
        if n1 == 0:
            return 0.0
        return n1 * kl_bernoulli_params(a, b)
    return _kl_binom_different_n(int(n1), a, int(n2), b)


def _neumaier_prefix(totals: np.ndarray) -> np.ndarray:
    """Exclusive prefix sums of ``totals`` with Neumaier compensation."""
    out = np.empty(totals.size)
    s, c = 0.0, 0.0
    for i, t in enumerate(totals.tolist()):
        out[i] = s + c
        u = s + t
        if abs(s) >= abs(t):
            c += (s - u) + t
        else:
            c += (t - u) + s
        s = u
    return out


def _accurate_cumsum(t: np.ndarray, block: int = 512) -> np.ndarray:
    """Inclusive prefix sums: numpy within blocks of 512, compensated across blocks."""
    n = t.size
    if n == 0:
        return t.copy()
    nb = -(-n // block)
    padded = np.zeros(nb * block)
    padded[:n] = t
    inner = np.cumsum(padded.reshape(nb, block), axis=1)
    offsets = _neumaier_prefix(inner[:, -1])
    return (inner + offsets[:, None]).ravel()[:n]


def _log_binom_ratio_at(k: int, n1: int, n2: int) -> float:
    r""":math:`L_k = \log\binom{n_1}{k} - \log\binom{n_2}{k}` at one k (fsum of the shorter product)."""
    m = n2 - n1
    if k == 0:
        return 0.0
    if min(m, k) <= 10_000_000:
        if m <= k:
            j = np.arange(n1 + 1, n2 + 1, dtype=float)
            return math.fsum(np.log1p(-k / j).tolist())
        i = np.arange(0, k, dtype=float)
        return math.fsum(np.log1p(-m / (n2 - i)).tolist())
    # Both products are enormous: log-gamma (absolute error ~ 1e-16 * n log n).
    return float(
        special.gammaln(n1 + 1) - special.gammaln(n1 - k + 1) - special.gammaln(n2 + 1) + special.gammaln(n2 - k + 1)
    )


def _kl_binom_different_n(n1: int, a: float, n2: int, b: float) -> float:
    """Binomial(n1, a) || Binomial(n2, b), n1 != n2, same loc (see the registered docstring)."""
    if n1 == 0 or a == 0.0:  # p is the point mass at 0: -log q_0 = -n2 log(1 - b)
        if b == 1.0:
            return 0.0 if n2 == 0 else math.inf
        return -n2 * math.log1p(-b)
    if a == 1.0:  # p is the point mass at n1
        if n1 > n2 or b == 0.0:
            return math.inf
        if b == 1.0:
            return 0.0 if n1 == n2 else math.inf
        return -float(stats.binom.logpmf(n1, n2, b))
    if n1 > n2 or b == 0.0 or b == 1.0:
        return math.inf
    m = n2 - n1
    lr1 = _log_ratio(a, b, a - b)
    lr0 = _log_ratio(1.0 - a, 1.0 - b, b - a)
    c0 = -m * math.log1p(-b)
    if n1 + 1 <= 2_000_000:
        k_lo, k_hi = 0, n1
    else:
        k_lo = int(stats.binom.ppf(1e-40, n1, a))
        # the upper end from the lower quantile of n1 - k ~ binom(n1, 1 - a): scipy's isf is 1 - ppf
        # and returns n1 for tail probabilities below ~1e-15 (2e6 terms instead of ~5e4 at n1 = 2.1e6)
        k_hi = n1 - int(stats.binom.ppf(1e-40, n1, 1.0 - a))
        if k_hi - k_lo + 1 > 4_000_000:
            raise ValueError(
                f"binom({n1}, {a}) against binom({n2}, {b}): the exact sum needs "
                f"{k_hi - k_lo + 1} terms, more than the 4e6 this implementation evaluates"
            )
    k = np.arange(k_lo, k_hi + 1, dtype=float)
    if m <= 64:
        # L_k = sum_{j=n1+1}^{n2} log1p(-k/j): m terms per k, each to full relative precision.
        L = np.zeros(k.size)
        for j in range(n2, n1, -1):
            L += np.log1p(-k / j)
    else:
        steps = np.log1p(-m / (n2 - k[:-1]))  # L_{k+1} - L_k
        L = np.empty(k.size)
        L[0] = _log_binom_ratio_at(k_lo, n1, n2)
        L[1:] = L[0] + _accurate_cumsum(steps)
    d = L + k * lr1 + (n1 - k) * lr0 + c0

    logp = scipy_logpmf(stats.binom, k, (n1, a))
    logq = logp - d
    total = math.fsum(kl_terms_log(logp, logq).tolist())
    q_beyond = float(stats.binom.sf(n1, n2, b))
    result = total + q_beyond
    if k_lo > 0 or k_hi < n1:
        # Stated bound on the dropped terms: P(outside) * max|d| + Q(outside the window).
        p_out = float(stats.binom.cdf(k_lo - 1, n1, a) + stats.binom.sf(k_hi, n1, a))
        d_max = abs(_log_binom_ratio_at(n1, n1, n2)) + n1 * (abs(lr1) + abs(lr0)) + abs(c0)
        q_out = float(stats.binom.cdf(k_lo - 1, n2, b) + (stats.binom.sf(k_hi, n2, b) - q_beyond))
        bound = p_out * d_max + max(q_out, 0.0)
        if bound > 1e-17 * result:
            raise ValueError(
                f"binom({n1}, {a}) against binom({n2}, {b}): truncation bound {bound:.2e} "
                f"too large relative to {result:.6e}"
            )
    return result


@register_kl("poisson", "poisson")
def _kl_poisson_poisson(p: Params, q: Params) -> float:
    r"""Poisson: :math:`\mu_1\log(\mu_1/\mu_2) - \mu_1 + \mu_2 = \mu_2\,g((\mu_1-\mu_2)/\mu_2)`.

    Different ``loc``: exact summation with the stated tail bound
    (:func:`klbook.core.numeric.kl_numeric`); ``inf`` when p's support starts
    below q's.
    """
    if not _same_loc(p, q):
        return _numeric(p, q)
    return kl_poisson_params(p.shapes[0], q.shapes[0])


@register_kl("geom", "geom")
def _kl_geom_geom(p: Params, q: Params) -> float:
    r"""Geometric (trials to the first success): :math:`D_{KL}(\mathrm{Bern}(a)\|\mathrm{Bern}(b))/a`.

    .. math::

        D_{KL} = \log\frac{a}{b} + \frac{1-a}{a}\log\frac{1-a}{1-b}
               = \frac{1}{a}\Big[F(a, b) + F(1-a, 1-b)\Big]

    (Wald's identity: :math:`1/a` expected Bernoulli trials). ``inf`` when
    :math:`b = 1 > a`.
    """
    if not _same_loc(p, q):
        return _numeric(p, q)
    a, b = p.shapes[0], q.shapes[0]
    return kl_bernoulli_params(a, b) / a


@register_kl("nbinom", "nbinom")
def _kl_nbinom_nbinom(p: Params, q: Params) -> float:
    r"""Negative binomial (failures before the n-th success), equal n: :math:`n\,D_{KL}(\mathrm{Bern}(a)\|\mathrm{Bern}(b))/a`.

    .. math::

        D_{KL} = n\log\frac{a}{b} + \frac{n(1-a)}{a}\log\frac{1-a}{1-b}
               = \frac{n}{a}\Big[F(a, b) + F(1-a, 1-b)\Big].

    Different n or different ``loc``: exact summation with the stated tail
    bound (:func:`klbook.core.numeric.kl_numeric`).
    """
    n1, a = p.shapes
    n2, b = q.shapes
    if not _same_loc(p, q) or n1 != n2:
        return _numeric(p, q)
    return n1 * kl_bernoulli_params(a, b) / a


@register_kl("randint", "randint")
def _kl_randint_randint(p: Params, q: Params) -> float:
    r"""Discrete uniform: :math:`\log(N_q / N_p)` when p's atoms are among q's, else ``inf``.

    :math:`N = \text{high} - \text{low}` atoms at ``loc + low, ..., loc + high - 1``;
    the log is taken as ``log1p((N_q - N_p) / N_p)`` on exact integers.
    """
    lo1, hi1 = p.shapes
    lo2, hi2 = q.shapes
    shift = p.loc - q.loc
    if shift != round(shift):
        return math.inf
    s = round(shift)
    # p's atoms in q's coordinates: lo1 + s ... hi1 - 1 + s
    if lo1 + s < lo2 or hi1 + s > hi2:
        return math.inf
    n_p, n_q = int(hi1 - lo1), int(hi2 - lo2)
    return math.log1p((n_q - n_p) / n_p)
