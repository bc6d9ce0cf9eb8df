"""Public tests for netvlad.py: NetVLAD's soft assignment, aggregation, gradients; sequential VLAD."""

import pytest
import torch


def _features(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(1)
def test_netvlad_init_from_centroids(submission, rng, check):
    """init_from_centroids sets centroids, conv.weight = 2 alpha c_k and conv.bias = -alpha ||c_k||^2."""
    K, D, alpha = 4, 3, 5.0
    c = _features(rng, K, D)
    module = submission.netvlad.NetVLAD(K, D, alpha)
    module.double()
    module.init_from_centroids(c)
    state = module.state_dict()
    check.tensors_close(state["centroids"], c, name="centroids")
    check.tensors_close(state["conv.weight"], (2 * alpha * c)[:, :, None, None], name="conv.weight")
    check.tensors_close(state["conv.bias"], -alpha * (c**2).sum(1), name="conv.bias")


@pytest.mark.points(2)
def test_netvlad_soft_assignment(rng, oracle, check, student):
    """soft_assignment is the softmax over clusters of -alpha ||x - c_k||^2 (tied convolution)."""
    K, D, alpha = 4, 3, 2.0
    params = oracle.netvlad_params(K, D, rng, alpha=alpha)
    x = _features(rng, 2, D, 3, 5)
    a = student.netvlad(K, D, params, alpha).soft_assignment(x)
    d2 = ((x[:, None] - params["centroids"][None, :, :, None, None]) ** 2).sum(2)
    check.tensors_close(a, torch.softmax(-alpha * d2, dim=1), name="soft_assignment(x)")


@pytest.mark.points(3)
def test_netvlad_forward_matches_loop_oracle(rng, oracle, check, student):
    """NetVLAD(x) equals a loop over images, positions and clusters (residuals, both normalisations)."""
    K, D = 4, 3
    params = oracle.netvlad_params(K, D, rng)
    x = _features(rng, 2, D, 3, 4)
    expected, _ = oracle.netvlad_loop(x, params)
    check.tensors_close(student.netvlad(K, D, params)(x), expected, name="NetVLAD(x)")


@pytest.mark.points(2)
def test_netvlad_centroid_gradients(submission, rng, oracle, check, student):
    """Gradients reach the centroids, the convolution and the input, like autograd of the loop oracle."""
    K, D = 3, 3
    params = oracle.netvlad_params(K, D, rng)
    x = _features(rng, 2, D, 2, 3)
    dout = _features(rng, 2, K * D)
    probe = submission.autograd_probe(student.netvlad(K, D, params), [x], dout, params=True)
    check.probe_matches(probe, oracle.netvlad_autograd(x, params, dout))


@pytest.mark.points(2)
def test_sequential_vlad_forward(rng, oracle, check, student):
    """SequentialVLAD assigns every frame on its own and aggregates residuals over time and space."""
    K, D = 3, 4
    params = oracle.netvlad_params(K, D, rng)
    x = _features(rng, 2, 3, D, 2, 3)
    expected, _ = oracle.netvlad_loop(x, params, frames=True)
    check.tensors_close(student.netvlad(K, D, params, sequential=True)(x), expected,
                        name="SequentialVLAD(x)")
