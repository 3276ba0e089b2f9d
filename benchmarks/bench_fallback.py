"""CPU time of the numerical fallback (the pairwise engine) on a spread of cross-family pairs.

Printed, never asserted (speed goals live in benchmarks and notes). Goal of issue 16:
a typical pair <= 20 ms, none over 100 ms, zipf-type pairs included. CPU time
(time.process_time) because wall time is inflated by other load on the machine.

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_fallback.py
"""

from __future__ import annotations

import statistics
import time
import warnings

from scipy import stats

from klbook import GaussianMixture, hellinger_distance, js_divergence, kl_divergence, renyi_divergence, total_variation
from klbook.core.numeric import entropy_numeric

PAIRS = [
    # continuous, light tails
    ("norm||logistic", stats.norm(), stats.logistic(0.3, 1.2)),
    ("logistic||gumbel_r", stats.logistic(), stats.gumbel_r(0.5, 2)),
    ("skewnorm||norm", stats.skewnorm(3, 0.5, 2), stats.norm(1, 2)),
    ("gamma||weibull_min", stats.gamma(2.5), stats.weibull_min(1.5, 0, 2)),
    ("lognorm||gamma", stats.lognorm(0.6), stats.gamma(3, 0, 0.5)),
    ("laplace||logistic @1e9", stats.laplace(1e9, 2), stats.logistic(1e9 + 1, 3)),
    # heavy tails
    ("t(0.3)||cauchy", stats.t(0.3), stats.cauchy()),
    ("t(0.1)||t(0.2)", stats.t(0.1), stats.t(0.2)),
    ("cauchy||t(0.5)", stats.cauchy(), stats.t(0.5)),
    ("norm||t(3)", stats.norm(), stats.t(3)),
    # singular ends
    ("beta(0.01,1)||beta(0.02,1.5)", stats.beta(0.01, 1), stats.beta(0.02, 1.5)),
    ("beta(0.3,2)||uniform", stats.beta(0.3, 2), stats.uniform()),
    ("beta(2,0.3)||beta(1.5,0.5,-.5,1.5)", stats.beta(2, 0.3), stats.beta(1.5, 0.5, -0.5, 1.5)),
    ("beta(3,0.01)||arcsine", stats.beta(3, 0.01), stats.arcsine()),
    ("expon||levy (inf)", stats.expon(), stats.levy()),
    # near-identical
    ("t(5)||t(5.000001)", stats.t(5), stats.t(5.000001)),
    ("logistic||logistic(1e-6)", stats.logistic(), stats.logistic(1e-6)),
    # near-identical, no written form: the expansion in the parameters (engine.pair_log_ratio)
    ("bradford(0.3)||shape(1+1e-6)", stats.bradford(0.3), stats.bradford(0.3 * (1 + 1e-6))),
    ("gumbel_r||scale 1+1e-6", stats.gumbel_r(), stats.gumbel_r(scale=1 + 1e-6)),
    ("alpha(3.57)||shape(1+1e-6)", stats.alpha(3.57), stats.alpha(3.57 * (1 + 1e-6))),
    ("geom(0.3)||geom(0.3(1+1e-6))", stats.geom(0.3), stats.geom(0.3 * (1 + 1e-6))),
    # near-identical, a finite end moved by 5e-7 (q's sliver beyond p's end), kinks, a formula that cancels
    ("semicircular||scale 1+1e-6 (ends)", stats.semicircular(), stats.semicircular(scale=1 + 1e-6)),
    ("anglit||scale 1+1e-6 (ends)", stats.anglit(), stats.anglit(loc=0.0, scale=1 + 1e-6)),
    ("cosine||scale 1+1e-6 (ends)", stats.cosine(), stats.cosine(scale=1 + 1e-6)),
    ("triang(0.16)||scale 1+1e-6 (ends)", stats.triang(0.16), stats.triang(0.16, loc=-5e-7, scale=1 + 1e-6)),
    ("crystalball||beta(1+1e-6) (kink)", stats.crystalball(2.0, 3.0), stats.crystalball(2.000002, 3.0)),
    ("pearson3(0.1)||shape(1+1e-6)", stats.pearson3(0.1), stats.pearson3(0.1000001)),
    # singular at both moving ends (4.4-6.0 s before the distance-to-end forms), a log-density that underflows
    ("rdist(1.6)||scale 1+1e-6 (singular ends)", stats.rdist(1.6), stats.rdist(1.6, scale=1 + 1e-6)),
    ("jf_skew_t(8,4)||scale 1+1e-6", stats.jf_skew_t(8, 4), stats.jf_skew_t(8, 4, scale=1 + 1e-6)),
    # families whose quantiles or cdf scipy finds numerically: argus has no ppf of its own, gausshyper's
    # cdf is a quadrature at every point (scipy's ppf: brentq on it); the engine integrates their densities
    # itself once (engine._QuadCdf): gausshyper TV 20.5 s -> 48 ms, argus 117-176 -> 12-30 ms (CPU at 4ef3142)
    ("argus(1)||argus(1.3)", stats.argus(1.0), stats.argus(1.3)),
    ("argus(1)||scale 1+1e-6 (ends)", stats.argus(1.0), stats.argus(1.0, scale=1 + 1e-6)),
    ("gausshyper||a + 0.1", stats.gausshyper(1.5, 2.5, 0.5, 0.2), stats.gausshyper(1.6, 2.5, 0.5, 0.2)),
    # p = q given as two different objects (the integrand is rounding noise)
    ("GaussianMixture(1)||same norm", GaussianMixture([1.0], [0.3], [1.7]), stats.norm(0.3, 1.7)),
    # discrete
    ("nbinom||poisson", stats.nbinom(4, 0.3), stats.poisson(9)),
    ("skellam||poisson", stats.skellam(3, 2), stats.poisson(5, loc=-3)),
    ("binom||poisson", stats.binom(100, 0.05), stats.poisson(5)),
    ("logser||geom", stats.logser(0.7), stats.geom(0.4)),
    ("nbinom n differs", stats.nbinom(3.0, 0.4), stats.nbinom(3.0000001, 0.4)),
    ("nbinom(3,1e-8)||nbinom(3.5,1e-8)", stats.nbinom(3, 1e-8), stats.nbinom(3.5, 1e-8)),
    # zipf-type
    ("zipf(3)||geom", stats.zipf(3), stats.geom(0.5)),
    ("geom||zipf(3)", stats.geom(0.5), stats.zipf(3)),
    ("zipf(1.5)||zipf(1.2)", stats.zipf(1.5), stats.zipf(1.2)),
    ("zipf(3)||poisson", stats.zipf(3), stats.poisson(4)),
    ("yulesimon||zipf", stats.yulesimon(2.5), stats.zipf(2.2)),
    ("yulesimon(1.2)||yulesimon(4)", stats.yulesimon(1.2), stats.yulesimon(4.0)),
    ("yulesimon||poisson", stats.yulesimon(1.5), stats.poisson(3)),
    ("skellam||yulesimon", stats.skellam(3, 2), stats.yulesimon(2.0)),
    ("nbinom(3.2,1e-5)||yulesimon", stats.nbinom(3.2, 1e-5), stats.yulesimon(4.5)),
    ("zipf(2)||geom (inf)", stats.zipf(2), stats.geom(0.5)),
]
FUNCS = [
    ("kl", kl_divergence),
    ("js", js_divergence),
    ("tv", total_variation),
    ("hellinger", hellinger_distance),
    ("renyi 0.5", lambda p, q: renyi_divergence(p, q, 0.5)),
]


