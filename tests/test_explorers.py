"""The live explorers: every number they show, computed by their JavaScript, against references.

The JavaScript core runs in Node (or Chromium when Node is missing), fed the
spec that klbook.book.explorers writes into the page. Its numbers are compared,
over many slider positions, with

* independent references (``test_explorers_refs.py``: hand-derived closed
  forms, scipy's closed-form entropies, adaptive quadrature checked against
  mpmath), and
* klbook itself (``klbook.book.explorers.expected_values``: kl_divergence,
  cross_entropy, entropy, alpha_divergence),

to 1e-9 (relative to max(1, |value|)). The page-level behaviour (sliders,
keyboard, buttons, timing) is tested in ``tests/browser/test_explorers_page.py``.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import test_explorers_refs as R
from klbook.book.explorers import (
    Explorer,
    alpha_explorer,
    expected_values,
    forward_reverse_explorer,
    integrand_explorer,
    p_from_spec,
    page,
)
from klbook.core.mixtures import GaussianMixture


@pytest.fixture(scope="module")
def engine():
    eng = R.make_engine()
    yield eng
    eng.close()


def positions(spec: dict, n: int, seed: int) -> list[dict]:
    """n random slider positions on the sliders' step grids, plus every corner."""
    rng = np.random.default_rng(seed)
    ctrls = spec["controls"]

    def val(c, k):
        return float(round(c["min"] + k * c["step"], 10))

    counts = [int(round((c["max"] - c["min"]) / c["step"])) for c in ctrls]
    out = [{c["param"]: val(c, int(rng.integers(0, m + 1))) for c, m in zip(ctrls, counts)} for _ in range(n)]
    corners = [[0, m] for m in counts]
    for ks in np.array(np.meshgrid(*corners)).T.reshape(-1, len(ctrls)):
        out.append({c["param"]: val(c, int(k)) for c, k in zip(ctrls, ks)})
    return out


def assert_close(got: float, want: float, what: str, tol: float = R.TOL) -> None:
    assert R.close(got, want, tol), f"{what}: explorer {got!r}, reference {want!r}, diff {got - want:.3g}"


def klbook_has_kl() -> bool:
    try:
        from klbook.core.divergences import cross_entropy, entropy, kl_divergence  # noqa: F401
    except ImportError:
        return False
    return True


needs_klbook_kl = pytest.mark.skipif(not klbook_has_kl(), reason="klbook.kl_divergence not available yet")

BIMODAL = R.BIMODAL
SKEWED = R.SKEWED
FAR = R.FAR

INTEGRAND_P = {
    "norm": stats.norm(0, 1),
    "norm-shifted": stats.norm(1.5, 0.4),
    "gamma2": stats.gamma(2.0),
    "gamma0.7": stats.gamma(0.7),
    "beta25": stats.beta(2, 5),
    "beta-singular-at-0": stats.beta(0.5, 2.0),
    "t5": stats.t(5),
    "t2.5": stats.t(2.5),
    "lognorm": stats.lognorm(0.5),
    "expon": stats.expon(scale=2.0),
    "uniform": stats.uniform(-1, 2),
    "laplace": stats.laplace(0.3, 0.8),
    "logistic": stats.logistic(),
    "gumbel": stats.gumbel_r(),
    "bimodal": BIMODAL,
    "far": FAR,
}


# --------------------------------------------------------------------------- 1. integrand


@pytest.mark.parametrize("name", list(INTEGRAND_P))
def test_integrand_numbers_match_independent_references(engine, name):
    p = INTEGRAND_P[name]
    e = integrand_explorer(p)
    states = positions(e.spec, 30, seed=len(name))
    [vals] = engine.run([{"spec": e.spec, "states": states}])
    h = R.ref_entropy(p)
    for s, v in zip(states, vals):
        ce = R.ref_cross_entropy(p, s["mean"], s["scale"])
        where = f"{name} at {s}"
        assert v["mean"] == s["mean"] and v["scale"] == s["scale"]
        assert_close(v["entropy"], h, f"H(p) {where}")
        assert_close(v["cross_entropy"], ce, f"H(p, q) {where}")
        assert_close(v["kl"], ce - h, f"KL(p||q) {where}")
        assert v["kl"] >= 0


