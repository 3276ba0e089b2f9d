"""Every page of the built book, opened in headless Chromium: nothing external, nothing broken,
and readable on every screen (issue 13).

For each HTML page under ``_build/html`` (assets excluded): no request leaves the local
server, no request fails or gets a status >= 400, the console shows no error, no script
throws, MathJax leaves no raw LaTeX and reports no error, and every image has alt text. On the
notation page, full of math, the site's own MathJax (``_static/mathjax/``) typesets it as it loads.

Then the same page in four views, a 390 px phone and a 1280 px desktop, each in the theme's
light and dark mode (conftest.py, ``SCREEN_JS``), with every solution and toggle opened:

* phone: the page is no wider than the screen, no inline formula is cut off by a box that
  does not scroll, nor wider than what the reader sees of it without scrolling sideways
  (``_WIDE_INLINE_MATH_JS``), no display formula is wider than its column (none scrolls
  sideways), no explorer control is covered or too small (sliders >= 200 px, buttons >= 24 x 24 px);
* dark mode: explorer text has contrast >= 4.5 and explorer data curves >= 3 against what is
  behind them (light mode too);
* desktop: every raster figure has at least two image pixels per CSS pixel, and no entry of the
  page's contents (right sidebar, every entry open) runs past the sidebar's edge;
* every formula in its text's colour, with contrast >= 4.5 (conftest.py, ``_MATH_COLOUR_JS``);
* axe-core: no serious or critical WCAG 2 A/AA violation, with every rule run in every view it
  can give another verdict in (``screen_problems`` says how, and why that is all of them).

Full-page screenshots of the four views, for people to look at (nothing asserts on them), are
taken only when ``KLBOOK_SCREENSHOTS=1`` (``make screenshots``): they land in ``_build/screenshots/``
as ``<page>--phone-light.png`` ... ``<page>--desktop-dark.png``. Capturing and encoding them cost
about a quarter of this suite's CPU time, so ``make test`` does not take them.

The search page: results for a query carry no raw LaTeX, fit the phone, and for "KL" the
chapters and sections come before API objects.

On a page with explorers, once its checks are done: every explorer responds to the keyboard and its
buttons, and shows what klbook computes (``test_explorers_book.check_explorers``, in the same page load).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from test_explorers_book import check_explorers, has_explorers

REPO = Path(__file__).resolve().parents[2]
# Full-page screenshots for people to look at (make screenshots); not taken by make test.
SCREENSHOTS = os.environ.get("KLBOOK_SCREENSHOTS", "") not in ("", "0")


# The four views, in the order they are checked: one page load (at 390 px, as a phone opens
# it), the window resized twice and the theme switched twice; then back to the first view for
# axe, which judges the phone views after the desktop views (``screen_problems``). Every other
# check of a view runs while it is shown, so a page is shown in five views, never twice in a row
# in the same one (each change of view costs a relayout or a restyle of the whole page).
VIEWS = [  # name, width, dark
    ("phone-light", 390, False),
    ("desktop-light", 1280, False),
    ("desktop-dark", 1280, True),
    ("phone-dark", 390, True),
]

# axe's rules that read colours: the only ones whose verdict on an element can change with the
# theme's mode (it sets the value of the theme's colour variables, html[data-theme]).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


# Inline formulas that a reader on a phone cannot see whole without scrolling sideways. Each inline
# formula is its own box that scrolls (book_static/klbook.css, span.math), and so is a table's; the
# "cut off" check of SCREEN_JS passes a formula in such a box by design. Here every inline formula must
# end within what each of its boxes shows (an ancestor whose overflow-x is not visible, clipped or
# scrolling: its padding box) and within the window. The right edge each ancestor leaves is computed
# once per ancestor (one getComputedStyle each), so a page costs one pass over its formulas.
_WIDE_INLINE_MATH_JS = r"""
() => {
  const de = document.documentElement, edges = new Map();
  const edge = (el) => {   // the right edge of what el shows of its content, in window coordinates
    if (!el || el === de || el === document.body) return de.clientWidth;
    let e = edges.get(el);
    if (e === undefined) {
      e = edge(el.parentElement);
      if (getComputedStyle(el).overflowX !== 'visible') {
        e = Math.min(e, el.getBoundingClientRect().left + el.clientLeft + el.clientWidth);
      }
      edges.set(el, e);
    }
    return e;
  };
  const out = [];
  for (const mj of document.querySelectorAll('.bd-article mjx-container:not([display="true"])')) {
    if (mj.parentElement.closest('mjx-container')) continue;
    const r = mj.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const right = edge(mj.parentElement);
    if (r.right > right + 1) {
      const tex = (mj.querySelector('mjx-assistive-mml') || mj).textContent.replace(/\s+/g, ' ').slice(0, 60);
      const sec = mj.closest('section[id]');
      out.push(`${sec ? '#' + sec.id : ''} "${tex}": ${Math.round(r.width)} px wide, ends ${Math.round(r.right - right)} px ` +
               `past the ${right < de.clientWidth ? 'box it scrolls in' : 'screen'} (${Math.round(right)} px)`);
    }
  }
  return out;
}
"""


def screen_problems(check, views=VIEWS) -> dict[str, list[str]]:
    """Every screen problem of the page opened in ``check``, by kind, over ``views``.

    In every view: the screen measurements (``SCREEN_JS``: the phone checks at 390 px, figures at
    1280 px, explorer text and curves in all four) and the colour of every formula
    (``check.math_colours()``, cheap). axe-core (WCAG 2 A/AA):

    * desktop-light: every rule, on the whole page;
    * desktop-dark: the colour rules on the whole page; every other rule on what this view shows
      and desktop-light did not (the dark versions of the figures, the theme switch's icon).
      The two whole-page colour runs are made one after the other at desktop-light's turn, with the
      formulas' boxes out of the page once for both (``check.axe_colours``; conftest.py,
      ``_MATH_SWAP_JS``, says why no verdict changes and checks that nothing else moved);
    * phone-dark: every rule on what it shows and desktop-dark did not (the phone's header
      buttons), which holds all it shows and neither desktop view did;
    * phone-light, checked again at the end: every rule on what it shows and desktop-light did not;
    * in both phone views every rule also judges again each element whose colours a width media
      query sets (``check.mark_width_coloured``).

    Why that is every rule in every view it can differ in: a rule that does not read colours
    judges the DOM, ARIA and names of what is shown, and the mode and width change only which
    elements are shown (``check.mark_new``), so its verdict on an element shown in two views is
    the same: each element is judged once, in the first view that shows it. The mode changes
    colours everywhere, so the colour rules judge the whole page in both modes. The width changes
    colours only through width media queries, judged again above. What the width changes besides
    is the layout: text may come to lie over another element than at 1280 px; axe judges such
    text "needs review" when the other element is in front of it, and this is not re-judged at
    390 px when it is behind (the one thing a fifth and sixth whole-page colour run would add).
    color-contrast's skips (conftest.py, ``_MARK_CONTRAST_SKIP_JS``) cannot change its verdict.
    """
    found: dict[str, list[str]] = {}
    seen: list[str] = []   # the views whose elements axe has judged, for every rule not reading colours
    seen_colour = {False: [], True: []}   # by mode: the views judged by the colour rules

    def add(kind: str, view: str, items) -> None:
        found.setdefault(kind, []).extend(f"[{view}] {item}" for item in items)

    colour_ahead: dict[tuple[int, bool], list[str]] = {}   # colour runs done ahead, by (width, dark)

    def axe(view: str, width: int, dark: bool) -> None:
        if not seen:        # the first view judged: every rule, the whole page
            check.record_shown(view)
            problems = check.axe(without=COLOUR_RULES)
            # The colour rules on the whole page in this mode and, right after, in the other mode at
            # this width (the next view, desktop-dark: the same page, only the mode differs), with the
            # formulas' boxes taken out once for both (``check.axe_colours``; conftest _MATH_SWAP_JS).
            ahead = check.axe_colours(width, [dark, not dark])
            problems += ahead[dark]
            colour_ahead[(width, not dark)] = ahead[not dark]   # the page is left in that view: shown next
        elif not seen_colour[dark]:   # first view in this mode: the colour rules on the whole page
            new = check.record_shown(view, mark_new=seen)   # what no earlier view showed, marked
            ahead = colour_ahead.pop((width, dark), None)
            problems = check.axe(COLOUR_RULES) if ahead is None else ahead
            if new:
                problems += check.axe(without=COLOUR_RULES, only_new=True)
        else:       # a phone view: its width changes colours only where a width media query sets them
            # One run of every rule on what this view shows and the earlier views in its mode did
            # not, plus what a width media query colours. What the other rules must judge here,
            # the elements no earlier view at all showed, is part of that set (seen_colour[dark] is
            # a part of seen), so they judge all they must and some elements again, with the same
            # verdict (see above): nothing is judged less, and one axe run costs less than two
            # (each run builds axe's tree of the whole page: 0.1-0.3 CPU-s per run).
            n = check.record_shown(view, mark_new=seen_colour[dark])
            n += len(check.mark_width_coloured())
            problems = check.axe(only_new=True) if n else []
        seen.append(view)
        seen_colour[dark].append(view)
        add("axe-core serious/critical violations", view, problems)

    check.expand()
    for name, width, dark in views:
        check.view(width, dark)
        m = check.screen()
        if width <= 400:
            if m["width"]["scroll"] > m["width"]["client"]:
                add("page wider than the phone", name, [f"{m['width']['scroll']} px > {m['width']['client']} px"])
            add("inline formulas cut off", name, m["clippedMath"])
            add("inline formulas wider than the phone", name, check.page.evaluate(_WIDE_INLINE_MATH_JS))
            add("display formulas wider than their column", name, m["wideDisplay"])
            add("explorer controls covered or too small", name, m["controls"])
        else:
            add("raster figures with < 2 image pixels per CSS pixel", name, m["figures"])
            add("contents entries past the right sidebar's edge", name, m["toc"])
        add("explorer text or curves with low contrast", name, m["contrast"])
        add("formulas not in their text's colour or with low contrast", name, check.math_colours())
        if width > 400 or seen:   # a phone view is judged by axe after the desktop views
            axe(name, width, dark)
    # phone-light, shown first (as the page loads), is judged by axe last: one more change of view
    for name, width, dark in views:
        if name not in seen:
            check.view(width, dark)
            axe(name, width, dark)
    return {kind: items for kind, items in found.items() if items}


def test_page_is_clean(book_page, book_html, book_url, open_page):
    if book_page is None:
        pytest.fail(f"no HTML pages in {book_html}: run `make book` first", pytrace=False)
    check = open_page(f"{book_url}/{book_page}", viewport=(390, 844))
    local_mathjax = _local_mathjax_problems(check, book_url) if book_page == NOTATION else []
    if SCREENSHOTS:   # as the reader sees the page, folded parts folded
        stem = book_page[: -len(".html")].replace("/", "__")
        for name, width, dark in VIEWS:
            check.view(width, dark)
            check.shoot(f"{stem}--{name}")
    found = {kind: items for kind, items in check.problems().items() if items}
    found.update(screen_problems(check))   # every problem of the page at once, not the first kind only
    if local_mathjax:
        found["math not typeset by the site's own MathJax (_local_mathjax_problems)"] = local_mathjax
    if has_explorers(book_html, book_page):
        # its explorers, in this page load (test_explorers_book.py, check_explorers), after the page checks,
        # in the view those end in (phone-light, judged by axe last)
        try:
            check_explorers(check, book_page)
        except AssertionError as exc:
            found["explorers: a control or a number wrong (test_explorers_book.check_explorers)"] = [str(exc)]
    if found:
        lines = [f"{check.url}:"]
        for kind, items in found.items():
            lines.append(f"  {len(items)} {kind}:")
            lines += [f"    - {item}" for item in items[:12]]
        pytest.fail("\n".join(lines), pytrace=False)


_RAW_TEX = re.compile(r"\\[A-Za-z]+|\\[()\[\]]|\$\$|\$[^$\s][^$\n]*[\\^_{}][^$\n]*\$")

_RESULTS_JS = """
() => [...document.querySelectorAll('#search-results ul.search li')].map(li => ({
  href: (li.querySelector('a') || {}).href || '',
  title: (li.querySelector('a') || {}).textContent || '',
  text: li.textContent,
}))
"""


def _search(open_page, book_url, query, width=390):
    check = open_page(f"{book_url}/search.html?q={query}", viewport=(width, 844))
    # Sphinx adds the results one by one and fills in the summary last ("Search finished, ..."),
    # then each result's snippet arrives by its own request: wait for both, then for a frame.
    check.page.wait_for_function(
        "() => (document.querySelector('#search-results p.search-summary') || {}).textContent", timeout=60_000)
    check.page.wait_for_load_state("networkidle")
    check.settle()
    return check, check.page.evaluate(_RESULTS_JS)


@pytest.mark.parametrize("query", ["reverse", "KL", "Renyi", "ELBO"])
def test_search_results_are_plain_text_and_fit_a_phone(book_url, open_page, query):
    check, results = _search(open_page, book_url, query)
    assert results, f"no search results for {query!r}"
    raw = [f"{r['href'].split('/')[-1]}: {r['text'].strip()[:160]}" for r in results if _RAW_TEX.search(r["text"])]
    assert not raw, f"{len(raw)} of {len(results)} results for {query!r} show raw LaTeX:\n" + "\n".join(raw[:10])
    width = check.page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"search page for {query!r} is {width[0]} px wide on a {width[1]} px phone"
    if query == "reverse" and SCREENSHOTS:
        check.shoot("search--reverse--phone-light")
    if query == "KL":
        _kl_leads_with_chapters_and_sections(results)
    check.assert_clean()


def _kl_leads_with_chapters_and_sections(results) -> None:
    """For "KL", the reader's pages come first (the first 6 results are not API pages), and no API
    object (an anchor on a documented name such as ``#klbook.FitResult.kl``) is among the first 15.
    Checked on the phone-width search above: Sphinx's search ranks and lists the same results at
    every width (for "KL", all 474 results, links, titles and text, in the same order at 390 and
    1280 px when this was written)."""
    listing = "\n".join(f"  {i + 1}. {r['href'].split('/', 3)[-1]}  {r['title'][:60]}" for i, r in enumerate(results[:15]))
    api_pages = [r for r in results[:6] if "/api" in r["href"]]
    objects = [r for r in results[:15] if "#klbook." in r["href"]]
    assert len(results) >= 15 and not api_pages and not objects, f"first results for 'KL':\n{listing}"


def _toc_files(entries) -> list[str]:
    files = []
    for entry in entries or []:
        if "file" in entry:
            files.append(entry["file"])
        for key in ("parts", "chapters", "sections"):
            files += _toc_files(entry.get(key))
    return files


def test_every_toc_entry_is_a_built_page(book_html):
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf8"))
    files = [toc["root"]] + _toc_files(toc.get("parts")) + _toc_files(toc.get("chapters"))
    missing = [f for f in files if not (book_html / f"{Path(f).with_suffix('')}.html").is_file()]
    assert not missing, f"in _toc.yml but not built: {missing}"


# The notation page is full of math: as it loads, the site's own MathJax typesets it, macros included
# (test_page_is_clean, in that page's load).
NOTATION = "chapters/notation.html"


def _local_mathjax_problems(check, book_url: str) -> list[str]:
    """What is wrong with the MathJax of the page just loaded in ``check``: not typeset, <= 20
    formulas, or its script not the site's own copy under ``_static/mathjax/``."""
    src = check.page.evaluate("() => [...document.scripts].map(s => s.src).find(s => s.includes('mathjax'))")
    return [problem for problem, wrong in [
        (f"MathJax {check.mathjax!r}, not 'typeset'", check.mathjax != "typeset"),
        (f"{check.math_count} formulas typeset, not > 20", not check.math_count > 20),
        (f"MathJax script {src!r}, not under {book_url}/_static/mathjax/",
         not (src and src.startswith(book_url + "/_static/mathjax/"))),
    ] if wrong]


def test_the_notation_page_is_checked_for_the_local_mathjax(book_html):
    """test_page_is_clean checks the local MathJax on the notation page's load (it runs on every built
    page): that page must be built."""
    assert (book_html / NOTATION).is_file(), f"{NOTATION} is not built: the local MathJax is checked on no page"
