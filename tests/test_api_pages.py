"""The API reference has exactly one generated page per public module (book_ext/klbook_api.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("sphinx")


def _api_module():
    spec = importlib.util.spec_from_file_location("klbook_api_ext", ROOT / "book_ext" / "klbook_api.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


api = _api_module()


def test_one_page_per_documented_module():
    expected = {f"{api.slug(m)}.md": api.page_text(m) for m in api.documented_modules()}
    found = {p.name: p.read_text() for p in (ROOT / "chapters" / "api").glob("*.md")}
    assert set(found) == set(expected), "run: python book_ext/klbook_api.py chapters/api"
    for name, text in expected.items():
        assert found[name] == text, f"{name} is stale: run python book_ext/klbook_api.py chapters/api"


def test_api_pages_are_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    assert "glob: chapters/api/*" in toc


def test_internals_are_not_documented():
    """Only names in __all__ and the classes public functions return are documented; nothing private."""
    entries = api.module_entries()
    documented = [n for names in entries.values() for n in names]
    assert documented, "nothing documented"
    assert not [n for n in documented if any(part.startswith("_") for part in n.split("."))]
    def resolve(dotted):
        prefix, attr = dotted.rsplit(".", 1)
        return getattr(importlib.import_module(prefix), attr)

    returned = [cls for d in documented for cls in api._returned_classes(resolve(d), "klbook")]
    for dotted in documented:
        prefix, attr = dotted.rsplit(".", 1)
        obj = resolve(dotted)
        in_all = attr in getattr(importlib.import_module(prefix), "__all__", ())
        assert in_all or any(obj is cls for cls in returned), dotted


def test_every_public_top_level_name_is_documented_once():
    import klbook

    entries = api.module_entries()
    documented = [n for names in entries.values() for n in names]
    assert len(documented) == len(set(documented))
    for name in klbook.__all__:
        if not isinstance(getattr(klbook, name), type(sys)):
            assert f"klbook.{name}" in documented, name
