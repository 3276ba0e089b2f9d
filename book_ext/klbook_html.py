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

The book's own theme layer, ``book_static/klbook.css`` and ``klbook.js``, is loaded on every
page (phone layout, scroll hints, search ranking and plain-text math in search results).

Figures in both colour schemes: every figure a notebook cell outputs (a PNG that myst-nb
names by its content hash) gets a dark rendering, ``<hash>-dark.png``, made from the light
one by :func:`dark_rendering` when the build finishes. The page shows the light one in light
mode and the dark one in dark mode (classes ``kl-light`` / ``kl-dark``, book_static/klbook.css), each
wrapped in a link to itself, so that a phone reader can open a multi-panel figure full size.

The site's root, ``index.html``: sphinx-external-toc writes it as one bare ``<meta>`` redirect to
the book's first page. A browser shown a page with no icon link asks the server for
``/favicon.ico``, which the book does not have: a visit to the root left a 404, or a request cut
short by the redirect. We write it as a small page with a title, the same redirect, a link to
follow by hand, and an empty inline icon (``data:,``), so that it asks for no icon at all: it is
shown for no time, and the book's first page brings the book's icon.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
from PIL import Image  # matplotlib's own dependency

WIDGET_STATE_TYPE = "application/vnd.jupyter.widget-state+json"

#: The version of :func:`dark_rendering`; a change regenerates every dark figure.
DARK_VERSION = "2"
_OUTPUT_IMG = re.compile(r'<img\b(?P<attrs>[^>]*?)\bsrc="(?P<src>[^"]*?_images/(?P<hash>[0-9a-f]{64})\.png)"(?P<rest>[^>]*)>')
# A figure directive wraps its image in a link to the image already: replace link and image.
_LINKED_IMG = re.compile(r'<a class="reference internal image-reference" href="[^"]*">\s*(?P<img><img\b[^>]*\bsrc="[^"]*?_images/[0-9a-f]{64}\.png"[^>]*>)\s*</a>')


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


def _with_class(attrs: str, cls: str) -> str:
    if re.search(r'\bclass="', attrs):
        return re.sub(r'\bclass="', f'class="{cls} ', attrs, count=1)
    return f' class="{cls}"{attrs}'


def _figure_pair(match: re.Match) -> str:
    attrs, src, rest = match["attrs"], match["src"], match["rest"].rstrip("/").rstrip()
    dark = src[: -len(".png")] + "-dark.png"
    # Not the theme's only-light / only-dark classes: the theme also hides a <figcaption> that
    # follows them. "dark-light" keeps the theme from dimming the image in dark mode.
    light_img = f'<img{_with_class(attrs, "dark-light")}src="{src}"{rest} />'
    dark_img = f'<img{_with_class(attrs, "dark-light")}src="{dark}"{rest} />'
    title = 'title="Open the figure full size"'
    return (f'<a class="kl-figure-link kl-light" href="{src}" {title}>{light_img}</a>'
            f'<a class="kl-figure-link kl-dark" href="{dark}" {title}>{dark_img}</a>')


def _plain_citation_list(app, pagename, templatename, context, doctree) -> None:
    """The bibliography without ARIA list roles: docutils marks it role="list" with
    role="doc-biblioentry" entries, and the page's scripts add focusable links inside it,
    which a list may not hold (axe: aria-required-children, critical). As plain blocks
    it reads the same."""
    body = context.get("body")
    if body and "citation-list" in body:
        body = body.replace('<div role="list" class="citation-list">', '<div class="citation-list">')
        context["body"] = body.replace(' role="doc-biblioentry"', "")


def _figures_in_both_modes(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if body and "_images/" in body:
        marker = "\0klbook-linked\0"
        body = _LINKED_IMG.sub(lambda m: marker + m["img"], body)   # unwrap: no link inside a link
        context["body"] = _OUTPUT_IMG.sub(_figure_pair, body).replace(marker, "")


# ---------------------------------------------------------------- dark renderings

# OKLab (Ottosson 2020): lightness L in [0, 1] and two opponent axes a, b.
_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                [0.2119034982, 0.6806995451, 0.1073969566],
                [0.0883024619, 0.2817188376, 0.6299787005]])
_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                [1.9779984951, -2.4285922050, 0.4505937099],
                [0.0259040371, 0.7827717662, -0.8086757660]])


