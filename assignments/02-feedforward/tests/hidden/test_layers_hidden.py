"""Hidden tests for layers.py: conventions, edge cases, numerical stability."""

import numpy as np
import pytest

from autograder.testing import assert_close

# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_relu_backward_at_zero(submission, rng):
    """relu_backward lets no gradient through where x == 0 or x < 0 (convention: gradient 0 at 0)."""
    x = rng.standard_normal((5, 6))
    x[rng.random((5, 6)) < 0.4] = 0.0
    x[0, 0] = 0.0
    dout = rng.standard_normal((5, 6))
    _, cache = submission.layers.relu_forward(x)
    dx = submission.layers.relu_backward(dout, cache)
    assert_close(dx, dout * (x > 0), name="relu_backward(dout, cache) with zeros in x")


@pytest.mark.points(2)
def test_sigmoid_backward_from_cached_output(submission, rng):
    """sigmoid_backward treats its cache as the sigmoid OUTPUT s and returns dout * s * (1 - s)."""
    s = 1.0 / (1.0 + np.exp(-2.0 * rng.standard_normal((4, 7))))
    dout = rng.standard_normal((4, 7))
    dx = submission.layers.sigmoid_backward(dout, s)
    assert_close(dx, dout * s * (1 - s), name="sigmoid_backward(dout, s)")


@pytest.mark.points(1)
def test_tanh_backward_from_cached_output(submission, rng):
    """tanh_backward treats its cache as the tanh OUTPUT t and returns dout * (1 - t**2)."""
    t = np.tanh(2.0 * rng.standard_normal((4, 7)))
    dout = rng.standard_normal((4, 7))
    dx = submission.layers.tanh_backward(dout, t)
    assert_close(dx, dout * (1 - t**2), name="tanh_backward(dout, t)")


@pytest.mark.points(1)
def test_sigmoid_extreme_inputs(submission, oracle):
    """sigmoid_forward is finite and exact for inputs like -1000 and 1000."""
    x = np.array([[-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0]])
    out, _ = submission.layers.sigmoid_forward(x)
    assert_close(out, oracle.activation("sigmoid", x), atol=1e-12, name="sigmoid_forward(x)[0]")


@pytest.mark.points(1)
def test_activations_preserve_shape(submission, rng, oracle):
    """relu, sigmoid and tanh work element-wise on 3-d inputs (forward and backward)."""
    x = rng.standard_normal((2, 3, 4))
    dout = rng.standard_normal((2, 3, 4))
    for name in ("relu", "sigmoid", "tanh"):
        out, cache = getattr(submission.layers, f"{name}_forward")(x)
        dx = getattr(submission.layers, f"{name}_backward")(dout, cache)
        expected_out, expected_dx = oracle.activation_and_grad(name, x, dout)
        assert_close(out, expected_out, name=f"{name}_forward(x)[0] for x of shape (2, 3, 4)")
        assert_close(dx, expected_dx, name=f"{name}_backward for x of shape (2, 3, 4)")


# --------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------


@pytest.mark.points(3)
def test_softmax_large_logits(submission, rng, oracle, check):
    """softmax stays finite and exact for logits around +1000 and -1000 (subtract the max)."""
    x = np.concatenate(
        [1000.0 + 5.0 * rng.standard_normal((3, 6)), -1000.0 + 5.0 * rng.standard_normal((2, 6))]
    )
    x[0, :] = 1000.0  # a row of ties
    p = submission.layers.softmax(x)
    check.rows_sum_to(p, 1.0, "softmax(x) for |x| ~ 1000",
                      "each row is a probability distribution")
    assert_close(p, oracle.softmax(x), name="softmax(x) for |x| ~ 1000")


@pytest.mark.points(1)
def test_softmax_last_axis_3d(submission, rng, oracle, check):
    """softmax of a 3-d array normalises over the last axis only."""
    x = rng.standard_normal((2, 3, 4)) * 3
    p = submission.layers.softmax(x)
    check.rows_sum_to(p, 1.0, "softmax(x) for x of shape (2, 3, 4)",
                      "only the last axis is normalised")
    assert_close(p, oracle.softmax(x), name="softmax(x) for x of shape (2, 3, 4)")


