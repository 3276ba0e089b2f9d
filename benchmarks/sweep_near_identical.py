r"""Class-6 sweep (issue 16): KL of near-identical same-family pairs, engine against mpmath.

For every continuous and discrete ``scipy.stats`` family (the members of
``scipy.stats._distr_params``: scipy's own test shapes), pairs of two members
that differ by a relative ``delta`` (default 1e-6) in one shape, in loc or in
scale are formed, and :func:`klbook.kl_numeric` (the pairwise engine) is
compared with an mpmath reference at 30 digits:

* continuous: ``mp.quad`` of :math:`p\,\varphi(d)`, :math:`d = \log p - \log q`,
  :math:`\varphi(d) = d + e^{-d} - 1`, over p's support split at p's quantiles;
* discrete: the exact sum of :math:`p_k\,\varphi(d_k)` over p's support (to p's
  1e-40 quantile), plus q's mass outside p's support.

The log-densities of the references are **scipy's own formulas evaluated in
mpmath**: the family's ``_logpdf``/``_logpmf`` (or ``log`` of ``_pdf``/``_pmf``)
is called on object arrays of mpf numbers, with ``scipy.special`` and numpy's
NaN tests replaced by mpmath equivalents (:class:`_MpSpecial`, :class:`_MpNumpy`)
while the reference runs. So the reference shares scipy's *definition* of each
family (as every user of it does) but none of its float64 rounding, which is
exactly what a near-identical pair tests: :math:`d` is :math:`O(\delta)`, and
float64 log-densities carry :math:`10^{-16}|\log p|`. A float constant inside a
formula (``np.pi``, ``_norm_pdf_logC``) is the same in p and q, so it changes the
reference only at :math:`10^{-16}` relative. A family whose formula leaves mpmath
(compiled code, float casts) is detected (the mpmath log-density must agree
with scipy's float64 one at a few points) and reported as "no reference".

References are cached in ``benchmarks/sweep_near_identical_refs.json`` (keyed by
the pair's label and delta); a rerun computes only new ones.

Usage::

    python benchmarks/sweep_near_identical.py [--delta 1e-6] [--families a,b,...] [--out table.txt]

Prints one row per family: the worst relative error, its pair, the engine's CPU
time, and the count of pairs.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
import warnings
from pathlib import Path

import mpmath as mp
import numpy as np
import scipy.stats as stats
import scipy.stats._continuous_distns as _cd
import scipy.stats._discrete_distns as _dd
from scipy.stats._distr_params import distcont, distdiscrete

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from klbook.core.numeric import kl_numeric  # noqa: E402

DPS = 30
CACHE = Path(__file__).with_name("sweep_near_identical_refs.json")
SKIP = {
    # no usable log-density in closed form (scipy integrates or inverts numerically)
    "levy_stable", "studentized_range", "ksone", "kstwo", "kstwobign", "landau", "irwinhall",
    "dpareto_lognorm", "genhyperbolic", "rel_breitwigner", "vonmises", "wrapcauchy", "poisson_binom",
    "nchypergeom_fisher", "nchypergeom_wallenius", "randint",
}


# --------------------------------------------------------------------------------------
# scipy's formulas in mpmath.
for _name, _fn in {
    "log": mp.log, "exp": mp.exp, "sqrt": mp.sqrt, "log1p": mp.log1p, "expm1": mp.expm1,
    "log2": lambda x: mp.log(x, 2), "log10": mp.log10, "sin": mp.sin, "cos": mp.cos, "tan": mp.tan,
    "arcsin": mp.asin, "arccos": mp.acos, "arctan": mp.atan, "sinh": mp.sinh, "cosh": mp.cosh,
    "tanh": mp.tanh, "arcsinh": mp.asinh, "arccosh": mp.acosh, "arctanh": mp.atanh,
    "floor": mp.floor, "rint": mp.nint, "conjugate": lambda x: x,
}.items():
    setattr(mp.mpf, _name, (lambda f: (lambda self: f(self)))(_fn))


def _m(x):
    return x if isinstance(x, mp.mpf) else mp.mpf(float(x))


def _u(fn, nin):
    """An elementwise function on object arrays (or scalars) from an mpmath function of mpf."""
    uf = np.frompyfunc(lambda *a: fn(*(_m(v) for v in a)), nin, 1)

    def call(*a, **kw):
        if kw.pop("out", None) is not None or kw:
            raise TypeError("keywords not supported in the mpmath shim")
        r = uf(*a)
        return r

    return call


def _xlogy(x, y):
    return mp.mpf(0) if x == 0 else x * mp.log(y)


def _xlog1py(x, y):
    return mp.mpf(0) if x == 0 else x * mp.log1p(y)


def _gammaln(x):
    return mp.loggamma(x) if x > 0 else mp.log(abs(mp.gamma(x)))


def _boxcox(x, lmb):
    return mp.log(x) if lmb == 0 else (x**lmb - 1) / lmb


class _MpSpecial:
    """The parts of scipy.special the families' log-densities use, in mpmath (elementwise)."""

    gammaln = staticmethod(_u(_gammaln, 1))
    loggamma = gammaln
    gamma = staticmethod(_u(mp.gamma, 1))
    beta = staticmethod(_u(mp.beta, 2))
    betaln = staticmethod(_u(lambda a, b: _gammaln(a) + _gammaln(b) - _gammaln(a + b), 2))
    xlogy = staticmethod(_u(_xlogy, 2))
    xlog1py = staticmethod(_u(_xlog1py, 2))
    log1p = staticmethod(_u(mp.log1p, 1))
    expm1 = staticmethod(_u(mp.expm1, 1))
    ndtr = staticmethod(_u(mp.ncdf, 1))
    log_ndtr = staticmethod(_u(lambda x: mp.log(mp.ncdf(x)), 1))
    ndtri = staticmethod(_u(lambda p: mp.sqrt(2) * mp.erfinv(2 * p - 1), 1))
    erf = staticmethod(_u(mp.erf, 1))
    erfc = staticmethod(_u(mp.erfc, 1))
    erfinv = staticmethod(_u(mp.erfinv, 1))
    expit = staticmethod(_u(lambda x: 1 / (1 + mp.exp(-x)), 1))
    log_expit = staticmethod(_u(lambda x: -mp.log1p(mp.exp(-x)), 1))
    logit = staticmethod(_u(lambda x: mp.log(x / (1 - x)), 1))
    psi = staticmethod(_u(mp.digamma, 1))
    digamma = psi
    polygamma = staticmethod(_u(lambda n, x: mp.polygamma(int(n), x), 2))
    zeta = staticmethod(_u(lambda s, q=1: mp.zeta(s, q), 2))
    gammainc = staticmethod(_u(lambda a, x: mp.gammainc(a, 0, x, regularized=True), 2))
    gammaincc = staticmethod(_u(lambda a, x: mp.gammainc(a, x, mp.inf, regularized=True), 2))
    betainc = staticmethod(_u(lambda a, b, x: mp.betainc(a, b, 0, x, regularized=True), 3))
    betaincc = staticmethod(_u(lambda a, b, x: mp.betainc(a, b, x, 1, regularized=True), 3))
    hyp1f1 = staticmethod(_u(mp.hyp1f1, 3))
    hyp2f1 = staticmethod(_u(mp.hyp2f1, 4))
    kv = staticmethod(_u(mp.besselk, 2))
    kve = staticmethod(_u(lambda v, x: mp.besselk(v, x) * mp.exp(x), 2))
    iv = staticmethod(_u(mp.besseli, 2))
    ive = staticmethod(_u(lambda v, x: mp.besseli(v, x) * mp.exp(-abs(x)), 2))
    i0 = staticmethod(_u(lambda x: mp.besseli(0, x), 1))
    i0e = staticmethod(_u(lambda x: mp.besseli(0, x) * mp.exp(-abs(x)), 1))
    i1e = staticmethod(_u(lambda x: mp.besseli(1, x) * mp.exp(-abs(x)), 1))
    k1e = staticmethod(_u(lambda x: mp.besselk(1, x) * mp.exp(x), 1))
    cosm1 = staticmethod(_u(lambda x: mp.cos(x) - 1, 1))
    powm1 = staticmethod(_u(lambda x, y: x**y - 1, 2))
    boxcox = staticmethod(_u(_boxcox, 2))
    boxcox1p = staticmethod(_u(lambda x, lmb: _boxcox(1 + x, lmb), 2))
    poch = staticmethod(_u(mp.rf, 2))
    binom = staticmethod(_u(mp.binomial, 2))
    comb = binom
    entr = staticmethod(_u(lambda x: -x * mp.log(x) if x > 0 else mp.mpf(0), 1))

    def __getattr__(self, name):
        raise AttributeError(f"scipy.special.{name} has no mpmath version in this sweep")


