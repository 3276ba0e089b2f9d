"""The protocol klbook's own distribution objects follow.

klbook accepts frozen ``scipy.stats`` distributions directly. Its own
distributions (for example :class:`klbook.GaussianMixture`) subclass
:class:`Distribution`, so that :func:`klbook.kl_divergence`, the numerical
fallback and the estimators can treat both alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Distribution"]


class Distribution(ABC):
    """A univariate continuous distribution with a scipy-like interface.

    Subclasses implement ``logpdf``, ``cdf``, ``ppf``, ``rvs``, ``mean``,
    ``var`` and ``support``; ``pdf`` and ``std`` follow from them.
    ``discrete`` is ``False`` for every klbook distribution so far.
    """

    discrete: bool = False

    @abstractmethod
    def logpdf(self, x: ArrayLike) -> np.ndarray:
        """Natural log of the density at ``x`` (``-inf`` outside the support)."""

    def pdf(self, x: ArrayLike) -> np.ndarray:
        """Density at ``x``: ``exp(logpdf(x))``."""
        return np.exp(self.logpdf(x))

    @abstractmethod
    def cdf(self, x: ArrayLike) -> np.ndarray:
        """Cumulative distribution function at ``x``."""

    @abstractmethod
    def ppf(self, u: ArrayLike) -> np.ndarray:
        """Quantile function: the inverse of :meth:`cdf`."""

    @abstractmethod
    def rvs(self, size=None, random_state=None) -> np.ndarray:
        """Draw samples, seeded by ``random_state`` (int or ``numpy.random.Generator``)."""

    @abstractmethod
    def mean(self) -> float:
        """The mean."""

    @abstractmethod
    def var(self) -> float:
        """The variance."""

    def std(self) -> float:
        """The standard deviation."""
        return float(np.sqrt(self.var()))

    @abstractmethod
    def support(self) -> tuple[float, float]:
        """The closed interval outside which the density is zero, ``(lo, hi)``."""
