"""Hidden tests for trees.py: edge cases, tie rules, stopping rules, forests."""

import numpy as np
import pytest

from autograder.testing import assert_close


@pytest.mark.points(1)
def test_gini_multiclass_and_edge_cases(submission, rng, oracle, check):
    """gini uses proportions for any labels; one label or an empty array gives 0."""
    cases = [
        np.array([7, 7, 3, 9, 9, 9]),
        rng.integers(0, 5, size=40),
        np.array([4]),
        np.array([], dtype=np.int64),
    ]
    for y in cases:
        value = check.scalar(submission.trees.gini(y), "gini(y)")
        assert_close(value, oracle.gini(y), name=f"gini(y) for {y.size} labels")


@pytest.mark.points(1)
def test_best_split_ties_and_feature_subsets(submission, rng, oracle, hidden_oracle, check):
    """Equal gains go to the lowest feature; `features` restricts the search; no split -> None."""
    informative = rng.standard_normal(30)
    y = (informative > 0.1).astype(np.int64)
    X = np.stack([rng.standard_normal(30), informative, informative.copy()], axis=1)
    feature, threshold, gain = submission.trees.best_split(X, y)
    assert feature is not None and int(feature) == 1, (
        "equal best gains must go to the lowest feature"
    )
    assert_close(
        check.scalar(gain, "gain"), hidden_oracle.split_gain(X, y, 1, float(threshold)), name="gain"
    )
    feature, threshold, gain = submission.trees.best_split(X, y, [0, 2])
    assert feature is not None and int(feature) == 2, (
        "best_split searched a feature outside `features`"
    )
    exp_f, exp_t, exp_gain = oracle.sklearn_stump(X, y, [0, 2])
    assert_close(check.scalar(gain, "gain"), exp_gain, name="gain over features [0, 2]")
    constant = np.ones((6, 2))
    feature, threshold, gain = submission.trees.best_split(constant, np.array([0, 1, 0, 1, 0, 1]))
    assert feature is None and threshold is None, "with only constant features there is no split"


@pytest.mark.points(1)
def test_build_tree_full_depth(submission, rng, hidden_oracle, check):
    """With max_depth=None the tree fits the training data exactly, by best splits throughout."""
    X = rng.standard_normal((80, 3))
    y = ((X[:, 0] * X[:, 1] > 0) ^ (rng.random(80) < 0.1)).astype(np.int64)
    tree = submission.trees.build_tree(X, y, None)
    check.tree(tree, X, y, max_depth=None)
    check.labels(submission.trees.tree_predict(tree, X), y, "tree_predict on the training data")
    X_test = rng.standard_normal((40, 3))
    check.labels(
        submission.trees.tree_predict(tree, X_test),
        hidden_oracle.walk(tree, X_test),
        "tree_predict",
    )


@pytest.mark.points(1)
def test_build_tree_min_samples_split(submission, rng, oracle, check):
    """Nodes with fewer than min_samples_split examples become leaves (majority label)."""
    X, y = oracle.blobs(rng, 90, [[0, 0], [1.5, 0], [0, 1.5]], std=1.0)
    tree = submission.trees.build_tree(X, y, 6, min_samples_split=25)
    stats = check.tree(tree, X, y, max_depth=6, min_samples_split=25)
    assert stats["internal"] >= 2, "the tree should have split more than once"


@pytest.mark.points(1)
def test_forest_trees_grow_on_their_bootstrap_samples(submission, rng, oracle, check):
    """Every tree of the forest is a valid depth-3 tree of its own bootstrap sample."""
    X, y = oracle.blobs(rng, 80, [[0, 0, 0], [1.5, 1.5, 0], [0, 1.5, 1.5]], std=1.0)
    forest = submission.trees.RandomForest(n_trees=4, max_depth=3, max_features=None, seed=11)
    forest.fit(X, y)
    trees = forest.trees_
    indices = forest.bootstrap_indices_
    assert len(trees) == 4 and len(indices) == 4, "expected 4 trees and 4 bootstrap samples"
    for tree, idx in zip(trees, indices, strict=True):
        idx = np.asarray(idx)
        assert np.unique(idx).size < 75, "a tree was grown without a bootstrap sample"
        check.tree(tree, X[idx], y[idx], max_depth=3)


