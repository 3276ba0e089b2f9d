"""Every number chapter 3 (chapters/03_properties.ipynb) states, recomputed, and every property
it proves checked on random pairs (the checks the page used to print as "True").

References are independent of klbook where it matters: numpy sums written out here, mpmath,
fractions and closed forms by hand. ``on_page`` checks that the page still states each number.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

from klbook import (check_gaussian_properties, check_properties, entropy, kl_asymmetry,
                    kl_divergence, kl_terms, pinsker_bound, total_variation, triangle_gap)
from klbook.book.properties import (bernoulli_asymmetry_grid, bretagnolle_huber_bound,
                                    mixture, product_distribution, pushforward,
                                    random_distributions)

MP_DPS = 40
PAGE = Path(__file__).resolve().parents[1] / "chapters" / "03_properties.ipynb"


def page_text() -> str:
    nb = json.loads(PAGE.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        parts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append("".join(out["text"]))
    return "\n".join(parts)


TEXT = " ".join(page_text().split())


def on_page(*snippets: str) -> None:
    for s in snippets:
        assert " ".join(s.split()) in TEXT, f"chapter 3 no longer says {s!r}"


def kl_ref(p, q) -> float:
    """Independent reference: the sum written out in mpmath."""
    total = mp.mpf(0)
    for a, b in zip(p, q):
        if a > 0:
            if b == 0:
                return math.inf
            total += mp.mpf(a) * mp.log(mp.mpf(a) / mp.mpf(b))
    return float(total)


@pytest.fixture(scope="module")
def checks():
    return check_properties(600, 4, seed=3)


# --- Gibbs ---------------------------------------------------------------------------------

def test_gibbs_on_random_pairs(checks):
    both = np.concatenate([checks.kl_pq, checks.kl_qp])
    ref = np.array([kl_ref(p, q) for p, q in zip(checks.p[:50], checks.q[:50])])
    np.testing.assert_allclose(checks.kl_pq[:50], ref, rtol=1e-13)
    terms = np.concatenate([kl_terms(p, q) for p, q in zip(checks.p, checks.q)])
    assert np.count_nonzero(both < 0) == 0
    assert both.size == 1200 and terms.size == 2400
    on_page(f"smallest {both.min():.5f} nats, largest {both.max():.4f} nats, negative: 0",
            f"negative: {np.mean(terms < 0):.1%} of them, the most negative {terms.min():.4f} nats",
            "about half of all terms are")
    assert 0.45 < np.mean(terms < 0) < 0.55


def test_zero_only_for_equal(checks):
    assert np.all(checks.kl_self == 0.0)
    for p in checks.p[:100]:
        assert kl_divergence(p, p) == 0.0


# --- local behaviour and Fisher information ------------------------------------------------

@pytest.mark.parametrize("k", [3, 7, 10, 20])
def test_delta_table(k):
    delta = 2.0**-k
    half, d = mp.mpf(1) / 2, mp.mpf(delta)
    ref = float(half * mp.log(half / (half + d)) + half * mp.log(half / (half - d)))
    kl = kl_divergence([0.5, 0.5], [0.5 + delta, 0.5 - delta])
    assert kl == pytest.approx(ref, rel=1e-14)
    tv = total_variation([0.5, 0.5], [0.5 + delta, 0.5 - delta])
    assert tv == delta
    assert kl >= 2 * tv**2                                     # Pinsker, the last column
    on_page(f"2^-{k:<3} {kl:.6e}  {tv:.4e}  {kl / delta**2:12.9f}  {kl / (2 * tv**2):12.9f}")


def test_kl_over_delta_squared_tends_to_half_the_fisher_information():
    fisher = 1 / (0.5 * 0.5)
    assert fisher == 4
    delta = mp.mpf(2) ** -30
    half = mp.mpf(1) / 2
    kl = half * mp.log(half / (half + delta)) + half * mp.log(half / (half - delta))
    assert float(kl / delta**2) == pytest.approx(fisher / 2, rel=1e-15)


def test_delta_1e6_rounding_note():
    q = [0.5 + 1e-6, 0.5 - 1e-6]
    assert sum(q) - 1 == pytest.approx(5.6e-17, rel=0.02)     # 2^-54
    kl = kl_divergence([0.5, 0.5], q)
    assert kl / 1e-12 == pytest.approx(1.99994, abs=2e-5)
    assert kl / (2 * total_variation([0.5, 0.5], q) ** 2) < 1
    on_page("sum to $1 + 5.6 \\times 10^{-17}$", "would read 1.99994")


@pytest.mark.parametrize("a,ratio", [(0.5, "1.0000"), (0.9, "1.0060"), (0.99, "1.0714")])
def test_fisher_table(a, ratio):
    delta = 1e-3
    ref = kl_ref([1 - a, a], [1 - a - delta, a + delta])
    kl = kl_divergence([1 - a, a], [1 - a - delta, a + delta])
    assert kl == pytest.approx(ref, rel=1e-12)
    quad = 0.5 * delta**2 / (a * (1 - a))
    assert f"{kl / quad:.4f}" == ratio
    on_page(f"{a:5.2f}   {kl:30.4e}   {quad:16.4e}   {kl / quad:6.4f}")


def test_fisher_claims_in_prose():
    assert (1 / (0.99 * 0.01)) / (1 / 0.25) == pytest.approx(25, rel=0.02)    # "about 25 times"
    big = kl_divergence([0.99, 0.01], [0.98, 0.02])
    small = kl_divergence([0.5, 0.5], [0.49, 0.51])
    assert big > 10 * small                                    # Bern(0.01)->0.02 vs 0.5->0.51
    # KL ~ half a chi-squared divergence for nearby distributions
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5))
    q = p * (1 + 1e-4 * rng.standard_normal(5))
    q /= q.sum()
    chi2 = np.sum((q - p) ** 2 / p)
    assert kl_divergence(p, q) == pytest.approx(0.5 * chi2, rel=1e-3)
    # the two directions agree to second order
    assert kl_divergence(q, p) == pytest.approx(kl_divergence(p, q), rel=1e-3)
    ratio = kl_divergence([0.01, 0.99], [0.009, 0.991]) / kl_divergence([0.5, 0.5], [0.499, 0.501])
    assert round(ratio) == 27                                               # "27 times in fact"
    on_page("about 25 times more divergence at $a = 0.99$ than at $a = 0.5$",
            "$F(0.99)/F(0.5) = 25.3$), and 27 times in fact")


# --- asymmetry -----------------------------------------------------------------------------

def test_coin_asymmetry(checks):
    pq, qp = kl_divergence([0.5, 0.5], [0.1, 0.9]), kl_divergence([0.1, 0.9], [0.5, 0.5])
    assert pq == pytest.approx(math.log(5 / 3), rel=1e-15)
    assert qp == pytest.approx(0.1 * math.log(0.2) + 0.9 * math.log(1.8), rel=1e-14)
    assert kl_asymmetry([0.5, 0.5], [0.1, 0.9]) == pytest.approx(pq - qp, rel=1e-14)
    assert (pq - qp) / qp == pytest.approx(0.39, abs=0.01)     # "almost 40 %"
    assert math.log(5) == pytest.approx(1.6, abs=0.01)
    on_page(f"KL(p ‖ q) = {pq:.6f} nats = {pq / math.log(2):.6f} bits",
            f"KL(q ‖ p) = {qp:.6f} nats", f"KL(p ‖ q) - KL(q ‖ p) = {pq - qp:.6f} nats",
            f"reaches {np.max(np.abs(checks.kl_pq - checks.kl_qp)):.4f} nats", "almost 40 %")


def test_bernoulli_sign_rule_and_diagonals():
    a = np.linspace(0.005, 0.995, 199)
    gap = bernoulli_asymmetry_grid(a, a)
    A, B = np.meshgrid(a, a, indexing="ij")
    ref = (A * np.log(A / B) + (1 - A) * np.log((1 - A) / (1 - B))
           - B * np.log(B / A) - (1 - B) * np.log((1 - B) / (1 - A)))
    np.testing.assert_allclose(gap, ref, atol=1e-12)
    closer = np.abs(A - 0.5) < np.abs(B - 0.5)
    off = np.abs(np.abs(A - 0.5) - np.abs(B - 0.5)) > 1e-9
    assert np.count_nonzero((gap > 0)[off] != closer[off]) == 0
    assert np.max(np.abs(np.diag(gap))) < 1e-15
    assert np.max(np.abs(np.fliplr(gap).diagonal())) < 1e-12
    on_page("# 0")


def test_antidiagonal_formula():
    for a in (0.1, 0.3, 0.77):
        val = (2 * a - 1) * math.log(a / (1 - a))
        assert kl_divergence([1 - a, a], [a, 1 - a]) == pytest.approx(val, rel=1e-13)
        assert kl_divergence([a, 1 - a], [1 - a, a]) == pytest.approx(val, rel=1e-13)


# --- triangle ------------------------------------------------------------------------------

def test_triangle(checks):
    p, q, s = stats.norm(0, 1), stats.norm(1, 1), stats.norm(2, 1)
    assert kl_divergence(p, s) == pytest.approx(2.0, abs=1e-15)
    assert triangle_gap(p, q, s) == pytest.approx(1.0, abs=1e-15)
    coins = triangle_gap([0.9, 0.1], [0.5, 0.5], [0.1, 0.9])
    ref = (kl_ref([0.9, 0.1], [0.1, 0.9]) - kl_ref([0.9, 0.1], [0.5, 0.5])
           - kl_ref([0.5, 0.5], [0.1, 0.9]))
    assert coins == pytest.approx(ref, rel=1e-13)
    for m in (0.01, 0.5, 1.0, 1.99):                           # fails for every m in (0, 2)
        assert m**2 / 2 + (2 - m) ** 2 / 2 < 2
    assert (0**2 / 2 + 2**2 / 2) == 2
    # Jeffreys of unit Gaussians is m^2
    assert kl_divergence(p, q) + kl_divergence(q, p) == pytest.approx(1.0, abs=1e-15)
    on_page("triangle gap = +1.000000 nats", f"triangle gap = {coins:+.6f} nats",
            f"fails for {np.mean(checks.triangle > 0):.1%}", f"by up to {checks.triangle.max():.3f} nats")


def test_triangle_exercise():
    shown = {2: "32.8%", 3: "25.7%", 4: "21.4%", 10: "7.3%"}
    for K, frac in shown.items():
        P, Q, S = (random_distributions(3000, K, seed=100 * K + i) for i in range(3))
        def kl_rows(a, b):       # vectorised reference: sum a log(a / b), row by row
            return np.sum(a * np.log(a / b), axis=1)
        gaps = kl_rows(P, S) - kl_rows(P, Q) - kl_rows(Q, S)
        for i in range(0, 3000, 300):
            assert triangle_gap(P[i], Q[i], S[i]) == pytest.approx(gaps[i], rel=1e-9, abs=1e-12)
        assert f"{np.mean(gaps > 0):.1%}" == frac
        if K == 4:
            assert gaps.max() == pytest.approx(6.27, abs=0.01)
    on_page("about 33 % of the triples on two outcomes, 26 % on three, 21 % on four and 7 % on ten",
            "up to about 6 nats on four outcomes")


# --- support -------------------------------------------------------------------------------

def test_infinite_support_claims():
    p3, q0 = [0.5, 0.3, 0.2], [0.6, 0.4, 0.0]
    assert kl_divergence(p3, q0) == math.inf
    assert kl_divergence(q0, p3) == pytest.approx(kl_ref(q0, p3), rel=1e-14)
    assert kl_divergence(stats.uniform(0, 2), stats.uniform(0, 1)) == math.inf
    assert kl_divergence(stats.uniform(0, 1), stats.uniform(0, 2)) == pytest.approx(math.log(2))
    q_eps = mixture([0, 0, 1], q0, 1e-15)
    at_1e15 = kl_divergence(p3, q_eps)
    assert at_1e15 == pytest.approx(kl_ref(p3, q_eps), rel=1e-12)
    assert round(at_1e15, 1) == 6.4
    on_page(f"KL(q0 ‖ p) = {kl_ref(q0, p3):.6f} nats", "the divergence of this example is only about 6.4 nats",
            "KL(U(0,1) ‖ U(0,2)) = 0.693147 nats")


# --- additivity, chain rule, mutual information ---------------------------------------------

def test_two_tosses():
    one = kl_divergence([0.5, 0.5], [0.1, 0.9])
    two = kl_divergence(product_distribution([0.5, 0.5], [0.5, 0.5]),
                        product_distribution([0.1, 0.9], [0.1, 0.9]))
    assert two == pytest.approx(2 * one, rel=1e-15)
    on_page(f"one toss:  {one:.6f} nats", f"two tosses: {two:.6f} nats")


def test_additivity_on_random_pairs(checks):
    rel = np.abs(checks.kl_joint - checks.kl_sum) / checks.kl_sum
    assert rel.max() < 1e-14
    g = check_gaussian_properties(12, dim=3, seed=4)
    assert (np.abs(g.kl_joint - g.kl_sum) / g.kl_sum).max() < 1e-14


def test_chain_rule_and_conditional_divergence():
    rng = np.random.default_rng(5)
    for _ in range(50):
        pj = rng.dirichlet(np.ones(12)).reshape(3, 4)
        qj = rng.dirichlet(np.ones(12)).reshape(3, 4)
        px, qx = pj.sum(1), qj.sum(1)
        cond = sum(px[i] * kl_ref(pj[i] / px[i], qj[i] / qx[i]) for i in range(3))
        assert kl_divergence(pj.ravel(), qj.ravel()) == pytest.approx(
            kl_ref(px, qx) + cond, rel=1e-12)
        assert kl_divergence(px, qx) <= kl_divergence(pj.ravel(), qj.ravel())


def test_mutual_information_of_the_binary_channel():
    flip = 0.1
    joint = np.array([[0.45, 0.05], [0.05, 0.45]])
    mi = kl_divergence(joint.ravel(), np.outer(joint.sum(1), joint.sum(0)).ravel())
    h = -(flip * math.log(flip) + (1 - flip) * math.log(1 - flip))
    assert mi == pytest.approx(math.log(2) - h, rel=1e-14)
    assert entropy([1 - flip, flip]) == pytest.approx(h, rel=1e-15)
    assert mi / math.log(2) == pytest.approx(0.531, abs=5e-4)          # "about half a bit"
    on_page(f"I(X; Y) = KL(joint ‖ product of margins) = {mi:.6f} nats = {mi / math.log(2):.4f} bits",
            "about half a bit")
    # symmetric in X and Y; zero for independent variables
    assert kl_divergence(joint.T.ravel(), np.outer(joint.sum(0), joint.sum(1)).ravel()) == \
        pytest.approx(mi, rel=1e-14)
    ind = np.outer([0.3, 0.7], [0.6, 0.4])
    assert kl_divergence(ind.ravel(), np.outer(ind.sum(1), ind.sum(0)).ravel()) == \
        pytest.approx(0.0, abs=1e-16)


# --- invariance, data processing -----------------------------------------------------------

def test_parity_merge_of_the_dice():
    p = np.array([1 / 2, 1 / 8, 1 / 8, 1 / 8, 1 / 16, 1 / 16])
    q = np.array([1 / 8, 1 / 4, 1 / 4, 1 / 8, 1 / 8, 1 / 8])
    pp, qq = pushforward(p, [0, 1, 0, 1, 0, 1]), pushforward(q, [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(pp, [0.6875, 0.3125])
    np.testing.assert_array_equal(qq, [0.5, 0.5])
    merged = kl_divergence(pp, qq)
    assert merged == pytest.approx(kl_ref(pp, qq), rel=1e-14)
    assert merged / kl_divergence(p, q) == pytest.approx(1 / 6, abs=0.01)   # "about a sixth"
    on_page(f"odd / even:  KL = {merged:.6f} nats", "about a sixth of the evidence")


def test_data_processing_and_invariance_on_random_pairs(checks):
    assert (np.abs(checks.kl_permuted - checks.kl_pq) / checks.kl_pq).max() < 1e-14
    assert np.max(checks.kl_merged - checks.kl_pq) <= 0
    g = check_gaussian_properties(12, dim=3, seed=4)
    for images in (g.kl_exp, g.kl_sinh):
        assert (np.abs(images - g.kl) / g.kl).max() < 1e-13


def test_log_sum_inequality_with_zero_terms():
    rng = np.random.default_rng(7)
    for _ in range(500):
        a = rng.uniform(0, 1, 6) * (rng.uniform(size=6) < 0.7)
        b = rng.uniform(1e-3, 1, 6)
        if a.sum() == 0:
            continue
        lhs = sum(x * math.log(x / y) for x, y in zip(a, b) if x > 0)
        assert lhs >= a.sum() * math.log(a.sum() / b.sum()) - 1e-12


# --- convexity -----------------------------------------------------------------------------

def test_joint_convexity(checks):
    gap = checks.kl_chord - checks.kl_mixed
    assert np.count_nonzero(gap < 0) == 0
    on_page(f"from {gap.min():.2e} to {gap.max():.3f} nats; negative: 0",
            f"on average {np.mean(checks.kl_mixed / checks.kl_chord):.1%} of the chord")


# --- total variation and Pinsker -----------------------------------------------------------

def test_pinsker_and_bretagnolle_huber(checks):
    assert np.all(checks.tv <= pinsker_bound(checks.kl_pq) + 1e-15)
    assert np.all(checks.tv <= bretagnolle_huber_bound(checks.kl_pq) + 1e-15)
    shifts = np.linspace(0.05, 2.8, 24)
    ratio = [stats.norm.cdf(s / 2) * 2 - 1 for s in shifts]                 # TV of N(0,1), N(s,1)
    ratio = np.array(ratio) / np.sqrt(shifts**2 / 4)
    assert ratio.max() == pytest.approx(0.798, abs=1e-3)                   # "loose by about 20 %"
    assert pinsker_bound(0.02) == pytest.approx(0.1, rel=1e-12)
    assert pinsker_bound(2.0) == pytest.approx(1.0)                         # useless beyond 2 nats
    on_page("loose by about 20 %", "$0.02$ nats, no event has probabilities under $p$ and $q$ that "
            "differ by more than $0.1$")


def test_tv_equal_prior_success_probability():
    """Best success probability with equal priors is 1/2 + TV/2 (likelihood-ratio test)."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
        best = 0.5 * np.sum(np.maximum(p, q))
        assert best == pytest.approx(0.5 + 0.5 * total_variation(p, q), rel=1e-14)


