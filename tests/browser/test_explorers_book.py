"""The explorers inside the built book: every slider on every page moves, and the numbers follow klbook.

Explorers are discovered from the pages themselves: each one carries its JSON
spec (``script.klbook-explorer-spec``), from which the test rebuilds p and
computes what must be shown with klbook (``check_explorers``). test_book_pages.py
runs it on every page with an explorer, right after that page's checks, in the same
page load; when no page has one yet, ``test_the_book_has_explorers`` is skipped with a note.

Also, over every page: no dead or frozen control. A stored ipywidgets output
(which renders empty or frozen without a kernel) or a range input that no
explorer script brought to life fails the page.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

from klbook.book.explorers import expected_values
from test_explorers_page import KEYS, assert_numbers_follow, check_shown, press_and_read, read

WIDGET_MIME = re.compile(r"application/vnd\.jupyter\.widget-(view|state)\+json")
STATIC_RANGE = re.compile(r"<input[^>]*type=[\"']?range", re.I)


def book_pages(html: Path) -> list[str]:
    """Every HTML page of the built book (assets excluded), relative to its root."""
    skip = {"_static", "_sources", "_images", "_downloads"}
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                  if not skip.intersection(p.relative_to(html).parts))


def has_explorers(html: Path, rel: str) -> bool:
    """Whether the built page ``rel`` embeds a klbook explorer (its JSON spec)."""
    return "klbook-explorer-spec" in (html / rel).read_text(encoding="utf-8")


def explorer_pages(html: Path) -> list[str]:
    return [p for p in book_pages(html) if has_explorers(html, p)]


def check_explorers(check, rel: str) -> None:
    """Every explorer on the page open in ``check`` (a book page, ``rel``) mounted, every slider
    moved by the keyboard with the numbers following klbook and the references, every button
    pressed; raises AssertionError at the first wrong one.

    test_book_pages.py's ``test_page_is_clean`` calls it on every page with an explorer, on the page
    it has just checked, in the view those checks end in (390 px, light mode: the view a page opens in):
    one load of the page instead of two (a chapter's load with MathJax costs Chromium 4-7 CPU-s). The page
    checks run first, on the page as it loaded; nothing they do moves a control (they open folded parts,
    scroll, resize and switch the mode). What the explorers could cause is judged from here on;
    what the page load caused is the page checks' (and axe-core's preload of the style sheets
    requests /basic.css, a 404 of axe's own: it resolves theme.css's @import "../basic.css" against
    the page's URL, not the style sheet's)."""
    page = check.page
    kinds = ("external requests", "console errors", "page errors")
    start = {k: len(v) for k, v in check.problems().items() if k in kinds}
    roots = page.locator("div.klbook-explorer")
    assert roots.count() > 0, rel
    for i in range(roots.count()):
        loc = roots.nth(i)
        spec = json.loads(loc.locator("script.klbook-explorer-spec").text_content())
        root = loc.element_handle()
        shown = read(root)
        assert shown["state"] is not None, f"{rel}: explorer {i} did not mount (no script ran?)"
        assert loc.locator(".kx-fallback").count() == 0
        check_shown(spec, shown)
        sliders = loc.locator("input[type=range]")
        assert sliders.count() >= len(spec["controls"])  # ch. 4 adds p's sliders to q's
        for j in range(sliders.count()):
            slider = sliders.nth(j)
            param = slider.get_attribute("data-param")
            slider.focus()
            moved = False
            for before, shown in pairwise([shown] + press_and_read(page, root, KEYS)):
                if shown["state"][param] != before["state"][param]:
                    moved = True
                    assert_numbers_follow(spec, before, shown, f"{rel}: {param}")
                check_shown(spec, shown)
            assert moved, f"{rel}: the keyboard did not move slider {param!r}"
        buttons = loc.locator("button.kx-button:not([disabled])")
        for j in range(buttons.count()):
            if j >= buttons.count():  # a button bar rebuilt itself (ch. 4 after p changed)
                break
            buttons.nth(j).click()
            check_shown(spec, read(root))
    # what the explorers could cause (the rest of each page is test_book_pages.py's job)
    problems = {k: v[start[k]:] for k, v in check.problems().items() if k in kinds and v[start[k]:]}
    assert not problems, f"{rel}: {problems}"


def test_no_dead_or_frozen_control_in_the_book(book_html):
    """Static scan of every page: no stored widget views, no range input outside the explorers' scripts.

    The explorers create their inputs in JavaScript, so a range input written in a page's
    HTML is one that no script drives (e.g. a stored, frozen widget).
    """
    bad = {}
    for rel in book_pages(book_html):
        text = (book_html / rel).read_text(encoding="utf-8")
        problems = []
        if WIDGET_MIME.search(text):
            problems.append("stored ipywidgets output (frozen or empty without a kernel)")
        if "jupyter-widgets" in text:
            problems.append("jupyter-widgets markup")
        if STATIC_RANGE.search(text):
            problems.append("a range input written into the HTML, not created by an explorer")
        if problems:
            bad[rel] = problems
    assert not bad, bad


def test_the_book_has_explorers(book_html):
    """test_book_pages.py checks every explorer in the book (``check_explorers``): the built pages that
    embed one are exactly the chapters whose stored notebook outputs carry an explorer's spec."""
    chapters = Path(__file__).resolve().parents[2] / "chapters"
    stored = sorted(
        f"chapters/{nb.stem}.html" for nb in chapters.glob("*.ipynb")
        if any("klbook-explorer-spec" in json.dumps(cell.get("outputs", []))
               for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"])
    )
    assert stored, "no chapter notebook stores an explorer"
    assert sorted(explorer_pages(book_html)) == stored


def test_explorer_specs_in_the_book_are_valid_json(book_html):
    html = book_html
    for rel in explorer_pages(html):
        text = (html / rel).read_text(encoding="utf-8")
        for m in re.finditer(r'<script type="application/json" class="klbook-explorer-spec">(.*?)</script>', text, re.S):
            spec = json.loads(m.group(1))
            assert spec["version"] == 1
            expected_values(spec, {c["param"]: c["value"] for c in spec["controls"]} | spec.get("state", {}))