@pytest.mark.points(1)
def test_forest_feature_subsampling(submission, rng, oracle, check):
    """With max_features=1 each node searches one random feature: the roots use many features."""
    X = rng.standard_normal((120, 4))
    y = (X[:, 0] + 0.3 * rng.standard_normal(120) > 0).astype(np.int64)
    forest = submission.trees.RandomForest(n_trees=15, max_depth=3, max_features=1, seed=5)
    forest.fit(X, y)
    roots = set()
    for tree, idx in zip(forest.trees_, forest.bootstrap_indices_, strict=True):
        idx = np.asarray(idx)
        stats = check.tree(tree, X[idx], y[idx], max_depth=3, split_rule="own-feature")
        roots.add(stats.get("root_feature"))
    assert len(roots - {None}) >= 3, (
        f"the roots of 15 trees split on only {len(roots - {None})} distinct features; "
        "draw the features at every node"
    )


@pytest.mark.points(1)
def test_forest_majority_vote(submission, rng, oracle, hidden_oracle, check):
    """RandomForest.predict is the majority vote of its trees, the smallest label on a tie."""
    X, y = oracle.blobs(rng, 90, [[0, 0], [1, 1], [2, 0]], std=1.0)
    forest = submission.trees.RandomForest(n_trees=4, max_depth=4, max_features=1, seed=2)
    forest.fit(X, y)
    # trees grown by the rules first: trees of one leaf each would make a constant vote
    for tree, idx in zip(forest.trees_, forest.bootstrap_indices_, strict=True):
        idx = np.asarray(idx)
        check.tree(tree, X[idx], y[idx], max_depth=4, split_rule="own-feature")
    X_test = rng.uniform(-1, 3, size=(80, 2))
    votes = np.stack([hidden_oracle.walk(tree, X_test) for tree in forest.trees_])
    check.labels(
        forest.predict(X_test), hidden_oracle.majority(votes, axis=0), "RandomForest.predict"
    )


@pytest.mark.points(1)
def test_forest_accuracy(submission, rng, hidden_oracle, check):
    """A forest of 51 trees, grown by the rules, learns a ball in 8 dimensions (accuracy >= 0.75).

    One tree, at any depth, stays below the bar: it approximates the sphere with a coarse
    staircase of axis-parallel steps; the vote of trees grown on bootstrap samples with random
    features smooths it. The accuracy is the grader's own majority vote of the submission's trees.
    """
    X = rng.uniform(-1, 1, size=(500, 8))
    y = (np.sum(X**2, axis=1) < 2.6).astype(np.int64)
    forest = submission.trees.RandomForest(n_trees=51, max_depth=None, max_features=3, seed=0)
    forest.fit(X, y)
    trees, indices = forest.trees_, forest.bootstrap_indices_
    assert len(trees) == 51 and len(indices) == 51, "expected 51 trees and 51 bootstrap samples"
    for tree, idx in zip(trees, indices, strict=True):
        idx = np.asarray(idx)
        check.tree(tree, X[idx], y[idx], max_depth=None, split_rule="own-feature")
    X_test = rng.uniform(-1, 1, size=(2000, 8))
    y_test = (np.sum(X_test**2, axis=1) < 2.6).astype(np.int64)
    vote = hidden_oracle.majority(np.stack([hidden_oracle.walk(tree, X_test) for tree in trees]))
    accuracy = float(np.mean(vote == y_test))
    assert accuracy >= 0.75, f"test accuracy {accuracy:.2f} is below 0.75"
    check.labels(forest.predict(X_test), vote, "RandomForest.predict")
