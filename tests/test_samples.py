"""Tests of klbook.kl_from_samples and knn_kl (klbook/core/samples.py).

References are closed forms of Gaussian pairs (hand-derived, mpmath), additive Laplace
products, and hand-computed nearest-neighbour sums on tiny samples.
"""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

from klbook import kl_from_samples
from klbook.core.samples import SampleKL, _em_two_components, histogram_kl, knn_kl, known_kl_pairs, mae_ratio

MP_DPS = 30


def gauss_kl_mp(mu1, s1, mu2, s2):
    """KL of two Gaussians with diagonal covariances (variances s1, s2), in mpmath."""
    total = mp.mpf(0)
    for a, va, b, vb in zip(mu1, s1, mu2, s2):
        a, va, b, vb = (mp.mpf(float(v)) for v in (a, va, b, vb))
        total += (mp.log(vb / va) + (va + (a - b) ** 2) / vb - 1) / 2
    return float(total)


# ------------------------------------------------------------------ the formula
def test_knn_kl_matches_a_hand_computed_sum():
    x = np.array([0.0, 1.0, 3.0, 7.0])
    y = np.array([0.5, 2.0, 10.0])
    # k = 1: rho = distance to the nearest other x, nu = distance to the nearest y
    rho = [1.0, 1.0, 2.0, 4.0]
    nu = [0.5, 0.5, 1.0, 3.0]
    ref = math.fsum(math.log(a / b) for a, b in zip(nu, rho)) / 4 + math.log(3 / 3)
    assert abs(knn_kl(x, y, k=1) - ref) < 1e-15
    # k = 2 by hand
    rho2 = [3.0, 2.0, 3.0, 6.0]
    nu2 = [2.0, 1.0, 2.5, 5.0]
    ref2 = math.fsum(math.log(a / b) for a, b in zip(nu2, rho2)) / 4
    assert abs(knn_kl(x, y, k=2) - ref2) < 1e-15


def test_knn_kl_agrees_with_the_divergence_package_when_installed():
    divergence = pytest.importorskip("divergence")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(300, 3)), rng.normal(0.3, 1.2, size=(250, 3))
    assert abs(knn_kl(x, y, k=5) - divergence.knn_kl_divergence(x, y, k=5)) < 1e-10


# ----------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "x, y, kwargs, words",
    [
        (np.zeros((10, 2)), np.zeros((10, 3)), {}, "same dimension"),
        (np.arange(3.0), np.arange(10.0), {"k": 3}, "at least k \\+ 1 = 4"),
        (np.arange(10.0), np.arange(2.0), {"k": 3}, "at least k = 3"),
        (np.array([0.0, np.nan, 1.0, 2.0]), np.arange(5.0), {"k": 1}, "x contains NaN or inf"),
        (np.arange(5.0), np.array([0.0, np.inf, 1.0]), {"k": 1}, "y contains NaN or inf"),
        (np.arange(10.0), np.arange(10.0), {"k": 0}, "k must be an int >= 1"),
        (np.arange(10.0), np.arange(10.0), {"level": 1.5}, "level must lie in"),
        (np.arange(10.0), np.arange(10.0), {"method": "magic"}, "method must be"),
        (np.zeros((4, 2, 2)), np.zeros((4, 2)), {}, "shape \\(n,\\) or \\(n, d\\)"),
        (np.c_[np.arange(8.0), np.ones(8)], np.c_[np.arange(8.0), np.ones(8)], {"k": 2}, "coordinate 1 takes a single value"),
    ],
)
def test_bad_input_raises_clearly(x, y, kwargs, words):
    with pytest.raises(ValueError, match=words):
        kl_from_samples(x, y, **kwargs)


def test_strings_are_a_type_error():
    with pytest.raises(TypeError, match="real numbers"):
        kl_from_samples(["a", "b", "c"], [1.0, 2.0, 3.0])