@pytest.mark.parametrize("p", [BIMODAL, GaussianMixture([0.7, 0.3], [-1.0, 1.5], [0.6, 0.9]), stats.norm(1.5, 0.4)],
                         ids=["bimodal", "chapter-2", "normal"])
def test_integrand_signed_areas_and_tv_match_references(engine, p):
    e = integrand_explorer(p)
    states = positions(e.spec, 4, seed=5)
    [vals] = engine.run([{"spec": e.spec, "states": states}])
    for s, v in zip(states, vals):
        ref = R.ref_signed_areas(p, s["mean"], s["scale"])
        want = expected_values(e.spec, s)  # klbook.book.integrand.signed_areas
        for key in ("positive", "negative", "total_variation"):
            assert_close(v[key], ref[key], f"{key} at {s} vs quadrature")
            assert_close(v[key], want[key], f"{key} at {s} vs klbook")
        assert_close(v["positive"] + v["negative"], v["kl"], "positive + negative = KL")
        assert -v["total_variation"] <= v["negative"] <= 0 <= v["positive"]


@needs_klbook_kl
@pytest.mark.parametrize("name", ["norm", "gamma2", "beta25", "t5", "laplace", "bimodal"])
def test_integrand_numbers_match_klbook(engine, name):
    p = INTEGRAND_P[name]
    e = integrand_explorer(p)
    states = positions(e.spec, 2 if isinstance(p, GaussianMixture) else 6, seed=7)
    [vals] = engine.run([{"spec": e.spec, "states": states}])
    for s, v in zip(states, vals):
        want = expected_values(e.spec, s)
        for key in ("kl", "cross_entropy", "entropy"):
            assert_close(v[key], want[key], f"{key} of {name} at {s} vs klbook")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    a=st.floats(-5, 5),
    b=st.floats(0.05, 20),
    u=st.floats(0, 1),
    v=st.floats(0, 1),
)
def test_integrand_random_normals_match_closed_form(engine, a, b, u, v):
    # KL(N(a, b^2) || N(m, s^2)) = log(s/b) + (b^2 + (a - m)^2) / (2 s^2) - 1/2, derived by hand.
    e = integrand_explorer(stats.norm(a, b))
    cm, cs = e.spec["controls"]
    state = {
        "mean": cm["min"] + round(u * (cm["max"] - cm["min"]) / cm["step"]) * cm["step"],
        "scale": cs["min"] + round(v * (cs["max"] - cs["min"]) / cs["step"]) * cs["step"],
    }
    [[got]] = engine.run([{"spec": e.spec, "states": [state]}])
    m, s = state["mean"], state["scale"]
    exact = math.log(s / b) + (b * b + (a - m) ** 2) / (2 * s * s) - 0.5
    assert_close(got["kl"], exact, f"KL(N({a}, {b}^2) || N({m}, {s}^2))")
    assert_close(got["entropy"], 0.5 * math.log(2 * math.pi * math.e * b * b), "H(p)")


def test_integrand_defaults_follow_p():
    p = stats.gamma(3.0, scale=0.5)
    e = integrand_explorer(p)
    mean_c, scale_c = e.spec["controls"]
    mu, sd = float(p.mean()), float(p.std())
    assert mean_c["min"] <= mu - 3 * sd + 1e-9 and mean_c["max"] >= mu + 3 * sd - 1e-9
    assert scale_c["min"] > 0 and scale_c["max"] >= 3 * sd - 1e-9
    for c in (mean_c, scale_c):
        k = (c["value"] - c["min"]) / c["step"]
        assert abs(k - round(k)) < 1e-6 and c["min"] <= c["value"] <= c["max"]
    assert e.initial_state == {"mean": mean_c["value"], "scale": scale_c["value"]}
    assert abs(mean_c["value"] - (mu + sd)) <= mean_c["step"] / 2 + 1e-12


# --------------------------------------------------------------------------- 2. forward vs reverse


@pytest.fixture(scope="module")
def fr_explorers():
    return {
        "bimodal": forward_reverse_explorer(BIMODAL),
        "three": forward_reverse_explorer(SKEWED),
        "far": forward_reverse_explorer(FAR),
        "normal": forward_reverse_explorer(stats.norm(0.5, 1.3)),
    }


FR_P = {"bimodal": BIMODAL, "three": SKEWED, "far": FAR, "normal": stats.norm(0.5, 1.3)}


