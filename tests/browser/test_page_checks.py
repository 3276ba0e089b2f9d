"""The page checks themselves: each kind of problem on a page is caught, and a clean page passes.

A small site is written into a temporary directory, with one deliberate fault per page,
and served by the same fixtures the book's tests use. Without these tests a broken
check (say, a listener never attached) would let every page of the book pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

MATHJAX = Path(__file__).resolve().parents[2] / "book_static" / "mathjax"

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
