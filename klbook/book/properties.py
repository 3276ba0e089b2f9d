r"""The properties of the Kullback-Leibler divergence, as numbers that can be checked.

Chapter 3 of the book states and proves the basic properties of
:math:`D_{\mathrm{KL}}`; this module supplies what it needs to check them and
draw them. Every divergence is computed by :func:`klbook.kl_divergence`.

* Total variation and the bounds that tie it to KL:
  :func:`~klbook.total_variation`, :func:`~klbook.pinsker_bound` (Pinsker's inequality
  :math:`\mathrm{TV} \le \sqrt{D_{\mathrm{KL}}/2}`) and
  :func:`~klbook.book.properties.bretagnolle_huber_bound` (:math:`\mathrm{TV} \le \sqrt{1 - e^{-D_{\mathrm{KL}}}}`).
* Asymmetry and the triangle inequality: :func:`~klbook.kl_asymmetry`,
  :func:`~klbook.book.properties.bernoulli_kl_grid`, :func:`~klbook.book.properties.bernoulli_asymmetry_grid`,
  :func:`~klbook.triangle_gap`.
* The building blocks of the other properties, for probability vectors:
  :func:`~klbook.book.properties.product_distribution` (independent variables), :func:`~klbook.book.properties.pushforward`
  (a change of variables), :func:`~klbook.book.properties.mixture` (a convex combination), and the
  gaps :func:`~klbook.book.properties.additivity_gap`, :func:`~klbook.book.properties.invariance_gap`, :func:`~klbook.book.properties.convexity_gap`.
* Checks on many random pairs: :func:`~klbook.book.properties.random_distributions`,
  :func:`~klbook.check_properties` (probability vectors) and
  :func:`~klbook.check_gaussian_properties` (Gaussians, through two non-linear
  changes of variables and a multivariate normal), with
  :func:`~klbook.book.properties.gaussian_pushforwards`.

Conventions, as everywhere in klbook: natural logarithms (nats), never NaN,
never a silent renormalisation. A *gap* is the difference of the two sides of
an identity or inequality, arranged so that the property says
``gap == 0`` (identities) or ``gap >= 0`` (inequalities); where both sides are
infinite an identity's gap is ``0.0`` and an inequality's gap raises
``ValueError`` (:math:`\infty - \infty` has no sign).
"""

from __future__ import annotations

import math
import numbers
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from ..core.alpha import classify_pair
from ..core.closed_forms.discrete import kl_bernoulli_params
from ..core.divergences import is_distribution_pair, check_vectors, kl_divergence
from .integrand import masses_where_q_wins, sign_changes
from ..core.engine import Univariate, sum_kernel
from ..core.estimators import check_count, rng_from_seed
from ..core.numeric import kl_numeric

__all__ = [
    "total_variation",
    "pinsker_bound",
    "bretagnolle_huber_bound",
    "kl_asymmetry",
    "bernoulli_kl_grid",
    "bernoulli_asymmetry_grid",
    "triangle_gap",
    "product_distribution",
    "additivity_gap",
    "pushforward",
    "invariance_gap",
    "mixture",
    "convexity_gap",
    "random_distributions",
    "PropertyChecks",
    "check_properties",
    "gaussian_pushforwards",
    "GaussianChecks",
    "check_gaussian_properties",
]


# --------------------------------------------------------------------------- #
# Small input checks                                                          #
# --------------------------------------------------------------------------- #


def _named_vector(p: object, name: str) -> np.ndarray:
    """One probability vector, checked by the vector engine's rules; errors name it ``name``."""
    try:
        pv, _ = check_vectors(p, None)
    except (TypeError, ValueError) as err:
        msg = str(err)
        if name != "p":  # the engine calls its argument "p"
            msg = re.sub(r"\bp\b", name, msg)
        raise type(err)(msg) from None
    return pv


def _pair(p: object, q: object, names: tuple[str, str] = ("p", "q")) -> tuple[np.ndarray, np.ndarray]:
    pv = _named_vector(p, names[0])
    qv = _named_vector(q, names[1])
    if pv.size != qv.size:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same length, got {pv.size} and {qv.size}"
        )
    return pv, qv


def _weight(lam: object, name: str = "weight") -> float:
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1], got {type(lam).__name__} {lam!r}")
    w = float(lam)
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {lam!r}")
    return w


def _kl_values(values: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be real numbers (divergences in nats), got {type(values).__name__}") from None
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} contains NaN")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 (a divergence is never negative), got a minimum of {float(arr.min())!r}")
    return arr


def _out(arr: np.ndarray) -> np.ndarray | float:
    return float(arr) if arr.ndim == 0 else arr


def _gap(lhs: float, rhs: float, what: str, identity: bool) -> float:
    """``lhs - rhs`` for extended reals; both infinite: 0 for an identity, ValueError for an inequality."""
    if math.isinf(lhs) and math.isinf(rhs):
        if identity:
            return 0.0
        raise ValueError(f"{what}: both sides are infinite, so their difference has no sign")
    return lhs - rhs


# --------------------------------------------------------------------------- #
# Total variation and Pinsker                                                  #
# --------------------------------------------------------------------------- #


