r"""ipywidgets explorers for your own distributions (they need a running kernel).

The explorers of :mod:`klbook.book.explorers` run in any browser without Python,
but only for the distributions a chapter prepared. The widgets here take
*any* p (and any location-scale family for q), and compute every number live
with klbook: each slider event calls :func:`klbook.kl_divergence` (and
friends) and redraws a matplotlib figure.

They need a Python kernel: run the notebook in Jupyter or Binder. In the
book's static HTML there is no kernel, so a chapter shows these cells as code
with a note to run them in Binder (never as a stored, frozen widget). Stored
outputs of these widgets carry only a plain-text note for the same reason.

Every widget object has:

``widget``
    The ipywidgets container to display (displaying the object displays it).
``values``
    The numbers shown, as floats, recomputed by ``update()`` on every
    slider change. The tests set sliders and read these.
``sliders``
    The sliders by parameter name.

Examples
--------
>>> from scipy import stats
>>> from klbook.book.widgets import integrand_widget
>>> w = integrand_widget(stats.gamma(2.0), draw=False)
>>> w.sliders["mean"].value = 2.0
>>> round(w.values["kl"], 6) == round(w.values["cross_entropy"] - w.values["entropy"], 6)
True
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from scipy import stats
from scipy.stats._distn_infrastructure import rv_continuous_frozen

from ..core.alpha import alpha_divergence
from ..core.base import Distribution
from ..core.divergences import cross_entropy, entropy, kl_divergence
from ..core.fitting import fit_gaussian
from .explorers.spec import number_pair, slider
from .plotting import annotate_values, format_divergence, plot_pq, shade_signed

__all__ = ["integrand_widget", "forward_reverse_widget", "alpha_widget", "KLWidget"]

#: The text a stored output shows where no kernel renders the widget.
NO_KERNEL_NOTE = (
    "[interactive klbook widget: it needs a running Python kernel. "
    "Run this notebook in Jupyter or Binder to use it.]"
)

QFamily = Callable[[float, float], Any]

#: Run in the browser next to each widget (JupyterLab and classic Jupyter): marks every focusable
#: control of the cell's widgets with ``data-lm-suppress-shortcuts`` *on the control itself* (Lumino
#: looks at the focused element before it matches the notebook's shortcut selectors) and keeps
#: navigation keys from bubbling to the notebook, so arrow keys move a focused slider and nothing else.
KEYS_JS = r"""
(function (el) {
  var scope = (el && el.closest && (el.closest('.jp-Cell') || el.closest('.cell'))) || document.body;
  var sel = '.jupyter-widgets .noUi-handle, .jupyter-widgets input, .jupyter-widgets select, '
          + '.jupyter-widgets button, .jupyter-widgets [tabindex], .jupyter-widgets .slider-container';
  function mark() {
    var nodes = scope.querySelectorAll(sel);
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      if (n.getAttribute('data-klbook-keys')) continue;
      n.setAttribute('data-klbook-keys', '1');
      n.setAttribute('data-lm-suppress-shortcuts', 'true');
      n.addEventListener('keydown', function (ev) {
        if (/^(Arrow|Page|Home|End)/.test(ev.key)) ev.stopPropagation();
      });
    }
  }
  mark();
  if (window.MutationObserver) new MutationObserver(mark).observe(scope, {childList: true, subtree: true});
})(typeof element !== 'undefined' ? (element[0] || element) : null);
"""


def _ipywidgets() -> Any:
    """The ipywidgets module, or an ImportError naming the extra that installs it."""
    try:
        import ipywidgets
    except ImportError as exc:  # the library installs without it; the book's requirements.txt has it
        raise ImportError("klbook's ipywidgets explorers need ipywidgets, which is not installed: "
                          "pip install klbook[widgets]") from exc
    return ipywidgets


def _norm(loc: float, scale: float) -> Any:
    return stats.norm(loc, scale)


def _check_p(p: object, who: str) -> None:
    if not isinstance(p, (rv_continuous_frozen, Distribution)) or getattr(p, "discrete", False):
        raise TypeError(
            f"{who} needs p to be a frozen univariate continuous scipy.stats distribution or a "
            f"klbook.Distribution, got {type(p).__name__}"
        )


def _moments(p: object, who: str) -> tuple[float, float]:
    mu, var = float(p.mean()), float(p.var())  # type: ignore[attr-defined]
    if not (math.isfinite(mu) and math.isfinite(var) and var > 0):
        raise ValueError(f"{who}: p must have a finite mean and variance, got mean {mu}, variance {var}")
    return mu, math.sqrt(var)


def _pair(value: Any, name: str, default: tuple[float, float], positive: bool = False) -> tuple[float, float]:
    if value is None:
        return default
    a, b = number_pair(value, name, "(location, scale)" if name == "init" else "(low, high)")
    if positive and min(a, b) <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return a, b


def _float_slider(param: str, description: str, lo: float, hi: float, value: float, positive: bool = False) -> Any:
    """An ipywidgets FloatSlider on the explorers' step grid (:func:`klbook.book.explorers.spec.slider`)."""
    W = _ipywidgets()

    c = slider(param, description, param, lo, hi, value)
    if positive and c["min"] <= 0:
        c["min"] = c["step"]
    value = min(max(float(value), c["min"]), c["max"])
    return W.FloatSlider(value=value, min=c["min"], max=c["max"], step=c["step"], description=description,
                         style={"description_width": "8em"}, continuous_update=False, readout_format=".3f")


