r"""Closed forms of KL: multivariate normal (registered on import).

The multivariate form takes the frozen ``scipy.stats.multivariate_normal``
objects themselves (not :class:`~klbook.core.closed_forms.Params`).
"""

from __future__ import annotations

import functools
import math
import weakref
from typing import Any, NamedTuple

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from . import register_kl
from .continuous import eta, log_quotient

__all__: list[str] = []

#: Relative tolerance used to decide that two degenerate (singular) normals live
#: on the same affine subspace. Only singular covariances reach this test.
SUBSPACE_RTOL = 1e-9

#: A covariance counts as positive definite when it has a Cholesky factor whose refinement
#: :math:`S = L(I + G)L^T` is small, :math:`\|G\|_F \le` ``MAX_REFINEMENT`` (a singular S can
#: still pass ``dpotrf`` with a positive diagonal; its G then has an eigenvalue near -1).
MAX_REFINEMENT = 0.25

#: Below this size of the largest eigenvalue of :math:`L_q^{-1}(\Sigma_p - \Sigma_q)L_q^{-T}`,
#: the covariance term is summed over those eigenvalues (no cancellation for
#: nearly identical covariances); above it, over the entries of :math:`L_q^{-1}L_p`.
NEAR_THRESHOLD = 0.5


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a + b = s + err`` exactly (Knuth's TwoSum, elementwise)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp split: ``a = hi + lo`` with 26-bit halves."""
    c = 134217729.0 * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a * b = p + err`` exactly (Dekker's TwoProduct, elementwise)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _cholesky_residual(s: np.ndarray, l: np.ndarray) -> np.ndarray:
    r""":math:`S - L L^T`, accurate to a few ulp of itself (compensated dot products)."""
    prods, perrs = _two_prod(l[:, None, :], l[None, :, :])  # all l_ij l_kj at once, exactly
    acc = s.copy()
    comp = -np.sum(perrs, axis=2)
    for j in range(l.shape[1]):
        acc, serr = _two_sum(acc, -prods[:, :, j])
        comp += serr
    return acc + comp


# LAPACK is called directly (scipy.linalg's wrappers cost 5-100 us per call on a 5 x 5 matrix,
# more than the arithmetic of the whole closed form).


#: Up to this dimension triangular solves are forward substitution in numpy. OpenBLAS runs even a
#: 5 x 5 ``dtrsm`` on its thread pool, and waking the pool for every call of a loop costs
#: 0.1-1 ms per pair on a busy machine (30x the whole closed form) unless OPENBLAS_NUM_THREADS=1.
SMALL_SOLVE = 12


def _solve_lower(l: np.ndarray, b: np.ndarray) -> np.ndarray:
    r""":math:`L^{-1} b` for a lower-triangular L with a positive diagonal.

    Forward substitution row by row for :math:`k \le` ``SMALL_SOLVE`` (the same recurrence as
    LAPACK's, without its thread pool), LAPACK ``dtrtrs`` above.
    """
    k = l.shape[0]
    if k <= SMALL_SOLVE:
        x = np.array(b, dtype=float)
        x[0] /= l[0, 0]
        for i in range(1, k):
            x[i] -= l[i, :i].dot(x[:i])
            x[i] /= l[i, i]
        return x
    x, info = lapack.dtrtrs(l, b, lower=1)
    if info != 0:  # pragma: no cover - a factor with a positive diagonal is never singular
        raise ValueError(f"triangular solve failed (LAPACK info {info})")
    return x


def _eigvalsh(s: np.ndarray) -> np.ndarray:
    """Eigenvalues of a symmetric matrix (LAPACK ``dsyevd``; scipy's driver if that fails)."""
    w, _, info = lapack.dsyevd(s, compute_v=0)
    if info != 0:  # pragma: no cover
        return linalg.eigvalsh(s, check_finite=False)
    return w


def _sandwich(l: np.ndarray, m: np.ndarray) -> np.ndarray:
    r""":math:`L^{-1} M L^{-T}` for symmetric M, symmetrised."""
    y = _solve_lower(l, m)
    x = _solve_lower(l, np.ascontiguousarray(y.T))
    return 0.5 * (x + x.T)


def _refined_cholesky(s: np.ndarray, l: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Cholesky factor L and the small symmetric G with :math:`S = L(I + G)L^T` exactly (to first order).

    The computed factor satisfies :math:`LL^T = S - F` with :math:`|F|` of the order of
    machine epsilon times :math:`|S|`; for an ill-conditioned S that is a relative error of
    :math:`\epsilon\,\kappa(S)` in :math:`S^{-1}`. ``G`` carries F back in. ``l``: the
    factor when already computed.
    """
    if l is None:
        l = _cholesky(s)
        if l is None:  # pragma: no cover - callers pass positive-definite matrices
            raise ValueError("covariance is not positive definite")
    return l, _sandwich(l, _cholesky_residual(s, l))


def _cholesky(s: np.ndarray) -> np.ndarray | None:
    """Lower Cholesky factor of the symmetric ``s``, or None when it has none with a positive diagonal."""
    l, info = lapack.dpotrf(s, lower=1, clean=1)
    if info != 0 or not bool(np.all(np.diag(l) > 0)):
        return None
    return l


def _logdet1p(g: np.ndarray) -> float:
    r""":math:`\log\det(I + G)` for a small symmetric G.

    :math:`\operatorname{tr}G - \tfrac12\operatorname{tr}G^2 + \tfrac13\operatorname{tr}G^3`
    when :math:`\|G\|_F \le 10^{-5}` (the next term is below :math:`10^{-20}\,k`); the
    eigenvalues otherwise.
    """
    g2 = float(np.sum(g * g))
    if g2 <= 1e-10:
        return float(np.trace(g)) - 0.5 * g2 + float(np.sum((g @ g) * g)) / 3.0
    return math.fsum(math.log1p(float(x)) for x in _eigvalsh(g))


class _Factor(NamedTuple):
    r"""A validated multivariate normal, its covariance factorised once (see :func:`_factor_of`).

    ``l`` and ``g`` belong to the covariance scaled by :math:`4^{-e}` (an exact power-of-two
    scaling that keeps the refinement's splitting away from overflow):
    :math:`4^{-e}\Sigma = L(I + G)L^T`. ``l`` is None when the covariance has no Cholesky
    factor (singular, ``allow_singular=True``).
    """

    mean_bytes: bytes
    cov_bytes: bytes
    mean: np.ndarray
    cov: np.ndarray
    e: int
    scaled_mean: np.ndarray
    l: np.ndarray | None
    g: np.ndarray | None
    logdet1p_g: float


#: One _Factor per frozen multivariate normal, weakly keyed on the object and checked against the
#: bytes of its mean and covariance (an array changed in place is factorised again).
_FACTORS: "weakref.WeakKeyDictionary[Any, _Factor]" = weakref.WeakKeyDictionary()


def _factor_of(d: Any, name: str) -> _Factor:
    """Validate a frozen ``multivariate_normal`` and factorise its covariance, once per object.

    ``name`` ("p", "q") names the argument in the ``ValueError`` for a non-finite mean
    or covariance. Positive definite is decided by a Cholesky factorisation of the
    covariance itself, never by scipy's eigenvalue cutoff (which drops a direction once
    cond >~ 4.5e9, although the matrix is numerically positive definite and the KL well
    defined). Cached on the object until its mean or covariance changes.
    """
    mean, cov = d.mean, d.cov
    mb, cb = mean.tobytes(), cov.tobytes()
    hit = _FACTORS.get(d)
    if hit is not None and hit.mean_bytes == mb and hit.cov_bytes == cb:
        return hit
    m = np.array(mean, dtype=float).reshape(-1)
    k = m.size
    s = np.array(cov, dtype=float).reshape(k, k)
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(s))):
        raise ValueError(f"{name}: multivariate normal with a non-finite mean or covariance")
    e = math.frexp(float(np.max(np.abs(s))))[1] // 2
    l = _cholesky(np.ldexp(s, -2 * e))
    g, ld = None, 0.0
    if l is not None:
        l, g = _refined_cholesky(np.ldexp(s, -2 * e), l)
        if float(np.sum(g * g)) <= MAX_REFINEMENT**2:
            ld = _logdet1p(g)
        else:  # L L^T is not S to first order: singular to working precision, whatever dpotrf said
            l = g = None
    f = _Factor(mb, cb, m, s, e, np.ldexp(m, -e), l, g, ld)
    try:
        _FACTORS[d] = f
    except TypeError:  # pragma: no cover - an object that cannot be weakly referenced
        pass
    return f


def _kl_factored(fp: _Factor, fq: _Factor) -> float:
    """KL between non-degenerate normals from their factors (see ``_kl_mvn_mvn``)."""
    # A common power-of-two scaling (exact, KL is invariant) keeps the splitting away from overflow;
    # each factor was computed at its own scale 4^-e, which only shifts exponents.
    e2 = max(fp.e, fq.e)
    lp, mp = (fp.l, fp.scaled_mean) if fp.e == e2 else (np.ldexp(fp.l, fp.e - e2), np.ldexp(fp.mean, -e2))
    lq, mq = (fq.l, fq.scaled_mean) if fq.e == e2 else (np.ldexp(fq.l, fq.e - e2), np.ldexp(fq.mean, -e2))
    gp, gq = fp.g, fq.g

    # Mahalanobis term with S_q^{-1} = L^{-T}(I + G)^{-1}L^{-1}; mp - mq carried exactly as hi + lo
    k = mp.size
    rhs = np.empty((k, k + 2))
    rhs[:, 0], rhs[:, 1] = _two_sum(mp, -mq)
    rhs[:, 2:] = lp
    x = _solve_lower(lq, rhs)  # one substitution for both right-hand sides
    z = x[:, 0] + x[:, 1]
    maha = math.fsum((z * z).tolist()) - float(z @ gq @ z)

    a = x[:, 2:]  # L_q^{-1} L_p: A A^T = L_q^{-1} S_p L_q^{-T} = I + E to rounding
    ea = a @ a.T
    ea.flat[:: k + 1] -= 1.0
    fro = math.sqrt(float((ea * ea).sum()))
    if fro <= NEAR_THRESHOLD or (
        fro <= NEAR_THRESHOLD * math.sqrt(k) and float(np.abs(_eigvalsh(ea)).max()) <= NEAR_THRESHOLD
    ):
        return 0.5 * (_near_covariance_term(np.ldexp(fp.cov, -2 * e2), np.ldexp(fq.cov, -2 * e2), lq, gq) + maha)

    # Far regime: ||A||_F^2 - k - 2 sum log a_ii = sum eta(2 log a_ii) + sum_{i>j} a_ij^2,
    # plus the first-order corrections for G_p and G_q.
    diag = math.fsum([eta(2.0 * log_quotient(x, y)) for x, y in zip(lp.diagonal().tolist(), lq.diagonal().tolist())])
    low = a[_lower(k)]
    off = math.fsum((low * low).tolist())
    corr = float(((a @ gp - gq @ a) * a).sum()) - fp.logdet1p_g + fq.logdet1p_g
    return 0.5 * (diag + off + corr + maha)


@functools.lru_cache(maxsize=64)
def _lower(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the strictly lower triangle of a k x k matrix (``np.tril_indices(k, -1)``, kept)."""
    return np.tril_indices(k, -1)


def _near_covariance_term(sp: np.ndarray, sq: np.ndarray, lq: np.ndarray, gq: np.ndarray) -> float:
    r""":math:`\sum_i \eta(\log(1 + e_i))` over the eigenvalues of :math:`E = L_q^{-1}(\Sigma_p - \Sigma_q)L_q^{-T}`,
    corrected for :math:`G_q` (nearly identical covariances: no cancellation)."""
    s_hi, s_lo = _two_sum(sp, -sq)
    e_tilde = _sandwich(lq, s_hi) + _sandwich(lq, s_lo)
    e_mat = e_tilde - 0.5 * (gq @ e_tilde + e_tilde @ gq)
    e = _eigvalsh(0.5 * (e_mat + e_mat.T))
    # sum of lambda - 1 - log(lambda) = eta(log1p(e)), each term >= 0
    return math.fsum(eta(math.log1p(float(x))) for x in e)


def _kl_full_rank(mp: np.ndarray, sp: np.ndarray, mq: np.ndarray, sq: np.ndarray) -> float:
    """KL between non-degenerate normals given as arrays (the covariances are positive definite)."""
    fp, fq = (_factor_arrays(m, s) for m, s in ((mp, sp), (mq, sq)))
    return _kl_factored(fp, fq)


def _factor_arrays(m: np.ndarray, s: np.ndarray) -> _Factor:
    """:class:`_Factor` of a positive-definite covariance given as an array (not cached)."""
    e = math.frexp(float(np.max(np.abs(s))))[1] // 2
    l, g = _refined_cholesky(np.ldexp(s, -2 * e))
    return _Factor(b"", b"", m, s, e, np.ldexp(m, -e), l, g, _logdet1p(g))


@register_kl("multivariate_normal", "multivariate_normal")
def _kl_mvn_mvn(p, q) -> float:
    r"""Multivariate normal ‖ multivariate normal: any mean and covariance (inf if the supports differ).

    For :math:`p = N(\mu_p, \Sigma_p)` and :math:`q = N(\mu_q, \Sigma_q)` in :math:`k`
    dimensions, with :math:`\Sigma_q = L_q L_q^T`:

    .. math::

       D = \tfrac12\Big[\operatorname{tr}(\Sigma_q^{-1}\Sigma_p) - k
           + \log\frac{\det\Sigma_q}{\det\Sigma_p}
           + \|L_q^{-1}(\mu_p - \mu_q)\|^2\Big].

    The covariance part is a sum of non-negative terms. With
    :math:`E = L_q^{-1}(\Sigma_p - \Sigma_q)L_q^{-T}` and eigenvalues :math:`e_i`,
    it is :math:`\sum_i \eta(\log(1 + e_i))` (:math:`\eta(y) = e^y - 1 - y`), used when
    :math:`\max|e_i| \le 1/2` so nearly identical covariances do not cancel; otherwise,
    with :math:`A = L_q^{-1}L_p`, it is
    :math:`\sum_i \eta(2\log a_{ii}) + \sum_{i>j} a_{ij}^2`, the log-determinants coming
    from the diagonals of the Cholesky factors.

    Degenerate normals (``allow_singular=True``): if the supports (affine subspaces
    :math:`\mu + \operatorname{range}\Sigma`) differ, :math:`D = \infty`; if they agree
    (to a relative tolerance ``SUBSPACE_RTOL``), the formula is applied in that subspace.

    Raises
    ------
    ValueError
        If the dimensions differ, or a mean or covariance is not finite.
    """
    fp, fq = _factor_of(p, "p"), _factor_of(q, "q")
    if fp.mean.size != fq.mean.size:
        raise ValueError(
            f"multivariate normals of different dimension: p has dimension {fp.mean.size}, q has dimension {fq.mean.size}"
        )
    if fp.l is not None and fq.l is not None:
        return _kl_factored(fp, fq)
    k = fp.mean.size
    mp, sp, mq, sq = fp.mean, fp.cov, fq.mean, fq.cov
    rp, rq = int(p.cov_object.rank), int(q.cov_object.rank)
    if rp == k and rq == k:
        raise ValueError(
            "a covariance is positive definite by scipy's eigenvalue test but has no Cholesky factor "
            "(it is singular to working precision); pass allow_singular=True with the degenerate covariance"
        )
    if rp != rq:
        # p has mass off q's support (rp > rq), or p lives on a null set of q (rp < rq)
        return math.inf
    # equal rank r < k: compare the affine supports, then work in the common subspace
    w, v = linalg.eigh(sq)
    u = v[:, np.argsort(w)[::-1][:rq]]
    proj_out = np.eye(k) - u @ u.T
    scale = max(float(np.max(np.abs(sq))), float(np.max(np.abs(sp))))
    delta = mp - mq
    if np.max(np.abs(proj_out @ sp @ proj_out)) > SUBSPACE_RTOL * scale or np.max(
        np.abs(proj_out @ delta)
    ) > SUBSPACE_RTOL * (float(np.max(np.abs(delta))) + math.sqrt(scale)):
        return math.inf
    return _kl_full_rank(u.T @ mp, u.T @ sp @ u, u.T @ mq, u.T @ sq @ u)
