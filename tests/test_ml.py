"""Tests of klbook.book.ml against independent references.

References: brute-force enumeration of every sequence, mpmath at 40 digits,
central finite differences, scipy optimisers run on the objectives written out
here from their definitions, and hand-derived closed forms.
"""

from __future__ import annotations

import itertools
import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy.stats import multivariate_normal

import klbook
from klbook.book import ml

MP_DPS = 40

REF = np.array([0.30, 0.25, 0.20, 0.12, 0.10, 0.03])
REWARD = np.array([1.0, 0.7, 0.2, -0.5, -1.0, -1.5])


def mp_kl(p, q):
    return mp.fsum(mp.mpf(a) * mp.log(mp.mpf(a) / mp.mpf(b)) for a, b in zip(p, q) if a > 0)


def fd(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def softmax_ref(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


# --------------------------------------------------------------------------- #
# KL-regularised RL                                                           #
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("beta", [0.05, 0.3, 1.0, 4.0])
def test_optimum_matches_mpmath_gibbs(beta):
    mp.mp.dps = MP_DPS
    opt = ml.kl_regularised_optimum(REF, REWARD, beta)
    w = [mp.mpf(a) * mp.exp(mp.mpf(r) / mp.mpf(beta)) for a, r in zip(REF, REWARD)]
    z = mp.fsum(w)
    pol = [x / z for x in w]
    for a, b in zip(opt.policy, pol):
        assert abs(a - float(b)) <= 1e-14 * float(b) + 1e-300
    assert opt.kl == pytest.approx(float(mp_kl(pol, REF)), rel=1e-13)
    assert opt.expected_reward == pytest.approx(float(mp.fsum(a * b for a, b in zip(pol, REWARD))), rel=1e-13)
    # optimal value = beta log Z
    assert opt.objective == pytest.approx(beta * float(mp.log(z)), rel=1e-12, abs=1e-14)
    assert opt.log_partition == pytest.approx(float(mp.log(z)), rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("beta", [0.2, 1.0, 3.0])
def test_optimum_beats_numerical_optimiser(beta):
    def neg_j(theta):
        pi = softmax_ref(theta)
        g = REWARD - beta * (np.log(pi / REF) + 1)          # dJ/dpi
        return -(pi @ REWARD - beta * np.sum(pi * np.log(pi / REF))), -pi * (g - pi @ g)

    res = optimize.minimize(neg_j, np.zeros(REF.size), jac=True, method="BFGS",
                            options={"gtol": 1e-12, "maxiter": 10000})
    opt = ml.kl_regularised_optimum(REF, REWARD, beta)
    assert -res.fun <= opt.objective + 1e-12
    assert -res.fun == pytest.approx(opt.objective, abs=1e-10)
    np.testing.assert_allclose(softmax_ref(res.x), opt.policy, atol=1e-6)
    assert ml.kl_regularised_objective(opt.policy, REF, REWARD, beta) == pytest.approx(opt.objective, rel=1e-12)


@given(st.lists(st.floats(0.01, 1.0), min_size=2, max_size=6), st.floats(0.05, 5.0), st.integers(0, 10_000))
@settings(max_examples=40)
def test_gibbs_identity(w, beta, seed):
    """J(pi) = beta log Z - beta KL(pi || pi*) for any pi (the proof of optimality)."""
    ref = np.array(w) / np.sum(w)
    rng = np.random.default_rng(seed)
    rew = rng.normal(size=ref.size)
    pi = rng.dirichlet(np.ones(ref.size))
    opt = ml.kl_regularised_optimum(ref, rew, beta)
    lhs = ml.kl_regularised_objective(pi, ref, rew, beta)
    rhs = beta * opt.log_partition - beta * klbook.kl_divergence(pi, opt.policy)
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


def test_small_beta_concentrates_and_zero_ref_stays_zero():
    ref = np.array([0.5, 0.5, 0.0])
    rew = np.array([0.0, 1.0, 100.0])
    opt = ml.kl_regularised_optimum(ref, rew, 1e-4)
    assert opt.policy[2] == 0.0
    assert opt.policy[1] == pytest.approx(1.0)
    assert opt.kl == pytest.approx(math.log(2), rel=1e-12)


def test_frontier_slope_is_beta_and_monotone():
    bs = np.array([0.3, 0.5, 1.0, 2.0])
    f = ml.reward_kl_frontier(REF, REWARD, bs, eval_reward=-REWARD)
    assert np.all(np.diff(f.kl) < 0) and np.all(np.diff(f.expected_reward) < 0)
    np.testing.assert_allclose(f.eval_reward, -f.expected_reward, rtol=1e-14)
    for b in bs:
        h = 1e-5 * b
        lo, hi = (ml.kl_regularised_optimum(REF, REWARD, b + s) for s in (h, -h))
        slope = (hi.expected_reward - lo.expected_reward) / (hi.kl - lo.kl)
        assert slope == pytest.approx(b, rel=1e-6)


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_forward_penalised_optimum_vs_optimiser(beta):
    def neg_j(theta):
        pi = softmax_ref(theta)
        g = REWARD + beta * REF / pi                         # dJ/dpi
        return -(pi @ REWARD - beta * np.sum(REF * np.log(REF / pi))), -pi * (g - pi @ g)

    res = optimize.minimize(neg_j, np.log(REF), jac=True, method="BFGS", options={"gtol": 1e-12})
    pol = ml.forward_penalised_optimum(REF, REWARD, beta)
    np.testing.assert_allclose(pol, softmax_ref(res.x), atol=2e-6)
    val = pol @ REWARD - beta * klbook.kl_divergence(REF, pol)
    assert val >= -res.fun - 1e-12
    # stationarity: R + beta ref / pi is constant
    c = REWARD + beta * REF / pol
    assert np.ptp(c) < 1e-10 * np.abs(c).max()


@pytest.mark.parametrize("theta", [[0.3, -0.2, 0.1, 0.0], [2.0, -1.0, 0.5, -3.0]])
def test_penalty_gradients_against_finite_differences(theta):
    ref = np.array([0.4, 0.3, 0.2, 0.1])
    theta = np.array(theta)

    def rev(t):
        pi = softmax_ref(t)
        return np.sum(pi * np.log(pi / ref))

    def fwd(t):
        pi = softmax_ref(t)
        return np.sum(ref * np.log(ref / pi))

    np.testing.assert_allclose(ml.penalty_gradient(theta, ref, "k1"), 0.0, atol=1e-15)
    np.testing.assert_allclose(ml.penalty_gradient(theta, ref, "k2"), fd(rev, theta), atol=1e-9)
    np.testing.assert_allclose(ml.penalty_gradient(theta, ref, "k3"), fd(fwd, theta), atol=1e-9)


def test_penalty_gradient_is_expectation_over_samples():
    """Brute force: sum over y of pi(y) * d/dtheta k(log ref(y) - log pi_theta(y)), y held fixed."""
    ref = np.array([0.5, 0.3, 0.2])
    theta = np.array([0.2, -0.4, 0.7])
    k = {"k1": lambda lr: -lr, "k2": lambda lr: 0.5 * lr ** 2, "k3": lambda lr: np.expm1(lr) - lr}
    pi = softmax_ref(theta)
    for est, fk in k.items():
        g = sum(pi[y] * fd(lambda t, y=y: fk(np.log(ref[y]) - np.log(softmax_ref(t)[y])), theta) for y in range(3))
        np.testing.assert_allclose(ml.penalty_gradient(theta, ref, est), g, atol=1e-9)


def test_ascent_fixed_points():
    beta = 0.5
    kw = {"steps": 20_000, "learning_rate": 2.0}
    np.testing.assert_allclose(ml.penalised_policy_ascent(REF, REWARD, beta, "k2", **kw),
                               ml.kl_regularised_optimum(REF, REWARD, beta).policy, atol=1e-7)
    np.testing.assert_allclose(ml.penalised_policy_ascent(REF, REWARD, beta, "k3", **kw),
                               ml.forward_penalised_optimum(REF, REWARD, beta), atol=1e-7)
    k1 = ml.penalised_policy_ascent(REF, REWARD, beta, "k1", steps=2000)
    assert k1[0] > 0.99


# --------------------------------------------------------------------------- #
# DPO                                                                         #
# --------------------------------------------------------------------------- #


def test_bradley_terry():
    p = ml.bradley_terry_preferences([0.0, 1.0, -2.0])
    assert p[1, 0] == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-15)
    np.testing.assert_allclose(p + p.T, 1 - np.eye(3), rtol=1e-15)


def test_dpo_loss_by_hand_and_at_reference():
    pol = np.array([0.5, 0.3, 0.2])
    ref = np.array([0.2, 0.3, 0.5])
    w = np.array([[0, 2, 1], [0, 0, 0], [1, 0, 0]], dtype=float)
    beta = 0.7
    mp.mp.dps = MP_DPS
    h = [mp.log(mp.mpf(a) / mp.mpf(b)) for a, b in zip(pol, ref)]
    terms = [(2, 0, 1), (1, 0, 2), (1, 2, 0)]
    expect = mp.fsum(c * mp.log(1 + mp.exp(-beta * (h[i] - h[j]))) for c, i, j in terms) / 4
    assert ml.dpo_loss(pol, ref, w, beta) == pytest.approx(float(expect), rel=1e-14)
    assert ml.dpo_loss(ref, ref, w, beta) == pytest.approx(math.log(2), rel=1e-15)
    r = ml.dpo_implicit_reward(pol, ref, beta)
    assert pol @ r == pytest.approx(beta * klbook.kl_divergence(pol, ref), rel=1e-14)


@pytest.mark.parametrize("beta", [0.2, 0.5, 2.0])
def test_dpo_population_minimiser_is_gibbs_optimum(beta):
    prefs = ml.bradley_terry_preferences(REWARD)
    fit = ml.dpo_fit(REF, prefs, beta)
    assert fit.converged
    np.testing.assert_allclose(fit.policy, ml.kl_regularised_optimum(REF, REWARD, beta).policy, rtol=1e-7)
    np.testing.assert_allclose(fit.implicit_reward, REWARD - REF @ REWARD, atol=1e-7)


def test_dpo_fit_gradient_vanishes_and_beats_perturbations():
    rng = np.random.default_rng(4)
    w = rng.integers(0, 6, size=(5, 5)).astype(float)
    np.fill_diagonal(w, 0)
    w[w == 0] += 0.5
    np.fill_diagonal(w, 0)
    ref = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    fit = ml.dpo_fit(ref, w, 0.3)
    base = ml.dpo_loss(fit.policy, ref, w, 0.3)
    assert base == pytest.approx(fit.loss, rel=1e-12)
    logit = np.log(fit.policy)
    g = fd(lambda t: ml.dpo_loss(softmax_ref(t), ref, w, 0.3), logit)
    assert np.max(np.abs(g)) < 1e-7
    for _ in range(20):
        t = logit + 1e-2 * rng.normal(size=5)
        assert ml.dpo_loss(softmax_ref(t), ref, w, 0.3) >= base - 1e-15


# --------------------------------------------------------------------------- #
# Distillation                                                                #
# --------------------------------------------------------------------------- #

TEACHER = np.array([.004, .003, .20, .22, .06, .012, .008, .010, .10, .25, .12, .005, .008])
E = np.linspace(-1, 1, 13)
PHI = np.c_[E, E ** 2]
STARTS = [np.zeros(2), [-12.0, -12.0], [12.0, -12.0]]


def test_generalized_jsd_definition_and_limits():
    p, q = np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.3, 0.5])
    mp.mp.dps = MP_DPS
    for b in (0.1, 0.5, 0.9):
        m = [b * mp.mpf(a) + (1 - b) * mp.mpf(c) for a, c in zip(p, q)]
        ref = b * mp_kl(p, m) + (1 - b) * mp_kl(q, m)
        assert ml.generalized_jsd(p, q, b) == pytest.approx(float(ref), rel=1e-12)
    assert ml.generalized_jsd(p, q, 0.5) == pytest.approx(klbook.js_divergence(p, q), rel=1e-12)
    eps = 1e-6
    assert ml.generalized_jsd(p, q, eps) / eps == pytest.approx(klbook.kl_divergence(p, q), rel=1e-5)
    assert ml.generalized_jsd(p, q, 1 - eps) / eps == pytest.approx(klbook.kl_divergence(q, p), rel=1e-5)