def _plot_grid(p: object, centres: list[float], scales: list[float], n: int = 600) -> np.ndarray:
    """x values to draw on: p's bulk plus every q centre +- 4 scales (drawing only)."""
    with np.errstate(all="ignore"):
        a, b = float(p.ppf(0.001)), float(p.ppf(0.999))  # type: ignore[attr-defined]
    lo = min([a] + [c - 4 * s for c, s in zip(centres, scales)])
    hi = max([b] + [c + 4 * s for c, s in zip(centres, scales)])
    return np.linspace(lo, hi, n)


def _integrand_curve(p: object, q: object, x: np.ndarray) -> np.ndarray:
    """p(x) (log p(x) - log q(x)) on a drawing grid, 0 where p = 0 (for the figure only)."""
    with np.errstate(all="ignore"):
        lp = np.asarray(p.logpdf(x), dtype=float)  # type: ignore[attr-defined]
        lq = np.asarray(q.logpdf(x), dtype=float)  # type: ignore[attr-defined]
        y = np.exp(lp) * (lp - lq)
    return np.where(np.isneginf(lp), 0.0, y)


class KLWidget:
    """Common machinery: sliders, a readout, a figure redrawn on every change.

    Subclasses set ``self.sliders`` and implement ``_compute`` (numbers, via
    klbook) and ``_draw`` (matplotlib).
    """

    def __init__(self, p: object, who: str, draw: bool = True) -> None:
        """Check ``p`` for the widget ``who`` (a univariate continuous distribution with a finite mean
        and variance; else TypeError or ValueError naming ``who``), keep it with its mean and standard
        deviation (``p_mean``, ``p_std``), and make the readout and the figure's output."""
        _check_p(p, who)
        self.p = p
        self.p_mean, self.p_std = _moments(p, who)
        W = _ipywidgets()

        self.draw_enabled = bool(draw)
        self.values: dict[str, float] = {}
        self.readout = W.HTML()
        self.output = W.Output()
        self.sliders: dict[str, Any] = {}
        self.buttons: dict[str, Any] = {}
        self._busy = False

    def _assemble(self, title: str) -> None:
        W = _ipywidgets()

        rows = [W.HTML(f"<b>{title}</b>")] + list(self.sliders.values())
        if self.buttons:
            rows.append(W.HBox(list(self.buttons.values())))
        self.keys = W.Output(layout=W.Layout(height="0px", overflow="hidden"))
        rows += [self.readout, self.output, self.keys]
        self.widget = W.VBox(rows)
        self._arm_keys()
        for s in self.sliders.values():
            s.observe(self.update, names="value")
        self.update()

    def _arm_keys(self) -> None:
        """Display :data:`KEYS_JS` in the widget's hidden output (runs where a trusted frontend renders it)."""
        from IPython.display import Javascript

        self.keys.append_display_data(Javascript(KEYS_JS))

    def _compute(self) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _draw(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _labels(self) -> dict[str, str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, change: Any = None) -> None:
        """Recompute ``values`` with klbook from the sliders, refresh the readout and the figure."""
        if self._busy:
            return

        self.values = self._compute()
        self.readout.value = "<br>".join(
            f"{label} = <code>{format_divergence(self.values[key])}</code>" for key, label in self._labels().items()
        )
        if self.draw_enabled:
            import matplotlib.pyplot as plt
            from IPython.display import display

            self.output.clear_output(wait=True)
            with self.output:
                fig = self._draw()
                display(fig)
                plt.close(fig)

    def _set_silently(self, **values: float) -> None:
        """Move several sliders, then update once."""
        self._busy = True
        try:
            for k, v in values.items():
                s = self.sliders[k]
                s.value = min(max(v, s.min), s.max)
        finally:
            self._busy = False
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, tuple):  # (data, metadata)
            data, meta = bundle
            data = dict(data, **{"text/plain": NO_KERNEL_NOTE})
            return (data, meta)  # type: ignore[return-value]
        return dict(bundle or {}, **{"text/plain": NO_KERNEL_NOTE})

    def __repr__(self) -> str:
        return NO_KERNEL_NOTE