class _MpNumpy:
    """numpy, with the NaN/inf tests (which have no object loop) working on mpf arrays."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def _obj(f):
        def g(x, *a, **k):
            arr = np.asarray(x)
            if arr.dtype == object:
                return np.vectorize(lambda v: bool(f(float(v) if not isinstance(v, mp.mpf) else v)), otypes=[bool])(arr)
            return getattr(np, f.__name__)(x, *a, **k)
        return g


def _isnan(v):
    return mp.isnan(v) if isinstance(v, mp.mpf) else math.isnan(v)


def _isinf(v):
    return mp.isinf(v) if isinstance(v, mp.mpf) else math.isinf(v)


def _isfinite(v):
    return not (_isnan(v) or _isinf(v))


_isnan.__name__, _isinf.__name__, _isfinite.__name__ = "isnan", "isinf", "isfinite"
for _f in (_isnan, _isinf, _isfinite):
    setattr(_MpNumpy, _f.__name__, staticmethod(_MpNumpy._obj(_f)))


class _mp_formulas:
    """While active, the scipy family modules compute with the mpmath shims."""

    PATCH = {
        _cd: {"sc": _MpSpecial(), "np": _MpNumpy()},
        _dd: {"special": _MpSpecial(), "np": _MpNumpy(), "gamln": _MpSpecial.gammaln, "betaln": _MpSpecial.betaln,
              "log": _u(mp.log, 1), "exp": _u(mp.exp, 1), "log1p": _u(mp.log1p, 1), "expm1": _u(mp.expm1, 1),
              "sqrt": _u(mp.sqrt, 1), "tanh": _u(mp.tanh, 1), "cosh": _u(mp.cosh, 1), "sinh": _u(mp.sinh, 1),
              "floor": _u(mp.floor, 1), "entr": _MpSpecial.entr},
    }

    def __enter__(self):
        self.saved = []
        for mod, names in self.PATCH.items():
            for k, v in names.items():
                self.saved.append((mod, k, mod.__dict__.get(k)))
                setattr(mod, k, v)
        return self

    def __exit__(self, *exc):
        for mod, k, v in reversed(self.saved):
            setattr(mod, k, v)


def mp_logdens(dist, shapes, discrete: bool):
    """x (mpf, standard coordinates) -> log-density of the standard member, from scipy's formula in mpmath."""
    gen = dist
    own_log = type(gen)._logpmf if discrete else type(gen)._logpdf
    generic = stats.rv_discrete._logpmf if discrete else stats.rv_continuous._logpdf
    sh = [np.array([mp.mpf(float(s))], dtype=object) for s in shapes]

    def f(x):
        """(call inside ``with _mp_formulas():``)"""
        xa = np.array([x if isinstance(x, mp.mpf) else mp.mpf(x)], dtype=object)
        if own_log is not generic:
            v = (gen._logpmf if discrete else gen._logpdf)(xa, *sh)
        else:
            v = (gen._pmf if discrete else gen._pdf)(xa, *sh)
            v = np.array([mp.log(np.asarray(v).ravel()[0])], dtype=object)
        v = np.asarray(v).ravel()[0]
        if not isinstance(v, mp.mpf):
            raise TypeError(f"formula left mpmath: {type(v).__name__}")
        return v

    return f


