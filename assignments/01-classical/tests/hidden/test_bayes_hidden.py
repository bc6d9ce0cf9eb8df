"""Hidden tests for bayes.py: stability far from the data, ML normalisation, naive Bayes."""

import numpy as np
import pytest
from scipy.special import logsumexp

from autograder.testing import assert_close


@pytest.mark.points(1)
def test_logsumexp_large_values(submission, rng, check):
    """logsumexp is exact for values around +-1000, over an axis and over all entries."""
    a = rng.standard_normal((4, 5)) * 3 + 1000
    b = rng.standard_normal((4, 5)) * 3 - 1000
    for x in (a, b):
        assert_close(
            submission.bayes.logsumexp(x, axis=1), logsumexp(x, axis=1), name="logsumexp(a, axis=1)"
        )
        assert_close(
            submission.bayes.logsumexp(x, axis=0), logsumexp(x, axis=0), name="logsumexp(a, axis=0)"
        )
        total = check.scalar(submission.bayes.logsumexp(x), "logsumexp(a)")
        assert_close(total, float(logsumexp(x)), name="logsumexp(a)")


@pytest.mark.points(1)
def test_log_gaussian_pdf_far_points(submission, rng, oracle):
    """log_gaussian_pdf stays finite and exact 100 standard deviations away."""
    mean = rng.standard_normal(4)
    cov = oracle.spd(rng, 4)
    X = mean + 100 * rng.standard_normal((6, 4))
    assert_close(
        submission.bayes.log_gaussian_pdf(X, mean, cov),
        oracle.log_gaussian_pdf(X, mean, cov),
        name="log_gaussian_pdf",
    )


@pytest.mark.points(2)
def test_fit_gaussian_divides_by_n(submission, rng, hidden_oracle):
    """fit_gaussian on 4 examples is the ML estimate (divides by N, not N - 1)."""
    X = rng.standard_normal((4, 3)) * [1.0, 2.0, 0.5]
    for diagonal in (False, True):
        mean, cov = submission.bayes.fit_gaussian(X, diagonal)
        exp_mean, exp_cov = hidden_oracle.ml_gaussian(X, diagonal)
        assert_close(mean, exp_mean, name=f"fit_gaussian(X, diagonal={diagonal}) mean")
        assert_close(cov, exp_cov, name=f"fit_gaussian(X, diagonal={diagonal}) cov")


@pytest.mark.points(1)
def test_naive_bayes_matches_sklearn(submission, rng, oracle, check):
    """With diagonal=True the classifier matches scikit-learn's GaussianNB (no variance smoothing)."""
    from sklearn.naive_bayes import GaussianNB

    X, y = oracle.blobs(rng, 150, [[0, 0, 0], [2, 1, 0], [0, 2, 2], [1, 1, 1]], std=0.9)
    X = X * [1.0, 3.0, 0.5]
    X_test = rng.standard_normal((50, 3)) * 2 + 1
    clf = submission.bayes.GaussianBayesClassifier(diagonal=True)
    clf.fit(X, y)
    nb = GaussianNB(var_smoothing=0.0).fit(X, y)
    assert_close(clf.priors_, nb.class_prior_, name="priors_")
    assert_close(
        clf.predict_log_proba(X_test), nb.predict_log_proba(X_test), name="predict_log_proba"
    )
    check.labels(clf.predict(X_test), nb.predict(X_test), "predict")


@pytest.mark.points(2)
def test_bayes_far_away_points(submission, rng, oracle, hidden_oracle):
    """Log-posteriors of points far from every class are finite, normalised and exact."""
    X, y = oracle.blobs(rng, 90, [[0, 0], [2, 0], [1, 2]], std=0.5)
    X_test = np.array([[60.0, 0.0], [-40.0, 50.0], [1.0, -80.0], [200.0, 200.0]])
    clf = submission.bayes.GaussianBayesClassifier()
    clf.fit(X, y)
    _, priors, means, covs = hidden_oracle.bayes_params(X, y)
    log_post = np.asarray(clf.predict_log_proba(X_test))
    assert np.all(np.isfinite(log_post)), "predict_log_proba is not finite far from the data"
    assert_close(
        logsumexp(log_post, axis=1), np.zeros(4), atol=1e-9, name="log-posteriors normalisation"
    )
    assert_close(
        log_post,
        hidden_oracle.bayes_log_posteriors(X_test, priors, means, covs),
        rtol=1e-6,
        atol=1e-6,
        name="predict_log_proba",
    )


@pytest.mark.points(1)
def test_bayes_labels_and_regularisation(submission, rng, oracle, hidden_oracle, check):
    """Arbitrary labels (2, 5, 9) are kept in classes_ and predict; reg is added to every covariance."""
    X, y01 = oracle.blobs(rng, 60, [[0, 0], [2, 2], [0, 3]], std=0.7)
    labels = np.array([2, 5, 9])
    y = labels[y01]
    clf = submission.bayes.GaussianBayesClassifier(reg=0.5)
    clf.fit(X, y)
    classes, priors, means, covs = hidden_oracle.bayes_params(X, y, reg=0.5)
    assert_close(clf.classes_, classes, name="classes_")
    assert_close(clf.covs_, covs, name="covs_")
    X_test = rng.uniform(-1, 3, size=(30, 2))
    expected = classes[
        np.argmax(hidden_oracle.bayes_log_posteriors(X_test, priors, means, covs), axis=1)
    ]
    check.labels(clf.predict(X_test), expected, "predict")
