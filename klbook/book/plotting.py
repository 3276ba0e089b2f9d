"""Matplotlib helpers shared by the chapters.

These functions only draw: every number they print is computed by the caller
with klbook and passed in. Colours are fixed book-wide so that p and q look
the same in every figure: p is the fixed "true" distribution, q the
approximation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

try:  # matplotlib is an extra of the library (the book's requirements.txt installs it)
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
except ImportError as exc:
    raise ImportError("klbook.book.plotting draws with matplotlib, which is not installed: "
                      "pip install klbook[plotting]") from exc

try:  # only in a notebook: figures as retina PNGs
    from IPython import get_ipython
    from matplotlib_inline.backend_inline import set_matplotlib_formats
except ImportError:  # pragma: no cover - IPython is installed with the book's requirements
    get_ipython = None
    set_matplotlib_formats = None

__all__ = [
    "P_COLOR",
    "Q_COLOR",
    "POS_COLOR",
    "NEG_COLOR",
    "use_book_style",
    "kl_label",
    "format_divergence",
    "annotate_values",
    "plot_pq",
    "shade_signed",
]

#: Colour of the fixed distribution p in every figure.
P_COLOR = "#1f4e9c"
#: Colour of the approximation q in every figure.
Q_COLOR = "#d1495b"
#: Fill for regions where an integrand is positive.
POS_COLOR = "#2a9d8f"
#: Fill for regions where an integrand is negative.
NEG_COLOR = "#e9a03b"


def use_book_style() -> None:
    """Set the matplotlib defaults used by every figure in the book.

    * Crisp on any screen: in a notebook, figures are output as "retina" PNGs, rendered at
      twice their display size (2 x 110 = 220 dpi) and shown at their 110-dpi size, so the
      book's HTML has at least two image pixels per CSS pixel (``<img>`` width and height
      come from the output's metadata). The whole figure is saved, not cropped to a tight
      box: constrained layout already keeps every artist inside the figure with a small
      margin, and the tight box would cost a second layout pass (about a quarter of the
      rendering time of a figure).
    * Readable: text is at least 9.5 pt. A figure shown in the book's 672 px column is
      scaled by ``672 / (width_in_inches * 110)``, so text of ``s`` pt is ``9.33 s / width``
      px on screen: keep ``width <= s`` inches (7.5 in wide with 9.5 pt text gives 11.8 px;
      a three-panel figure 11 in wide needs ``fontsize >= 10``).
    * Mathtext, not pseudo-LaTeX: write labels as ``r"$D_{\\mathrm{KL}}(p\\Vert q)$"``,
      or use :func:`kl_label`.
    * Deterministic output: no timestamps in saved files, fixed SVG ids; a white figure
      background, which the HTML build turns into the page background in dark mode
      (book_ext/klbook_html.py makes a dark rendering of every figure).
    """
    mpl.rcParams.update(
        {
            "figure.figsize": (7.5, 4.2),
            "figure.dpi": 110,
            "savefig.dpi": 220,
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "font.size": 10.5,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.labelsize": 10.5,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "legend.fontsize": 9.5,
            "mathtext.fontset": "dejavusans",
            "svg.hashsalt": "klbook",
            "figure.constrained_layout.use": True,
        }
    )
    shell = get_ipython() if get_ipython is not None else None
    if shell is not None and set_matplotlib_formats is not None:
        set_matplotlib_formats("retina", bbox_inches=None)


def kl_label(first: str = "p", second: str = "q", *, divergence: str = "KL") -> str:
    r"""A mathtext label for a divergence, typeset by matplotlib like the book's prose.

    ``divergence`` is the symbol in mathtext; ``"KL"`` (the default) stands for
    :math:`D_{\mathrm{KL}}`.

    Examples
    --------
    >>> kl_label()
    '$D_{\\mathrm{KL}}(p\\,\\Vert\\,q)$'
    >>> kl_label("q", "p")
    '$D_{\\mathrm{KL}}(q\\,\\Vert\\,p)$'
    """
    symbol = r"D_{\mathrm{KL}}" if divergence == "KL" else divergence
    return f"${symbol}({first}\\,\\Vert\\,{second})$"


def format_divergence(value: float, *, unit: str = "nats", digits: int = 4) -> str:
    """Format a divergence for printing on a figure.

    ``inf`` prints as ``∞``; very small or large values switch to scientific
    notation so that no digit the caller computed is rounded away to ``0.0000``.

    Examples
    --------
    >>> format_divergence(0.123456)
    '0.1235 nats'
    >>> format_divergence(float("inf"), unit="bits")
    '∞ bits'
    >>> format_divergence(2.5e-7)
    '2.500e-07 nats'
    """
    if math.isinf(value):
        number = "∞" if value > 0 else "−∞"
    elif value != 0 and (abs(value) < 10 ** (-digits + 1) or abs(value) >= 1e5):
        number = f"{value:.{digits - 1}e}"
    else:
        number = f"{value:.{digits}f}"
    return f"{number} {unit}".strip()


def annotate_values(
    ax: Axes,
    values: Mapping[str, str] | Sequence[str],
    *,
    loc: str = "upper right",
    fontsize: float | None = None,
) -> None:
    """Print computed values in a boxed label inside the axes.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to print.
    values : mapping of label to formatted value, or a sequence of lines
        For example ``{"KL(p‖q)": format_divergence(kl)}``.
    loc : str
        One of ``"upper right"``, ``"upper left"``, ``"lower right"``, ``"lower left"``,
        ``"upper center"``.
    """
    lines = [f"{k} = {v}" for k, v in values.items()] if isinstance(values, Mapping) else list(values)
    positions = {
        "upper right": (0.98, 0.97, "right", "top"),
        "upper left": (0.02, 0.97, "left", "top"),
        "lower right": (0.98, 0.03, "right", "bottom"),
        "lower left": (0.02, 0.03, "left", "bottom"),
        "upper center": (0.5, 0.97, "center", "top"),
    }
    if loc not in positions:
        raise ValueError(f"loc must be one of {sorted(positions)}, got {loc!r}")
    x, y, ha, va = positions[loc]
    ax.text(
        x,
        y,
        "\n".join(lines),
        transform=ax.transAxes,
        ha=ha,
        va=va,
        fontsize=fontsize,
        bbox={"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": "0.7", "alpha": 0.92},
    )


def plot_pq(
    ax: Axes,
    x: ArrayLike,
    p: ArrayLike,
    q: ArrayLike,
    *,
    p_label: str = "p (fixed)",
    q_label: str = "q (approximation)",
    fill: bool = True,
) -> None:
    """Draw two densities on a grid in the book's colours.

    ``p`` and ``q`` are density values on ``x``, computed by the caller.
    """
    x, p, q = (np.asarray(a, dtype=float) for a in (x, p, q))
    ax.plot(x, p, color=P_COLOR, lw=2, label=p_label)
    ax.plot(x, q, color=Q_COLOR, lw=2, ls="--", label=q_label)
    if fill:
        ax.fill_between(x, p, color=P_COLOR, alpha=0.12, lw=0)
        ax.fill_between(x, q, color=Q_COLOR, alpha=0.10, lw=0)


def shade_signed(
    ax: Axes,
    x: ArrayLike,
    y: ArrayLike,
    *,
    label_pos: str = "positive area",
    label_neg: str = "negative area",
    line_label: str | None = None,
) -> None:
    """Draw a curve and shade its positive and negative parts in two colours.

    Used for integrands such as :math:`p(x)\\log(p(x)/q(x))`, whose area can
    be negative locally while the total is not.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ax.axhline(0.0, color="0.4", lw=0.8)
    ax.fill_between(x, y, 0.0, where=y >= 0, interpolate=True, color=POS_COLOR, alpha=0.45, lw=0, label=label_pos)
    ax.fill_between(x, y, 0.0, where=y < 0, interpolate=True, color=NEG_COLOR, alpha=0.55, lw=0, label=label_neg)
    ax.plot(x, y, color="0.15", lw=1.4, label=line_label)


def close_all() -> None:
    """Close every open figure (keeps long notebooks light)."""
    plt.close("all")
