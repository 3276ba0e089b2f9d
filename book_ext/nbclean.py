"""Make chapter notebooks clean: what JupyterLab opens unmodified, with no stored widget state.

Run it on your notebook after executing it, before committing::

    .venv/bin/python book_ext/nbclean.py chapters/NN_name.ipynb      # rewrite in place
    .venv/bin/python book_ext/nbclean.py --check chapters/*.ipynb    # report only; exit 1 if not clean

What it does (outputs, sources and cell ids are never touched):

- drops ``metadata.widgets``: the ipywidgets state JupyterLab would restore, once the notebook
  is trusted, as frozen, disconnected widgets. The widget outputs keep their ``text/plain``
  fallback, which is what a reader without a kernel should see;
- sets ``metadata.kernelspec`` to exactly what JupyterLab writes when its kernel starts
  (ipykernel's ``python3`` kernel, display name ``Python 3 (ipykernel)``). With the old
  display name "Python 3", JupyterLab rewrote it on opening and every chapter opened "modified";
- sets ``metadata.language_info`` to what ipykernel reports (the Python version of the
  interpreter running this script, the book's ``.venv``), and drops any other top-level
  metadata key;
- drops the per-cell ``metadata.execution`` timestamps nbclient records (they change on every
  run and are no part of the notebook);
- makes sure the notebook starts with the agreed first cell (TEAM.md) tagged ``remove-cell``,
  which the HTML book hides: it is inserted if missing, moved to the top if elsewhere.

The file is written the way Jupyter writes it (nbformat: one-space indent, sorted keys,
UTF-8, final newline), so saving it from JupyterLab later gives no spurious diff.
"""

from __future__ import annotations

import argparse
import copy
import platform
import sys
import uuid
from pathlib import Path

import nbformat

FIRST_CELL = (
    "> **Running this notebook in Jupyter?** Choose *Run › Run All Cells* to bring the explorers "
    "and widgets to life. Outputs stored in the file are a snapshot; the live explorers need the "
    "code to run (or the notebook to be trusted)."
)
FIRST_CELL_TAG = "remove-cell"

# What JupyterLab puts in the notebook when ipykernel's python3 kernel starts: the kernelspec
# from kernel.json (share/jupyter/kernels/python3) and the kernel_info reply's language_info.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def language_info() -> dict:
    """ipykernel's ``language_info`` for the interpreter running this script."""
    return {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
        "version": platform.python_version(),
    }


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _is_first_cell(cell) -> bool:
    return cell.get("cell_type") == "markdown" and _source(cell).strip() == FIRST_CELL


def problems(nb) -> list[str]:
    """What is not clean in the notebook ``nb`` (a dict or NotebookNode); empty if clean."""
    found = []
    meta = nb.get("metadata", {})
    if "widgets" in meta:
        found.append("metadata.widgets: stored ipywidgets state")
    if meta.get("kernelspec") != KERNELSPEC:
        found.append(f"metadata.kernelspec is {meta.get('kernelspec')!r}, JupyterLab writes {KERNELSPEC!r}")
    info = meta.get("language_info", {})
    want = language_info()
    for key, value in want.items():
        if key == "version":
            continue
        if info.get(key) != value:
            found.append(f"metadata.language_info.{key} is {info.get(key)!r}, ipykernel reports {value!r}")
    extra = sorted(set(meta) - {"kernelspec", "language_info", "widgets"})
    if extra:
        found.append(f"metadata has keys {extra} that nothing uses")
    timed = sum("execution" in c.get("metadata", {}) for c in nb.get("cells", []))
    if timed:
        found.append(f"{timed} cells store metadata.execution timestamps")
    cells = nb.get("cells", [])
    if not cells or not _is_first_cell(cells[0]):
        found.append("the first cell is not the agreed 'Running this notebook in Jupyter?' cell")
    elif FIRST_CELL_TAG not in cells[0].get("metadata", {}).get("tags", []):
        found.append(f"the first cell is not tagged {FIRST_CELL_TAG}")
    return found


def clean(nb):
    """Return a clean copy of ``nb`` (a NotebookNode); see the module docstring."""
    nb = copy.deepcopy(nb)
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC), "language_info": language_info()})
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    first = [i for i, c in enumerate(nb.cells) if _is_first_cell(c)]
    if first:
        cell = nb.cells.pop(first[0])
        cell.source = FIRST_CELL
    else:
        cell = nbformat.v4.new_markdown_cell(FIRST_CELL)
        taken = {c.get("id") for c in nb.cells}
        new_id = uuid.uuid4().hex[:8]
        while new_id in taken:
            new_id = uuid.uuid4().hex[:8]
        cell.id = new_id
    tags = cell.metadata.setdefault("tags", [])
    if FIRST_CELL_TAG not in tags:
        tags.append(FIRST_CELL_TAG)
    nb.cells.insert(0, cell)
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="only report; exit 1 if a notebook is not clean")
    args = parser.parse_args(argv)
    status = 0
    for path in args.notebooks:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        if args.check:
            for problem in problems(nb):
                print(f"{path}: {problem}")
                status = 1
            continue
        cleaned = clean(nb)
        nbformat.validate(cleaned)
        out = nbformat.writes(cleaned) + "\n"
        if out != text:
            path.write_text(out, encoding="utf-8")
            print(f"{path}: cleaned")
        else:
            print(f"{path}: already clean")
    return status


if __name__ == "__main__":
    sys.exit(main())
