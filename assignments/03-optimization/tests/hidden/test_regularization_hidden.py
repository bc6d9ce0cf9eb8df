"""Hidden tests for regularization.py: biases and weight decay, pinned masks, other rates,
evaluation mode, running averages over several steps, and batch-norm gradients."""

import numpy as np
import pytest
import torch

from autograder.testing import assert_close


@pytest.mark.points(2)
def test_l2_penalty_biases_excluded(submission, rng):
    """l2_penalty leaves every bias out of the penalty and gives it a zero gradient."""
    params = {}
    for k, (d, m) in enumerate([(5, 4), (4, 3), (3, 2)], start=1):
        params[f"W{k}"] = rng.standard_normal((d, m))
        params[f"b{k}"] = 10.0 + rng.standard_normal(m)
    reg = 0.05
    penalty, grads = submission.regularization.l2_penalty(params, reg)
    expected = 0.5 * reg * sum(float(np.sum(params[f"W{k}"] ** 2)) for k in (1, 2, 3))
    assert np.ndim(penalty) == 0, "the penalty must be a scalar"
    assert_close(float(penalty), expected, name="penalty")
    for k in range(1, 4):
        assert_close(grads[f"W{k}"], reg * params[f"W{k}"], name=f"grads['W{k}']")
        assert_close(grads[f"b{k}"], np.zeros(params[f"b{k}"].shape), name=f"grads['b{k}']")


@pytest.mark.points(2)
def test_l2_gd_matches_torch_weight_decay_on_weights(submission, rng):
    """GD on data gradients + l2_penalty gradients equals torch SGD with weight_decay on the weights only."""
    N, D, M = 20, 4, 3
    X = rng.standard_normal((N, D))
    Y = rng.standard_normal((N, M))
    params0 = {"W": rng.standard_normal((D, M)), "b": 3.0 + rng.standard_normal(M)}
    lr, reg = 0.1, 0.2

    def data_grads(params):
        r = X @ params["W"] + params["b"] - Y
        return {"W": 2.0 * X.T @ r / N, "b": 2.0 * r.mean(axis=0)}

    opt = submission.optimizers.GD({k: v.copy() for k, v in params0.items()}, lr=lr)
    W = torch.tensor(params0["W"])
    b = torch.tensor(params0["b"])
    torch_opt = torch.optim.SGD([{"params": [W], "weight_decay": reg},
                                 {"params": [b], "weight_decay": 0.0}], lr=lr)
    current = {k: v.copy() for k, v in params0.items()}
    for t in range(10):
        g = data_grads(current)
        _, reg_grads = submission.regularization.l2_penalty(current, reg)
        opt.step({k: g[k] + reg_grads[k] for k in g})
        eg = data_grads({"W": W.numpy(), "b": b.numpy()})
        W.grad, b.grad = torch.tensor(eg["W"]), torch.tensor(eg["b"])
        torch_opt.step()
        current = opt.params
        assert_close(current["W"], W.numpy(), name=f"params['W'] after step {t + 1}")
        assert_close(current["b"], b.numpy(), name=f"params['b'] after step {t + 1}")


@pytest.mark.points(2)
def test_dropout_pinned_mask(submission, rng, seed):
    """dropout_forward draws its mask exactly as specified: default_rng(seed).random(x.shape) >= p."""
    p = 0.35
    x = rng.standard_normal((7, 9))
    out, _ = submission.regularization.dropout_forward(x, p, train=True, seed=seed)
    keep = np.random.default_rng(seed).random(x.shape) >= p
    assert_close(out, x * keep / (1 - p), name="dropout_forward(x, p, train=True, seed)")


@pytest.mark.points(1)
def test_dropout_other_rates(submission, rng, seed):
    """Dropout keeps about 1 - p of the units and the mean for p = 0.1 and 0.8, and is the identity for p = 0."""
    x = rng.standard_normal((10, 10))
    out, _ = submission.regularization.dropout_forward(x, 0.0, train=True, seed=seed)
    assert_close(out, x, name="dropout_forward with p = 0")
    ones = np.ones((300, 400))
    for p in (0.1, 0.8):
        out, _ = submission.regularization.dropout_forward(ones, p, train=True, seed=seed)
        mean = float(np.mean(out))
        assert abs(mean - 1.0) < 0.03, (
            f"dropout_forward(ones, p={p}, train=True) has mean {mean:.3f}, expected about 1: "
            "training-mode dropout must keep the expected value of every unit")
        assert abs((out != 0).mean() - (1 - p)) < 0.01, "the fraction of kept units is not 1 - p"


