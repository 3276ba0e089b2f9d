r"""The Bernoulli asymmetry explorer (chapter 3): drag a pair of coins, watch both KLs, TV and the bounds.

Spec builder :func:`bernoulli_explorer`; its JavaScript part is ``bernoulli.js``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ...core.divergences import kl_divergence
from ..properties import bernoulli_asymmetry_grid, bretagnolle_huber_bound, pinsker_bound, total_variation
from .spec import Explorer, explorer_builder, number_pair, range_init, register_kind, round_spec, slider, spec_head

__all__ = ["bernoulli_explorer"]

#: Points per axis of the grid whose largest gap sets the colour scale (the static figure's grid).
MAP_POINTS = 199
#: Linear threshold (nats) of the symmetric-log colour scale, as in the static figure.
LINTHRESH = 0.01
#: Width of the linear part of that scale, in decades (matplotlib's ``linscale``).
LINSCALE = 0.6


@explorer_builder
def bernoulli_explorer(
    *,
    init: Sequence[float] = (0.5, 0.1),
    prob_range: Sequence[float] = (0.01, 0.99),
    title: str | None = None,
) -> Explorer:
    r"""Two coins p = Bern(a) and q = Bern(b): the asymmetry map with a draggable point (a, b).

    The map colours the gap

    .. math::

        G(a, b) &= D_{\mathrm{KL}}(\mathrm{Bern}(a)\,\|\,\mathrm{Bern}(b)) \\
                &\quad {} - D_{\mathrm{KL}}(\mathrm{Bern}(b)\,\|\,\mathrm{Bern}(a))

    (red positive, blue negative, the symmetric-log scale and the colour bar of
    the static figure, :func:`klbook.book.properties.bernoulli_asymmetry_grid`).
    The reader drags the point (or uses the sliders, or the arrow keys on the
    point); the page shows both divergences, their gap, the total variation
    :math:`\mathrm{TV} = |a - b|`, and the bounds it must obey for either
    direction :math:`D`: Pinsker's :math:`\sqrt{D/2}` and
    Bretagnolle-Huber's :math:`\sqrt{1 - e^{-D}}`. It also states the sign
    rule live: :math:`G > 0` exactly when :math:`|a - \tfrac12| < |b - \tfrac12|`
    (the first coin is the more uncertain one).

    Parameters
    ----------
    init : (float, float)
        The initial :math:`(a, b)`; default ``(0.5, 0.1)``, the chapter's example.
    prob_range : (float, float)
        Range of both sliders, inside :math:`(0, 1)`; default ``(0.01, 0.99)``.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If the range is not inside :math:`(0, 1)` or ``init`` is outside it.
    """
    lo, hi = number_pair(prob_range, "prob_range")
    if not (0.0 < lo < hi < 1.0):
        raise ValueError(f"prob_range must satisfy 0 < low < high < 1, got {prob_range!r}")
    a0, b0 = range_init(init, (0.5, 0.1))
    if not (lo <= a0 <= hi and lo <= b0 <= hi):
        raise ValueError(f"init must lie in prob_range {prob_range!r}, got {init!r}")
    grid = np.linspace(0.005, 0.995, MAP_POINTS)
    g_max = float(np.max(np.abs(bernoulli_asymmetry_grid(grid, grid))))
    a_c = slider("a", "First coin p = Bern(a)", "a", lo, hi, a0, digits=3)
    b_c = slider("b", "Second coin q = Bern(b)", "b", lo, hi, b0, digits=3)
    figure_label = (
        "Left: the gap KL(Bern(a) ‖ Bern(b)) − KL(Bern(b) ‖ Bern(a)) over b (across) and a (up), "
        "red where the first direction is larger, blue where the second is, white where they agree "
        "(on the diagonals a = b and a + b = 1); the ring is the current pair, drag it. Right: total "
        "variation and its upper bounds from either divergence."
    )
    spec = {
        **spec_head("bernoulli", title, figure_label),
        "map": {"g_max": round_spec(g_max), "linthresh": LINTHRESH, "linscale": LINSCALE, "n": 100,
                "ticks": [-1, -0.1, -0.01, 0, 0.01, 0.1, 1]},
        "controls": [a_c, b_c],
        "readouts": [
            {"quantity": "kl_pq", "label": "KL(p ‖ q)", "unit": "nats", "group": "kl"},
            {"quantity": "kl_qp", "label": "KL(q ‖ p)", "unit": "nats", "group": "kl"},
            {"quantity": "gap", "label": "gap KL(p ‖ q) − KL(q ‖ p)", "unit": "nats", "group": "kl"},
            {"quantity": "tv", "label": "TV(p, q) = |a − b|", "unit": "", "group": "tv"},
            {"quantity": "pinsker_pq", "label": "Pinsker √(KL(p ‖ q)/2)", "unit": "", "group": "tv"},
            {"quantity": "pinsker_qp", "label": "Pinsker √(KL(q ‖ p)/2)", "unit": "", "group": "tv"},
            {"quantity": "bh_pq", "label": "Bretagnolle–Huber √(1 − exp(−KL(p ‖ q)))", "unit": "", "group": "tv"},
            {"quantity": "bh_qp", "label": "Bretagnolle–Huber √(1 − exp(−KL(q ‖ p)))", "unit": "", "group": "tv"},
        ],
        "note": (
            "Sign rule: the gap is positive exactly when the first coin is the more uncertain one, "
            "|a − ½| < |b − ½|; it vanishes on a = b and on a + b = 1."
        ),
    }
    return Explorer(spec)


def _expected(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """What the page shows for ``state`` (``a``, ``b``), by klbook."""
    a, b = float(state["a"]), float(state["b"])
    p, q = [a, 1.0 - a], [b, 1.0 - b]
    kl_pq, kl_qp = float(kl_divergence(p, q)), float(kl_divergence(q, p))
    return {
        "kl_pq": kl_pq,
        "kl_qp": kl_qp,
        "gap": kl_pq - kl_qp,
        "tv": float(total_variation(p, q)),
        "pinsker_pq": float(pinsker_bound(kl_pq)),
        "pinsker_qp": float(pinsker_bound(kl_qp)),
        "bh_pq": float(bretagnolle_huber_bound(kl_pq)),
        "bh_qp": float(bretagnolle_huber_bound(kl_qp)),
    }


register_kind("bernoulli", _expected)


def sign_rule(a: float, b: float) -> int:
    """The sign of the gap the rule predicts: +1 if :math:`|a - 1/2| < |b - 1/2|`, -1 if greater, 0 if equal."""
    da, db = abs(a - 0.5), abs(b - 0.5)
    return 0 if math.isclose(da, db, abs_tol=1e-12) else (1 if da < db else -1)
