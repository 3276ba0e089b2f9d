"""klbook: the Kullback-Leibler divergence, computed carefully.

The library behind the klbook interactive textbook. Everything is in nats
unless ``base`` is given (``base=2`` gives bits).
"""

__version__ = "0.1.0"

from .base import Distribution  # noqa: E402
from .divergences import cross_entropy, entropy, kl_divergence  # noqa: E402
from .closed_forms import kl_registry_markdown, kl_registry_table, register_kl  # noqa: E402
from .numeric import kl_numeric  # noqa: E402
from .mixtures import GaussianMixture  # noqa: E402
from .fitting import (  # noqa: E402
    FactorisedFitResult,
    FitResult,
    fit_factorised_gaussian,
    fit_gaussian,
    gaussian_kl,
    gaussian_kl_gradient,
    gaussian_neg_elbo,
    kl_integrand,
)
from .estimators import EstimatorMoments, MCResult, estimator_moments, mc_kl, mc_kl_replicates  # noqa: E402
from .alpha import (  # noqa: E402
    alpha_divergence,
    bhattacharyya_coefficient,
    hellinger_distance,
    js_divergence,
    renyi_divergence,
)
from .integrand import IntegrandCurves, SignedAreas, integrand_curves, log_ratio, signed_areas  # noqa: E402
from . import explorers, widgets  # noqa: E402,F401  live explorers (HTML + JS) and ipywidgets explorers

__all__ = [
    "Distribution",
    "kl_divergence",
    "entropy",
    "cross_entropy",
    "register_kl",
    "kl_registry_table",
    "kl_registry_markdown",
    "kl_numeric",
    "GaussianMixture",
    "FactorisedFitResult",
    "FitResult",
    "fit_factorised_gaussian",
    "fit_gaussian",
    "gaussian_kl",
    "gaussian_kl_gradient",
    "gaussian_neg_elbo",
    "kl_integrand",
    "EstimatorMoments",
    "MCResult",
    "estimator_moments",
    "mc_kl",
    "mc_kl_replicates",
    "alpha_divergence",
    "bhattacharyya_coefficient",
    "hellinger_distance",
    "js_divergence",
    "renyi_divergence",
    "IntegrandCurves",
    "SignedAreas",
    "integrand_curves",
    "log_ratio",
    "signed_areas",
]
from .forms import KLForms, code_lengths, kl_exact, kl_forms, kl_terms  # noqa: E402  the written forms of KL (chapter 1)

__all__ += ["KLForms", "kl_forms", "kl_terms", "code_lengths", "kl_exact"]
from .properties import (  # noqa: E402  the properties of KL, as checkable numbers (chapter 3)
    check_gaussian_properties,
    check_properties,
    kl_asymmetry,
    pinsker_bound,
    total_variation,
    triangle_gap,
)

__all__ += ["total_variation", "pinsker_bound", "kl_asymmetry", "triangle_gap", "check_properties", "check_gaussian_properties"]
