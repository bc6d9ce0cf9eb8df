"""Hidden tests for svm.py: the margin convention, the bias, labels and separable data."""

import numpy as np
import pytest

from autograder.testing import assert_close


def _on_margin_case():
    """Integer data with examples exactly on the margin (y f(x) == 1), inside it and outside it."""
    w = np.array([1.0, -2.0])
    b = 1.0
    X = np.array(
        [[0.0, 0.0], [2.0, 2.0], [1.0, 1.0], [3.0, 0.0], [-2.0, 0.0], [0.0, 2.0], [1.0, 0.0]]
    )
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0, -1.0])
    # margins: 1 (on), 1 (on), 0 (inside), 4 (outside), 1 (on), 3 (outside), -2 (wrong side)
    return w, b, X, y


@pytest.mark.points(2)
def test_hinge_grad_on_the_margin(submission, hidden_oracle, check):
    """Examples exactly on the margin (y f(x) = 1) do not contribute to the sub-gradient."""
    w, b, X, y = _on_margin_case()
    for reg in (0.0, 0.5):
        loss, dw, db = submission.svm.hinge_loss_and_grad(w, b, X, y, reg)
        exp_loss, exp_dw, exp_db = hidden_oracle.hinge(w, b, X, y, reg)
        assert_close(check.scalar(loss, "loss"), exp_loss, name=f"loss (reg={reg})")
        assert_close(dw, exp_dw, name=f"dw (reg={reg})")
        assert_close(check.scalar(db, "db"), exp_db, name=f"db (reg={reg})")


@pytest.mark.points(1)
def test_hinge_bias_not_regularised(submission, rng, hidden_oracle, check):
    """The regulariser acts on w only: db does not depend on reg, dw gains reg * w."""
    X = rng.standard_normal((15, 3))
    y = np.where(rng.random(15) < 0.5, -1.0, 1.0)
    w = rng.standard_normal(3)
    b = 2.0
    for reg in (0.0, 3.0):
        loss, dw, db = submission.svm.hinge_loss_and_grad(w, b, X, y, reg)
        exp_loss, exp_dw, exp_db = hidden_oracle.hinge(w, b, X, y, reg)
        assert_close(check.scalar(loss, "loss"), exp_loss, name=f"loss (reg={reg})")
        assert_close(dw, exp_dw, name=f"dw (reg={reg})")
        assert_close(check.scalar(db, "db"), exp_db, name=f"db (reg={reg})")


@pytest.mark.points(1)
def test_hinge_loss_is_a_mean(submission, rng, hidden_oracle, check):
    """The hinge term is the mean over the N = 200 examples, not the sum."""
    X = rng.standard_normal((200, 2))
    y = np.where(rng.random(200) < 0.5, -1.0, 1.0)
    w = np.array([0.3, -0.2])
    loss, dw, db = submission.svm.hinge_loss_and_grad(w, -0.1, X, y, 0.0)
    exp_loss, exp_dw, exp_db = hidden_oracle.hinge(w, -0.1, X, y, 0.0)
    assert_close(check.scalar(loss, "loss"), exp_loss, name="loss")
    assert_close(dw, exp_dw, name="dw")


@pytest.mark.points(1)
def test_decision_functions(submission, rng):
    """decision_function is X @ w + b, and OneVsRestSVM.decision_function uses W_ and b_."""
    X = rng.standard_normal((6, 3))
    w = rng.standard_normal(3)
    assert_close(submission.svm.decision_function(X, w, 0.7), X @ w + 0.7, name="decision_function")
    clf = submission.svm.OneVsRestSVM()
    W = rng.standard_normal((3, 3))
    b = rng.standard_normal(3)
    clf.W_ = W
    clf.b_ = b
    assert_close(clf.decision_function(X), X @ W.T + b, name="OneVsRestSVM.decision_function")


@pytest.mark.points(1)
def test_svm_separates_separable_data(submission, rng, check):
    """train_linear_svm separates linearly separable data, and its loss goes down."""
    X = rng.uniform(-3, 3, size=(100, 2))
    score = X @ np.array([1.0, 2.0]) - 0.5
    keep = np.abs(score) > 0.8
    X, y = X[keep], np.where(score[keep] > 0, 1.0, -1.0)
    w, b, losses = submission.svm.train_linear_svm(X, y, 1e-3, 0.5, 300)
    pred = np.where(X @ np.asarray(w) + float(b) > 0, 1.0, -1.0)
    check.labels(pred, y, "sign(X @ w + b) on the training data")
    losses = np.asarray(losses, dtype=np.float64)
    assert losses.shape == (300,), f"expected 300 losses, got shape {losses.shape}"
    assert losses[-1] < 0.2 * losses[0], "the training loss did not go down"


@pytest.mark.points(2)
def test_one_vs_rest_labels(submission, rng, oracle, hidden_oracle, check):
    """OneVsRestSVM with labels (3, 7, 8) trains on +1/-1 targets and predicts the original labels."""
    centers = [[0, 0, 0], [3, 0, 0], [0, 3, 0]]
    X, z = oracle.blobs(rng, 60, centers, std=0.7)
    labels = np.array([3, 7, 8])
    y = labels[z]
    clf = submission.svm.OneVsRestSVM(reg=0.02, lr=0.2, epochs=40)
    clf.fit(X, y)
    classes, W, b = hidden_oracle.one_vs_rest(X, y, 0.02, 0.2, 40)
    assert_close(clf.classes_, classes, name="classes_")
    assert_close(clf.W_, W, name="W_")
    assert_close(clf.b_, b, name="b_")
    X_test = rng.standard_normal((25, 3)) * 2
    expected = classes[np.argmax(X_test @ W.T + b, axis=1)]
    check.labels(clf.predict(X_test), expected, "predict")
