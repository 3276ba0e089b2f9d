"""The chapter 7 mixture-bracket explorer: every number the page computes equals klbook's."""

from __future__ import annotations

import numpy as np
import pytest

import test_explorers_refs as R
from klbook import GaussianMixture
from klbook.book.explorers import expected_values
from klbook.book.explorers.mixture import mixture_bracket_explorer

P = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
Q = GaussianMixture([0.3, 0.7], [-1.0, 1.5], [1.0, 0.8])


def test_mixture_bracket_numbers_match_klbook():
    e = mixture_bracket_explorer(P, Q, component=0)
    lo, hi = e.spec["controls"][0]["min"], e.spec["controls"][0]["max"]
    states = [{"mu": float(v)} for v in np.linspace(lo, hi, 9)] + [{"mu": -1.0}]
    eng = R.make_engine()
    try:
        [vals] = eng.run([{"spec": e.spec, "states": states}])
    finally:
        eng.close()
    for s, v in zip(states, vals):
        want = expected_values(e.spec, s)
        for k in ("kl", "lower", "upper", "variational"):
            assert R.close(v[k], want[k]), (s, k, v[k], want[k])
        assert v["lower"] <= v["kl"] <= v["upper"]


def test_mixture_bracket_spec_and_errors():
    e = mixture_bracket_explorer(P, Q, component=1, mean_range=(-3, 3), title="t")
    assert e.spec["kind"] == "mixture_bracket" and e.spec["component"] == 1
    assert e.spec["controls"][0]["min"] == -3 and e.spec["controls"][0]["max"] == 3
    assert e.spec["view"]["lo"] < -3 < 3 < e.spec["view"]["hi"]
    html = e._repr_html_()
    assert "mixture_bracket" in html
    with pytest.raises(TypeError, match="one-dimensional"):
        mixture_bracket_explorer(P, GaussianMixture([1.0], [[0.0, 0.0]], covs=[np.eye(2)]))
    with pytest.raises(ValueError, match="component"):
        mixture_bracket_explorer(P, Q, component=5)
    with pytest.raises(ValueError, match="mean_range"):
        mixture_bracket_explorer(P, Q, mean_range=(2, 1))
