r"""Sphinx extension: small fixes to the HTML the book's theme and extensions produce.

MathJax on every page: Sphinx loads it only on pages whose body has math, but the
navigation of every page shows the chapter titles, and a title may hold math
("fitting a simple $q$ ..."). Without MathJax that math stays raw ``\(q\)``.

Sphinx 7.4 lists an inline script added after the builder starts twice: once as added
(``filename=None``) and once from the registry (``filename=''``). sphinx-thebe adds its
``const THEBE_JS_URL = ...`` that way, so every page threw "Identifier 'THEBE_JS_URL' has
already been declared". We drop the second copy of any identical script, page by page.

No widget state in the pages: when the build executes a notebook whose cells create
ipywidgets (the kernel-side explorers, shown as code with a note to run them in Binder),
myst-nb embeds the widgets' saved state as a script. Without a kernel that state can only
ever render as frozen controls, so we drop it; the live explorers are plain JavaScript.
"""

from __future__ import annotations

WIDGET_STATE_TYPE = "application/vnd.jupyter.widget-state+json"


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set = set()
    unique = []
    for js in scripts:
        filename = getattr(js, "filename", js) or ""
        attributes = getattr(js, "attributes", {})
        if attributes.get("type") == WIDGET_STATE_TYPE:
            continue
        key = (filename, tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.set_html_assets_policy("always")
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
