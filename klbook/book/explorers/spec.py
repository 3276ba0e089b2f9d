r"""The explorers' shared Python side: the Explorer object, the page, and the pieces of a spec.

An explorer is a figure with controls that keeps working in the rendered,
static HTML page, where no Python kernel runs. The work is split so that the
numbers still come from klbook:

* **Python decides.** A spec builder (one module per explorer, e.g.
  :mod:`klbook.book.explorers.forward_reverse`) takes a distribution, computes
  with klbook everything that does not depend on the controls -- quadrature
  nodes and weights, :math:`\log p` on them, slider ranges, optima -- and
  writes it into a JSON spec, with the helpers of this module.
* **JavaScript recomputes.** One dependency-free script shipped with klbook
  (:func:`~klbook.book.explorers.spec.core_js`: ``core.js`` plus one part per explorer) reads the spec and,
  on every control event, recomputes the divergences and redraws an inline SVG
  figure.

The returned :class:`~klbook.book.explorers.spec.Explorer` has ``_repr_html_``, so the last line of a
notebook cell displays it. The HTML holds the spec, the script (guarded, so a
page with several explorers defines it once) and a one-line mount call; it
loads nothing from the network. Element ids come from a hash of the content,
so re-running a notebook gives byte-identical output.

Every number an explorer shows is tested against klbook (see
:func:`~klbook.book.explorers.spec.expected_values`, which computes the same numbers with klbook's Python
functions, dispatching on the spec's ``kind`` to the function each explorer
module registered with :func:`~klbook.book.explorers.spec.register_kind`). How to add an explorer:
``klbook/book/explorers/README.md``.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import numbers
import functools
import inspect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Sequence

import numpy as np
from scipy import stats
from scipy.stats._distn_infrastructure import rv_continuous_frozen, rv_discrete_frozen

from ...core.base import Distribution
from ...core.mixtures import GaussianMixture

__all__ = [
    "Explorer",
    "page",
    "core_js",
    "core_css",
    "js_parts",
    "p_from_spec",
    "expected_values",
    "register_kind",
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

_CORE_JS = "core.js"
_PARTS_MARKER = "/* @klbook-parts: klbook.book.explorers.core_js() inserts the explorers' parts here. */"
_CSS_NAME = "explorer.css"


# --------------------------------------------------------------------------- #
# Assets and the Explorer object                                              #
# --------------------------------------------------------------------------- #


def js_parts() -> list[str]:
    """The file names of the explorers' JavaScript parts: every ``*.js`` of the package but the core, sorted."""
    names = [r.name for r in resources.files(__package__).iterdir() if r.name.endswith(".js")]
    return sorted(n for n in names if n != _CORE_JS)


