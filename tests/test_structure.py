"""klbook's shape (ARCHITECTURE.md), measured from the source: two layers, no private borrowing,
no klbook import inside a function, no import cycle."""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path


PKG = Path(__file__).resolve().parents[1] / "klbook"


def _modname(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(modname: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = modname.split(".") if is_package else modname.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class _ImportFinder(ast.NodeVisitor):
    """Every klbook import of one module, noting whether it sits inside a function (at any depth).

    One pass over the tree; the depth counter replaces walking every function's subtree again."""

    def __init__(self, modname: str, is_pkg: bool) -> None:
        self.modname, self.is_pkg, self.depth = modname, is_pkg, 0
        self.found: list[tuple[str, str, list[str], bool]] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = _resolve(self.modname, self.is_pkg, node)
        if target == "klbook" or target.startswith("klbook."):
            self.found.append((self.modname, target, [a.name for a in node.names], self.depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.name.startswith("klbook"):
                self.found.append((self.modname, a.name, [], self.depth > 0))


@lru_cache(maxsize=None)
def _imports() -> tuple[tuple[str, str, list[str], bool], ...]:
    """(importer, imported module, names, inside_function) for every klbook import in klbook.

    Computed once per test process, when a test first asks (not at collection)."""
    out = []
    for path in sorted(PKG.rglob("*.py")):
        finder = _ImportFinder(_modname(path), path.name == "__init__.py")
        finder.visit(ast.parse(path.read_text()))
        out.extend(finder.found)
    return tuple(out)


def test_the_core_never_imports_a_companion():
    bad = [(a, b) for a, b, _, _ in _imports() if a.startswith("klbook.core") and b.startswith("klbook.book")]
    assert not bad


def test_no_private_name_crosses_modules():
    bad = [(a, b, n) for a, b, names, _ in _imports() for n in names if n.startswith("_") and b != a]
    assert not bad


def test_no_klbook_import_inside_a_function():
    bad = [(a, b) for a, b, _, inside in _imports() if inside]
    assert not bad


def test_no_import_cycle():
    mods = {_modname(p) for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for a, b, names, inside in _imports():
        targets = {f"{b}.{n}" for n in names if f"{b}.{n}" in mods} or ({b} if b in mods else set())
        # a package's __init__ importing its own submodules is not a cycle of ideas
        graph[a] |= {t for t in targets if not (a != "klbook" and t.startswith(a + ".") and a in targets)}
    graph.pop("klbook", None)
    for m in graph:
        graph[m].discard("klbook")
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, stack: list[str]) -> bool:
        state[m] = 1
        for t in sorted(graph.get(m, ())):
            if t.startswith(m + "."):  # package -> own submodule
                continue
            if state.get(t) == 1:
                cycle.extend(stack[stack.index(t):] + [t] if t in stack else [m, t])
                return True
            if state.get(t) is None and visit(t, stack + [t]):
                return True
        state[m] = 2
        return False

    for m in sorted(graph):
        if state.get(m) is None and visit(m, [m]):
            break
    assert not cycle, " -> ".join(cycle)


def test_the_import_finder_sees_imports_at_any_depth():
    # The checks above are only as good as the finder: imports in nested functions and methods
    # count as inside a function, a class body's does not.
    src = (
        "from klbook.core import base\n"
        "def f():\n"
        "    from klbook.core import engine\n"
        "    class C:\n"
        "        def g(self):\n"
        "            import klbook.core.alpha\n"
        "class D:\n"
        "    from klbook.core.divergences import kl_divergence\n"
        "async def h():\n"
        "    from .. import numeric\n"
    )
    finder = _ImportFinder("klbook.core.closed_forms.continuous", False)
    finder.visit(ast.parse(src))
    assert finder.found == [
        ("klbook.core.closed_forms.continuous", "klbook.core", ["base"], False),
        ("klbook.core.closed_forms.continuous", "klbook.core", ["engine"], True),
        ("klbook.core.closed_forms.continuous", "klbook.core.alpha", [], True),
        ("klbook.core.closed_forms.continuous", "klbook.core.divergences", ["kl_divergence"], False),
        ("klbook.core.closed_forms.continuous", "klbook.core", ["numeric"], True),
    ]
