r"""The forward vs reverse explorer (chapter 4): a Gaussian q against a fixed p, both KLs live.

Spec builder :func:`~klbook.book.explorers.forward_reverse.forward_reverse_explorer`; its JavaScript part is ``forward_reverse.js``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from scipy import stats

from ...core.divergences import kl_divergence
from ...core.fitting import fit_gaussian
from .spec import (
    Explorer,
    GAUSS_TAIL_SDS,
    POINTS_PER_SD,
    Q_TAIL_SDS,
    SPEC_VERSION,
    check_title,
    fixed_number,
    p_from_spec,
    p_spec,
    range_arg,
    range_init,
    refined_trapezoid,
    register_kind,
    require_mixture,
    round_spec,
    slider,
    source_of,
    view_grid,
)

__all__ = ["forward_reverse_explorer"]


def _dedupe_fits(fits: list[Any], tol: float = 1e-4) -> list[Any]:
    out: list[Any] = []
    for f in fits:
        if all(abs(f.mean - g.mean) > tol * max(1.0, g.std) or abs(math.log(f.std / g.std)) > tol for g in out):
            out.append(f)
    return sorted(out, key=lambda f: f.mean)


def forward_reverse_explorer(
    p: object,
    *,
    mean_range: tuple[float, float] | None = None,
    scale_range: tuple[float, float] | None = None,
    init: tuple[float, float] | None = None,
    reverse_inits: Sequence[tuple[float, float]] | None = None,
    landscape: bool = True,
    live_fit: bool = True,
    title: str | None = None,
    p_label: str | None = None,
) -> Explorer:
    r"""Compare forward and reverse KL for a Gaussian q against a fixed (bimodal) p.

    Sliders move :math:`q = \mathcal{N}(\mu, \sigma^2)`: one for :math:`\mu`
    and one for :math:`\log\sigma`. The page draws p and q and shows, live,

    .. math::

        D_{\mathrm{KL}}(p\,\|\,q) = \int p\log\frac{p}{q}\,dx
        \quad\text{(forward)}, \qquad
        D_{\mathrm{KL}}(q\,\|\,p) = \int q\log\frac{q}{p}\,dx
        \quad\text{(reverse)}.

    Buttons jump to the optima that :func:`klbook.fit_gaussian` finds: the
    forward one (moment matching) and every distinct reverse one, started from
    each component of p.

    Beside the densities, two loss landscapes show both divergences over
    :math:`(\mu, \log\sigma)` (dark is low) with the optima marked and the
    current q as a ring; a click on them moves q. Two more buttons fit q live,
    in the reader's browser: gradient descent on the grid objective from the
    current q, its path drawn on the landscape. The descent uses the exact
    gradient of the grid sums,

    .. math::

        \frac{\partial}{\partial\mu} D_{\mathrm{KL}}(q\,\|\,p) =
        \sum_i w_i q_i \frac{z_i}{\sigma}\,(\log q_i - \log p_i + 1), \qquad
        \frac{\partial}{\partial\log\sigma} D_{\mathrm{KL}}(q\,\|\,p) =
        \sum_i w_i q_i (z_i^2 - 1)(\log q_i - \log p_i + 1),

    with :math:`z_i = (x_i - \mu)/\sigma` (and the forward ones likewise), so
    it lands on the optimum klbook reports from the same start.

    Parameters
    ----------
    p : GaussianMixture or frozen scipy.stats.norm
        The fixed distribution.
    mean_range : (float, float), optional
        Range of the :math:`\mu` slider; default p's mean :math:`\pm 2.5`
        standard deviations, widened to include every optimum.
    scale_range : (float, float), optional
        Range of :math:`\sigma` (the slider moves :math:`\log\sigma`); default
        from half the narrowest component's standard deviation to twice p's,
        widened to include every optimum.
    init : (float, float), optional
        Initial :math:`(\mu, \sigma)`; default the forward optimum's mean
        shifted by one standard deviation of the narrowest component, and
        that standard deviation.
    reverse_inits : sequence of (float, float), optional
        Starting points for the reverse fits; default each component's
        (mean, standard deviation).
    landscape : bool
        Draw the two loss landscapes (computed in the page at load).
    live_fit : bool
        Offer the two gradient-descent buttons.
    title, p_label : str, optional
        Heading, and legend entry for p.

    Returns
    -------
    Explorer

    Raises
    ------
    TypeError
        If p is not a Gaussian mixture or a normal distribution.
    ValueError
        If a range or ``init`` is invalid, or the ranges need more than
        ``MAX_NODES`` quadrature nodes.

    Notes
    -----
    Both integrals use the trapezoid rule on one uniform grid that covers p's
    components to 13 and every q the sliders reach to 10 standard deviations.
    Its step starts at a sixth of the narrowest standard deviation in play and
    is halved until the sums for probe Gaussians (the narrowest q at every
    component, between components and at the ends of the range) have converged.
    """
    who = "forward_reverse_explorer"
    title = check_title(title)
    weights, means, stds = require_mixture(p, who)
    fwd = fit_gaussian(p, direction="forward")
    if reverse_inits is None:
        reverse_inits = [(m, s) for w, m, s in zip(weights, means, stds) if w > 0]
    revs = _dedupe_fits([fit_gaussian(p, direction="reverse", init=tuple(i)) for i in reverse_inits])
    opt = [fwd] + revs
    mu_p, sd_p = fwd.mean, fwd.std
    m_lo, m_hi = range_arg(mean_range, "mean_range") or (mu_p - 2.5 * sd_p, mu_p + 2.5 * sd_p)
    s_lo, s_hi = range_arg(scale_range, "scale_range") or (0.5 * min(stds), 2 * sd_p)
    if s_lo <= 0:
        raise ValueError(f"scale_range must be > 0, got {scale_range!r}")
    if mean_range is None:
        m_lo, m_hi = min([m_lo] + [f.mean for f in opt]), max([m_hi] + [f.mean for f in opt])
    if scale_range is None:
        s_lo, s_hi = min([s_lo] + [f.std for f in opt]), max([s_hi] + [f.std for f in opt])
    init_pair = range_init(init, (mu_p + min(stds), min(stds)))
    mean_c = slider("mean", "Mean of q", "μ", m_lo, m_hi, init_pair[0])
    log_c = slider("log_scale", "Log-scale of q, log σ", "log σ", math.log(s_lo), math.log(s_hi), math.log(init_pair[1]))

    s_min = min(min(stds), math.exp(log_c["min"]))
    s_max = max(max(stds), math.exp(log_c["max"]))
    lo = min(mean_c["min"] - Q_TAIL_SDS * s_max, min(m - GAUSS_TAIL_SDS * s for m, s in zip(means, stds)))
    hi = max(mean_c["max"] + Q_TAIL_SDS * s_max, max(m + GAUSS_TAIL_SDS * s for m, s in zip(means, stds)))
    # probes: the narrowest q at each component, between neighbouring components and at the range's ends
    centres = sorted(set(means))
    spots = centres + [0.5 * (a + b) for a, b in zip(centres[:-1], centres[1:])] + [mean_c["min"], mean_c["max"]]
    probes = [(c, math.exp(log_c["min"])) for c in spots] + [(fwd.mean, math.exp(log_c["max"]))]
    quad = refined_trapezoid(p, lo, hi, s_min / POINTS_PER_SD, probes)

    v_lo = min(mean_c["min"], min(m - 3.5 * s for m, s in zip(means, stds)))
    v_hi = max(mean_c["max"], max(m + 3.5 * s for m, s in zip(means, stds)))

    def button(label: str, f: Any) -> dict:
        return {
            "label": f"{label}: μ = {fixed_number(f.mean)}, σ = {fixed_number(f.std)}",
            "state": {"mean": round_spec(f.mean), "log_scale": round_spec(math.log(f.std))},
            "direction": f.direction,
            "fit": {"mean": round_spec(f.mean), "std": round_spec(f.std), "kl": round_spec(f.kl)},
        }

    buttons = [button("Forward optimum", fwd)]
    for i, f in enumerate(revs):
        name = "Reverse optimum" if len(revs) == 1 else f"Reverse optimum {i + 1}"
        buttons.append(button(name, f))
    spec = {
        "version": SPEC_VERSION,
        "kind": "forward_reverse",
        "title": title,
        "figure_label": "Densities of the fixed distribution p and of the Gaussian q set by the sliders.",
        "p": p_spec(p, p_label),
        "q_label": "q = N(μ, σ²)",
        "source": source_of(p),
        "quad": quad,
        "view": view_grid(v_lo, v_hi, p, False),
        "controls": [mean_c, log_c],
        "buttons": buttons,
        "readouts": [
            {"quantity": "forward", "label": "forward KL(p ‖ q)", "unit": "nats"},
            {"quantity": "reverse", "label": "reverse KL(q ‖ p)", "unit": "nats"},
        ],
        "note": (
            "Forward KL is smallest when q covers all of p (moment matching); "
            "reverse KL is smallest when q sits inside one mode."
        ),
    }
    if landscape:
        spec["landscape"] = {
            "n_mean": 64,
            "n_log_scale": 40,
            "label": (
                "Loss landscapes over the mean μ (across) and log σ (up) of q: forward KL(p ‖ q) on the left, "
                "reverse KL(q ‖ p) on the right; dark is low. Crosses mark the optima klbook found, the ring "
                "is the current q. Click to move q there."
            ),
        }
    if live_fit:
        spec["descend"] = [
            {"direction": "forward", "label": "Fit live: descend forward KL from here"},
            {"direction": "reverse", "label": "Fit live: descend reverse KL from here"},
        ]
    return Explorer(spec)

def _expected(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """What the page shows for ``state``, by klbook: both KLs between p and q = N(mean, exp(log_scale)^2)."""
    p = p_from_spec(spec)
    q = stats.norm(state["mean"], math.exp(state["log_scale"]))
    return {"forward": float(kl_divergence(p, q)), "reverse": float(kl_divergence(q, p))}


register_kind("forward_reverse", _expected)
