r"""The estimator explorer (chapter 5): Schulman's three Monte Carlo estimators of KL, alive.

Spec builder :func:`estimator_explorer`; its JavaScript part is ``estimators.js``.

The page draws its samples with a small seeded generator (below, :func:`uniforms`
and :func:`normal_draws`), so the picture is the same on every load until the
reader moves. The same generator written with numpy lets the tests recompute
every simulated number with klbook's :func:`klbook.core.estimators.per_sample_kl`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import stats

from ...core.divergences import kl_divergence
from ...core.estimators import ESTIMATORS, estimator_moments, per_sample_kl
from .spec import Explorer, explorer_builder, register_kind, spec_head

__all__ = ["estimator_explorer", "uniforms", "normal_draws", "SAMPLE_SIZES", "MAX_DRAWS"]

#: The stops of the sample-size slider.
SAMPLE_SIZES = (10, 30, 100, 300, 1000)
#: Most draws kept at once (replicates times sample size), so that a redraw stays fast.
MAX_DRAWS = 400_000
#: Stride between replicates in the generator's stream: replicate j uses the draws
#: ``j * STRIDE ... j * STRIDE + n - 1``, so a larger n extends every replicate.
STRIDE = 1000
_GOLDEN = 0x6D2B79F5


def uniforms(seed: int, counters: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1): mulberry32's output for the given stream positions.

    ``u(c) = hash(seed + (c + 1) * 0x6D2B79F5 mod 2**32)``, exactly as the page's
    JavaScript computes it (32-bit integer arithmetic), so that both draw the same numbers.
    """
    c = np.asarray(counters, dtype=np.uint64)
    a = ((np.uint64(seed) + (c + np.uint64(1)) * np.uint64(_GOLDEN)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    with np.errstate(over="ignore"):
        t = (a ^ (a >> np.uint32(15))) * (a | np.uint32(1))
        t = (t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61))) ^ t
        t = t ^ (t >> np.uint32(14))
    return t.astype(np.float64) / 4294967296.0


def normal_draws(seed: int, n: int, reps: int) -> np.ndarray:
    r"""Standard normal draws, shape ``(reps, n)``, by Box-Muller from :func:`uniforms`.

    Draw ``i`` of replicate ``j`` uses the uniforms at positions :math:`2k` and
    :math:`2k + 1`, :math:`k = j \cdot 1000 + i`:
    :math:`z = \sqrt{-2\log(1 - u_1)}\,\cos(2\pi u_2)`.
    """
    k = (np.arange(reps, dtype=np.uint64)[:, None] * np.uint64(STRIDE) + np.arange(n, dtype=np.uint64)[None, :])
    u1 = uniforms(seed, 2 * k)
    u2 = uniforms(seed, 2 * k + 1)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * math.pi * u2)


