"""Sphinx extension behind the book's API pages: the ``klbook-api`` and ``klbook-api-index`` directives.

The API reference is written from the code at build time (autodoc + autosummary), one page per
public module, so it grows with the package and cannot drift from it. ``chapters/api.md`` is the
quick start by task and ends with the index of modules; each module has its page
``chapters/api/<slug>.md`` holding one directive::

    ```{klbook-api}
    :module: klbook.core.divergences
    ```

What a module's page documents, each object exactly once in the whole reference:

* the module docstring;
* the names in the module's ``__all__`` (its public API; anything else is internal and is not
  documented), except those re-exported by ``klbook`` itself, which are documented here under
  their short public name ``klbook.X`` (a reference to ``klbook.core.fitting.fit_gaussian``
  resolves to ``klbook.fit_gaussian`` through an alias).

The pages themselves are generated: ``python book_ext/klbook_api.py chapters/api`` writes one for
every public module with a non-empty ``__all__`` (and removes stale ones); a unit test checks that
the committed pages are exactly those. The index directive links every module page, so a module
without a page fails the build (``-W``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import typing
from pathlib import Path
from types import ModuleType

from docutils.parsers.rst import directives
from docutils.utils import new_document
from myst_parser.mocking import MockRSTParser
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)
PACKAGE = "klbook"


def _is_public(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split("."))


def _documentable(obj: object) -> bool:
    return inspect.isclass(obj) or inspect.isroutine(obj)


def public_modules(package_name: str = PACKAGE) -> dict[str, ModuleType]:
    """The package and its public submodules, imported (an import error is a build error)."""
    package = importlib.import_module(package_name)
    modules = {package_name: package}
    for info in pkgutil.walk_packages(package.__path__, package_name + "."):
        if _is_public(info.name):
            modules[info.name] = importlib.import_module(info.name)
    return modules


def documented_modules(package_name: str = PACKAGE) -> list[str]:
    """The modules that get a page: every public module but the package itself, in layer order."""
    mods = public_modules(package_name)
    names = [n for n in mods if n != package_name]
    layer = {f"{package_name}.core": 0, f"{package_name}.book": 1}
    return sorted(names, key=lambda n: (layer.get(".".join(n.split(".")[:2]), 2), n))


def slug(modname: str, package_name: str = PACKAGE) -> str:
    """The page name of a module: ``klbook.core.divergences`` -> ``core-divergences``."""
    return modname[len(package_name) + 1:].replace(".", "-").replace("_", "-")


def _home(obj: object, modules: dict[str, ModuleType], package_name: str) -> str:
    """The public module whose page documents ``obj``."""
    name = getattr(obj, "__module__", None) or package_name
    while name not in modules and "." in name:  # defined in a private module
        name = name.rsplit(".", 1)[0]
    return name if name in modules else package_name


def module_entries(package_name: str = PACKAGE) -> dict[str, list[str]]:
    """Module -> the dotted names its page documents (top-level ``klbook.X`` names first)."""
    package = importlib.import_module(package_name)
    modules = public_modules(package_name)
    entries: dict[str, list[str]] = {name: [] for name in modules}
    seen: set[int] = set()
    for name in getattr(package, "__all__", ()):
        obj = getattr(package, name)
        if isinstance(obj, ModuleType) or id(obj) in seen:
            continue
        seen.add(id(obj))
        entries[_home(obj, modules, package_name)].append(f"{package_name}.{name}")
    for modname in documented_modules(package_name):
        module = modules[modname]
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if obj is None or isinstance(obj, ModuleType):
                continue
            if _documentable(obj):
                if id(obj) in seen:
                    continue
                seen.add(id(obj))
            elif f"{package_name}.{name}" in entries[modname]:
                continue
            entries[modname].append(f"{modname}.{name}")
    # A class that a documented function or method returns is public too, wherever it is defined.
    for names in list(entries.values()):
        for dotted in list(names):
            prefix, attr = dotted.rsplit(".", 1)
            for cls in _returned_classes(getattr(importlib.import_module(prefix), attr), package_name):
                if id(cls) not in seen:
                    seen.add(id(cls))
                    home = _home(cls, modules, package_name)
                    entries[home].append(f"{home}.{cls.__name__}")
    return entries


def _returned_classes(obj: object, package_name: str) -> list[type]:
    """The classes of ``package_name`` named by the return annotation of ``obj`` (or of its methods)."""
    routines = [obj] if inspect.isroutine(obj) else []
    if inspect.isclass(obj):
        routines = [m for n, m in vars(obj).items() if not n.startswith("_") and inspect.isroutine(m)]
    found = []
    for routine in routines:
        try:
            hint = typing.get_type_hints(routine).get("return")
        except Exception:  # an annotation only a type checker can resolve
            continue
        for cls in [hint, *typing.get_args(hint)]:
            if (inspect.isclass(cls) and getattr(cls, "__module__", "").startswith(package_name + ".")
                    and not cls.__name__.startswith("_")):
                found.append(cls)
    return found


def _directive_for(obj: object) -> str:
    if inspect.isclass(obj):
        return "autoexception" if issubclass(obj, BaseException) else "autoclass"
    if inspect.isroutine(obj):
        return "autofunction"
    return "autodata"


def module_rst(modname: str, package_name: str = PACKAGE) -> tuple[str, list[str], dict[str, str]]:
    """The reST of one module's page, the source files it reads, and aliases of its objects."""
    modules = public_modules(package_name)
    names = module_entries(package_name)[modname]
    lines = [f".. automodule:: {modname}", ""]
    for prefix in dict.fromkeys(n.rsplit(".", 1)[0] for n in names):  # one summary table per prefix
        lines += [f".. currentmodule:: {prefix}", "", ".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   {n.rsplit('.', 1)[1]}" for n in names if n.rsplit(".", 1)[0] == prefix]
        lines.append("")
    aliases: dict[str, str] = {}
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
    module = modules[modname]
    files = [module.__file__] if getattr(module, "__file__", None) else []
    files += [importlib.import_module(n.rsplit(".", 1)[0]).__file__ for n in names]
    return "\n".join(lines), sorted(set(files)), aliases


