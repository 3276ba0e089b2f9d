r"""Monte Carlo estimators of :math:`D_{\mathrm{KL}}(p\,\|\,q)` from samples of p.

Draw :math:`x_1, \dots, x_n \sim p` and form the ratio and its logarithm

.. math::

   r(x) &= \frac{q(x)}{p(x)}, \\
   \log r(x) &= \log q(x) - \log p(x),

computed from log-densities (log-pmfs for discrete distributions), never
from a quotient of densities. (The book's log-ratio is
:math:`\ell = \log(p/q) = -\log r`.) Three per-sample estimators are offered
(the names follow J. Schulman, "Approximating KL divergence", 2020):

.. math::

   k_1 &= -\log r, \\
   k_2 &= \tfrac12 (\log r)^2, \\
   k_3 &= (r - 1) - \log r .

:math:`k_1` is unbiased; so is :math:`k_3`, because
:math:`\mathbb E_p[r] = \int_{p>0} q = 1` whenever q puts no mass outside the support
of p (otherwise :math:`k_3` underestimates by :math:`1 - \mathbb E_p[r]`);
:math:`k_3 \ge 0` for every sample, since :math:`r - 1 \ge \log r`;
:math:`k_2` is biased but often has a small variance. :func:`mc_kl` averages
the per-sample values; :func:`estimator_moments` gives the exact mean and
standard deviation of a single per-sample value by quadrature, so that the
bias and spread of each estimator can be tabulated without sampling.

:math:`k_3` is one case of a general recipe: for any f-divergence
:math:`\mathbb E_p[f(r)]` with f convex and :math:`f(1) = 0`, the per-sample value
:math:`f(r) - f'(1)(r - 1)` is unbiased (the added term has mean zero) and
never negative (a convex function lies above its tangent at 1).
:func:`f_divergence_samples` and :func:`mc_f_divergence` apply it; with
:math:`f(r) = r\log r` it estimates the *other* direction,
:math:`D_{\mathrm{KL}}(q\,\|\,p) = \mathbb E_p[r \log r]`, from the same samples of p.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

from numpy.typing import ArrayLike

import numpy as np
from scipy.stats import norm
from scipy.stats._multivariate import multivariate_normal_frozen

from .closed_forms import check_distribution, is_discrete, is_distribution, kl_distributions
from .engine import integrate_kernel, mass_outside, sum_kernel

__all__ = [
    "MCResult",
    "mc_kl",
    "mc_kl_replicates",
    "EstimatorMoments",
    "estimator_moments",
    "naive_kl_gradients",
    "per_sample_kl",
    "ESTIMATORS",
    "F_DIVERGENCES",
    "f_divergence_samples",
    "mc_f_divergence",
    "k3_from_log_ratio",
    "rng_from_seed",
    "check_count",
    "check_sample_size",
]

#: The valid values of ``estimator``.
ESTIMATORS: tuple[str, ...] = ("k1", "k2", "k3")

# Taylor coefficients 1/k! for k = 2..20, highest first (for Horner's rule).
_K3_COEFFS = tuple(1.0 / math.factorial(k) for k in range(20, 1, -1))


@dataclass(frozen=True)
class MCResult:
    """The result of :func:`mc_kl`.

    Attributes
    ----------
    samples : numpy.ndarray
        The ``n`` per-sample values of the chosen estimator, float, shape ``(n,)``.
    value : float
        Their mean: the estimate of :math:`D_{\\mathrm{KL}}(p\\,\\|\\,q)` in nats.
    stderr : float
        The estimated standard error of ``value``,
        :math:`s / \\sqrt{n}` with :math:`s` the sample standard deviation
        (``ddof=1``). ``inf`` when some samples are infinite.
    """

    samples: np.ndarray
    value: float
    stderr: float


def k3_from_log_ratio(log_r: ArrayLike) -> np.ndarray:
    r"""Accurate :math:`e^{u} - 1 - u` for an array of log-ratios :math:`u = \log r`.

    This is the per-sample estimator :math:`k_3 = r - 1 - \log r`, and also the
    scale term :math:`\sigma^2 - 1 - \log\sigma^2` of the Gaussian divergence
    (with :math:`u = \log\sigma^2`). Both terms of :math:`e^u - 1` and
    :math:`u` nearly cancel when :math:`u` is small, so for :math:`|u| \le 1`
    the Taylor series :math:`\sum_{k=2}^{20} u^k / k!` is used (Horner's rule;
    truncation error below :math:`2/19!` relative), which has no cancellation;
    elsewhere ``expm1(u) - u``, whose two terms never nearly cancel.

    Parameters
    ----------
    log_r : array_like
        Values of :math:`u`; ``-inf`` is allowed and gives ``inf``.

    Returns
    -------
    numpy.ndarray
        Same shape as ``log_r``, never negative.

    Examples
    --------
    >>> float(k3_from_log_ratio(1e-8))   # u**2/2 + u**3/6; expm1(u) - u is wrong from the 8th digit
    5.000000016666667e-17
    """
    logr = np.asarray(log_r, dtype=float)
    out = np.empty_like(logr)
    small = np.abs(logr) <= 1.0
    ls = logr[small]
    acc = np.zeros_like(ls)
    for c in _K3_COEFFS:
        acc = acc * ls + c
    out[small] = acc * ls * ls
    big = ~small
    lb = logr[big]
    with np.errstate(invalid="ignore", over="ignore"):
        out[big] = np.where(np.isneginf(lb), np.inf, np.expm1(lb) - lb)
    return np.maximum(out, 0.0)


_k3_from_logr = k3_from_log_ratio


def _per_sample(logr: np.ndarray, estimator: str) -> np.ndarray:
    """The per-sample values of ``estimator`` from log-ratios ``log q - log p``."""
    if estimator == "k1":
        return -logr
    if estimator == "k2":
        return 0.5 * logr * logr
    return k3_from_log_ratio(logr)


def per_sample_kl(log_ratio: ArrayLike, estimator: str) -> np.ndarray:
    r"""The per-sample estimator as a function of :math:`\log r = \log q(x) - \log p(x)`.

    .. math::

       k_1 &= -\log r, \\
       k_2 &= \tfrac12 (\log r)^2, \\
       k_3 &= r - 1 - \log r,

    the last evaluated without cancellation. :func:`mc_kl` averages these
    over :math:`x \sim p`; this function exposes them, for example to plot
    them against :math:`r`.

    Parameters
    ----------
    log_ratio : array_like
        Values of :math:`\log r`, no NaN (``-inf`` is allowed: q vanishes there).
    estimator : {"k1", "k2", "k3"}

    Returns
    -------
    numpy.ndarray
        Same shape as ``log_ratio``.
    """
    estimator = _check_estimator(estimator)
    logr = np.asarray(log_ratio, dtype=float)
    if np.any(np.isnan(logr)) or np.any(np.isposinf(logr)):
        raise ValueError("log_ratio must not contain NaN or +inf")
    return _per_sample(logr, estimator)


def _check_estimator(estimator: object) -> str:
    if not isinstance(estimator, str) or estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    return estimator


def _check_pair(p: object, q: object) -> None:
    """Reject non-distributions, invalid parameters and pairs without a density ratio."""
    for name, d in (("p", p), ("q", q)):
        if not is_distribution(d):
            raise TypeError(
                f"{name} must be a frozen scipy.stats distribution, a frozen multivariate_normal "
                f"or a klbook.Distribution, got {type(d).__name__}"
            )
        check_distribution(d, name)
    mv_p, mv_q = isinstance(p, multivariate_normal_frozen), isinstance(q, multivariate_normal_frozen)
    if mv_p != mv_q:
        raise TypeError("a multivariate normal can only be compared with another multivariate normal")
    if mv_p and p.dim != q.dim:
        raise ValueError(f"p and q have different dimensions ({p.dim} and {q.dim})")
    if is_discrete(p) != is_discrete(q):
        raise ValueError(
            "one of p, q is discrete and the other continuous: there is no density ratio to "
            "sample, and D_KL(p || q) is infinite (see klbook.kl_divergence)"
        )


def _log_density(d: object, x: np.ndarray) -> np.ndarray:
    """Log-pmf of a discrete distribution, log-density otherwise."""
    if is_discrete(d) and hasattr(d, "logpmf"):
        return np.asarray(d.logpmf(x), dtype=float)
    return np.asarray(d.logpdf(x), dtype=float)


def rng_from_seed(seed: object) -> np.random.Generator:
    """The random generator every sampling function of klbook uses for its ``seed`` argument.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator
        ``None`` draws fresh entropy; a non-negative int seeds
        ``numpy.random.default_rng``; a generator is returned as it is (so
        that successive calls continue its stream).

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        ``seed`` is a bool, a float or anything else.
    ValueError
        ``seed`` is a negative int.
    """
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None, a non-negative int or a numpy.random.Generator, got {type(seed).__name__}")
    if int(seed) < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.default_rng(int(seed))


def check_count(n: object, name: str, least: int = 1) -> int:
    """Validate an integer argument that counts something (draws, steps, pairs, a dimension).

    Parameters
    ----------
    n : object
        The argument.
    name : str
        Its name, for the error message.
    least : int
        The smallest count allowed.

    Returns
    -------
    int
        ``n`` as a Python int.

    Raises
    ------
    TypeError
        ``n`` is not an integer (bools are rejected).
    ValueError
        ``n < least``.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(n).__name__} {n!r}")
    if int(n) < least:
        raise ValueError(f"{name} must be at least {least}, got {n!r}")
    return int(n)


