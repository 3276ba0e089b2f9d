"""The chapter 3 (two coins) and chapter 5 (estimators) explorers: every number they show, by their
JavaScript (run in Node, or Chromium), against klbook and against hand-derived references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fractions import Fraction

import test_explorers_refs as R
from klbook.book.explorers import bernoulli_explorer, estimator_explorer, expected_values
from klbook.book.explorers.bernoulli import sign_rule
from klbook.book.explorers.estimators import SAMPLE_SIZES, normal_draws, uniforms


@pytest.fixture(scope="module")
def engine():
    eng = R.make_engine()
    yield eng
    eng.close()


def close(a, b, tol=R.TOL):
    return R.close(a, b, tol)


# --------------------------------------------------------------------------- ch. 3: two coins


def kl_bern_ref(a: float, b: float) -> float:
    """KL(Bern(a) || Bern(b)) written out by hand (a, b in (0, 1))."""
    return a * math.log(a / b) + (1 - a) * math.log((1 - a) / (1 - b))


BERN_STATES = [{"a": 0.5, "b": 0.1}, {"a": 0.1, "b": 0.5}, {"a": 0.01, "b": 0.99}, {"a": 0.3, "b": 0.3},
               {"a": 0.2, "b": 0.8}, {"a": 0.9, "b": 0.65}, {"a": 0.37, "b": 0.995}, {"a": 0.005, "b": 0.5}]


def test_bernoulli_numbers_match_klbook_and_hand_forms(engine):
    e = bernoulli_explorer(prob_range=(0.005, 0.995))
    [vals] = engine.run([{"spec": e.spec, "states": BERN_STATES}])
    for s, v in zip(BERN_STATES, vals):
        want = expected_values(e.spec, s)
        assert set(want) == {r["quantity"] for r in e.spec["readouts"]}
        for k, w in want.items():
            assert close(v[k], w), (s, k, v[k], w)
        a, b = s["a"], s["b"]
        pq, qp = kl_bern_ref(a, b), kl_bern_ref(b, a)
        assert close(v["kl_pq"], pq, 1e-12) and close(v["kl_qp"], qp, 1e-12)
        assert close(v["tv"], abs(a - b), 1e-15)
        assert close(v["pinsker_pq"], math.sqrt(pq / 2), 1e-12)
        assert close(v["bh_qp"], math.sqrt(1 - math.exp(-qp)), 1e-12)
        # Pinsker and Bretagnolle-Huber hold in both directions
        for key in ("pinsker_pq", "pinsker_qp", "bh_pq", "bh_qp"):
            assert v["tv"] <= v[key] + 1e-15, (s, key)


def test_bernoulli_sign_rule(engine):
    """The gap is > 0 exactly when |a - 1/2| < |b - 1/2| (checked on a grid of exact decimals)."""
    e = bernoulli_explorer()
    grid = [k / 20 for k in range(1, 20)]
    states = [{"a": a, "b": b} for a in grid for b in grid]
    [vals] = engine.run([{"spec": e.spec, "states": states}])
    for s, v in zip(states, vals):
        da = abs(Fraction(str(s["a"])) - Fraction(1, 2))
        db = abs(Fraction(str(s["b"])) - Fraction(1, 2))
        rule = 0 if da == db else (1 if da < db else -1)
        assert sign_rule(s["a"], s["b"]) == rule
        if rule == 0:
            assert abs(v["gap"]) < 1e-14, s
        else:
            assert math.copysign(1, v["gap"]) == rule and abs(v["gap"]) > 1e-12, (s, v["gap"])


def test_bernoulli_colour_scale_is_the_static_figures():
    from klbook.book.properties import bernoulli_asymmetry_grid

    spec = bernoulli_explorer().spec
    grid = np.linspace(0.005, 0.995, 199)
    assert spec["map"]["g_max"] == pytest.approx(np.max(np.abs(bernoulli_asymmetry_grid(grid, grid))), rel=1e-11)
    assert spec["map"]["linthresh"] == 0.01 and spec["map"]["linscale"] == 0.6


@pytest.mark.parametrize("kwargs, exc", [({"prob_range": (0.0, 0.5)}, ValueError), ({"init": (0.5, 0.999)}, ValueError),
                                         ({"prob_range": "x"}, TypeError), ({"title": 1}, TypeError)])
def test_bernoulli_arguments(kwargs, exc):
    with pytest.raises(exc):
        bernoulli_explorer(**kwargs)


# --------------------------------------------------------------------------- ch. 5: estimators


def test_the_page_draws_the_same_numbers_as_python(engine):
    """mulberry32 in JS and in numpy: identical uniforms (exact), normals equal to rounding."""
    counters = [0, 1, 2, 3, 999, 123456, 2**31 - 5, 2**32 - 2]
    got = engine.run([{"call": "uniform", "args": [5, c]} for c in counters]
                     + [{"call": "normalDraws", "args": [5, 30, 4, 1000]}])
    assert got[:-1] == list(uniforms(5, np.array(counters)))
    z = np.array(got[-1]).reshape(4, 30)
    assert np.max(np.abs(z - normal_draws(5, 30, 4))) < 1e-14
    # a fair generator: mean and variance of 200 000 draws
    big = normal_draws(5, 1000, 200)
    assert abs(big.mean()) < 0.01 and abs(big.var() - 1) < 0.01


def test_estimator_numbers_match_klbook(engine):
    e = estimator_explorer()
    states = [{"mu": 1.0, "n_index": 2, "reps": 100}, {"mu": 0.1, "n_index": 0, "reps": 300},
              {"mu": 2.5, "n_index": 4, "reps": 400}, {"mu": 0.55, "n_index": 1, "reps": 2000}]
    [vals] = engine.run([{"spec": e.spec, "states": states}])
    for s, v in zip(states, vals):
        want = expected_values(e.spec, s)  # klbook: kl_divergence, estimator_moments, per_sample_kl on the same draws
        assert set(want) == {r["quantity"] for r in e.spec["readouts"]}
        for k, w in want.items():
            assert close(v[k], w, 1e-9), (s, k, v[k], w)


def test_estimator_exact_moments_by_hand(engine):
    # log r ~ N(-mu^2/2, mu^2) for p = N(0, 1), q = N(mu, 1): k1 sd mu; k2 bias mu^4/8; k3 sd sqrt(e^{mu^2} - 1 - mu^2)
    for mu in (0.1, 1.0, 3.0):
        [m] = engine.run([{"call": "exactMoments", "args": [mu]}])
        assert m["k1"] == [0, pytest.approx(mu, rel=1e-15)]
        assert m["k2"][0] == pytest.approx(mu**4 / 8, rel=1e-15)
        assert m["k3"][1] == pytest.approx(math.sqrt(math.exp(mu * mu) - 1 - mu * mu), rel=1e-12)


def test_estimator_page_is_deterministic_and_k2_is_biased(engine):
    e = estimator_explorer()
    s = {"mu": 1.0, "n_index": 4, "reps": 400}
    [[a], [b]] = engine.run([{"spec": e.spec, "states": [s]}, {"spec": e.spec, "states": [s]}])
    assert a == b
    # 400 replicates of n = 1000: k2's bias (exact mu^4/8 = 0.125) is visible, k1's and k3's are not
    assert abs(a["bias_k2"] - 0.125) < 3 * a["exact_sd_k2"] / math.sqrt(400) + 0.01
    assert abs(a["bias_k1"]) < 4 * a["exact_sd_k1"] / math.sqrt(400)
    assert abs(a["bias_k3"]) < 4 * a["exact_sd_k3"] / math.sqrt(400)
    assert a["sd_k3"] < a["sd_k1"]


@pytest.mark.parametrize("kwargs, exc", [({"n": 50}, ValueError), ({"reps": 5}, ValueError),
                                         ({"n": 1000, "reps": 1000}, ValueError), ({"shift": 5.0}, ValueError),
                                         ({"n": 10.0}, TypeError), ({"seed": -1}, ValueError)])
def test_estimator_arguments(kwargs, exc):
    with pytest.raises(exc):
        estimator_explorer(**kwargs)


def test_sample_sizes_are_the_sliders():
    spec = estimator_explorer().spec
    assert spec["sizes"] == list(SAMPLE_SIZES) and spec["controls"][1]["max"] == len(SAMPLE_SIZES) - 1