def _first_line(module: ModuleType) -> str:
    doc = inspect.getdoc(module) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


# Page titles, as a reader looks for them; a module missing here is titled by its own name.
TITLES = {
    "core": "The library core",
    "core.divergences": "KL, entropy and cross-entropy",
    "core.closed_forms": "The closed-form registry",
    "core.closed_forms.continuous": "Closed forms: continuous families",
    "core.closed_forms.discrete": "Closed forms: discrete families",
    "core.closed_forms.multivariate": "Closed forms: multivariate normal",
    "core.numeric": "The numerical fallback",
    "core.engine": "The pairwise engine",
    "core.alpha": "Related divergences",
    "core.family": "Related divergences",
    "core.estimators": "Monte Carlo estimators",
    "core.samples": "KL from samples",
    "core.mixtures": "Gaussian mixtures",
    "core.fitting": "Fitting q by KL",
    "core.base": "Distribution objects",
    "book": "The book's companions",
    "book.forms": "The written forms of KL",
    "book.integrand": "The integrand and its signed areas",
    "book.properties": "The properties, as numbers",
    "book.learning": "Learning with KL",
    "book.variational": "Variational inference",
    "book.ml": "KL in modern machine learning",
    "book.plotting": "Plotting",
    "book.explorers": "Live explorers",
    "book.widgets": "ipywidgets explorers",
}


def page_title(modname: str, package_name: str = PACKAGE) -> str:
    key = modname[len(package_name) + 1:]
    return TITLES.get(key, key.rsplit(".", 1)[-1].replace("_", " ").capitalize())


def page_text(modname: str, package_name: str = PACKAGE) -> str:
    """The Markdown source of a module's page."""
    return (f"# {page_title(modname, package_name)}\n\n"
            "<!-- Generated by `python book_ext/klbook_api.py chapters/api`: do not edit. -->\n\n"
            f"Module `{modname}`.\n\n"
            f"```{{klbook-api}}\n:module: {modname}\n```\n")


