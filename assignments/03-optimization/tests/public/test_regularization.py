"""Public tests for regularization.py: L2 penalty, dropout, DropConnect, batch normalization."""

import numpy as np
import pytest
import torch

from autograder.testing import assert_close


def _scalar(value, name):
    assert np.ndim(value) == 0, f"{name} must be a scalar, got an array of shape {np.shape(value)}"
    return float(value)


# --------------------------------------------------------------------------
# L2 penalty
# --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_l2_penalty(submission, rng):
    """l2_penalty is 0.5 * reg * sum(W**2) over the weights only, with its gradient (torch autograd)."""
    params = {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(3),
              "W2": rng.standard_normal((3, 2)), "b2": rng.standard_normal(2)}
    reg = 0.3
    penalty, grads = submission.regularization.l2_penalty(params, reg)
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    expected = 0.5 * reg * sum((leaves[k] ** 2).sum() for k in ("W1", "W2"))
    expected.backward()
    assert_close(_scalar(penalty, "penalty"), expected.item(), name="penalty")
    assert sorted(grads) == sorted(params), f"grads keys are {sorted(grads)}, expected {sorted(params)}"
    for k, leaf in leaves.items():
        expected_grad = np.zeros_like(params[k]) if leaf.grad is None else leaf.grad.numpy()
        assert_close(grads[k], expected_grad, name=f"grads[{k!r}]")


# --------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------


@pytest.mark.points(2)
def test_dropout_train_statistics(submission, rng, seed):
    """Training-mode dropout drops about a fraction p, scales the rest by 1/(1-p), keeps the mean."""
    p = 0.3
    ones = np.ones((200, 500))
    out1, _ = submission.regularization.dropout_forward(ones, p, train=True, seed=seed + 1)
    assert np.shape(out1) == ones.shape, f"out has shape {np.shape(out1)}, expected {ones.shape}"
    mean = float(np.mean(out1))
    assert abs(mean - 1.0) < 0.02, (
        f"dropout_forward(ones, p=0.3, train=True) has mean {mean:.3f}, expected about 1: "
        "training-mode dropout must keep the expected value of every unit (inverted dropout)")
    x = rng.uniform(1.0, 2.0, size=(200, 500))
    out, _ = submission.regularization.dropout_forward(x, p, train=True, seed=seed)
    assert np.shape(out) == x.shape, f"out has shape {np.shape(out)}, expected {x.shape}"
    kept = out != 0
    assert abs(kept.mean() - (1 - p)) < 0.01, "the fraction of kept units is not close to 1 - p"
    assert_close(out[kept], x[kept] / (1 - p), name="kept units (should be x / (1 - p))")


@pytest.mark.points(1)
def test_dropout_eval_is_identity(submission, rng, seed):
    """Evaluation-mode dropout returns x unchanged."""
    x = rng.standard_normal((20, 30))
    out, _ = submission.regularization.dropout_forward(x, 0.5, train=False, seed=seed)
    assert_close(out, x, name="dropout_forward(x, train=False)")


@pytest.mark.points(1)
def test_dropout_backward(submission, check, rng, seed):
    """dropout_backward sends dout through the forward pass's kept units only, scaled by 1/(1-p)."""
    p = 0.4
    x = rng.uniform(1.0, 2.0, size=(100, 100))
    dout = rng.standard_normal((100, 100))
    out, cache = submission.regularization.dropout_forward(x, p, train=True, seed=seed)
    keep = check.dropout_mask(out, x, p, "dropout_forward(x, 0.4, train=True)")
    dx = submission.regularization.dropout_backward(dout, cache)
    assert_close(dx, dout * keep / (1 - p), name="dropout_backward(dout, cache)")


# --------------------------------------------------------------------------
# DropConnect
# --------------------------------------------------------------------------


def _effective_weights(submission, W, p, seed):
    """W * keep / (1 - p) as the student's layer uses it: its output on x = I with b = 0."""
    out, _ = submission.regularization.dropconnect_forward(
        np.eye(W.shape[0]), W, np.zeros(W.shape[1]), p, train=True, seed=seed)
    return out