def test_forward_student_matches_feature_moments():
    fit = ml.fit_student(TEACHER, PHI, "forward")
    np.testing.assert_allclose(fit.student @ PHI, TEACHER @ PHI, atol=1e-10)
    assert fit.loss == pytest.approx(klbook.kl_divergence(TEACHER, fit.student), rel=1e-12)


@pytest.mark.parametrize("objective,kw", [("forward", {}), ("reverse", {}), ("jsd", {"beta": 0.5}),
                                           ("alpha", {"alpha": 0.5}), ("alpha", {"alpha": 2.0})])
def test_student_is_stationary_and_best_on_a_grid(objective, kw):
    fit = ml.fit_student(TEACHER, PHI, objective, inits=STARTS, **kw)

    def loss(th):
        return ml.distillation_loss(TEACHER, softmax_ref(PHI @ th), objective, **kw)

    assert np.max(np.abs(fd(loss, fit.theta, 1e-6))) < 1e-6
    # brute force over a grid of (theta1, theta2) never finds a lower value
    grid = [loss(np.array([a, b])) for a in np.linspace(-40, 40, 41) for b in np.linspace(-40, 5, 31)]
    assert fit.loss <= min(grid) + 1e-12


def test_reverse_student_has_two_local_optima():
    fit = ml.fit_student(TEACHER, PHI, "reverse", inits=STARTS)
    modes = {int(np.argmax(ml.softmax(PHI @ th))) for th, _ in fit.local_optima}
    assert {3, 9} <= modes
    assert np.argmax(fit.student) == 9


