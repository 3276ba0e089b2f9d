r"""The written forms of the Kullback-Leibler divergence, each evaluated as written.

The same number can be written in several ways, and a reader meets all of them:

.. math::

   D_{\mathrm{KL}}(p\,\|\,q)
   &= \sum_x p(x) \log\frac{p(x)}{q(x)} \\
   &= -\sum_x p(x) \log\frac{q(x)}{p(x)} \\
   &= \mathbb{E}_{x\sim p}\big[\log p(x) - \log q(x)\big] \\
   &= H(p, q) - H(p),

with integrals in place of sums for densities. :func:`kl_forms` evaluates each
of these expressions separately, literally as written, so that a chapter can
show that they give one number (to rounding). :func:`kl_terms` returns the
per-outcome terms :math:`p(x)\log(p(x)/q(x))`, :func:`code_lengths` the ideal
code lengths :math:`-\log_2 q(x)` of the coding view of KL, and
:func:`kl_exact` the divergence of two vectors of exact rationals to any number
of digits (decimal arithmetic), as a reference.

These are teaching tools. For accurate values in every regime (near-equal
vectors, extreme probabilities, any pair of distributions) use
:func:`klbook.kl_divergence`, which takes care that the literal forms do not.

Conventions, as everywhere in klbook: natural logarithms (nats) unless
``base`` is given (``base=2`` gives bits); :math:`0 \log(0/q) = 0` for every
:math:`q \ge 0`; :math:`p \log(p/0) = +\infty` for :math:`p > 0`; never NaN;
inputs are never renormalised.
"""

from __future__ import annotations

import decimal
import math
import numbers
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats._multivariate import multivariate_normal_frozen

from ..core._checks import check_base, to_base
from ..core.closed_forms import check_distribution, entropy_distribution, is_discrete, is_distribution, kl_distributions
from ..core.divergences import check_vectors, cross_entropy, entropy, is_distribution_pair
from ..core.engine import Univariate, breakpoints, integrate, ladder, tail_width

__all__ = ["FORM_NAMES", "KLForms", "kl_forms", "kl_terms", "code_lengths", "kl_exact"]

#: The names of the forms evaluated by :func:`kl_forms`, in the order they are usually written.
FORM_NAMES: tuple[str, ...] = ("direct", "flipped", "expectation", "cross_entropy_minus_entropy")

_LABELS = {
    "sum": {
        "direct": "Σ p log(p/q)",
        "flipped": "−Σ p log(q/p)",
        "expectation": "E_p[log p − log q]",
        "cross_entropy_minus_entropy": "H(p, q) − H(p)",
    },
    "integral": {
        "direct": "∫ p log(p/q) dx",
        "flipped": "−∫ p log(q/p) dx",
        "expectation": "E_p[log p − log q]",
        "cross_entropy_minus_entropy": "H(p, q) − H(p)",
    },
}


def _unit(base: float | None) -> str:
    if base is None:
        return "nats"
    if base == 2.0:
        return "bits"
    return f"log-base-{base:g} units"


@dataclass(frozen=True)
class KLForms:
    r"""The values of the written forms of :math:`D_{\mathrm{KL}}(p\,\|\,q)` (see :func:`kl_forms`).

    Attributes
    ----------
    direct : float
        :math:`\sum_x p \log(p/q)` (or :math:`\int p \log(p/q)\,dx`).
    flipped : float
        :math:`-\sum_x p \log(q/p)`: the fraction turned upside down, a minus sign brought out.
    expectation : float
        :math:`\mathbb{E}_{x\sim p}[\log p(x) - \log q(x)]`, the average log-difference under p.
    cross_entropy_minus_entropy : float
        :math:`H(p, q) - H(p)`, cross-entropy minus entropy.
    kind : str
        ``"sum"`` for probability vectors, ``"integral"`` for densities.
    unit : str
        ``"nats"``, ``"bits"``, or ``"log-base-b units"``.
    """

    direct: float
    flipped: float
    expectation: float
    cross_entropy_minus_entropy: float
    kind: str
    unit: str

    def as_dict(self) -> dict[str, float]:
        """The four values, keyed by their names in ``klbook.book.forms.FORM_NAMES`` and in that order."""
        return {name: getattr(self, name) for name in FORM_NAMES}

    def labels(self) -> dict[str, str]:
        """A short formula for each form (``"Σ p log(p/q)"``, ...), keyed like :meth:`as_dict`."""
        return dict(_LABELS[self.kind])

    @property
    def spread(self) -> float:
        """The largest minus the smallest of the four values (``0.0`` when all are ``inf``)."""
        vals = list(self.as_dict().values())
        if all(math.isinf(v) for v in vals):
            return 0.0
        return max(vals) - min(vals)


