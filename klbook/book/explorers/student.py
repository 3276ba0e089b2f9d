r"""The distillation explorer (chapter 8): choose the divergence and the temperature, see the student.

Spec builder :func:`distillation_explorer`; its JavaScript part is ``student.js``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ...core.divergences import kl_divergence
from ..ml import fit_student, softmax
from .spec import Explorer, explorer_builder, item_labels, register_kind, round_spec, spec_head

__all__ = ["distillation_explorer"]

#: Default stops of the objective slider: 0 is forward KL, 1 reverse KL, in between GKD's JSD weight.
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 0.8, 0.9, 1.0)
#: Default stops of the temperature slider.
TEMPERATURES = (0.5, 1.0, 1.25, 2.0, 4.0)


def _stops(v: object, name: str, lo: float, hi: float | None) -> list[float]:
    try:
        out = [float(x) for x in v]  # type: ignore[union-attr]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence of numbers") from exc
    if not out or any(not math.isfinite(x) or x < lo or (hi is not None and x > hi) for x in out):
        raise ValueError(f"{name} must be a non-empty sequence of numbers in [{lo}, {hi if hi is not None else 'inf'}]")
    if sorted(set(out)) != out:
        raise ValueError(f"{name} must be strictly increasing")
    return out


@explorer_builder
def distillation_explorer(
    teacher: Sequence[float],
    features: Sequence[Sequence[float]],
    *,
    labels: Sequence[str] | None = None,
    rare: float = 0.015,
    weights: Sequence[float] = WEIGHTS,
    temperatures: Sequence[float] = TEMPERATURES,
    inits: Sequence[Sequence[float]] | None = None,
    title: str | None = None,
) -> Explorer:
    r"""A teacher distribution and the student :math:`q_\theta = \operatorname{softmax}(\Phi\theta)` distilled from it.

    For every stop of two sliders klbook fits the student
    (:func:`klbook.book.ml.fit_student`): the objective slider runs from forward KL
    :math:`D_{\mathrm{KL}}(p\,\|\,q)` (weight 0, standard distillation) through GKD's
    generalised Jensen-Shannon divergence :math:`\mathrm{JSD}_\omega` to reverse KL
    :math:`D_{\mathrm{KL}}(q\,\|\,p)` (weight 1, on-policy / MiniLLM); the temperature
    slider sets the distillation temperature :math:`T`. The page draws the deployed student
    (temperature 1) over the teacher and recomputes its readouts: both KL directions and
    the student's probability of the tokens the teacher considers rare.

    Parameters
    ----------
    teacher : sequence of float
        The teacher p over V tokens, entries > 0 summing to 1.
    features : array_like, shape (V, m)
        The student's features :math:`\Phi`.
    labels : sequence of str, optional
        Token names (default ``"t1"``, ...).
    rare : float
        Tokens with teacher probability below this are "rare"; default 0.015.
    weights : sequence of float
        Stops of the objective slider in [0, 1], increasing.
    temperatures : sequence of float
        Stops of the temperature slider, > 0, increasing.
    inits : sequence of array_like, optional
        Starting points for every fit (passed to :func:`klbook.book.ml.fit_student`).

    Raises
    ------
    TypeError, ValueError
        Invalid teacher, features, labels or stops.
    """
    p = np.asarray(teacher, dtype=float)
    phi = np.asarray(features, dtype=float)
    if p.ndim != 1 or p.size < 2 or np.any(~np.isfinite(p)) or np.any(p <= 0) or abs(float(p.sum()) - 1) > 1e-9:
        raise ValueError("teacher must be a probability vector with every entry > 0")
    if phi.ndim != 2 or phi.shape[0] != p.size or not np.all(np.isfinite(phi)):
        raise ValueError(f"features must be a finite array with one row per token ({p.size})")
    labels = item_labels(labels, p.size, "t")
    if isinstance(rare, bool) or not isinstance(rare, (int, float)) or not 0 < rare < 1:
        raise ValueError(f"rare must be a number in (0, 1), got {rare!r}")
    ws = _stops(weights, "weights", 0.0, 1.0)
    ts = _stops(temperatures, "temperatures", 1e-12, None)
    starts = [np.zeros(phi.shape[1])] if inits is None else [np.asarray(s, dtype=float) for s in inits]
    thetas = []
    for w in ws:
        row = []
        for t in ts:
            if w == 0.0:
                fit = fit_student(p, phi, "forward", temperature=t, inits=starts)
            elif w == 1.0:
                fit = fit_student(p, phi, "reverse", temperature=t, inits=starts)
            else:
                fit = fit_student(p, phi, "jsd", beta=w, temperature=t, inits=starts)
            row.append([round_spec(v) for v in fit.theta])
        thetas.append(row)
    t_init = ts.index(1.0) if 1.0 in ts else 0
    figure_label = (
        "The teacher's next-token distribution (outlined bars) and the distilled student deployed at "
        "temperature 1 (filled bars), for the objective and the temperature chosen with the sliders."
    )
    spec = {
        **spec_head("student", title, figure_label),
        "labels": labels,
        "teacher": [round_spec(v) for v in p],
        "features": [[round_spec(v) for v in row] for row in phi],
        "rare": float(rare),
        "weights": ws,
        "temperatures": ts,
        "thetas": thetas,
        "controls": [
            {"param": "w_index", "label": "Distillation objective",
             "symbol": "ω", "min": 0, "max": len(ws) - 1, "step": 1, "value": 0, "digits": 2},
            {"param": "t_index", "label": "Distillation temperature", "symbol": "T",
             "min": 0, "max": len(ts) - 1, "step": 1, "value": t_init, "digits": 2},
        ],
        "readouts": [
            {"quantity": "forward", "label": "KL(p ‖ q)", "unit": "nats", "digits": 3},
            {"quantity": "reverse", "label": "KL(q ‖ p)", "unit": "nats", "digits": 3},
            {"quantity": "rare_mass", "label": f"student's mass on rare tokens (teacher < {rare:g})",
             "unit": "", "digits": 3},
        ],
        "note": "Every student was fitted by klbook (several starts, the best kept); the page only evaluates it.",
    }
    return Explorer(spec)


def _student(spec: dict, state: dict[str, float]) -> np.ndarray:
    theta = np.array(spec["thetas"][int(state["w_index"])][int(state["t_index"])], dtype=float)
    return softmax(np.array(spec["features"], dtype=float) @ theta)


def _expected(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """What the page shows for ``state`` (``w_index``, ``t_index``), by klbook."""
    p = np.array(spec["teacher"], dtype=float)
    p = p / math.fsum(spec["teacher"])
    q = _student(spec, state)
    return {
        "forward": kl_divergence(p, q),
        "reverse": kl_divergence(q, p),
        "rare_mass": float(q[p < spec["rare"]].sum()),
    }


register_kind("student", _expected)