def _tv_continuous(p: Any, q: Any) -> float:
    """TV of two univariate continuous distributions: masses between the crossings of p and q, from the cdfs."""
    P, Q = Univariate(p, "p"), Univariate(q, "q")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tv, _ = masses_where_q_wins(p, q, P, Q, sign_changes(P, Q, p, q))
    return float(min(max(tv, 0.0), 1.0))


def _abs_diff_terms(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.abs(np.exp(lp) - np.exp(lq))


def total_variation(p: ArrayLike | object, q: ArrayLike | object) -> float:
    r"""Total variation distance :math:`\mathrm{TV}(p, q)`, a number in :math:`[0, 1]`.

    .. math::

        \mathrm{TV}(p, q) &= \sup_{A} |P(A) - Q(A)| \\
        &= \frac12 \sum_x |p(x) - q(x)| \\
        &= \sum_{x:\, q(x) > p(x)} \big(q(x) - p(x)\big),

    with an integral instead of the sum for densities. It is a metric, 0
    exactly when :math:`p = q` and 1 exactly when the supports are disjoint.

    Parameters
    ----------
    p, q : array_like or distribution
        Two probability vectors of the same length (each summing to 1 within
        ``klbook.core.divergences.SUM_RTOL``, never renormalised), or two
        univariate distributions: frozen ``scipy.stats`` distributions,
        discrete or continuous, or :class:`klbook.Distribution` objects.

    Returns
    -------
    float
        :math:`\mathrm{TV}(p, q) \in [0, 1]`.

    Notes
    -----
    Vectors: :math:`\tfrac12\sum_i |p_i - q_i|`, summed exactly
    (``math.fsum``) from the rounded differences. Discrete distributions: the
    same sum over the integers, over the whole union of the supports when it
    is finite, else outwards from the central :math:`1 - 2\cdot10^{-12}` of
    each distribution until a block of terms adds less than :math:`10^{-17}`
    of the total (the summation of :func:`klbook.js_divergence`). Continuous
    distributions: the points where :math:`p = q` are located on quantile
    grids of p and q (as in :func:`klbook.signed_areas`), and the distance is
    :math:`\sum (Q(I) - P(I))` over the pieces :math:`I` where :math:`q > p`,
    plus q's mass outside p's support, all from the cdfs (no quadrature). A
    discrete distribution against a continuous one gives 1 (they are
    mutually singular).

    Raises
    ------
    TypeError
        One vector and one distribution; a multivariate distribution;
        non-numeric input.
    ValueError
        Invalid vectors (see :func:`klbook.kl_divergence`) or invalid
        distribution parameters.

    Examples
    --------
    >>> total_variation([0.5, 0.5], [0.9, 0.1])
    0.4
    >>> from scipy import stats
    >>> round(total_variation(stats.norm(0, 1), stats.norm(1, 1)), 12)  # 2 Phi(1/2) - 1
    0.382924922548
    """
    if is_distribution_pair(p, q):
        kind = classify_pair(p, q)
        if kind == "mvn":
            raise TypeError("total_variation: multivariate distributions are not supported")
        if kind == "singular":
            return 1.0
        if kind == "discrete":
            return float(min(max(0.5 * sum_kernel(p, q, _abs_diff_terms), 0.0), 1.0))
        return _tv_continuous(p, q)
    pv, qv = _pair(p, q)
    return float(min(0.5 * math.fsum(np.abs(pv - qv).tolist()), 1.0))


def pinsker_bound(kl: ArrayLike) -> np.ndarray | float:
    r"""Pinsker's upper bound on total variation, :math:`\sqrt{D_{\mathrm{KL}}/2}`.

    Pinsker's inequality: for all p, q, with :math:`D_{\mathrm{KL}}` in nats,

    .. math::

        \mathrm{TV}(p, q) \le \sqrt{\tfrac12 D_{\mathrm{KL}}(p\,\|\,q)} .

    It says nothing once :math:`D_{\mathrm{KL}} \ge 2` (the bound exceeds 1);
    see :func:`~klbook.book.properties.bretagnolle_huber_bound` for a bound that stays below 1.

    Parameters
    ----------
    kl : float or array_like
        Divergences in nats, :math:`\ge 0` (``inf`` allowed).

    Returns
    -------
    float or numpy.ndarray
        :math:`\sqrt{D_{\mathrm{KL}}/2}`, elementwise (a float for a scalar).

    Raises
    ------
    TypeError
        Non-numeric input.
    ValueError
        A negative or NaN divergence.

    Examples
    --------
    >>> pinsker_bound(0.5)
    0.5
    """
    k = _kl_values(kl, "kl")
    return _out(np.sqrt(0.5 * k))


def bretagnolle_huber_bound(kl: ArrayLike) -> np.ndarray | float:
    r"""The Bretagnolle-Huber upper bound on total variation, :math:`\sqrt{1 - e^{-D_{\mathrm{KL}}}}`.

    .. math::

        \mathrm{TV}(p, q) &\le \sqrt{1 - \exp\!\big(-D_{\mathrm{KL}}(p\,\|\,q)\big)} \\
        &< 1 .

    Weaker than Pinsker's :math:`\sqrt{D_{\mathrm{KL}}/2}` for small
    divergences, stronger above about 1.6 nats, and never vacuous. It follows
    from :math:`\mathrm{TV} \le \sqrt{1 - \mathrm{BC}^2}` (Cauchy-Schwarz) and
    :math:`\mathrm{BC}(p, q) \ge e^{-D_{\mathrm{KL}}(p\|q)/2}` (Jensen), with
    :math:`\mathrm{BC}` the Bhattacharyya coefficient.

    Parameters
    ----------
    kl : float or array_like
        Divergences in nats, :math:`\ge 0` (``inf`` gives 1).

    Returns
    -------
    float or numpy.ndarray
        :math:`\sqrt{-\mathrm{expm1}(-D_{\mathrm{KL}})}`, elementwise.

    Raises
    ------
    TypeError
        Non-numeric input.
    ValueError
        A negative or NaN divergence.

    Examples
    --------
    >>> round(bretagnolle_huber_bound(math.log(2)), 15)  # sqrt(1/2)
    0.707106781186548
    """
    k = _kl_values(kl, "kl")
    return _out(np.sqrt(-np.expm1(-k)))


# --------------------------------------------------------------------------- #
# Asymmetry, the Bernoulli grid, the triangle inequality                      #
# --------------------------------------------------------------------------- #


def kl_asymmetry(p: ArrayLike | object, q: ArrayLike | object) -> float:
    r"""How far KL is from symmetric: :math:`D_{\mathrm{KL}}(p\,\|\,q) - D_{\mathrm{KL}}(q\,\|\,p)` in nats.

    Parameters
    ----------
    p, q : array_like or distribution
        Anything :func:`klbook.kl_divergence` accepts.

    Returns
    -------
    float
        The difference; :math:`\pm\infty` when exactly one direction is infinite.

    Raises
    ------
    ValueError
        When both directions are infinite (:math:`\infty - \infty`), and for
        invalid input (see :func:`klbook.kl_divergence`).

    Examples
    --------
    >>> round(kl_asymmetry([0.5, 0.5], [0.9, 0.1]), 12)
    0.142761416597
    """
    return _gap(kl_divergence(p, q), kl_divergence(q, p), "kl_asymmetry", identity=False)


def _unit_grid(a: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of probabilities, got {type(a).__name__}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    bad = np.flatnonzero(~((arr >= 0.0) & (arr <= 1.0)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] = {arr[i]!r} is not a probability in [0, 1]")
    return arr


def bernoulli_kl_grid(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    r"""KL between Bernoulli distributions on a grid: ``K[i, j]`` :math:`= D_{\mathrm{KL}}(\mathrm{Bern}(a_i)\,\|\,\mathrm{Bern}(b_j))`.

    .. math::

        & D_{\mathrm{KL}}(\mathrm{Bern}(a)\,\|\,\mathrm{Bern}(b)) \\
        & \quad = a \log\frac{a}{b} + (1 - a)\log\frac{1 - a}{1 - b},

    in nats, with :math:`0 \log 0 = 0`; ``inf`` when :math:`b \in \{0, 1\}` and
    :math:`a \ne b`. Each entry is the value :func:`klbook.kl_divergence` gives
    for ``scipy.stats.bernoulli(a_i)`` against ``scipy.stats.bernoulli(b_j)``
    (its registered closed form, accurate also for :math:`a \approx b`),
    evaluated without building the distribution objects.

    Parameters
    ----------
    a, b : array_like
        1-D arrays of success probabilities in :math:`[0, 1]`.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(a), len(b))``, nats.

    Raises
    ------
    ValueError
        Entries outside :math:`[0, 1]` or NaN; arrays that are not 1-D.
    """
    av, bv = _unit_grid(a, "a"), _unit_grid(b, "b")
    out = np.empty((av.size, bv.size))
    for i, ai in enumerate(av.tolist()):
        for j, bj in enumerate(bv.tolist()):
            out[i, j] = kl_bernoulli_params(ai, bj)
    return out


def bernoulli_asymmetry_grid(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    r"""The asymmetry of KL between Bernoulli distributions on a grid, in nats.

    .. math::

        & G[i, j] = D_{\mathrm{KL}}(\mathrm{Bern}(a_i)\,\|\,\mathrm{Bern}(b_j)) \\
        & \quad {} - D_{\mathrm{KL}}(\mathrm{Bern}(b_j)\,\|\,\mathrm{Bern}(a_i)).

    :math:`G` is antisymmetric under swapping the two probabilities and
    unchanged under :math:`(a, b) \mapsto (1 - a, 1 - b)`; it vanishes on the
    diagonal :math:`a = b` and on the anti-diagonal :math:`a + b = 1`.

    Parameters
    ----------
    a, b : array_like
        1-D arrays of success probabilities in :math:`[0, 1]`.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(a), len(b))``; :math:`\pm\infty` where one direction is infinite.

    Raises
    ------
    ValueError
        Entries outside :math:`[0, 1]`; a pair :math:`\{a_i, b_j\} = \{0, 1\}`,
        where both directions are infinite.
    """
    fwd = bernoulli_kl_grid(a, b)
    rev = bernoulli_kl_grid(b, a).T
    both = np.isinf(fwd) & np.isinf(rev)
    if np.any(both):
        i, j = (int(v) for v in np.argwhere(both)[0])
        ai, bj = float(_unit_grid(a, "a")[i]), float(_unit_grid(b, "b")[j])
        raise ValueError(
            f"a[{i}] = {ai!r} and b[{j}] = {bj!r}: both directions are infinite, the difference is undefined"
        )
    return fwd - rev


def triangle_gap(p: ArrayLike | object, q: ArrayLike | object, r: ArrayLike | object) -> float:
    r"""How much the triangle inequality fails through q, in nats.

    With s the third distribution (the argument ``r``),

    .. math::

        & D_{\mathrm{KL}}(p\,\|\,s) \\
        & \quad {} - \big[D_{\mathrm{KL}}(p\,\|\,q) + D_{\mathrm{KL}}(q\,\|\,s)\big].

    A metric would make this :math:`\le 0` for every q; a positive value is a
    counterexample to the triangle inequality.

    Parameters
    ----------
    p, q, r : array_like or distribution
        p, q and s: anything :func:`klbook.kl_divergence` accepts (three vectors
        of one length, or three distributions).

    Returns
    -------
    float
        The gap; ``-inf`` when only the right-hand side is infinite.

    Raises
    ------
    ValueError
        When both sides are infinite, and for invalid input.

    Examples
    --------
    >>> from scipy import stats
    >>> triangle_gap(stats.norm(0, 1), stats.norm(1, 1), stats.norm(2, 1))  # 2 - (1/2 + 1/2)
    1.0
    """
    direct = kl_divergence(p, r)
    via = kl_divergence(p, q) + kl_divergence(q, r)
    return _gap(direct, via, "triangle_gap", identity=False)


# --------------------------------------------------------------------------- #
# Products, pushforwards, mixtures and their gaps                             #
# --------------------------------------------------------------------------- #


def product_distribution(*factors: ArrayLike) -> np.ndarray:
    r"""The joint distribution of independent variables, flattened: :math:`p_1 \otimes p_2 \otimes \cdots`.

    For two factors, entry ``i * len(p2) + j`` is :math:`p_1(i)\,p_2(j)`, the
    probability that :math:`X_1 = i` and :math:`X_2 = j` when they are
    independent (``numpy.outer(p1, p2).ravel()``); more factors nest the same way.

    Parameters
    ----------
    *factors : array_like
        One or more probability vectors (each checked, never renormalised).

    Returns
    -------
    numpy.ndarray
        A probability vector of length ``prod(len(f) for f in factors)``.

    Raises
    ------
    TypeError
        No factors, or non-numeric input.
    ValueError
        A factor that is not a probability vector.

    Examples
    --------
    >>> product_distribution([0.5, 0.5], [0.25, 0.75]).tolist()
    [0.125, 0.375, 0.125, 0.375]
    """
    if not factors:
        raise TypeError("product_distribution needs at least one probability vector")
    out = np.ones(1)
    for i, f in enumerate(factors):
        out = np.outer(out, _named_vector(f, f"factors[{i}]")).ravel()
    return out


def additivity_gap(p1: ArrayLike, q1: ArrayLike, p2: ArrayLike, q2: ArrayLike) -> float:
    r"""Additivity of KL for independent variables, as a gap (0 when it holds), in nats.

    The gap

    .. math::

        & D_{\mathrm{KL}}(p_1 \otimes p_2\,\|\,q_1 \otimes q_2) \\
        & \quad {} - \big[D_{\mathrm{KL}}(p_1\,\|\,q_1) + D_{\mathrm{KL}}(p_2\,\|\,q_2)\big]

    is 0: the divergence between two product distributions is the sum of the
    divergences between their factors.

    Parameters
    ----------
    p1, q1, p2, q2 : array_like
        Probability vectors; ``p1``, ``q1`` of one length, ``p2``, ``q2`` of another.

    Returns
    -------
    float
        The gap: rounding error only; ``0.0`` when both sides are infinite.

    Raises
    ------
    ValueError, TypeError
        Invalid vectors (see :func:`klbook.kl_divergence`).
    """
    a1, b1 = _pair(p1, q1, ("p1", "q1"))
    a2, b2 = _pair(p2, q2, ("p2", "q2"))
    joint = kl_divergence(product_distribution(a1, a2), product_distribution(b1, b2))
    parts = kl_divergence(a1, b1) + kl_divergence(a2, b2)
    return _gap(joint, parts, "additivity_gap", identity=True)


def pushforward(p: ArrayLike, mapping: ArrayLike, n_out: int | None = None) -> np.ndarray:
    r"""The distribution of :math:`T(X)` when :math:`X \sim p`, for a map :math:`T` of outcomes.

    .. math::

        (T_\# p)(y) = \sum_{x:\, T(x) = y} p(x) .

    Parameters
    ----------
    p : array_like
        A probability vector over the outcomes ``0 .. len(p) - 1``.
    mapping : array_like of int
        ``mapping[x]`` is :math:`T(x)`, an integer in ``0 .. n_out - 1``; same length as p.
        A permutation of ``range(len(p))`` is an invertible change of variables
        (a relabelling); a map that sends two outcomes to one value merges them.
    n_out : int, optional
        Number of possible values of :math:`T`; default ``max(mapping) + 1``.

    Returns
    -------
    numpy.ndarray
        The probability vector of :math:`T(X)`, length ``n_out``.

    Raises
    ------
    TypeError
        A mapping that is not integer-valued.
    ValueError
        Invalid p; a mapping of the wrong length or with values outside ``0 .. n_out - 1``.

    Examples
    --------
    >>> pushforward([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1]).tolist()
    [0.30000000000000004, 0.7]
    """
    pv = _named_vector(p, "p")
    m = np.asarray(mapping)
    if m.ndim != 1 or m.size != pv.size:
        raise ValueError(f"mapping must be 1-D with one entry per outcome ({pv.size}), got shape {m.shape}")
    if m.dtype.kind not in "iu":
        raise TypeError(f"mapping must hold integers (the index of T(x)), got dtype {m.dtype}")
    size = int(m.max()) + 1 if n_out is None else check_count(n_out, "n_out", 1)
    if m.min() < 0 or m.max() >= size:
        raise ValueError(f"mapping values must lie in 0 .. {size - 1}, got {int(m.min())} .. {int(m.max())}")
    return np.bincount(m.astype(np.intp), weights=pv, minlength=size)


def invariance_gap(p: ArrayLike, q: ArrayLike, mapping: ArrayLike, n_out: int | None = None) -> float:
    r"""What a change of variables does to KL: :math:`D_{\mathrm{KL}}(T_\# p\,\|\,T_\# q) - D_{\mathrm{KL}}(p\,\|\,q)`.

    0 (up to rounding) when :math:`T` is invertible (a permutation of the
    outcomes); :math:`\le 0` for every other map, by the data-processing
    inequality: merging outcomes can only lose information.

    Parameters
    ----------
    p, q : array_like
        Probability vectors of one length.
    mapping, n_out
        As for :func:`~klbook.book.properties.pushforward`.

    Returns
    -------
    float
        The gap in nats; ``0.0`` when both divergences are infinite.

    Raises
    ------
    TypeError, ValueError
        As for :func:`~klbook.book.properties.pushforward` and :func:`klbook.kl_divergence`.
    """
    pv, qv = _pair(p, q)
    after = kl_divergence(pushforward(pv, mapping, n_out), pushforward(qv, mapping, n_out))
    return _gap(after, kl_divergence(pv, qv), "invariance_gap", identity=True)


def mixture(p: ArrayLike, q: ArrayLike, weight: float) -> np.ndarray:
    r"""The mixture :math:`\lambda p + (1 - \lambda) q` of two probability vectors.

    Parameters
    ----------
    p, q : array_like
        Probability vectors of one length.
    weight : float
        :math:`\lambda \in [0, 1]`, the weight of p.

    Returns
    -------
    numpy.ndarray
        The mixture, a probability vector.

    Raises
    ------
    TypeError, ValueError
        Invalid vectors, or a weight outside :math:`[0, 1]`.

    Examples
    --------
    >>> mixture([1.0, 0.0], [0.0, 1.0], 0.25).tolist()
    [0.25, 0.75]
    """
    pv, qv = _pair(p, q)
    w = _weight(weight)
    return w * pv + (1.0 - w) * qv


def convexity_gap(p1: ArrayLike, q1: ArrayLike, p2: ArrayLike, q2: ArrayLike, weight: float) -> float:
    r"""Joint convexity of KL, as a gap (:math:`\ge 0` when it holds), in nats.

    With :math:`\lambda` = ``weight``, :math:`p_\lambda = \lambda p_1 + (1-\lambda) p_2`
    and :math:`q_\lambda = \lambda q_1 + (1-\lambda) q_2`,

    .. math::

        & \lambda D_{\mathrm{KL}}(p_1\,\|\,q_1) \\
        & \quad {} + (1 - \lambda) D_{\mathrm{KL}}(p_2\,\|\,q_2) \\
        & \quad {} - D_{\mathrm{KL}}(p_\lambda\,\|\,q_\lambda) \;\ge\; 0 .

    Parameters
    ----------
    p1, q1, p2, q2 : array_like
        Probability vectors, all of one length.
    weight : float
        :math:`\lambda \in [0, 1]`.

    Returns
    -------
    float
        The gap; ``inf`` when only the chord is infinite. A term with weight 0 is
        left out of the chord (:math:`0 \cdot \infty = 0`).

    Raises
    ------
    ValueError
        When both the chord and the mixture's divergence are infinite, and for invalid input.
    """
    a1, b1 = _pair(p1, q1, ("p1", "q1"))
    a2, b2 = _pair(p2, q2, ("p2", "q2"))
    if a1.size != a2.size:
        raise ValueError(f"p1 and p2 must have the same length, got {a1.size} and {a2.size}")
    w = _weight(weight)
    chord = 0.0
    if w > 0.0:
        chord += w * kl_divergence(a1, b1)
    if w < 1.0:
        chord += (1.0 - w) * kl_divergence(a2, b2)
    inner = kl_divergence(mixture(a1, a2, w), mixture(b1, b2, w))
    return _gap(chord, inner, "convexity_gap", identity=False)


# --------------------------------------------------------------------------- #
# Random pairs                                                                #
# --------------------------------------------------------------------------- #


def random_distributions(
    n: int, k: int, *, concentration: float = 1.0, seed: int | np.random.Generator | None = None
) -> np.ndarray:
    r"""Random probability vectors: ``n`` draws from a symmetric Dirichlet distribution on ``k`` outcomes.

    With ``concentration = 1`` the vectors are uniform on the probability
    simplex; smaller values give spikier vectors, larger values vectors close to
    uniform.

    Parameters
    ----------
    n : int
        Number of vectors, :math:`\ge 1`.
    k : int
        Number of outcomes, :math:`\ge 2`.
    concentration : float
        The Dirichlet parameter :math:`\alpha > 0` of every outcome.
    seed : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, k)``; every row is a probability vector.

    Raises
    ------
    TypeError, ValueError
        Invalid ``n``, ``k``, ``concentration`` or ``seed``.
    """
    n_ = check_count(n, "n", 1)
    k_ = check_count(k, "k", 2)
    if isinstance(concentration, bool) or not isinstance(concentration, numbers.Real):
        raise TypeError(f"concentration must be a positive number, got {type(concentration).__name__}")
    if not (math.isfinite(float(concentration)) and float(concentration) > 0.0):
        raise ValueError(f"concentration must be finite and > 0, got {concentration!r}")
    return rng_from_seed(seed).dirichlet(np.full(k_, float(concentration)), size=n_)


@dataclass(frozen=True)
class PropertyChecks:
    r"""The numbers behind the random-pair checks of :func:`~klbook.check_properties`. Divergences in nats.

    Row ``i`` of every array belongs to the same draw.

    Attributes
    ----------
    p, q : numpy.ndarray
        Shape ``(n, k)``: the random pairs.
    kl_pq, kl_qp : numpy.ndarray
        :math:`D_{\mathrm{KL}}(p\,\|\,q)` and :math:`D_{\mathrm{KL}}(q\,\|\,p)`
        (Gibbs: both :math:`\ge 0`; their difference is the asymmetry).
    kl_self : numpy.ndarray
        :math:`D_{\mathrm{KL}}(p\,\|\,p)`, which must be exactly 0.
    tv : numpy.ndarray
        :math:`\mathrm{TV}(p, q)` (Pinsker: :math:`\le \sqrt{D_{\mathrm{KL}}(p\|q)/2}`).
    p2, q2 : numpy.ndarray
        Shape ``(n, k2)``: a second, independent pair for the additivity check.
    kl_joint : numpy.ndarray
        :math:`D_{\mathrm{KL}}(p \otimes p_2\,\|\,q \otimes q_2)`.
    kl_sum : numpy.ndarray
        :math:`D_{\mathrm{KL}}(p\,\|\,q) + D_{\mathrm{KL}}(p_2\,\|\,q_2)` (additivity: equal to ``kl_joint``).
    permutations : numpy.ndarray
        Shape ``(n, k)``: a random relabelling of the outcomes per row.
    kl_permuted : numpy.ndarray
        The divergence after relabelling (invariance: equal to ``kl_pq``).
    merges : numpy.ndarray
        Shape ``(n, k)``: a random map of the k outcomes onto ``k - 1`` values
        (two outcomes merged).
    kl_merged : numpy.ndarray
        The divergence after merging (data processing: :math:`\le` ``kl_pq``).
    weights : numpy.ndarray
        :math:`\lambda`, uniform on :math:`(0, 1)`, for the convexity check.
    kl_mixed : numpy.ndarray
        The divergence of :math:`\lambda q + (1-\lambda) q_3` from :math:`\lambda p + (1-\lambda) p_3`.
    kl_chord : numpy.ndarray
        :math:`\lambda D_{\mathrm{KL}}(p\,\|\,q) + (1-\lambda) D_{\mathrm{KL}}(p_3\,\|\,q_3)`
        (convexity: :math:`\ge` ``kl_mixed``).
    p3, q3 : numpy.ndarray
        Shape ``(n, k)``: the second pair of the convexity check.
    r : numpy.ndarray
        Shape ``(n, k)``: a third distribution s for the triangle inequality.
    triangle : numpy.ndarray
        :func:`~klbook.triangle_gap` of ``(p, r, q)``: positive where
        :math:`D_{\mathrm{KL}}(p\|q)` exceeds :math:`D_{\mathrm{KL}}(p\|s) + D_{\mathrm{KL}}(s\|q)`.
    """

    p: np.ndarray
    q: np.ndarray
    kl_pq: np.ndarray
    kl_qp: np.ndarray
    kl_self: np.ndarray
    tv: np.ndarray
    p2: np.ndarray
    q2: np.ndarray
    kl_joint: np.ndarray
    kl_sum: np.ndarray
    permutations: np.ndarray
    kl_permuted: np.ndarray
    merges: np.ndarray
    kl_merged: np.ndarray
    weights: np.ndarray
    p3: np.ndarray
    q3: np.ndarray
    kl_mixed: np.ndarray
    kl_chord: np.ndarray
    r: np.ndarray
    triangle: np.ndarray


def check_properties(
    n_pairs: int = 1000, k: int = 4, *, k2: int = 3, concentration: float = 1.0, seed: int | np.random.Generator = 0
) -> PropertyChecks:
    r"""Check the properties of KL on many random pairs of probability vectors.

    Draws ``n_pairs`` independent sets of Dirichlet vectors
    (:func:`~klbook.book.properties.random_distributions`) and computes, for each, every divergence
    the properties relate: Gibbs' inequality, :math:`D_{\mathrm{KL}}(p\|p) = 0`,
    asymmetry, Pinsker's inequality, additivity for independent variables,
    invariance under a relabelling of the outcomes, the data-processing
    inequality for a merge of two outcomes, joint convexity, and the triangle
    inequality. Nothing is asserted: the arrays are returned so that the
    caller can look at them (and plot them). Every divergence comes from
    :func:`klbook.kl_divergence`.

    Parameters
    ----------
    n_pairs : int
        Number of random draws, :math:`\ge 1`.
    k : int
        Number of outcomes of p, q, the convexity pair and r, :math:`\ge 2`.
    k2 : int
        Number of outcomes of the second independent variable, :math:`\ge 2`.
    concentration : float
        Dirichlet parameter of every draw.
    seed : int or numpy.random.Generator
        Source of randomness (the result is reproducible for an int).

    Returns
    -------
    PropertyChecks
        The pairs and the divergences, one row per draw.
    """
    n = check_count(n_pairs, "n_pairs", 1)
    k_ = check_count(k, "k", 2)
    k2_ = check_count(k2, "k2", 2)
    rng = rng_from_seed(seed)
    draw = lambda kk: random_distributions(n, kk, concentration=concentration, seed=rng)  # noqa: E731
    p, q, p2, q2, p3, q3, r = draw(k_), draw(k_), draw(k2_), draw(k2_), draw(k_), draw(k_), draw(k_)
    perms = np.array([rng.permutation(k_) for _ in range(n)])
    merges = np.empty((n, k_), dtype=np.intp)
    for i in range(n):
        keep = rng.permutation(k_)  # outcome keep[-1] joins outcome keep[-2]; the others keep their labels
        m = np.empty(k_, dtype=np.intp)
        m[keep[:-1]] = np.arange(k_ - 1)
        m[keep[-1]] = m[keep[-2]]
        merges[i] = m
    weights = rng.uniform(0.0, 1.0, size=n)

    out = {name: np.empty(n) for name in
           ("kl_pq", "kl_qp", "kl_self", "tv", "kl_joint", "kl_sum", "kl_permuted", "kl_merged",
            "kl_mixed", "kl_chord", "triangle")}
    for i in range(n):
        kpq = kl_divergence(p[i], q[i])
        out["kl_pq"][i] = kpq
        out["kl_qp"][i] = kl_divergence(q[i], p[i])
        out["kl_self"][i] = kl_divergence(p[i], p[i])
        out["tv"][i] = total_variation(p[i], q[i])
        out["kl_joint"][i] = kl_divergence(product_distribution(p[i], p2[i]), product_distribution(q[i], q2[i]))
        out["kl_sum"][i] = kpq + kl_divergence(p2[i], q2[i])
        out["kl_permuted"][i] = kl_divergence(pushforward(p[i], perms[i]), pushforward(q[i], perms[i]))
        out["kl_merged"][i] = kl_divergence(pushforward(p[i], merges[i]), pushforward(q[i], merges[i]))
        w = float(weights[i])
        out["kl_mixed"][i] = kl_divergence(mixture(p[i], p3[i], w), mixture(q[i], q3[i], w))
        out["kl_chord"][i] = w * kpq + (1.0 - w) * kl_divergence(p3[i], q3[i])
        out["triangle"][i] = triangle_gap(p[i], r[i], q[i])
    return PropertyChecks(
        p=p, q=q, p2=p2, q2=q2, permutations=perms, merges=merges, weights=weights, p3=p3, q3=q3, r=r, **out
    )


# --------------------------------------------------------------------------- #
# Gaussians: change of variables and independence                             #
# --------------------------------------------------------------------------- #


def gaussian_pushforwards(mean: float, std: float) -> dict[str, Any]:
    r"""Images of :math:`X \sim \mathcal{N}(\mu, \sigma^2)` under two smooth invertible maps, as scipy distributions.

    * ``"exp"``: :math:`Y = e^X` is log-normal, ``scipy.stats.lognorm(s=σ, scale=e^μ)``;
    * ``"sinh"``: :math:`Y = \sinh X` is Johnson's :math:`S_U`: since
      :math:`\operatorname{asinh} Y = X`, the variable
      :math:`Z = -\mu/\sigma + \operatorname{asinh}(Y)/\sigma` is standard
      normal, which is ``scipy.stats.johnsonsu(a=-μ/σ, b=1/σ)``.

    Both maps are strictly increasing and smooth, so by the invariance of KL
    :math:`D_{\mathrm{KL}}` between two images equals
    :math:`D_{\mathrm{KL}}` between the Gaussians, although the densities
    themselves change shape completely.

    Parameters
    ----------
    mean : float
        :math:`\mu`, finite.
    std : float
        :math:`\sigma > 0`, finite.

    Returns
    -------
    dict
        ``{"exp": ..., "sinh": ...}``, frozen ``scipy.stats`` distributions.

    Raises
    ------
    ValueError
        A non-finite mean or a standard deviation that is not positive and finite.
    """
    mu, sd = float(mean), float(std)
    if not math.isfinite(mu):
        raise ValueError(f"mean must be finite, got {mean!r}")
    if not (math.isfinite(sd) and sd > 0.0):
        raise ValueError(f"std must be finite and > 0, got {std!r}")
    return {
        "exp": stats.lognorm(sd, scale=math.exp(mu)),
        "sinh": stats.johnsonsu(-mu / sd, 1.0 / sd),
    }


@dataclass(frozen=True)
class GaussianChecks:
    r"""The numbers behind :func:`~klbook.check_gaussian_properties`. All divergences in nats.

    Attributes
    ----------
    means_p, stds_p, means_q, stds_q : numpy.ndarray
        Shape ``(n, d)``: the parameters of :math:`d` independent coordinates of p and q.
    kl : numpy.ndarray
        Shape ``(n,)``: :math:`D_{\mathrm{KL}}` between the first coordinates, by the closed form.
    kl_exp, kl_sinh : numpy.ndarray
        Shape ``(n,)``: the same divergence after mapping both distributions
        through :math:`e^x` and :math:`\sinh x`, computed by quadrature
        (:func:`klbook.core.numeric.kl_numeric`) on the image densities.
    kl_joint : numpy.ndarray
        Shape ``(n,)``: :math:`D_{\mathrm{KL}}` between the :math:`d`-dimensional
        normals with diagonal covariances (the multivariate closed form).
    kl_sum : numpy.ndarray
        Shape ``(n,)``: the sum of the :math:`d` univariate divergences.
    """

    means_p: np.ndarray
    stds_p: np.ndarray
    means_q: np.ndarray
    stds_q: np.ndarray
    kl: np.ndarray
    kl_exp: np.ndarray
    kl_sinh: np.ndarray
    kl_joint: np.ndarray
    kl_sum: np.ndarray


def check_gaussian_properties(n_pairs: int = 25, dim: int = 3, *, seed: int | np.random.Generator = 0) -> GaussianChecks:
    r"""Check invariance and additivity of KL on random pairs of Gaussians.

    Each draw has :math:`d` = ``dim`` independent coordinates with means from
    :math:`\mathcal{N}(0, 1)` and standard deviations :math:`e^{u}`,
    :math:`u \sim \mathrm{U}(-0.5, 0.5)`, for p and for q.

    * Invariance: the divergence between the first coordinates (closed form)
      against the divergence between their images under :math:`e^x` and
      :math:`\sinh x` (:func:`~klbook.book.properties.gaussian_pushforwards`), computed by numerical
      quadrature of the image densities, an independent route.
    * Additivity: the divergence between the :math:`d`-dimensional normals
      (``scipy.stats.multivariate_normal`` with diagonal covariances, the
      multivariate closed form) against the sum of the univariate ones.

    Parameters
    ----------
    n_pairs : int
        Number of random draws, :math:`\ge 1` (each costs two quadratures, tens of milliseconds).
    dim : int
        Number of independent coordinates, :math:`\ge 1`.
    seed : int or numpy.random.Generator
        Source of randomness.

    Returns
    -------
    GaussianChecks
        The parameters and the divergences, one row per draw.
    """
    n = check_count(n_pairs, "n_pairs", 1)
    d = check_count(dim, "dim", 1)
    rng = rng_from_seed(seed)
    mp_, mq = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    sp, sq = np.exp(rng.uniform(-0.5, 0.5, size=(n, d))), np.exp(rng.uniform(-0.5, 0.5, size=(n, d)))
    kl, kl_exp, kl_sinh, kl_joint, kl_sum = (np.empty(n) for _ in range(5))
    for i in range(n):
        kl[i] = kl_divergence(stats.norm(mp_[i, 0], sp[i, 0]), stats.norm(mq[i, 0], sq[i, 0]))
        ip, iq = gaussian_pushforwards(mp_[i, 0], sp[i, 0]), gaussian_pushforwards(mq[i, 0], sq[i, 0])
        kl_exp[i] = kl_numeric(ip["exp"], iq["exp"])
        kl_sinh[i] = kl_numeric(ip["sinh"], iq["sinh"])
        kl_joint[i] = kl_divergence(
            stats.multivariate_normal(mp_[i], np.diag(sp[i] ** 2)), stats.multivariate_normal(mq[i], np.diag(sq[i] ** 2))
        )
        kl_sum[i] = math.fsum(
            kl_divergence(stats.norm(mp_[i, j], sp[i, j]), stats.norm(mq[i, j], sq[i, j])) for j in range(d)
        )
    return GaussianChecks(
        means_p=mp_, stds_p=sp, means_q=mq, stds_q=sq, kl=kl, kl_exp=kl_exp, kl_sinh=kl_sinh,
        kl_joint=kl_joint, kl_sum=kl_sum,
    )
