"""The whole run's time budget (``[limits] run_budget``) and submissions nested one folder down."""

from __future__ import annotations

import dataclasses
import time
import zipfile

import pytest

from autograder.config import Limits, parse_assignment
from autograder.errors import ConfigError
from autograder.grading import grade_submission
from autograder.plugin import not_run_reason
from autograder.submission import module_folder, prepare_submission
from tests.conftest import HONEST_MINI, statuses
from tests.test_config import GOOD, write


def parse_limits(tmp_path, lines: str) -> Limits:
    """The limits of test_config's good assignment.toml with ``lines`` added to [limits]."""
    text = GOOD.replace("[limits]\n", "[limits]\n" + lines)
    return parse_assignment(write(tmp_path, text)).limits


# ---------------------------------------------------------------- configuration
def test_run_budget_defaults_well_under_gradescopes_ten_minutes(tmp_path):
    limits = parse_limits(tmp_path, "")
    assert limits.run_budget == 480.0 < 600
    assert parse_limits(tmp_path, "run_budget = 90\n").run_budget == 90.0
    assert isinstance(parse_limits(tmp_path, "run_budget = 90\n").run_budget, float)


@pytest.mark.parametrize("line, message", [
    ("run_budget = 0", "'run_budget' must be positive and finite"),
    ("run_budget = -5", "'run_budget' must be positive and finite"),
    ("run_budget = inf", "'run_budget' must be positive and finite"),
    ("run_budget = nan", "'run_budget' must be positive and finite"),
    ('run_budget = "480"', "'run_budget' must be int or float, got str"),
    ("run_budget = true", "'run_budget' must be int or float, got bool"),
    ("run_budjet = 480", "unknown key 'run_budjet' \\(did you mean 'run_budget'\\?\\)"),
    ("cpu_seconds = inf", "'cpu_seconds' must be positive and finite"),
])
def test_bad_run_budgets_are_explained(tmp_path, line, message):
    with pytest.raises(ConfigError, match=message):
        parse_limits(tmp_path, line + "\n")


# ---------------------------------------------------------------- the budget while grading
def with_budget(assignment, seconds: float):
    return dataclasses.replace(assignment, limits=dataclasses.replace(assignment.limits,
                                                                      run_budget=seconds))


def write_mini(folder, text: str):
    folder.mkdir(parents=True)
    (folder / "mini.py").write_text(text)
    return folder


def test_a_spent_budget_records_the_remaining_tests_as_not_run(mini_course, warm_parent,
                                                                 tmp_path):
    """A budget spent before the first test: every test is recorded, failed, score 0."""
    assignment = with_budget(mini_course.assignment("90-mini"), 0.001)
    result = grade_submission(assignment, write_mini(tmp_path / "s", HONEST_MINI),
                              parent=warm_parent)
    assert len(result.tests) == 4 and result.score == 0
    for test in result.tests:
        assert (test.status, test.score) == ("failed", 0.0)
        assert test.reason == "not run: the whole run's time budget (0.001 s) was spent"
    assert not_run_reason(480) == "not run: the whole run's time budget (480 s) was spent"


def test_a_hang_uses_what_is_left_of_the_budget_and_the_rest_is_not_run(mini_course,
                                                                         warm_parent, tmp_path):
    """test_add passes; scale hangs until the budget (below the call timeout) is spent; the
    hidden tests after it are not run."""
    assignment = with_budget(mini_course.assignment("90-mini"), 3.0)
    assert assignment.limits.call_timeout > 3.0
    hanging = HONEST_MINI.replace("    return np.asarray(x) * factor\n",
                                  "    while True:\n        pass\n")
    result = grade_submission(assignment, write_mini(tmp_path / "s", hanging),
                              parent=warm_parent)
    assert statuses(result) == {"test_add": "passed", "test_scale": "failed",
                                "test_add_negative": "failed", "test_counter": "failed"}
    by_name = {t.name.split("::")[-1]: t for t in result.tests}
    assert "timed out: the test's calls ran past their total time limit" in by_name[
        "test_scale"].reason
    for name in ("test_add_negative", "test_counter"):
        assert by_name[name].reason == not_run_reason(3.0)
    assert result.score == 1


