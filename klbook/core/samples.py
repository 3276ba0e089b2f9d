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

    \widehat D_k = \frac{d}{n}\sum_{i=1}^{n} \log\frac{\nu_k(i)}{\rho_k(i)} + \log\frac{m}{n-1}.

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
* **reference bias correction**: the estimator is run on samples drawn from models fitted to
  ``x`` and ``y`` (Gaussians of the same means and covariances, or, where BIC prefers it, a
  two-component Gaussian mixture with a shared covariance), whose log-ratio is known exactly; the
  mean difference between its per-point terms and that exact log-ratio is the estimator's bias
  on the reference, which is subtracted (less the part due to the fitting noise of the
  reference's parameters, and shrunk towards zero when it is not clearly larger than its own
  noise);
* a **within-mode metric**: when ``x``'s model has two modes, distances are measured after
  whitening by its within-mode covariance instead of the pooled one, which would squeeze the
  axis joining the modes and make the modes narrow next to the neighbour balls;
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
from typing import Callable, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree
from scipy.linalg import solve_triangular
from scipy.special import digamma, ndtri

from .mixtures import GaussianMixture, mixture_kl

__all__ = ["SampleKL", "kl_from_samples", "knn_kl", "histogram_kl", "KnownKLPair", "known_kl_pairs", "mae_ratio"]