# --------------------------------------------------------------------------- #
# Integrand                                                                   #
# --------------------------------------------------------------------------- #


class IntegrandWidget(KLWidget):
    """See :func:`integrand_widget`."""

    def __init__(self, p: object, q_family: QFamily, mean_range, scale_range, init, draw: bool) -> None:
        super().__init__(p, "integrand_widget", draw)
        self.q_family = q_family
        mu, sd = self.p_mean, self.p_std
        m_lo, m_hi = _pair(mean_range, "mean_range", (mu - 3 * sd, mu + 3 * sd))
        s_lo, s_hi = _pair(scale_range, "scale_range", (0.2 * sd, 3 * sd), positive=True)
        m0, s0 = _pair(init, "init", (mu + sd, sd))
        self.sliders = {
            "mean": _float_slider("mean", "location of q", m_lo, m_hi, m0),
            "scale": _float_slider("scale", "scale of q", s_lo, s_hi, s0, positive=True),
        }
        self.x = _plot_grid(p, [m_lo, m_hi], [s_hi, s_hi])
        self._assemble("KL(p ‖ q) and its integrand")

    @property
    def q(self) -> Any:
        """The current q, ``q_family(location, scale)``."""
        return self.q_family(self.sliders["mean"].value, self.sliders["scale"].value)

    def _labels(self) -> dict[str, str]:
        return {"kl": "KL(p ‖ q)", "cross_entropy": "H(p, q)", "entropy": "H(p)"}

    def _compute(self) -> dict[str, float]:
        q = self.q
        return {
            "kl": float(kl_divergence(self.p, q)),
            "cross_entropy": float(cross_entropy(self.p, q)),
            "entropy": float(entropy(self.p)),
        }

    def _draw(self) -> Any:
        import matplotlib.pyplot as plt


        q = self.q
        with np.errstate(all="ignore"):
            pd = np.asarray(self.p.pdf(self.x))  # type: ignore[attr-defined]
            qd = np.asarray(q.pdf(self.x))
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(7.5, 5.2), sharex=True)
        plot_pq(a1, self.x, pd, qd, p_label="p", q_label="q")
        a1.set_ylabel("density")
        a1.legend(loc="upper left")
        shade_signed(a2, self.x, _integrand_curve(self.p, q, self.x))
        a2.set_ylabel("p log(p/q)  [nats per unit x]")
        a2.set_xlabel("x")
        a2.legend(loc="upper left")
        annotate_values(a2, {"KL(p‖q)": format_divergence(self.values["kl"])})
        return fig


def integrand_widget(
    p: object,
    *,
    q_family: QFamily | None = None,
    mean_range: tuple[float, float] | None = None,
    scale_range: tuple[float, float] | None = None,
    init: tuple[float, float] | None = None,
    draw: bool = True,
) -> IntegrandWidget:
    r"""Sliders for q's location and scale; live :math:`D_{\mathrm{KL}}(p\,\|\,q)` and its integrand.

    Every change calls :func:`klbook.kl_divergence`, :func:`klbook.cross_entropy`
    and :func:`klbook.entropy` and redraws p, q and the integrand
    :math:`p\log(p/q)` with its signed area shaded, so that
    :math:`D_{\mathrm{KL}}(p\,\|\,q) = H(p, q) - H(p)` can be watched.

    Parameters
    ----------
    p : distribution
        Any frozen univariate continuous ``scipy.stats`` distribution or
        :class:`klbook.Distribution` with finite variance.
    q_family : callable, optional
        ``q_family(location, scale)`` returns q; default ``scipy.stats.norm``.
        Any location-scale family works, e.g. ``scipy.stats.laplace``.
    mean_range, scale_range : (float, float), optional
        Slider ranges; default p's mean :math:`\pm 3` standard deviations, and
        0.2 to 3 standard deviations.
    init : (float, float), optional
        Initial location and scale.
    draw : bool
        Draw the figure (``False`` computes the numbers only, e.g. in tests).

    Returns
    -------
    IntegrandWidget
        Display it; ``.values`` holds ``kl``, ``cross_entropy`` and ``entropy`` (nats).

    Raises
    ------
    TypeError
        If p is not a univariate continuous distribution.
    ValueError
        If p has no finite variance or a range is invalid.
    """
    return IntegrandWidget(p, q_family or _norm, mean_range, scale_range, init, draw)