def test_temperature_scales_parameters():
    """Fitting at T is fitting theta / T to the tempered teacher at T = 1."""
    t = 3.0
    hot = ml.fit_student(TEACHER, PHI, "forward", temperature=t)
    p_t = TEACHER ** (1 / t) / np.sum(TEACHER ** (1 / t))
    cold = ml.fit_student(p_t, PHI, "forward")
    np.testing.assert_allclose(hot.theta, t * cold.theta, rtol=1e-6)
    np.testing.assert_allclose(hot.student, ml.softmax(PHI @ (t * cold.theta)), rtol=1e-8)
    assert hot.loss == pytest.approx(t * t * cold.loss, rel=1e-9)


def test_full_capacity_student_recovers_teacher_at_any_temperature():
    full = np.eye(TEACHER.size)
    for t in (0.5, 1.0, 4.0):
        fit = ml.fit_student(TEACHER, full, "forward", temperature=t)
        np.testing.assert_allclose(fit.student, TEACHER, rtol=1e-6)


def test_kd_loss_gradient_and_high_temperature_limit():
    zt = np.log(TEACHER)
    zs = np.array([0.3 * i - 0.02 * i * i for i in range(13)])
    for t in (0.7, 2.0):
        val, g = ml.kd_loss(zt, zs, t)
        np.testing.assert_allclose(g, fd(lambda z: ml.kd_loss(zt, z, t)[0], zs), atol=1e-8)
    big = 1e4
    val, g = ml.kd_loss(zt, zs, big)
    c = lambda z: z - z.mean()  # noqa: E731
    np.testing.assert_allclose(g, (c(zs) - c(zt)) / 13, rtol=1e-3, atol=1e-6)
    assert val == pytest.approx(np.sum((c(zs) - c(zt)) ** 2) / 26, rel=1e-3)


