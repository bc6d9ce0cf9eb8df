"""The obvious shortcuts against 01-classical's accuracy bars, on the graders' own data (issue 23).

Two hidden tests judge a trained classifier by its held-out accuracy on data drawn from the
test's ``rng`` (per submission, from the course secret; here the seed a run without a secret
gets, and others standing for the secret's draws), computed by the grader from what the
submission fitted (the mixtures' parameters, the forest's trees):

- ``test_gmm_classifier_trimodal_classes`` (bar 0.95): six blobs around a circle, alternating
  between two classes, so each class has three modes. Both classes have the same mean and the
  same covariance: logistic regression, the majority class and one Gaussian per class (the
  shortcut for a mixture of K = 3) all stay near chance, while the reference's mixtures clear
  the bar.
- ``test_forest_accuracy`` (bar 0.75): a ball in 8 dimensions, half of the cube's points
  inside it. Logistic regression and the majority class stay near chance; one decision tree, at
  whichever depth does best on the held-out points themselves (the shortcut for a forest), stays
  below the bar on every draw: its axis-parallel staircase fits a sphere in 8 dimensions
  poorly, and the vote of 51 trees smooths it. The reference's forest clears the bar.

Only the shortcuts a submission can return count against each bar: the grader's accuracy is
its own posterior from the returned mixtures, or its own vote of the returned trees (each
checked against the growing rules). A tree on the circle's modes, or one Gaussian per class
on the ball, would do well, but neither can be handed in as mixtures or as trees; the
forest's one way around the vote is to grow a single tree (or copies of it).

The linear SVM tests are not listed: the linear classifier is the concept there, and their
bars sit beside exact replays of the documented updates.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import numpy as np
import pytest

from autograder.config import load_course
from autograder.plugin import test_seed as seed_of_test
from tests.conftest import REPO

CLASSICAL = load_course(REPO).assignment("01-classical")
GRADERS_TESTS = CLASSICAL.root / "tests"
GMM_TEST = "hidden/test_gmm_hidden.py::test_gmm_classifier_trimodal_classes"
FOREST_TEST = "hidden/test_trees_hidden.py::test_forest_accuracy"
GMM_BAR = 0.95
FOREST_BAR = 0.75
#: the seed without a secret, and others standing for the secret's draws
GMM_SEEDS = (seed_of_test(GMM_TEST), *range(6))
FOREST_SEEDS = (seed_of_test(FOREST_TEST), *range(6))
#: how far below its bar a linear, trivial or single-Gaussian shortcut must stay
FAR_BELOW = 0.15
_ANGLES = np.arange(6) * np.pi / 3
MODE_CENTERS = 5.0 * np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)
#: the forest test's task: points uniform in [-1, 1]^FOREST_DIMS, labelled 1 inside the ball
#: |x|^2 < BALL_RADIUS2 (about half of them)
FOREST_DIMS, BALL_RADIUS2, FOREST_TRAIN, FOREST_HELD_OUT = 8, 2.6, 500, 2000
#: the forest the test asks for (RandomForest's keyword arguments)
FOREST = {"n_trees": 51, "max_depth": None, "max_features": 3, "seed": 0}
TREE_DEPTHS = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, None)


def _blobs(rng: np.random.Generator, n: int, centers: np.ndarray, std: float):
    """(X (n, D), labels (n,)): as the graders' ``Oracle.blobs`` draws them."""
    y = rng.integers(0, len(centers), size=n)
    return centers[y] + std * rng.standard_normal((n, centers.shape[1])), y


