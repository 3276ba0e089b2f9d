"""The engine's own cdf, sf and quantiles (``engine._QuadCdf``) for families scipy has only numerically.

gausshyper's cdf is scipy's ``quad`` of the pdf at every point (its ppf a ``brentq`` on that: 2 s
for one pair's breakpoints, 20 s for its total variation); argus has its own cdf but no ppf, and
the cdf cancels to 0 below x ~ 1e-9. The engine integrates their standard densities itself.

References, computed here with mpmath (50 digits) from closed forms (no scipy, no klbook):
gausshyper's cdf by Appell's F1, argus's from the normal cdf; the mass below (above) a point, each
engine quantile's level, and one KL (mpmath quad of the closed-form densities).
"""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

import klbook
from klbook.core import engine

class _GaussHyper:
    """gausshyper's cdf in closed form: x^a / a * AppellF1(a; 1 - b, c; a + 1; x, -z x) / (B(a, b) 2F1(c, a; a + b; -z)),
    its sf from the upper end the same way (each where its arguments are below 1/2)."""

    def __init__(self, a, b, c, z):
        self.args = (a, b, c, z)
        self.cache = {}

    def __getattr__(self, name):  # the parameters and the normaliser at the working precision
        if mp.mp.prec not in self.cache:
            a, b, c, z = (mp.mpf(v) for v in self.args)
            self.cache[mp.mp.prec] = {"a": a, "b": b, "c": c, "z": z,
                                      "norm": mp.beta(a, b) * mp.hyp2f1(c, a, a + b, -z)}
        return self.cache[mp.mp.prec][name]

    def pdf(self, x):
        return x ** (self.a - 1) * (1 - x) ** (self.b - 1) * (1 + self.z * x) ** (-self.c) / self.norm

    def cdf(self, x):
        if x > 0.5:
            return 1 - self.sf(x)
        a = self.a
        return x ** a / a * mp.appellf1(a, 1 - self.b, self.c, a + 1, x, -self.z * x) / self.norm

    def sf(self, x):
        """The same integral from the upper end, t = 1 - x: (1 + z)^-c w^b / b F1(b; 1 - a, c; b + 1; w, z w / (1 + z))."""
        if x <= 0.5:
            return 1 - self.cdf(x)
        b, z, w = self.b, self.z, 1 - x
        return (1 + z) ** (-self.c) * w ** b / b * mp.appellf1(b, 1 - self.a, self.c, b + 1, w, z * w / (1 + z)) / self.norm


class _Argus:
    """argus in closed form: sf(x) = Psi(chi sqrt(1 - x^2)) / Psi(chi), Psi(t) = Phi(t) - t phi(t) - 1/2."""

    def __init__(self, chi):
        self.chi = mp.mpf(chi)

    @staticmethod
    def _psi(t):
        return mp.ncdf(t) - t * mp.npdf(t) - mp.mpf(1) / 2

    def pdf(self, x):
        chi = self.chi
        return chi ** 3 / (mp.sqrt(2 * mp.pi) * self._psi(chi)) * x * mp.sqrt(1 - x * x) * mp.exp(-chi * chi * (1 - x * x) / 2)

    def sf(self, x):
        return self._psi(self.chi * mp.sqrt(1 - x * x)) / self._psi(self.chi)

    def cdf(self, x):
        return 1 - self.sf(x)  # (50 digits: a cdf of 1e-18 keeps 32)


# (frozen, its closed form on the standard member, loc, scale)
CASES = {
    "gausshyper(1.5, 2.5, 0.5, 0.2)": (stats.gausshyper(1.5, 2.5, 0.5, 0.2), _GaussHyper(1.5, 2.5, 0.5, 0.2), 0.0, 1.0),
    "gausshyper(0.3, 2.5, -0.5, 3) (singular at 0)": (stats.gausshyper(0.3, 2.5, -0.5, 3.0),
                                                      _GaussHyper(0.3, 2.5, -0.5, 3.0), 0.0, 1.0),
    "argus(1)": (stats.argus(1.0), _Argus(1.0), 0.0, 1.0),
    "argus(5, loc=2, scale=3)": (stats.argus(5.0, loc=2, scale=3), _Argus(5.0), 2.0, 3.0),
}
LEVELS = np.array([1e-12, 1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6, 1 - 1e-12])
SINGULAR = "gausshyper(0.3, 2.5, -0.5, 3) (singular at 0)"  # (Appell's F1 is slow there: fewer levels)


