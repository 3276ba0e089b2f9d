r"""The KL-regularised policy explorer (chapter 8): move beta, watch the optimal policy, its reward and its KL.

Spec builder :func:`kl_regularised_explorer`; its JavaScript part is ``policy.js``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..ml import kl_regularised_optimum, reward_kl_frontier
from .spec import Explorer, explorer_builder, item_labels, number_pair, register_kind, round_spec, spec_head

__all__ = ["kl_regularised_explorer"]

#: Points of the frontier curves stored in the spec (the page draws them, the point moves live).
FRONTIER_POINTS = 121
#: Step of the slider in log10(beta).
LOG_STEP = 0.01


def _vector(v: object, name: str) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence of numbers") from exc
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"{name} must be 1-D with at least two entries, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


@explorer_builder
def kl_regularised_explorer(
    pi_ref: Sequence[float],
    reward: Sequence[float],
    *,
    eval_reward: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    beta: float = 0.5,
    beta_range: Sequence[float] = (0.05, 10.0),
    title: str | None = None,
) -> Explorer:
    r"""The optimum of :math:`\mathbb E_\pi[R] - \beta D_{\mathrm{KL}}(\pi\,\|\,\pi_{\mathrm{ref}})` as :math:`\beta` moves.

    A slider over :math:`\log_{10}\beta`; the page recomputes the Gibbs policy

    .. math::

        \pi^*_\beta(y) = \frac{\pi_{\mathrm{ref}}(y)\, e^{R(y)/\beta}}{\sum_{y'} \pi_{\mathrm{ref}}(y')\, e^{R(y')/\beta}}

    (:func:`klbook.book.ml.kl_regularised_optimum`), draws it as bars next to
    :math:`\pi_{\mathrm{ref}}`, and moves a point along the reward-KL frontier
    (:func:`klbook.book.ml.reward_kl_frontier`, computed by klbook and stored in the
    page). Readouts: :math:`D_{\mathrm{KL}}(\pi^*\,\|\,\pi_{\mathrm{ref}})`,
    :math:`\mathbb E_{\pi^*}[R]`, the optimal value :math:`\beta\log Z`, and
    :math:`\mathbb E_{\pi^*}[R_{\mathrm{eval}}]` for a second reward when one is given
    (the true reward, when R is a flawed reward model: reward hacking).

    Parameters
    ----------
    pi_ref : sequence of float
        The reference policy over K responses, entries > 0 summing to 1.
    reward : sequence of float
        The reward that is optimised, finite.
    eval_reward : sequence of float, optional
        A second reward, only evaluated.
    labels : sequence of str, optional
        Short names of the responses (default ``"y1"``, ``"y2"``, ...).
    beta : float
        Initial :math:`\beta`, inside ``beta_range``.
    beta_range : (float, float)
        The slider's range of :math:`\beta`, ``0 < low < high``.

    Raises
    ------
    TypeError, ValueError
        Invalid vectors, lengths that differ, labels of the wrong number, a range or an
        initial beta out of bounds.
    """
    ref = _vector(pi_ref, "pi_ref")
    rew = _vector(reward, "reward")
    if rew.size != ref.size:
        raise ValueError(f"pi_ref and reward must have the same length, got {ref.size} and {rew.size}")
    if np.any(ref <= 0) or abs(float(ref.sum()) - 1.0) > 1e-9:
        raise ValueError("pi_ref must have entries > 0 that sum to 1")
    ev = None
    if eval_reward is not None:
        ev = _vector(eval_reward, "eval_reward")
        if ev.size != ref.size:
            raise ValueError(f"eval_reward must have length {ref.size}, got {ev.size}")
    labels = item_labels(labels, ref.size, "y")
    lo, hi = number_pair(beta_range, "beta_range")
    if not 0.0 < lo < hi:
        raise ValueError(f"beta_range must satisfy 0 < low < high, got {beta_range!r}")
    if isinstance(beta, bool) or not isinstance(beta, (int, float)):
        raise TypeError(f"beta must be a number, got {type(beta).__name__}")
    if not lo <= float(beta) <= hi:
        raise ValueError(f"beta must lie in beta_range {beta_range!r}, got {beta!r}")
    llo = math.floor(math.log10(lo) / LOG_STEP + 1e-9) * LOG_STEP
    lhi = math.ceil(math.log10(hi) / LOG_STEP - 1e-9) * LOG_STEP
    l0 = round(math.log10(float(beta)) / LOG_STEP) * LOG_STEP
    ref_s = [round_spec(v) for v in ref]
    rew_s = [round_spec(v) for v in rew]
    ev_s = None if ev is None else [round_spec(v) for v in ev]
    betas = np.logspace(llo, lhi, FRONTIER_POINTS)
    refv = np.array(ref_s) / math.fsum(ref_s)
    front = reward_kl_frontier(refv, np.array(rew_s), betas, eval_reward=None if ev_s is None else np.array(ev_s))
    readouts = [
        {"quantity": "kl", "label": "KL(π* ‖ π_ref)", "unit": "nats", "digits": 4},
        {"quantity": "reward", "label": "E_π*[R]", "unit": "", "digits": 4},
        {"quantity": "objective", "label": "E[R] − β·KL = β log Z", "unit": "", "digits": 4},
    ]
    if ev_s is not None:
        readouts.append({"quantity": "eval_reward", "label": "E_π*[R_true]", "unit": "", "digits": 4})
    figure_label = (
        "Top: the reference policy (outlined bars) and the KL-regularised optimum pi* (filled bars) "
        "over the responses. Bottom: expected reward against KL(pi* || pi_ref) as beta varies, "
        "with the current beta marked on each curve."
    )
    spec = {
        **spec_head("policy", title, figure_label),
        "labels": labels,
        "pi_ref": ref_s,
        "reward": rew_s,
        "eval_reward": ev_s,
        "frontier": {
            "kl": [round_spec(v) for v in front.kl],
            "reward": [round_spec(v) for v in front.expected_reward],
            "eval_reward": None if front.eval_reward is None else [round_spec(v) for v in front.eval_reward],
        },
        "controls": [{
            "param": "log_beta", "label": "Weight of the KL penalty (log scale)", "symbol": "log10 β",
            "min": round(llo, 2), "max": round(lhi, 2), "step": LOG_STEP, "value": round(l0, 2), "digits": 2,
        }],
        "readouts": readouts,
        "note": (
            "π*(y) ∝ π_ref(y) exp(R(y)/β): large β keeps the reference, small β piles the mass on the "
            "highest reward the reference allows."
        ),
    }
    return Explorer(spec)


def _expected(spec: dict, state: dict[str, float]) -> dict[str, float]:
    """What the page shows for ``state`` (``log_beta``), by klbook."""
    beta = 10.0 ** float(state["log_beta"])
    ref = np.array(spec["pi_ref"], dtype=float)
    ref = ref / math.fsum(spec["pi_ref"])
    opt = kl_regularised_optimum(ref, np.array(spec["reward"], dtype=float), beta)
    out = {"kl": opt.kl, "reward": opt.expected_reward, "objective": opt.objective}
    if spec.get("eval_reward") is not None:
        out["eval_reward"] = float(opt.policy @ np.array(spec["eval_reward"], dtype=float))
    return out


register_kind("policy", _expected)
