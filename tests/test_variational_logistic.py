"""The non-conjugate VI example: Bayesian logistic regression with two weights.

References: scipy's adaptive 2-D quadrature (dblquad) for the evidence and the posterior
moments, computed here independently of the grid used by klbook; the closed-form
Gaussian entropy; the identity log p(x) - ELBO = KL(q || posterior) by a separate integral.
"""

import math

import numpy as np
import pytest
from scipy import integrate

from klbook.book.variational import LogisticRegressionModel

X = [0.34, 0.95, 3.21, 2.33, 0.38, 1.73, 1.92, 0.64, 2.94, 0.45, 1.56, 2.07, 1.72, 2.35, 2.95, 3.83]
Y = [0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 1]


@pytest.fixture(scope="module")
def model():
    return LogisticRegressionModel(X, Y, prior_sd=2.0)


def _joint(w0, w1):
    # prior N(0, 2^2 I) times the likelihood; P(y = 1) = 1 / (1 + e^-t) and P(y = 0) = 1 / (1 + e^t),
    # each to full relative precision. Scalar Python: dblquad calls this ~180 000 times.
    lik = 1.0
    for x, y in zip(X, Y):
        t = w0 + w1 * x
        lik *= 1.0 / (1.0 + math.exp(-t if y == 1 else t))
    return lik * math.exp(-(w0 * w0 + w1 * w1) / 8.0) / (8.0 * math.pi)


@pytest.fixture(scope="module")
def reference():
    opts = dict(epsabs=0.0, epsrel=1e-10)
    box = (-12.0, 9.0, -5.0, 7.0)
    z = integrate.dblquad(lambda b, a: _joint(a, b), box[0], box[1], box[2], box[3], **opts)[0]
    m0 = integrate.dblquad(lambda b, a: a * _joint(a, b), *box, **opts)[0] / z
    m1 = integrate.dblquad(lambda b, a: b * _joint(a, b), *box, **opts)[0] / z
    return math.log(z), np.array([m0, m1])


def test_evidence_and_mean_against_adaptive_quadrature(model, reference):
    log_z, mean = reference
    assert abs(model.log_evidence() - log_z) < 1e-8
    np.testing.assert_allclose(model.posterior_moments()[0], mean, atol=1e-8)


def test_grid_converged(model):
    finer = LogisticRegressionModel(X, Y, prior_sd=2.0, grid_points=641, grid_halfwidth=18.0, gh_points=64)
    assert abs(finer.log_evidence() - model.log_evidence()) < 1e-11
    assert abs(finer.fit_vi().gap - model.fit_vi().gap) < 1e-9


@pytest.mark.parametrize("family", ["mean-field", "full-rank"])
def test_gap_is_the_kl_and_positive(model, family):
    fit = model.fit_vi(family)
    assert fit.gap > 0
    assert abs(fit.gap - model.kl_from_gaussian(fit.mean, fit.cov)) < 1e-10
    assert abs(model.elbo(fit.mean, fit.cov) - fit.elbo) < 1e-12
    # a stationary point: nudging any parameter lowers the ELBO
    for dm in ([1e-3, 0], [0, 1e-3], [-1e-3, 0]):
        assert model.elbo(fit.mean + np.array(dm), fit.cov) < fit.elbo
    if family == "mean-field":
        assert fit.cov[0, 1] == 0.0


def test_mean_field_under_disperses(model):
    _, cov = model.posterior_moments()
    post_sd = np.sqrt(np.diag(cov))
    rho = cov[0, 1] / math.sqrt(cov[0, 0] * cov[1, 1])
    mf, full = model.fit_vi("mean-field"), model.fit_vi("full-rank")
    assert np.all(mf.std < 0.6 * post_sd)
    assert np.all(full.std > 0.98 * post_sd)
    assert 0 < full.gap < mf.gap / 50
    assert rho < -0.8


def test_bad_input():
    with pytest.raises(ValueError):
        LogisticRegressionModel([1.0], [1])
    with pytest.raises(ValueError):
        LogisticRegressionModel([1.0, 2.0], [1, 2])
    with pytest.raises(ValueError):
        LogisticRegressionModel(X, Y).fit_vi("laplace")
    with pytest.raises(ValueError):
        LogisticRegressionModel(X, Y).log_joint([1.0, 2.0, 3.0])