def write_pages(outdir: Path, package_name: str = PACKAGE) -> list[Path]:
    """Write one page per documented module into ``outdir``; remove pages of modules that are gone."""
    outdir.mkdir(parents=True, exist_ok=True)
    wanted = {outdir / f"{slug(m, package_name)}.md": page_text(m, package_name) for m in documented_modules(package_name)}
    for old in outdir.glob("*.md"):
        if old not in wanted:
            old.unlink()
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return sorted(wanted)


# ----------------------------------------------------------------------------- Sphinx side
def _parse(directive: SphinxDirective, text: str) -> list:
    # Parse generated reST in a document of its own, as MyST's {eval-rst} does: this works
    # from a Markdown page and allows section titles.
    document = directive.state.document
    newdoc = new_document(document["source"], document.settings)
    newdoc.reporter = document.reporter
    MockRSTParser().parse(text, newdoc)
    for node in newdoc:
        if node["names"]:
            document.note_explicit_target(node, node)
    return list(newdoc.children)


class KlbookApi(SphinxDirective):
    """``{klbook-api}`` with ``:module: NAME``: the reference of one module, from its code."""

    has_content = False
    option_spec = {"module": directives.unchanged_required}

    def run(self) -> list:
        modname = self.options.get("module", "").strip()
        try:
            text, files, aliases = module_rst(modname)
        except Exception as exc:  # an import error in the package is a build error
            logger.warning("klbook-api: cannot document %r: %s: %s", modname, type(exc).__name__, exc,
                           location=self.get_location())
            return []
        for path in files:
            self.env.note_dependency(path)
        self.env.klbook_api_docnames = getattr(self.env, "klbook_api_docnames", set()) | {self.env.docname}
        result = _parse(self, text)
        domain = self.env.get_domain("py")
        documented = {n: e for n, e in domain.objects.items() if e.docname == self.env.docname}
        for other, target in aliases.items():  # `other` (and `other.member`) resolve to `target`
            for name, entry in documented.items():
                if name == target or name.startswith(target + "."):
                    alias = other + name[len(target):]
                    if alias not in domain.objects:
                        domain.note_object(alias, entry.objtype, entry.node_id, aliased=True)
        return result


class KlbookApiIndex(SphinxDirective):
    """``{klbook-api-index}``: a table of every documented module, by layer, linking its page."""

    has_content = False

    def run(self) -> list:
        mods = public_modules()
        self.env.klbook_api_docnames = getattr(self.env, "klbook_api_docnames", set()) | {self.env.docname}
        rows = []
        for modname in documented_modules():
            layer = {"core": "core", "book": "book"}.get(modname.split(".")[1], "")
            summary = _first_line(mods[modname])
            rows.append(f"   * - {layer}\n     - :doc:`{page_title(modname)} <api/{slug(modname)}>`"
                        f" (``{modname}``)\n     - {summary}")
        text = (".. list-table::\n   :header-rows: 1\n   :widths: 10 35 55\n   :class: klbook-api-index\n\n"
                "   * - layer\n     - module\n     - what it holds\n" + "\n".join(rows) + "\n")
        return _parse(self, text)


def _always_reread(app, env, added, changed, removed):
    """Re-read the API pages on every build: a change in the code changes them."""
    return sorted(getattr(env, "klbook_api_docnames", set()) - set(removed))


def _purge(app, env, docname):
    getattr(env, "klbook_api_docnames", set()).discard(docname)


STATIC = Path(__file__).resolve().parent / "static"


def _config_inited(app, config):
    """Load the API pages' CSS (book_ext/static): long signatures wrap on a phone.

    (Not Sphinx's ``python_maximum_signature_line_length``: its one-parameter-per-line markup is a
    ``<dl>`` holding only ``<dd>``, which axe-core reports as a serious ``definition-list`` violation.)
    """
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def setup(app):
    app.connect("config-inited", _config_inited)
    app.add_css_file("klbook-api.css")
    app.add_directive("klbook-api", KlbookApi)
    app.add_directive("klbook-api-index", KlbookApiIndex)
    app.connect("env-get-outdated", _always_reread)
    app.connect("env-purge-doc", _purge)
    return {"version": "2.0", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":  # python book_ext/klbook_api.py chapters/api
    for p in write_pages(Path(sys.argv[1] if len(sys.argv) > 1 else "chapters/api")):
        print(p)
