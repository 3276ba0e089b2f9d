"""Independent references for the explorers' numbers, and a JavaScript runner.

The explorers compute in JavaScript (``klbook/book/explorers/explorer.js``). The
tests compare every number they show with references computed here without
klbook's code and without the explorers' quadrature:

* cross-entropy against a Gaussian q from p's first two moments (hand-derived):
  ``H(p, N(m, s^2)) = log(s sqrt(2 pi)) + (Var p + (E p - m)^2) / (2 s^2)``;
* entropies from scipy's closed forms, or by mpmath quadrature for mixtures;
* reverse KL and the alpha-divergence by scipy's adaptive Gauss-Kronrod
  quadrature split at every feature (a rule unrelated to the explorers'
  grids), checked here against mpmath at 20 digits.

``js_compute(specs_and_states)`` runs the JavaScript core in Node, or in
Chromium when Node is missing. Other explorer test modules load this file by
path (``load_refs()``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
import tempfile
import warnings
from functools import lru_cache
from pathlib import Path

import mpmath as mp
from mpmath import libmp
import numpy as np
import pytest
from scipy import stats
from scipy.integrate import IntegrationWarning, quad

from klbook.book.explorers import core_js
from klbook.core.mixtures import GaussianMixture
from local_chromium import CHROMIUM, CHROMIUM_ARGS

TOL = 1e-9


def close(a: float, b: float, tol: float = TOL) -> bool:
    """|a - b| <= tol * max(1, |b|), and equal infinities."""
    if math.isinf(b) or math.isinf(a):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))


# --------------------------------------------------------------------------- references


def mixture_params(p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(p, GaussianMixture):
        return np.asarray(p.weights, float), np.asarray(p.means, float), np.asarray(p.stds, float)
    if p.dist.name == "norm":
        return np.array([1.0]), np.array([float(p.mean())]), np.array([float(p.std())])
    raise TypeError(p)


def mixture_moments(p) -> tuple[float, float]:
    """Mean and variance of a Gaussian mixture, hand-derived: E x = sum w m, E x^2 = sum w (s^2 + m^2)."""
    w, m, s = mixture_params(p)
    mean = float(np.dot(w, m))
    return mean, float(np.dot(w, s**2 + m**2) - mean**2)


def moments(p) -> tuple[float, float]:
    if isinstance(p, GaussianMixture):
        return mixture_moments(p)
    return float(p.mean()), float(p.var())


def ref_cross_entropy(p, m: float, s: float) -> float:
    """H(p, N(m, s^2)) from p's mean and variance (exact for any p with finite variance)."""
    mu, var = moments(p)
    return math.log(s) + 0.5 * math.log(2 * math.pi) + (var + (mu - m) ** 2) / (2 * s * s)


def _mp_mixture_logpdf(w, m, s):
    """x -> log sum_k w_k mp.npdf(x, m_k, s_k), at mpmath's working precision when called.

    Bit for bit what ``mp.log(mp.fsum(wk * mp.npdf(x, mk, sk) for ...))`` gives, in about 40 % of
    its time (the mixture entropies of the page tests are most of their Python time): the same
    operations on mpmath's raw numbers (``mpmath.libmp``), each at the precision and rounding
    mp.npdf uses (``prec + 10`` bits, then rounded to ``prec``), with the parts that do not depend
    on x (``2 s_k**2``, ``s_k sqrt(2 pi)``) formed once per precision instead of at every x.
    ``test_mixture_logpdf_is_mpmaths_to_the_bit`` compares the two."""
    w = [mp.mpf(float(v)) for v in w]
    m = [mp.mpf(float(v)) for v in m]
    s = [mp.mpf(float(v)) for v in s]
    consts: dict[int, list[tuple]] = {}
    rnd = libmp.round_nearest

    def lp(x):
        prec = mp.mp.prec
        hi = prec + 10
        if prec not in consts:
            with mp.workprec(hi):
                consts[prec] = [(wk._mpf_, mk._mpf_, (2 * sk**2)._mpf_, (sk * mp.sqrt(2 * mp.pi))._mpf_)
                                for wk, mk, sk in zip(w, m, s)]
        xv = mp.convert(x)._mpf_
        terms = []
        for wk, mk, two_var, norm in consts[prec]:
            z = libmp.mpf_neg(libmp.mpf_pow_int(libmp.mpf_sub(xv, mk, hi, rnd), 2, hi, rnd), hi, rnd)
            pdf = libmp.mpf_div(libmp.mpf_exp(libmp.mpf_div(z, two_var, hi, rnd), hi, rnd), norm, hi, rnd)
            terms.append(libmp.mpf_mul(wk, libmp.mpf_pos(pdf, prec, rnd), prec, rnd))
        return mp.make_mpf(libmp.mpf_log(libmp.mpf_sum(terms, prec, rnd), prec, rnd))

    return lp


