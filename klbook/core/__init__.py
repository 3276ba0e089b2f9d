"""klbook's library core: everything that computes a divergence, estimates it or fits by it.

Vector KL and the public dispatchers (:mod:`~klbook.core.divergences`), the closed-form registry
(:mod:`~klbook.core.closed_forms`), the numerical fallback for a pair of distributions
(:mod:`~klbook.core.numeric`), the alpha/Jensen-Shannon/Renyi family (:mod:`~klbook.core.alpha`),
Monte Carlo estimators (:mod:`~klbook.core.estimators`), mixtures (:mod:`~klbook.core.mixtures`) and
fitting (:mod:`~klbook.core.fitting`).

Rule: the core never imports from :mod:`klbook.book`.
"""
