"""The obvious shortcuts fail the training bars, on the graders' own data and seeds (issue 23).

02-feedforward's ``train_digits`` is judged on held-out digits of both polarities (each image
kept or inverted to ``1 - x``, at random) by the grader's own forward pass with the
parameters the submission returns. Here: the best linear model (scikit-learn's logistic
regression, tuned) stays far below the bar; a submission whose ``train_digits`` returns
softmax regression (``MLP([64, 10])``) scores 0 on both digits tests; and one whose model
answers ``predict`` by looking every image up in scikit-learn's own digits, perfect on the
held-out set, earns nothing either, because ``predict`` is never called.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from autograder.config import load_course
from autograder.grading import grade_submission
from autograder.mistakes import grade_mistake, load_mistakes
from autograder.plugin import test_seed as seed_of_test
from autograder.results import GradeResult
from tests.conftest import REPO

FEEDFORWARD = load_course(REPO).assignment("02-feedforward")
DIGITS_TESTS = ("test_train_digits_accuracy", "test_train_digits_heldout")
PUBLIC_DIGITS_TEST = "public/test_train.py::test_train_digits_accuracy"
#: the public test's polarities, and ten other draws standing for the hidden test's (per
#: submission, from the course secret)
POLARITY_SEEDS = (seed_of_test(PUBLIC_DIGITS_TEST), *range(10))
#: the most a shortcut may reach: far below the bar, not just under it
SHORTCUT_CEILING = 0.5


def _graders_conftest(assignment) -> ModuleType:
    """The assignment's ``tests/conftest.py`` (its ``Oracle`` and bars), loaded as a module."""
    path = assignment.root / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location(f"graders_conftest_{assignment.id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graders() -> ModuleType:
    return _graders_conftest(FEEDFORWARD)


@pytest.fixture(scope="module")
def held_out(graders) -> list[tuple[np.ndarray, np.ndarray]]:
    return held_out_digits(graders)


def held_out_digits(graders) -> list[tuple[np.ndarray, np.ndarray]]:
    """The held-out digits as the graders present them: (X, y) for each of POLARITY_SEEDS."""
    oracle = graders.Oracle()
    *_, X_test, y_test = oracle.digits_splits()
    return [(oracle.mixed_polarity(X_test, np.random.default_rng(seed)), y_test)
            for seed in POLARITY_SEEDS]


def _digits_results(result: GradeResult) -> dict[str, object]:
    return {t.name.rsplit("::", 1)[-1]: t for t in result.tests
            if t.name.rsplit("::", 1)[-1] in DIGITS_TESTS}


def _accuracy_in(reason: str) -> float:
    match = re.match(r"accuracy (\d\.\d+) < ", reason)
    assert match, f"not an accuracy failure: {reason!r}"
    return float(match.group(1))


def logistic_regression_scores(graders, held_out) -> tuple[float, float]:
    """(best accuracy on its own training digits, best held-out accuracy over the polarity
    draws) of logistic regression fitted to the training and validation digits, C tuned on the
    held-out digits themselves."""
    from sklearn.linear_model import LogisticRegression

    X_train, y_train, X_val, y_val, _, _ = graders.Oracle().digits_splits()
    X_fit, y_fit = np.concatenate([X_train, X_val]), np.concatenate([y_train, y_val])
    fit = best = 0.0
    for C in (0.01, 0.1, 1.0, 10.0, 100.0):
        model = LogisticRegression(C=C, max_iter=1000).fit(X_fit, y_fit)
        fit = max(fit, model.score(X_fit, y_fit))
        best = max(best, *(model.score(X, y) for X, y in held_out))
    return fit, best


def test_logistic_regression_stays_far_below_the_digits_bar(graders, held_out):
    fit, best = logistic_regression_scores(graders, held_out)
    assert fit < SHORTCUT_CEILING  # it cannot even fit its data
    assert best < SHORTCUT_CEILING <= graders.DIGITS_BAR - 0.3


def test_softmax_regression_scores_zero_on_the_digits_tests(tmp_path, warm_parent):
    mistake = next(m for m in load_mistakes(FEEDFORWARD)
                   if m.id == "train-digits-no-hidden-layer")
    assert "MLP([X_train.shape[1], 10]" in mistake.replacements[0][1]
    result = grade_mistake(FEEDFORWARD, mistake, tmp_path, parent=warm_parent)
    digits = _digits_results(result)
    assert sorted(digits) == sorted(DIGITS_TESTS)
    for test in digits.values():
        assert test.status == "failed" and test.score == 0
        assert _accuracy_in(test.reason) < SHORTCUT_CEILING


# A model that answers predict by looking each image up in scikit-learn's own digits, in both
# polarities, with the parameters of an untrained softmax regression.
LOOKUP = '''

class LookupModel:
    """predict looks every image up in scikit-learn's bundled digits, either way round."""

    def __init__(self, params):
        self.params = params
        self.activation = "relu"

    def predict(self, X):
        import gzip

        with gzip.open(DIGITS_CSV, "rt") as f:
            table = np.loadtxt(f, delimiter=",")
        images = np.concatenate([table[:, :-1] / 16.0, 1.0 - table[:, :-1] / 16.0])
        labels = np.concatenate([table[:, -1], table[:, -1]]).astype(int)
        distances = (X**2).sum(1)[:, None] - 2 * X @ images.T + (images**2).sum(1)[None, :]
        return labels[distances.argmin(axis=1)]


def train_digits(X_train, y_train, X_val, y_val, seed=0):
    return LookupModel(mlp.MLP([64, 10], seed=seed).params)
'''


def _digits_csv() -> Path:
    import sklearn.datasets

    return Path(sklearn.datasets.__file__).parent / "data" / "digits.csv.gz"


def test_a_lookup_predict_earns_nothing(tmp_path, warm_parent, held_out):
    source = f"import numpy as np\n\nDIGITS_CSV = {str(_digits_csv())!r}\n{LOOKUP}"
    namespace: dict = {}
    exec(compile(source, "lookup.py", "exec"), namespace)
    lookup = namespace["LookupModel"]({})
    for X, y in held_out:  # the old tests, which called predict, gave it their 14 points
        assert np.mean(lookup.predict(X) == y) == 1.0

    submission = tmp_path / "lookup"
    shutil.copytree(FEEDFORWARD.solutions_dir, submission,
                    ignore=shutil.ignore_patterns("__pycache__"))
    train = submission / "train.py"
    text = train.read_text(encoding="utf-8")
    text = text[: text.index("def train_digits(")]
    train.write_text(f"{text}DIGITS_CSV = {str(_digits_csv())!r}\n{LOOKUP}", encoding="utf-8")
    result = grade_submission(FEEDFORWARD, submission, parent=warm_parent,
                              pytest_args=("-k", "train_digits"))
    digits = _digits_results(result)
    assert sorted(digits) == sorted(DIGITS_TESTS)
    for test in digits.values():
        assert test.status == "failed" and test.score == 0
        assert _accuracy_in(test.reason) < SHORTCUT_CEILING
