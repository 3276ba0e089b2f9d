r"""KL divergence from samples alone: k-nearest-neighbour estimators with a confidence interval.

Given draws :math:`x_1, \dots, x_n \sim p` and :math:`y_1, \dots, y_m \sim q` in
:math:`\mathbb R^d` and nothing else, :func:`kl_from_samples` estimates
:math:`D_{\mathrm{KL}}(p \Vert q)` from nearest-neighbour distances.

The idea (Wang, Kulkarni and Verdú 2009; Pérez-Cruz 2008): around :math:`x_i`, the ball
that holds its :math:`k` nearest neighbours among the other :math:`x`'s has probability about
:math:`k/(n-1)` under :math:`p`, so :math:`p(x_i) \approx k / \bigl((n-1)\, V_d\, \rho_k(i)^d\bigr)`;
the same with the :math:`y`'s gives :math:`q(x_i) \approx k / (m\, V_d\, \nu_k(i)^d)`. The ball
volumes :math:`V_d` cancel in the log-ratio, and averaging over :math:`i` gives

.. math::

    \widehat D = \frac{d}{n}\sum_{i=1}^{n} \log\frac{\nu_k(i)}{\rho_k(i)} + \log\frac{m}{n-1}.

With different neighbour counts :math:`l_i` (among the :math:`x`'s) and :math:`k_i` (among the
:math:`y`'s), the exact expectations of the log-counts add :math:`\psi(l_i) - \psi(k_i)`
(:math:`\psi` the digamma function). The estimate is consistent as :math:`n, m \to \infty` with
:math:`k` fixed, but for finite samples its bias grows quickly with the dimension: the densities
are not constant over the neighbour balls.

This module adds, each justified in chapter 7 of the book:

* **scaling**: both samples are whitened by the pooled covariance (KL is invariant under an
  invertible affine map applied to both, the Euclidean balls are not);
* optionally (``method="adaptive"``) **adaptive radii** (WKV 2009): around each :math:`x_i` one
  radius :math:`\varepsilon_i = \max(\rho_k(i), \nu_k(i))` for both samples, and the counts
  :math:`l_i, k_i` inside it, so that both densities are averaged over the same ball;
* **Gaussian-reference bias correction**: the estimator is run on Gaussian samples of the same
  sizes, means and covariances, whose log-ratio is known in closed form; the mean difference
  between its per-point terms and that exact log-ratio is the estimator's bias on the reference,
  which is subtracted (less the part due to the fitting noise of the reference's parameters, and
  shrunk towards zero when it is not clearly larger than its own noise);
* **ties**: duplicated points (rounded data) make distances zero and logarithms infinite; they
  are broken by a uniform dither of the rounding step;
* a **confidence interval** from the per-point terms, the uncertainty of the correction, and a
  share of the correction as model uncertainty;
* **speed**: one neighbour search per sample for the estimate (exhaustive float32 search from
  :math:`d = 7`, a k-d tree below), and reference runs held to a budget of searches.

Heavy-tailed :math:`p` against light-tailed :math:`q` defeats every nonparametric estimator:
the divergence is dominated by points far out where :math:`\log(p/q)` is large, and the
:math:`y`'s never go there. A tail diagnostic (Hill estimates of the tail index of the
distances from the centre) flags that case; the interval's upper end is then ``inf``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree
from scipy.linalg import solve_triangular
from scipy.special import digamma, ndtri

__all__ = ["SampleKL", "kl_from_samples", "knn_kl", "histogram_kl"]

#: A tail index (Hill) below this marks a genuinely heavy, polynomial tail. Light tails have no finite
#: index, and Hill's estimate for them grows with n; at 8 it flagged Laplace samples of scale 1
#: against scale 1.4 in d = 5 (n = 1000) as heavy, which they are not.
HEAVY_TAIL_INDEX = 5.0
#: Share of the Gaussian-reference correction counted as model uncertainty in the interval.
CORRECTION_UNCERTAINTY = 0.25
#: Budget of the Gaussian reference runs, in query points at d = 0; a point's neighbour search costs
#: about 2 ** (d / 1.5) as much in dimension d (k-d tree, measured for d = 1..10), so the budget is
#: REFERENCE_BUDGET / 2 ** (d / 1.5) points: 8 full runs for n = 1e4 in d <= 3, one run on about
#: 3500 of the n points in d = 10, which keeps the references below the cost of the data's own search.
REFERENCE_BUDGET = 360_000
#: At most this many reference runs, and no fewer query points than this in total.
REFERENCE_MAX_RUNS = 8
REFERENCE_MIN_QUERY = 1000
#: ... and no more than this many in total: 60 000 (6 runs at n = 1e4 in d <= 3, where k = 20 makes
#: each search dearer than the model says), 4 000 from d = 7 on (a point costs 20-30 us there,
#: tree or exhaustive search, not the 2 ** (d / 1.5) growth of lower dimensions). Keeps a call at
#: n = m = 1e4 near the cost of two plain k-NN searches in every d <= 10.
REFERENCE_MAX_POINTS = 60_000
REFERENCE_MAX_POINTS_HIGH_D = 4_000
#: Factor on the naive standard error of a reference run's mean k-NN error: terms that share
#: neighbours are positively correlated (measured 1.3 to 2.1 over d = 2..10, n = 1e3..1e4).
REFERENCE_SE_INFLATION = 1.7
#: Parametric-bootstrap draws of the Gaussian fit (exact sampling laws of the mean and covariance).
FIT_DRAWS = 64
#: Share of the fitted pair's KL inflation subtracted from the correction: the k-NN estimate sees an
#: unknown share of it, between none and all (see kl_from_samples); the midpoint, and the half-range
#: counted as uncertainty.
FIT_INFLATION_SHARE = 0.5


@dataclass(frozen=True)
class SampleKL:
    r"""The result of :func:`kl_from_samples` (nats).

    Attributes
    ----------
    value : float
        The estimate of :math:`D_{\mathrm{KL}}(p \Vert q)`.
    ci : tuple of float
        ``(low, high)``, a confidence interval at level ``level``; ``high`` is ``inf`` when the
        tail diagnostic finds :math:`p` heavier-tailed than :math:`q`.
    level : float
        The interval's nominal coverage.
    stderr : float
        The standard error used for the interval (sampling noise and correction uncertainty).
    raw : float
        The k-NN estimate before the bias correction.
    correction : float
        The bias correction added to ``raw`` (0 without one).
    heavy_tail : bool
        True when the tail diagnostic fired (see :func:`kl_from_samples`).
    k, n, m, d : int
        The neighbour index and the sample sizes and dimension.
    method : str
        ``"adaptive"`` or ``"fixed"``.
    details : dict
        Intermediate numbers: ``tied_points`` (points dithered), ``tail_index_x`` and
        ``tail_index_y`` (Hill), and with the correction ``gaussian_kl`` (the fitted pair's KL),
        ``reference_bias`` (the correction before the fit-inflation term and the shrinkage),
        ``fit_inflation``, ``fit_sd``, ``reference_runs``, ``reference_points`` (terms evaluated
        per run) and ``shrink``.
    """

    value: float
    ci: tuple[float, float]
    level: float
    stderr: float
    raw: float
    correction: float
    heavy_tail: bool
    k: int
    n: int
    m: int
    d: int
    method: str
    details: dict = field(default_factory=dict)


def _as_sample(a: ArrayLike, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers, got {type(a).__name__}") from exc
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n,) or (n, d), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def _leafsize(d: int) -> int:
    """k-d tree leaf size: small leaves prune well in low dimension, big ones cut the overhead in high.

    Measured at n = m = 1e4 (CPU time of one k = 10 query): in d = 10 leaves of 64 are about 1.6x
    faster than scipy's default 16; in d <= 3, 16 is best.
    """
    return 16 if d <= 3 else (32 if d <= 6 else 64)


def _use_brute_force(d: int, size: int) -> bool:
    """Exhaustive search beats the k-d tree from d = 7 on for moderate sample sizes.

    A tree query costs about 50 us per point in d = 10 (n = 1e4) and about 2 ** (d / 1.5) times less
    in lower d; the exhaustive search about 3 ns per pair of points (one float32 matrix product
    and a partial sort), whatever d and k are.
    """
    return d >= 7 and size <= 16_000 * 2.0 ** ((d - 10) / 1.5)


def _brute_knn(points: np.ndarray, pts: np.ndarray, k: int) -> np.ndarray:
    r"""Distances from each of ``pts`` to its k nearest ``points``, sorted, by exhaustive search.

    Squared distances are :math:`\lVert a\rVert^2 + \lVert b\rVert^2 - 2a\cdot b` in float32 (one matrix
    product per block of rows); their relative error is about 1e-7 (|a|^2 + |b|^2) / dist^2, below
    1e-5 on whitened samples in d >= 7, far below the estimator's statistical error.
    """
    a32, b32 = pts.astype(np.float32), points.astype(np.float32)
    an = np.einsum("ij,ij->i", a32, a32)
    bn = np.einsum("ij,ij->i", b32, b32)
    a32 *= -2.0
    out = np.empty((pts.shape[0], k))
    step = max(16, 2_000_000 // max(1, points.shape[0]))
    for s in range(0, pts.shape[0], step):
        g = a32[s : s + step] @ b32.T  # -2 a.b
        g += bn
        if k < g.shape[1]:
            g.partition(k - 1, axis=1)  # in place: the k smallest first, in some order
        out[s : s + step] = np.sort(g[:, :k], axis=1) + an[s : s + step, None]
    return np.sqrt(np.maximum(out, 0.0))


def _knn_distances(points: np.ndarray, pts: np.ndarray, k: int, skip_self: bool, workers: int) -> np.ndarray:
    """Distances from each of ``pts`` to its 1st..k-th neighbours among ``points`` (itself skipped when ``skip_self``)."""
    kk = k + 1 if skip_self else k
    d = points.shape[1]
    if _use_brute_force(d, points.shape[0]):
        dist = _brute_knn(points, pts, kk)
    else:
        dist, _ = cKDTree(points, leafsize=_leafsize(d)).query(pts, k=kk, workers=workers)
        dist = dist.reshape(pts.shape[0], -1)
    return dist[:, 1:] if skip_self else dist


def _terms(
    x: np.ndarray,
    y: np.ndarray,
    k: int,
    method: str,
    workers: int,
    query: np.ndarray | None = None,
) -> np.ndarray:
    r"""Per-point terms :math:`t_i` of the k-NN estimate (their mean is the estimate).

    ``query`` (default: all) selects the indices of ``x`` at which the terms are evaluated; the
    neighbours are always searched in the whole of ``x`` and ``y``.
    """
    n, d = x.shape
    m = y.shape[0]
    pts = x if query is None else x[query]
    kmax = min(2 * k, n - 1, m) if method == "adaptive" else k
    rho = _knn_distances(x, pts, kmax, True, workers)
    nu = _knn_distances(y, pts, kmax, False, workers)
    const = math.log(m / (n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "fixed":
            return d * (np.log(nu[:, k - 1]) - np.log(rho[:, k - 1])) + const
        # adaptive radii: one ball of radius eps_i = max(rho_k, nu_k) for both samples, with the
        # counts inside it (capped at the 2k neighbours queried)
        eps = np.maximum(rho[:, k - 1], nu[:, k - 1])
        li = np.sum(rho <= eps[:, None], axis=1)
        ki = np.sum(nu <= eps[:, None], axis=1)
        rows = np.arange(pts.shape[0])
        return (
            d * (np.log(nu[rows, ki - 1]) - np.log(rho[rows, li - 1]))
            + digamma(li)
            - digamma(ki)
            + const
        )


def _estimate(x: np.ndarray, y: np.ndarray, k: int, method: str, workers: int) -> tuple[float, np.ndarray]:
    """The k-NN estimate and its per-point terms."""
    terms = _terms(x, y, k, method, workers)
    return float(np.mean(terms)), terms


def _gaussian_kl(m1: np.ndarray, l1: np.ndarray, m2: np.ndarray, l2: np.ndarray) -> float:
    r"""Closed-form :math:`D_{\mathrm{KL}}(\mathcal N(m_1, L_1L_1^\top) \Vert \mathcal N(m_2, L_2L_2^\top))` from Cholesky factors."""
    d = m1.size
    a = solve_triangular(l2, l1, lower=True)
    v = solve_triangular(l2, m2 - m1, lower=True)
    logdet = 2.0 * (np.sum(np.log(np.diag(l2))) - np.sum(np.log(np.abs(np.diag(l1)))))
    return float(0.5 * (np.sum(a * a) + v @ v - d + logdet))


def _refitted_kls(
    mx: np.ndarray, lx: np.ndarray, my: np.ndarray, ly: np.ndarray, n: int, m: int, rng: np.random.Generator, draws: int
) -> np.ndarray:
    r"""KL of Gaussian pairs re-fitted to ``draws`` simulated samples of sizes n and m (parametric bootstrap).

    Uses the exact sampling laws of a Gaussian sample's mean, :math:`\mathcal N(\mu, \Sigma/n)`, and
    covariance, :math:`\Sigma^{1/2} W \Sigma^{1/2\top}/(n-1)` with :math:`W` Wishart with :math:`n - 1`
    degrees of freedom (Bartlett's decomposition :math:`W = AA^\top`, :math:`A` lower triangular with
    :math:`A_{ii}^2 \sim \chi^2_{n-1-i}` and standard normal entries below): no sample is drawn.
    """
    d = mx.size
    out = np.empty(draws)
    tril = np.tril_indices(d, -1)
    for b in range(draws):
        factors = []
        for mu, chol, size in ((mx, lx, n), (my, ly, m)):
            a = np.zeros((d, d))
            a[np.diag_indices(d)] = np.sqrt(rng.chisquare(size - 1 - np.arange(d)))
            a[tril] = rng.standard_normal(tril[0].size)
            factors.append((mu + chol @ rng.standard_normal(d) / math.sqrt(size), chol @ a / math.sqrt(size - 1)))
        (m1, l1), (m2, l2) = factors
        out[b] = _gaussian_kl(m1, l1, m2, l2)
    return out


def _dither_ties(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Break exact duplicates by a uniform dither of each coordinate's rounding step.

    Rounded data (counts, values recorded to 0.1, ...) have many identical points; k-NN
    distances of zero make :math:`\\log\\rho = -\\infty`. Treating the recorded value as the
    centre of its rounding cell, add :math:`U(-\\delta_j/2, \\delta_j/2)` to coordinate ``j``,
    where :math:`\\delta_j` is the smallest positive gap between distinct values of that
    coordinate in the pooled sample. Only done when a duplicate exists.
    """
    pooled = np.vstack([x, y])
    _, counts = np.unique(pooled, axis=0, return_counts=True)
    n_dup = int(np.sum(counts[counts > 1]))
    if n_dup == 0:
        return x, y, 0
    steps = np.empty(pooled.shape[1])
    for j in range(pooled.shape[1]):
        vals = np.unique(pooled[:, j])
        gaps = np.diff(vals)
        steps[j] = gaps.min() if gaps.size else 0.0
    if np.any(steps <= 0):
        bad = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(f"coordinate {bad} takes a single value in x and y: no density, KL from samples is undefined")
    x = x + rng.uniform(-0.5, 0.5, size=x.shape) * steps
    y = y + rng.uniform(-0.5, 0.5, size=y.shape) * steps
    return x, y, n_dup


def _se_inflation(n: int, m: int, d: int) -> float:
    r"""Factor from the per-point standard error :math:`\operatorname{sd}(t_i)/\sqrt n` to the estimate's.

    :math:`\sqrt{1 + n/m}` for the randomness of the :math:`y`'s, which the per-point terms only
    partly show, times :math:`1 + d/20` for the positive correlation of terms that share
    neighbours (it grows with the dimension). Calibrated on Gaussian and Laplace pairs in
    :math:`d = 1, \dots, 10` (benchmarks/bench_sample_kl.py reports the resulting coverage).
    """
    return math.sqrt(1.0 + n / m) * (1.0 + d / 20.0)


def _hill(r: np.ndarray, frac: float = 0.05) -> float:
    """Hill's estimate of the tail index of positive values ``r`` from their top ``frac``."""
    r = np.sort(r)[::-1]
    kk = max(10, int(frac * r.size))
    kk = min(kk, r.size - 1)
    top = np.log(r[:kk]) - math.log(r[kk])
    mean = float(np.mean(top))
    return math.inf if mean <= 0 else 1.0 / mean


def knn_kl(x: ArrayLike, y: ArrayLike, k: int = 5, *, workers: int = 1) -> float:
    r"""The plain Wang-Kulkarni-Verdú / Pérez-Cruz k-NN estimate, with no scaling or correction.

    .. math::

        \widehat D = \frac{d}{n}\sum_{i=1}^{n}\log\frac{\nu_k(i)}{\rho_k(i)} + \log\frac{m}{n-1},

    :math:`\rho_k(i)` the distance from :math:`x_i` to its :math:`k`-th nearest neighbour among the
    other :math:`x`'s, :math:`\nu_k(i)` to its :math:`k`-th nearest among the :math:`y`'s. For
    comparison and teaching; :func:`kl_from_samples` is the estimator to use.

    Raises
    ------
    ValueError
        Mismatched dimensions, too few points for ``k``, NaN or inf, or duplicated points
        (a zero distance).
    """
    xa, ya = _as_sample(x, "x"), _as_sample(y, "y")
    k = _check_k(k, xa, ya)
    with np.errstate(divide="ignore", invalid="ignore"):
        value, terms = _estimate(xa, ya, k, "fixed", workers)
    if not np.all(np.isfinite(terms)):
        raise ValueError("duplicated points give zero k-NN distances; use kl_from_samples, which breaks ties")
    return value


def histogram_kl(x: ArrayLike, y: ArrayLike, bins: int | ArrayLike = 20) -> float:
    r"""The plug-in histogram estimate in one dimension: KL between the two binned frequency vectors.

    .. math::

        \widehat D = \sum_j \hat p_j \log\frac{\hat p_j}{\hat q_j},
        \qquad \hat p_j = \frac{\#\{i : x_i \in B_j\}}{n},\quad \hat q_j = \frac{\#\{i : y_i \in B_j\}}{m},

    over common bins :math:`B_j` (``bins`` equal-width bins spanning both samples, or the given
    edges). It estimates the KL of the *binned* distributions, which is below the true KL (data
    processing) for coarse bins, while for fine bins a bin with :math:`x`'s but no :math:`y` makes it
    ``inf``. Shown in chapter 7 for what goes wrong; use :func:`kl_from_samples`.

    Raises
    ------
    ValueError
        Samples that are not one-dimensional, NaN or inf, or fewer than one bin.
    """
    xa, ya = _as_sample(x, "x"), _as_sample(y, "y")
    if xa.shape[1] != 1 or ya.shape[1] != 1:
        raise ValueError("histogram_kl is for one-dimensional samples")
    xa, ya = xa[:, 0], ya[:, 0]
    if np.ndim(bins) == 0:
        if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 1:
            raise ValueError(f"bins must be an int >= 1 or an array of edges, got {bins!r}")
        lo, hi = min(xa.min(), ya.min()), max(xa.max(), ya.max())
        edges = np.linspace(lo, hi, int(bins) + 1)
    else:
        edges = np.asarray(bins, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bins given as edges must be an increasing 1-D array of at least 2 values")
    cp = np.histogram(xa, edges)[0].astype(float)
    cq = np.histogram(ya, edges)[0].astype(float)
    ph, qh = cp / xa.size, cq / ya.size
    if np.any((ph > 0) & (qh == 0)):
        return math.inf
    mask = ph > 0
    return float(max(math.fsum((ph[mask] * (np.log(ph[mask]) - np.log(qh[mask]))).tolist()), 0.0))


def _check_k(k: object, x: np.ndarray, y: np.ndarray) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got d = {x.shape[1]} and d = {y.shape[1]}")
    if x.shape[0] < k + 1:
        raise ValueError(f"x needs at least k + 1 = {k + 1} points, got n = {x.shape[0]}")
    if y.shape[0] < k:
        raise ValueError(f"y needs at least k = {k} points, got m = {y.shape[0]}")
    return int(k)


def kl_from_samples(
    x: ArrayLike,
    y: ArrayLike,
    *,
    k: int | None = None,
    method: str = "fixed",
    bias_correction: bool = True,
    n_reference: int | None = None,
    level: float = 0.9,
    scale: bool = True,
    random_state: int | np.random.Generator | None = 0,
    workers: int = 1,
) -> SampleKL:
    r"""Estimate :math:`D_{\mathrm{KL}}(p \Vert q)` from samples ``x`` of :math:`p` and ``y`` of :math:`q`.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        Draws from :math:`p`.
    y : array_like, shape (m,) or (m, d)
        Draws from :math:`q`.
    k : int or None
        Neighbour index. Default: 20 in :math:`d \le 3`, 10 above (lowered to ``n - 1`` or ``m``
        for tiny samples). Larger ``k`` lowers the variance and raises the bias; the bias grows
        like :math:`(k/n)^{2/d}`, small in low dimension, and the correction removes most of it,
        which is why the default is larger than the customary 1 to 5.
    method : {"fixed", "adaptive"}
        ``"fixed"`` (default): the :math:`k`-th neighbour in both samples (Wang, Kulkarni and
        Verdú 2009; Pérez-Cruz 2008). ``"adaptive"``: one radius
        :math:`\varepsilon_i = \max(\rho_k(i), \nu_k(i))` per point for both samples, with
        neighbour counts :math:`l_i, k_i` and their digamma terms (the same paper); it queries
        :math:`2k` neighbours, so it is slower.
    bias_correction : bool
        Subtract the estimator's bias measured on a Gaussian reference pair (default True): Gaussian
        samples of the same sizes, means and covariances as ``x`` and ``y``, on which the per-point
        terms :math:`t_i` are compared with the reference's exact log-ratio :math:`\ell_G(x_i)`; the
        mean of :math:`t_i - \ell_G(x_i)` is the estimator's bias there (see Notes). Exact in
        expectation for Gaussian pairs; for other shapes it removes the part of the bias that
        comes from the global shape (dimension, scales, sample sizes), which dominates for
        :math:`d \gtrsim 4`. It cannot see bias from structure a Gaussian lacks (modes closer
        than the neighbour balls are wide).
    n_reference : int or None
        Number of Gaussian reference pairs. Default ``None``: as many as a fixed budget of
        neighbour searches allows (8 in low dimension, 1 on part of the points in :math:`d = 10`
        with :math:`n = 10^4`), so the correction costs less than the estimate itself.
    level : float
        Coverage of the interval, in (0, 1); default 0.9.
    scale : bool
        Whiten both samples by the pooled covariance first (default). KL is unchanged by an
        invertible affine map of both samples; Euclidean neighbour balls are not, and without
        this a coordinate measured in large units dominates every distance.
    random_state : int, numpy.random.Generator or None
        Seed for the reference samples and the tie dither (default 0: deterministic).
    workers : int
        Threads for the k-d tree queries (``scipy.spatial.cKDTree.query``). From :math:`d = 7` on
        (moderate sizes) the neighbours are found by exhaustive search instead, a float32 matrix
        product and a partial sort, which is faster there than the tree.

    Returns
    -------
    SampleKL
        ``value``, ``ci`` and the intermediate numbers.

    Raises
    ------
    ValueError
        Mismatched dimensions, fewer than ``k + 1`` points in ``x`` or ``k`` in ``y``, NaN or inf
        in a sample, a bad ``level``, ``k`` or ``method``, or a coordinate that is constant over
        both samples.

    Notes
    -----
    **The correction.** On the reference pair the exact log-ratio :math:`\ell_G` is known, so the
    k-NN error of each term, :math:`e_i = t_i - \ell_G(x_i)`, is observed; its mean :math:`\bar e`
    estimates the bias without the sampling noise of :math:`\ell_G` itself (a control variate), so
    the terms are evaluated on only part of the reference points. The reference's parameters are
    the fitted ones, and fitting noise makes the fitted pair's KL larger than the truth's by
    :math:`\delta` on average; a parametric bootstrap of the fit (exact laws of a Gaussian sample's
    mean and covariance, no sample drawn) gives :math:`\delta` and the spread :math:`s_{\mathrm{fit}}`
    of the fitted KL. How much of :math:`\delta` the k-NN estimate sees lies between none and all
    of it, so the raw correction is :math:`c = -\bar e - \delta/2`, with uncertainty
    :math:`s^2 = s_{\mathrm{ref}}^2 + s_{\mathrm{fit}}^2 + (\delta/2)^2`, :math:`s_{\mathrm{ref}}` the
    standard error of :math:`\bar e` (naive, times 1.7 for terms that share neighbours). The
    correction applied is :math:`c \cdot c^2/(c^2 + s^2)`: one that is mostly noise is mostly
    dropped.

    **The interval.** The estimate is a mean of per-point terms :math:`t_i`; its sampling standard
    error is taken as :math:`\operatorname{sd}(t_i)/\sqrt n` times :math:`\sqrt{1 + n/m}\,(1 + d/20)`
    (the :math:`y`'s randomness and the correlation of terms that share neighbours), combined
    with the uncertainty of the correction and :math:`0.25\,|c|` for the doubt that the Gaussian
    reference has the same bias as the data. The interval is the estimate plus or minus the
    normal quantile times that, its lower end clipped at 0.

    **Ties.** Exact duplicates (rounded data) make a distance zero and a logarithm infinite. They
    are broken by adding to each coordinate a uniform dither of its rounding step (the smallest
    gap between its distinct values), reproducibly from ``random_state``.

    **The heavy-tail limit.** If :math:`p` has heavier tails than :math:`q` (a Student t against a
    Gaussian, say), :math:`D_{\mathrm{KL}}(p\Vert q)` is dominated by rare points far out, where
    :math:`\log(p/q)` is large and no :math:`y` ever lands: every nonparametric estimator, this one
    included, then under-estimates, and no sample size fixes that in practice. The function
    estimates the tail index of the whitened distances from the centre of both samples (Hill's
    estimator on the top 5 %); when :math:`p`'s is clearly smaller (heavier tail) than
    :math:`q`'s (below 0.6 times it, and below 5, a polynomial tail), ``heavy_tail`` is True, the interval's upper end is ``inf`` and a
    ``RuntimeWarning`` says so; the Gaussian-reference correction is then skipped (a reference
    with a variance says nothing about a sample without one).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(0.0, 1.0, size=(2000, 2))
    >>> y = rng.normal(0.5, 1.0, size=(2000, 2))
    >>> r = kl_from_samples(x, y)        # the exact value is 0.25
    >>> bool(r.ci[0] < 0.25 < r.ci[1])
    True
    """
    xa, ya = _as_sample(x, "x"), _as_sample(y, "y")
    if k is None:  # the default, lowered for tiny samples
        k = max(1, min(20 if xa.shape[1] <= 3 else 10, xa.shape[0] - 1, ya.shape[0]))
    k = _check_k(k, xa, ya)
    if method not in ("adaptive", "fixed"):
        raise ValueError(f"method must be 'adaptive' or 'fixed', got {method!r}")
    if not (isinstance(level, numbers.Real) and 0.0 < float(level) < 1.0):
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    if n_reference is not None and (
        isinstance(n_reference, bool) or not isinstance(n_reference, numbers.Integral) or n_reference < 1
    ):
        raise ValueError(f"n_reference must be an int >= 1, got {n_reference!r}")
    if isinstance(random_state, np.random.RandomState):
        raise TypeError("random_state must be an int, a numpy.random.Generator or None (not RandomState)")
    rng = np.random.default_rng(random_state)
    n, d = xa.shape
    m = ya.shape[0]

    xa, ya, n_tied = _dither_ties(xa, ya, rng)
    pooled = np.vstack([xa, ya])
    centre = pooled.mean(axis=0)
    cov = np.atleast_2d(np.cov(pooled.T))
    sd = np.sqrt(np.diag(cov))
    if np.any(sd <= 0):
        bad = int(np.flatnonzero(sd <= 0)[0])
        raise ValueError(f"coordinate {bad} takes a single value in x and y: no density, KL from samples is undefined")
    if scale:
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ValueError("the pooled sample is degenerate (its covariance is singular): it lies in a subspace") from None
        xa = solve_triangular(chol, (xa - centre).T, lower=True).T
        ya = solve_triangular(chol, (ya - centre).T, lower=True).T
        # heavy-tail diagnostic on the whitened radii (always on the pooled-whitened scale)
        rx, ry = np.linalg.norm(xa, axis=1), np.linalg.norm(ya, axis=1)
    else:
        rx = np.linalg.norm((xa - centre) / sd, axis=1)
        ry = np.linalg.norm((ya - centre) / sd, axis=1)

    raw, terms = _estimate(xa, ya, k, method, workers)
    inflate = _se_inflation(n, m, d)
    se_sampling = inflate * float(np.std(terms, ddof=1) / math.sqrt(n))
    details: dict = {"tied_points": n_tied}

    ax, ay = _hill(rx), _hill(ry)
    details.update(tail_index_x=ax, tail_index_y=ay)
    heavy = bool(ax < 0.6 * ay and ax < HEAVY_TAIL_INDEX)
    if heavy:
        warnings.warn(
            f"x looks heavier-tailed than y (tail indices {ax:.2g} vs {ay:.2g}): KL(p || q) is dominated by "
            "regions no y reaches, and the estimate is likely too low; the interval's upper end is inf",
            RuntimeWarning,
            stacklevel=2,
        )
    correction, se_corr = 0.0, 0.0
    if bias_correction and not heavy:  # a Gaussian reference means nothing without tails like it
        mx, my = xa.mean(axis=0), ya.mean(axis=0)
        try:
            lx = np.linalg.cholesky(np.atleast_2d(np.cov(xa.T)))
            ly = np.linalg.cholesky(np.atleast_2d(np.cov(ya.T)))
        except np.linalg.LinAlgError:
            raise ValueError("x or y is degenerate (its covariance is singular): it lies in a subspace") from None
        d_gauss = _gaussian_kl(mx, lx, my, ly)
        # the reference pair is the fitted one; fitting noise makes its KL larger than the truth's
        # by about `inflation`, which the k-NN estimate does not see (parametric bootstrap)
        refits = _refitted_kls(mx, lx, my, ly, n, m, rng, FIT_DRAWS)
        inflation = float(np.mean(refits)) - d_gauss
        fit_sd = float(np.std(refits, ddof=1))
        cap = REFERENCE_MAX_POINTS_HIGH_D if d >= 7 else REFERENCE_MAX_POINTS
        budget = max(REFERENCE_MIN_QUERY, min(cap, int(REFERENCE_BUDGET / 2.0 ** (d / 1.5))))
        runs = int(n_reference) if n_reference is not None else max(1, min(REFERENCE_MAX_RUNS, budget // n))
        n_query = min(n, max(REFERENCE_MIN_QUERY // runs, budget // runs))
        half_logdet = float(np.sum(np.log(np.diag(ly))) - np.sum(np.log(np.diag(lx))))
        biases, bias_vars = [], []
        for _ in range(runs):
            zx = rng.standard_normal((n, d))
            xs = mx + zx @ lx.T
            ys = my + rng.standard_normal((m, d)) @ ly.T
            t = _terms(xs, ys, k, method, workers, query=np.arange(n_query))
            # the reference's exact log-ratio at the same points: a control variate that removes
            # the sampling noise of log(p/q) itself and leaves the k-NN error
            w = solve_triangular(ly, (xs[:n_query] - my).T, lower=True)
            ell = 0.5 * (np.sum(w * w, axis=0) - np.sum(zx[:n_query] ** 2, axis=1)) + half_logdet
            e = t - ell
            biases.append(float(np.mean(e)))
            bias_vars.append(float(np.var(e, ddof=1)) / n_query)
        c = -float(np.mean(biases)) - FIT_INFLATION_SHARE * inflation
        s2 = REFERENCE_SE_INFLATION**2 * float(np.mean(bias_vars)) / runs + fit_sd**2 + (0.5 * inflation) ** 2
        shrink = c * c / (c * c + s2) if c != 0.0 else 0.0
        correction = shrink * c
        se_corr = math.sqrt(s2) * shrink
        details.update(
            gaussian_kl=d_gauss,
            reference_bias=-float(np.mean(biases)),
            fit_inflation=inflation,
            fit_sd=fit_sd,
            reference_runs=runs,
            reference_points=n_query,
            shrink=shrink,
        )

    value = raw + correction
    stderr = math.sqrt(se_sampling**2 + se_corr**2 + (CORRECTION_UNCERTAINTY * correction) ** 2)
    z = float(ndtri(0.5 + 0.5 * float(level)))
    low, high = max(value - z * stderr, 0.0), max(value + z * stderr, 0.0)
    if heavy:
        high = math.inf

    return SampleKL(
        value=float(max(value, 0.0)),
        ci=(float(low), float(high)),
        level=float(level),
        stderr=float(stderr),
        raw=float(raw),
        correction=float(correction),
        heavy_tail=heavy,
        k=k,
        n=n,
        m=m,
        d=d,
        method=method,
        details=details,
    )
