"""Public tests for train.py (gradient descent, SGD, digits).

The training loops are run on YOUR mlp.MLP, so they need a working mlp.py.
"""

import numpy as np
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
def test_train_digits_validation(submission, oracle):
    """train_digits reaches at least 93% accuracy on the validation split it is given."""
    X_train, y_train, X_val, y_val, _, _ = oracle.digits_splits()
    model = submission.train.train_digits(X_train, y_train, X_val, y_val, seed=0)
    pred = np.asarray(model.predict(X_val))
    assert pred.shape == y_val.shape, f"predict returned shape {pred.shape}, expected {y_val.shape}"
    accuracy = float(np.mean(pred == y_val))
    assert accuracy >= 0.93, f"validation accuracy {accuracy:.3f} < 0.93"
