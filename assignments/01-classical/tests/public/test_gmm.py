"""Public tests for gmm.py: mixture density, E-step, M-step, EM."""

import numpy as np
import pytest

from autograder.testing import assert_close


def _mixture(rng, oracle, K, D):
    weights = rng.dirichlet(np.full(K, 3.0))
    means = 2 * rng.standard_normal((K, D))
    covs = np.array([oracle.spd(rng, D) for _ in range(K)])
    return weights, means, covs


@pytest.mark.points(1)
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
    """m_step returns the weighted ML weights, means and covariances plus reg * I.

    Expected: one EM iteration of scikit-learn's GaussianMixture (reg_covar=0.1),
    whose M-step runs on the responsibilities given to m_step here.
    """
    weights, means, covs = _mixture(rng, oracle, 4, 3)
    means = 0.5 * means  # overlapping components: soft responsibilities
    X = rng.standard_normal((30, 3)) * [1.0, 2.0, 0.5]
    resp, exp_w, exp_m, exp_c = oracle.sklearn_em_step(X, weights, means, covs, 0.1)
    got_w, got_m, got_c = submission.gmm.m_step(X, resp, 0.1)
    assert_close(got_w, exp_w, name="m_step weights")
    assert_close(got_m, exp_m, name="m_step means")
    assert_close(got_c, exp_c, name="m_step covs")


@pytest.mark.points(2)
def test_fit_gmm_log_likelihood_never_decreases(submission, rng, oracle):
    """fit_gmm starts from the documented initialisation; its n_iter log-likelihoods never decrease."""
    X, _ = oracle.blobs(rng, 150, [[0, 0], [3, 1], [1, 4]], std=0.8)
    weights, means, covs, lls = submission.gmm.fit_gmm(X, 3, 30, 1e-6, 0)
    lls = np.asarray(lls, dtype=np.float64)
    assert lls.shape == (30,), f"expected 30 log-likelihoods, got shape {lls.shape}"
    assert np.all(np.isfinite(lls)), "a log-likelihood is not finite"
    # The first one is recorded before any M-step, at fit_gmm's documented initial
    # parameters: K distinct examples drawn by rng.choice as means, equal weights,
    # the ML covariance of all of X plus reg * I for every component.
    start = X[np.random.default_rng(0).choice(len(X), size=3, replace=False)]
    cov = oracle.sklearn_gaussian(X)[1] + 1e-6 * np.eye(2)
    ll0 = np.sum(oracle.gmm_log_density(X, np.full(3, 1 / 3), start, np.stack([cov] * 3)))
    assert_close(lls[0], float(ll0), name="the first log-likelihood (initial parameters)")
    drops = np.diff(lls) < -1e-8 * np.abs(lls[1:])
    assert not np.any(drops), (
        f"the log-likelihood decreased at iteration {int(np.argmax(drops)) + 1}"
    )
    assert lls[-1] > lls[0], "EM did not improve the log-likelihood"
    assert_close(np.sum(weights), 1.0, name="sum of the returned weights")
    # The returned parameters come from one more M-step: EM does not make them worse.
    final = float(np.sum(oracle.gmm_log_density(X, weights, means, covs)))
    assert final >= lls[-1] - 1e-8 * abs(lls[-1]), (
        "the returned parameters have a lower log-likelihood than the last one recorded"
    )