def _to_oklab(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return np.cbrt(linear @ _M1.T) @ _M2.T


def _from_oklab(lab: np.ndarray) -> np.ndarray:
    linear = np.clip((lab @ np.linalg.inv(_M2).T) ** 3 @ np.linalg.inv(_M1).T, 0.0, 1.0)
    c = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(np.round(c * 255.0), 0, 255).astype(np.uint8)


#: The theme's dark page background and text (sphinx-book-theme's --pst-color-background
#: and --pst-color-text-base in dark mode).
DARK_BACKGROUND = (0x12, 0x12, 0x12)
DARK_TEXT = (0xCE, 0xD6, 0xDD)


def dark_rendering(rgb: np.ndarray) -> np.ndarray:
    """The dark-mode rendering of a light figure's pixels (uint8, shape (..., 3)).

    Greys swap ends: white becomes the dark page background and black the dark page's text,
    linearly in OKLab lightness. Colours keep their hue, chroma and lightness order, lifted into
    [0.42, 0.95] so that the book's p and q colours and a colour map stay readable on the dark
    background. Pixels in between (pale fills, anti-aliased edges) blend the two by chroma.
    """
    flat = rgb.reshape(-1, 3)
    packed = (flat[:, 0].astype(np.uint32) << 16) | (flat[:, 1].astype(np.uint32) << 8) | flat[:, 2]
    colours, inverse = np.unique(packed, return_inverse=True)
    unique_rgb = np.stack([(colours >> 16) & 255, (colours >> 8) & 255, colours & 255], axis=1).astype(float)
    lab = _to_oklab(unique_rgb)
    lightness, ab = lab[:, :1], lab[:, 1:]
    chroma = np.linalg.norm(ab, axis=1, keepdims=True)
    background, text = _to_oklab(np.array([DARK_BACKGROUND], float)), _to_oklab(np.array([DARK_TEXT], float))
    grey = background * lightness + text * (1.0 - lightness)
    grey[:, 1:] += ab
    colour = np.concatenate([0.42 + 0.53 * lightness, ab], axis=1)
    weight = np.clip(1.0 - chroma / 0.12, 0.0, 1.0)
    out = _from_oklab(weight * grey + (1.0 - weight) * colour)
    return out[inverse.reshape(-1)].reshape(rgb.shape)


def _write_dark_figures(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    images = Path(app.outdir) / "_images"
    if not images.is_dir():
        return
    stamp = images / f".klbook-dark-v{DARK_VERSION}"
    fresh = not stamp.exists()
    for light in sorted(images.glob("*.png")):
        if not re.fullmatch(r"[0-9a-f]{64}", light.stem):
            continue
        dark = light.with_name(f"{light.stem}-dark.png")
        if dark.exists() and not fresh and dark.stat().st_mtime >= light.stat().st_mtime:
            continue
        with Image.open(light) as im:
            im.load()
            info = {k: v for k, v in im.info.items() if k == "dpi"}
            rgba = np.asarray(im.convert("RGBA"))
        out = np.concatenate([dark_rendering(rgba[..., :3]), rgba[..., 3:]], axis=-1)
        Image.fromarray(out, "RGBA").save(dark, **info)
    stamp.touch()


_ROOT_REDIRECT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:,">
<meta http-equiv="Refresh" content="0; url={target}">
</head>
<body><p><a href="{target}">{title}</a></p></body>
</html>
"""


def _root_redirect(app, exception) -> None:
    """The site root as a small page that asks for no icon (see the module docstring)."""
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    target = html.escape(app.builder.get_target_uri(app.config.root_doc))
    page = _ROOT_REDIRECT.format(title=html.escape(app.config.html_title or app.config.project), target=target)
    Path(app.outdir, "index.html").write_text(page, encoding="utf8")


def setup(app):
    app.set_html_assets_policy("always")
    app.add_css_file("klbook.css")
    app.add_js_file("klbook.js")
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("html-page-context", _figures_in_both_modes, priority=900)
    app.connect("html-page-context", _plain_citation_list, priority=900)
    app.connect("build-finished", _write_dark_figures)
    app.connect("build-finished", _root_redirect, priority=900)   # after sphinx-external-toc writes its stub
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
