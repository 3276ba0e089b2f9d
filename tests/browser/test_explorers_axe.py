"""axe-core on a standalone page that holds one of every explorer kind (ARIA of the controls).

The book-wide page checks (``test_book_pages.py``) run axe on the built chapters; this test
runs it on the explorers alone, without a book build, so an ARIA mistake in an explorer's
JS part (a role that does not allow ``aria-valuetext``, a focusable handle inside an
``role="img"`` SVG, ...) fails here first. Every focusable SVG handle must be a slider
with value, bounds and a name, and must answer the arrow keys.
"""

from __future__ import annotations

import pytest
from scipy import stats

from klbook import GaussianMixture
from klbook.book.explorers import (alpha_explorer, bernoulli_explorer, estimator_explorer, forward_reverse_explorer,
                                   integrand_explorer, kl_regularised_explorer, mixture_bracket_explorer)
from klbook.book.explorers import page as explorer_page

BIMODAL = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])

# the ARIA rules (axe's wcag2a/aa set minus the slow colour-contrast rule: colours are checked elsewhere)
ARIA_RULES = ["aria-allowed-attr", "aria-allowed-role", "aria-required-attr", "aria-required-children",
              "aria-required-parent", "aria-roles", "aria-valid-attr", "aria-valid-attr-value",
              "aria-input-field-name", "aria-toggle-field-name", "aria-command-name", "aria-hidden-focus",
              "nested-interactive", "button-name", "label", "svg-img-alt", "role-img-alt", "duplicate-id-aria"]


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory, serve):
    d = tmp_path_factory.mktemp("explorers-axe")
    explorers = [
        integrand_explorer(stats.norm(0, 1), title="Integrand"),
        bernoulli_explorer(title="Two coins"),
        forward_reverse_explorer(BIMODAL, title="Forward vs reverse"),
        estimator_explorer(title="Estimators"),
        alpha_explorer(BIMODAL, alphas=[0.0, 0.5, 1.0], title="Alpha family"),
        mixture_bracket_explorer(BIMODAL, GaussianMixture([0.3, 0.7], [-1.0, 1.5], [1.0, 0.8]), component=0),
        kl_regularised_explorer([0.30, 0.25, 0.20, 0.12, 0.10, 0.03], [1.0, 0.7, 0.2, -0.5, -1.0, 2.0]),
    ]
    (d / "index.html").write_text(explorer_page(*explorers, title="every explorer"), encoding="utf-8")
    (d / "favicon.ico").write_bytes(b"")
    return serve(d)


@pytest.mark.parametrize("width", [1280, 390])
def test_no_aria_violations(every_kind, open_page, width):
    check = open_page(f"{every_kind}/index.html", viewport=(width, 900))
    page = check.page
    page.wait_for_function("() => document.querySelectorAll('.klbook-explorer.kx-mounted').length === 7")
    found = check.axe(ARIA_RULES)
    assert found == [], "\n".join(found)
    check.assert_clean()


def test_svg_handles_are_sliders_and_answer_keys(every_kind, open_page):
    check = open_page(f"{every_kind}/index.html")
    page = check.page
    page.wait_for_function("() => document.querySelectorAll('.klbook-explorer.kx-mounted').length === 7")
    handles = page.locator(".klbook-explorer svg [tabindex]")
    assert handles.count() >= 3   # bernoulli's point, forward_reverse's two bump handles
    for i in range(handles.count()):
        h = handles.nth(i)
        assert h.get_attribute("role") == "slider"
        for a in ("aria-valuenow", "aria-valuemin", "aria-valuemax", "aria-valuetext", "aria-label"):
            assert h.get_attribute(a), (i, a)
        svg = h.locator("xpath=ancestor::*[local-name()='svg'][1]")
        assert svg.get_attribute("role") == "group"   # an img's children are presentational
        before = h.get_attribute("aria-valuetext")
        h.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("([h, b]) => h.getAttribute('aria-valuetext') !== b", arg=[h.element_handle(), before])
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("([h, b]) => h.getAttribute('aria-valuetext') === b", arg=[h.element_handle(), before])
    check.assert_clean()


OVERLAPS_JS = """
() => {
  const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const out = [];
  document.querySelectorAll('.klbook-explorer svg').forEach(svg => {
    const frames = [...svg.querySelectorAll('rect.kx-frame')].map(r => r.getBoundingClientRect());
    svg.querySelectorAll('.kx-legend-row text').forEach(t => {
      const b = t.getBoundingClientRect();
      if (frames.some(f => hit(b, f))) out.push(t.textContent);
    });
  });
  return out;
}
"""


@pytest.mark.parametrize("width", [1280, 390])
def test_legend_rows_never_overlap_a_panel(every_kind, open_page, width):
    """A legend row (e.g. ch. 7's bracket / KL / approximation) wraps on a phone; it must stay off the panels."""
    check = open_page(f"{every_kind}/index.html", viewport=(width, 900))
    page = check.page
    page.wait_for_function("() => document.querySelectorAll('.klbook-explorer.kx-mounted').length === 7")
    assert page.locator(".kx-legend-row text").count() >= 3
    assert page.evaluate(OVERLAPS_JS) == []