def cpu_ms(fn, *args, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                fn(*args)
            except (ValueError, NotImplementedError):
                pass
        best = min(best, time.process_time() - t)
    return 1e3 * best


def main() -> None:
    print("fallback pairs, best of 3, CPU ms:")
    print(f"{'pair':36s}" + "".join(f"{n:>11s}" for n, _ in FUNCS))
    all_ms = []
    labelled = []
    for name, p, q in PAIRS:
        row = [cpu_ms(fn, p, q) for _, fn in FUNCS]
        all_ms += row
        labelled += [(v, f"{fn_name} {name}") for v, (fn_name, _) in zip(row, FUNCS)]
        print(f"{name:36s}" + "".join(f"{v:11.1f}" for v in row))
    for name, d in [("entropy zipf(1.1)", stats.zipf(1.1)), ("entropy nbinom(3, 1-1e-12)", stats.nbinom(3, 1 - 1e-12)),
                    ("entropy beta(0.01, 1)", stats.beta(0.01, 1)),
                    ("entropy beta(2, 0.05)", stats.beta(2, 0.05))]:
        v = cpu_ms(entropy_numeric, d)
        all_ms.append(v)
        labelled.append((v, name))
        print(f"{name:36s}{v:11.1f}")
    over = [(v, name) for v, name in labelled if v > 100.0]
    all_ms.sort()
    print(f"\n{len(all_ms)} calls: median {statistics.median(all_ms):.1f} ms, "
          f"p95 {all_ms[int(0.95 * (len(all_ms) - 1))]:.1f} ms, max {all_ms[-1]:.1f} ms "
          f"(goal: typical <= 20 ms, none over 100 ms)")
    print("over 100 ms:", ", ".join(f"{name} {v:.0f} ms" for v, name in sorted(over, reverse=True)) or "none")


if __name__ == "__main__":
    main()
