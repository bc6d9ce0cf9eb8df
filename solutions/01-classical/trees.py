"""Decision trees (Gini impurity) and random forests, numpy only.

Labels y are non-negative integers, shape (N,). A tree is a nested dict:
- a leaf:          {"label": int}
- an internal node: {"feature": int, "threshold": float, "left": node, "right": node}
  where an example x goes LEFT when x[feature] <= threshold and right otherwise.

Conventions (the grader relies on them):
- Candidate thresholds of a feature are the midpoints (v_i + v_{i+1}) / 2 of
  consecutive DISTINCT values v_0 < v_1 < ... of that feature in the node.
- gain = gini(parent) - (N_left / N) gini(left) - (N_right / N) gini(right).
- The best split has the largest gain; among splits whose gain is within
  1e-12 of the largest, the lowest feature index wins, then the lowest
  threshold. A split with gain 0 is still a split.
- A leaf predicts the majority label of its examples, the smallest label on a tie.
"""

import numpy as np

GAIN_TIE = 1e-12


def gini(y):
    """Gini impurity 1 - sum_c p_c^2, with p_c the PROPORTION of label c in y.

    Inputs:
    - y: integer array of shape (N,)

    Returns:
    - impurity: float in [0, 1); 0.0 for an empty array
    """
    # BEGIN SOLUTION hint: §5.1: the Gini impurity of the labels
    y = np.asarray(y)
    if y.size == 0:
        return 0.0
    _, counts = np.unique(y, return_counts=True)
    p = counts / y.size
    impurity = float(1.0 - np.sum(p**2))
    # END SOLUTION
    return impurity


def best_split(X, y, features=None):
    """The best binary split of (X, y) over the given features (see the module docstring).

    Inputs:
    - X: array of shape (N, D)
    - y: integer array of shape (N,)
    - features: sequence of feature indices to search, or None for all D

    Returns a tuple of:
    - feature: int, or None when no feature has two distinct values
    - threshold: float, or None when there is no split
    - gain: float, the Gini gain of the split (0.0 when there is no split)
    """
    # BEGIN SOLUTION hint: §5.2: the split with the largest Gini gain over the allowed features (ties: see Conventions)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    n, d = X.shape
    features = range(d) if features is None else features
    _, y_idx = np.unique(y, return_inverse=True)
    onehot = np.eye(y_idx.max() + 1)[y_idx]
    total = onehot.sum(axis=0)
    parent = gini(y)
    n_left = np.arange(1, n)[:, None]
    n_right = n - n_left
    candidates = []
    for f in features:
        order = np.argsort(X[:, f], kind="stable")
        xs = X[order, f]
        valid = xs[1:] > xs[:-1]
        if not np.any(valid):
            continue
        left = np.cumsum(onehot[order], axis=0)[:-1]
        right = total - left
        g_left = 1.0 - np.sum((left / n_left) ** 2, axis=1)
        g_right = 1.0 - np.sum((right / n_right) ** 2, axis=1)
        gains = parent - (n_left[:, 0] * g_left + n_right[:, 0] * g_right) / n
        gains[~valid] = -np.inf
        candidates.append((int(f), xs, gains))
    if not candidates:
        return None, None, 0.0
    top = max(float(np.max(g)) for _, _, g in candidates)
    for f, xs, gains in candidates:
        hits = np.flatnonzero(gains >= top - GAIN_TIE)
        if hits.size:
            i = hits[0]
            feature, threshold, gain = f, float((xs[i] + xs[i + 1]) / 2.0), float(gains[i])
            break
    # END SOLUTION
    return feature, threshold, gain


