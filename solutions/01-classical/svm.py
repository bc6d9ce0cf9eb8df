"""Linear support vector machine trained by sub-gradient descent, one-vs-rest.

Binary problem: labels y in {-1, +1}, weights w (D,), bias b (float),
decision function f(x) = x . w + b, margin of example n: m_n = y_n f(x_n).

Objective (the bias is NOT regularised):

    loss(w, b) = 0.5 * reg * ||w||^2 + (1/N) sum_n max(0, 1 - m_n)

Sub-gradient (the convention at the kink m_n == 1 is the SAME as for m_n > 1:
an example exactly on the margin contributes nothing):

    active_n = (m_n < 1)                                   strictly less
    dw = reg * w - (1/N) sum_n active_n y_n x_n
    db =         - (1/N) sum_n active_n y_n
"""

import numpy as np


def decision_function(X, w, b):
    """Signed scores of a linear classifier.

    Inputs:
    - X: array of shape (N, D)
    - w: array of shape (D,)
    - b: float

    Returns:
    - scores: array of shape (N,), X @ w + b
    """
    # BEGIN SOLUTION hint: §4.1: the score of every row
    scores = X @ w + b
    # END SOLUTION
    return scores


def hinge_loss_and_grad(w, b, X, y, reg):
    """L2-regularised mean hinge loss and its sub-gradient (see the module docstring).

    Inputs:
    - w: array of shape (D,)
    - b: float
    - X: array of shape (N, D)
    - y: array of shape (N,), values in {-1, +1}
    - reg: float >= 0

    Returns a tuple of:
    - loss: float
    - dw: array of shape (D,)
    - db: float
    """
    # BEGIN SOLUTION hint: §4.1: the regularised mean hinge loss and a sub-gradient of it
    n = X.shape[0]
    margins = y * decision_function(X, w, b)
    active = (margins < 1).astype(np.float64)
    loss = float(0.5 * reg * np.dot(w, w) + np.sum(np.maximum(0.0, 1.0 - margins)) / n)
    dw = reg * w - (active * y) @ X / n
    db = float(-np.sum(active * y) / n)
    # END SOLUTION
    return loss, dw, db


def train_linear_svm(X, y, reg=1e-2, lr=0.1, epochs=200):
    """Full-batch sub-gradient descent on hinge_loss_and_grad, in this order:

        w = np.zeros(D); b = 0.0
        for epoch in range(epochs):
            loss, dw, db = hinge_loss_and_grad(w, b, X, y, reg)
            losses.append(loss)                  # BEFORE the update
            w = w - lr * dw
            b = b - lr * db

    Inputs:
    - X: array of shape (N, D)
    - y: array of shape (N,), values in {-1, +1}
    - reg: float, L2 regularisation strength
    - lr: float, constant step size
    - epochs: int, number of steps

    Returns a tuple of:
    - w: array of shape (D,)
    - b: float
    - losses: list of epochs floats
    """
    # BEGIN SOLUTION hint: §4.2: full-batch sub-gradient descent from zero, recording each loss before its step
    w = np.zeros(X.shape[1])
    b = 0.0
    losses = []
    for _ in range(epochs):
        loss, dw, db = hinge_loss_and_grad(w, b, X, y, reg)
        losses.append(loss)
        w = w - lr * dw
        b = b - lr * db
    # END SOLUTION
    return w, b, losses


class OneVsRestSVM:
    """Multi-class linear SVM: one binary SVM per class, class c against the rest.

    For the c-th class of classes_, the binary labels are +1 where y ==
    classes_[c] and -1 elsewhere, and (W_[c], b_[c]) = train_linear_svm(X,
    those labels, reg, lr, epochs)[:2]. A prediction is the class whose
    classifier gives the largest score (the first such class on a tie).

    After fit(X, y):
    - classes_: the sorted distinct labels, shape (C,)
    - W_: array of shape (C, D)
    - b_: array of shape (C,)
    """

    def __init__(self, reg=1e-2, lr=0.1, epochs=200):
        """Inputs: reg, lr, epochs as in train_linear_svm."""
        self.reg = reg
        self.lr = lr
        self.epochs = epochs

    def fit(self, X, y):
        """Train the C binary classifiers.

        Inputs:
        - X: array of shape (N, D)
        - y: integer array of shape (N,)

        Returns self.
        """
        # BEGIN SOLUTION hint: §4.3: one binary SVM per class, that class against all the others
        self.classes_ = np.unique(y)
        W, b = [], []
        for c in self.classes_:
            yc = np.where(y == c, 1.0, -1.0)
            wc, bc, _ = train_linear_svm(X, yc, self.reg, self.lr, self.epochs)
            W.append(wc)
            b.append(bc)
        self.W_ = np.array(W)
        self.b_ = np.array(b)
        # END SOLUTION
        return self

    def decision_function(self, X):
        """Scores of every class for every row of X.

        Inputs:
        - X: array of shape (N, D)

        Returns:
        - scores: array of shape (N, C); scores[n, c] = X[n] . W_[c] + b_[c]
        """
        # BEGIN SOLUTION hint: §4.3: every class's score for every row
        scores = X @ self.W_.T + self.b_
        # END SOLUTION
        return scores

    def predict(self, X):
        """The class with the largest score, for every row of X.

        Inputs:
        - X: array of shape (N, D)

        Returns:
        - y_pred: array of shape (N,), values from classes_
        """
        # BEGIN SOLUTION hint: §4.3: the class with the highest score, as a label from classes_
        y_pred = self.classes_[np.argmax(self.decision_function(X), axis=1)]
        # END SOLUTION
        return y_pred
