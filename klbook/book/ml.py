r"""KL in modern machine learning: the companion of chapter 8.

Small, exact versions of the places where a large model meets the
Kullback-Leibler divergence, each computable in numpy:

* **KL-regularised reinforcement learning.** The objective
  :math:`J(\pi) = \mathbb E_{\pi}[R] - \beta\, D_{\mathrm{KL}}(\pi\,\|\,\pi_{\mathrm{ref}})`
  over a finite set of responses, its optimum
  :math:`\pi^* \propto \pi_{\mathrm{ref}}\, e^{R/\beta}`
  (:func:`kl_regularised_optimum`), the reward-KL frontier
  (:func:`reward_kl_frontier`), the policy that a penalty with the other
  direction favours (:func:`forward_penalised_optimum`) and the expected
  gradient of a per-sample KL estimator put in the loss (:func:`penalty_gradient`).
* **DPO.** The implicit reward :math:`\beta \log(\pi/\pi_{\mathrm{ref}})`
  (:func:`dpo_implicit_reward`), the loss on a set of preferences
  (:func:`dpo_loss`), its minimiser (:func:`dpo_fit`) and Bradley-Terry
  preference probabilities (:func:`bradley_terry_preferences`).
* **Distillation.** A teacher distribution over a vocabulary and a student
  of limited capacity, :math:`q_\theta = \operatorname{softmax}(\Phi\theta)`,
  fitted by forward KL, reverse KL, the generalised Jensen-Shannon divergence
  of GKD or the alpha family, at a temperature (:func:`fit_student`,
  :func:`distillation_loss`, :func:`generalized_jsd`, :func:`kd_loss`).
* **Sequence models.** A first-order Markov "language model"
  (:class:`MarkovLM`), the exact KL between two of them over sequences of a
  given length by the chain rule (:func:`sequence_kl`), and the per-token or
  whole-sequence estimators :math:`k_1, k_2, k_3` on sampled sequences
  (:func:`sequence_kl_estimates`).
* **The linear-Gaussian VAE.** Every ELBO term in closed form
  (:class:`LinearGaussianVAE`), the data-averaged rate and distortion of a
  linear encoder-decoder pair (:func:`beta_vae_objective`) and the exact optimum
  of the :math:`\beta`-VAE, with its posterior collapse (:func:`beta_vae_optimum`).

Notation follows the book: for a pair (p, q) with samples from p, the ratio is
:math:`r = q/p`; logarithms are natural (nats). The reward is :math:`R`.
Divergence values come from klbook's own :func:`klbook.kl_divergence`,
:func:`klbook.alpha_divergence` and :func:`klbook.core.estimators.per_sample_kl`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from scipy.special import log_softmax, logsumexp
from scipy.stats import multivariate_normal

from ..core._checks import check_array
from ..core.alpha import alpha_divergence
from ..core.divergences import kl_divergence
from ..core.estimators import check_count, per_sample_kl, rng_from_seed
from .variational import vae_kl

__all__ = [
    "softmax",
    "KLRegularisedOptimum",
    "kl_regularised_optimum",
    "kl_regularised_objective",
    "RewardKLFrontier",
    "reward_kl_frontier",
    "forward_penalised_optimum",
    "penalty_gradient",
    "penalised_policy_ascent",
    "dpo_implicit_reward",
    "bradley_terry_preferences",
    "dpo_loss",
    "DPOFit",
    "dpo_fit",
    "generalized_jsd",
    "distillation_loss",
    "StudentFit",
    "fit_student",
    "kd_loss",
    "MarkovLM",
    "SequenceKL",
    "sequence_kl",
    "sequence_kl_estimates",
    "token_estimator_means",
    "ELBOTerms",
    "LinearGaussianVAE",
    "beta_vae_objective",
    "BetaVAEOptimum",
    "beta_vae_optimum",
]

#: Tolerance on the sum of a probability vector (the same as klbook.kl_divergence's).
SUM_RTOL = 1e-9

OBJECTIVES: tuple[str, ...] = ("forward", "reverse", "jsd", "alpha")


# --------------------------------------------------------------------------- #
# Argument checks                                                             #
# --------------------------------------------------------------------------- #


def _real(x: object, name: str, *, positive: bool = False, finite: bool = True) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__} {x!r}")
    v = float(x)
    if finite and not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {x!r}")
    if positive and not v > 0.0:
        raise ValueError(f"{name} must be > 0, got {x!r}")
    return v


def _prob(x: object, name: str, *, positive: bool = False) -> np.ndarray:
    a = check_array(x, name, 1)
    if np.any(a < 0):
        raise ValueError(f"{name} must have entries >= 0 (index {int(np.argmax(a < 0))} is {a[a < 0][0]!r})")
    if positive and np.any(a == 0):
        raise ValueError(f"{name} must have entries > 0 (index {int(np.argmax(a == 0))} is 0)")
    s = float(a.sum())
    if abs(s - 1.0) > SUM_RTOL:
        raise ValueError(f"{name} must sum to 1 (within {SUM_RTOL:g}), sums to {s!r}; it is never renormalised")
    return a


def _same_length(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{na} and {nb} must have the same length, got {a.size} and {b.size}")


def _log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


def softmax(logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    r"""The softmax of ``logits / temperature``, a probability vector.

    .. math::

       \operatorname{softmax}(z / T)_k = \frac{e^{z_k / T}}{\sum_j e^{z_j / T}},

    computed from :math:`z/T - \operatorname{logsumexp}(z/T)` (no overflow).

    Parameters
    ----------
    logits : array_like, 1-D
        Finite real numbers :math:`z`.
    temperature : float
        :math:`T > 0`. Large T flattens the distribution, small T sharpens it.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> softmax([0.0, 0.0]).tolist()
    [0.5, 0.5]
    """
    z = check_array(logits, "logits", 1)
    t = _real(temperature, "temperature", positive=True)
    return np.exp(log_softmax(z / t))


# --------------------------------------------------------------------------- #
# KL-regularised RL                                                           #
# --------------------------------------------------------------------------- #


def _rl_args(pi_ref: object, reward: object, beta: object) -> tuple[np.ndarray, np.ndarray, float]:
    ref = _prob(pi_ref, "pi_ref")
    rew = check_array(reward, "reward", 1)
    _same_length(ref, rew, "pi_ref", "reward")
    b = _real(beta, "beta", positive=True)
    return ref, rew, b


@dataclass(frozen=True)
class KLRegularisedOptimum:
    r"""The maximiser of :math:`\mathbb E_\pi[R] - \beta D_{\mathrm{KL}}(\pi\,\|\,\pi_{\mathrm{ref}})`.

    Attributes
    ----------
    policy : numpy.ndarray
        :math:`\pi^* \propto \pi_{\mathrm{ref}}\, e^{R/\beta}`.
    expected_reward : float
        :math:`\mathbb E_{\pi^*}[R]`.
    kl : float
        :math:`D_{\mathrm{KL}}(\pi^*\,\|\,\pi_{\mathrm{ref}})` in nats.
    objective : float
        The optimal value, ``expected_reward - beta * kl``, which equals
        :math:`\beta \log Z` with :math:`Z = \mathbb E_{\pi_{\mathrm{ref}}}[e^{R/\beta}]`.
    log_partition : float
        :math:`\log Z`.
    beta : float
    """

    policy: np.ndarray
    expected_reward: float
    kl: float
    objective: float
    log_partition: float
    beta: float


def kl_regularised_objective(policy: ArrayLike, pi_ref: ArrayLike, reward: ArrayLike, beta: float) -> float:
    r"""The KL-regularised objective of a policy over a finite set of responses.

    .. math::

       J(\pi) &= \sum_y \pi(y) R(y) \\
       &\quad {} - \beta\, D_{\mathrm{KL}}(\pi\,\|\,\pi_{\mathrm{ref}}).

    Parameters
    ----------
    policy, pi_ref : array_like
        Probability vectors of one length (never renormalised).
    reward : array_like
        :math:`R(y)`, finite.
    beta : float
        The KL coefficient, ``> 0``.

    Returns
    -------
    float
        ``-inf`` when the policy puts mass where ``pi_ref`` has none.
    """
    ref, rew, b = _rl_args(pi_ref, reward, beta)
    pi = _prob(policy, "policy")
    _same_length(pi, ref, "policy", "pi_ref")
    return float(pi @ rew) - b * kl_divergence(pi, ref)


def kl_regularised_optimum(pi_ref: ArrayLike, reward: ArrayLike, beta: float) -> KLRegularisedOptimum:
    r"""The exact optimum of the KL-regularised objective (a Gibbs distribution).

    .. math::

       \pi^*(y) &= \frac{\pi_{\mathrm{ref}}(y)\, e^{R(y)/\beta}}{Z}, \\
       Z &= \sum_y \pi_{\mathrm{ref}}(y)\, e^{R(y)/\beta},

    maximises :math:`J(\pi) = \mathbb E_\pi[R] - \beta D_{\mathrm{KL}}(\pi\,\|\,\pi_{\mathrm{ref}})`,
    because :math:`J(\pi) = \beta\log Z - \beta D_{\mathrm{KL}}(\pi\,\|\,\pi^*)`. Computed in
    log space, so any :math:`\beta > 0` works (small :math:`\beta` concentrates
    :math:`\pi^*` on the best responses that :math:`\pi_{\mathrm{ref}}` allows).

    Parameters
    ----------
    pi_ref : array_like
        The reference policy, a probability vector.
    reward : array_like
        :math:`R(y)` for each response, finite.
    beta : float
        The KL coefficient, ``> 0``.

    Returns
    -------
    KLRegularisedOptimum

    Raises
    ------
    TypeError, ValueError
        Invalid vectors, lengths that differ, or ``beta <= 0``.

    Examples
    --------
    >>> opt = kl_regularised_optimum([0.5, 0.5], [0.0, 1.0], 1.0)
    >>> round(float(opt.policy[1]), 6)
    0.731059
    """
    ref, rew, b = _rl_args(pi_ref, reward, beta)
    logits = _log(ref) + rew / b
    log_z_shift = logsumexp(logits)            # log sum ref * exp(R / beta)
    policy = np.exp(logits - log_z_shift)
    policy[ref == 0] = 0.0
    expected = float(policy @ rew)
    kl = kl_divergence(policy, ref)
    return KLRegularisedOptimum(policy, expected, kl, expected - b * kl, float(log_z_shift), b)


@dataclass(frozen=True)
class RewardKLFrontier:
    r"""The reward-KL frontier traced by :func:`reward_kl_frontier`.

    Attributes
    ----------
    beta : numpy.ndarray
        The KL coefficients.
    kl : numpy.ndarray
        :math:`D_{\mathrm{KL}}(\pi^*_\beta\,\|\,\pi_{\mathrm{ref}})` for each.
    expected_reward : numpy.ndarray
        :math:`\mathbb E_{\pi^*_\beta}[R]`: the reward that is optimised.
    eval_reward : numpy.ndarray or None
        :math:`\mathbb E_{\pi^*_\beta}[R_{\mathrm{eval}}]` for a second reward
        (for example the true one when R is a learned proxy), or ``None``.
    policies : numpy.ndarray
        The optimal policies, one row per beta.
    """

    beta: np.ndarray
    kl: np.ndarray
    expected_reward: np.ndarray
    eval_reward: np.ndarray | None
    policies: np.ndarray


def reward_kl_frontier(
    pi_ref: ArrayLike, reward: ArrayLike, betas: ArrayLike, *, eval_reward: ArrayLike | None = None
) -> RewardKLFrontier:
    r"""Reward against KL of the optimal policies :math:`\pi^*_\beta` as :math:`\beta` varies.

    Each point is the best reward reachable within its KL budget: the frontier
    :math:`\max\{\mathbb E_\pi[R] : D_{\mathrm{KL}}(\pi\,\|\,\pi_{\mathrm{ref}}) \le \kappa\}`
    is attained at :math:`\pi^*_\beta` with :math:`\kappa = D_{\mathrm{KL}}(\pi^*_\beta\,\|\,\pi_{\mathrm{ref}})`,
    and its slope there is :math:`d\,\mathbb E[R] / d\kappa = \beta`.

    Parameters
    ----------
    pi_ref, reward
        As for :func:`kl_regularised_optimum`.
    betas : array_like, 1-D
        KL coefficients, each ``> 0``.
    eval_reward : array_like, optional
        A second reward to average under each :math:`\pi^*_\beta` (it is not optimised).

    Returns
    -------
    RewardKLFrontier
    """
    bs = check_array(betas, "betas", 1)
    if np.any(bs <= 0):
        raise ValueError("betas must all be > 0")
    ev = None
    if eval_reward is not None:
        ev = check_array(eval_reward, "eval_reward", 1)
        _same_length(ev, np.asarray(reward, dtype=float).reshape(-1), "eval_reward", "reward")
    opts = [kl_regularised_optimum(pi_ref, reward, float(b)) for b in bs]
    pol = np.array([o.policy for o in opts])
    return RewardKLFrontier(
        bs.copy(),
        np.array([o.kl for o in opts]),
        np.array([o.expected_reward for o in opts]),
        None if ev is None else pol @ ev,
        pol,
    )


def forward_penalised_optimum(pi_ref: ArrayLike, reward: ArrayLike, beta: float) -> np.ndarray:
    r"""The maximiser of :math:`\mathbb E_\pi[R] - \beta D_{\mathrm{KL}}(\pi_{\mathrm{ref}}\,\|\,\pi)` (the other direction).

    Stationarity on the simplex gives :math:`R(y) + \beta\,\pi_{\mathrm{ref}}(y)/\pi(y) = c`, so

    .. math::

       \pi(y) = \frac{\beta\, \pi_{\mathrm{ref}}(y)}{c - R(y)}, \qquad c > \max_y R(y),

    with the constant :math:`c` (it equals :math:`\mathbb E_\pi[R] + \beta`) found by
    bisection so that :math:`\sum_y \pi(y) = 1`. The objective is concave in
    :math:`\pi`, so this is the unique maximiser. Unlike the Gibbs optimum it
    never gives a response less than :math:`\beta\pi_{\mathrm{ref}}/(c - \min R)`: the
    penalty keeps mass on everything :math:`\pi_{\mathrm{ref}}` covers, and lets the
    best response grow far more. This is the policy that training with the
    :math:`k_3` estimator in the loss favours (see :func:`penalty_gradient`).

    Parameters
    ----------
    pi_ref, reward, beta
        As for :func:`kl_regularised_optimum`. ``pi_ref`` must be > 0 on the responses with the top reward.

    Returns
    -------
    numpy.ndarray
        The policy.
    """
    ref, rew, b = _rl_args(pi_ref, reward, beta)
    live = ref > 0
    rl, fl = rew[live], ref[live]
    top = float(rl.max())

    def excess(c: float) -> float:
        return float(np.sum(b * fl / (c - rl))) - 1.0

    lo = top + b * float(fl[rl == top].sum()) * (1 - 1e-15)   # sum >= mass at the top / (c - top) > 1 below here
    lo = max(lo, np.nextafter(top, math.inf))
    hi = top + b + 1.0
    while excess(hi) > 0:
        hi = top + 2 * (hi - top)
    c = optimize.brentq(excess, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    out = np.zeros_like(ref)
    out[live] = b * fl / (c - rl)
    return out / out.sum()


def penalty_gradient(logits: ArrayLike, pi_ref: ArrayLike, estimator: str) -> np.ndarray:
    r"""Expected gradient of a per-sample KL estimator put in the loss, samples held fixed.

    The policy is :math:`\pi_\theta = \operatorname{softmax}(\theta)`. A sample
    :math:`y \sim \pi_\theta` has ratio :math:`r = \pi_{\mathrm{ref}}(y)/\pi_\theta(y)` and
    per-sample estimate :math:`k(\log r)` of :math:`D_{\mathrm{KL}}(\pi_\theta\,\|\,\pi_{\mathrm{ref}})`
    (:math:`k_1 = -\log r`, :math:`k_2 = \tfrac12 (\log r)^2`, :math:`k_3 = r - 1 - \log r`).
    Automatic differentiation of :math:`k` with :math:`y` held fixed gives
    :math:`-k'(\log r)\, \nabla_\theta \log\pi_\theta(y)`, with the score
    :math:`\nabla_\theta \log\pi_\theta(y) = e_y - \pi_\theta`.
    This function returns its exact expectation over :math:`y \sim \pi_\theta`,

    .. math::

       g_k &= \sum_y \pi_\theta(y)\, \big(-k'(\log r(y))\big) \\
       &\quad {} \times (e_y - \pi_\theta),

    which is :math:`0` for :math:`k_1`,
    :math:`\nabla_\theta D_{\mathrm{KL}}(\pi_\theta\,\|\,\pi_{\mathrm{ref}})` for :math:`k_2`, and
    :math:`\nabla_\theta D_{\mathrm{KL}}(\pi_{\mathrm{ref}}\,\|\,\pi_\theta) = \pi_\theta - \pi_{\mathrm{ref}}`
    for :math:`k_3`.

    Parameters
    ----------
    logits : array_like
        :math:`\theta`, finite.
    pi_ref : array_like
        The reference policy, a probability vector with every entry > 0.
    estimator : {"k1", "k2", "k3"}

    Returns
    -------
    numpy.ndarray
        The expected gradient with respect to the logits.
    """
    theta = check_array(logits, "logits", 1)
    ref = _prob(pi_ref, "pi_ref", positive=True)
    _same_length(theta, ref, "logits", "pi_ref")
    if estimator not in ("k1", "k2", "k3"):
        raise ValueError(f"estimator must be one of ('k1', 'k2', 'k3'), got {estimator!r}")
    log_pi = log_softmax(theta)
    pi = np.exp(log_pi)
    log_r = np.log(ref) - log_pi
    dk = {"k1": -np.ones_like(log_r), "k2": log_r, "k3": np.expm1(log_r)}[estimator]
    w = pi * (-dk)                                  # sum_y w_y (e_y - pi)
    return w - pi * w.sum()


def penalised_policy_ascent(
    pi_ref: ArrayLike, reward: ArrayLike, beta: float, estimator: str, *,
    steps: int = 2000, learning_rate: float = 1.0,
) -> np.ndarray:
    r"""Where training with a per-sample KL estimator in the loss leads a softmax policy.

    Runs exact expected-gradient ascent on the logits,

    .. math::

       & \theta \leftarrow \theta + \eta\,\big(\nabla_\theta \mathbb E_{\pi_\theta}[R] - \beta\, g_k(\theta)\big), \\
       & \nabla_\theta \mathbb E_{\pi_\theta}[R] = \pi_\theta \odot (R - \mathbb E_{\pi_\theta}[R]),

    with :math:`g_k` from :func:`penalty_gradient` (no sampling noise), from
    :math:`\theta = \log\pi_{\mathrm{ref}}`. With :math:`k_2` it converges to the Gibbs
    optimum of :func:`kl_regularised_optimum`; with :math:`k_3` to
    :func:`forward_penalised_optimum`; with :math:`k_1` the penalty does nothing and the
    policy drifts towards the best response.

    Parameters
    ----------
    pi_ref, reward, beta
        As for :func:`kl_regularised_optimum`; ``pi_ref`` > 0 everywhere.
    estimator : {"k1", "k2", "k3"}
    steps : int
        Number of steps, >= 1.
    learning_rate : float
        :math:`\eta > 0`.

    Returns
    -------
    numpy.ndarray
        The policy after ``steps`` steps.
    """
    ref, rew, b = _rl_args(pi_ref, reward, beta)
    ref = _prob(ref, "pi_ref", positive=True)
    n = check_count(steps, "steps", 1)
    eta = _real(learning_rate, "learning_rate", positive=True)
    if estimator not in ("k1", "k2", "k3"):
        raise ValueError(f"estimator must be one of ('k1', 'k2', 'k3'), got {estimator!r}")
    log_ref = np.log(ref)
    theta = log_ref.copy()
    # the ufuncs' reduce is what ndarray.max/.sum call, without the method dispatch (the loop
    # runs tens of thousands of times on a handful of entries: the calls are its cost)
    vmax, vsum, exp, expm1 = np.maximum.reduce, np.add.reduce, np.exp, np.expm1
    for _ in range(n):
        shifted = theta - vmax(theta)
        pi = exp(shifted)
        total = vsum(pi)
        pi /= total
        # penalty_gradient's formula, inlined: w = -pi k'(log r), g = w - pi sum(w),
        # log r = log_ref - log_pi, log_pi = shifted - log(total) (k1 does not need it)
        if estimator == "k1":
            w = pi
        else:
            log_r = log_ref - (shifted - math.log(total))
            w = -pi * (log_r if estimator == "k2" else expm1(log_r))
        theta = theta + eta * (pi * (rew - pi @ rew) - b * (w - pi * vsum(w)))
    return np.exp(theta - logsumexp(theta))


# --------------------------------------------------------------------------- #
# DPO                                                                         #
# --------------------------------------------------------------------------- #


def dpo_implicit_reward(policy: ArrayLike, pi_ref: ArrayLike, beta: float) -> np.ndarray:
    r"""DPO's implicit reward :math:`\hat R(y) = \beta \log\dfrac{\pi(y)}{\pi_{\mathrm{ref}}(y)}`.

    Under it, ``policy`` is exactly the KL-regularised optimum of
    :func:`kl_regularised_optimum` (rewards are defined up to a constant,
    :math:`\beta\log Z`). Its :math:`\pi`-average is
    :math:`\beta D_{\mathrm{KL}}(\pi\,\|\,\pi_{\mathrm{ref}})`.

    Parameters
    ----------
    policy, pi_ref : array_like
        Probability vectors of one length, both > 0 everywhere.
    beta : float
        ``> 0``.

    Returns
    -------
    numpy.ndarray
    """
    pi = _prob(policy, "policy", positive=True)
    ref = _prob(pi_ref, "pi_ref", positive=True)
    _same_length(pi, ref, "policy", "pi_ref")
    b = _real(beta, "beta", positive=True)
    return b * (np.log(pi) - np.log(ref))


def bradley_terry_preferences(reward: ArrayLike) -> np.ndarray:
    r"""Bradley-Terry preference probabilities :math:`P(y_i \succ y_j) = \sigma(R_i - R_j)`.

    Parameters
    ----------
    reward : array_like
        :math:`R`, finite.

    Returns
    -------
    numpy.ndarray, shape (K, K)
        ``P[i, j]``, with a zero diagonal (a response is not compared with itself);
        ``P[i, j] + P[j, i] = 1`` off the diagonal.
    """
    rew = check_array(reward, "reward", 1)
    diff = rew[:, None] - rew[None, :]
    out = np.exp(-np.logaddexp(0.0, -diff))
    np.fill_diagonal(out, 0.0)
    return out


def _prefs(preferences: object, k: int) -> np.ndarray:
    w = check_array(preferences, "preferences", 2)
    if w.shape != (k, k):
        raise ValueError(f"preferences must have shape ({k}, {k}), got {w.shape}")
    if np.any(w < 0):
        raise ValueError("preferences must be >= 0 (weights or counts of 'i preferred to j')")
    if np.any(np.diag(w) != 0):
        raise ValueError("preferences must have a zero diagonal")
    if not w.sum() > 0:
        raise ValueError("preferences must contain at least one comparison")
    return w


def _dpo_value_grad(h: np.ndarray, w: np.ndarray, beta: float) -> tuple[float, np.ndarray]:
    """Loss and gradient with respect to h = log pi - log pi_ref."""
    z = beta * (h[:, None] - h[None, :])
    loss_terms = np.logaddexp(0.0, -z)               # -log sigmoid(z)
    total = w.sum()
    value = float(np.sum(w * loss_terms) / total)
    sig_neg = np.exp(-np.logaddexp(0.0, z))          # sigmoid(-z) = d/dz of -log sigmoid(z), negated
    gmat = -beta * w * sig_neg / total               # d value / d z_ij * dz_ij/dh_i
    grad = gmat.sum(axis=1) - gmat.sum(axis=0)
    return value, grad


def dpo_loss(policy: ArrayLike, pi_ref: ArrayLike, preferences: ArrayLike, beta: float) -> float:
    r"""The DPO loss of a policy on weighted preference pairs.

    .. math::

       & \mathcal L_{\mathrm{DPO}}(\pi) = -\frac{1}{\sum_{ij} W_{ij}} \sum_{i,j} W_{ij}\,
       \log\sigma\!\Big( \\
       & \quad \beta\log\frac{\pi(y_i)}{\pi_{\mathrm{ref}}(y_i)} - \beta\log\frac{\pi(y_j)}{\pi_{\mathrm{ref}}(y_j)}\Big),

    with :math:`W_{ij}` the weight (a count, or a probability) of the pair
    "response i preferred to response j".

    Parameters
    ----------
    policy, pi_ref : array_like
        Probability vectors of one length K, > 0 everywhere.
    preferences : array_like, shape (K, K)
        :math:`W_{ij} \ge 0`, zero diagonal, not all zero.
    beta : float
        ``> 0``.

    Returns
    -------
    float
        In nats per comparison; ``log 2`` when ``policy == pi_ref``.
    """
    h = dpo_implicit_reward(policy, pi_ref, 1.0)
    w = _prefs(preferences, h.size)
    b = _real(beta, "beta", positive=True)
    return _dpo_value_grad(h, w, b)[0]


@dataclass(frozen=True)
class DPOFit:
    r"""The result of :func:`dpo_fit`.

    Attributes
    ----------
    policy : numpy.ndarray
        The minimiser of the DPO loss.
    loss : float
        Its loss.
    implicit_reward : numpy.ndarray
        :math:`\beta\log(\pi/\pi_{\mathrm{ref}})`, shifted to mean zero under ``pi_ref``.
    kl : float
        :math:`D_{\mathrm{KL}}(\pi\,\|\,\pi_{\mathrm{ref}})`.
    converged : bool
        Whether the gradient at the minimiser is below ``1e-8`` (max norm).
    """

    policy: np.ndarray
    loss: float
    implicit_reward: np.ndarray
    kl: float
    converged: bool


def dpo_fit(pi_ref: ArrayLike, preferences: ArrayLike, beta: float) -> DPOFit:
    r"""Minimise the DPO loss over every policy on K responses.

    In :math:`h = \log\pi - \log\pi_{\mathrm{ref}}` the loss depends only on the
    differences :math:`h_i - h_j`, so the normaliser cancels and the problem is
    a convex logistic regression, solved by BFGS with the exact gradient. With
    Bradley-Terry preferences :math:`W_{ij} = \sigma(R_i - R_j)` on every pair
    the minimiser is the KL-regularised optimum :math:`\pi^* \propto \pi_{\mathrm{ref}} e^{R/\beta}`.

    If some response wins every comparison it takes part in (or loses every
    one), the infimum is not attained: the loss keeps falling as its
    probability goes to 1 (or 0). The optimiser then stops at a large finite
    :math:`h` and ``converged`` may be False.

    Parameters
    ----------
    pi_ref : array_like
        The reference policy, > 0 everywhere.
    preferences : array_like, shape (K, K)
        As for :func:`dpo_loss`.
    beta : float
        ``> 0``.

    Returns
    -------
    DPOFit
    """
    ref = _prob(pi_ref, "pi_ref", positive=True)
    w = _prefs(preferences, ref.size)
    b = _real(beta, "beta", positive=True)

    def fun(h: np.ndarray) -> tuple[float, np.ndarray]:
        return _dpo_value_grad(h, w, b)

    res = optimize.minimize(fun, np.zeros(ref.size), jac=True, method="BFGS",
                            options={"gtol": 1e-10, "maxiter": 10_000})
    h = res.x - res.x.mean()
    policy = np.exp(log_softmax(np.log(ref) + h))
    rew = b * (np.log(policy) - np.log(ref))
    rew = rew - float(ref @ rew)
    converged = bool(np.max(np.abs(fun(res.x)[1])) < 1e-8)
    return DPOFit(policy, float(res.fun), rew, kl_divergence(policy, ref), converged)


# --------------------------------------------------------------------------- #
# Distillation                                                                #
# --------------------------------------------------------------------------- #


def generalized_jsd(p: ArrayLike, q: ArrayLike, beta: float) -> float:
    r"""The generalised Jensen-Shannon divergence of GKD (Agarwal et al.), in nats.

    With the weight :math:`\omega` (the argument ``beta``; GKD writes :math:`\beta`),

    .. math::

       & \mathrm{JSD}_\omega(p\,\|\,q) = \omega\, D_{\mathrm{KL}}(p\,\|\,m) \\
       & \quad {} + (1-\omega)\, D_{\mathrm{KL}}(q\,\|\,m), \\
       & m = \omega p + (1-\omega) q .

    :math:`\omega = \tfrac12` gives the Jensen-Shannon divergence. As
    :math:`\omega \to 0`, :math:`\mathrm{JSD}_\omega / \omega \to D_{\mathrm{KL}}(p\,\|\,q)` (forward);
    as :math:`\omega \to 1`, :math:`\mathrm{JSD}_\omega / (1-\omega) \to D_{\mathrm{KL}}(q\,\|\,p)` (reverse).
    Always finite: at most :math:`h(\omega) = -\omega\log\omega - (1-\omega)\log(1-\omega)`.

    Parameters
    ----------
    p, q : array_like
        Probability vectors of one length.
    beta : float
        :math:`\omega`, in ``[0, 1]``; the endpoints give 0.

    Returns
    -------
    float
    """
    pv, qv = _prob(p, "p"), _prob(q, "q")
    _same_length(pv, qv, "p", "q")
    b = _real(beta, "beta")
    if not 0.0 <= b <= 1.0:
        raise ValueError(f"beta must be in [0, 1], got {beta!r}")
    if b in (0.0, 1.0):
        return 0.0
    m = b * pv + (1.0 - b) * qv
    m = m / m.sum()     # rounding only: both sums are 1 within SUM_RTOL
    return b * kl_divergence(pv, m) + (1.0 - b) * kl_divergence(qv, m)


def _objective_args(objective: object, beta: object, alpha: object) -> tuple[str, float | None]:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if objective == "jsd":
        if beta is None:
            raise ValueError("objective 'jsd' needs beta in (0, 1)")
        b = _real(beta, "beta")
        if not 0.0 < b < 1.0:
            raise ValueError(f"beta must be in (0, 1), got {beta!r}")
        return objective, b
    if objective == "alpha":
        if alpha is None:
            raise ValueError("objective 'alpha' needs alpha (1 is forward KL, 0 reverse)")
        return objective, _real(alpha, "alpha")
    return objective, None


def distillation_loss(
    teacher: ArrayLike, student: ArrayLike, objective: str = "forward", *,
    beta: float | None = None, alpha: float | None = None,
) -> float:
    r"""A divergence between a teacher distribution p and a student q, in nats.

    ``"forward"``: :math:`D_{\mathrm{KL}}(p\,\|\,q)` (standard knowledge distillation);
    ``"reverse"``: :math:`D_{\mathrm{KL}}(q\,\|\,p)` (MiniLLM, on-policy);
    ``"jsd"``: :math:`\mathrm{JSD}_\omega(p\,\|\,q)` with :math:`\omega` = ``beta`` (:func:`generalized_jsd`, GKD);
    ``"alpha"``: :math:`D^{(\alpha)}(p\,\|\,q)` (:func:`klbook.alpha_divergence`;
    :math:`\alpha = 1` forward, :math:`\alpha = 0` reverse).

    Parameters
    ----------
    teacher, student : array_like
        Probability vectors of one length.
    objective : {"forward", "reverse", "jsd", "alpha"}
    beta : float, optional
        For ``"jsd"``: the weight :math:`\omega`, in (0, 1).
    alpha : float, optional
        For ``"alpha"``.

    Returns
    -------
    float
    """
    obj, par = _objective_args(objective, beta, alpha)
    p, q = _prob(teacher, "teacher"), _prob(student, "student")
    _same_length(p, q, "teacher", "student")
    return _distillation_value(p, q, obj, par)


def _distillation_value(p: np.ndarray, q: np.ndarray, obj: str, par: float | None) -> float:
    """:func:`distillation_loss` of arguments already checked (the divergences check the vectors
    again): :func:`fit_student`'s objective, called at every optimiser step."""
    if obj == "forward":
        return kl_divergence(p, q)
    if obj == "reverse":
        return kl_divergence(q, p)
    if obj == "jsd":
        return generalized_jsd(p, q, par)
    return alpha_divergence(p, q, par)


def _loss_grad_q(p: np.ndarray, q: np.ndarray, lq: np.ndarray, obj: str, par: float | None) -> np.ndarray:
    """``q * dD/dq`` for the softmax chain rule (a constant shift of dD/dq is harmless).

    ``lq`` is ``log q`` from ``log_softmax`` (finite where ``q`` underflows to 0).
    """
    lp = np.log(p)
    if obj == "forward" or (obj == "alpha" and par == 1.0):
        return -p
    if obj == "reverse" or (obj == "alpha" and par == 0.0):
        return q * (lq - lp + 1.0)
    if obj == "jsd":
        m = par * p + (1.0 - par) * q
        return (1.0 - par) * q * (lq - np.log(m))
    a = par
    # q * (1 - (p/q)^a) / a = (q - p^a q^(1-a)) / a, with no overflow where q underflows
    with np.errstate(over="ignore", invalid="ignore"):
        return (q - np.exp(a * lp + (1.0 - a) * lq)) / a


@dataclass(frozen=True)
class StudentFit:
    r"""The result of :func:`fit_student`.

    Attributes
    ----------
    theta : numpy.ndarray
        The student's parameters; its logits are ``features @ theta``.
    student : numpy.ndarray
        The deployed student :math:`\operatorname{softmax}(\Phi\theta)` (temperature 1).
    loss : float
        :math:`T^2` times the divergence between the tempered teacher and the
        tempered student, at the optimum.
    local_optima : tuple
        ``(theta, loss)`` for every start, in the order of the starts.
    converged : bool
        Whether the gradient at the best optimum is below ``1e-7`` (max norm).
    """

    theta: np.ndarray
    student: np.ndarray
    loss: float
    local_optima: tuple
    converged: bool


def fit_student(
    teacher: ArrayLike,
    features: ArrayLike,
    objective: str = "forward",
    *,
    beta: float | None = None,
    alpha: float | None = None,
    temperature: float = 1.0,
    inits: Sequence[ArrayLike] | None = None,
) -> StudentFit:
    r"""Distil a teacher distribution into a student of limited capacity.

    The student is the exponential family :math:`q_\theta = \operatorname{softmax}(\Phi\theta)`:
    its logits must lie in the span of the columns of the feature matrix
    :math:`\Phi` (shape ``(V, m)``), so with few features it cannot copy the
    teacher. At temperature :math:`T` both distributions are tempered,
    :math:`p_T \propto p^{1/T}` and :math:`q_{T} = \operatorname{softmax}(\Phi\theta/T)`, and

    .. math::

       \theta^* = \arg\min_\theta\; T^2\, D(p_T, q_T)

    for the chosen divergence D (:func:`klbook.book.ml.distillation_loss`; the :math:`T^2`
    of Hinton et al. keeps gradients comparable across temperatures). The
    student is deployed at temperature 1. The gradient is exact: with
    :math:`g = \partial D/\partial q`,
    :math:`\nabla_\theta = \Phi^\top\big(q\odot(g - q^\top g)\big)/T` (the forward-KL gradient is
    :math:`\Phi^\top(q - p)`, so the forward student matches the teacher's
    feature averages, :math:`\mathbb E_q[\Phi] = \mathbb E_p[\Phi]`).

    The reverse and alpha (:math:`\alpha < 1`) objectives can have several local
    optima (one per teacher mode); every start in ``inits`` is run and the
    lowest loss wins.

    Parameters
    ----------
    teacher : array_like
        The teacher p, a probability vector with every entry > 0.
    features : array_like, shape (V, m)
        :math:`\Phi`, finite.
    objective : {"forward", "reverse", "jsd", "alpha"}
    beta, alpha : float, optional
        As for :func:`klbook.book.ml.distillation_loss`.
    temperature : float
        :math:`T > 0`.
    inits : sequence of array_like, optional
        Starting values of :math:`\theta` (each of length m); default one start at zero.

    Returns
    -------
    StudentFit

    Raises
    ------
    TypeError, ValueError
        Invalid teacher, features of the wrong shape, unknown objective,
        missing or out-of-range ``beta`` / ``alpha``, ``temperature <= 0``.
    """
    obj, par = _objective_args(objective, beta, alpha)
    p = _prob(teacher, "teacher", positive=True)
    phi = check_array(features, "features", 2)
    if phi.shape[0] != p.size:
        raise ValueError(f"features must have one row per token ({p.size}), got shape {phi.shape}")
    t = _real(temperature, "temperature", positive=True)
    m = phi.shape[1]
    starts = [np.zeros(m)] if inits is None else [check_array(s, "inits[i]", 1) for s in inits]
    if not starts:
        raise ValueError("inits must contain at least one start")
    for s in starts:
        if s.size != m:
            raise ValueError(f"each start in inits must have length {m} (one per feature), got {s.size}")
    p_t = np.exp(log_softmax(np.log(p) / t))

    def fun(u: np.ndarray) -> tuple[float, np.ndarray]:
        # u = theta / T: the tempered student is softmax(phi @ u)
        lq = log_softmax(phi @ u)
        q = np.exp(lq)
        qg = _loss_grad_q(p_t, q, lq, obj, par)
        with np.errstate(invalid="ignore", over="ignore"):
            grad = phi.T @ (qg - q * qg.sum())
        q = q / q.sum()
        return t * t * _distillation_value(p_t, q, obj, par), t * t * grad

    found = []
    for s in starts:
        res = optimize.minimize(fun, s / t, jac=True, method="BFGS",
                                options={"gtol": 1e-10, "maxiter": 5000})
        found.append((res.x * t, float(res.fun), bool(np.max(np.abs(fun(res.x)[1])) < 1e-7)))
    best = min(range(len(found)), key=lambda i: found[i][1])
    theta = found[best][0]
    return StudentFit(
        theta,
        np.exp(log_softmax(phi @ theta)),
        found[best][1],
        tuple((th, lo) for th, lo, _ in found),
        found[best][2],
    )


def kd_loss(teacher_logits: ArrayLike, student_logits: ArrayLike, temperature: float) -> tuple[float, np.ndarray]:
    r"""Hinton et al.'s distillation loss and its gradient with respect to the student's logits.

    .. math::

       & L_T = T^2\, D_{\mathrm{KL}}(p_T\,\|\,q_T), \\
       & \nabla_{z_s} L_T = T\,(q_T - p_T), \\
       & p_T = \operatorname{softmax}(z_t/T), \\
       & q_T = \operatorname{softmax}(z_s/T).

    As :math:`T \to \infty` the gradient tends to :math:`(\bar z_s - \bar z_t)/V`,
    with :math:`\bar z` the logits minus their mean: distillation at high
    temperature is least-squares matching of centred logits (the loss itself
    tends to :math:`\lVert \bar z_s - \bar z_t\rVert^2 / (2V)`).

    Parameters
    ----------
    teacher_logits, student_logits : array_like
        :math:`z_t, z_s`, finite, of one length V.
    temperature : float
        :math:`T > 0`.

    Returns
    -------
    loss : float
    gradient : numpy.ndarray
    """
    zt = check_array(teacher_logits, "teacher_logits", 1)
    zs = check_array(student_logits, "student_logits", 1)
    _same_length(zt, zs, "teacher_logits", "student_logits")
    t = _real(temperature, "temperature", positive=True)
    p, q = softmax(zt, t), softmax(zs, t)
    return t * t * kl_divergence(p / p.sum(), q / q.sum()), t * (q - p)


# --------------------------------------------------------------------------- #
# Sequence models                                                             #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class MarkovLM:
    r"""A first-order Markov "language model" over a vocabulary of V tokens.

    .. math::

       & P(y_1, \dots, y_T) \\
       & \quad = \pi_0(y_1) \prod_{t=2}^{T} A(y_{t-1}, y_t).

    Attributes
    ----------
    init : numpy.ndarray, shape (V,)
        :math:`\pi_0`, the distribution of the first token.
    trans : numpy.ndarray, shape (V, V)
        :math:`A`, row s the next-token distribution after token s.
    """

    init: np.ndarray
    trans: np.ndarray

    def __post_init__(self) -> None:
        init = _prob(self.init, "init")
        trans = check_array(self.trans, "trans", 2)
        if trans.shape != (init.size, init.size):
            raise ValueError(f"trans must have shape ({init.size}, {init.size}), got {trans.shape}")
        if np.any(trans < 0):
            raise ValueError("trans must have entries >= 0")
        sums = trans.sum(axis=1)
        bad = np.abs(sums - 1.0) > SUM_RTOL
        if np.any(bad):
            raise ValueError(f"every row of trans must sum to 1; row {int(np.argmax(bad))} sums to {sums[bad][0]!r}")
        object.__setattr__(self, "init", init)
        object.__setattr__(self, "trans", trans)

    @property
    def vocab_size(self) -> int:
        """V, the number of tokens."""
        return int(self.init.size)

    def marginals(self, length: int) -> np.ndarray:
        r"""The distribution of :math:`y_t` for :math:`t = 1..T`, shape ``(T, V)`` (:math:`\pi_0 A^{t-1}`)."""
        n = check_count(length, "length", 1)
        out = np.empty((n, self.vocab_size))
        out[0] = self.init
        for t in range(1, n):
            out[t] = out[t - 1] @ self.trans
        return out

    def sample(self, n: int, length: int, *, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """``n`` sequences of ``length`` tokens, an int array of shape ``(n, length)``."""
        n = check_count(n, "n", 1)
        length = check_count(length, "length", 1)
        rng = rng_from_seed(seed)
        cum0 = np.cumsum(self.init)
        cum = np.cumsum(self.trans, axis=1)
        v = self.vocab_size
        out = np.empty((n, length), dtype=np.int64)
        out[:, 0] = np.minimum(np.searchsorted(cum0, rng.random(n) * cum0[-1], side="right"), v - 1)
        for t in range(1, length):
            rows = cum[out[:, t - 1]]
            u = rng.random(n) * rows[:, -1]
            out[:, t] = np.minimum((rows <= u[:, None]).sum(axis=1), v - 1)
        return out

    def token_log_probs(self, sequences: ArrayLike) -> np.ndarray:
        r""":math:`\log P(y_t \mid y_{t-1})` for every token of every sequence, shape ``(n, T)``."""
        seq = np.asarray(sequences)
        if seq.ndim != 2 or seq.size == 0 or not np.issubdtype(seq.dtype, np.integer):
            raise ValueError("sequences must be a non-empty 2-D integer array (n, T)")
        if seq.min() < 0 or seq.max() >= self.vocab_size:
            raise ValueError(f"sequences must hold tokens in 0..{self.vocab_size - 1}")
        with np.errstate(divide="ignore"):
            out = np.empty(seq.shape)
            out[:, 0] = np.log(self.init[seq[:, 0]])
            out[:, 1:] = np.log(self.trans[seq[:, :-1], seq[:, 1:]])
        return out


@dataclass(frozen=True)
class SequenceKL:
    r"""The result of :func:`sequence_kl`.

    Attributes
    ----------
    total : float
        :math:`D_{\mathrm{KL}}(P\,\|\,Q)` over sequences of the given length, in nats.
    per_position : numpy.ndarray
        The expected per-token KL at each position t; they add up to ``total``.
    row_kl : numpy.ndarray
        :math:`D_{\mathrm{KL}}(A_P(s,\cdot)\,\|\,A_Q(s,\cdot))` for each previous token s.
    """

    total: float
    per_position: np.ndarray
    row_kl: np.ndarray


def sequence_kl(p: MarkovLM, q: MarkovLM, length: int) -> SequenceKL:
    r"""Exact KL between two Markov language models over sequences of ``length`` tokens.

    By the chain rule of KL, the divergence of the joint laws is the sum of
    the expected per-token divergences, each averaged over P's prefixes:

    .. math::

       & D_{\mathrm{KL}}(P\,\|\,Q) = D_{\mathrm{KL}}(\pi_0^P\,\|\,\pi_0^Q) \\
       & \quad {} + \sum_{t=2}^{T} \sum_s P(y_{t-1} = s) \\
       & \qquad {} \times D_{\mathrm{KL}}\big(A_P(s,\cdot)\,\|\,A_Q(s,\cdot)\big),

    computed by propagating P's marginals forward (dynamic programming):
    :math:`O(T V^2)` work instead of :math:`V^T` sequences.

    Parameters
    ----------
    p, q : MarkovLM
        Two models over one vocabulary.
    length : int
        T >= 1.

    Returns
    -------
    SequenceKL
        ``total`` is ``inf`` when P gives probability to a sequence that Q cannot produce.
    """
    _markov_pair(p, q)
    n = check_count(length, "length", 1)
    rows = np.array([kl_divergence(p.trans[s], q.trans[s]) for s in range(p.vocab_size)])
    per = _over_prefixes(p, n, kl_divergence(p.init, q.init), rows)
    return SequenceKL(float(per.sum()), per, rows)


def _markov_pair(p: object, q: object, same_vocabulary: bool = True) -> None:
    """TypeError unless p and q are MarkovLM; ValueError if their vocabularies differ (when required)."""
    for name, m in (("p", p), ("q", q)):
        if not isinstance(m, MarkovLM):
            raise TypeError(f"{name} must be a MarkovLM, got {type(m).__name__}")
    if same_vocabulary and p.vocab_size != q.vocab_size:  # type: ignore[attr-defined]
        raise ValueError(f"p and q must share a vocabulary, got sizes {p.vocab_size} and {q.vocab_size}")  # type: ignore[attr-defined]


def _over_prefixes(p: MarkovLM, n: int, first: float, rows: np.ndarray) -> np.ndarray:
    r"""The chain rule's forward recursion: ``first`` at position 1, then at position t the
    average of ``rows[s]`` (a per-state quantity) over P's marginal :math:`P(y_{t-1} = s)`;
    ``inf`` where a state P reaches has an infinite row."""
    marg = p.marginals(n)
    out = np.empty(n)
    out[0] = first
    for t in range(1, n):
        w = marg[t - 1]
        live = w > 0
        out[t] = float(w[live] @ rows[live]) if np.all(np.isfinite(rows[live])) else math.inf
    return out


def sequence_kl_estimates(
    p: MarkovLM, q: MarkovLM, sequences: ArrayLike, estimator: str, *, level: str = "token"
) -> np.ndarray:
    r"""Per-sequence estimates of :math:`D_{\mathrm{KL}}(P\,\|\,Q)` from sequences sampled from P.

    With the per-token log-ratios :math:`\log r_t = \log\frac{Q(y_t\mid y_{t-1})}{P(y_t\mid y_{t-1})}`
    and a per-sample estimator :math:`k` (:func:`klbook.core.estimators.per_sample_kl`):

    * ``level="token"``: :math:`\sum_t k(\log r_t)`, the sum of per-token
      estimates, as RLHF code computes its KL penalty;
    * ``level="sequence"``: :math:`k\big(\sum_t \log r_t\big)`, the estimator applied to
      the whole sequence's ratio.

    For :math:`k_1` both are the same. Per-token :math:`k_3` is unbiased, since
    :math:`\mathbb E[r_t - 1 \mid y_{<t}] = 0`; per-token :math:`k_2` is biased.

    Parameters
    ----------
    p, q : MarkovLM
    sequences : array_like of int, shape (n, T)
        Samples from p (see :meth:`MarkovLM.sample`).
    estimator : {"k1", "k2", "k3"}
    level : {"token", "sequence"}

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    _markov_pair(p, q, same_vocabulary=False)
    if level not in ("token", "sequence"):
        raise ValueError(f"level must be 'token' or 'sequence', got {level!r}")
    lp = p.token_log_probs(sequences)
    if not np.all(np.isfinite(lp)):
        raise ValueError("sequences must be possible under p (a token has probability 0)")
    log_r = q.token_log_probs(sequences) - lp
    if level == "token":
        return per_sample_kl(log_r, estimator).sum(axis=1)
    return per_sample_kl(log_r.sum(axis=1), estimator)


def token_estimator_means(p: MarkovLM, q: MarkovLM, length: int, estimator: str) -> np.ndarray:
    r"""Exact expectation, at each position, of a per-token KL estimator on sequences from P.

    .. math::

       & \mathbb E_P\big[k(\log r_t)\big] = \sum_s P(y_{t-1} = s) \\
       & \quad {} \times \sum_y A_P(s, y)\, k\Big(\log\frac{A_Q(s,y)}{A_P(s,y)}\Big)

    (with :math:`\pi_0` in place of the row at t = 1), by the same forward
    recursion as :func:`sequence_kl`. Summed over t it is the mean of
    :func:`sequence_kl_estimates` with ``level="token"``; for :math:`k_1` and
    :math:`k_3` it equals ``sequence_kl(p, q, length).per_position`` (when Q
    has no transition that P lacks).

    Parameters
    ----------
    p, q : MarkovLM
    length : int
    estimator : {"k1", "k2", "k3"}

    Returns
    -------
    numpy.ndarray, shape (length,)
    """
    _markov_pair(p, q)
    n = check_count(length, "length", 1)

    def row_mean(a: np.ndarray, b: np.ndarray) -> float:
        live = a > 0
        with np.errstate(divide="ignore"):
            log_r = np.log(b[live]) - np.log(a[live])
        return float(a[live] @ per_sample_kl(log_r, estimator))

    rows = np.array([row_mean(p.trans[s], q.trans[s]) for s in range(p.vocab_size)])
    return _over_prefixes(p, n, row_mean(p.init, q.init), rows)


# --------------------------------------------------------------------------- #
# The linear-Gaussian VAE                                                     #
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class ELBOTerms:
    r"""The terms of the ELBO for one data point (see :meth:`LinearGaussianVAE.elbo_terms`).

    Attributes
    ----------
    reconstruction : float
        :math:`\mathbb E_{q(z\mid x)}[\log p(x\mid z)]`.
    kl : float
        :math:`D_{\mathrm{KL}}(q(z\mid x)\,\|\,p(z))`, the rate.
    elbo : float
        ``reconstruction - kl``.
    log_evidence : float
        :math:`\log p(x)`.
    gap : float
        ``log_evidence - elbo``, which equals :math:`D_{\mathrm{KL}}(q(z\mid x)\,\|\,p(z\mid x))`.
    """

    reconstruction: float
    kl: float
    elbo: float
    log_evidence: float
    gap: float


@dataclass(frozen=True)
class LinearGaussianVAE:
    r"""The linear-Gaussian latent variable model, where every ELBO term has a closed form.

    .. math::

       & z \sim \mathcal N(0, I_k), \\
       & x \mid z \sim \mathcal N(Wz, \sigma^2 I_d), \\
       & p(x) = \mathcal N(0, WW^\top + \sigma^2 I_d),

    with the exact posterior :math:`p(z\mid x) = \mathcal N(M^{-1}W^\top x, \sigma^2 M^{-1})`,
    :math:`M = W^\top W + \sigma^2 I_k` (probabilistic PCA).

    Attributes
    ----------
    weight : numpy.ndarray, shape (d, k)
        The decoder :math:`W`.
    noise_std : float
        :math:`\sigma > 0`.
    """

    weight: np.ndarray
    noise_std: float

    def __post_init__(self) -> None:
        w = check_array(self.weight, "weight", 2)
        s = _real(self.noise_std, "noise_std", positive=True)
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "noise_std", s)

    def _x(self, x: object) -> np.ndarray:
        xv = check_array(x, "x", 1)
        if xv.size != self.weight.shape[0]:
            raise ValueError(f"x must have length {self.weight.shape[0]}, got {xv.size}")
        return xv

    def log_evidence(self, x: ArrayLike) -> float:
        r""":math:`\log p(x)` under :math:`\mathcal N(0, WW^\top + \sigma^2 I)`."""
        xv = self._x(x)
        cov = self.weight @ self.weight.T + self.noise_std ** 2 * np.eye(xv.size)
        return float(multivariate_normal(np.zeros(xv.size), cov).logpdf(xv))

    def posterior(self, x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        r"""Mean and covariance of the exact posterior :math:`p(z\mid x)`."""
        xv = self._x(x)
        w, s2 = self.weight, self.noise_std ** 2
        m = w.T @ w + s2 * np.eye(w.shape[1])
        return np.linalg.solve(m, w.T @ xv), s2 * np.linalg.inv(m)

    def elbo_terms(self, x: ArrayLike, enc_mean: ArrayLike, enc_std: ArrayLike) -> ELBOTerms:
        r"""The ELBO of :math:`q(z\mid x) = \mathcal N(\mu, \operatorname{diag}s^2)` at one point x.

        .. math::

           & \mathbb E_q[\log p(x\mid z)] = -\frac d2 \log(2\pi\sigma^2) \\
           & \quad {} - \frac{\lVert x - W\mu\rVert^2}{2\sigma^2} \\
           & \quad {} - \frac{\sum_j s_j^2 \lVert W_{:,j}\rVert^2}{2\sigma^2}, \\
           & D_{\mathrm{KL}}(q\,\|\,p(z)) = \tfrac12 \sum_j \big(\mu_j^2 + s_j^2 \\
           & \quad {} - 1 - \log s_j^2\big).

        Parameters
        ----------
        x : array_like, shape (d,)
        enc_mean : array_like, shape (k,)
        enc_std : array_like, shape (k,)
            Entries > 0.

        Returns
        -------
        ELBOTerms
        """
        xv = self._x(x)
        k = self.weight.shape[1]
        mu = check_array(enc_mean, "enc_mean", 1)
        s = check_array(enc_std, "enc_std", 1)
        if mu.size != k or s.size != k:
            raise ValueError(f"enc_mean and enc_std must have length {k}")
        if np.any(s <= 0):
            raise ValueError("enc_std must be > 0")
        w, s2 = self.weight, self.noise_std ** 2
        resid = xv - w @ mu
        sq = float(resid @ resid + np.sum(s ** 2 * np.sum(w * w, axis=0)))
        recon = -0.5 * xv.size * math.log(2 * math.pi * s2) - sq / (2 * s2)
        kl = float(vae_kl(mu, s))
        le = self.log_evidence(xv)
        return ELBOTerms(recon, kl, recon - kl, le, le - (recon - kl))


def _cov(data_cov: object) -> np.ndarray:
    c = check_array(data_cov, "data_cov", 2)
    if c.shape[0] != c.shape[1]:
        raise ValueError(f"data_cov must be square, got shape {c.shape}")
    if not np.allclose(c, c.T, rtol=0, atol=1e-12 * max(1.0, float(np.abs(c).max()))):
        raise ValueError("data_cov must be symmetric")
    if np.linalg.eigvalsh(c).min() < -1e-12 * max(1.0, float(np.abs(c).max())):
        raise ValueError("data_cov must be positive semi-definite")
    return c


def beta_vae_objective(
    weight: ArrayLike, enc_weight: ArrayLike, enc_std: ArrayLike, data_cov: ArrayLike, noise_std: float
) -> tuple[float, float]:
    r"""Data-averaged rate and distortion of a linear encoder-decoder on zero-mean data.

    Encoder :math:`q(z\mid x) = \mathcal N(Ax, \operatorname{diag}s^2)`, decoder
    :math:`p(x\mid z) = \mathcal N(Wz, \sigma^2 I)`, prior :math:`\mathcal N(0, I)`, data with
    mean 0 and covariance C. Then, exactly,

    .. math::

       & \text{rate} = \mathbb E_x D_{\mathrm{KL}}(q(z\mid x)\,\|\,p(z)) \\
       & \quad = \tfrac12 \sum_j \big((ACA^\top)_{jj} + s_j^2 \\
       & \qquad {} - 1 - \log s_j^2\big), \\
       & \text{distortion} = -\mathbb E_x\mathbb E_q \log p(x\mid z) \\
       & \quad = \frac d2\log(2\pi\sigma^2) \\
       & \qquad {} + \frac{\operatorname{tr}\big((I - WA)C(I - WA)^\top\big)}{2\sigma^2} \\
       & \qquad {} + \frac{\operatorname{tr}(W\operatorname{diag}(s^2)W^\top)}{2\sigma^2}.

    The :math:`\beta`-VAE minimises ``distortion + beta * rate``; :math:`\beta = 1`
    is minus the average ELBO.

    Parameters
    ----------
    weight : array_like, shape (d, k)
    enc_weight : array_like, shape (k, d)
    enc_std : array_like, shape (k,)
        Entries > 0.
    data_cov : array_like, shape (d, d)
        Symmetric positive semi-definite.
    noise_std : float
        :math:`\sigma > 0`.

    Returns
    -------
    rate, distortion : float
    """
    w = check_array(weight, "weight", 2)
    a = check_array(enc_weight, "enc_weight", 2)
    s = check_array(enc_std, "enc_std", 1)
    c = _cov(data_cov)
    sig = _real(noise_std, "noise_std", positive=True)
    d, k = w.shape
    if a.shape != (k, d) or s.size != k or c.shape != (d, d):
        raise ValueError(f"shapes must be weight (d, k), enc_weight (k, d), enc_std (k,), data_cov (d, d); "
                         f"got {w.shape}, {a.shape}, {s.shape}, {c.shape}")
    if np.any(s <= 0):
        raise ValueError("enc_std must be > 0")
    acov = a @ c @ a.T
    rate = float(vae_kl(np.sqrt(np.maximum(np.diag(acov), 0.0)), s))
    b = np.eye(d) - w @ a
    sq = float(np.trace(b @ c @ b.T) + np.sum((w * w) @ (s * s)))
    dist = 0.5 * d * math.log(2 * math.pi * sig ** 2) + sq / (2 * sig ** 2)
    return rate, dist


@dataclass(frozen=True)
class BetaVAEOptimum:
    r"""The exact optimum of the linear :math:`\beta`-VAE (:func:`beta_vae_optimum`).

    Attributes
    ----------
    rate : float
        :math:`\sum_j \tfrac12 \log(\lambda_j / \beta\sigma^2)` over the active units, nats.
    distortion : float
        The expected negative log-likelihood of the reconstruction.
    mse : float
        :math:`\mathbb E\lVert x - W\mu\rVert^2 + \mathbb E\lVert W(z-\mu)\rVert^2`, which equals
        :math:`\operatorname{tr}C - \sum_{\text{active}} (\lambda_j - \beta\sigma^2)`.
    eigenvalues : numpy.ndarray
        The k largest eigenvalues :math:`\lambda_j` of C, descending.
    active : numpy.ndarray of bool
        Units with :math:`\lambda_j > \beta\sigma^2`; the others have collapsed
        (:math:`q(z_j\mid x) = p(z_j)`, zero rate).
    decoder_norms : numpy.ndarray
        :math:`\lVert W_{:,j}\rVert = \sqrt{\lambda_j - \beta\sigma^2}` (0 when collapsed).
    encoder_std : numpy.ndarray
        :math:`s_j = \sqrt{\beta\sigma^2 / \lambda_j}` (1 when collapsed).
    weight, enc_weight : numpy.ndarray
        One optimal decoder and encoder, along C's top eigenvectors.
    """

    rate: float
    distortion: float
    mse: float
    eigenvalues: np.ndarray
    active: np.ndarray
    decoder_norms: np.ndarray
    encoder_std: np.ndarray
    weight: np.ndarray
    enc_weight: np.ndarray


def beta_vae_optimum(data_cov: ArrayLike, noise_std: float, beta: float, latent_dim: int) -> BetaVAEOptimum:
    r"""The exact minimiser of ``distortion + beta * rate`` for the linear-Gaussian VAE.

    With :math:`\lambda_1 \ge \lambda_2 \ge \dots` the eigenvalues of C and
    :math:`u_j` its eigenvectors, unit j of the optimum is

    .. math::

       & W_{:,j} = \sqrt{(\lambda_j - \beta\sigma^2)_+}\; u_j, \\
       & A_{j,:} = \frac{W_{:,j}^\top}{\lambda_j}, \\
       & s_j^2 = \min\!\Big(1, \frac{\beta\sigma^2}{\lambda_j}\Big),

    so its rate is :math:`\tfrac12\log(\lambda_j/\beta\sigma^2)` when
    :math:`\lambda_j > \beta\sigma^2` and **zero** otherwise: the unit has
    collapsed onto the prior. Increasing :math:`\beta` (or :math:`\sigma^2`) switches
    the units off one by one, smallest eigenvalue first (reverse water-filling).
    Along the curve, :math:`d\,\text{distortion}/d\,\text{rate} = -\beta`.

    Parameters
    ----------
    data_cov : array_like, shape (d, d)
        The data covariance C (zero-mean data).
    noise_std : float
        The decoder's :math:`\sigma > 0`, held fixed.
    beta : float
        ``> 0``.
    latent_dim : int
        k, ``1 <= k <= d``.

    Returns
    -------
    BetaVAEOptimum
    """
    c = _cov(data_cov)
    sig = _real(noise_std, "noise_std", positive=True)
    b = _real(beta, "beta", positive=True)
    d = c.shape[0]
    k = check_count(latent_dim, "latent_dim", 1)
    if k > d:
        raise ValueError(f"latent_dim must be at most the data dimension {d}, got {k}")
    lam, vec = np.linalg.eigh(c)
    order = np.argsort(lam)[::-1][:k]
    lam, vec = np.maximum(lam[order], 0.0), vec[:, order]
    thr = b * sig ** 2
    active = lam > thr
    norms = np.where(active, np.sqrt(np.where(active, lam - thr, 0.0)), 0.0)
    s = np.where(active, np.sqrt(np.where(active, thr / np.where(active, lam, 1.0), 1.0)), 1.0)
    w = vec * norms
    a = np.where(active[:, None], (w / np.where(active, lam, 1.0)).T, 0.0)
    rate, dist = beta_vae_objective(w, a, s, c, sig)
    mse = float(np.trace(c) - np.sum(np.where(active, lam - thr, 0.0)))
    return BetaVAEOptimum(rate, dist, mse, lam, active, norms, s, w, a)
