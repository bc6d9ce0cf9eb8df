"""Hidden tests for train.py: exact SGD trajectories and held-out digits accuracy."""

import pytest


@pytest.mark.points(4)
def test_sgd_uneven_batches_multi_epoch(check_training):
    """sgd reshuffles every epoch and keeps the smaller last batch (N = 23, batch_size = 5, 3 epochs, tanh)."""
    check_training("sgd", [5, 6, 4, 3], "tanh", n=23, lr=0.2, epochs=3, batch_size=5, seed=2024)


@pytest.mark.points(1)
def test_sgd_batch_larger_than_dataset(check_training):
    """sgd with batch_size > N takes one step on the whole (shuffled) data set per epoch."""
    check_training("sgd", [3, 4, 2], "sigmoid", n=6, lr=0.5, epochs=3, batch_size=10, seed=1)


@pytest.mark.points(2)
def test_batch_gradient_descent_deep(check_training):
    """batch_gradient_descent on a 3-layer tanh network follows torch for 8 steps."""
    check_training("batch_gradient_descent", [4, 7, 5, 3], "tanh", n=15, lr=0.3, epochs=8)


@pytest.mark.points(10)
def test_train_digits_heldout(check_digits_accuracy):
    """train_digits' MLP reaches 90% on held-out digits whose polarities are drawn per submission."""
    check_digits_accuracy()