@pytest.mark.parametrize("name", list(FR_P))
def test_forward_reverse_numbers_match_independent_references(engine, fr_explorers, name):
    p, e = FR_P[name], fr_explorers[name]
    states = positions(e.spec, 10, seed=3)
    [vals] = engine.run([{"spec": e.spec, "states": states}])
    for s, v in zip(states, vals):
        m, sd = s["mean"], math.exp(s["log_scale"])
        assert v["mean"] == m and v["scale"] == pytest.approx(sd, rel=1e-15)
        assert_close(v["forward"], R.ref_forward(p, m, sd), f"forward KL, {name} at {s}")
        assert_close(v["reverse"], R.ref_reverse(p, m, sd), f"reverse KL, {name} at {s}")


@needs_klbook_kl
@pytest.mark.parametrize("name", ["bimodal", "three"])
def test_forward_reverse_numbers_match_klbook(engine, fr_explorers, name):
    e = fr_explorers[name]
    states = positions(e.spec, 5, seed=11)
    [vals] = engine.run([{"spec": e.spec, "states": states}])
    for s, v in zip(states, vals):
        want = expected_values(e.spec, s)
        assert_close(v["forward"], want["forward"], f"forward KL at {s} vs klbook")
        assert_close(v["reverse"], want["reverse"], f"reverse KL at {s} vs klbook")


def test_buttons_jump_to_klbook_optima(engine, fr_explorers):
    from klbook.core.fitting import fit_gaussian

    e = fr_explorers["bimodal"]
    buttons = e.spec["buttons"]
    assert [b["direction"] for b in buttons] == ["forward", "reverse", "reverse", "reverse"]
    # forward optimum: moment matching, derived by hand for the mixture
    mean, var = R.mixture_moments(BIMODAL)
    fwd = buttons[0]["state"]
    assert fwd["mean"] == pytest.approx(mean, abs=1e-12)
    assert fwd["log_scale"] == pytest.approx(0.5 * math.log(var), abs=1e-12)
    # one reverse optimum per mode, as klbook finds them from each component, and the centre one
    # (from the forward optimum), a genuine local minimum of reverse KL for this p
    for b, (mode, init) in zip(buttons[1:], ((-2.0, (-2.0, 0.6)), (0.0, (mean, math.sqrt(var))), (2.0, (2.0, 0.6)))):
        f = fit_gaussian(BIMODAL, direction="reverse", init=init)
        assert f.is_minimum
        assert b["state"]["mean"] == pytest.approx(f.mean, rel=1e-11, abs=1e-11)
        assert b["state"]["log_scale"] == pytest.approx(math.log(f.std), rel=1e-11, abs=1e-11)
        assert abs(b["state"]["mean"] - mode) < 0.01
    assert buttons[2]["state"]["mean"] == 0.0 and buttons[2]["label"].startswith("Reverse optimum 2: μ = 0.00,")
    [vals] = engine.run([{"spec": e.spec, "states": [b["state"] for b in buttons]}])
    # what the page shows after a click is klbook's minimised divergence
    assert_close(vals[0]["forward"], buttons[0]["fit"]["kl"], "forward KL at the forward optimum")
    for v, b in zip(vals[1:], buttons[1:]):
        assert_close(v["reverse"], b["fit"]["kl"], "reverse KL at a reverse optimum")
        assert_close(v["reverse"], R.ref_reverse(BIMODAL, b["fit"]["mean"], b["fit"]["std"]), "reverse KL")
    # and it is the best each direction can do among the buttons
    assert vals[0]["forward"] < min(v["forward"] for v in vals[1:])
    assert max(v["reverse"] for v in vals[1:]) < vals[0]["reverse"]


def box_of(spec: dict) -> list[list[float]]:
    c = spec["controls"]
    return [[c[0]["min"], c[0]["max"]], [c[1]["min"], c[1]["max"]]]


