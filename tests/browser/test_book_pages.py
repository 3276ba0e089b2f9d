"""Every page of the built book, opened in headless Chromium: nothing external, nothing broken.

For each HTML page under ``_build/html`` (assets excluded): no request leaves the local
server, no request fails or gets a status >= 400, the console shows no error, no script
throws, MathJax leaves no raw LaTeX and reports no error, and every image has alt text.
A full-page screenshot of each page is saved in ``_build/screenshots/`` for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def test_page_is_clean(book_page, book_html, book_url, open_page):
    if book_page is None:
        pytest.fail(f"no HTML pages in {book_html}: run `make book` first", pytrace=False)
    check = open_page(f"{book_url}/{book_page}", screenshot=book_page[: -len(".html")].replace("/", "__"))
    check.assert_clean()


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


def test_math_is_typeset_by_the_local_mathjax(book_url, open_page):
    """The notation page is full of math: the site's own MathJax typesets it, macros included."""
    check = open_page(f"{book_url}/chapters/notation.html")
    assert check.mathjax == "typeset"
    assert check.math_count > 20
    src = check.page.evaluate("() => [...document.scripts].map(s => s.src).find(s => s.includes('mathjax'))")
    assert src and src.startswith(book_url + "/_static/mathjax/"), src
    check.assert_clean()