def _mp_mixture_logpdf_plain(w, m, s):
    """The same function written with mpmath's functions (what ``_mp_mixture_logpdf`` must equal)."""
    w = [mp.mpf(float(v)) for v in w]
    m = [mp.mpf(float(v)) for v in m]
    s = [mp.mpf(float(v)) for v in s]

    def lp(x):
        return mp.log(mp.fsum(wk * mp.npdf(x, mk, sk) for wk, mk, sk in zip(w, m, s)))

    return lp


@lru_cache(maxsize=None)
def _mixture_entropy(w: tuple, m: tuple, s: tuple) -> float:
    lp = _mp_mixture_logpdf(w, m, s)
    with mp.workdps(20):
        pts = sorted({mk + k * sk for mk, sk in zip(m, s) for k in (-12, -4, -1, 0, 1, 4, 12)})
        val = mp.quad(lambda x: -mp.exp(v := lp(x)) * v, [-mp.inf] + pts + [mp.inf])
    return float(val)


def ref_entropy(p) -> float:
    """H(p): mpmath at 20 digits for mixtures, scipy's closed form otherwise."""
    if isinstance(p, GaussianMixture):
        w, m, s = mixture_params(p)
        return _mixture_entropy(tuple(w), tuple(m), tuple(s))
    return float(p.entropy())


def ref_forward(p, m: float, s: float) -> float:
    """KL(p || N(m, s^2)) = H(p, q) - H(p)."""
    return ref_cross_entropy(p, m, s) - ref_entropy(p)


@lru_cache(maxsize=None)
def _components(p) -> tuple[tuple[float, float, float], ...]:
    w, mm, ss = mixture_params(p)
    return tuple((math.log(a) - math.log(c) - 0.5 * math.log(2 * math.pi), b, c) for a, b, c in zip(w, mm, ss) if a > 0)


def _mixture_logpdf(p, x: float) -> float:
    """log p for a Gaussian mixture, written out here with the max trick (scalar x)."""
    terms = [lc - 0.5 * ((x - m) / s) ** 2 for lc, m, s in _components(p)]
    top = max(terms)
    return top + math.log(math.fsum(math.exp(t - top) for t in terms))


def _norm_logpdf(x: float, m: float, s: float) -> float:
    return -0.5 * ((x - m) / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi)


def _quad(f, p, m: float, s: float) -> float:
    """Adaptive Gauss-Kronrod (scipy.integrate.quad) over the line, split at every feature."""
    _, mm, ss = mixture_params(p)
    pts = sorted({float(v) for v in [m + k * s for k in (-40, -10, -2, 0, 2, 10, 40)]
                  + [a + k * b for a, b in zip(mm, ss) for k in (-12, 0, 12)]
                  + [0.5 * (a + b) for a, b in zip(sorted(mm)[:-1], sorted(mm)[1:])]})
    total = 0.0
    with warnings.catch_warnings():  # "roundoff detected" at 1e-13: the mpmath checks below bound the error
        warnings.simplefilter("ignore", IntegrationWarning)
        for a, b in zip(pts[:-1], pts[1:]):
            total += quad(f, a, b, epsabs=1e-15, epsrel=1e-13, limit=400)[0]
    return total


def ref_reverse(p, m: float, s: float) -> float:
    """KL(q || p) = int q (log q - log p) by adaptive quadrature (p a Gaussian mixture)."""

    def f(x):
        lq = _norm_logpdf(x, m, s)
        return math.exp(lq) * (lq - _mixture_logpdf(p, x))

    return _quad(f, p, m, s)