def test_live_descent_lands_where_klbook_does(engine, fr_explorers):
    from klbook.core.fitting import fit_gaussian

    spec = fr_explorers["bimodal"].spec
    starts = [(1.0, 0.0), (-0.7, -0.3), (3.0, 0.8), (0.4, 1.2)]
    cases = [{"spec": spec, "call": "descend", "args": [d, list(s), box_of(spec)]}
             for d in ("forward", "reverse") for s in starts]
    paths = engine.run(cases)
    for case, path in zip(cases, paths):
        d, start = case["args"][0], case["args"][1]
        values = [v for _, _, v in path]
        assert all(b <= a for a, b in zip(values[:-1], values[1:])), f"{d} from {start}: not descending"
        mu, ls, val = path[-1]
        # klbook, started where the live fit stopped, confirms a local minimum there
        f = fit_gaussian(BIMODAL, direction=d, init=(mu, math.exp(ls)))
        assert f.is_minimum and abs(mu - f.mean) < 1e-6 and abs(ls - math.log(f.std)) < 1e-6, (d, start, path[-1], f)
        assert_close(val, f.kl, f"{d} KL at the end of the live fit from {start}", tol=1e-9)
        if d == "forward":  # one minimum: moment matching, whatever the start
            assert abs(mu - 0.0) < 1e-6 and abs(ls - 0.5 * math.log(4.36)) < 1e-6
        ref = R.ref_forward if d == "forward" else R.ref_reverse
        assert_close(val, ref(BIMODAL, mu, math.exp(ls)), "value on the path")


def test_descent_gradient_is_klbooks(engine, fr_explorers):
    from klbook.core.fitting import gaussian_kl_gradient

    spec = fr_explorers["three"].spec
    points = [(0.3, -0.2), (-2.5, -0.6), (2.0, 0.9), (4.0, -1.0)]
    cases = [{"spec": spec, "call": "objective", "args": [d, m, ls]} for d in ("forward", "reverse") for m, ls in points]
    for case, got in zip(cases, engine.run(cases)):
        d, m, ls = case["args"]
        value, grad = gaussian_kl_gradient(SKEWED, m, ls, direction=d)
        assert_close(got["value"], value, f"{d} objective at {m, ls}")
        for k in range(2):
            assert abs(got["g"][k] - grad[k]) <= 1e-8 * max(1.0, abs(grad[k])), (d, m, ls, got["g"], grad)


def test_landscape_colours_follow_the_divergences(engine, fr_explorers):
    spec = fr_explorers["bimodal"].spec
    nm, ns = 9, 7
    [land] = engine.run([{"spec": spec, "call": "landscape", "args": [box_of(spec), nm, ns]}])
    (m0, m1), (l0, l1) = box_of(spec)
    for j in range(0, ns, 3):
        for i in range(0, nm, 4):
            m, s = m0 + (m1 - m0) * i / (nm - 1), math.exp(l0 + (l1 - l0) * j / (ns - 1))
            assert land["forward"][j * nm + i] == pytest.approx(R.ref_forward(BIMODAL, m, s), rel=1e-9, abs=1e-9)
            # reverse: a cheaper sum for the colours only, to a few parts in 10^4
            assert land["reverse"][j * nm + i] == pytest.approx(R.ref_reverse(BIMODAL, m, s), rel=1e-3)
    assert "landscape" in spec and [d["direction"] for d in spec["descend"]] == ["forward", "reverse"]
    plain = forward_reverse_explorer(BIMODAL, landscape=False, live_fit=False).spec
    assert "landscape" not in plain and "descend" not in plain


def test_single_mode_has_one_reverse_button(fr_explorers):
    labels = [b["label"] for b in fr_explorers["normal"].spec["buttons"]]
    assert len(labels) == 2 and labels[1].startswith("Reverse optimum:")


# --------------------------------------------------------------------------- 3. alpha family

ALPHAS = [0.0, 0.2, 0.3, 0.5, 0.8, 1.0]


@pytest.fixture(scope="module")
def alpha_ex():
    return alpha_explorer(BIMODAL, alphas=ALPHAS, descending=False)


def test_alpha_numbers_match_independent_references(engine, alpha_ex):
    spec = alpha_ex.spec
    states = [{"index": k} for k in range(len(ALPHAS))]
    [vals] = engine.run([{"spec": spec, "states": states}])
    for k, v in enumerate(vals):
        f = spec["fits"][k]
        a, m, s = f["alpha"], f["mean"], f["std"]
        assert v["alpha"] == a == ALPHAS[k] and v["mean"] == m and v["scale"] == s
        assert_close(v["alpha_divergence"], R.ref_alpha(BIMODAL, m, s, a), f"D_alpha at alpha={a}")
        assert_close(v["forward"], R.ref_forward(BIMODAL, m, s), f"forward KL at alpha={a}")
        assert_close(v["reverse"], R.ref_reverse(BIMODAL, m, s), f"reverse KL at alpha={a}")
        # the page shows klbook's minimised divergence
        assert_close(v["alpha_divergence"], f["kl"], f"klbook's D_alpha at its optimum, alpha={a}")
    # the ends of the family are the two KLs
    assert vals[0]["alpha_divergence"] == vals[0]["reverse"]
    assert vals[-1]["alpha_divergence"] == vals[-1]["forward"]


