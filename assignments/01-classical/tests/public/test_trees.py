"""Public tests for trees.py: Gini impurity, best split, tree growth, bootstrap samples."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(1)
def test_gini(submission, rng, oracle, check):
    """gini(y) matches scikit-learn's Gini impurity for several label arrays."""
    for y in (np.array([0, 0, 1, 1, 1]), rng.integers(0, 3, size=17), np.array([2, 2, 2])):
        value = check.scalar(submission.trees.gini(y), "gini(y)")
        assert_close(value, oracle.gini(y), name=f"gini(y) for {y.size} labels")


@pytest.mark.points(2)
def test_best_split(submission, rng, oracle, check):
    """best_split finds scikit-learn's best root split: same feature, threshold and Gini gain."""
    X = rng.standard_normal((40, 3))
    y = (X[:, 1] + 0.7 * rng.standard_normal(40) > 0.2).astype(np.int64)
    feature, threshold, gain = submission.trees.best_split(X, y)
    exp_f, exp_t, exp_gain = oracle.sklearn_stump(X, y)
    assert feature is not None and int(feature) == exp_f, "best_split chose the wrong feature"
    assert_close(float(threshold), exp_t, rtol=1e-6, atol=1e-6, name="threshold")
    assert_close(check.scalar(gain, "gain"), exp_gain, name="gain")


# A hand-made tree and where its points land (x[feature] <= threshold goes left).
_TREE = {
    "feature": 1,
    "threshold": 0.5,
    "left": {
        "feature": 0,
        "threshold": -1.0,
        "left": {"label": 3},
        "right": {"label": 0},
    },
    "right": {"feature": 0, "threshold": 2.0, "left": {"label": 2}, "right": {"label": 1}},
}
_POINTS = np.array(
    [[-2.0, 0.0], [-1.0, 0.5], [-0.5, 0.5], [5.0, 0.6], [-1.0, -3.0], [0.0, 10.0], [2.0, 1.0]]
)
_LABELS = np.array([3, 3, 0, 1, 3, 2, 2])


@pytest.mark.points(1)
def test_build_tree_depth_two(submission, rng, oracle, check):
    """build_tree(X, y, max_depth=2) splits by the best Gini gain, stops at depth 2, leaves vote."""
    X, y = oracle.blobs(rng, 60, [[0, 0], [2, 0], [1, 2]], std=1.0)
    tree = submission.trees.build_tree(X, y, 2)
    stats = check.tree(tree, X, y, max_depth=2)
    assert stats["depth"] <= 2, "the tree is deeper than max_depth"
    check.labels(
        submission.trees.tree_predict(_TREE, _POINTS), _LABELS, "tree_predict on a hand-made tree"
    )
    # The checks above make it scikit-learn's depth-2 tree (the best splits are unique here).
    X_test = rng.uniform(-2, 4, size=(30, 2))
    check.labels(
        submission.trees.tree_predict(tree, X_test),
        oracle.sklearn_tree(X, y, max_depth=2).predict(X_test),
        "tree_predict(build_tree(X, y, 2), X_test)",
    )


@pytest.mark.points(1)
def test_random_forest_bootstrap(submission, rng, oracle, check):
    """RandomForest draws a bootstrap sample (N draws with replacement) for every tree, grown on it."""
    X, y = oracle.blobs(rng, 100, [[0, 0], [2, 2]], std=1.0)
    forest = submission.trees.RandomForest(n_trees=8, max_depth=2, max_features=None, seed=3)
    forest.fit(X, y)
    indices = [np.asarray(idx) for idx in forest.bootstrap_indices_]
    assert len(indices) == 8, f"expected 8 bootstrap samples, got {len(indices)}"
    assert len(forest.trees_) == 8, "expected 8 trees"
    for idx in indices:
        assert idx.shape == (100,), f"a bootstrap sample has shape {idx.shape}, expected (100,)"
        assert idx.min() >= 0 and idx.max() < 100, "bootstrap indices out of range"
    unique = np.mean([np.unique(idx).size / 100 for idx in indices])
    assert 0.55 <= unique <= 0.72, (
        f"on average {unique:.0%} of the examples are in a bootstrap sample; about 63% expected"
    )
    assert len({idx.tobytes() for idx in indices}) == 8, "two trees share the same bootstrap sample"
    for tree, idx in zip(forest.trees_, indices, strict=True):  # the trees, not just the samples
        check.tree(tree, X[idx], y[idx], max_depth=2)