def _kappa4(x, h, k):
    y = mp.log1p(-k * x) / k if k != 0 else -x  # log(1 - k x)^(1/k)
    t = (1 / k - 1) * mp.log1p(-k * x) if k != 0 else -x
    return t + ((1 / h - 1) * mp.log1p(-h * mp.exp(y)) if h != 0 else -mp.exp(y))


def _genextreme(x, c):
    if c == 0:
        return -mp.exp(-x) - x
    return -mp.exp(mp.log1p(-c * x) / c) + (1 / c - 1) * mp.log1p(-c * x)


def _genhalflogistic(x, c):
    y = mp.exp(mp.log1p(-c * x) / c)  # (1 - c x)^(1/c)
    return mp.log(2) + (1 / c - 1) * mp.log1p(-c * x) - 2 * mp.log1p(y)


def _pearson3(x, skew):
    beta = 2 / skew
    alpha = beta * beta
    z = beta * (x + alpha / beta)  # beta (x - zeta), zeta = -alpha / beta
    return mp.log(abs(beta)) + (alpha - 1) * mp.log(z) - z - mp.loggamma(alpha)


def _triang(x, c):
    return mp.log(2 * x / c) if x < c else mp.log(2 * (1 - x) / (1 - c))


def _trapezoid(x, c, d):
    u = 2 / (d - c + 1)
    if x < c:
        return mp.log(u * x / c)
    if x <= d:
        return mp.log(u)
    return mp.log(u * (1 - x) / (1 - d))


