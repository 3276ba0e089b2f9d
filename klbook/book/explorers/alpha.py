r"""The alpha-family explorer (chapter 6): slide α, the best Gaussian moves from mass-covering to mode-seeking.

Spec builder :func:`~klbook.book.explorers.alpha.alpha_explorer`; its JavaScript part is ``alpha.js``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from scipy import stats

from ...core.alpha import alpha_divergence
from ...core.divergences import kl_divergence
from ...core.fitting import fit_gaussian
from .spec import (
    Q_TAIL_SDS,
    Explorer,
    covering_grid,
    density_fields,
    explorer_builder,
    p_from_spec,
    range_init,
    register_kind,
    require_mixture,
    round_location,
    round_spec,
    spec_head,
    view_grid,
)

__all__ = ["alpha_explorer"]


def _alpha_steps(alphas: Any) -> list[float]:
    if alphas is None:
        return [round(0.05 * k, 2) for k in range(21)]
    try:
        vals = [float(a) for a in alphas]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"alphas must be a sequence of real numbers, got {alphas!r}") from exc
    if len(vals) < 2:
        raise ValueError(f"alphas needs at least two values, got {vals}")
    if not all(math.isfinite(a) for a in vals):
        raise ValueError(f"alphas must be finite, got {vals}")
    if any(b <= a for a, b in zip(vals[:-1], vals[1:])):
        raise ValueError(f"alphas must be strictly increasing, got {vals}")
    return vals


def _best_fit(p: object, a: float | None, start: tuple[float, float]) -> Any:
    """The best alpha fit of order ``a`` (reverse KL if None): klbook's default and the one from
    ``start``; a tie (mirror-image optima) goes to ``start``'s."""
    kw: dict[str, Any] = {"direction": "reverse"} if a is None else {"direction": "alpha", "alpha": a}
    own = fit_gaussian(p, init=start, **kw)
    default = fit_gaussian(p, **kw)
    same = abs(own.mean - default.mean) < 1e-6 * default.std and abs(own.std - default.std) < 1e-6 * default.std
    tol = 1e-9 * max(1.0, abs(own.kl))
    return own if own.kl <= default.kl + tol and not same else default


