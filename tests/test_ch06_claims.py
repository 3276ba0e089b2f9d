"""Every number and numeric claim on chapter 6 (beyond KL), recomputed.

Independent references: mpmath/closed forms for the dice and Gaussian Rényi orders, the
uniform-slide formula s log 2, exact binomial error probabilities for the testing section, a
grid maximum of (1 - lambda) D_lambda for the Chernoff information.
"""

import math

import numpy as np
import pytest
from scipy import optimize
from scipy.spatial.distance import jensenshannon
from scipy.stats import binom, norm, uniform

from klbook import (
    GaussianMixture,
    alpha_divergence,
    bhattacharyya_coefficient,
    chernoff_information,
    fit_gaussian,
    hellinger_distance,
    js_divergence,
    kl_divergence,
    renyi_divergence,
)

P_DIE = np.array([0.30, 0.25, 0.20, 0.15, 0.07, 0.03])
Q_DIE = np.array([0.10, 0.10, 0.15, 0.20, 0.20, 0.25])


def test_dice_and_js():
    kl_pq = float(np.sum(P_DIE * np.log(P_DIE / Q_DIE)))
    m = (P_DIE + Q_DIE) / 2
    js = 0.5 * np.sum(P_DIE * np.log(P_DIE / m)) + 0.5 * np.sum(Q_DIE * np.log(Q_DIE / m))
    assert f"{kl_divergence(P_DIE, Q_DIE):.6f}" == f"{kl_pq:.6f}" == "0.435945"
    assert f"{kl_divergence(Q_DIE, P_DIE):.6f}" == "0.552924"
    assert abs(js_divergence(P_DIE, Q_DIE) - js) < 1e-15 and f"{js:.6f}" == "0.112037"
    assert f"{js_divergence(P_DIE, Q_DIE, base=2):.6f}" == "0.161636"
    assert f"{jensenshannon(P_DIE, Q_DIE):.6f}" == "0.334720"
    low, high = np.array([1, 1, 1, 0, 0, 0]) / 3, np.array([0, 0, 0, 1, 1, 1]) / 3
    assert kl_divergence(low, high) == math.inf == kl_divergence(high, low)
    assert js_divergence(low, high, base=2) == pytest.approx(1.0, abs=1e-15)
    # "differ by about a quarter"
    assert 0.2 < kl_divergence(Q_DIE, P_DIE) / kl_divergence(P_DIE, Q_DIE) - 1 < 0.3


def test_triangle_examples():
    h, f, t = np.array([1.0, 0.0]), np.array([0.5, 0.5]), np.array([0.0, 1.0])
    d_ht, d_hf, d_ft = js_divergence(h, t), js_divergence(h, f), js_divergence(f, t)
    assert f"{d_ht:.4f}" == "0.6931" and f"{d_hf + d_ft:.4f}" == "0.4315" and d_ht > d_hf + d_ft
    s = math.sqrt
    assert f"{s(d_ht):.4f}" == "0.8326" and f"{s(d_hf) + s(d_ft):.4f}" == "0.9290"
    rng = np.random.default_rng(2024)
    triples = rng.dirichlet(np.full(3, 0.4), size=(400, 3))
    bad_js = sum(js_divergence(a, c) > js_divergence(a, b) + js_divergence(b, c) for a, b, c in triples)
    bad_sqrt = sum(s(js_divergence(a, c)) > (s(js_divergence(a, b)) + s(js_divergence(b, c))) * (1 + 1e-12)
                   for a, b, c in triples)
    assert bad_js > 40 and bad_sqrt == 0          # "a good fraction"; "none of the 400"


def test_uniform_slide_and_exercise():
    for s in (0.1, 0.5, 0.9, 2.0):
        assert js_divergence(uniform(0, 1), uniform(s, 1)) == pytest.approx(min(s, 1) * math.log(2), abs=1e-10)
        assert js_divergence(uniform(0, 1), uniform(s, 1), base=2) == pytest.approx(min(s, 1), abs=1e-10)
        assert kl_divergence(uniform(0, 1), uniform(s, 1)) == math.inf