# Textbook log-densities (scipy's parametrisation) for families whose scipy formula leaves mpmath
# (compiled code, float-only helpers): x, *shapes (mpf) -> log f.
HAND = {
    "geninvgauss": lambda x, p, b: (p - 1) * mp.log(x) - b * (x + 1 / x) / 2 - mp.log(2 * mp.besselk(p, b)),
    "kappa4": _kappa4,
    "genextreme": _genextreme,
    "genhalflogistic": _genhalflogistic,
    "johnsonsb": lambda x, a, b: mp.log(b) - mp.log(x * (1 - x)) - (a + b * mp.log(x / (1 - x))) ** 2 / 2 - mp.log(2 * mp.pi) / 2,
    "norminvgauss": lambda x, a, b: (mp.log(a) + mp.log(mp.besselk(1, a * mp.sqrt(1 + x * x))) - mp.log(mp.pi)
                                     - mp.log(1 + x * x) / 2 + mp.sqrt(a * a - b * b) + b * x),
    "pearson3": _pearson3,
    "triang": _triang,
    "trapezoid": _trapezoid,
}


def hand_logdens(name, shapes):
    fn = HAND.get(name)
    if fn is None:
        return None
    sh = [mp.mpf(float(v)) for v in shapes]
    return lambda x: fn(x if isinstance(x, mp.mpf) else mp.mpf(x), *sh)


def _check_logdens(f, frozen, xs) -> bool:
    """The mpmath log-density agrees with scipy's float64 one at xs (to 1e-9)."""
    refs = [float(frozen.logpmf(x) if hasattr(frozen, "pmf") else frozen.logpdf(x)) for x in xs]
    with _mp_formulas():
        for x, ref in zip(xs, refs):
            if not math.isfinite(ref):
                continue
            try:
                v = f(mp.mpf(float(x)))
            except Exception:  # noqa: BLE001 - a formula the shim cannot run
                return False
            if not mp.isfinite(v) or abs(float(v) - ref) > 1e-9 * (1 + abs(ref)):
                return False
    return True


# --------------------------------------------------------------------------------------
# Pairs.
def _families():
    seen = {}
    for name, shapes in distcont:
        seen.setdefault(("c", name), []).append(tuple(shapes))
    for name, shapes in distdiscrete:
        seen.setdefault(("d", name), []).append(tuple(shapes))
    return seen


def _nested(p, q) -> bool:
    plo, phi = (float(v) for v in p.support())
    qlo, qhi = (float(v) for v in q.support())
    return qlo <= plo and phi <= qhi


