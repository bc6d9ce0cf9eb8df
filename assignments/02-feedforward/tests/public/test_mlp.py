"""Public tests for mlp.py (the MLP class)."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(1)
def test_mlp_init_shapes(submission):
    """MLP params have the documented keys and shapes, zero biases and He-scaled random weights."""
    params = submission.mlp.MLP([6, 5, 4, 3]).params
    expected = {"W1": (6, 5), "b1": (5,), "W2": (5, 4), "b2": (4,), "W3": (4, 3), "b3": (3,)}
    assert sorted(params) == sorted(expected), f"params keys are {sorted(params)}"
    for k, shape in expected.items():
        assert np.shape(params[k]) == shape, (
            f"params[{k!r}] has shape {np.shape(params[k])}, expected {shape}"
        )
    # Shapes alone pass with np.zeros: on wide layers, the weights' spread must also be
    # sqrt(2 / fan_in) (relu's default), within 15%: at least 5 standard errors for 600
    # values, so this holds for any correct draw order, which test_mlp_init_exact checks.
    sizes = [120, 80, 60, 10]
    params = submission.mlp.MLP(sizes).params
    for k in range(1, len(sizes)):
        W, b = np.asarray(params[f"W{k}"]), np.asarray(params[f"b{k}"])
        assert W.shape == (sizes[k - 1], sizes[k]), f"W{k} has shape {W.shape}"
        assert_close(b, np.zeros(sizes[k]), name=f"MLP({sizes}).params['b{k}']")
        ratio = float(W.std() / np.sqrt(2.0 / sizes[k - 1]))
        assert 0.85 < ratio < 1.15, (
            f"MLP({sizes}).params['W{k}'] has standard deviation {ratio:.2f} times "
            f"sqrt(2 / fan_in), expected about 1 (He initialisation for relu)"
        )
        assert abs(float(W.mean())) < 0.25 * np.sqrt(2.0 / sizes[k - 1]), (
            f"MLP({sizes}).params['W{k}'] has a mean far from 0"
        )


@pytest.mark.points(2)
def test_mlp_init_exact(submission, oracle):
    """MLP initialisation follows the documented recipe (default_rng(seed), He scale for relu, zero biases)."""
    for sizes, activation, weight_scale, seed in [
        ([6, 5, 3], "relu", None, 0),
        ([4, 7, 2], "relu", 0.01, 3),
    ]:
        params = submission.mlp.MLP(
            sizes, activation=activation, weight_scale=weight_scale, seed=seed
        ).params
        expected = oracle.mlp_init(sizes, activation, weight_scale, seed)
        for k, v in expected.items():
            assert_close(
                params[k],
                v,
                name=f"MLP({sizes}, weight_scale={weight_scale}, seed={seed}).params[{k!r}]",
            )


@pytest.mark.points(2)
def test_mlp_forward(rng, oracle, random_params, make_model):
    """MLP.forward of a 2-layer relu network matches a torch computation."""
    sizes = [5, 7, 3]
    params = random_params(sizes)
    X = rng.standard_normal((4, 5))
    scores = make_model(sizes, "relu", params).forward(X)
    assert_close(scores, oracle.mlp_forward(params, X, "relu"), name="MLP.forward(X)")


@pytest.mark.points(3)
def test_mlp_loss_and_grads(rng, oracle, check, random_params, make_model):
    """MLP.loss of a 2-layer relu network returns the loss and all gradients of torch autograd."""
    sizes = [5, 7, 3]
    params = random_params(sizes)
    X = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, size=6)
    loss, grads = make_model(sizes, "relu", params).loss(X, y)
    expected_loss, expected_grads = oracle.mlp_loss_and_grads(params, X, y, "relu")
    assert_close(check.scalar(loss, "loss"), expected_loss, name="MLP.loss(X, y)[0]")
    check.gradients(grads, expected_grads, name="grads")


@pytest.mark.points(1)
def test_mlp_predict(rng, oracle, random_params, make_model):
    """MLP.predict returns integer labels, the argmax of the scores."""
    sizes = [5, 7, 3]
    params = random_params(sizes)
    X = rng.standard_normal((10, 5))
    pred = np.asarray(make_model(sizes, "relu", params).predict(X))
    assert pred.shape == (10,), f"predict returned shape {pred.shape}, expected (10,)"
    assert np.issubdtype(pred.dtype, np.integer), (
        f"predict returned dtype {pred.dtype}, expected integers"
    )
    np.testing.assert_array_equal(pred, oracle.mlp_forward(params, X, "relu").argmax(axis=1))
