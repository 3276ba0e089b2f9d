"""Every number chapter 1 (chapters/01_forms.ipynb) states, recomputed.

Each test recomputes a quantity the page prints or states in its prose, with klbook and, where
it matters, with an independent reference (exact fractions, mpmath, scipy quadrature), and
checks that the page still says it (``on_page``): if the number on the page changes, or
changes meaning, a test fails.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, stats

from klbook import (code_lengths, cross_entropy, entropy, kl_divergence, kl_exact, kl_forms,
                    kl_numeric, kl_terms, mc_kl)

MP_DPS = 40
PAGE = Path(__file__).resolve().parents[1] / "chapters" / "01_forms.ipynb"

F = Fraction
P_EXACT = [F(1, 2), F(1, 8), F(1, 8), F(1, 8), F(1, 16), F(1, 16)]
Q_EXACT = [F(1, 8), F(1, 4), F(1, 4), F(1, 8), F(1, 8), F(1, 8)]
P = np.array([float(x) for x in P_EXACT])
Q = np.array([float(x) for x in Q_EXACT])
CODE_P = ["0", "100", "101", "110", "1110", "1111"]
CODE_Q = ["100", "00", "01", "101", "110", "111"]


def page_text() -> str:
    """The page as a reader sees it: markdown sources and printed outputs."""
    nb = json.loads(PAGE.read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        parts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            if "text" in out:
                parts.append("".join(out["text"]))
            elif "data" in out and "text/plain" in out["data"]:
                parts.append("".join(out["data"]["text/plain"]))
    return "\n".join(parts)


TEXT = " ".join(page_text().split())      # whitespace-insensitive: line breaks may move


def on_page(*snippets: str) -> None:
    for s in snippets:
        assert " ".join(s.split()) in TEXT, f"chapter 1 no longer says {s!r}"


def log2_exact(x: Fraction) -> int:
    """log2 of a power of two, exactly."""
    n, d = x.numerator, x.denominator
    assert n & (n - 1) == 0 and d & (d - 1) == 0
    return n.bit_length() - d.bit_length()


# --- the codes --------------------------------------------------------------------------

def test_codes_are_prefix_free_spend_the_whole_kraft_budget_and_have_ideal_lengths():
    for code, dist in ((CODE_P, P_EXACT), (CODE_Q, Q_EXACT)):
        for i, a in enumerate(code):
            for j, b in enumerate(code):
                assert i == j or not b.startswith(a), (a, b)
        assert sum(F(1, 2 ** len(w)) for w in code) == 1           # Kraft sum = 1
        assert [len(w) for w in code] == [-log2_exact(x) for x in dist]
    np.testing.assert_array_equal(code_lengths(P), [len(w) for w in CODE_P])
    np.testing.assert_array_equal(code_lengths(Q), [len(w) for w in CODE_Q])
    on_page("Kraft sums: 1 (p's code), 1 (q's code)", "both codes spend the whole budget")


def test_lagrange_optimum_is_s_equal_p():
    """The page's claim: shares s(x) = p(x) minimise sum p(-log2 s) under sum s <= 1."""
    rng = np.random.default_rng(0)
    best = float(np.sum(P * -np.log2(P)))
    for _ in range(2000):
        s = rng.dirichlet(np.ones(6)) * rng.uniform(0.5, 1.0)      # any shares within budget
        assert np.sum(P * -np.log2(s)) >= best - 1e-12


def test_entropy_cross_entropy_and_kl_of_the_dice_in_bits():
    h = sum(x * -log2_exact(x) for x in P_EXACT)
    hpq = sum(x * -log2_exact(y) for x, y in zip(P_EXACT, Q_EXACT))
    assert (h, hpq, hpq - h) == (F(17, 8), F(11, 4), F(5, 8))
    assert entropy(P, base=2) == pytest.approx(2.125, abs=1e-15)
    assert cross_entropy(P, Q, base=2) == pytest.approx(2.75, abs=1e-15)
    assert kl_divergence(P, Q, base=2) == pytest.approx(0.625, abs=1e-15)
    on_page("H(p)           = 2.1250 bits", "H(p, q)        = 2.7500 bits",
            "H(p, q) - H(p) = 0.6250 bits = KL(p ‖ q)", "kl_divergence  = 0.6250 bits")


def test_reverse_direction_is_half_a_bit():
    rev = sum(y * (log2_exact(y) - log2_exact(x)) for x, y in zip(P_EXACT, Q_EXACT))
    assert rev == F(1, 2)
    assert kl_divergence(Q, P, base=2) == pytest.approx(0.5, abs=1e-15)
    on_page("Here it comes to $0.5$ bits rather than $0.625$.")


def test_face_one_contributes_a_whole_bit():
    assert P_EXACT[0] * (log2_exact(P_EXACT[0]) - log2_exact(Q_EXACT[0])) == 1
    on_page("contributes a whole bit")


# --- the sum and its terms ---------------------------------------------------------------

