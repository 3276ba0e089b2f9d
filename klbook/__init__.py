"""klbook: the Kullback-Leibler divergence, computed carefully.

The library behind the klbook interactive textbook. Everything is in nats
unless ``base`` is given (``base=2`` gives bits).

Two layers: :mod:`klbook.core` (the library: divergences, the closed-form registry, the numerical
fallback, estimators, mixtures, fitting) and :mod:`klbook.book` (the book's companions, built on the
core). ``import klbook`` loads numpy and scipy only: no matplotlib, no ipywidgets.
"""

__version__ = "0.1.0"

# --- the library core, by task ------------------------------------------------------------
# KL, entropy and cross-entropy of probability vectors and of distributions
from .core.base import Distribution
from .core.divergences import cross_entropy, entropy, kl_divergence
from .core.closed_forms import kl_registry_markdown, kl_registry_table, register_kl
from .core.numeric import kl_numeric
from .core.engine import f_divergence
# related divergences
from .core.alpha import (
    ChernoffResult,
    alpha_divergence,
    bhattacharyya_coefficient,
    chernoff_information,
    hellinger_distance,
    js_divergence,
    renyi_divergence,
)
# estimating KL by Monte Carlo
from .core.estimators import EstimatorMoments, MCResult, estimator_moments, mc_kl, mc_kl_replicates
# mixtures
from .core.mixtures import GaussianMixture, MixtureKL, mixture_kl
# KL from samples alone
from .core.samples import SampleKL, kl_from_samples
# fitting q by KL
from .core.fitting import (
    FactorisedFitResult,
    FitResult,
    fit_factorised_gaussian,
    fit_gaussian,
    gaussian_kl,
    gaussian_kl_gradient,
    gaussian_neg_elbo,
    kl_integrand,
)

# --- the book's companions ------------------------------------------------------------------
from .book.forms import KLForms, code_lengths, kl_exact, kl_forms, kl_terms
from .book.integrand import IntegrandCurves, SignedAreas, integrand_curves, kl_part, log_ratio, signed_areas
from .book.properties import (
    check_gaussian_properties,
    check_properties,
    kl_asymmetry,
    pinsker_bound,
    total_variation,
    triangle_gap,
)
from .book.ml import (
    LinearGaussianVAE,
    MarkovLM,
    beta_vae_optimum,
    dpo_loss,
    fit_student,
    generalized_jsd,
    kl_regularised_optimum,
    sequence_kl,
)
from .book import explorers  # noqa: F401  the live HTML explorers (klbook.book.widgets: import it yourself)

__all__ = [
    # KL, entropy, cross-entropy
    "kl_divergence", "entropy", "cross_entropy", "Distribution",
    "register_kl", "kl_registry_table", "kl_registry_markdown", "kl_numeric",
    # related divergences
    "alpha_divergence", "bhattacharyya_coefficient", "hellinger_distance", "js_divergence",
    "renyi_divergence", "chernoff_information", "ChernoffResult", "f_divergence",
    # estimating
    "mc_kl", "mc_kl_replicates", "estimator_moments", "MCResult", "EstimatorMoments",
    # mixtures
    "GaussianMixture", "MixtureKL", "mixture_kl",
    # KL from samples
    "kl_from_samples", "SampleKL",
    # fitting
    "fit_gaussian", "fit_factorised_gaussian", "FitResult", "FactorisedFitResult",
    "gaussian_kl", "gaussian_kl_gradient", "gaussian_neg_elbo", "kl_integrand",
    # the book's helpers
    "kl_forms", "kl_terms", "code_lengths", "kl_exact", "KLForms",
    "integrand_curves", "kl_part", "log_ratio", "signed_areas", "IntegrandCurves", "SignedAreas",
    "total_variation", "pinsker_bound", "kl_asymmetry", "triangle_gap", "check_properties",
    "check_gaussian_properties",
    "kl_regularised_optimum", "dpo_loss", "fit_student", "generalized_jsd", "MarkovLM", "sequence_kl",
    "LinearGaussianVAE", "beta_vae_optimum",
]