# --------------------------------------------------------------------------- #
# Forward vs reverse                                                          #
# --------------------------------------------------------------------------- #


class ForwardReverseWidget(KLWidget):
    """See :func:`forward_reverse_widget`."""

    def __init__(self, p: object, mean_range, scale_range, init, draw: bool) -> None:
        super().__init__(p, "forward_reverse_widget", draw)
        W = _ipywidgets()
        mu, sd = self.p_mean, self.p_std
        m_lo, m_hi = _pair(mean_range, "mean_range", (mu - 2.5 * sd, mu + 2.5 * sd))
        s_lo, s_hi = _pair(scale_range, "scale_range", (0.1 * sd, 2 * sd), positive=True)
        m0, s0 = _pair(init, "init", (mu + 0.5 * sd, 0.5 * sd), positive=False)
        if s0 <= 0:
            raise ValueError(f"init scale must be > 0, got {init!r}")
        self.sliders = {
            "mean": _float_slider("mean", "mean of q", m_lo, m_hi, m0),
            "log_scale": _float_slider("log_scale", "log σ of q", math.log(s_lo), math.log(s_hi), math.log(s0)),
        }
        self.buttons = {
            "forward": W.Button(description="fit forward KL from here"),
            "reverse": W.Button(description="fit reverse KL from here"),
        }
        self.buttons["forward"].on_click(lambda _b: self.fit("forward"))
        self.buttons["reverse"].on_click(lambda _b: self.fit("reverse"))
        self.last_fit: Any = None
        self.x = _plot_grid(p, [m_lo, m_hi], [s_hi, s_hi])
        self._assemble("Forward KL(p ‖ q) vs reverse KL(q ‖ p)")

    @property
    def q(self) -> Any:
        """The current q, a frozen ``scipy.stats.norm``."""
        return _norm(self.sliders["mean"].value, math.exp(self.sliders["log_scale"].value))

    def fit(self, direction: str) -> Any:
        """Run :func:`klbook.fit_gaussian` from the sliders' q and move the sliders to its result."""
        q = self.q
        self.last_fit = fit_gaussian(self.p, direction=direction, init=(float(q.mean()), float(q.std())))
        self._set_silently(mean=self.last_fit.mean, log_scale=math.log(self.last_fit.std))
        return self.last_fit

    def _labels(self) -> dict[str, str]:
        return {"forward": "forward KL(p ‖ q)", "reverse": "reverse KL(q ‖ p)"}

    def _compute(self) -> dict[str, float]:
        q = self.q
        return {"forward": float(kl_divergence(self.p, q)), "reverse": float(kl_divergence(q, self.p))}

    def _draw(self) -> Any:
        import matplotlib.pyplot as plt


        q = self.q
        fig, ax = plt.subplots(figsize=(7.5, 3.6))
        with np.errstate(all="ignore"):
            plot_pq(ax, self.x, self.p.pdf(self.x), q.pdf(self.x), p_label="p", q_label="q")  # type: ignore[attr-defined]
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        ax.legend(loc="upper left")
        annotate_values(
            ax,
            {
                "KL(p‖q)": format_divergence(self.values["forward"]),
                "KL(q‖p)": format_divergence(self.values["reverse"]),
            },
        )
        return fig


def forward_reverse_widget(
    p: object,
    *,
    mean_range: tuple[float, float] | None = None,
    scale_range: tuple[float, float] | None = None,
    init: tuple[float, float] | None = None,
    draw: bool = True,
) -> ForwardReverseWidget:
    r"""Sliders for a Gaussian q's mean and log-scale; live forward and reverse KL against any p.

    Shows :math:`D_{\mathrm{KL}}(p\,\|\,q)` and :math:`D_{\mathrm{KL}}(q\,\|\,p)`
    from :func:`klbook.kl_divergence`; two buttons run :func:`klbook.fit_gaussian`
    in either direction *from the current q* and move the sliders to the optimum,
    so different starting points can land on different reverse optima.

    Parameters
    ----------
    p : distribution
        Any frozen univariate continuous ``scipy.stats`` distribution or
        :class:`klbook.Distribution` with finite variance (reverse KL needs its
        support to be the whole line to be finite).
    mean_range : (float, float), optional
        Default p's mean :math:`\pm 2.5` standard deviations.
    scale_range : (float, float), optional
        Range of :math:`\sigma` (the slider moves :math:`\log\sigma`);
        default 0.1 to 2 standard deviations of p.
    init : (float, float), optional
        Initial :math:`(\mu, \sigma)`.
    draw : bool
        Draw the figure.

    Returns
    -------
    ForwardReverseWidget
        ``.values`` holds ``forward`` and ``reverse`` (nats); ``.fit(direction)``
        runs a fit; ``.last_fit`` is its :class:`klbook.FitResult`.
    """
    return ForwardReverseWidget(p, mean_range, scale_range, init, draw)


