"""Fast closed-form paths of the dispatch (issue 16, speed) against independent mpmath references.

The gamma closed form no longer uses rational arithmetic on its hot path: the log of a
ratio of products is carried in double-double (Dekker) and the Bregman divergence of
Stirling's remainder sums only the Taylor orders that matter. References here are the
textbook formula in mpmath at 60+ digits, with every float64 input converted exactly.
"""

from __future__ import annotations

import mpmath as mp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import klbook
from klbook.core.closed_forms import continuous as cc


def _kl_gamma_ref(a1, s1, a2, s2):
    """Textbook KL(gamma(a1, scale s1) || gamma(a2, scale s2)) in mpmath."""
    a1, s1, a2, s2 = (mp.mpf(x) for x in (a1, s1, a2, s2))
    return (
        (a1 - a2) * mp.digamma(a1) - mp.loggamma(a1) + mp.loggamma(a2)
        + a2 * (mp.log(s2) - mp.log(s1)) + a1 * (s1 - s2) / s2
    )


positive = st.floats(0.02, 200.0)
near = st.one_of(st.floats(-0.3, 0.3), st.floats(-1e-6, 1e-6), st.floats(-1e-12, 1e-12))


@settings(max_examples=150, deadline=None)
@given(positive, st.floats(1e-3, 1e3), near, near)
def test_gamma_pair_against_mpmath(a1, s1, da, ds):
    a2, s2 = a1 * (1 + da), s1 * (1 + ds)
    value = klbook.kl_divergence(stats.gamma(a1, scale=s1), stats.gamma(a2, scale=s2))
    with mp.workdps(90):
        ref = float(_kl_gamma_ref(a1, s1, a2, s2))
    assert abs(value - ref) <= 2e-14 * ref + 1e-300, (a1, s1, a2, s2, value, ref)


@settings(max_examples=150, deadline=None)
@given(st.floats(1e-130, 1e130), st.floats(1e-130, 1e130), st.floats(0.5, 2.0), st.floats(0.5, 2.0),
       st.one_of(st.just(0.0), st.floats(-1e-9, 1e-9), st.floats(-0.9, 3.0)))
def test_log_product_ratio_against_mpmath(a1, b1, fa, fb, t):
    a2, b2 = a1 * fa, b1 * fb * (1 + t) / fa
    value = cc.log_product_ratio(a1, b1, a2, b2)
    with mp.workdps(80):
        ref = mp.log((mp.mpf(a1) * mp.mpf(b1)) / (mp.mpf(a2) * mp.mpf(b2)))
    assert abs(value - float(ref)) <= 4.5e-16 * abs(float(ref)) + 5e-324, (a1, b1, a2, b2)


def test_log_product_ratio_outside_the_safe_range_takes_the_exact_path():
    for a1, b1, a2, b2 in [(1e-300, 1e300, 3.0, 0.5), (1e200, 1e200, 1e199, 1e201), (5e-324, 1.0, 1e-323, 1.0)]:
        with mp.workdps(80):
            ref = float(mp.log((mp.mpf(a1) * mp.mpf(b1)) / (mp.mpf(a2) * mp.mpf(b2))))
        assert abs(cc.log_product_ratio(a1, b1, a2, b2) - ref) <= 4.5e-16 * abs(ref) + 5e-324


@settings(max_examples=100, deadline=None)
@given(st.floats(1e-300, 1e300), st.one_of(st.floats(0.5, 2.0), st.floats(1e-3, 1e3)))
def test_rel_is_correctly_rounded(b, f):
    a = b * f
    with mp.workdps(60):
        ref = float((mp.mpf(a) - mp.mpf(b)) / mp.mpf(b))
    assert cc._rel(a, b) == ref


# --------------------------------------------------------------------------
# Multivariate normal: LAPACK called directly, log det(I + G) by its series for tiny G
# --------------------------------------------------------------------------

import numpy as np  # noqa: E402

from klbook.core.closed_forms import multivariate as mv  # noqa: E402


def _kl_mvn_ref(mp_, sp, mq, sq):
    """Textbook KL between multivariate normals in mpmath (inputs converted exactly)."""
    k = len(mp_)
    Sp, Sq = mp.matrix(sp.tolist()), mp.matrix(sq.tolist())
    d = mp.matrix((np.asarray(mp_) - 0).tolist()) - mp.matrix(np.asarray(mq).tolist())
    iq = mp.inverse(Sq)
    tr = sum((iq * Sp)[i, i] for i in range(k))
    maha = (d.T * iq * d)[0, 0]
    return (tr - k + mp.log(mp.det(Sq) / mp.det(Sp)) + maha) / 2


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 6), st.sampled_from([1.0, 1e-3, 1e-8, 0.0]))
def test_mvn_pair_against_mpmath(seed, k, closeness):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(k, k))
    sp = a @ a.T + 0.5 * np.eye(k)
    b = rng.normal(size=(k, k))
    sq = sp + closeness * (b @ b.T) if closeness else b @ b.T + 0.5 * np.eye(k)
    mp_, mq = rng.normal(size=k), rng.normal(size=k) * (closeness if closeness else 1.0)
    mq = mp_ + mq
    value = klbook.kl_divergence(stats.multivariate_normal(mp_, sp), stats.multivariate_normal(mq, sq))
    with mp.workdps(60):
        ref = float(_kl_mvn_ref(mp_, sp, mq, sq))
    assert abs(value - ref) <= 1e-12 * ref + 1e-300, (seed, k, closeness, value, ref)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.sampled_from([1e-16, 1e-12, 1e-8, 1e-6, 1e-3, 0.1]))
def test_logdet1p_against_mpmath(seed, k, size):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(k, k)) * size
    g = 0.5 * (a + a.T)
    with mp.workdps(60):
        ref = float(mp.log(mp.det(mp.eye(k) + mp.matrix(g.tolist()))))
    # eigenvalues of both signs cancel in the sum: the error is relative to the size of G
    assert abs(mv._logdet1p(g) - ref) <= 1e-15 * max(abs(ref), k * size) + 1e-30