def check_sample_size(n: object) -> int:
    """Validate a Monte Carlo sample size: an integer ``>= 2`` (a standard error needs two samples).

    It returns ``n`` as a Python int and raises as :func:`check_count` with ``least=2``
    (TypeError for a non-integer, ValueError below 2).
    """
    try:
        return check_count(n, "n", 2)
    except ValueError:
        raise ValueError(f"n must be >= 2 (the standard error needs two samples), got {n}") from None


def mc_kl(
    p: object,
    q: object,
    n: int,
    *,
    estimator: str = "k1",
    seed: int | np.random.Generator | None = None,
) -> MCResult:
    r"""Monte Carlo estimate of :math:`D_{\mathrm{KL}}(p\,\|\,q)` in nats from ``n`` samples of ``p``.

    With :math:`x_i \sim p` and :math:`r_i = q(x_i)/p(x_i)` (its logarithm
    computed as :math:`\log q(x_i) - \log p(x_i)`),

    .. math::

       & \hat D = \frac1n \sum_{i=1}^n k(r_i), \\
       & k_1 = -\log r, \quad k_2 = \tfrac12 (\log r)^2, \\
       & k_3 = r - 1 - \log r .

    :math:`k_1` is unbiased; :math:`k_3` is unbiased when q puts no mass
    outside the support of p (:math:`\mathbb E_p[r] = 1`), and never negative;
    :math:`k_2` is biased: it estimates :math:`\tfrac12 \mathbb E_p[(\log r)^2]`, which
    agrees with the divergence to second order when p and q are close, and
    can lie on either side of it (above it for two Gaussians differing in their
    means, far below it for some pairs), but it has a low variance when p
    and q are close. :math:`k_3` is evaluated without cancellation (a series for
    :math:`|\log r| \le 1`, ``expm1(u) - u`` beyond, :func:`~klbook.core.estimators.k3_from_log_ratio`).

    Parameters
    ----------
    p : distribution
        The distribution sampled: a frozen ``scipy.stats`` distribution
        (continuous or discrete), a frozen ``multivariate_normal``, or a
        :class:`klbook.Distribution` such as :class:`klbook.GaussianMixture`.
    q : distribution
        The approximating distribution, of the same kind as ``p`` (both
        discrete, both continuous univariate, or two multivariate normals of
        the same dimension).
    n : int
        Number of samples, ``>= 2``.
    estimator : {"k1", "k2", "k3"}
        The per-sample estimator.
    seed : None, int or numpy.random.Generator
        Seed for ``numpy.random.default_rng`` (a non-negative int), or a
        generator to draw from. ``None`` draws fresh entropy.

    Returns
    -------
    MCResult
        ``samples`` (shape ``(n,)``), their mean ``value`` and its ``stderr``.
        Where q gives zero density to a sample of p, its per-sample value is
        ``inf`` (the divergence is infinite); then ``value`` and ``stderr``
        are ``inf`` too.

    Raises
    ------
    TypeError
        ``p`` or ``q`` is not a distribution, a multivariate normal is paired
        with a univariate distribution, ``n`` is not an integer, or ``seed``
        has the wrong type.
    ValueError
        Invalid parameters, ``n < 2``, an unknown ``estimator``, a negative
        ``seed``, multivariate normals of different dimensions, or a discrete
        distribution paired with a continuous one.
    FloatingPointError
        If a log-ratio comes out NaN (``p`` gave zero density to its own sample).

    Examples
    --------
    >>> from scipy.stats import norm
    >>> res = mc_kl(norm(0, 1), norm(1, 1), 100_000, estimator="k3", seed=0)
    >>> abs(res.value - 0.5) < 4 * res.stderr
    True
    """
    n = check_sample_size(n)
    estimator = _check_estimator(estimator)
    rng = rng_from_seed(seed)
    logr = _sample_log_ratio(p, q, n, rng)
    samples = np.ascontiguousarray(_per_sample(logr, estimator), dtype=float)
    return _result(samples)