# --------------------------------------------------------------------------- #
# Sequence models                                                             #
# --------------------------------------------------------------------------- #

P_LM = ml.MarkovLM(np.array([0.6, 0.3, 0.1]),
                   np.array([[0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.2, 0.2, 0.6]]))
Q_LM = ml.MarkovLM(np.array([0.4, 0.4, 0.2]),
                   np.array([[0.5, 0.3, 0.2], [0.3, 0.3, 0.4], [0.1, 0.3, 0.6]]))


def brute_sequences(m, length):
    for seq in itertools.product(range(m.vocab_size), repeat=length):
        lp = mp.log(mp.mpf(m.init[seq[0]])) + mp.fsum(mp.log(mp.mpf(m.trans[a, b])) for a, b in zip(seq, seq[1:]))
        yield seq, lp


@pytest.mark.parametrize("length", [1, 2, 5, 7])
def test_sequence_kl_equals_brute_force(length):
    mp.mp.dps = MP_DPS
    q_lp = dict(brute_sequences(Q_LM, length))
    total = mp.fsum(mp.exp(lp) * (lp - q_lp[s]) for s, lp in brute_sequences(P_LM, length))
    res = ml.sequence_kl(P_LM, Q_LM, length)
    assert res.total == pytest.approx(float(total), rel=1e-13)
    assert res.per_position.sum() == pytest.approx(res.total, rel=1e-15)