@explorer_builder
def alpha_explorer(
    p: object,
    *,
    alphas: Sequence[float] | None = None,
    init_alpha: float | None = None,
    descending: bool = True,
    mode_init: Sequence[float] | None = None,
    title: str | None = None,
    p_label: str | None = None,
) -> Explorer:
    r"""Slide :math:`\alpha` and watch the best Gaussian fit move from mass-covering to mode-seeking.

    For every :math:`\alpha` in ``alphas``, :func:`klbook.fit_gaussian`
    (``direction="alpha"``, the best of the fits started from the forward
    and the reverse optimum and from ``mode_init``) gives the Gaussian
    :math:`q^*_\alpha` minimising Minka's alpha-divergence

    .. math::

        & D^{(\alpha)}(p\,\|\,q) = \frac{1}{\alpha(1-\alpha)} \int \bigl[\alpha p \\
        & \quad {} + (1-\alpha) q - p^{\alpha} q^{1-\alpha}\bigr]\,dx,

    which is :math:`D_{\mathrm{KL}}(p\,\|\,q)` (forward, mass-covering) at
    :math:`\alpha = 1` and :math:`D_{\mathrm{KL}}(q\,\|\,p)` (reverse,
    mode-seeking) at :math:`\alpha = 0`. The slider snaps to those
    :math:`\alpha`; the page draws p, :math:`q^*_\alpha` and the two ends of
    the family, and recomputes :math:`D^{(\alpha)}(p\,\|\,q^*_\alpha)` and both
    KL divergences of :math:`q^*_\alpha` live.

    Parameters
    ----------
    p : GaussianMixture or frozen scipy.stats.norm
        The fixed distribution.
    alphas : sequence of float, optional
        The slider's stops, strictly increasing; default 0, 0.05, ..., 1.
        Every fit costs a numerical optimisation (about 0.2 s each).
    init_alpha : float, optional
        The initial stop (the nearest one); default the middle one.
    descending : bool
        The slider runs from :math:`\alpha = 1` (left, mass-covering) to
        :math:`\alpha = 0` (right, mode-seeking), as the chapter reads; ``False``
        runs from 0 to 1.
    mode_init : (float, float), optional
        A start :math:`(\mu, \sigma)` for the mode-seeking fits. When two fits
        are equally good (a symmetric p has mirror-image optima) the one from
        here is shown, so that the page shows the mode a static figure does.
        Default: the heaviest component (the rightmost of equals).

    Raises
    ------
    TypeError
        If p is not a Gaussian mixture or a normal distribution.
    ValueError
        If ``alphas`` is not a strictly increasing sequence of at least two
        finite numbers, or a fit's divergence is infinite.
    """
    who = "alpha_explorer"
    weights, means, stds = require_mixture(p, who)
    steps = _alpha_steps(alphas)
    if mode_init is None:
        k = max(range(len(weights)), key=lambda i: (weights[i], means[i]))
        start = (means[k], stds[k])
    else:
        start = range_init(mode_init, (0.0, 1.0))
    fits = []
    for a in steps:
        f = _best_fit(p, a, start)
        if not (math.isfinite(f.kl) and math.isfinite(f.mean) and math.isfinite(f.std)):
            raise ValueError(f"{who}: the alpha-divergence fit at alpha={a} is not finite ({f!r})")
        fits.append({"alpha": a, "mean": round_location(f.mean, f.std), "std": round_spec(f.std), "kl": round_spec(f.kl)})
    fwd = fit_gaussian(p, direction="forward")
    rev = _best_fit(p, None, start)
    if descending:
        fits = fits[::-1]
    order = [f["alpha"] for f in fits]
    if init_alpha is None:
        index = len(order) // 2
    else:
        index = min(range(len(order)), key=lambda k: abs(order[k] - float(init_alpha)))

    s_min = min(min(stds), min(f["std"] for f in fits), rev.std)
    s_max = max(max(stds), max(f["std"] for f in fits), fwd.std)
    m_lo = min([f["mean"] for f in fits] + list(means))
    m_hi = max([f["mean"] for f in fits] + list(means))
    probes = [(f["mean"], f["std"]) for f in fits]
    q_span = (m_lo - Q_TAIL_SDS * s_max, m_hi + Q_TAIL_SDS * s_max)
    quad = covering_grid(p, list(zip(means, stds)), s_min, probes, q_span)
    v_lo = min(m_lo - 3.5 * s_min, min(m - 3.5 * s for m, s in zip(means, stds)), fwd.mean - 3 * fwd.std)
    v_hi = max(m_hi + 3.5 * s_min, max(m + 3.5 * s for m, s in zip(means, stds)), fwd.mean + 3 * fwd.std)
    control = {
        "param": "index",
        "label": "Order α (left α = 1, right α = 0)" if descending else "Order α (left α = 0, right α = 1)",
        "symbol": "α",
        "min": 0,
        "max": len(steps) - 1,
        "step": 1,
        "value": index,
        "digits": 2,
    }
    figure_label = (
        "Density of p, the Gaussian that minimises the alpha-divergence for the chosen α, "
        "and the forward-KL (α = 1) and reverse-KL (α = 0) fits for reference."
    )
    spec = {
        **spec_head("alpha", title, figure_label),
        **density_fields(p, p_label, "best q for this α", quad, view_grid(v_lo, v_hi, p, False)),
        "controls": [control],
        "fits": fits,
        "reference_fits": {
            "forward": {"mean": round_location(fwd.mean, fwd.std), "std": round_spec(fwd.std)},
            "reverse": {"mean": round_location(rev.mean, rev.std), "std": round_spec(rev.std)},
        },
        "reference_labels": {"forward": "forward-KL fit (α = 1)", "reverse": "reverse-KL fit (α = 0)"},
        "readouts": [
            {"quantity": "mean", "label": "best q: mean μ", "unit": "", "format": "fixed"},
            {"quantity": "scale", "label": "best q: standard deviation σ", "unit": "", "format": "fixed"},
            {"quantity": "alpha_divergence", "label": "alpha-divergence D⁽ᵅ⁾(p ‖ q)", "unit": "nats"},
            {"quantity": "forward", "label": "KL(p ‖ q)", "unit": "nats"},
            {"quantity": "reverse", "label": "KL(q ‖ p)", "unit": "nats"},
        ],
        "note": "α = 1 is forward KL (q covers all of p); α = 0 is reverse KL (q locks onto one mode).",
    }
    return Explorer(spec)


def _expected(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """What the page shows at the slider's stop ``index``, by klbook."""
    p = p_from_spec(spec)
    fit = spec["fits"][int(state["index"])]
    q = stats.norm(fit["mean"], fit["std"])
    return {
        "alpha_divergence": float(alpha_divergence(p, q, fit["alpha"])),
        "forward": float(kl_divergence(p, q)),
        "reverse": float(kl_divergence(q, p)),
        "mean": float(fit["mean"]),
        "scale": float(fit["std"]),
    }


register_kind("alpha", _expected)