# ------------------------------------------------------------------ accuracy
@pytest.mark.parametrize("d", [1, 3, 6])
def test_gaussian_pairs_covered_and_close(d):
    """Eight seeded repetitions per dimension: the 90 % interval covers the closed form at least
    six times, and the mean absolute error is below 0.04 nats (KL about 0.15 to 0.2)."""
    mu2 = np.full(d, 0.5 / math.sqrt(d))
    s2 = np.linspace(0.8, 1.5, d)
    true = gauss_kl_mp(np.zeros(d), np.ones(d), mu2, s2)
    hits, errs = 0, []
    for rep in range(8):
        rng = np.random.default_rng(100 * d + rep)
        x = rng.standard_normal((2000, d))
        y = rng.standard_normal((2000, d)) * np.sqrt(s2) + mu2
        r = kl_from_samples(x, y, random_state=rep)
        assert isinstance(r, SampleKL) and r.level == 0.9 and r.d == d and r.n == r.m == 2000
        assert r.ci[0] >= 0.0 and math.isfinite(r.ci[1]) and not r.heavy_tail
        hits += r.ci[0] <= true <= r.ci[1]
        errs.append(abs(r.value - true))
    assert hits >= 6
    assert np.mean(errs) < 0.04


def test_one_d_input_and_column_input_agree():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=500), rng.normal(0.5, 1.0, size=600)
    a = kl_from_samples(x, y)
    b = kl_from_samples(x[:, None], y[:, None])
    assert a.value == b.value and a.ci == b.ci


def test_deterministic_for_a_seed():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(800, 2)), rng.normal(0.2, 1.1, size=(800, 2))
    assert kl_from_samples(x, y).value == kl_from_samples(x, y).value
    assert kl_from_samples(x, y, random_state=1).value != kl_from_samples(x, y, random_state=2).value


def test_bias_correction_removes_most_of_the_high_dimensional_bias():
    """d = 8, n = m = 1000: the plain estimator is far too high; the corrected one is close.

    Averages over 6 independent repetitions against the closed form.
    """
    d = 8
    s2 = np.full(d, 1.4)
    true = gauss_kl_mp(np.zeros(d), np.ones(d), np.zeros(d), s2)
    raw, corr = [], []
    for rep in range(6):
        rng = np.random.default_rng(100 + rep)
        x = rng.standard_normal((1000, d))
        y = rng.standard_normal((1000, d)) * np.sqrt(s2)
        raw.append(knn_kl(x, y, k=5) - true)
        corr.append(kl_from_samples(x, y, random_state=rep).value - true)
    assert np.mean(raw) > 0.1  # the textbook estimator's bias at this size
    assert abs(np.mean(corr)) < 0.4 * np.mean(raw)
    assert np.mean(np.abs(corr)) < 0.5 * np.mean(np.abs(raw))


