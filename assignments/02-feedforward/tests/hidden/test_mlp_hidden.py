"""Hidden tests for mlp.py: deep networks, every activation, custom upstream gradients."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.testing import assert_close

ACTS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
DEEP = [6, 8, 5, 7, 4]  # 4 linear layers, no two consecutive sizes equal


def _random_params(rng, sizes, scale=1.0):
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = (
            scale * rng.standard_normal((sizes[k - 1], sizes[k])) / np.sqrt(sizes[k - 1])
        )
        params[f"b{k}"] = 0.1 * scale * rng.standard_normal(sizes[k])
    return params


def _make_model(submission, sizes, activation, params):
    model = submission.mlp.MLP(sizes, activation=activation, seed=0)
    model.params = {k: v.copy() for k, v in params.items()}
    return model


def _torch_scores(params, X, activation):
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    num_layers = len(params) // 2
    h = torch.from_numpy(X)
    for k in range(1, num_layers + 1):
        h = h @ tp[f"W{k}"] + tp[f"b{k}"]
        if k < num_layers:
            h = ACTS[activation](h)
    return h, tp


def _check_loss_and_grads(submission, rng, sizes, activation, n=7, scale=1.0):
    params = _random_params(rng, sizes, scale)
    X = rng.standard_normal((n, sizes[0]))
    y = rng.integers(0, sizes[-1], size=n)
    model = _make_model(submission, sizes, activation, params)
    loss, grads = model.loss(X, y)
    scores, tp = _torch_scores(params, X, activation)
    expected = F.cross_entropy(scores, torch.from_numpy(y))
    expected.backward()
    what = f"MLP({sizes}, activation={activation!r})"
    assert np.ndim(loss) == 0, f"loss must be a scalar, got shape {np.shape(loss)}"
    assert_close(float(loss), expected.item(), name=f"{what}.loss(X, y)[0]")
    assert sorted(grads) == sorted(params), (
        f"grads keys are {sorted(grads)}, expected {sorted(params)}"
    )
    for k in params:
        assert_close(grads[k], tp[k].grad.numpy(), name=f"{what} grads[{k!r}]")


def _check_forward(submission, rng, sizes, activation):
    params = _random_params(rng, sizes)
    X = rng.standard_normal((5, sizes[0]))
    model = _make_model(submission, sizes, activation, params)
    scores = model.forward(X)
    expected, _ = _torch_scores(params, X, activation)
    assert_close(
        scores,
        expected.detach().numpy(),
        name=f"MLP({sizes}, activation={activation!r}).forward(X)",
    )


@pytest.mark.points(2)
def test_mlp_forward_deep_sigmoid(submission, rng):
    """MLP.forward of a 4-layer sigmoid network matches torch (no activation on the output layer)."""
    _check_forward(submission, rng, DEEP, "sigmoid")


@pytest.mark.points(2)
def test_mlp_forward_deep_tanh(submission, rng):
    """MLP.forward of a 4-layer tanh network matches torch (no activation on the output layer)."""
    _check_forward(submission, rng, DEEP, "tanh")


@pytest.mark.points(3)
def test_mlp_grads_deep_relu(submission, rng):
    """MLP.loss of a 4-layer relu network: loss and every gradient match torch autograd."""
    _check_loss_and_grads(submission, rng, DEEP, "relu")


@pytest.mark.points(3)
def test_mlp_grads_deep_sigmoid(submission, rng):
    """MLP.loss of a 4-layer sigmoid network: loss and every gradient match torch autograd."""
    _check_loss_and_grads(submission, rng, DEEP, "sigmoid")


@pytest.mark.points(3)
def test_mlp_grads_deep_tanh(submission, rng):
    """MLP.loss of a 4-layer tanh network: loss and every gradient match torch autograd."""
    _check_loss_and_grads(submission, rng, DEEP, "tanh")


@pytest.mark.points(3)
def test_mlp_backward_upstream_gradient(submission, rng):
    """MLP.backward(dscores) after forward(X) backpropagates an arbitrary upstream gradient."""
    sizes = [3, 6, 6, 2]
    params = _random_params(rng, sizes)
    X = rng.standard_normal((5, 3))
    dscores = rng.standard_normal((5, 2))
    model = _make_model(submission, sizes, "tanh", params)
    model.forward(X)
    grads = model.backward(dscores)
    scores, tp = _torch_scores(params, X, "tanh")
    scores.backward(torch.from_numpy(dscores))
    assert sorted(grads) == sorted(params), (
        f"grads keys are {sorted(grads)}, expected {sorted(params)}"
    )
    for k in params:
        assert_close(grads[k], tp[k].grad.numpy(), name=f"backward(dscores)[{k!r}]")


@pytest.mark.points(1)
def test_mlp_no_hidden_layer(submission, rng):
    """MLP([D, C]) (no hidden layer: softmax regression) has W1, b1 only and correct gradients."""
    _check_loss_and_grads(submission, rng, [5, 3], "relu")


@pytest.mark.points(1)
def test_mlp_init_default_scales(submission):
    """Default initialisation uses sqrt(1 / fan_in) for sigmoid and tanh, and the given seed."""
    for sizes, activation, seed in [([6, 5, 4, 3], "sigmoid", 11), ([3, 9, 2], "tanh", 5)]:
        params = submission.mlp.MLP(sizes, activation=activation, seed=seed).params
        rng = np.random.default_rng(seed)
        for k in range(1, len(sizes)):
            W = np.sqrt(1.0 / sizes[k - 1]) * rng.standard_normal((sizes[k - 1], sizes[k]))
            what = f"MLP({sizes}, activation={activation!r}, seed={seed})"
            assert_close(params[f"W{k}"], W, name=f"{what}.params['W{k}']")
            assert_close(params[f"b{k}"], np.zeros(sizes[k]), name=f"{what}.params['b{k}']")


@pytest.mark.points(1)
def test_mlp_loss_large_scores(submission, rng):
    """MLP.loss stays finite and exact when the scores are in the thousands."""
    _check_loss_and_grads(submission, rng, [4, 5, 3], "relu", scale=60.0)