def ref_forward_quad(p, m: float, s: float) -> float:
    """KL(p || q) = int p (log p - log q) by adaptive quadrature (p a Gaussian mixture)."""

    def f(x):
        lp = _mixture_logpdf(p, x)
        return math.exp(lp) * (lp - _norm_logpdf(x, m, s))

    return _quad(f, p, m, s)


def ref_alpha(p, m: float, s: float, alpha: float) -> float:
    """Minka's D_alpha(p || q) = int [alpha p + (1 - alpha) q - p^alpha q^(1 - alpha)] / (alpha (1 - alpha)),
    KL(q || p) at alpha = 0 and KL(p || q) at alpha = 1. Every term is >= 0 (weighted AM-GM)."""
    if alpha == 0.0:
        return ref_reverse(p, m, s)
    if alpha == 1.0:
        return ref_forward(p, m, s)

    def f(x):
        lp, lq = _mixture_logpdf(p, x), _norm_logpdf(x, m, s)
        return alpha * math.exp(lp) + (1 - alpha) * math.exp(lq) - math.exp(alpha * lp + (1 - alpha) * lq)

    return _quad(f, p, m, s) / (alpha * (1 - alpha))


def _scan(p, m: float, s: float, xs: np.ndarray, d) -> np.ndarray:
    """``d`` at every grid point, for the sign scan: the same formula as ``_mixture_logpdf`` minus
    ``_norm_logpdf`` (the max trick), evaluated with numpy arrays instead of one Python call per point.
    The two differ only by rounding (< 1e-12 here), so every point where the array value is within
    1e-8 of 0 is recomputed with the scalar ``d``: the signs, and so the brackets, are exactly the
    scalar scan's."""
    comps = np.array(_components(p))  # rows (log w - log s - log sqrt(2 pi), mean, std)
    terms = comps[:, :1] - 0.5 * ((xs - comps[:, 1:2]) / comps[:, 2:3]) ** 2
    top = terms.max(axis=0)
    lp = top + np.log(np.exp(terms - top).sum(axis=0))
    ds = lp - (-0.5 * ((xs - m) / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi))
    near = np.abs(ds) <= 1e-8
    ds[near] = [d(x) for x in xs[near]]
    return ds


def ref_signed_areas(p, m: float, s: float) -> dict[str, float]:
    """Positive and negative areas of p log(p/q) and TV(p, q) = int max(p - q, 0), for a Gaussian mixture p:
    the crossings p = q found by brentq on a fine scan, each region integrated by adaptive quadrature."""
    from scipy.optimize import brentq

    _, mm, ss = mixture_params(p)
    lo = min(min(mm - 14 * ss), m - 14 * s)
    hi = max(max(mm + 14 * ss), m + 14 * s)

    def d(x):
        return _mixture_logpdf(p, x) - _norm_logpdf(x, m, s)

    xs = np.linspace(lo, hi, 20001)
    ds = _scan(p, m, s, xs, d)
    flips = np.flatnonzero((ds[:-1] > 0) != (ds[1:] > 0))   # the scan's sign changes, in order
    cuts = [lo] + [brentq(d, xs[i], xs[i + 1], xtol=1e-15, rtol=1e-15) for i in flips] + [hi]
    out = {"positive": 0.0, "negative": 0.0, "total_variation": 0.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IntegrationWarning)
        for a, b in zip(cuts[:-1], cuts[1:]):
            f = lambda x: math.exp(_mixture_logpdf(p, x)) * d(x)  # noqa: E731
            v = quad(f, a, b, epsabs=1e-15, epsrel=1e-13, limit=400)[0]
            if d(0.5 * (a + b)) > 0:
                out["positive"] += v
                g = lambda x: math.exp(_mixture_logpdf(p, x)) - math.exp(_norm_logpdf(x, m, s))  # noqa: E731
                out["total_variation"] += quad(g, a, b, epsabs=1e-15, epsrel=1e-13, limit=400)[0]
            else:
                out["negative"] += v
    return out


