"""One-dimensional Gaussian mixtures.

A :class:`GaussianMixture` is the book's standard example of a "complex" p:
two well-separated components make a bimodal density that no single Gaussian
q can match. It follows :class:`klbook.core.base.Distribution`, so
:func:`klbook.kl_divergence`, the numerical fallback and the estimators accept
it wherever they accept a frozen ``scipy.stats`` distribution.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import log_ndtr, ndtr, ndtri

from .base import Distribution

__all__ = ["GaussianMixture"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: How far the weights may be from summing to one (they are never renormalised).
WEIGHT_SUM_TOL = 1e-9


def _as_1d(values: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence of real numbers, got {values!r}") from exc
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    return arr


def _as_points(x: ArrayLike, name: str = "x") -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be real numbers, got {type(x).__name__}") from exc
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} contains NaN")
    return arr


def _out(arr: np.ndarray) -> np.ndarray | float:
    """Return a Python float for 0-d results, an array otherwise (scipy's habit)."""
    return float(arr) if np.ndim(arr) == 0 else arr


class GaussianMixture(Distribution):
    r"""A finite mixture of univariate normal distributions.

    .. math::

        p(x) = \sum_{k=1}^{K} w_k\, \mathcal{N}(x;\, m_k, s_k^2),
        \qquad w_k \ge 0,\quad \sum_k w_k = 1,\quad s_k > 0.

    Parameters
    ----------
    weights : array_like of float, shape (K,)
        Mixing weights :math:`w_k`, non-negative and summing to one within
        ``1e-9``. They are never renormalised: weights that do not sum to one
        raise ``ValueError``.
    means : array_like of float, shape (K,)
        Component means :math:`m_k` (finite).
    stds : array_like of float, shape (K,)
        Component standard deviations :math:`s_k` (finite, ``> 0``).

    Raises
    ------
    TypeError
        If an argument is not made of real numbers.
    ValueError
        If the arrays are empty, not one-dimensional, of different lengths,
        not finite, if a weight is negative, if the weights do not sum to one,
        or if a standard deviation is not positive.

    Notes
    -----
    Densities are evaluated in log space, :math:`\log p(x) =
    \operatorname{logsumexp}_k\bigl(\log w_k + \log\mathcal{N}(x; m_k, s_k^2)\bigr)`,
    so ``logpdf`` stays finite and accurate far in the tails where ``pdf``
    underflows to zero. ``logcdf`` and ``logsf`` use :func:`scipy.special.log_ndtr`
    in the same way, and ``ppf`` / ``isf`` solve :math:`F(x) = u` by a
    safeguarded Newton iteration in log space inside an exact bracket.

    Examples
    --------
    >>> p = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    >>> p
    GaussianMixture(weights=[0.5, 0.5], means=[-2.0, 2.0], stds=[0.6, 0.6])
    >>> round(p.var(), 12)
    4.36
    """

    discrete = False

    def __init__(self, weights: ArrayLike, means: ArrayLike, stds: ArrayLike) -> None:
        w = _as_1d(weights, "weights")
        m = _as_1d(means, "means")
        s = _as_1d(stds, "stds")
        if not (w.size == m.size == s.size):
            raise ValueError(
                f"weights, means and stds must have the same length, got {w.size}, {m.size} and {s.size}"
            )
        if np.any(w < 0):
            raise ValueError(f"weights must be >= 0, got {w.tolist()}")
        total = math.fsum(w.tolist())
        if abs(total - 1.0) > WEIGHT_SUM_TOL:
            raise ValueError(
                f"weights must sum to 1 (they are never renormalised), got sum {total!r} for {w.tolist()}"
            )
        if np.any(s <= 0):
            raise ValueError(f"stds must be > 0, got {s.tolist()}")
        for arr in (w, m, s):
            arr.setflags(write=False)
        self._w, self._m, self._s = w, m, s
        with np.errstate(divide="ignore"):
            self._logw = np.log(w)
        self._logw.setflags(write=False)

    # ------------------------------------------------------------------ basics
    @property
    def weights(self) -> np.ndarray:
        """Mixing weights :math:`w_k` (read-only array)."""
        return self._w

    @property
    def means(self) -> np.ndarray:
        """Component means :math:`m_k` (read-only array)."""
        return self._m

    @property
    def stds(self) -> np.ndarray:
        """Component standard deviations :math:`s_k` (read-only array)."""
        return self._s

    @property
    def n_components(self) -> int:
        """The number of components :math:`K`."""
        return int(self._w.size)

    def __repr__(self) -> str:
        return (
            f"GaussianMixture(weights={self._w.tolist()}, means={self._m.tolist()}, "
            f"stds={self._s.tolist()})"
        )

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
        z = (xa - self._first(self._m, nd)) / self._first(self._s, nd)
        with np.errstate(over="ignore"):
            terms = const - 0.5 * z * z
        # log-sum-exp over the component axis, one accurate pairwise step per component
        return np.logaddexp.reduce(terms, axis=0)

    def logpdf(self, x: ArrayLike) -> np.ndarray | float:
        r"""Natural log of the density, :math:`\log p(x)`, computed with logsumexp.

        Accurate far in the tails (e.g. at :math:`x = 40` for unit components,
        where ``pdf`` underflows). Returns ``-inf`` at :math:`x = \pm\infty`.

        Raises
        ------
        ValueError
            If ``x`` contains NaN.
        """
        xa = _as_points(x)
        out = self._logpdf_array(xa)
        out = np.where(np.isinf(xa), -np.inf, out)
        return _out(out)

    def pdf(self, x: ArrayLike) -> np.ndarray | float:
        r"""The density :math:`p(x) = \sum_k w_k \mathcal{N}(x; m_k, s_k^2)`."""
        return _out(np.exp(np.asarray(self.logpdf(x))))

    def responsibilities(self, x: ArrayLike) -> np.ndarray:
        r"""Posterior component probabilities :math:`r_k(x) = w_k \mathcal{N}(x; m_k, s_k^2) / p(x)`.

        Returns an array of shape ``np.shape(x) + (K,)`` whose last axis sums to one.
        Far in a tail the component with the widest reach takes all the weight.
        """
        xa = _as_points(x)
        if np.any(np.isinf(xa)):
            raise ValueError("responsibilities are undefined at x = ±inf")
        terms = self._component_logpdf(xa)
        return np.exp(terms - self._logpdf_array(xa)[..., None])

    def dlogpdf(self, x: ArrayLike) -> np.ndarray | float:
        r"""Derivative of the log density, :math:`\frac{d}{dx}\log p(x) = \sum_k r_k(x)\,\frac{m_k - x}{s_k^2}`.

        Used by :func:`klbook.fit_gaussian` for the reparameterised gradient of
        the reverse KL. ``r_k`` are the :meth:`responsibilities`.
        """
        xa = _as_points(x)
        r = self.responsibilities(xa)
        return _out(np.sum(r * (self._m - xa[..., None]) / self._s**2, axis=-1))

    # ------------------------------------------------------ distribution funcs
    def cdf(self, x: ArrayLike) -> np.ndarray | float:
        r"""Cumulative distribution function :math:`F(x) = \sum_k w_k \Phi\bigl((x - m_k)/s_k\bigr)`.

        Each term is computed with :func:`scipy.special.ndtr`, which keeps full
        relative accuracy in the left tail; use :meth:`sf` in the right tail.
        """
        xa = _as_points(x)
        z = (xa[..., None] - self._m) / self._s
        return _out(np.clip(np.sum(self._w * ndtr(z), axis=-1), 0.0, 1.0))

    def sf(self, x: ArrayLike) -> np.ndarray | float:
        r"""Survival function :math:`1 - F(x) = \sum_k w_k \Phi\bigl((m_k - x)/s_k\bigr)`, accurate in the right tail."""
        xa = _as_points(x)
        z = (self._m - xa[..., None]) / self._s
        return _out(np.clip(np.sum(self._w * ndtr(z), axis=-1), 0.0, 1.0))

    def logcdf(self, x: ArrayLike) -> np.ndarray | float:
        r""":math:`\log F(x)` via logsumexp of :math:`\log w_k + \log\Phi(\cdot)`; finite far in the left tail."""
        xa = _as_points(x)
        z = (xa[..., None] - self._m) / self._s
        with np.errstate(divide="ignore"):
            return _out(np.minimum(np.logaddexp.reduce(self._logw + log_ndtr(z), axis=-1), 0.0))

    def logsf(self, x: ArrayLike) -> np.ndarray | float:
        r""":math:`\log(1 - F(x))`; finite far in the right tail."""
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
            if upper:
                g = log_t - np.asarray(self.logsf(x))  # increasing in x
                dg = np.exp(np.asarray(self.logpdf(x)) - np.asarray(self.logsf(x)))
            else:
                g = np.asarray(self.logcdf(x)) - log_t
                dg = np.exp(np.asarray(self.logpdf(x)) - np.asarray(self.logcdf(x)))
            lo = np.where(g < 0, x, lo)
            hi = np.where(g > 0, x, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
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
        ua = _as_points(u, "u")
        if np.any((ua < 0) | (ua > 1)):
            raise ValueError("u must lie in [0, 1]")
        out = np.empty(ua.shape, dtype=float)
        out[ua == 0] = -np.inf
        out[ua == 1] = np.inf
        low = (ua > 0) & (ua <= 0.5)
        high = (ua > 0.5) & (ua < 1)
        if np.any(low):
            out[low] = self._solve(ua[low], upper=False)
        if np.any(high):
            out[high] = self._solve(1.0 - ua[high], upper=True)
        return _out(out)

    def isf(self, q: ArrayLike) -> np.ndarray | float:
        r"""Inverse survival function: the :math:`x` with :math:`1 - F(x) = q`.

        Raises
        ------
        ValueError
            If ``q`` is NaN or outside :math:`[0, 1]`.
        """
        qa = _as_points(q, "q")
        if np.any((qa < 0) | (qa > 1)):
            raise ValueError("q must lie in [0, 1]")
        out = np.empty(qa.shape, dtype=float)
        out[qa == 0] = np.inf
        out[qa == 1] = -np.inf
        low = (qa > 0) & (qa <= 0.5)
        high = (qa > 0.5) & (qa < 1)
        if np.any(low):
            out[low] = self._solve(qa[low], upper=True)
        if np.any(high):
            out[high] = self._solve(1.0 - qa[high], upper=False)
        return _out(out)

    def rvs(self, size: int | tuple[int, ...] | None = None, random_state=None) -> np.ndarray | float:
        """Draw samples: pick component ``k`` with probability ``w_k``, then draw from it.

        Parameters
        ----------
        size : int, tuple of int or None
            Output shape; ``None`` gives one float.
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
        draws = self._m[k] + self._s[k] * rng.standard_normal(shape)
        return _out(np.asarray(draws, dtype=float))

    # --------------------------------------------------------------- moments
    def mean(self) -> float:
        r"""The mean :math:`\sum_k w_k m_k`."""
        return math.fsum((self._w * self._m).tolist())

    def var(self) -> float:
        r"""The variance :math:`\sum_k w_k \bigl(s_k^2 + (m_k - \mu)^2\bigr)`, :math:`\mu` the mean.

        Written as a sum of non-negative terms (law of total variance), so it
        never cancels catastrophically.
        """
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
