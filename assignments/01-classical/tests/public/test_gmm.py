"""Public tests for gmm.py: mixture density, E-step, M-step, EM."""

import numpy as np
import pytest

from autograder.testing import assert_close


def _mixture(rng, oracle, K, D):
    weights = rng.dirichlet(np.full(K, 3.0))
    means = 2 * rng.standard_normal((K, D))
    covs = np.array([oracle.spd(rng, D) for _ in range(K)])
    return weights, means, covs


@pytest.mark.points(2)
def test_gmm_log_density(submission, rng, oracle):
    """gmm_log_density matches scikit-learn's GaussianMixture.score_samples for given parameters."""
    weights, means, covs = _mixture(rng, oracle, 3, 2)
    X = 3 * rng.standard_normal((25, 2))
    logp = submission.gmm.gmm_log_density(X, weights, means, covs)
    assert_close(logp, oracle.gmm_log_density(X, weights, means, covs), name="gmm_log_density")


@pytest.mark.points(2)
def test_e_step(submission, rng, oracle, check):
    """e_step returns scikit-learn's responsibilities (predict_proba) and total log-likelihood."""
    weights, means, covs = _mixture(rng, oracle, 3, 2)
    X = 3 * rng.standard_normal((25, 2))
    resp, ll = submission.gmm.e_step(X, weights, means, covs)
    gm = oracle.sklearn_gmm(weights, means, covs)
    assert_close(resp, gm.predict_proba(X), name="e_step resp")
    assert_close(
        check.scalar(ll, "log_likelihood"),
        float(np.sum(gm.score_samples(X))),
        name="e_step log_likelihood",
    )


@pytest.mark.points(2)
def test_m_step(submission, rng, oracle):
    """m_step returns the weighted ML weights, means and covariances plus reg * I."""
    X = rng.standard_normal((30, 3)) * [1.0, 2.0, 0.5]
    resp = rng.dirichlet(np.ones(4), size=30)
    weights, means, covs = submission.gmm.m_step(X, resp, 0.1)
    exp_w, exp_m, exp_c = oracle.m_step(X, resp, 0.1)
    assert_close(weights, exp_w, name="m_step weights")
    assert_close(means, exp_m, name="m_step means")
    assert_close(covs, exp_c, name="m_step covs")


@pytest.mark.points(2)
def test_fit_gmm_log_likelihood_never_decreases(submission, rng, oracle):
    """fit_gmm returns n_iter log-likelihoods that never decrease."""
    X, _ = oracle.blobs(rng, 150, [[0, 0], [3, 1], [1, 4]], std=0.8)
    weights, means, covs, lls = submission.gmm.fit_gmm(X, 3, 30, 1e-6, 0)
    lls = np.asarray(lls, dtype=np.float64)
    assert lls.shape == (30,), f"expected 30 log-likelihoods, got shape {lls.shape}"
    assert np.all(np.isfinite(lls)), "a log-likelihood is not finite"
    drops = np.diff(lls) < -1e-8 * np.abs(lls[1:])
    assert not np.any(drops), (
        f"the log-likelihood decreased at iteration {int(np.argmax(drops)) + 1}"
    )
    assert lls[-1] > lls[0], "EM did not improve the log-likelihood"
