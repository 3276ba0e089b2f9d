r"""Live explorers for the HTML book and for Jupyter.

An explorer is a figure with sliders that keeps working in the rendered,
static HTML page, where no Python kernel runs. The work is split so that the
numbers still come from klbook:

* **Python decides.** The functions here take a distribution p, compute with
  klbook everything that does not depend on the sliders -- quadrature nodes and
  weights, :math:`\log p` on them, slider ranges and initial values, the
  optimal Gaussians of :func:`klbook.fit_gaussian` -- and write it into a JSON
  spec.
* **JavaScript recomputes.** A small dependency-free script shipped with
  klbook (``klbook/book/explorers/explorer.js``) reads the spec, and on every slider
  event evaluates :math:`\log q` on the nodes, the divergences as weighted
  sums :math:`\sum_i w_i f(x_i)`, and redraws an inline SVG figure.

The returned :class:`Explorer` has ``_repr_html_``, so the last line of a
notebook cell displays it. The HTML holds the spec, the script (guarded, so a
page with several explorers defines it once) and a one-line mount call; it
loads nothing from the network. Element ids come from a hash of the content,
so re-running a notebook gives byte-identical output.

Every number an explorer shows is tested against klbook to :math:`10^{-9}`
(see :func:`expected_values`, which computes the same numbers with klbook's
Python functions).
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import numbers
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Sequence

import numpy as np

from ...core.base import Distribution

__all__ = [
    "Explorer",
    "integrand_explorer",
    "forward_reverse_explorer",
    "alpha_explorer",
    "page",
    "expected_values",
    "p_from_spec",
    "core_js",
    "core_css",
]

#: Version of the spec format; the JavaScript core checks nothing else.
SPEC_VERSION = 1
#: Points of the drawing grid (the quadrature grid is separate).
VIEW_POINTS = 401
#: Step in t of the double-exponential rules used for tabulated p.
DE_STEP = 1.0 / 32.0
#: Half-width in t of those rules (nodes beyond carry no weight in double precision).
DE_HALF_WIDTH = 5.0
#: Tail, in standard deviations of the widest Gaussian in play, beyond which trapezoid grids stop.
GAUSS_TAIL_SDS = 13.0
#: Trapezoid grids use this many points per standard deviation of the narrowest Gaussian in play.
POINTS_PER_SD = 6.0
#: Tail, in standard deviations of the widest q the sliders reach, that trapezoid grids cover.
Q_TAIL_SDS = 10.0
#: Most nodes a trapezoid grid may have.
MAX_NODES = 50001

_JS_NAME = "explorer.js"
_CSS_NAME = "explorer.css"


# --------------------------------------------------------------------------- #
# Assets and the Explorer object                                              #
# --------------------------------------------------------------------------- #


@lru_cache(maxsize=None)
def core_js(compact: bool = True) -> str:
    """The JavaScript core shipped in the package (``explorer.js``).

    With ``compact`` (what pages get), block comments, whole-line ``//``
    comments and indentation are removed; line breaks stay, so the code
    is unchanged. The file is written so that no string holds ``/*``.
    """
    text = resources.files(__package__).joinpath(_JS_NAME).read_text(encoding="utf-8")
    if not compact:
        return text
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


@lru_cache(maxsize=None)
def core_css() -> str:
    """The explorers' stylesheet, as shipped in the package (``explorer.css``)."""
    return resources.files(__package__).joinpath(_CSS_NAME).read_text(encoding="utf-8")


_MOUNT = (
    "(function(){var s=document.currentScript,r=s&&s.previousElementSibling;"
    "while(r&&!(r.classList&&r.classList.contains('klbook-explorer')))r=r.previousElementSibling;"
    "if(!r||r.id!=='%s')r=document.getElementById('%s');"
    "if(r&&window.klbookExplorers)window.klbookExplorers.mount(r);})();"
)

_FALLBACK = (
    "This interactive explorer runs in your browser with JavaScript. "
    "In Jupyter, run the cell (or trust the notebook) to use it."
)


def _spec_json(spec: dict) -> str:
    text = json.dumps(spec, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    # Safe inside <script>: no "</script>" or "<!--" can appear.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(frozen=True)
class Explorer:
    """A live explorer: a JSON spec computed by klbook plus the JavaScript that draws it.

    Display it in a notebook (``_repr_html_``) or write :meth:`to_html` into
    any page. Build one with :func:`integrand_explorer`,
    :func:`forward_reverse_explorer` or :func:`alpha_explorer`.

    Attributes
    ----------
    spec : dict
        Everything the page needs, JSON-serialisable: ``kind``, ``p``, the
        quadrature ``quad``, the drawing grid ``view``, ``controls``,
        ``readouts`` and, depending on the kind, ``buttons`` or ``fits``.
    """

    spec: dict = field(repr=False)

    @property
    def kind(self) -> str:
        """``"integrand"``, ``"forward_reverse"`` or ``"alpha"``."""
        return str(self.spec["kind"])

    @property
    def spec_json(self) -> str:
        """The spec as it is written into the page (compact JSON, ``<`` escaped)."""
        return _spec_json(self.spec)

    @property
    def id(self) -> str:
        """A deterministic element id: a hash of the spec."""
        digest = hashlib.sha256(self.spec_json.encode("utf-8")).hexdigest()[:12]
        return f"klbook-explorer-{digest}"

    @property
    def initial_state(self) -> dict[str, float]:
        """The sliders' initial values, keyed by parameter."""
        return {c["param"]: c["value"] for c in self.spec["controls"]}

    def to_html(self) -> str:
        """The HTML fragment: style, container with the spec, the core script, the mount call."""
        eid = self.id
        return (
            f"<style>{core_css()}</style>"
            f'<div class="klbook-explorer" id="{eid}" data-kind="{html.escape(self.kind)}">'
            f'<script type="application/json" class="klbook-explorer-spec">{self.spec_json}</script>'
            f'<p class="kx-fallback">{html.escape(self.spec.get("title") or "Explorer")}: {_FALLBACK}</p>'
            f"</div>"
            f"<script>{core_js()}</script>"
            f"<script>{_MOUNT % (eid, eid)}</script>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        title = self.spec.get("title")
        return f"<klbook explorer {self.kind!r}" + (f": {title}>" if title else ">")


def page(*explorers: Explorer, title: str = "klbook explorers") -> str:
    """A complete, self-contained HTML document showing ``explorers``.

    Useful to look at explorers outside a notebook, and as the browser tests'
    harness: it loads nothing from the network.

    Parameters
    ----------
    *explorers : Explorer
        The explorers, in page order.
    title : str
        The document title and heading.
    """
    for e in explorers:
        if not isinstance(e, Explorer):
            raise TypeError(f"page() takes Explorer objects, got {type(e).__name__}")
    body = "\n".join(f"<section>{e.to_html()}</section>" for e in explorers)
    t = html.escape(title)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{t}</title></head>'
        f'<body style="font-family: sans-serif; margin: 1em auto; max-width: 760px;"><h1>{t}</h1>\n'
        f"{body}\n</body></html>\n"
    )


# --------------------------------------------------------------------------- #
# Describing p                                                                #
# --------------------------------------------------------------------------- #


def _fmt(v: float, digits: int = 3) -> str:
    """A short decimal for labels: ``-2`` -> ``'−2'``, ``0.6`` -> ``'0.6'``."""
    s = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s.replace("-", "\u2212")


def _fixed(v: float, digits: int = 2) -> str:
    """Fixed decimals with a true minus sign and no ``-0.00``."""
    s = f"{v:.{digits}f}"
    if float(s) == 0.0:
        s = s.lstrip("-")
    return s.replace("-", "\u2212")


def _is_scipy_frozen(p: object) -> bool:
    from scipy.stats._distn_infrastructure import rv_continuous_frozen

    return isinstance(p, rv_continuous_frozen)


def _json_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


def _check_univariate_continuous(p: object, who: str) -> None:
    from scipy.stats._distn_infrastructure import rv_discrete_frozen

    if isinstance(p, rv_discrete_frozen) or getattr(p, "discrete", False):
        raise TypeError(f"{who} needs a continuous distribution p, got a discrete one ({p!r})")
    if not (_is_scipy_frozen(p) or isinstance(p, Distribution)):
        raise TypeError(
            f"{who} needs p to be a frozen univariate scipy.stats distribution or a klbook.Distribution, "
            f"got {type(p).__name__}"
        )


def _mixture_params(p: object) -> tuple[list[float], list[float], list[float]] | None:
    """(weights, means, stds) when p is a Gaussian mixture or a normal, else None."""
    from ...core.mixtures import GaussianMixture

    if isinstance(p, GaussianMixture):
        return ([float(v) for v in p.weights], [float(v) for v in p.means], [float(v) for v in p.stds])
    if _is_scipy_frozen(p) and p.dist.name == "norm":
        return ([1.0], [float(p.mean())], [float(p.std())])
    return None


def _source(p: object) -> dict | None:
    """How to rebuild p in Python (for :func:`p_from_spec`), if it is JSON-serialisable."""
    from ...core.mixtures import GaussianMixture

    if isinstance(p, GaussianMixture):
        return {
            "klbook": "GaussianMixture",
            "weights": [float(v) for v in p.weights],
            "means": [float(v) for v in p.means],
            "stds": [float(v) for v in p.stds],
        }
    if _is_scipy_frozen(p):
        args, kwds = list(p.args), dict(p.kwds)
        if all(_json_number(a) for a in args) and all(_json_number(v) for v in kwds.values()):
            return {
                "scipy": p.dist.name,
                "args": [float(a) for a in args],
                "kwds": {k: float(v) for k, v in kwds.items()},
            }
    return None


def _label(p: object) -> str:
    mix = _mixture_params(p)
    if mix is not None:
        w, m, s = mix
        parts = [f"N({_fmt(mk)}, {_fmt(sk)}²)" for mk, sk in zip(m, s)]
        if len(w) == 1:
            return f"p = {parts[0]}"
        return "p = " + " + ".join(f"{_fmt(wk)}·{pk}" for wk, pk in zip(w, parts))
    if _is_scipy_frozen(p):
        args = [_fmt(float(a)) for a in p.args] + [f"{k}={_fmt(float(v))}" for k, v in p.kwds.items()]
        return f"p = {p.dist.name}({', '.join(args)})"
    return f"p = {type(p).__name__}"


def p_from_spec(spec: dict) -> object:
    """Rebuild the distribution p an explorer was made from (from ``spec["source"]``).

    Raises
    ------
    ValueError
        If the explorer's p could not be described in JSON (``source`` is null).
    """
    src = spec.get("source")
    if src is None:
        raise ValueError("this explorer's p was not described in its spec (source is null)")
    if src.get("klbook") == "GaussianMixture":
        from ...core.mixtures import GaussianMixture

        return GaussianMixture(src["weights"], src["means"], src["stds"])
    if "scipy" in src:
        from scipy import stats

        return getattr(stats, src["scipy"])(*src["args"], **src["kwds"])
    raise ValueError(f"unknown source in explorer spec: {src!r}")


#: Significant digits kept for numbers computed by numerical libraries (see :func:`_r`).
SPEC_DIGITS = 12


def _r(v: float) -> float:
    """``v`` to ``SPEC_DIGITS`` significant digits.

    exp, log and the optimisers can differ in the last bits between CPUs (numpy
    picks SIMD code paths at run time). Rounding what klbook computed to 12
    digits keeps the stored HTML byte-identical across machines (nbval compares
    it), while the explorers stay accurate to about 1e-12.
    """
    return float(f"{float(v):.{SPEC_DIGITS}g}")


def _r_loc(v: float, scale: float) -> float:
    """A location ``v`` to ``SPEC_DIGITS`` digits relative to ``scale`` (> 0).

    Like :func:`_r`, but a location that is zero up to rounding (the centre of a
    symmetric fit, e.g. ``-1.2e-17``) becomes ``0.0``: its last bits are noise
    that differs between CPUs, and :func:`_r` alone would keep 12 digits of it.
    ``v`` is first rounded to a multiple of :math:`10^{k - 11}`, with
    :math:`10^k \\le` ``scale`` :math:`< 10^{k+1}`.
    """
    step = 10.0 ** (math.floor(math.log10(float(scale))) - (SPEC_DIGITS - 1))
    return _r(round(float(v) / step) * step) + 0.0


def _logp_list(p: object, x: np.ndarray) -> list[float | None]:
    """log p at x as JSON (rounded by :func:`_r`): -inf becomes null."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        lp = np.asarray(p.logpdf(x), dtype=float)  # type: ignore[attr-defined]
    if np.any(np.isnan(lp)) or np.any(lp == np.inf):
        raise ValueError("log p is NaN or +inf on the drawing/quadrature grid")
    return [None if v == -math.inf else _r(v) for v in lp]


# --------------------------------------------------------------------------- #
# Grids                                                                       #
# --------------------------------------------------------------------------- #


def _nice(x: float) -> float:
    """The 1-2-5 number nearest above ``x``."""
    mag = 10.0 ** math.floor(math.log10(x))
    for f in (1.0, 2.0, 2.5, 5.0, 10.0):
        if x <= f * mag * (1 + 1e-12):
            return f * mag
    return 10.0 * mag  # pragma: no cover


def _snap(v: float, step: float) -> float:
    """``v`` rounded to the slider's step grid, as a clean decimal."""
    return float(round(round(v / step) * step, 10))


def _trapezoid(lo: float, hi: float, h: float) -> dict:
    n = int(math.ceil((hi - lo) / h)) + 1
    if n > MAX_NODES:
        raise ValueError(
            f"the slider ranges need {n} quadrature nodes (more than {MAX_NODES}); "
            "narrow the mean range or raise the smallest scale"
        )
    n = max(n, 101)
    return {"rule": "trapezoid", "lo": float(lo), "hi": float(hi), "n": n}


#: Agreement between the trapezoid sums at h and h/2 that stops the refinement of h.
STEP_AGREEMENT = 1e-13


def _refined_trapezoid(
    p: object, lo: float, hi: float, h: float, probes: Sequence[tuple[float, float]], reverse: bool = True
) -> dict:
    r"""A trapezoid grid on [lo, hi] whose step is halved until it has converged.

    The trapezoid rule converges like :math:`e^{-2\pi a/h}` for an integrand
    analytic in a strip of half-width :math:`a`. For a Gaussian mixture,
    :math:`\log p` has branch points where :math:`p = 0` in the complex plane,
    at a distance about :math:`\pi s^2/|m_i - m_j|` from the real line (close
    when the modes are far apart and narrow), so no fixed number of points per
    standard deviation suffices. The step starts at ``h`` and is halved until
    the sums at ``h`` and ``h/2`` of :math:`-p\log p`, and of the forward and
    (if ``reverse``) reverse KL integrands for the probe Gaussians
    ``(mean, std)``, agree to ``STEP_AGREEMENT`` (relative to ``max(1, |value|)``).
    ``[lo, hi]`` must already cover every integrand's tails.
    """

    def sums(quad: dict) -> np.ndarray:
        x = _trapezoid_nodes(quad)
        hh = (quad["hi"] - quad["lo"]) / (quad["n"] - 1)
        w = np.full(x.size, hh)
        w[0] = w[-1] = hh / 2
        lp = np.asarray(p.logpdf(x), dtype=float)  # type: ignore[attr-defined]
        pw = w * np.exp(lp)
        out = [-np.dot(pw, lp)]
        for m, sd in probes:
            lq = -0.5 * ((x - m) / sd) ** 2 - math.log(sd) - 0.5 * math.log(2 * math.pi)
            out.append(np.dot(pw, lp - lq))
            if reverse:
                out.append(np.dot(w * np.exp(lq), lq - lp))
        return np.array(out)

    quad = _trapezoid(lo, hi, h)
    while True:
        finer = _trapezoid(lo, hi, h / 2)
        a, b = sums(quad), sums(finer)
        if np.all(np.abs(a - b) <= STEP_AGREEMENT * np.maximum(1.0, np.abs(b))):
            return quad
        h, quad = h / 2, finer


def _trapezoid_nodes(quad: dict) -> np.ndarray:
    """The nodes exactly as the JavaScript computes them: lo + i*h."""
    h = (quad["hi"] - quad["lo"]) / (quad["n"] - 1)
    return quad["lo"] + np.arange(quad["n"]) * h


def _de_half(a: float, s: float, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """exp-sinh rule on the half-line from ``a`` (scale ``s``): x = a + sign*s*exp(pi/2 sinh t)."""
    t = np.arange(-DE_HALF_WIDTH, DE_HALF_WIDTH + DE_STEP / 2, DE_STEP)
    u = 0.5 * math.pi * np.sinh(t)
    with np.errstate(over="ignore"):
        e = np.exp(u)
        x = a + sign * s * e
        w = DE_STEP * s * 0.5 * math.pi * np.cosh(t) * e
    return x, w


def _de_nodes(p: object, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Double-exponential nodes and weights on p's support (split at the median if unbounded).

    ``tanh-sinh`` on a bounded support, ``exp-sinh`` on a half-line, two
    ``exp-sinh`` halves split at the median on the whole line. They converge
    exponentially for integrands analytic inside the support, even with
    endpoint singularities and algebraic tails.
    """
    med = float(p.ppf(0.5))  # type: ignore[attr-defined]
    q1, q3 = float(p.ppf(0.25)), float(p.ppf(0.75))  # type: ignore[attr-defined]
    if math.isinf(lo) and math.isinf(hi):
        x1, w1 = _de_half(med, med - q1, -1.0)
        x2, w2 = _de_half(med, q3 - med, 1.0)
        return np.concatenate([x1[::-1], x2]), np.concatenate([w1[::-1], w2])
    if math.isinf(hi):
        return _de_half(lo, med - lo, 1.0)
    if math.isinf(lo):
        x, w = _de_half(hi, hi - med, -1.0)
        return x[::-1], w[::-1]
    t = np.arange(-DE_HALF_WIDTH, DE_HALF_WIDTH + DE_STEP / 2, DE_STEP)
    u = 0.5 * math.pi * np.sinh(t)
    half = 0.5 * (hi - lo)
    with np.errstate(over="ignore"):
        # distances to the nearer end, formed without cancellation
        d_left = 2 * half / (1 + np.exp(-2 * u))
        d_right = 2 * half / (1 + np.exp(2 * u))
        x = np.where(u < 0, lo + d_left, hi - d_right)
        w = DE_STEP * half * 0.5 * math.pi * np.cosh(t) / np.cosh(u) ** 2
    return x, w


# --------------------------------------------------------------------------- #
# Sliders and shared pieces of the spec                                       #
# --------------------------------------------------------------------------- #


def _range_arg(value: Any, name: str) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {value!r}") from exc
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite with low < high, got {value!r}")
    return lo, hi


def _slider(param: str, label: str, symbol: str, lo: float, hi: float, value: float, digits: int = 2) -> dict:
    """A slider on a 1-2-5 step grid of about 200 positions covering [lo, hi]."""
    step = _nice((hi - lo) / 200.0)
    lo_s = _snap(math.floor(lo / step + 1e-9) * step, step)
    hi_s = _snap(math.ceil(hi / step - 1e-9) * step, step)
    v = min(max(_snap(value, step), lo_s), hi_s)
    return {
        "param": param,
        "label": label,
        "symbol": symbol,
        "min": lo_s,
        "max": hi_s,
        "step": step,
        "value": v,
        "digits": digits,
    }


def _view(lo: float, hi: float, p: object, tabulate: bool) -> dict:
    view: dict[str, Any] = {"lo": _r(lo), "hi": _r(hi), "n": VIEW_POINTS}
    if tabulate:
        view["logp"] = _logp_list(p, np.linspace(view["lo"], view["hi"], VIEW_POINTS))
    return view


def _p_spec(p: object, label: str | None) -> dict:
    mix = _mixture_params(p)
    out: dict[str, Any] = {"label": label or _label(p)}
    if mix is not None:
        out.update(kind="mixture", weights=mix[0], means=mix[1], stds=mix[2])
    else:
        out["kind"] = "table"
    return out


def _check_title(title: Any) -> str | None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {type(title).__name__}")
    return title


# --------------------------------------------------------------------------- #
# 1. The integrand explorer                                                   #
# --------------------------------------------------------------------------- #


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

        D_{\mathrm{KL}}(p\,\|\,q) = \int p \log\frac{p}{q}\,dx
        = H(p, q) - H(p),

    with :math:`H(p, q) = -\int p\log q\,dx` and :math:`H(p) = -\int p\log p\,dx`,
    all in nats.

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
    title : str, optional
        A heading shown above the figure.
    p_label : str, optional
        The legend entry for p; default a description such as ``p = N(0, 1²)``.

    Returns
    -------
    Explorer

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
    _check_univariate_continuous(p, who)
    title = _check_title(title)
    mu_p = float(p.mean())  # type: ignore[attr-defined]
    var_p = float(p.var())  # type: ignore[attr-defined]
    if not (math.isfinite(mu_p) and math.isfinite(var_p) and var_p > 0):
        raise ValueError(
            f"{who}: p must have a finite mean and variance (got mean {mu_p}, variance {var_p}); "
            "otherwise KL(p || q) is infinite for every Gaussian q"
        )
    sd_p = math.sqrt(var_p)
    m_lo, m_hi = _range_arg(mean_range, "mean_range") or (mu_p - 3 * sd_p, mu_p + 3 * sd_p)
    s_lo, s_hi = _range_arg(scale_range, "scale_range") or (0.2 * sd_p, 3 * sd_p)
    if s_lo <= 0:
        raise ValueError(f"scale_range must be > 0, got {scale_range!r}")
    init_pair = _range_init(init, (mu_p + sd_p, sd_p))
    mean_c = _slider("mean", "Mean of q", "μ", m_lo, m_hi, init_pair[0])
    scale_c = _slider("scale", "Scale of q", "σ", s_lo, s_hi, init_pair[1])
    if scale_c["min"] <= 0:
        scale_c["min"] = scale_c["step"]
        scale_c["value"] = max(scale_c["value"], scale_c["min"])

    mix = _mixture_params(p)
    lo_s, hi_s = p.support()  # type: ignore[attr-defined]
    if mix is not None:
        _, ms, ss = mix
        lo = min(m - GAUSS_TAIL_SDS * s for m, s in zip(ms, ss))
        hi = max(m + GAUSS_TAIL_SDS * s for m, s in zip(ms, ss))
        quad = _refined_trapezoid(
            p, lo, hi, min(ss) / POINTS_PER_SD, [(init_pair[0], scale_c["min"])], reverse=False
        )
    else:
        x, w = _de_nodes(p, float(lo_s), float(hi_s))
        with np.errstate(all="ignore"):
            x = np.array([_r(v) if math.isfinite(v) else v for v in x])
            w = np.array([_r(v) if math.isfinite(v) else v for v in w])
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
            "logp": [_r(v) for v in lp[keep]],
        }

    # drawing range: the bulk of p and every position of q's mean
    with np.errstate(all="ignore"):
        a, b = float(p.ppf(0.001)), float(p.ppf(0.999))  # type: ignore[attr-defined]
    a, b = min(a, mean_c["min"]), max(b, mean_c["max"])
    pad = 0.08 * (b - a)
    v_lo, v_hi = a - pad, b + pad
    spec = {
        "version": SPEC_VERSION,
        "kind": "integrand",
        "title": title,
        "figure_label": (
            "Top: densities of p and q. Bottom: the integrand p(x) log(p(x)/q(x)); "
            "its area above zero adds to KL(p ‖ q), its area below zero subtracts."
        ),
        "p": _p_spec(p, p_label),
        "q_label": "q = N(μ, σ²)",
        "source": _source(p),
        "quad": quad,
        "view": _view(v_lo, v_hi, p, mix is None),
        "controls": [mean_c, scale_c],
        "readouts": [
            {"quantity": "kl", "label": "KL(p ‖ q)", "unit": "nats"},
            {"quantity": "cross_entropy", "label": "cross-entropy H(p, q)", "unit": "nats"},
            {"quantity": "entropy", "label": "entropy H(p)", "unit": "nats"},
        ],
        "note": "KL(p ‖ q) = H(p, q) − H(p): the total shaded area, positive minus negative.",
    }
    return Explorer(spec)


def _range_init(init: Any, default: tuple[float, float]) -> tuple[float, float]:
    if init is None:
        return default
    try:
        m, s = (float(v) for v in init)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"init must be a pair (mean, scale) of numbers, got {init!r}") from exc
    if not (math.isfinite(m) and math.isfinite(s) and s > 0):
        raise ValueError(f"init must be a finite mean and a scale > 0, got {init!r}")
    return m, s


# --------------------------------------------------------------------------- #
# 2. Forward vs reverse                                                       #
# --------------------------------------------------------------------------- #


def _require_mixture(p: object, who: str) -> tuple[list[float], list[float], list[float]]:
    mix = _mixture_params(p)
    if mix is None:
        raise TypeError(
            f"{who} needs p to be a klbook.GaussianMixture or a frozen scipy.stats.norm, got {type(p).__name__}"
        )
    return mix


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
    from ...core.fitting import fit_gaussian

    who = "forward_reverse_explorer"
    title = _check_title(title)
    weights, means, stds = _require_mixture(p, who)
    fwd = fit_gaussian(p, direction="forward")
    if reverse_inits is None:
        reverse_inits = [(m, s) for w, m, s in zip(weights, means, stds) if w > 0]
    revs = _dedupe_fits([fit_gaussian(p, direction="reverse", init=tuple(i)) for i in reverse_inits])
    opt = [fwd] + revs
    mu_p, sd_p = fwd.mean, fwd.std
    m_lo, m_hi = _range_arg(mean_range, "mean_range") or (mu_p - 2.5 * sd_p, mu_p + 2.5 * sd_p)
    s_lo, s_hi = _range_arg(scale_range, "scale_range") or (0.5 * min(stds), 2 * sd_p)
    if s_lo <= 0:
        raise ValueError(f"scale_range must be > 0, got {scale_range!r}")
    if mean_range is None:
        m_lo, m_hi = min([m_lo] + [f.mean for f in opt]), max([m_hi] + [f.mean for f in opt])
    if scale_range is None:
        s_lo, s_hi = min([s_lo] + [f.std for f in opt]), max([s_hi] + [f.std for f in opt])
    init_pair = _range_init(init, (mu_p + min(stds), min(stds)))
    mean_c = _slider("mean", "Mean of q", "μ", m_lo, m_hi, init_pair[0])
    log_c = _slider("log_scale", "Log-scale of q, log σ", "log σ", math.log(s_lo), math.log(s_hi), math.log(init_pair[1]))

    s_min = min(min(stds), math.exp(log_c["min"]))
    s_max = max(max(stds), math.exp(log_c["max"]))
    lo = min(mean_c["min"] - Q_TAIL_SDS * s_max, min(m - GAUSS_TAIL_SDS * s for m, s in zip(means, stds)))
    hi = max(mean_c["max"] + Q_TAIL_SDS * s_max, max(m + GAUSS_TAIL_SDS * s for m, s in zip(means, stds)))
    # probes: the narrowest q at each component, between neighbouring components and at the range's ends
    centres = sorted(set(means))
    spots = centres + [0.5 * (a + b) for a, b in zip(centres[:-1], centres[1:])] + [mean_c["min"], mean_c["max"]]
    probes = [(c, math.exp(log_c["min"])) for c in spots] + [(fwd.mean, math.exp(log_c["max"]))]
    quad = _refined_trapezoid(p, lo, hi, s_min / POINTS_PER_SD, probes)

    v_lo = min(mean_c["min"], min(m - 3.5 * s for m, s in zip(means, stds)))
    v_hi = max(mean_c["max"], max(m + 3.5 * s for m, s in zip(means, stds)))

    def button(label: str, f: Any) -> dict:
        return {
            "label": f"{label}: μ = {_fixed(f.mean)}, σ = {_fixed(f.std)}",
            "state": {"mean": _r(f.mean), "log_scale": _r(math.log(f.std))},
            "direction": f.direction,
            "fit": {"mean": _r(f.mean), "std": _r(f.std), "kl": _r(f.kl)},
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
        "p": _p_spec(p, p_label),
        "q_label": "q = N(μ, σ²)",
        "source": _source(p),
        "quad": quad,
        "view": _view(v_lo, v_hi, p, False),
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


# --------------------------------------------------------------------------- #
# 3. The alpha family                                                         #
# --------------------------------------------------------------------------- #


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


def alpha_explorer(
    p: object,
    *,
    alphas: Sequence[float] | None = None,
    init_alpha: float | None = None,
    title: str | None = None,
    p_label: str | None = None,
) -> Explorer:
    r"""Slide :math:`\alpha` and watch the best Gaussian fit move from mass-covering to mode-seeking.

    For every :math:`\alpha` in ``alphas``, :func:`klbook.fit_gaussian`
    (``direction="alpha"``, no ``init``: the better of the fits started from
    the forward and the reverse optimum) gives the Gaussian
    :math:`q^*_\alpha` minimising Minka's alpha-divergence

    .. math::

        D^{(\alpha)}(p\,\|\,q) = \frac{1}{\alpha(1-\alpha)}
        \int \bigl[\alpha p + (1-\alpha) q - p^{\alpha} q^{1-\alpha}\bigr]\,dx,

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
        If ``alphas`` is not a strictly increasing sequence of at least two
        finite numbers, or a fit's divergence is infinite.
    """
    from ...core.fitting import fit_gaussian

    who = "alpha_explorer"
    title = _check_title(title)
    weights, means, stds = _require_mixture(p, who)
    steps = _alpha_steps(alphas)
    fits = []
    for a in steps:
        f = fit_gaussian(p, direction="alpha", alpha=a)
        if not (math.isfinite(f.kl) and math.isfinite(f.mean) and math.isfinite(f.std)):
            raise ValueError(f"{who}: the alpha-divergence fit at alpha={a} is not finite ({f!r})")
        fits.append({"alpha": a, "mean": _r_loc(f.mean, f.std), "std": _r(f.std), "kl": _r(f.kl)})
    fwd = fit_gaussian(p, direction="forward")
    rev = fit_gaussian(p, direction="reverse")
    if init_alpha is None:
        index = len(steps) // 2
    else:
        index = min(range(len(steps)), key=lambda k: abs(steps[k] - float(init_alpha)))

    s_min = min(min(stds), min(f["std"] for f in fits), rev.std)
    s_max = max(max(stds), max(f["std"] for f in fits), fwd.std)
    m_lo = min([f["mean"] for f in fits] + list(means))
    m_hi = max([f["mean"] for f in fits] + list(means))
    lo = min(m_lo - Q_TAIL_SDS * s_max, min(m - GAUSS_TAIL_SDS * s for m, s in zip(means, stds)))
    hi = max(m_hi + Q_TAIL_SDS * s_max, max(m + GAUSS_TAIL_SDS * s for m, s in zip(means, stds)))
    probes = [(f["mean"], f["std"]) for f in fits]
    quad = _refined_trapezoid(p, lo, hi, s_min / POINTS_PER_SD, probes)
    v_lo = min(m_lo - 3.5 * s_min, min(m - 3.5 * s for m, s in zip(means, stds)), fwd.mean - 3 * fwd.std)
    v_hi = max(m_hi + 3.5 * s_min, max(m + 3.5 * s for m, s in zip(means, stds)), fwd.mean + 3 * fwd.std)
    control = {
        "param": "index",
        "label": "Order α",
        "symbol": "α",
        "min": 0,
        "max": len(steps) - 1,
        "step": 1,
        "value": index,
        "digits": 2,
    }
    spec = {
        "version": SPEC_VERSION,
        "kind": "alpha",
        "title": title,
        "figure_label": (
            "Density of p, the Gaussian that minimises the alpha-divergence for the chosen α, "
            "and the forward-KL (α = 1) and reverse-KL (α = 0) fits for reference."
        ),
        "p": _p_spec(p, p_label),
        "q_label": "best q for this α",
        "source": _source(p),
        "quad": quad,
        "view": _view(v_lo, v_hi, p, False),
        "controls": [control],
        "fits": fits,
        "reference_fits": {
            "forward": {"mean": _r_loc(fwd.mean, fwd.std), "std": _r(fwd.std)},
            "reverse": {"mean": _r_loc(rev.mean, rev.std), "std": _r(rev.std)},
        },
        "reference_labels": {"forward": "forward-KL fit (α = 1)", "reverse": "reverse-KL fit (α = 0)"},
        "readouts": [
            {"quantity": "mean", "label": "best q: mean μ", "unit": "", "format": "fixed"},
            {"quantity": "scale", "label": "best q: standard deviation σ", "unit": "", "format": "fixed"},
            {"quantity": "alpha_divergence", "label": "D_α(p ‖ q)", "unit": "nats"},
            {"quantity": "forward", "label": "KL(p ‖ q)", "unit": "nats"},
            {"quantity": "reverse", "label": "KL(q ‖ p)", "unit": "nats"},
        ],
        "note": "α = 1 is forward KL (q covers all of p); α = 0 is reverse KL (q locks onto one mode).",
    }
    return Explorer(spec)


# --------------------------------------------------------------------------- #
# What the page must show, computed by klbook                                 #
# --------------------------------------------------------------------------- #


def expected_values(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """Every number an explorer shows for ``state``, computed with klbook's Python functions.

    The tests compare the page (and the JavaScript run in Node) with this:
    :func:`klbook.kl_divergence`, :func:`klbook.cross_entropy`,
    :func:`klbook.entropy` and :func:`klbook.alpha_divergence` between the
    distribution rebuilt by :func:`p_from_spec` and
    :math:`q = \\mathcal{N}(\\mu, \\sigma^2)`.

    Parameters
    ----------
    spec : dict
        ``Explorer.spec`` (or the JSON read back from a page).
    state : dict
        The sliders' values: ``mean`` and ``scale`` (integrand), ``mean`` and
        ``log_scale`` (forward vs reverse), ``index`` (alpha).

    Returns
    -------
    dict
        Keyed by the ``quantity`` names of the spec's readouts.
    """
    from scipy import stats

    from ...core.alpha import alpha_divergence
    from ...core.divergences import cross_entropy, entropy, kl_divergence

    p = p_from_spec(spec)
    kind = spec["kind"]
    if kind == "integrand":
        q = stats.norm(state["mean"], state["scale"])
        return {
            "kl": float(kl_divergence(p, q)),
            "cross_entropy": float(cross_entropy(p, q)),
            "entropy": float(entropy(p)),
        }
    if kind == "forward_reverse":
        q = stats.norm(state["mean"], math.exp(state["log_scale"]))
        return {"forward": float(kl_divergence(p, q)), "reverse": float(kl_divergence(q, p))}
    if kind == "alpha":
        fit = spec["fits"][int(state["index"])]
        q = stats.norm(fit["mean"], fit["std"])
        return {
            "alpha_divergence": float(alpha_divergence(p, q, fit["alpha"])),
            "forward": float(kl_divergence(p, q)),
            "reverse": float(kl_divergence(q, p)),
            "mean": float(fit["mean"]),
            "scale": float(fit["std"]),
        }
    raise ValueError(f"unknown explorer kind {kind!r}")