def test_almost_never_coins():
    assert total_variation([0.999, 0.001], [1.0, 0.0]) == pytest.approx(0.001, rel=1e-12)
    assert kl_divergence([0.999, 0.001], [1.0, 0.0]) == math.inf
    assert kl_divergence([1.0, 0.0], [0.999, 0.001]) == pytest.approx(-math.log(0.999), rel=1e-14)
    on_page("KL(never ‖ almost) = 0.001001 nats", "the other direction is only $0.0010$ nats")


def test_pinsker_exercise():
    shown = {0.2: 0.9717, 0.1: 0.9932, 0.01: 0.99993, 0.001: 0.9999993}
    for d, val in shown.items():
        p, q = [0.5 + d, 0.5 - d], [0.5 - d, 0.5 + d]
        r = total_variation(p, q) / pinsker_bound(kl_divergence(p, q))
        digits = len(str(val).split(".")[1])
        assert round(r, digits) == pytest.approx(val, abs=1.5 * 10**-digits)
    assert 1 - 2 / 3 * 0.1**2 == pytest.approx(0.9933, abs=1e-4)
    kl = kl_divergence([0.99, 0.01], [0.999, 0.001])
    assert kl == pytest.approx(0.01407, abs=1e-5)
    assert pinsker_bound(kl) == pytest.approx(0.0839, abs=1e-4)
    assert 9 < pinsker_bound(kl) / 0.009 < 10
    kl2 = kl_divergence([0.99, 0.01], [0.9995, 0.0005])
    assert pinsker_bound(kl2) / 0.0095 > 10
    on_page("0.9717, 0.9932, 0.99993 and 0.9999993", r"D_{\mathrm{KL}} \approx 0.01407")


def test_pinsker_tight_far_from_uniform():
    """The solution's example: p = (0.5, 0.4, 0.1), q = p (1 +- eps) on {1} / {2, 3}."""
    p = np.array([0.5, 0.4, 0.1])
    for eps in (1e-2, 1e-3, 1e-4):
        q = p * np.array([1 + eps, 1 - eps, 1 - eps])
        assert q.sum() == pytest.approx(1.0, abs=1e-15)
        r = total_variation(p, q) / pinsker_bound(kl_divergence(p, q))
        assert r == pytest.approx(1.0, abs=2 * eps)
    on_page("$p = (0.5, 0.4, 0.1)$")
