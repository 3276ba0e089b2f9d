"""Closed forms of KL between distributions, keyed by the pair of families.

The registry maps a pair of family names, such as ``("norm", "norm")`` or
``("binom", "binom")``, to a function that returns :math:`D_{KL}(p\\,\\|\\,q)`
in nats. Family names are scipy's own (``p.dist.name``) for frozen
``scipy.stats`` distributions, ``"multivariate_normal"`` for frozen
multivariate normals, and the class name for klbook's own distributions
(e.g. ``"GaussianMixture"``). Every closed form is written in scipy's
parametrisation, ``loc`` and ``scale`` included.

A pair that is not in the registry falls back to :func:`klbook.core.numeric.kl_numeric`.
The model is ``torch.distributions.kl.register_kl``: dispatch on the pair of
types, readable as a table (:func:`kl_registry_table`).

Modules that register closed forms: :mod:`klbook.core.closed_forms.continuous`,
:mod:`klbook.core.closed_forms.discrete`, :mod:`klbook.core.closed_forms.multivariate`.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy.stats._distn_infrastructure import rv_continuous, rv_continuous_frozen, rv_discrete, rv_discrete_frozen
from scipy.stats._multivariate import multivariate_normal_frozen

from ..base import Distribution
from ..numeric import entropy_numeric, kl_numeric

__all__ = [
    "Params",
    "register_kl",
    "kl_registry_table",
    "kl_registry_markdown",
    "kl_distributions",
    "entropy_distribution",
    "is_distribution",
    "family_of",
    "params_of",
]

KLFunction = Callable[["Params", "Params"], float]
_REGISTRY: dict[tuple[str, str], KLFunction] = {}


@dataclass(frozen=True)
class Params:
    """A univariate distribution taken apart in scipy's parametrisation.

    Attributes
    ----------
    family : str
        scipy's name (``"norm"``, ``"gamma"``, ...) or the klbook class name.
    shapes : tuple of float
        The shape parameters in scipy's order (``()`` for ``norm``,
        ``(a,)`` for ``gamma``, ``(n, p)`` for ``binom``).
    loc, scale : float
        scipy's location and scale (``scale`` is 1 for discrete families).
    dist : object
        The distribution object itself.
    """

    family: str
    shapes: tuple[float, ...]
    loc: float
    scale: float
    dist: Any


def is_distribution(x: object) -> bool:
    """True for a frozen scipy.stats univariate distribution, a frozen
    ``multivariate_normal``, or a :class:`klbook.Distribution`."""
    return isinstance(x, (rv_continuous_frozen, rv_discrete_frozen, multivariate_normal_frozen, Distribution))


def is_discrete(d: object) -> bool:
    """True for a discrete distribution (pmf on the integers)."""
    if isinstance(d, rv_discrete_frozen):
        return True
    return bool(getattr(d, "discrete", False))


def family_of(d: object) -> str:
    """The registry key of one distribution (see the module docstring)."""
    if isinstance(d, (rv_continuous_frozen, rv_discrete_frozen)):
        return d.dist.name
    if isinstance(d, multivariate_normal_frozen):
        return "multivariate_normal"
    if isinstance(d, Distribution):
        return type(d).__name__
    raise TypeError(f"not a distribution: {type(d).__name__}")


def params_of(d: object) -> Params:
    """Take a univariate distribution apart into :class:`Params`."""
    if isinstance(d, (rv_continuous_frozen, rv_discrete_frozen)):
        hit = _cached_params(d)
        if hit is not None:
            return hit
        return _params_from(d, d.dist._parse_args(*d.args, **d.kwds))
    if isinstance(d, Distribution):
        return Params(type(d).__name__, (), 0.0, 1.0, d)
    raise TypeError(f"params_of takes a univariate distribution, got {type(d).__name__}")


def _params_from(d: Any, parsed: tuple) -> Params:
    """:class:`Params` of a frozen scipy distribution from its parsed ``(shapes, loc[, scale])``."""
    shapes, loc, scale = parsed[0], parsed[1], (parsed[2] if len(parsed) > 2 else 1.0)
    return Params(d.dist.name, tuple(float(s) for s in shapes), float(loc), float(scale), d)


def register_kl(family_p: str, family_q: str) -> Callable[[KLFunction], KLFunction]:
    """Decorator: register ``fn(p: Params, q: Params) -> float`` (nats) for a pair of families.

    Examples
    --------
    >>> @register_kl("norm", "norm")           # doctest: +SKIP
    ... def _kl_norm_norm(p, q): ...
    """

    def decorator(fn: KLFunction) -> KLFunction:
        key = (family_p, family_q)
        if key in _REGISTRY:
            raise KeyError(f"a closed form for {key} is already registered ({_REGISTRY[key].__name__})")
        _REGISTRY[key] = fn
        return fn

    return decorator


def kl_registry_table() -> list[tuple[str, str, str]]:
    """The registry as a table: one row per pair of families, sorted.

    Returns
    -------
    list of (str, str, str)
        Rows ``(family of p, family of q, summary)``. Families are scipy's names
        (``"norm"``, ``"gamma"``, ...); the summary is the first line of the
        closed form's docstring: the pair, the parameters it covers in closed
        form (any loc and scale, or equal loc, ...) and when the result is ``inf``.
        Pairs that are not listed go to :func:`klbook.core.numeric.kl_numeric`.

    See Also
    --------
    kl_registry_markdown : the same table as Markdown, for a book page.
    """
    rows = []
    for (fp, fq), fn in sorted(_REGISTRY.items()):
        doc = (fn.__doc__ or "").strip().splitlines()
        rows.append((fp, fq, doc[0] if doc else fn.__name__))
    return rows


def kl_registry_markdown() -> str:
    """:func:`kl_registry_table` rendered as a Markdown (MyST) table.

    reStructuredText roles in the summaries become Markdown:
    ``:math:`x``` becomes ``$x$`` and double back-quotes become single ones.
    """
    import re

    lines = ["| p | q | closed form |", "|---|---|---|"]
    for fp, fq, summary in kl_registry_table():
        text = re.sub(r":math:`([^`]*)`", r"$\1$", summary).replace("``", "`")
        text = text.replace("\\|", "\\Vert ").replace("|", "\\|")
        lines.append(f"| `{fp}` | `{fq}` | {text} |")
    return "\n".join(lines) + "\n"


#: Frozen scipy distributions already validated and taken apart, keyed weakly on the object and
#: checked against its (args, kwds) so that a mutated object is validated again. Makes repeated
#: calls on the same pair (a loop over a grid, a benchmark) cost the closed form, not scipy's checks.
#: Value: (args, copy of kwds, Params, is discrete).
_CHECKED: "weakref.WeakKeyDictionary[Any, tuple[Any, dict, Params, bool]]" = weakref.WeakKeyDictionary()
_FROZEN_UNIVARIATE = frozenset((rv_continuous_frozen, rv_discrete_frozen))


def _unchanged(hit: tuple | None, d: Any) -> bool:
    """True when the cache entry ``hit`` still describes ``d`` (same args object, equal kwds)."""
    if hit is None or hit[0] is not d.args:
        return False
    try:
        return bool(hit[1] == d.kwds)
    except (ValueError, TypeError):  # array-valued kwds: never served from the cache
        return False


def _cached_params(d: Any) -> Params | None:
    try:
        hit = _CHECKED.get(d)
    except TypeError:  # pragma: no cover - an object that cannot be weakly referenced
        return None
    return hit[2] if _unchanged(hit, d) else None


_SCALAR_TYPES = (float, int, np.floating, np.integer)


def _is_true(x: Any) -> bool:
    """``bool(np.all(x))``, without numpy's dispatch for the usual Python or numpy scalar."""
    if isinstance(x, (bool, np.bool_, int)):
        return bool(x)
    return bool(np.all(x))