@lru_cache(maxsize=None)
def core_js(compact: bool = True) -> str:
    """The one script every page gets: ``core.js`` with every explorer's part pasted in.

    The parts (``integrand.js``, ``forward_reverse.js``, ...; see :func:`~klbook.book.explorers.spec.js_parts`)
    go at the marker near the end of the core, inside its closure, where each one
    calls ``register(kind, make)``. With ``compact`` (what pages get), block
    comments, whole-line ``//`` comments and indentation are removed; line
    breaks stay, so the code is unchanged. No string in these files holds ``/*``.
    """
    folder = resources.files(__package__)
    core = folder.joinpath(_CORE_JS).read_text(encoding="utf-8")
    if core.count(_PARTS_MARKER) != 1:
        raise RuntimeError("explorers' core.js has lost its parts marker")
    parts = "\n".join(folder.joinpath(n).read_text(encoding="utf-8") for n in js_parts())
    text = core.replace(_PARTS_MARKER, parts)
    # the version a page compares before defining the core again: a hash of the code itself, so a
    # newer script (another notebook run, another klbook) never hides behind an older one
    text = text.replace("@klbook-hash@", hashlib.sha256(text.encode("utf-8")).hexdigest()[:12])
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

    Display it in a notebook (``_repr_html_``) or write :meth:`~klbook.book.explorers.spec.Explorer.to_html` into
    any page. Build one with an explorer function, e.g.
    :func:`~klbook.book.explorers.forward_reverse.forward_reverse_explorer`.

    Attributes
    ----------
    spec : dict
        Everything the page needs, JSON-serialisable: ``kind``, ``p``, the
        ``controls``, ``readouts`` and whatever else its kind's JS part reads
        (e.g. the quadrature ``quad`` and the drawing grid ``view``).
    """

    spec: dict = field(repr=False)

    @property
    def kind(self) -> str:
        """The explorer's kind, e.g. ``"integrand"`` or ``"forward_reverse"`` (its JS part's name)."""
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
        """The initial state: the sliders' values, keyed by parameter, and the spec's ``state`` (e.g. an editable p)."""
        return {**{c["param"]: c["value"] for c in self.spec["controls"]}, **self.spec.get("state", {})}

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


def short_number(v: float, digits: int = 3) -> str:
    """A short decimal for labels: ``-2`` -> ``'−2'``, ``0.6`` -> ``'0.6'``."""
    s = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s.replace("-", "\u2212")


def fixed_number(v: float, digits: int = 2) -> str:
    """Fixed decimals with a true minus sign and no ``-0.00``."""
    s = f"{v:.{digits}f}"
    if float(s) == 0.0:
        s = s.lstrip("-")
    return s.replace("-", "\u2212")


def is_scipy_frozen(p: object) -> bool:

    return isinstance(p, rv_continuous_frozen)


def _json_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


def check_univariate_continuous(p: object, who: str) -> None:

    if isinstance(p, rv_discrete_frozen) or getattr(p, "discrete", False):
        raise TypeError(f"{who} needs a continuous distribution p, got a discrete one ({p!r})")
    if not (is_scipy_frozen(p) or isinstance(p, Distribution)):
        raise TypeError(
            f"{who} needs p to be a frozen univariate scipy.stats distribution or a klbook.Distribution, "
            f"got {type(p).__name__}"
        )


def mixture_params(p: object) -> tuple[list[float], list[float], list[float]] | None:
    """(weights, means, stds) when p is a Gaussian mixture or a normal, else None."""
    if isinstance(p, GaussianMixture):
        return ([float(v) for v in p.weights], [float(v) for v in p.means], [float(v) for v in p.stds])
    if is_scipy_frozen(p) and p.dist.name == "norm":
        return ([1.0], [float(p.mean())], [float(p.std())])
    return None


def source_of(p: object) -> dict | None:
    """How to rebuild p in Python (for :func:`~klbook.book.explorers.spec.p_from_spec`), if it is JSON-serialisable."""
    if isinstance(p, GaussianMixture):
        return {
            "klbook": "GaussianMixture",
            "weights": [float(v) for v in p.weights],
            "means": [float(v) for v in p.means],
            "stds": [float(v) for v in p.stds],
        }
    if is_scipy_frozen(p):
        args, kwds = list(p.args), dict(p.kwds)
        if all(_json_number(a) for a in args) and all(_json_number(v) for v in kwds.values()):
            return {
                "scipy": p.dist.name,
                "args": [float(a) for a in args],
                "kwds": {k: float(v) for k, v in kwds.items()},
            }
    return None


def label_of(p: object) -> str:
    mix = mixture_params(p)
    if mix is not None:
        w, m, s = mix
        parts = [f"N({short_number(mk)}, {short_number(sk)}²)" for mk, sk in zip(m, s)]
        if len(w) == 1:
            return f"p = {parts[0]}"
        return "p = " + " + ".join(f"{short_number(wk)}·{pk}" for wk, pk in zip(w, parts))
    if is_scipy_frozen(p):
        args = [short_number(float(a)) for a in p.args] + [f"{k}={short_number(float(v))}" for k, v in p.kwds.items()]
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
        return GaussianMixture(src["weights"], src["means"], src["stds"])
    if "scipy" in src:
        return getattr(stats, src["scipy"])(*src["args"], **src["kwds"])
    raise ValueError(f"unknown source in explorer spec: {src!r}")


#: Significant digits kept for numbers computed by numerical libraries (see :func:`~klbook.book.explorers.spec.round_spec`).
SPEC_DIGITS = 12


def round_spec(v: float) -> float:
    """``v`` to ``SPEC_DIGITS`` significant digits.

    exp, log and the optimisers can differ in the last bits between CPUs (numpy
    picks SIMD code paths at run time). Rounding what klbook computed to 12
    digits keeps the stored HTML byte-identical across machines (nbval compares
    it), while the explorers stay accurate to about 1e-12.
    """
    return float(f"{float(v):.{SPEC_DIGITS}g}")


def round_location(v: float, scale: float) -> float:
    """A location ``v`` to ``SPEC_DIGITS`` digits relative to ``scale`` (> 0).

    Like :func:`~klbook.book.explorers.spec.round_spec`, but a location that is zero up to rounding (the centre of a
    symmetric fit, e.g. ``-1.2e-17``) becomes ``0.0``: its last bits are noise
    that differs between CPUs, and :func:`~klbook.book.explorers.spec.round_spec` alone would keep 12 digits of it.
    ``v`` is first rounded to a multiple of :math:`10^{k - 11}`, with
    :math:`10^k \\le` ``scale`` :math:`< 10^{k+1}`.
    """
    step = 10.0 ** (math.floor(math.log10(float(scale))) - (SPEC_DIGITS - 1))
    return round_spec(round(float(v) / step) * step) + 0.0


def logp_list(p: object, x: np.ndarray) -> list[float | None]:
    """log p at x as JSON (rounded by :func:`~klbook.book.explorers.spec.round_spec`): -inf becomes null."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        lp = np.asarray(p.logpdf(x), dtype=float)  # type: ignore[attr-defined]
    if np.any(np.isnan(lp)) or np.any(lp == np.inf):
        raise ValueError("log p is NaN or +inf on the drawing/quadrature grid")
    return [None if v == -math.inf else round_spec(v) for v in lp]


