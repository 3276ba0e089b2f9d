"""Every number and claim of chapter 7 ("KL without a formula"), recomputed and checked.

References are independent where possible: mpmath quadrature and hand-written mpmath versions of
the closed-form bounds, exact Gaussian and Student-t integrals.
"""

from __future__ import annotations

import functools
import json
import math
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

from klbook import GaussianMixture, kl_divergence, kl_from_samples, kl_numeric, mixture_kl
from klbook.core.samples import histogram_kl, knn_kl, known_kl_pairs, mae_ratio
from refs.store import RefStore
from test_samples import t3_normal_kl_integrand

MP_DPS = 30


# ------------------------------------------------------------- mpmath references
def mp_logmix(w, m, s):
    def f(t):
        return mp.log(mp.fsum(mp.mpf(a) * mp.npdf(t, mp.mpf(b), mp.mpf(c)) for a, b, c in zip(w, m, s)))

    return f


def mp_kl_live(p, q, cuts):
    lp, lq = mp_logmix(*p), mp_logmix(*q)
    return mp.quad(lambda t: mp.exp(v := lp(t)) * (v - lq(t)), [-mp.inf] + sorted(cuts) + [mp.inf])


# mp_kl's quadratures (0.3-0.45 CPU-s each) are stored in tests/refs/ch07_claims.json (tests/refs/store.py:
# keyed by the inputs, with a hash of the code that computes them; python tests/refs/generate.py writes them);
# one of each group, the example pair and the sweep at MP_KL_LIVE_SWEEP, is recomputed on every run and must
# equal the stored value.
STORE = RefStore("ch07_claims")
MP_KL_LIVE_SWEEP = 1.0


def mp_kl(p, q, cuts, live=False):
    return STORE.get(repr((p, q, cuts)), lambda: mp_kl_live(p, q, cuts), dps=MP_DPS,
                     code=(mp_kl_live, mp_logmix), live=live)


def mp_bounds(p, q):
    """Durrieu's bounds and Hershey-Olsen's approximation written out in mpmath (1-D)."""
    (wp, mpm, sp), (wq, mq, sq) = p, q

    def cross(ma, sa, mb, sb):  # H(N(ma, sa^2), N(mb, sb^2))
        return mp.log(2 * mp.pi * sb**2) / 2 + (sa**2 + (ma - mb) ** 2) / (2 * sb**2)

    def logz(ma, sa, mb, sb):  # log int N_a N_b
        v = sa**2 + sb**2
        return -mp.log(2 * mp.pi * v) / 2 - (ma - mb) ** 2 / (2 * v)

    def kl(ma, sa, mb, sb):
        return mp.log(sb / sa) + (sa**2 + (ma - mb) ** 2) / (2 * sb**2) - mp.mpf(1) / 2

    P = [(mp.mpf(a), mp.mpf(b), mp.mpf(c)) for a, b, c in zip(wp, mpm, sp)]
    Q = [(mp.mpf(a), mp.mpf(b), mp.mpf(c)) for a, b, c in zip(wq, mq, sq)]
    lo_ff = mp.fsum(w * mp.log(mp.fsum(v * mp.exp(-cross(m, s, m2, s2)) for v, m2, s2 in P)) for w, m, s in P)
    up_ff = mp.fsum(w * mp.log(mp.fsum(v * mp.exp(logz(m, s, m2, s2)) for v, m2, s2 in P)) for w, m, s in P)
    lo_fg = mp.fsum(w * mp.log(mp.fsum(v * mp.exp(-cross(m, s, m2, s2)) for v, m2, s2 in Q)) for w, m, s in P)
    up_fg = mp.fsum(w * mp.log(mp.fsum(v * mp.exp(logz(m, s, m2, s2)) for v, m2, s2 in Q)) for w, m, s in P)
    approx = mp.fsum(
        w * mp.log(mp.fsum(v * mp.exp(-kl(m, s, m2, s2)) for v, m2, s2 in P)
                   / mp.fsum(v * mp.exp(-kl(m, s, m2, s2)) for v, m2, s2 in Q))
        for w, m, s in P
    )
    return float(lo_ff - up_fg), float(up_ff - lo_fg), float(approx)