def test_sequence_kl_infinite_and_errors():
    q0 = ml.MarkovLM(np.array([0.5, 0.5, 0.0]), Q_LM.trans)
    assert ml.sequence_kl(P_LM, q0, 3).total == math.inf
    with pytest.raises(TypeError, match="p must be a MarkovLM"):
        ml.sequence_kl("x", Q_LM, 3)
    with pytest.raises(ValueError, match="row 1"):
        ml.MarkovLM([0.5, 0.5], [[0.5, 0.5], [0.5, 0.6]])
    with pytest.raises(ValueError, match="length"):
        ml.sequence_kl(P_LM, Q_LM, 0)


@pytest.mark.parametrize("est", ["k1", "k2", "k3"])
def test_token_estimator_means_brute_force(est):
    mp.mp.dps = 30
    length = 5
    seqs = np.array(list(itertools.product(range(3), repeat=length)))
    prob = np.exp(P_LM.token_log_probs(seqs).sum(axis=1))
    vals = ml.sequence_kl_estimates(P_LM, Q_LM, seqs, est, level="token")
    exact = float(prob @ vals)
    assert ml.token_estimator_means(P_LM, Q_LM, length, est).sum() == pytest.approx(exact, rel=1e-12)
    if est in ("k1", "k3"):
        assert exact == pytest.approx(ml.sequence_kl(P_LM, Q_LM, length).total, rel=1e-12)
        seq_level = float(prob @ ml.sequence_kl_estimates(P_LM, Q_LM, seqs, est, level="sequence"))
        assert seq_level == pytest.approx(exact, rel=1e-12)


def test_sampler_frequencies():
    seqs = P_LM.sample(200_000, 3, seed=1)
    assert seqs.shape == (200_000, 3)
    marg = P_LM.marginals(3)
    for t in range(3):
        freq = np.bincount(seqs[:, t], minlength=3) / len(seqs)
        np.testing.assert_allclose(freq, marg[t], atol=4e-3)
    pair = np.mean((seqs[:, 0] == 0) & (seqs[:, 1] == 2))
    assert pair == pytest.approx(0.6 * 0.1, abs=2e-3)
    np.testing.assert_array_equal(P_LM.sample(5, 4, seed=3), P_LM.sample(5, 4, seed=3))


# --------------------------------------------------------------------------- #
# VAE                                                                         #
# --------------------------------------------------------------------------- #

W2 = np.array([[1.0, 0.2], [0.5, -0.7], [0.0, 0.4]])


def test_elbo_terms_decomposition():
    vae = ml.LinearGaussianVAE(W2, 0.6)
    x = np.array([0.8, -0.3, 1.1])
    mean, cov = vae.posterior(x)
    # exact evidence by the direct formula
    c = W2 @ W2.T + 0.36 * np.eye(3)
    assert vae.log_evidence(x) == pytest.approx(multivariate_normal(np.zeros(3), c).logpdf(x), rel=1e-14)
    enc_mean, enc_std = np.array([0.3, -0.1]), np.array([0.5, 0.8])
    t = vae.elbo_terms(x, enc_mean, enc_std)
    gap = klbook.kl_divergence(multivariate_normal(enc_mean, np.diag(enc_std ** 2)),
                               multivariate_normal(mean, cov))
    assert t.gap == pytest.approx(gap, rel=1e-10)
    # reconstruction by Monte Carlo-free quadrature check: E_q log N(x; Wz, s^2 I) for Gaussian q, by sampling
    rng = np.random.default_rng(0)
    z = enc_mean + enc_std * rng.normal(size=(400_000, 2))
    mc = multivariate_normal(np.zeros(3), 0.36 * np.eye(3)).logpdf(x - z @ W2.T).mean()
    assert t.reconstruction == pytest.approx(mc, abs=5e-3)
    assert t.kl == pytest.approx(klbook.kl_divergence(multivariate_normal(enc_mean, np.diag(enc_std ** 2)),
                                                      multivariate_normal(np.zeros(2), np.eye(2))), rel=1e-12)


