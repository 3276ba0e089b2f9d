"""The chapter 8 explorer (kl_regularised_explorer): every number the page shows matches klbook.

The page's JavaScript (klreg.js, run in Node or Chromium by test_explorers_refs.make_engine)
is compared with klbook.book.ml.kl_regularised_optimum through expected_values, and both
with an independent mpmath Gibbs policy.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest

from klbook.book.explorers import expected_values, kl_regularised_explorer

_spec = importlib.util.spec_from_file_location("refs_policy", Path(__file__).with_name("test_explorers_refs.py"))
R = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(R)

PI_REF = [0.30, 0.25, 0.20, 0.12, 0.10, 0.03]
R_TRUE = [1.0, 0.7, 0.2, -0.5, -1.0, -1.5]
R_MODEL = [1.0, 0.7, 0.2, -0.5, -1.0, 2.0]
LABELS = ["helpful", "terse", "vague", "wrong", "off-topic", "flattery"]


@pytest.fixture(scope="module")
def engine():
    eng = R.make_engine()
    yield eng
    eng.close()


def mp_gibbs(ref, rew, beta):
    mp.mp.dps = 40
    w = [mp.mpf(a) * mp.exp(mp.mpf(r) / mp.mpf(beta)) for a, r in zip(ref, rew)]
    z = mp.fsum(w)
    return [x / z for x in w], z


def test_spec_and_initial_state():
    e = kl_regularised_explorer(PI_REF, R_MODEL, eval_reward=R_TRUE, labels=LABELS)
    c = e.spec["controls"][0]
    assert c["param"] == "log_beta" and c["value"] == round(math.log10(0.5), 2)
    assert c["min"] == -1.31 and c["max"] == 1.0
    assert [r["quantity"] for r in e.spec["readouts"]] == ["kl", "reward", "objective", "eval_reward"]
    assert len(e.spec["frontier"]["kl"]) == len(e.spec["frontier"]["eval_reward"])
    # deterministic: same spec, same id
    assert kl_regularised_explorer(PI_REF, R_MODEL, eval_reward=R_TRUE, labels=LABELS).id == e.id


def test_page_numbers_match_klbook_and_mpmath(engine):
    e = kl_regularised_explorer(PI_REF, R_MODEL, eval_reward=R_TRUE, labels=LABELS)
    states = [{"log_beta": v} for v in (-1.31, -1.0, -0.3, 0.0, 0.12, 0.5, 1.0)]
    [vals] = engine.run([{"spec": e.spec, "states": states}])
    for s, v in zip(states, vals):
        want = expected_values(e.spec, s)
        for k in want:
            assert R.close(v[k], want[k]), (s, k, v[k], want[k])
        beta = 10.0 ** s["log_beta"]
        pol, z = mp_gibbs(PI_REF, R_MODEL, beta)
        np.testing.assert_allclose(v["pi"], [float(x) for x in pol], rtol=1e-12, atol=1e-300)
        assert R.close(v["objective"], float(beta * mp.log(z)))
        kl = mp.fsum(x * mp.log(x / mp.mpf(a)) for x, a in zip(pol, PI_REF))
        assert R.close(v["kl"], float(kl))
        assert R.close(v["eval_reward"], float(mp.fsum(x * r for x, r in zip(pol, R_TRUE))))


def test_exported_policy(engine):
    e = kl_regularised_explorer(PI_REF, R_MODEL)
    [pi] = engine.run([{"spec": e.spec, "call": "gibbsPolicy", "args": [0.2]}])
    pol, _ = mp_gibbs(PI_REF, R_MODEL, 0.2)
    np.testing.assert_allclose(pi, [float(x) for x in pol], rtol=1e-12)
    assert "eval_reward" not in expected_values(e.spec, {"log_beta": 0.0})


def test_bad_arguments():
    with pytest.raises(ValueError, match="same length"):
        kl_regularised_explorer(PI_REF, R_MODEL[:3])
    with pytest.raises(ValueError, match="pi_ref must have entries > 0"):
        kl_regularised_explorer([0.5, 0.6], [0.0, 1.0])
    with pytest.raises(ValueError, match="labels must have 6"):
        kl_regularised_explorer(PI_REF, R_MODEL, labels=["a"])
    with pytest.raises(ValueError, match="beta must lie"):
        kl_regularised_explorer(PI_REF, R_MODEL, beta=100.0)
    with pytest.raises(TypeError, match="beta_range"):
        kl_regularised_explorer(PI_REF, R_MODEL, beta_range="wide")
    with pytest.raises(ValueError, match="eval_reward must have length"):
        kl_regularised_explorer(PI_REF, R_MODEL, eval_reward=[1.0, 2.0])


# --------------------------------------------------------------------------- the distillation explorer

from klbook import kl_divergence  # noqa: E402
from klbook.book import ml  # noqa: E402
from klbook.book.explorers import distillation_explorer  # noqa: E402

TEACHER = [0.004, 0.003, 0.20, 0.22, 0.06, 0.012, 0.008, 0.010, 0.10, 0.25, 0.12, 0.005, 0.008]
E = np.linspace(-1.0, 1.0, 13)
FEATURES = np.column_stack([E, E ** 2])
STARTS = [np.zeros(2), np.array([-12.0, -12.0]), np.array([12.0, -12.0])]


@pytest.fixture(scope="module")
def student_explorer():
    return distillation_explorer(TEACHER, FEATURES, inits=STARTS, weights=(0.0, 0.5, 0.9, 1.0),
                                 temperatures=(0.5, 1.0, 2.0))


def test_student_numbers_match_klbook(engine, student_explorer):
    e = student_explorer
    states = [{"w_index": w, "t_index": t} for w in range(4) for t in range(3)]
    [vals] = engine.run([{"spec": e.spec, "states": states}])
    for s, v in zip(states, vals):
        want = expected_values(e.spec, s)
        for k in want:
            assert R.close(v[k], want[k]), (s, k, v[k], want[k])


def test_student_fits_are_the_chapters(student_explorer):
    """Independent of the spec: refit with ml.fit_student and compare the stored students."""
    e = student_explorer
    p = np.array(TEACHER)
    fwd = ml.fit_student(p, FEATURES, "forward", inits=STARTS).student
    rev = ml.fit_student(p, FEATURES, "reverse", inits=STARTS).student
    got_f = expected_values(e.spec, {"w_index": 0, "t_index": 1})
    got_r = expected_values(e.spec, {"w_index": 3, "t_index": 1})
    assert got_f["forward"] == pytest.approx(kl_divergence(p, fwd), rel=1e-9)
    assert got_r["reverse"] == pytest.approx(kl_divergence(rev, p), rel=1e-9)
    assert got_f["rare_mass"] == pytest.approx(fwd[p < 0.015].sum(), rel=1e-9)
    assert round(got_f["rare_mass"], 3) == 0.505 and round(got_r["rare_mass"], 3) == 0.035
    # the tempered reverse student covers (chapter: T >= 1.25)
    assert expected_values(e.spec, {"w_index": 3, "t_index": 2})["rare_mass"] > 0.45


def test_student_bad_arguments():
    with pytest.raises(ValueError, match="teacher"):
        distillation_explorer([0.5, 0.5, 0.0], np.eye(3))
    with pytest.raises(ValueError, match="features"):
        distillation_explorer(TEACHER, FEATURES[:4])
    with pytest.raises(ValueError, match="weights"):
        distillation_explorer(TEACHER, FEATURES, weights=(0.0, 1.5))
    with pytest.raises(ValueError, match="strictly increasing"):
        distillation_explorer(TEACHER, FEATURES, temperatures=(2.0, 1.0))
    with pytest.raises(ValueError, match="labels"):
        distillation_explorer(TEACHER, FEATURES, labels=["a"])
