"""Public tests for layers.py (activations, softmax, linear layer, losses)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.testing import assert_close, grad_check


def _t(a, grad=False):
    """float64 torch tensor from a numpy array."""
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def _scalar(value, name):
    """The student's scalar loss as a python float (fails on arrays of size > 1)."""
    assert np.ndim(value) == 0, f"{name} must be a scalar, got an array of shape {np.shape(value)}"
    return float(value)


def _torch_backward(fn, x, dout):
    """(fn(x), d sum(fn(x) * dout) / dx) computed with torch autograd."""
    xt = _t(x, grad=True)
    out = fn(xt)
    out.backward(_t(dout))
    return out.detach().numpy(), xt.grad.numpy()


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
def test_relu_backward(submission, rng):
    """relu_backward matches torch autograd on random inputs."""
    x = rng.standard_normal((4, 5))
    dout = rng.standard_normal((4, 5))
    _, cache = submission.layers.relu_forward(x)
    dx = submission.layers.relu_backward(dout, cache)
    _, expected = _torch_backward(torch.relu, x, dout)
    assert_close(dx, expected, name="relu_backward(dout, cache)")


@pytest.mark.points(1)
def test_sigmoid_forward(submission, rng):
    """sigmoid_forward returns 1 / (1 + exp(-x))."""
    x = rng.standard_normal((3, 6)) * 3
    out, _ = submission.layers.sigmoid_forward(x)
    assert_close(out, torch.sigmoid(_t(x)).numpy(), name="sigmoid_forward(x)[0]")


@pytest.mark.points(2)
def test_sigmoid_backward(submission, rng):
    """sigmoid_backward (with the cache from sigmoid_forward) matches torch autograd."""
    x = rng.standard_normal((3, 6)) * 3
    dout = rng.standard_normal((3, 6))
    _, cache = submission.layers.sigmoid_forward(x)
    dx = submission.layers.sigmoid_backward(dout, cache)
    _, expected = _torch_backward(torch.sigmoid, x, dout)
    assert_close(dx, expected, name="sigmoid_backward(dout, cache)")


@pytest.mark.points(1)
def test_tanh_forward(submission, rng):
    """tanh_forward returns tanh(x)."""
    x = rng.standard_normal((5, 2)) * 3
    out, _ = submission.layers.tanh_forward(x)
    assert_close(out, np.tanh(x), name="tanh_forward(x)[0]")


@pytest.mark.points(2)
def test_tanh_backward(submission, rng):
    """tanh_backward agrees with a numerical gradient of tanh_forward."""
    x = rng.standard_normal((3, 4))
    dout = rng.standard_normal((3, 4))
    _, cache = submission.layers.tanh_forward(x)
    dx = submission.layers.tanh_backward(dout, cache)
    grad_check(
        lambda z: submission.layers.tanh_forward(z)[0],
        x,
        dx,
        dout=dout,
        name="tanh_backward(dout, cache)",
    )


# --------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_softmax(submission, rng):
    """softmax of a batch of scores matches torch.softmax over the last axis."""
    x = rng.standard_normal((4, 5)) * 2
    p = submission.layers.softmax(x)
    assert_close(p, torch.softmax(_t(x), dim=-1).numpy(), name="softmax(x)")
    assert_close(np.sum(p, axis=-1), np.ones(4), name="softmax(x).sum(axis=-1)")


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
def test_linear_backward(submission, rng):
    """linear_backward returns dx (N, D), dW (D, M), db (M,) matching torch autograd."""
    x = rng.standard_normal((4, 5))
    W = rng.standard_normal((5, 3))
    b = rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    _, cache = submission.layers.linear_forward(x, W, b)
    dx, dW, db = submission.layers.linear_backward(dout, cache)
    xt, Wt, bt = _t(x, True), _t(W, True), _t(b, True)
    (xt @ Wt + bt).backward(_t(dout))
    assert_close(dx, xt.grad.numpy(), name="dx")
    assert_close(dW, Wt.grad.numpy(), name="dW")
    assert_close(db, bt.grad.numpy(), name="db")


# --------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_mse_loss(submission, rng):
    """mse_loss = sum of squared errors / N, and its gradient, match torch."""
    pred = rng.standard_normal((6, 3))
    target = rng.standard_normal((6, 3))
    loss, dpred = submission.layers.mse_loss(pred, target)
    pt = _t(pred, True)
    expected = ((pt - _t(target)) ** 2).sum() / 6
    expected.backward()
    assert_close(_scalar(loss, "loss"), expected.item(), name="mse_loss loss")
    assert_close(dpred, pt.grad.numpy(), name="mse_loss dpred")


@pytest.mark.points(3)
def test_softmax_cross_entropy_loss(submission, rng):
    """softmax_cross_entropy_loss (mean over the batch) and dscores match torch."""
    scores = rng.standard_normal((5, 4)) * 2
    y = rng.integers(0, 4, size=5)
    loss, dscores = submission.layers.softmax_cross_entropy_loss(scores, y)
    st = _t(scores, True)
    expected = F.cross_entropy(st, torch.from_numpy(y))
    expected.backward()
    assert_close(_scalar(loss, "loss"), expected.item(), name="softmax_cross_entropy_loss loss")
    assert_close(dscores, st.grad.numpy(), name="softmax_cross_entropy_loss dscores")