def test_elbo_is_tight_at_exact_posterior_when_it_is_diagonal():
    w = np.array([[2.0, 0.0], [0.0, 0.5], [0.0, 0.0]])   # orthogonal columns: diagonal posterior
    vae = ml.LinearGaussianVAE(w, 0.7)
    x = np.array([0.4, 1.0, -0.2])
    mean, cov = vae.posterior(x)
    t = vae.elbo_terms(x, mean, np.sqrt(np.diag(cov)))
    assert abs(t.gap) < 1e-13


C3 = np.diag([4.0, 1.0, 0.25])


def objective_scipy(params, c, sigma, beta, d, k):
    w = params[:d * k].reshape(d, k)
    a = params[d * k:2 * d * k].reshape(k, d)
    s = np.exp(params[2 * d * k:])
    # written out from the definitions, not from the module
    acov = a @ c @ a.T
    rate = 0.5 * np.sum(np.diag(acov) + s ** 2 - 1 - np.log(s ** 2))
    b = np.eye(d) - w @ a
    sq = np.trace(b @ c @ b.T) + np.trace(w @ np.diag(s ** 2) @ w.T)
    return 0.5 * d * np.log(2 * np.pi * sigma ** 2) + sq / (2 * sigma ** 2) + beta * rate


@pytest.mark.parametrize("beta", [0.5, 1.0, 6.0, 20.0])
def test_beta_vae_optimum_vs_numerical_optimiser(beta):
    sigma, d, k = 0.5, 3, 2
    opt = ml.beta_vae_optimum(C3, sigma, beta, k)
    best = math.inf
    rng = np.random.default_rng(7)
    for _ in range(4):
        x0 = rng.normal(scale=0.5, size=2 * d * k + k)
        res = optimize.minimize(objective_scipy, x0, args=(C3, sigma, beta, d, k), method="BFGS",
                                options={"gtol": 1e-10, "maxiter": 20000})
        best = min(best, res.fun)
    closed = opt.distortion + beta * opt.rate
    assert closed <= best + 1e-9
    assert closed == pytest.approx(best, abs=1e-6)
    rate, dist = ml.beta_vae_objective(opt.weight, opt.enc_weight, opt.encoder_std, C3, sigma)
    assert rate == pytest.approx(opt.rate, rel=1e-12, abs=1e-15)
    lam = np.array([4.0, 1.0])
    thr = beta * sigma ** 2
    expected_rate = sum(0.5 * math.log(v / thr) for v in lam if v > thr)
    assert opt.rate == pytest.approx(expected_rate, rel=1e-12, abs=1e-15)
    np.testing.assert_array_equal(opt.active, lam > thr)
    mse = 5.25 - sum(v - thr for v in lam if v > thr)
    assert opt.mse == pytest.approx(mse, rel=1e-12)
    assert opt.distortion == pytest.approx(1.5 * math.log(2 * math.pi * sigma ** 2) + mse / (2 * sigma ** 2), rel=1e-12)


def test_rate_distortion_slope_is_minus_beta():
    for beta in (0.7, 2.0, 9.0):
        h = 1e-5
        a, b = (ml.beta_vae_optimum(C3, 0.5, beta + s, 2) for s in (h, -h))
        slope = (a.distortion - b.distortion) / (a.rate - b.rate)
        assert slope == pytest.approx(-beta, rel=1e-6)