def test_renyi_orders_of_the_dice():
    expected = {0.0: "0.000000", 0.25: "0.132165", 0.5: "0.249646", 1.0: "0.435945",
                2.0: "0.658694", 10.0: "0.981516", math.inf: "1.098612"}
    vals = []
    for a, txt in expected.items():
        v = renyi_divergence(P_DIE, Q_DIE, a)
        vals.append(v)
        if 0 < a < math.inf and a != 1:
            ref = math.log(np.sum(P_DIE**a * Q_DIE ** (1 - a))) / (a - 1)
            assert abs(v - ref) < 1e-13
        assert f"{v:.6f}" == txt
    assert all(x <= y for x, y in zip(vals, vals[1:]))
    assert vals[-1] == pytest.approx(math.log(3), abs=1e-15)
    bc = bhattacharyya_coefficient(P_DIE, Q_DIE)
    assert bc == pytest.approx(np.sum(np.sqrt(P_DIE * Q_DIE)), abs=1e-15) and f"{bc:.6f}" == "0.882653"
    assert f"{-2 * math.log(bc):.6f}" == "0.249646"
    assert hellinger_distance(P_DIE, Q_DIE) ** 2 == pytest.approx(1 - bc, abs=1e-15)
    assert f"{1 - bc:.6f}" == "0.117347"
    # numerical notes: orders 1 +- 1e-9 bracket KL and agree to nine digits
    kl = kl_divergence(P_DIE, Q_DIE)
    lo, hi = renyi_divergence(P_DIE, Q_DIE, 1 - 1e-9), renyi_divergence(P_DIE, Q_DIE, 1 + 1e-9)
    assert lo < kl < hi and abs(lo - kl) < 1e-9 and abs(hi - kl) < 1e-9


def test_gaussian_renyi():
    pa, qa = norm(0, 1), norm(1, 1.5)
    assert 1.5**2 / (1.5**2 - 1) == pytest.approx(1.8)
    assert renyi_divergence(qa, pa, 1.79) < math.inf and renyi_divergence(qa, pa, 1.81) == math.inf
    a = 0.3
    assert (1 - a) * renyi_divergence(pa, qa, a) == pytest.approx(a * renyi_divergence(qa, pa, 1 - a), rel=1e-10)
    assert renyi_divergence(pa, qa, 1e-6) / 1e-6 == pytest.approx(kl_divergence(qa, pa), rel=1e-5)


def test_alpha_family_facts():
    for a in (-1.0, 0.2, 0.5, 2.0):
        assert alpha_divergence(P_DIE, Q_DIE, a) == pytest.approx(alpha_divergence(Q_DIE, P_DIE, 1 - a), rel=1e-12)
    assert alpha_divergence(P_DIE, Q_DIE, 0.5) == pytest.approx(4 * hellinger_distance(P_DIE, Q_DIE) ** 2, rel=1e-12)
    for a in (0.3, 2.0):
        s = np.sum(P_DIE**a * Q_DIE ** (1 - a))
        assert s == pytest.approx(1 - a * (1 - a) * alpha_divergence(P_DIE, Q_DIE, a), rel=1e-12)
        assert s == pytest.approx(math.exp((a - 1) * renyi_divergence(P_DIE, Q_DIE, a)), rel=1e-12)
    # at a negative order the alpha-divergence and the Renyi formula rank q's in opposite orders
    a = -1.0
    q1, q2 = np.full(6, 1 / 6), Q_DIE
    alpha_rank = alpha_divergence(P_DIE, q1, a) < alpha_divergence(P_DIE, q2, a)
    renyi_formula = [math.log(np.sum(P_DIE**a * q ** (1 - a))) / (a - 1) for q in (q1, q2)]
    assert alpha_rank != (renyi_formula[0] < renyi_formula[1])


def test_alpha_fit_table_and_alpha_c():
    p_sym = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    p_skew = GaussianMixture([0.2, 0.8], [-2.0, 1.5], [0.6, 1.0])
    sym = {a: fit_gaussian(p_sym, direction="alpha", alpha=a) for a in (2.0, 1.0, 0.5, 0.3, 0.2, 0.0, -1.0)}
    skew = {a: fit_gaussian(p_skew, direction="alpha", alpha=a) for a in (1.0, 0.0)}
    assert f"{sym[1.0].std**2:.4f}" == "4.3600" and f"{sym[0.5].kl:.5f}" == "0.69618"
    assert sym[2.0].std > sym[1.0].std and sym[-1.0].std < sym[0.0].std
    assert abs(sym[0.3].mean) < 1e-6 and abs(sym[0.2].mean) > 1.9
    assert f"{skew[1.0].mean:.4f}" == "0.8000" and f"{skew[0.0].mean:.4f}" == "1.1841"
    def cand(a, start):
        return fit_gaussian(p_sym, direction="alpha", alpha=float(a), init=start)

    alpha_c = optimize.brentq(lambda a: cand(a, (0.0, 2.0)).kl - cand(a, (2.0, 0.6)).kl, 0.25, 0.3, xtol=1e-6)
    c, m = cand(alpha_c, (0.0, 2.0)), cand(alpha_c, (2.0, 0.6))
    assert f"{alpha_c:.4f}" == "0.2517" and f"{c.kl:.6f}" == f"{m.kl:.6f}" == "0.847847"
    assert 0.25 < alpha_c < 0.3                      # "snap onto a mode between 0.25 and 0.3"


