"""Every number chapter 8 (chapters/08_modern_ml.ipynb) states, recomputed and asserted.

The set-ups are copied from the chapter's cells; the assertions are the
numbers its prose, tables, captions and exercise solutions quote.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import optimize

from klbook import kl_divergence
from klbook.book import ml
from klbook.book.variational import vae_kl

# ---- distillation set-up (as in the chapter) ----
TOKENS = ["the", "very", "tea", "coffee", "cocoa", "and", "of", "my", "juice", "water", "milk", "that", "a"]
TEACHER = np.array([0.004, 0.003, 0.20, 0.22, 0.06, 0.012, 0.008, 0.010, 0.10, 0.25, 0.12, 0.005, 0.008])
E = np.linspace(-1.0, 1.0, 13)
FEATURES = np.column_stack([E, E ** 2])
JUNK = TEACHER < 0.015
HOT = np.isin(TOKENS, ["tea", "coffee", "cocoa"])
COLD = np.isin(TOKENS, ["juice", "water", "milk"])
STARTS = [np.zeros(2), np.array([-12.0, -12.0]), np.array([12.0, -12.0])]

# ---- RL set-up ----
PI_REF = np.array([0.30, 0.25, 0.20, 0.12, 0.10, 0.03])
R_TRUE = np.array([1.0, 0.7, 0.2, -0.5, -1.0, -1.5])
R_MODEL = R_TRUE.copy()
R_MODEL[-1] = 2.0
BETA = 0.5

# ---- sequence set-up ----
REF_LM = ml.MarkovLM(np.array([0.4, 0.3, 0.2, 0.1]),
                     np.array([[0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25],
                               [0.1, 0.2, 0.3, 0.4], [0.3, 0.3, 0.2, 0.2]]))
POL_LM = ml.MarkovLM(np.array([0.5, 0.3, 0.15, 0.05]),
                     np.array([[0.6, 0.25, 0.1, 0.05], [0.3, 0.3, 0.3, 0.1],
                               [0.1, 0.15, 0.35, 0.4], [0.4, 0.3, 0.2, 0.1]]))
T = 32

# ---- VAE set-up ----
C = np.diag([4.0, 1.0, 0.25])


@pytest.fixture(scope="module")
def students():
    fwd = ml.fit_student(TEACHER, FEATURES, "forward", inits=STARTS)
    rev = ml.fit_student(TEACHER, FEATURES, "reverse", inits=STARTS)
    return fwd, rev


def test_teacher(students):
    assert TEACHER.sum() == pytest.approx(1.0, abs=1e-15)
    assert TEACHER[HOT].sum() == pytest.approx(0.48) and TEACHER[COLD].sum() == pytest.approx(0.47)
    assert JUNK.sum() == 7 and TEACHER[JUNK].sum() == pytest.approx(0.05)


def test_forward_and_reverse_students(students):
    fwd, rev = students
    q = fwd.student
    assert round(kl_divergence(TEACHER, q), 3) == 0.628 and round(kl_divergence(q, TEACHER), 3) == 0.949
    assert [round(q[m].sum(), 3) for m in (HOT, COLD, JUNK)] == [0.255, 0.239, 0.505]
    q = rev.student
    assert round(kl_divergence(TEACHER, q), 3) == 16.135 and round(kl_divergence(q, TEACHER), 3) == 0.725
    assert [round(q[m].sum(), 3) for m in (HOT, COLD, JUNK)] == [0.000, 0.965, 0.035]
    assert [round(loss, 4) for _, loss in rev.local_optima] == [0.9395, 0.7509, 0.725]
    # "from the left start the hot drinks"
    left = ml.softmax(FEATURES @ rev.local_optima[1][0])
    assert left[HOT].sum() > 0.9
    # the figure's box and "half of its mass"
    assert 0.5 < fwd.student[JUNK].sum() < 0.51


def test_forward_moments(students):
    fwd, _ = students
    np.testing.assert_allclose(fwd.student @ FEATURES, TEACHER @ FEATURES, atol=5e-7)
    assert round(float(TEACHER @ E), 6) == -0.019667 and round(float(TEACHER @ E ** 2), 6) == 0.295667


def test_samples_printed(students):
    fwd, rev = students
    rng = np.random.default_rng(8)
    words = {}
    for name, dist in [("teacher", TEACHER), ("forward", fwd.student), ("reverse", rev.student)]:
        words[name] = list(rng.choice(TOKENS, size=10, p=dist / dist.sum()))
    assert words["forward"].count("my") + words["forward"].count("and") + words["forward"].count("of") >= 3
    assert not set(words["reverse"]) & {"tea", "coffee", "cocoa"}


def test_interpolation_jumps():
    def junk(obj, **kw):
        return ml.fit_student(TEACHER, FEATURES, obj, inits=STARTS, **kw).student[JUNK].sum()

    assert junk("jsd", beta=0.78) > 0.5 and junk("jsd", beta=0.82) < 0.04
    assert junk("alpha", alpha=0.1) < 0.04 and junk("alpha", alpha=0.2) > 0.5
    # flat before the jump (within 0.002 of the forward student), and all the way to 0.02
    assert abs(junk("jsd", beta=0.02) - 0.505) < 0.002


def test_temperature_table():
    zt = np.log(TEACHER)
    fwd = ml.fit_student(TEACHER, FEATURES, "forward", inits=STARTS)
    _, grad = ml.kd_loss(zt, FEATURES @ fwd.theta, 1e4)
    zs = FEATURES @ fwd.theta
    centred = (zs - zs.mean() - (zt - zt.mean())) / 13
    assert f"{np.max(np.abs(grad - centred)):.1e}" == "9.5e-06"
    table = {0.5: (0.519, 0.249, 0.042, 0.958), 1.0: (0.505, 0.255, 0.035, 0.000),
             1.25: (0.502, 0.254, 0.501, 0.230), 2.0: (0.499, 0.248, 0.499, 0.230),
             4.0: (0.499, 0.238, 0.499, 0.230)}
    for t, want in table.items():
        f_t = ml.fit_student(TEACHER, FEATURES, "forward", temperature=t, inits=STARTS).student
        r_t = ml.fit_student(TEACHER, FEATURES, "reverse", temperature=t, inits=STARTS).student
        got = tuple(round(float(v), 3) for v in (f_t[JUNK].sum(), f_t[HOT].sum(), r_t[JUNK].sum(), r_t[HOT].sum()))
        assert got == want


def test_rl_optimum_and_check():
    opt = ml.kl_regularised_optimum(PI_REF, R_TRUE, BETA)
    assert [f"{v:.4f}" for v in opt.policy] == ["0.6178", "0.2825", "0.0832", "0.0123", "0.0038", "0.0004"]
    assert round(opt.objective, 6) == 0.638805 and round(BETA * opt.log_partition, 6) == 0.638805

    def neg_j(theta):
        pi = np.exp(theta - theta.max())
        return -ml.kl_regularised_objective(pi / pi.sum(), PI_REF, R_TRUE, BETA)

    res = optimize.minimize(neg_j, np.zeros(6), method="BFGS", options={"gtol": 1e-10})
    pi = np.exp(res.x - res.x.max())
    assert np.max(np.abs(pi / pi.sum() - opt.policy)) < 1e-6
    assert round(-res.fun, 6) == 0.638805


def test_frontier_and_hacking_table():
    betas = np.geomspace(0.05, 20, 300)
    front = ml.reward_kl_frontier(PI_REF, R_MODEL, betas, eval_reward=R_TRUE)
    best = np.argmax(front.eval_reward)
    assert round(front.eval_reward[best], 3) == 0.442
    assert round(betas[best], 2) == 1.31 and round(front.kl[best], 2) == 0.12
    assert round(front.eval_reward[0], 2) == -1.50
    assert np.all(np.diff(front.expected_reward) < 0)           # the score rises as beta falls
    rows = {5.0: (0.010, 0.513, 0.370, 0.041), 1.0: (0.199, 0.838, 0.428, 0.117),
            0.5: (0.730, 1.192, 0.094, 0.314), 0.2: (3.035, 1.921, -1.317, 0.925),
            0.1: (3.501, 2.000, -1.499, 1.000)}
    for b, want in rows.items():
        o = ml.kl_regularised_optimum(PI_REF, R_MODEL, b)
        got = tuple(round(float(v), 3) for v in (o.kl, o.expected_reward, o.policy @ R_TRUE, o.policy[-1]))
        assert got == want
    assert round(math.log(1 / 0.03), 1) == 3.5


def test_dpo_cells():
    opt = ml.kl_regularised_optimum(PI_REF, R_TRUE, BETA)
    prefs = ml.bradley_terry_preferences(R_TRUE)
    dpo = ml.dpo_fit(PI_REF, prefs, BETA)
    assert np.max(np.abs(dpo.policy - opt.policy)) < 1e-8
    assert round(ml.dpo_loss(PI_REF, PI_REF, prefs, BETA), 6) == round(math.log(2), 6) == 0.693147
    assert round(dpo.loss, 6) == 0.525577
    rng = np.random.default_rng(2023)
    counts = np.zeros((6, 6))
    for _ in range(300):
        i, j = rng.choice(6, size=2, replace=False)
        win = rng.random() < prefs[i, j]
        counts[(i, j) if win else (j, i)] += 1
    fit = ml.dpo_fit(PI_REF, counts, BETA)
    assert [f"{v:.3f}" for v in fit.policy] == ["0.308", "0.651", "0.034", "0.006", "0.002", "0.000"]
    assert [f"{v:.2f}" for v in fit.implicit_reward] == ["0.52", "0.98", "-0.39", "-1.04", "-1.47", "-1.75"]
    assert fit.implicit_reward[1] > fit.implicit_reward[0]          # "the two best the wrong way round"
    assert round(fit.kl, 3) == 0.544 and round(opt.kl, 3) == 0.366


def test_sequence_cells():
    exact = ml.sequence_kl(POL_LM, REF_LM, T)
    assert round(exact.total, 6) == 2.008480
    assert [f"{v:.4f}" for v in exact.per_position[:3]] == ["0.0338", "0.0725", "0.0658"]
    seqs = np.array(list(itertools.product(range(4), repeat=8)))
    lp = POL_LM.token_log_probs(seqs).sum(axis=1)
    lq = REF_LM.token_log_probs(seqs).sum(axis=1)
    brute = float(np.sum(np.exp(lp) * (lp - lq)))
    dp8 = ml.sequence_kl(POL_LM, REF_LM, 8).total
    assert f"{dp8:.10f}" == f"{brute:.10f}" == "0.4896990623"
    sample = POL_LM.sample(4000, T, seed=32)
    table = {("k1", "token"): (1.9935, 1.976, 0.153), ("k2", "token"): (1.8063, 0.477, 0.0),
             ("k3", "token"): (2.0071, 0.608, 0.0), ("k2", "sequence"): (3.9384, 4.954, 0.0),
             ("k3", "sequence"): (2.0404, 11.938, 0.0)}
    sds = {}
    for (est, lvl), (mean, sd, neg) in table.items():
        v = ml.sequence_kl_estimates(POL_LM, REF_LM, sample, est, level=lvl)
        assert round(v.mean(), 4) == mean and round(v.std(ddof=1), 3) == sd and round(np.mean(v < 0), 3) == neg
        sds[est, lvl] = v.std(ddof=1)
    means = {e: ml.token_estimator_means(POL_LM, REF_LM, T, e).sum() for e in ("k1", "k2", "k3")}
    assert round(means["k1"], 4) == round(means["k3"], 4) == 2.0085 and round(means["k2"], 4) == 1.8082
    assert round(means["k2"] - exact.total, 2) == -0.20                  # "biased by -0.20 nats (about 10 %)"
    assert sds["k3", "token"] < sds["k1", "token"] / 3                    # "less than a third of the spread"
    assert 19 < sds["k3", "sequence"] / sds["k3", "token"] < 21           # "about twenty times"
    # figure: per-position values
    assert round(exact.per_position[0], 3) == 0.034 and round(exact.per_position[1], 3) == 0.073
    assert abs(exact.per_position[-1] - 0.063) < 0.001


def test_penalty_gradient_cell():
    theta = np.array([0.8, 0.1, -0.3, 0.0, 0.4, -1.0])
    norms = [round(float(np.linalg.norm(ml.penalty_gradient(theta, PI_REF, e))), 4) for e in ("k1", "k2", "k3")]
    assert norms == [0.0, 0.1873, 0.1781]


def test_ascent_cell():
    gibbs = ml.kl_regularised_optimum(PI_REF, R_TRUE, BETA).policy
    other = ml.forward_penalised_optimum(PI_REF, R_TRUE, BETA)
    trained = {e: ml.penalised_policy_ascent(PI_REF, R_TRUE, BETA, e, steps=20_000, learning_rate=2.0)
               for e in ("k1", "k2", "k3")}
    fmt = lambda v: [f"{x:.4f}" for x in v]  # noqa: E731
    assert fmt(trained["k2"]) == fmt(gibbs)
    assert fmt(trained["k3"]) == fmt(other) == ["0.6127", "0.2294", "0.0957", "0.0344", "0.0223", "0.0055"]
    assert fmt(trained["k1"]) == ["1.0000"] + ["0.0000"] * 5
    assert round(float(gibbs @ R_TRUE), 4) == 0.8217 and round(kl_divergence(gibbs, PI_REF), 4) == 0.3657
    assert round(float(other @ R_TRUE), 4) == 0.7448 and round(kl_divergence(other, PI_REF), 4) == 0.2616
    assert round(gibbs[3:].sum(), 4) == 0.0165 and round(other[3:].sum(), 4) == 0.0621
    assert 3.5 < other[3:].sum() / gibbs[3:].sum() < 4                   # "almost four times"


def test_vae_elbo_cell():
    w = np.array([[1.0, 0.2], [0.5, -0.7], [0.0, 0.4]])
    vae = ml.LinearGaussianVAE(w, noise_std=0.6)
    x = np.array([0.8, -0.3, 1.1])
    m, cov = vae.posterior(x)
    best = vae.elbo_terms(x, m, 1 / np.sqrt(np.diag(np.linalg.inv(cov))))
    poor = vae.elbo_terms(x, np.array([0.3, -0.1]), np.array([0.5, 0.8]))
    r = lambda t: [round(v, 3) for v in (t.reconstruction, t.kl, t.elbo, t.gap)]  # noqa: E731
    assert r(best) == [-2.786, 1.037, -3.822, 0.007]
    assert r(poor) == [-4.828, 0.411, -5.239, 1.423]
    assert round(best.log_evidence, 4) == -3.8158
    # the best diagonal encoder: no other diagonal std does better
    for _ in range(50):
        s = np.exp(np.random.default_rng(_).normal(-0.7, 0.5, 2))
        assert vae.elbo_terms(x, m, s).gap >= best.gap - 1e-15


def test_beta_vae_cells():
    table = {0.5: (2.7726, 3.063668, 2), 1.0: (2.0794, 4.256816, 2), 6.0: (0.4904, 9.119862, 1),
             20.0: (0.0, 11.177374, 0)}
    for b, (rate, val, active) in table.items():
        o = ml.beta_vae_optimum(C, 0.5, b, 2)
        assert round(o.rate, 4) == rate and round(o.distortion + b * o.rate, 6) == val
        assert int(o.active.sum()) == active
    # units switch off at beta = lambda / sigma^2 = 16 and 4
    assert ml.beta_vae_optimum(C, 0.5, 3.999, 2).active.tolist() == [True, True]
    assert ml.beta_vae_optimum(C, 0.5, 4.001, 2).active.tolist() == [True, False]
    assert ml.beta_vae_optimum(C, 0.5, 16.001, 2).active.tolist() == [False, False]


def test_posterior_collapse_cell():
    closed = ml.beta_vae_optimum(C, 1.2, 1.0, 2)
    assert closed.active.tolist() == [True, False]
    assert round(closed.rate, 4) == round(0.5 * math.log(4 / 1.44), 4) == 0.5108
    assert closed.encoder_std.tolist()[1] == 1.0 and closed.decoder_norms[1] == 0.0
    assert round(closed.encoder_std[0], 4) == 0.6 and round(closed.decoder_norms[0], 4) == 1.6
    assert round(vae_kl([0.8], [0.6]), 4) == 0.5108


def test_exercise_solutions():
    # ex-08-full-student
    full = ml.fit_student(TEACHER, np.eye(13), "reverse")
    np.testing.assert_allclose(full.student, TEACHER, atol=1e-8)
    one = ml.fit_student(TEACHER, E[:, None], "forward")
    assert round(float(one.student @ E), 4) == -0.0197 and round(float(one.theta[0]), 2) == -0.05
    assert round(one.student[JUNK].sum(), 2) == 0.54
    # ex-08-gibbs-limits
    tiny = ml.kl_regularised_optimum(PI_REF, R_MODEL, 1e-3)
    assert round(tiny.kl, 3) == round(math.log(1 / 0.03), 3) == 3.507
    h = 1e-5
    a, b = (ml.kl_regularised_optimum(PI_REF, R_MODEL, 1.0 + s) for s in (h, -h))
    assert (a.objective - b.objective) / (2 * h) == pytest.approx(-ml.kl_regularised_optimum(PI_REF, R_MODEL, 1.0).kl,
                                                                  abs=1e-9)
    # ex-08-dpo-overfit
    counts = np.ones((6, 6))
    counts[1:, 0] = 0
    np.fill_diagonal(counts, 0)
    fit = ml.dpo_fit(PI_REF, counts, 0.5)
    assert fit.policy[0] == pytest.approx(1.0, abs=1e-15) and fit.policy[1:].max() < 1e-17
    assert round(fit.kl, 3) == round(math.log(1 / 0.3), 3) == 1.204
    # ex-08-collapse
    assert ml.beta_vae_optimum(C, 0.99, 1.0, 2).active.tolist() == [True, True]
    assert ml.beta_vae_optimum(C, 1.0, 1.0, 2).active.tolist() == [True, False]
    assert ml.beta_vae_optimum(C, 1.99, 1.0, 2).active.tolist() == [True, False]
    assert ml.beta_vae_optimum(C, 2.0, 1.0, 2).active.tolist() == [False, False]
    assert ml.beta_vae_optimum(C, 0.5, 2.0, 2).rate == pytest.approx(2 * math.log(2), rel=1e-14)
    assert round(2 * math.log(2), 3) == 1.386


def test_sharpened_teacher_prefers_hot_drinks():
    sq = TEACHER ** 2
    assert round(sq[HOT].sum(), 3) == 0.092 and round(sq[COLD].sum(), 3) == 0.087


def test_k2_bias_grows_with_length():
    bias = [ml.token_estimator_means(POL_LM, REF_LM, t, "k2").sum() - ml.sequence_kl(POL_LM, REF_LM, t).total
            for t in (8, 16, 32)]
    assert [f"{b:+.3f}" for b in bias] == ["-0.048", "-0.099", "-0.200"]
    assert [round(b, 2) + 0.0 for b in bias] == [-0.05, -0.10, -0.20]      # the prose
    assert bias[0] > bias[1] > bias[2]
