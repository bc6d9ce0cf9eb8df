"""The obvious shortcuts against 01-classical's accuracy bars, on the graders' own data (issue 23).

Two hidden tests judge a trained classifier by its held-out accuracy on data drawn from the
test's ``rng`` (per submission, from the course secret; here the seed a run without a secret
gets, and others standing for the secret's draws):

- ``test_gmm_classifier_bimodal_classes`` (bar 0.95): two classes, each two blobs at opposite
  corners of a square (XOR). No linear boundary separates them: logistic regression and the
  majority class stay near chance. One Gaussian per class, however, the shortcut for a mixture
  of K = 2, separates them almost perfectly: the classes share a mean but their covariances
  have opposite correlations, so the quadratic boundary is the XOR. That is a finding (issue
  23): the bar does not need the mixture; the strict expected failure below says so, and turns
  into a failure when the task is changed.
- ``test_forest_accuracy`` (bar 0.88): a disk learned from labels with 10% noise. Logistic
  regression and the majority class stay far below the bar. One decision tree of the same
  depth, the shortcut for a forest, reaches the bar on some draws (a finding, as above).

The linear SVM tests are not listed: the linear classifier is the concept there, and their
bars sit beside exact replays of the documented updates.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.config import load_course
from autograder.plugin import test_seed as seed_of_test
from tests.conftest import REPO

GRADERS_TESTS = load_course(REPO).assignment("01-classical").root / "tests"
GMM_TEST = "hidden/test_gmm_hidden.py::test_gmm_classifier_bimodal_classes"
FOREST_TEST = "hidden/test_trees_hidden.py::test_forest_accuracy"
GMM_BAR = 0.95
FOREST_BAR = 0.88
#: the seed without a secret, and others standing for the secret's draws
GMM_SEEDS = (seed_of_test(GMM_TEST), *range(6))
FOREST_SEEDS = (seed_of_test(FOREST_TEST), *range(6))
#: the most a linear or trivial shortcut may reach: far below the bars, not just under them
LINEAR_CEILING = 0.75
XOR_CENTERS = np.array([[0, 0], [5, 5], [0, 5], [5, 0]])


def _blobs(rng: np.random.Generator, n: int, centers: np.ndarray, std: float):
    """(X (n, D), labels (n,)): as the graders' ``Oracle.blobs`` draws them."""
    y = rng.integers(0, len(centers), size=n)
    return centers[y] + std * rng.standard_normal((n, centers.shape[1])), y


def xor_task(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X (240, 2), y, X_test (100, 2), y_test) of the GMM classifier test, from its rng."""
    rng = np.random.default_rng(seed)
    X, z = _blobs(rng, 240, XOR_CENTERS, 0.8)
    X_test, z_test = _blobs(rng, 100, XOR_CENTERS, 0.8)
    return X, z // 2, X_test, z_test // 2


def disk_task(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X (300, 2), noisy y, X_test (400, 2), y_test) of the forest test, from its rng."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(300, 2))
    clean = (np.sum(X**2, axis=1) < 2.0).astype(np.int64)
    y = np.where(rng.random(300) < 0.1, 1 - clean, clean)
    X_test = rng.uniform(-2, 2, size=(400, 2))
    return X, y, X_test, (np.sum(X_test**2, axis=1) < 2.0).astype(np.int64)


def shortcut_accuracies(task, seeds) -> dict[str, list[float]]:
    """Held-out accuracy per shortcut and seed: the majority class, logistic regression (best
    C, tuned on the held-out points themselves), one Gaussian per class (scikit-learn's
    quadratic discriminant analysis) and one decision tree of depth 6."""
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    scores: dict[str, list[float]] = {"majority class": [], "logistic regression": [],
                                      "one Gaussian per class": [], "one tree (depth 6)": []}
    for seed in seeds:
        X, y, X_test, y_test = task(seed)
        scores["majority class"].append(float(np.mean(y_test == np.bincount(y).argmax())))
        scores["logistic regression"].append(max(
            LogisticRegression(C=C).fit(X, y).score(X_test, y_test) for C in (0.01, 1.0, 100.0)))
        scores["one Gaussian per class"].append(
            QuadraticDiscriminantAnalysis().fit(X, y).score(X_test, y_test))
        scores["one tree (depth 6)"].append(
            DecisionTreeClassifier(max_depth=6, random_state=0).fit(X, y).score(X_test, y_test))
    return scores


#: per graded test: (its task, seeds, bar)
TASKS = {GMM_TEST: (xor_task, GMM_SEEDS, GMM_BAR), FOREST_TEST: (disk_task, FOREST_SEEDS, FOREST_BAR)}


@pytest.fixture(scope="module")
def scores() -> dict[str, dict[str, list[float]]]:
    """Per graded test, ``shortcut_accuracies`` on its task and seeds."""
    return {test: shortcut_accuracies(task, seeds) for test, (task, seeds, _) in TASKS.items()}


def test_xor_task_is_drawn_as_the_gmm_test_draws_it():
    source = (GRADERS_TESTS / GMM_TEST.split("::")[0]).read_text(encoding="utf-8")
    for line in ("centers = np.array([[0, 0], [5, 5], [0, 5], [5, 0]])",
                 "X, z = oracle.blobs(rng, 240, centers, std=0.8)",
                 "X_test, z_test = oracle.blobs(rng, 100, centers, std=0.8)",
                 f"assert accuracy >= {GMM_BAR}"):
        assert line in source, line
    source = (GRADERS_TESTS / FOREST_TEST.split("::")[0]).read_text(encoding="utf-8")
    assert f"assert accuracy >= {FOREST_BAR}" in source
    assert "y = np.where(rng.random(300) < 0.1, 1 - clean, clean)" in source


@pytest.mark.parametrize("test", TASKS)
def test_linear_and_trivial_classifiers_stay_far_below_the_bar(scores, test):
    bar = TASKS[test][2]
    assert LINEAR_CEILING <= bar - 0.1
    for name in ("majority class", "logistic regression"):
        assert max(scores[test][name]) < LINEAR_CEILING, (name, scores[test][name])


@pytest.mark.parametrize(("test", "shortcut"), [
    pytest.param(GMM_TEST, "one Gaussian per class", marks=pytest.mark.xfail(
        strict=True, raises=AssertionError, reason="finding (issue 23): one Gaussian per class separates the XOR "
        "classes (0.99-1.00 against the bar 0.95); the bar does not need K = 2")),
    pytest.param(FOREST_TEST, "one tree (depth 6)", marks=pytest.mark.xfail(
        strict=True, raises=AssertionError, reason="finding (issue 23): one decision tree of depth 6 reaches the "
        "forest's bar (0.88) on some draws; the bar does not need a forest"))])
def test_the_simpler_model_misses_the_bar(scores, test, shortcut):
    assert max(scores[test][shortcut]) < TASKS[test][2]