@needs_klbook_kl
def test_alpha_numbers_match_klbook(engine, alpha_ex):
    spec = alpha_ex.spec
    states = [{"index": k} for k in range(len(ALPHAS))]
    [vals] = engine.run([{"spec": spec, "states": states}])
    for s, v in zip(states, vals):
        want = expected_values(spec, s)
        for key in ("alpha_divergence", "forward", "reverse", "mean", "scale"):
            assert_close(v[key], want[key], f"{key} at alpha={ALPHAS[s['index']]} vs klbook")


def test_alpha_fits_move_from_mass_covering_to_mode_seeking(alpha_ex):
    fits = alpha_ex.spec["fits"]
    mean, var = R.mixture_moments(BIMODAL)
    # alpha = 1 is the forward fit: moment matching (by hand)
    assert fits[-1]["mean"] == pytest.approx(mean, abs=1e-6)
    assert fits[-1]["std"] == pytest.approx(math.sqrt(var), rel=1e-6)
    # alpha = 0 sits on one mode, close to that component
    assert abs(abs(fits[0]["mean"]) - 2.0) < 0.01 and abs(fits[0]["std"] - 0.6) < 0.01
    # the spread never shrinks as alpha grows
    stds = [f["std"] for f in fits]
    assert all(b >= a - 1e-9 for a, b in zip(stds[:-1], stds[1:]))
    ref = alpha_ex.spec["reference_fits"]
    assert ref["forward"]["std"] == pytest.approx(math.sqrt(var), rel=1e-11)  # 12 digits kept


def test_alpha_slider_reads_like_the_title_and_shows_the_static_figures_mode(engine):
    """Default: the slider runs from alpha = 1 (left, mass-covering) to 0 (right, mode-seeking); mode-seeking
    fits of the symmetric mixture sit on the right mode, the one chapter 6's figure draws at alpha_c."""
    e = alpha_explorer(BIMODAL, alphas=[0.0, 0.1, 0.25, 0.3, 0.5, 1.0])
    alphas = [f["alpha"] for f in e.spec["fits"]]
    assert alphas == [1.0, 0.5, 0.3, 0.25, 0.1, 0.0]
    assert e.spec["controls"][0]["label"].startswith("Order α (left α = 1")
    for f in e.spec["fits"]:
        assert f["mean"] == 0.0 or f["mean"] > 1.9, f  # centred, or on the right mode
    assert e.spec["reference_fits"]["reverse"]["mean"] > 1.9
    assert "D⁽ᵅ⁾" in next(r["label"] for r in e.spec["readouts"] if r["quantity"] == "alpha_divergence")
    [vals] = engine.run([{"spec": e.spec, "states": [{"index": k} for k in range(6)]}])
    for k, v in enumerate(vals):
        assert v["alpha"] == alphas[k]
        assert_close(v["alpha_divergence"], expected_values(e.spec, {"index": k})["alpha_divergence"], "D^(alpha)")
    # the mirror-image optimum is exactly as good: the choice of mode is only a tie-break
    from klbook.core.fitting import fit_gaussian
    left = fit_gaussian(BIMODAL, direction="alpha", alpha=0.1, init=(-2.0, 0.6))
    right = e.spec["fits"][4]
    assert right["kl"] == pytest.approx(left.kl, rel=1e-9) and right["mean"] == pytest.approx(-left.mean, abs=1e-6)


def test_alpha_arguments():
    with pytest.raises(ValueError, match="at least two"):
        alpha_explorer(BIMODAL, alphas=[0.5])
    with pytest.raises(ValueError, match="increasing"):
        alpha_explorer(BIMODAL, alphas=[1.0, 0.0])
    with pytest.raises(TypeError):
        alpha_explorer(stats.gamma(2.0), alphas=[0.0, 1.0])


# --------------------------------------------------------------------------- the JS core's edge cases


