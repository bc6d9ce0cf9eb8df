"""Assignment 02 as a whole: validate passes, and in-process grading agrees with isolated grading."""

from __future__ import annotations

import pytest

from autograder.config import load_course
from autograder.grading import grade_submission
from autograder.validate import validate_assignment
from tests.conftest import REPO


@pytest.fixture(scope="module")
def a02():
    return load_course(REPO).assignment("02-feedforward")


def test_validate_02_feedforward(a02):
    report = validate_assignment(a02)
    assert report.ok, report.render()
    assert [c.name for c in report.checks] == [
        "starter generated from the solution",
        "reference scores full marks",
        "starter scores 0 on every scoring test",
        "grading is deterministic",
        "points add up to total_points",
        "every test carries points",
    ]
    assert report.grade_seconds > 0


def test_points_split_public_and_hidden(a02):
    result = grade_submission(a02, REPO / "solutions" / "02-feedforward")
    public = sum(t.max_score for t in result.tests if t.visibility == "visible")
    hidden = sum(t.max_score for t in result.tests if t.visibility == "after_due_date")
    assert (public, hidden) == (40, 60)
    assert all(t.description for t in result.tests), "every test needs a docstring"


def test_in_process_mode_scores_like_isolated_mode(a02):
    isolated = grade_submission(a02, REPO / "solutions" / "02-feedforward")
    local = grade_submission(a02, REPO / "solutions" / "02-feedforward", isolation="none")
    assert local.signature() == isolated.signature()
    assert local.score == 100
    starter_isolated = grade_submission(a02, REPO / "starter" / "02-feedforward")
    starter_local = grade_submission(a02, REPO / "starter" / "02-feedforward", isolation="none")
    assert starter_local.signature() == starter_isolated.signature()
