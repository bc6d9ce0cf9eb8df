"""Public tests for netvlad.py: NetVLAD's soft assignment, aggregation, gradients; sequential VLAD."""

import pytest
import torch

from autograder.testing import numerical_gradient


def _features(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


def _t(values):
    return torch.tensor(values, dtype=torch.float64)


# A hand-made NetVLAD (K = 3, D = 2) with a convolution not tied to the centroids,
# two 2 x 2 feature maps X_TOY and the outputs V_TOY = NetVLAD(X_TOY).
PARAMS_TOY = {
    "conv.weight": _t([[1.0, -0.5], [0.25, 1.5], [-1.0, 0.75]])[:, :, None, None],
    "conv.bias": _t([0.1, -0.2, 0.3]),
    "centroids": _t([[0.5, -0.25], [-1.0, 1.0], [1.5, 0.5]]),
}
X_TOY = _t([[[[0.3, -1.2], [1.1, 0.4]], [[-0.7, 0.9], [0.2, -1.5]]],
            [[[1.6, -0.1], [-0.8, 0.5]], [[0.0, 1.3], [-1.1, 0.6]]]])
V_TOY = _t([[0.0500220336840907, -0.5751792150968609, 0.48139559120919206, -0.31873440055583224,
             -0.576791324319219, -0.025398848860032932],
            [0.5050198376941719, 0.2798004590215777, 0.5675014679541774, -0.10618576742288499,
             -0.5573931346650389, -0.15048663316592326]])
# A video of 3 frames of 1 x 2 positions (D = 2), and SequentialVLAD(PARAMS_TOY) of it.
VIDEO_TOY = _t([[[[[0.3, -1.2]], [[-0.7, 0.9]]], [[[1.1, 0.4]], [[0.2, -1.5]]],
                 [[[1.6, -0.1]], [[0.0, 1.3]]]]])
SEQ_TOY = _t([[0.4220430468389852, -0.39397081103579173, 0.5539515307380812, -0.16269921612063776,
               -0.5762983389933422, 0.034836156602706836]])


def _shuffle_positions(x, rng):
    """x (N, D, H, W) with its H * W positions in another order (the same for every image)."""
    N, D, H, W = x.shape
    order = torch.from_numpy(rng.permutation(H * W))
    return x.flatten(2)[:, :, order].reshape(N, D, H, W)


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


@pytest.mark.points(1)
def test_netvlad_soft_assignment(rng, oracle, check, student):
    """soft_assignment is the softmax over clusters of -alpha ||x - c_k||^2 (tied convolution)."""
    K, D, alpha = 4, 3, 2.0
    params = oracle.netvlad_params(K, D, rng, alpha=alpha)
    x = _features(rng, 2, D, 3, 5)
    a = student.netvlad(K, D, params, alpha).soft_assignment(x)
    d2 = ((x[:, None] - params["centroids"][None, :, :, None, None]) ** 2).sum(2)
    check.tensors_close(a, torch.softmax(-alpha * d2, dim=1), name="soft_assignment(x)")


@pytest.mark.points(2)
def test_netvlad_forward(rng, oracle, check, student):
    """NetVLAD(x) on a hand-made input; both normalisations; independent of position order and batch."""
    K, D = 3, 2
    check.tensors_close(student.netvlad(K, D, PARAMS_TOY)(X_TOY), V_TOY, name="NetVLAD(X_TOY)")
    K, D = 4, 3
    module = student.netvlad(K, D, oracle.netvlad_params(K, D, rng))
    x = _features(rng, 3, D, 3, 4)
    v = module(x)
    check.tensors_close(v.norm(dim=1), torch.ones(3, dtype=torch.float64), name="||NetVLAD(x)||")
    # every cluster's block is intra-normalised (unit norm) before the global normalisation
    check.tensors_close(v.reshape(3, K, D).norm(dim=2), torch.full((3, K), K**-0.5, dtype=torch.float64),
                        name="the norms of NetVLAD(x)'s cluster blocks")
    check.tensors_close(module(_shuffle_positions(x, rng)), v, name="NetVLAD(x, positions reordered)")
    check.tensors_close(module(x[1:2]), v[1:2], name="NetVLAD(x[1:2])")


@pytest.mark.points(2)
def test_netvlad_centroid_gradients(submission, rng, check, student):
    """Gradients reach the centroids, the convolution and the input, and match central differences."""
    K, D = 3, 2
    module = student.netvlad(K, D, PARAMS_TOY)
    dout = _features(rng, 2, K * D).numpy()
    probe = submission.autograd_probe(module, [X_TOY], torch.from_numpy(dout), params=True)
    check.tensors_close(probe["output"], V_TOY, name="the output")
    grads = {"dx": probe["input_grads"][0], **probe["param_grads"]}

    def output(name, value):
        module.load_state_dict({**PARAMS_TOY, name: torch.from_numpy(value)})
        return module(X_TOY)

    # float64 central differences of sum(NetVLAD(x) * dout), through your forward pass
    numerical = {"dx": numerical_gradient(lambda x: module(torch.from_numpy(x)), X_TOY.numpy(), dout)}
    for name, value in PARAMS_TOY.items():
        numerical[name] = numerical_gradient(lambda p, name=name: output(name, p), value.numpy(), dout)
    for name, expected in numerical.items():
        assert grads.get(name) is not None, f"no gradient for {name}"
        check.tensors_close(grads[name], torch.from_numpy(expected),
                            name=f"{name} (against central differences)", rtol=1e-5, atol=1e-7)


@pytest.mark.points(2)
def test_sequential_vlad_forward(rng, oracle, check, student):
    """SequentialVLAD assigns every frame on its own and aggregates residuals over time and space."""
    K, D = 3, 2
    check.tensors_close(student.netvlad(K, D, PARAMS_TOY, sequential=True)(VIDEO_TOY), SEQ_TOY,
                        name="SequentialVLAD(VIDEO_TOY)")
    K, D = 3, 4
    params = oracle.netvlad_params(K, D, rng)
    sequential, single = student.netvlad(K, D, params, sequential=True), student.netvlad(K, D, params)
    x = _features(rng, 2, 3, D, 2, 3)
    v = sequential(x)
    # every position of every frame counts once: the frames side by side make one feature map
    side_by_side = x.permute(0, 2, 3, 1, 4).reshape(2, D, 2, 3 * 3)
    check.tensors_close(v, single(side_by_side), name="SequentialVLAD(x) against NetVLAD(frames side by side)")
    check.tensors_close(sequential(x[:, [2, 0, 1]]), v, name="SequentialVLAD(x, frames reordered)")
    check.tensors_close(sequential(x[:, :1]), single(x[:, 0]), name="SequentialVLAD of one frame")
