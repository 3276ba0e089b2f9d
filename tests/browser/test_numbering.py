"""Chapter-relative numbering and author-year bibliography labels, read from the built HTML.

Figures, tables, theorems, lemmas, definitions and exercises are numbered within their
chapter ("Figure 4.2", "Exercise 2.3"; _toc.yml ``numbered``, _config.yml ``numfig``), and the
references page labels each entry with the same author-year text the in-text citations show
(book_ext/klbook_bib.py). These tests read the HTML that Sphinx wrote, so they fail if a
number becomes global again (e.g. "Exercise 11" in chapter 4, or "Fig. 16") or if a label
goes back to "[Kri16]".
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path

import pytest

CAPTION = re.compile(r'<span class="caption-number">([^<]*)</span>')
NUMREF = re.compile(r'<span class="std std-numref">([^<]*)</span>')
NUMBERED = re.compile(r"^(?P<kind>[A-Z][a-z]*\.?) (?P<chapter>\d+)\.(?P<index>\d+)\s*$")
CITATION_ENTRY = re.compile(
    r'<div class="citation" id="(?P<id>[^"]+)"[^>]*>\s*'  # (the theme layer drops the ARIA role)
    r'<span class="label"><span class="fn-bracket">\[</span>(?P<label>.*?)'
    r'<span class="fn-bracket">\]</span></span>', re.S)
CITATION_LINK = re.compile(r'<a class="reference internal" href="references\.html#(?P<id>[^"]+)"'
                           r'[^>]*>(?P<text>.*?)</a>', re.S)
AUTHOR_YEAR = re.compile(r"^[^\W\d][\w'’ .\-]*( and [^\W\d][\w'’ .\-]*| et al\.)?, (\d{4}|n\.d\.)$")


def chapter_pages(book_html: Path) -> dict[int, Path]:
    pages = {}
    for path in sorted((book_html / "chapters").glob("[0-9][0-9]_*.html")):
        pages[int(path.name[:2])] = path
    return pages


def text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_every_chapter_numbers_its_own_objects(book_html: Path) -> None:
    pages = chapter_pages(book_html)
    assert len(pages) >= 6, f"expected the chapter pages, found {sorted(pages)}"
    problems = []
    for chapter, path in pages.items():
        source = path.read_text(encoding="utf-8")
        seen: dict[str, list[int]] = defaultdict(list)
        for raw in CAPTION.findall(source):
            label = text(raw)
            match = NUMBERED.match(label)
            if match is None:
                problems.append(f"{path.name}: caption number {label!r} is not 'Kind {chapter}.k'")
                continue
            if int(match["chapter"]) != chapter:
                problems.append(f"{path.name}: {label!r} carries chapter {match['chapter']}")
            seen[match["kind"]].append(int(match["index"]))
        for kind, indices in seen.items():
            if indices != list(range(1, len(indices) + 1)):
                problems.append(f"{path.name}: {kind} numbers run {indices}, not 1..{len(indices)}")
        for raw in NUMREF.findall(source):
            label = text(raw)
            if NUMBERED.match(label) is None:
                problems.append(f"{path.name}: cross-reference {label!r} is not chapter-relative")
    assert not problems, "\n".join(problems)


def test_chapters_have_numbered_figures_theorems_and_exercises(book_html: Path) -> None:
    """The check above must have something to check: the first three chapters number
    figures, theorems and exercises (in the theme's words: 'Figure', 'Theorem', 'Exercise')."""
    pages = chapter_pages(book_html)
    for chapter in (1, 2, 3):
        labels = [text(raw) for raw in CAPTION.findall(pages[chapter].read_text(encoding="utf-8"))]
        kinds = {label.split(" ")[0] for label in labels}
        assert {"Figure", "Theorem", "Exercise"} <= kinds, (chapter, sorted(kinds))


def test_bibliography_labels_are_the_author_year_citations(book_html: Path) -> None:
    references = (book_html / "chapters" / "references.html").read_text(encoding="utf-8")
    labels = {m["id"]: text(m["label"]) for m in CITATION_ENTRY.finditer(references)}
    assert len(labels) >= 20, f"found only {len(labels)} bibliography entries"
    repeated = sorted({lab for lab in labels.values() if list(labels.values()).count(lab) > 1})
    assert not repeated, f"two entries share a label (add a disambiguating title word): {repeated}"
    bad = [label for label in labels.values() if AUTHOR_YEAR.match(label) is None]
    assert not bad, f"labels that are not 'Author(s), year': {bad}"
    cited = 0
    mismatched = []
    for page in sorted(book_html.rglob("*.html")):
        if page.name == "references.html" or "_static" in page.parts:
            continue
        for m in CITATION_LINK.finditer(page.read_text(encoding="utf-8")):
            if m["id"] not in labels:
                continue
            cited += 1
            shown, label = text(m["text"]), labels[m["id"]]
            if shown == label:
                continue
            # a textual citation {cite:t} reads "Cover and Thomas [2006]": the link is the
            # year, and the names stand just before it
            names, year = label.rsplit(", ", 1)
            before = text(page.read_text(encoding="utf-8")[max(0, m.start() - 400):m.start()])
            if not (shown == year and before.rstrip(" [(").endswith(names)):
                mismatched.append(f"{page.name}: cites {shown!r}, the list says {label!r}")
    assert cited >= 20, f"found only {cited} citations"
    assert not mismatched, "\n".join(mismatched)


@pytest.mark.parametrize("label", ["Kullback and Leibler, 1951", "Blei et al., 2017",
                                   "van Erven and Harremoës, 2014", "Lineberry, n.d."])
def test_known_labels(book_html: Path, label: str) -> None:
    references = (book_html / "chapters" / "references.html").read_text(encoding="utf-8")
    labels = {text(m["label"]) for m in CITATION_ENTRY.finditer(references)}
    assert label in labels
