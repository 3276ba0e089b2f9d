"""The chapter 4 explorer with p reshaped by the reader: every number against klbook and independent
references for edited p's; the capped live descent; the local minima the page finds."""

from __future__ import annotations

import math

import pytest

import test_explorers_refs as R
from klbook.book.explorers import expected_values, forward_reverse_explorer
from klbook.book.explorers.forward_reverse import p_from_state
from klbook.core.fitting import fit_gaussian
from klbook.core.mixtures import GaussianMixture


@pytest.fixture(scope="module")
def engine():
    eng = R.make_engine()
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def spec():
    return forward_reverse_explorer(R.BIMODAL).spec


def edited(bumps, q=(0.6, -0.5)):
    """A state: q = (mean, log_scale) and bumps [(m, s, w), ...] (raw weights)."""
    st = {"mean": q[0], "log_scale": q[1], "bumps": len(bumps)}
    for k, (m, s, w) in enumerate(bumps, 1):
        st[f"m{k}"], st[f"s{k}"], st[f"w{k}"] = m, s, w
    return st


EDITS = {
    "as given": edited([(-2.0, 0.6, 0.5), (2.0, 0.6, 0.5)]),
    "moved": edited([(-1.0, 0.6, 0.5), (2.5, 0.6, 0.5)], q=(1.2, 0.1)),
    "narrow far": edited([(-4.2, 0.35, 0.5), (4.2, 0.35, 0.5)], q=(0.0, 1.0)),
    "unequal weights": edited([(-2.0, 0.6, 0.7), (2.0, 0.6, 0.3)], q=(-1.5, -0.4)),
    "one bump": edited([(0.5, 1.1, 0.4)], q=(0.5, math.log(1.1))),
    "three bumps": edited([(-3.0, 0.5, 0.2), (0.5, 1.2, 0.5), (2.5, 0.4, 0.3)], q=(-2.9, -1.2)),
    "wide and weights": edited([(-0.5, 1.4, 1.0), (3.0, 0.35, 0.05), (-4.0, 0.8, 0.35)], q=(4.0, 1.4)),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_edited_p_numbers_match_klbook_and_references(engine, spec, name):
    st = EDITS[name]
    [[v]] = engine.run([{"spec": spec, "states": [st]}])
    want = expected_values(spec, st)                     # klbook.kl_divergence both ways
    p = p_from_state(spec, st)
    m, s = st["mean"], math.exp(st["log_scale"])
    for key in ("forward", "reverse"):
        assert R.close(v[key], want[key], 1e-9), (name, key, v[key], want[key])
    assert R.close(v["forward"], R.ref_forward(p, m, s), 1e-9)   # hand-derived moments + mpmath entropy
    assert R.close(v["reverse"], R.ref_reverse(p, m, s), 1e-9)   # adaptive Gauss-Kronrod
    # q stays put while p changes
    assert v["mean"] == m and v["scale"] == pytest.approx(s, rel=1e-15)


def test_p_from_state_normalises_the_weights(spec):
    p = p_from_state(spec, EDITS["unequal weights"])
    assert isinstance(p, GaussianMixture) and list(p.weights) == pytest.approx([0.7, 0.3], abs=1e-15)
    assert p_from_state(spec, {"mean": 0, "log_scale": 0}).means.tolist() == [-2.0, 2.0]


def box_of(spec):
    c = spec["controls"]
    return [[c[0]["min"], c[0]["max"]], [c[1]["min"], c[1]["max"]]]


@pytest.mark.parametrize("direction, start", [("forward", (-4.0, -1.0)), ("reverse", (0.6, -0.5)),
                                              ("reverse", (-4.5, 1.2)), ("forward", (3.0, 1.2))])
def test_live_descent_moves_in_capped_steps_and_ends_lower(engine, spec, direction, start):
    box = box_of(spec)
    span = [box[0][1] - box[0][0], box[1][1] - box[1][0]]
    [path] = engine.run([{"spec": spec, "call": "descend", "args": [direction, list(start), box]}])
    steps = [math.hypot((b[0] - a[0]) / span[0], (b[1] - a[1]) / span[1]) for a, b in zip(path[:-1], path[1:])]
    assert max(steps) <= 0.03 + 1e-12                       # no leap: every step within the cap
    assert len({(round(a, 9), round(b, 9)) for a, b, _ in path}) >= 15
    values = [v for _, _, v in path]
    assert all(b <= a for a, b in zip(values[:-1], values[1:])) and values[-1] < values[0]
    mu, ls, val = path[-1]
    f = fit_gaussian(R.BIMODAL, direction=direction, init=(mu, math.exp(ls)))
    assert f.is_minimum and abs(mu - f.mean) < 1e-6 and abs(ls - math.log(f.std)) < 1e-6
    assert R.close(val, f.kl, 1e-9)


def test_descent_on_an_edited_p_lands_on_klbooks_minimum(engine):
    p = GaussianMixture([0.2, 0.5, 0.3], [-3.0, 0.5, 2.5], [0.5, 1.2, 0.4])
    base = forward_reverse_explorer(R.BIMODAL).spec
    st = edited([(-3.0, 0.5, 0.2), (0.5, 1.2, 0.5), (2.5, 0.4, 0.3)])
    # the page's ctx follows p through compute(); descend on a spec whose p is the edited one
    spec = dict(base, p=dict(base["p"], weights=[0.2, 0.5, 0.3], means=[-3.0, 0.5, 2.5], stds=[0.5, 1.2, 0.4]))
    assert p_from_state(base, st).weights.tolist() == pytest.approx(p.weights.tolist())
    for start in [(2.8, -1.0), (-3.5, -0.8), (0.0, 0.8)]:
        [path] = engine.run([{"spec": spec, "call": "descend", "args": ["reverse", list(start), box_of(base)]}])
        mu, ls, val = path[-1]
        f = fit_gaussian(p, direction="reverse", init=(mu, math.exp(ls)))
        assert f.is_minimum and abs(mu - f.mean) < 1e-5 and abs(ls - math.log(f.std)) < 1e-5, (start, path[-1], f)
        assert R.close(val, f.kl, 1e-8)


def test_page_finds_the_local_minima_klbook_finds(engine, spec):
    """For the given p: both modes and the centre one, as the spec's klbook buttons say."""
    [found] = engine.run([{"spec": spec, "call": "reverseMinima", "args": [box_of(spec)]}])
    klb = [b["state"] for b in spec["buttons"] if b["direction"] == "reverse"]
    assert len(found) == len(klb) == 3
    for f, k in zip(found, klb):
        assert abs(f["mean"] - k["mean"]) < 1e-4 and abs(f["log_scale"] - k["log_scale"]) < 1e-4
    assert abs(found[1]["mean"]) < 1e-6  # the centre one


def test_page_minima_for_an_edited_p_are_klbooks(engine):
    base = forward_reverse_explorer(R.BIMODAL).spec
    for w, m, s in [([0.3, 0.4, 0.3], [-3.0, 0.0, 3.0], [0.5, 0.5, 0.5]), ([0.7, 0.3], [-2.0, 2.0], [0.6, 0.6])]:
        p = GaussianMixture(w, m, s)
        spec = dict(base, p=dict(base["p"], weights=w, means=m, stds=s))
        [found] = engine.run([{"spec": spec, "call": "reverseMinima", "args": [box_of(base)]}])
        assert len(found) >= len(m)
        for f in found:
            fit = fit_gaussian(p, direction="reverse", init=(f["mean"], math.exp(f["log_scale"])))
            assert fit.is_minimum and abs(fit.mean - f["mean"]) < 1e-4 and abs(math.log(fit.std) - f["log_scale"]) < 1e-4
            assert R.close(f["value"], fit.kl, 1e-7)


def test_editor_ranges_and_grid(spec):
    e = spec["editor"]
    assert e["max_bumps"] == 3 and e["loc"]["min"] <= -2 and e["loc"]["max"] >= 2
    assert e["width"]["min"] <= 0.6 <= e["width"]["max"] and e["weight"] == {"min": 0.05, "max": 1.0, "step": 0.05}
    assert spec["landscape"]["vmax"] == 60.0 and spec["restart"]["seed"] == 7
    assert spec["readouts"][0]["format"] == "fixed"
    plain = forward_reverse_explorer(R.BIMODAL, editable=False).spec
    assert "editor" not in plain and plain["quad"]["n"] <= spec["quad"]["n"]
