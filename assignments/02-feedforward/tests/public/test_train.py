"""Public tests for train.py (gradient descent, SGD, digits).

The training loops are run on YOUR mlp.MLP, so they need a working mlp.py.
"""

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


@pytest.mark.points(3)
def test_batch_gradient_descent(submission, rng):
    """batch_gradient_descent records the loss before each full-batch step and updates params in place."""
    sizes = [4, 6, 3]
    params = _random_params(rng, sizes)
    X = rng.standard_normal((12, 4))
    y = rng.integers(0, 3, size=12)
    model = _make_model(submission, sizes, "relu", params)
    losses = submission.train.batch_gradient_descent(model, X, y, lr=0.5, epochs=5)
    expected_losses, expected_params = _torch_train(params, X, y, "relu", 0.5, [np.arange(12)] * 5)
    _check_trajectory(losses, model, expected_losses, expected_params, "batch_gradient_descent")


@pytest.mark.points(3)
def test_sgd_even_batches(submission, rng):
    """sgd follows the documented shuffling order (N = 10, batch_size = 5, 2 epochs)."""
    sizes = [4, 6, 3]
    params = _random_params(rng, sizes)
    X = rng.standard_normal((10, 4))
    y = rng.integers(0, 3, size=10)
    model = _make_model(submission, sizes, "relu", params)
    losses = submission.train.sgd(model, X, y, lr=0.3, epochs=2, batch_size=5, seed=7)
    batches = _sgd_batches(10, epochs=2, batch_size=5, seed=7)
    expected_losses, expected_params = _torch_train(params, X, y, "relu", 0.3, batches)
    _check_trajectory(losses, model, expected_losses, expected_params, "sgd")


@pytest.mark.points(4)
def test_train_digits_validation(submission):
    """train_digits reaches at least 93% accuracy on the validation split it is given."""
    X_train, y_train, X_val, y_val, _, _ = _digits_splits()
    model = submission.train.train_digits(X_train, y_train, X_val, y_val, seed=0)
    pred = np.asarray(model.predict(X_val))
    assert pred.shape == y_val.shape, f"predict returned shape {pred.shape}, expected {y_val.shape}"
    accuracy = float(np.mean(pred == y_val))
    assert accuracy >= 0.93, f"validation accuracy {accuracy:.3f} < 0.93"
