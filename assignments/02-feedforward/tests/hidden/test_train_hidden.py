"""Hidden tests for train.py: exact SGD trajectories and held-out digits accuracy."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.testing import assert_close

ACTS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


def _random_params(rng, sizes):
    params = {}
    for k in range(1, len(sizes)):
        params[f"W{k}"] = rng.standard_normal((sizes[k - 1], sizes[k])) / np.sqrt(sizes[k - 1])
        params[f"b{k}"] = 0.1 * rng.standard_normal(sizes[k])
    return params


def _make_model(submission, sizes, activation, params):
    model = submission.mlp.MLP(sizes, activation=activation, seed=0)
    model.params = {k: v.copy() for k, v in params.items()}
    return model


def _torch_loss(tp, X, y, activation):
    num_layers = len(tp) // 2
    h = torch.from_numpy(X)
    for k in range(1, num_layers + 1):
        h = h @ tp[f"W{k}"] + tp[f"b{k}"]
        if k < num_layers:
            h = ACTS[activation](h)
    return F.cross_entropy(h, torch.from_numpy(y))


def _torch_train(params, X, y, activation, lr, batches):
    """Plain gradient steps on the given sequence of index arrays."""
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    losses = []
    for idx in batches:
        loss = _torch_loss(tp, X[idx], y[idx], activation)
        losses.append(loss.item())
        grads = torch.autograd.grad(loss, list(tp.values()))
        with torch.no_grad():
            for p, g in zip(tp.values(), grads, strict=True):
                p -= lr * g
    return losses, {k: v.detach().numpy() for k, v in tp.items()}


def _sgd_batches(n, epochs, batch_size, seed):
    """The documented SGD order: a new rng.permutation(n) every epoch, cut in order."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        batches += [perm[i : i + batch_size] for i in range(0, n, batch_size)]
    return batches


def _check_trajectory(losses, model, expected_losses, expected_params, what):
    losses = [float(v) for v in losses]
    assert len(losses) == len(expected_losses), (
        f"{what} returned {len(losses)} losses, expected {len(expected_losses)}"
    )
    assert_close(np.array(losses), np.array(expected_losses), name=f"{what} losses")
    final = model.params
    for k, v in expected_params.items():
        assert_close(final[k], v, name=f"model.params[{k!r}] after {what}")


def _digits_splits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = digits.data / 16.0
    y = digits.target
    X_trval, X_test, y_trval, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    X_train, X_val, y_train, y_val = train_test_split(
        X_trval, y_trval, test_size=0.2, random_state=0
    )
    return X_train, y_train, X_val, y_val, X_test, y_test


@pytest.mark.points(6)
def test_sgd_uneven_batches_multi_epoch(submission, rng):
    """sgd reshuffles every epoch and keeps the smaller last batch (N = 23, batch_size = 5, 3 epochs, tanh)."""
    sizes = [5, 6, 4, 3]
    params = _random_params(rng, sizes)
    X = rng.standard_normal((23, 5))
    y = rng.integers(0, 3, size=23)
    model = _make_model(submission, sizes, "tanh", params)
    losses = submission.train.sgd(model, X, y, lr=0.2, epochs=3, batch_size=5, seed=2024)
    batches = _sgd_batches(23, epochs=3, batch_size=5, seed=2024)
    expected_losses, expected_params = _torch_train(params, X, y, "tanh", 0.2, batches)
    _check_trajectory(losses, model, expected_losses, expected_params, "sgd")


@pytest.mark.points(1)
def test_sgd_batch_larger_than_dataset(submission, rng):
    """sgd with batch_size > N takes one step on the whole (shuffled) data set per epoch."""
    sizes = [3, 4, 2]
    params = _random_params(rng, sizes)
    X = rng.standard_normal((6, 3))
    y = rng.integers(0, 2, size=6)
    model = _make_model(submission, sizes, "sigmoid", params)
    losses = submission.train.sgd(model, X, y, lr=0.5, epochs=3, batch_size=10, seed=1)
    batches = _sgd_batches(6, epochs=3, batch_size=10, seed=1)
    expected_losses, expected_params = _torch_train(params, X, y, "sigmoid", 0.5, batches)
    _check_trajectory(losses, model, expected_losses, expected_params, "sgd")


@pytest.mark.points(2)
def test_batch_gradient_descent_deep(submission, rng):
    """batch_gradient_descent on a 3-layer tanh network follows torch for 8 steps."""
    sizes = [4, 7, 5, 3]
    params = _random_params(rng, sizes)
    X = rng.standard_normal((15, 4))
    y = rng.integers(0, 3, size=15)
    model = _make_model(submission, sizes, "tanh", params)
    losses = submission.train.batch_gradient_descent(model, X, y, lr=0.3, epochs=8)
    expected_losses, expected_params = _torch_train(params, X, y, "tanh", 0.3, [np.arange(15)] * 8)
    _check_trajectory(losses, model, expected_losses, expected_params, "batch_gradient_descent")


@pytest.mark.points(10)
def test_train_digits_heldout(submission):
    """train_digits reaches at least 93% accuracy on a held-out test split of the digits."""
    X_train, y_train, X_val, y_val, X_test, y_test = _digits_splits()
    model = submission.train.train_digits(X_train, y_train, X_val, y_val, seed=0)
    pred = np.asarray(model.predict(X_test))
    assert pred.shape == y_test.shape, (
        f"predict returned shape {pred.shape}, expected {y_test.shape}"
    )
    accuracy = float(np.mean(pred == y_test))
    assert accuracy >= 0.93, f"held-out test accuracy {accuracy:.3f} < 0.93"
