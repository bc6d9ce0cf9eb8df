"""Public tests for train.py (gradient descent, SGD, digits in both polarities).

The training loops are run on YOUR mlp.MLP, so they need a working mlp.py.
"""

import pytest


@pytest.mark.points(3)
def test_batch_gradient_descent(check_training):
    """batch_gradient_descent records the loss before each full-batch step and updates params in place."""
    check_training("batch_gradient_descent", [4, 6, 3], "relu", n=12, lr=0.5, epochs=5)


@pytest.mark.points(3)
def test_sgd_even_batches(check_training):
    """sgd follows the documented shuffling order (N = 10, batch_size = 5, 2 epochs)."""
    check_training("sgd", [4, 6, 3], "relu", n=10, lr=0.3, epochs=2, batch_size=5, seed=7)


@pytest.mark.points(4)
def test_train_digits_accuracy(check_digits_accuracy):
    """train_digits returns an MLP whose parameters reach 90% on held-out digits of both polarities."""
    check_digits_accuracy()
