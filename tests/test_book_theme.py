"""The book's theme layer: book_ext/klbook_html.py (dark figure renderings, figure links) and
klbook.book.plotting's figure style. References are hand-picked colours and the WCAG formula."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book_ext"))
import klbook_html  # noqa: E402

from klbook.book import plotting  # noqa: E402


def _luminance(rgb) -> float:
    c = np.asarray(rgb, float) / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def _contrast(a, b) -> float:
    x, y = sorted([_luminance(a), _luminance(b)])
    return (y + 0.05) / (x + 0.05)


def _dark(*colours):
    return klbook_html.dark_rendering(np.array([colours], dtype=np.uint8))[0]


def test_white_becomes_the_dark_page_and_black_its_text():
    white, black = _dark((255, 255, 255), (0, 0, 0))
    assert np.abs(white.astype(int) - klbook_html.DARK_BACKGROUND).max() <= 1
    assert np.abs(black.astype(int) - klbook_html.DARK_TEXT).max() <= 1


@pytest.mark.parametrize("colour", [plotting.P_COLOR, plotting.Q_COLOR, plotting.POS_COLOR, plotting.NEG_COLOR])
def test_book_colours_keep_their_hue_and_read_on_the_dark_page(colour):
    rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    out = _dark(rgb)[0]
    assert _contrast(out, klbook_html.DARK_BACKGROUND) >= 4.5
    assert int(np.argmax(out)) == int(np.argmax(rgb))   # the dominant channel (hue family) stays


def test_a_colour_map_keeps_its_lightness_order():
    cmap = matplotlib.colormaps["viridis"]
    colours = (np.array([cmap(t)[:3] for t in np.linspace(0, 1, 9)]) * 255).round().astype(np.uint8)
    out = klbook_html.dark_rendering(colours[None])[0]
    lum = [_luminance(c) for c in out]
    assert all(a < b for a, b in zip(lum, lum[1:])), lum


def test_each_output_figure_gets_a_light_and_a_dark_image_each_linked_full_size():
    name = "ab" * 32
    body = f'<p><img alt="A figure &gt; 1" src="../_images/{name}.png" style="width: 825px;" /></p>'
    context = {"body": body}
    klbook_html._figures_in_both_modes(None, "chapters/x", "page.html", context, None)
    html = context["body"]
    assert html.count("<img") == 2 and html.count('alt="A figure &gt; 1"') == 2
    assert f'href="../_images/{name}.png"' in html and f'href="../_images/{name}-dark.png"' in html
    assert 'kl-figure-link kl-light' in html and 'kl-figure-link kl-dark' in html
    assert "only-dark" not in html   # the theme would hide a following <figcaption>
    figure = {"body": f'<figure><a class="reference internal image-reference" href="../_images/{name}.png">'
                      f'<img alt="x" src="../_images/{name}.png" /></a><figcaption>F</figcaption></figure>'}
    klbook_html._figures_in_both_modes(None, "chapters/x", "page.html", figure, None)
    assert "image-reference" not in figure["body"] and figure["body"].count("<a ") == 2   # no link in a link
    other = {"body": '<img alt="logo" src="../_static/logo.png" />'}
    klbook_html._figures_in_both_modes(None, "index", "page.html", other, None)
    assert other["body"] == '<img alt="logo" src="../_static/logo.png" />'


def test_book_style_and_typeset_labels():
    import matplotlib.pyplot as plt

    plotting.use_book_style()
    assert matplotlib.rcParams["figure.dpi"] == 110 and matplotlib.rcParams["savefig.dpi"] == 220
    assert plotting.kl_label("q", "p") == r"$D_{\mathrm{KL}}(q\,\Vert\,p)$"
    fig, ax = plt.subplots()
    ax.set_title(plotting.kl_label())
    fig.canvas.draw()   # mathtext parses the label (raises on a syntax error)
    plt.close(fig)


def test_the_bibliography_is_not_an_aria_list():
    context = {"body": '<div role="list" class="citation-list">\n<div class="citation" id="id3" role="doc-biblioentry">'
                       "<p>Kullback and Leibler (1951)</p></div></div>"}
    klbook_html._plain_citation_list(None, "chapters/references", "page.html", context, None)
    assert 'role="list"' not in context["body"] and "doc-biblioentry" not in context["body"]
    assert '<div class="citation-list">' in context["body"] and "Kullback and Leibler (1951)" in context["body"]