def build_tree(X, y, max_depth, min_samples_split=2, max_features=None, rng=None, depth=0):
    """Grow a decision tree recursively, depth first, left subtree before right.

    A node (at depth `depth`; the root has depth 0) becomes a LEAF when
    - depth == max_depth (max_depth None means no limit), or
    - it has fewer than min_samples_split examples, or
    - it is pure (gini(y) == 0), or
    - best_split finds no split.
    Otherwise it draws the features to search, only when max_features is not None:
        features = np.sort(rng.choice(D, size=max_features, replace=False))
    (else all D features), splits at best_split(X, y, features) and grows the
    left child, then the right child, at depth + 1.

    Inputs:
    - X: array of shape (N, D), N >= 1
    - y: integer array of shape (N,), values >= 0
    - max_depth: int or None
    - min_samples_split: int
    - max_features: int (1 <= max_features <= D) or None for all features
    - rng: np.random.Generator, used only when max_features is not None
    - depth: int, the depth of this node

    Returns:
    - node: dict, a leaf or an internal node (see the module docstring)
    """
    # BEGIN SOLUTION hint: §5.3: grow the tree recursively until a stopping rule makes a leaf
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.int64)
    leaf = {"label": int(np.argmax(np.bincount(y)))}
    if (
        (max_depth is not None and depth >= max_depth)
        or y.size < min_samples_split
        or gini(y) == 0.0
    ):
        return leaf
    features = None
    if max_features is not None:
        features = np.sort(rng.choice(X.shape[1], size=max_features, replace=False))
    feature, threshold, _ = best_split(X, y, features)
    if feature is None:
        return leaf
    mask = X[:, feature] <= threshold
    args = (max_depth, min_samples_split, max_features, rng, depth + 1)
    node = {
        "feature": feature,
        "threshold": threshold,
        "left": build_tree(X[mask], y[mask], *args),
        "right": build_tree(X[~mask], y[~mask], *args),
    }
    # END SOLUTION
    return node


def tree_predict(node, X):
    """Labels of every row of X under the tree rooted at `node`.

    Inputs:
    - node: dict, a tree from build_tree
    - X: array of shape (M, D)

    Returns:
    - y_pred: integer array of shape (M,)
    """
    # BEGIN SOLUTION hint: §5.3: walk every row down to its leaf
    X = np.asarray(X, dtype=np.float64)
    y_pred = np.zeros(X.shape[0], dtype=np.int64)
    stack = [(node, np.arange(X.shape[0]))]
    while stack:
        current, idx = stack.pop()
        if "label" in current:
            y_pred[idx] = current["label"]
            continue
        go_left = X[idx, current["feature"]] <= current["threshold"]
        stack.append((current["left"], idx[go_left]))
        stack.append((current["right"], idx[~go_left]))
    # END SOLUTION
    return y_pred


class RandomForest:
    """A random forest: bootstrapped trees with per-node feature subsampling, majority vote.

    fit draws every random number from ONE generator, in exactly this order:

        rng = np.random.default_rng(seed)
        for t in range(n_trees):
            idx = rng.integers(0, N, size=N)          # bootstrap: N draws WITH replacement
            tree = build_tree(X[idx], y[idx], max_depth, min_samples_split, m, rng)

    where m = max(1, int(np.sqrt(D))) when max_features == "sqrt", else
    max_features (an int, or None for all features).

    After fit(X, y):
    - trees_: list of n_trees trees (nested dicts, see the module docstring)
    - bootstrap_indices_: list of n_trees integer arrays of shape (N,), the idx of each tree
    """

    def __init__(self, n_trees=10, max_depth=5, max_features="sqrt", min_samples_split=2, seed=0):
        """Inputs:
        - n_trees: int
        - max_depth: int or None
        - max_features: "sqrt", an int, or None (see the class docstring)
        - min_samples_split: int
        - seed: int
        """
        self.n_trees = n_trees
        self.max_depth = max_depth
        self.max_features = max_features
        self.min_samples_split = min_samples_split
        self.seed = seed

    def fit(self, X, y):
        """Grow n_trees trees on bootstrap samples of (X, y).

        Inputs:
        - X: array of shape (N, D)
        - y: integer array of shape (N,), values >= 0

        Returns self.
        """
        # BEGIN SOLUTION hint: §5.4: a bootstrap sample and a tree for every tree, in the order of the class docstring
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(np.int64)
        n, d = X.shape
        m = max(1, int(np.sqrt(d))) if self.max_features == "sqrt" else self.max_features
        rng = np.random.default_rng(self.seed)
        self.trees_ = []
        self.bootstrap_indices_ = []
        for _ in range(self.n_trees):
            idx = rng.integers(0, n, size=n)
            tree = build_tree(X[idx], y[idx], self.max_depth, self.min_samples_split, m, rng)
            self.trees_.append(tree)
            self.bootstrap_indices_.append(idx)
        # END SOLUTION
        return self

    def predict(self, X):
        """Majority vote of the trees (the smallest label on a tie).

        Inputs:
        - X: array of shape (M, D)

        Returns:
        - y_pred: integer array of shape (M,)
        """
        # BEGIN SOLUTION hint: §5.4: the majority vote of the trees (ties: see Conventions)
        votes = np.stack([tree_predict(tree, X) for tree in self.trees_])
        num_labels = int(votes.max()) + 1
        y_pred = np.array(
            [np.argmax(np.bincount(col, minlength=num_labels)) for col in votes.T], dtype=np.int64
        )
        # END SOLUTION
        return y_pred
