"""Hidden tests for netvlad.py: parameters, the softmax axis, alpha, normalisations, gradients, video."""

import pytest
import torch


def _features(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_netvlad_softmax_over_clusters(rng, oracle, check, student):
    """soft_assignment sums to 1 over the clusters at every position (not over positions)."""
    K, D = 3, 4
    params = oracle.netvlad_params(K, D, rng)
    x = _features(rng, 2, D, 4, 5)
    a = student.netvlad(K, D, params).soft_assignment(x)
    _, expected = oracle.netvlad_loop(x, params)
    check.tensors_close(a, expected, name="soft_assignment(x)")
    check.tensors_close(a.sum(1), torch.ones(2, 4, 5, dtype=torch.float64), name="a.sum over clusters")


@pytest.mark.points(2)
def test_netvlad_layout_and_alpha_sharpness(submission, rng, check):
    """NetVLAD holds conv (1x1) and centroids only; a large alpha makes the assignment hard, a small one soft."""
    state = submission.netvlad.NetVLAD(5, 7, 10.0).state_dict()
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes == {"conv.weight": (5, 7, 1, 1), "conv.bias": (5,), "centroids": (5, 7)}, (
        f"NetVLAD(5, 7) has parameters {shapes}"
    )
    K, D = 4, 3
    c = 2 * _features(rng, K, D)
    x = _features(rng, 1, D, 3, 3)
    nearest = ((x[:, None] - c[None, :, :, None, None]) ** 2).sum(2).argmin(1)
    hard = torch.nn.functional.one_hot(nearest, K).permute(0, 3, 1, 2).double()
    for alpha, near_hard in ((1000.0, True), (0.01, False)):
        module = submission.netvlad.NetVLAD(K, D, alpha)
        module.double()
        module.init_from_centroids(c)
        a = module.soft_assignment(x)
        if near_hard:
            check.tensors_close(a, hard, name=f"soft_assignment with alpha={alpha}", atol=1e-6)
        else:
            assert float((a - 1 / K).abs().max()) < 0.2, "with a tiny alpha the assignment should be soft"


@pytest.mark.points(2)
def test_netvlad_forward_other_sizes(rng, oracle, check, student):
    """NetVLAD(x) equals the loop oracle for 3 images, K = 5, D = 2 and a 2 x 5 feature map."""
    K, D = 5, 2
    params = oracle.netvlad_params(K, D, rng, alpha=3.0)
    x = _features(rng, 3, D, 2, 5)
    expected, _ = oracle.netvlad_loop(x, params)
    check.tensors_close(student.netvlad(K, D, params)(x), expected, name="NetVLAD(x)")


@pytest.mark.points(2)
def test_netvlad_intra_and_global_normalisation(submission, rng, oracle, check, student):
    """NetVLAD's output has unit norm, each cluster's block norm 1 / sqrt(K) (intra-normalised), and is NetVLAD's."""
    K, D = 4, 3
    params = oracle.netvlad_params(K, D, rng)
    x = 5 * _features(rng, 2, D, 3, 3)
    v = student.netvlad(K, D, params)(x)
    check.tensors_close(v.norm(dim=1), torch.ones(2, dtype=torch.float64), name="||v||")
    blocks = v.reshape(2, K, D).norm(dim=2)
    check.tensors_close(blocks, torch.full((2, K), K**-0.5, dtype=torch.float64),
                        name="the norms of the cluster blocks")
    # the norms first (they say which normalisation is missing), then the value: a constant
    # vector of the right norm has both norms
    check.tensors_close(v, oracle.netvlad_loop(x, params)[0], name="NetVLAD(x)")


@pytest.mark.points(2)
def test_netvlad_all_gradients_tied(submission, rng, oracle, check, student):
    """With a tied convolution (alpha = 2), every gradient (input, conv, centroids) matches autograd."""
    K, D = 4, 3
    params = oracle.netvlad_params(K, D, rng, alpha=2.0)
    x = _features(rng, 1, D, 3, 2)
    dout = _features(rng, 1, K * D)
    probe = submission.autograd_probe(student.netvlad(K, D, params, alpha=2.0), [x], dout, params=True)
    check.probe_matches(probe, oracle.netvlad_autograd(x, params, dout))
    assert float(probe["param_grads"]["centroids"].abs().sum()) > 0, "the centroids get no gradient"


@pytest.mark.points(1)
def test_sequential_vlad_frame_assignments(rng, oracle, check, student):
    """frame_assignments returns every frame's soft assignment (N, T, K, H, W)."""
    K, D = 3, 2
    params = oracle.netvlad_params(K, D, rng)
    x = _features(rng, 2, 4, D, 2, 3)
    _, expected = oracle.netvlad_loop(x, params, frames=True)
    check.tensors_close(student.netvlad(K, D, params, sequential=True).frame_assignments(x), expected,
                        name="frame_assignments(x)")


@pytest.mark.points(2)
def test_sequential_vlad_gradients_and_one_frame(submission, rng, oracle, check, student):
    """SequentialVLAD's gradients match autograd, and with one frame it equals NetVLAD."""
    K, D = 3, 3
    params = oracle.netvlad_params(K, D, rng)
    x = _features(rng, 1, 3, D, 2, 2)
    dout = _features(rng, 1, K * D)
    module = student.netvlad(K, D, params, sequential=True)
    probe = submission.autograd_probe(module, [x], dout, params=True)
    check.probe_matches(probe, oracle.netvlad_autograd(x, params, dout, frames=True))
    one = _features(rng, 2, 1, D, 3, 3)
    check.tensors_close(module(one), student.netvlad(K, D, params)(one[:, 0]),
                        name="SequentialVLAD of one frame")