# --------------------------------------------------------------------------- #
# Grids                                                                       #
# --------------------------------------------------------------------------- #


def nice_step(x: float) -> float:
    """The 1-2-5 number nearest above ``x``."""
    mag = 10.0 ** math.floor(math.log10(x))
    for f in (1.0, 2.0, 2.5, 5.0, 10.0):
        if x <= f * mag * (1 + 1e-12):
            return f * mag
    return 10.0 * mag  # pragma: no cover


def snap(v: float, step: float) -> float:
    """``v`` rounded to the slider's step grid, as a clean decimal."""
    return float(round(round(v / step) * step, 10))


def trapezoid_rule(lo: float, hi: float, h: float) -> dict:
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


def refined_trapezoid(
    p: object,
    lo: float,
    hi: float,
    h: float,
    probes: Sequence[tuple[float, float]],
    reverse: bool = True,
    agreement: float | None = None,
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
    ``(mean, std)``, agree to ``agreement`` (default ``STEP_AGREEMENT``; relative to ``max(1, |value|)``).
    ``[lo, hi]`` must already cover every integrand's tails.
    """

    def sums(quad: dict) -> np.ndarray:
        x = trapezoid_nodes(quad)
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

    quad = trapezoid_rule(lo, hi, h)
    while True:
        finer = trapezoid_rule(lo, hi, h / 2)
        a, b = sums(quad), sums(finer)
        tol = STEP_AGREEMENT if agreement is None else agreement
        if np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b))):
            return quad
        h, quad = h / 2, finer


def trapezoid_nodes(quad: dict) -> np.ndarray:
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


def de_nodes(p: object, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
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


def number_pair(value: Any, name: str, form: str = "(low, high)") -> tuple[float, float]:
    """``value`` as two finite floats: every pair argument of the explorers and widgets reads through here.

    Raises
    ------
    TypeError
        If ``value`` is not a pair of numbers (the message names ``name`` and shows ``form``).
    ValueError
        If either number is NaN or infinite.
    """
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a pair {form} of numbers, got {value!r}") from exc
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return a, b


def range_arg(value: Any, name: str) -> tuple[float, float] | None:
    """A slider range ``(low, high)``, finite with ``low < high``, or None when ``value`` is None."""
    if value is None:
        return None
    lo, hi = number_pair(value, name)
    if not lo < hi:
        raise ValueError(f"{name} must be finite with low < high, got {value!r}")
    return lo, hi


def slider(param: str, label: str, symbol: str, lo: float, hi: float, value: float, digits: int = 2) -> dict:
    """A slider on a 1-2-5 step grid of about 200 positions covering [lo, hi]."""
    step = nice_step((hi - lo) / 200.0)
    lo_s = snap(math.floor(lo / step + 1e-9) * step, step)
    hi_s = snap(math.ceil(hi / step - 1e-9) * step, step)
    v = min(max(snap(value, step), lo_s), hi_s)
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


def view_grid(lo: float, hi: float, p: object, tabulate: bool) -> dict:
    view: dict[str, Any] = {"lo": round_spec(lo), "hi": round_spec(hi), "n": VIEW_POINTS}
    if tabulate:
        view["logp"] = logp_list(p, np.linspace(view["lo"], view["hi"], VIEW_POINTS))
    return view


def p_spec(p: object, label: str | None) -> dict:
    mix = mixture_params(p)
    out: dict[str, Any] = {"label": label or label_of(p)}
    if mix is not None:
        out.update(kind="mixture", weights=mix[0], means=mix[1], stds=mix[2])
    else:
        out["kind"] = "table"
    return out


def check_title(title: Any) -> str | None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, got {type(title).__name__}")
    return title


def range_init(init: Any, default: tuple[float, float]) -> tuple[float, float]:
    """An initial ``(mean, scale)``, finite with ``scale > 0``; ``default`` when ``init`` is None."""
    if init is None:
        return default
    m, s = number_pair(init, "init", "(mean, scale)")
    if not s > 0:
        raise ValueError(f"init must be a finite mean and a scale > 0, got {init!r}")
    return m, s


def item_labels(labels: Sequence[Any] | None, n: int, prefix: str) -> list[str]:
    """The ``n`` labels of a bar chart's items as strings; ``prefix`` + 1, 2, ... when ``labels`` is None.

    Raises
    ------
    ValueError
        If ``labels`` does not have ``n`` entries.
    """
    if labels is None:
        return [f"{prefix}{i + 1}" for i in range(n)]
    out = [str(s) for s in labels]
    if len(out) != n:
        raise ValueError(f"labels must have {n} entries, got {len(out)}")
    return out


def require_mixture(p: object, who: str) -> tuple[list[float], list[float], list[float]]:
    mix = mixture_params(p)
    if mix is None:
        raise TypeError(
            f"{who} needs p to be a klbook.GaussianMixture or a frozen scipy.stats.norm, got {type(p).__name__}"
        )
    return mix


def covering_grid(
    p: object,
    tails: Sequence[tuple[float, float]],
    s_min: float,
    probes: Sequence[tuple[float, float]],
    q_span: tuple[float, float] | None = None,
    reverse: bool = True,
) -> dict:
    """The trapezoid grid of an explorer that integrates a Gaussian-mixture p against Gaussian q's.

    It reaches ``GAUSS_TAIL_SDS`` standard deviations beyond every ``(mean, std)`` of ``tails``
    (p's components, and any bump the sliders can make) and covers ``q_span`` (where the q's the
    sliders reach have their mass, if given); its step starts at ``s_min / POINTS_PER_SD`` (the
    narrowest Gaussian in play) and is halved by :func:`~klbook.book.explorers.spec.refined_trapezoid`
    until the sums for ``probes`` converge.
    """
    lo = min(m - GAUSS_TAIL_SDS * s for m, s in tails)
    hi = max(m + GAUSS_TAIL_SDS * s for m, s in tails)
    if q_span is not None:
        lo, hi = min(q_span[0], lo), max(q_span[1], hi)
    return refined_trapezoid(p, lo, hi, s_min / POINTS_PER_SD, probes, reverse=reverse)


def density_fields(p: object, p_label: str | None, q_label: str, quad: dict, view: dict) -> dict:
    """The spec fields of an explorer that draws p against a q: p's description and legend entry,
    q's legend entry, how to rebuild p (:func:`~klbook.book.explorers.spec.p_from_spec`), the
    quadrature and the drawing grid."""
    return {"p": p_spec(p, p_label), "q_label": q_label, "source": source_of(p), "quad": quad, "view": view}


def spec_head(kind: str, title: str | None, figure_label: str) -> dict:
    """The first fields of every spec: format version, kind (the JS part that draws it), title, and
    what the figure shows (the SVG's accessible label)."""
    return {"version": SPEC_VERSION, "kind": kind, "title": title, "figure_label": figure_label}


#: Parameters every explorer function shares, documented once (see :func:`~klbook.book.explorers.spec.explorer_builder`).
SHARED_PARAMETERS = {
    "title": "title : str, optional\n    A heading shown above the figure (and in the note shown where scripts do not run).",
    "p_label": "p_label : str, optional\n    The legend entry for p; default a description such as ``p = N(0, 1²)``.",
}

#: The Returns section of every explorer function.
RETURNS_SECTION = (
    "Returns\n-------\nExplorer\n"
    "    The live figure (:class:`~klbook.book.explorers.spec.Explorer`): the last line of a notebook cell\n"
    "    displays it; :meth:`~klbook.book.explorers.spec.Explorer.to_html` writes it into any page.\n"
)


def explorer_builder(build: Callable[..., Explorer]) -> Callable[..., Explorer]:
    """Decorator for an explorer function: what every spec builder shares, written once.

    * ``title`` is checked (a string or None, else TypeError) before the builder runs, so a bad
      title fails before any fitting or quadrature;
    * the docstring gets the entries of :data:`SHARED_PARAMETERS` the function takes (at the end
      of its Parameters section) and :data:`RETURNS_SECTION`, both placed before its ``Raises``
      section (or at its end if it has none).
    """
    signature = inspect.signature(build)

    @functools.wraps(build)
    def explorer_function(*args: Any, **kwargs: Any) -> Explorer:
        check_title(signature.bind(*args, **kwargs).arguments.get("title"))
        return build(*args, **kwargs)

    doc = build.__doc__ or ""
    match = re.search(r"^([ \t]*)Raises\n\1------\n", doc, flags=re.M)
    if match is None:
        raise ValueError(f"{build.__name__}: an explorer function documents what it raises")
    indent = match.group(1)
    shared = [text for name, text in SHARED_PARAMETERS.items() if name in signature.parameters]
    block = "\n".join(shared) + "\n\n" + RETURNS_SECTION + "\n"
    block = "".join(indent + line if line.strip() else line for line in block.splitlines(keepends=True))
    explorer_function.__doc__ = doc[: match.start()].rstrip(" \t\n") + "\n" + block + doc[match.start():]
    return explorer_function


# --------------------------------------------------------------------------- #
# What the page must show, computed by klbook                                 #
# --------------------------------------------------------------------------- #

_EXPECTED: dict[str, Callable[[dict, dict], dict]] = {}


def register_kind(kind: str, expected: Callable[[dict, dict], dict]) -> None:
    """Declare an explorer kind and the function that computes, with klbook, what its page shows.

    Each explorer module calls this once on import. ``expected(spec, state)``
    returns every number the page shows for ``state`` (the controls' values),
    keyed like the spec's readouts; :func:`~klbook.book.explorers.spec.expected_values` dispatches to it.
    """
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"kind must be a non-empty string, got {kind!r}")
    if not callable(expected):
        raise TypeError(f"expected must be callable, got {type(expected).__name__}")
    _EXPECTED[kind] = expected


def expected_values(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """Every number an explorer shows for ``state``, computed with klbook's Python functions.

    The tests compare the page (and the JavaScript run in Node) with this.

    Parameters
    ----------
    spec : dict
        ``Explorer.spec`` (or the JSON read back from a page).
    state : dict
        The controls' values, e.g. ``mean`` and ``scale`` (integrand), ``mean``
        and ``log_scale`` (forward vs reverse), ``index`` (alpha).

    Returns
    -------
    dict
        Keyed by the ``quantity`` names of the spec's readouts.

    Raises
    ------
    ValueError
        If no explorer module registered the spec's kind.
    """
    kind = spec.get("kind")
    if kind not in _EXPECTED:
        raise ValueError(f"unknown explorer kind {kind!r}")
    return _EXPECTED[kind](spec, state)