@pytest.mark.points(1)
def test_dropout_nd_and_eval_backward(submission, check, rng, seed):
    """Dropout on 3-D inputs keeps the shape and uses one mask forward and backward; in evaluation both passes are the identity."""
    p = 0.5
    x = rng.uniform(1.0, 2.0, size=(20, 30, 40))
    dout = rng.standard_normal(x.shape)
    out, cache = submission.regularization.dropout_forward(x, p, train=True, seed=seed)
    keep = check.dropout_mask(out, x, p, "dropout_forward on a 3-D input")
    dx = submission.regularization.dropout_backward(dout, cache)
    assert_close(dx, dout * keep / (1 - p), name="dropout_backward on a 3-D input (the forward's mask)")
    out, cache = submission.regularization.dropout_forward(x, p, train=False, seed=seed)
    assert_close(out, x, name="dropout_forward in evaluation mode on a 3-D input")
    dx = submission.regularization.dropout_backward(dout, cache)
    assert_close(dx, dout, name="dropout_backward in evaluation mode")


@pytest.mark.points(2)
def test_dropconnect_pinned_mask(submission, oracle, rng, seed):
    """DropConnect draws its mask exactly as specified, and its gradients use that mask."""
    p = 0.4
    N, D, M = 5, 6, 4
    x = rng.standard_normal((N, D))
    W = rng.standard_normal((D, M))
    b = rng.standard_normal(M)
    dout = rng.standard_normal((N, M))
    out, cache = submission.regularization.dropconnect_forward(x, W, b, p, train=True, seed=seed)
    keep = np.random.default_rng(seed).random(W.shape) >= p
    assert_close(out, x @ (W * keep / (1 - p)) + b, name="dropconnect_forward(x, W, b, p, True, seed)")
    dx, dW, db = submission.regularization.dropconnect_backward(dout, cache)
    edx, edW, edb = oracle.masked_linear_grads(x, W, b, keep, p, dout)
    assert_close(dx, edx, name="dx")
    assert_close(dW, edW, name="dW")
    assert_close(db, edb, name="db")


@pytest.mark.points(2)
def test_dropconnect_eval(submission, oracle, rng, seed):
    """DropConnect in evaluation mode is a plain linear layer, forward and backward."""
    N, D, M = 5, 6, 4
    x = rng.standard_normal((N, D))
    W = rng.standard_normal((D, M))
    b = rng.standard_normal(M)
    dout = rng.standard_normal((N, M))
    out, cache = submission.regularization.dropconnect_forward(x, W, b, 0.5, train=False, seed=seed)
    assert_close(out, x @ W + b, name="dropconnect_forward(..., train=False)")
    dx, dW, db = submission.regularization.dropconnect_backward(dout, cache)
    edx, edW, edb = oracle.masked_linear_grads(x, W, b, np.ones((D, M)), 0.0, dout)
    assert_close(dx, edx, name="dx in evaluation mode")
    assert_close(dW, edW, name="dW in evaluation mode")
    assert_close(db, edb, name="db in evaluation mode")


def _batchnorm(submission, rng, D, momentum, eps):
    bn = submission.regularization.BatchNorm(D, momentum=momentum, eps=eps)
    gamma = rng.uniform(0.5, 1.5, D)
    beta = rng.standard_normal(D)
    bn.gamma = gamma
    bn.beta = beta
    return bn, gamma, beta


def _train_steps(submission, oracle, rng, D, momentum, eps, steps, N=8):
    """A student BatchNorm after ``steps`` training batches, checked against F.batch_norm."""
    bn, gamma, beta = _batchnorm(submission, rng, D, momentum, eps)
    rm, rv = np.zeros(D), np.ones(D)
    for t in range(steps):
        x = rng.uniform(-2, 5, D) + rng.uniform(0.5, 3, D) * rng.standard_normal((N, D))
        out = bn.forward(x, train=True)
        eout, rm, rv = oracle.batch_norm(x, gamma, beta, rm, rv, True, momentum, eps)
        assert_close(out, eout, name=f"BatchNorm.forward(x, train=True) at step {t + 1}")
        assert_close(bn.running_mean, rm, name=f"running_mean after step {t + 1}")
        assert_close(bn.running_var, rv, name=f"running_var after step {t + 1}")
    return bn, gamma, beta, rm, rv


@pytest.mark.points(2)
def test_batchnorm_running_averages_several_steps(submission, oracle, rng):
    """BatchNorm's running mean and (unbiased) variance follow F.batch_norm over 4 steps, momentum 0.3."""
    _train_steps(submission, oracle, rng, D=5, momentum=0.3, eps=1e-3, steps=4, N=6)


def _running_averages(bn, rng, D):
    """Set the student's running_mean and running_var to random values; returns them."""
    running_mean, running_var = rng.uniform(-2.0, 2.0, D), rng.uniform(0.3, 3.0, D)
    bn.running_mean = running_mean.copy()
    bn.running_var = running_var.copy()
    return running_mean, running_var


@pytest.mark.points(2)
def test_batchnorm_eval_with_running_averages(submission, oracle, rng):
    """BatchNorm in evaluation uses the running averages (also for one example) and leaves them unchanged."""
    D, momentum, eps = 4, 0.2, 1e-3
    bn, gamma, beta = _batchnorm(submission, rng, D, momentum, eps)
    rm, rv = _running_averages(bn, rng, D)
    for N in (1, 6):
        x = rng.standard_normal((N, D))
        out = bn.forward(x, train=False)
        eout, _, _ = oracle.batch_norm(x, gamma, beta, rm, rv, False, momentum, eps)
        assert_close(out, eout, name=f"BatchNorm.forward(x, train=False) with N = {N}")
    assert_close(bn.running_mean, rm, name="running_mean after evaluation-mode calls")
    assert_close(bn.running_var, rv, name="running_var after evaluation-mode calls")