P_EX = ([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
Q_EX = ([0.3, 0.7], [-1.0, 1.5], [1.0, 0.8])


def test_example_pair_printed_numbers():
    r = mixture_kl(GaussianMixture(*P_EX), GaussianMixture(*Q_EX))
    exact = float(mp_kl(P_EX, Q_EX, [-2, -1, 1.5, 2], live=True))
    lo, up, approx = mp_bounds(P_EX, Q_EX)
    assert abs(r.value - exact) < 1e-12
    assert abs(r.bounds["durrieu_lower"] - lo) < 1e-12 and abs(r.bounds["durrieu_upper"] - up) < 1e-12
    assert abs(r.variational - approx) < 1e-12
    # the numbers the prose quotes
    assert f"{exact:.3f}" == "0.556"
    assert (f"{r.lower:.3f}", f"{r.upper:.3f}") == ("0.409", "0.565")
    assert f"{approx:.3f}" == "0.562"
    assert r.lower == pytest.approx(lo, abs=1e-12)  # the lower end is Durrieu's bound here
    assert r.upper == r.bounds["variational_upper"] < up


def _sweep_pair(s):
    return ([0.5, 0.5], [-s, s], [1.0, 1.0]), ([0.2, 0.8], [-s, 0.5 * s], [1.3, 0.8])


SWEEP_S = [0.0, 1.0, 2.5, 4.0]


@pytest.mark.parametrize("s", SWEEP_S)
def test_bracket_figure_against_mpmath(s):
    p, q = _sweep_pair(s)
    exact = float(mp_kl(p, q, [-s, 0.5 * s, s, 0.0], live=s == MP_KL_LIVE_SWEEP))
    r = mixture_kl(GaussianMixture(*p), GaussianMixture(*q))
    assert abs(r.value - exact) < 1e-11 * max(1.0, exact)
    assert r.lower <= exact <= r.upper


def test_stored_references_are_the_quadratures():
    sweep = [(*_sweep_pair(s), [-s, 0.5 * s, s, 0.0]) for s in SWEEP_S]
    STORE.check_keys({repr((P_EX, Q_EX, [-2, -1, 1.5, 2]))} | {repr(k) for k in sweep})
    assert MP_KL_LIVE_SWEEP in SWEEP_S


def test_bracket_figure_claims():
    seps = np.linspace(0.0, 4.0, 41)
    rows = [mixture_kl(GaussianMixture(*_sweep_pair(s)[0]), GaussianMixture(*_sweep_pair(s)[1])) for s in seps]
    value = np.array([r.value for r in rows])
    approx = np.array([r.variational for r in rows])
    upper_ho = np.array([r.bounds["variational_upper"] for r in rows])
    lower = np.array([r.lower for r in rows])
    upper = np.array([r.upper for r in rows])
    assert np.all((lower <= value) & (value <= upper))
    # printed: widths 0.058 at s = 0 and 1.1399 at s = 4; approximation above at 38, below at 3
    assert f"{upper[0] - lower[0]:.3f}" == "0.058" and f"{upper[-1] - lower[-1]:.3f}" == "1.140"
    assert f"{approx[0] / value[0]:.2f}" == "4.46"
    assert np.sum(approx > value + 1e-12) == 38 and np.sum(approx < value - 1e-12) == 3
    # "five times the truth at s = 0"
    assert 4.0 < approx[0] / value[0] < 5.0  # "more than four times the truth at s = 0"
    # "within 3 % of the truth from s = 2.5 on, within 0.1 % at s = 4"
    far = seps >= 2.5
    assert np.all((upper_ho[far] - value[far]) / value[far] < 0.03)
    assert (upper_ho[-1] - value[-1]) / value[-1] < 1e-3
    near = seps <= 1.5  # and it is loose (over 10 %) while the components overlap
    assert np.all((upper_ho[near] - value[near]) / value[near] > 0.1)


# ------------------------------------------------------------- the accuracy study
def _study_pairs():
    rng = np.random.default_rng(2024)

    def random_mixture_1d(k):
        w = rng.dirichlet(np.ones(k))
        w[-1] = 1.0 - math.fsum(w[:-1].tolist())
        return (w, rng.normal(0.0, 2.0, k), np.exp(rng.normal(0.0, 0.4, k)))

    def rotated_pair(d):
        fp = random_mixture_1d(rng.integers(1, 5))
        fq = random_mixture_1d(rng.integers(1, 5))
        kl_1d = kl_numeric(GaussianMixture(*fp), GaussianMixture(*fq))
        other = rng.normal(0.0, 0.7, (2, d - 1))
        scale = np.exp(rng.normal(0.0, 0.25, (2, d - 1)))
        # independent reference for the Gaussian coordinates: the textbook formula
        kl_rest = sum(math.log(scale[1, j] / scale[0, j]) + (scale[0, j] ** 2 + (other[0, j] - other[1, j]) ** 2)
                      / (2 * scale[1, j] ** 2) - 0.5 for j in range(d - 1))
        rot, _ = np.linalg.qr(rng.normal(size=(d, d)))

        def build(w, m, s, i):
            means = np.column_stack([m] + [np.full(len(m), other[i, j]) for j in range(d - 1)])
            var = [np.diag([sk**2, *scale[i] ** 2]) for sk in s]
            return GaussianMixture(w, means @ rot.T, covs=[rot @ v @ rot.T for v in var])

        return build(*fp, 0), build(*fq, 1), kl_1d + kl_rest

    out = []
    for d in (1, 2, 3):
        for _ in range(8):
            if d == 1:
                a = GaussianMixture(*random_mixture_1d(rng.integers(1, 5)))
                b = GaussianMixture(*random_mixture_1d(rng.integers(1, 5)))
                exact = kl_numeric(a, b)
            else:
                a, b, exact = rotated_pair(d)
            out.append((a, b, exact))
    return out


def _study():
    return [(a.dim, mixture_kl(a, b), exact) for a, b, exact in _study_pairs()]


def test_accuracy_study_meets_the_issue_goals():
    study = _study()
    rel_v = np.array([abs(r.value - e) / e for _, r, e in study])
    rel_a = np.array([abs(r.variational - e) / e for _, r, e in study])
    assert len(study) == 24
    assert all(r.lower <= e * (1 + 1e-9) + 1e-12 and e <= r.upper * (1 + 1e-9) + 1e-12 for _, r, e in study)
    assert np.median(rel_v) <= 0.01
    assert np.median(rel_v) <= 0.1 * np.median(rel_a)
    # printed: about five digits in d = 2, 3; rounding in d = 1; approximation several percent
    dims = np.array([d for d, _, _ in study])
    assert np.median(rel_v[dims == 1]) < 1e-12
    assert np.all(np.median(rel_v[dims > 1]) < 3e-5)
    assert 0.02 < np.median(rel_a) < 0.1
    # every pair within 1 % and within 6 standard errors
    assert np.all(rel_v < 1e-2)
    assert all(abs(r.value - e) <= 6 * r.stderr + 1e-9 for _, r, e in study)
    # "a plain Monte Carlo average over the same 69 632 points: about thirty times larger"
    _, r, _ = study[-1]
    assert r.n_evaluations == 69_632


def test_rqmc_beats_plain_monte_carlo_about_thirty_fold():
    rng = np.random.default_rng(0)
    p, q, exact = None, None, None
    # the notebook's last study pair, rebuilt by the same seeded sequence
    study_pairs = _study_pairs()
    p, q, exact = study_pairs[-1]
    r = mixture_kl(p, q)
    x = p.rvs(size=r.n_evaluations, random_state=5)
    ell = p.logpdf(x) - q.logpdf(x)
    se_plain = ell.std() / math.sqrt(ell.size)
    assert 20 < se_plain / r.stderr < 50
    assert abs(ell.mean() - exact) < 5 * se_plain
    del rng


# ------------------------------------------------------------------ histograms
def test_histogram_claims():
    p_g, q_g = stats.norm(0.0, 1.0), stats.norm(1.0, 1.5)
    kl_g = kl_divergence(p_g, q_g)
    # independent: log(1.5) + (1 + 1) / (2 * 2.25) - 1/2
    assert abs(kl_g - (math.log(1.5) + 2 / 4.5 - 0.5)) < 1e-14
    bins = [2, 12, 50, 200]
    est = np.empty((40, len(bins)))
    for rep in range(40):
        r = np.random.default_rng(700 + rep)
        x = p_g.rvs(size=1000, random_state=r)
        y = q_g.rvs(size=1000, random_state=r)
        est[rep] = [histogram_kl(x, y, bins=b) for b in bins]
    med = [np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else np.nan for c in est.T]
    share_inf = 1.0 - np.isfinite(est).mean(axis=0)
    assert f"{kl_g:.4f}" == "0.3499"
    assert med[0] < kl_g - 0.05  # coarse bins: biased low
    assert abs(med[1] - kl_g) < 0.005  # the lucky number of bins
    assert med[2] > kl_g + 0.02  # fine bins: biased high (among the finite ones)
    assert (round(share_inf[1], 2), round(share_inf[2], 2), share_inf[3]) == (0.03, 0.45, 1.0)


# ---------------------------------------------------------------- k-NN bias
def test_knn_bias_claims_at_d10():
    d, n_list, reps = 10, (250, 500, 1000, 2000), 3
    shift = np.full(d, 0.6 / math.sqrt(d))
    var_q = np.full(d, 1.4)
    kl_d = 0.5 * (d / 1.4 + 0.36 / 1.4 - d + d * math.log(1.4))  # hand-derived Gaussian KL
    assert abs(kl_d - kl_divergence(stats.multivariate_normal(np.zeros(d)),
                                    stats.multivariate_normal(shift, np.diag(var_q)))) < 1e-13
    b1, b5, bo = [], [], []
    for j, n in enumerate(n_list):
        e1 = e5 = eo = 0.0
        for rep in range(reps):
            r = np.random.default_rng(1000 * d + 10 * j + rep)
            x = r.standard_normal((n, d))
            y = r.standard_normal((n, d)) * np.sqrt(var_q) + shift
            e1 += (knn_kl(x, y, k=1) - kl_d) / reps
            e5 += (knn_kl(x, y, k=5) - kl_d) / reps
            eo += (kl_from_samples(x, y, random_state=rep).value - kl_d) / reps
        b1.append(e1)
        b5.append(e5)
        bo.append(eo)
    assert all(0.25 < b < 0.55 for b in b5)  # "about 0.3 nats" at n >= 1000, more before
    assert all(0.2 < b5[i] < 0.35 for i in (2, 3))
    assert b5[-1] > 0.5 * kl_d  # "most of the divergence itself"
    assert all(b1[i] < b5[i] for i in range(4))  # smaller k helps a little
    # "what is left is about a quarter of it at n = 250 (0.14 nats) and a few hundredths from n = 500 on"
    assert f"{bo[0]:.2f}" == "0.14" and 0.2 * b5[0] < bo[0] < 0.3 * b5[0]
    assert all(abs(b) < 0.05 for b in bo[1:])
    assert all(abs(bo[i]) < 0.3 * b5[i] for i in range(4))


# ------------------------------------------------- comparison with k = 5 (divergence)
PAGE = Path(__file__).resolve().parents[1] / "chapters" / "07_without_a_formula.ipynb"


def hand_kl(d, name):
    """Exact KL of klbook's known_kl_pairs(d) written out independently (hand-derived, mpmath)."""
    mu, s2 = np.full(d, 0.6 / math.sqrt(d)), (np.linspace(0.7, 1.6, d) if d > 1 else np.array([1.3]))
    if name == "Gaussian shift":  # 0.5 (tr(S2^-1 S1) + dm' S2^-1 dm - d + log det S2 - log det S1)
        return 0.5 * (np.sum(1 / s2) + np.sum(mu**2 / s2) - d + np.sum(np.log(s2)))
    if name == "correlated Gaussian":  # S2 = 1.3 S1 and S1^-1/2 dm = (0.5/sqrt(d)) 1
        return 0.5 * (d / 1.3 + 0.25 / 1.3 - d + d * math.log(1.3))
    if name == "rotated Laplace":  # Laplace(0, 1) vs Laplace(s, b): log b + |s| / b + exp(-|s|) / b - 1
        shift = 0.4 / math.sqrt(d)
        return d * (math.log(1.4) + shift / 1.4 + math.exp(-shift) / 1.4 - 1.0)
    return mixture_vs_gaussian_kl()  # the mixture's KL depends on the first coordinate only


@functools.cache
def mixture_vs_gaussian_kl():
    """The mixture pair's exact KL (the same in every d), by mpmath quadrature; once per process."""
    with mp.workdps(20):
        def f(t):
            lp = mp.log(0.5 * mp.npdf(t, -1.5, 1) + 0.5 * mp.npdf(t, 1.5, 1))
            return mp.exp(lp) * (lp - mp.log(mp.npdf(t, 0, mp.sqrt(3.25))))

        return float(mp.quad(f, [-mp.inf, -1.5, 0, 1.5, mp.inf]))


@pytest.mark.parametrize("d", [1, 2, 5, 10])
def test_known_kl_pairs_exact_values_and_draws(d):
    pairs = known_kl_pairs(d)
    assert [p.name for p in pairs] == ["Gaussian shift", "correlated Gaussian", "rotated Laplace", "mixture vs Gaussian"]
    for p in pairs:
        assert abs(p.kl - hand_kl(d, p.name)) < 1e-12 * max(1.0, p.kl)
    # the draws are what the docstring says: moments of 20 000 draws (5 standard errors)
    r = np.random.default_rng(d)
    shift_p, _, laplace_p, mix_p = (p.draw_p(20_000, r) for p in pairs)
    shift_q = pairs[0].draw_q(20_000, r)
    se = 5 / math.sqrt(20_000)
    mu, s2 = np.full(d, 0.6 / math.sqrt(d)), (np.linspace(0.7, 1.6, d) if d > 1 else np.array([1.3]))
    assert np.all(np.abs(shift_p.mean(axis=0)) < se) and np.all(np.abs(shift_p.var(axis=0) - 1) < 2 * se)
    assert np.all(np.abs(shift_q.mean(axis=0) - mu) < 2 * se) and np.all(np.abs(shift_q.var(axis=0) / s2 - 1) < 2 * se)
    assert abs(np.trace(np.atleast_2d(np.cov(laplace_p.T))) - 2 * d) < 0.05 * 2 * d  # Laplace(0, 1) variance 2, rotated
    assert abs(np.mean(np.abs(mix_p[:, 0])) - 1.5) < 0.1 and abs(mix_p[:, 0].var() - 3.25) < 0.15


BENCH = PAGE.parent / "07_sample_kl_benchmark.json"


def stored_benchmark():
    """The benchmark runs the chapter reads (benchmarks/bench_sample_kl.py --chapter-data)."""
    return json.loads(BENCH.read_text(encoding="utf-8"))["cases"]


def case_stats(case):
    """MAE ratio and coverage of one stored case, computed here independently of the notebook."""
    exact = case["kl"]
    mae_o = math.fsum(abs(v - exact) for v in case["ours"]) / len(case["ours"])
    mae_5 = math.fsum(abs(v - exact) for v in case["div5"]) / len(case["div5"])
    cover = sum(lo <= exact <= hi for lo, hi in zip(case["lo"], case["hi"])) / len(case["lo"])
    return mae_o / mae_5, cover


def boot_interval(case, draws=2000):
    """The 90 % paired-bootstrap interval of the MAE ratio as the notebook prints it (same seed and draws)."""
    _, lo, hi = mae_ratio(case["ours"], case["div5"], case["kl"], draws=draws)
    return f"{lo:.2f}", f"{hi:.2f}"


def page_prose():
    """The chapter's markdown, lines joined by spaces (the prose the tests quote)."""
    nb = json.loads(PAGE.read_text(encoding="utf-8"))
    return " ".join(" ".join("".join(c["source"]).split()) for c in nb["cells"] if c["cell_type"] == "markdown")


def printed_summary(which):
    """The summary line the notebook prints for a set of pairs (nbval proves it is a fresh run)."""
    nb = json.loads(PAGE.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and "summarise(c)" in "".join(c["source"]))
    text = "".join("".join(o["text"]) for o in cell["outputs"] if o.get("name") == "stdout")
    title = "known_kl_pairs:" if which == "main" else "held-out pairs:"
    block = next(b for b in text.split("\n\n") if b.strip().startswith(title)).strip().splitlines()
    start = next(i for i, line in enumerate(block) if line.startswith("ratio at most"))
    return " ".join(block[start:])   # printed on two lines, to fit the page


def printed_provenance():
    """The lines the notebook prints before the table: where the stored runs come from."""
    nb = json.loads(PAGE.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and "summarise(c)" in "".join(c["source"]))
    text = "".join("".join(o["text"]) for o in cell["outputs"] if o.get("name") == "stdout")
    return text.split("\n\n")[0]


def test_stored_benchmark_is_complete_and_exact():
    cases = stored_benchmark()
    main = [c for c in cases if c["set"] == "main"]
    held = [c for c in cases if c["set"] == "heldout"]
    assert sorted({(c["d"], c["n"]) for c in main}) == [(d, n) for d in (1, 2, 5, 10) for n in (1000, 10_000)]
    assert len(main) == 32 and len(held) == 32
    for c in main:  # "two hundred seeded repetitions with n = m = 1000 and twenty-four with 10 000
        # (a hundred and forty-four in ten dimensions)"
        reps = 200 if c["n"] == 1000 else (144 if c["d"] == 10 else 24)
        assert len(c["ours"]) == reps == len(c["div5"]) == len(c["lo"]) == len(c["hi"]) == len(c["raw"])
        assert abs(c["kl"] - hand_kl(c["d"], c["pair"])) < 1e-12 * max(1.0, c["kl"])
    for c in held:  # "sixty and twenty-four for the held-out pairs"
        assert len(c["ours"]) == (60 if c["n"] == 1000 else 24)
    # "the whole run takes about 35 minutes of CPU" (both estimators, every repetition)
    minutes = math.fsum((c["cpu_ours"] + c["cpu_div5"]) * len(c["ours"]) for c in cases) / 60
    assert f"takes about {minutes:.0f} minutes of CPU" in page_prose()


def test_stored_benchmark_records_its_provenance():
    prov = json.loads(BENCH.read_text(encoding="utf-8"))["provenance"]
    assert re.fullmatch(r"[0-9a-f]{40}", prov["klbook_commit"]) and prov["klbook_dirty"] is False
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", prov["divergence"])
    # the seeds recorded are the ones test_stored_benchmark_runs_are_what_the_library_computes_now uses
    assert "default_rng(10000 * d + 100 * rep + n % 97)" in prov["seeds"] and "random_state=rep" in prov["seeds"]
    # every dump ran on that commit from a clean checkout, and together the dumps' commands and
    # repetitions made exactly the stored cases
    made = {}
    names = {which: sorted({c["pair"] for c in stored_benchmark() if c["set"] == which}) for which in ("main", "heldout")}
    for run in prov["runs"]:
        assert (run["klbook_commit"], run["klbook_dirty"], run["divergence"]) == (
            prov["klbook_commit"], False, prov["divergence"])
        assert run["command"].startswith("OPENBLAS_NUM_THREADS=1 python benchmarks/bench_sample_kl.py ")
        which = "heldout" if " --heldout" in run["command"] else "main"
        dims = re.search(r"--dims=([\d,]+)", run["command"]).group(1).split(",")
        assert set(run["pairs"]) <= set(names[which]) and ("--pairs=" in run["command"]) == (sorted(run["pairs"]) != names[which])
        for d in dims:
            for n, reps in run["reps"].items():
                for pair in run["pairs"]:
                    assert (which, int(d), int(n), pair) not in made
                    made[which, int(d), int(n), pair] = reps
    # the chapter prints them: commit, clean checkout, divergence's version, repetitions
    shown = printed_provenance()
    assert f"klbook commit {prov['klbook_commit'][:10]} (no uncommitted change)" in shown
    assert f"divergence {prov['divergence']};" in shown
    assert "main 200, 24 (144 in d = 10);\nheld-out 60, 24" in shown
    stored = {}
    for c in stored_benchmark():
        stored[c["set"], c["d"], c["n"], c["pair"]] = len(c["ours"])
    assert made == stored
    # the commit is in this repository's history (when it is a git checkout)
    root = PAGE.parents[1]
    if (root / ".git").exists() and shutil.which("git"):
        shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=root, capture_output=True, text=True)
        if shallow.returncode == 0 and shallow.stdout.strip() == "false":  # a full history to look in
            anc = subprocess.run(["git", "merge-base", "--is-ancestor", prov["klbook_commit"], "HEAD"], cwd=root)
            assert anc.returncode == 0, "the recorded klbook commit is not an ancestor of HEAD"


@pytest.mark.parametrize("d, name, n, reps", [(10, "Gaussian shift", 1000, (0, 1)), (10, "mixture vs Gaussian", 1000, (0, 1)),
                                              (2, "rotated Laplace", 1000, (0,)), (10, "mixture vs Gaussian", 10_000, (0,))])
def test_stored_benchmark_runs_are_what_the_library_computes_now(d, name, n, reps):
    # a few stored repetitions recomputed from their seeds (the benchmark's): the stored table is the
    # current library's, not an old one's; div5 is divergence.knn_kl_divergence(k=5), which knn_kl equals
    case = next(c for c in stored_benchmark() if c["set"] == "main" and (c["d"], c["pair"], c["n"]) == (d, name, n))
    pair = next(p for p in known_kl_pairs(d) if p.name == name)
    for rep in reps:
        r = np.random.default_rng(10_000 * d + 100 * rep + n % 97)
        x, y = pair.draw_p(n, r), pair.draw_q(n, r)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning fires on these pairs
            res = kl_from_samples(x, y, random_state=rep)
        assert res.value == pytest.approx(case["ours"][rep], rel=1e-9, abs=1e-12)
        assert res.ci == pytest.approx((case["lo"][rep], case["hi"][rep]), rel=1e-9, abs=1e-12)
        # knn_kl searches exhaustively in float32 from d = 7 on (distances to ~1e-7), divergence in float64
        assert knn_kl(x, y, k=5) == pytest.approx(case["div5"][rep], rel=1e-5 if d >= 7 else 1e-9)


def test_comparison_with_k5_claims():
    cases = stored_benchmark()
    stats_ = {(c["set"], c["d"], c["pair"], c["n"]): case_stats(c) for c in cases}
    ratio = {k: v[0] for k, v in stats_.items()}
    cover = {k: v[1] for k, v in stats_.items()}
    main = {k[1:]: v for k, v in ratio.items() if k[0] == "main"}
    held = {k[1:]: v for k, v in ratio.items() if k[0] == "heldout"}
    prose = page_prose()
    # issue 18's goals: MAE at most 0.7 of k = 5's in the typical case and never worse, intervals
    # covering at least 70 % of the time, on both sets
    mr, hr = np.array(list(main.values())), np.array(list(held.values()))
    assert np.all(mr <= 1) and np.all(hr <= 1) and np.median(mr) <= 0.7 and np.median(hr) <= 0.7
    assert min(cover.values()) >= 0.7
    # "cuts the mean absolute error by a factor of 3 to 13" (bias-dominated: d = 5, 10)
    bias = [main[d, p, n] for d in (5, 10) for p in ("correlated Gaussian", "rotated Laplace") for n in (1000, 10_000)]
    assert f"by a factor of {1 / max(bias):.0f} to {1 / min(bias):.0f} on the first set" in prose
    # "... and of 2.4 to 38 on the held-out one" (d >= 3)
    hb = [v for k, v in held.items() if k[0] >= 3]
    assert f"and of {1 / max(hb):.1f} to {1 / min(hb):.0f} on the held-out one" in prose
    # "in one and two dimensions ... smaller by 5 to 64 % (by 27 % in the median case)"
    low_cases = [k for k in main if k[0] <= 2]
    low = [main[k] for k in low_cases]
    assert (f"smaller by {100 * (1 - max(low)):.0f} to {100 * (1 - min(low)):.0f} % "
            f"(by {100 * (1 - np.median(low)):.0f} % in the median case)") in prose
    # the mixture: "smaller than that of k = 5 in every dimension and at both sample sizes"
    assert all(main[d, "mixture vs Gaussian", n] < 1 for d in (1, 2, 5, 10) for n in (1000, 10_000))
    assert "smaller than that of $k = 5$ in every dimension and at both sample sizes" in prose
    # "though in five dimensions with n = m = 10 000 by no more than the noise (interval 0.66-1.06)": the one
    # mixture case whose interval holds 1
    mix = {(c["d"], c["n"]): c for c in stored_benchmark() if (c["set"], c["pair"]) == ("main", "mixture vs Gaussian")}
    assert [k for k in sorted(mix) if float(boot_interval(mix[k])[1]) >= 1] == [(5, 10_000)]
    lo, hi = boot_interval(mix[5, 10_000])
    assert f"though in five dimensions with $n = m = 10\\,000$ by no more than the noise (interval {lo}-{hi})" in prose
    # "the ratio is at most 1 in all 32 and at most 0.7 in 17 (median 0.69); held-out: 32 of 32 (median 0.16)"
    assert f"at most 1 in all {mr.size} and at most 0.7 in {int(np.sum(mr <= 0.7))} (median {np.median(mr):.2f})" in prose
    assert f"over the held-out set at most 1 in all {hr.size} (median {np.median(hr):.2f})" in prose
    # the closest case: the mixture in d = 10 at n = m = 10 000, over 144 repetitions
    cases = {(c["set"], c["d"], c["pair"], c["n"]): c for c in stored_benchmark()}
    g, m = cases["main", 10, "Gaussian shift", 1000], cases["main", 10, "mixture vs Gaussian", 10_000]
    # "in ten dimensions with n = m = 10 000 the two estimators come closest on the mixture (0.83, interval ...,
    # over 144 repetitions, enough to tell it from a tie)"
    closest = max((k for k in main if k[0] == 10 and k[2] == 10_000), key=main.get)
    assert closest == (10, "mixture vs Gaussian", 10_000) and len(m["ours"]) == 144
    lo, hi = boot_interval(m)
    assert (f"closest on the **mixture** ({main[closest]:.2f}, interval {lo}-{hi}, over {len(m['ours'])} repetitions, "
            "enough to tell it from a tie)") in prose
    assert float(hi) < 1  # the interval lies below 1
    # "the smallest of these gains, the one-dimensional Gaussian shift with n = m = 10 000, is within the noise"
    small = max(low_cases, key=main.get)
    lo, hi = boot_interval(cases[("main",) + small])
    words = {1: "one", 2: "two"}[small[0]]
    size = "$n = m = 10\\,000$" if small[2] == 10_000 else "$n = m = 1000$"
    assert f"the smallest of these gains, the {words}-dimensional {small[1]} with {size}, is within the noise (interval {lo}-{hi})" in prose
    assert float(lo) < 1 < float(hi)
    # "its mean error is ... nats"; "what passes moves the estimate by ... nats ... against ..."
    raw_err, corr = np.array(m["raw"]) - m["kl"], np.array(m["ours"]) - np.array(m["raw"])
    assert f"its mean error is {raw_err.mean():+.4f} nats" in prose
    assert (f"by {corr.std(ddof=1):.4f} nats from sample to sample (standard deviation), "
            f"against the uncorrected estimate's own {raw_err.std(ddof=1):.4f}") in prose
    # "the factor c^2/(c^2 + 3s^2) averages ..."; "without the correction the ratio would be ..."
    assert None not in m["shrink"] and all(0.0 <= v < 1.0 for v in m["shrink"])
    assert f"averages {np.mean(m['shrink']):.2f} over the repetitions" in prose
    raw_ratio = mae_ratio(m["raw"], m["div5"], m["kl"])[0]
    assert f"without the correction the ratio would be {raw_ratio:.2f}, so what passes still helps a little" in prose
    assert main[10, "mixture vs Gaussian", 10_000] < raw_ratio
    # the Gaussian shift in d = 10: "correlated at 0.88", "0.89 (interval 0.83-0.96)" at n = 1000, and at 10 000
    assert f"correlated at {np.corrcoef(np.array(g['ours']) - g['kl'], np.array(g['div5']) - g['kl'])[0, 1]:.2f}" in prose
    lo, hi = boot_interval(g)
    assert f"{main[10, 'Gaussian shift', 1000]:.2f} (interval {lo}-{hi})" in prose
    g4 = cases["main", 10, "Gaussian shift", 10_000]
    lo, hi = boot_interval(g4)
    assert f"{main[10, 'Gaussian shift', 10_000]:.2f} (interval {lo}-{hi}) with $n = m = 10\\,000$" in prose
    # "the interval covers the truth in at least 79 % of the runs in every case"
    assert f"in at least {100 * min(cover.values()):.0f} % of the runs in every case" in prose
    # the notebook prints the same summaries (nbval proves its output is a fresh run)
    assert printed_summary("main").startswith(
        f"ratio at most 1 in {mr.size} of {mr.size} cases, at most 0.7 in {int(np.sum(mr <= 0.7))}; median {np.median(mr):.2f}")
    assert printed_summary("heldout").startswith(f"ratio at most 1 in {hr.size} of {hr.size} cases")


# --------------------------------------------------------------- heavy tails
def test_heavy_tail_claims():
    with mp.workdps(25):
        nu = mp.mpf(3)
        c = mp.gamma((nu + 1) / 2) / (mp.sqrt(nu * mp.pi) * mp.gamma(nu / 2))

        def logt(t):
            return mp.log(c) - (nu + 1) / 2 * mp.log(1 + t**2 / nu)

        exact = float(mp.quad(lambda t: mp.exp(v := logt(t)) * (v + t**2 / 2 + mp.log(2 * mp.pi) / 2),
                              [-mp.inf, -50, -5, 0, 5, 50, mp.inf]))
    assert abs(kl_divergence(stats.t(3), stats.norm()) - exact) < 1e-8
    assert f"{exact:.3f}" == "0.645"
    assert kl_divergence(stats.t(2), stats.norm()) == math.inf  # "with two it would not be"
    for n in (1000, 10_000, 100_000):
        r = np.random.default_rng(n)
        x = stats.t(3).rvs(size=n, random_state=r)
        y = stats.norm().rvs(size=n, random_state=r)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = kl_from_samples(x, y, bias_correction=False)
        assert res.heavy_tail and caught and res.ci[1] == math.inf
        assert res.value < 0.3 * exact  # "far below the truth even at a hundred thousand"
    # where the divergence lives: |x| > 5 and |x| > 10, by mpmath
    with mp.workdps(25):
        f = t3_normal_kl_integrand
        far5 = float(2 * mp.quad(f, [5, 50, mp.inf]))
        far10 = float(2 * mp.quad(f, [10, 100, mp.inf]))
    assert (f"{far5:.3f}", f"{far5 / exact:.0%}") == ("0.524", "81%")
    assert (f"{far10:.3f}", f"{far10 / exact:.0%}") == ("0.306", "47%")
    assert f"{2 * stats.t(3).sf(5):.1%}" == "1.5%" and f"{2 * stats.t(3).sf(10):.1%}" == "0.2%"


# ----------------------------------------------------------------- exercises
def test_exercise_single_gaussians():
    r = mixture_kl(GaussianMixture([1.0], [0.0], [1.0]), GaussianMixture([1.0], [1.0], [2.0]))
    exact = math.log(2.0) + 2 / 8 - 0.5
    assert abs(r.value - exact) < 1e-13 and abs(r.variational - exact) < 1e-13
    assert abs(r.bounds["variational_upper"] - exact) < 1e-13
    assert r.bounds["durrieu_lower"] < exact < r.bounds["durrieu_upper"]
    assert f"{exact:.4f}" == "0.4431"
    assert abs(-0.5 * math.log(4 * math.pi) + 1.266) < 1e-3 and abs(-0.5 * math.log(2 * math.pi * math.e) + 1.419) < 1e-3


def test_exercise_scaling():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 2))
    y = rng.normal(size=(2000, 2)) + [0.5, 0.0]
    stretch = np.array([1000.0, 1.0])
    a, b = kl_from_samples(x, y).value, kl_from_samples(x * stretch, y * stretch).value
    assert abs(a - b) < 1e-9
    before, after = knn_kl(x, y), knn_kl(x * stretch, y * stretch)
    assert abs(before - 0.15) < 0.01 and abs(after - 0.31) < 0.01  # "about 0.15 before, 0.31 after"
    # shift along the second coordinate instead: the stretched plain estimate collapses
    y2 = rng.normal(size=(2000, 2)) + [0.0, 0.5]
    assert knn_kl(x * stretch, y2 * stretch) < 0.5 * knn_kl(x, y2)
