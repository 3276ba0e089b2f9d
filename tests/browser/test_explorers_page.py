"""The live explorers in a real browser: a standalone page rendered by klbook.book.explorers.

The page (written into a temporary directory and served on 127.0.0.1) holds the
book's three explorers. In headless Chromium the tests check that it loads
nothing from outside and logs no error; that every explorer mounts, with a
labelled SVG and labelled range controls; that the keyboard moves every
slider and that every shown number then changes and matches klbook (and the
independent references) to 1e-9; that the buttons jump to klbook's optima;
that the script can be included twice; that the way JupyterLab inserts an
output (innerHTML, then cloned script elements) mounts the explorer too; and
it measures the time of a slider event (printed, not asserted).
"""

from __future__ import annotations

import json
import math
import statistics
from itertools import pairwise
from pathlib import Path

import pytest
from local_chromium import is_local
from scipy import stats

from klbook.book.explorers import alpha_explorer, core_js, expected_values, forward_reverse_explorer, integrand_explorer
from klbook.book.explorers import page as explorer_page
from klbook.book.explorers import p_from_spec
from klbook.book.explorers.forward_reverse import p_from_state

REFS_PATH = Path(__file__).resolve().parents[1] / "test_explorers_refs.py"


def _load_refs():
    import importlib.util

    spec = importlib.util.spec_from_file_location("klbook_explorer_refs", REFS_PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


R = _load_refs()
KEYS = ["ArrowRight", "PageUp", "End", "ArrowLeft", "Home"]

READ_JS = """
(root) => ({
  mounted: root.classList.contains('kx-mounted'),
  state: JSON.parse(root.getAttribute('data-state') || 'null'),
  values: Object.fromEntries([...root.querySelectorAll('.kx-readout output')].map(
      o => [o.dataset.quantity, {value: o.dataset.value, text: o.textContent}])),
  controls: [...root.querySelectorAll('.kx-param')].map(o => o.textContent),
})
"""


#: Animation frames that see a clock running 10 s ahead for every frame so far: an animated descent
#: (1.2-3 s, forward_reverse.js ``animate``) takes its first position on its first frame and its last
#: on the second, by the same code as at the reader's 60 frames a second (the same path, the same end
#: state; ``step`` reads only the time it is given). For tests that check where a descent ends, not
#: how it moves; ``test_ch4_both_fits_animate_over_many_positions_and_end_lower`` times real frames.
#: ``REAL_FRAMES_JS`` puts the browser's own back.
FAST_FRAMES_JS = """
() => {
  const raf = window.klbookRealFrames = window.klbookRealFrames || window.requestAnimationFrame;
  let ahead = 0;
  window.requestAnimationFrame = (step) => raf.call(window, (now) => step(now + (ahead += 1e4)));
}
"""
REAL_FRAMES_JS = "() => { window.requestAnimationFrame = window.klbookRealFrames; }"


def read(root) -> dict:
    out = root.evaluate(READ_JS)
    out["numbers"] = {k: float(v["value"]) for k, v in out["values"].items()}
    return out


def press_and_read(page, root, keys) -> list[dict]:
    """Press ``keys`` one after another on the focused control, reading the explorer (``read``) after
    each: its states, in order. Check them after the last key, not between keys: the checks' Python
    (the references, up to 60 ms a state) would hold every key back long enough for ch. 4's explorer to
    redraw its loss landscapes at full resolution and search their minima again (120 ms after an edit
    of p, ``scheduleMinima``) after each key instead of once a control, as when a reader holds a key."""
    states = []
    for key in keys:
        page.keyboard.press(key)
        states.append(read(root))
    return states


def reference_values(spec: dict, state: dict) -> dict[str, float]:
    """The shown numbers by the independent references (no klbook numerics)."""
    kind = spec["kind"]
    if kind not in ("integrand", "forward_reverse", "alpha"):
        # the ch. 3 and ch. 5 explorers: their hand-derived references are in tests/test_explorers_ch3_ch5.py
        return expected_values(spec, state)
    p = p_from_state(spec, state) if kind == "forward_reverse" else p_from_spec(spec)
    if kind == "integrand":
        m, s = state["mean"], state["scale"]
        h = R.ref_entropy(p)
        ce = R.ref_cross_entropy(p, m, s)
        out = {"kl": ce - h, "cross_entropy": ce, "entropy": h}
        if "gl" in spec:
            out.update(R.ref_signed_areas(p, m, s))
        return out
    if kind == "forward_reverse":
        m, s = state["mean"], math.exp(state["log_scale"])
        return {"forward": R.ref_forward(p, m, s), "reverse": R.ref_reverse(p, m, s)}
    f = spec["fits"][int(state["index"])]
    m, s = f["mean"], f["std"]
    return {
        "alpha_divergence": R.ref_alpha(p, m, s, f["alpha"]),
        "forward": R.ref_forward(p, m, s),
        "reverse": R.ref_reverse(p, m, s),
        "mean": m,
        "scale": s,
    }


def check_shown(spec: dict, shown: dict, with_klbook: bool = True) -> None:
    """Every readout of ``shown`` (read from the page) against the references and klbook."""
    state = shown["state"]
    want = reference_values(spec, state)
    got = shown["numbers"]
    assert set(got) == set(want), (set(got), set(want))
    for key, v in got.items():
        assert R.close(v, want[key]), f"{spec['kind']} {key} at {state}: page {v!r}, reference {want[key]!r}"
        text = shown["values"][key]["text"].replace("\u2212", "-")
        if math.isinf(v):
            assert text == "∞"
        else:
            digits = next((r.get("digits", 4) for r in spec["readouts"] if r["quantity"] == key), 4)
            if "e" in text.lower():  # very small or very large: 3 significant decimals in exponent form
                assert abs(float(text.replace("×10", "e")) - v) <= 5.001e-4 * abs(v), (text, v)
            else:
                assert abs(float(text) - v) <= 0.5001 * 10**-digits * max(1.0, abs(v)), (text, v)
    if with_klbook:
        kb = expected_values(spec, state)
        for key, v in got.items():
            assert R.close(v, kb[key]), f"{spec['kind']} {key} at {state}: page {v!r}, klbook {kb[key]!r}"


def assert_numbers_follow(spec: dict, before: dict, after: dict, what: str) -> None:
    """A control moved: the numbers changed, unless klbook says they must not (e.g. the weights of two
    identical bumps of p, which leave p itself unchanged)."""
    if after["numbers"] != before["numbers"]:
        return
    a, b = expected_values(spec, before["state"]), expected_values(spec, after["state"])
    assert all(R.close(a[k], b[k], 1e-12) for k in a), f"{what} moved, numbers did not"


@pytest.fixture(scope="module")
def harness(tmp_path_factory, serve):
    """The standalone page with the book's explorers, served locally."""
    d = tmp_path_factory.mktemp("explorers")
    p = R.BIMODAL
    explorers = [
        integrand_explorer(stats.norm(0, 1), title="Integrand, p = N(0, 1)"),
        integrand_explorer(stats.gamma(2.0), title="Integrand, p = Gamma(2)"),
        forward_reverse_explorer(p, title="Forward vs reverse KL"),
        alpha_explorer(p, alphas=[0.0, 0.2, 0.3, 0.6, 1.0], title="Alpha family"),
    ]
    (d / "index.html").write_text(explorer_page(*explorers, title="klbook explorers"), encoding="utf-8")
    (d / "twice.html").write_text(explorer_page(explorers[0], explorers[0], title="twice"), encoding="utf-8")
    (d / "favicon.ico").write_bytes(b"")
    return {"url": serve(d), "explorers": explorers, "dir": d}


@pytest.fixture(scope="module")
def opened(harness, browser):
    """One page load shared by the read-mostly tests (a fresh context, outside requests blocked)."""
    ctx = browser.new_context(viewport={"width": 1000, "height": 900})
    origin = harness["url"]
    external = []
    page = ctx.new_page()
    page.on("request", lambda r: None if is_local(r.url, origin) else external.append(r.url))
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{origin}/index.html", wait_until="load")
    yield {"page": page, "errors": errors, "external": external}
    ctx.close()


def test_page_is_clean_and_every_explorer_mounts(harness, open_page):
    check = open_page(f"{harness['url']}/index.html")
    page = check.page
    roots = page.locator("div.klbook-explorer")
    assert roots.count() == len(harness["explorers"])
    for i in range(roots.count()):
        root = roots.nth(i)
        assert "kx-mounted" in root.get_attribute("class")
        assert root.locator(".kx-fallback").count() == 0
        svg = root.locator("svg.kx-svg").first
        assert root.locator("svg.kx-svg").count() == (2 if harness["explorers"][i].kind == "forward_reverse" else 1)
        assert svg.get_attribute("role") in ("img", "group")  # group: the SVG holds focusable handles (axe nested-interactive)
        assert len(svg.get_attribute("aria-label")) > 20
        assert svg.locator("title").count() == 1 and svg.locator("title").text_content().strip()
        assert root.locator("path.kx-p").get_attribute("d").startswith("M")
        assert root.locator("path.kx-q").get_attribute("d").startswith("M")
    assert page.locator("img").count() == 0
    check.assert_clean()


def test_controls_are_labelled_and_announce_values(opened):
    page = opened["page"]
    info = page.evaluate(
        """() => [...document.querySelectorAll('div.klbook-explorer input[type=range]')].map(i => ({
             name: (i.labels[0] && i.labels[0].textContent.trim()) || '',
             valuetext: i.getAttribute('aria-valuetext') || '',
             out: i.closest('.kx-row').querySelector('output').textContent,
           }))"""
    )
    # integrand 2 + 2, forward/reverse 2 for q and 3 per bump of p (2 bumps), alpha 1
    assert len(info) == 2 + 2 + (2 + 6) + 1
    for c in info:
        assert c["name"] and c["valuetext"] and c["out"] == c["valuetext"], c
    live = page.evaluate("() => [...document.querySelectorAll('.kx-readout')].map(e => e.getAttribute('aria-live'))")
    assert live == ["polite"] * 4
    # in JupyterLab, keys pressed on the controls must reach them, not the notebook's shortcuts
    suppress = page.evaluate(
        "() => [...document.querySelectorAll('div.klbook-explorer input[type=range]')]"
        ".every(i => i.closest('[data-lm-suppress-shortcuts=true]'))"
    )
    assert suppress


def test_keyboard_moves_every_slider_and_the_numbers_follow(opened, harness):
    page = opened["page"]
    roots = page.locator("div.klbook-explorer")
    for i, e in enumerate(harness["explorers"]):
        root = roots.nth(i).element_handle()
        spec = json.loads(roots.nth(i).locator("script.klbook-explorer-spec").text_content())
        assert spec == e.spec
        shown = read(root)
        assert shown["state"] == e.initial_state
        check_shown(spec, shown)
        sliders = roots.nth(i).locator("input[type=range]")
        for j in range(sliders.count()):
            slider = sliders.nth(j)
            param = slider.get_attribute("data-param")
            slider.focus()
            for before, shown in pairwise([shown] + press_and_read(page, root, KEYS)):
                if shown["state"][param] != before["state"][param]:
                    assert_numbers_follow(spec, before, shown, f"{e.kind}: {param}")
                    assert shown["controls"] != before["controls"]
                check_shown(spec, shown)
            assert shown["state"][param] == pytest.approx(float(slider.get_attribute("min")))  # Home went to the start
    assert not opened["errors"] and not opened["external"]


def test_buttons_jump_to_the_optima_klbook_computed(opened, harness):
    page = opened["page"]
    page.reload(wait_until="load")  # the keyboard test reshaped p; start from the given one
    k = next(i for i, e in enumerate(harness["explorers"]) if e.kind == "forward_reverse")
    root_loc = page.locator("div.klbook-explorer").nth(k)
    spec = harness["explorers"][k].spec
    buttons = root_loc.locator("button.kx-button[data-action=jump]")
    assert buttons.count() == len(spec["buttons"]) == 4
    for j, b in enumerate(spec["buttons"]):
        assert buttons.nth(j).text_content() == b["label"]
        buttons.nth(j).click()
        shown = read(root_loc.element_handle())
        assert {k: shown["state"][k] for k in b["state"]} == b["state"]  # exactly klbook's optimum, not the nearest slider step
        check_shown(spec, shown)
        key = "forward" if b["direction"] == "forward" else "reverse"
        assert R.close(shown["numbers"][key], b["fit"]["kl"]), (shown["numbers"][key], b["fit"]["kl"])
    # a click is keyboard-reachable too: Enter on the focused button
    buttons.nth(0).focus()
    page.keyboard.press("Enter")
    assert {k: read(root_loc.element_handle())["state"][k] for k in ("mean", "log_scale")} == spec["buttons"][0]["state"]


def test_live_fit_and_the_loss_landscapes(opened, harness):
    from klbook.core.fitting import fit_gaussian

    page = opened["page"]
    page.reload(wait_until="load")
    page.evaluate(FAST_FRAMES_JS)   # where the live fits end is checked here, their motion by test_explorers_screens
    k = next(i for i, e in enumerate(harness["explorers"]) if e.kind == "forward_reverse")
    loc = page.locator("div.klbook-explorer").nth(k)
    root = loc.element_handle()
    spec = harness["explorers"][k].spec
    land = loc.locator("svg.kx-landscape")
    assert land.get_attribute("role") == "img" and "landscape" in land.get_attribute("aria-label").lower()
    page.wait_for_function(
        "r => [...r.querySelectorAll('image.kx-heat')].every(i => (i.getAttribute('href') || '').startsWith('data:image/png'))",
        arg=root,
    )
    assert loc.locator("path.kx-opt").count() == 4  # one forward optimum, three reverse optima (two modes, the centre)
    for direction, start in (("reverse", {"mean": 1.0, "log_scale": 0.0}), ("forward", {"mean": -3.0, "log_scale": -1.0})):
        root.evaluate("(r, s) => r.klbookExplorer.set(s)", start)
        loc.locator(f"button[data-action=descend][data-direction={direction}]").click()
        page.wait_for_function("r => r.klbookExplorer.anim === null", arg=root)
        shown = read(root)
        check_shown(spec, shown)
        m, ls = shown["state"]["mean"], shown["state"]["log_scale"]
        f = fit_gaussian(R.BIMODAL, direction=direction, init=(start["mean"], math.exp(start["log_scale"])))
        assert abs(m - f.mean) < 1e-6 and abs(ls - math.log(f.std)) < 1e-6, (direction, shown["state"], f)
        points = loc.locator("polyline.kx-path").nth(0 if direction == "forward" else 1).get_attribute("points")
        assert len(points.split()) > 3
    # a click on the reverse landscape moves q there, onto the sliders' steps
    land.scroll_into_view_if_needed()
    box = land.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.80, box["y"] + box["height"] * 0.45)
    shown = read(root)
    c_mean, c_ls = spec["controls"]
    for c, v in ((c_mean, shown["state"]["mean"]), (c_ls, shown["state"]["log_scale"])):
        assert c["min"] <= v <= c["max"]
        assert abs((v - c["min"]) / c["step"] - round((v - c["min"]) / c["step"])) < 1e-6
    check_shown(spec, shown)
    page.evaluate(REAL_FRAMES_JS)
    assert not opened["errors"]


