"""The page checks themselves: each kind of problem on a page is caught, and a clean page passes.

A small site is written into a temporary directory, with one deliberate fault per page,
and served by the same fixtures the book's tests use. Without these tests a broken
check (say, a listener never attached) would let every page of the book pass.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

MATHJAX = Path(__file__).resolve().parents[2] / "book_static" / "mathjax"
BOOK_CSS = MATHJAX.parent / "klbook.css"   # the book's own style sheet

PAGES = {
    "clean.html": "<p>Plain text, <code>\\frac{a}{b}</code> in code is fine.</p>",
    "external.html": '<script src="https://example.com/x.js"></script><p>hi</p>',
    "missing.html": '<img src="nope.png" alt="a missing image">',
    "console.html": "<script>console.error('boom')</script>",
    "throws.html": "<script>undefinedFunction()</script>",
    "raw_math.html": "<p>The divergence \\(D_{KL}(p \\| q)\\) was never typeset.</p>",
    "no_alt.html": '<img src="dot.svg">',
}
DOT = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'


@pytest.fixture(scope="module")
def site(tmp_path_factory, serve):
    d = tmp_path_factory.mktemp("site")
    for name, body in PAGES.items():
        (d / name).write_text(f"<!doctype html><html><head><meta charset='utf-8'>"
                              f"<link rel='icon' href='dot.svg'></head><body>{body}</body></html>")
    (d / "dot.svg").write_text(DOT)
    if (MATHJAX / "tex-chtml.js").is_file():
        shutil.copytree(MATHJAX, d / "mathjax")
        (d / "typeset.html").write_text(
            "<!doctype html><html><head><meta charset='utf-8'><link rel='icon' href='dot.svg'>"
            "<script>window.MathJax = {tex: {macros: {KL: 'D_{\\\\mathrm{KL}}'}}}</script>"
            "<script defer src='mathjax/tex-chtml.js'></script></head>"
            "<body><p>Typeset: \\(\\KL(p \\| q)\\).</p><p>Unknown: \\(\\nosuchmacro\\)</p></body></html>")
    return serve(d)


def test_a_clean_page_passes(site, open_page):
    open_page(f"{site}/clean.html").assert_clean()


@pytest.mark.parametrize("page, kind", [
    ("external.html", "external requests"),
    ("missing.html", "failed requests / status >= 400"),
    ("console.html", "console errors"),
    ("throws.html", "page errors"),
    ("raw_math.html", "raw LaTeX or MathJax errors"),
    ("no_alt.html", "<img> without alt"),
])
def test_each_fault_is_caught(site, open_page, page, kind):
    check = open_page(f"{site}/{page}")
    found = {k for k, v in check.problems().items() if v}
    assert kind in found, check.problems()
    with pytest.raises(pytest.fail.Exception):
        check.assert_clean()


def test_mathjax_typesets_macros_and_reports_unknown_ones(site, open_page):
    if not (MATHJAX / "tex-chtml.js").is_file():
        pytest.fail("book_static/mathjax is missing: run `make book`", pytrace=False)
    check = open_page(f"{site}/typeset.html")
    assert check.mathjax == "typeset" and check.math_count == 2
    assert any("nosuchmacro" in item for item in check.raw_math), check.raw_math
    assert not check.external and not check.failed



def test_the_shared_tab_starts_each_test_clean(site, open_page, _tab):
    """A test's first page goes into one tab per process (conftest ``_Tab``): what an earlier test's
    page left there (storage, cookies, what its unload handler stored, its listeners, its window
    size and its mode) is gone when the next test opens its page."""
    check = open_page(f"{site}/clean.html", viewport=(800, 600), dark=True)
    assert check.page is _tab.page
    assert check.page.evaluate("() => localStorage.getItem('mode')") == "dark"
    check.page.evaluate("""() => {
      localStorage.setItem('left', '1'); sessionStorage.setItem('left', '1'); document.cookie = 'left=1';
      addEventListener('beforeunload', () => sessionStorage.setItem('unload', '1'));
    }""")
    _tab.release()                  # as at the end of this test ...
    page = _tab.take((390, 844))    # ... and at the next test's first open_page
    page.evaluate("() => console.error('seen by no earlier test')")
    page.goto(f"{site}/clean.html")
    state = page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie, innerWidth]")
    assert state == [0, 0, "", 390], state
    assert check.console_errors == [] and check.page_errors == []

# ---------------------------------------------------------------- the screen checks (issue 13)

# One fault per page, inside the theme's article box; `mjx-container` is MathJax's element
# (here a plain custom element of the width a long formula would have).
_WIDE_PNG_W = 64
# A page's contents as Sphinx writes them, with basic.css's rule for code's words (span.pre: nowrap);
# its code has no class "literal" here, as klbook.css's rule for .bd-article code.literal (which holds
# this whole test page) does not reach the book's sidebar.
_TOC = ('<style>span.pre { white-space: nowrap }</style>'
        '<p>Text.</p><div class="bd-sidebar-secondary" style="width:160px"><ul><li><a class="nav-link" href="#a">'
        'Short</a><ul style="display:none"><li><a class="nav-link" href="#b"><code>'
        '<span class="pre">Univariate.logdens_log_below_and_more()</span></code></a></li></ul></li></ul></div>')
SCREEN_PAGES = {
    "screen_clean.html": (
        '<p>Short <span class="math" style="display:inline-flex;max-width:100%;overflow-x:auto">'
        '<mjx-container style="display:inline-block"><span style="display:inline-block;width:900px">'
        'a long formula that scrolls</span></mjx-container></span> in its own box.</p>'
        '<div class="klbook-explorer"><label for="s">mu</label> <input id="s" type="range" style="width:240px">'
        ' <button style="padding:6px 10px">Reset</button><p>Readable text</p></div>'
        f'<img src="dot2x.png" alt="a crisp figure" style="width:{_WIDE_PNG_W // 2}px">'),
    "screen_wide.html": '<p><span style="display:inline-block;width:520px">a table too wide for a phone</span></p>',
    "screen_clipped.html": (
        '<p>Cut: <span class="math" style="display:inline-flex;max-width:100%;overflow:hidden">'
        '<mjx-container style="display:inline-block"><span style="display:inline-block;width:900px">'
        'a long formula</span></mjx-container></span></p>'),
    "screen_covered.html": (
        '<div class="klbook-explorer" style="position:relative"><input id="s" type="range" aria-label="mu" '
        'style="width:240px"><output style="position:absolute;left:60px;top:0;background:#fff">mu = 0.60</output></div>'),
    "screen_tiny.html": '<div class="klbook-explorer"><input type="range" aria-label="mu" style="width:120px"></div>',
    "screen_contrast.html": (
        '<div class="klbook-explorer" style="background:#fff"><svg width="200" height="60">'
        '<rect width="200" height="60" fill="#121212"/><text x="10" y="30" fill="#222832">legend</text></svg></div>'),
    "screen_blurry.html": f'<img src="dot2x.png" alt="a blurry figure" style="width:{_WIDE_PNG_W}px">',
    "screen_axe.html": '<button></button><p style="color:#bbb;background:#fff">faint text</p>',
    # the page's contents in a narrow right sidebar: an API name as one unbreakable word, in a list
    # that is closed until the reader scrolls to its section
    "screen_toc.html": _TOC,
    # the same, with the book's style sheet (book_static/klbook.css): the name breaks inside the sidebar
    "screen_toc_wraps.html": '<link rel="stylesheet" href="klbook.css">' + _TOC,
}


def _png(width: int) -> bytes:
    import struct
    import zlib

    raw = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(width))
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, width, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def screen_site(tmp_path_factory, serve):
    d = tmp_path_factory.mktemp("screen_site")
    for name, body in SCREEN_PAGES.items():
        (d / name).write_text(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>t</title>"
            "<meta name='viewport' content='width=device-width'><link rel='icon' href='dot.svg'></head>"
            f"<body><main><div class='bd-article'>{body}</div></main></body></html>")
    (d / "dot.svg").write_text(DOT)
    (d / "dot2x.png").write_bytes(_png(_WIDE_PNG_W))
    shutil.copy(BOOK_CSS, d / "klbook.css")
    return serve(d)


def _measure(open_page, url, width=390, dark=False):
    check = open_page(url, viewport=(width, 800), dark=dark)
    return check, check.screen()


def test_screen_checks_pass_a_clean_page(screen_site, open_page):
    check, m = _measure(open_page, f"{screen_site}/screen_clean.html")
    assert m["width"]["scroll"] <= m["width"]["client"], m["width"]
    assert not m["clippedMath"] and not m["controls"] and not m["contrast"], m
    check.view(1280)
    assert not check.screen()["figures"]
    assert check.axe() == []


def test_screen_check_catches_a_page_wider_than_the_phone(screen_site, open_page):
    _, m = _measure(open_page, f"{screen_site}/screen_wide.html")
    assert m["width"]["scroll"] > m["width"]["client"], m["width"]


def test_screen_check_catches_clipped_inline_math(screen_site, open_page):
    _, m = _measure(open_page, f"{screen_site}/screen_clipped.html")
    assert len(m["clippedMath"]) == 1 and "clipped at" in m["clippedMath"][0], m["clippedMath"]


@pytest.mark.parametrize("page, phrase", [("screen_covered.html", "covered"), ("screen_tiny.html", "< 200")])
def test_screen_check_catches_covered_or_tiny_sliders(screen_site, open_page, page, phrase):
    _, m = _measure(open_page, f"{screen_site}/{page}")
    assert any(phrase in c for c in m["controls"]), m["controls"]


def test_screen_check_catches_dark_text_on_a_dark_legend(screen_site, open_page):
    _, m = _measure(open_page, f"{screen_site}/screen_contrast.html", dark=True)
    assert len(m["contrast"]) == 1 and "legend" in m["contrast"][0], m["contrast"]


def test_screen_check_catches_a_figure_with_too_few_pixels(screen_site, open_page):
    _, m = _measure(open_page, f"{screen_site}/screen_blurry.html", width=1280)
    assert len(m["figures"]) == 1 and "(1.00x)" in m["figures"][0], m["figures"]


def test_screen_check_catches_a_contents_entry_past_the_sidebar(screen_site, open_page):
    check, m = _measure(open_page, f"{screen_site}/screen_toc.html", width=1280)
    assert len(m["toc"]) == 1 and "logdens_log_below" in m["toc"][0], m["toc"]
    # the closed list is closed again afterwards
    assert check.page.evaluate("() => document.querySelector('.bd-sidebar-secondary ul ul').style.display") == "none"
    _, m = _measure(open_page, f"{screen_site}/screen_toc_wraps.html", width=1280)
    assert m["toc"] == [], m["toc"]


def test_axe_reports_serious_violations(screen_site, open_page):
    check = open_page(f"{screen_site}/screen_axe.html")
    found = " ".join(check.axe())
    assert "button-name" in found and "color-contrast" in found, found


# ---------------------------------------------------------------- what makes the page checks cheap

_TOKENS = "".join(f'<span class="n">name{i}</span><span class="o">=</span><span class="w"> </span>\n' for i in range(40))
SAVING_PAGES = {
    # a code block whose one token class has too little contrast: one of its 40 twins is checked
    "code_faint.html": (
        "<style>pre { background:#fff; color:#000 } .n { color:#aaa } .o { color:#000 }</style>"
        f'<div class="highlight"><pre>{_TOKENS}</pre></div>'),
    # the same block, fine, with a box over its second name token (the test puts it there)
    "code_covered.html": (
        "<style>pre { background:#fff; color:#000 } .n { color:#222 } .o { color:#000 }</style>"
        f'<div class="highlight"><pre>{_TOKENS}</pre></div><div id="box" style="position:absolute"></div>'),
    # formulas: one in a colour of its own, one in its text's colour but faint
    "math_colour.html": (
        "<p>Coloured: \\(\\color{#c8c8c8}{x^2}\\) here.</p>"
        "<p style='color:#c8c8c8'>Faint text and formula \\(y^2\\).</p>"),
    "math_fine.html": "<p>Plain \\(x^2 + \\frac{1}{2}\\) and \\(\\KL(p \\| q)\\).</p>",
    # faint text in a box clipped to nothing (as MathJax's assistive MathML), and faint text shown
    "clipped.html": ("<p>Shown <span style='position:absolute; clip:rect(1px, 1px, 1px, 1px)'>"
                     "<b style='color:#eee'>faint, clipped away</b></span></p><p style='color:#eee'>faint, shown</p>"),
    # formulas among faint text (#777 on white: 4.48 < 4.5), a link in the text's colour next to a
    # formula, and a formula with a background of its own
    "math_swap.html": (
        "<p style='color:#777'>Faint text \\(x^2 + \\frac{1}{2}\\) and \\(\\KL(p \\| q)\\) around formulas.</p>"
        "<p><a href='#x' style='color:#000; text-decoration:none'>link</a> \\(\\sum_{i=1}^{n} x_i^2 + y_i^2 = z\\)</p>"
        "<p>Boxed: \\(\\colorbox{#ddd}{$w$}\\) here.</p>"),
    # faint text in form fields, which hold no text node (their value and placeholder are what axe judges)
    "faint_fields.html": ("<style>input, textarea, select { color: #ccc; background: #fff }</style>"
                          "<label>a <input type='text' value='faint value'></label>"
                          "<label>b <textarea>faint text</textarea></label><label>c <textarea></textarea></label>"),
    # faint boxes whose text children are only white space around faint text
    "blank.html": "<div style='color:#eee'>\n  <p style='color:#eee'>faint text</p>\n  <ul style='color:#eee'> <li>faint item</li> </ul>\n</div>",
    # a colour that only a narrow window gets
    "narrow_colour.html": "<style>@media (max-width: 500px) { .note { color: #ccc } }</style><p class='note'>note</p>",
    # a slow colour transition when the mode changes (the theme's buttons have short ones)
    "transition.html": ("<style>p { color: #000; transition: color 30s linear } html[data-theme=dark] p { color: #fff }"
                        " .spin { animation: spin 1s linear infinite } @keyframes spin { to { rotate: 1turn } }</style>"
                        "<p>text</p><div class='spin'>spinning</div>"),
}


@pytest.fixture(scope="module")
def saving_site(tmp_path_factory, serve):
    d = tmp_path_factory.mktemp("saving_site")
    for name, body in SAVING_PAGES.items():
        head = ("<script>window.MathJax = {tex: {macros: {KL: 'D_{\\\\mathrm{KL}}'}}}</script>"
                "<script defer src='mathjax/tex-chtml.js'></script>") if "math" in name else ""
        (d / name).write_text(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>t</title>"
            f"<link rel='icon' href='dot.svg'>{head}</head><body><main>{body}</main></body></html>")
    (d / "dot.svg").write_text(DOT)
    if (MATHJAX / "tex-chtml.js").is_file():
        shutil.copytree(MATHJAX, d / "mathjax")
    return serve(d)


def test_contrast_twins_are_skipped_but_a_faint_class_is_still_caught(saving_site, open_page):
    check = open_page(f"{saving_site}/code_faint.html")
    found = check.axe(["color-contrast"])
    assert check.contrast_skip["twins"] >= 2 * 39, check.contrast_skip   # 39 twins of .n, 39 of .o (+ spaces)
    assert len(found) == 1 and found[0].startswith("color-contrast (serious, 1x)"), found
    assert check.axe(["color-contrast"], twins=False)[0].startswith("color-contrast (serious, 40x)")
    # the marks are gone after the run: the page is as it was
    assert check.page.evaluate("() => document.querySelectorAll('[data-klbook-axe-skip]').length") == 0


def test_a_covered_token_is_no_twin(saving_site, open_page):
    check = open_page(f"{saving_site}/code_covered.html")
    assert check.axe(["color-contrast"]) == [] and check.axe(["color-contrast"], twins=False) == []
    skipped = "() => [...document.querySelectorAll('pre .n')].slice(0, 3).map(e => e.hasAttribute('data-klbook-axe-skip'))"
    check.mark_contrast_skips()
    assert check.page.evaluate(skipped) == [False, True, True]   # the first is checked, its twins are not
    check.page.evaluate("""() => {
      const r = document.querySelectorAll('pre .n')[1].getBoundingClientRect(), box = document.getElementById('box');
      Object.assign(box.style, {left: `${r.left + scrollX}px`, top: `${r.top + scrollY}px`, width: '4px', height: '4px'});
    }""")
    check.mark_contrast_skips()
    assert check.page.evaluate(skipped) == [False, False, True]  # the covered one is checked itself


def test_text_clipped_to_nothing_is_skipped_and_shown_text_still_checked(saving_site, open_page):
    """axe passes text in a box clip: rect() cuts to nothing as hidden; the skip marks it, the verdict is the same."""
    check = open_page(f"{saving_site}/clipped.html")
    marks = check.mark_contrast_skips()
    marked = check.page.evaluate("() => [...document.querySelectorAll('b, p')].map(e => e.hasAttribute('data-klbook-axe-skip'))")
    assert marks["clipped"] == 1 and marked == [False, True, False], (marks, marked)   # <p>, its <b>, <p> (document order)
    with_skips, without = check.axe(["color-contrast"]), check.axe(["color-contrast"], twins=False)
    assert len(with_skips) == 1 and with_skips[0].startswith("color-contrast (serious, 1x)"), with_skips
    assert without == with_skips, without


def test_boxes_holding_only_white_space_are_skipped_and_their_text_still_checked(saving_site, open_page):
    """color-contrast never judges an element whose own text is white space (hasRealTextChildren: its
    visible text, sanitised, is empty); the skip marks such boxes, and the verdict is the same."""
    check = open_page(f"{saving_site}/blank.html")
    marks = check.mark_contrast_skips()
    marked = check.page.evaluate("() => [...document.querySelectorAll('main *')].map(e => e.tagName + ':' + e.hasAttribute('data-klbook-axe-skip'))")
    assert marks["blank"] == 2 and marked == ["DIV:true", "P:false", "UL:true", "LI:false"], (marks, marked)
    with_skips, without = check.axe(["color-contrast"]), check.axe(["color-contrast"], twins=False)
    assert len(with_skips) == 1 and with_skips[0].startswith("color-contrast (serious, 2x)"), with_skips
    assert without == with_skips, without


def test_faint_form_fields_are_still_checked(saving_site, open_page):
    """color-contrast judges a text field's own text although it has no text node (axe's colorContrastMatches
    takes input, select and textarea before it asks for text children): the skip must not pass them over."""
    check = open_page(f"{saving_site}/faint_fields.html")
    with_skips, without = check.axe(["color-contrast"]), check.axe(["color-contrast"], twins=False)
    assert len(with_skips) == 1 and with_skips[0].startswith("color-contrast (serious, 1x)"), with_skips
    assert "e.g. input [" in with_skips[0] and without == with_skips, (with_skips, without)


def test_math_colours_catch_a_coloured_or_faint_formula(saving_site, open_page):
    if not (MATHJAX / "tex-chtml.js").is_file():
        pytest.fail("book_static/mathjax is missing: run `make book`", pytrace=False)
    check = open_page(f"{saving_site}/math_colour.html")
    found = check.math_colours()
    assert check.math_checked == 2, check.math_checked
    assert len(found) == 2, found
    assert "inside it has colour" in found[0] and "contrast" in found[1], found
    fine = open_page(f"{saving_site}/math_fine.html")
    assert fine.math_colours() == [] and fine.math_checked == 2
    fine.view(1280, dark=True)   # no theme here: still the page's own colours
    assert fine.math_colours() == []


def test_views_judge_what_only_they_show(saving_site, open_page):
    """mark_new marks what earlier views did not show; an axe run on the marked elements judges them."""
    check = open_page(f"{saving_site}/code_covered.html")
    check.record_shown("before")
    check.page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<button></button>')")
    assert check.mark_new(["before"]) == 1
    found = " ".join(check.axe(without=["color-contrast", "link-in-text-block"], only_new=True))
    assert "button-name" in found, found
    # a view recorded and what no earlier view showed marked, in one pass (as screen_problems does)
    check.page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<button></button>')")
    assert check.record_shown("after", mark_new=["before"]) == 2
    assert check.page.evaluate("() => document.querySelectorAll('button[data-klbook-axe-only]').length") == 2
    assert check.mark_new(["after"]) == 0 and check.record_shown("again") is None   # "after" was recorded
    narrow = open_page(f"{saving_site}/narrow_colour.html", viewport=(390, 800))
    narrow.record_shown("here")
    assert narrow.mark_new(["here"]) == 0
    rules = narrow.mark_width_coloured()
    assert len(rules) == 1 and ".note { color }: 1 elements" in rules[0], rules
    assert " ".join(narrow.axe(["color-contrast"], only_new=True)).startswith("color-contrast")



def test_a_view_is_checked_once_its_transitions_end(saving_site, open_page):
    """check.view() returns with every finite transition the mode switch started at its end (conftest
    ``_TRANSITIONS_DONE_JS``): the colour is the one the reader sees once it ends, not one half-way; an
    infinite animation runs on."""
    check = open_page(f"{saving_site}/transition.html")
    running = "() => document.getAnimations().map(a => a.constructor.name + ' ' + a.playState)"
    check.view(390, dark=True)
    assert check.page.evaluate("() => getComputedStyle(document.querySelector('p')).color") == "rgb(255, 255, 255)"
    assert check.page.evaluate(running) == ["CSSAnimation running"]
    check.view(390, dark=False)
    assert check.page.evaluate("() => getComputedStyle(document.querySelector('p')).color") == "rgb(0, 0, 0)"


_LAYOUT_JS = """() => [...document.querySelectorAll('*')].map(e => {
  const r = e.getBoundingClientRect(); return [e.tagName, r.left, r.top, r.width, r.height].join(',');
}).join(';') + document.body.innerHTML"""


def test_colour_runs_without_the_formulas_boxes_judge_the_same(saving_site, open_page):
    """The whole-page colour runs take the formulas' boxes out of the page (conftest ``_MATH_SWAP_JS``):
    the same violations as on the page as it is, the boxes and the layout back afterwards, and a
    formula with a background of its own keeps its boxes."""
    if not (MATHJAX / "tex-chtml.js").is_file():
        pytest.fail("book_static/mathjax is missing: run `make book`", pytrace=False)
    check = open_page(f"{saving_site}/math_swap.html")
    assert check.math_count == 4
    # MathJax adds the MathML copies (whose text makes the link's block a block of text) after typesetting
    check.page.wait_for_function("() => document.querySelectorAll('mjx-container > mjx-assistive-mml').length === 4")
    colour = ["color-contrast", "link-in-text-block"]
    plain = check.axe(colour, swap_math=False)
    page = check.page.evaluate(_LAYOUT_JS)   # with axe's script added
    swapped = check.axe(colour)
    assert check.math_swap["formulas"] == 4 and check.math_swap["swapped"] == 3, check.math_swap  # \\colorbox kept
    assert check.math_swap["removed"] > 30 and not check.math_swap["moved"], check.math_swap
    assert swapped == plain, (swapped, plain)
    assert " ".join(swapped).startswith("color-contrast (serious, 1x)"), swapped
    assert check.page.evaluate(_LAYOUT_JS) == page
    # while the boxes are out, every block keeps its text letter for letter (link-in-text-block's
    # isInTextBlock counts it), the MathML copies' text included
    text = "() => [...document.querySelectorAll('p, mjx-assistive-mml')].map(e => e.textContent)"
    before = check.page.evaluate(text)
    swap = importlib.import_module(check.axe.__module__)._MATH_SWAP_JS
    assert check.page.evaluate(swap, "out")["swapped"] == 3
    try:
        assert check.page.evaluate(text) == before
    finally:
        check.page.evaluate(swap, "back")
    assert check.page.evaluate(_LAYOUT_JS) == page
    # every rule at once: the colour rules in their own run, the same verdicts
    assert sorted(check.axe()) == sorted(check.axe(swap_math=False))


def test_a_swap_that_moves_anything_fails(saving_site, open_page):
    check = open_page(f"{saving_site}/math_swap.html")
    check.page.add_style_tag(content="mjx-klbook-box { margin-left: 1px }")
    with pytest.raises(pytest.fail.Exception, match="moved other elements"):
        check.axe(["color-contrast"])
    check.page.add_style_tag(content="mjx-klbook-box { margin-left: 0 }")
    assert check.page.evaluate("() => document.querySelectorAll('mjx-klbook-box').length") == 0   # boxes back
    assert check.axe(["color-contrast"]) and not check.math_swap["moved"]


# axe's whole answer: every rule's verdict on every node, with every check's data and message
_AXE_ANSWER_JS = """
async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
  const nodes = (rule) => [rule.id, rule.impact, rule.nodes.map(n => [n.target, n.html, n.impact, n.failureSummary,
    ...['any', 'all', 'none'].map(k => n[k].map(c => [c.id, c.impact, c.message, JSON.stringify(c.data),
                                                       c.relatedNodes.map(x => x.target)]))])];
  return JSON.stringify(['violations', 'incomplete', 'passes', 'inapplicable'].map(k => r[k].map(nodes)));
}
"""

# memoize(f) by axe's own memoizee: which calls reach f, and what each call returns
_MEMO_CALLS_JS = """
() => {
  const calls = [];
  const one = axe.utils.memoize(function (a) { calls.push(['one', String(a)]); return {a}; });
  const two = axe.utils.memoize(function (a, b) { calls.push(['two', String(a), String(b)]); return [a, b]; });
  const x = {}, y = {}, same = [];
  const args = [[x], [y], [x], [NaN], [NaN], [0], [-0], ['0'], [undefined], [null], [undefined]];
  for (const [a] of args) same.push(one(a) === one(a));
  const pairs = [[x, y], [y, x], [x, y], [x, x], [NaN, 0], [NaN, -0], [x], [x, undefined], [x, y, 3], [y, x, 4]];
  for (const p of pairs) same.push(two(...p) === two(...p));
  const first = [one(x) === one(x), two(x, y) === two(x, y, 'ignored')];
  return {calls, same, first};
}
"""


def test_axe_answers_the_same_with_its_helpers_memoized_by_map(saving_site, open_page):
    """conftest ``_AXE_MEMO_JS``: axe-core with Maps as its memoizer's normalizer finds the same cached
    entries (which calls reach the function, what each returns) and gives its whole answer unchanged on
    a page with formulas, faint text and a link (passes and needs-review included, every node and check)."""
    check = open_page(f"{saving_site}/math_swap.html")
    conftest = importlib.import_module(check.axe.__module__)
    check.page.wait_for_function("() => document.querySelectorAll('mjx-container > mjx-assistive-mml').length === 4")
    calls, answers = {}, {}
    for memo_map in (False, True):
        check.page.evaluate("() => { delete window.axe; }")
        check.page.add_script_tag(content=conftest._axe_source(memo_map))
        assert check.page.evaluate("() => typeof __klbookMemoNormalizer === 'function'") == memo_map
        calls[memo_map] = check.page.evaluate(_MEMO_CALLS_JS)
        answers[memo_map] = check.page.evaluate(_AXE_ANSWER_JS)
    assert calls[True] == calls[False], calls
    # one: x, y, NaN (once), 0 (-0 is 0), '0', undefined, null; two: (x, y), (y, x), (x, x), (NaN, 0),
    # (x, undefined) (= (x)); (x, y, 3) is (x, y): memoizee keys as many arguments as the function takes
    assert len(calls[True]["calls"]) == 12 and all(calls[True]["same"] + calls[True]["first"]), calls[True]
    assert answers[True] == answers[False]
    assert '"color-contrast"' in answers[True] and '"link-in-text-block"' in answers[True]