def _support(d: Any, parsed: tuple) -> tuple[Any, Any]:
    """``d.support()`` (NaN for invalid parameters); for scalar parameters without scipy's broadcasting,
    which costs more than a closed form."""
    shapes, loc = parsed[0], parsed[1]
    scale = parsed[2] if len(parsed) > 2 else 1.0
    if not all(isinstance(x, _SCALAR_TYPES) for x in (*shapes, loc, scale)):
        return d.support()
    if not (_is_true(d.dist._argcheck(*shapes)) and scale > 0):
        return math.nan, math.nan
    a, b = d.dist._get_support(*shapes)
    return float(a) * float(scale) + float(loc), float(b) * float(scale) + float(loc)


def check_distribution(d: object, name: str) -> None:
    """Reject a frozen scipy distribution with invalid parameters (scipy would return NaN).

    ``name`` ("p", "q") names the argument in the ``ValueError``: a batch of
    distributions (array-valued parameters), a non-finite loc, a scale that is
    not finite and > 0, or shape parameters outside the family's range.
    Other objects pass unchecked. A valid frozen distribution is remembered (weakly,
    with its ``args`` and ``kwds``), so the next call on the same unchanged object
    costs a dictionary look-up.
    """
    if isinstance(d, (rv_continuous_frozen, rv_discrete_frozen)):
        if _cached_params(d) is not None:
            return
        parsed = d.dist._parse_args(*d.args, **d.kwds)
        lo, hi = _support(d, parsed)
        if np.ndim(lo) != 0 or np.ndim(hi) != 0:
            # a batch such as norm([0, 1], 1): one support per member (a vector shape, as in
            # poisson_binom([0.1, 0.5]), still has one support and is a single distribution)
            raise ValueError(
                f"{name} = {d.dist.name}{d.args}{d.kwds} is a batch of {np.size(lo)} distributions "
                "(array-valued parameters); pass one distribution with scalar parameters"
            )
        if not (math.isfinite(parsed[1]) and not (math.isnan(lo) or math.isnan(hi))):
            raise ValueError(f"{name} = {d.dist.name}{d.args}{d.kwds} has invalid parameters")
        if not _is_true(d.dist._argcheck(*parsed[0])):
            raise ValueError(f"{name} = {d.dist.name}{d.args}{d.kwds} has invalid shape parameters")
        if len(parsed) > 2 and not (math.isfinite(parsed[2]) and parsed[2] > 0):
            raise ValueError(f"{name} = {d.dist.name}{d.args}{d.kwds} needs a finite scale > 0")
        try:
            _CHECKED[d] = (d.args, dict(d.kwds), _params_from(d, parsed), isinstance(d, rv_discrete_frozen))
        except TypeError:  # vector-valued shapes (poisson_binom) have no Params; or no weak reference
            pass


