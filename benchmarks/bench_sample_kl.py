"""KL from samples: klbook.kl_from_samples against divergence.knn_kl_divergence(k=5).

The comparison package is a benchmark-only dependency (not in requirements.txt):

    .venv/bin/pip install divergence

Run (the default run takes about 18 minutes of CPU at load 8-21, the chapter's about 35; on a loaded
machine run parts with ``--dims=2,5 --sizes=1000:60 --pairs=0,3``, in parallel if you like;
``--no-tail`` skips the heavy-tail lines):

    OPENBLAS_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_sample_kl.py [--quick]

For pairs of known KL in d = 1, 2, 5, 10, both estimators see the same draws
(n = m = 1e3 with 60 repetitions, n = m = 1e4 with 24); the script prints the mean
absolute error (MAE) of each, their ratio with a 90 % paired-bootstrap interval over the
repetitions (how much of a ratio near 1 is noise), how often klbook's 90 % interval covers
the truth, and the CPU time per call (``time.process_time``, which a loaded machine
inflates less than wall time). The pairs are ``klbook.core.samples.known_kl_pairs`` (also
chapter 7's):

* Gaussian shift: N(0, I) vs N(mu, diag(0.7 .. 1.6)) (closed form);
* correlated Gaussian: coordinate scales from 0.1 to 10 vs 1.3 times its covariance, shifted
  (closed form);
* rotated Laplace: independent Laplace(0, 1) coordinates vs Laplace(mu, 1.4), rotated
  (KL is additive over the coordinates and invariant under the rotation);
* mixture vs Gaussian: a two-component Gaussian mixture vs the Gaussian with its mean and
  covariance (one-dimensional quadrature: the divergence lives in the first coordinate).

``--heldout`` runs a second set of pairs of our own instead (other shifts, correlations,
scales and shapes, in d = 1, 3, 6, 10), which were never used to choose anything in the
estimator: a check that it is not tuned to the pairs above.

Then the heavy-tail limit: Student t (3 degrees of freedom) against a Gaussian.

Chapter 7's comparison table is this benchmark's output: ``--json=PATH`` dumps every repetition
with its provenance (the command, the seeds, the repetitions, ``git rev-parse HEAD`` of the klbook
checkout and whether klbook/ or this script had uncommitted changes, the versions of
``divergence``, numpy, scipy and Python, the date), and ``--chapter-data=OUT PATH...`` merges the
dumps of the main and held-out runs into the file the chapter reads, keeping every dump's
provenance; it refuses dumps from different commits or from a dirty checkout.
tests/test_ch07_claims.py recomputes some stored repetitions with the current library. The stored
file was made from a clean clone of the commit it records, in five processes at once (the main
pairs with n = m = 1e3 have 200 repetitions, to tell a tie from a loss; in d = 10 the main pairs
with n = m = 1e4 have 144, because there the mixture's ratio is close to 1 and 24 cannot tell it
from a tie; ``--pairs`` splits d = 10 over two processes; on 2 cores at load 12-26 this took an hour
of wall time)::

    B="env OPENBLAS_NUM_THREADS=1 PYTHONPATH=$CLONE .venv/bin/python $CLONE/benchmarks/bench_sample_kl.py --no-tail"
    $B --dims=10 --sizes=1000:200,10000:144 --pairs=0,3 --json=m10a.json
    $B --dims=10 --sizes=1000:200,10000:144 --pairs=1,2 --json=m10b.json
    $B --heldout --dims=10 --json=h10.json
    $B --dims=1,2,5 --sizes=1000:200,10000:24 --json=m125.json
    $B --heldout --dims=1,3,6 --json=h136.json
    $B --chapter-data=chapters/07_sample_kl_benchmark.json m125.json m10a.json m10b.json h136.json h10.json
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

import klbook
from klbook import GaussianMixture, kl_divergence, kl_from_samples, mixture_kl
from klbook.core.samples import known_kl_pairs, mae_ratio

try:
    from divergence import knn_kl_divergence
except ImportError:  # pragma: no cover - benchmark-only dependency
    sys.exit("this benchmark needs the 'divergence' package: .venv/bin/pip install divergence")


def gauss_kl(m1, c1, m2, c2):
    return kl_divergence(stats.multivariate_normal(m1, c1), stats.multivariate_normal(m2, c2))


def rotation(d, rng):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def make_pairs(d):
    """(name, draw_p(n, rng), draw_q(n, rng), exact KL) for dimension d: klbook's known_kl_pairs (also chapter 7's)."""
    return known_kl_pairs(d)


def make_heldout_pairs(d):
    """Pairs of our own, never used to choose anything in klbook.core.samples (a held-out check).

    Different shifts, correlations, scales and shapes from :func:`make_pairs`:

    * ``narrow-q``: N(0, I) vs N(0.3/sqrt(d) 1, 0.75 I) (q narrower than p);
    * ``rotated``: two anisotropic Gaussians with scales 0.3 .. 3, the second rotated;
    * ``logistic``: independent logistic(0, 1) coordinates vs logistic(0.5/sqrt(d), 1.25)
      (KL by quadrature per coordinate, times d);
    * ``mix3``: a three-component Gaussian mixture vs a two-component one (klbook.mixture_kl).
    """
    rng = np.random.default_rng(700 + d)
    out = []
    mu = np.full(d, 0.3 / math.sqrt(d))
    out.append((
        "narrow-q",
        lambda n, r: r.standard_normal((n, d)),
        lambda n, r: r.standard_normal((n, d)) * math.sqrt(0.75) + mu,
        gauss_kl(np.zeros(d), np.eye(d), mu, 0.75 * np.eye(d)),
    ))
    sc = np.geomspace(0.3, 3.0, d) if d > 1 else np.array([1.0])
    rot = rotation(d, rng)
    c1 = np.diag(sc**2)
    c2 = rot @ np.diag(sc[::-1] ** 2 * 1.1) @ rot.T if d > 1 else np.array([[1.6]])
    l1, l2 = np.linalg.cholesky(c1), np.linalg.cholesky(c2)
    out.append((
        "rotated",
        lambda n, r: r.standard_normal((n, d)) @ l1.T,
        lambda n, r: r.standard_normal((n, d)) @ l2.T,
        gauss_kl(np.zeros(d), c1, np.zeros(d), c2),
    ))
    loc = 0.5 / math.sqrt(d)
    kl1 = kl_divergence(stats.logistic(0.0, 1.0), stats.logistic(loc, 1.25))
    out.append((
        "logistic",
        lambda n, r: r.logistic(0.0, 1.0, (n, d)),
        lambda n, r: r.logistic(loc, 1.25, (n, d)),
        d * kl1,
    ))
    e0 = np.zeros(d)
    e0[0] = 1.0
    means_p = np.vstack([-1.2 * e0, 0.0 * e0, 1.5 * e0])
    covs_p = np.stack([np.eye(d) * s for s in (0.6, 1.0, 0.8)])
    pmix = GaussianMixture([0.3, 0.4, 0.3], means_p, covs=covs_p)
    qmix = GaussianMixture([0.5, 0.5], np.vstack([-0.8 * e0, 0.9 * e0]), covs=np.stack([np.eye(d) * 1.2] * 2))
    out.append((
        "mix3",
        lambda n, r: pmix.rvs(size=n, random_state=r).reshape(n, d),
        lambda n, r: qmix.rvs(size=n, random_state=r).reshape(n, d),
        mixture_kl(pmix, qmix).value,
    ))
    return out


#: How every repetition's draws and reference seed are made (run() below); recorded in each dump.
SEEDS = ("x then y drawn from numpy.random.default_rng(10000 * d + 100 * rep + n % 97); "
         "kl_from_samples(x, y, random_state=rep); divergence.knn_kl_divergence(x, y, k=5)")


def provenance(sizes, pair_names):
    """Where a dump's numbers come from: the command, seeds, repetitions, and the code that made them.

    ``klbook_commit`` is ``git rev-parse HEAD`` of the checkout the imported klbook lives in, at the
    time of the run; ``klbook_dirty`` is True when that checkout had uncommitted changes to
    ``klbook/`` or to this script (then the commit alone does not reproduce the numbers).
    ``pairs`` names the pairs the dump holds.
    """
    root = Path(klbook.__file__).resolve().parent.parent

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    status = git("status", "--porcelain", "--untracked-files=no", "--", "klbook", "benchmarks/bench_sample_kl.py")
    return dict(
        command=" ".join(["OPENBLAS_NUM_THREADS=" + os.environ.get("OPENBLAS_NUM_THREADS", "(unset)"),
                          "python", "benchmarks/bench_sample_kl.py", *sys.argv[1:]]),
        seeds=SEEDS,
        reps={str(n): int(r) for n, r in sizes},
        pairs=pair_names,
        klbook_commit=git("rev-parse", "HEAD"),
        klbook_dirty=None if status is None else bool(status),
        divergence=importlib.metadata.version("divergence"),
        numpy=np.__version__,
        scipy=scipy.__version__,
        python=platform.python_version(),
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
    )


def run(dims, sizes, pairs=make_pairs, records=None, label="main", only=None):
    """Print the comparison table; append one dict per repetition to ``records`` when given.

    ``only``: indices of the pairs to run (into ``pairs(d)``'s list; default all), to split a run
    over processes."""
    print(f"{'d':>3} {'pair':20} {'n=m':>6} {'KL':>7} {'MAE ours':>9} {'MAE div5':>9} {'ratio':>6} {'90% boot':>12} "
          f"{'cover':>6} {'bias ours':>10} {'bias div5':>10} {'cpu ours':>9} {'cpu div5':>9}")
    ratios, covers = [], []
    for d in dims:
        for i, (name, draw_p, draw_q, true) in enumerate(pairs(d)):
            if only is not None and i not in only:
                continue
            for n, reps in sizes:
                reps = reps(d) if callable(reps) else reps
                err_o, err_d, cov, t_o, t_d = [], [], [], 0.0, 0.0
                for rep in range(reps):
                    r = np.random.default_rng(10_000 * d + 100 * rep + n % 97)
                    x, y = draw_p(n, r), draw_q(n, r)
                    t0 = time.process_time()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        res = kl_from_samples(x, y, random_state=rep)
                    t1 = time.process_time()
                    theirs = knn_kl_divergence(x, y, k=5)
                    t2 = time.process_time()
                    t_o += t1 - t0
                    t_d += t2 - t1
                    err_o.append(res.value - true)
                    err_d.append(theirs - true)
                    cov.append(res.ci[0] <= true <= res.ci[1])
                    if records is not None:
                        records.append(dict(
                            set=label, d=d, pair=name, n=n, rep=rep, kl=true, ours=res.value, lo=res.ci[0], hi=res.ci[1],
                            raw=res.raw, correction=res.correction, div5=theirs, cpu_ours=t1 - t0, cpu_div5=t2 - t1,
                            **{k: v for k, v in res.details.items() if isinstance(v, (int, float))},
                        ))
                mae_o, mae_d = np.mean(np.abs(err_o)), np.mean(np.abs(err_d))
                ratios.append(mae_o / mae_d)
                covers.append(np.mean(cov))
                _, lo, hi = mae_ratio(err_o, err_d, 0.0)  # errors: estimates with truth 0
                print(f"{d:3d} {name:20} {n:6d} {true:7.4f} {mae_o:9.4f} {mae_d:9.4f} {mae_o / mae_d:6.2f} "
                      f"{f'{lo:.2f}-{hi:.2f}':>12} "
                      f"{np.mean(cov):6.2f} {np.mean(err_o):+10.4f} {np.mean(err_d):+10.4f} "
                      f"{t_o / reps:8.2f}s {t_d / reps:8.2f}s", flush=True)
    print(f"\nMAE ratio ours/div5: median {np.median(ratios):.2f}, worst {np.max(ratios):.2f} "
          f"({np.sum(np.array(ratios) <= 0.7)} of {len(ratios)} cases <= 0.7, "
          f"{np.sum(np.array(ratios) <= 1.0)} <= 1.0)")
    print(f"90% interval coverage: mean {np.mean(covers):.2f}, lowest {np.min(covers):.2f}")


def heavy_tail():
    print("\nHeavy-tail limit: p = Student t(3 dof) in d = 1, q = N(0, 1); exact KL by quadrature")
    p, q = stats.t(3), stats.norm(0.0, 1.0)
    true = kl_divergence(p, q)
    for n in (1000, 10_000):
        r = np.random.default_rng(n)
        x, y = p.rvs(size=n, random_state=r), q.rvs(size=n, random_state=r)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = kl_from_samples(x, y)
        print(f"  n = m = {n:5d}: exact {true:.3f}, ours {res.value:.3f} ci ({res.ci[0]:.3f}, {res.ci[1]}), "
              f"heavy_tail={res.heavy_tail} ({len(caught)} warning), div5 {knn_kl_divergence(x, y, k=5):.3f}")


def _arg(name, default):
    for a in sys.argv[1:]:
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return default


def chapter_data(paths, out):
    """Merge ``--json`` dumps into the table chapter 7 reads: per case, the repetitions' estimates,
    intervals, uncorrected estimates (``raw``), shrinkage factors of the correction and div5 values; the chapter computes the MAEs, ratios,
    their intervals and the coverage from them. Each dump's provenance is kept; the dumps must come
    from one klbook commit and one ``divergence`` version, with no uncommitted change to klbook or
    this script (else the stored numbers could not be reproduced from the recorded commit)."""
    cases, runs = {}, []
    for path in paths:
        with open(path) as fh:
            dump = json.load(fh)
        if not isinstance(dump, dict) or "provenance" not in dump:
            sys.exit(f"{path}: no provenance (written by an older bench_sample_kl.py): re-run it")
        runs.append(dump["provenance"])
        for r in dump["records"]:
            key = (r["set"], r["d"], r["pair"], r["n"])
            cases.setdefault(key, []).append(r)
    for field_ in ("klbook_commit", "divergence"):
        if len({p[field_] for p in runs}) != 1:
            sys.exit(f"the dumps differ in {field_}: {sorted({str(p[field_]) for p in runs})}")
    if any(p["klbook_dirty"] is not False for p in runs):
        sys.exit("a dump was made with uncommitted changes to klbook or this script (klbook_dirty): re-run it from a clean checkout")
    order = {"main": 0, "heldout": 1}
    pair_order = {"main": [p.name for p in make_pairs(1)], "heldout": [p[0] for p in make_heldout_pairs(1)]}
    table = []
    for key in sorted(cases, key=lambda k: (order[k[0]], k[1], k[3], pair_order[k[0]].index(k[2]))):
        rs = sorted(cases[key], key=lambda r: r["rep"])
        assert [r["rep"] for r in rs] == list(range(len(rs))), key
        table.append(dict(
            set=key[0], d=key[1], pair=key[2], n=key[3], kl=rs[0]["kl"],
            **{f: [r[f] for r in rs] for f in ("ours", "lo", "hi", "div5", "raw")},
            shrink=[r.get("shrink") for r in rs],  # the correction's shrinkage factor (None: no correction)
            cpu_ours=float(np.mean([r["cpu_ours"] for r in rs])), cpu_div5=float(np.mean([r["cpu_div5"] for r in rs])),
        ))

    def short(v):  # 12 significant digits (the tests compare recomputed runs to 1e-9)
        return [None if x is None else float(f"{x:.12g}") for x in v] if isinstance(v, list) else v

    prov = dict(
        source="benchmarks/bench_sample_kl.py: klbook.kl_from_samples vs divergence.knn_kl_divergence(k=5) on the "
               "same draws (cpu_*: CPU seconds per call, time.process_time)",
        merged_by=" ".join(["python", "benchmarks/bench_sample_kl.py", *sys.argv[1:]]),
        klbook_commit=runs[0]["klbook_commit"],
        klbook_dirty=False,
        divergence=runs[0]["divergence"],
        seeds=runs[0]["seeds"],
        runs=runs,
    )
    with open(out, "w") as fh:
        fh.write('{"provenance": ' + json.dumps(prov, indent=1) + ',\n "cases": [\n')
        fh.write(",\n".join(json.dumps({k: short(v) for k, v in c.items()}) for c in table))
        fh.write("\n]}\n")
    print(f"wrote {len(table)} cases to {out}")


if __name__ == "__main__":
    # --quick: d = 1, 5 at n = 1e3. --dims=1,2,5,10, --sizes=1000:60,10000:24 and --pairs=0,3
    # (indices into the list of pairs) choose a part (on a loaded machine the full run takes long:
    # run the parts in turn or in parallel). --json=PATH writes every
    # repetition (estimates, interval, details, CPU times) to PATH; --chapter-data=OUT PATH... merges
    # such dumps (of the main and held-out pairs, all sizes) into chapter 7's table,
    # chapters/07_sample_kl_benchmark.json.
    if _arg("chapter-data", None):
        chapter_data([a for a in sys.argv[1:] if not a.startswith("--")], _arg("chapter-data", None))
        sys.exit(0)
    records = [] if _arg("json", None) else None
    sizes = tuple((int(a), int(b)) for a, b in (v.split(":") for v in _arg("sizes", "1000:60,10000:24").split(",")))
    only = None if _arg("pairs", None) is None else tuple(int(v) for v in _arg("pairs", None).split(","))
    pairs = make_heldout_pairs if "--heldout" in sys.argv else make_pairs
    if "--quick" in sys.argv:
        sizes = ((1000, 10),)
        run((1, 5), sizes, records=records)
    elif "--heldout" in sys.argv:
        print("Held-out pairs (not used to tune anything):")
        dims = tuple(int(v) for v in _arg("dims", "1,3,6,10").split(","))
        run(dims, sizes, pairs, records=records, label="heldout", only=only)
    else:
        dims = tuple(int(v) for v in _arg("dims", "1,2,5,10").split(","))
        run(dims, sizes, pairs, records=records, only=only)
    if records is not None:
        names = [name for i, (name, *_) in enumerate(pairs(1)) if only is None or i in only]
        with open(_arg("json", None), "w") as fh:
            json.dump({"provenance": provenance(sizes, names), "records": records}, fh)
    if "--no-tail" not in sys.argv:
        heavy_tail()