@explorer_builder
def estimator_explorer(
    *,
    shift: float = 1.0,
    n: int = 100,
    reps: int = 100,
    seed: int = 5,
    title: str | None = None,
) -> Explorer:
    r"""The estimators :math:`k_1, k_2, k_3` of :math:`D_{\mathrm{KL}}(p\,\|\,q)` live, with p = N(0, 1) and q = N(μ, 1).

    For each of ``reps`` replicates the page draws n samples
    :math:`x_i \sim p`, forms :math:`\log r = \log q(x) - \log p(x)` and
    averages the per-sample values (:func:`klbook.core.estimators.per_sample_kl`)

    .. math::

        & k_1 = -\log r, \qquad k_2 = \tfrac12 (\log r)^2, \\
        & k_3 = (r - 1) - \log r .

    Histograms of the replicate averages build up against the exact
    :math:`D_{\mathrm{KL}} = \mu^2/2`, with the simulated bias and standard
    deviation next to the exact ones (:func:`klbook.core.estimators.estimator_moments`:
    the sd of an average of n is the per-sample sd over :math:`\sqrt n`).
    For this pair :math:`\log r \sim \mathcal N(-\mu^2/2, \mu^2)`, so the page
    computes the exact values in closed form: :math:`k_1` has mean
    :math:`\mu^2/2` and sd :math:`\mu`; :math:`k_2` mean :math:`\mu^2/2 + \mu^4/8`
    and sd :math:`\sqrt{\mu^4/2 + \mu^6/4}`; :math:`k_3` mean :math:`\mu^2/2` and sd
    :math:`\sqrt{e^{\mu^2} - 1 - \mu^2}` (the tests check these against klbook).

    The reader sets μ and n, and draws more replicates (button). The draws are
    seeded, so the page is deterministic until the reader moves.

    Parameters
    ----------
    shift : float
        Initial μ, in [0.1, 3]; default 1 (the chapter's example).
    n : int
        Initial sample size, one of 10, 30, 100, 300, 1000.
    reps : int
        Initial number of replicates, 10 to 2000 (at most 400 000 draws in all).
    seed : int
        Seed of the page's generator (0 to 2**32 - 1).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range.
    """
    for name, v in (("n", n), ("reps", reps), ("seed", seed)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"{name} must be an integer, got {v!r}")
    if n not in SAMPLE_SIZES:
        raise ValueError(f"n must be one of {SAMPLE_SIZES}, got {n}")
    if not 10 <= reps <= 2000 or reps * n > MAX_DRAWS:
        raise ValueError(f"reps must be in [10, 2000] with reps * n <= {MAX_DRAWS}, got reps={reps}, n={n}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    try:
        mu0 = float(shift)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"shift must be a number, got {shift!r}") from exc
    if not 0.1 <= mu0 <= 3.0:
        raise ValueError(f"shift must be in [0.1, 3], got {shift!r}")
    figure_label = (
        "Histograms of the estimates of KL(p ‖ q) from n draws of p = N(0, 1), q = N(μ, 1), one per "
        "replicate, for the estimators k1, k2 and k3; the solid line is the exact KL, the dashed line "
        "the average of the estimates."
    )
    spec = {
        **spec_head("estimators", title, figure_label),
        "seed": int(seed),
        "stride": STRIDE,
        "sizes": list(SAMPLE_SIZES),
        "max_draws": MAX_DRAWS,
        "reps": int(reps),
        "state": {"reps": int(reps)},
        "reps_step": 100,
        "controls": [
            {"param": "mu", "label": "Shift of q, μ", "symbol": "μ", "min": 0.1, "max": 3.0, "step": 0.05,
             "value": round(round(mu0 / 0.05) * 0.05, 10), "digits": 2},
            {"param": "n_index", "label": "Sample size n", "symbol": "n", "min": 0, "max": len(SAMPLE_SIZES) - 1,
             "step": 1, "value": SAMPLE_SIZES.index(n), "digits": 0},
        ],
        "estimators": [
            {"name": "k1", "label": "k1 = −log r", "short": "k1", "cls": "kx-est-k1"},
            {"name": "k2", "label": "k2 = ½ (log r)²", "short": "k2", "cls": "kx-est-k2"},
            {"name": "k3", "label": "k3 = (r − 1) − log r", "short": "k3", "cls": "kx-est-k3"},
        ],
        "readouts": [{"quantity": "kl", "label": "exact KL(p ‖ q) = μ²/2", "unit": "nats"}]
        + [
            {"quantity": f"{what}_{e}", "label": f"{e} {what}", "unit": "nats", "format": "fixed"}
            for e in ESTIMATORS
            for what in ("exact_bias", "bias", "exact_sd", "sd")
        ],
        "note": (
            "k1 and k3 are unbiased, k2 is not; k3 has the smallest spread when q is close to p. "
            "Bias and sd are of the average of n per-sample values; the simulated ones come from the "
            "replicates drawn so far."
        ),
    }
    return Explorer(spec)


@lru_cache(maxsize=64)
def _moments(mu: float) -> dict[str, tuple[float, float]]:
    p, q = stats.norm(0.0, 1.0), stats.norm(mu, 1.0)
    out = {}
    for e in ESTIMATORS:
        m = estimator_moments(p, q, e)
        out[e] = (float(m.bias), float(m.sd))
    return out


def _expected(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """What the page shows for ``state`` (``mu``, ``n_index``, ``reps``), by klbook, from the same draws."""
    mu = float(state["mu"])
    n = spec["sizes"][int(state["n_index"])]
    reps = int(state.get("reps", spec["reps"]))
    reps = min(reps, spec["max_draws"] // n)
    p, q = stats.norm(0.0, 1.0), stats.norm(mu, 1.0)
    x = normal_draws(spec["seed"], n, reps)
    log_r = q.logpdf(x) - p.logpdf(x)
    kl = float(kl_divergence(p, q))
    out = {"kl": kl}
    exact = _moments(mu)
    for e in ESTIMATORS:
        est = per_sample_kl(log_r, e).mean(axis=1)
        out[f"bias_{e}"] = float(est.mean() - kl)
        out[f"sd_{e}"] = float(est.std(ddof=1))
        out[f"exact_bias_{e}"] = exact[e][0]
        out[f"exact_sd_{e}"] = exact[e][1] / math.sqrt(n)
    return out


register_kind("estimators", _expected)