def kl_distributions(p: object, q: object) -> float:
    """:math:`D_{KL}(p\\,\\|\\,q)` in nats for two distribution objects.

    Registry first, then :func:`klbook.core.numeric.kl_numeric`. A discrete
    distribution against a continuous one gives ``inf`` (neither is
    absolutely continuous with respect to the other).

    Raises
    ------
    TypeError
        A multivariate normal paired with a univariate distribution.
    ValueError
        Invalid parameters; multivariate normals of different dimension.
    """
    value = kl_validated(p, q)
    if value is not None:
        return value
    for name, d in (("p", p), ("q", q)):
        if not is_distribution(d):
            raise TypeError(f"{name} must be a distribution, got {type(d).__name__}")
        check_distribution(d, name)
    mv_p, mv_q = isinstance(p, multivariate_normal_frozen), isinstance(q, multivariate_normal_frozen)
    if mv_p != mv_q:
        raise TypeError("a multivariate normal can only be compared with another multivariate normal")
    if mv_p:
        return _kl_mvn(p, q)
    if is_discrete(p) != is_discrete(q):
        return math.inf
    return _kl_univariate(params_of(p), params_of(q))


def kl_validated(p: object, q: object) -> float | None:
    """The fast path of :func:`kl_distributions`: :math:`D_{KL}(p\\,\\|\\,q)` in nats, or ``None``.

    Answers when both are frozen ``scipy.stats`` univariate distributions that
    :func:`check_distribution` has already validated and that are unchanged since
    (same ``args``, equal ``kwds``), or both are frozen multivariate normals (whose
    closed form validates and factorises each covariance once, see
    :mod:`klbook.core.closed_forms.multivariate`). Anything else, vectors included,
    gives ``None`` at the cost of two type tests; the caller then takes the full path.
    """
    tp, tq = type(p), type(q)
    if tp in _FROZEN_UNIVARIATE and tq in _FROZEN_UNIVARIATE:
        hp, hq = _CHECKED.get(p), _CHECKED.get(q)
        if not (_unchanged(hp, p) and _unchanged(hq, q)):
            return None
        if hp[3] != hq[3]:  # discrete against continuous
            return math.inf
        return _kl_univariate(hp[2], hq[2])
    if tp is multivariate_normal_frozen and tq is multivariate_normal_frozen:
        return _kl_mvn(p, q)
    return None