def test_terms_table():
    terms = kl_terms(P, Q)
    expected = [0.5 * math.log(4), 0.125 * math.log(0.5), 0.125 * math.log(0.5), 0.0,
                0.0625 * math.log(0.5), 0.0625 * math.log(0.5)]
    np.testing.assert_allclose(terms, expected, rtol=1e-15, atol=0)
    on_page("   1          4   +0.693147", "   2        1/2   -0.086643", "   4          1   +0.000000",
            "   5        1/2   -0.043322", "sum of the terms       0.433217 nats",
            "kl_divergence(p, q)    0.433217 nats")


def test_exact_value_30_digits_against_mpmath():
    exact = mp.mpf(5) / 8 * mp.log(2)
    assert mp.nstr(exact, 30) == "0.433216987849965818385770075911"
    assert str(kl_exact(P_EXACT, Q_EXACT, digits=30)) == "0.433216987849965818385770075911"
    assert float(kl_exact(P_EXACT, Q_EXACT, base=2, digits=30)) == 0.625
    on_page("0.433216987849965818385770075911", "0.625000000000000000000000000000")


def test_four_forms_agree_with_each_other_and_the_exact_value():
    exact_nats = 5 / 8 * math.log(2)
    for base, exact in ((None, exact_nats), (2, 0.625)):
        forms = kl_forms(P, Q, base=base)
        values = list(forms.as_dict().values())
        assert len(values) == 4
        assert max(abs(v - exact) for v in values) < 1e-15     # "to better than 1e-15"
        for v in values:
            assert f"{v:.14f}" == f"{exact:.14f}"                # "all fourteen printed decimals"
    on_page("0.43321698784997  0.62500000000000", "to better than $10^{-15}$")


def test_float_spacing_near_0_43():
    assert np.spacing(0.43) == 2.0 ** -54
    assert 2.0 ** -54 == pytest.approx(5.6e-17, rel=0.01)
    on_page(r"$2^{-54} \approx 5.6 \times 10^{-17}$")


# --- Monte Carlo ---------------------------------------------------------------------------

def test_dice_monte_carlo_lands_within_one_standard_error():
    die_p = stats.rv_discrete(values=(np.arange(1, 7), P))()
    die_q = stats.rv_discrete(values=(np.arange(1, 7), Q))()
    exact = 5 / 8 * math.log(2)
    for n in (100, 10_000, 1_000_000):
        est = mc_kl(die_p, die_q, n, seed=2022)
        assert abs(est.value - exact) < est.stderr                # "within about one s.e."
        # the standard error falls like 1/sqrt(n): a factor of ~10 per 100x samples
    small, large = mc_kl(die_p, die_q, 100, seed=2022), mc_kl(die_p, die_q, 10_000, seed=2022)
    assert 7 < small.stderr / large.stderr < 14
    on_page("seed=2022", "n =       100: 0.3604 ± 0.1021 nats, off by -0.71 s.e.")


# --- units ---------------------------------------------------------------------------------

def test_units():
    nats = kl_divergence(P, Q)
    assert nats / kl_divergence(P, Q, base=2) == pytest.approx(math.log(2), rel=1e-15)
    assert kl_divergence(P, Q, base=10) == pytest.approx(0.625 * math.log10(2), rel=1e-15)
    on_page("KL(p ‖ q) = 0.4332169878 nats = 0.6250000000 bits",
            "nats per bit: 0.6931471806", "in hartleys (base 10): 0.1881437473",
            r"1 \text{ bit} = \log 2 \approx 0.693 \text{ nats}")


# --- conventions ---------------------------------------------------------------------------

def test_convention_cases():
    a = kl_terms([.5, .5, 0], [.25, .25, .5])
    np.testing.assert_allclose(a, [0.5 * math.log(2)] * 2 + [0.0], rtol=1e-15)
    assert kl_divergence([.5, .5, 0], [.25, .25, .5]) == pytest.approx(math.log(2), rel=1e-15)
    assert kl_divergence([.25, .25, .5], [.5, .5, 0]) == math.inf
    assert kl_terms([.25, .25, .5], [.5, .5, 0])[2] == math.inf
    both = 0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75)
    assert kl_divergence([.5, .5, 0], [.25, .75, 0]) == pytest.approx(both, rel=1e-15)
    with pytest.raises(ValueError):
        kl_divergence([0.5, 0.6], [0.5, 0.5])
    # scipy divides by the sum: the divergence of (5/11, 6/11) from (1/2, 1/2)
    renorm = (5 / 11) * math.log(10 / 11) + (6 / 11) * math.log(12 / 11)
    assert stats.entropy([0.5, 0.6], [0.5, 0.5]) == pytest.approx(renorm, rel=1e-12)
    on_page("KL = 0.6931 nats", "KL = ∞ nats", "KL = 0.1438 nats",
            f"scipy.stats.entropy returns {renorm:.6f}", "p sums to 1.1, not 1")


