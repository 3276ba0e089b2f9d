"""Speed (and, with --accuracy, accuracy) of klbook's KL for probability vectors.

Speed, from one run:

* long vectors: process CPU time at n = 10**5, 10**6 and 10**7 (change with --n) for
  random float64 vectors and for near-equal vectors (KL ~ 1e-12 and ~ 1e-24), each as a
  ratio to the time it takes just to read both arrays (``p.sum() + q.sum()``), and the
  ratio scipy.stats.entropy / klbook for every input class and length, printed together
  on the last lines. Target (issue 16): klbook at least 3x faster than scipy.stats.entropy.
  Both get the same arrays and validate them as each does (klbook checks entries and sums;
  scipy renormalises).
* short vectors (--small, on by default): CPU time per call of ``kl_divergence`` on
  probability vectors of 9 and 64 entries (random, and near-equal with every ratio within
  1 % of 1), against the plain formula ``sum(rel_entr(p, q))`` on the same arrays.
  Target (issue 16): at most ~15-20 us per call for n <= 64.

Every time is the median over --repeat runs, measured interleaved (each run times every
contender once, in turn) so that a busy machine slows numerator and denominator alike.
CPU time (the default) counts the page faults of scipy's temporaries, which wall-clock
time on a loaded machine hides behind other processes; ``--wall`` times with the wall
clock instead. The load average is printed with every table.

Accuracy (--accuracy): the worst error, in ulps and relative, per input class,
against the mpmath references of tests/test_divergences.py (the same input
classes), and scipy.stats.entropy's error on the same inputs.

    .venv/bin/python benchmarks/bench_vectors.py
    .venv/bin/python benchmarks/bench_vectors.py --repeat 9 --n 1000000
    .venv/bin/python benchmarks/bench_vectors.py --accuracy
    .venv/bin/python benchmarks/bench_vectors.py --scipy-steps --n 100000 1000000

--scipy-steps times each pass scipy.stats.entropy makes (two sums, two divisions into new
arrays, rel_entr, the final sum) next to the whole call and klbook: the floor of the ratio.

--floor times, on the near-equal inputs, the bare numpy and BLAS calls that klbook's long near
path makes per block of 2**14 entries, without any of its Python (no bounds, no checks, no
exact sums of the group sums): 7 passes when the series needs s_1 alone (KL ~ 1e-24), 13 when
it needs r^3 and sum(p - q) as integers (KL ~ 1e-12). scipy.stats.entropy's time over theirs
is the best ratio that path could reach.

    .venv/bin/python benchmarks/bench_vectors.py --floor --n 100000 1000000 10000000
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np
import scipy.special
import scipy.stats
from scipy.linalg.blas import dasum, idamax

import klbook


def _inputs(n: int, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    p /= p.sum()
    q = rng.random(n)
    q /= q.sum()
    out = {"random": (p, q)}
    # near-equal pairs that both sum to exactly 1: p = c / 2**K with integers c < 2**53 summing to 2**K,
    # q = (c + m) / 2**K with integer moves m summing to 0 (else sum(p - q) ~ 1e-16 swamps a tiny KL)
    K = min(62, 51 + int(np.log2(n)))  # c < 2**53 (entries are < 4/n) and the sum 2**K fits in int64
    c = np.floor(p * 2.0**K).astype(np.int64)
    c[-1] += 2**K - int(c.sum())
    assert c.max() < 2**53 and c.min() > 0
    pe = c.astype(np.float64) / 2.0**K
    for target, label in ((1e-12, "near-equal, KL~1e-12"), (1e-24, "near-equal, KL~1e-24")):
        s = np.sqrt(2.0 * target * 2.0**K / n)  # KL ~ sum m^2 / (2 c) 2**-K
        m = np.zeros(n, dtype=np.int64)
        k = n // 2 * 2
        m[0:k:2] = np.rint(s * np.sqrt(np.minimum(c[0:k:2], c[1:k:2])) * rng.standard_normal(k // 2))
        m[1:k:2] = -m[0:k:2]  # moves in pairs: sum(m) = 0 exactly
        assert (c + m).min() > 0
        out[label] = (pe, (c + m).astype(np.float64) / 2.0**K)
    return out


def _timer(fn, p, q, clock, reps=1):
    def run():
        t = clock()
        for _ in range(reps):
            fn(p, q)
        return (clock() - t) / reps

    return run


def speed(n: int, repeat: int, cpu: bool) -> dict[str, float]:
    contenders = {
        "read: p.sum() + q.sum()": lambda p, q: p.sum() + q.sum(),
        "klbook.kl_divergence": klbook.kl_divergence,
        "scipy.stats.entropy(p, q)": scipy.stats.entropy,
        "sum(rel_entr(p, q))": lambda p, q: np.sum(scipy.special.rel_entr(p, q)),
        "p @ (log p - log q)": lambda p, q: p @ (np.log(p) - np.log(q)),
    }
    clock = time.process_time if cpu else time.perf_counter
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nn = {n:.0e}, {'CPU' if cpu else 'wall-clock'} time, median of {repeat} interleaved runs, "
        f"load average {load:.1f} on {os.cpu_count()} cores"
    )
    ratios = {}
    reps = max(1, 10**6 // n)  # calls per timed run: short runs are too coarse for the clock
    for label, (p, q) in _inputs(n).items():
        runs = {name: _timer(fn, p, q, clock, reps) for name, fn in contenders.items()}
        best = _median_times(runs, repeat)
        read = best["read: p.sum() + q.sum()"]
        print(f"\n{label}:  KL = {klbook.kl_divergence(p, q)!r}")
        for name, t in best.items():
            print(f"  {name:28s} {t * 1e3:9.2f} ms  {t / read:6.2f} x read")
        kl_t = best["klbook.kl_divergence"]
        ratios[label] = best["scipy.stats.entropy(p, q)"] / kl_t
        print(f"  klbook is {ratios[label]:.2f}x faster than scipy.stats.entropy")
    return ratios


def _median_times(runs: dict, repeat: int) -> dict[str, float]:
    """Median time of each contender over ``repeat`` interleaved rounds (one run of each per round)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            times[name].append(run())
    return {name: statistics.median(t) for name, t in times.items()}


