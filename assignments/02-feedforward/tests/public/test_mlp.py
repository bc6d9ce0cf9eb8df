"""Public tests for mlp.py (the MLP class)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.testing import assert_close

ACTS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


def _random_params(rng, sizes):
    """Random weights AND biases (so that zero biases cannot hide a bug)."""
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.standard_normal((sizes[k - 1], sizes[k])) / np.sqrt(sizes[k - 1])
        params[f"b{k}"] = 0.1 * rng.standard_normal(sizes[k])
    return params


def _make_model(submission, sizes, activation, params):
    """A student MLP whose parameters are replaced by (copies of) params."""
    model = submission.mlp.MLP(sizes, activation=activation, seed=0)
    model.params = {k: v.copy() for k, v in params.items()}
    return model


def _torch_scores(params, X, activation):
    """Scores of the reference network and its torch parameter leaves."""
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    num_layers = len(params) // 2
    h = torch.from_numpy(X)
    for k in range(1, num_layers + 1):
        h = h @ tp[f"W{k}"] + tp[f"b{k}"]
        if k < num_layers:
            h = ACTS[activation](h)
    return h, tp


def _expected_init(sizes, activation, weight_scale, seed):
    rng = np.random.default_rng(seed)
    params = {}
    for k in range(1, len(sizes)):
        fan_in = sizes[k - 1]
        if weight_scale is not None:
            scale = weight_scale
        elif activation == "relu":
            scale = np.sqrt(2.0 / fan_in)
        else:
            scale = np.sqrt(1.0 / fan_in)
        params[f"W{k}"] = scale * rng.standard_normal((fan_in, sizes[k]))
        params[f"b{k}"] = np.zeros(sizes[k])
    return params


@pytest.mark.points(1)
def test_mlp_init_shapes(submission):
    """MLP([6, 5, 4, 3]).params has keys W1, b1, ..., W3, b3 with the documented shapes."""
    params = submission.mlp.MLP([6, 5, 4, 3]).params
    expected = {"W1": (6, 5), "b1": (5,), "W2": (5, 4), "b2": (4,), "W3": (4, 3), "b3": (3,)}
    assert sorted(params) == sorted(expected), f"params keys are {sorted(params)}"
    for k, shape in expected.items():
        assert np.shape(params[k]) == shape, (
            f"params[{k!r}] has shape {np.shape(params[k])}, expected {shape}"
        )


@pytest.mark.points(2)
def test_mlp_init_exact(submission):
    """MLP initialisation follows the documented recipe (default_rng(seed), He scale for relu, zero biases)."""
    for sizes, activation, weight_scale, seed in [
        ([6, 5, 3], "relu", None, 0),
        ([4, 7, 2], "relu", 0.01, 3),
    ]:
        params = submission.mlp.MLP(
            sizes, activation=activation, weight_scale=weight_scale, seed=seed
        ).params
        expected = _expected_init(sizes, activation, weight_scale, seed)
        for k, v in expected.items():
            assert_close(
                params[k],
                v,
                name=f"MLP({sizes}, weight_scale={weight_scale}, seed={seed}).params[{k!r}]",
            )


@pytest.mark.points(2)
def test_mlp_forward(submission, rng):
    """MLP.forward of a 2-layer relu network matches a torch computation."""
    sizes = [5, 7, 3]
    params = _random_params(rng, sizes)
    X = rng.standard_normal((4, 5))
    model = _make_model(submission, sizes, "relu", params)
    scores = model.forward(X)
    expected, _ = _torch_scores(params, X, "relu")
    assert_close(scores, expected.detach().numpy(), name="MLP.forward(X)")


@pytest.mark.points(3)
def test_mlp_loss_and_grads(submission, rng):
    """MLP.loss of a 2-layer relu network returns the loss and all gradients of torch autograd."""
    sizes = [5, 7, 3]
    params = _random_params(rng, sizes)
    X = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, size=6)
    model = _make_model(submission, sizes, "relu", params)
    loss, grads = model.loss(X, y)
    scores, tp = _torch_scores(params, X, "relu")
    expected = F.cross_entropy(scores, torch.from_numpy(y))
    expected.backward()
    assert np.ndim(loss) == 0, f"loss must be a scalar, got shape {np.shape(loss)}"
    assert_close(float(loss), expected.item(), name="MLP.loss(X, y)[0]")
    assert sorted(grads) == sorted(params), (
        f"grads keys are {sorted(grads)}, expected {sorted(params)}"
    )
    for k in params:
        assert_close(grads[k], tp[k].grad.numpy(), name=f"grads[{k!r}]")


@pytest.mark.points(1)
def test_mlp_predict(submission, rng):
    """MLP.predict returns integer labels, the argmax of the scores."""
    sizes = [5, 7, 3]
    params = _random_params(rng, sizes)
    X = rng.standard_normal((10, 5))
    model = _make_model(submission, sizes, "relu", params)
    pred = np.asarray(model.predict(X))
    scores, _ = _torch_scores(params, X, "relu")
    assert pred.shape == (10,), f"predict returned shape {pred.shape}, expected (10,)"
    assert np.issubdtype(pred.dtype, np.integer), (
        f"predict returned dtype {pred.dtype}, expected integers"
    )
    np.testing.assert_array_equal(pred, scores.detach().numpy().argmax(axis=1))