@pytest.mark.points(1)
def test_batchnorm_backward_eval_mode(submission, oracle, rng):
    """BatchNorm's evaluation-mode backward treats the running averages as constants (torch autograd)."""
    D, momentum, eps = 4, 0.2, 1e-3
    bn, gamma, beta = _batchnorm(submission, rng, D, momentum, eps)
    rm, rv = _running_averages(bn, rng, D)
    x = rng.standard_normal((5, D))
    dout = rng.standard_normal((5, D))
    bn.forward(x, train=False)
    dx, dgamma, dbeta = bn.backward(dout)
    edx, edgamma, edbeta = oracle.batch_norm_grads(x, gamma, beta, rm, rv, False, eps, dout)
    assert_close(dx, edx, name="dx in evaluation mode")
    assert_close(dgamma, edgamma, name="dgamma in evaluation mode")
    assert_close(dbeta, edbeta, name="dbeta in evaluation mode")


@pytest.mark.points(2)
def test_batchnorm_backward_small_batch_offset(submission, oracle, rng):
    """BatchNorm's training backward matches torch autograd for a batch of 3 far from zero mean."""
    N, D, eps = 3, 5, 1e-3
    bn, gamma, beta = _batchnorm(submission, rng, D, 0.1, eps)
    x = 50.0 + rng.standard_normal((N, D))
    dout = 2.0 + rng.standard_normal((N, D))
    bn.forward(x, train=True)
    dx, dgamma, dbeta = bn.backward(dout)
    edx, edgamma, edbeta = oracle.batch_norm_grads(x, gamma, beta, np.zeros(D), np.ones(D),
                                                   True, eps, dout)
    assert_close(dx, edx, rtol=1e-5, atol=1e-8, name="dx")
    assert_close(dgamma, edgamma, name="dgamma")
    assert_close(dbeta, edbeta, name="dbeta")


def _left_alone(kept, original: np.ndarray, what: str) -> None:
    """``kept`` (an argument kept in the worker) still holds ``original`` after the call."""
    assert np.array_equal(np.asarray(kept.value()), original), (
        f"{what} in place; compute a new array (the caller may use it again)"
    )


@pytest.mark.points(2)
def test_backward_passes_leave_dout_unchanged(submission, oracle, check, rng, seed):
    """dropout, DropConnect and BatchNorm return new arrays and leave x and dout unchanged (no function modifies its inputs)."""
    p, N, D, M = 0.4, 8, 5, 3
    x = rng.uniform(1.0, 2.0, (N, D))
    kept_x = submission.keep(x.copy())
    out, cache = submission.regularization.dropout_forward(kept_x, p, train=True, seed=seed)
    _left_alone(kept_x, x, "dropout_forward changed its x argument")
    keep = check.dropout_mask(out, x, p, "dropout_forward")
    dout = rng.standard_normal((N, D))
    kept = submission.keep(dout.copy())
    dx = submission.regularization.dropout_backward(kept, cache)
    _left_alone(kept, dout, "dropout_backward changed its dout argument")
    assert_close(dx, dout * keep / (1 - p), name="dropout_backward (the forward's mask)")

    W, b = rng.standard_normal((D, M)), rng.standard_normal(M)
    _, cache = submission.regularization.dropconnect_forward(x, W, b, 0.0, train=False, seed=seed)
    dout = rng.standard_normal((N, M))
    kept = submission.keep(dout.copy())
    grads = submission.regularization.dropconnect_backward(kept, cache)
    _left_alone(kept, dout, "dropconnect_backward changed its dout argument")
    for name, got, want in zip(("dx", "dW", "db"), grads,
                               oracle.masked_linear_grads(x, W, b, np.ones((D, M)), 0.0, dout), strict=True):
        assert_close(got, want, name=f"dropconnect_backward's {name} in evaluation mode")

    eps = 1e-3
    bn, gamma, beta = _batchnorm(submission, rng, D, 0.1, eps)
    kept_x = submission.keep(x.copy())
    bn.forward(kept_x, train=True)
    _left_alone(kept_x, x, "BatchNorm.forward changed its x argument")
    dout = rng.standard_normal((N, D))
    kept = submission.keep(dout.copy())
    dx, dgamma, dbeta = bn.backward(kept)
    _left_alone(kept, dout, "BatchNorm.backward changed its dout argument")
    edx, edgamma, edbeta = oracle.batch_norm_grads(x, gamma, beta, np.zeros(D), np.ones(D), True, eps, dout)
    assert_close(dx, edx, rtol=1e-5, atol=1e-8, name="BatchNorm.backward's dx")
    assert_close(dgamma, edgamma, name="BatchNorm.backward's dgamma")
    assert_close(dbeta, edbeta, name="BatchNorm.backward's dbeta")
