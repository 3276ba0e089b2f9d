"""Every chapter notebook is clean: JupyterLab opens it unmodified and restores no frozen widgets.

What JupyterLab rewrites when a notebook's kernel starts (checked in JupyterLab 4.5 by opening,
saving and diffing; tests/browser/test_jupyterlab.py checks the "modified" flag in a real client):
``metadata.kernelspec`` becomes ipykernel's ``{"display_name": "Python 3 (ipykernel)",
"language": "python", "name": "python3"}`` and ``metadata.language_info`` becomes the kernel's
``language_info``, including the exact Python version. Any difference marks the notebook
modified. ``metadata.widgets`` (stored ipywidgets state) would come back, once trusted, as
frozen widgets that do nothing.

The expected values are written out here, not taken from book_ext/nbclean.py, which the second
half of this file tests on its own.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))

FIRST_CELL = (
    "> **Running this notebook in Jupyter?** Choose *Run › Run All Cells* to bring the explorers and "
    "widgets to life. Outputs stored in the file are a snapshot; the live explorers need the code to "
    "run (or the notebook to be trusted)."
)
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}


def _runtime_python() -> str:
    """'3.11' from runtime.txt ('python-3.11'): the Python Binder runs, and the book's."""
    return (ROOT / "runtime.txt").read_text().strip().removeprefix("python-")


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def test_there_are_chapter_notebooks():
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_widget_state(path):
    nb = _load(path)
    assert "widgets" not in nb["metadata"], (
        f"{path.name} stores ipywidgets state; run: .venv/bin/python book_ext/nbclean.py {path.relative_to(ROOT)}")
    for cell in nb["cells"]:
        assert "widgets" not in cell.get("metadata", {}), f"{path.name}: cell {cell.get('id')} stores widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernelspec_and_language_info_as_jupyterlab_writes_them(path):
    meta = _load(path)["metadata"]
    fix = f"; run: .venv/bin/python book_ext/nbclean.py {path.relative_to(ROOT)}"
    assert meta.get("kernelspec") == KERNELSPEC, f"{path.name}: kernelspec {meta.get('kernelspec')}" + fix
    info = dict(meta.get("language_info", {}))
    version = info.pop("version", "")
    assert info == LANGUAGE_INFO, f"{path.name}: language_info {info}" + fix
    # The exact patch version is the executing kernel's; JupyterLab rewrites it when it differs, so
    # nbclean stores the .venv's. Here: at least the Python that runtime.txt names.
    assert version.rsplit(".", 1)[0] == _runtime_python(), f"{path.name}: made with Python {version}" + fix


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_starts_with_the_run_all_cell_hidden_in_the_book(path):
    first = _load(path)["cells"][0]
    assert first["cell_type"] == "markdown", f"{path.name}: first cell is {first['cell_type']}"
    assert _source(first).strip() == FIRST_CELL, f"{path.name}: first cell is not the agreed one (TEAM.md)"
    assert "remove-cell" in first.get("metadata", {}).get("tags", []), f"{path.name}: first cell not tagged remove-cell"


def test_runtime_python_is_one_the_book_runs_on():
    # The .venv the tests run in is the book's environment: its Python is the one runtime.txt names.
    assert platform.python_version().rsplit(".", 1)[0] == _runtime_python()


# ------------------------------------------------------------------ book_ext/nbclean.py itself

@pytest.fixture(scope="module")
def nbformat():
    """nbformat, imported by the tests that use it, without jsonschema's IRI grammar: jsonschema's
    import builds rfc3987_syntax's grammar (~2 CPU-s) for format checks nbformat never makes
    (tests/lab/no_iri_grammar.py), and every pytest-xdist worker would pay it at collection if
    nbformat were imported above."""
    sys.modules.setdefault("rfc3987_syntax", None)
    import nbformat

    return nbformat


def _nbclean():
    spec = importlib.util.spec_from_file_location("nbclean", ROOT / "book_ext" / "nbclean.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dirty_notebook(nbformat):
    nb = nbformat.v4.new_notebook()
    nb.metadata = nbformat.from_dict({
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.0"},
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}},
        "toc-autonumbering": True,
    })
    title = nbformat.v4.new_markdown_cell("# A chapter")
    title.id = "title"
    code = nbformat.v4.new_code_cell("1 + 1", execution_count=1, outputs=[
        nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)])
    code.id = "code"
    code.metadata = nbformat.from_dict({"execution": {"iopub.status.busy": "2026-01-01T00:00:00Z"}, "tags": ["x"]})
    nb.cells = [title, code]
    return nb


def test_nbclean_fixes_everything_and_keeps_cells(nbformat):
    nbclean = _nbclean()
    nb = _dirty_notebook(nbformat)
    found = " | ".join(nbclean.problems(nb))
    for what in ("metadata.widgets", "kernelspec", "language_info.mimetype", "toc-autonumbering",
                 "1 cells store metadata.execution", "first cell"):
        assert what in found
    out = nbclean.clean(nb)
    assert nbclean.problems(out) == []
    assert out.metadata == {"kernelspec": KERNELSPEC,
                            "language_info": {**LANGUAGE_INFO, "version": platform.python_version()}}
    assert [c.id for c in out.cells[1:]] == ["title", "code"]
    assert out.cells[0].source == FIRST_CELL and out.cells[0].metadata.tags == ["remove-cell"]
    assert out.cells[2].outputs == nb.cells[1].outputs and out.cells[2].metadata == {"tags": ["x"]}
    nbformat.validate(out)
    assert nbclean.clean(out) == out  # idempotent


def test_nbclean_moves_an_existing_first_cell_and_tags_it(tmp_path, nbformat):
    nbclean = _nbclean()
    nb = _dirty_notebook(nbformat)
    hint = nbformat.v4.new_markdown_cell(FIRST_CELL + "\n")
    hint.id = "hint"
    nb.cells.append(hint)
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert nbclean.main(["--check", str(path)]) == 1
    assert nbclean.main([str(path)]) == 0
    assert nbclean.main(["--check", str(path)]) == 0
    out = nbformat.read(path, as_version=4)
    assert [c.id for c in out.cells] == ["hint", "title", "code"]
    assert out.cells[0].metadata.tags == ["remove-cell"]
    text = path.read_text(encoding="utf-8")
    assert nbclean.main([str(path)]) == 0 and path.read_text(encoding="utf-8") == text  # no rewrite