def test_reverse_kl_is_infinite_where_p_vanishes(engine):
    x = [-1.0, 0.0, 1.0]
    w = [0.5, 1.0, 0.5]
    lp = [-1.0, "-Infinity", -1.0]
    [got] = engine.run([{"call": "reverseKL", "args": [x, w, lp, 0.0, 1.0]}])
    assert got == math.inf


def test_forward_terms_where_p_vanishes_count_zero(engine):
    # p = 0 at the middle node: 0 log 0 = 0; the other two nodes give w p (log p - log q) exactly.
    x, w = [-1.0, 0.0, 1.0], [0.5, 1.0, 0.5]
    lp = [math.log(0.25), "-Infinity", math.log(0.25)]
    pw = [0.125, 0.0, 0.125]
    [got] = engine.run([{"call": "forwardIntegrals", "args": [x, pw, lp, 0.0, 1.0]}])
    lq = -0.5 - 0.5 * math.log(2 * math.pi)
    assert got["forward"] == pytest.approx(0.25 * (math.log(0.25) - lq), rel=1e-15)
    assert got["entropy"] == pytest.approx(-0.25 * math.log(0.25), rel=1e-15)


@pytest.mark.parametrize(
    "value, digits, text",
    [
        ("Infinity", 4, "∞"),
        (0.5, 4, "0.5000"),
        (-1.5, 2, "−1.50"),
        (-0.00001, 2, "−1.000e−5"),
        (-0.0, 4, "0.0000"),
        (1234567.0, 2, "1.235e+6"),
    ],
)
def test_number_format(engine, value, digits, text):
    [got] = engine.run([{"call": "fmt", "args": [value, digits]}])
    assert got == text


# --------------------------------------------------------------------------- the HTML


def test_html_is_deterministic_and_self_contained():
    a, b = integrand_explorer(stats.norm(0, 1)), integrand_explorer(stats.norm(0, 1))
    assert a.to_html() == b.to_html() and a._repr_html_() == a.to_html()
    c = integrand_explorer(stats.norm(0, 1.1))
    assert a.id != c.id and re.fullmatch(r"klbook-explorer-[0-9a-f]{12}", a.id)
    html = a.to_html()
    # one container with the spec; the mount call names it
    assert html.count(f'id="{a.id}"') == 1 and html.count(a.id) == 3
    spec = json.loads(re.search(r'<script type="application/json" class="klbook-explorer-spec">(.*?)</script>',
                                html).group(1))
    assert spec == a.spec
    # nothing is fetched: no src/href attributes, no fetch, no import, no CDN
    for bad in ("src=", "href=", "fetch(", "XMLHttpRequest", "import(", "@import", "require("):
        assert bad not in html, bad
    urls = set(re.findall(r"https?://[^\s\"')]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls  # the SVG namespace, not a request


def test_html_escapes_script_endings_in_labels():
    e = integrand_explorer(stats.norm(0, 1), title="</script><b>x</b>", p_label="p </script>")
    html = e.to_html()
    assert html.count("</script>") == 3  # spec, core, mount: nothing closes early
    assert "&lt;/script&gt;" in html  # the no-script fallback shows the title escaped
    start = html.index('class="klbook-explorer-spec">') + len('class="klbook-explorer-spec">')
    assert json.loads(html[start:html.index("</script>", start)])["title"] == "</script><b>x</b>"


def test_page_wraps_explorers():
    e = integrand_explorer(stats.norm(0, 1))
    doc = page(e, e, title="Two")
    assert doc.startswith("<!DOCTYPE html>") and doc.count(e.id) == 6 and "<title>Two</title>" in doc
    with pytest.raises(TypeError):
        page("not an explorer")


def test_spec_rebuilds_p():
    e = integrand_explorer(stats.gamma(2.0, scale=0.5))
    q = p_from_spec(e.spec)
    assert q.dist.name == "gamma" and q.mean() == pytest.approx(1.0)
    assert isinstance(p_from_spec(integrand_explorer(BIMODAL).spec), GaussianMixture)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "p, exc",
    [
        (stats.binom(5, 0.3), TypeError),
        (stats.multivariate_normal([0, 0]), TypeError),
        ([0.5, 0.5], TypeError),
        (stats.cauchy(), ValueError),
        (stats.t(1.5), ValueError),
    ],
    ids=["discrete", "multivariate", "vector", "cauchy", "infinite-variance"],
)
def test_integrand_rejects(p, exc):
    with pytest.raises(exc):
        integrand_explorer(p)


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"mean_range": (1.0, 0.0)}, ValueError),
        ({"mean_range": (0.0, math.inf)}, ValueError),
        ({"mean_range": "ab"}, TypeError),
        ({"scale_range": (0.0, 1.0)}, ValueError),
        ({"init": (0.0, -1.0)}, ValueError),
        ({"init": 3}, TypeError),
        ({"title": 3}, TypeError),
    ],
)
def test_integrand_argument_checks(kwargs, exc):
    with pytest.raises(exc):
        integrand_explorer(stats.norm(), **kwargs)


