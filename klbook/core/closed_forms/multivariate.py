r"""Closed forms of KL: multivariate normal (registered on import).

The multivariate form takes the frozen ``scipy.stats.multivariate_normal``
objects themselves (not :class:`~klbook.core.closed_forms.Params`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from . import register_kl
from .continuous import eta, log_quotient

__all__: list[str] = []

#: Relative tolerance used to decide that two degenerate (singular) normals live
#: on the same affine subspace. Only singular covariances reach this test.
SUBSPACE_RTOL = 1e-9

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


def _solve_lower(l: np.ndarray, b: np.ndarray) -> np.ndarray:
    r""":math:`L^{-1} b` for a lower-triangular L with a positive diagonal (LAPACK ``dtrtrs``)."""
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


def _positive_definite(s: np.ndarray) -> bool:
    """True when the symmetric matrix ``s`` has a Cholesky factor with a positive diagonal."""
    return _cholesky(s) is not None


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


def _kl_full_rank(mp: np.ndarray, sp: np.ndarray, mq: np.ndarray, sq: np.ndarray) -> float:
    """KL between non-degenerate normals (see ``_kl_mvn_mvn``; the covariances are positive definite)."""
    # A common power-of-two scaling (exact, KL is invariant) keeps the splitting away from overflow.
    big = max(float(np.max(np.abs(sp))), float(np.max(np.abs(sq))))
    e2 = math.frexp(big)[1] // 2
    sp, sq = np.ldexp(sp, -2 * e2), np.ldexp(sq, -2 * e2)
    mp, mq = np.ldexp(mp, -e2), np.ldexp(mq, -e2)

    lq, gq = _refined_cholesky(sq)
    # Mahalanobis term with S_q^{-1} = L^{-T}(I + G)^{-1}L^{-1}; mp - mq carried exactly as hi + lo
    d_hi, d_lo = _two_sum(mp, -mq)
    zz = _solve_lower(lq, np.stack([d_hi, d_lo], axis=1))
    z = zz[:, 0] + zz[:, 1]
    maha = math.fsum(float(x) * float(x) for x in z) - float(z @ gq @ z)

    # Near regime: eigenvalues e_i of E = L_q^{-1}(S_p - S_q)L_q^{-T}, corrected for G_q
    s_hi, s_lo = _two_sum(sp, -sq)
    e_tilde = _sandwich(lq, s_hi) + _sandwich(lq, s_lo)
    e_mat = e_tilde - 0.5 * (gq @ e_tilde + e_tilde @ gq)
    e = _eigvalsh(0.5 * (e_mat + e_mat.T))
    if float(np.max(np.abs(e))) <= NEAR_THRESHOLD:
        # sum of lambda - 1 - log(lambda) = eta(log1p(e)), each term >= 0
        cov = math.fsum(eta(math.log1p(float(x))) for x in e)
        return 0.5 * (cov + maha)

    # Far regime: A = L_q^{-1} L_p, ||A||_F^2 - k - 2 sum log a_ii = sum eta(2 log a_ii) + sum_{i>j} a_ij^2,
    # plus the first-order corrections for G_p and G_q.
    lp, gp = _refined_cholesky(sp)
    a = _solve_lower(lq, lp)
    k = a.shape[0]
    diag = math.fsum(eta(2.0 * log_quotient(float(lp[i, i]), float(lq[i, i]))) for i in range(k))
    off = math.fsum(float(x) * float(x) for x in a[np.tril_indices(k, -1)])
    corr = float(np.sum((a @ gp) * a) - np.sum((gq @ a) * a)) - _logdet1p(gp) + _logdet1p(gq)
    return 0.5 * (diag + off + corr + maha)


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
    mp = np.asarray(p.mean, dtype=float).reshape(-1)
    mq = np.asarray(q.mean, dtype=float).reshape(-1)
    if mp.shape != mq.shape:
        raise ValueError(
            f"multivariate normals of different dimension: p has dimension {mp.size}, q has dimension {mq.size}"
        )
    k = mp.size
    sp = np.asarray(p.cov, dtype=float).reshape(k, k)
    sq = np.asarray(q.cov, dtype=float).reshape(k, k)
    for name, m, s in (("p", mp, sp), ("q", mq, sq)):
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(s))):
            raise ValueError(f"{name}: multivariate normal with a non-finite mean or covariance")
    # Positive definite is decided by a Cholesky factorisation of the covariance itself, never by
    # scipy's eigenvalue cutoff (which drops a direction once cond >~ 4.5e9, although the matrix is
    # numerically positive definite and the KL well defined).
    if _positive_definite(sp) and _positive_definite(sq):
        return _kl_full_rank(mp, sp, mq, sq)
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
