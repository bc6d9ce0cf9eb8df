"""Hidden tests for mlp.py: deep networks, every activation, custom upstream gradients."""

import pytest

from autograder.testing import assert_close

DEEP = [6, 8, 5, 7, 4]  # 4 linear layers, no two consecutive sizes equal


@pytest.fixture
def check_forward(rng, oracle, random_params, make_model):
    """``check_forward(sizes, activation)``: MLP.forward on X (5, sizes[0]) matches torch."""

    def run(sizes, activation):
        params = random_params(sizes)
        X = rng.standard_normal((5, sizes[0]))
        scores = make_model(sizes, activation, params).forward(X)
        assert_close(
            scores,
            oracle.mlp_forward(params, X, activation),
            name=f"MLP({sizes}, activation={activation!r}).forward(X)",
        )

    return run


@pytest.fixture
def check_loss_and_grads(rng, oracle, check, random_params, make_model):
    """``check_loss_and_grads(sizes, activation, n=7, scale=1.0, min_score=None)``: MLP.loss(X, y)
    on X (n, sizes[0]) returns the loss and every gradient of torch autograd (parameters scaled
    by ``scale``; drawn again until the largest score reaches ``min_score``, so that
    whatever the draw, the scores are as large as the test says)."""

    def run(sizes, activation, n=7, scale=1.0, min_score=None):
        for _ in range(100):
            params = random_params(sizes, scale)
            X = rng.standard_normal((n, sizes[0]))
            if min_score is None or oracle.mlp_forward(params, X, activation).max() >= min_score:
                break
        else:
            raise AssertionError(f"no draw reached scores of {min_score:g}")  # a grader bug
        y = rng.integers(0, sizes[-1], size=n)
        loss, grads = make_model(sizes, activation, params).loss(X, y)
        expected_loss, expected_grads = oracle.mlp_loss_and_grads(params, X, y, activation)
        what = f"MLP({sizes}, activation={activation!r})"
        assert_close(check.scalar(loss, "loss"), expected_loss, name=f"{what}.loss(X, y)[0]")
        check.gradients(grads, expected_grads, name=f"{what} grads")

    return run


@pytest.mark.points(2)
def test_mlp_forward_deep_sigmoid(check_forward):
    """MLP.forward of a 4-layer sigmoid network matches torch (no activation on the output layer)."""
    check_forward(DEEP, "sigmoid")


@pytest.mark.points(2)
def test_mlp_forward_deep_tanh(check_forward):
    """MLP.forward of a 4-layer tanh network matches torch (no activation on the output layer)."""
    check_forward(DEEP, "tanh")


@pytest.mark.points(3)
def test_mlp_grads_deep_relu(check_loss_and_grads):
    """MLP.loss of a 4-layer relu network: loss and every gradient match torch autograd."""
    check_loss_and_grads(DEEP, "relu")


@pytest.mark.points(3)
def test_mlp_grads_deep_sigmoid(check_loss_and_grads):
    """MLP.loss of a 4-layer sigmoid network: loss and every gradient match torch autograd."""
    check_loss_and_grads(DEEP, "sigmoid")


@pytest.mark.points(3)
def test_mlp_grads_deep_tanh(check_loss_and_grads):
    """MLP.loss of a 4-layer tanh network: loss and every gradient match torch autograd."""
    check_loss_and_grads(DEEP, "tanh")


@pytest.mark.points(3)
def test_mlp_backward_upstream_gradient(rng, oracle, check, random_params, make_model):
    """MLP.backward(dscores) after forward(X) backpropagates an arbitrary upstream gradient."""
    sizes = [3, 6, 6, 2]
    params = random_params(sizes)
    X = rng.standard_normal((5, 3))
    dscores = rng.standard_normal((5, 2))
    model = make_model(sizes, "tanh", params)
    model.forward(X)
    grads = model.backward(dscores)
    expected = oracle.mlp_backward(params, X, dscores, "tanh")
    check.gradients(grads, expected, name="backward(dscores)")


@pytest.mark.points(1)
def test_mlp_no_hidden_layer(check_loss_and_grads):
    """MLP([D, C]) (no hidden layer: softmax regression) has W1, b1 only and correct gradients."""
    check_loss_and_grads([5, 3], "relu")


@pytest.mark.points(1)
def test_mlp_init_default_scales(submission, oracle):
    """Default initialisation uses sqrt(1 / fan_in) for sigmoid and tanh, and the given seed."""
    for sizes, activation, seed in [([6, 5, 4, 3], "sigmoid", 11), ([3, 9, 2], "tanh", 5)]:
        params = submission.mlp.MLP(sizes, activation=activation, seed=seed).params
        what = f"MLP({sizes}, activation={activation!r}, seed={seed})"
        for k, v in oracle.mlp_init(sizes, activation, None, seed).items():
            assert_close(params[k], v, name=f"{what}.params[{k!r}]")


@pytest.mark.points(1)
def test_mlp_loss_large_scores(check_loss_and_grads):
    """MLP.loss stays finite and exact when the scores are in the thousands."""
    check_loss_and_grads([4, 5, 3], "relu", scale=60.0, min_score=2000.0)