def test_scaling_makes_the_estimate_unit_free():
    """KL is invariant under invertible affine maps; with scale=True so is the estimate."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(700, 3)), rng.normal(0.3, 1.2, size=(700, 3))
    a = np.array([[1000.0, 0.0, 0.0], [3.0, 0.001, 0.0], [0.0, 2.0, 1.0]])
    r1 = kl_from_samples(x, y)
    r2 = kl_from_samples(x @ a.T + 7.0, y @ a.T + 7.0)
    assert abs(r1.value - r2.value) < 1e-8
    # without scaling, the coordinate in thousands dominates and the estimate changes
    assert abs(kl_from_samples(x @ a.T, y @ a.T, scale=False).value - r1.value) > 1e-3


def test_laplace_product_against_its_additive_closed_form():
    d = 3
    rng = np.random.default_rng(6)
    x = rng.laplace(0.0, 1.0, size=(5000, d))
    y = rng.laplace(0.3, 1.3, size=(5000, d))
    b1, b2, mu = mp.mpf(1), mp.mpf("1.3"), mp.mpf("0.3")
    true = float(d * (mp.log(b2 / b1) + mu / b2 + (b1 / b2) * mp.exp(-mu / b1) - 1))
    r = kl_from_samples(x, y, level=0.99)
    assert r.level == 0.99 and r.ci[0] <= true <= r.ci[1]
    assert abs(r.value - true) < 0.04


# ------------------------------------------------------------------------ ties
def test_ties_are_broken_and_rounded_data_give_a_finite_sensible_value():
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(0.0, 1.0, size=(3000, 2)), 1)
    y = np.round(rng.normal(0.4, 1.0, size=(3000, 2)), 1)
    with pytest.raises(ValueError, match="duplicated points"):
        knn_kl(x, y, k=1)
    r = kl_from_samples(x, y)
    assert r.details["tied_points"] > 0
    assert math.isfinite(r.value) and abs(r.value - 0.16) < 0.05  # exact: 2 * 0.4^2 / 2
    # integer data with massive ties
    xi = rng.poisson(5.0, size=(2000, 1)).astype(float)
    yi = rng.poisson(5.0, size=(2000, 1)).astype(float)
    ri = kl_from_samples(xi, yi)
    assert math.isfinite(ri.value) and ri.value < 0.05


# --------------------------------------------------------------- heavy tails
def test_heavy_tailed_p_against_light_q_is_flagged_with_an_open_interval():
    p = stats.t(2)
    rng = np.random.default_rng(8)
    x = p.rvs(size=5000, random_state=rng)
    y = rng.normal(size=5000)
    with pytest.warns(RuntimeWarning, match="heavier-tailed"):
        r = kl_from_samples(x, y)
    assert r.heavy_tail and r.ci[1] == math.inf
    # the reverse direction (light p, heavy q) is estimable and not flagged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r2 = kl_from_samples(y, x)
    assert not r2.heavy_tail and math.isfinite(r2.ci[1])


def t3_normal_kl_integrand(t):
    """The integrand of KL(t_3 || N(0, 1)) in mpmath at the current precision, both log-densities
    typed in from their textbook formulas (also used by tests/test_ch07_claims.py)."""
    nu = mp.mpf(3)
    log_t3 = (mp.loggamma((nu + 1) / 2) - mp.loggamma(nu / 2) - mp.log(nu * mp.pi) / 2
              - (nu + 1) / 2 * mp.log(1 + t**2 / nu))
    return mp.exp(log_t3) * (log_t3 + t**2 / 2 + mp.log(2 * mp.pi) / 2)


def test_heavy_tail_estimate_is_too_low_as_the_docstring_says():
    """Exact KL(t_3 || N(0, 1)) by mpmath quadrature (finite: t_3 has a variance); the estimate
    falls short of it, and the warning fires."""
    with mp.workdps(25):
        true = float(mp.quad(t3_normal_kl_integrand, [-mp.inf, -50, -5, 0, 5, 50, mp.inf]))
    assert 0.6 < true < 0.7
    rng = np.random.default_rng(9)
    x = stats.t(3).rvs(size=4000, random_state=rng)
    y = rng.normal(size=4000)
    with pytest.warns(RuntimeWarning, match="heavier-tailed"):
        r = kl_from_samples(x, y, bias_correction=False)
    assert r.value < true and r.heavy_tail


# ------------------------------------------------------------------- histogram
def test_histogram_kl_against_hand_counts_and_its_failures():

    x = np.array([0.1, 0.2, 0.6, 0.9])
    y = np.array([0.15, 0.55, 0.6, 0.95])
    # two bins [0.1, 0.525), [0.525, 0.95]: p-hat = (1/2, 1/2), q-hat = (1/4, 3/4)
    ref = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert abs(histogram_kl(x, y, bins=2) - ref) < 1e-15
    # a bin with x's but no y: infinite
    assert histogram_kl([0.0, 1.0, 5.0], [0.0, 1.0, 1.5], bins=[0.0, 2.0, 6.0]) == math.inf
    with pytest.raises(ValueError, match="one-dimensional"):
        histogram_kl(np.zeros((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="bins"):
        histogram_kl(x, y, bins=0)


# ------------------------------------------------------- search and reference
def test_exhaustive_search_agrees_with_the_kd_tree():
    """From d = 7 the neighbours come from a float32 exhaustive search: the distances agree with
    scipy's k-d tree (float64) to 1e-5 relative, and the self-match is dropped."""
    from scipy.spatial import cKDTree

    from klbook.core.samples import _brute_knn, _knn_distances, _use_brute_force

    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((3000, 8)), rng.standard_normal((2500, 8)) * 1.2
    assert _use_brute_force(8, 3000) and not _use_brute_force(3, 3000)
    ref_self = cKDTree(x).query(x, k=8)[0][:, 1:]
    ref_cross = cKDTree(y).query(x, k=7)[0]
    got_self = _knn_distances(x, x, 7, True, 1)
    got_cross = _brute_knn(y, x, 7)
    assert got_self.shape == ref_self.shape and got_cross.shape == ref_cross.shape
    assert np.max(np.abs(got_self / ref_self - 1)) < 1e-5
    assert np.max(np.abs(got_cross / ref_cross - 1)) < 1e-5