def mp_reverse(p, m: float, s: float) -> float:
    """KL(q || p) by mpmath at 20 digits (slow; checks the Gauss-Hermite reference)."""
    w, mm, ss = mixture_params(p)
    lp = _mp_mixture_logpdf(w, mm, ss)
    with mp.workdps(20):
        M, S = mp.mpf(m), mp.mpf(s)

        def f(x):
            lq = -((x - M) / S) ** 2 / 2 - mp.log(S) - mp.log(2 * mp.pi) / 2
            return mp.exp(lq) * (lq - lp(x))

        pts = sorted({float(v) for v in [m + k * s for k in (-12, -3, 0, 3, 12)] + list(mm)})
        return float(mp.quad(f, [-mp.inf] + pts + [mp.inf]))


def mp_alpha(p, m: float, s: float, alpha: float) -> float:
    """Minka's alpha-divergence by mpmath at 20 digits, from its definition."""
    w, mm, ss = mixture_params(p)
    lp = _mp_mixture_logpdf(w, mm, ss)
    with mp.workdps(20):
        M, S, A = mp.mpf(m), mp.mpf(s), mp.mpf(alpha)

        def f(x):
            lq = -((x - M) / S) ** 2 / 2 - mp.log(S) - mp.log(2 * mp.pi) / 2
            lpx = lp(x)  # once per node
            pv, qv = mp.exp(lpx), mp.exp(lq)
            return A * pv + (1 - A) * qv - mp.exp(A * lpx + (1 - A) * lq)

        pts = sorted({float(v) for v in [m + k * s for k in (-12, -3, 0, 3, 12)] + list(mm)})
        return float(mp.quad(f, [-mp.inf] + pts + [mp.inf]) / (A * (1 - A)))


# --------------------------------------------------------------------------- running the JS core

_NODE_RUNNER = r"""
const core = require(process.argv[1]);
const rl = require('readline').createInterface({input: process.stdin});
rl.on('line', line => {
  const req = JSON.parse(line, (k, v) => v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);
  let out;
  try {
    out = req.cases.map(c => {
      if (c.call && c.spec) return core[c.call].apply(null, [core.prepare(c.spec)].concat(c.args));
      if (c.call) return core[c.call].apply(null, c.args);
      const ctx = core.prepare(c.spec);
      return c.states.map(s => core.compute(ctx, s));
    });
  } catch (e) { out = {error: String(e && e.stack || e)}; }
  process.stdout.write(JSON.stringify(out, (k, v) =>
      ArrayBuffer.isView(v) ? Array.from(v) :
      (typeof v === 'number' && !isFinite(v)) ? (v !== v ? 'NaN' : (v > 0 ? 'Infinity' : '-Infinity')) : v) + '\n');
});
"""

_PAGE_RUNNER = r"""
(text) => {
  const req = JSON.parse(text, (k, v) => v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);
  const core = window.klbookExplorers;
  const out = req.cases.map(c => {
    if (c.call && c.spec) return core[c.call].apply(null, [core.prepare(c.spec)].concat(c.args));
    if (c.call) return core[c.call].apply(null, c.args);
    const ctx = core.prepare(c.spec);
    return c.states.map(s => core.compute(ctx, s));
  });
  return JSON.stringify(out, (k, v) =>
      ArrayBuffer.isView(v) ? Array.from(v) :
      (typeof v === 'number' && !isFinite(v)) ? (v !== v ? 'NaN' : (v > 0 ? 'Infinity' : '-Infinity')) : v);
}
"""


def _decode(obj):
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _decode(v) for k, v in obj.items()}
    if obj in ("Infinity", "-Infinity", "NaN"):
        return float(obj.lower().replace("infinity", "inf"))
    return obj


class NodeEngine:
    """The JS core in a long-lived ``node`` process, one JSON request per line."""

    name = "node"

    def __init__(self, node: str) -> None:
        # the script exactly as a page gets it (core and every part), as a CommonJS module
        self._dir = tempfile.TemporaryDirectory(prefix="klbook-explorers-")
        js = Path(self._dir.name) / "klbook_explorers.js"
        js.write_text(core_js(), encoding="utf-8")
        self.proc = subprocess.Popen(
            [node, "-e", _NODE_RUNNER, str(js)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, cases: list[dict]) -> list:
        self.proc.stdin.write(json.dumps({"cases": cases}) + "\n")
        self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline())
        if isinstance(out, dict) and "error" in out:
            raise RuntimeError(out["error"])
        return _decode(out)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self._dir.cleanup()


