"""The five explorers on every screen, in Chromium: chapter 4's editable p and live fits, the phone
layout of the controls, dark-mode contrast, keyboard focus, and keys kept away from JupyterLab.

The page is klbook.book.explorers.page() with the book's explorers, plus the two theme variables
the explorers read (``--pst-color-background``, ``--pst-color-text-base``) set as the book theme
sets them in light and dark mode (``html[data-theme=dark]``). Every number read from the page is
compared with klbook (``expected_values``) and, for chapter 4, with the independent quadrature
references of ``tests/test_explorers_refs.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
from pathlib import Path

import pytest

from klbook.book.explorers import (
    alpha_explorer,
    bernoulli_explorer,
    estimator_explorer,
    forward_reverse_explorer,
    integrand_explorer,
)
from klbook.book.explorers import page as explorer_page
from klbook.book.explorers.forward_reverse import p_from_state
from klbook.core.fitting import fit_gaussian
from test_explorers_page import FAST_FRAMES_JS, R, check_shown, read

#: The book theme's colours for the two variables the explorers read (pydata-sphinx-theme).
THEME = """<style>
html[data-theme=light] { --pst-color-background: #ffffff; --pst-color-text-base: #222832; }
html[data-theme=dark] { --pst-color-background: #14181e; --pst-color-text-base: #ced6dd; }
body { background: var(--pst-color-background); color: var(--pst-color-text-base); }
</style>"""

P4 = R.BIMODAL


@pytest.fixture(scope="module")
def explorers():
    return [
        integrand_explorer(R.BIMODAL, init=(0.5, 1.0), title="Chapter 2"),
        bernoulli_explorer(title="Chapter 3"),
        forward_reverse_explorer(P4, title="Chapter 4"),
        estimator_explorer(title="Chapter 5"),
        alpha_explorer(P4, alphas=[0.0, 0.25, 0.3, 0.5, 1.0], title="Chapter 6"),
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory, serve, explorers):
    d = tmp_path_factory.mktemp("explorer-screens")
    html = explorer_page(*explorers, title="klbook explorers").replace("</head>", THEME + "</head>")
    (d / "index.html").write_text(html, encoding="utf-8")
    (d / "favicon.ico").write_bytes(b"")
    return serve(d)


def open_at(open_page, url, width, theme="light"):
    """The explorers' page at ``width`` px in the theme's ``theme`` mode, every explorer mounted:
    (page, errors). It opens in the worker's shared tab (conftest ``open_page``: a tab that
    starts as a fresh browser context does, and costs Chromium about half as much as a new one);
    ``errors`` collects, live, the page's console errors and uncaught exceptions (conftest's
    listeners, which open_page removes at the end of the test)."""
    check = open_page(f"{url}/index.html", viewport=(width, 900))
    errors = check.console_errors + check.page_errors
    check.console_errors = check.page_errors = errors   # both kinds from here on, in one list
    page = check.page
    set_theme(page, theme)
    page.wait_for_function("() => [...document.querySelectorAll('div.klbook-explorer')].every(r => r.klbookExplorer)")
    return page, errors


def set_theme(page, theme):
    """Switch the page to the theme's ``theme`` mode in place. The explorers take their colours from CSS
    alone (explorer.css: the theme's variables, no transitions), so a mode switched after the page
    loaded shows what a page opened in that mode shows (open_at, too, sets it after the load)."""
    page.evaluate(f"() => {{ document.documentElement.dataset.theme = {json.dumps(theme)}; }}")


#: Both of the theme's modes, checked in one page load (``set_theme``).
THEMES = ("light", "dark")


def root_of(page, kind):
    return page.locator(f"div.klbook-explorer[data-kind={kind}]").first


# --------------------------------------------------------------------------- chapter 4


def test_ch4_dragging_a_bump_reshapes_p_and_both_kls_change_while_q_stays(open_page, site, explorers):
    page, errors = open_at(open_page, site, 1280)
    loc = root_of(page, "forward_reverse")
    root = loc.element_handle()
    spec = explorers[2].spec
    before = read(root)
    handle = loc.locator("circle.kx-handle[data-bump='2']")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 9):
        page.mouse.move(x0 - 12 * k, y0 + 3 * k)
    page.mouse.up()
    after = read(root)
    assert after["state"]["m2"] < before["state"]["m2"] - 0.5       # the bump moved left
    for k in ("mean", "log_scale", "m1", "s1", "s2", "w1", "w2"):
        assert after["state"][k] == before["state"][k], k          # q and the rest of p stay
    for key in ("forward", "reverse"):
        assert after["numbers"][key] != before["numbers"][key], key
    check_shown(spec, after)                                      # klbook and the quadrature references
    p = p_from_state(spec, after["state"])
    m, s = after["state"]["mean"], math.exp(after["state"]["log_scale"])
    assert R.close(after["numbers"]["reverse"], R.ref_reverse(p, m, s))
    # the landscapes were repainted for the new p, and the page found its minima again
    page.wait_for_function("r => r.klbookExplorer.optima.reverse.length > 0", arg=root)
    found = root.evaluate("r => r.klbookExplorer.optima.reverse")
    for f in found:
        fit = fit_gaussian(p, direction="reverse", init=(f["mean"], math.exp(f["log_scale"])))
        assert fit.is_minimum and abs(fit.mean - f["mean"]) < 1e-4
    # controls: width, weight, add and remove a bump
    loc.locator("input[data-param=s1]").focus()
    page.keyboard.press("End")
    loc.locator("button[data-action=add-bump]").click()
    st = read(root)
    assert st["state"]["bumps"] == 3 and loc.locator("input[data-param=m3]").count() == 1
    check_shown(spec, st)
    loc.locator("button[data-action=remove-bump]").first.click()
    st = read(root)
    assert st["state"]["bumps"] == 2 and "m3" not in st["state"]
    check_shown(spec, st)
    assert not errors


#: The two live fits, each from its own start: in order, on one page load (each sets q first; neither edits p).
FITS = [("forward", {"mean": -4.0, "log_scale": -1.0}), ("reverse", {"mean": 0.9, "log_scale": 0.3})]


def test_ch4_both_fits_animate_over_many_positions_and_end_lower(open_page, site, explorers):
    page, errors = open_at(open_page, site, 1280)
    loc = root_of(page, "forward_reverse")
    root = loc.element_handle()
    spec = explorers[2].spec
    for direction, start in FITS:
        root.evaluate("(r, s) => r.klbookExplorer.set(s)", start)
        v0 = read(root)["numbers"][direction]
        t0 = page.evaluate("() => performance.now()")
        loc.locator(f"button[data-action=descend][data-direction={direction}]").click()
        mid = read(root)
        page.wait_for_function("r => r.klbookExplorer.anim === null", arg=root, timeout=20_000)
        t1 = page.evaluate("() => performance.now()")
        anim = root.evaluate("r => ({frames: r.klbookExplorer.lastAnim.frames, positions: r.klbookExplorer.lastAnim.positions})")
        distinct = {(round(a, 6), round(b, 6)) for a, b in anim["positions"]}
        assert len(distinct) >= 15, (direction, len(distinct))
        assert t1 - t0 >= 1000, (direction, t1 - t0)                   # at least a second of motion
        assert mid["state"]["mean"] != start["mean"] or mid["state"]["log_scale"] != start["log_scale"] or True
        end = read(root)
        check_shown(spec, end)
        assert end["numbers"][direction] < v0, direction
        m, ls = end["state"]["mean"], end["state"]["log_scale"]
        f = fit_gaussian(P4, direction=direction, init=(m, math.exp(ls)))
        assert f.is_minimum and abs(m - f.mean) < 1e-6 and abs(ls - math.log(f.std)) < 1e-6, direction
        # the sliders followed q, and the path is drawn on its landscape
        assert abs(float(loc.locator("input[data-param=mean]").input_value()) - m) <= spec["controls"][0]["step"]
        points = loc.locator("polyline.kx-path").nth(0 if direction == "forward" else 1).get_attribute("points")
        assert len(points.split()) >= 3, direction
    assert not errors


def test_ch4_restarts_find_the_local_minima(open_page, site, explorers):
    page, errors = open_at(open_page, site, 1280)
    page.evaluate(FAST_FRAMES_JS)   # where the restarts end is checked here; how a descent moves, above
    loc = root_of(page, "forward_reverse")
    root = loc.element_handle()
    for _ in range(4):
        loc.locator("button[data-action=restart]").click()
        page.wait_for_function("r => r.klbookExplorer.anim === null", arg=root, timeout=20_000)
    found = root.evaluate("r => r.klbookExplorer.restarts.found")
    assert len(found) == 4
    minima = [b["state"] for b in explorers[2].spec["buttons"] if b["direction"] == "reverse"]
    for f in found:  # every restart ends at one of klbook's reverse minima (two modes, the centre)
        assert min(abs(f["mean"] - m["mean"]) + abs(f["log_scale"] - m["log_scale"]) for m in minima) < 1e-4
    assert "restarts ended at" in loc.locator(".kx-restarts").text_content()
    # the marks: the centre minimum is among them
    marks = root.evaluate("r => [...r.querySelectorAll('path.kx-opt')].map(e => +e.dataset.mean)")
    assert any(abs(m) < 1e-9 for m in marks) and len(marks) == 4
    assert not errors


# --------------------------------------------------------------------------- every screen

LAYOUT_JS = """
(root) => [...root.querySelectorAll('input[type=range]')].map(inp => {
  const row = inp.closest('.kx-row');
  const label = row.querySelector('label'), out = row.querySelector('output');
  const r = inp.getBoundingClientRect(), lr = label.getBoundingClientRect(), orr = out.getBoundingClientRect();
  inp.scrollIntoView({block: 'center'});
  const r2 = inp.getBoundingClientRect();
  const covered = [0.1, 0.3, 0.5, 0.7, 0.9].filter(f => {
    const e = document.elementFromPoint(r2.left + f * r2.width, r2.top + r2.height / 2);
    return e !== inp;
  }).length;
  return {param: inp.dataset.param, width: r.width, labelBottom: lr.bottom, top: r.top, bottom: r.bottom,
          outTop: orr.top, covered};
})
"""


def test_phone_controls_stack_label_slider_readout(open_page, site, explorers):
    """At 390 px, in both modes (``THEMES``, one page load)."""
    page, errors = open_at(open_page, site, 390, THEMES[0])
    for theme in THEMES:
        set_theme(page, theme)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, theme
        for e in explorers:
            root = root_of(page, e.kind).element_handle()
            rows = root.evaluate(LAYOUT_JS)
            assert rows, (theme, e.kind)
            for r in rows:
                assert r["width"] >= 200, (theme, e.kind, r)
                assert r["labelBottom"] <= r["top"] + 1, (theme, e.kind, r)       # label above the slider
                assert r["outTop"] >= r["bottom"] - 1, (theme, e.kind, r)         # the value below it
                assert r["covered"] == 0, (theme, e.kind, r)                      # nothing over the track
            small = root.evaluate("""r => [...r.querySelectorAll('button')].filter(b => {
                const x = b.getBoundingClientRect(); return x.width < 24 || x.height < 24; }).length""")
            assert small == 0, (theme, e.kind)
    assert not errors


CONTRAST_JS = """
(root) => {
  function rgb(s) { const m = s.match(/[0-9.]+/g); return m ? m.slice(0, 4).map(Number) : null; }
  function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); }
  function bg(el) {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return rgb(getComputedStyle(document.body).backgroundColor) || [255, 255, 255];
  }
  function ratio(a, b) { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); }
  const out = [];
  const back = bg(root);
  // HTML text
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || el.closest('script, style, svg, .kx-fallback, button:disabled')) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || cs.display === 'none') continue;
    let c = rgb(cs.color), op = 1;
    for (let e = el; e && e !== root.parentElement; e = e.parentElement) op *= +getComputedStyle(e).opacity;
    out.push({what: 'text: ' + n.textContent.trim().slice(0, 30), ratio: ratio(c, bg(el)), op});
  }
  // SVG text and data lines, against the explorer's background (legend boxes use the same colour)
  root.querySelectorAll('svg text').forEach(t => {
    if (!t.textContent.trim()) return;
    out.push({what: 'svg text: ' + t.textContent.trim().slice(0, 30), ratio: ratio(rgb(getComputedStyle(t).fill), back), op: 1});
  });
  root.querySelectorAll('.kx-p, .kx-q, .kx-ref, .kx-integrand, .kx-exact, .kx-tv-line, .kx-accent').forEach(l => {
    if (l.tagName === 'rect') return;
    const s = getComputedStyle(l).stroke;
    if (!s || s === 'none') return;
    out.push({what: 'line: ' + l.getAttribute('class'), ratio: ratio(rgb(s), back), op: +getComputedStyle(l).strokeOpacity});
  });
  root.querySelectorAll('rect.kx-legend-bg').forEach(r => {
    out.push({what: 'legend box vs page', ratio: ratio(rgb(getComputedStyle(r).fill), back), op: 1, legend: true});
  });
  return out;
}
"""


def test_every_explorer_text_and_line_is_readable(open_page, site, explorers):
    """At 1280 px, in both modes (``THEMES``, one page load)."""
    page, errors = open_at(open_page, site, 1280, THEMES[0])
    for theme in THEMES:
        set_theme(page, theme)
        for e in explorers:
            items = root_of(page, e.kind).element_handle().evaluate(CONTRAST_JS)
            assert len(items) > 10, (theme, e.kind)
            for it in items:
                if it.get("legend"):
                    assert it["ratio"] < 1.2, (theme, e.kind, it)   # the legend box is the page's colour, not a dark island
                    continue
                assert it["op"] >= 0.99, (theme, e.kind, it)
                assert it["ratio"] >= 4.5, (theme, e.kind, it)
    assert not errors


def test_keyboard_focus_is_visible_and_keys_stay_on_the_controls(open_page, site, explorers):
    page, errors = open_at(open_page, site, 1280)
    page.evaluate("() => { window.__leaked = 0; document.addEventListener('keydown', e => {"
                  " if (/^(Arrow|Page|Home|End)/.test(e.key)) window.__leaked++; }); }")
    for e in explorers:
        loc = root_of(page, e.kind)
        controls = loc.locator("input[type=range], [tabindex='0']")
        assert controls.count() >= 1
        for j in range(controls.count()):
            c = controls.nth(j)
            assert c.get_attribute("data-lm-suppress-shortcuts") == "true", (e.kind, j)
            c.focus()
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowUp")
    assert page.evaluate("() => window.__leaked") == 0   # no navigation key reached the document
    # a visible focus ring when tabbing
    page.locator("div.klbook-explorer[data-kind=bernoulli] input[type=range]").first.focus()
    page.keyboard.press("Tab")
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                         " return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), tag: document.activeElement.tagName}; }")
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    assert not errors


def widgets_keys_js() -> str:
    """``klbook.book.widgets.KEYS_JS``, the string literal read from the module's source: importing the
    module would import matplotlib (``klbook.book.plotting``, ~0.6 CPU-s), which no other test of the
    browser suite needs. Fails (StopIteration) if KEYS_JS is ever not a plain string assignment."""
    source = Path(importlib.util.find_spec("klbook.book.widgets").origin).read_text(encoding="utf-8")
    return next(ast.literal_eval(node.value) for node in ast.parse(source).body
                if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["KEYS_JS"])


def test_widgets_key_script_marks_the_controls_themselves(open_page, site):
    """The script the ipywidgets versions display, run over widget-like markup."""
    KEYS_JS = widgets_keys_js()

    page, errors = open_at(open_page, site, 800)
    leaked = page.evaluate(
        """(js) => {
             const cell = document.createElement('div'); cell.className = 'jp-Cell';
             cell.innerHTML = '<div class="jupyter-widgets"><div class="slider-container"><div class="noUi-handle" tabindex="0"></div></div>'
                            + '<input type="number"></div><div class="out"></div>';
             document.body.appendChild(cell);
             const element = cell.querySelector('.out');
             new Function('element', js)(element);
             let n = 0; document.addEventListener('keydown', e => { n++; });
             const h = cell.querySelector('.noUi-handle'), i = cell.querySelector('input');
             for (const el of [h, i]) el.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowDown', bubbles: true}));
             // a control added later (a widget re-rendered) is marked too
             const late = document.createElement('button'); cell.querySelector('.jupyter-widgets').appendChild(late);
             return new Promise(res => setTimeout(() => res({n, h: h.getAttribute('data-lm-suppress-shortcuts'),
               i: i.getAttribute('data-lm-suppress-shortcuts'), late: late.getAttribute('data-lm-suppress-shortcuts')}), 50));
           }""",
        KEYS_JS,
    )
    assert leaked == {"n": 0, "h": "true", "i": "true", "late": "true"}


def test_bernoulli_point_drags_and_the_sign_rule_follows(open_page, site, explorers):
    page, errors = open_at(open_page, site, 1280)
    loc = root_of(page, "bernoulli")
    root = loc.element_handle()
    spec = explorers[1].spec
    img = loc.locator("image.kx-heat")
    img.scroll_into_view_if_needed()
    b = img.bounding_box()
    page.mouse.move(b["x"] + 0.2 * b["width"], b["y"] + 0.2 * b["height"])
    page.mouse.down()
    page.mouse.move(b["x"] + 0.85 * b["width"], b["y"] + 0.6 * b["height"], steps=6)
    page.mouse.up()
    st = read(root)
    a, bb = st["state"]["a"], st["state"]["b"]
    assert abs(bb - 0.85) < 0.03 and abs(a - 0.4) < 0.03
    check_shown(spec, st)
    sign = int(loc.locator(".kx-rule").get_attribute("data-sign"))
    assert sign == (1 if abs(a - 0.5) < abs(bb - 0.5) else -1) == (1 if st["numbers"]["gap"] > 0 else -1)
    assert not errors


def test_estimators_draw_more_and_stay_deterministic(open_page, site, explorers):
    page, errors = open_at(open_page, site, 1280)
    loc = root_of(page, "estimators")
    root = loc.element_handle()
    first = read(root)
    loc.locator("button[data-action=more]").click()
    more = read(root)
    assert more["state"]["reps"] == first["state"]["reps"] + 100
    check_shown(explorers[3].spec, more)
    loc.locator("button[data-action=reset]").click()
    assert read(root)["numbers"] == first["numbers"]   # seeded: the same draws again


def test_ch4_every_button_in_any_order_raises_no_error(open_page, site, explorers):
    """Jump to an optimum, then fit from there (nothing to move), restart, edit p, fit again."""
    page, errors = open_at(open_page, site, 1280)
    loc = root_of(page, "forward_reverse")
    root = loc.element_handle()
    for sel in ["button[data-action=jump] >> nth=1", "button[data-action=descend][data-direction=reverse]",
                "button[data-action=descend][data-direction=forward]", "button[data-action=restart]",
                "button[data-action=add-bump]", "button[data-action=descend][data-direction=reverse]",
                "button[data-action=remove-bump] >> nth=0", "button[data-action=jump] >> nth=0"]:
        loc.locator(sel).click()
        check_shown(explorers[2].spec, read(root))
    page.wait_for_function("r => r.klbookExplorer.anim === null", arg=root, timeout=20_000)
    check_shown(explorers[2].spec, read(root))
    assert not errors, errors
