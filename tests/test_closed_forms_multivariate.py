r"""KL between multivariate normals (klbook.core.closed_forms.multivariate).

Reference: the textbook formula

.. math::

   D = \tfrac12\big[\operatorname{tr}(\Sigma_q^{-1}\Sigma_p) - k
       + \log\det\Sigma_q - \log\det\Sigma_p + (\mu_q-\mu_p)^T\Sigma_q^{-1}(\mu_q-\mu_p)\big]

evaluated with mpmath matrices (inverse, determinant) at 60 digits, 100 for nearly
identical pairs, with every float64 entry converted exactly. Covariances are built
with a chosen condition number (random rotation of log-spaced eigenvalues), up to 1e8.
"""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from klbook.core.closed_forms import kl_distributions


def _key(a: np.ndarray) -> tuple:
    return tuple(np.asarray(a, dtype=float).ravel().tolist())


@functools.lru_cache(maxsize=None)
def _ref(mp_key: tuple, sp_key: tuple, mq_key: tuple, sq_key: tuple, dps: int = 60) -> float:
    k = len(mp_key)
    with mp.workdps(dps):
        sp = mp.matrix(k, k)
        sq = mp.matrix(k, k)
        for i in range(k):
            for j in range(k):
                sp[i, j] = mp.mpf(sp_key[i * k + j])
                sq[i, j] = mp.mpf(sq_key[i * k + j])
        d = mp.matrix([mp.mpf(a) - mp.mpf(b) for a, b in zip(mp_key, mq_key)])
        sqi = mp.inverse(sq)
        tr = sum((sqi * sp)[i, i] for i in range(k))
        maha = (d.T * sqi * d)[0, 0]
        return float((tr - k + mp.log(mp.det(sq)) - mp.log(mp.det(sp)) + maha) / 2)


def ref_kl(mp_, sp, mq, sq, dps=60):
    return _ref(_key(mp_), _key(sp), _key(mq), _key(sq), dps)


def _cov(rng: np.random.Generator, k: int, cond: float) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(k, k)))
    s = (q * np.logspace(0, -math.log10(cond), k)) @ q.T
    return 0.5 * (s + s.T)


def _mvn(m, s):
    return stats.multivariate_normal(m, s)


WORST: dict[str, float] = {}


def _rel(value: float, ref: float, key: str) -> float:
    e = abs(value - ref) / abs(ref)
    WORST[key] = max(WORST.get(key, 0.0), e)
    return e


# (dimension, condition number, relative size of the perturbation of Sigma_p away from Sigma_q;
#  None = independent covariances)
CASES = [(k, cond, eps) for k in (2, 3, 6) for cond in (1.0, 1e4, 1e8) for eps in (0.0, 1e-12, 1e-6, 1e-2, None)]
# measured worst relative errors are ~1e-15 up to cond 1e4 and ~3e-12 at cond 1e8 (rounding in the
# triangular solves); the bounds leave a margin
TOL = {1.0: 1e-14, 1e4: 1e-13, 1e8: 2e-11}


@pytest.mark.parametrize("k,cond,eps", CASES)
def test_against_mpmath_matrices(k, cond, eps):
    rng = np.random.default_rng(hash((k, cond, eps)) % 2**32)
    sq = _cov(rng, k, cond)
    if eps is None:
        sp = _cov(rng, k, cond)
        mp_ = rng.normal(size=k)
    else:
        x = np.eye(k) + eps * rng.normal(size=(k, k))
        sp = x @ sq @ x.T
        sp = 0.5 * (sp + sp.T)
        mp_ = rng.normal(size=k)
    mq = mp_ + (eps if eps else 1.0) * 1e-3 * rng.normal(size=k)
    value = kl_distributions(_mvn(mp_, sp), _mvn(mq, sq))
    ref = ref_kl(mp_, sp, mq, sq, dps=100 if eps is not None and eps < 1e-3 else 60)
    assert _rel(value, ref, f"k={k} cond={cond:.0e} eps={eps}") < TOL[cond]


def test_near_identical_covariances_do_not_cancel():
    """Sigma_p = Sigma_q (1 + 1e-9) and equal means: KL = k (d - log(1 + d)) / 2, d ~ 1e-9."""
    rng = np.random.default_rng(7)
    sq = _cov(rng, 4, 100.0)
    sp = sq * (1 + 1e-9)
    m = np.zeros(4)
    value = kl_distributions(_mvn(m, sp), _mvn(m, sq))
    ref = ref_kl(m, sp, m, sq, dps=100)
    assert _rel(value, ref, "near identical (1e-9)") < 1e-14


def test_one_dimension_matches_the_univariate_textbook_form():
    value = kl_distributions(_mvn([0.3], [[1.44]]), _mvn([-1.0], [[0.49]]))
    with mp.workdps(50):
        s1, s2 = mp.sqrt(mp.mpf(1.44)), mp.sqrt(mp.mpf(0.49))
        ref = mp.log(s2 / s1) + (s1**2 + (mp.mpf(0.3) + 1) ** 2) / (2 * s2**2) - mp.mpf(1) / 2
    assert abs(value - float(ref)) / float(ref) < 1e-15


def test_equal_distributions_give_exactly_zero():
    rng = np.random.default_rng(3)
    s = _cov(rng, 5, 1e6)
    m = rng.normal(size=5)
    assert kl_distributions(_mvn(m, s), _mvn(m.copy(), s.copy())) == 0.0