def _result(samples: np.ndarray) -> MCResult:
    n = samples.size
    if not np.all(np.isfinite(samples)):
        return MCResult(samples, math.inf, math.inf)
    return MCResult(samples, float(np.mean(samples)), float(np.std(samples, ddof=1) / math.sqrt(n)))


def _sample_log_ratio(p: object, q: object, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws x of p and their log q(x) - log p(x) (validated; -inf where q vanishes)."""
    _check_pair(p, q)
    x = p.rvs(size=n, random_state=rng)
    logp = _log_density(p, x).reshape(-1)
    logq = _log_density(q, x).reshape(-1)
    if logp.shape != (n,) or logq.shape != (n,):
        raise ValueError(f"expected {n} log-densities, got shapes {logp.shape} and {logq.shape}")
    if not np.all(np.isfinite(logp)):
        raise FloatingPointError("p gave a non-finite log-density to one of its own samples")
    with np.errstate(invalid="ignore"):
        logr = logq - logp
    if np.any(np.isnan(logr)) or np.any(np.isposinf(logr)):
        raise FloatingPointError("a log-ratio log q(x) - log p(x) is NaN or +inf (q has an infinite density)")
    return logr


@dataclass(frozen=True)
class EstimatorMoments:
    r"""Exact moments of one per-sample KL estimator (see :func:`estimator_moments`).

    Attributes
    ----------
    estimator : str
        ``"k1"``, ``"k2"`` or ``"k3"``.
    kl : float
        The true :math:`D_{\mathrm{KL}}(p\,\|\,q)` in nats, :math:`\mathbb E_p[k_1]`.
    bias : float
        :math:`\mathbb E_p[k] - D_{\mathrm{KL}}(p\,\|\,q)` for one sample (and for the
        mean of any number of samples).
    sd : float
        :math:`\sqrt{\mathrm{Var}_p[k]}` for one sample; the mean of ``n``
        independent samples has standard deviation ``sd / sqrt(n)``.
    """

    estimator: str
    kl: float
    bias: float
    sd: float

    @property
    def mean(self) -> float:
        r""":math:`\mathbb E_p[k]`, that is ``kl + bias``."""
        return self.kl + self.bias

    @property
    def relative_bias(self) -> float:
        """``bias / kl``."""
        return self.bias / self.kl

    @property
    def relative_sd(self) -> float:
        """``sd / kl``: the standard deviation of one sample in units of the divergence."""
        return self.sd / self.kl

    def sd_of_mean(self, n: int) -> float:
        """Standard deviation of the average of ``n`` independent samples, ``sd / sqrt(n)``."""
        return self.sd / math.sqrt(check_sample_size(n))


def _log_centered_square(l: np.ndarray, estimator: str, mean: float) -> np.ndarray:
    """``log (k(l) - mean)**2`` without overflow (k3 grows like ``exp(l)``)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if estimator == "k1":
            return 2.0 * np.log(np.abs(l + mean))
        if estimator == "k2":  # beyond |l| = 1e100, l^2 / 2 - mean = l^2 / 2 to the last bit (and l^2 may overflow)
            far = np.abs(l) > 1e100
            return np.where(far, 4.0 * np.log(np.abs(l)) - 2.0 * math.log(2.0),
                            2.0 * np.log(np.abs(0.5 * np.where(far, 0.0, l) ** 2 - mean)))
        out = np.empty_like(l)
        big = l > 50.0
        lb = l[big]
        # k3 - mean = exp(l) * (1 - (1 + l + mean) exp(-l)), positive for l > 50
        out[big] = 2.0 * (lb + np.log1p(-(1.0 + lb + mean) * np.exp(-lb)))
        out[~big] = 2.0 * np.log(np.abs(k3_from_log_ratio(l[~big]) - mean))
    return out


def _moment(p: object, q: object, log_g: Callable[[np.ndarray], np.ndarray], what: str) -> float:
    r""":math:`\mathbb E_p[g(u)]` for a non-negative g of :math:`u = \log q - \log p`, given as ``log_g(u)``.

    Summed or integrated by klbook's pairwise engine (:func:`klbook.core.engine.sum_kernel`,
    :func:`klbook.core.engine.integrate_kernel`): the terms are :math:`p\,g(u)` formed from
    log-densities, zero where p is. ``ValueError`` naming ``what`` when the result is infinite.
    """

    def log_kernel(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
        lp, lq = np.broadcast_arrays(np.asarray(lp, float), np.asarray(lq, float))
        out = np.full(lp.shape, -np.inf)
        keep = np.isfinite(lp)
        if keep.any():
            with np.errstate(invalid="ignore"):
                out[keep] = lp[keep] + log_g(lq[keep] - lp[keep])
        out[np.isnan(out)] = -np.inf
        return out

    def kernel(lp: np.ndarray, lq: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.exp(log_kernel(lp, lq))

    if is_discrete(p):
        val = sum_kernel(p, q, kernel, guard=True)
    else:
        val = integrate_kernel(p, q, kernel, log_kernel, 0.0, what, guard=True)
    if not math.isfinite(val):
        raise ValueError(f"{what} is infinite (or too large to compute)")
    return float(val)


def estimator_moments(p: object, q: object, estimator: str) -> EstimatorMoments:
    r"""Exact mean, bias and standard deviation of one per-sample KL estimator.

    With :math:`u(x) = \log r(x) = \log q(x) - \log p(x)` and :math:`k` one of
    :math:`k_1, k_2, k_3` (see :func:`mc_kl`), compute with klbook's pairwise
    engine (adaptive quadrature, or a sum for discrete distributions)

    .. math::

       D &= \mathbb E_p[-u], \qquad
       \mathrm{bias} = \mathbb E_p[k + u], \\
       \mathrm{sd} &= \sqrt{\mathbb E_p\big[(k - D - \mathrm{bias})^2\big]} .

    :math:`D` is :func:`klbook.kl_divergence`'s value (closed form where one
    exists). The bias of :math:`k_1` is 0; that of :math:`k_2` is
    :math:`\mathbb E_p[u^2]/2 - D`; that of :math:`k_3` is :math:`\mathbb E_p[r] - 1`, minus
    q's mass outside p's support. The variance is integrated about the known
    mean, so it suffers no cancellation; relative accuracy is about
    :math:`10^{-12}` for smooth densities.

    Parameters
    ----------
    p, q : univariate distribution
        Frozen ``scipy.stats`` distributions (both continuous or both
        discrete) or :class:`klbook.Distribution` objects.
    estimator : {"k1", "k2", "k3"}
        The per-sample estimator.

    Returns
    -------
    EstimatorMoments
        ``kl``, ``bias``, ``sd``, and the properties ``mean``,
        ``relative_bias`` and ``relative_sd``.

    Raises
    ------
    TypeError
        Not distributions, or multivariate ones.
    ValueError
        Unknown estimator; a discrete/continuous pair; q not covering p's
        support (the divergence is infinite); or a moment whose integral does
        not converge (for example the variance of :math:`k_3` is infinite when
        :math:`\int q^2/p = \infty`).

    Examples
    --------
    >>> from scipy.stats import norm
    >>> m = estimator_moments(norm(0, 1), norm(1, 1), "k2")
    >>> round(m.relative_bias, 6)    # mu**2 / 4 for mu = 1
    0.25
    """
    estimator = _check_estimator(estimator)
    _check_pair(p, q)
    if isinstance(p, multivariate_normal_frozen):
        raise TypeError("estimator_moments takes univariate distributions")
    plo, phi = p.support()
    qlo, qhi = q.support()
    if qlo > plo or qhi < phi:
        raise ValueError("q does not cover the support of p: D_KL(p || q) is infinite")

    kl = float(kl_distributions(p, q))
    if not math.isfinite(kl):
        raise ValueError("q gives zero probability where p does not: D_KL(p || q) is infinite")
    if estimator == "k1":
        bias = 0.0
    elif estimator == "k2":
        # k2 + u = u^2 / 2 + u, so the bias is E_p[u^2] / 2 - D
        with np.errstate(divide="ignore"):
            half_square = _moment(p, q, lambda u: 2.0 * np.log(np.abs(u)) - math.log(2.0), "the bias of k2")
        bias = half_square - kl
    else:
        # k3 + u = r - 1, so the bias is E_p[r] - 1 = -(q's mass outside p's support): 0 when q lives on it
        bias = -mass_outside(q, p)
    mean = kl + bias
    var = _moment(p, q, lambda u: _log_centered_square(u, estimator, mean), f"the variance of {estimator}")
    return EstimatorMoments(estimator, kl, bias, math.sqrt(max(var, 0.0)))


def mc_kl_replicates(
    p: object,
    q: object,
    n: int,
    repeats: int,
    *,
    estimator: str = "k1",
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    r"""``repeats`` independent Monte Carlo estimates of :math:`D_{\mathrm{KL}}(p\,\|\,q)`, each from ``n`` samples.

    Estimate :math:`j` is :math:`\frac1n \sum_{i=1}^n k(r_{ij})` with all
    :math:`x_{ij} \sim p` independent (see :func:`mc_kl`). The spread of the
    returned values is the sampling distribution of the estimator at sample
    size ``n``: their mean minus the divergence estimates the bias, their
    standard deviation the estimator's standard deviation.

    Parameters
    ----------
    p, q, estimator, seed
        As in :func:`mc_kl`.
    n : int
        Samples per estimate, ``>= 2``.
    repeats : int
        Number of estimates, ``>= 2``.

    Returns
    -------
    numpy.ndarray, shape (repeats,)
    """
    n = check_sample_size(n)
    if isinstance(repeats, bool) or not isinstance(repeats, numbers.Integral) or int(repeats) < 2:
        raise ValueError(f"repeats must be an integer >= 2, got {repeats!r}")
    res = mc_kl(p, q, n * int(repeats), estimator=estimator, seed=seed)
    return res.samples.reshape(int(repeats), n).mean(axis=1)


def naive_kl_gradients(
    p: object,
    mean: float,
    std: float,
    n: int,
    *,
    seed: int | np.random.Generator | None = None,
) -> dict[str, MCResult]:
    r"""What differentiating a KL estimate with its samples held fixed gives, for :math:`D_{\mathrm{KL}}(q_\theta\,\|\,p)`.

    Take :math:`q_\theta = \mathcal{N}(\theta, \mathrm{std}^2)`, draw
    :math:`x \sim q_\theta`, form :math:`\log \tilde r = \log p(x) - \log q_\theta(x)` (the roles of
    p and q are swapped: the samples come from :math:`q_\theta`, so the ratio is written
    :math:`\tilde r` to keep :math:`r = q/p` for draws of p) and
    each per-sample estimator :math:`k_1, k_2, k_3` of the reverse divergence
    :math:`D_{\mathrm{KL}}(q_\theta\,\|\,p)`, then differentiate with respect to
    :math:`\theta` **treating x as a constant** (what automatic differentiation
    does when the sampling step is not reparameterised). With the score
    :math:`g = \partial_\theta \log q_\theta(x) = (x - \theta)/\mathrm{std}^2`:

    .. math::

       \partial_\theta k_1 &= g, \\
       \partial_\theta k_2 &= -\log \tilde r\, g, \\
       \partial_\theta k_3 &= -(\tilde r - 1)\, g .

    Their expectations under :math:`q_\theta` are, respectively, :math:`0`;
    :math:`\partial_\theta D_{\mathrm{KL}}(q_\theta\,\|\,p)` (the true gradient:
    :math:`-g\log \tilde r` is the score-function estimator); and
    :math:`\partial_\theta D_{\mathrm{KL}}(p\,\|\,q_\theta)`, the gradient of the
    *forward* divergence, since :math:`\mathbb E_{q_\theta}[\tilde r g] = \int p\, \partial_\theta \log q_\theta`.
    So the two estimators that are unbiased for the value give biased
    gradients, and the biased one gives the right gradient.

    The :math:`k_3` gradient has a finite variance only when
    :math:`\int p^2/q_\theta < \infty` (for a normal p of standard deviation
    :math:`\sigma_p`: :math:`\mathrm{std}^2 > \sigma_p^2/2`); otherwise its
    average converges very slowly and its standard error is unreliable.

    Parameters
    ----------
    p : distribution
        A univariate continuous distribution (frozen ``scipy.stats`` or
        :class:`klbook.Distribution`).
    mean, std : float
        :math:`\theta` and the fixed standard deviation of :math:`q_\theta`.
    n : int
        Number of samples, ``>= 2``.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    dict
        ``{"k1": MCResult, "k2": MCResult, "k3": MCResult}``: per-sample
        gradient values, their mean and its standard error.
    """
    if not is_distribution(p) or isinstance(p, multivariate_normal_frozen) or is_discrete(p):
        raise TypeError("p must be a univariate continuous distribution")
    check_distribution(p, "p")
    for name, v in (("mean", mean), ("std", std)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
            raise ValueError(f"{name} must be a finite number, got {v!r}")
    if float(std) <= 0:
        raise ValueError(f"std must be > 0, got {std!r}")
    n = check_sample_size(n)
    theta, sd = float(mean), float(std)
    x = rng_from_seed(seed).normal(theta, sd, size=n)
    with np.errstate(divide="ignore"):
        logr = _log_density(p, x).reshape(-1) - norm.logpdf(x, theta, sd)
    if np.any(~np.isfinite(logr)):
        raise ValueError("p gives zero density to a sample of q: D_KL(q || p) is infinite")
    score = (x - theta) / sd**2
    grads = {"k1": score, "k2": -logr * score, "k3": -np.expm1(logr) * score}
    out = {}
    for key, g in grads.items():
        g = np.ascontiguousarray(g, dtype=float)
        if not np.all(np.isfinite(g)):
            out[key] = MCResult(g, math.inf, math.inf)
        else:
            out[key] = MCResult(g, float(np.mean(g)), float(np.std(g, ddof=1) / math.sqrt(n)))
    return out


#: The named f-divergences of :func:`f_divergence_samples`: name -> (what E_p[f(r)] is, f'(1)).
F_DIVERGENCES: dict[str, tuple[str, float]] = {
    "kl": ("D_KL(p || q), f(r) = -log r", -1.0),
    "reverse_kl": ("D_KL(q || p), f(r) = r log r", 1.0),
    "chi2": ("chi^2(q || p) = E_p[(r - 1)^2], f(r) = (r - 1)^2", 0.0),
    "hellinger": ("H^2(p, q) = 1 - BC(p, q), f(r) = (sqrt(r) - 1)^2 / 2", 0.0),
}


def _named_f(log_r: np.ndarray, name: str, control_variate: bool) -> np.ndarray:
    """Per-sample f(r), or f(r) - f'(1)(r - 1), for a named f, from log r without cancellation."""
    u = log_r
    with np.errstate(over="ignore", invalid="ignore"):
        if name == "kl":
            return k3_from_log_ratio(u) if control_variate else -u
        if name == "reverse_kl":
            if control_variate:
                # r log r - (r - 1) = r * k3(-log r); r = 0 gives 1
                out = np.exp(u) * k3_from_log_ratio(-u)
                return np.where(np.isneginf(u), 1.0, out)
            return np.where(np.isneginf(u), 0.0, np.exp(u) * u)
        if name == "chi2":
            return np.expm1(u) ** 2
        return 0.5 * np.expm1(0.5 * u) ** 2


def f_divergence_samples(
    log_r: ArrayLike,
    f: str | Callable[[np.ndarray], np.ndarray] = "kl",
    *,
    f_prime_one: float | None = None,
    control_variate: bool = True,
) -> np.ndarray:
    r"""Per-sample estimates of an f-divergence :math:`\mathbb E_p[f(r)]`, :math:`r = q/p`, from :math:`\log r` at draws of p.

    Schulman's recipe: for convex f with :math:`f(1) = 0`,

    .. math::

       \hat f(r) = f(r) - f'(1)\,(r - 1)

    has the same mean as :math:`f(r)` under p, because :math:`\mathbb E_p[r - 1] = 0`
    when q puts no mass outside the support of p, and it is never negative,
    because a convex f lies above its tangent line at :math:`r = 1`. Named choices:

    ========================  =========================================  =====================================
    ``f``                     :math:`\mathbb E_p[f(r)]`                   :math:`\hat f(r)`
    ========================  =========================================  =====================================
    ``"kl"``                  :math:`D_{\mathrm{KL}}(p\,\|\,q)`            :math:`r - 1 - \log r` (:math:`k_3`)
    ``"reverse_kl"``          :math:`D_{\mathrm{KL}}(q\,\|\,p)`            :math:`r\log r - (r - 1)`
    ``"chi2"``                :math:`\chi^2(q\,\|\,p)`                     :math:`(r - 1)^2`
    ``"hellinger"``           :math:`H^2(p, q)`                            :math:`\tfrac12(\sqrt r - 1)^2`
    ========================  =========================================  =====================================

    (:math:`H^2(p, q) = 1 - \mathrm{BC}(p, q)` is the squared Hellinger distance.)
    The named forms are evaluated from :math:`\log r` without cancellation
    (:math:`r\log r - (r - 1) = r\,k_3(-\log r)`). So the same draws of p give
    both directions of KL: ``"kl"`` and ``"reverse_kl"``.

    Parameters
    ----------
    log_r : array_like
        :math:`\log r(x_i) = \log q(x_i) - \log p(x_i)` at draws :math:`x_i \sim p`;
        no NaN or ``+inf`` (``-inf``, where q vanishes, is allowed).
    f : str or callable
        A name from :data:`F_DIVERGENCES`, or a vectorised convex function of
        :math:`r` with :math:`f(1) = 0`.
    f_prime_one : float, optional
        :math:`f'(1)`; required when ``f`` is a callable and
        ``control_variate`` is true, ignored for a name.
    control_variate : bool
        ``False`` returns the plain :math:`f(r)` (for ``"kl"``: :math:`k_1`).

    Returns
    -------
    numpy.ndarray
        Same shape as ``log_r``.

    Raises
    ------
    ValueError
        Unknown name, NaN or ``+inf`` in ``log_r``, or a callable without ``f_prime_one``.
    TypeError
        ``f`` is neither a name nor callable.

    Examples
    --------
    >>> import numpy as np
    >>> u = np.log([0.5, 1.0, 2.0])
    >>> np.round(f_divergence_samples(u, "reverse_kl"), 6).tolist()   # r log r - (r - 1)
    [0.153426, 0.0, 0.386294]
    """
    u = np.asarray(log_r, dtype=float)
    if np.any(np.isnan(u)) or np.any(np.isposinf(u)):
        raise ValueError("log_r must not contain NaN or +inf")
    if isinstance(f, str):
        if f not in F_DIVERGENCES:
            raise ValueError(f"f must be one of {tuple(F_DIVERGENCES)} or a callable, got {f!r}")
        return _named_f(u, f, bool(control_variate))
    if not callable(f):
        raise TypeError(f"f must be a name from F_DIVERGENCES or a callable, got {type(f).__name__}")
    with np.errstate(over="ignore"):
        r = np.exp(u)
    out = np.asarray(f(r), dtype=float)
    if control_variate:
        if f_prime_one is None or isinstance(f_prime_one, bool) or not isinstance(f_prime_one, numbers.Real) \
                or not math.isfinite(float(f_prime_one)):
            raise ValueError("f_prime_one, the finite number f'(1), is needed for the control variate")
        out = out - float(f_prime_one) * (r - 1.0)
    return out


def mc_f_divergence(
    p: object,
    q: object,
    n: int,
    f: str | Callable[[np.ndarray], np.ndarray] = "reverse_kl",
    *,
    f_prime_one: float | None = None,
    control_variate: bool = True,
    seed: int | np.random.Generator | None = None,
) -> MCResult:
    r"""Monte Carlo estimate of the f-divergence :math:`\mathbb E_p[f(q/p)]` from ``n`` samples of ``p``.

    The per-sample values are :func:`f_divergence_samples` of
    :math:`\log r_i = \log q(x_i) - \log p(x_i)`, :math:`x_i \sim p`. The
    default, ``"reverse_kl"``, estimates :math:`D_{\mathrm{KL}}(q\,\|\,p)` from
    samples of p with :math:`r\log r - (r - 1)`. With the same ``seed``,
    :func:`mc_kl` draws the same points, so the two directions can be estimated
    from one sample.

    Parameters
    ----------
    p, q, n, seed
        As in :func:`mc_kl`.
    f, f_prime_one, control_variate
        As in :func:`f_divergence_samples`.

    Returns
    -------
    MCResult
        Per-sample values, their mean and its standard error (``inf`` if a
        value is infinite).

    Examples
    --------
    >>> from scipy.stats import norm
    >>> import math
    >>> exact = math.log(1 / 1.2) + (1.2**2 + 1.0) / 2 - 0.5    # KL(N(1, 1.2^2) || N(0, 1))
    >>> res = mc_f_divergence(norm(0, 1), norm(1, 1.2), 100_000, "reverse_kl", seed=0)
    >>> abs(res.value - exact) < 4 * res.stderr
    True
    """
    n = check_sample_size(n)
    rng = rng_from_seed(seed)
    if isinstance(f, str) and f not in F_DIVERGENCES:
        raise ValueError(f"f must be one of {tuple(F_DIVERGENCES)} or a callable, got {f!r}")
    logr = _sample_log_ratio(p, q, n, rng)
    samples = np.ascontiguousarray(
        f_divergence_samples(logr, f, f_prime_one=f_prime_one, control_variate=control_variate), dtype=float
    )
    return _result(samples)
