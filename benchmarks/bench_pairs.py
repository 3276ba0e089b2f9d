"""Dispatch and fallback timings of klbook's pairwise divergences (printed, never asserted).

Ratios: klbook.kl_divergence on a closed-form pair over the plain formula in numpy/math
(issue 16 goal: <= 30x for 1-D families, <= 3x for a 5-d MVN), torch.distributions if
installed (benchmark-only, never a requirement), and fallback (numerical) pair timings
(goal: typical <= 20 ms, none over 100 ms).

    .venv/bin/python benchmarks/bench_pairs.py
"""

from __future__ import annotations

import math
import statistics
import time
import warnings

import numpy as np
from scipy import stats
from scipy.special import digamma, gammaln

import klbook


def best(fn, n=200, reps=5):
    """Best of ``reps`` runs of ``n`` calls, in CPU time of this process (the shared machine's
    load from other processes then inflates both sides of a ratio far less than wall time)."""
    out = []
    for _ in range(reps):
        t = time.process_time()
        for _ in range(n):
            fn()
        out.append((time.process_time() - t) / n)
    return min(out)


def plain_norm():
    m1, s1, m2, s2 = 0.3, 1.2, -0.5, 0.8
    return math.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5


def plain_gamma():
    a1, b1, a2, b2 = 2.5, 1.5, 3.0, 0.7  # shape, rate
    return (a1 - a2) * digamma(a1) - gammaln(a1) + gammaln(a2) + a2 * (math.log(b1) - math.log(b2)) + a1 * (b2 - b1) / b1


rng = np.random.default_rng(0)
A, B = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
S1, S2 = A @ A.T + 5 * np.eye(5), B @ B.T + 5 * np.eye(5)
M1, M2 = rng.normal(size=5), rng.normal(size=5)


def plain_mvn():
    L = np.linalg.cholesky(S2)
    iS2 = np.linalg.inv(S2)
    d = M2 - M1
    return 0.5 * (np.trace(iS2 @ S1) + d @ iS2 @ d - 5 + np.linalg.slogdet(S2)[1] - np.linalg.slogdet(S1)[1]) + 0 * L[0, 0]


pairs = {
    "norm": (stats.norm(0.3, 1.2), stats.norm(-0.5, 0.8), plain_norm),
    "gamma": (stats.gamma(2.5, scale=1 / 1.5), stats.gamma(3.0, scale=1 / 0.7), plain_gamma),
    "5-d MVN": (stats.multivariate_normal(M1, S1), stats.multivariate_normal(M2, S2), plain_mvn),
}
try:
    import torch
    import torch.distributions as td
except ImportError:  # torch is optional here
    torch = None

print("closed-form pairs: klbook.kl_divergence vs the plain formula (and torch.distributions if installed)")
for name, (p, q, plain) in pairs.items():
    t_k = best(lambda: klbook.kl_divergence(p, q))
    t_p = best(plain)
    line = f"  {name:8s} klbook {t_k * 1e6:8.1f} us   plain {t_p * 1e6:7.1f} us   ratio {t_k / t_p:6.1f}x"
    if torch is not None:
        if name == "norm":
            tp_, tq_ = td.Normal(0.3, 1.2), td.Normal(-0.5, 0.8)
        elif name == "gamma":
            tp_, tq_ = td.Gamma(2.5, 1.5), td.Gamma(3.0, 0.7)
        else:
            tp_ = td.MultivariateNormal(torch.tensor(M1), torch.tensor(S1))
            tq_ = td.MultivariateNormal(torch.tensor(M2), torch.tensor(S2))
        t_t = best(lambda: td.kl_divergence(tp_, tq_))
        line += f"   torch {t_t * 1e6:7.1f} us"
    print(line)

fallback = [
    ("norm || t(5)", stats.norm(0, 1), stats.t(5)),
    ("logistic || laplace", stats.logistic(0, 1), stats.laplace(0.3, 1.2)),
    ("gamma || lognorm", stats.gamma(2.0), stats.lognorm(0.6)),
    ("beta || beta(loc)", stats.beta(2, 3), stats.uniform(0, 1)),
    ("t(0.5) || cauchy", stats.t(0.5), stats.cauchy()),
    ("poisson || nbinom", stats.poisson(3.0), stats.nbinom(4, 0.5)),
    ("skellam || skellam", stats.skellam(30, 20), stats.skellam(2, 3)),
    ("logser || logser", stats.logser(0.99), stats.logser(0.5)),
    ("zipf(3) || geom", stats.zipf(3.0), stats.geom(0.3)),
]
print("fallback (numerical) pairs: one kl_divergence call each")
times = []
for name, p, q in fallback:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        v = klbook.kl_divergence(p, q)
        dt = time.perf_counter() - t
    times.append(dt)
    print(f"  {name:22s} {dt * 1e3:9.1f} ms   KL = {v:.12g}")
print(f"  median {statistics.median(times) * 1e3:.1f} ms, worst {max(times) * 1e3:.1f} ms")