def test_k_smallest_equals_a_partial_sort_of_every_row():
    """The exhaustive search's row selection returns, to the bit, the k smallest entries a partial sort
    of the whole row gives: on wide rows (the bounded gather), with ties, with NaN and with infinities
    (the whole-row fallbacks), and on narrow rows."""
    from klbook.core.samples import _k_smallest

    rng = np.random.default_rng(3)
    wide = (rng.standard_normal((40, 3000)) + np.arange(40)[:, None] % 2 * 5).astype(np.float32)  # odd rows > 0
    ties = np.round(wide * 2)  # a few distinct values: too many candidates
    holes = wide.copy()
    holes[:, :600:2] = np.nan  # the first columns' bound is NaN in no row, the rows hold NaN
    holes[5, :600] = np.nan  # row 5: its first columns give a NaN bound
    infs = wide.copy()
    infs[:, 1::3] = -np.inf
    medium = wide[:, :700].copy()  # the bound from the first 256 columns
    narrow = wide[:, :400].copy()
    for g in (wide, ties, holes, infs, medium, medium[:, ::-1].copy(), narrow):
        for k in (1, 2, 7, 11, 40, 64, 65, 200):
            got = np.sort(_k_smallest(g.copy(), k), axis=1)
            want = np.sort(np.partition(g, k - 1, axis=1)[:, :k], axis=1)
            assert got.dtype == np.float32 and got.tobytes() == want.tobytes(), (g.shape, k)


def test_one_dimensional_search_gives_the_kd_trees_distances_to_the_bit():
    """In one dimension the neighbours come from the sorted sample: the same floats as scipy's k-d tree,
    sorted, with ties and duplicates, squares that underflow (1e-160) or overflow (1e160), subnormals,
    the query's own point skipped, k up to n - 1, and queries outside the sample's range."""
    from scipy.spatial import cKDTree

    from klbook.core.samples import _knn_distances, _sorted_knn_1d

    rng = np.random.default_rng(5)
    draws = [
        rng.standard_normal(500),
        rng.standard_t(1, 500),
        np.round(rng.standard_normal(500) * 3) / 3,
        rng.integers(0, 4, 500).astype(float),
        rng.standard_normal(500) * 1e-160,
        rng.standard_normal(500) * 1e160,
        rng.uniform(-1, 1, 500) * 1e-310,
    ]
    for v in draws:
        x, y = v[:300, None], v[300:, None] * 1.5
        for k in (1, 2, 5, 21, 199):
            want_self = cKDTree(x).query(x, k=k + 1)[0].reshape(300, -1)[:, 1:]
            want_cross = cKDTree(y).query(x, k=k)[0].reshape(300, -1)
            assert _knn_distances(x, x, k, True, 1).tobytes() == want_self.tobytes(), k
            assert _knn_distances(y, x, k, False, 1).tobytes() == want_cross.tobytes(), k
        assert _sorted_knn_1d(x, x, 299).tobytes() == cKDTree(x).query(x, k=299)[0].tobytes()


def test_reference_correction_is_unbiased_for_a_gaussian_pair_in_d8():
    """d = 8, n = m = 3000: the plain estimator is off by about 0.2; over 6 seeded pairs the corrected
    estimate's mean error is within 0.03 of the closed form and the correction's sign is right."""
    d = 8
    s2 = np.linspace(0.7, 1.6, d)
    mu = np.full(d, 0.2)
    true = gauss_kl_mp(np.zeros(d), np.ones(d), mu, s2)
    errs, raws = [], []
    for rep in range(6):
        rng = np.random.default_rng(300 + rep)
        x = rng.standard_normal((3000, d)) @ np.diag([1.0] * d)
        y = rng.standard_normal((3000, d)) * np.sqrt(s2) + mu
        r = kl_from_samples(x, y, random_state=rep)
        assert r.details["reference_runs"] >= 1 and 0 < r.details["reference_points"] <= 3000
        errs.append(r.value - true)
        raws.append(r.raw - true)
    assert abs(np.mean(errs)) < 0.03
    assert np.mean(np.abs(errs)) < np.mean(np.abs(raws))


