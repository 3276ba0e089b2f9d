"""Tests for klbook.book.learning: empirical pmf, cross-entropy loss, finite differences, gradient descent.

References: exact fractions for frequencies, mpmath for log-likelihoods, hand-derived
derivatives and the exact contraction of gradient descent on a quadratic.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, norm, poisson

from klbook.book.learning import average_nll, empirical_pmf, finite_difference_gradient, gradient_descent
from klbook.core.mixtures import GaussianMixture

MP_DPS = 30  # this module's mpmath precision: tests/conftest.py sets it around each test
mp.mp.dps = MP_DPS  # (and for references computed at import)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=60))
def test_empirical_pmf_is_exact_frequencies(data):
    got = empirical_pmf(data, 7)
    for k in range(7):
        assert got[k] == float(Fraction(data.count(k), len(data)))


def test_empirical_pmf_errors():
    with pytest.raises(ValueError, match="empty"):
        empirical_pmf([], 3)
    with pytest.raises(ValueError, match="integers"):
        empirical_pmf([0, 1.5], 3)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        empirical_pmf([0, 3], 3)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        empirical_pmf([-1, 0], 3)
    with pytest.raises(TypeError, match="n_values"):
        empirical_pmf([0, 1], 2.0)
    with pytest.raises(TypeError, match="numbers"):
        empirical_pmf(["a"], 2)


def test_average_nll_discrete_and_continuous():
    data = [0, 3, 3, 7, 10, 4]
    want = -mp.fsum(
        mp.log(mp.binomial(10, k)) + k * mp.log(mp.mpf("0.4")) + (10 - k) * mp.log(mp.mpf("0.6")) for k in data
    ) / len(data)
    assert average_nll(binom(10, 0.4), data) == pytest.approx(float(want), rel=1e-13)
    xs = [-0.3, 1.7, 2.2]
    want = mp.fsum((x - 1) ** 2 / (2 * mp.mpf(2) ** 2) + mp.log(2) + mp.log(2 * mp.pi) / 2 for x in map(mp.mpf, xs)) / 3
    assert average_nll(norm(1, 2), xs) == pytest.approx(float(want), rel=1e-13)
    mix = GaussianMixture([0.5, 0.5], [-1.0, 1.0], [1.0, 1.0])
    want = -mp.fsum(
        mp.log(mp.npdf(mp.mpf(x), -1, 1) / 2 + mp.npdf(mp.mpf(x), 1, 1) / 2) for x in xs
    ) / 3
    assert average_nll(mix, xs) == pytest.approx(float(want), rel=1e-12)


def test_average_nll_zero_probability_and_errors():
    assert average_nll(binom(3, 0.5), [1, 4]) == math.inf
    assert average_nll(poisson(2.0), [0.5]) == math.inf  # not an integer: pmf 0
    with pytest.raises(TypeError, match="distribution"):
        average_nll([0.5, 0.5], [0])
    with pytest.raises(ValueError, match="empty"):
        average_nll(norm(), [])
    with pytest.raises(ValueError, match="NaN"):
        average_nll(norm(), [float("nan")])


def test_finite_difference_gradient_against_hand_derivatives():
    def f(t):
        return math.sin(t[0]) * t[1] ** 3 + math.exp(0.5 * t[2])

    t = np.array([0.7, -1.3, 2.0])
    want = np.array([math.cos(0.7) * (-1.3) ** 3, 3 * math.sin(0.7) * 1.3**2, 0.5 * math.exp(1.0)])
    assert np.allclose(finite_difference_gradient(f, t), want, rtol=1e-8, atol=0)
    # a quadratic is differentiated exactly by central differences (up to rounding)
    assert np.allclose(finite_difference_gradient(lambda t: 3 * t[0] ** 2 - t[0], [1e3]), [6e3 - 1], rtol=1e-9)
    with pytest.raises(ValueError, match="h must be"):
        finite_difference_gradient(f, t, h=0.0)
    with pytest.raises(ValueError, match="finite 1-D"):
        finite_difference_gradient(f, [[1.0]])


@settings(max_examples=30, deadline=None)
@given(
    a=st.floats(0.1, 5.0), c=st.floats(-3, 3), x0=st.floats(-5, 5), k=st.integers(0, 30), frac=st.floats(0.05, 1.9)
)
def test_gradient_descent_on_a_quadratic_contracts_exactly(a, c, x0, k, frac):
    """On f(x) = a (x - c)^2 / 2 with step eta, x_t - c = (1 - eta a)^t (x_0 - c)."""
    eta = frac / a
    path = gradient_descent(lambda t: (a * (t[0] - c) ** 2 / 2, np.array([a * (t[0] - c)])), [x0], step=eta, n_steps=k)
    assert path.thetas.shape == (k + 1, 1) and path.values.shape == (k + 1,) and path.grads.shape == (k + 1, 1)
    want = c + (1 - eta * a) ** k * (x0 - c)
    assert path.thetas[-1, 0] == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert path.values[0] == pytest.approx(a * (x0 - c) ** 2 / 2, rel=1e-12, abs=1e-300)


def test_gradient_descent_errors():
    def vg(t):
        return float(t[0] ** 2), 2 * t

    with pytest.raises(ValueError, match="step"):
        gradient_descent(vg, [1.0], step=-1.0, n_steps=3)
    with pytest.raises(ValueError, match="n_steps"):
        gradient_descent(vg, [1.0], step=0.1, n_steps=-1)
    def blows_up(t):  # an objective that leaves its domain beyond |t| = 1e6
        return (math.inf if abs(t[0]) > 1e6 else float(t[0] ** 2)), 2 * t

    with pytest.raises(ValueError, match="not finite"):
        gradient_descent(blows_up, [1.0], step=10.0, n_steps=2000)  # step too large: diverges
