"""klbook's shape (ARCHITECTURE.md), measured from the source: two layers, no private borrowing,
no klbook import inside a function, no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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


def _imports():
    """(importer, imported module, names, inside_function) for every klbook import in klbook."""
    out = []
    for path in sorted(PKG.rglob("*.py")):
        modname, is_pkg = _modname(path), path.name == "__init__.py"
        tree = ast.parse(path.read_text())
        funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        inner = {id(n) for f in funcs for n in ast.walk(f) if n is not f}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(modname, is_pkg, node)
                if target == "klbook" or target.startswith("klbook."):
                    names = [a.name for a in node.names]
                    out.append((modname, target, names, id(node) in inner))
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("klbook"):
                        out.append((modname, a.name, [], id(node) in inner))
    return out


IMPORTS = _imports()


def test_the_core_never_imports_a_companion():
    bad = [(a, b) for a, b, _, _ in IMPORTS if a.startswith("klbook.core") and b.startswith("klbook.book")]
    assert not bad


def test_no_private_name_crosses_modules():
    bad = [(a, b, n) for a, b, names, _ in IMPORTS for n in names if n.startswith("_") and b != a]
    assert not bad


def test_no_klbook_import_inside_a_function():
    bad = [(a, b) for a, b, _, inside in IMPORTS if inside]
    assert not bad


def test_no_import_cycle():
    mods = {_modname(p) for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for a, b, names, inside in IMPORTS:
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
