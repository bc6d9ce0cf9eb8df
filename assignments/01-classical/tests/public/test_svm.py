"""Public tests for svm.py: hinge loss and sub-gradient, training, one-vs-rest."""

import numpy as np
import pytest

from autograder.testing import assert_close, numerical_gradient


def _objective(oracle, X, y, reg):
    """theta = (w, b) -> the documented loss, from scikit-learn's hinge_loss."""
    return lambda theta: np.array(oracle.svm_objective(theta[:-1], theta[-1], X, y, reg))


@pytest.mark.points(2)
def test_hinge_loss_and_grad(submission, rng, oracle, check):
    """hinge_loss_and_grad: the loss matches the formula and (dw, db) a numerical gradient."""
    X = rng.standard_normal((20, 4))
    y = np.where(rng.random(20) < 0.5, -1.0, 1.0)
    w = rng.standard_normal(4) * 0.5
    b = 0.3
    loss, dw, db = submission.svm.hinge_loss_and_grad(w, b, X, y, 0.1)
    assert_close(check.scalar(loss, "loss"), oracle.svm_objective(w, b, X, y, 0.1), name="loss")
    num = numerical_gradient(_objective(oracle, X, y, 0.1), np.append(w, b))
    assert_close(dw, num[:-1], rtol=1e-5, atol=1e-7, name="dw")
    assert_close(check.scalar(db, "db"), float(num[-1]), rtol=1e-5, atol=1e-7, name="db")


@pytest.mark.points(2)
def test_train_linear_svm(submission, rng, oracle):
    """train_linear_svm follows the documented sub-gradient descent exactly (25 steps).

    Checked step by step, without re-implementing it: a run of e epochs returns the
    parameters after step e, so every step must be (w, b) -= lr * gradient of the
    loss (numerical), and losses[e] of the long run must be the loss of those
    parameters (recorded before step e + 1); losses[0] is the loss at w = 0, b = 0.
    """
    X, z = oracle.blobs(rng, 40, [[-1, -1, 0], [1, 1, 0]], std=1.0)
    y = np.where(z == 1, 1.0, -1.0)
    reg, lr = 0.05, 0.2
    objective = _objective(oracle, X, y, reg)
    w, b, losses = submission.svm.train_linear_svm(X, y, reg, lr, 25)
    losses = np.asarray(losses, dtype=np.float64)
    assert losses.shape == (25,), f"expected 25 losses, got shape {losses.shape}"
    # epochs -> (w, b) after that many steps
    after = {0: np.zeros(X.shape[1] + 1), 25: np.append(np.asarray(w, np.float64), float(b))}
    for epochs in (1, 2, 3, 4, 5, 24):
        w_e, b_e, losses_e = submission.svm.train_linear_svm(X, y, reg, lr, epochs)
        assert_close(
            np.asarray(losses_e, dtype=np.float64),
            losses[:epochs],
            name=f"losses of a {epochs}-epoch run (the first {epochs} of a 25-epoch run)",
        )
        after[epochs] = np.append(np.asarray(w_e, dtype=np.float64), float(b_e))
    for step in (1, 2, 3, 4, 5, 25):
        start = after[step - 1]
        expected = start - lr * numerical_gradient(objective, start)
        got = after[step]
        assert_close(got[:-1], expected[:-1], rtol=1e-6, atol=1e-9, name=f"w after {step} steps")
        assert_close(got[-1], expected[-1], rtol=1e-6, atol=1e-9, name=f"b after {step} steps")
    for epoch in (0, 1, 2, 3, 4, 5, 24):
        assert_close(
            losses[epoch],
            float(objective(after[epoch])),
            name=f"losses[{epoch}] (the loss before step {epoch + 1})",
        )


@pytest.mark.points(1)
def test_one_vs_rest_svm(submission, rng, oracle):
    """OneVsRestSVM trains one +1/-1 SVM per class (W_, b_) and classifies 3 blobs well.

    After one epoch from zeros every example is active, so the first step has a
    closed form: W_[c] = lr * mean_n(t_n x_n), b_[c] = lr * mean_n(t_n), with
    targets t_n = +1 for class c and -1 for the others.
    """
    centers = [[0, 0], [4, 0], [0, 4]]
    X, y = oracle.blobs(rng, 90, centers, std=0.8)
    labels = np.array([0, 1, 2])
    targets = np.where(y[:, None] == labels[None, :], 1.0, -1.0)  # (N, C)
    one = submission.svm.OneVsRestSVM(reg=0.01, lr=0.1, epochs=1)
    one.fit(X, y)
    assert_close(one.classes_, labels, name="classes_")
    assert_close(one.W_, 0.1 * targets.T @ X / len(X), name="W_ after one epoch")
    assert_close(one.b_, 0.1 * targets.mean(axis=0), name="b_ after one epoch")
    clf = submission.svm.OneVsRestSVM(reg=0.01, lr=0.1, epochs=60)
    clf.fit(X, y)
    assert np.shape(clf.W_) == (3, 2), f"W_ has shape {np.shape(clf.W_)}, expected (3, 2)"
    assert np.shape(clf.b_) == (3,), f"b_ has shape {np.shape(clf.b_)}, expected (3,)"
    X_test, y_test = oracle.blobs(rng, 60, centers, std=0.8)
    accuracy = float(np.mean(np.asarray(clf.predict(X_test)) == y_test))
    assert accuracy >= 0.9, f"test accuracy {accuracy:.2f} is below 0.9"