def test_fit_inflation_matches_the_exact_expected_kl_of_fitted_gaussians():
    """The parametric bootstrap of the Gaussian fit against the exact expectation of the KL between
    two fitted Gaussians when p = q = N(0, I_d): E = (d/2)(1/n + 1/m) + expectations of
    tr(S_x S_y^-1) and log-determinants (Wishart moments, hand-derived)."""
    from scipy.special import digamma as psi

    from klbook.core.samples import _refitted_kls

    d, n, m = 4, 200, 300
    eye = np.eye(d)
    draws = _refitted_kls(np.zeros(d), eye, np.zeros(d), eye, n, m, np.random.default_rng(0), 20_000)
    # E tr(S_y^-1 S_x) = d (m - 1)/(m - d - 2); E (mx - my)' S_y^-1 (mx - my) = d (1/n + 1/m)(m - 1)/(m - d - 2)
    # E log|S| for S = W/(N - 1), W ~ Wishart(I, N - 1): sum_i psi((N - 1 - i)/2) + d log(2/(N - 1))
    def elogdet(size):
        return sum(psi((size - 1 - i) / 2) for i in range(d)) + d * math.log(2 / (size - 1))

    inv = (m - 1) / (m - d - 2)
    exact = 0.5 * (d * inv + d * (1 / n + 1 / m) * inv - d + elogdet(m) - elogdet(n))
    assert abs(np.mean(draws) - exact) < 4 * np.std(draws) / math.sqrt(draws.size)


def test_default_k_and_reference_budget():
    rng = np.random.default_rng(12)
    x2, y2 = rng.standard_normal((500, 2)), rng.standard_normal((500, 2))
    x6, y6 = rng.standard_normal((500, 6)), rng.standard_normal((500, 6))
    assert kl_from_samples(x2, y2).k == 20 and kl_from_samples(x6, y6).k == 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 8 points: the tail diagnostic may fire
        assert kl_from_samples(x2[:8], y2[:8]).k == 7  # lowered for tiny samples
    r = kl_from_samples(x6, y6, n_reference=3)
    assert r.details["reference_runs"] == 3
    with pytest.raises(ValueError, match="n_reference"):
        kl_from_samples(x6, y6, n_reference=0)


# ------------------------------------------------------ two modes: mixture reference, within-mode metric
def test_em_recovers_a_known_two_mode_mixture():
    rng = np.random.default_rng(3)
    d, n = 4, 4000
    cov = np.diag([0.5, 1.0, 2.0, 1.5])
    means = np.array([[-1.2, 0.0, 0.5, 0.0], [1.4, 0.3, 0.5, -0.2]])
    label = rng.random(n) < 0.35
    z = means[label.astype(int)] + rng.standard_normal((n, d)) @ np.linalg.cholesky(cov).T
    model, ll = _em_two_components(z)
    order = np.argsort(model.means[:, 0])
    w, mu = model.weights[order], model.means[order]
    assert abs(w[1] - 0.35) < 0.03
    assert np.all(np.abs(mu - means) < 0.12)
    within = model.chols[0] @ model.chols[0].T
    assert np.all(np.abs(within - cov) < 0.15)
    # the log-likelihood it reports is that of the returned model, recomputed here from scratch
    dens = sum(wk * stats.multivariate_normal(mk, within).pdf(z) for wk, mk in zip(model.weights, model.means))
    assert abs(ll - np.sum(np.log(dens))) < 1e-6 * abs(ll)


