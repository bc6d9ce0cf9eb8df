"""Hidden tests for knn.py: rounding, speed, neighbour order and the tie rules."""

import time

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(1)
def test_pairwise_distances_duplicates_are_zero(submission, rng, oracle):
    """Distances of points to themselves and to exact copies are 0, never NaN."""
    X = rng.standard_normal((40, 6)) * 3 + 5
    Y = np.concatenate([X[::2], rng.standard_normal((10, 6))])
    dists = submission.knn.pairwise_distances(X, Y)
    assert_close(dists, oracle.distances(X, Y), rtol=1e-6, atol=1e-5, name="pairwise_distances")
    self_dists = np.asarray(submission.knn.pairwise_distances(X, X))
    assert not np.any(np.isnan(self_dists)), "pairwise_distances(X, X) contains NaN"
    assert_close(
        np.diag(self_dists), np.zeros(40), atol=1e-5, name="diag of pairwise_distances(X, X)"
    )


@pytest.mark.points(1)
def test_pairwise_distances_is_vectorised(submission, rng, oracle):
    """pairwise_distances of 1000 x 1000 points uses well under 2 s of CPU (no Python loops)."""
    X = rng.standard_normal((1000, 32))
    Y = rng.standard_normal((1000, 32))
    # the worker's CPU time as the kernel counts it: neither the machine's load nor the
    # 8 MB result's trip out of the sandbox counts (wall time only where there is no count)
    start, wall = submission.cpu_seconds(), time.perf_counter()
    dists = submission.knn.pairwise_distances(X, Y)
    end = submission.cpu_seconds()
    used = end - start if start is not None and end is not None else time.perf_counter() - wall
    assert_close(dists, oracle.distances(X, Y), atol=1e-6, name="pairwise_distances")
    assert used < 2.0, f"pairwise_distances took {used:.1f} s of CPU; vectorise it"


@pytest.mark.points(2)
def test_knn_uses_nearest_neighbours(submission, rng, oracle, hidden_oracle, check):
    """With k = 1 every training point is its own nearest neighbour; k = 3 matches brute force."""
    X, y = oracle.blobs(rng, 50, [[0, 0, 0], [1, 1, 1]], std=1.0)
    pred = submission.knn.knn_predict(X, y, X, 1)
    check.labels(pred, y, "knn_predict(X, y, X, 1)")
    X_test = rng.standard_normal((30, 3))
    pred = submission.knn.knn_predict(X, y, X_test, 3)
    check.labels(pred, hidden_oracle.knn_predict(X, y, X_test, 3), "knn_predict(..., k=3)")


@pytest.mark.points(2)
def test_knn_vote_tie_goes_to_smallest_label(submission, check):
    """A tied vote goes to the smallest label; a majority wins otherwise."""
    X_train = np.array([[0.0], [0.4], [1.0], [3.0], [3.5]])
    y_train = np.array([2, 0, 1, 1, 2])
    X_test = np.array([[0.1], [0.3], [3.4], [2.0]])
    pred = submission.knn.knn_predict(X_train, y_train, X_test, 2)
    check.labels(pred, np.array([0, 0, 1, 1]), "knn_predict(..., k=2)")
    pred = submission.knn.knn_predict(X_train, y_train, X_test, 4)
    check.labels(pred, np.array([1, 1, 1, 1]), "knn_predict(..., k=4)")
    pred = submission.knn.knn_predict(X_train, y_train, X_test, 5)
    check.labels(pred, np.array([1, 1, 1, 1]), "knn_predict(..., k=5)")


@pytest.mark.points(1)
def test_knn_distance_tie_goes_to_lower_index(submission, check):
    """Among training points at equal distance, the lower training index comes first."""
    X_train = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [3.0, 3.0]])
    y_train = np.array([3, 1, 2, 0, 0])
    X_test = np.array([[0.0, 0.0]])
    for k, expected in [(1, 3), (2, 1), (3, 1), (4, 0)]:
        pred = submission.knn.knn_predict(X_train, y_train, X_test, k)
        check.labels(pred, np.array([expected]), f"knn_predict(..., k={k})")


@pytest.mark.points(1)
def test_cross_validate_k_uneven_folds(submission, rng, oracle, hidden_oracle):
    """cross_validate_k with 4 folds of unequal size (N = 50) gives the expected accuracies."""
    X, y = oracle.blobs(rng, 50, [[0, 0], [1.5, 1.5]], std=1.0)
    ks = [1, 2, 4, 7]
    best_k, acc = submission.knn.cross_validate_k(X, y, ks, 4)
    expected = hidden_oracle.knn_cv_accuracies(X, y, ks, 4)
    assert_close(acc, expected, name="cross_validate_k accuracies")
    assert int(best_k) == ks[int(np.argmax(np.round(expected, 12)))], (
        "best_k is not the first k with the highest mean accuracy"
    )
