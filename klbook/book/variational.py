r"""Variational inference on a model whose posterior is known, and the VAE's KL term.

:class:`NormalNormalModel` is the smallest model on which every claim of
variational inference can be checked exactly: a normal prior on an unknown
mean and normal observations,

.. math::

   & z \sim \mathcal{N}(m_0, s_0^2), \\
   & x_i \mid z \sim \mathcal{N}(z, \sigma^2), \quad i = 1, \dots, N .

Its posterior :math:`p(z \mid x)` is normal and its evidence :math:`p(x)` has a
closed form, so the identity

.. math::

   \log p(x) &= \mathrm{ELBO}(q) \\
   &\quad {} + D_{\mathrm{KL}}\big(q(z)\,\|\,p(z \mid x)\big)

can be verified for any :math:`q = \mathcal{N}(m, s^2)`, and the gap can be
watched closing while the ELBO is maximised (:meth:`NormalNormalModel.maximise_elbo`).

:class:`LogisticRegressionModel` is the smallest *non-conjugate* case: a
Bayesian logistic regression with two weights, whose posterior is not
Gaussian. Its evidence and posterior moments are computed by quadrature on a
grid, and :meth:`LogisticRegressionModel.fit_vi` finds the best Gaussian
(mean-field or full-covariance) by maximising the ELBO, so that the gap
:math:`\log p(x) - \mathrm{ELBO} = D_{\mathrm{KL}}(q\,\|\,p(z \mid x)) > 0` left by
the best member of the family, and the under-dispersion of the mean-field fit,
can be measured.

:func:`vae_kl` is the KL term of a variational auto-encoder,
:math:`D_{\mathrm{KL}}(\mathcal{N}(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal{N}(0, I))`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from scipy.special import log_expit, logsumexp
from scipy.stats import norm

from ..core.estimators import MCResult, check_sample_size, k3_from_log_ratio, rng_from_seed
from .learning import DescentPath, gradient_descent

__all__ = ["NormalNormalModel", "VIPath", "LogisticRegressionModel", "GaussianVIFit", "vae_kl", "vae_kl_gradient"]

_LOG_2PI = math.log(2.0 * math.pi)


def _positive(x: object, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)) or float(x) <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}")
    return float(x)


def _finite(x: object, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(float(x)):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return float(x)


@dataclass(frozen=True)
class VIPath:
    """The iterates of :meth:`NormalNormalModel.maximise_elbo`.

    Attributes
    ----------
    means, stds : numpy.ndarray, shape (n_steps + 1,)
        The variational parameters :math:`m_t, s_t` of :math:`q_t = \\mathcal{N}(m_t, s_t^2)`.
    elbos : numpy.ndarray, shape (n_steps + 1,)
        :math:`\\mathrm{ELBO}(q_t)` in nats.
    path : DescentPath
        The raw descent on :math:`(m, \\log s)` of the negative ELBO.
    """

    means: np.ndarray
    stds: np.ndarray
    elbos: np.ndarray
    path: DescentPath


@dataclass(frozen=True, init=False)
class NormalNormalModel:
    r"""Normal prior on a mean, normal observations: a conjugate model for checking VI.

    .. math::

       & z \sim \mathcal{N}(m_0, s_0^2), \\
       & x_i \mid z \sim \mathcal{N}(z, \sigma^2)
       \ \text{independently}, \\
       & i = 1, \dots, N .

    Parameters
    ----------
    data : array_like of float
        The observations :math:`x_1, \dots, x_N` (at least one, finite).
    prior_mean : float
        :math:`m_0`.
    prior_sd : float
        :math:`s_0 > 0`.
    noise_sd : float
        :math:`\sigma > 0`.

    Notes
    -----
    With :math:`\bar x` the sample mean and :math:`S = \sum_i (x_i - \bar x)^2`:

    * posterior: :math:`p(z \mid x) = \mathcal{N}(m_N, s_N^2)` with precision
      :math:`s_N^{-2} = s_0^{-2} + N \sigma^{-2}` and mean
      :math:`m_N = s_N^2 (m_0 s_0^{-2} + N \bar x \sigma^{-2})`;
    * evidence:

      .. math::

         & \log p(x) = -\frac{N-1}{2}\log(2\pi\sigma^2) \\
         & \quad {} - \frac12\log N - \frac{S}{2\sigma^2} \\
         & \quad {} + \log \mathcal{N}(\bar x;\, m_0,\, s_0^2 + \sigma^2/N) ;

    * ELBO of :math:`q = \mathcal{N}(m, s^2)`:

      .. math::

         & \mathrm{ELBO}(m, s) = -\frac N2 \log(2\pi\sigma^2) \\
         & \quad {} - \frac{S + N(\bar x - m)^2 + N s^2}{2\sigma^2} \\
         & \quad {} - \frac12 \log(2\pi s_0^2) \\
         & \quad {} - \frac{(m - m_0)^2 + s^2}{2 s_0^2} \\
         & \quad {} + \frac12 \log(2\pi e s^2) .
    """

    data: np.ndarray
    prior_mean: float
    prior_sd: float
    noise_sd: float

    def __init__(
        self, data: ArrayLike, prior_mean: float = 0.0, prior_sd: float = 1.0, noise_sd: float = 1.0
    ) -> None:
        try:
            x = np.array(data, dtype=float).ravel()
        except (TypeError, ValueError) as exc:
            raise TypeError("data must be real numbers") from exc
        if x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError("data must be a non-empty array of finite numbers")
        x.setflags(write=False)
        object.__setattr__(self, "data", x)
        object.__setattr__(self, "prior_mean", _finite(prior_mean, "prior_mean"))
        object.__setattr__(self, "prior_sd", _positive(prior_sd, "prior_sd"))
        object.__setattr__(self, "noise_sd", _positive(noise_sd, "noise_sd"))

    # ------------------------------------------------------------ exact answers
    @property
    def n(self) -> int:
        """:math:`N`, the number of observations."""
        return int(self.data.size)

    def _xbar_S(self) -> tuple[float, float]:
        xbar = math.fsum(self.data) / self.n
        return xbar, math.fsum((self.data - xbar) ** 2)

    def posterior(self):
        r"""The exact posterior :math:`p(z \mid x) = \mathcal{N}(m_N, s_N^2)`, a frozen ``scipy.stats.norm``."""
        xbar, _ = self._xbar_S()
        prec = 1.0 / self.prior_sd**2 + self.n / self.noise_sd**2
        mean = (self.prior_mean / self.prior_sd**2 + self.n * xbar / self.noise_sd**2) / prec
        return norm(mean, math.sqrt(1.0 / prec))

    def log_evidence(self) -> float:
        r""":math:`\log p(x) = \log \int p(x \mid z)\, p(z)\, dz` in nats (closed form, see the class notes)."""
        xbar, S = self._xbar_S()
        n, s2 = self.n, self.noise_sd**2
        marginal_sd = math.sqrt(self.prior_sd**2 + s2 / n)
        return float(
            -0.5 * (n - 1) * (_LOG_2PI + math.log(s2))
            - 0.5 * math.log(n)
            - S / (2.0 * s2)
            + norm.logpdf(xbar, self.prior_mean, marginal_sd)
        )

    def log_joint(self, z: ArrayLike) -> np.ndarray | float:
        r""":math:`\log p(x, z)`, the sum :math:`\log p(z) + \sum_i \log p(x_i \mid z)`, vectorised over ``z``."""
        zz = np.asarray(z, dtype=float)
        xbar, S = self._xbar_S()
        n, s2 = self.n, self.noise_sd**2
        out = (
            -0.5 * n * (_LOG_2PI + math.log(s2))
            - (S + n * (xbar - zz) ** 2) / (2.0 * s2)
            + norm.logpdf(zz, self.prior_mean, self.prior_sd)
        )
        return float(out) if np.ndim(out) == 0 else out

    # ------------------------------------------------------------ the ELBO
    def elbo(self, mean: ArrayLike, std: ArrayLike) -> np.ndarray | float:
        r"""The ELBO of :math:`q = \mathcal{N}(m, s^2)`, :math:`\mathbb E_q[\log p(x, z)] + H(q)`, in nats.

        Closed form (class notes); ``mean`` and ``std`` broadcast, ``std > 0``.
        """
        m, s = np.broadcast_arrays(np.asarray(mean, dtype=float), np.asarray(std, dtype=float))
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(s)) and np.all(s > 0)):
            raise ValueError("mean must be finite and std finite and > 0")
        xbar, S = self._xbar_S()
        n, s2, p2 = self.n, self.noise_sd**2, self.prior_sd**2
        out = (
            -0.5 * n * (_LOG_2PI + math.log(s2))
            - (S + n * (xbar - m) ** 2 + n * s**2) / (2.0 * s2)
            - 0.5 * (_LOG_2PI + math.log(p2))
            - ((m - self.prior_mean) ** 2 + s**2) / (2.0 * p2)
            + 0.5 * (_LOG_2PI + 1.0)
            + np.log(s)
        )
        return float(out) if out.ndim == 0 else out

    def elbo_gradient(self, mean: float, log_std: float) -> tuple[float, np.ndarray]:
        r"""The ELBO and its gradient with respect to :math:`(m, \rho = \log s)`.

        .. math::

           \frac{\partial\,\mathrm{ELBO}}{\partial m} &= \frac{N(\bar x - m)}{\sigma^2} \\
           &\quad {} - \frac{m - m_0}{s_0^2}, \\
           \frac{\partial\,\mathrm{ELBO}}{\partial \rho} &= 1 - s^2\Big(\frac{N}{\sigma^2} + \frac{1}{s_0^2}\Big).

        Since :math:`\log p(x)` does not depend on q, this is also minus the
        gradient of :math:`D_{\mathrm{KL}}(q\,\|\,p(z \mid x))`.

        Returns
        -------
        value : float
        grad : numpy.ndarray, shape (2,)
        """
        m, rho = _finite(mean, "mean"), _finite(log_std, "log_std")
        s = math.exp(rho)
        xbar, _ = self._xbar_S()
        prec = self.n / self.noise_sd**2 + 1.0 / self.prior_sd**2
        g = np.array(
            [
                self.n * (xbar - m) / self.noise_sd**2 - (m - self.prior_mean) / self.prior_sd**2,
                -math.expm1(2.0 * rho + math.log(prec)),
            ]
        )
        return float(self.elbo(m, s)), g

    def elbo_mc(self, mean: float, std: float, n: int, *, seed: int | np.random.Generator | None = None) -> MCResult:
        r"""Monte Carlo ELBO: the average of :math:`\log p(x, z) - \log q(z)` over ``n`` draws :math:`z \sim q`.

        Needs only the joint density, never the posterior or the evidence:
        this is how the ELBO is estimated when no closed form exists.
        """
        m, s = _finite(mean, "mean"), _positive(std, "std")
        n = check_sample_size(n)
        z = rng_from_seed(seed).normal(m, s, size=n)
        samples = np.asarray(self.log_joint(z) - norm.logpdf(z, m, s), dtype=float)
        return MCResult(samples, float(np.mean(samples)), float(np.std(samples, ddof=1) / math.sqrt(n)))

    def maximise_elbo(self, mean0: float, std0: float, *, step: float, n_steps: int) -> VIPath:
        r"""Gradient ascent on the ELBO over :math:`(m, \log s)`, from :math:`q_0 = \mathcal{N}(m_0', s_0'^2)`.

        Each step is :math:`\theta_{t+1} = \theta_t + \eta \nabla_\theta \mathrm{ELBO}`
        with :meth:`elbo_gradient`; the ELBO rises and the gap
        :math:`\log p(x) - \mathrm{ELBO}(q_t)`, which is :math:`D_{\mathrm{KL}}(q_t\,\|\,p(z \mid x))`,
        falls. With :math:`\eta < 1/(N\sigma^{-2} + s_0^{-2})` the iterates
        converge to the exact posterior.
        """
        theta0 = np.array([_finite(mean0, "mean0"), math.log(_positive(std0, "std0"))])

        def negative(theta: np.ndarray) -> tuple[float, np.ndarray]:
            v, g = self.elbo_gradient(float(theta[0]), float(theta[1]))
            return -v, -g

        path = gradient_descent(negative, theta0, step=step, n_steps=n_steps)
        return VIPath(path.thetas[:, 0].copy(), np.exp(path.thetas[:, 1]), -path.values, path)


def _vae_args(mean: ArrayLike, log_std: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    mu, rho = np.broadcast_arrays(np.asarray(mean, dtype=float), np.asarray(log_std, dtype=float))
    if mu.ndim == 0:
        raise ValueError("mean and std must be vectors (the last axis is the latent dimension)")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(rho))):
        raise ValueError("mean must be finite and std finite and > 0")
    return mu, rho


def vae_kl(mean: ArrayLike, std: ArrayLike) -> np.ndarray | float:
    r"""The VAE's KL term :math:`D_{\mathrm{KL}}(\mathcal{N}(\mu, \operatorname{diag}\sigma^2)\,\|\,\mathcal{N}(0, I))` in nats.

    .. math::

       D_{\mathrm{KL}} = \frac12 \sum_{j=1}^d \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big),

    summed over the last axis (the latent dimension); leading axes are a
    batch. The term :math:`\sigma^2 - 1 - \log\sigma^2` is evaluated as
    :math:`e^{u} - 1 - u` with :math:`u = 2\log\sigma` without cancellation
    (it is the per-sample estimator :math:`k_3` of :mod:`klbook.core.estimators`).

    Parameters
    ----------
    mean : array_like, shape (..., d)
        :math:`\mu`, finite.
    std : array_like, shape (..., d)
        :math:`\sigma`, finite and ``> 0``.

    Returns
    -------
    float or numpy.ndarray of shape (...)
    """
    s = np.asarray(std, dtype=float)
    if not (np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ValueError("std must be finite and > 0")
    mu, rho = _vae_args(mean, np.log(s))
    out = 0.5 * np.sum(mu * mu + k3_from_log_ratio(2.0 * rho), axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def vae_kl_gradient(mean: ArrayLike, log_std: ArrayLike) -> tuple[np.ndarray | float, np.ndarray, np.ndarray]:
    r"""The VAE's KL term and its gradient with respect to :math:`\mu` and :math:`\rho = \log\sigma`.

    .. math::

       \frac{\partial D_{\mathrm{KL}}}{\partial \mu_j} = \mu_j, \qquad
       \frac{\partial D_{\mathrm{KL}}}{\partial \rho_j} = \sigma_j^2 - 1 .

    Returns
    -------
    value : float or numpy.ndarray
        As :func:`vae_kl`.
    grad_mean, grad_log_std : numpy.ndarray
        Shaped like the broadcast of the inputs.
    """
    mu, rho = _vae_args(mean, log_std)
    value = 0.5 * np.sum(mu * mu + k3_from_log_ratio(2.0 * rho), axis=-1)
    return (float(value) if np.ndim(value) == 0 else value), mu.copy(), np.expm1(2.0 * rho)



@dataclass(frozen=True)
class GaussianVIFit:
    r"""The best Gaussian :math:`q = \mathcal{N}(m, \Sigma)` found by :meth:`LogisticRegressionModel.fit_vi`.

    Attributes
    ----------
    family : str
        ``"mean-field"`` (diagonal :math:`\Sigma`) or ``"full-rank"``.
    mean : numpy.ndarray, shape (2,)
    cov : numpy.ndarray, shape (2, 2)
    elbo : float
        :math:`\mathrm{ELBO}(q)` in nats at the optimum.
    gap : float
        :math:`\log p(x) - \mathrm{ELBO}(q)`, which equals :math:`D_{\mathrm{KL}}(q\,\|\,p(z \mid x))`, in nats.
    """

    family: str
    mean: np.ndarray
    cov: np.ndarray
    elbo: float
    gap: float

    @property
    def std(self) -> np.ndarray:
        """The marginal standard deviations of q, :math:`\\sqrt{\\Sigma_{ii}}`."""
        return np.sqrt(np.diag(self.cov))


@dataclass(frozen=True, init=False)
class LogisticRegressionModel:
    r"""Bayesian logistic regression with an intercept and a slope: a non-conjugate model for VI.

    .. math::

       & w = (w_0, w_1) \sim \mathcal{N}(0, s_0^2 I_2), \\
       & y_i \mid w \sim \mathrm{Bernoulli}\big(\sigma(w_0 + w_1 x_i)\big), \\
       & i = 1, \dots, N,

    with :math:`\sigma(t) = 1/(1 + e^{-t})`. The posterior :math:`p(w \mid x, y)`
    is not Gaussian, so no Gaussian q reaches it and the ELBO gap stays
    positive. Exact answers come from quadrature on a grid: the log joint is
    concave, so the grid is laid out along the axes of the Laplace
    approximation at the mode (``grid_halfwidth`` of its standard deviations
    on each side, ``grid_points`` nodes per axis, trapezoidal rule, which
    converges geometrically for smooth, fast-decaying integrands). Gaussian
    expectations in the ELBO use a ``gh_points``-node Gauss-Hermite product rule.

    Parameters
    ----------
    x : array_like of float
        The inputs :math:`x_i` (at least two, finite).
    y : array_like of {0, 1}
        The labels, same length.
    prior_sd : float
        :math:`s_0 > 0`.
    grid_points, grid_halfwidth, gh_points : int, float, int
        Quadrature settings (defaults give about 12 correct digits).
    """

    x: np.ndarray
    y: np.ndarray
    prior_sd: float
    grid_points: int
    grid_halfwidth: float
    gh_points: int

    def __init__(
        self,
        x: ArrayLike,
        y: ArrayLike,
        prior_sd: float = 2.0,
        *,
        grid_points: int = 481,
        grid_halfwidth: float = 14.0,
        gh_points: int = 48,
    ) -> None:
        try:
            xx = np.array(x, dtype=float).ravel()
            yy = np.array(y, dtype=float).ravel()
        except (TypeError, ValueError) as exc:
            raise TypeError("x and y must be numbers") from exc
        if xx.size < 2 or xx.shape != yy.shape or not np.all(np.isfinite(xx)):
            raise ValueError("x must hold at least two finite numbers and y as many labels")
        if not np.all((yy == 0) | (yy == 1)):
            raise ValueError("y must contain only 0 and 1")
        for name, v in (("grid_points", grid_points), ("gh_points", gh_points)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or int(v) < 8:
                raise ValueError(f"{name} must be an integer >= 8, got {v!r}")
        xx.setflags(write=False)
        yy.setflags(write=False)
        object.__setattr__(self, "x", xx)
        object.__setattr__(self, "y", yy)
        object.__setattr__(self, "prior_sd", _positive(prior_sd, "prior_sd"))
        object.__setattr__(self, "grid_points", int(grid_points))
        object.__setattr__(self, "grid_halfwidth", _positive(grid_halfwidth, "grid_halfwidth"))
        object.__setattr__(self, "gh_points", int(gh_points))

    @property
    def n(self) -> int:
        """:math:`N`, the number of observations."""
        return int(self.x.size)

    # ------------------------------------------------------------ the joint
    def log_joint(self, w: ArrayLike) -> np.ndarray | float:
        r""":math:`\log p(w) + \sum_i \log p(y_i \mid w)`, vectorised over ``w`` of shape ``(..., 2)``.

        Uses :math:`\log\sigma(t)` and :math:`\log(1 - \sigma(t)) = \log\sigma(-t)`
        without overflow.
        """
        ww = np.asarray(w, dtype=float)
        if ww.shape[-1:] != (2,):
            raise ValueError(f"w must have shape (..., 2), got {ww.shape}")
        t = ww[..., :1] + ww[..., 1:] * self.x          # (..., N)
        sign = 2.0 * self.y - 1.0
        loglik = np.sum(log_expit(sign * t), axis=-1)
        s2 = self.prior_sd**2
        logprior = -np.log(2.0 * math.pi * s2) - 0.5 * np.sum(ww * ww, axis=-1) / s2
        out = loglik + logprior
        return float(out) if np.ndim(out) == 0 else out

    def _grad_log_joint(self, w: np.ndarray) -> np.ndarray:
        """Gradient of :meth:`log_joint` in w, shape ``(..., 2)``."""
        t = w[..., :1] + w[..., 1:] * self.x
        resid = self.y - np.exp(log_expit(t))               # y - sigma(t)
        return np.stack([resid.sum(axis=-1), (resid * self.x).sum(axis=-1)], axis=-1) - w / self.prior_sd**2

    def _hess_log_joint(self, w: np.ndarray) -> np.ndarray:
        t = w[0] + w[1] * self.x
        v = np.exp(log_expit(t) + log_expit(-t))            # sigma (1 - sigma)
        h = -np.array([[v.sum(), (v * self.x).sum()], [(v * self.x).sum(), (v * self.x**2).sum()]])
        return h - np.eye(2) / self.prior_sd**2

    def mode(self) -> np.ndarray:
        """The posterior mode (MAP estimate), by Newton's method on the concave log joint."""
        w = np.zeros(2)
        for _ in range(100):
            step = np.linalg.solve(self._hess_log_joint(w), self._grad_log_joint(w))
            w = w - step
            if np.max(np.abs(step)) < 1e-15 * (1.0 + np.max(np.abs(w))):
                break
        return w

    # ------------------------------------------------------------ exact answers by quadrature
    def _grid(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Grid nodes w (shape (G*G, 2)), log joint there, and log of the area element."""
        return self._grid_once

    @cached_property
    def _grid_once(self) -> tuple[np.ndarray, np.ndarray, float]:
        # the model is frozen, so its grid is computed once (log_evidence, posterior_moments,
        # kl_from_gaussian and every fit_vi use it); read-only so that no caller can change it
        w, lj, log_area = self._grid_compute()
        w.setflags(write=False)
        lj.setflags(write=False)
        return w, lj, log_area

    def _grid_compute(self) -> tuple[np.ndarray, np.ndarray, float]:
        mode = self.mode()
        cov = np.linalg.inv(-self._hess_log_joint(mode))
        chol = np.linalg.cholesky(cov)
        t = np.linspace(-self.grid_halfwidth, self.grid_halfwidth, self.grid_points)
        T1, T2 = np.meshgrid(t, t, indexing="ij")
        tt = np.stack([T1.ravel(), T2.ravel()], axis=-1)
        w = mode + tt @ chol.T
        h = t[1] - t[0]
        log_area = 2.0 * math.log(h) + math.log(abs(np.linalg.det(chol)))
        return w, np.asarray(self.log_joint(w)), log_area

    def log_evidence(self) -> float:
        r""":math:`\log p(y \mid x)`, the log of :math:`\int p(w)\prod_i p(y_i \mid w)\, dw`, in nats, by 2-D quadrature."""
        _, lj, log_area = self._grid()
        return float(logsumexp(lj) + log_area)

    def posterior_moments(self) -> tuple[np.ndarray, np.ndarray]:
        """The posterior mean (shape (2,)) and covariance (shape (2, 2)), by 2-D quadrature."""
        w, lj, _ = self._grid()
        wt = np.exp(lj - logsumexp(lj))
        mean = wt @ w
        d = w - mean
        return mean, (d * wt[:, None]).T @ d

    def kl_from_gaussian(self, mean: ArrayLike, cov: ArrayLike) -> float:
        r""":math:`D_{\mathrm{KL}}(q\,\|\,p(w \mid x, y))` for :math:`q = \mathcal{N}(m, \Sigma)`, by 2-D quadrature.

        Computed on the grid as :math:`\int q \log(q/p)`, independently of the
        ELBO (it checks :math:`\log p(x) - \mathrm{ELBO}(q)`).
        """
        w, lj, log_area = self._grid()
        logpost = lj - (logsumexp(lj) + log_area)
        mean, cov = np.asarray(mean, dtype=float), np.asarray(cov, dtype=float)
        d = w - mean
        prec = np.linalg.inv(cov)
        logq = -math.log(2.0 * math.pi) - 0.5 * math.log(np.linalg.det(cov)) - 0.5 * np.einsum("ij,jk,ik->i", d, prec, d)
        return float(np.sum(np.exp(logq + log_area) * (logq - logpost)))

    # ------------------------------------------------------------ the ELBO
    def _gh(self) -> tuple[np.ndarray, np.ndarray]:
        return self._gh_once

    @cached_property
    def _gh_once(self) -> tuple[np.ndarray, np.ndarray]:
        # the Gauss-Hermite product rule, once per model (every ELBO evaluation of a fit uses it)
        u, wts = np.polynomial.hermite_e.hermegauss(self.gh_points)   # weight exp(-u^2/2)
        wts = wts / math.sqrt(2.0 * math.pi)
        U1, U2 = np.meshgrid(u, u, indexing="ij")
        nodes, weights = np.stack([U1.ravel(), U2.ravel()], axis=-1), np.outer(wts, wts).ravel()
        nodes.setflags(write=False)
        weights.setflags(write=False)
        return nodes, weights

    def elbo(self, mean: ArrayLike, cov: ArrayLike) -> float:
        r"""The ELBO of :math:`q = \mathcal{N}(m, \Sigma)`, :math:`\mathbb E_q[\log p(x, w)] + H(q)`, in nats.

        :math:`\mathbb E_q` by the Gauss-Hermite product rule on :math:`w = m + L u`,
        :math:`LL^\top = \Sigma`; :math:`H(q) = \tfrac12\log\det(2\pi e\Sigma)`.
        """
        mean = np.asarray(mean, dtype=float)
        chol = np.linalg.cholesky(np.asarray(cov, dtype=float))
        return self._elbo_grad(mean, chol)[0]

    def _elbo_grad(self, mean: np.ndarray, chol: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        u, wts = self._gh()
        w = mean + u @ chol.T
        lj = np.asarray(self.log_joint(w))
        g = self._grad_log_joint(w)
        diag = np.diag(chol)
        entropy = float(np.sum(np.log(np.abs(diag))) + math.log(2.0 * math.pi * math.e))
        value = float(wts @ lj) + entropy
        g_mean = wts @ g
        g_chol = np.tril((g * wts[:, None]).T @ u) + np.diag(1.0 / diag)
        return value, g_mean, g_chol

    def fit_vi(self, family: str = "mean-field") -> GaussianVIFit:
        r"""Maximise the ELBO over Gaussians :math:`q = \mathcal{N}(m, \Sigma)`.

        ``family="mean-field"``: :math:`\Sigma = \operatorname{diag}(s_1^2, s_2^2)`,
        that is :math:`q(w) = q_0(w_0)\,q_1(w_1)`; ``"full-rank"``: any
        :math:`\Sigma = LL^\top`. BFGS on :math:`(m, \log L_{ii}, L_{21})`
        with the exact gradient of the quadrature ELBO
        (reparameterisation :math:`w = m + Lu`), from the Laplace
        approximation. Since :math:`\log p(x)` does not depend on q this is
        also the reverse-KL fit to the posterior; the returned ``gap`` is
        :math:`\log p(x) - \mathrm{ELBO}`.
        """
        if family not in ("mean-field", "full-rank"):
            raise ValueError(f"family must be 'mean-field' or 'full-rank', got {family!r}")
        full = family == "full-rank"
        mode = self.mode()
        lap = np.linalg.inv(-self._hess_log_joint(mode))

        def unpack(th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            chol = np.diag(np.exp(th[2:4]))
            if full:
                chol[1, 0] = th[4]
            return th[:2], chol

        def negative(th: np.ndarray) -> tuple[float, np.ndarray]:
            m, chol = unpack(th)
            v, gm, gc = self._elbo_grad(m, chol)
            grad = [gm[0], gm[1], gc[0, 0] * chol[0, 0], gc[1, 1] * chol[1, 1]]
            if full:
                grad.append(gc[1, 0])
            return -v, -np.array(grad)

        if full:
            lc = np.linalg.cholesky(lap)
            th0 = np.array([mode[0], mode[1], math.log(lc[0, 0]), math.log(lc[1, 1]), lc[1, 0]])
        else:
            th0 = np.array([mode[0], mode[1], *(0.5 * np.log(1.0 / np.diag(np.linalg.inv(lap))))])
        res = optimize.minimize(negative, th0, jac=True, method="BFGS", options={"gtol": 1e-11, "maxiter": 500})
        m, chol = unpack(res.x)
        elbo = -float(res.fun)
        return GaussianVIFit(family, m.copy(), chol @ chol.T, elbo, self.log_evidence() - elbo)