# --------------------------------------------------------------------------
# Linear layer
# --------------------------------------------------------------------------


@pytest.mark.points(3)
def test_linear_backward_square_weights(check_linear_layer):
    """linear_backward with a square W (D = M = 4) matches torch: dW is x.T @ dout, not its transpose."""
    check_linear_layer(n=6, d=4, m=4)


@pytest.mark.points(1)
def test_linear_single_sample(check_linear_layer):
    """linear_forward / linear_backward work for a batch of one (N = 1, D = 2, M = 5)."""
    check_linear_layer(n=1, d=2, m=5, forward=True)


@pytest.mark.points(1)
def test_linear_bias_gradient_sums_over_batch(submission, rng):
    """linear_backward's db is the SUM of dout over the batch (shape (M,))."""
    x = rng.standard_normal((7, 3))
    W = rng.standard_normal((3, 2))
    b = np.zeros(2)
    dout = rng.standard_normal((7, 2))
    _, cache = submission.layers.linear_forward(x, W, b)
    _, _, db = submission.layers.linear_backward(dout, cache)
    assert_close(db, dout.sum(axis=0), name="db")


# --------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_mse_loss_batch_average(submission, rng, check):
    """mse_loss divides by the batch size N: repeating the batch keeps the loss; (N,) inputs work too."""
    pred = rng.standard_normal((5, 3))
    target = rng.standard_normal((5, 3))
    loss1, dpred1 = submission.layers.mse_loss(pred, target)
    loss2, dpred2 = submission.layers.mse_loss(
        np.concatenate([pred, pred]), np.concatenate([target, target])
    )
    expected = float(np.sum((pred - target) ** 2) / 5)
    assert_close(check.scalar(loss1, "loss"), expected, name="mse_loss loss")
    assert_close(
        check.scalar(loss2, "loss"), expected, name="mse_loss loss on the batch repeated twice"
    )
    assert_close(
        dpred2,
        np.concatenate([dpred1, dpred1]) / 2,
        name="mse_loss dpred on the batch repeated twice",
    )
    p1, t1 = rng.standard_normal(8), rng.standard_normal(8)
    loss, dpred = submission.layers.mse_loss(p1, t1)
    assert_close(
        check.scalar(loss, "loss"),
        float(np.mean((p1 - t1) ** 2)),
        name="mse_loss loss for shape (N,)",
    )
    assert_close(dpred, 2 * (p1 - t1) / 8, name="mse_loss dpred for shape (N,)")


@pytest.mark.points(3)
def test_softmax_cross_entropy_large_logits(submission, rng, oracle, check):
    """softmax_cross_entropy_loss is finite and exact for scores of size ~1000 (log-sum-exp)."""
    scores = 1000.0 * rng.standard_normal((6, 5))
    scores[0] = [1000.0, 1000.0, 1000.0, -1000.0, 0.0]
    y = rng.integers(0, 5, size=6)
    y[0] = 3
    loss, dscores = submission.layers.softmax_cross_entropy_loss(scores, y)
    expected_loss, expected_dscores = oracle.cross_entropy(scores, y)
    assert_close(check.scalar(loss, "loss"), expected_loss, name="loss for scores ~ 1000")
    check.rows_sum_to(dscores, 0.0, "dscores for scores ~ 1000",
                      "shifting a row of scores by one constant leaves the loss unchanged")
    assert_close(dscores, expected_dscores, name="dscores for scores ~ 1000")


