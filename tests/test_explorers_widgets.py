"""klbook.book.widgets, headless: set the sliders, read the numbers, compare with independent references.

No browser and no kernel: the widgets are plain Python objects whose slider
observers call klbook. The references are hand-derived closed forms and the
adaptive-quadrature references of ``test_explorers_refs.py``.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

import test_explorers_refs as R

pytest.importorskip("ipywidgets")

from klbook.book.widgets import NO_KERNEL_NOTE, alpha_widget, forward_reverse_widget, integrand_widget  # noqa: E402

TOL = 1e-9


def normal_kl(a: float, b: float, m: float, s: float) -> float:
    """KL(N(a, b^2) || N(m, s^2)), by hand."""
    return math.log(s / b) + (b * b + (a - m) ** 2) / (2 * s * s) - 0.5


def test_integrand_widget_follows_its_sliders():
    w = integrand_widget(stats.norm(0.3, 1.2), draw=False)
    seen = set()
    for m, s in [(0.0, 1.0), (1.7, 0.5), (-2.0, 3.0), (0.3, 1.2)]:
        w.sliders["mean"].value = m
        w.sliders["scale"].value = s
        m, s = w.sliders["mean"].value, w.sliders["scale"].value  # as the sliders hold them
        assert w.values["kl"] == pytest.approx(normal_kl(0.3, 1.2, m, s), rel=TOL, abs=TOL)
        assert w.values["entropy"] == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 1.44), rel=TOL)
        assert w.values["cross_entropy"] == pytest.approx(R.ref_cross_entropy(stats.norm(0.3, 1.2), m, s), rel=TOL)
        seen.add(round(w.values["kl"], 12))
    assert len(seen) == 4
    assert w.values["kl"] == pytest.approx(0.0, abs=1e-12)  # q = p at the last position
    assert "KL(p ‖ q)" in w.readout.value


def test_integrand_widget_takes_any_location_scale_family():
    # KL(N(mu, sg^2) || Laplace(m, b)) = -H(N) + log(2b) + E|X - m| / b, with
    # E|X - m| = sg sqrt(2/pi) exp(-d^2 / (2 sg^2)) + d (1 - 2 Phi(-d/sg)), d = mu - m (by hand).
    mu, sg = 0.5, 0.8
    w = integrand_widget(stats.norm(mu, sg), q_family=stats.laplace, draw=False)
    w.sliders["mean"].value, w.sliders["scale"].value = -0.4, 1.3
    m, b = w.sliders["mean"].value, w.sliders["scale"].value
    d = mu - m
    e_abs = sg * math.sqrt(2 / math.pi) * math.exp(-d * d / (2 * sg * sg)) + d * (1 - 2 * stats.norm.cdf(-d / sg))
    exact = -0.5 * math.log(2 * math.pi * math.e * sg * sg) + math.log(2 * b) + e_abs / b
    assert w.values["kl"] == pytest.approx(exact, rel=TOL)


def test_forward_reverse_widget_and_its_fit_buttons():
    p = R.BIMODAL
    w = forward_reverse_widget(p, draw=False)
    w.sliders["mean"].value = 1.0
    w.sliders["log_scale"].value = math.log(0.8)
    m, s = w.sliders["mean"].value, math.exp(w.sliders["log_scale"].value)
    assert w.values["forward"] == pytest.approx(R.ref_forward(p, m, s), rel=TOL)
    assert w.values["reverse"] == pytest.approx(R.ref_reverse(p, m, s), rel=TOL)
    # started right of the middle, reverse KL lands on the right mode
    fit = w.fit("reverse")
    assert abs(fit.mean - 2.0) < 0.01 and abs(fit.std - 0.6) < 0.01
    assert w.sliders["mean"].value == fit.mean and w.sliders["log_scale"].value == math.log(fit.std)
    assert w.values["reverse"] == pytest.approx(fit.kl, rel=TOL)
    # forward KL is moment matching wherever it starts
    fit = w.fit("forward")
    mean, var = R.mixture_moments(p)
    assert fit.mean == pytest.approx(mean, abs=1e-9) and fit.std == pytest.approx(math.sqrt(var), rel=1e-9)
    assert w.values["forward"] == pytest.approx(R.ref_forward(p, fit.mean, fit.std), rel=TOL)


def test_alpha_widget_moves_from_mode_seeking_to_mass_covering():
    p = R.BIMODAL
    w = alpha_widget(p, draw=False)
    w.sliders["alpha"].value = 0.1
    v = dict(w.values)
    assert abs(abs(v["mean"]) - 2.0) < 0.05  # on a mode
    assert v["alpha_divergence"] == pytest.approx(R.ref_alpha(p, v["mean"], v["scale"], 0.1), rel=TOL)
    assert v["reverse"] == pytest.approx(R.ref_reverse(p, v["mean"], v["scale"]), rel=TOL)
    w.sliders["alpha"].value = 0.9
    v = dict(w.values)
    assert abs(v["mean"]) < 1e-6 and v["scale"] > 1.9  # covers both modes
    assert v["alpha_divergence"] == pytest.approx(R.ref_alpha(p, v["mean"], v["scale"], 0.9), rel=TOL)
    assert v["forward"] == pytest.approx(R.ref_forward(p, v["mean"], v["scale"]), rel=TOL)


def test_widgets_draw_without_a_kernel(capsys):
    import matplotlib

    matplotlib.use("Agg")
    w = integrand_widget(stats.gamma(2.0))
    w.sliders["mean"].value = 1.0
    f = forward_reverse_widget(stats.norm(0, 1))
    assert w.values["kl"] > 0 and f.values["forward"] >= 0
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # every figure is closed after drawing


def test_stored_output_is_a_note_not_a_frozen_widget():
    w = integrand_widget(stats.norm(), draw=False)
    assert repr(w) == NO_KERNEL_NOTE
    bundle = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"] == NO_KERNEL_NOTE
    assert "application/vnd.jupyter.widget-view+json" in data


@pytest.mark.parametrize(
    "make, p, exc",
    [
        (integrand_widget, stats.binom(4, 0.5), TypeError),
        (integrand_widget, stats.cauchy(), ValueError),
        (forward_reverse_widget, [0.5, 0.5], TypeError),
        (integrand_widget, stats.norm(), None),
    ],
)
def test_widget_argument_checks(make, p, exc):
    if exc is None:
        with pytest.raises(ValueError):
            make(p, scale_range=(-1.0, 1.0), draw=False)
        with pytest.raises(TypeError):
            make(p, mean_range="ab", draw=False)
    else:
        with pytest.raises(exc):
            make(p, draw=False)


def test_widgets_keep_arrow_keys_on_their_sliders():
    """Each widget carries the script that marks its controls with data-lm-suppress-shortcuts (on the
    controls themselves) and stops navigation keys there; the browser test runs that script."""
    from klbook.book.widgets import KEYS_JS

    w = integrand_widget(stats.norm(), draw=False)
    outs = w.keys.outputs
    assert len(outs) == 1 and outs[0]["data"]["application/javascript"].strip() == KEYS_JS.strip()
    assert "data-lm-suppress-shortcuts" in KEYS_JS and "stopPropagation" in KEYS_JS
    assert w.keys in w.widget.children


def test_widget_sliders_use_the_explorers_step_grid():
    from klbook.book.explorers.spec import slider

    w = forward_reverse_widget(R.BIMODAL, draw=False)
    s = w.sliders["mean"]
    c = slider("mean", "", "μ", s.min, s.max, s.value)
    assert (s.min, s.max, s.step) == (c["min"], c["max"], c["step"])
    assert s.step in {0.01, 0.02, 0.025, 0.05, 0.1}