def test_each_slider_event_redraws_fast(opened, harness, capsys):
    """Time 120 input events per explorer (compute + DOM + SVG update + forced layout). Printed, not asserted."""
    page = opened["page"]
    figures = page.evaluate(
        """() => [...document.querySelectorAll('div.klbook-explorer')].map(root => {
             const inputs = [...root.querySelectorAll('input[type=range]')];
             const times = [];
             for (let n = 0; n < 120; n++) {
               const inp = inputs[n % inputs.length];
               const lo = +inp.min, hi = +inp.max, st = +inp.step;
               const k = Math.round(((n * 37) % 101) / 100 * (hi - lo) / st);
               inp.value = String(lo + k * st);
               const t0 = performance.now();
               inp.dispatchEvent(new Event('input', {bubbles: true}));
               root.getBoundingClientRect(); document.body.offsetHeight;  // force style + layout
               times.push(performance.now() - t0);
             }
             times.sort((a, b) => a - b);
             return {kind: root.dataset.kind, n: times.length,
                     median: times[times.length >> 1], p95: times[Math.floor(times.length * 0.95)],
                     max: times[times.length - 1],
                     nodes: root.klbookExplorer.ctx.x.length};
           })"""
    )
    with capsys.disabled():
        print("\nexplorer slider-event time (ms, Chromium headless, incl. forced layout):")
        for f in figures:
            print(f"  {f['kind']:16s} nodes={f['nodes']:6d} median={f['median']:.2f} "
                  f"p95={f['p95']:.2f} max={f['max']:.2f}")
    (harness["dir"] / "timings.json").write_text(json.dumps(figures))
    assert all(f["n"] == 120 and statistics.fmean([f["median"]]) >= 0 for f in figures)


