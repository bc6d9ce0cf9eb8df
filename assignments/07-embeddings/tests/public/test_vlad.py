"""Public tests for vlad.py: hard assignment, residual sums, normalisations, VLAD, retrieval."""

import numpy as np
import pytest


def _image(rng, M=40, K=5, D=6):
    """Descriptors (M, D) around K centroids (K, D)."""
    C = 2.0 * rng.standard_normal((K, D))
    X = C[rng.integers(K, size=M)] + 0.7 * rng.standard_normal((M, D))
    return X, C


@pytest.mark.points(1)
def test_assign_descriptors(submission, rng, oracle, check):
    """assign_descriptors returns the index of the nearest centroid of every descriptor."""
    X, C = _image(rng)
    check.numpy_equal(submission.vlad.assign_descriptors(X, C), oracle.assign(X, C),
                      name="assign_descriptors(X, C)")


@pytest.mark.points(2)
def test_residual_sums(submission, rng, oracle, check):
    """residual_sums adds up x - c_k over the descriptors assigned to each centroid."""
    X, C = _image(rng)
    V = submission.vlad.residual_sums(X, C, oracle.assign(X, C))
    check.numpy_close(V, oracle.residual_sums(X, C), name="residual_sums(X, C, assignment)")


@pytest.mark.points(1)
def test_intra_normalize(submission, rng, check):
    """intra_normalize gives every row of V unit L2 norm on its own."""
    V = rng.standard_normal((4, 6)) * np.array([[0.1], [1.0], [10.0], [3.0]])
    expected = V / np.linalg.norm(V, axis=1, keepdims=True)
    check.numpy_close(submission.vlad.intra_normalize(V), expected, name="intra_normalize(V)")


@pytest.mark.points(1)
def test_power_normalize(submission, rng, check):
    """power_normalize is the signed square root sign(v) * sqrt(|v|)."""
    v = rng.standard_normal(20) * 3
    check.numpy_close(submission.vlad.power_normalize(v), np.sign(v) * np.sqrt(np.abs(v)),
                      name="power_normalize(v)")


@pytest.mark.points(3)
def test_vlad_encode(submission, rng, oracle, check):
    """vlad_encode: residual sums, intra-normalisation, signed square root, global L2 normalisation."""
    X, C = _image(rng, M=60, K=6, D=5)
    check.numpy_close(submission.vlad.vlad_encode(X, C), oracle.vlad(X, C), name="vlad_encode(X, C)")


@pytest.mark.points(2)
def test_vlad_retrieval_map(submission, oracle):
    """VLAD retrieval on synthetic bags of descriptors (bursty images) reaches mAP >= 0.93."""
    score = oracle.vlad_retrieval_map(submission.vlad.vlad_encode, seed=0, first_query=0)
    assert score >= 0.93, f"mAP {score:.3f} < 0.93"
