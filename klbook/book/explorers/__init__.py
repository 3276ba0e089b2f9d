r"""Live explorers for the HTML book and for Jupyter.

An explorer is a figure with controls that keeps working in the rendered,
static HTML page, where no Python kernel runs. Python (klbook) computes
everything that does not depend on the controls and writes it into a JSON
spec; one small dependency-free script shipped with klbook recomputes the
rest in the reader's browser and redraws an inline SVG figure. The numbers
the page shows are tested against klbook (:func:`~klbook.book.explorers.spec.expected_values`).

One module per explorer, each a spec builder plus a JavaScript part
registered with the shared core:

* :mod:`~klbook.book.explorers.integrand` -- :func:`~klbook.book.explorers.integrand.integrand_explorer` (chapter 2);
* :mod:`~klbook.book.explorers.forward_reverse` -- :func:`~klbook.book.explorers.forward_reverse.forward_reverse_explorer` (chapter 4);
* :mod:`~klbook.book.explorers.bernoulli` -- :func:`~klbook.book.explorers.bernoulli.bernoulli_explorer` (chapter 3);
* :mod:`~klbook.book.explorers.estimators` -- :func:`~klbook.book.explorers.estimators.estimator_explorer` (chapter 5);
* :mod:`~klbook.book.explorers.alpha` -- :func:`~klbook.book.explorers.alpha.alpha_explorer` (chapter 6).

The shared pieces (the :class:`~klbook.book.explorers.spec.Explorer` object, :func:`~klbook.book.explorers.spec.page`, the script
:func:`~klbook.book.explorers.spec.core_js`, grids, sliders) are in :mod:`~klbook.book.explorers.spec`.
How to add an explorer: ``klbook/book/explorers/README.md``.
"""

from __future__ import annotations

from .spec import Explorer, core_css, core_js, expected_values, js_parts, p_from_spec, page, register_kind
from .integrand import integrand_explorer
from .forward_reverse import forward_reverse_explorer
from .alpha import alpha_explorer
from .bernoulli import bernoulli_explorer
from .estimators import estimator_explorer
from .policy import kl_regularised_explorer
from .student import distillation_explorer
from .mixture import mixture_bracket_explorer

__all__ = [
    "Explorer",
    "integrand_explorer",
    "forward_reverse_explorer",
    "alpha_explorer",
    "bernoulli_explorer",
    "estimator_explorer",
    "kl_regularised_explorer",
    "distillation_explorer",
    "mixture_bracket_explorer",
    "page",
    "expected_values",
    "p_from_spec",
    "core_js",
    "core_css",
    "js_parts",
    "register_kind",
]
