r"""Fitting a Gaussian q to a fixed p by minimising a KL divergence.

Two directions, two very different answers:

* **forward**, :math:`\min_q D_{\mathrm{KL}}(p\,\|\,q)`: the optimum matches
  p's mean and variance exactly (moment matching), so q spreads over all of p;
* **reverse**, :math:`\min_q D_{\mathrm{KL}}(q\,\|\,p)`: an optimisation over
  :math:`(\mu, \log\sigma)` whose answer depends on where it starts; for a
  bimodal p it settles on one mode.

The same module fits a factorised (mean-field) Gaussian to a correlated
multivariate normal in both directions, the classic picture of section 10.1 of
Bishop's *Pattern Recognition and Machine Learning*.

Conventions: q is :math:`\mathcal{N}(\mu, \sigma^2)`; optimisation paths are
stored as rows :math:`(\mu, \log\sigma)`, the coordinates of the loss
landscapes; divergences are in nats.
"""

from __future__ import annotations

import math
import numbers
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats
from scipy.stats._multivariate import multivariate_normal_frozen

from .alpha import alpha_terms_log, check_order
from .base import Distribution
from .closed_forms import entropy_distribution, is_discrete, is_distribution
from .divergences import kl_divergence

__all__ = [
    "FitResult",
    "FactorisedFitResult",
    "fit_gaussian",
    "gaussian_kl",
    "gaussian_kl_gradient",
    "fit_factorised_gaussian",
    "kl_integrand",
    "gaussian_neg_elbo",
]

Direction = Literal["forward", "reverse", "alpha"]
_HALF_LOG_2PI_E = 0.5 * math.log(2.0 * math.pi * math.e)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class FitResult:
    r"""The Gaussian :math:`q = \mathcal{N}(\mu, \sigma^2)` returned by :func:`fit_gaussian`.

    Attributes
    ----------
    mean, std : float
        :math:`\mu` and :math:`\sigma` of the fitted q.
    kl : float
        The minimised divergence in nats: :math:`D_{\mathrm{KL}}(p\,\|\,q)` for
        ``direction="forward"``, :math:`D_{\mathrm{KL}}(q\,\|\,p)` for
        ``"reverse"``, the alpha-divergence for ``"alpha"``.
    path : numpy.ndarray, shape (n, 2)
        The optimisation path, one row :math:`(\mu, \log\sigma)` per iterate,
        starting point first and optimum last (one row for the exact forward fit).
    direction : str
        ``"forward"``, ``"reverse"`` or ``"alpha"``.
    kl_path : numpy.ndarray, shape (n,)
        The objective at each row of ``path``.
    n_iter : int
        Number of optimiser iterations (0 for the exact forward fit).
    converged : bool
        Whether the optimiser met its gradient tolerance.
    grad : numpy.ndarray, shape (2,)
        Gradient of the objective with respect to :math:`(\mu, \log\sigma)` at the optimum.
    hessian : numpy.ndarray or None, shape (2, 2)
        Hessian with respect to :math:`(\mu, \log\sigma)` at the optimum (central
        differences of the exact gradient); both eigenvalues positive means a
        local minimum, one negative a saddle.
    alpha : float or None
        The alpha of ``direction="alpha"``.
    message : str
        The optimiser's message.
    """

    mean: float
    std: float
    kl: float
    path: np.ndarray
    direction: str = "forward"
    kl_path: np.ndarray = field(default_factory=lambda: np.empty(0))
    n_iter: int = 0
    converged: bool = True
    grad: np.ndarray = field(default_factory=lambda: np.zeros(2))
    hessian: np.ndarray | None = None
    alpha: float | None = None
    message: str = ""

    @property
    def log_std(self) -> float:
        r""":math:`\log\sigma`."""
        return math.log(self.std)

    @property
    def q(self):
        """The fitted q as a frozen ``scipy.stats.norm``."""
        return stats.norm(self.mean, self.std)

    @property
    def is_minimum(self) -> bool | None:
        """``True`` if the Hessian is positive definite, ``False`` if not, ``None`` if unknown."""
        if self.hessian is None:
            return None
        return bool(np.all(np.linalg.eigvalsh(0.5 * (self.hessian + self.hessian.T)) > 0))

    def __repr__(self) -> str:
        extra = f", alpha={self.alpha!r}" if self.alpha is not None else ""
        return (
            f"FitResult(direction={self.direction!r}{extra}, mean={self.mean:.10g}, std={self.std:.10g}, "
            f"kl={self.kl:.10g}, n_iter={self.n_iter}, converged={self.converged})"
        )


@dataclass(frozen=True, repr=False)
class FactorisedFitResult:
    r"""A factorised Gaussian :math:`q(x) = \prod_i \mathcal{N}(x_i; \mu_i, \sigma_i^2)`.

    Returned by :func:`fit_factorised_gaussian`.

    Attributes
    ----------
    mean, std : numpy.ndarray, shape (d,)
        :math:`\mu_i` and :math:`\sigma_i`.
    kl : float
        The minimised divergence in nats (:math:`D_{\mathrm{KL}}(p\,\|\,q)` for
        forward, :math:`D_{\mathrm{KL}}(q\,\|\,p)` for reverse).
    direction : str
        ``"forward"`` or ``"reverse"``.
    """

    mean: np.ndarray
    std: np.ndarray
    kl: float
    direction: str

    @property
    def cov(self) -> np.ndarray:
        r"""The diagonal covariance :math:`\operatorname{diag}(\sigma_i^2)`."""
        return np.diag(self.std**2)

    @property
    def q(self):
        """The fitted q as a frozen ``scipy.stats.multivariate_normal``."""
        return stats.multivariate_normal(self.mean, self.cov)

    def __repr__(self) -> str:
        return (
            f"FactorisedFitResult(direction={self.direction!r}, mean={np.round(self.mean, 10).tolist()}, "
            f"std={np.round(self.std, 10).tolist()}, kl={self.kl:.10g})"
        )