# --------------------------------------------------------------------------- #
# Argument checks                                                             #
# --------------------------------------------------------------------------- #


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="beta must be > 0"):
        ml.kl_regularised_optimum(REF, REWARD, 0.0)
    with pytest.raises(TypeError, match="beta must be a real number"):
        ml.kl_regularised_optimum(REF, REWARD, "1")
    with pytest.raises(ValueError, match="pi_ref must sum to 1"):
        ml.kl_regularised_optimum([0.5, 0.6], [0, 1], 1.0)
    with pytest.raises(ValueError, match="pi_ref and reward must have the same length"):
        ml.kl_regularised_optimum([0.5, 0.5], [0, 1, 2], 1.0)
    with pytest.raises(ValueError, match="reward must be finite"):
        ml.kl_regularised_optimum([0.5, 0.5], [0, np.nan], 1.0)
    with pytest.raises(ValueError, match="estimator"):
        ml.penalty_gradient([0, 0], [0.5, 0.5], "k4")
    with pytest.raises(ValueError, match="objective"):
        ml.fit_student(TEACHER, PHI, "sideways")
    with pytest.raises(ValueError, match="beta"):
        ml.fit_student(TEACHER, PHI, "jsd")
    with pytest.raises(ValueError, match="features must have one row per token"):
        ml.fit_student(TEACHER, PHI[:5], "forward")
    with pytest.raises(ValueError, match="teacher must have entries > 0"):
        ml.fit_student([0.5, 0.5, 0.0], np.eye(3), "forward")
    with pytest.raises(ValueError, match="temperature must be > 0"):
        ml.softmax([1, 2], 0)
    with pytest.raises(ValueError, match="preferences must have shape"):
        ml.dpo_fit(REF, np.ones((2, 2)), 1.0)
    with pytest.raises(ValueError, match="preferences must have a zero diagonal"):
        ml.dpo_loss(REF, REF, np.ones((6, 6)), 1.0)
    with pytest.raises(ValueError, match="latent_dim must be at most"):
        ml.beta_vae_optimum(C3, 0.5, 1.0, 4)
    with pytest.raises(ValueError, match="data_cov must be symmetric"):
        ml.beta_vae_optimum(np.array([[1.0, 0.5], [0.0, 1.0]]), 0.5, 1.0, 1)
    with pytest.raises(ValueError, match="level"):
        ml.sequence_kl_estimates(P_LM, Q_LM, np.zeros((2, 2), dtype=int), "k1", level="word")
    with pytest.raises(ValueError, match="beta must be in"):
        ml.generalized_jsd([0.5, 0.5], [0.5, 0.5], 1.5)


# --------------------------------------------------------------------------- #
# Property tests                                                              #
# --------------------------------------------------------------------------- #


def _simplex(rng, k, floor=0.0):
    v = rng.dirichlet(np.ones(k)) + floor
    return v / v.sum()


@given(st.integers(2, 3), st.integers(1, 4), st.integers(0, 10_000))
@settings(max_examples=25)
def test_sequence_kl_random_chains_vs_enumeration(v, length, seed):
    rng = np.random.default_rng(seed)
    p = ml.MarkovLM(_simplex(rng, v, 0.05), np.array([_simplex(rng, v, 0.05) for _ in range(v)]))
    q = ml.MarkovLM(_simplex(rng, v, 0.05), np.array([_simplex(rng, v, 0.05) for _ in range(v)]))
    seqs = np.array(list(itertools.product(range(v), repeat=length)))
    lp = p.token_log_probs(seqs).sum(axis=1)
    lq = q.token_log_probs(seqs).sum(axis=1)
    brute = float(np.sum(np.exp(lp) * (lp - lq)))
    assert ml.sequence_kl(p, q, length).total == pytest.approx(brute, rel=1e-11, abs=1e-15)


@given(st.integers(2, 6), st.floats(0.01, 0.99), st.integers(0, 10_000))
@settings(max_examples=40)
def test_generalized_jsd_bounds(k, beta, seed):
    rng = np.random.default_rng(seed)
    p, q = _simplex(rng, k), _simplex(rng, k)
    val = ml.generalized_jsd(p, q, beta)
    h = -beta * math.log(beta) - (1 - beta) * math.log(1 - beta)
    assert -1e-15 <= val <= h + 1e-12
    # symmetry of the family: JSD_beta(p || q) = JSD_{1-beta}(q || p)
    assert val == pytest.approx(ml.generalized_jsd(q, p, 1 - beta), rel=1e-9, abs=1e-15)


@given(st.integers(2, 6), st.floats(0.05, 5.0), st.integers(0, 10_000))
@settings(max_examples=40)
def test_forward_penalised_optimum_is_stationary_and_beats_gibbs(k, beta, seed):
    rng = np.random.default_rng(seed)
    ref = _simplex(rng, k, 0.02)
    rew = rng.normal(size=k)
    pol = ml.forward_penalised_optimum(ref, rew, beta)
    assert pol.sum() == pytest.approx(1.0, abs=1e-12) and np.all(pol > 0)
    c = rew + beta * ref / pol
    assert np.ptp(c) <= 1e-9 * max(1.0, np.abs(c).max())
    gibbs = ml.kl_regularised_optimum(ref, rew, beta).policy

    def obj(pi):
        return pi @ rew - beta * klbook.kl_divergence(ref, pi)

    assert obj(pol) >= obj(gibbs) - 1e-12
