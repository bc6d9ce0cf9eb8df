"""Public tests for layers.py (activations, softmax, linear layer, losses)."""

import numpy as np
import pytest

from autograder.testing import assert_close, grad_check

# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------


@pytest.mark.points(1)
def test_relu_forward(submission, rng):
    """relu_forward returns max(0, x) with the shape of x."""
    x = rng.standard_normal((4, 5))
    out, _ = submission.layers.relu_forward(x)
    assert_close(out, np.maximum(x, 0), name="relu_forward(x)[0]")


@pytest.mark.points(2)
def test_relu_backward(rng, check_activation_backward):
    """relu_backward matches torch autograd on random inputs."""
    x = rng.standard_normal((4, 5))
    dout = rng.standard_normal((4, 5))
    check_activation_backward("relu", x, dout)


@pytest.mark.points(1)
def test_sigmoid_forward(submission, rng, oracle):
    """sigmoid_forward returns 1 / (1 + exp(-x))."""
    x = rng.standard_normal((3, 6)) * 3
    out, _ = submission.layers.sigmoid_forward(x)
    assert_close(out, oracle.activation("sigmoid", x), name="sigmoid_forward(x)[0]")


@pytest.mark.points(2)
def test_sigmoid_backward(rng, check_activation_backward):
    """sigmoid_backward (with the cache from sigmoid_forward) matches torch autograd."""
    x = rng.standard_normal((3, 6)) * 3
    dout = rng.standard_normal((3, 6))
    check_activation_backward("sigmoid", x, dout)


@pytest.mark.points(1)
def test_tanh_forward(submission, rng):
    """tanh_forward returns tanh(x)."""
    x = rng.standard_normal((5, 2)) * 3
    out, _ = submission.layers.tanh_forward(x)
    assert_close(out, np.tanh(x), name="tanh_forward(x)[0]")


@pytest.mark.points(2)
def test_tanh_backward(submission, rng):
    """tanh_backward (with the cache from tanh_forward) agrees with a numerical gradient of np.tanh."""
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    _, cache = submission.layers.tanh_forward(x)
    dx = submission.layers.tanh_backward(dout, cache)
    # The numerical gradient of numpy's tanh, not of the student's forward: a backward
    # consistent with a wrong (or zero) forward must not pass.
    grad_check(np.tanh, x, dx, dout=dout, name="tanh_backward(dout, cache)")


# --------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_softmax(submission, rng, oracle, check):
    """softmax of a batch of scores matches torch.softmax over the last axis."""
    x = rng.standard_normal((4, 5)) * 2
    p = submission.layers.softmax(x)
    check.rows_sum_to(p, 1.0, "softmax(x)", "each row is a probability distribution")
    assert_close(p, oracle.softmax(x), name="softmax(x)")


# --------------------------------------------------------------------------
# Linear layer
# --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_linear_forward(submission, rng):
    """linear_forward computes x @ W + b, shape (N, M)."""
    x = rng.standard_normal((4, 5))
    W = rng.standard_normal((5, 3))
    b = rng.standard_normal(3)
    out, _ = submission.layers.linear_forward(x, W, b)
    assert_close(out, x @ W + b, name="linear_forward(x, W, b)[0]")


@pytest.mark.points(3)
def test_linear_backward(check_linear_layer):
    """linear_backward returns dx (N, D), dW (D, M), db (M,) matching torch autograd."""
    check_linear_layer(n=4, d=5, m=3)


# --------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_mse_loss(submission, rng, oracle, check):
    """mse_loss = sum of squared errors / N, and its gradient, match torch."""
    pred = rng.standard_normal((6, 3))
    target = rng.standard_normal((6, 3))
    loss, dpred = submission.layers.mse_loss(pred, target)
    expected_loss, expected_dpred = oracle.mse_loss(pred, target)
    assert_close(check.scalar(loss, "loss"), expected_loss, name="mse_loss loss")
    assert_close(dpred, expected_dpred, name="mse_loss dpred")


@pytest.mark.points(3)
def test_softmax_cross_entropy_loss(submission, rng, oracle, check):
    """softmax_cross_entropy_loss (mean over the batch) and dscores match torch."""
    scores = rng.standard_normal((5, 4)) * 2
    y = rng.integers(0, 4, size=5)
    loss, dscores = submission.layers.softmax_cross_entropy_loss(scores, y)
    expected_loss, expected_dscores = oracle.cross_entropy(scores, y)
    assert_close(check.scalar(loss, "loss"), expected_loss, name="softmax_cross_entropy_loss loss")
    check.rows_sum_to(dscores, 0.0, "softmax_cross_entropy_loss dscores",
                      "shifting a row of scores by one constant leaves the loss unchanged")
    assert_close(dscores, expected_dscores, name="softmax_cross_entropy_loss dscores")