def alternating_modes_task(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X (240, 2), y, X_test (100, 2), y_test) of the GMM classifier test, from its rng."""
    rng = np.random.default_rng(seed)
    X, z = _blobs(rng, 240, MODE_CENTERS, 0.7)
    X_test, z_test = _blobs(rng, 100, MODE_CENTERS, 0.7)
    return X, z % 2, X_test, z_test % 2


def ball_task(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, X_test, y_test) of the forest test, from its rng."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(FOREST_TRAIN, FOREST_DIMS))
    X_test = rng.uniform(-1, 1, size=(FOREST_HELD_OUT, FOREST_DIMS))
    return (X, (np.sum(X**2, axis=1) < BALL_RADIUS2).astype(np.int64),
            X_test, (np.sum(X_test**2, axis=1) < BALL_RADIUS2).astype(np.int64))


def shortcut_accuracies(task, seeds) -> dict[str, list[float]]:
    """Held-out accuracy per shortcut and seed: the majority class, logistic regression (best
    C, tuned on the held-out points themselves), one Gaussian per class (scikit-learn's
    quadratic discriminant analysis) and one decision tree (best depth, tuned the same way)."""
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    scores: dict[str, list[float]] = {"majority class": [], "logistic regression": [],
                                      "one Gaussian per class": [], "one tree (best depth)": []}
    for seed in seeds:
        X, y, X_test, y_test = task(seed)
        scores["majority class"].append(float(np.mean(y_test == np.bincount(y).argmax())))
        scores["logistic regression"].append(max(
            LogisticRegression(C=C).fit(X, y).score(X_test, y_test) for C in (0.01, 1.0, 100.0)))
        scores["one Gaussian per class"].append(
            QuadraticDiscriminantAnalysis().fit(X, y).score(X_test, y_test))
        scores["one tree (best depth)"].append(max(
            DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X, y).score(X_test, y_test)
            for depth in TREE_DEPTHS))
    return scores


#: per graded test: (its task, seeds, bar, the shortcuts that must stay far below the bar)
TASKS = {
    GMM_TEST: (alternating_modes_task, GMM_SEEDS, GMM_BAR,
               ("majority class", "logistic regression", "one Gaussian per class")),
    FOREST_TEST: (ball_task, FOREST_SEEDS, FOREST_BAR, ("majority class", "logistic regression")),
}


@pytest.fixture(scope="module")
def scores() -> dict[str, dict[str, list[float]]]:
    """Per graded test, ``shortcut_accuracies`` on its task and seeds."""
    return {test: shortcut_accuracies(task, seeds) for test, (task, seeds, *_) in TASKS.items()}


def _load_reference(name: str) -> ModuleType:
    """solutions/01-classical/<name>.py as a module of a private name (not in sys.modules)."""
    path = CLASSICAL.solutions_dir / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"reference_01_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference() -> dict[str, ModuleType]:
    """The reference's gmm and trees modules; gmm imports bayes by name, so sys.modules holds
    the reference's bayes while gmm loads, and only then."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "bayes", _load_reference("bayes"))
        return {"gmm": _load_reference("gmm"), "trees": _load_reference("trees")}


def test_the_tasks_are_drawn_as_the_graders_draw_them():
    source = (GRADERS_TESTS / GMM_TEST.split("::")[0]).read_text(encoding="utf-8")
    for line in ("angles = np.arange(6) * np.pi / 3",
                 "centers = 5.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)",
                 "X, z = oracle.blobs(rng, 240, centers, std=0.7)",
                 "y = z % 2",
                 "X_test, z_test = oracle.blobs(rng, 100, centers, std=0.7)",
                 "clf = submission.gmm.GMMClassifier(K=3, reg=1e-6, n_iter=100, seed=0)",
                 f"assert accuracy >= {GMM_BAR}"):
        assert line in source, line
    source = (GRADERS_TESTS / FOREST_TEST.split("::")[0]).read_text(encoding="utf-8")
    forest_args = ", ".join(f"{key}={value}" for key, value in FOREST.items())
    for line in (f"X = rng.uniform(-1, 1, size=({FOREST_TRAIN}, {FOREST_DIMS}))",
                 f"y = (np.sum(X**2, axis=1) < {BALL_RADIUS2}).astype(np.int64)",
                 f"X_test = rng.uniform(-1, 1, size=({FOREST_HELD_OUT}, {FOREST_DIMS}))",
                 f"y_test = (np.sum(X_test**2, axis=1) < {BALL_RADIUS2}).astype(np.int64)",
                 f"forest = submission.trees.RandomForest({forest_args})",
                 f"assert accuracy >= {FOREST_BAR}"):
        assert line in source, line


@pytest.mark.parametrize("test", TASKS)
def test_linear_and_trivial_classifiers_stay_far_below_the_bar(scores, test):
    _, _, bar, shortcuts = TASKS[test]
    for name in shortcuts:
        assert max(scores[test][name]) < bar - FAR_BELOW, (name, scores[test][name])


@pytest.mark.parametrize(("test", "shortcut"), [(GMM_TEST, "one Gaussian per class"),
                                                (FOREST_TEST, "one tree (best depth)")])
def test_the_simpler_model_misses_the_bar(scores, test, shortcut):
    assert max(scores[test][shortcut]) < TASKS[test][2] - 0.02, scores[test][shortcut]


def test_the_reference_mixtures_clear_the_gmm_bar(reference):
    for seed in GMM_SEEDS:
        X, y, X_test, y_test = alternating_modes_task(seed)
        clf = reference["gmm"].GMMClassifier(K=3, n_iter=100, reg=1e-6, seed=0).fit(X, y)
        assert np.mean(clf.predict(X_test) == y_test) >= GMM_BAR + 0.02, seed


def test_the_reference_forest_clears_the_forest_bar(reference):
    for seed in FOREST_SEEDS:
        X, y, X_test, y_test = ball_task(seed)
        forest = reference["trees"].RandomForest(**FOREST).fit(X, y)
        assert np.mean(forest.predict(X_test) == y_test) >= FOREST_BAR + 0.02, seed