#: A tail index (Hill) below this marks a genuinely heavy, polynomial tail. Light tails have no finite
#: index, and Hill's estimate for them grows with n; at 8 it flagged Laplace samples of scale 1
#: against scale 1.4 in d = 5 (n = 1000) as heavy, which they are not.
HEAVY_TAIL_INDEX = 5.0
#: Share of the Gaussian-reference correction counted as model uncertainty in the interval.
CORRECTION_UNCERTAINTY = 0.25
#: Budget of the reference runs, in query points at d = 0; a point's neighbour search costs
#: about 2 ** (d / 1.5) as much in dimension d (k-d tree, measured for d = 1..10), so the budget is
#: REFERENCE_BUDGET / 2 ** (d / 1.5) points (capped below): at n = 1e4, 6 full runs in d <= 3, 2 in
#: d = 5 and 1 in d = 6 (with 360 000, 2 runs there took a call at n = m = 1e4 to 1.1-1.3 s CPU);
#: from d = 7 the exhaustive search has its own budget (REFERENCE_MAX_PAIRS_HIGH_D).
REFERENCE_BUDGET = 300_000
#: At most this many reference runs, and no fewer query points than this in total.
REFERENCE_MAX_RUNS = 8
REFERENCE_MIN_QUERY = 1000
#: ... and no more than this many in total: 60 000 (6 runs at n = 1e4 in d <= 3, where k = 20 makes
#: each search dearer than the model says), 4 000 from d = 7 on (a point costs 20-30 us there,
#: tree or exhaustive search, not the 2 ** (d / 1.5) growth of lower dimensions). Keeps a call at
#: n = m = 1e4 near the cost of two plain k-NN searches in every d <= 10.
REFERENCE_MAX_POINTS = 60_000
REFERENCE_MAX_POINTS_HIGH_D = 4_000
#: Where the search is exhaustive (from d = 7, moderate sizes) a reference point costs n + m
#: distance evaluations, so the budget there is one of distance evaluations: 7e7 is about 3 500
#: points at n = m = 1e4 (what the tree model above gave in d = 10); with smaller samples it buys
#: more reference points (8 full runs at n = m = 1e3, not 3), whose Monte Carlo noise otherwise
#: dominates the correction's (0.025 nats in d = 10 with 3 runs).
REFERENCE_MAX_PAIRS_HIGH_D = 70_000_000
#: The reference of a sample is a Gaussian mixture of 1 or 2 components fitted by EM, the number
#: chosen by BIC; the fit uses at most this many points of the sample (and EM_MAX_ITER iterations).
#: The reference's fitted parameters carry their fitting noise into the correction: with EM on a
#: subsample of 2 000 points, in d = 10 at n = m = 1e4 (two modes) that noise was as large as the
#: reference's Monte Carlo noise, and together they made the correction's spread 1.4 times the raw
#: estimate's (0.017 against 0.012 nats). EM on the whole sample costs O(n d^2) per iteration, far
#: below the neighbour search's O(n^2 d) (0.07 s CPU at n = 1e4, d = 10), so up to this many
#: points every point is used; above it, evenly spread points.
MIXTURE_FIT_POINTS = 50_000
EM_MAX_ITER = 40
#: Factor on the naive standard error of a reference run's mean k-NN error: terms that share
#: neighbours are positively correlated (measured 1.3 to 2.1 over d = 2..10, n = 1e3..1e4).
REFERENCE_SE_INFLATION = 1.7
#: Parametric-bootstrap draws of the Gaussian fit (exact sampling laws of the mean and covariance).
FIT_DRAWS = 64
#: Share of the fitted pair's KL inflation subtracted from the correction: the k-NN estimate sees an
#: unknown share of it, between none and all (see kl_from_samples); the midpoint, and the half-range
#: counted as uncertainty.
FIT_INFLATION_SHARE = 0.5
#: Share of the fitted pair's KL spread (``fit_sd``) counted in the correction's uncertainty. The
#: k-NN bias on the reference moves with the fitted parameters less than the fitted KL does: over the
#: benchmark's repetitions (bench_sample_kl.py, 32 cases in d = 1..10) the correction's spread beyond
#: its Monte Carlo part was 0.2 (d = 1) to 0.65 (d = 10) times ``fit_sd``; counting all of it made
#: the uncertainty 2-3 times the correction's real spread in d <= 5, and the shrinkage dropped
#: corrections that were needed.
FIT_SD_SHARE = 0.5
#: The shrinkage c^2 / (c^2 + SHRINK_STRENGTH s^2) of the correction c with uncertainty s: a correction
#: of one s is cut to a quarter, one of 3 s kept at three quarters, one of 10 s at 97 %. Where the
#: bias is small and the correction mostly noise (d = 10 with a two-mode reference: s larger than
#: the estimate's own sampling error), c^2 / (c^2 + s^2) let through noise of 0.68 s (root mean
#: square, c normal around 0); this lets through 0.47 s, and leaves up to 0.74 s of bias (against
#: 0.36 s) where the true correction is 2 to 3 s. Chosen on the benchmark's main set (the ratio to
#: k = 5 in the 32 cases); the held-out set checks it.
SHRINK_STRENGTH = 3.0


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
        ``tail_index_y`` (Hill), ``sampling_sd`` (the sampling part of ``stderr``), and with the
        correction ``gaussian_kl`` (the fitted pair's KL),
        ``reference_bias`` (the correction before the fit-inflation term and the shrinkage),
        ``fit_inflation``, ``fit_sd``, ``reference_runs``, ``reference_points`` (terms evaluated
        per run), ``reference_components`` (components of the models of p and q the reference is
        drawn from, 1 or 2 each), ``correction_sd`` (the correction's uncertainty :math:`s` before
        shrinkage) and ``shrink`` (the factor :math:`c^2/(c^2 + 3s^2)`); ``metric`` is
        ``"within-mode"`` when that metric was used.
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

    Squared distances are :math:`\lVert a\rVert^2 + \lVert b\rVert^2 - 2a\cdot b` in float32: one matrix
    product per block of rows gives :math:`\lVert b\rVert^2 - 2a\cdot b` (the rows of ``pts`` extended by
    a 1, those of ``points`` by their squared norm), a partial sort picks the k smallest, and
    :math:`\lVert a\rVert^2` is added to those only. The relative error is about
    1e-7 (|a|^2 + |b|^2) / dist^2, below 1e-5 on whitened samples in d >= 7, far below the
    estimator's statistical error.
    """
    a32 = np.empty((pts.shape[0], pts.shape[1] + 1), dtype=np.float32)
    b32 = np.empty((points.shape[0], points.shape[1] + 1), dtype=np.float32)
    a32[:, :-1], b32[:, :-1] = pts, points
    an = np.einsum("ij,ij->i", a32[:, :-1], a32[:, :-1])
    b32[:, -1] = np.einsum("ij,ij->i", b32[:, :-1], b32[:, :-1])
    a32[:, :-1] *= -2.0
    a32[:, -1] = 1.0
    bt = np.ascontiguousarray(b32.T)
    out = np.empty((pts.shape[0], k))
    step = max(16, 2_000_000 // max(1, points.shape[0]))
    for s in range(0, pts.shape[0], step):
        g = _k_smallest(a32[s : s + step] @ bt, k)  # |b|^2 - 2 a.b
        out[s : s + step] = np.sort(g, axis=1) + an[s : s + step, None]
    return np.sqrt(np.maximum(out, 0.0))


_FIRST_COLUMNS = 512


def _k_smallest(g: np.ndarray, k: int) -> np.ndarray:
    """The k smallest entries of each row of ``g`` (overwritten), in some order.

    The same values as a partial sort of every row, found about three times faster on wide rows: the
    k-th smallest of a row's first 512 entries (256 on rows narrower than 1024) bounds its k-th smallest
    overall from above, so only the entries at or below that bound (about 512 / k times fewer) are
    gathered and partially sorted. Rows with ties or NaN that leave too few or too many candidates are
    partially sorted whole.
    """
    rows, cols = g.shape
    if k >= cols:
        return g
    first = _FIRST_COLUMNS if cols >= 2 * _FIRST_COLUMNS else _FIRST_COLUMNS // 2
    if 4 * k <= first and cols >= 2 * first:
        bound = np.partition(g[:, :first], k - 1, axis=1)[:, k - 1]
        at = np.flatnonzero(g <= bound[:, None])  # row-major positions of the candidates
        row = at // cols
        count = np.bincount(row, minlength=rows)
        if count.min() >= k and 8 * count.max() <= cols:  # NaN bounds keep nothing; ties keep too much
            start = np.cumsum(count) - count
            cand = np.full((rows, int(count.max())), np.inf, dtype=g.dtype)  # pads never below a candidate
            cand[row, np.arange(row.size) - start[row]] = g.ravel()[at]
            g = cand
    g.partition(k - 1, axis=1)  # in place: the k smallest first, in some order
    return g[:, :k]


def _sorted_knn_1d(points: np.ndarray, pts: np.ndarray, k: int) -> np.ndarray:
    """Distances from each of ``pts`` to its k nearest ``points``, sorted, in one dimension.

    The k nearest of a point in the sorted sample are the k that a merge outward from its place
    takes, the nearer side first. Distances are formed as the k-d tree forms them, the square root
    of the squared difference, so they are the same floats as its query's (|u - v| itself would
    differ where the square under- or overflows); about four times faster than the tree.
    """
    s = np.sort(points[:, 0])
    q = pts[:, 0]
    pad = np.concatenate([np.full(k, -np.inf), s, np.full(k, np.inf)])  # k steps never read past a pad
    right = np.searchsorted(s, q) + k  # in pad: the first point >= q, then the next ones to take
    left = right - 1
    out = np.empty((q.size, k))
    with np.errstate(over="ignore"):
        for j in range(k):
            dl = q - pad[left]
            dl *= dl
            dr = q - pad[right]
            dr *= dr
            take = dl < dr  # on a tie the right one: the same distance either way
            out[:, j] = np.where(take, dl, dr)
            left -= take
            right += ~take
    return np.sqrt(out)


def _knn_distances(points: np.ndarray, pts: np.ndarray, k: int, skip_self: bool, workers: int) -> np.ndarray:
    """Distances from each of ``pts`` to its 1st..k-th neighbours among ``points`` (itself skipped when ``skip_self``)."""
    kk = k + 1 if skip_self else k
    d = points.shape[1]
    if d == 1:
        dist = _sorted_knn_1d(points, pts, kk)
    elif _use_brute_force(d, points.shape[0]):
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
    tril = np.tril_indices(d, -1)
    diag = np.arange(d)
    factors = []
    for mu, chol, size in ((mx, lx, n), (my, ly, m)):
        a = np.zeros((draws, d, d))
        a[:, diag, diag] = np.sqrt(rng.chisquare(size - 1 - diag, size=(draws, d)))
        a[:, tril[0], tril[1]] = rng.standard_normal((draws, tril[0].size))
        factors.append((mu + rng.standard_normal((draws, d)) @ chol.T / math.sqrt(size), chol @ a / math.sqrt(size - 1)))
    (m1, l1), (m2, l2) = factors
    # the closed form of _gaussian_kl, for all draws at once (l1, l2 lower triangular, positive diagonals)
    a = np.linalg.solve(l2, l1)
    v = np.linalg.solve(l2, (m2 - m1)[:, :, None])[:, :, 0]
    logdet = 2.0 * (np.sum(np.log(l2[:, diag, diag]), axis=1) - np.sum(np.log(l1[:, diag, diag]), axis=1))
    return 0.5 * (np.sum(a * a, axis=(1, 2)) + np.sum(v * v, axis=1) - d + logdet)


def _gauss_logpdf(z: np.ndarray, mean: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """Log-density of N(mean, chol chol^T) at the rows of ``z``."""
    w = solve_triangular(chol, (z - mean).T, lower=True)
    d = z.shape[1]
    return -0.5 * np.sum(w * w, axis=0) - float(np.sum(np.log(np.diag(chol)))) - 0.5 * d * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class _Mixture:
    """A Gaussian mixture given by weights, means (K, d) and Cholesky factors (K, d, d) of the covariances."""

    weights: np.ndarray
    means: np.ndarray
    chols: np.ndarray

    def logpdf(self, z: np.ndarray) -> np.ndarray:
        parts = np.stack([math.log(w) + _gauss_logpdf(z, mu, c) for w, mu, c in zip(self.weights, self.means, self.chols)])
        top = parts.max(axis=0)
        return top + np.log(np.sum(np.exp(parts - top), axis=0))

    def mapped(self, chol: np.ndarray) -> "_Mixture":
        """The same mixture after the map z -> chol^{-1} z (chol lower triangular)."""
        means = solve_triangular(chol, self.means.T, lower=True).T
        chols = np.stack([np.linalg.cholesky(a @ a.T) for a in (solve_triangular(chol, c, lower=True) for c in self.chols)])
        return _Mixture(self.weights, means, chols)

    def rvs(self, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``size`` draws and the standard-normal vectors behind them (one component: exactly mean + z L^T)."""
        d = self.means.shape[1]
        z = rng.standard_normal((size, d))
        if self.weights.size == 1:
            return self.means[0] + z @ self.chols[0].T, z
        label = (rng.random(size) < self.weights[1]).astype(int)
        out = np.empty_like(z)
        for c in range(self.weights.size):
            sel = label == c
            out[sel] = self.means[c] + z[sel] @ self.chols[c].T
        return out, z


