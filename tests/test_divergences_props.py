"""Property tests (hypothesis) of klbook.kl_divergence, entropy and cross_entropy on vectors.

Most inputs are dyadic: entries c_i / 2**k with small integers c_i and sum exactly
1, so identities that hold for exact distributions (additivity over products,
KL = H(p, q) - H(p), zero exactly when p = q) hold for the floats too, and the
tolerances only have to absorb the rounding of the results (a few ulp each).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from klbook import cross_entropy, entropy, kl_divergence

U = 2.0**-53  # unit roundoff
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _dyadic(counts: list[int]) -> np.ndarray:
    """counts -> probabilities summing to exactly 1: the last entry takes 2**k - sum(counts)."""
    total = sum(counts)
    k = total.bit_length() + 1
    return np.array(counts + [2**k - total], dtype=np.float64) / 2.0**k


@st.composite
def dyadic_pairs(draw, max_len: int = 12, max_count: int = 2**16, zeros: bool = True):
    """Two dyadic probability vectors of the same length (zeros allowed in all but the last entry)."""
    n = draw(st.integers(1, max_len))
    lo = 0 if zeros else 1
    counts = st.lists(st.integers(lo, max_count), min_size=n - 1, max_size=n - 1)
    return _dyadic(draw(counts)), _dyadic(draw(counts))


@st.composite
def float_vectors(draw, max_len: int = 30):
    """Probability vectors normalised by float division, as users make them (sum 1 within ~1e-16)."""
    n = draw(st.integers(1, max_len))
    w = np.array(draw(st.lists(st.floats(1e-6, 1e6), min_size=n, max_size=n)))
    return w / w.sum()


def _kl_mp(p, q):
    with mp.workdps(50):
        s = mp.mpf(0)
        for a, b in zip(p.tolist(), q.tolist()):
            if a == 0:
                continue
            if b == 0:
                return mp.inf
            s += mp.mpf(a) * (mp.log(mp.mpf(a)) - mp.log(mp.mpf(b)))
        return s


@SETTINGS
@given(dyadic_pairs())
def test_nonnegative_and_zero_exactly_when_equal(pq):
    p, q = pq
    d = kl_divergence(p, q)
    assert d >= 0.0
    assert (d == 0.0) == bool(np.array_equal(p, q))
    assert kl_divergence(p, p) == 0.0 and kl_divergence(q, q) == 0.0


@SETTINGS
@given(float_vectors())
def test_zero_for_identical_float_vectors(p):
    assert kl_divergence(p, p.copy()) == 0.0


@SETTINGS
@given(dyadic_pairs())
def test_agrees_with_mpmath_to_a_few_ulp(pq):
    p, q = pq
    ref = _kl_mp(p, q)
    d = kl_divergence(p, q)
    if ref == mp.inf:
        assert d == math.inf
    elif ref == 0:
        assert d == 0.0
    else:
        assert abs(mp.mpf(d) - ref) <= 4 * math.ulp(float(ref))


@SETTINGS
@given(dyadic_pairs(zeros=False), st.integers(1, 2**20))
def test_near_equal_pairs_agree_with_mpmath(pq, step):
    """q = p with a small exact move between two entries: KL ~ (move)^2, where naive sums cancel."""
    p, _ = pq
    assume(p.size >= 2)
    i, j = int(np.argmax(p)), int(np.argmin(p))
    assume(i != j)
    move = step * math.ulp(p[i])  # a multiple of the ulp of both entries
    q = p.copy()
    q[i] -= move
    q[j] += move
    assume(q[i] - p[i] == -move and q[j] - p[j] == move)  # exact moves: q sums to 1 exactly
    ref = _kl_mp(p, q)
    assert abs(mp.mpf(kl_divergence(p, q)) - ref) <= 4 * math.ulp(float(ref))


@SETTINGS
@given(dyadic_pairs())
def test_kl_is_cross_entropy_minus_entropy(pq):
    p, q = pq
    d, hpq, hp = kl_divergence(p, q), cross_entropy(p, q), entropy(p)
    if d == math.inf:
        assert hpq == math.inf
        return
    # each value is within a few ulp of itself; the difference can cancel, so the tolerance
    # scales with the size of the terms, not of the result
    assert abs(d - (hpq - hp)) <= 8 * U * (hpq + hp) + 1e-300


@SETTINGS
@given(dyadic_pairs(max_len=8, max_count=2**12), dyadic_pairs(max_len=8, max_count=2**12))
def test_additive_over_independent_products(pq1, pq2):
    (p1, q1), (p2, q2) = pq1, pq2
    p, q = np.outer(p1, p2).ravel(), np.outer(q1, q2).ravel()  # exact: entries have <= 15 bits each
    assert math.fsum(p) == 1.0 and math.fsum(q) == 1.0
    d1, d2, d = kl_divergence(p1, q1), kl_divergence(p2, q2), kl_divergence(p, q)
    if math.inf in (d1, d2):
        assert d == math.inf
    else:
        assert abs(d - (d1 + d2)) <= 8 * U * (d1 + d2)
    h = entropy(p)
    assert abs(h - (entropy(p1) + entropy(p2))) <= 8 * U * h


@SETTINGS
@given(dyadic_pairs(max_len=20), st.randoms(use_true_random=False))
def test_invariant_under_a_common_permutation(pq, rnd):
    p, q = pq
    perm = list(range(p.size))
    rnd.shuffle(perm)
    d, dp = kl_divergence(p, q), kl_divergence(p[perm], q[perm])
    if d == math.inf:
        assert dp == math.inf
    else:
        assert abs(d - dp) <= 4 * U * d
    assert abs(entropy(p) - entropy(p[perm])) <= 4 * U * entropy(p)


@SETTINGS
@given(dyadic_pairs(), st.floats(1.01, 100.0))
def test_base_scaling(pq, base):
    p, q = pq
    nats = kl_divergence(p, q)
    bits = kl_divergence(p, q, base=2)
    if nats == math.inf:
        assert bits == math.inf
        return
    assert abs(bits - nats / math.log(2)) <= 2 * U * bits
    assert abs(kl_divergence(p, q, base=base) - nats / math.log(base)) <= 2 * U * nats / math.log(base)
    assert abs(entropy(p, base=2) * math.log(2) - entropy(p)) <= 4 * U * entropy(p)


@SETTINGS
@given(float_vectors())
def test_entropy_bounds(p):
    h = entropy(p)
    assert 0.0 <= h <= math.log(p.size) * (1 + 8 * U) + 1e-300
    assert cross_entropy(p, p) == h


# --------------------------------------------------------------------------
# Near-equal vectors: within 1 ulp of the exact value (issue 16, vector engine)
# --------------------------------------------------------------------------


@st.composite
def near_equal_pairs(draw, max_len: int = 40):
    """p = c / 2**K summing to exactly 1, q = (c + m) / 2**K with integer moves m summing to 0.

    Every |m_i| <= c_i * spread, spread from 2**-3 (ratios in the table range of the careful
    path) down to 2**-40 (KL ~ 1e-24); all entries exact floats (c_i + m_i < 2**53).
    """
    n = draw(st.integers(2, max_len))
    head = draw(st.lists(st.integers(1, 2**40), min_size=n - 1, max_size=n - 1))
    K = sum(head).bit_length() + draw(st.integers(1, 8))
    c = head + [2**K - sum(head)]
    spread = draw(st.sampled_from([2.0**-3, 2.0**-5, 2.0**-8, 2.0**-14, 2.0**-22, 2.0**-30, 2.0**-40]))
    u = draw(st.lists(st.floats(-1.0, 1.0), min_size=n - 1, max_size=n - 1))
    m = [int(ci * spread * ui) for ci, ui in zip(c, u)]
    m.append(-sum(m))
    assume(abs(m[-1]) <= c[-1] * spread and any(m))
    p = np.array(c, dtype=np.float64) / 2.0**K
    q = np.array([ci + mi for ci, mi in zip(c, m)], dtype=np.float64) / 2.0**K
    assert math.fsum(p) == 1.0 and math.fsum(q) == 1.0 and (q > 0).all()
    return p, q


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_equal_pairs())
def test_near_equal_vectors_within_one_ulp_of_mpmath(pq):
    """The careful path is within 1 ulp of the exact value of sum p log(p/q) for the floats given."""
    p, q = pq
    ref = _kl_mp(p, q)
    assert ref > 0
    assert abs(mp.mpf(kl_divergence(p, q)) - ref) <= math.ulp(float(ref))
