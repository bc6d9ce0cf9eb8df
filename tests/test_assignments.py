"""Every assignment of the course: validate passes, the points split, isolation parity.

Parametrized over the course's assignments, so a new assignment is checked as
soon as its folder exists. Validate's slowest checks, the planted mistakes and the trivial
submissions, are left to ``test_mistakes.py`` and ``test_trivial.py``, where each is a test of
its own.
"""

from __future__ import annotations

import pytest

from autograder.config import load_course
from autograder.grading import grade_submission
from autograder.validate import validate_assignment
from tests.conftest import REPO

COURSE = load_course(REPO)
IDS = COURSE.assignment_ids()


def test_the_course_has_assignments():
    assert "02-feedforward" in IDS


@pytest.fixture(scope="module", params=IDS)
def assignment(request):
    return COURSE.assignment(request.param)


@pytest.fixture(scope="module")
def report(assignment):
    """``dlgrade validate`` on the assignment (its gradings are reused by the tests below)."""
    return validate_assignment(assignment, mistakes=False, trivial=False)


def test_validate(report):
    assert report.ok, report.render()
    assert [c.name for c in report.checks] == [
        "starter generated from the solution",
        "reference scores full marks",
        "starter scores 0 on every scoring test",
        "grading is deterministic",
        "points add up to total_points",
        "every test carries points",
        "the student release holds no solution code or hidden test",
    ]


def test_points_split_and_feedback_lines(assignment, report):
    result = report.reference
    public = sum(t.max_score for t in result.tests if t.visibility == "visible")
    hidden = sum(t.max_score for t in result.tests if t.visibility == "after_due_date")
    assert public + hidden == assignment.total_points == 100
    assert 30 <= public <= 50, f"about 40 public points expected, got {public}"
    assert all(t.description for t in result.tests), "every test needs a docstring"
    assert (assignment.root / "README.md").is_file()


def test_in_process_mode_scores_like_isolated_mode(assignment, report):
    for folder, isolated in ((assignment.solutions_dir, report.reference),
                             (assignment.starter_dir, report.starter)):
        local = grade_submission(assignment, folder, isolation="none")
        assert local.signature() == isolated.signature(), folder