def _kl_mvn(p: Any, q: Any) -> float:
    """Two frozen multivariate normals (the closed form takes the objects themselves)."""
    return float(_REGISTRY[("multivariate_normal", "multivariate_normal")](p, q))


def _kl_univariate(pp: Params, pq: Params) -> float:
    """The registered closed form of the pair of families, else the numerical fallback; never NaN, >= 0."""
    fn = _REGISTRY.get((pp.family, pq.family))
    value = float(fn(pp, pq)) if fn is not None else float(kl_numeric(pp.dist, pq.dist))
    if value != value:
        raise ValueError(f"KL({pp.family} || {pq.family}) came out NaN; check the parameters")
    return value if value > 0.0 else 0.0


def _scipy_entropy_is_analytic(d: object) -> bool:
    """True when the scipy family of ``d`` computes its entropy from its own formula.

    Families without one inherit scipy's generic ``_entropy``: ``integrate.quad``
    of :math:`-p\\log p` (continuous) or a truncated sum (discrete), which can be
    far off with only a warning, or none (``poisson(1e6)``: 67 %, ``rice(1e3)``:
    100 %, ``nbinom(0.5, 1e-3)``: 57 % relative error in scipy 1.17).
    """
    if isinstance(d, multivariate_normal_frozen):
        return True
    generic = rv_discrete._entropy if isinstance(d, rv_discrete_frozen) else rv_continuous._entropy
    return type(d.dist)._entropy is not generic


_ENTROPY_MAX_TERMS = 20_000_000  # atoms summed by the discrete entropy forms below


def _entropy_bernoulli(a: float) -> float:
    r"""Entropy of Bernoulli(a): :math:`-a\log a - (1-a)\log(1-a)`, the second log as ``log1p(-a)``.

    scipy's ``entr(1 - a)`` loses the digits of a small ``a`` (relative error 8e-7 at ``a = 1e-12``).
    """
    if a == 0.0 or a == 1.0:
        return 0.0
    return -(a * math.log(a) + (1.0 - a) * math.log1p(-a))


