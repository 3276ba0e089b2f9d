r"""The integrand explorer (chapter 2): q = N(μ, σ²) moves, the integrand of KL(p ‖ q) follows.

Spec builder :func:`~klbook.book.explorers.integrand.integrand_explorer`; its JavaScript part is ``integrand.js``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ...core.divergences import cross_entropy, entropy, kl_divergence
from ..integrand import signed_areas
from .spec import (
    Explorer,
    check_univariate_continuous,
    covering_grid,
    de_nodes,
    density_fields,
    explorer_builder,
    mixture_params,
    p_from_spec,
    range_arg,
    range_init,
    register_kind,
    round_spec,
    slider,
    spec_head,
    view_grid,
)

__all__ = ["integrand_explorer"]

#: Points of the Gauss-Legendre rule used piecewise for the signed areas and TV.
GL_POINTS = 20


@explorer_builder
def integrand_explorer(
    p: object,
    *,
    mean_range: tuple[float, float] | None = None,
    scale_range: tuple[float, float] | None = None,
    init: tuple[float, float] | None = None,
    title: str | None = None,
    p_label: str | None = None,
) -> Explorer:
    r"""Explore the integrand of :math:`D_{\mathrm{KL}}(p\,\|\,q)` as q moves.

    p is fixed; :math:`q = \mathcal{N}(\mu, \sigma^2)` has sliders for
    :math:`\mu` and :math:`\sigma`. The page draws p and q, and below them the
    integrand :math:`p(x)\log\bigl(p(x)/q(x)\bigr)` with its positive and
    negative areas shaded in different colours, and shows live

    .. math::

        D_{\mathrm{KL}}(p\,\|\,q) &= \int p \log\frac{p}{q}\,dx \\
        &= H(p, q) - H(p),

    with :math:`H(p, q) = -\int p\log q\,dx` and :math:`H(p) = -\int p\log p\,dx`,
    all in nats. For a Gaussian-mixture p it also shows the positive and negative
    areas and the total variation :math:`\mathrm{TV}(p, q) = \int \max(p - q, 0)\,dx`
    (the floor of the negative area, :func:`klbook.book.integrand.signed_areas`), integrated
    piecewise between the crossings :math:`p = q`. The axes stay fixed while q moves; a
    button lets them follow the curves.

    Parameters
    ----------
    p : distribution
        A frozen univariate continuous ``scipy.stats`` distribution or a
        :class:`klbook.Distribution` (e.g. :class:`klbook.GaussianMixture`),
        with finite variance (otherwise :math:`D_{\mathrm{KL}}(p\,\|\,q)` is
        infinite for every Gaussian q). Its density should be smooth inside
        its support except possibly at the median.
    mean_range : (float, float), optional
        Range of the :math:`\mu` slider; default p's mean :math:`\pm 3` standard deviations.
    scale_range : (float, float), optional
        Range of the :math:`\sigma` slider, ``0 < low < high``; default
        0.2 to 3 times p's standard deviation.
    init : (float, float), optional
        Initial :math:`(\mu, \sigma)`; default p's mean plus one standard
        deviation, and p's standard deviation. Snapped to the sliders' steps.

    Raises
    ------
    TypeError
        If p is not a univariate continuous distribution, or an argument has the wrong type.
    ValueError
        If p's variance is not finite, or a range or ``init`` is invalid.

    Notes
    -----
    A Gaussian or Gaussian-mixture p is sent by its parameters and integrated
    with the trapezoid rule on a uniform grid reaching 13 standard deviations
    beyond every component. Its step starts at a sixth of the narrowest
    component's standard deviation and is halved until the sums have converged
    (the trapezoid rule converges exponentially for such integrands, at a rate
    set by how close :math:`\log p` comes to a singularity off the real line).
    Any other p is tabulated by ``p.logpdf`` on double-exponential nodes
    (tanh-sinh, exp-sinh), computed here, which converge exponentially even
    with endpoint singularities and algebraic tails. One limit: nodes next to a
    finite endpoint :math:`b \ne 0` are rounded to multiples of
    :math:`\mathrm{ulp}(b)`, so a density that is unbounded at such an
    endpoint (e.g. ``beta(a, 0.5)`` at 1) is integrated to about
    :math:`10^{-8}` only; at an endpoint 0 it is exact to rounding.
    """
    who = "integrand_explorer"
    check_univariate_continuous(p, who)
    mu_p = float(p.mean())  # type: ignore[attr-defined]
    var_p = float(p.var())  # type: ignore[attr-defined]
    if not (math.isfinite(mu_p) and math.isfinite(var_p) and var_p > 0):
        raise ValueError(
            f"{who}: p must have a finite mean and variance (got mean {mu_p}, variance {var_p}); "
            "otherwise KL(p || q) is infinite for every Gaussian q"
        )
    sd_p = math.sqrt(var_p)
    m_lo, m_hi = range_arg(mean_range, "mean_range") or (mu_p - 3 * sd_p, mu_p + 3 * sd_p)
    s_lo, s_hi = range_arg(scale_range, "scale_range") or (0.2 * sd_p, 3 * sd_p)
    if s_lo <= 0:
        raise ValueError(f"scale_range must be > 0, got {scale_range!r}")
    init_pair = range_init(init, (mu_p + sd_p, sd_p))
    mean_c = slider("mean", "Mean of q", "μ", m_lo, m_hi, init_pair[0])
    scale_c = slider("scale", "Scale of q", "σ", s_lo, s_hi, init_pair[1])
    if scale_c["min"] <= 0:
        scale_c["min"] = scale_c["step"]
        scale_c["value"] = max(scale_c["value"], scale_c["min"])

    mix = mixture_params(p)
    lo_s, hi_s = p.support()  # type: ignore[attr-defined]
    if mix is not None:
        _, ms, ss = mix
        quad = covering_grid(p, list(zip(ms, ss)), min(ss), [(init_pair[0], scale_c["min"])], reverse=False)
    else:
        x, w = de_nodes(p, float(lo_s), float(hi_s))
        with np.errstate(all="ignore"):
            x = np.array([round_spec(v) if math.isfinite(v) else v for v in x])
            w = np.array([round_spec(v) if math.isfinite(v) else v for v in w])
            lp = np.asarray(p.logpdf(x), dtype=float)  # type: ignore[attr-defined]
        keep = np.isfinite(x) & np.isfinite(w) & (w > 0) & np.isfinite(lp) & (x > lo_s) & (x < hi_s)
        x, w, lp = x[keep], w[keep], lp[keep]
        # drop nodes whose every term is below 1e-18 for every q the sliders reach
        reach = max(abs(mean_c["min"]), abs(mean_c["max"]))
        with np.errstate(all="ignore"):
            bound = w * np.exp(lp) * (1 + np.abs(lp) + ((np.abs(x) + reach) / scale_c["min"]) ** 2)
        keep = bound > 1e-18
        quad = {
            "rule": "nodes",
            "x": [float(v) for v in x[keep]],
            "w": [float(v) for v in w[keep]],
            "logp": [round_spec(v) for v in lp[keep]],
        }

    # drawing range: the bulk of p and every position of q's mean
    with np.errstate(all="ignore"):
        a, b = float(p.ppf(0.001)), float(p.ppf(0.999))  # type: ignore[attr-defined]
    a, b = min(a, mean_c["min"]), max(b, mean_c["max"])
    pad = 0.08 * (b - a)
    v_lo, v_hi = a - pad, b + pad
    figure_label = (
        "Top: densities of p and q. Bottom: the integrand p(x) log(p(x)/q(x)); "
        "its area above zero adds to KL(p ‖ q), its area below zero subtracts."
    )
    spec = {
        **spec_head("integrand", title, figure_label),
        **density_fields(p, p_label, "q = N(μ, σ²)", quad, view_grid(v_lo, v_hi, p, mix is None)),
        "controls": [mean_c, scale_c],
        "readouts": [
            {"quantity": "kl", "label": "KL(p ‖ q)", "unit": "nats", "format": "fixed"},
            {"quantity": "cross_entropy", "label": "cross-entropy H(p, q)", "unit": "nats", "format": "fixed"},
            {"quantity": "entropy", "label": "entropy H(p)", "unit": "nats", "format": "fixed"},
        ],
        "readouts_first": True,
        "note": "KL(p ‖ q) = H(p, q) − H(p): the total shaded area, positive minus negative.",
        "axes": {"fixed": True},
    }
    if mix is not None:
        # the signed areas and TV: integrated piecewise between the crossings p = q (found in the page),
        # with Gauss-Legendre rules, so the kinks of max(0, .) cost no accuracy
        gx, gw = np.polynomial.legendre.leggauss(GL_POINTS)
        spec["gl"] = {"x": [float(v) for v in gx], "w": [float(v) for v in gw], "piece": round_spec(min(mix[2]))}
        spec["readouts"] += [
            {"quantity": "positive", "label": "positive area (adds)", "unit": "nats", "format": "fixed"},
            {"quantity": "negative", "label": "negative area (subtracts)", "unit": "nats", "format": "fixed"},
            {"quantity": "total_variation", "label": "TV(p, q), the floor of the negative area: −TV", "unit": "",
             "format": "fixed"},
        ]
        spec["note"] = (
            "KL(p ‖ q) = H(p, q) − H(p) = positive area + negative area; the negative area never "
            "goes below −TV(p, q) ≥ −1."
        )
    return Explorer(spec)


def _expected(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """What the page shows for ``state``, by klbook: KL, cross-entropy and entropy against q = N(mean, scale^2)."""
    p = p_from_spec(spec)
    q = stats.norm(state["mean"], state["scale"])
    out = {
        "kl": float(kl_divergence(p, q)),
        "cross_entropy": float(cross_entropy(p, q)),
        "entropy": float(entropy(p)),
    }
    if "gl" in spec:
        areas = signed_areas(p, q)
        out.update(positive=float(areas.positive), negative=float(areas.negative),
                   total_variation=float(areas.total_variation))
    return out


register_kind("integrand", _expected)
