r"""The forward vs reverse explorer (chapter 4): a Gaussian q against a fixed p, both KLs live.

Spec builder :func:`~klbook.book.explorers.forward_reverse.forward_reverse_explorer`; its JavaScript part is ``forward_reverse.js``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from scipy import stats

from ...core.divergences import kl_divergence
from ...core.fitting import fit_gaussian
from ...core.mixtures import GaussianMixture
from .spec import (
    Q_TAIL_SDS,
    Explorer,
    covering_grid,
    density_fields,
    explorer_builder,
    fixed_number,
    p_from_spec,
    range_arg,
    range_init,
    refined_trapezoid,
    register_kind,
    require_mixture,
    round_location,
    round_spec,
    slider,
    spec_head,
    view_grid,
)

__all__ = ["forward_reverse_explorer", "p_from_state"]


def _dedupe_fits(fits: list[Any], tol: float = 1e-4) -> list[Any]:
    out: list[Any] = []
    for f in fits:
        if all(abs(f.mean - g.mean) > tol * max(1.0, g.std) or abs(math.log(f.std / g.std)) > tol for g in out):
            out.append(f)
    return sorted(out, key=lambda f: f.mean)


#: Agreement of the step refinement for the hardest p the bump sliders can make (see refined_trapezoid):
#: every edited p is integrated to about this relative accuracy, the given p to STEP_AGREEMENT.
EDIT_AGREEMENT = 1e-11


def _bump_ranges(means: list[float], stds: list[float], frac: float, lo: float, hi: float) -> dict:
    """Slider ranges for editing p's bumps: locations in [lo, hi] (and every component's), widths from
    ``frac`` of the narrowest component (at least 0.3, in steps of 0.05, never above the narrowest),
    weights from 0.05 to 1 (normalised on the page).

    The narrowest width and the farthest locations set the quadrature step (narrow bumps far apart
    make log p nearly singular in the gap), so they are kept moderate.
    """
    w_lo = min(min(stds), max(0.3, math.floor(frac * min(stds) / 0.05) * 0.05))
    w_hi = max(2.0 * max(stds), 4.0 * w_lo)
    loc = slider("loc", "location", "m", min([lo] + list(means)), max([hi] + list(means)), means[0])
    width = slider("width", "width", "s", w_lo, w_hi, stds[0])
    width["min"] = max(width["min"], width["step"])
    return {
        "loc": {k: loc[k] for k in ("min", "max", "step")},
        "width": {k: width[k] for k in ("min", "max", "step")},
        "weight": {"min": 0.05, "max": 1.0, "step": 0.05},
    }


def nice_floor(x: float) -> float:
    """The 1-2-5 number nearest below ``x`` (> 0)."""
    mag = 10.0 ** math.floor(math.log10(x))
    for f in (5.0, 2.5, 2.0, 1.0):
        if f * mag <= x * (1 + 1e-12):
            return f * mag
    return mag  # pragma: no cover


@explorer_builder
def forward_reverse_explorer(
    p: object,
    *,
    mean_range: tuple[float, float] | None = None,
    scale_range: tuple[float, float] | None = None,
    init: tuple[float, float] | None = None,
    reverse_inits: Sequence[tuple[float, float]] | None = None,
    landscape: bool = True,
    live_fit: bool = True,
    editable: bool = True,
    seed: int = 7,
    title: str | None = None,
    p_label: str | None = None,
) -> Explorer:
    r"""Compare forward and reverse KL for a Gaussian q against a p the reader can reshape.

    Sliders move :math:`q = \mathcal{N}(\mu, \sigma^2)`: one for :math:`\mu`
    and one for :math:`\log\sigma`. The page draws p and q (on a density axis
    that stays fixed while q moves) and shows, live, the forward and the reverse divergence,

    .. math::

        D_{\mathrm{KL}}(p\,\|\,q) &= \int p\log\frac{p}{q}\,dx, \\
        D_{\mathrm{KL}}(q\,\|\,p) &= \int q\log\frac{q}{p}\,dx.

    **p is the reader's** (``editable``): each of its one to three bumps has
    sliders for location, width and weight (the weights are normalised), a
    handle on the plot that drags its location, and buttons add or remove a
    bump. Both divergences and both landscapes follow at once, while q stays.

    Beside the densities, two loss landscapes show both divergences over
    :math:`(\mu, \log\sigma)` with a colour bar, in the static figure's
    convention (reversed viridis, logarithmic: yellow is low). Local minima
    are marked: for the p given here those :func:`klbook.fit_gaussian` finds
    from every component, from the forward optimum (the centre one, when it is
    a minimum) and from ``reverse_inits``; for an edited p those the page finds
    by descent from the same kinds of starts. A click on a landscape moves q.
    **Fit live** descends the grid objective from the current q, animated for
    at least a second along its path with steps capped in
    :math:`(\mu, \log\sigma)`; the sliders follow. **Restart** descends the
    reverse KL from a random start (seeded), to show its different local
    optima. The descent uses the exact gradient of the grid sums,

    .. math::

        \frac{\partial}{\partial\mu} D_{\mathrm{KL}}(q\,\|\,p) &= \sum_i w_i q_i \frac{z_i}{\sigma}\,c_i, \\
        \frac{\partial D_{\mathrm{KL}}(q\,\|\,p)}{\partial\log\sigma} &= \sum_i w_i q_i (z_i^2 - 1)\,c_i,

    with :math:`z_i = (x_i - \mu)/\sigma` and :math:`c_i = \log q_i - \log p_i + 1`
    (and the forward ones likewise), so
    it lands on the optimum klbook reports from the same start.

    Parameters
    ----------
    p : GaussianMixture or frozen scipy.stats.norm
        The initial distribution (at most three components if ``editable``).
    mean_range : (float, float), optional
        Range of the :math:`\mu` slider (and of the bumps' locations); default
        p's mean :math:`\pm 2.5` standard deviations, widened to include every optimum.
    scale_range : (float, float), optional
        Range of :math:`\sigma` (the slider moves :math:`\log\sigma`); default
        from half the narrowest component's standard deviation to twice p's,
        widened to include every optimum.
    init : (float, float), optional
        Initial :math:`(\mu, \sigma)`; default the forward optimum's mean
        shifted by one standard deviation of the narrowest component, and
        that standard deviation.
    reverse_inits : sequence of (float, float), optional
        More starting points for the reverse fits (each component's
        (mean, standard deviation) and the forward optimum are always used).
    landscape : bool
        Draw the two loss landscapes.
    live_fit : bool
        Offer the fit and restart buttons.
    editable : bool
        Let the reader reshape p.
    seed : int
        Seed of the restarts' random starts.

    Raises
    ------
    TypeError
        If p is not a Gaussian mixture or a normal distribution.
    ValueError
        If a range or ``init`` is invalid, p has more than three components
        while ``editable``, or the ranges need more than ``MAX_NODES`` quadrature nodes.

    Notes
    -----
    Both integrals use the trapezoid rule on one uniform grid that covers
    every bump the sliders can make to 13 and every q the sliders reach to 10
    standard deviations. Its step starts at a sixth of the narrowest standard
    deviation in play and is halved until the sums for probe Gaussians (the
    narrowest q at every component, between components and at the ends of the
    range) have converged, for the given p and, if ``editable``, for the
    hardest p the sliders can make (the two narrowest bumps at the ends of the range).
    """
    who = "forward_reverse_explorer"
    weights, means, stds = require_mixture(p, who)
    if editable and len(weights) > 3:
        raise ValueError(f"{who}: an editable p has at most 3 components, got {len(weights)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    fwd = fit_gaussian(p, direction="forward")
    inits = [(m, s) for w, m, s in zip(weights, means, stds) if w > 0] + [(fwd.mean, fwd.std)]
    inits += [tuple(i) for i in (reverse_inits or [])]
    fits = [fit_gaussian(p, direction="reverse", init=tuple(i)) for i in inits]
    revs = _dedupe_fits([f for f in fits if f.is_minimum is not False])
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
    mean_c = slider("mean", "Mean of q, μ", "μ", m_lo, m_hi, init_pair[0])
    log_c = slider("log_scale", "Log-scale of q, log σ", "log σ", math.log(s_lo), math.log(s_hi), math.log(init_pair[1]))
    q_min, q_max = math.exp(log_c["min"]), math.exp(log_c["max"])

    q_lo = mean_c["min"] - Q_TAIL_SDS * q_max
    q_hi = mean_c["max"] + Q_TAIL_SDS * q_max

    def grid_for(tails: list[tuple[float, float]], s_min: float, hard: object, probes: list) -> dict:
        quad = covering_grid(p, tails, s_min, probes_for(list(means)), (q_lo, q_hi))
        if hard is not None:
            h0 = (quad["hi"] - quad["lo"]) / (quad["n"] - 1)
            q2 = refined_trapezoid(hard, quad["lo"], quad["hi"], h0, probes, agreement=EDIT_AGREEMENT)
            if q2["n"] > quad["n"]:
                quad = q2
        return quad

    def probes_for(ms: list[float]) -> list[tuple[float, float]]:
        centres = sorted(set(ms))
        spots = centres + [0.5 * (a + b) for a, b in zip(centres[:-1], centres[1:])] + [mean_c["min"], mean_c["max"]]
        return [(c, q_min) for c in spots] + [(fwd.mean, q_max)]

    comps = list(zip(means, stds))
    quad, ranges = None, None
    if editable:
        # the hardest p the sliders make: the two narrowest bumps, as far apart as they go. If its grid
        # would be too fine, the widths start at p's narrowest, then the locations stay between p's.
        tries = [(0.6, mu_p - 2 * sd_p, mu_p + 2 * sd_p), (1.0, mu_p - 2 * sd_p, mu_p + 2 * sd_p),
                 (1.0, min(means), max(means))]
        for frac, a, b in tries:
            r = _bump_ranges(means, stds, frac, a, b)
            ends = [r["loc"]["min"], r["loc"]["max"]]
            w_min, w_max = r["width"]["min"], r["width"]["max"]
            hard = GaussianMixture([0.5, 0.5], ends, [w_min, w_min]) if ends[1] > ends[0] else None
            try:
                quad = grid_for(comps + [(e, w_max) for e in ends], min(w_min, q_min), hard, probes_for(ends))
            except ValueError:
                continue
            ranges = r
            break
    if quad is None:
        quad = grid_for(comps, min(min(stds), q_min), None, [])

    v_lo = min(mean_c["min"], min(m - 3.5 * s for m, s in zip(means, stds)))
    v_hi = max(mean_c["max"], max(m + 3.5 * s for m, s in zip(means, stds)))

    def button(label: str, f: Any) -> dict:
        return {
            "label": f"{label}: μ = {fixed_number(f.mean)}, σ = {fixed_number(f.std)}",
            "state": {"mean": round_location(f.mean, f.std), "log_scale": round_spec(math.log(f.std))},
            "direction": f.direction,
            "fit": {"mean": round_location(f.mean, f.std), "std": round_spec(f.std), "kl": round_spec(f.kl)},
        }

    buttons = [button("Forward optimum", fwd)]
    for i, f in enumerate(revs):
        name = "Reverse optimum" if len(revs) == 1 else f"Reverse optimum {i + 1}"
        buttons.append(button(name, f))
    spec = {
        **spec_head("forward_reverse", title,
                    "Densities of p and of the Gaussian q set by the sliders, on a fixed density axis."),
        **density_fields(p, p_label, "q = N(μ, σ²)", quad, view_grid(v_lo, v_hi, p, False)),
        "controls": [mean_c, log_c],
        "buttons": buttons,
        "readouts": [
            {"quantity": "forward", "label": "forward KL(p ‖ q)", "unit": "nats", "format": "fixed"},
            {"quantity": "reverse", "label": "reverse KL(q ‖ p)", "unit": "nats", "format": "fixed"},
        ],
        "readouts_first": True,
        "note": (
            "Forward KL is smallest when q covers all of p (moment matching); "
            "reverse KL is smallest when q sits inside one mode, and it can have several local minima."
        ),
    }
    if ranges is not None:
        spec["editor"] = dict(ranges, max_bumps=3)
        spec["state"] = {"bumps": len(means)}
        for k, (w, m, sd) in enumerate(zip(weights, means, stds), 1):
            spec["state"].update({f"m{k}": round_spec(m), f"s{k}": round_spec(sd), f"w{k}": round_spec(w)})
        spec["p"]["label"] = p_label or "p (drag the handles)"
    if landscape:
        spec["landscape"] = {
            "n_mean": 44,
            "n_log_scale": 30,
            "vmax": 60.0,
            "label": (
                "Loss landscapes over the mean μ (across) and log σ (up) of q: forward KL(p ‖ q) on the left, "
                "reverse KL(q ‖ p) on the right, on a logarithmic colour scale where yellow is low and dark is "
                "high (as in the static figure). Crosses mark local minima, the ring is the current q, the "
                "white line the last live fit. Click to move q there."
            ),
        }
    if live_fit:
        spec["descend"] = [
            {"direction": "forward", "label": "Fit live: forward KL from here"},
            {"direction": "reverse", "label": "Fit live: reverse KL from here"},
        ]
        spec["restart"] = {"seed": seed, "label": "Restart reverse fit from a random q"}
    return Explorer(spec)


def p_from_state(spec: dict, state: dict) -> object:
    """The p an explorer shows in ``state``: the edited bumps (``bumps``, ``m1``, ``s1``, ``w1``, ...) if any."""
    if "bumps" not in state:
        return p_from_spec(spec)
    k = int(state["bumps"])
    w = [float(state[f"w{i}"]) for i in range(1, k + 1)]
    total = sum(w)
    return GaussianMixture([v / total for v in w], [float(state[f"m{i}"]) for i in range(1, k + 1)],
                           [float(state[f"s{i}"]) for i in range(1, k + 1)])


def _expected(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """What the page shows for ``state``, by klbook: both KLs between p and q = N(mean, exp(log_scale)^2)."""
    p = p_from_state(spec, state)
    q = stats.norm(state["mean"], math.exp(state["log_scale"]))
    return {"forward": float(kl_divergence(p, q)), "reverse": float(kl_divergence(q, p))}


register_kind("forward_reverse", _expected)