def test_extreme_scales():
    """KL is invariant under x -> c x; covariances near the ends of the float range."""
    rng = np.random.default_rng(11)
    sp, sq = _cov(rng, 3, 10.0), _cov(rng, 3, 10.0)
    m1, m2 = rng.normal(size=3), rng.normal(size=3)
    base = ref_kl(m1, sp, m2, sq)
    for c in (2.0**-500, 2.0**500):
        value = kl_distributions(_mvn(m1 * c, sp * c * c), _mvn(m2 * c, sq * c * c))
        assert _rel(value, base, "extreme scales") < 1e-14


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**32 - 1), st.floats(0.0, 3.0))
def test_nonnegative_and_finite(k, seed, spread):
    rng = np.random.default_rng(seed)
    sp, sq = _cov(rng, k, 10**spread), _cov(rng, k, 10**spread)
    value = kl_distributions(_mvn(rng.normal(size=k), sp), _mvn(rng.normal(size=k), sq))
    assert math.isfinite(value) and value >= 0.0


# ------------------------------------------------------------------------------------
# Degenerate normals, dimensions, bad input
# ------------------------------------------------------------------------------------


def _singular(m, s):
    return stats.multivariate_normal(m, s, allow_singular=True)


def test_degenerate_on_the_same_line_is_the_one_dimensional_kl():
    s1 = np.array([[1.0, 1.0], [1.0, 1.0]])  # variance 2 along (1, 1)/sqrt2
    s2 = 2.0 * s1
    value = kl_distributions(_singular([0.0, 0.0], s1), _singular([1.0, 1.0], s2))
    with mp.workdps(50):
        v1, v2, d = mp.mpf(2), mp.mpf(4), mp.sqrt(2)  # along the line: N(0, 2) || N(sqrt2, 4)
        ref = mp.log(mp.sqrt(v2 / v1)) + (v1 + d**2) / (2 * v2) - mp.mpf(1) / 2
    assert abs(value - float(ref)) / float(ref) < 1e-14


@pytest.mark.parametrize(
    "p,q",
    [
        (_singular([0.0, 0.0], [[1.0, 1.0], [1.0, 1.0]]), _singular([1.0, 0.0], [[2.0, 2.0], [2.0, 2.0]])),  # parallel lines
        (_singular([0.0, 0.0], [[1.0, 1.0], [1.0, 1.0]]), _singular([0.0, 0.0], [[1.0, -1.0], [-1.0, 1.0]])),  # crossing
        (_singular([0.0, 0.0], [[1.0, 1.0], [1.0, 1.0]]), stats.multivariate_normal([0.0, 0.0], np.eye(2))),  # null set of q
        (stats.multivariate_normal([0.0, 0.0], np.eye(2)), _singular([0.0, 0.0], [[1.0, 1.0], [1.0, 1.0]])),  # mass off q
    ],
    ids=["parallel", "crossing", "p-degenerate", "q-degenerate"],
)
def test_different_supports_are_infinite(p, q):
    assert kl_distributions(p, q) == math.inf


def test_dimension_mismatch_raises():
    with pytest.raises(ValueError, match="different dimension.*2.*3"):
        kl_distributions(_mvn(np.zeros(2), np.eye(2)), _mvn(np.zeros(3), np.eye(3)))


def test_multivariate_against_univariate_raises():
    with pytest.raises(TypeError, match="multivariate normal"):
        kl_distributions(_mvn(np.zeros(2), np.eye(2)), stats.norm())


def test_report_worst_errors(capsys):
    with capsys.disabled():
        print("\nworst relative error vs mpmath matrices (multivariate normal):")
        for key in sorted(WORST):
            print(f"  {key:36s} {WORST[key]:.1e}")


def test_factorisation_is_cached_per_object_and_redone_when_it_changes():
    """The covariance of a frozen MVN is validated and factorised once; an in-place edit of its mean or
    covariance (or a non-finite entry) is seen on the next call."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 4))
    sp, sq = a @ a.T + 4 * np.eye(4), np.diag([1.0, 2.0, 3.0, 4.0])
    p, q = _mvn(rng.normal(size=4), sp), _mvn(np.zeros(4), sq)
    first = kl_distributions(p, q)
    assert kl_distributions(p, q) == first == kl_distributions(_mvn(p.mean.copy(), sp), _mvn(np.zeros(4), sq))
    p.cov[0, 0] *= 2.0  # in place: scipy's frozen object now describes another normal
    assert kl_distributions(p, q) == kl_distributions(_mvn(p.mean.copy(), p.cov.copy()), _mvn(np.zeros(4), sq))
    q.mean[1] = 3.0
    assert kl_distributions(p, q) == kl_distributions(_mvn(p.mean.copy(), p.cov.copy()), _mvn(q.mean.copy(), sq))
    q.mean[2] = np.nan
    with pytest.raises(ValueError, match="q: multivariate normal with a non-finite mean"):
        kl_distributions(p, q)


@pytest.mark.parametrize("k, spread", [(2, 0.3), (3, 0.45), (5, 0.2), (5, 0.6), (6, 3.0)])
def test_both_regimes_near_their_boundary(k, spread):
    """Pairs whose covariances differ by eigenvalues around the near/far threshold (1/2) agree with mpmath."""
    rng = np.random.default_rng(k)
    a = rng.normal(size=(k, k))
    sq = a @ a.T + k * np.eye(k)
    lq = np.linalg.cholesky(sq)
    e = np.diag(rng.uniform(-min(spread, 0.9), spread, size=k))
    e[0, 0] = spread
    sp = lq @ (np.eye(k) + e) @ lq.T
    sp = 0.5 * (sp + sp.T)
    mp_, mq = rng.normal(size=k), rng.normal(size=k)
    value = kl_distributions(_mvn(mp_, sp), _mvn(mq, sq))
    ref = ref_kl(mp_, sp, mq, sq)
    assert abs(value - ref) <= 1e-13 * ref