def test_an_import_that_hangs_uses_only_what_is_left_of_the_budget(mini_course, warm_parent,
                                                                    tmp_path):
    """The import probe runs before any test: a module that hangs at import stops at the run's
    budget (below the call timeout), and every test is then not run or says why."""
    assignment = with_budget(mini_course.assignment("90-mini"), 2.0)
    assert assignment.limits.call_timeout > 2.0
    started = time.monotonic()
    result = grade_submission(assignment, write_mini(tmp_path / "s", "while True:\n    pass\n"),
                              parent=warm_parent)
    assert time.monotonic() - started < (2.0 + assignment.limits.call_timeout) / 2
    assert result.score == 0
    assert all(t.reason == not_run_reason(2.0) or "timed out" in t.reason for t in result.tests)


def test_in_process_debugging_has_no_run_budget(mini_course, tmp_path):
    assignment = with_budget(mini_course.assignment("90-mini"), 0.001)
    result = grade_submission(assignment, write_mini(tmp_path / "s", HONEST_MINI),
                              isolation="none")
    assert result.score == 4


# ---------------------------------------------------------------- nested one folder down
def make_tree(root, files: dict[str, str]):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("files, found", [
    ({"hw2/mini.py": "x"}, "hw2"),
    ({"README.md": "notes", "hw2/mini.py": "x", "hw2/extra.txt": ""}, "hw2"),
    ({"hw2/other.py": "x", "hw3/mini.py": "x"}, "hw3"),
    ({"mini.py": "x", "hw2/mini.py": "y"}, None),  # at the top already
    ({"a/mini.py": "x", "b/mini.py": "y"}, None),  # ambiguous: left alone
    ({"__MACOSX/mini.py": "x"}, None),  # archiver debris does not count
    ({"hw2/deeper/mini.py": "x"}, None),  # two folders down: not looked for
])
def test_module_folder_detection(tmp_path, files, found):
    root = make_tree(tmp_path / "sub", files)
    folder = module_folder(root, ["mini.py", "more.py"])
    assert (folder.name if folder else None) == found


def test_a_folder_with_the_modules_one_folder_down_is_graded_as_that_folder(tmp_path):
    root = make_tree(tmp_path / "submission", {"README.md": "hi", "hw2/mini.py": HONEST_MINI,
                                                "hw2/notes.txt": "n"})
    prepared = prepare_submission(root, ["mini.py"])
    try:
        assert sorted(p.name for p in prepared.directory.iterdir()) == ["mini.py", "notes.txt"]
        assert prepared.problems == {}
    finally:
        prepared.cleanup()


def test_a_zip_of_a_folder_holding_the_modules_folder(tmp_path):
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("download/README.md", "x")
        zf.writestr("download/hw2/mini.py", HONEST_MINI)
    prepared = prepare_submission(archive, ["mini.py"])
    try:
        assert (prepared.directory / "mini.py").read_text() == HONEST_MINI
        assert prepared.problems == {}
    finally:
        prepared.cleanup()


def test_ambiguous_nesting_reports_the_module_missing(tmp_path):
    root = make_tree(tmp_path / "submission", {"a/mini.py": "x", "b/mini.py": "y"})
    prepared = prepare_submission(root, ["mini.py"])
    try:
        assert prepared.problems == {"mini": "mini.py not found in the submission"}
    finally:
        prepared.cleanup()


def test_dlgrade_grades_a_nested_submission_in_full(mini_course, warm_parent, tmp_path):
    root = make_tree(tmp_path / "submission", {"my-work/mini.py": HONEST_MINI})
    result = grade_submission(mini_course.assignment("90-mini"), root, parent=warm_parent)
    assert result.score == 4