@pytest.mark.points(2)
def test_dropconnect_forward(submission, rng, seed):
    """DropConnect drops about a fraction p of the weights, scales the rest by 1/(1-p), keeps the mean."""
    p = 0.25
    D, M = 200, 150
    W = rng.uniform(0.5, 1.5, size=(D, M))
    W_eff = _effective_weights(submission, W, p, seed)
    kept = W_eff != 0
    assert abs(kept.mean() - (1 - p)) < 0.01, "the fraction of kept weights is not close to 1 - p"
    assert_close(W_eff[kept], W[kept] / (1 - p), name="kept weights (should be W / (1 - p))")
    x = rng.standard_normal((5, D))
    b = rng.standard_normal(M)
    out, _ = submission.regularization.dropconnect_forward(x, W, b, p, train=True, seed=seed)
    assert_close(out, x @ W_eff + b, name="dropconnect_forward(x, W, b) (one mask for the batch)")
    ones_out, _ = submission.regularization.dropconnect_forward(
        np.ones((1, D)), np.ones((D, M)), np.zeros(M), p, train=True, seed=seed + 1)
    assert abs(ones_out.mean() / D - 1.0) < 0.02, "DropConnect must preserve the mean output"


@pytest.mark.points(2)
def test_dropconnect_backward(submission, oracle, rng, seed):
    """dropconnect_backward matches torch autograd through the same weight mask."""
    p = 0.5
    N, D, M = 6, 5, 4
    x = rng.standard_normal((N, D))
    W = rng.uniform(0.5, 1.5, size=(D, M))
    b = rng.standard_normal(M)
    dout = rng.standard_normal((N, M))
    keep = _effective_weights(submission, W, p, seed) != 0
    _, cache = submission.regularization.dropconnect_forward(x, W, b, p, train=True, seed=seed)
    dx, dW, db = submission.regularization.dropconnect_backward(dout, cache)
    edx, edW, edb = oracle.masked_linear_grads(x, W, b, keep, p, dout)
    assert_close(dx, edx, name="dx")
    assert_close(dW, edW, name="dW")
    assert_close(db, edb, name="db")


# --------------------------------------------------------------------------
# Batch normalization
# --------------------------------------------------------------------------


def _batchnorm(submission, rng, D, momentum=0.1, eps=1e-5):
    bn = submission.regularization.BatchNorm(D, momentum=momentum, eps=eps)
    gamma = rng.uniform(0.5, 1.5, D)
    beta = rng.standard_normal(D)
    bn.gamma = gamma
    bn.beta = beta
    return bn, gamma, beta


@pytest.mark.points(2)
def test_batchnorm_forward_train(submission, oracle, rng):
    """BatchNorm training forward and running averages match torch's F.batch_norm."""
    N, D = 16, 5
    bn, gamma, beta = _batchnorm(submission, rng, D)
    x = 3.0 + 2.0 * rng.standard_normal((N, D))
    out = bn.forward(x, train=True)
    eout, erm, erv = oracle.batch_norm(x, gamma, beta, np.zeros(D), np.ones(D), True, 0.1, 1e-5)
    assert_close(out, eout, name="BatchNorm.forward(x, train=True)")
    assert_close(bn.running_mean, erm, name="running_mean after one step")
    assert_close(bn.running_var, erv, name="running_var after one step")


@pytest.mark.points(1)
def test_batchnorm_eval_uses_running_averages(submission, oracle, check, rng):
    """BatchNorm in evaluation normalizes with its running_mean and running_var (torch's F.batch_norm)."""
    N, D = 16, 5
    bn, gamma, beta = _batchnorm(submission, rng, D)
    running_mean, running_var = rng.standard_normal(D), rng.uniform(0.5, 2.0, D)
    x = -1.0 + 0.5 * rng.standard_normal((N, D))
    out = check.batchnorm_eval_per_sample(bn, x, running_mean, running_var,
                                          "BatchNorm.forward(x, train=False)")
    eout, _, _ = oracle.batch_norm(x, gamma, beta, running_mean, running_var, False, 0.1, 1e-5)
    assert_close(out, eout, name="BatchNorm.forward(x, train=False)")


@pytest.mark.points(2)
def test_batchnorm_backward(submission, oracle, rng):
    """BatchNorm training backward (dx, dgamma, dbeta) matches torch autograd."""
    N, D = 10, 4
    bn, gamma, beta = _batchnorm(submission, rng, D)
    x = 1.0 + 2.0 * rng.standard_normal((N, D))
    dout = rng.standard_normal((N, D))
    bn.forward(x, train=True)
    dx, dgamma, dbeta = bn.backward(dout)
    edx, edgamma, edbeta = oracle.batch_norm_grads(x, gamma, beta, np.zeros(D), np.ones(D),
                                                   True, 1e-5, dout)
    assert_close(dx, edx, name="dx")
    assert_close(dgamma, edgamma, name="dgamma")
    assert_close(dbeta, edbeta, name="dbeta")
