"""Every number chapter 2 (chapters/02_intuition.ipynb) states, recomputed.

References are independent of klbook where it matters: closed forms by hand, scipy quadrature
split at the crossings of p and q, and a Chernoff information found by minimising a quadrature
with scipy. ``on_page`` checks that the page still states each number.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from klbook import (GaussianMixture, chernoff_information, kl_divergence, log_ratio, mc_kl,
                    signed_areas)

PAGE = Path(__file__).resolve().parents[1] / "chapters" / "02_intuition.ipynb"


def page_text() -> str:
    nb = json.loads(PAGE.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        parts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append("".join(out["text"]))
    return "\n".join(parts)


TEXT = " ".join(page_text().split())      # whitespace-insensitive: line breaks may move


def on_page(*snippets: str) -> None:
    for s in snippets:
        assert " ".join(s.split()) in TEXT, f"chapter 2 no longer says {s!r}"


P = stats.norm(0.0, 1.0)
Q = stats.norm(1.0, 1.5)
T5 = stats.t(5)
N01 = stats.norm(0, 1)
MIX = GaussianMixture(weights=[0.7, 0.3], means=[-1.0, 1.5], stds=[0.6, 0.9])


def gauss_kl(m1, s1, m2, s2):
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def areas_by_quadrature(p, q, lo=-40.0, hi=40.0):
    """Positive and negative area, TV and P_p(l < 0), by scipy quad between the crossings."""
    xs = np.linspace(lo, hi, 160001)
    d = p.logpdf(xs) - q.logpdf(xs)
    cuts = [lo] + [optimize.brentq(lambda x: p.logpdf(x) - q.logpdf(x), xs[i], xs[i + 1])
                   for i in np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))] + [hi]
    cuts[0], cuts[-1] = -np.inf, np.inf     # heavy tails: integrate all the way out
    pos = neg = tv = pmass = 0.0
    for a, b in zip(cuts[:-1], cuts[1:]):
        mid = 0.5 * (max(a, lo) + min(b, hi))
        f = lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x))  # noqa: E731
        val = integrate.quad(f, a, b, epsabs=1e-13, epsrel=1e-12, limit=400)[0]
        if p.logpdf(mid) >= q.logpdf(mid):
            pos += val
            tv += (p.cdf(b) - p.cdf(a)) - (q.cdf(b) - q.cdf(a))
        else:
            neg += val
            pmass += p.cdf(b) - p.cdf(a)
    return pos, neg, tv, pmass


def test_running_example_kl():
    ref = gauss_kl(0, 1, 1, 1.5)
    assert kl_divergence(P, Q) == pytest.approx(ref, rel=1e-14)
    on_page(f"KL(p ‖ q) = {ref:.6f} nats = {ref / math.log(2):.6f} bits")


def test_log_ratio_table_and_underflow():
    pts = np.array([-3.0, -1.0, 0.0, 1.0, 2.5, 40.0])
    ref = [-x**2 / 2 + (x - 1) ** 2 / (2 * 1.5**2) + math.log(1.5) for x in pts]
    np.testing.assert_allclose(log_ratio(P, Q, pts), ref, rtol=1e-13)
    assert P.pdf(40.0) == 0.0 and Q.pdf(40.0) > 0          # only p underflows
    assert f"{Q.pdf(40.0):.3e}" == "4.298e-148"
    with np.errstate(divide="ignore"):
        assert np.log(P.pdf(40.0) / Q.pdf(40.0)) == -np.inf  # the naive quotient is 0, its log -inf
    assert ref[-1] == pytest.approx(-461.5945, abs=5e-5)
    on_page("40.0   0.000e+00  4.298e-148      -461.5945 nats", "about $-461.6$\nnats",
            "the density $p(40)$ underflows to zero")


def test_log_ratio_ceiling():
    x = np.linspace(-5, 6, 110001)
    d = log_ratio(P, Q, x)
    assert d.max() == pytest.approx(0.805, abs=5e-4)
    assert x[np.argmax(d)] == pytest.approx(-0.8, abs=1e-3)
    on_page("it never exceeds about $0.8$ nats")


ROWS = {
    "shifted: N(0, 1), N(1, 1)": (P, stats.norm(1.0, 1.0)),
    "wider: N(0, 1), N(0, 2²)": (P, stats.norm(0.0, 2.0)),
    "running example": (P, Q),
    "heavy tails: t(5), N(0, 1)": (T5, N01),
}


@pytest.mark.parametrize("name", list(ROWS))
def test_signed_area_table(name):
    a, b = ROWS[name]
    pos, neg, tv, pmass = areas_by_quadrature(a, b)
    s = signed_areas(a, b)
    assert s.positive == pytest.approx(pos, abs=1e-8)
    assert s.negative == pytest.approx(neg, abs=1e-8)
    assert s.total_variation == pytest.approx(tv, abs=1e-8)
    assert s.p_mass_negative == pytest.approx(pmass, abs=1e-8)
    assert -tv <= neg <= 0                                    # the theorem's bound, every row
    on_page(f"{name:27s} {pos:8.4f} {neg:8.4f} {pos + neg:6.4f} {-tv:7.4f} {pmass:8.4f}")


def test_bimodal_row_and_moments():
    assert MIX.mean() == pytest.approx(0.7 * -1 + 0.3 * 1.5, abs=1e-15)
    var = 0.7 * (0.36 + 1) + 0.3 * (0.81 + 2.25) - MIX.mean() ** 2
    assert MIX.std() == pytest.approx(math.sqrt(var), rel=1e-14)
    on_page(f"bimodal p: mean {-0.25:.4f}, standard deviation {math.sqrt(var):.4f}")
    s = signed_areas(MIX, stats.norm(MIX.mean(), MIX.std()))
    assert -s.total_variation <= s.negative <= 0
    on_page(f"bimodal p, moment-matched q   {s.positive:8.4f} {s.negative:8.4f} {s.total:6.4f}")


def test_heavy_tail_claims():
    tail = 2 * stats.t.sf(6, 5)
    assert tail == pytest.approx(0.0018, abs=1e-4)
    assert 1 / tail == pytest.approx(540, rel=0.01)
    assert signed_areas(T5, N01).p_mass_negative > 0.8      # "more than eighty per cent"
    on_page("about once in 540", "more than eighty per cent")


def test_rule_of_thumb():
    assert round(3 / kl_divergence(P, Q)) == 9
    assert round(3 / kl_divergence(T5, N01)) == 24
    on_page("about nine for the left pair and twenty-four for the right")


def test_pointwise_bound_theorem():
    rng = np.random.default_rng(2)
    p, q = rng.uniform(0, 3, 20000), rng.uniform(0, 3, 20000)
    with np.errstate(divide="ignore"):
        lhs = np.where(p > 0, p * np.log(p / q), 0.0)
    assert np.all(lhs >= p - q - 1e-12)


# --- hypothesis testing --------------------------------------------------------------------

def log_density(dist):
    """The textbook log-density of a frozen norm or t (plain math: fast inside quad, and not scipy's)."""
    name, args, kw = dist.dist.name, dist.args, dist.kwds
    if name == "norm":
        loc, scale = (list(args) + [kw.get("loc", 0.0), kw.get("scale", 1.0)][len(args):])[:2]
        c = -math.log(scale) - 0.5 * math.log(2 * math.pi)
        return lambda x: c - 0.5 * ((x - loc) / scale) ** 2
    if name == "t" and not kw and len(args) == 1:
        nu = args[0]
        c = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
        return lambda x: c - (nu + 1) / 2 * math.log1p(x * x / nu)
    raise ValueError(f"no hand-written density for {name}{args}")


def test_hand_written_densities_match_scipy():
    for dist in (P, Q, T5, N01):
        for x in (-7.5, -1.0, 0.0, 0.3, 4.0):
            assert log_density(dist)(x) == pytest.approx(dist.logpdf(x), rel=1e-13, abs=1e-13)


def chernoff_by_quadrature(p, q):
    lp, lq = log_density(p), log_density(q)

    def log_affinity(lam):
        f = lambda x: math.exp(lam * lp(x) + (1 - lam) * lq(x))  # noqa: E731
        return math.log(integrate.quad(f, -60, 60, epsabs=1e-14, epsrel=1e-12, limit=400)[0])
    res = optimize.minimize_scalar(log_affinity, bounds=(0, 1), method="bounded",
                                   options={"xatol": 1e-10})
    return -res.fun, res.x


@pytest.mark.parametrize("a,b,name", [(P, Q, "running example"), (T5, N01, "t(5) vs N(0, 1)")])
def test_chernoff_table(a, b, name):
    c_ref, lam_ref = chernoff_by_quadrature(a, b)
    c = chernoff_information(a, b)
    assert c.value == pytest.approx(c_ref, rel=1e-7)
    assert c.lam == pytest.approx(lam_ref, abs=1e-4)
    kl_ab, kl_ba = kl_divergence(a, b), kl_divergence(b, a)
    assert c.value <= min(kl_ab, kl_ba)                        # C <= min of the two KLs
    on_page(f"{name:18s} {kl_ab:8.4f} {kl_ba:8.4f} {c.value:8.4f} {c.lam:7.3f}")


def test_chernoff_comparisons_in_prose():
    c_run = chernoff_information(P, Q).value
    assert 0.3 < c_run / min(kl_divergence(P, Q), kl_divergence(Q, P)) < 0.37   # "about a third"
    c_t = chernoff_information(T5, N01).value
    assert c_t / kl_divergence(T5, N01) == pytest.approx(0.1, abs=0.005)        # "a tenth"
    assert c_t / kl_divergence(N01, T5) < 0.5                                    # "under half"
    # the Renyi reading: C = max over lambda of (1 - lambda) D_lambda(p || q)
    lam = np.linspace(0.30, 0.50, 41)     # around lambda* = 0.411
    lp, lq = log_density(P), log_density(Q)
    affin = [integrate.quad(lambda x: math.exp(l * lp(x) + (1 - l) * lq(x)), -60, 60)[0]
             for l in lam]
    renyi = np.log(affin) / (lam - 1)
    assert np.max((1 - lam) * renyi) == pytest.approx(c_run, rel=1e-3)
    on_page("about a third of the smaller divergence", "a tenth of $D_{\\mathrm{KL}}(p \\Vert q)$",
            "by a factor of 10 to 15")


def test_bayes_error_simulation_against_the_bound():
    n_max, reps = 40, 20_000
    ell_p = mc_kl(P, Q, n_max * reps, estimator="k1", seed=5).samples
    ell_q = -mc_kl(Q, P, n_max * reps, estimator="k1", seed=6).samples
    # the samples are the log-ratio l(x) = log p - log q at draws from p, and -l at draws from q
    x_check = P.rvs(size=5, random_state=0)
    np.testing.assert_allclose(log_ratio(P, Q, x_check), P.logpdf(x_check) - Q.logpdf(x_check))
    s_p = np.cumsum(ell_p.reshape(reps, n_max), axis=1)
    s_q = np.cumsum(ell_q.reshape(reps, n_max), axis=1)
    c = chernoff_information(P, Q).value
    errs = {}
    for n in (5, 10, 20, 40):
        err = 0.5 * np.mean(s_p[:, n - 1] < 0) + 0.5 * np.mean(s_q[:, n - 1] >= 0)
        bound = 0.5 * math.exp(-n * c)
        assert bound / 4.5 < err < bound                      # "below the bound, by 2 to 4"
        errs[n] = err
        on_page(f"{n:4d}   {err:22.4f}   {bound:16.4f}")
    assert 10 < errs[20] / errs[40] < 15                       # "a factor of 10 to 15"
    n_err_40 = reps * (np.mean(s_p[:, 39] < 0) + np.mean(s_q[:, 39] >= 0))
    assert n_err_40 < 100                                      # "only a few dozen errors"
    assert math.exp(20 * c) == pytest.approx(11, abs=0.2)     # "the bound by e^{20C} ~ 11"


def test_stein_achievability_argument():
    """beta_n <= exp(-n (D - delta)) for the test that accepts p when S_n >= n (D - delta)."""
    kl = kl_divergence(P, Q)
    delta = 0.1
    n, reps = 30, 40_000
    s_q = -mc_kl(Q, P, n * reps, estimator="k1", seed=11).samples.reshape(reps, n).sum(axis=1)
    beta = np.mean(s_q >= n * (kl - delta))
    assert beta <= math.exp(-n * (kl - delta))


# --- exercises -----------------------------------------------------------------------------

def test_equal_width_exercise():
    for mu, neg_shown in ((0.5, -0.143), (3.0, -0.088)):
        s = signed_areas(N01, stats.norm(mu, 1))
        pos = mu**2 / 2 * stats.norm.cdf(mu / 2) + mu * stats.norm.pdf(mu / 2)
        assert s.positive == pytest.approx(pos, abs=1e-11)
        assert s.negative == pytest.approx(mu**2 / 2 - pos, abs=1e-11)
        assert round(s.negative, 3) == neg_shown
    assert round(signed_areas(N01, stats.norm(0.5, 1)).positive, 3) == 0.268
    s3 = signed_areas(N01, stats.norm(3.0, 1))
    assert abs(s3.negative) / s3.total == pytest.approx(0.02, abs=0.001)
    on_page("$-0.143$ nats", "$-0.088$ nats", "$0.268$ nats", "only two per cent")


def test_widest_dip_exercise():
    grid = np.geomspace(0.01, 20, 121)                   # the solution's grid
    sigmas = grid[((grid > 0.15) & (grid < 0.4)) | ((grid > 1.4) & (grid < 2.4))]  # near its extremes
    rows = [signed_areas(N01, stats.norm(0, s)) for s in sigmas]
    neg = np.array([r.negative for r in rows])
    narrow = np.flatnonzero(sigmas < 1)[np.argmin(neg[sigmas < 1])]
    wide = np.flatnonzero(sigmas > 1)[np.argmin(neg[sigmas > 1])]
    assert round(neg[narrow], 3) == -0.312 and round(sigmas[narrow], 2) == 0.24
    assert round(neg[wide], 3) == -0.107 and round(sigmas[wide], 1) == 1.8
    assert rows[narrow].p_mass_negative == pytest.approx(1 / 3, abs=0.03)   # "about a third"

    def crossing(s):   # N(0,1) = N(0, s^2) where x^2 (1 - 1/s^2) = 2 log s
        return math.sqrt(2 * math.log(s) / (1 - 1 / s**2))
    assert crossing(1 + 1e-9) == pytest.approx(1.0, abs=1e-4)
    assert crossing(20.0) == pytest.approx(2.45, abs=0.005)
    assert crossing(sigmas[wide]) == pytest.approx(1.30, abs=0.005)
    on_page(r"$\pm 1$ (for $\sigma$ just above 1)", r"$\pm 2.45$ (at $\sigma = 20$)",
            r"$\pm 1.30$ for the extreme $\sigma \approx 1.8$", "about\n$-0.312$ nats",
            r"($\sigma \approx 0.24$)", "about $-0.107$ nats")


def test_other_weight_exercise():
    rev = gauss_kl(1, 1.5, 0, 1)
    assert kl_divergence(Q, P) == pytest.approx(rev, rel=1e-14)
    assert round(-rev, 2) == -0.72
    res = mc_kl(Q, P, 100_000, estimator="k1", seed=3)
    assert abs(res.value - rev) < 3 * res.stderr
    on_page(r"-D_{\mathrm{KL}}(q \Vert p) \approx -0.72$")
