r"""Learning with KL: empirical distributions, the cross-entropy loss, gradients.

Small tools for chapter 5 ("KL in practice"):

* :func:`empirical_pmf` turns integer data into the empirical distribution
  :math:`\hat p(k) = \#\{i : x_i = k\} / N`;
* :func:`average_nll` is the cross-entropy loss
  :math:`-\frac1N \sum_i \log q(x_i) = H(\hat p, q)`; minimising it over a
  model q is maximum likelihood, and since
  :math:`D_{\mathrm{KL}}(\hat p\,\|\,q) = H(\hat p, q) - H(\hat p)` it is also
  minimising the forward KL from the data to the model;
* :func:`finite_difference_gradient` checks a gradient written out by hand;
* :func:`gradient_descent` runs plain fixed-step gradient descent and keeps the path.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from ..core.closed_forms import is_discrete, is_distribution

__all__ = ["empirical_pmf", "average_nll", "finite_difference_gradient", "gradient_descent", "DescentPath"]


def empirical_pmf(data: ArrayLike, n_values: int) -> np.ndarray:
    r"""The empirical distribution of integer data on :math:`\{0, 1, \dots, K-1\}`.

    .. math::

       \hat p(k) = \frac{1}{N} \sum_{i=1}^N [x_i = k]

    for :math:`k = 0, \dots, K-1`, where :math:`[x_i = k]` is 1 if :math:`x_i = k`
    and 0 otherwise.

    Parameters
    ----------
    data : array_like of int
        The observations :math:`x_1, \dots, x_N` (at least one), integers in
        ``[0, n_values)``. Integral floats such as ``3.0`` are accepted.
    n_values : int
        :math:`K`, the number of possible values.

    Returns
    -------
    numpy.ndarray, shape (n_values,)
        The frequencies; they sum to one up to rounding.

    Raises
    ------
    TypeError
        ``n_values`` is not an integer, or the data are not numbers.
    ValueError
        Empty data, a non-integer value, or a value outside ``[0, n_values)``.
    """
    if isinstance(n_values, bool) or not isinstance(n_values, numbers.Integral) or int(n_values) < 1:
        raise TypeError(f"n_values must be a positive integer, got {n_values!r}")
    try:
        x = np.asarray(data, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise TypeError("data must be numbers") from exc
    if x.size == 0:
        raise ValueError("data is empty")
    if not np.all(np.isfinite(x)) or np.any(x != np.round(x)):
        raise ValueError("data must be integers")
    if x.min() < 0 or x.max() >= n_values:
        raise ValueError(f"data must lie in [0, {int(n_values)}), got values from {x.min():g} to {x.max():g}")
    counts = np.bincount(x.astype(np.int64), minlength=int(n_values))
    return counts / x.size


def average_nll(dist: object, data: ArrayLike) -> float:
    r"""The cross-entropy loss: the average negative log-likelihood of ``data`` under ``dist``.

    .. math::

       L(q) = -\frac1N \sum_{i=1}^N \log q(x_i) = H(\hat p, q),

    where :math:`\hat p` is the empirical distribution of the data. In nats.
    With log-pmfs for discrete distributions and log-densities otherwise.

    Parameters
    ----------
    dist : distribution
        A frozen ``scipy.stats`` distribution or a :class:`klbook.Distribution`.
    data : array_like
        The observations (at least one).

    Returns
    -------
    float
        The loss; ``inf`` when some observation has probability zero under ``dist``.

    Raises
    ------
    TypeError
        ``dist`` is not a distribution.
    ValueError
        Empty data or NaN in the data.
    """
    if not is_distribution(dist):
        raise TypeError(f"dist must be a distribution, got {type(dist).__name__}")
    x = np.asarray(data, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("data is empty")
    if np.any(np.isnan(x)):
        raise ValueError("data contains NaN")
    logq = dist.logpmf(x) if is_discrete(dist) else dist.logpdf(x)
    logq = np.asarray(logq, dtype=float)
    if np.any(np.isneginf(logq)):
        return math.inf
    return -math.fsum(logq) / x.size


def finite_difference_gradient(
    f: Callable[[np.ndarray], float], theta: ArrayLike, *, h: float = 1e-5
) -> np.ndarray:
    r"""Central finite-difference gradient of a scalar function.

    .. math::

       \frac{\partial f}{\partial \theta_j} &\approx
       \frac{f(\theta + h_j e_j) - f(\theta - h_j e_j)}{2 h_j}, \\
       h_j &= h \max(1, |\theta_j|),

    with error :math:`O(h_j^2)` from the third derivative plus rounding of
    order :math:`\varepsilon |f| / h_j`; ``h = 1e-5`` balances the two for
    smooth functions of moderate size (about 10 correct digits).

    Parameters
    ----------
    f : callable
        ``f(theta) -> float`` for a 1-D float array ``theta``.
    theta : array_like, shape (d,)
        Where to differentiate.
    h : float
        Relative step, ``> 0``.

    Returns
    -------
    numpy.ndarray, shape (d,)
    """
    if not (isinstance(h, numbers.Real) and math.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite number > 0, got {h!r}")
    t = np.atleast_1d(np.asarray(theta, dtype=float)).copy()
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ValueError("theta must be a finite 1-D array")
    g = np.empty_like(t)
    for j in range(t.size):
        hj = h * max(1.0, abs(t[j]))
        up, down = t.copy(), t.copy()
        up[j] += hj
        down[j] -= hj
        hj = (up[j] - down[j]) / 2.0  # the step actually taken, after rounding
        g[j] = (float(f(up)) - float(f(down))) / (2.0 * hj)
    return g


@dataclass(frozen=True)
class DescentPath:
    """The iterates of :func:`gradient_descent`.

    Attributes
    ----------
    thetas : numpy.ndarray, shape (n_steps + 1, d)
        The parameters, starting point first.
    values : numpy.ndarray, shape (n_steps + 1,)
        The objective at each of them.
    grads : numpy.ndarray, shape (n_steps + 1, d)
        The gradient at each of them.
    """

    thetas: np.ndarray
    values: np.ndarray
    grads: np.ndarray


def gradient_descent(
    value_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    theta0: ArrayLike,
    *,
    step: float,
    n_steps: int,
) -> DescentPath:
    r"""Plain gradient descent with a fixed step: :math:`\theta_{t+1} = \theta_t - \eta \nabla f(\theta_t)`.

    Parameters
    ----------
    value_and_grad : callable
        ``value_and_grad(theta) -> (f(theta), grad f(theta))``. To maximise
        a function, pass its negative.
    theta0 : array_like, shape (d,)
        The starting point.
    step : float
        :math:`\eta > 0`.
    n_steps : int
        Number of updates (``>= 0``).

    Returns
    -------
    DescentPath

    Raises
    ------
    ValueError
        A bad step or number of steps, or a non-finite value or gradient on
        the way (the step is too large, or the start is outside the domain).
    """
    if not (isinstance(step, numbers.Real) and math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a finite number > 0, got {step!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 0:
        raise ValueError(f"n_steps must be an integer >= 0, got {n_steps!r}")
    theta = np.atleast_1d(np.asarray(theta0, dtype=float)).copy()
    thetas, values, grads = [], [], []
    for t in range(int(n_steps) + 1):
        v, g = value_and_grad(theta)
        g = np.atleast_1d(np.asarray(g, dtype=float))
        if not (math.isfinite(float(v)) and np.all(np.isfinite(g))):
            raise ValueError(f"the objective or its gradient is not finite at step {t} (theta = {theta.tolist()})")
        thetas.append(theta.copy())
        values.append(float(v))
        grads.append(g.copy())
        theta = theta - step * g
    return DescentPath(np.array(thetas), np.array(values), np.array(grads))