def _mp_masses(ref, loc, scale):
    def z(x):
        return (mp.mpf(float(x)) - loc) / scale

    return (lambda x: ref.cdf(z(x))), (lambda x: ref.sf(z(x))), (lambda x: ref.pdf(z(x)) / scale)


@pytest.mark.parametrize("name", list(CASES))
def test_quantiles_against_mpmath(name):
    d, ref, loc, scale = CASES[name]
    P = engine.Univariate(d, "p")
    levels = LEVELS[[0, 2, 4, 7]] if name == SINGULAR else LEVELS
    x = engine.quantiles(P, levels)
    assert P.quad is not None and P.quad.built  # the engine's own quantiles, not scipy's search
    below, above, dens = _mp_masses(ref, loc, scale)
    for u, xv in zip(levels, x):
        with mp.workdps(50):
            mass = below(xv) if u <= 0.5 else above(xv)
            target = mp.mpf(u) if u <= 0.5 else 1 - mp.mpf(u)
            # the level reached, to 1e-12 of itself, or within what x's own rounding moves it
            assert abs(mass - target) <= 1e-12 * target + 4 * np.finfo(float).eps * abs(xv) * dens(xv), (
                name, u, xv, float(mass))


@pytest.mark.parametrize("name", ["gausshyper(1.5, 2.5, 0.5, 0.2)"])
def test_cdf_and_sf_against_mpmath(name):
    """gausshyper's cdf and sf are the engine's (scipy's: quad at 1.5e-8 and 1 - cdf); argus keeps scipy's."""
    d, ref, loc, scale = CASES[name]
    P = engine.Univariate(d, "p")
    below, above, _ = _mp_masses(ref, loc, scale)
    xs = loc + scale * np.array([1e-7, 0.02, 0.4, 0.93, 1 - 1e-3])
    cdf, sf = np.asarray(P.cdf(xs)), np.asarray(P.sf(xs))
    for x, c, s in zip(xs, cdf, sf):
        with mp.workdps(50):
            rc, rs = below(x), above(x)
            # (next to the end 1 the abscissae's rounding, eps / (1 - x) relative, is the limit)
            assert abs(c - rc) <= 1e-12 * rc, (name, x, c, float(rc))
            assert abs(s - rs) <= 1e-12 * rs, (name, x, s, float(rs))
    assert P.cdf(loc - 1.0) == 0.0 and P.sf(loc - 1.0) == 1.0
    assert P.cdf(loc + 2 * scale) == 1.0 and P.sf(loc + 2 * scale) == 0.0
    assert math.isnan(P.cdf(math.nan))


def test_gausshyper_kl_against_mpmath():
    """Before the engine's own cdf, the tail corrections read scipy's cdf (quad at 1.5e-8): 1.5e-9 off."""
    p, q = _GaussHyper(1.5, 2.5, 0.5, 0.2), _GaussHyper(1.6, 2.5, 0.5, 0.2)

    def integrand(x):
        a, b = p.pdf(x), q.pdf(x)
        return a * mp.log(a / b) if a > 0 else mp.mpf(0)  # (x = 0 itself: the limit)

    with mp.workdps(30):
        cuts = [0, 1e-20, 1e-10, 1e-5, 0.01, 0.1, 0.5, 0.9, 1 - 1e-5, 1 - 1e-10, 1]
        ref = mp.quad(integrand, [mp.mpf(c) for c in cuts])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        v = klbook.kl_divergence(stats.gausshyper(1.5, 2.5, 0.5, 0.2), stats.gausshyper(1.6, 2.5, 0.5, 0.2))
    assert abs(v - ref) <= 1e-13 * ref, (v, float(ref))
