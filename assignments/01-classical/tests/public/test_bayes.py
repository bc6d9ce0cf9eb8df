"""Public tests for bayes.py: Gaussian log-density, ML estimates, the Bayes classifier."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(2)
def test_log_gaussian_pdf(submission, rng, oracle):
    """log_gaussian_pdf matches scipy.stats.multivariate_normal.logpdf, shape (N,)."""
    X = rng.standard_normal((8, 3))
    mean = rng.standard_normal(3)
    cov = oracle.spd(rng, 3)
    logp = submission.bayes.log_gaussian_pdf(X, mean, cov)
    assert_close(logp, oracle.log_gaussian_pdf(X, mean, cov), name="log_gaussian_pdf")


@pytest.mark.points(1)
def test_fit_gaussian(submission, rng, oracle):
    """fit_gaussian returns the maximum-likelihood mean and covariance, full and diagonal.

    Expected: scikit-learn's EmpiricalCovariance (the ML estimate, normalised by N).
    """
    X = rng.standard_normal((30, 4)) @ rng.standard_normal((4, 4)) + rng.standard_normal(4)
    exp_mean, exp_cov = oracle.sklearn_gaussian(X)
    for diagonal in (False, True):
        mean, cov = submission.bayes.fit_gaussian(X, diagonal)
        expected = np.diag(np.diag(exp_cov)) if diagonal else exp_cov  # zero off the diagonal
        assert_close(mean, exp_mean, name=f"fit_gaussian(X, diagonal={diagonal}) mean")
        assert_close(cov, expected, name=f"fit_gaussian(X, diagonal={diagonal}) cov")


@pytest.mark.points(2)
def test_gaussian_bayes_classifier(submission, rng, oracle, check):
    """GaussianBayesClassifier: priors_, means_, covs_, log-posteriors and predictions match scikit-learn.

    Expected: priors and means from GaussianNB, covariances from EmpiricalCovariance,
    posteriors from a GaussianMixture whose components are the classes (its
    responsibilities p(component | x) are the class posteriors p(c | x)).
    """
    X, y = oracle.blobs(rng, 120, [[0, 0], [3, 0], [0, 3]], std=1.0)
    X_test = rng.uniform(-2, 5, size=(40, 2))
    clf = submission.bayes.GaussianBayesClassifier()
    clf.fit(X, y)
    classes, priors, means, covs = oracle.sklearn_class_gaussians(X, y)
    assert_close(clf.classes_, classes, name="classes_")
    assert_close(clf.priors_, priors, name="priors_")
    assert_close(clf.means_, means, name="means_")
    assert_close(clf.covs_, covs, name="covs_")
    gm = oracle.sklearn_gmm(priors, means, covs)
    posteriors = gm.predict_proba(X_test)
    assert np.all(posteriors > 1e-300), "oracle: a posterior underflowed (test points too far)"
    assert_close(
        clf.predict_log_proba(X_test), np.log(posteriors), name="predict_log_proba(X_test)"
    )
    check.labels(clf.predict(X_test), classes[gm.predict(X_test)], "predict(X_test)")