# ---------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------
def _central_hessian(fun: Any, theta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Symmetrised central-difference Hessian of a 2-parameter objective.

    ``fun(theta)`` returns ``(value, gradient)``; column j is
    ``(grad(theta + eps e_j) - grad(theta - eps e_j)) / (2 eps)``.
    """
    hess = np.empty((2, 2))
    for j in range(2):
        e = np.zeros(2)
        e[j] = eps
        hess[:, j] = (fun(theta + e)[1] - fun(theta - e)[1]) / (2 * eps)
    return 0.5 * (hess + hess.T)


def _check_univariate(p: object) -> None:
    if not is_distribution(p) or isinstance(p, multivariate_normal_frozen):
        raise TypeError(
            "p must be a univariate continuous distribution (a frozen scipy.stats distribution "
            f"or a klbook.Distribution), got {type(p).__name__}"
        )
    if is_discrete(p):
        raise TypeError("p must be continuous: a Gaussian q has a density, a discrete p has none")
    if not callable(getattr(p, "logpdf", None)):
        raise TypeError(f"p must have a logpdf method, {type(p).__name__} has none")


def _check_direction(direction: object, allowed: tuple[str, ...]) -> str:
    if direction not in allowed:
        raise ValueError(f"direction must be one of {', '.join(map(repr, allowed))}; got {direction!r}")
    return str(direction)


def _check_init(init: object) -> tuple[float, float] | None:
    if init is None:
        return None
    try:
        mu, sigma = init  # type: ignore[misc]
    except (TypeError, ValueError) as exc:
        raise TypeError(f"init must be a (mean, std) pair, got {init!r}") from exc
    for name, v in (("init mean", mu), ("init std", sigma)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {v!r}")
    mu, sigma = float(mu), float(sigma)
    if not math.isfinite(mu):
        raise ValueError(f"init mean must be finite, got {mu!r}")
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"init std must be finite and > 0, got {sigma!r}")
    return mu, sigma


def _moments(p: object) -> tuple[float, float]:
    m, v = float(p.mean()), float(p.var())  # type: ignore[attr-defined]
    if not (math.isfinite(m) and math.isfinite(v)):
        raise ValueError(
            f"the forward fit needs p to have a finite mean and variance, got mean {m!r} and variance {v!r}: "
            "otherwise D_KL(p || q) is infinite for every Gaussian q"
        )
    if v <= 0:
        raise ValueError(f"p has variance {v!r}; a Gaussian q needs a positive variance")
    return m, v


def _full_support(p: object) -> bool:
    lo, hi = p.support()  # type: ignore[attr-defined]
    return bool(lo == -math.inf and hi == math.inf)


# ---------------------------------------------------------------------------
# Gaussian expectations by the trapezoidal rule
# ---------------------------------------------------------------------------
def _feature_scale(p: object) -> float | None:
    """Width of p's narrowest feature, when known (component stds of a mixture)."""
    stds = getattr(p, "stds", None)
    if stds is None:
        return None
    return float(np.min(stds))


def _gauss_expect(
    p: object,
    mu: np.ndarray,
    sigma: np.ndarray,
    *,
    pathwise: bool,
    need_grad: bool,
    rtol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    r"""Expectations over :math:`z \sim \mathcal{N}(0, 1)` of functions of :math:`x = \mu + \sigma z`.

    Returns :math:`\mathbb E[g(x)]` and, if ``need_grad``, the two integrals of the
    gradient: pathwise :math:`\mathbb E[g'(x)]` and :math:`\sigma \mathbb E[z\, g'(x)]`, or, by
    Gaussian integration by parts, :math:`\mathbb E[z\,g(x)]/\sigma` and
    :math:`\mathbb E[(z^2 - 1)\,g(x)]` (here :math:`g = \log p`, as in chapter 4).

    The trapezoidal rule on :math:`z \in [-Z, Z]`, with the step halved until
    two successive estimates agree to ``rtol``: for the analytic, Gaussian-damped
    integrands met here it converges geometrically. ``Z`` starts at 10 and is
    doubled (up to 37) while the integrand is not negligible at the ends.
    ``mu`` and ``sigma`` are 1-D arrays of the same length, one integral each.
    """
    feat = _feature_scale(p)
    fused = need_grad and pathwise and callable(getattr(p, "logpdf_dlogpdf", None))
    h_max = 0.25
    if feat is not None:
        h_max = min(h_max, 0.5 * feat / float(np.max(sigma)))
    h_max = 2.0 ** math.floor(math.log2(h_max))
    z_end = 10.0
    while True:
        # Coarsest grid: nodes at multiples of h on [-Z, Z].
        h = 2.0 * h_max  # first refinement below lands on h_max
        n_half = int(round(z_end / h))
        z = np.arange(-n_half, n_half + 1) * h

        def terms(zs: np.ndarray) -> list[np.ndarray]:
            x = mu[:, None] + sigma[:, None] * zs[None, :]
            phi = np.exp(-0.5 * zs * zs) / math.sqrt(2.0 * math.pi)
            if fused:  # log p and its derivative from one pass (GaussianMixture.logpdf_dlogpdf)
                ell, sc = (np.asarray(v, dtype=float) for v in p.logpdf_dlogpdf(x))  # type: ignore[attr-defined]
            else:
                ell = np.asarray(p.logpdf(x), dtype=float)  # type: ignore[attr-defined]
            if np.any(np.isnan(ell)):
                raise FloatingPointError("p.logpdf returned NaN inside the quadrature")
            if np.any(ell == np.inf):
                raise ValueError("p.logpdf returned +inf: p has an unbounded density, KL(q || p) is not handled")
            out = [ell * phi]
            if need_grad:
                if pathwise:
                    if not fused:
                        sc = np.asarray(p.dlogpdf(x), dtype=float)  # type: ignore[attr-defined]
                    out += [sc * phi, sigma[:, None] * zs * sc * phi]
                else:
                    ell0 = np.asarray(p.logpdf(mu), dtype=float)[:, None]  # baseline: E[z] = E[z^2 - 1] = 0
                    d = ell - ell0
                    out += [zs * d * phi / sigma[:, None], (zs * zs - 1.0) * d * phi]
            return out

        with np.errstate(invalid="ignore", over="ignore"):
            sums = [t.sum(axis=1) for t in terms(z)]
        est = [h * s for s in sums]
        ok = False
        for _ in range(14):
            h *= 0.5
            z_new = (np.arange(-n_half, n_half) + 0.5) * (2.0 * h)
            n_half *= 2
            with np.errstate(invalid="ignore", over="ignore"):
                sums = [s + t.sum(axis=1) for s, t in zip(sums, terms(z_new))]
            new = [h * s for s in sums]
            bad = ~np.isfinite(new[0])  # log p = -inf under q's mass: D(q || p) = inf there
            if np.any(bad) and need_grad:
                raise ValueError("log p is -inf where q has mass: D_KL(q || p) is infinite, no gradient")
            good = ~bad
            conv = all(
                np.all(np.abs(a[good] - b[good]) <= rtol * (1.0 + np.abs(a[good]))) for a, b in zip(new, est)
            )
            est = new
            if conv and h <= h_max:
                ok = True
                break
        if not ok:
            raise FloatingPointError(
                "the Gaussian quadrature of log p did not converge; p's log density may be too rough"
            )
        # Tail check: integrand at the ends of [-Z, Z].
        ends = np.array([-z_end, z_end])
        with np.errstate(invalid="ignore", over="ignore"):
            tail_terms = terms(ends)
        fin = np.isfinite(est[0])
        tail = max(float(np.max(np.abs(t[fin]), initial=0.0)) for t in tail_terms)
        scale = 1.0 + float(np.max(np.abs(est[0][fin]), initial=0.0))
        if tail <= rtol * scale or z_end >= 37.0:
            break
        z_end = min(2.0 * z_end, 37.0)
    e0 = np.where(np.isfinite(est[0]), est[0], -np.inf)
    if need_grad:
        return e0, est[1], est[2]
    return e0, None, None


def _reverse_value_grad(
    p: object, mu: np.ndarray, sigma: np.ndarray, *, need_grad: bool, method: str = "auto"
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Reverse KL :math:`D(q\|p)` of :math:`q = N(\mu, \sigma^2)` and its gradient in :math:`(\mu, \log\sigma)`."""
    if method == "auto":
        pathwise = callable(getattr(p, "dlogpdf", None))
    elif method in ("pathwise", "stein"):
        pathwise = method == "pathwise"
        if pathwise and not callable(getattr(p, "dlogpdf", None)):
            raise TypeError("method='pathwise' needs p.dlogpdf (the derivative of log p)")
    else:
        raise ValueError(f"method must be 'auto', 'pathwise' or 'stein', got {method!r}")
    e_ell, g1, g2 = _gauss_expect(p, mu, sigma, pathwise=pathwise, need_grad=need_grad)
    value = -np.log(sigma) - _HALF_LOG_2PI_E - e_ell
    value = np.where(np.isnan(value), np.inf, value)
    if not need_grad:
        return value, None
    grad = np.stack([-g1, -1.0 - g2], axis=-1)  # type: ignore[operator]
    return value, grad


# ---------------------------------------------------------------------------
# Public objective functions
# ---------------------------------------------------------------------------
def gaussian_kl(
    p: object,
    mean: ArrayLike,
    std: ArrayLike,
    *,
    direction: Literal["forward", "reverse"] = "forward",
) -> np.ndarray | float:
    r"""KL divergence between a fixed p and Gaussians :math:`q = \mathcal{N}(\mu, \sigma^2)`, vectorised.

    The objective of :func:`fit_gaussian`, evaluated on arrays of
    :math:`(\mu, \sigma)` (they broadcast) to draw loss landscapes.

    * ``"forward"``: :math:`D_{\mathrm{KL}}(p\,\|\,q)` is :math:`-H(p) + \tfrac12\log(2\pi\sigma^2)`
      plus :math:`\dfrac{\operatorname{Var}_p[x] + (\mathbb E_p[x] - \mu)^2}{2\sigma^2}`, exact given p's
      mean, variance and entropy :math:`H(p)` (computed once).
    * ``"reverse"``: :math:`D_{\mathrm{KL}}(q\,\|\,p)` is :math:`-\tfrac12\log(2\pi e\sigma^2)`
      minus :math:`\mathbb E_{z\sim\mathcal{N}(0,1)}[\log p(\mu + \sigma z)]`, the expectation by
      the trapezoidal rule in :math:`z`, refined until converged (about 12
      significant digits). ``inf`` when p's support is not the whole line.

    Parameters
    ----------
    p : distribution
        Univariate continuous: a frozen ``scipy.stats`` distribution or a
        :class:`klbook.Distribution` such as :class:`klbook.GaussianMixture`.
    mean, std : array_like
        :math:`\mu` (finite) and :math:`\sigma` (finite, ``> 0``); broadcast together.
    direction : {"forward", "reverse"}

    Returns
    -------
    float or numpy.ndarray
        Divergences in nats, shaped like the broadcast of ``mean`` and ``std``.
    """
    _check_univariate(p)
    direction = _check_direction(direction, ("forward", "reverse"))
    mu, sigma = np.broadcast_arrays(np.asarray(mean, dtype=float), np.asarray(std, dtype=float))
    if not np.all(np.isfinite(mu)):
        raise ValueError("mean must be finite")
    if not (np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise ValueError("std must be finite and > 0")
    if direction == "forward":
        m, v = _moments(p)
        h = float(entropy_distribution(p))
        out = -h + _HALF_LOG_2PI + np.log(sigma) + (v + (m - mu) ** 2) / (2.0 * sigma**2)
        out = np.maximum(out, 0.0)
    elif not _full_support(p):
        out = np.full(mu.shape, np.inf)
    else:
        flat_mu, flat_sigma = mu.ravel(), sigma.ravel()
        res = np.empty(flat_mu.size)
        order = np.argsort(flat_sigma, kind="stable")  # chunks of similar sigma share a quadrature step
        chunk = 512
        for i in range(0, flat_mu.size, chunk):
            idx = order[i : i + chunk]
            res[idx] = _reverse_value_grad(p, flat_mu[idx], flat_sigma[idx], need_grad=False)[0]
        out = np.maximum(res.reshape(mu.shape), 0.0)
    return float(out) if out.ndim == 0 else out


def gaussian_kl_gradient(
    p: object,
    mean: float,
    log_std: float,
    *,
    direction: Literal["forward", "reverse"] = "reverse",
    method: Literal["auto", "pathwise", "stein"] = "auto",
) -> tuple[float, np.ndarray]:
    r"""The fitting objective and its gradient with respect to :math:`(\mu, \rho = \log\sigma)`.

    Forward, in closed form from p's moments :math:`m, v` and entropy:

    .. math::

        \frac{\partial}{\partial\mu} D_{\mathrm{KL}}(p\|q) &= \frac{\mu - m}{\sigma^2}, \\
        \frac{\partial}{\partial\rho} D_{\mathrm{KL}}(p\|q) &= 1 - \frac{v + (m - \mu)^2}{\sigma^2}.

    Reverse, with :math:`x = \mu + \sigma z`, :math:`z\sim\mathcal{N}(0,1)`
    (the reparameterisation) and :math:`g = \log p`, as in chapter 4:

    .. math::

        & D_{\mathrm{KL}}(q\|p) \\
        & \quad = -\rho - \tfrac12\log(2\pi e) - \mathbb E[g(x)], \\
        & \frac{\partial}{\partial\mu} = -\mathbb E[g'(x)], \\
        & \frac{\partial}{\partial\rho} = -1 - \sigma \mathbb E[z\,g'(x)].

    ``method="pathwise"`` uses these (it needs ``p.dlogpdf``, which
    :class:`klbook.GaussianMixture` has); ``method="stein"`` uses the
    integration-by-parts forms :math:`\mathbb E[g'(x)] = \mathbb E[z\,g(x)]/\sigma` and
    :math:`\sigma \mathbb E[z\,g'(x)] = \mathbb E[(z^2-1)\,g(x)]`, which need only
    ``logpdf``; ``"auto"`` picks pathwise when it can. Expectations are computed
    by quadrature as in :func:`gaussian_kl`.

    Returns
    -------
    value : float
        The divergence in nats.
    grad : numpy.ndarray, shape (2,)
        :math:`(\partial/\partial\mu, \partial/\partial\log\sigma)`.
    """
    _check_univariate(p)
    direction = _check_direction(direction, ("forward", "reverse"))
    mu, rho = float(mean), float(log_std)
    if not (math.isfinite(mu) and math.isfinite(rho)):
        raise ValueError(f"mean and log_std must be finite, got {mean!r} and {log_std!r}")
    sigma = math.exp(rho)
    if direction == "forward":
        m, v = _moments(p)
        value = float(gaussian_kl(p, mu, sigma, direction="forward"))
        grad = np.array([(mu - m) / sigma**2, 1.0 - (v + (m - mu) ** 2) / sigma**2])
        return value, grad
    if not _full_support(p):
        raise ValueError(
            "p's support is not the whole real line, so D_KL(q || p) is infinite for every Gaussian q"
        )
    value, grad = _reverse_value_grad(p, np.array([mu]), np.array([sigma]), need_grad=True, method=method)
    return float(value[0]), grad[0]  # type: ignore[index]


# ---------------------------------------------------------------------------
# fit_gaussian
# ---------------------------------------------------------------------------
def _default_init(p: object) -> tuple[float, float]:
    """Highest mode (if p reports modes) or median; std, or IQR/1.349 if the std is not finite."""
    modes = getattr(p, "modes", None)
    if callable(modes):
        xs = np.atleast_1d(np.asarray(modes(), dtype=float))
        mu = float(xs[np.argmax(np.asarray(p.logpdf(xs)))])  # type: ignore[attr-defined]
    else:
        mu = float(p.ppf(0.5))  # type: ignore[attr-defined]
    sd = float(p.std())  # type: ignore[attr-defined]
    if not (math.isfinite(sd) and sd > 0):
        sd = float(p.ppf(0.75) - p.ppf(0.25)) / 1.3489795003921634  # type: ignore[attr-defined]
    return mu, sd


#: Largest Newton step, in (mu, log sigma), that :func:`_newton_polish` takes.
_POLISH_MAX_STEP = 1e-4


def _newton_polish(fun, theta: np.ndarray, max_steps: int = 3) -> np.ndarray:
    """Newton steps from a BFGS optimum, while they shrink the gradient.

    BFGS stops anywhere the gradient is below ``gtol``, and where exactly
    depends on the path, on the start and, through the line search, on the
    last bits of exp and log (which differ between CPUs). A Newton step with
    the exact gradient and a central-difference Hessian moves such a point
    onto the stationary point itself, up to the rounding noise of the
    gradient, so the optimum no longer depends on how it was approached.
    Only small steps are taken (at most ``_POLISH_MAX_STEP``); a step that
    does not reduce the largest gradient component is rejected.
    """
    value, grad = fun(theta)
    g_max = float(np.max(np.abs(grad)))
    eps = 1e-5
    for _ in range(max_steps):
        if not (math.isfinite(value) and g_max > 0.0):
            break
        hess = np.empty((2, 2))
        for j in range(2):
            e = np.zeros(2)
            e[j] = eps
            hess[:, j] = (fun(theta + e)[1] - fun(theta - e)[1]) / (2 * eps)
        hess = 0.5 * (hess + hess.T)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        if not (np.all(np.isfinite(step)) and float(np.max(np.abs(step))) <= _POLISH_MAX_STEP):
            break
        trial = theta - step
        v_new, g_new = fun(trial)
        g_new_max = float(np.max(np.abs(g_new)))
        if not g_new_max < g_max:
            break
        theta, value, grad, g_max = trial, v_new, g_new, g_new_max
    return theta


def _descend(
    fun_grad, theta0: np.ndarray, *, method: str, gtol: float, max_iter: int
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, bool, str]:
    """Minimise over theta = (mu, log sigma), recording the iterates.

    ``method="bfgs"``: scipy's BFGS, then :func:`_newton_polish`. ``method="gd"``: steepest descent with a
    backtracking (Armijo) line search and steps of at most ``_GD_MAX_STEP`` in
    theta, whose path follows the downhill direction closely.

    Returns the optimum, its value and gradient, the Hessian there (central
    differences of the gradient), the path, the objective along it, the
    iteration count, whether the gradient tolerance was met, and a message.
    """
    cache: dict[tuple[float, float], tuple[float, np.ndarray]] = {}

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        key = (float(theta[0]), float(theta[1]))
        if key not in cache:
            if not (abs(key[1]) < 40 and math.isfinite(key[0])):
                cache[key] = (math.inf, np.zeros(2))  # sigma out of range: the line search backs off
            else:
                cache[key] = fun_grad(key[0], key[1])
        v_, g_ = cache[key]
        return v_, g_.copy()

    path = [np.array(theta0, dtype=float)]
    if method == "bfgs":

        def callback(xk: np.ndarray) -> None:
            path.append(np.array(xk, dtype=float))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = optimize.minimize(
                fun, theta0, jac=True, method="BFGS", callback=callback, options={"gtol": gtol, "maxiter": max_iter}
            )
        theta = np.asarray(res.x, dtype=float)
        nit, message = int(res.nit), str(res.message)
        theta = _newton_polish(fun, theta)
    else:
        theta = np.array(theta0, dtype=float)
        value, grad = fun(theta)
        rate, nit, message = 0.1, 0, "maximum number of iterations reached"
        while nit < max_iter:
            if np.max(np.abs(grad)) <= gtol:
                message = "gradient below gtol"
                break
            gg = float(grad @ grad)
            step = min(rate, _GD_MAX_STEP / math.sqrt(gg))
            while True:
                trial = theta - step * grad
                v_new, g_new = fun(trial)
                if v_new <= value - 1e-4 * step * gg:
                    break
                step *= 0.5
                if step * math.sqrt(gg) < 1e-15 * (1.0 + float(np.max(np.abs(theta)))):
                    break
            if not v_new <= value:
                message = "line search failed"
                break
            theta, value, grad = trial, v_new, g_new
            path.append(theta.copy())
            rate = 2.0 * step
            nit += 1
    if not np.array_equal(path[-1], theta):
        path.append(theta.copy())
    value, grad = fun(theta)
    converged = bool(np.max(np.abs(grad)) <= max(gtol, 1e-7))
    hess = _central_hessian(fun, theta)
    path_arr = np.array(path)
    kl_path = np.array([fun(t)[0] for t in path_arr])
    return theta, float(value), np.asarray(grad, dtype=float), hess, path_arr, kl_path, nit, converged, message


#: Longest step, in (mu, log sigma), that method="gd" takes.
_GD_MAX_STEP = 0.1


def fit_gaussian(
    p: object,
    *,
    direction: Direction = "forward",
    alpha: float | None = None,
    init: tuple[float, float] | None = None,
    method: Literal["auto", "exact", "bfgs", "gd"] = "auto",
    gtol: float = 1e-9,
    max_iter: int = 500,
) -> FitResult:
    r"""Fit a Gaussian :math:`q = \mathcal{N}(\mu, \sigma^2)` to a fixed p by minimising a KL divergence.

    * ``direction="forward"`` minimises :math:`D_{\mathrm{KL}}(p\,\|\,q)`. The
      answer is exact: :math:`\mu = \mathbb E_p[x]`, :math:`\sigma^2 = \operatorname{Var}_p[x]`
      (moment matching; setting the gradient of :func:`gaussian_kl_gradient` to
      zero gives it). With the default ``method`` the exact answer is returned,
      ``init`` is ignored and ``path`` holds the single optimum; ``method="bfgs"``
      or ``"gd"`` runs an optimiser instead, from ``init``, to draw its path on
      the forward landscape.
    * ``direction="reverse"`` minimises :math:`D_{\mathrm{KL}}(q\,\|\,p)` over
      :math:`(\mu, \log\sigma)` by BFGS with the exact gradient of
      :func:`gaussian_kl_gradient`, finished by a few Newton steps (exact
      gradient, central-difference Hessian) that put the result on the
      stationary point to rounding, whatever path BFGS took to get near it.
      The objective is not convex: for a multimodal p the answer depends on
      ``init`` (which basin). The result's ``hessian`` tells a minimum from a
      saddle.
    * ``direction="alpha"`` minimises the alpha-divergence of order ``alpha``
      (implemented in :mod:`klbook.core.alpha`).

    Parameters
    ----------
    p : distribution
        Univariate continuous, with a ``logpdf``: a frozen ``scipy.stats``
        distribution or a :class:`klbook.Distribution`.
    direction : {"forward", "reverse", "alpha"}
    alpha : float, optional
        Only with ``direction="alpha"``.
    init : (float, float), optional
        Starting :math:`(\mu, \sigma)`. By default the highest mode of p (if p
        has ``modes()``) or its median, and p's standard deviation (or
        interquartile range / 1.349 if that is infinite).
    method : {"auto", "exact", "bfgs", "gd"}
        ``"auto"`` is ``"exact"`` for the forward direction and ``"bfgs"`` for
        the reverse one (which has no exact solution). ``"gd"`` is steepest
        descent with a backtracking line search and steps of at most 0.1 in
        :math:`(\mu, \log\sigma)`: slower, but its path traces the downhill
        direction, which shows the basins of a landscape (BFGS's first steps
        can jump far).
    gtol : float
        The optimiser stops when every component of the gradient is below this.
    max_iter : int
        Iteration cap of the optimiser.

    Returns
    -------
    FitResult
        ``mean``, ``std``, ``kl``, and ``path`` (rows :math:`(\mu, \log\sigma)`).

    Raises
    ------
    TypeError
        If p is not a univariate continuous distribution.
    ValueError
        Unknown direction or method; ``alpha`` given without
        ``direction="alpha"``; a forward fit of a p without finite variance; a
        reverse fit of a p whose support is not the whole line (every Gaussian
        q then has infinite :math:`D_{\mathrm{KL}}(q\,\|\,p)`); an invalid ``init``.

    Examples
    --------
    >>> from klbook import GaussianMixture
    >>> p = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    >>> fit = fit_gaussian(p, direction="reverse", init=(1.0, 1.0))
    >>> round(fit.mean, 3), round(fit.std, 3)
    (1.997, 0.605)
    """
    direction = _check_direction(direction, ("forward", "reverse", "alpha"))
    if isinstance(gtol, bool) or not isinstance(gtol, numbers.Real) or not (math.isfinite(gtol) and gtol > 0):
        raise ValueError(f"gtol must be a finite number > 0, got {gtol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if direction == "alpha":
        return _fit_gaussian_alpha(p, alpha=alpha, init=init)
    if alpha is not None:
        raise ValueError(f"alpha is only used with direction='alpha' (got alpha={alpha!r}, direction={direction!r})")
    if method not in ("auto", "exact", "bfgs", "gd"):
        raise ValueError(f"method must be 'auto', 'exact', 'bfgs' or 'gd', got {method!r}")
    if direction == "reverse" and method == "exact":
        raise ValueError("the reverse fit has no exact solution: use method='auto', 'bfgs' or 'gd'")
    _check_univariate(p)
    init_pair = _check_init(init)

    if direction == "forward":
        m, v = _moments(p)
        h = float(entropy_distribution(p))
        sd = math.sqrt(v)
        kl = max(-h + _HALF_LOG_2PI_E + math.log(sd), 0.0)  # at the optimum the quadratic term is 1/2
        if method in ("auto", "exact"):
            return FitResult(
                mean=m,
                std=sd,
                kl=kl,
                path=np.array([[m, math.log(sd)]]),
                direction="forward",
                kl_path=np.array([kl]),
                n_iter=0,
                converged=True,
                grad=np.zeros(2),
                hessian=np.array([[1.0 / v, 0.0], [0.0, 2.0]]),
                message="exact: moment matching",
            )

        def fun_grad(mu: float, rho: float) -> tuple[float, np.ndarray]:
            s2 = math.exp(2.0 * rho)
            sq = v + (m - mu) ** 2
            value = -h + _HALF_LOG_2PI + rho + sq / (2.0 * s2)
            return value, np.array([(mu - m) / s2, 1.0 - sq / s2])

        if init_pair is None:
            raise ValueError(f"method={method!r} for the forward fit needs an init (mean, std) to start from")
    else:
        if not _full_support(p):
            raise ValueError(
                "p's support is not the whole real line, so D_KL(q || p) is infinite for every Gaussian q; "
                "no reverse fit exists"
            )
        if init_pair is None:
            init_pair = _default_init(p)

        def fun_grad(mu: float, rho: float) -> tuple[float, np.ndarray]:
            return gaussian_kl_gradient(p, mu, rho, direction="reverse")

    theta0 = np.array([init_pair[0], math.log(init_pair[1])])
    theta, value, grad, hess, path_arr, kl_path, nit, converged, message = _descend(
        fun_grad, theta0, method="gd" if method == "gd" else "bfgs", gtol=gtol, max_iter=max_iter
    )
    return FitResult(
        mean=float(theta[0]),
        std=float(math.exp(theta[1])),
        kl=max(float(value), 0.0),
        path=path_arr,
        direction=direction,
        kl_path=kl_path,
        n_iter=nit,
        converged=converged,
        grad=grad,
        hessian=hess,
        message=message,
    )


# ---------------------------------------------------------------------------
# Pointwise integrands and unnormalised targets
# ---------------------------------------------------------------------------
def kl_integrand(p: object, q: object, x: ArrayLike) -> np.ndarray | float:
    r"""The integrand of :math:`D_{\mathrm{KL}}(p\,\|\,q)` at ``x``: :math:`p(x)\log\dfrac{p(x)}{q(x)}`.

    Computed from log-densities, :math:`e^{\log p}(\log p - \log q)`, with the
    conventions :math:`0\log(0/q) = 0` and :math:`p\log(p/0) = +\infty` for
    :math:`p > 0`. Its integral over the line is the divergence; pass
    ``(q, p)`` for the reverse integrand :math:`q\log(q/p)`.

    Parameters
    ----------
    p, q : distribution
        Univariate continuous distributions with ``logpdf``.
    x : array_like
        Points (no NaN).

    Returns
    -------
    float or numpy.ndarray
        Shaped like ``x``; may be negative where :math:`q > p`.
    """
    for name, d in (("p", p), ("q", q)):
        _check_univariate(d)
    xa = np.asarray(x, dtype=float)
    if np.any(np.isnan(xa)):
        raise ValueError("x contains NaN")
    lp = np.asarray(p.logpdf(xa), dtype=float)  # type: ignore[attr-defined]
    lq = np.asarray(q.logpdf(xa), dtype=float)  # type: ignore[attr-defined]
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.exp(lp) * (lp - lq)
    out = np.where(np.isneginf(lp), 0.0, out)
    out = np.where(~np.isneginf(lp) & np.isneginf(lq), np.inf, out) + 0.0  # + 0.0 turns -0.0 into 0.0
    return float(out) if out.ndim == 0 else out


class _LogTarget:
    """Adapter: a callable log density, normalised or not, seen as an object with ``logpdf``."""

    def __init__(self, log_target) -> None:
        self.logpdf = log_target


def gaussian_neg_elbo(
    log_target,
    mean: float,
    log_std: float,
) -> tuple[float, np.ndarray]:
    r"""Reverse-KL objective for an unnormalised target, and its gradient in :math:`(\mu, \log\sigma)`.

    With :math:`\tilde p = Z p` known only up to the constant :math:`Z`, and
    :math:`q = \mathcal{N}(\mu, \sigma^2)`,

    .. math::

        & {-}\mathrm{ELBO}(q) \\
        & \quad = \mathbb E_q[\log q(x) - \log\tilde p(x)] \\
        & \quad = D_{\mathrm{KL}}(q\,\|\,p) - \log Z .

    The two sides differ by a constant, so they have the same gradient and the
    same minimisers: minimising this needs :math:`\tilde p` only. The gradient
    uses the integration-by-parts form of :func:`gaussian_kl_gradient`
    (``method="stein"``), which needs only values of :math:`\log\tilde p`.

    Parameters
    ----------
    log_target : callable
        Vectorised :math:`x \mapsto \log\tilde p(x)` (finite on the whole line).
    mean, log_std : float
        :math:`\mu` and :math:`\log\sigma`.

    Returns
    -------
    value : float
        :math:`-\mathrm{ELBO}` in nats.
    grad : numpy.ndarray, shape (2,)
        Its gradient with respect to :math:`(\mu, \log\sigma)`.
    """
    if not callable(log_target):
        raise TypeError(f"log_target must be a callable log density, got {type(log_target).__name__}")
    mu, rho = float(mean), float(log_std)
    if not (math.isfinite(mu) and math.isfinite(rho)):
        raise ValueError(f"mean and log_std must be finite, got {mean!r} and {log_std!r}")
    value, grad = _reverse_value_grad(
        _LogTarget(log_target), np.array([mu]), np.array([math.exp(rho)]), need_grad=True, method="stein"
    )
    return float(value[0]), grad[0]  # type: ignore[index]


# ---------------------------------------------------------------------------
# Factorised (mean-field) fits of a multivariate normal
# ---------------------------------------------------------------------------
def fit_factorised_gaussian(
    p: object,
    *,
    direction: Literal["forward", "reverse"] = "forward",
) -> FactorisedFitResult:
    r"""Fit a factorised Gaussian :math:`q(x) = \prod_i \mathcal{N}(x_i; \mu_i, \sigma_i^2)` to a multivariate normal p.

    For :math:`p = \mathcal{N}(m, \Sigma)` with precision :math:`\Lambda = \Sigma^{-1}`
    both optima are exact (Bishop 2006, section 10.1.2):

    * forward, :math:`\min_q D_{\mathrm{KL}}(p\,\|\,q)`: :math:`\mu = m`,
      :math:`\sigma_i^2 = \Sigma_{ii}`, the marginal variances: q over-spreads;
    * reverse, :math:`\min_q D_{\mathrm{KL}}(q\,\|\,p)`: :math:`\mu = m`,
      :math:`\sigma_i^2 = 1/\Lambda_{ii}`, the conditional variances: q
      under-spreads along the correlation (:math:`1/\Lambda_{ii} \le \Sigma_{ii}`).

    Parameters
    ----------
    p : scipy.stats.multivariate_normal (frozen)
        With a positive definite covariance.
    direction : {"forward", "reverse"}

    Returns
    -------
    FactorisedFitResult
        ``mean``, ``std`` and the minimised ``kl`` in nats, from the Gaussian
        closed form :math:`\tfrac12(T + M - d + L)`, with :math:`T = \operatorname{tr}(\Sigma_q^{-1}\Sigma_p)`,
        :math:`M = (\mu_q-\mu_p)^\top\Sigma_q^{-1}(\mu_q-\mu_p)` and :math:`L = \log\tfrac{\det\Sigma_q}{\det\Sigma_p}`,
        evaluated through :func:`klbook.kl_divergence`.

    Raises
    ------
    TypeError
        If p is not a frozen ``multivariate_normal``.
    ValueError
        Unknown direction, or a covariance that is not positive definite.
    """
    if not isinstance(p, multivariate_normal_frozen):
        raise TypeError(f"p must be a frozen scipy.stats.multivariate_normal, got {type(p).__name__}")
    direction = _check_direction(direction, ("forward", "reverse"))
    m = np.atleast_1d(np.asarray(p.mean, dtype=float))
    cov = np.atleast_2d(np.asarray(p.cov, dtype=float))
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError as exc:
        raise ValueError("p's covariance must be positive definite") from exc
    if direction == "forward":
        var = np.diag(cov).copy()
    else:
        inv_chol = np.linalg.solve(chol, np.eye(m.size))
        precision_diag = np.sum(inv_chol**2, axis=0)  # diag(Sigma^{-1}) = column norms of L^{-1}
        var = 1.0 / precision_diag
    std = np.sqrt(var)
    q = stats.multivariate_normal(m, np.diag(var))
    kl = kl_divergence(p, q) if direction == "forward" else kl_divergence(q, p)
    return FactorisedFitResult(mean=m.copy(), std=std, kl=float(kl), direction=direction)


# --------------------------------------------------------------------------- #
# Fitting a Gaussian by minimising the alpha-divergence (moved from alpha.py)  #
# --------------------------------------------------------------------------- #

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)


def _feature_width(p: Any) -> float:
    """Width of p's narrowest feature: the smallest component std of a mixture, else a robust spread."""
    stds = getattr(p, "stds", None)
    if stds is not None:
        return float(np.min(stds))
    sd = float(p.std())
    iqr = float(p.ppf(0.75) - p.ppf(0.25)) / 1.3489795003921634
    cands = [v for v in (sd, iqr) if math.isfinite(v) and v > 0]
    return min(cands) if cands else 1.0


def _panel_nodes(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Composite 12-point Gauss-Legendre nodes and weights, one panel per segment ``[a, b]`` of
    the sorted ``edges`` (empty segments skipped), all segments at once: nodes
    ``(a + b)/2 + (b - a)/2 * t_i`` and weights ``(b - a)/2 * w_i``, in segment order."""
    a, b = edges[:-1], edges[1:]
    keep = b > a
    a, b = a[keep], b[keep]
    half = 0.5 * (b - a)
    mid = 0.5 * (a + b)
    return (mid[:, None] + half[:, None] * _GL_NODES[None, :]).ravel(), (half[:, None] * _GL_WEIGHTS[None, :]).ravel()


def _p_range(p: Any) -> tuple[float, float, float, float, float]:
    """p's support ends, its 1e-16 quantiles and its finest feature width (computed once per fit)."""
    plo, phi = (float(v) for v in p.support())
    with np.errstate(all="ignore"):
        a_lo = float(p.ppf(1e-16))
        a_hi = float(p.isf(1e-16)) if hasattr(p, "isf") else float(p.ppf(1.0 - 1e-16))
    return plo, phi, a_lo, a_hi, _feature_width(p)


def _alpha_gauss_objective(
    p: Any,
    mu: float,
    sigma: float,
    alpha: float,
    *,
    need_grad: bool = True,
    prange: tuple[float, float, float, float, float] | None = None,
) -> tuple[float, np.ndarray]:
    r"""Minka's :math:`D^{(\alpha)}(p\,\|\,q)` for :math:`q = \mathcal{N}(\mu,\sigma^2)` and its gradient.

    .. math::

        D^{(\alpha)} = \int q\,\psi_\alpha(\ell)\,dx, \qquad
        \frac{\partial D^{(\alpha)}}{\partial\theta}
            = -\int q(x)\, \frac{e^{\alpha\ell(x)} - 1}{\alpha}\, \frac{\partial \log q(x)}{\partial\theta}\,dx,

    with :math:`\ell = \log p - \log q`, :math:`\theta = (\mu, \log\sigma)`,
    :math:`\partial_\mu\log q = (x-\mu)/\sigma^2`,
    :math:`\partial_{\log\sigma}\log q = (x-\mu)^2/\sigma^2 - 1`; at
    :math:`\alpha = 0` the factor :math:`(e^{\alpha\ell}-1)/\alpha` is :math:`\ell`.
    Composite 12-point Gauss-Legendre quadrature over q's
    :math:`\mu\pm 14\sigma` and p's :math:`10^{-16}` quantiles, on panels
    no wider than half p's finest feature over p's body, no wider than
    :math:`\sigma/2` over q's, and than half the larger of the two scales
    elsewhere, with p's support ends as panel edges; a
    side is extended (up to 2^10 times) while the integrand is not negligible
    there, and the value is ``inf`` if it never becomes so (the integral
    diverges). A q more than :math:`10^6` feature widths wide, or narrower
    than :math:`10^{-8}` of one, is reported as ``inf`` (keeps the optimiser
    in range).
    """
    plo, phi, a_lo, a_hi, feat = prange if prange is not None else _p_range(p)
    lo = min(mu - 14.0 * sigma, a_lo if math.isfinite(a_lo) else mu - 14.0 * sigma)
    hi = max(mu + 14.0 * sigma, a_hi if math.isfinite(a_hi) else mu + 14.0 * sigma)
    if sigma > 1e6 * feat or sigma < 1e-8 * feat:
        return math.inf, np.zeros(2)  # q absurdly wide or narrow next to p: keep the optimiser away
    core_lo = max(lo, a_lo - 2.0 * feat) if math.isfinite(a_lo) else lo
    core_hi = min(hi, a_hi + 2.0 * feat) if math.isfinite(a_hi) else hi

    def grid(a_: float, b_: float, h: float) -> np.ndarray:
        return np.linspace(a_, b_, int(math.ceil((b_ - a_) / h)) + 1) if b_ > a_ else np.zeros(0)

    def evaluate(lo_: float, hi_: float):
        # p's scale over p's body, q's scale over q's body, the wider of the two elsewhere
        edges = [
            grid(max(lo_, core_lo), min(hi_, core_hi), 0.5 * feat),
            grid(lo_, hi_, 0.5 * max(sigma, feat)),
            grid(max(lo_, mu - 14.0 * sigma), min(hi_, mu + 14.0 * sigma), 0.5 * sigma),
        ]
        edges.append(np.array([e for e in (plo, phi) if math.isfinite(e) and lo_ < e < hi_]))
        x, w = _panel_nodes(np.unique(np.concatenate(edges)))
        z = (x - mu) / sigma
        lq = -0.5 * z * z - math.log(sigma) - 0.5 * math.log(2.0 * math.pi)
        with np.errstate(all="ignore"):
            lp = np.asarray(p.logpdf(x), dtype=float)
        if np.any(np.isnan(lp)):
            raise ValueError("p.logpdf returned NaN inside the quadrature; check p's parameters")
        f = alpha_terms_log(lp, lq, alpha)
        return x, w, z, lp, lq, f

    for _ in range(11):
        x, w, z, lp, lq, f = evaluate(lo, hi)
        if np.any(np.isinf(f)):
            return math.inf, np.zeros(2)
        total = float(np.dot(w, f))
        span = hi - lo
        # integrand mass in the outer 12-node panels at each end
        left = float(np.dot(w[:12], f[:12]))
        right = float(np.dot(w[-12:], f[-12:]))
        tol = 1e-15 * max(total, 1e-300)
        grow_l, grow_r = left > tol, right > tol
        if not (grow_l or grow_r):
            break
        if grow_l:
            lo -= span
        if grow_r:
            hi += span
    else:
        return math.inf, np.zeros(2)
    if not math.isfinite(total):
        return math.inf, np.zeros(2)
    if not need_grad:
        return max(total, 0.0), np.zeros(2)
    ell = lp - lq
    with np.errstate(all="ignore"):
        if alpha == 0.0:
            qe = np.where(np.isfinite(lp), np.exp(lq) * ell, -np.inf)
        else:
            t = alpha * ell
            qe = np.where(
                np.abs(t) <= 1.0, np.exp(lq) * np.expm1(t), np.exp(lq + t) - np.exp(lq)
            ) / alpha
    if np.any(~np.isfinite(qe)):
        return math.inf, np.zeros(2)
    g_mu = -float(np.dot(w, qe * z / sigma))
    g_rho = -float(np.dot(w, qe * (z * z - 1.0)))
    return max(total, 0.0), np.array([g_mu, g_rho])


#: The reverse-KL fits that start the alpha fits, per klbook distribution object, with its repr.
#: ``fit_gaussian(p, direction="alpha")`` without ``init`` needs the same reverse fit of p for
#: every order (ch. 6 fits one p for 7-15 orders, each reverse fit ~30 ms): it is made once per
#: object. Only for klbook distributions with their own repr, which shows their parameters:
#: a hit needs the same object and the same repr, so a changed object is fitted again. A
#: subclass whose objects cannot be keys (unhashable, e.g. a dataclass, or without weak
#: references) is fitted every time.
_REVERSE_STARTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _reverse_start(p: Any) -> tuple[float, float]:
    """``(mean, std)`` of ``fit_gaussian(p, direction="reverse")``, remembered per object (see above)."""
    key = repr(p) if isinstance(p, Distribution) and type(p).__repr__ is not object.__repr__ else None
    if key is not None:
        try:
            hit = _REVERSE_STARTS.get(p)
        except TypeError:  # unhashable or not weakly referable: not remembered
            key = hit = None
        if hit is not None and hit[0] == key:
            return hit[1]
    rev = fit_gaussian(p, direction="reverse")
    start = (rev.mean, rev.std)
    if key is not None:
        _REVERSE_STARTS[p] = (key, start)
    return start


def _fit_gaussian_alpha(p: Any, *, alpha: float | None, init: tuple[float, float] | None = None):
    r"""Fit :math:`q = \mathcal{N}(\mu, \sigma^2)` to p by minimising :math:`D^{(\alpha)}(p\,\|\,q)`.

    Called by ``klbook.fit_gaussian(p, direction="alpha", alpha=..., init=...)``.
    The objective is Minka's alpha-divergence (:func:`alpha_divergence`),
    minimised over :math:`(\mu, \log\sigma)` by BFGS with the exact gradient
    of :func:`_alpha_gauss_objective`. :math:`\alpha = 1` gives the forward
    (moment-matching) fit, :math:`\alpha = 0` the reverse (mode-seeking) fit;
    the larger :math:`\alpha`, the more of p the fit covers.

    The objective can have several local minima (for a bimodal p: one wide q
    centred between the modes and one q on each mode). Without ``init`` the
    optimiser starts from both ends of the family, p's mean and standard
    deviation (the forward fit) and the reverse-KL fit of
    ``fit_gaussian(p, direction="reverse")`` (on p's highest mode), skips a
    start where the divergence is infinite, and returns the lower of the two
    minima (``message`` says which start won). If neither start is finite
    (:math:`\alpha < 0` needs a q narrower than p's tails, :math:`\alpha > 1`
    a wider one), the standard deviation of the reverse (resp. forward) start
    is scaled by 0.8 (resp. 1.25) until the divergence is finite. With ``init`` it returns the
    local minimum reached from there.

    Returns
    -------
    klbook.FitResult
        ``direction="alpha"``, ``alpha`` set, ``kl`` the minimised
        alpha-divergence (nats), ``path`` the iterates :math:`(\mu, \log\sigma)`.

    Raises
    ------
    ValueError
        ``alpha`` missing, NaN or infinite; an ``init`` where the divergence is
        infinite; :math:`\alpha \le 0` with p not supported on the whole line
        (every Gaussian q then has an infinite divergence).
    TypeError
        p not a univariate continuous distribution; ``alpha`` not a real number.
    """
    if alpha is None:
        raise ValueError("direction='alpha' needs alpha, e.g. fit_gaussian(p, direction='alpha', alpha=0.5)")
    a = check_order(alpha, allow_inf=False, lo=None)
    _check_univariate(p)
    init_pair = _check_init(init)
    if a <= 0.0 and not _full_support(p):
        raise ValueError(
            f"p's support is not the whole real line, so the alpha-divergence of order {a:g} <= 0 is "
            "infinite for every Gaussian q; no fit exists"
        )
    prange = _p_range(p)
    cache: dict[tuple[float, float], tuple[float, np.ndarray]] = {}

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        key = (float(theta[0]), float(theta[1]))
        if key not in cache:
            if not (math.isfinite(key[0]) and abs(key[1]) < 40):
                cache[key] = (math.inf, np.zeros(2))
            else:
                cache[key] = _alpha_gauss_objective(p, key[0], math.exp(key[1]), a, prange=prange)
        v_, g_ = cache[key]
        return v_, g_.copy()

    starts: list[tuple[str, tuple[float, float]]] = []
    if init_pair is not None:
        starts.append(("init", init_pair))
    else:
        m, sd = float(p.mean()), float(p.std())
        if math.isfinite(m) and math.isfinite(sd) and sd > 0:
            starts.append(("forward fit (p's mean and std)", (m, sd)))
        if _full_support(p):
            starts.append(("reverse-KL fit", _reverse_start(p)))
    valid = []
    for name, (mu0, sd0) in starts:
        theta0 = np.array([mu0, math.log(sd0)])
        if math.isfinite(fun(theta0)[0]):
            valid.append((name, theta0))
    if not valid and init_pair is None and starts:
        # alpha < 0 needs a q narrower than p's tails, alpha > 1 a wider one: rescale the
        # start that is closest in spirit until the divergence is finite.
        name, (mu0, sd0) = starts[-1] if a < 0.5 else starts[0]
        factor = 0.8 if a < 0.5 else 1.25
        for k in range(1, 31):
            theta0 = np.array([mu0, math.log(sd0) + k * math.log(factor)])
            if math.isfinite(fun(theta0)[0]):
                valid.append((f"{name}, std scaled by {factor ** k:.3g}", theta0))
                break
    if not valid:
        if init_pair is not None:
            raise ValueError(
                f"the alpha-divergence of order {a:g} is infinite at init (mean {init_pair[0]:g}, "
                f"std {init_pair[1]:g}); start with a {'wider' if a > 1 else 'narrower'} q"
            )
        raise ValueError(f"no default start gives a finite alpha-divergence of order {a:g}; pass init=(mean, std)")

    runs = []
    for name, theta0 in valid:
        path = [theta0.copy()]

        def callback(xk: np.ndarray, path=path) -> None:
            path.append(np.array(xk, dtype=float))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = optimize.minimize(
                fun, theta0, jac=True, method="BFGS", callback=callback, options={"gtol": 1e-9, "maxiter": 500}
            )
        theta = np.asarray(res.x, dtype=float)
        if not np.array_equal(path[-1], theta):
            path.append(theta.copy())
        runs.append((fun(theta)[0], name, theta, path, res))
    best = runs[0]
    for run in runs[1:]:  # a later start wins only if clearly lower (ties keep the forward start)
        if run[0] < best[0] - 1e-10 * max(abs(best[0]), 1e-300):
            best = run
    value, name, theta, path, res = best
    value, grad = fun(theta)
    converged = bool(np.max(np.abs(grad)) <= 1e-7)
    hess = _central_hessian(fun, theta)
    path_arr = np.array(path)
    msg = str(res.message)
    if init_pair is None:
        msg = f"{msg} (best of {len(runs)} start(s); winner: {name})"
    return FitResult(
        mean=float(theta[0]),
        std=float(math.exp(theta[1])),
        kl=float(value),
        path=path_arr,
        direction="alpha",
        kl_path=np.array([fun(t)[0] for t in path_arr]),
        n_iter=int(res.nit),
        converged=converged,
        grad=np.asarray(grad, dtype=float),
        hessian=hess,
        alpha=a,
        message=msg,
    )