def _entropy_binom(n: float, a: float) -> float:
    r"""Entropy of Binomial(n, a): :math:`-\sum_k p_k\log p_k` over the atoms that matter.

    :math:`p_k` from scipy's ``pmf`` (Boost, a few ulp); :math:`\log p_k` is ``log(pmf)``
    except for an atom with :math:`p_k > 1/2` (only k = 0 or k = n), where the log of a
    number near 1 would lose digits and scipy's ``logpmf`` is exact there
    (``n log1p(-a)`` or ``n log a``). Atoms outside ``[ppf(1e-30), isf(1e-30)]`` are dropped:
    together they add less than :math:`2\cdot10^{-30}(1 + n\,|\log\min(a, 1-a)|)`.
    """
    from scipy import stats

    if n == 0 or a == 0.0 or a == 1.0:
        return 0.0
    lo, hi = 0.0, float(n)
    if n > 4096:
        # the upper end as n - ppf(1e-30) of n - K: scipy's isf saturates at n below ~1e-16
        lo = max(0.0, float(stats.binom.ppf(1e-30, n, a)) - 1.0)
        hi = min(float(n), float(n) - float(stats.binom.ppf(1e-30, n, 1.0 - a)) + 1.0)
        if not (0.0 <= lo <= hi <= n):  # pragma: no cover - scipy's ppf is finite for valid parameters
            lo, hi = 0.0, float(n)
    if hi - lo + 1 > _ENTROPY_MAX_TERMS:
        raise ValueError(
            f"entropy of binom({n:g}, {a:g}): the sum needs {hi - lo + 1:.3g} terms, "
            f"more than the {_ENTROPY_MAX_TERMS:.0e} this implementation evaluates"
        )
    k = np.arange(lo, hi + 1.0)
    pm = stats.binom.pmf(k, n, a)
    with np.errstate(divide="ignore"):
        lp = np.log(pm)
    big = pm > 0.5
    if big.any():
        lp[big] = stats.binom.logpmf(k[big], n, a)
    with np.errstate(invalid="ignore"):
        terms = np.where(pm > 0.0, -pm * lp, 0.0)
    return math.fsum(terms.tolist())


def _entropy_poisson(mu: float) -> float | None:
    r"""Entropy of Poisson(mu) for :math:`\mu \ge 10^4` by its asymptotic series, else ``None``.

    .. math::

       H = \tfrac12\log(2\pi e\mu) - \frac{1}{12\mu} - \frac{1}{24\mu^2} - \frac{19}{360\mu^3}
           + O(\mu^{-4}),

    whose next term is about :math:`0.11\,\mu^{-4}` (below :math:`10^{-16}` here).
    Smaller rates go to :func:`klbook.core.numeric.entropy_numeric` (an exact sum).
    """
    if mu < 1e4:
        return None
    inv = 1.0 / mu
    return 0.5 * math.log(2.0 * math.pi * math.e * mu) - inv * (1.0 / 12.0 + inv * (1.0 / 24.0 + inv * (19.0 / 360.0)))


def _entropy_form(p: object) -> float | None:
    """Entropy from klbook's own forms for the scipy families where scipy's loses digits (else None)."""
    if not isinstance(p, rv_discrete_frozen):
        return None
    par = params_of(p)
    if par.family == "bernoulli":
        return _entropy_bernoulli(par.shapes[0])
    if par.family == "binom":
        return _entropy_binom(*par.shapes)
    if par.family == "poisson":
        return _entropy_poisson(par.shapes[0])
    return None


def entropy_distribution(p: object) -> float:
    """Differential (continuous) or Shannon (discrete) entropy of ``p`` in nats.

    klbook's own forms for Bernoulli, binomial and Poisson (large rate), where scipy's
    lose digits; else scipy's own closed form when the family has one (and it is not NaN); otherwise
    :func:`klbook.core.numeric.entropy_numeric` (log-densities, quantile-split quadrature
    or a sum with a stated tail bound), never scipy's generic quadrature or sum.
    """
    if not is_distribution(p):
        raise TypeError(f"p must be a distribution, got {type(p).__name__}")
    check_distribution(p, "p")
    if isinstance(p, (rv_continuous_frozen, rv_discrete_frozen, multivariate_normal_frozen)):
        own = _entropy_form(p)
        if own is not None:
            return own
        if _scipy_entropy_is_analytic(p):
            value = float(p.entropy())
            if not math.isnan(value):
                return value
        if isinstance(p, multivariate_normal_frozen):  # pragma: no cover - scipy's log-det is never NaN here
            raise ValueError("the entropy of this multivariate normal came out NaN; check its covariance")
    return float(entropy_numeric(p))


# Importing the modules registers their closed forms.
from . import continuous, discrete, multivariate  # noqa: E402,F401