def test_forward_reverse_needs_a_gaussian_mixture():
    with pytest.raises(TypeError, match="GaussianMixture"):
        forward_reverse_explorer(stats.gamma(2.0))
    with pytest.raises(ValueError):
        forward_reverse_explorer(BIMODAL, scale_range=(-1.0, 1.0))


def test_explorer_repr():
    e = integrand_explorer(stats.norm(), title="T")
    assert repr(e) == "<klbook explorer 'integrand': T>" and isinstance(e, Explorer)


def test_spec_locations_drop_rounding_noise():
    """A location that is zero up to rounding is stored as 0.0, not as 12 digits of noise.

    The centred alpha fits of a symmetric mixture have mean 0 exactly (by symmetry), but the
    optimiser returns about 1e-17 with CPU-dependent last bits; the stored page must not carry them.
    """
    from klbook.book.explorers.spec import round_location as _r_loc

    # hand-chosen decimals: the step is 10**(floor(log10(scale)) - 11)
    assert _r_loc(-1.15e-17, 1.96) == 0.0 and math.copysign(1.0, _r_loc(-1.15e-17, 1.96)) == 1.0
    assert _r_loc(-1.99707828155123, 0.6048) == -1.99707828155
    assert _r_loc(123.456789012345, 0.01) == 123.456789012
    assert _r_loc(2.5e-11, 1.0) == 3e-11
    sym = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    spec = alpha_explorer(sym, alphas=[0.5, 1.0], descending=False).spec
    assert [f["mean"] for f in spec["fits"]] == [0.0, 0.0]
    assert spec["reference_fits"]["forward"]["mean"] == 0.0


EXPLORER_FUNCTIONS = [
    "integrand_explorer", "forward_reverse_explorer", "alpha_explorer", "bernoulli_explorer",
    "estimator_explorer", "kl_regularised_explorer", "distillation_explorer", "mixture_bracket_explorer",
]


@pytest.mark.parametrize("name", EXPLORER_FUNCTIONS)
def test_explorer_functions_document_every_parameter_once_and_return_an_explorer(name):
    """The shared docs come from spec.explorer_builder: every parameter of the signature is documented
    exactly once (title and p_label included), in the order of the numpydoc sections, by napoleon."""
    import inspect

    from sphinx.ext.napoleon import Config
    from sphinx.ext.napoleon.docstring import NumpyDocstring

    import klbook.book.explorers as E

    f = getattr(E, name)
    doc = inspect.getdoc(f)
    sections = [s for s in ("Parameters", "Returns", "Raises") if re.search(rf"^{s}\n-+$", doc, re.M)]
    assert sections == ["Parameters", "Returns", "Raises"]
    assert doc.index("\nParameters\n") < doc.index("\nReturns\n") < doc.index("\nRaises\n")
    rst = str(NumpyDocstring(doc, Config(napoleon_use_param=False, napoleon_use_rtype=False), what="function"))
    fields = rst.split(":Parameters:")[1].split(":returns:")[0]
    documented = [n for names in re.findall(r"\*\*([\w, ]+)\*\*", fields) for n in names.split(", ")]
    params = [p for p in inspect.signature(f).parameters]
    assert sorted(documented) == sorted(params), (documented, params)
    assert ":returns: *Explorer*" in rst


def test_a_bad_title_fails_before_any_fitting(monkeypatch):
    import klbook.book.explorers.alpha as A

    def no_fit(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("fit_gaussian ran before the title was checked")

    monkeypatch.setattr(A, "fit_gaussian", no_fit)
    with pytest.raises(TypeError, match="title"):
        alpha_explorer(stats.norm(0, 1), title=3)
