"""Public tests for knn.py: distances, prediction, choice of k by cross-validation."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(1)
def test_pairwise_distances(submission, rng, oracle):
    """pairwise_distances(X, Y) has shape (N, M) and matches scipy's cdist."""
    X = rng.standard_normal((7, 4))
    Y = rng.standard_normal((5, 4))
    dists = submission.knn.pairwise_distances(X, Y)
    assert_close(dists, oracle.distances(X, Y), name="pairwise_distances(X, Y)")


@pytest.mark.points(2)
def test_knn_predict(submission, rng, oracle):
    """knn_predict with k = 5 agrees with scikit-learn's KNeighborsClassifier on 3 classes."""
    from sklearn.neighbors import KNeighborsClassifier

    X, y = oracle.blobs(rng, 80, [[0, 0], [2, 0], [1, 2]], std=1.0)
    X_test = rng.uniform(-2, 4, size=(60, 2))
    pred = submission.knn.knn_predict(X, y, X_test, 5)
    expected = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(X, y).predict(X_test)
    assert_close(pred, expected, name="knn_predict(X_train, y_train, X_test, 5)")


@pytest.mark.points(2)
def test_cross_validate_k(submission, rng, oracle, check):
    """cross_validate_k returns the 5-fold accuracies (unshuffled folds) and their best k.

    Expected: scikit-learn's cross_val_score of KNeighborsClassifier over KFold(5).
    """
    X, y = oracle.blobs(rng, 90, [[0, 0], [2.5, 0], [0, 2.5]], std=1.2)
    ks = [1, 3, 5, 9, 15]
    best_k, acc = submission.knn.cross_validate_k(X, y, ks, 5)
    expected = oracle.sklearn_knn_cv_accuracies(X, y, ks, 5)
    assert_close(acc, expected, name="cross_validate_k accuracies")
    assert int(best_k) == ks[int(np.argmax(np.round(expected, 12)))], (
        "best_k is not the k with the highest mean accuracy"
    )