def test_comparison_table():
    rng = np.random.default_rng(6)
    rng.dirichlet(np.full(4, 0.6), size=(200, 2))
    disjoint = (np.array([0.5, 0.5, 0.0, 0.0]), np.array([0.0, 0.0, 0.5, 0.5]))
    missing = (np.full(4, 0.25), np.array([0.4, 0.3, 0.3, 0.0]))
    assert js_divergence(*disjoint) == pytest.approx(math.log(2))
    assert alpha_divergence(*disjoint, 0.5) == pytest.approx(4.0) and alpha_divergence(*disjoint, 0.2) == pytest.approx(6.25)
    assert hellinger_distance(*disjoint) == pytest.approx(1.0)
    got = [js_divergence(*missing), math.sqrt(js_divergence(*missing)), hellinger_distance(*missing),
           renyi_divergence(*missing, 0.5), alpha_divergence(*missing, 0.5), alpha_divergence(*missing, 0.2)]
    assert [f"{v:.4f}" for v in got] == ["0.0977", "0.3125", "0.3688", "0.2925", "0.5442", "0.3586"]
    assert kl_divergence(*missing) == math.inf and renyi_divergence(*missing, 2.0) == math.inf


@pytest.fixture(scope="module")
def coins():
    p, q = np.array([0.8, 0.2]), np.array([0.5, 0.5])
    ns = np.arange(1, 401)
    bayes, beta = [], []
    for n in ns:
        k = np.arange(n + 1)
        pk, qk = binom.pmf(k, n, 0.2), binom.pmf(k, n, 0.5)
        bayes.append(0.5 * np.minimum(pk, qk).sum())
        cut = k[np.argmax(binom.sf(k, n, 0.2) <= 0.05)]
        assert binom.sf(cut, n, 0.2) <= 0.05
        beta.append(binom.cdf(cut, n, 0.5))
    return p, q, np.array(bayes), np.array(beta)


def test_chernoff_and_stein(coins):
    p, q, bayes, beta = coins
    ch = chernoff_information(p, q)
    lam = np.linspace(1e-6, 1 - 1e-6, 200_001)
    grid = -np.log(p[0] ** lam * q[0] ** (1 - lam) + p[1] ** lam * q[1] ** (1 - lam))
    assert abs(ch.value - grid.max()) < 1e-10 and abs(ch.lam - lam[grid.argmax()]) < 1e-4
    # = max over lambda of (1 - lambda) D_lambda
    alt = max((1 - a) * renyi_divergence(p, q, a) for a in np.linspace(0.01, 0.99, 981))
    assert abs(alt - ch.value) < 1e-6
    assert f"{ch.value:.4f}" == "0.0528" and f"{ch.lam:.3f}" == "0.482" and f"{ch.value:.3f}" == "0.053"
    kl_pq, kl_qp = kl_divergence(p, q), kl_divergence(q, p)
    assert f"{kl_pq:.4f}" == "0.1927" and f"{kl_qp:.4f}" == "0.2231" and f"{kl_pq:.3f}" == "0.193"
    assert ch.value < min(kl_pq, kl_qp)

    def slope(err):
        return -(math.log(err[399]) - math.log(err[199])) / 200

    assert f"{slope(bayes):.4f}" == "0.0545" and f"{slope(bayes):.3f}" == "0.054"
    assert f"{slope(beta):.4f}" == "0.1671" and f"{slope(beta):.3f}" == "0.167"
    assert slope(beta) < kl_pq and slope(bayes) > ch.value
    # the error exponents approach the stated rates from the right side as n grows
    assert abs(-math.log(bayes[399]) / 400 - ch.value) < abs(-math.log(bayes[99]) / 100 - ch.value)
    assert abs(-math.log(beta[399]) / 400 - kl_pq) < abs(-math.log(beta[99]) / 100 - kl_pq)


def test_gauss_alpha_exercise():
    p, q = norm(0, 1), norm(0, 0.5)
    assert alpha_divergence(p, q, 1.33) < math.inf and alpha_divergence(p, q, 1.34) == math.inf
    assert all(alpha_divergence(p, q, a) < math.inf for a in (-5.0, 0.0, 1.0, 1.3))
    # sigma_q > sigma_p: infinite at orders <= -sigma_p^2 / (sigma_q^2 - sigma_p^2)
    wide = norm(0, 2.0)
    limit = -1.0 / (4.0 - 1.0)
    assert alpha_divergence(p, wide, limit - 0.01) == math.inf
    assert alpha_divergence(p, wide, limit + 0.01) < math.inf