def test_script_included_twice_defines_the_core_once(harness, open_page):
    check = open_page(f"{harness['url']}/twice.html")
    page = check.page
    assert page.locator("div.klbook-explorer.kx-mounted").count() == 2
    same = page.evaluate(
        """(src) => { const a = window.klbookExplorers; const s = document.createElement('script');
                      s.textContent = src; document.body.appendChild(s); return window.klbookExplorers === a; }""",
        core_js(),
    )
    assert same
    check.assert_clean()


@pytest.mark.parametrize("attach_first", [True, False], ids=["attached", "detached-then-attached"])
def test_mounts_the_way_jupyterlab_inserts_outputs(harness, open_page, attach_first):
    """JupyterLab sets innerHTML (scripts inert), then replaces each script with a clone (which runs)."""
    check = open_page(f"{harness['url']}/twice.html")
    html = harness["explorers"][2].to_html()
    result = check.page.evaluate(
        """([html, attachFirst]) => {
             delete window.klbookExplorers;
             const host = document.createElement('div');
             if (attachFirst) document.body.appendChild(host);
             host.innerHTML = html;
             for (const s of Array.from(host.getElementsByTagName('script'))) {
               const c = document.createElement('script');
               for (const a of s.attributes) c.setAttribute(a.name, a.value);
               c.textContent = s.textContent;
               s.parentNode.replaceChild(c, s);
             }
             if (!attachFirst) document.body.appendChild(host);
             const root = host.querySelector('div.klbook-explorer');
             return {mounted: root.classList.contains('kx-mounted'),
                     svg: root.querySelectorAll('svg.kx-svg').length,
                     state: root.getAttribute('data-state')};
           }""",
        [html, attach_first],
    )
    assert result["mounted"] and result["svg"] == 2  # densities and loss landscapes
    assert json.loads(result["state"]) == harness["explorers"][2].initial_state
    check.assert_clean()