def pairs(delta: float, families=None, full: bool = False):
    """(family, label, p frozen, q frozen, kind, shapes_p, shapes_q, loc_q, scale_q) per near-identical pair."""
    out = []
    for (kind, name), shape_sets in _families().items():
        if name in SKIP or (families and name not in families):
            continue
        dist = getattr(stats, name)
        for shapes in shape_sets[: 2 if full else 1]:
            p = dist(*shapes)
            cands = []
            for i, s in enumerate(shapes):
                if kind == "d" and float(s) == round(float(s)) and name in (
                        "binom", "betabinom", "betanbinom", "hypergeom", "nhypergeom", "boltzmann", "zipfian"):
                    continue  # integer shapes (n, N, M): no near-identical neighbour
                for sgn in (1.0, -1.0):
                    sq = list(shapes)
                    sq[i] = float(s) * (1 + sgn * delta) if s != 0 else sgn * delta
                    cands.append((f"shape{i}{'+' if sgn > 0 else '-'}", tuple(sq), 0.0, 1.0))
            if kind == "c":
                lo, hi = (float(v) for v in p.support())
                if math.isinf(lo) and math.isinf(hi):
                    cands += [("loc+", shapes, delta, 1.0), ("scale+", shapes, 0.0, 1 + delta), ("scale-", shapes, 0.0, 1 - delta)]
                else:
                    # keep p's support inside q's: widen about a finite end
                    e = lo if math.isfinite(lo) else hi
                    w = (hi - lo) if math.isfinite(lo) and math.isfinite(hi) else 1.0
                    cands += [("scale+", shapes, -e * delta - (delta * w / 2 if math.isfinite(hi) and math.isfinite(lo) else 0.0), 1 + delta)]
            done = set()
            for tag, sq, lq, cq in cands:
                base = tag.rstrip("+-")
                if base in done or (base.startswith("shape") and base != "shape0" and not full) or (
                        base == "loc" and not full):
                    continue
                try:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        q = dist(*sq, loc=lq, scale=cq) if kind == "c" else dist(*sq, loc=lq)
                        if not bool(np.all(dist._argcheck(*sq))) or not _nested(p, q):
                            continue
                except Exception:  # noqa: BLE001
                    continue
                done.add(base)
                label = f"{name}{tuple(float(v) for v in shapes)} vs {tag}"
                out.append((name, label, p, q, kind, shapes, sq, lq, cq))
    return out


# --------------------------------------------------------------------------------------
# References.
def _phi_term(a, b):
    """p * phi(d) from log p = a, log q = b (mpf)."""
    if a == -mp.inf:
        return mp.exp(b) if b > -mp.inf else mp.mpf(0)
    d = a - b
    if d < -1:
        # q >> p: p phi(d) = q - p (1 - d), without exp(a) * expm1(-d), whose exponent rounds at 30
        # digits (genextreme(-0.1)'s lower end: a = -1e160, b = -1e60, so -d = 1e160 - 1e60 = 1e160
        # and exp(a) * exp(-d) came out 1 instead of q = exp(-1e60): its reference was 1.9e-9, the
        # KL 1.0e-14)
        return mp.exp(b) - mp.exp(a) * (1 - d)
    return mp.exp(a) * (d + mp.expm1(-d))


