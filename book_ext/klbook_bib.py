"""Sphinx extension: author-year labels on the references page.

The in-text citations use sphinxcontrib-bibtex's ``author_year`` referencing style
("[Kullback and Leibler, 1951]", "[Blei et al., 2017]"). The bibliography list, however,
labels its entries with pybtex's label style, which is "alpha" by default ("[KL51]",
"[Kri16]"), so a reader could not match a citation with its entry. This extension
registers a pybtex label style, ``authoryear``, that builds the same text the citations
show (last names with their "van"/"de" particles; two authors joined by "and"; three or
more as "First et al."; then ", year"), and a bibliography style, ``klbook``, which is
pybtex's ``plain`` style with that label style. ``_config.yml`` selects it with
``bibtex_default_style: klbook``.
"""

from __future__ import annotations

import re
import unicodedata

import pybtex.plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle

_LATEX_ACCENTS = {
    r"\'": "\u0301", r"\`": "\u0300", r'\"': "\u0308", r"\^": "\u0302", r"\~": "\u0303",
}


def _plain(text: str) -> str:
    """Turn the few LaTeX accents of a .bib name ({\\'e}, {\\"o}) into Unicode text."""
    def accent(match: re.Match) -> str:
        return unicodedata.normalize("NFC", match.group(2) + _LATEX_ACCENTS[match.group(1)])

    text = re.sub(r"(\\['`\"^~])\{?([A-Za-z])\}?", accent, text)
    return text.replace("{", "").replace("}", "")


def _last_name(person) -> str:
    return _plain(" ".join(person.prelast_names + person.last_names))


def author_year_label(entry) -> str:
    """The label of one entry: "Lin, 1991", "Cover and Thomas, 2006", "Blei et al., 2017"."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    if not persons:
        who = _plain(entry.fields.get("title", entry.key))
    elif len(persons) == 1:
        who = _last_name(persons[0])
    elif len(persons) == 2:
        who = f"{_last_name(persons[0])} and {_last_name(persons[1])}"
    else:
        who = f"{_last_name(persons[0])} et al."
    year = _plain(entry.fields.get("year", "n.d."))
    return f"{who}, {year}"


class AuthorYearLabelStyle(BaseLabelStyle):
    """pybtex label style: the author-year text of the in-text citations."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year_label(entry)


class KlbookStyle(PlainStyle):
    """pybtex's plain style, labelled author-year."""

    default_label_style = "authoryear"


def setup(app):
    pybtex.plugin.register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabelStyle)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "klbook", KlbookStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
