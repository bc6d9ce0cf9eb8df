"""Public tests for svm.py: hinge loss and sub-gradient, training, one-vs-rest."""

import numpy as np
import pytest

from autograder.testing import assert_close, numerical_gradient


@pytest.mark.points(2)
def test_hinge_loss_and_grad(submission, rng, oracle, check):
    """hinge_loss_and_grad: the loss matches the formula and (dw, db) a numerical gradient."""
    X = rng.standard_normal((20, 4))
    y = np.where(rng.random(20) < 0.5, -1.0, 1.0)
    w = rng.standard_normal(4) * 0.5
    b = 0.3
    loss, dw, db = submission.svm.hinge_loss_and_grad(w, b, X, y, 0.1)
    assert_close(check.scalar(loss, "loss"), oracle.hinge(w, b, X, y, 0.1)[0], name="loss")

    def objective(theta):
        return np.array(oracle.hinge(theta[:-1], theta[-1], X, y, 0.1)[0])

    num = numerical_gradient(objective, np.append(w, b))
    assert_close(dw, num[:-1], rtol=1e-5, atol=1e-7, name="dw")
    assert_close(check.scalar(db, "db"), float(num[-1]), rtol=1e-5, atol=1e-7, name="db")


@pytest.mark.points(2)
def test_train_linear_svm(submission, rng, oracle):
    """train_linear_svm follows the documented sub-gradient descent exactly (25 steps)."""
    X, z = oracle.blobs(rng, 40, [[-1, -1, 0], [1, 1, 0]], std=1.0)
    y = np.where(z == 1, 1.0, -1.0)
    w, b, losses = submission.svm.train_linear_svm(X, y, 0.05, 0.2, 25)
    exp_w, exp_b, exp_losses = oracle.train_svm(X, y, 0.05, 0.2, 25)
    assert_close(np.asarray(losses, dtype=np.float64), np.array(exp_losses), name="losses")
    assert_close(w, exp_w, name="w")
    assert_close(float(b), exp_b, name="b")


@pytest.mark.points(2)
def test_one_vs_rest_svm(submission, rng, oracle):
    """OneVsRestSVM trains one +1/-1 SVM per class (W_, b_) and classifies 3 blobs well."""
    centers = [[0, 0], [4, 0], [0, 4]]
    X, y = oracle.blobs(rng, 90, centers, std=0.8)
    clf = submission.svm.OneVsRestSVM(reg=0.01, lr=0.1, epochs=60)
    clf.fit(X, y)
    classes, W, b = oracle.one_vs_rest(X, y, 0.01, 0.1, 60)
    assert_close(clf.W_, W, name="W_")
    assert_close(clf.b_, b, name="b_")
    X_test, y_test = oracle.blobs(rng, 60, centers, std=0.8)
    accuracy = float(np.mean(np.asarray(clf.predict(X_test)) == y_test))
    assert accuracy >= 0.9, f"test accuracy {accuracy:.2f} is below 0.9"