def reference(name, kind, p, shapes, sq, lq, cq):
    dist = getattr(stats, name)
    fp = mp_logdens(dist, shapes, kind == "d")
    fq0 = mp_logdens(dist, sq, kind == "d")
    q = dist(*sq, loc=lq, scale=cq) if kind == "c" else dist(*sq, loc=lq)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe = np.asarray(p.ppf([0.01, 0.3, 0.5, 0.8, 0.99]), dtype=float)
    probe = probe[np.isfinite(probe)]
    probe_q = np.asarray(dist(*sq).ppf([0.2, 0.6]), float)
    if not (_check_logdens(fp, p, probe) and _check_logdens(fq0, dist(*sq), probe_q)):
        fp, fq0 = hand_logdens(name, shapes), hand_logdens(name, sq)
        if fp is None or not (_check_logdens(fp, p, probe) and _check_logdens(fq0, dist(*sq), probe_q)):
            return None
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qs = tuple(float(v) for v in q.support())
        ps = tuple(float(v) for v in p.support())
        generic_isf = kind == "d" and type(dist)._ppf is stats.rv_discrete._ppf  # (zipf: its search exhausts memory)
        kmax = float(p.isf(1e-40)) if (kind == "d" and math.isinf(ps[1]) and not generic_isf) else (
            ps[0] + 20000 if math.isinf(ps[1]) else ps[1])
        u = [1e-30, 1e-20, 1e-12, 1e-8, 1e-5, 1e-3, 0.02, 0.1, 0.25]  # p's quantiles u and 1 - u (isf(u))
        qcuts = ({float(p.ppf(v)) for v in u} | {float(p.isf(v)) for v in u} | {float(p.ppf(0.5))}) if kind == "c" else set()
        # the outermost cuts bound the integral (below): keep them only where p's cdf confirms them
        # (a float ppf at 1e-30 can be far off: moyal's gave a bound that cut off mass)
        far = (min(qcuts) if qcuts else math.inf, max(qcuts) if qcuts else -math.inf)
        far_ok = (math.isfinite(far[0]) and float(p.cdf(far[0])) <= 1e-20,
                  math.isfinite(far[1]) and float(p.sf(far[1])) <= 1e-20)
        if name in ("triang", "trapezoid"):  # kinks at the shapes (p) and at loc + scale * shapes (q)
            qcuts |= {float(v) for v in shapes} | {lq + cq * float(v) for v in sq}
        # kinks of the log-density (tanh-sinh quadrature across a kink is off by 6e-7 of these KLs)
        if name == "laplace_asymmetric":
            qcuts |= {0.0, lq}
        if name == "loglaplace":  # x^(c-1) below the scale, x^(-c-1) above
            qcuts |= {1.0, lq + cq}
        if name == "crystalball":  # the Gaussian core meets the power-law tail at -beta
            qcuts |= {-float(shapes[0]), lq - cq * float(sq[0])}
        if kind == "c":
            # q's ends in exact arithmetic, loc + scale * (its standard member's end): support() rounds
            # them, which moved the sliver of q beyond p's end (width 1e-6) by 1e-10 of itself
            qs = tuple(_exact_end(lq, cq, e, side) for e, side in zip(dist(*sq).support(), (-1, 1)))
        try:
            with _mp_formulas():
                return _reference(kind, fp, fq0, lq, cq, ps, qs, kmax, qcuts, far_ok)
        except (TypeError, AttributeError) as exc:  # scipy's formula left mpmath somewhere (complex, float-only)
            hp, hq = hand_logdens(name, shapes), hand_logdens(name, sq)
            if hp is None or not (_check_logdens(hp, p, probe) and _check_logdens(hq, dist(*sq), probe_q)):
                raise exc
            return _reference(kind, hp, hq, lq, cq, ps, qs, kmax, qcuts, far_ok)


def _exact_end(loc, scale, e, inward=0):
    """loc + scale * e exactly (an mpf at 60 digits, exact for float inputs), or the infinite end as a float.

    With ``inward`` (+1 for an upper end, -1 for a lower one) the end is moved 1e-28 of its size into
    the support, so that the reference's quadrature (30 digits) never evaluates a singular q exactly
    at or beyond its end (beta(2.31, 0.63) came out inf); the mass lost is below 1e-17 of the KL.
    """
    e = float(e)
    if not math.isfinite(e):
        return e
    with mp.workdps(60):
        v = mp.mpf(loc) + mp.mpf(scale) * mp.mpf(e)
        return v - inward * mp.mpf(10) ** -28 * max(abs(v), mp.mpf(1))