# --------------------------------------------------------------------------
# Vectors
# --------------------------------------------------------------------------


def _log_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``log(num / den)`` as written, or ``log num - log den`` where the quotient over- or underflows.

    Both arguments are > 0 entrywise.
    """
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        ratio = num / den
        out = np.log(ratio)
        bad = ~np.isfinite(out) | (ratio == 0.0) | ~np.isfinite(ratio)
    if np.any(bad):
        out[bad] = np.log(num[bad]) - np.log(den[bad])
    return out


def _terms(pv: np.ndarray, qv: np.ndarray, flipped: bool = False) -> np.ndarray:
    """Terms ``p log(p/q)`` (or ``-p log(q/p)``) in nats with the conventions."""
    out = np.zeros_like(pv)
    pos = pv > 0.0
    miss = pos & (qv == 0.0)
    out[miss] = math.inf
    ok = pos & ~miss
    if flipped:
        out[ok] = -(pv[ok] * _log_ratio(qv[ok], pv[ok]))
    else:
        out[ok] = pv[ok] * _log_ratio(pv[ok], qv[ok])
    return out


def _fsum(terms: np.ndarray) -> float:
    """Correctly rounded sum of the terms; ``inf`` if one is ``+inf``."""
    if np.any(np.isposinf(terms)):
        return math.inf
    return math.fsum(terms.tolist())


def kl_terms(p: ArrayLike, q: ArrayLike, *, base: float | None = None) -> np.ndarray:
    r"""Per-outcome terms :math:`p_i \log(p_i / q_i)` of the discrete divergence.

    .. math::

       t_i &= p_i \log\frac{p_i}{q_i}, \\
       D_{\mathrm{KL}}(p\,\|\,q) &= \sum_i t_i ,

    with the conventions :math:`t_i = 0` when :math:`p_i = 0` (whatever
    :math:`q_i` is, zero included) and :math:`t_i = +\infty` when
    :math:`p_i > 0 = q_i`. A term is negative where :math:`q_i > p_i`; the sum
    never is.

    Parameters
    ----------
    p, q : array_like
        Probability vectors of the same length: entries finite and
        :math:`\ge 0`, each summing to 1 within ``klbook.core.divergences.SUM_RTOL``.
    base : float, optional
        ``None`` (default) for nats, ``2`` for bits.

    Returns
    -------
    numpy.ndarray
        The terms, float, same length as ``p``. Never NaN.

    Raises
    ------
    TypeError
        Non-numeric input, or a ``base`` that is not a real number.
    ValueError
        Different lengths, negative/NaN/infinite entries, a vector that does
        not sum to 1 (never renormalised), or an invalid ``base``.

    Examples
    --------
    >>> kl_terms([0.5, 0.5, 0.0], [0.25, 0.25, 0.5], base=2).tolist()
    [0.5, 0.5, 0.0]
    >>> kl_terms([0.5, 0.5], [1.0, 0.0]).tolist()
    [-0.34657359027997264, inf]
    """
    b = check_base(base)
    is_distribution_pair(p, q)  # None, a distribution or an unknown object: TypeError naming it
    pv, qv = check_vectors(p, q)
    t = _terms(pv, qv)
    return t if b is None else t / math.log(b)


def code_lengths(q: ArrayLike, *, base: float = 2) -> np.ndarray:
    r"""Ideal code lengths :math:`L_q(x) = -\log_b q(x)`, in bits by default.

    A code built for the distribution q spends about :math:`-\log_2 q(x)` bits
    on outcome x (exactly, when every :math:`q(x)` is a power of 1/2). Coding
    outcomes of p with q's code costs on average the cross-entropy
    :math:`H(p, q) = \sum_x p(x) L_q(x)`, and the extra cost over p's own code
    is the divergence:

    .. math::

       & \sum_x p(x)\,\big(L_q(x) - L_p(x)\big) \\
       & \quad = H(p, q) - H(p) = D_{\mathrm{KL}}(p\,\|\,q).

    Parameters
    ----------
    q : array_like
        A probability vector (entries :math:`\ge 0`, summing to 1).
    base : float
        Logarithm base, default 2 (bits); must be :math:`> 0` and :math:`\ne 1`.

    Returns
    -------
    numpy.ndarray
        :math:`-\log_b q_i`; ``inf`` where :math:`q_i = 0` (an outcome q deems
        impossible gets no codeword).

    Raises
    ------
    TypeError, ValueError
        As for :func:`kl_terms`.

    Examples
    --------
    >>> code_lengths([0.5, 0.25, 0.125, 0.125]).tolist()
    [1.0, 2.0, 3.0, 3.0]
    >>> code_lengths([0.5, 0.5, 0.0]).tolist()
    [1.0, 1.0, inf]
    """
    b = check_base(base)
    if b is None:
        raise TypeError("base must be a real number (2 gives bits), not None")
    qv, _ = check_vectors(q, None)
    out = np.full_like(qv, math.inf)
    pos = qv > 0.0
    out[pos] = -np.log(qv[pos]) / math.log(b)
    return out + 0.0  # -0.0 (q_i = 1) prints as 0.0


# --------------------------------------------------------------------------
# Densities
# --------------------------------------------------------------------------

def _check_continuous(d: object, name: str) -> None:
    if not is_distribution(d):
        raise TypeError(f"{name} must be a probability vector or a univariate continuous distribution")
    if isinstance(d, multivariate_normal_frozen):
        raise TypeError(f"{name} is multivariate; kl_forms integrates univariate densities only")
    if is_discrete(d):
        raise TypeError(
            f"{name} is a discrete distribution; pass its probabilities as a vector "
            "(e.g. d.pmf(range(k))) to kl_forms"
        )
    check_distribution(d, name)


def _literal_log_ratio(num: np.ndarray, den: np.ndarray, log_num: np.ndarray, log_den: np.ndarray) -> np.ndarray:
    """``log(num / den)`` as written; ``log_num - log_den`` where the quotient over- or underflows."""
    with np.errstate(all="ignore"):
        ratio = num / den
        return np.where((ratio > 0.0) & (ratio < np.inf), np.log(ratio), log_num - log_den)


def _row(values_noise: tuple[np.ndarray, np.ndarray], i: int) -> tuple[np.ndarray, np.ndarray]:
    values, noise = values_noise
    return values[i], noise


def _forms_continuous(p: object, q: object) -> tuple[float, float, float, float]:
    """The four forms for two densities, in nats (see :func:`kl_forms`)."""
    _check_continuous(p, "p")
    _check_continuous(q, "q")
    # Whether the divergence is infinite (p has mass where q has none, or the integral
    # diverges in a tail) is decided by klbook's engine from supports and tails, never
    # from a literal integral that may fail to converge.
    if math.isinf(kl_distributions(p, q)):
        return (math.inf,) * 4
    P, Q = Univariate(p, "p"), Univariate(q, "q")

    def integrands(x: np.ndarray) -> np.ndarray:
        # rows: p log(p/q), -p log(q/p), p (log p - log q), -p log q, each as written, with 0 log(0/q) = 0
        with np.errstate(all="ignore"):
            lp = np.asarray(P.logdens(x), dtype=float)
            lq = np.asarray(Q.logdens(x), dtype=float)
            px, qx = np.exp(lp), np.exp(lq)
            rows = np.array([
                px * _literal_log_ratio(px, qx, lp, lq),
                -(px * _literal_log_ratio(qx, px, lq, lp)),
                px * (lp - lq),
                -(px * lq),
            ])
        rows[:, lp == -np.inf] = 0.0
        # rounding noise of each literal term (a quotient and a log, each good to a few ulp):
        # quadrature pieces at this floor are accepted instead of bisected for ever
        with np.errstate(all="ignore"):
            noise = 4.0 * np.finfo(float).eps * px * (1.0 + np.abs(lp) + np.abs(lq))
        noise = np.where(np.isfinite(noise), noise, 0.0)
        if np.isnan(rows).any():
            raise RuntimeError(
                "a literal integrand came out NaN (q's density vanishes where p's does not, a null set "
                "the literal forms cannot skip): use klbook.kl_divergence, which handles such pairs"
            )
        return rows, noise

    pts = breakpoints(P, Q)
    total = np.zeros(4)
    for i in range(4):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a literal integral that does not settle
            try:
                body, _, _, _, _ = integrate(lambda x: _row(integrands(x), i), pts, atol=1e-300,
                                             rtol=1e-12)
                val = body
                for left in (True, False):

                    def f_tail(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
                        v, noise = _row(integrands(x), i)
                        with np.errstate(divide="ignore"):
                            return np.log(np.abs(v)), np.sign(v), np.log(noise)

                    x0, end = float(pts[0] if left else pts[-1]), P.lo if left else P.hi
                    val += ladder(f_tail, x0, end, tail_width(pts, left), 1e-16 * max(abs(body), 1e-300),
                                  val, "kl_forms")
            except (RuntimeWarning, ValueError) as exc:
                raise RuntimeError(
                    f"the literal integral of the {FORM_NAMES[i]} form did not converge ({exc}); a singular "
                    "integrand, such as q's density vanishing at an end of p's support, defeats the "
                    "literal forms: use klbook.kl_divergence, which handles such pairs"
                ) from exc
        if not math.isfinite(val):
            raise RuntimeError(
                f"the literal integral of the {FORM_NAMES[i]} form is not finite although the divergence is: "
                "use klbook.kl_divergence, which handles such pairs"
            )
        total[i] = val
    h_p = entropy_distribution(p)
    return float(total[0]), float(total[1]), float(total[2]), float(total[3]) - h_p


def kl_forms(p: ArrayLike | object, q: ArrayLike | object, *, base: float | None = None) -> KLForms:
    r"""Evaluate each written form of :math:`D_{\mathrm{KL}}(p\,\|\,q)` separately, as written.

    For probability vectors (sums; for densities the same with integrals):

    .. math::

       & \underbrace{\sum_x p \log\frac{p}{q}}_{\texttt{direct}}
       = \underbrace{-\sum_x p \log\frac{q}{p}}_{\texttt{flipped}} \\
       & \quad = \underbrace{\mathbb{E}_{x\sim p}[\log p(x) - \log q(x)]}_{\texttt{expectation}} \\
       & \quad = \underbrace{H(p, q) - H(p)}_{\texttt{cross\_entropy\_minus\_entropy}} .

    How each is computed:

    * vectors: ``direct`` sums :math:`p_i\log(p_i/q_i)`, ``flipped`` sums
      :math:`-p_i\log(q_i/p_i)` (each quotient formed as written, with
      :math:`\log p_i - \log q_i` only where the quotient over- or underflows),
      ``expectation`` sums :math:`p_i(\log p_i - \log q_i)`, all with
      ``math.fsum``; the last is :func:`klbook.cross_entropy` minus
      :func:`klbook.entropy` (each a sum of non-negative terms);
    * univariate continuous distributions: the three integrands, and
      :math:`H(p, q) = -\int p\log q\,dx`, each with klbook's pairwise engine
      (adaptive Gauss-Kronrod between p's and q's quantiles, log-domain ladders
      in the tails: :func:`klbook.core.engine.integrate`), each
      integrand evaluated as written (densities from ``exp`` of the
      log-densities); :math:`H(p)` is the differential entropy from klbook's
      closed forms.

    The four values agree up to rounding (vectors) or the quadrature tolerance
    (about :math:`10^{-12}` relative, densities).

    Parameters
    ----------
    p, q : array_like or distribution
        Two probability vectors of the same length (never renormalised), or two
        univariate continuous distributions (frozen ``scipy.stats`` or
        :class:`klbook.Distribution`).
    base : float, optional
        ``None`` (default) for nats, ``2`` for bits.

    Returns
    -------
    KLForms
        The four values, and ``kind`` (``"sum"`` or ``"integral"``) and ``unit``.

    Notes
    -----
    Conventions: :math:`0\log(0/q) = 0` (also for :math:`q = 0`), and every form
    is ``inf`` when p has mass where q has none. For densities, whether the
    divergence is infinite (q misses part of p's support, or a tail integral
    diverges) is decided by :func:`klbook.kl_divergence`'s engine before any
    literal integral is attempted. The literal forms lose accuracy where
    :func:`klbook.kl_divergence` does not (near-equal vectors, where each term is
    :math:`O(\delta)` and the sum :math:`O(\delta^2)`): compare them with it,
    not with each other, for accuracy.

    Raises
    ------
    TypeError
        One vector and one distribution; a discrete or multivariate
        distribution; non-numeric input; a ``base`` that is not a real number.
    ValueError
        Invalid vectors (see :func:`kl_terms`), invalid distribution parameters,
        or an invalid ``base``.
    RuntimeError
        For densities, when a literal integral does not converge to the
        tolerance (a singular integrand, e.g. q's density vanishing at an end of
        p's support); :func:`klbook.kl_divergence` handles such pairs.

    Examples
    --------
    >>> f = kl_forms([0.5, 0.25, 0.25], [0.25, 0.5, 0.25], base=2)
    >>> f.direct, f.flipped, f.expectation, f.cross_entropy_minus_entropy
    (0.25, 0.25, 0.25, 0.25000000000000006)

    The last differs in the last bit: :math:`H(p, q)` and :math:`H(p)` are each
    rounded before the subtraction.
    >>> from scipy.stats import norm
    >>> g = kl_forms(norm(0, 1), norm(1, 1))
    >>> all(abs(v - 0.5) < 1e-12 for v in g.as_dict().values())
    True
    """
    b = check_base(base)
    pd = is_distribution_pair(p, q)
    if pd:
        vals = _forms_continuous(p, q)
        kind = "integral"
    else:
        pv, qv = check_vectors(p, q)
        direct = _fsum(_terms(pv, qv))
        flipped = _fsum(_terms(pv, qv, flipped=True))
        pos = pv > 0.0
        if np.any(pos & (qv == 0.0)):
            expectation = math.inf
        else:
            lp = np.log(pv[pos])
            lq = np.log(qv[pos])
            expectation = math.fsum((pv[pos] * (lp - lq)).tolist())
        h_pq = cross_entropy(pv, qv)
        ce_minus_h = math.inf if math.isinf(h_pq) else h_pq - entropy(pv)
        vals = (direct, flipped, expectation, ce_minus_h)
        kind = "sum"
    return KLForms(*(to_base(v, b) for v in vals), kind=kind, unit=_unit(b))


# --------------------------------------------------------------------------
# Exact reference for rational vectors
# --------------------------------------------------------------------------


def _as_fraction(x: object, where: str) -> Fraction:
    if isinstance(x, bool):
        raise TypeError(f"{where} = {x!r} is a boolean, not a probability")
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (numbers.Integral, decimal.Decimal)):
        return Fraction(x)
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(float(x)):
            raise ValueError(f"{where} = {x!r} is not finite")
        return Fraction(float(x))  # the exact binary value of the float
    if isinstance(x, numbers.Rational):
        return Fraction(int(x.numerator), int(x.denominator))
    if isinstance(x, str):
        try:
            return Fraction(x)
        except ValueError:
            raise ValueError(f"{where} = {x!r} is not a rational number such as '1/6' or '0.25'") from None
    raise TypeError(f"{where} has type {type(x).__name__}; pass int, Fraction, Decimal, str or float")


def _exact_vector(v: Sequence[object], name: str) -> list[Fraction]:
    if isinstance(v, (str, bytes)) or not isinstance(v, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of rationals, got {type(v).__name__}")
    out = [_as_fraction(x, f"{name}[{i}]") for i, x in enumerate(v)]
    if not out:
        raise ValueError(f"{name} is empty")
    for i, x in enumerate(out):
        if x < 0:
            raise ValueError(f"{name}[{i}] = {x} is negative")
    total = sum(out, Fraction(0))
    if total != 1:
        raise ValueError(
            f"{name} sums to {total} exactly, not 1; kl_exact needs exact probabilities "
            "(Fraction(1, 6) or '1/6', not 0.1666...) and never renormalises"
        )
    return out


def _ln(x: Fraction, ctx: decimal.Context) -> decimal.Decimal:
    return ctx.subtract(decimal.Decimal(x.numerator).ln(ctx), decimal.Decimal(x.denominator).ln(ctx))


def _kl_decimal(p: list[Fraction], q: list[Fraction], base: Fraction | None, prec: int) -> decimal.Decimal:
    ctx = decimal.Context(prec=prec, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    total = decimal.Decimal(0)
    for a, b in zip(p, q):
        if a == 0:
            continue
        if b == 0:
            return decimal.Decimal("Infinity")
        lr = _ln(a / b, ctx)  # log(p_i / q_i) of the exact quotient
        term = ctx.multiply(ctx.divide(decimal.Decimal(a.numerator), decimal.Decimal(a.denominator)), lr)
        total = ctx.add(total, term)
    if base is not None:
        total = ctx.divide(total, _ln(base, ctx))
    return total


def kl_exact(
    p: Sequence[object], q: Sequence[object], *, base: int | str | Fraction | None = None, digits: int = 30
) -> decimal.Decimal:
    r"""The divergence of two vectors of exact rationals, correct to ``digits`` significant digits.

    .. math::

       D_{\mathrm{KL}}(p\,\|\,q) = \sum_{i:\,p_i>0} p_i \log\frac{p_i}{q_i},

    with :math:`p_i, q_i` exact rationals that sum exactly to 1, each logarithm
    taken of the exact quotient :math:`p_i/q_i` in decimal arithmetic. The
    working precision is raised until two evaluations agree to ``digits``
    digits, so cancellation between positive and negative terms cannot eat the
    digits returned. Use it as a reference for floating-point results, or to
    see that a divergence in bits is exactly rational when all probabilities
    are powers of 1/2.

    Parameters
    ----------
    p, q : sequence of rationals
        Entries as ``int``, :class:`fractions.Fraction`, :class:`decimal.Decimal`,
        strings such as ``"1/6"`` or ``"0.25"``, or floats (taken at their exact
        binary value). Each vector must sum exactly to 1.
    base : int, str or Fraction, optional
        ``None`` (default) for nats, ``2`` for bits; a rational ``> 0``, ``!= 1``.
    digits : int
        Significant digits of the result, 1 to 1000 (default 30).

    Returns
    -------
    decimal.Decimal
        The divergence rounded to ``digits`` significant digits; ``Decimal('Infinity')``
        when some :math:`p_i > 0 = q_i`. ``float(result)`` is the correctly
        rounded double.

    Raises
    ------
    TypeError
        Entries of an unsupported type (booleans included), a non-sequence, or a
        non-integer ``digits``.
    ValueError
        Different lengths, negative entries, a vector whose exact sum is not 1,
        an invalid ``base`` or ``digits``.

    Examples
    --------
    >>> kl_exact(["1/2", "1/4", "1/4"], ["1/4", "1/2", "1/4"], base=2)
    Decimal('0.250000000000000000000000000000')
    >>> kl_exact(["1/2", "1/2"], ["1/4", "3/4"], digits=12)
    Decimal('0.143841036226')
    >>> kl_exact([1, 0], [0, 1])
    Decimal('Infinity')
    """
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral):
        raise TypeError(f"digits must be an integer, got {type(digits).__name__}")
    if not 1 <= int(digits) <= 1000:
        raise ValueError(f"digits must be between 1 and 1000, got {digits}")
    digits = int(digits)
    pf = _exact_vector(p, "p")
    qf = _exact_vector(q, "q")
    if len(pf) != len(qf):
        raise ValueError(f"p and q must have the same length, got {len(pf)} and {len(qf)}")
    bf: Fraction | None = None
    if base is not None:
        bf = _as_fraction(base, "base")
        if bf <= 1:
            raise ValueError(f"base must be a number > 1 (2 gives bits, None gives nats); got {base!r}")
    out_ctx = decimal.Context(prec=digits, rounding=decimal.ROUND_HALF_EVEN)
    prec = digits + 20
    prev = out_ctx.plus(_kl_decimal(pf, qf, bf, prec))
    while True:
        if prev.is_infinite():
            return prev
        prec = 2 * prec
        cur = out_ctx.plus(_kl_decimal(pf, qf, bf, prec))
        if cur == prev or prec > 20 * (digits + 20) + 4000:
            break
        prev = cur
    if cur.is_zero():
        return decimal.Decimal(0)
    # Keep trailing zeros, so that the number of digits shown is the number guaranteed.
    return cur.quantize(decimal.Decimal(1).scaleb(cur.adjusted() - digits + 1), context=out_ctx)
