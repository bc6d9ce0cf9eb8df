"""Hidden tests for vlad.py: ties, the residuals' sign, empty clusters, bursty images, retrieval."""

import numpy as np
import pytest


@pytest.mark.points(1)
def test_assign_descriptors_ties_and_one_descriptor(submission, rng, oracle, check):
    """assign_descriptors breaks ties towards the lowest index and works for a single descriptor."""
    C = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0]])
    X = np.array([[0.0, 0.0], [0.0, 5.0], [-2.0, 1.0]])
    check.numpy_equal(submission.vlad.assign_descriptors(X, C), np.array([0, 2, 1]),
                      name="assign_descriptors(X, C)")
    X1, C1 = rng.standard_normal((1, 7)), rng.standard_normal((9, 7))
    check.numpy_equal(submission.vlad.assign_descriptors(X1, C1), oracle.assign(X1, C1),
                      name="assign_descriptors(one descriptor)")


@pytest.mark.points(2)
def test_residual_sign_and_empty_clusters(submission, rng, oracle, check):
    """Residuals are descriptor minus centroid, and a centroid without descriptors gets zeros."""
    C = np.array([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0], [-10.0, 0.0, 0.0]])
    X = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    V = submission.vlad.residual_sums(X, C, np.array([0, 0]))
    check.numpy_close(V, np.array([[1.5, 1.0, 3.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
                      name="residual_sums(X, C, assignment)")
    C = rng.standard_normal((7, 4))
    X = C[[1, 1, 4, 6]] + 0.1 * rng.standard_normal((4, 4))
    V = submission.vlad.residual_sums(X, C, oracle.assign(X, C))
    check.numpy_close(V, oracle.residual_sums(X, C), name="residual_sums (empty clusters)")


@pytest.mark.points(2)
def test_intra_normalize_keeps_zero_rows(submission, rng, check):
    """intra_normalize leaves an all-zero row at zero (no nan) and normalises the others."""
    V = rng.standard_normal((5, 3))
    V[[1, 3]] = 0.0
    out = submission.vlad.intra_normalize(V)
    expected = V / np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)
    check.numpy_close(out, expected, name="intra_normalize(V)")


@pytest.mark.points(2)
def test_vlad_encode_bursty_image(submission, rng, oracle, check):
    """vlad_encode on an image where one cluster holds a burst of descriptors and others are empty."""
    K, D = 6, 4
    C = 3.0 * rng.standard_normal((K, D))
    burst = C[2] + 0.5 + 0.05 * rng.standard_normal((80, D))
    few = C[[0, 5]] + 0.3 * rng.standard_normal((2, D))
    X = np.concatenate([burst, few])
    v = submission.vlad.vlad_encode(X, C)
    check.numpy_close(v, oracle.vlad(X, C), name="vlad_encode(bursty X, C)")


@pytest.mark.points(2)
def test_vlad_encode_other_sizes(submission, rng, oracle, check):
    """vlad_encode with K = 11 clusters, D = 9, and a few descriptors far from every centroid."""
    K, D = 11, 9
    C = rng.standard_normal((K, D))
    X = np.concatenate([C[rng.integers(K, size=30)] + 0.4 * rng.standard_normal((30, D)),
                        5.0 * rng.standard_normal((3, D))])
    check.numpy_close(submission.vlad.vlad_encode(X, C), oracle.vlad(X, C), name="vlad_encode(X, C)")


@pytest.mark.points(2)
def test_vlad_retrieval_map_heldout(submission, oracle):
    """VLAD retrieval on another synthetic set of bursty images reaches mAP >= 0.93."""
    score = oracle.vlad_retrieval_map(submission.vlad.vlad_encode, seed=3, first_query=1)
    assert score >= 0.93, f"mAP {score:.3f} < 0.93"


@pytest.mark.points(2)
def test_rank_database(submission, rng, oracle, check):
    """rank_database sorts the database by dot product, most similar first, ties in database order."""
    database = rng.standard_normal((12, 5))
    database[7] = database[2]  # a tie
    queries = np.concatenate([rng.standard_normal((3, 5)), database[[2]]])
    check.numpy_equal(submission.vlad.rank_database(queries, database), oracle.ranking(queries, database),
                      name="rank_database(queries, database)")