def test_conventions_figure_numbers():
    t = 0.3 / math.e
    assert t * math.log(t / 0.3) == pytest.approx(-0.3 / math.e, rel=1e-15)
    grid = np.linspace(1e-9, 1, 200001)
    assert np.min(grid * np.log(grid / 0.3)) == pytest.approx(-0.3 / math.e, abs=1e-9)
    for eps, shown in ((1e-3, 2.761), (1e-6, 6.215), (1e-12, 13.12)):
        ref = 0.5 * math.log(0.5 / (1 - eps)) + 0.5 * math.log(0.5 / eps)
        assert kl_divergence([0.5, 0.5], [1 - eps, eps]) == pytest.approx(ref, rel=1e-14)
        assert float(f"{ref:.4g}") == shown                          # as printed, 4 digits
        # grows like (1/2) log(1/eps)
        assert ref - 0.5 * math.log(1 / eps) == pytest.approx(-math.log(2), abs=1e-3)
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf


# --- Gaussians -----------------------------------------------------------------------------

def test_gaussian_closed_form_quadrature_forms_and_monte_carlo():
    gp, gq = stats.norm(0, 1), stats.norm(1, 2)
    closed = math.log(2) + (1 + 1) / (2 * 4) - 0.5                # the page's formula by hand
    f = lambda x: gp.pdf(x) * (gp.logpdf(x) - gq.logpdf(x))  # noqa: E731
    independent, _ = integrate.quad(f, -40, 40, epsabs=1e-14, epsrel=1e-13, limit=200)
    assert independent == pytest.approx(closed, rel=1e-12)
    assert kl_divergence(gp, gq) == pytest.approx(closed, abs=2e-16)
    assert abs(kl_numeric(gp, gq) - closed) < 1e-15
    for v in kl_forms(gp, gq).as_dict().values():
        assert abs(v - closed) < 2e-15                              # "about 1e-15"
    assert kl_divergence(gp, gq, base=2) == pytest.approx(closed / math.log(2), rel=1e-15)
    mc = mc_kl(gp, gq, 1_000_000, seed=7)
    assert abs(mc.value - closed) < mc.stderr                       # within its standard error
    on_page("closed form (registry)  0.443147180560", "quadrature (kl_numeric) 0.443147180560",
            "in bits, the closed form is 0.639326239778", "Monte Carlo, n = 10^6   0.443353 ± 0.000586")


def test_theorem_pointwise_lower_bound_used_in_the_proof():
    rng = np.random.default_rng(1)
    p, q = rng.uniform(1e-6, 1, 10_000), rng.uniform(1e-6, 1, 10_000)
    assert np.all(p * np.log(p / q) >= p - q - 1e-15)


# --- exercises -----------------------------------------------------------------------------

def test_fair_die_exercise():
    fair = [F(1, 6)] * 6
    nats = float(kl_exact(P_EXACT, fair, digits=30))
    bits = float(kl_exact(P_EXACT, fair, base=2, digits=30))
    assert bits == pytest.approx(math.log2(6) - 2.125, rel=1e-15)
    assert math.floor(nats * 1e6) == 318821 and math.floor(bits * 1e6) == 459962   # "0.318821..."
    forms = kl_forms(P, np.full(6, 1 / 6)).as_dict().values()
    assert max(forms) - min(forms) < 1e-15                         # "a few units of 1e-16"
    assert max(abs(v - nats) for v in forms) < 1e-15
    assert kl_divergence(np.full(6, 1 / 6), P, base=2) == pytest.approx(3 - math.log2(6), rel=1e-14)
    assert 3 - math.log2(6) == pytest.approx(0.4150, abs=5e-5)
    on_page(r"$0.318821\ldots$ nats and $0.459962\ldots$ bits", r"3 - \log_2 6 \approx 0.4150")


def test_support_exercise():
    p, q = [0.6, 0.3, 0.1], [0.7, 0.3, 0.0]
    t = kl_terms(p, q)
    assert t[0] == pytest.approx(0.6 * math.log(6 / 7), rel=1e-14) and round(t[0], 4) == -0.0925
    assert t[2] == math.inf and kl_divergence(p, q) == math.inf
    assert kl_divergence(q, p, base=2) == pytest.approx(0.7 * math.log2(7 / 6), rel=1e-14)
    assert round(0.7 * math.log2(7 / 6), 4) == 0.1557
    patched = kl_divergence(p, [0.7 - 1e-10, 0.3, 1e-10])
    assert patched == pytest.approx(1.98, abs=0.005)
    assert patched / math.log(2) == pytest.approx(2.86, abs=0.005)
    assert math.log2(1e10) == pytest.approx(33.2, abs=0.05)
    on_page(r"\approx 0.1557$ bits", r"\approx 1.98$ nats, or $2.86$ bits",
            r"\log_2 10^{10} \approx 33")


def test_gaussian_exercise_equal_variances():
    for mu, s in ((0.0, 1.0), (3.0, 2.0)):
        assert kl_divergence(stats.norm(0, s), stats.norm(mu, s)) == pytest.approx(
            mu**2 / (2 * s**2), abs=1e-15)
