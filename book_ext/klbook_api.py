"""Sphinx extension behind the book's API page: the ``klbook-api`` directive.

The directive looks at the package itself at build time and writes the
reference from its docstrings (autodoc + autosummary), so the page grows with
the code and can never drift from it::

    ```{klbook-api}
    ```

What it documents, each object exactly once:

* the package docstring;
* every public module (no ``_`` in its dotted name), found by walking the
  package, as a section headed by its dotted name with its module docstring;
* in the section of the module that defines it, every public object:
  a name listed in ``klbook.__all__`` (or, without ``__all__``, any public
  class or function the package re-exports) is documented under its short
  public name ``klbook.X``; the other public objects of a module (its ``__all__``,
  and the classes and functions it defines without a leading ``_``) under
  ``klbook.module.X``.

Modules that host names of the ``klbook`` namespace come first, in the order of
``klbook.__all__``; the other modules follow alphabetically. The page is re-read
on every build, so a new module or function shows up without touching the page.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.utils import new_document
from myst_parser.mocking import MockRSTParser
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


def _is_public(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


def _documentable(obj: object) -> bool:
    return inspect.isclass(obj) or inspect.isroutine(obj)


def _walk_modules(package: ModuleType) -> list[ModuleType]:
    """The package and its public submodules, imported (an import error is a build error)."""
    modules = [package]
    prefix = package.__name__ + "."
    for info in pkgutil.walk_packages(package.__path__, prefix):
        if _is_public(info.name):
            modules.append(importlib.import_module(info.name))
    return modules


def _top_level_names(package: ModuleType) -> list[str]:
    names = getattr(package, "__all__", None)
    if names is None:
        names = [n for n in vars(package) if not n.startswith("_") and _documentable(getattr(package, n))]
    return list(names)


def _own_names(module: ModuleType) -> list[str]:
    """The module's ``__all__``, then any other public class or function it defines."""
    names = list(getattr(module, "__all__", ()))
    names += [
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and n not in names
        and _documentable(obj)
        and getattr(obj, "__module__", None) == module.__name__
    ]
    return names


def _directive_for(obj: object) -> str:
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    if inspect.isroutine(obj):
        return "autofunction"
    return "autodata"


def _home(obj: object, package: ModuleType, public_modules: dict[str, ModuleType]) -> str:
    """The public module whose section documents ``obj``."""
    name = getattr(obj, "__module__", None) or package.__name__
    while name not in public_modules and "." in name:  # defined in a private module
        name = name.rsplit(".", 1)[0]
    return name if name in public_modules else package.__name__


def api_rst(package_name: str) -> tuple[str, list[str], dict[str, str]]:
    """The reST of the API reference for ``package_name``, the source files it reads, and aliases.

    An object is documented once, under its public name (``klbook.fit_gaussian``); the
    aliases map its other names (``klbook.core.fitting.fit_gaussian``) to that one, so that
    a reference written either way resolves.
    """
    package = importlib.import_module(package_name)
    modules = {m.__name__: m for m in _walk_modules(package)}

    entries: dict[str, list[str]] = {name: [] for name in modules}  # module -> dotted names
    seen: set[int] = set()
    order: list[str] = []
    for name in _top_level_names(package):
        obj = getattr(package, name)
        if not _documentable(obj) and name not in getattr(package, "__all__", ()):
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        home = _home(obj, package, modules)
        entries[home].append(f"{package_name}.{name}")
        if home not in order:
            order.append(home)
    for modname in sorted(modules):
        module = modules[modname]
        for name in _own_names(module):
            obj = getattr(module, name, None)
            if obj is None or id(obj) in seen or isinstance(obj, ModuleType):
                continue
            seen.add(id(obj))
            entries[modname].append(f"{modname}.{name}")
    order += [m for m in sorted(modules) if m not in order and m != package_name]
    if package_name in order:  # names defined in the package itself or in private modules
        order.remove(package_name)
        order.insert(0, package_name)

    lines = [f".. automodule:: {package_name}", ""]
    aliases: dict[str, str] = {}  # other dotted names of a documented object -> its documented name
    for modname in order:
        title = "The top level" if modname == package_name else modname
        lines += [title, "-" * len(title), ""]
        if modname != package_name:
            lines += [f".. automodule:: {modname}", ""]
        names = entries[modname]
        for prefix in dict.fromkeys(n.rsplit(".", 1)[0] for n in names):  # one table per prefix
            lines += [f".. currentmodule:: {prefix}", "", ".. autosummary::", "   :nosignatures:", ""]
            lines += [f"   {n.rsplit('.', 1)[1]}" for n in names if n.rsplit(".", 1)[0] == prefix]
            lines.append("")
        for dotted in names:
            modpath, attr = dotted.rsplit(".", 1)
            obj = getattr(importlib.import_module(modpath), attr)
            directive = _directive_for(obj)
            lines.append(f".. {directive}:: {dotted}")
            if directive in ("autoclass", "autoexception"):
                lines += ["   :members:", "   :show-inheritance:"]
            lines.append("")
            for other in (f"{modname}.{attr}", f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"):
                if other != dotted and not other.startswith(".") and not other.endswith("."):
                    aliases[other] = dotted
    files = sorted({m.__file__ for m in modules.values() if getattr(m, "__file__", None)})
    return "\n".join(lines), files, aliases


class KlbookApi(SphinxDirective):
    """``{klbook-api}``: the API reference of a package (default ``klbook``), from its code."""

    has_content = False
    option_spec = {"package": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        package_name = self.options.get("package", "klbook")
        try:
            text, files, aliases = api_rst(package_name)
        except Exception as exc:  # an import error in the package is a build error
            logger.warning("klbook-api: cannot import %s: %s: %s", package_name, type(exc).__name__, exc,
                           location=self.get_location())
            return []
        for path in files:
            self.env.note_dependency(path)
        self.env.klbook_api_docnames = getattr(self.env, "klbook_api_docnames", set()) | {self.env.docname}
        # Parse the generated reST in a document of its own, as MyST's {eval-rst} does:
        # this works from a Markdown page and allows section titles.
        document = self.state.document
        newdoc = new_document(document["source"], document.settings)
        newdoc.reporter = document.reporter
        MockRSTParser().parse(text, newdoc)
        for node in newdoc:
            if node["names"]:
                document.note_explicit_target(node, node)
        self._note_aliases(aliases)
        return list(newdoc.children)

    def _note_aliases(self, aliases: dict[str, str]) -> None:
        """Make ``other`` (and ``other.member``) resolve to where ``documented`` is described."""
        domain = self.env.get_domain("py")
        documented = {n: e for n, e in domain.objects.items() if e.docname == self.env.docname}
        for other, target in aliases.items():
            for name, entry in documented.items():
                if name == target or name.startswith(target + "."):
                    alias = other + name[len(target):]
                    if alias not in domain.objects:
                        domain.note_object(alias, entry.objtype, entry.node_id, aliased=True)


def _always_reread(app, env, added, changed, removed):
    """Re-read the API page on every build: a new module changes it without touching it."""
    return sorted(getattr(env, "klbook_api_docnames", set()) - set(removed))


def _purge(app, env, docname):
    getattr(env, "klbook_api_docnames", set()).discard(docname)


def setup(app):
    app.add_directive("klbook-api", KlbookApi)
    app.connect("env-get-outdated", _always_reread)
    app.connect("env-purge-doc", _purge)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