def test_two_modes_get_a_mixture_reference_and_a_gaussian_keeps_its_own():
    mix = known_kl_pairs(10)[3]
    r = np.random.default_rng(7)
    x, y = mix.draw_p(1000, r), mix.draw_q(1000, r)
    res = kl_from_samples(x, y)
    assert res.details["reference_components"] == (2, 1) and res.details["metric"] == "within-mode"
    g = known_kl_pairs(10)[0]
    x, y = g.draw_p(1000, r), g.draw_q(1000, r)
    res = kl_from_samples(x, y)
    assert res.details["reference_components"] == (1, 1) and "metric" not in res.details


def test_within_mode_metric_and_mixture_reference_remove_the_pooled_whitening_bias_d10():
    # SAMPLES-2's diagnosis: whitened by the pooled covariance, the k-NN estimate of the
    # two-mode pair is biased low (the modes are squeezed); the exact value is 1-D quadrature
    pair = known_kl_pairs(10)[3]
    ours, pooled = [], []
    for s in range(5):
        r = np.random.default_rng(50 + s)
        x, y = pair.draw_p(2000, r), pair.draw_q(2000, r)
        ours.append(kl_from_samples(x, y, random_state=s).value - pair.kl)
        pooled.append(kl_from_samples(x, y, bias_correction=False, random_state=s).value - pair.kl)
    assert np.mean(pooled) < -0.03  # the pooled-whitening bias
    assert abs(np.mean(ours)) < 0.5 * abs(np.mean(pooled))
    assert np.mean(np.abs(ours)) < 0.6 * np.mean(np.abs(pooled))


def test_known_kl_pairs_rejects_a_bad_dimension():
    for bad in (0, 2.0, True, "3"):
        with pytest.raises(ValueError, match="d must be an int >= 1"):
            known_kl_pairs(bad)


# ---------------------------------------------------------------- mae_ratio

def test_mae_ratio_against_a_plain_loop():
    """The ratio from exact fractions; the interval from the resampled repetitions, recomputed one by one."""
    from fractions import Fraction

    a = [0.31, 0.12, 0.27, 0.05, 0.40, 0.22]
    b = [0.10, 0.35, 0.18, 0.30, 0.15, 0.26]
    t = 0.2
    ratio, lo, hi = mae_ratio(a, b, t, level=0.8, draws=500, seed=3)
    exact = sum(abs(Fraction(v) - Fraction(t)) for v in a) / sum(abs(Fraction(v) - Fraction(t)) for v in b)
    assert ratio == pytest.approx(float(exact), rel=1e-15)
    idx = np.random.default_rng(3).integers(0, 6, (500, 6))
    boot = sorted(sum(abs(a[i] - t) for i in row) / sum(abs(b[i] - t) for i in row) for row in idx.tolist())
    # numpy's default quantile: linear between the order statistics at (draws - 1) * q
    for q, got in ((0.1, lo), (0.9, hi)):
        pos = 499 * q
        k = int(pos)
        ref = boot[k] + (boot[k + 1] - boot[k]) * (pos - k)
        assert got == pytest.approx(ref, rel=1e-12)
    assert lo <= ratio <= hi


def test_mae_ratio_of_proportional_errors_is_exact():
    rng = np.random.default_rng(0)
    e = rng.normal(size=40)
    ratio, lo, hi = mae_ratio(1.0 + 0.5 * e, 1.0 + e, 1.0)
    assert ratio == pytest.approx(0.5, rel=1e-14) and lo == pytest.approx(0.5, rel=1e-14) and hi == pytest.approx(0.5, rel=1e-14)


@pytest.mark.parametrize("args,kwargs,match", [
    (([1.0], [1.0], 0.0), {}, "length >= 2"),
    (([1.0, 2.0], [1.0, 2.0, 3.0], 0.0), {}, "one length"),
    (([1.0, np.nan], [1.0, 2.0], 0.0), {}, "finite"),
    (([1.0, 2.0], [1.0, 2.0], np.inf), {}, "truth"),
    (([1.0, 2.0], [1.0, 2.0], 0.0), {"level": 1.0}, "level"),
    (([1.0, 2.0], [1.0, 2.0], 0.0), {"draws": 0}, "draws"),
    (([1.0, 2.0], [0.5, 0.5], 0.5), {}, "mean absolute error is 0"),
])
def test_mae_ratio_rejects_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mae_ratio(*args, **kwargs)
