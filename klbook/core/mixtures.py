r"""Gaussian mixtures in one or more dimensions, and KL between two of them.

A :class:`GaussianMixture` is the book's standard example of a "complex" p:
two well-separated components make a bimodal density that no single Gaussian
q can match. It follows :class:`klbook.core.base.Distribution`, so
:func:`klbook.kl_divergence`, the numerical fallback and the estimators accept
it wherever they accept a frozen ``scipy.stats`` distribution.

In ``d`` dimensions, ``GaussianMixture(weights, means, covs=covs)`` takes means
of shape ``(K, d)`` and covariances of shape ``(K, d, d)``.

KL between two Gaussian mixtures has no closed form. :func:`mixture_kl` returns
its value (exact quadrature in one dimension, randomised quasi-Monte Carlo with a
standard error in more) together with guaranteed lower and upper bounds
(Hershey and Olsen 2007; Durrieu, Thiran and Kelly 2012; a projection bound from
the data-processing inequality), and the variational approximation of Hershey and
Olsen for comparison.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg
from scipy.special import log_ndtr, logsumexp, ndtr, ndtri
from scipy.stats import qmc
from scipy.stats._distn_infrastructure import rv_continuous_frozen
from scipy.stats._multivariate import multivariate_normal_frozen

from ._checks import check_array
from .base import Distribution
from .closed_forms import Params, register_kl
from .numeric import kl_numeric

__all__ = ["GaussianMixture", "MixtureKL", "mixture_kl"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_2PI = math.log(2.0 * math.pi)
#: How far the weights may be from summing to one (they are never renormalised).
WEIGHT_SUM_TOL = 1e-9
#: Relative asymmetry tolerated in a covariance matrix (it is then symmetrised).
SYMMETRY_TOL = 1e-10


def _as_1d(values: ArrayLike, name: str) -> np.ndarray:
    """A parameter vector (a scalar counts as one entry): finite, non-empty, one-dimensional."""
    arr = check_array(values, name)
    return check_array(arr.reshape(1), name) if arr.ndim == 0 else check_array(arr, name, 1)


def _as_points(x: ArrayLike, name: str = "x") -> np.ndarray:
    """Evaluation points: any shape (empty too), infinities allowed, NaN refused."""
    return check_array(x, name, finite=False, nonempty=False)


def _out(arr: np.ndarray) -> np.ndarray | float:
    """Return a Python float for 0-d results, an array otherwise (scipy's habit)."""
    return float(arr) if np.ndim(arr) == 0 else arr


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.RandomState):
        raise TypeError("random_state must be an int, a numpy.random.Generator or None (not RandomState)")
    return np.random.default_rng(random_state)