# --------------------------------------------------------------------------- #
# Alpha family                                                                #
# --------------------------------------------------------------------------- #


class AlphaWidget(KLWidget):
    """See :func:`alpha_widget`."""

    def __init__(self, p: object, alpha_range, init_alpha, draw: bool) -> None:
        super().__init__(p, "alpha_widget", draw)
        W = _ipywidgets()
        mu, sd = self.p_mean, self.p_std
        a_lo, a_hi = _pair(alpha_range, "alpha_range", (0.0, 1.0))
        a0 = float(init_alpha) if init_alpha is not None else 0.5 * (a_lo + a_hi)
        self.forward_fit = fit_gaussian(p, direction="forward")
        self.fit_result: Any = None
        self.sliders = {
            "alpha": W.FloatSlider(value=a0, min=a_lo, max=a_hi, step=(a_hi - a_lo) / 100,
                                   description="α", continuous_update=False),
        }
        self.x = _plot_grid(p, [mu], [sd])
        self._assemble("Best Gaussian q for the alpha-divergence D⁽ᵅ⁾(p ‖ q)")

    def _labels(self) -> dict[str, str]:
        return {"alpha_divergence": "D⁽ᵅ⁾(p ‖ q*)", "forward": "KL(p ‖ q*)", "reverse": "KL(q* ‖ p)"}

    def _compute(self) -> dict[str, float]:
        a = float(self.sliders["alpha"].value)
        # no init: klbook starts from both ends of the family and keeps the lower minimum
        # (continuing from the previous fit could stay on a symmetric saddle point)
        self.fit_result = fit_gaussian(self.p, direction="alpha", alpha=a)
        q = self.fit_result.q
        return {
            "alpha": a,
            "mean": float(self.fit_result.mean),
            "scale": float(self.fit_result.std),
            "alpha_divergence": float(alpha_divergence(self.p, q, a)),
            "forward": float(kl_divergence(self.p, q)),
            "reverse": float(kl_divergence(q, self.p)),
        }

    def _draw(self) -> Any:
        import matplotlib.pyplot as plt


        q = self.fit_result.q
        fig, ax = plt.subplots(figsize=(7.5, 3.6))
        with np.errstate(all="ignore"):
            plot_pq(ax, self.x, self.p.pdf(self.x), q.pdf(self.x), p_label="p",  # type: ignore[attr-defined]
                    q_label=f"best q for α = {self.values['alpha']:.2f}")
            ax.plot(self.x, self.forward_fit.q.pdf(self.x), color="0.5", lw=1, ls=":", label="forward-KL fit (α = 1)")
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        ax.legend(loc="upper left")
        annotate_values(ax, {r"$D^{(\alpha)}(p\Vert q)$": format_divergence(self.values["alpha_divergence"])})
        return fig


def alpha_widget(
    p: object,
    *,
    alpha_range: tuple[float, float] | None = None,
    init_alpha: float | None = None,
    draw: bool = True,
) -> AlphaWidget:
    r"""A slider for :math:`\alpha`; the best Gaussian for the alpha-divergence, refitted live.

    Each change runs ``klbook.fit_gaussian(p, direction="alpha", alpha=α)``
    (which starts from the forward and the reverse fit and keeps the better) and
    shows the alpha-divergence :math:`D^{(\alpha)}(p\,\|\,q^*)`, :math:`D_{\mathrm{KL}}(p\,\|\,q^*)` and
    :math:`D_{\mathrm{KL}}(q^*\,\|\,p)` from klbook. In Minka's
    parametrisation, :math:`\alpha = 1` is forward KL (mass-covering) and
    :math:`\alpha = 0` reverse KL (mode-seeking).

    Parameters
    ----------
    p : distribution
        Univariate continuous, finite variance, support the whole line.
    alpha_range : (float, float), optional
        Default ``(0, 1)``.
    init_alpha : float, optional
        Default the middle of the range.
    draw : bool
        Draw the figure.

    Returns
    -------
    AlphaWidget
        ``.values`` holds ``alpha``, ``mean``, ``scale``, ``alpha_divergence``,
        ``forward`` and ``reverse``; ``.fit_result`` the latest fit.
    """
    return AlphaWidget(p, alpha_range, init_alpha, draw)