def _em_two_components(z: np.ndarray, hopeless: float = -math.inf) -> tuple[_Mixture, float] | None:
    r"""Maximum-likelihood two-component Gaussian mixture with one shared covariance, by EM, and its log-likelihood.

    The covariance is shared (the within-component covariance): two modes cost only
    :math:`1 + d` parameters more than one Gaussian, so that BIC can afford them at
    :math:`n = 1000` in :math:`d = 10`, where full covariances (:math:`1 + d + d(d+1)/2` more)
    are rejected even for two clearly separated modes. EM starts from three splits of the sample
    at its mean: along its first principal axis, and along the directions of smallest and largest
    kurtosis (the extreme eigenvectors of :math:`\mathbb E[\lVert w\rVert^2 ww^\top]` for the sample
    whitened to :math:`w`, as in FOBI; two modes make the kurtosis small along the axis joining
    them, which after a pooled whitening need not be the axis of largest variance). Each start
    runs a few iterations, and the best continues to convergence unless its log-likelihood is
    still below ``hopeless`` (then None: the caller's criterion cannot be met). A ridge of :math:`10^{-6}` times
    the mean variance keeps the covariance positive definite. None when a component empties
    (weight below :math:`(d + 1)/n`) or the covariance is singular.
    """
    n, d = z.shape
    centre = z.mean(axis=0)
    cov = np.atleast_2d(np.cov(z.T))
    try:
        lc = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    ridge = 1e-6 * float(np.trace(cov)) / d * np.eye(d)
    w = solve_triangular(lc, (z - centre).T, lower=True).T
    _, kurt_vecs = np.linalg.eigh((w * np.sum(w * w, axis=1)[:, None]).T @ w / n)
    starts = [(z - centre) @ np.linalg.eigh(cov)[1][:, -1], w @ kurt_vecs[:, 0], w @ kurt_vecs[:, -1]]

    zc = z - centre
    second = zc.T @ zc / n
    log_norm = 0.5 * d * math.log(2.0 * math.pi)

    def run(resp: np.ndarray, iters: int) -> tuple[_Mixture, float, np.ndarray] | None:
        last, out = -math.inf, None
        for _ in range(iters):
            nk = resp.sum(axis=0)
            if np.any(nk < d + 1):
                return None
            weights = nk / n
            mc = (resp.T @ zc) / nk[:, None]  # the means, from the centre
            # within-component covariance: sum_c sum_i r_ic (z_i - mu_c)(z_i - mu_c)^T / n, the r_ic summing to 1
            within = ridge + second - (mc.T * weights) @ mc
            try:
                chol = np.linalg.cholesky(within)
            except np.linalg.LinAlgError:
                return None
            means = mc + centre
            model = _Mixture(weights, means, np.stack([chol, chol]))
            wz = solve_triangular(chol, zc.T, lower=True)
            wm = solve_triangular(chol, mc.T, lower=True)
            half_logdet = float(np.sum(np.log(np.diag(chol))))
            parts = np.stack([
                math.log(wt) - 0.5 * np.sum((wz - wm[:, c, None]) ** 2, axis=0) - half_logdet - log_norm
                for c, wt in enumerate(weights)
            ])
            top = parts.max(axis=0)
            logp = top + np.log(np.sum(np.exp(parts - top), axis=0))
            ll = float(np.sum(logp))
            resp = np.exp(parts - logp).T
            out = (model, ll, resp)
            if ll - last < 1e-6 * n:
                break
            last = ll
        return out

    best = None
    for proj in starts:
        side = (proj > 0).astype(float)
        got = run(np.column_stack([1.0 - side, side]), 5)
        if got is not None and (best is None or got[1] > best[1]):
            best = got
    if best is None or best[1] < hopeless:  # far from the log-likelihood needed: not worth converging
        return None
    final = run(best[2], EM_MAX_ITER)
    return None if final is None else final[:2]