class ChromiumEngine:
    """The JS core in a blank Chromium page (used when Node is not installed)."""

    name = "chromium"

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        self.page = self._browser.new_page()
        self.page.set_content("<!DOCTYPE html><html><body></body></html>")
        self.page.add_script_tag(content=core_js())

    def run(self, cases: list[dict]) -> list:
        return _decode(json.loads(self.page.evaluate(_PAGE_RUNNER, json.dumps({"cases": cases}))))

    def close(self) -> None:
        self._browser.close()
        self._pw.stop()


def make_engine():
    node = shutil.which("node")
    if node:
        return NodeEngine(node)
    if Path(CHROMIUM).exists():
        return ChromiumEngine()
    pytest.skip("neither node nor Chromium is installed: cannot run the explorers' JavaScript")


def load_refs():
    """This module, loaded by path (for tests in other directories)."""
    spec = importlib.util.spec_from_file_location("klbook_explorer_refs", __file__)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --------------------------------------------------------------------------- the references agree


BIMODAL = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
SKEWED = GaussianMixture([0.2, 0.5, 0.3], [-3.0, 0.5, 2.5], [0.5, 1.2, 0.4])


FAR = GaussianMixture([0.4, 0.6], [-5.0, 5.0], [0.5, 0.5])


@pytest.mark.parametrize("p", [BIMODAL, SKEWED, FAR], ids=["bimodal", "three", "far"])
@pytest.mark.parametrize("m, s", [(0.0, 1.0), (-3.5, 0.3)])
def test_quad_reverse_agrees_with_mpmath(p, m, s):
    assert close(ref_reverse(p, m, s), mp_reverse(p, m, s), 1e-12)
    assert close(ref_forward_quad(p, m, s), ref_forward(p, m, s), 1e-12)


@pytest.mark.parametrize("alpha, m, s", [(0.1, 2.0, 0.6), (0.5, 0.0, 2.0), (0.9, 0.5, 1.0)])
def test_quad_alpha_agrees_with_mpmath(alpha, m, s):
    assert close(ref_alpha(BIMODAL, m, s, alpha), mp_alpha(BIMODAL, m, s, alpha), 1e-11)


def test_forward_reference_is_the_gaussian_closed_form():
    # KL(N(a, b^2) || N(m, s^2)) = log(s/b) + (b^2 + (a - m)^2) / (2 s^2) - 1/2, by hand.
    for a, b, m, s in [(0.0, 1.0, 1.0, 1.5), (2.0, 0.3, -1.0, 2.0)]:
        exact = math.log(s / b) + (b * b + (a - m) ** 2) / (2 * s * s) - 0.5
        assert close(ref_forward(stats.norm(a, b), m, s), exact, 1e-13)
        assert close(ref_forward(GaussianMixture([1.0], [a], [b]), m, s), exact, 1e-13)
        assert close(ref_reverse(GaussianMixture([1.0], [a], [b]), m, s),
                     math.log(b / s) + (s * s + (m - a) ** 2) / (2 * b * b) - 0.5, 1e-12)


def test_mixture_moments_by_hand():
    assert mixture_moments(BIMODAL) == pytest.approx((0.0, 4.36), abs=1e-15)


def test_mixture_logpdf_is_mpmaths_to_the_bit():
    """``_mp_mixture_logpdf`` (raw mpmath numbers, constants formed once) equals mpmath's own
    ``log(fsum(w * npdf(x, m, s)))`` exactly, at the precisions the references use and around them,
    for x near and far from the components (the quadratures' nodes reach |x| ~ 1e3 and beyond)."""
    xs = [0, 0.3, -1.7, 2.0, 1e-9, -12.5, 40.0, -333.25, 1e3, -2.5e4] + [k / 7 - 6 for k in range(85)]
    for p in (BIMODAL, SKEWED, FAR, GaussianMixture([1.0], [0.25], [1.5e-3])):
        w, m, s = mixture_params(p)
        fast, plain = _mp_mixture_logpdf(w, m, s), _mp_mixture_logpdf_plain(w, m, s)
        for dps in (15, 20, 33):
            with mp.workdps(dps):
                for x in xs:
                    x = mp.mpf(x) / 3   # not a float: the last bits of x matter too
                    assert fast(x) == plain(x), (p, dps, x)
