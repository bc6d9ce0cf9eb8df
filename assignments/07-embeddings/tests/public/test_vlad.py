"""Public tests for vlad.py: hard assignment, residual sums, normalisations, VLAD, retrieval."""

import numpy as np
import pytest


def _image(rng, M=40, K=5, D=6):
    """Descriptors (M, D) around K centroids (K, D)."""
    C = 2.0 * rng.standard_normal((K, D))
    X = C[rng.integers(K, size=M)] + 0.7 * rng.standard_normal((M, D))
    return X, C


# A hand-made image: 6 descriptors (D = 2) around K = 3 centroids; the nearest centroids are
# 0, 0, 0, 1, 1, 2. TOY_VLAD is its VLAD vector.
TOY_C = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
TOY_X = np.array([[1.0, 1.0], [-2.0, 1.0], [0.5, -0.5], [5.0, -1.0], [3.0, 2.0], [1.0, 5.0]])
TOY_VLAD = np.array([-0.2931755511898004, 0.5077949501977445, 0.0, 0.5213480462076342,
                     0.4383997031555275, 0.4383997031555275])


@pytest.mark.points(1)
def test_assign_descriptors(submission, rng, oracle, check):
    """assign_descriptors returns the index of the nearest centroid of every descriptor."""
    X, C = _image(rng)
    check.numpy_equal(submission.vlad.assign_descriptors(X, C), oracle.assign(X, C),
                      name="assign_descriptors(X, C)")


@pytest.mark.points(2)
def test_residual_sums(submission, rng, check):
    """residual_sums adds up x - c_k over the descriptors assigned to each centroid (zeros if none)."""
    X = np.array([[1.0, 1.0], [-2.0, 1.0], [5.0, -1.0], [3.0, 2.0]])
    V = submission.vlad.residual_sums(X, TOY_C, np.array([0, 0, 1, 1]))
    # cluster 0: (1, 1) - (0, 0) + (-2, 1) - (0, 0); cluster 1: (5, -1) - (4, 0) + (3, 2) - (4, 0)
    check.numpy_close(V, np.array([[-1.0, 2.0], [0.0, 1.0], [0.0, 0.0]]),
                      name="residual_sums(4 descriptors, C, [0, 0, 1, 1])")
    X, C = _image(rng)
    assignment = rng.integers(len(C) - 1, size=len(X))  # the last centroid gets no descriptor
    V = submission.vlad.residual_sums(X, C, assignment)
    check.numpy_array(V, C.shape, "residual_sums(X, C, assignment)")
    check.numpy_close(V[-1], np.zeros(C.shape[1]), name="the row of a centroid without descriptors")
    # summed over the clusters: every descriptor once, minus each centroid once per descriptor it holds
    counts = np.bincount(assignment, minlength=len(C))
    check.numpy_close(V.sum(axis=0), X.sum(axis=0) - counts @ C, name="residual_sums(...).sum(axis=0)")


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


@pytest.mark.points(2)
def test_vlad_encode(submission, rng, check):
    """vlad_encode: residual sums, intra-normalisation, signed square root, global L2 normalisation."""
    # TOY_X's residual sums are (-0.5, 1.5), (0, 1) and (1, 1): three rows of different norms
    check.numpy_close(submission.vlad.vlad_encode(TOY_X, TOY_C), TOY_VLAD, name="vlad_encode(TOY_X, TOY_C)")
    X, C = _image(rng, M=60, K=6, D=5)
    v = submission.vlad.vlad_encode(X, C)
    check.numpy_array(v, (6 * 5,), "vlad_encode(X, C)")
    check.scalar_close(np.linalg.norm(v), 1.0, name="||vlad_encode(X, C)||")
    # the chain of your own functions, which the other tests grade one by one
    vlad = submission.vlad
    V = vlad.residual_sums(X, C, vlad.assign_descriptors(X, C))
    chained = vlad.power_normalize(vlad.intra_normalize(V).reshape(-1))
    check.numpy_close(v, chained / np.linalg.norm(chained), name="vlad_encode(X, C) against its steps")


@pytest.mark.points(1)
def test_vlad_retrieval_map(submission, oracle):
    """VLAD retrieval on synthetic bags of descriptors (bursty images) reaches mAP >= 0.93."""
    score = oracle.vlad_retrieval_map(submission.vlad.vlad_encode, seed=0, first_query=0)
    assert score >= 0.93, f"mAP {score:.3f} < 0.93"
