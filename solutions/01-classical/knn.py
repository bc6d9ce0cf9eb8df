"""k-nearest neighbours: vectorised distances, majority vote, k by cross-validation.

Conventions (the grader relies on them):
- Data X has shape (N, D), one example per row; labels y are non-negative
  integers, shape (N,).
- Distances are Euclidean.
- The k nearest neighbours of a query are the first k training examples in
  ``np.argsort(dists_row, kind="stable")`` order: equal distances go to the
  lower training index first.
- The vote is a plain majority among the k labels; a tie between labels goes
  to the SMALLEST label (``np.argmax`` of ``np.bincount`` does exactly this).
"""

import numpy as np


def pairwise_distances(X, Y):
    """Euclidean distances between every row of X and every row of Y.

    Fully vectorised: no Python loops. Expand ||x - y||^2 = ||x||^2 + ||y||^2 -
    2 x.y; rounding can make that slightly negative, so clip it at 0 before the
    square root (the distance of a point to itself must be 0, never NaN).

    Inputs:
    - X: array of shape (N, D)
    - Y: array of shape (M, D)

    Returns:
    - dists: array of shape (N, M); dists[i, j] = ||X[i] - Y[j]||_2
    """
    # BEGIN SOLUTION hint: §1.1: every Euclidean distance at once, without Python loops and never NaN
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    sq = np.sum(X**2, axis=1)[:, None] + np.sum(Y**2, axis=1)[None, :] - 2.0 * X @ Y.T
    dists = np.sqrt(np.maximum(sq, 0.0))
    # END SOLUTION
    return dists


def knn_predict(X_train, y_train, X_test, k):
    """Predict labels by a majority vote of the k nearest training examples.

    Neighbours: the k SMALLEST distances, ties in distance broken by the lower
    training index (stable argsort). Vote: the most frequent label among the k;
    a tie goes to the smallest label.

    Inputs:
    - X_train: array of shape (N, D)
    - y_train: integer array of shape (N,), values >= 0
    - X_test: array of shape (M, D)
    - k: int, 1 <= k <= N

    Returns:
    - y_pred: integer array of shape (M,)
    """
    # BEGIN SOLUTION hint: §1.2: the majority label of each test point's k nearest training points (ties: see Conventions)
    y_train = np.asarray(y_train).astype(np.int64)
    dists = pairwise_distances(X_test, X_train)
    nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
    labels = y_train[nearest]
    num_labels = int(y_train.max()) + 1
    y_pred = np.array(
        [np.argmax(np.bincount(row, minlength=num_labels)) for row in labels], dtype=np.int64
    )
    # END SOLUTION
    return y_pred


def cross_validate_k(X, y, ks, num_folds):
    """Choose k for knn_predict by num_folds-fold cross-validation.

    The folds are contiguous and taken in order, without shuffling:
        folds = np.array_split(np.arange(N), num_folds)
    For fold f, the examples in folds[f] are the validation set and all the
    other examples (in their original order) the training set. The accuracy of
    a fold is the fraction of its validation examples that knn_predict labels
    correctly. The score of k is the mean accuracy over the num_folds folds.

    Inputs:
    - X: array of shape (N, D)
    - y: integer array of shape (N,)
    - ks: list of candidate values of k (ints)
    - num_folds: int, 2 <= num_folds <= N

    Returns a tuple of:
    - best_k: int, the k with the highest mean accuracy (the first in ks on a tie)
    - accuracies: float array of shape (len(ks),), the mean accuracy of each k
    """
    # BEGIN SOLUTION hint: §1.3: the mean validation accuracy of every k over the contiguous folds, and the best k
    n = X.shape[0]
    folds = np.array_split(np.arange(n), num_folds)
    accuracies = np.zeros(len(ks))
    for f, val_idx in enumerate(folds):
        train_idx = np.concatenate([folds[g] for g in range(num_folds) if g != f])
        for i, k in enumerate(ks):
            pred = knn_predict(X[train_idx], y[train_idx], X[val_idx], k)
            accuracies[i] += np.mean(pred == y[val_idx])
    accuracies /= num_folds
    best_k = int(ks[int(np.argmax(accuracies))])
    # END SOLUTION
    return best_k, accuracies
