"""Schulman's f-divergence recipe f(r) - f'(1)(r - 1) and the reverse-KL estimator r log r - (r - 1).

References are computed independently: mpmath at 40 digits for the per-sample values, exact
sums over a finite support for the expectations, the Gaussian closed form for Monte Carlo.
"""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy.stats import binom, norm, poisson

from klbook.core.estimators import (
    F_DIVERGENCES,
    check_sample_size,
    f_divergence_samples,
    k3_from_log_ratio,
    mc_f_divergence,
    mc_kl,
    rng_from_seed,
)

U = [-700.0, -40.0, -3.0, -1.0, -0.3, -1e-5, -1e-12, 0.0, 1e-12, 1e-5, 0.3, 1.0, 3.0, 40.0, 300.0]


def _ref(name, u):
    with mp.workdps(40):
        u = mp.mpf(u)
        r = mp.exp(u)
        if name == "kl":
            return r - 1 - u
        if name == "reverse_kl":
            return r * u - (r - 1)
        if name == "chi2":
            return (r - 1) ** 2
        return (mp.sqrt(r) - 1) ** 2 / 2


@pytest.mark.parametrize("name", sorted(F_DIVERGENCES))
def test_per_sample_values_to_a_few_ulp(name):
    got = f_divergence_samples(np.array(U), name)
    for u, g in zip(U, got):
        ref = float(_ref(name, u))
        assert g >= 0.0
        if ref == 0.0:
            assert g == 0.0
        else:
            assert abs(g - ref) <= 4e-16 * abs(ref) + 1e-300, (name, u, g, ref)


def test_reverse_kl_at_r_zero_and_k3_alias():
    assert f_divergence_samples(np.array([-np.inf]), "reverse_kl")[0] == 1.0
    assert f_divergence_samples(np.array([-np.inf]), "reverse_kl", control_variate=False)[0] == 0.0
    u = np.linspace(-2, 2, 41)
    np.testing.assert_array_equal(f_divergence_samples(u, "kl"), k3_from_log_ratio(u))


def _exact_pair():
    p = np.array([0.1, 0.2, 0.3, 0.25, 0.15])
    q = np.array([0.3, 0.1, 0.1, 0.2, 0.3])
    return p, q


@pytest.mark.parametrize("name", sorted(F_DIVERGENCES))
def test_expectation_under_p_is_the_divergence(name):
    """E_p of the per-sample values, summed exactly over the support, is the f-divergence."""
    p, q = _exact_pair()
    u = np.log(q) - np.log(p)
    with mp.workdps(40):
        P = [mp.mpf(v) for v in p]
        Q = [mp.mpf(v) for v in q]
        exact = {
            "kl": sum(a * mp.log(a / b) for a, b in zip(P, Q)),
            "reverse_kl": sum(b * mp.log(b / a) for a, b in zip(P, Q)),
            "chi2": sum((b - a) ** 2 / a for a, b in zip(P, Q)),
            "hellinger": 1 - sum(mp.sqrt(a * b) for a, b in zip(P, Q)),
        }[name]
    for cv in (True, False):
        vals = f_divergence_samples(u, name, control_variate=cv)
        assert math.isclose(math.fsum(p * vals), float(exact), rel_tol=1e-13)


def test_callable_f_matches_the_named_form():
    u = np.linspace(-2.5, 2.5, 101)
    got = f_divergence_samples(u, lambda r: r * np.log(r), f_prime_one=1.0)
    np.testing.assert_allclose(got, f_divergence_samples(u, "reverse_kl"), rtol=1e-9, atol=1e-15)
    plain = f_divergence_samples(u, lambda r: (r - 1) ** 2, control_variate=False)
    np.testing.assert_allclose(plain, f_divergence_samples(u, "chi2"), rtol=1e-12)


def test_control_variate_makes_every_sample_non_negative():
    u = np.linspace(-5, 3, 201)
    plain = f_divergence_samples(u, "reverse_kl", control_variate=False)
    assert plain.min() < -0.3          # r log r dips to -1/e
    assert f_divergence_samples(u, "reverse_kl").min() >= 0.0


def test_same_seed_same_draws_as_mc_kl():
    p, q = norm(0, 1), norm(0.5, 1.1)
    k1 = mc_kl(p, q, 1000, estimator="k1", seed=4).samples
    rev = mc_f_divergence(p, q, 1000, "reverse_kl", seed=4).samples
    np.testing.assert_array_equal(rev, f_divergence_samples(-k1, "reverse_kl"))


@pytest.mark.parametrize("mu,sd", [(1.0, 1.2), (0.5, 0.8), (-0.3, 1.0)])
def test_mc_reverse_kl_agrees_with_the_closed_form(mu, sd):
    p, q = norm(0, 1), norm(mu, sd)
    exact = math.log(1.0 / sd) + (sd**2 + mu**2) / 2 - 0.5     # KL(q || p)
    res = mc_f_divergence(p, q, 200_000, "reverse_kl", seed=11)
    assert abs(res.value - exact) < 4.5 * res.stderr


def test_discrete_and_infinite():
    res = mc_f_divergence(binom(10, 0.4), binom(10, 0.5), 5000, "hellinger", seed=1)
    assert np.isfinite(res.value) and res.value > 0
    # q = binomial puts no mass above 10 where p = Poisson lives: log r = -inf there
    res = mc_f_divergence(poisson(9.0), binom(10, 0.9), 2000, "kl", seed=2)
    assert res.value == math.inf


def test_errors():
    with pytest.raises(ValueError, match="f must be one of"):
        f_divergence_samples([0.0], "tv")
    with pytest.raises(ValueError, match="f_prime_one"):
        f_divergence_samples([0.0], lambda r: r * np.log(r))
    with pytest.raises(TypeError):
        f_divergence_samples([0.0], 3)
    with pytest.raises(ValueError, match="NaN"):
        f_divergence_samples([np.nan], "kl")
    with pytest.raises(ValueError, match="f must be one of"):
        mc_f_divergence(norm(), norm(), 10, "nope")
    with pytest.raises(TypeError):
        check_sample_size(10.0)
    with pytest.raises(ValueError):
        check_sample_size(1)
    with pytest.raises(ValueError):
        rng_from_seed(-1)
    with pytest.raises(TypeError):
        rng_from_seed(True)
    g = np.random.default_rng(0)
    assert rng_from_seed(g) is g