def _reference_model(z: np.ndarray, mean: np.ndarray, chol: np.ndarray) -> _Mixture:
    r"""The model a sample's reference is drawn from: its Gaussian fit, or a two-component mixture.

    The two-component mixture with a shared covariance (EM on the whole sample, or on
    ``MIXTURE_FIT_POINTS`` points spread evenly over a larger one) replaces the Gaussian when
    BIC prefers it: when the sample has structure a Gaussian lacks, such as two modes, whose effect on the k-NN bias
    the Gaussian reference cannot see. BIC asks the mixture for
    :math:`\tfrac12 (1 + d) \log n_{\mathrm{fit}}` more log-likelihood than the Gaussian (half a
    log of the sample size per extra parameter), so a Gaussian sample keeps its Gaussian
    reference; EM is not run to convergence when after its starts it is still far from that.
    """
    n, d = z.shape
    gauss = _Mixture(np.ones(1), mean[None, :], chol[None, :, :])
    fit = z if n <= MIXTURE_FIT_POINTS else z[np.linspace(0, n - 1, MIXTURE_FIT_POINTS).astype(int)]
    nf = fit.shape[0]
    try:
        l1 = np.linalg.cholesky(np.atleast_2d(np.cov(fit.T, bias=True)))
    except np.linalg.LinAlgError:
        return gauss
    ll1 = float(np.sum(_gauss_logpdf(fit, fit.mean(axis=0), l1)))
    penalty = 0.5 * (1 + d) * math.log(nf)  # BIC's price of the extra parameters, in log-likelihood
    two = _em_two_components(fit, hopeless=ll1 + 0.25 * penalty)
    if two is None:
        return gauss
    model, ll2 = two
    return model if ll2 - ll1 > penalty else gauss