def _reference(kind, fp, fq0, lq, cq, ps, qs, kmax, qcuts, far_ok=(False, False)):
    with mp.workdps(DPS):
        L, C = mp.mpf(lq), mp.mpf(cq)
        if kind == "d":
            lo, hi = ps
            if not math.isfinite(kmax) or kmax - lo > 20000:
                kmax = lo + 20000
            s = mp.mpf(0)
            for k in range(int(lo), int(kmax) + 1):
                a = fp(mp.mpf(k))
                b = fq0(mp.mpf(k) - L) if qs[0] <= k <= qs[1] else -mp.inf
                if a > -mp.inf and b == -mp.inf:
                    return mp.inf
                s += _phi_term(a, b)
            # q's mass outside p's support (below p's lower end)
            qlo = qs[0]
            for k in range(int(qlo), int(lo)):
                s += mp.exp(fq0(mp.mpf(k) - L))
            return s

        logC = mp.log(C)

        def integrand(x):
            # a complex value: x rounded just outside the support (log of a negative number): p = 0
            a = _real(fp(x))
            b = _real(fq0((x - L) / C)) - logC
            if not (mp.isfinite(a) or a == -mp.inf):
                return mp.mpf(0)  # a node rounded onto a singular end (p = inf there): a point of measure 0
            if a > -mp.inf and b == -mp.inf:
                raise ZeroDivisionError("q = 0 where p > 0")
            return _phi_term(a, b)

        lo, hi = ps
        qlo, qhi = qs
        cuts = set(qcuts)
        for e in (lo, hi):
            if math.isfinite(e):
                cuts |= {e + s * 10.0**k for k in (-12, -8, -4) for s in (1.0, -1.0)}
        cuts = sorted(v for v in cuts if lo < v < hi and math.isfinite(v))
        # an infinite end: stop at p's 1e-30 quantile when it is finite (p's mass beyond times
        # phi(d) ~ d^2 is below 1e-17 of the KL; double exponentials there would cost mpmath
        # numbers with astronomically large exponents)
        # (only where p's cdf confirms that quantile: moyal's isf(1e-30) is inf, and stopping at its
        # 1e-12 quantile instead cut off 4e-10 of the KL)
        a = mp.mpf(lo) if math.isfinite(lo) else (mp.mpf(min(cuts)) if cuts and far_ok[0] else -mp.inf)
        b = mp.mpf(hi) if math.isfinite(hi) else (mp.mpf(max(cuts)) if cuts and far_ok[1] else mp.inf)
        inner = [mp.mpf(v) for v in cuts if a < v < b]
        # every finite piece halved (pearson3(0.1)'s reference was 1.4e-8 off on the quantile cuts alone)
        nodes = [a] + inner + [b]
        fine = [nodes[0]]
        for u, v in zip(nodes[:-1], nodes[1:]):
            if mp.isfinite(u) and mp.isfinite(v):
                fine.append((u + v) / 2)
            fine.append(v)
        val = mp.quad(integrand, fine)
        # q's mass outside p's support: the integrand there is q (p = 0); q's ends exact (_exact_end)
        for (x0, x1) in ((qlo, lo), (hi, qhi)):
            x0 = x0 if isinstance(x0, mp.mpf) else (mp.mpf(x0) if math.isfinite(x0) else (-mp.inf if x0 < 0 else mp.inf))
            x1 = x1 if isinstance(x1, mp.mpf) else (mp.mpf(x1) if math.isfinite(x1) else (-mp.inf if x1 < 0 else mp.inf))
            if x1 > x0:
                val += mp.quad(lambda x: mp.exp(_real(fq0((x - L) / C)) - logC), [x0, x1])
        return val