class GaussianMixture(Distribution):
    r"""A finite mixture of normal distributions, in one or more dimensions.

    .. math::

        & p(x) = \sum_{k=1}^{K} w_k\, \mathcal{N}(x;\, \mu_k, \Sigma_k), \\
        & w_k \ge 0,\quad \sum_k w_k = 1,\quad \Sigma_k \succ 0.

    Two forms:

    * one dimension: ``GaussianMixture(weights, means, stds)`` with means
      :math:`m_k` and standard deviations :math:`s_k` (so :math:`\Sigma_k = s_k^2`);
      points are scalars or arrays of any shape;
    * :math:`d` dimensions: ``GaussianMixture(weights, means, covs=covs)`` with
      ``means`` of shape ``(K, d)`` and ``covs`` of shape ``(K, d, d)``; points
      are arrays whose last axis has length :math:`d`.

    Parameters
    ----------
    weights : array_like of float, shape (K,)
        Mixing weights :math:`w_k`, non-negative and summing to one within
        ``1e-9``. They are never renormalised: weights that do not sum to one
        raise ``ValueError``.
    means : array_like of float, shape (K,) or (K, d)
        Component means (finite).
    stds : array_like of float, shape (K,), optional
        Component standard deviations :math:`s_k` (finite, ``> 0``) of the
        one-dimensional form.
    covs : array_like of float, shape (K, d, d), keyword-only, optional
        Component covariance matrices of the :math:`d`-dimensional form:
        symmetric (to a relative ``1e-10``, then symmetrised) and positive
        definite (their Cholesky factorisation must succeed).

    Raises
    ------
    TypeError
        If an argument is not made of real numbers (strings, objects).
    ValueError
        If the arrays are empty, of the wrong number of dimensions or of
        mismatched shapes, not finite, if a weight is negative, if the weights
        do not sum to one, if a standard deviation is not positive, if a
        covariance is not symmetric positive definite, or if both or neither
        of ``stds`` and ``covs`` are given.

    Notes
    -----
    Densities are evaluated in log space: :math:`\log p(x)` is the
    :math:`\operatorname{logsumexp}` over :math:`k` of :math:`\log w_k + \log\mathcal{N}(x; \mu_k, \Sigma_k)`,
    so ``logpdf`` stays finite and accurate far in the tails where ``pdf``
    underflows to zero. In one dimension ``logcdf`` and ``logsf`` use
    :func:`scipy.special.log_ndtr` in the same way, and ``ppf`` / ``isf`` solve
    :math:`F(x) = u` by a safeguarded Newton iteration in log space inside an
    exact bracket. The distribution functions (``cdf``, ``ppf``, ...), ``var``,
    ``dlogpdf`` and ``modes`` exist for the one-dimensional form only; ``cov``
    exists for both.

    Examples
    --------
    >>> p = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    >>> p
    GaussianMixture(weights=[0.5, 0.5], means=[-2.0, 2.0], stds=[0.6, 0.6])
    >>> round(p.var(), 12)
    4.36
    >>> q = GaussianMixture([0.3, 0.7], [[0.0, 0.0], [1.0, 2.0]],
    ...                     covs=[[[1.0, 0.2], [0.2, 1.0]], [[0.5, 0.0], [0.0, 2.0]]])
    >>> q.dim, q.mean().tolist()
    (2, [0.7, 1.4])
    """

    discrete = False

    def __init__(
        self,
        weights: ArrayLike,
        means: ArrayLike,
        stds: ArrayLike | None = None,
        *,
        covs: ArrayLike | None = None,
    ) -> None:
        w = _as_1d(weights, "weights")
        if stds is not None and covs is not None:
            raise ValueError("give stds (one-dimensional form) or covs (d-dimensional form), not both")
        if stds is None and covs is None:
            raise ValueError("give stds for one-dimensional means, or covs= for means of shape (K, d)")
        if np.any(w < 0):
            raise ValueError(f"weights must be >= 0, got {w.tolist()}")
        if stds is not None:
            m = _as_1d(means, "means")
            s = _as_1d(stds, "stds")
            if not (w.size == m.size == s.size):
                raise ValueError(
                    f"weights, means and stds must have the same length, got {w.size}, {m.size} and {s.size}"
                )
            if np.any(s <= 0):
                raise ValueError(f"stds must be > 0, got {s.tolist()}")
            mu, cov = m[:, None], (s**2)[:, None, None]
            chol = s[:, None, None].copy()
            self._univariate = True
        else:
            mu = check_array(means, "means", 2)
            cov = check_array(covs, "covs", 3)
            K, d = mu.shape
            if w.size != K:
                raise ValueError(f"weights has {w.size} entries but means has {K} rows (shape {mu.shape})")
            if cov.shape != (K, d, d):
                raise ValueError(f"covs must have shape (K, d, d) = {(K, d, d)} to match means, got {cov.shape}")
            asym = np.max(np.abs(cov - np.swapaxes(cov, 1, 2)), axis=(1, 2))
            scale = np.max(np.abs(cov), axis=(1, 2))
            bad = np.flatnonzero(asym > SYMMETRY_TOL * scale)
            if bad.size:
                raise ValueError(f"covs[{bad[0]}] is not symmetric")
            cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))
            chol = np.empty_like(cov)
            for k in range(K):
                try:
                    chol[k] = linalg.cholesky(cov[k], lower=True)
                except linalg.LinAlgError:
                    raise ValueError(f"covs[{k}] is not positive definite") from None
                if not np.all(np.diag(chol[k]) > 0):
                    raise ValueError(f"covs[{k}] is not positive definite")
            m = s = None
            self._univariate = False
        total = math.fsum(w.tolist())
        if abs(total - 1.0) > WEIGHT_SUM_TOL:
            raise ValueError(
                f"weights must sum to 1 (they are never renormalised), got sum {total!r} for {w.tolist()}"
            )
        for arr in (w, m, s, mu, cov, chol):
            if arr is not None:
                arr.setflags(write=False)
        self._w, self._m, self._s = w, m, s
        self._mu, self._cov, self._chol = mu, cov, chol
        self._logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
        with np.errstate(divide="ignore"):
            self._logw = np.log(w)
        self._logw.setflags(write=False)

    # ------------------------------------------------------------------ basics
    @property
    def dim(self) -> int:
        """The dimension :math:`d` (1 for the one-dimensional form)."""
        return int(self._mu.shape[1])

    @property
    def univariate(self) -> bool:
        """True for the one-dimensional ``(weights, means, stds)`` form."""
        return self._univariate

    @property
    def weights(self) -> np.ndarray:
        """Mixing weights :math:`w_k` (read-only array)."""
        return self._w

    @property
    def means(self) -> np.ndarray:
        """Component means (read-only): shape ``(K,)`` in the one-dimensional form, ``(K, d)`` otherwise."""
        return self._m if self._univariate else self._mu

    @property
    def stds(self) -> np.ndarray:
        """Component standard deviations :math:`s_k` (read-only; one-dimensional form only)."""
        self._require_univariate("stds")
        return self._s

    @property
    def covs(self) -> np.ndarray:
        r"""Component covariance matrices :math:`\Sigma_k`, shape ``(K, d, d)`` (read-only)."""
        return self._cov

    @property
    def n_components(self) -> int:
        """The number of components :math:`K`."""
        return int(self._w.size)

    def __repr__(self) -> str:
        if self._univariate:
            return (
                f"GaussianMixture(weights={self._w.tolist()}, means={self._m.tolist()}, "
                f"stds={self._s.tolist()})"
            )
        return f"GaussianMixture(weights={self._w.tolist()}, means={self._mu.tolist()}, covs={self._cov.tolist()})"

    def _require_univariate(self, what: str) -> None:
        if not self._univariate:
            raise NotImplementedError(
                f"GaussianMixture.{what} exists for the one-dimensional (weights, means, stds) form only; "
                f"this mixture has d = {self.dim}"
            )

    def component(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        r"""The mean (shape ``(d,)``) and covariance (shape ``(d, d)``) of component ``k``."""
        return self._mu[k], self._cov[k]

    # ---------------------------------------------------- d-dimensional densities
    def _points_nd(self, x: ArrayLike) -> np.ndarray:
        xa = _as_points(x)
        d = self.dim
        if xa.ndim == 0 or xa.shape[-1] != d:
            raise ValueError(f"x must have a last axis of length d = {d}, got shape {xa.shape}")
        return xa

    def _component_logpdf_nd(self, xa: np.ndarray) -> np.ndarray:
        """``log w_k + log N(x; mu_k, Sigma_k)`` for points of shape (..., d): shape (..., K)."""
        flat = xa.reshape(-1, self.dim)
        K, d = self._mu.shape
        out = np.empty((flat.shape[0], K))
        every = bool(np.isfinite(flat).all())  # one pass; the per-point test only when some point is not
        finite = True if every else np.all(np.isfinite(flat), axis=1)
        pts = flat if every else flat[finite]  # one copy of the finite points, not one per component
        for k in range(K):
            diff = (pts - self._mu[k]).T
            z = linalg.solve_triangular(self._chol[k], diff, lower=True, check_finite=False)
            val = self._logw[k] - 0.5 * _sum_last_axis((z * z).T) - 0.5 * self._logdet[k] - 0.5 * d * _LOG_2PI
            if every:
                out[:, k] = val
            else:
                out[finite, k] = val
        if not every:
            out[~finite] = -np.inf
        return out.reshape(xa.shape[:-1] + (K,))

    # -------------------------------------------------------------- densities
    def _component_logpdf(self, x: np.ndarray) -> np.ndarray:
        """``log w_k + log N(x; m_k, s_k^2)``, with the component index on the last axis."""
        z = (x[..., None] - self._m) / self._s
        with np.errstate(over="ignore"):
            return self._logw - 0.5 * z * z - np.log(self._s) - _LOG_SQRT_2PI

    def _first(self, arr: np.ndarray, ndim: int) -> np.ndarray:
        """A per-component array shaped ``(K, 1, ..., 1)`` to broadcast against ``ndim``-d points."""
        return arr.reshape((-1,) + (1,) * ndim)

    def _logpdf_array(self, xa: np.ndarray) -> np.ndarray:
        nd = xa.ndim
        const = self._first(self._logw - np.log(self._s) - _LOG_SQRT_2PI, nd)
        z = xa - self._first(self._m, nd)
        z /= self._first(self._s, nd)
        with np.errstate(over="ignore"):
            terms = 0.5 * z
            terms *= z
            np.subtract(const, terms, out=terms)  # const - 0.5 z^2, the same roundings as written out
        # log-sum-exp over the component axis, one accurate pairwise step per component, in
        # component order: the same values as np.logaddexp.reduce(terms, axis=0), in ~60 % of its time
        acc = terms[0]
        for k in range(1, terms.shape[0]):
            acc = np.logaddexp(acc, terms[k])
        return acc

    def logpdf(self, x: ArrayLike) -> np.ndarray | float:
        r"""Natural log of the density, :math:`\log p(x)`, computed with logsumexp.

        Accurate far in the tails (e.g. at :math:`x = 40` for unit components,
        where ``pdf`` underflows). Returns ``-inf`` at :math:`x = \pm\infty`.

        In :math:`d` dimensions ``x`` has shape ``(..., d)`` and the result
        shape ``(...)``; a point with an infinite coordinate gets ``-inf``.

        Raises
        ------
        ValueError
            If ``x`` contains NaN, or its last axis is not of length :math:`d`.
        """
        if not self._univariate:
            xa = self._points_nd(x)
            return _out(logsumexp(self._component_logpdf_nd(xa), axis=-1))
        xa = _as_points(x)
        out = self._logpdf_array(xa)
        out = np.where(np.isinf(xa), -np.inf, out)
        return _out(out)

    def pdf(self, x: ArrayLike) -> np.ndarray | float:
        r"""The density :math:`p(x) = \sum_k w_k \mathcal{N}(x; \mu_k, \Sigma_k)`."""
        return _out(np.exp(np.asarray(self.logpdf(x))))

    def responsibilities(self, x: ArrayLike) -> np.ndarray:
        r"""Posterior component probabilities :math:`r_k(x) = w_k \mathcal{N}(x; m_k, s_k^2) / p(x)`.

        Returns an array of shape ``np.shape(x) + (K,)`` (one dimension) or
        ``np.shape(x)[:-1] + (K,)`` (:math:`d` dimensions) whose last axis sums
        to one. Far in a tail the component with the widest reach takes all the weight.
        """
        if not self._univariate:
            xa = self._points_nd(x)
            if np.any(np.isinf(xa)):
                raise ValueError("responsibilities are undefined at infinite points")
            terms = self._component_logpdf_nd(xa)
            return np.exp(terms - logsumexp(terms, axis=-1, keepdims=True))
        xa = _as_points(x)
        return self._responsibilities_1d(xa, self._logpdf_array(xa))

    def _responsibilities_1d(self, xa: np.ndarray, lp: np.ndarray) -> np.ndarray:
        """:meth:`responsibilities` of one-dimensional points ``xa`` whose log-density is ``lp`` (ValueError at ±inf)."""
        if np.any(np.isinf(xa)):
            raise ValueError("responsibilities are undefined at x = ±inf")
        return np.exp(self._component_logpdf(xa) - lp[..., None])

    def logpdf_dlogpdf(self, x: ArrayLike) -> tuple[np.ndarray | float, np.ndarray | float]:
        r"""``(logpdf(x), dlogpdf(x))`` in one pass: the same values as the two calls, bit for bit.

        The log-density and its derivative share the log-sum-exp over the
        components, so :func:`klbook.fit_gaussian`'s reverse-KL quadrature,
        which needs both at every node, computes it once.
        """
        self._require_univariate("logpdf_dlogpdf")
        xa = _as_points(x)
        lp = self._logpdf_array(xa)
        r = self._responsibilities_1d(xa, lp)
        d = np.sum(r * (self._m - xa[..., None]) / self._s**2, axis=-1)
        return _out(lp), _out(d)

    def dlogpdf(self, x: ArrayLike) -> np.ndarray | float:
        r"""Derivative of the log density, :math:`\frac{d}{dx}\log p(x) = \sum_k r_k(x)\,\frac{m_k - x}{s_k^2}`.

        Used by :func:`klbook.fit_gaussian` for the reparameterised gradient of
        the reverse KL. ``r_k`` are the :meth:`responsibilities`.
        """
        self._require_univariate("dlogpdf")
        return self.logpdf_dlogpdf(x)[1]

    # ------------------------------------------------------ distribution funcs
    def cdf(self, x: ArrayLike) -> np.ndarray | float:
        r"""Cumulative distribution function :math:`F(x) = \sum_k w_k \Phi\bigl((x - m_k)/s_k\bigr)`.

        Each term is computed with :func:`scipy.special.ndtr`, which keeps full
        relative accuracy in the left tail; use :meth:`sf` in the right tail.
        """
        self._require_univariate("cdf")
        xa = _as_points(x)
        z = (xa[..., None] - self._m) / self._s
        return _out(np.clip(np.sum(self._w * ndtr(z), axis=-1), 0.0, 1.0))

    def sf(self, x: ArrayLike) -> np.ndarray | float:
        r"""Survival function :math:`1 - F(x)`, that is :math:`\sum_k w_k \Phi\bigl((m_k - x)/s_k\bigr)`, accurate in the right tail."""
        self._require_univariate("sf")
        xa = _as_points(x)
        z = (self._m - xa[..., None]) / self._s
        return _out(np.clip(np.sum(self._w * ndtr(z), axis=-1), 0.0, 1.0))

    def logcdf(self, x: ArrayLike) -> np.ndarray | float:
        r""":math:`\log F(x)` via logsumexp of :math:`\log w_k + \log\Phi(\cdot)`; finite far in the left tail."""
        self._require_univariate("logcdf")
        xa = _as_points(x)
        z = (xa[..., None] - self._m) / self._s
        with np.errstate(divide="ignore"):
            return _out(np.minimum(np.logaddexp.reduce(self._logw + log_ndtr(z), axis=-1), 0.0))

    def logsf(self, x: ArrayLike) -> np.ndarray | float:
        r""":math:`\log(1 - F(x))`; finite far in the right tail."""
        self._require_univariate("logsf")
        xa = _as_points(x)
        z = (self._m - xa[..., None]) / self._s
        with np.errstate(divide="ignore"):
            return _out(np.minimum(np.logaddexp.reduce(self._logw + log_ndtr(z), axis=-1), 0.0))

    def _solve(self, target: np.ndarray, upper: bool) -> np.ndarray:
        """Solve ``F(x) = target`` (``upper=False``) or ``1 - F(x) = target`` (``upper=True``).

        ``target`` is in (0, 0.5]. The bracket is exact: with
        ``z = Phi^{-1}(target)``, every component's cdf is ``<= target`` at
        ``min_k(m_k + s_k z)`` and ``>= target`` at ``max_k(m_k + s_k z)``
        (mirrored for the upper tail). Inside it, Newton's method on the log of
        the tail probability, falling back to bisection whenever a step leaves
        the bracket.
        """
        z = ndtri(target)[..., None]
        if upper:
            ends = self._m - self._s * z  # quantiles of the upper tail
        else:
            ends = self._m + self._s * z
        lo, hi = ends.min(axis=-1), ends.max(axis=-1)
        log_t = np.log(target)
        x = 0.5 * (lo + hi)
        done = hi <= lo
        x = np.where(done, lo, x)
        for _ in range(200):
            # the log tail probability once per step: it gives both g and its derivative
            log_tail = np.asarray(self.logsf(x) if upper else self.logcdf(x))
            g = log_t - log_tail if upper else log_tail - log_t  # increasing in x
            dg = np.exp(np.asarray(self.logpdf(x)) - log_tail)
            lo = np.where(g < 0, x, lo)
            hi = np.where(g > 0, x, hi)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a non-finite step bisects
                step = x - g / dg
            bisect = 0.5 * (lo + hi)
            ok = np.isfinite(step) & (step > lo) & (step < hi)
            new = np.where(ok, step, bisect)
            new = np.where(done | (g == 0), x, new)
            tol = 2.0 * np.finfo(float).eps * np.maximum(np.abs(x), 1e-300)
            done = done | (g == 0) | (np.abs(new - x) <= tol) | (hi - lo <= tol)
            x = new
            if np.all(done):
                break
        return x

    def ppf(self, u: ArrayLike) -> np.ndarray | float:
        r"""Quantile function: the :math:`x` with :math:`F(x) = u`, vectorised.

        ``ppf(0) = -inf`` and ``ppf(1) = inf``. For :math:`u > 1/2` the equation
        is solved as :math:`1 - F(x) = 1 - u`, which keeps the right tail
        accurate; use :meth:`isf` to pass a tiny upper-tail probability exactly.

        Raises
        ------
        ValueError
            If ``u`` is NaN or outside :math:`[0, 1]`.
        """
        return self._quantile(u, "ppf", "u", upper=False)

    def isf(self, q: ArrayLike) -> np.ndarray | float:
        r"""Inverse survival function: the :math:`x` with :math:`1 - F(x) = q`.

        Raises
        ------
        ValueError
            If ``q`` is NaN or outside :math:`[0, 1]`.
        """
        return self._quantile(q, "isf", "q", upper=True)

    def _quantile(self, prob: ArrayLike, method: str, name: str, upper: bool) -> np.ndarray | float:
        """The x where F(x) (``upper``: 1 - F(x)) equals ``prob``: :meth:`ppf` and :meth:`isf`.

        A probability above 1/2 is solved on the other tail, as ``1 - prob``, so that the tail
        asked for stays accurate; 0 and 1 give the infinite ends.
        """
        self._require_univariate(method)
        pa = _as_points(prob, name)
        if np.any((pa < 0) | (pa > 1)):
            raise ValueError(f"{name} must lie in [0, 1]")
        # The mixture is immutable and the engine asks for the same quantiles of the same p again
        # and again (breakpoints, sign changes, tails): remember the last few answers (a copy is
        # returned, so a caller may change its array).
        key = (upper, pa.shape, pa.tobytes())
        cache = self.__dict__.setdefault("_quantile_cache", {})
        if key not in cache:
            out = np.empty(pa.shape, dtype=float)
            out[pa == 0] = np.inf if upper else -np.inf
            out[pa == 1] = -np.inf if upper else np.inf
            near = (pa > 0) & (pa <= 0.5)
            far = (pa > 0.5) & (pa < 1)
            if np.any(near):
                out[near] = self._solve(pa[near], upper=upper)
            if np.any(far):
                out[far] = self._solve(1.0 - pa[far], upper=not upper)
            if len(cache) >= 32:
                cache.clear()
            cache[key] = out
        return _out(cache[key].copy())

    def rvs(self, size: int | tuple[int, ...] | None = None, random_state=None) -> np.ndarray | float:
        """Draw samples: pick component ``k`` with probability ``w_k``, then draw from it.

        Parameters
        ----------
        size : int, tuple of int or None
            Output shape; ``None`` gives one float (one dimension) or one point
            of shape ``(d,)``. In :math:`d` dimensions the result has shape
            ``size + (d,)``.
        random_state : int, numpy.random.Generator or None
            Seed or generator (``numpy.random.default_rng`` semantics).
        """
        if isinstance(random_state, np.random.RandomState):
            raise TypeError("random_state must be an int, a numpy.random.Generator or None (not RandomState)")
        rng = np.random.default_rng(random_state)
        shape = () if size is None else (tuple(size) if isinstance(size, (tuple, list)) else (size,))
        for n in shape:
            if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
                raise ValueError(f"size must be a non-negative int or a tuple of them, got {size!r}")
        k = rng.choice(self.n_components, size=shape, p=self._w / self._w.sum())
        if not self._univariate:
            z = rng.standard_normal(shape + (self.dim,))
            return self._mu[k] + np.einsum("...ij,...j->...i", self._chol[k], z)
        draws = self._m[k] + self._s[k] * rng.standard_normal(shape)
        return _out(np.asarray(draws, dtype=float))

    # --------------------------------------------------------------- moments
    def mean(self) -> float | np.ndarray:
        r"""The mean :math:`\sum_k w_k \mu_k`: a float in one dimension, an array of shape ``(d,)`` otherwise."""
        if not self._univariate:
            return np.array([math.fsum((self._w * self._mu[:, j]).tolist()) for j in range(self.dim)])
        return math.fsum((self._w * self._m).tolist())

    def cov(self) -> np.ndarray:
        r"""The covariance :math:`\sum_k w_k \bigl(\Sigma_k + (\mu_k - \mu)(\mu_k - \mu)^\top\bigr)`, shape ``(d, d)``.

        The law of total covariance; ``(1, 1)`` in one dimension, where it holds :meth:`var`.
        """
        mu = np.atleast_1d(self.mean())
        diff = self._mu - mu
        return np.einsum("k,kij->ij", self._w, self._cov + diff[:, :, None] * diff[:, None, :])

    def var(self) -> float:
        r"""The variance :math:`\sum_k w_k \bigl(s_k^2 + (m_k - \mu)^2\bigr)`, :math:`\mu` the mean.

        Written as a sum of non-negative terms (law of total variance), so it
        never cancels catastrophically.
        """
        if not self._univariate:
            raise NotImplementedError(f"GaussianMixture.var is for d = 1; use cov() (this mixture has d = {self.dim})")
        mu = self.mean()
        return math.fsum((self._w * (self._s**2 + (self._m - mu) ** 2)).tolist())

    def support(self) -> tuple[float, float]:
        """The whole real line, ``(-inf, inf)``."""
        return (-math.inf, math.inf)

    # ----------------------------------------------------------------- modes
    def modes(self) -> np.ndarray:
        r"""Local maxima of the density, sorted.

        Every stationary point of :math:`p` lies in :math:`[\min_k m_k, \max_k m_k]`
        and solves the fixed-point equation

        .. math::

            x = \frac{\sum_k r_k(x)\, m_k / s_k^2}{\sum_k r_k(x) / s_k^2},

        whose iteration (Gaussian mean shift) increases :math:`p` at every step.
        It is started from each component mean and from each local maximum of
        :math:`p` on a grid over that interval, polished with Newton steps on
        :math:`\frac{d}{dx}\log p`, and the points that are local maxima are kept.

        Returns
        -------
        numpy.ndarray
            The modes, increasing. A single component gives its mean.
        """
        self._require_univariate("modes")
        m, s = self._m, self._s
        a, b = float(m.min()), float(m.max())
        starts = [m[self._w > 0]]
        if b > a:
            n = int(min(4001, max(201, 20 * (b - a) / s.min())))
            grid = np.linspace(a, b, n)
            lp = np.asarray(self.logpdf(grid))
            peak = np.r_[False, (lp[1:-1] >= lp[:-2]) & (lp[1:-1] >= lp[2:]), False]
            peak[0], peak[-1] = lp[0] >= lp[1], lp[-1] >= lp[-2]
            starts.append(grid[peak])
        x = np.unique(np.concatenate(starts))
        inv_var = 1.0 / s**2
        for _ in range(2000):
            r = self.responsibilities(x)
            new = np.sum(r * m * inv_var, axis=-1) / np.sum(r * inv_var, axis=-1)
            if np.all(np.abs(new - x) <= 1e-13 * (1.0 + np.abs(x))):
                x = new
                break
            x = new
        # Newton polish on d/dx log p, with d2/dx2 log p = sum r_k (a_k^2 - 1/s_k^2) - (d/dx log p)^2.
        for _ in range(5):
            r = self.responsibilities(x)
            ak = (m - x[:, None]) * inv_var
            g = np.sum(r * ak, axis=-1)
            h = np.sum(r * (ak**2 - inv_var), axis=-1) - g**2
            step = np.where(h < 0, -g / np.where(h < 0, h, 1.0), 0.0)
            x = np.where(np.abs(step) < s.min(), x + step, x)
        x = np.sort(x)
        tol = 1e-7 * s.min()
        keep: list[float] = []
        for xi in x:
            if not keep or xi - keep[-1] > tol:
                keep.append(float(xi))
        keep_arr = np.array(keep)
        h = 1e-4 * s.min()
        lp0 = np.asarray(self.logpdf(keep_arr))
        is_max = (lp0 >= np.asarray(self.logpdf(keep_arr - h))) & (lp0 >= np.asarray(self.logpdf(keep_arr + h)))
        return keep_arr[is_max]


# =============================================================================
# KL between two Gaussian mixtures
# =============================================================================


@dataclass(frozen=True)
class MixtureKL:
    r"""The result of :func:`mixture_kl`: a value, its error and a guaranteed bracket (nats).

    Attributes
    ----------
    value : float
        :math:`D_{\mathrm{KL}}(p \Vert q)`: adaptive quadrature in one dimension, randomised
        quasi-Monte Carlo with control variates in more (clipped into ``[lower, upper]``).
    stderr : float
        Its error: the quadrature's error estimate in one dimension, the standard error
        over independent scramblings otherwise.
    lower, upper : float
        Guaranteed bounds, :math:`\text{lower} \le D_{\mathrm{KL}}(p \Vert q) \le \text{upper}`:
        the largest and the smallest of ``bounds``.
    variational : float
        Hershey and Olsen's variational approximation (not a bound).
    bounds : dict of str to float
        Every bound computed, by name: ``"zero"``, ``"durrieu_lower"``, ``"durrieu_upper"``,
        ``"variational_upper"``, and in :math:`d > 1` ``"projection_lower"``.
    method : str
        ``"quadrature"`` or ``"rqmc"``.
    n_evaluations : int
        Points at which both log-densities were evaluated (for ``"rqmc"``).
    """

    value: float
    stderr: float
    lower: float
    upper: float
    variational: float
    bounds: dict = field(default_factory=dict)
    method: str = "quadrature"
    n_evaluations: int = 0


def _as_mixture(d: object, name: str) -> GaussianMixture:
    if isinstance(d, GaussianMixture):
        return d
    if isinstance(d, multivariate_normal_frozen):
        mean = np.atleast_1d(np.asarray(d.mean, dtype=float))
        return GaussianMixture([1.0], mean[None, :], covs=np.asarray(d.cov, dtype=float).reshape(1, mean.size, mean.size))
    if isinstance(d, rv_continuous_frozen) and d.dist.name == "norm":
        return GaussianMixture([1.0], [float(d.mean())], [float(d.std())])
    raise TypeError(
        f"{name} must be a GaussianMixture, a frozen scipy.stats.norm or multivariate_normal, got {type(d).__name__}"
    )


def _drop_empty(p: GaussianMixture) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means (K, d), covariances and Cholesky factors of the components with w_k > 0."""
    keep = p.weights > 0
    return p.weights[keep], p._mu[keep], p._cov[keep], p._chol[keep]


def _pair_terms(mu_a, cov_a, chol_a, mu_b, cov_b, chol_b) -> tuple[np.ndarray, np.ndarray]:
    r"""For every pair of Gaussian components: :math:`D_{\mathrm{KL}}(N_a \Vert N_b)` and :math:`\log\int N_a N_b`.

    .. math::

        D_{\mathrm{KL}} = \tfrac12\bigl[\operatorname{tr}(\Sigma_b^{-1}\Sigma_a)
        + \delta^\top\Sigma_b^{-1}\delta - d + \log\det\Sigma_b - \log\det\Sigma_a\bigr],
        \qquad \log\int N_a N_b = \log\mathcal N(\mu_a;\, \mu_b,\, \Sigma_a + \Sigma_b),

    with :math:`\delta = \mu_a - \mu_b`, all through Cholesky factors.
    """
    A, d = mu_a.shape
    B = mu_b.shape[0]
    kl = np.empty((A, B))
    logz = np.empty((A, B))
    logdet_a = 2.0 * np.sum(np.log(np.diagonal(chol_a, axis1=1, axis2=2)), axis=1)
    logdet_b = 2.0 * np.sum(np.log(np.diagonal(chol_b, axis1=1, axis2=2)), axis=1)
    for b in range(B):
        for a in range(A):
            delta = mu_a[a] - mu_b[b]
            m = linalg.solve_triangular(chol_b[b], chol_a[a], lower=True, check_finite=False)
            v = linalg.solve_triangular(chol_b[b], delta, lower=True, check_finite=False)
            kl[a, b] = 0.5 * (np.sum(m * m) + v @ v - d + logdet_b[b] - logdet_a[a])
            s_chol = linalg.cholesky(cov_a[a] + cov_b[b], lower=True, check_finite=False)
            u = linalg.solve_triangular(s_chol, delta, lower=True, check_finite=False)
            logz[a, b] = -0.5 * (d * _LOG_2PI + 2.0 * np.sum(np.log(np.diag(s_chol))) + u @ u)
    return np.maximum(kl, 0.0), logz


def _variational_upper(logpi, logom, kl, iterations=500):
    r"""Hershey and Olsen's variational upper bound, minimised by their fixed-point iteration.

    For any :math:`\phi_{ab}, \psi_{ab} \ge 0` with :math:`\sum_b \phi_{ab} = \pi_a` and
    :math:`\sum_a \psi_{ab} = \omega_b`, writing :math:`f = \sum_{ab}\phi_{ab} f_a` and
    :math:`g = \sum_{ab}\psi_{ab} g_b`, the joint convexity of KL gives
    :math:`D(f \Vert g) \le \sum_{ab}\phi_{ab}\bigl(\log(\phi_{ab}/\psi_{ab}) + D(f_a \Vert g_b)\bigr)`.
    Every iterate is feasible, so the smallest value seen is a bound. Log domain throughout.
    """
    logphi = logpi[:, None] + logom[None, :]
    best = math.inf
    for _ in range(iterations):
        logpsi = logom[None, :] + logphi - logsumexp(logphi, axis=0, keepdims=True)
        val = float(np.sum(np.exp(logphi) * (logphi - logpsi + kl)))
        if val < best - 1e-15 * abs(best) or not math.isfinite(best):
            improved = best - val
            best = val
            if improved < 1e-14 * max(1.0, abs(val)):
                break
        else:
            break
        t = logpsi - kl
        logphi = logpi[:, None] + t - logsumexp(t, axis=1, keepdims=True)
    return max(best, 0.0)


#: Below this many entries np.sum adds an axis one by one, left to right; its pairwise summation
#: starts at 8 (tests/test_mixtures.py checks that this numpy still does so).
_SHORT_AXIS = 8


def _sum_last_axis(a: np.ndarray) -> np.ndarray:
    """``np.sum(a, axis=-1)``, the same floats, written out for axes shorter than ``_SHORT_AXIS``.

    numpy sums such a short axis left to right; as one array operation per entry the sum skips
    its per-row set-up, which dominates on rows of 2 to 7 entries (about 4x faster on 4096 rows).
    """
    k = a.shape[-1]
    if not 1 < k < _SHORT_AXIS:
        return np.sum(a, axis=-1)
    total = a[..., 0] + a[..., 1]
    for j in range(2, k):
        total += a[..., j]
    return total


def _lse_rows(t: np.ndarray) -> np.ndarray:
    """log-sum-exp over the last axis (plain numpy; rows of -inf give -inf).

    The maximum and the sum run over the entries one array operation at a time when the axis is
    short (:func:`_sum_last_axis`): the same floats as ``np.max`` and ``np.sum`` over it.
    """
    k = t.shape[-1]
    if 1 < k < _SHORT_AXIS:
        mx = t[..., 0]
        for j in range(1, k):
            mx = np.maximum(mx, t[..., j])
    else:
        mx = np.max(t, axis=-1)
    mx = np.where(np.isfinite(mx), mx, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(_sum_last_axis(np.exp(t - mx[..., None]))) + mx


def _logmix_1d(x: np.ndarray, logw: np.ndarray, m: np.ndarray, s: np.ndarray) -> np.ndarray:
    z = (x[:, None] - m) / s
    return _lse_rows(logw - 0.5 * z * z - np.log(s) - _LOG_SQRT_2PI)


_GL_HI = np.polynomial.legendre.leggauss(20)
_GL_LO = np.polynomial.legendre.leggauss(10)


def _kl_1d(wf, mf, sf, wg, mg, sg, rtol: float = 1e-13) -> tuple[float, float]:
    r"""KL between two one-dimensional mixtures by adaptive Gauss-Legendre quadrature.

    :math:`\int f(x)\,(\log f(x) - \log g(x))\,dx` over
    :math:`[\min_a(m_a - 40 s_a), \max_a(m_a + 40 s_a)]` (outside it :math:`f < 10^{-340}`),
    split first at the component means and at :math:`m \pm \{1, 3, 6, 12\}\, s` of both
    mixtures. On every panel the 20-point rule is compared with the 10-point rule; panels whose
    difference exceeds their share of the tolerance are halved, vectorised over all panels.
    Returns the value and the sum of the panel differences (a conservative error estimate, since
    the 20-point rule is far more accurate than the 10-point one it is compared with).
    """
    lwf, lwg = np.log(wf), np.log(wg)
    lo, hi = float(np.min(mf - 40 * sf)), float(np.max(mf + 40 * sf))
    cuts = [lo, hi]
    for m, s in ((mf, sf), (mg, sg)):
        for c in (0.0, 1.0, 3.0, 6.0, 12.0):
            cuts.extend((m - c * s).tolist())
            cuts.extend((m + c * s).tolist())
    cuts = np.unique(np.clip(np.asarray(cuts), lo, hi))
    a, b = cuts[:-1], cuts[1:]
    width_total = hi - lo

    def integrand(x: np.ndarray) -> np.ndarray:
        lf = _logmix_1d(x, lwf, mf, sf)
        lg = _logmix_1d(x, lwg, mg, sg)
        with np.errstate(under="ignore"):
            return np.where(lf > -745.0, np.exp(lf) * (lf - lg), 0.0)

    total, err = 0.0, 0.0
    for _ in range(60):
        if a.size == 0:
            break
        half, mid = 0.5 * (b - a), 0.5 * (a + b)
        xs_hi = (mid[:, None] + half[:, None] * _GL_HI[0]).ravel()
        xs_lo = (mid[:, None] + half[:, None] * _GL_LO[0]).ravel()
        vals = integrand(np.concatenate([xs_hi, xs_lo]))
        v_hi = half * (vals[: xs_hi.size].reshape(-1, 20) @ _GL_HI[1])
        v_lo = half * (vals[xs_hi.size :].reshape(-1, 10) @ _GL_LO[1])
        e = np.abs(v_hi - v_lo)
        scale = max(abs(total + float(np.sum(v_hi))), 1e-300)
        # each panel's share of the tolerance: relative to the running total, with an absolute
        # floor of 1e-15 nats (a KL of zero, e.g. two equal projections, has no relative scale)
        ok = e <= np.maximum(rtol * scale, 1e-15) * (b - a) / width_total
        ok |= (b - a) <= 1e-12 * width_total
        if a.size > 20_000:  # pragma: no cover - a safeguard; Gaussian integrands converge far earlier
            ok[:] = True
        total += float(np.sum(v_hi[ok]))
        err += float(np.sum(e[ok]))
        a, b = a[~ok], b[~ok]
        m_ = 0.5 * (a + b)
        a, b = np.concatenate([a, m_]), np.concatenate([m_, b])
    if a.size:  # pragma: no cover - 60 halvings always suffice for Gaussian mixtures
        raise FloatingPointError("mixture_kl: the one-dimensional quadrature did not converge")
    return max(total, 0.0), err


def _projection_directions(mu_f, cov_f, mu_g, cov_g, wf, wg) -> list[np.ndarray]:
    """Coordinate axes, the whitened mean difference and the generalised eigenvectors of the two covariances."""
    d = mu_f.shape[1]
    mean_f, mean_g = wf @ mu_f, wg @ mu_g
    Cf = np.einsum("k,kij->ij", wf, cov_f + (mu_f - mean_f)[:, :, None] * (mu_f - mean_f)[:, None, :])
    Cg = np.einsum("k,kij->ij", wg, cov_g + (mu_g - mean_g)[:, :, None] * (mu_g - mean_g)[:, None, :])
    dirs = [np.eye(d)[j] for j in range(d)]
    try:
        dirs.append(linalg.solve(Cg, mean_f - mean_g, assume_a="pos"))
        _, vecs = linalg.eigh(Cf, Cg)
        dirs.extend(vecs.T)
    except (linalg.LinAlgError, ValueError):  # pragma: no cover - covariances of valid mixtures are PD
        pass
    out = []
    for v in dirs:
        n = np.linalg.norm(v)
        if np.isfinite(n) and n > 0:
            out.append(v / n)
    return out


def _projected(w, mu, cov, v):
    return w, mu @ v, np.sqrt(np.einsum("i,kij,j->k", v, cov, v))


def _rqmc_value(p, q, wf, mu_f, chol_f, n_points, replicates, rng):
    r"""Randomised quasi-Monte Carlo of :math:`\sum_a \pi_a \mathbb E_{f_a}[\log f - \log g]` with control variates.

    Each component :math:`f_a` is integrated separately (stratification by component) with a
    scrambled Sobol' sequence mapped through :math:`x = \mu_a + L_a \Phi^{-1}(u)`. The control
    variates are the quadratic features :math:`z_i` and :math:`z_i z_j - \delta_{ij}` of the
    standard normal :math:`z`, whose means are exactly zero; their coefficients come from an
    extra, independent scrambling, so the estimate stays unbiased. The standard error is the
    spread over the ``replicates`` independent scramblings.
    """
    A, d = mu_f.shape
    m_exp = max(1, int(round(math.log2(n_points))))
    iu = np.triu_indices(d)
    est = np.zeros(replicates)
    n_eval = 0
    for a in range(A):
        sobol_seeds = rng.integers(0, 2**63 - 1, size=replicates + 1)
        vals, feats = [], []
        for r in range(replicates + 1):
            u = qmc.Sobol(d, scramble=True, seed=int(sobol_seeds[r])).random_base2(m_exp)
            z = ndtri(np.clip(u, 1e-16, 1.0 - 1e-16))
            x = mu_f[a] + z @ chol_f[a].T
            h = _lse_rows(p._component_logpdf_nd(x)) - _lse_rows(q._component_logpdf_nd(x))
            quad = z[:, iu[0]] * z[:, iu[1]] - (iu[0] == iu[1])  # z_i z_j - delta_ij, i <= j
            vals.append(h)
            feats.append(np.hstack([z, quad]))
            n_eval += x.shape[0]
        # coefficients from the pilot scrambling (index 0), used on the other ones
        F0 = feats[0] - feats[0].mean(axis=0)
        beta, *_ = np.linalg.lstsq(F0, vals[0] - vals[0].mean(), rcond=None)
        for r in range(1, replicates + 1):
            est[r - 1] += wf[a] * float(np.mean(vals[r] - feats[r] @ beta))
    value = float(np.mean(est))
    stderr = float(np.std(est, ddof=1) / math.sqrt(replicates)) if replicates > 1 else math.inf
    return value, stderr, n_eval


def mixture_kl(
    p: object,
    q: object,
    *,
    n_points: int = 4096,
    replicates: int = 16,
    projections: bool = True,
    random_state: int | np.random.Generator | None = 0,
) -> MixtureKL:
    r"""KL divergence between two Gaussian mixtures, with a guaranteed bracket.

    For :math:`f = \sum_a \pi_a f_a` and :math:`g = \sum_b \omega_b g_b` with Gaussian
    components, :math:`D_{\mathrm{KL}}(f \Vert g) = \int f \log(f/g)` has no closed form (the log
    of a sum does not split). This function returns

    * ``value``: exact adaptive quadrature in one dimension; in :math:`d > 1` randomised
      quasi-Monte Carlo (scrambled Sobol' points per component of :math:`f`, quadratic control
      variates with exactly known means) with a standard error;
    * ``lower`` and ``upper``: bounds that hold for every pair of mixtures:

      - ``zero``: :math:`D \ge 0` (Gibbs);
      - ``durrieu_lower`` and ``durrieu_upper`` (Durrieu, Thiran and Kelly 2012): write
        :math:`D = \mathbb E_f\log f - \mathbb E_f\log g`. By Jensen,
        :math:`\mathbb E_{f_a}\log h \le \log\mathbb E_{f_a} h`, which is :math:`\log\sum_c w_c z_{ac}`, with
        :math:`z_{ac} = \int f_a h_c` in closed form, and by the variational (Jensen) lower
        bound on a log-sum, :math:`\mathbb E_{f_a}\log h` is at least :math:`\log\sum_c w_c e^{-H(f_a, h_c)}`
        (:math:`H` the cross-entropy). Lower bound on the first term minus upper bound on the
        second, and vice versa;
      - ``variational_upper`` (Hershey and Olsen 2007): for any matching weights
        :math:`\phi_{ab}, \psi_{ab}` with marginals :math:`\pi` and :math:`\omega`, joint convexity
        gives :math:`D \le \sum_{ab}\phi_{ab}\,c_{ab}` with :math:`c_{ab} = \log\frac{\phi_{ab}}{\psi_{ab}} + D(f_a\Vert g_b)`,
        minimised by their fixed-point iteration;
      - ``projection_lower`` (:math:`d > 1`): for a unit vector :math:`v` the projections
        :math:`v^\top x` of both mixtures are one-dimensional mixtures and, by the
        data-processing inequality, their KL (by quadrature, minus ten times its error
        estimate) is a lower bound. Directions: the axes, the whitened mean difference and
        the generalised eigenvectors of the two covariances.

    * ``variational``: Hershey and Olsen's variational approximation
      :math:`\sum_a \pi_a \log\frac{\sum_{a'}\pi_{a'} e^{-D(f_a\Vert f_{a'})}}{\sum_b \omega_b e^{-D(f_a\Vert g_b)}}`,
      for comparison (it is exact for one component each, and neither a lower nor an upper bound).

    Parameters
    ----------
    p, q : GaussianMixture, or frozen ``scipy.stats.norm`` / ``multivariate_normal``
        The two distributions, of the same dimension (a single Gaussian is a one-component mixture).
    n_points : int
        Sobol' points per component of ``p`` and scrambling (rounded to a power of two), for
        :math:`d > 1`.
    replicates : int
        Independent scramblings (at least 2) that give the standard error, for :math:`d > 1`.
    projections : bool
        Compute the projection lower bound (:math:`d > 1`; about ``2d + 1`` one-dimensional
        quadratures).
    random_state : int, numpy.random.Generator or None
        Seed of the scramblings (default 0: the same inputs give the same value).

    Returns
    -------
    MixtureKL

    Raises
    ------
    TypeError
        If ``p`` or ``q`` is not a Gaussian mixture or a Gaussian.
    ValueError
        If their dimensions differ, or ``n_points`` / ``replicates`` are too small.

    Examples
    --------
    >>> p = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    >>> q = GaussianMixture([0.3, 0.7], [-1.0, 1.5], [1.0, 0.8])
    >>> r = mixture_kl(p, q)
    >>> r.lower <= r.value <= r.upper
    True
    """
    P, Q = _as_mixture(p, "p"), _as_mixture(q, "q")
    if P.dim != Q.dim:
        raise ValueError(f"p and q must have the same dimension, got d = {P.dim} and d = {Q.dim}")
    if isinstance(n_points, bool) or not isinstance(n_points, numbers.Integral) or n_points < 16:
        raise ValueError(f"n_points must be an int >= 16, got {n_points!r}")
    if isinstance(replicates, bool) or not isinstance(replicates, numbers.Integral) or replicates < 2:
        raise ValueError(f"replicates must be an int >= 2, got {replicates!r}")
    rng = _rng(random_state)
    d = P.dim
    wf, mu_f, cov_f, chol_f = _drop_empty(P)
    wg, mu_g, cov_g, chol_g = _drop_empty(Q)
    lpi, lom = np.log(wf), np.log(wg)

    kl_ff, lz_ff = _pair_terms(mu_f, cov_f, chol_f, mu_f, cov_f, chol_f)
    kl_fg, lz_fg = _pair_terms(mu_f, cov_f, chol_f, mu_g, cov_g, chol_g)
    ent = 0.5 * (d * (1.0 + _LOG_2PI) + 2.0 * np.sum(np.log(np.diagonal(chol_f, axis1=1, axis2=2)), axis=1))
    # E_f log f and E_f log g, each between a variational lower and a Jensen upper bound
    lo_ff = float(wf @ logsumexp(lpi[None, :] - (ent[:, None] + kl_ff), axis=1))
    up_ff = float(wf @ logsumexp(lpi[None, :] + lz_ff, axis=1))
    lo_fg = float(wf @ logsumexp(lom[None, :] - (ent[:, None] + kl_fg), axis=1))
    up_fg = float(wf @ logsumexp(lom[None, :] + lz_fg, axis=1))
    variational = float(wf @ (logsumexp(lpi[None, :] - kl_ff, axis=1) - logsumexp(lom[None, :] - kl_fg, axis=1)))
    bounds = {
        "zero": 0.0,
        "durrieu_lower": lo_ff - up_fg,
        "durrieu_upper": up_ff - lo_fg,
        "variational_upper": _variational_upper(lpi, lom, kl_fg),
    }

    if d == 1:
        value, stderr = _kl_1d(wf, mu_f[:, 0], chol_f[:, 0, 0], wg, mu_g[:, 0], chol_g[:, 0, 0])
        method, n_eval = "quadrature", 0
    else:
        if projections:
            best = 0.0
            for v in _projection_directions(mu_f, cov_f, mu_g, cov_g, wf, wg):
                a = _projected(wf, mu_f, cov_f, v)
                b = _projected(wg, mu_g, cov_g, v)
                val, err = _kl_1d(*a, *b)
                best = max(best, val - 10.0 * err - 1e-12 * val)
            bounds["projection_lower"] = best
        value, stderr, n_eval = _rqmc_value(P, Q, wf, mu_f, chol_f, int(n_points), int(replicates), rng)
        method = "rqmc"
    lower = max(v for k, v in bounds.items() if k in ("zero", "durrieu_lower", "projection_lower"))
    upper = min(v for k, v in bounds.items() if k in ("durrieu_upper", "variational_upper"))
    value = min(max(value, lower), upper)
    return MixtureKL(
        value=float(value),
        stderr=float(stderr),
        lower=float(lower),
        upper=float(upper),
        variational=variational,
        bounds=bounds,
        method=method,
        n_evaluations=int(n_eval),
    )


@register_kl("GaussianMixture", "GaussianMixture")
def _kl_mixture_mixture(p: Params, q: Params) -> float:
    r"""Gaussian mixture vs Gaussian mixture: no closed form; numerical (:math:`d = 1`) or :func:`mixture_kl` (:math:`d > 1`).

    .. math::

        D_{\mathrm{KL}}(p \Vert q) = \int p(x)\,\bigl(\log p(x) - \log q(x)\bigr)\,dx

    One-dimensional mixtures go to the numerical fallback :func:`klbook.core.numeric.kl_numeric`,
    as every pair without a closed form does; mixtures in :math:`d > 1` to :func:`mixture_kl`
    (randomised quasi-Monte Carlo with a fixed seed: relative error about :math:`10^{-4}`).
    """
    P, Q = p.dist, q.dist
    if P.dim != Q.dim:
        raise ValueError(f"p and q must have the same dimension, got d = {P.dim} and d = {Q.dim}")
    if P.univariate and Q.univariate:
        return float(kl_numeric(P, Q))
    return mixture_kl(P, Q).value