def _fit_references(
    xa: np.ndarray, ya: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, _Mixture, _Mixture]:
    """Means and covariance Cholesky factors of both samples, and the models their references are drawn from."""
    mx, my = xa.mean(axis=0), ya.mean(axis=0)
    try:
        lx = np.linalg.cholesky(np.atleast_2d(np.cov(xa.T)))
        ly = np.linalg.cholesky(np.atleast_2d(np.cov(ya.T)))
    except np.linalg.LinAlgError:
        raise ValueError("x or y is degenerate (its covariance is singular): it lies in a subspace") from None
    return mx, lx, my, ly, _reference_model(xa, mx, lx), _reference_model(ya, my, ly)


def _dither_ties(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Break exact duplicates by a uniform dither of each coordinate's rounding step.

    Rounded data (counts, values recorded to 0.1, ...) have many identical points; k-NN
    distances of zero make :math:`\\log\\rho = -\\infty`. Treating the recorded value as the
    centre of its rounding cell, add :math:`U(-\\delta_j/2, \\delta_j/2)` to coordinate ``j``,
    where :math:`\\delta_j` is the smallest positive gap between distinct values of that
    coordinate in the pooled sample. Only done when a duplicate exists.
    """
    pooled = np.vstack([x, y])
    first = np.sort(pooled[:, 0])
    if np.all(first[1:] != first[:-1]):  # two equal points would share their first coordinate
        return x, y, 0
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

        \widehat D_k = \frac{d}{n}\sum_{i=1}^{n}\log\frac{\nu_k(i)}{\rho_k(i)} + \log\frac{m}{n-1},

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

        & \widehat D = \sum_j \hat p_j \log\frac{\hat p_j}{\hat q_j}, \\
        & \hat p_j = \frac{\#\{i : x_i \in B_j\}}{n}, \\
        & \hat q_j = \frac{\#\{i : y_i \in B_j\}}{m},

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
        Subtract the estimator's bias measured on a reference pair (default True): samples of the
        same sizes drawn from models fitted to ``x`` and ``y``, on which the per-point terms
        :math:`t_i` are compared with the reference's exact log-ratio :math:`\ell_R(x_i)`; the
        mean of :math:`t_i - \ell_R(x_i)` is the estimator's bias there (see Notes). Each model is
        the sample's Gaussian fit (same mean and covariance) or, when BIC prefers it, a
        two-component Gaussian mixture with a shared covariance. Exact in expectation when the
        models are right; otherwise it removes the part of the bias that comes from the global
        shape (dimension, scales, sample sizes, two modes), which dominates for :math:`d \gtrsim 4`.
        It cannot see bias from structure both models lack.
    n_reference : int or None
        Number of reference pairs. Default ``None``: as many as a fixed budget of neighbour
        searches allows (8 in low dimension and at :math:`n = 10^3`, 1 on part of the points in
        :math:`d = 10` with :math:`n = 10^4`), so the correction costs less than the estimate itself.
    level : float
        Coverage of the interval, in (0, 1); default 0.9.
    scale : bool
        Whiten both samples by the pooled covariance first (default). KL is unchanged by an
        invertible affine map of both samples; Euclidean neighbour balls are not, and without
        this a coordinate measured in large units dominates every distance. With the bias
        correction on, when the model fitted to ``x`` has two modes, the samples are then
        whitened again by its within-mode (shared) covariance: the pooled covariance includes
        the spread between the modes, and whitening by it squeezes the axis joining them until
        each mode is narrower along it than the neighbour balls are wide.
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
    **The correction.** On the reference pair the exact log-ratio :math:`\ell_R` is known, so the
    k-NN error of each term, :math:`e_i = t_i - \ell_R(x_i)`, is observed; its mean :math:`\bar e`
    estimates the bias without the sampling noise of :math:`\ell_R` itself (a control variate), so
    the terms are evaluated on only part of the reference points. The reference's parameters are
    the fitted ones, and fitting noise makes the fitted pair's KL larger than the truth's by
    :math:`\delta` on average; a parametric bootstrap of the Gaussian fit (exact laws of a Gaussian
    sample's mean and covariance, no sample drawn) gives :math:`\delta` and the spread
    :math:`s_{\mathrm{fit}}` of the fitted KL (used with a mixture model too, as an approximation:
    the covariance carries most of the fitted parameters). How much of :math:`\delta` the k-NN estimate sees lies between none and all
    of it, so the raw correction is :math:`c = -\bar e - \delta/2`, with uncertainty
    :math:`s^2 = s_{\mathrm{ref}}^2 + (s_{\mathrm{fit}}/2)^2 + (\delta/2)^2`, :math:`s_{\mathrm{ref}}` the
    standard error of :math:`\bar e` (naive, times 1.7 for terms that share neighbours); only half of
    :math:`s_{\mathrm{fit}}` counts, because the k-NN bias on the reference moves with the fitted
    parameters less than the fitted KL does (measured: 0.2 to 0.65 of it, from :math:`d = 1` to 10).
    The correction applied is :math:`c \cdot c^2/(c^2 + 3s^2)`: one that is mostly noise is mostly
    dropped (one of :math:`s` is cut to a quarter, one of :math:`3s` kept at three quarters). In
    high dimension a single reference run is about as noisy as the estimate itself, so a
    correction that is not clearly larger than its noise would add more error than it removes.

    **The interval.** The estimate is a mean of per-point terms :math:`t_i`; its sampling standard
    error is taken as :math:`\operatorname{sd}(t_i)/\sqrt n` times :math:`\sqrt{1 + n/m}\,(1 + d/20)`
    (the :math:`y`'s randomness and the correlation of terms that share neighbours), combined
    with the uncertainty of the correction and :math:`0.25\,|c|` for the doubt that the
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
    fitted = None
    if bias_correction and not heavy:  # a Gaussian-based reference means nothing without tails like it
        fitted = _fit_references(xa, ya)
        if scale and fitted[4].weights.size == 2:
            # p has two modes: measure distances in its within-mode metric (see Notes)
            lw = fitted[4].chols[0]
            xa = solve_triangular(lw, xa.T, lower=True).T
            ya = solve_triangular(lw, ya.T, lower=True).T
            mx, my = xa.mean(axis=0), ya.mean(axis=0)
            lx = np.linalg.cholesky(np.atleast_2d(np.cov(xa.T)))
            ly = np.linalg.cholesky(np.atleast_2d(np.cov(ya.T)))
            model_q = fitted[5].mapped(lw) if fitted[5].weights.size == 2 else _Mixture(np.ones(1), my[None], ly[None])
            fitted = (mx, lx, my, ly, fitted[4].mapped(lw), model_q)
            details["metric"] = "within-mode"

    raw, terms = _estimate(xa, ya, k, method, workers)
    inflate = _se_inflation(n, m, d)
    se_sampling = inflate * float(np.std(terms, ddof=1) / math.sqrt(n))
    details["sampling_sd"] = se_sampling
    correction, se_corr = 0.0, 0.0
    if fitted is not None:
        mx, lx, my, ly, model_p, model_q = fitted
        d_gauss = _gaussian_kl(mx, lx, my, ly)
        # the reference pair is the fitted one; fitting noise makes its KL larger than the truth's
        # by about `inflation`, which the k-NN estimate does not see (parametric bootstrap)
        refits = _refitted_kls(mx, lx, my, ly, n, m, rng, FIT_DRAWS)
        inflation = float(np.mean(refits)) - d_gauss
        fit_sd = float(np.std(refits, ddof=1))
        if _use_brute_force(d, max(n, m)):  # a point costs n + m distances
            budget = max(REFERENCE_MIN_QUERY, REFERENCE_MAX_PAIRS_HIGH_D // (n + m))
        else:
            cap = REFERENCE_MAX_POINTS_HIGH_D if d >= 7 else REFERENCE_MAX_POINTS
            budget = max(REFERENCE_MIN_QUERY, min(cap, int(REFERENCE_BUDGET / 2.0 ** (d / 1.5))))
        runs = int(n_reference) if n_reference is not None else max(1, min(REFERENCE_MAX_RUNS, budget // n))
        n_query = min(n, max(REFERENCE_MIN_QUERY // runs, budget // runs))
        half_logdet = float(np.sum(np.log(np.diag(ly))) - np.sum(np.log(np.diag(lx))))
        biases, bias_vars = [], []
        for _ in range(runs):
            xs, zx = model_p.rvs(n, rng)
            ys, _ = model_q.rvs(m, rng)
            t = _terms(xs, ys, k, method, workers, query=np.arange(n_query))
            # the reference's exact log-ratio at the same points: a control variate that removes
            # the sampling noise of log(p/q) itself and leaves the k-NN error
            if model_p.weights.size == 1 and model_q.weights.size == 1:
                w = solve_triangular(ly, (xs[:n_query] - my).T, lower=True)
                ell = 0.5 * (np.sum(w * w, axis=0) - np.sum(zx[:n_query] ** 2, axis=1)) + half_logdet
            else:
                ell = model_p.logpdf(xs[:n_query]) - model_q.logpdf(xs[:n_query])
            e = t - ell
            biases.append(float(np.mean(e)))
            bias_vars.append(float(np.var(e, ddof=1)) / n_query)
        c = -float(np.mean(biases)) - FIT_INFLATION_SHARE * inflation
        s2 = (REFERENCE_SE_INFLATION**2 * float(np.mean(bias_vars)) / runs + (FIT_SD_SHARE * fit_sd) ** 2
              + (0.5 * inflation) ** 2)
        shrink = c * c / (c * c + SHRINK_STRENGTH * s2) if c != 0.0 else 0.0
        correction = shrink * c
        se_corr = math.sqrt(s2) * shrink
        details.update(
            gaussian_kl=d_gauss,
            reference_bias=-float(np.mean(biases)),
            fit_inflation=inflation,
            fit_sd=fit_sd,
            reference_runs=runs,
            reference_points=n_query,
            reference_components=(int(model_p.weights.size), int(model_q.weights.size)),
            correction_sd=math.sqrt(s2),
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


class KnownKLPair(NamedTuple):
    """A pair of distributions to sample from, with its exact KL (see :func:`known_kl_pairs`)."""

    name: str
    draw_p: Callable[[int, np.random.Generator], np.ndarray]
    draw_q: Callable[[int, np.random.Generator], np.ndarray]
    kl: float


def known_kl_pairs(d: int) -> list[KnownKLPair]:
    r"""Four families of sample pairs in dimension ``d`` whose :math:`D_{\mathrm{KL}}(p \Vert q)` is known exactly.

    The test bed of chapter 7 and of ``benchmarks/bench_sample_kl.py``. Each item has ``draw_p(n,
    rng)`` and ``draw_q(n, rng)``, which return arrays of shape (n, d), and ``kl`` (nats):

    * ``"Gaussian shift"``: :math:`\mathcal N(0, I)` against
      :math:`\mathcal N(\mu, \operatorname{diag}(s))`, :math:`\mu = 0.6/\sqrt d\,\mathbf 1`, variances
      :math:`s` evenly from 0.7 to 1.6 (1.3 in one dimension);
    * ``"correlated Gaussian"``: :math:`\mathcal N(0, C)` with :math:`C = AA^\top/d +
      \operatorname{diag}(10^{-2} \dots 10^{2})` (A standard normal, seeded by ``d``), so the
      coordinates' scales range over four orders of magnitude, against
      :math:`\mathcal N(L\,0.5/\sqrt d\,\mathbf 1,\ 1.3\,C)`, :math:`C = LL^\top`;
    * ``"rotated Laplace"``: independent Laplace(0, 1) coordinates against Laplace(0.4/√d, 1.4),
      both rotated by the same random rotation; KL adds over coordinates and is unchanged by
      the rotation, :math:`d\,(\log b + (|s| + e^{-|s|})/b - 1)` with :math:`b = 1.4`,
      :math:`s = 0.4/\sqrt d`;
    * ``"mixture vs Gaussian"``: :math:`\tfrac12\mathcal N(-1.5 e_1, I) + \tfrac12\mathcal N(1.5 e_1, I)`
      against the Gaussian with its mean and covariance, :math:`\mathcal N(0, I + 2.25 e_1e_1^\top)`;
      the divergence lives in the first coordinate and is the one-dimensional mixture KL
      (:func:`klbook.mixture_kl`, quadrature).

    The Gaussian values are the closed form

    .. math::

       & \tfrac12\bigl(\operatorname{tr}(\Sigma_q^{-1}\Sigma_p) + \Delta\mu^\top\Sigma_q^{-1}\Delta\mu \\
       & \quad {} - d + \log\det\Sigma_q - \log\det\Sigma_p\bigr) .

    Raises
    ------
    ValueError
        ``d`` not an int >= 1.
    """
    if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1:
        raise ValueError(f"d must be an int >= 1, got {d!r}")
    d = int(d)
    rng = np.random.default_rng(100 + d)
    out = []
    mu = np.full(d, 0.6 / math.sqrt(d))
    s2 = np.linspace(0.7, 1.6, d) if d > 1 else np.array([1.3])
    eye = np.eye(d)
    out.append(KnownKLPair(
        "Gaussian shift",
        lambda n, r: r.standard_normal((n, d)),
        lambda n, r: r.standard_normal((n, d)) * np.sqrt(s2) + mu,
        _gaussian_kl(np.zeros(d), eye, mu, np.diag(np.sqrt(s2))),
    ))
    a = rng.normal(size=(d, d))
    c1 = a @ a.T / d + np.diag(np.geomspace(0.01, 100.0, d) if d > 1 else [1.0])
    l1 = np.linalg.cholesky(c1)
    l2 = np.linalg.cholesky(1.3 * c1)
    m2 = l1 @ np.full(d, 0.5 / math.sqrt(d))
    out.append(KnownKLPair(
        "correlated Gaussian",
        lambda n, r: r.standard_normal((n, d)) @ l1.T,
        lambda n, r: r.standard_normal((n, d)) @ l2.T + m2,
        _gaussian_kl(np.zeros(d), l1, m2, l2),
    ))
    qr, rr = np.linalg.qr(rng.normal(size=(d, d)))
    rot = qr * np.sign(np.diag(rr))
    shift, b = 0.4 / math.sqrt(d), 1.4
    out.append(KnownKLPair(
        "rotated Laplace",
        lambda n, r: r.laplace(0.0, 1.0, (n, d)) @ rot.T,
        lambda n, r: r.laplace(shift, b, (n, d)) @ rot.T,
        d * (math.log(b) + (shift + math.exp(-shift)) / b - 1.0),
    ))
    sep = np.zeros(d)
    sep[0] = 1.5
    p_mix = GaussianMixture([0.5, 0.5], np.vstack([-sep, sep]), covs=np.stack([eye] * 2))
    cq = eye.copy()
    cq[0, 0] = 1.0 + 1.5**2
    q_gauss = GaussianMixture([1.0], np.zeros((1, d)), covs=cq[None])
    kl_mix = mixture_kl(GaussianMixture([0.5, 0.5], [-1.5, 1.5], [1.0, 1.0]),
                        GaussianMixture([1.0], [0.0], [math.sqrt(cq[0, 0])])).value
    out.append(KnownKLPair(
        "mixture vs Gaussian",
        lambda n, r: p_mix.rvs(size=n, random_state=r).reshape(n, d),
        lambda n, r: q_gauss.rvs(size=n, random_state=r).reshape(n, d),
        kl_mix,
    ))
    return out


def mae_ratio(
    estimates: ArrayLike, baseline: ArrayLike, truth: float, *, level: float = 0.9, draws: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    r"""How two estimators compare on the same draws: the ratio of their mean absolute errors, with a paired-bootstrap interval.

    .. math::

        \frac{\mathrm{MAE}(a)}{\mathrm{MAE}(b)},

    with :math:`\mathrm{MAE}(a) = \tfrac1R \sum_{i=1}^{R} |a_i - D|` (and :math:`\mathrm{MAE}(b)` likewise),
    :math:`a_i` and :math:`b_i` the two estimates from repetition :math:`i` (the same draws),
    :math:`D` the true divergence. The interval is the :math:`(1 \mp \text{level})/2` quantiles of
    the ratio over ``draws`` resamples of the repetitions with replacement, the same resampled
    repetitions for both estimators (so what the draws share cancels): how much of a ratio near 1
    is noise. Chapter 7's comparison table and ``benchmarks/bench_sample_kl.py`` use it.

    Parameters
    ----------
    estimates, baseline : array_like, shape (R,)
        The two estimators' values, repetition by repetition; R >= 2, finite.
    truth : float
        The true divergence, finite.
    level : float
        Coverage of the interval, in (0, 1).
    draws : int
        Bootstrap resamples, >= 1.
    seed : int
        Seed of the resampling (``numpy.random.default_rng``).

    Returns
    -------
    (ratio, lower, upper) : tuple of float

    Raises
    ------
    ValueError
        If the arrays are not 1-D of one length >= 2 or hold a non-finite value, ``truth`` is not
        finite, ``level`` is outside (0, 1), ``draws`` < 1, or ``baseline`` equals ``truth`` in every
        repetition (its error is 0, so the ratio has no value).
    """
    a = np.asarray(estimates, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if a.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise ValueError(f"estimates and baseline must be 1-D of one length >= 2, got shapes {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("estimates and baseline must be finite")
    if not math.isfinite(float(truth)):
        raise ValueError(f"truth must be finite, got {truth!r}")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    if isinstance(draws, bool) or not isinstance(draws, numbers.Integral) or draws < 1:
        raise ValueError(f"draws must be an integer >= 1, got {draws!r}")
    err_a, err_b = np.abs(a - truth), np.abs(b - truth)
    if not np.any(err_b > 0):
        raise ValueError("baseline equals truth in every repetition: its mean absolute error is 0")
    idx = np.random.default_rng(seed).integers(0, a.size, (int(draws), a.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = err_a[idx].mean(axis=1) / err_b[idx].mean(axis=1)
    boot[np.isnan(boot)] = 1.0  # a resample in which both errors are all 0: the two are equal
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return float(err_a.mean() / err_b.mean()), float(lo), float(hi)