@pytest.mark.points(1)
def test_softmax_cross_entropy_batch_average(submission, rng, check):
    """softmax_cross_entropy_loss averages over the batch: repeating the batch keeps the loss."""
    scores = rng.standard_normal((4, 3))
    y = rng.integers(0, 3, size=4)
    loss1, dscores1 = submission.layers.softmax_cross_entropy_loss(scores, y)
    loss2, dscores2 = submission.layers.softmax_cross_entropy_loss(
        np.concatenate([scores, scores]), np.concatenate([y, y])
    )
    # The closed form first (scores ~ N(0, 1): no overflow), so that a self-consistent
    # wrong pair (zeros, a sum without the softmax) cannot pass on the invariants alone.
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    one_hot = np.eye(3)[y]
    expected_loss = float(-np.mean(np.log(probs[np.arange(4), y])))
    assert_close(check.scalar(loss1, "loss"), expected_loss, name="loss (mean over the batch)")
    assert_close(dscores1, (probs - one_hot) / 4, name="dscores (gradient of the mean)")
    assert_close(
        check.scalar(loss2, "loss"),
        check.scalar(loss1, "loss"),
        name="loss on the batch repeated twice",
    )
    assert_close(
        dscores2,
        np.concatenate([dscores1, dscores1]) / 2,
        name="dscores on the batch repeated twice",
    )


# --------------------------------------------------------------------------
# Inputs are not modified
# --------------------------------------------------------------------------


def _left_alone(kept, original: np.ndarray, what: str) -> None:
    """``kept`` (an argument kept in the worker) still holds ``original`` after the call."""
    assert np.array_equal(np.asarray(kept.value()), original), (
        f"{what} in place; compute a new array (the caller may use it again)"
    )


@pytest.mark.points(2)
def test_layers_leave_their_inputs_unchanged(submission, rng, oracle, check):
    """The backward passes and the losses return new arrays and leave dout, scores and targets unchanged."""
    x = rng.standard_normal((6, 5))
    x[rng.random(x.shape) < 0.3] = 0.0
    W, b = rng.standard_normal((5, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((6, 5))
    _, cache = submission.layers.relu_forward(x)
    kept = submission.keep(dout.copy())
    dx = submission.layers.relu_backward(kept, cache)
    _left_alone(kept, dout, "relu_backward changed its dout argument")
    assert_close(dx, oracle.activation_and_grad("relu", x, dout)[1], name="relu_backward(dout, cache)")
    for name in ("sigmoid", "tanh"):
        _, cache = getattr(submission.layers, f"{name}_forward")(x)
        kept = submission.keep(dout.copy())
        dx = getattr(submission.layers, f"{name}_backward")(kept, cache)
        _left_alone(kept, dout, f"{name}_backward changed its dout argument")
        assert_close(dx, oracle.activation_and_grad(name, x, dout)[1], name=f"{name}_backward(dout, cache)")
    dout = rng.standard_normal((6, 4))
    _, cache = submission.layers.linear_forward(x, W, b)
    kept = submission.keep(dout.copy())
    grads = submission.layers.linear_backward(kept, cache)
    _left_alone(kept, dout, "linear_backward changed its dout argument")
    for label, got, want in zip(("dx", "dW", "db"), grads, oracle.linear_grads(x, W, b, dout), strict=True):
        assert_close(got, want, name=f"linear_backward's {label}")
    scores = 3.0 * rng.standard_normal((6, 4))
    y = rng.integers(0, 4, size=6)
    kept = submission.keep(scores.copy())
    loss, dscores = submission.layers.softmax_cross_entropy_loss(kept, y)
    _left_alone(kept, scores, "softmax_cross_entropy_loss changed its scores argument")
    want_loss, want_dscores = oracle.cross_entropy(scores, y)
    assert_close(check.scalar(loss, "loss"), want_loss, name="softmax_cross_entropy_loss's loss")
    assert_close(dscores, want_dscores, name="softmax_cross_entropy_loss's dscores")
    pred, target = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    kept_pred, kept_target = submission.keep(pred.copy()), submission.keep(target.copy())
    loss, dpred = submission.layers.mse_loss(kept_pred, kept_target)
    _left_alone(kept_pred, pred, "mse_loss changed its pred argument")
    _left_alone(kept_target, target, "mse_loss changed its target argument")
    want_loss, want_dpred = oracle.mse_loss(pred, target)
    assert_close(check.scalar(loss, "loss"), want_loss, name="mse_loss's loss")
    assert_close(dpred, want_dpred, name="mse_loss's dpred")
