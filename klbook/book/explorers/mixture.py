r"""The mixture-bracket explorer (chapter 7): move a component of q, see the KL and its bracket.

Spec builder :func:`mixture_bracket_explorer`; its JavaScript part is ``mixture.js``. The page
recomputes, for every position of the component, the exact KL between two one-dimensional
Gaussian mixtures (composite 20-point Gauss-Legendre quadrature) and the closed-form bounds and
approximation of :func:`klbook.mixture_kl`; the tests check every number against that function.
"""

from __future__ import annotations

import numpy as np

from ...core.mixtures import GaussianMixture, mixture_kl
from .spec import Explorer, explorer_builder, range_arg, register_kind, round_spec, slider, spec_head

__all__ = ["mixture_bracket_explorer"]

#: Gauss-Legendre rule used by the page on every panel.
_GL = np.polynomial.legendre.leggauss(20)
#: Equal parts each panel between breakpoints is cut into by the page.
PANEL_PARTS = 8


def _check_mixture(m: object, name: str) -> GaussianMixture:
    if not isinstance(m, GaussianMixture) or not m.univariate:
        raise TypeError(f"{name} must be a one-dimensional klbook.GaussianMixture (weights, means, stds)")
    return m


def _q_at(spec: dict, mu: float) -> GaussianMixture:
    q = spec["q"]
    means = list(q["means"])
    means[spec["component"]] = float(mu)
    return GaussianMixture(q["weights"], means, q["stds"])


@explorer_builder
def mixture_bracket_explorer(
    p: GaussianMixture,
    q: GaussianMixture,
    *,
    component: int = 0,
    mean_range: tuple[float, float] | None = None,
    title: str | None = None,
) -> Explorer:
    r"""Two one-dimensional Gaussian mixtures; a slider moves the mean of one component of q.

    For every position the page shows :math:`D_{\mathrm{KL}}(p \Vert q)` (quadrature), the
    guaranteed bracket ``[lower, upper]`` of :func:`klbook.mixture_kl` (the best of zero and
    Durrieu, Thiran and Kelly's lower bound; the best of their upper bound and Hershey and Olsen's
    variational upper bound) and Hershey and Olsen's variational approximation, drawn on a line
    of nats under the two densities.

    Parameters
    ----------
    p, q : GaussianMixture
        One-dimensional mixtures (the ``(weights, means, stds)`` form).
    component : int
        The component of ``q`` whose mean the slider moves (default 0).
    mean_range : (float, float), optional
        The slider's range (default: the span of all means, widened by three of the largest
        standard deviation on each side).

    Raises
    ------
    TypeError
        If ``p`` or ``q`` is not a one-dimensional :class:`klbook.GaussianMixture`, or
        ``mean_range`` is not a pair of numbers.
    ValueError
        If ``component`` or ``mean_range`` is invalid.
    """
    p = _check_mixture(p, "p")
    q = _check_mixture(q, "q")
    if isinstance(component, bool) or not isinstance(component, int) or not 0 <= component < q.n_components:
        raise ValueError(f"component must be an int in [0, {q.n_components - 1}], got {component!r}")
    means = np.concatenate([p.means, q.means])
    spread = 3.0 * float(max(p.stds.max(), q.stds.max()))
    lo, hi = range_arg(mean_range, "mean_range") or (float(means.min()) - spread, float(means.max()) + spread)
    ctrl = slider("mu", f"Mean of component {component + 1} of q", "μ", lo, hi, float(q.means[component]))
    figure_label = (
        "Top: the densities of p (solid) and q (dashed). Bottom: a line of nats with the guaranteed "
        "bracket of the KL divergence (shaded), its exact value (a bar) and Hershey and Olsen's "
        "approximation (a diamond), for the position of q's component chosen with the slider."
    )
    spec = {
        **spec_head("mixture_bracket", title, figure_label),
        "p": {"weights": [round_spec(v) for v in p.weights], "means": [round_spec(v) for v in p.means],
              "stds": [round_spec(v) for v in p.stds]},
        "q": {"weights": [round_spec(v) for v in q.weights], "means": [round_spec(v) for v in q.means],
              "stds": [round_spec(v) for v in q.stds]},
        "component": component,
        "gl_nodes": [round_spec(v) for v in _GL[0]],
        "gl_weights": [round_spec(v) for v in _GL[1]],
        "panel_parts": PANEL_PARTS,
        "controls": [ctrl],
        "readouts": [
            {"quantity": "kl", "label": "KL(p ‖ q)", "unit": "nats", "digits": 4},
            {"quantity": "lower", "label": "guaranteed lower bound", "unit": "nats", "digits": 4},
            {"quantity": "upper", "label": "guaranteed upper bound", "unit": "nats", "digits": 4},
            {"quantity": "variational", "label": "Hershey–Olsen approximation", "unit": "nats", "digits": 4},
        ],
        "note": "Recomputed in the page with the formulas of klbook.mixture_kl; the tests compare every number.",
    }
    # view: where p and any position of q live; the nats axis: the largest upper bound on the slider
    wide = 4.0 * float(max(p.stds.max(), q.stds.max()))
    spec["view"] = {"lo": round_spec(min(float(means.min()), ctrl["min"]) - wide),
                    "hi": round_spec(max(float(means.max()), ctrl["max"]) + wide), "n": 401}
    return Explorer(spec)


def _expected(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """What the page shows for ``state`` (``mu``), by :func:`klbook.mixture_kl`."""
    p = GaussianMixture(spec["p"]["weights"], spec["p"]["means"], spec["p"]["stds"])
    r = mixture_kl(p, _q_at(spec, float(state["mu"])))
    return {"kl": r.value, "lower": r.lower, "upper": r.upper, "variational": r.variational}


register_kind("mixture_bracket", _expected)