def _real(v):
    return v if isinstance(v, mp.mpf) else -mp.inf


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def engine_value(p, q, budget: float = 20.0):
    signal.signal(signal.SIGVTALRM, _alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, budget)
    t0 = time.process_time()
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            v = kl_numeric(p, q)
        note = "warn" if any(issubclass(x.category, RuntimeWarning) for x in w) else ""
    except _Timeout:
        v, note = math.nan, f"> {budget:.0f} s"
    except Exception as e:  # noqa: BLE001
        v, note = math.nan, f"{type(e).__name__}: {e}"[:60]
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    return v, time.process_time() - t0, note


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--delta", type=float, default=1e-6)
    ap.add_argument("--families", default="")
    ap.add_argument("--full", action="store_true", help="every shape, loc and scale, two shape sets (default: shape 0 and scale)")
    ap.add_argument("--out", default="")
    ap.add_argument("--no-engine", action="store_true", help="only compute (and cache) the references")
    ap.add_argument("--cached-only", action="store_true", help="only pairs whose reference is cached")
    ap.add_argument("--ref-budget", type=float, default=60.0, help="CPU seconds per mpmath reference")
    ap.add_argument("--recompute", default="", help="families whose cached references are computed again")
    ap.add_argument("--recompute-moving", action="store_true",
                    help="compute again the references of pairs whose q moves a finite end of p")
    args = ap.parse_args(argv)
    fams = set(args.families.split(",")) if args.families else None
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    for fam in filter(None, args.recompute.split(",")):
        cache = {k: v for k, v in cache.items() if not k.startswith(fam + "(")}
    if args.recompute_moving:
        # pairs whose q has a finite end that support() rounds away from p's (a sliver)
        for _name, label, p, q, kind, *_ in pairs(args.delta, fams, args.full):
            if kind == "c" and any(math.isfinite(float(a)) and float(a) != float(b)
                                   for a, b in zip(p.support(), q.support())):
                cache.pop(f"{label} delta={args.delta:g}", None)
    rows = {}
    for name, label, p, q, kind, shapes, sq, lq, cq in pairs(args.delta, fams, args.full):
        key = f"{label} delta={args.delta:g}"
        if key not in cache and args.cached_only:
            continue
        if key not in cache:
            t0 = time.process_time()
            signal.signal(signal.SIGVTALRM, _alarm)
            signal.setitimer(signal.ITIMER_VIRTUAL, args.ref_budget)
            try:
                r = reference(name, kind, p, shapes, sq, lq, cq)
                cache[key] = "noref" if r is None else mp.nstr(r, 25)
            except _Timeout:
                cache[key] = f"noref (mpmath over {args.ref_budget:.0f} s)"
            except Exception as e:  # noqa: BLE001
                cache[key] = f"noref ({type(e).__name__})"
            finally:
                signal.setitimer(signal.ITIMER_VIRTUAL, 0)
            print(f"  ref {key}: {cache[key]} ({time.process_time() - t0:.1f} s)", file=sys.stderr, flush=True)
            CACHE.write_text(json.dumps(cache, indent=0, sort_keys=True))
        if args.no_engine:
            continue
        ref = cache[key]
        if ref.startswith("noref"):
            rows.setdefault(name, []).append((math.nan, label, 0.0, ref))
            continue
        refv = float(mp.mpf(ref))
        v, cpu, note = engine_value(p, q)
        if math.isinf(refv) and math.isinf(v):
            err = 0.0
        elif refv == 0.0 or not math.isfinite(refv):
            err = math.inf if v != refv else 0.0
        else:
            err = abs(v - refv) / abs(refv) if math.isfinite(v) else math.inf
        rows.setdefault(name, []).append((err, label, cpu, f"{note} KL={refv:.2g}"))
    lines = [f"{'family':20s} {'worst rel err':>13s} {'KL':>9s} {'ms':>7s}  pairs  worst pair / note"]
    for name in sorted(rows):
        rr = rows[name]
        good = [r for r in rr if not math.isnan(r[0])]
        if not good:
            lines.append(f"{name:20s} {'no ref':>13s} {'':>9s} {'':>7s}  {len(rr):5d}  {rr[0][3]}")
            continue
        worst = max(good, key=lambda r: r[0])
        ms = 1e3 * max(r[2] for r in good)
        lines.append(f"{name:20s} {worst[0]:13.2e} {worst[3].split('KL=')[-1]:>9s} {ms:7.1f}  {len(good):5d}  "
                     f"{worst[1]} {worst[3].split(' KL=')[0]}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