def scipy_steps(n: int, repeat: int, cpu: bool) -> None:
    """CPU time of each step scipy.stats.entropy(p, q) takes (scipy 1.11-1.17), on the bench's inputs.

    Its passes over the data: sum(q) and q / sum(q) (a new array), sum(p) and p / sum(p) (a new
    array), rel_entr of the two (a third array: one log per entry), and its sum; the rest is
    Python (array-API dispatch, the decorator's checks). The steps are timed alone, interleaved
    with the whole call, so the sum of the steps shows what the call costs beyond them.
    """
    clock = time.process_time if cpu else time.perf_counter
    reps = max(1, 10**6 // n)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nscipy.stats.entropy(p, q) step by step, n = {n:.0e}, ns per entry, median of {repeat}, load {load:.1f}")
    for label, (p, q) in _inputs(n).items():
        qn, pn = q / q.sum(), p / p.sum()
        steps = {
            "sum(q)": lambda p, q: q.sum(),
            "q / sum": lambda p, q: q / 1.0,
            "sum(p)": lambda p, q: p.sum(),
            "p / sum": lambda p, q: p / 1.0,
            "rel_entr": lambda p, q: scipy.special.rel_entr(pn, qn),
            "sum of terms": lambda p, q: pn.sum(),
            "whole call": scipy.stats.entropy,
            "klbook": klbook.kl_divergence,
        }
        best = _median_times({name: _timer(fn, p, q, clock, reps) for name, fn in steps.items()}, repeat)
        parts = sum(t for name, t in best.items() if name not in ("whole call", "klbook"))
        print(
            f"  {label:22s} "
            + " ".join(f"{name} {t / n * 1e9:.2f}" for name, t in best.items())
            + f" | steps {parts / n * 1e9:.2f}; whole call / klbook {best['whole call'] / best['klbook']:.2f}x,"
            f" steps / klbook {parts / best['klbook']:.2f}x"
        )


def _bare_passes(nb: int = 1 << 14, rows: int = 16):
    """The per-block numpy/BLAS calls of klbook's long near path, bare: (s_1 alone, r^3 and integer sums)."""
    DW, RX, V = np.empty((2, nb)), np.empty((3, nb)), np.empty(nb // rows + rows)
    RX[2] = 1.0
    T = np.empty(nb)

    def views(a):
        k = a.size
        if k == nb:
            return DW, RX, T
        return DW[:, :k], RX[:, :k], T[:k]

    def s1_alone(p, q):  # 7 passes: p - q, r, w, group sums, sum p, min q, [p - q; w] x [r; 1]
        for s in range(0, p.size, nb):
            a, b = p[s : s + nb], q[s : s + nb]
            dw, rx, _ = views(a)
            d, w, r = dw[0], dw[1], rx[0]
            k8 = a.size - a.size % rows
            np.subtract(a, b, d)
            dasum(a)
            np.minimum.reduce(b)
            np.divide(d, b, r)
            np.multiply(d, r, w)
            np.add.reduce(w[:k8].reshape(rows, -1), axis=0, out=V[: k8 // rows])
            dasum(V)
            np.maximum.reduce(V)
            np.matmul(dw, rx[::2].T)

    def cube(p, q):  # 13 passes: the 6 above, r^3 (2), sum|r^3|, the product with [r; r^3], max|p - q|, the integer sum (2)
        for s in range(0, p.size, nb):
            a, b = p[s : s + nb], q[s : s + nb]
            dw, rx, t = views(a)
            d, w, r, x = dw[0], dw[1], rx[0], rx[1]
            k8 = a.size - a.size % rows
            np.subtract(a, b, d)
            dasum(a)
            mb = float(np.minimum.reduce(b))
            np.divide(d, b, r)
            np.multiply(d, r, w)
            np.add.reduce(w[:k8].reshape(rows, -1), axis=0, out=V[: k8 // rows])
            dasum(V)
            np.square(r, x)
            x *= r
            dasum(x)
            np.matmul(dw, rx[:2].T)
            idamax(d)
            np.add(d, 1.5 * math.ldexp(1.0, math.frexp(mb)[1] - 2), out=t)
            np.add.reduce(t.view(np.uint64))

    return s1_alone, cube


def floor(n: int, repeat: int, cpu: bool) -> None:
    """scipy.stats.entropy against klbook and against the bare passes of klbook's long near path."""
    clock = time.process_time if cpu else time.perf_counter
    s1_alone, cube = _bare_passes()
    reps = max(1, 10**6 // n)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nfloor, n = {n:.0e}, {'CPU' if cpu else 'wall-clock'} ns per entry, median of {repeat} interleaved runs, load {load:.1f}")
    for label, (p, q) in _inputs(n).items():
        if not label.startswith("near-equal"):
            continue
        runs = {
            "read": lambda p, q: p.sum() + q.sum(),
            "bare 7 passes (s_1)": s1_alone,
            "bare 13 passes (r^3, ints)": cube,
            "klbook": klbook.kl_divergence,
            "scipy": scipy.stats.entropy,
        }
        best = _median_times({name: _timer(fn, p, q, clock, reps) for name, fn in runs.items()}, repeat)
        sc = best["scipy"]
        print(
            f"  {label:22s} "
            + "  ".join(f"{name} {t / n * 1e9:.2f}" for name, t in best.items())
            + "  | scipy / " + ", ".join(f"{name} {sc / t:.2f}x" for name, t in best.items() if name != "scipy")
        )


def _small_inputs(n: int, seed: int = 1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    p = rng.random(n) + 0.1
    p /= p.sum()
    q = rng.random(n) + 0.1
    q /= q.sum()
    q2 = p * (1.0 + 0.01 * rng.uniform(-1, 1, n))
    q2 /= q2.sum()
    return {f"random n={n}": (p, q), f"near-equal n={n}": (p, q2)}


def small(repeat: int, cpu: bool) -> None:
    clock = time.process_time if cpu else time.perf_counter
    contenders = {
        "klbook.kl_divergence": klbook.kl_divergence,
        "sum(rel_entr(p, q))": lambda p, q: float(np.sum(scipy.special.rel_entr(p, q))),
        "scipy.stats.entropy(p, q)": scipy.stats.entropy,
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nshort vectors: {'CPU' if cpu else 'wall-clock'} time per call, median of {repeat} interleaved runs "
        f"of 2000 calls, load average {load:.1f}"
    )
    for n in (9, 64):
        for label, (p, q) in _small_inputs(n).items():
            runs = {name: _timer(fn, p, q, clock, 2000) for name, fn in contenders.items()}
            best = _median_times(runs, repeat)
            kl, plain = best["klbook.kl_divergence"], best["sum(rel_entr(p, q))"]
            print(
                f"  {label:18s} klbook {kl * 1e6:7.1f} us   plain formula {plain * 1e6:5.1f} us   "
                f"ratio {kl / plain:5.1f}   scipy.stats.entropy {best['scipy.stats.entropy(p, q)'] * 1e6:6.1f} us"
            )


def accuracy() -> None:
    import math

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    import test_divergences as T  # the input classes and mpmath references of the tests

    groups: dict[str, list[str]] = {}
    for name in T.CASES:
        key = name.split(" n=")[0] if name.startswith(("near-equal", "Dirichlet")) else name
        groups.setdefault(key, []).append(name)
    print(f"{'input class':44s} {'klbook ulp':>10s} {'klbook rel':>10s} {'scipy rel':>10s}")
    for key, names in groups.items():
        w_ulp = w_rel = s_rel = 0.0
        for name in names:
            p, q = T.CASES[name]
            ref = T.kl_ref(p, q)
            x = klbook.kl_divergence(p, q)
            w_ulp = max(w_ulp, T.ulp_error(x, ref))
            w_rel = max(w_rel, T.rel_error(x, ref))
            s = float(scipy.stats.entropy(p, q))
            s_rel = max(s_rel, T.rel_error(s, ref) if not (math.isinf(s) and ref == T.mp.inf) else 0.0)
        print(f"{key:44s} {w_ulp:10.2f} {w_rel:10.1e} {s_rel:10.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[10**5, 10**6, 10**7])
    ap.add_argument("--no-small", action="store_true", help="leave out the short-vector timings")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument(
        "--wall",
        action="store_true",
        help="time with the wall clock instead of process CPU time (CPU time is steadier on a busy "
        "machine; it is unfair only to the BLAS-threaded p @ (...), whose threads all count)",
    )
    ap.add_argument("--accuracy", action="store_true", help="print the accuracy table instead")
    ap.add_argument(
        "--floor",
        action="store_true",
        help="time the bare per-block passes of klbook's long near path against scipy.stats.entropy instead",
    )
    ap.add_argument(
        "--scipy-steps",
        action="store_true",
        help="time each step of scipy.stats.entropy (its passes over the data) against klbook instead",
    )
    args = ap.parse_args()
    if args.accuracy:
        accuracy()
    elif args.floor:
        for n in args.n:
            floor(n, args.repeat, not args.wall)
    elif args.scipy_steps:
        for n in args.n:
            scipy_steps(n, args.repeat, not args.wall)
    else:
        if not args.no_small:
            small(args.repeat, not args.wall)
        ratios = {n: speed(n, args.repeat, not args.wall) for n in args.n}
        print("\nscipy.stats.entropy time / klbook time (goal >= 3):")
        for n, r in ratios.items():
            print(f"  n = {n:.0e}: " + ", ".join(f"{label} {x:.2f}x" for label, x in r.items()))


if __name__ == "__main__":
    main()
