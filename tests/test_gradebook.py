"""The course gradebook: [grading] in course.toml, late penalties, weights, drop-lowest, exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autograder.config import ConfigError, LatePolicy, load_course, parse_grading
from autograder.gradebook.export import render_csv, render_table
from autograder.gradebook.policy import compute_grades, late_penalty
from autograder.gradebook.store import Gradebook

DUE = datetime(2026, 10, 15, 23, 59, tzinfo=UTC)


@pytest.mark.parametrize("late, policy, expected", [
    (timedelta(minutes=-5), LatePolicy(penalty_per_day=10), 0),
    (timedelta(minutes=10), LatePolicy(penalty_per_day=10, grace_minutes=15), 0),
    (timedelta(minutes=20), LatePolicy(penalty_per_day=10, grace_minutes=15), 10),
    (timedelta(hours=25), LatePolicy(penalty_per_day=10), 20),  # per started day
    (timedelta(hours=2, minutes=1), LatePolicy(penalty_per_hour=2), 6),  # per started hour
    (timedelta(days=6), LatePolicy(penalty_per_day=10, max_late_days=5), 100),
    (timedelta(days=30), LatePolicy(penalty_per_day=10), 100),  # capped at 100%
])
def test_late_penalty(late, policy, expected):
    assert late_penalty(policy, DUE + late, DUE)[1] == expected


def test_extension_moves_the_due_date():
    policy = LatePolicy(penalty_per_day=10)
    assert late_penalty(policy, DUE + timedelta(days=2), DUE, extension_days=3) == (0.0, 0.0)
    assert late_penalty(policy, DUE + timedelta(days=2), None) == (0.0, 0.0)
    assert late_penalty(policy, None, DUE) == (0.0, 0.0)


GRADING = {
    "component_weight": 30, "drop_lowest": 1, "timezone": "Europe/Berlin",
    "late": {"penalty_per_day": 10, "grace_minutes": 15, "max_late_days": 5},
    "assignments": {"a1": {"weight": 1, "due": "2026-10-15T23:59:00"},
                    "a2": {"weight": 2, "due": "2026-10-29T23:59:00+01:00"},
                    "a3": {"weight": 1}},
    "extensions": {"bob": {"a1": 2}},
}


def test_grading_table_parses_with_time_zones():
    policy = parse_grading(GRADING, "course.toml")
    assert policy.assignments["a1"].due.utcoffset() == timedelta(hours=2)  # CEST from the zone
    assert policy.assignments["a2"].due.utcoffset() == timedelta(hours=1)
    assert policy.extensions == {"bob": {"a1": 2.0}}


@pytest.mark.parametrize("change, message", [
    ({"late": {"penalty_per_dai": 1}}, "unknown key 'penalty_per_dai' \\(did you mean 'penalty_per_day'\\?\\)"),
    ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
    ({"timezone": None, "assignments": {"a1": {"due": "2026-10-15T23:59:00"}}}, "has no time zone"),
    ({"assignments": {"a1": {"due": "next friday"}}}, "must be an ISO date-time"),
    ({"component_weight": 130}, "must be in \\(0, 100\\]"),
    ({"late": {"penalty_per_day": 1, "penalty_per_hour": 1}}, "not both"),
    ({"extensions": {"bob": {"a1": -1}}}, "extra days"),
])
def test_bad_grading_tables_are_explained(change, message):
    table = {**GRADING, **change}
    if table.get("timezone") is None:
        table.pop("timezone")
    with pytest.raises(ConfigError, match=message):
        parse_grading(table, "course.toml")


def test_unknown_assignment_in_grading_is_an_error(tmp_path):
    (tmp_path / "assignments").mkdir()
    (tmp_path / "course.toml").write_text('[grading.assignments."99-nope"]\nweight = 1\n')
    with pytest.raises(ConfigError, match="no such assignment\\(s\\): 99-nope"):
        load_course(tmp_path)


def make_book(tmp_path: Path, entries) -> Gradebook:
    book = Gradebook(tmp_path / "gb.sqlite")
    for student, assignment, score, when in entries:
        book.add(student=student, assignment=assignment, sha256="h", status="graded",
                 platform_version="1", assignment_version="1", submitted_at=when,
                 results={"score": score, "max_score": 100, "execution_time": 1.0, "tests": []})
    return book


def test_weights_penalties_drop_lowest_and_missing(tmp_path):
    policy = parse_grading(GRADING, "course.toml")
    a1_due = policy.assignments["a1"].due
    book = make_book(tmp_path, [
        ("alice", "a1", 100, a1_due - timedelta(hours=1)),
        ("alice", "a2", 50, None),
        ("alice", "a3", 80, None),
        ("bob", "a1", 90, a1_due + timedelta(days=1, hours=1)),  # extension 2 days: on time
        ("carol", "a1", 80, a1_due + timedelta(hours=3)),  # 1 started day late: -10%
        ("carol", "a2", 100, None),
    ])
    grades = {g.student: g for g in compute_grades(
        policy, book.latest(), ["a1", "a2", "a3"], {"a1": 100, "a2": 100, "a3": 100},
        ["alice", "bob", "carol", "dave"])}
    alice = grades["alice"]
    # a2 (50%) is the lowest and is dropped; a1 and a3 share the 30 points equally.
    assert alice.assignments["a2"].dropped
    assert alice.total == pytest.approx(15 * 1.0 + 15 * 0.8)
    assert grades["bob"].assignments["a1"].penalty_percent == 0
    carol_a1 = grades["carol"].assignments["a1"]
    assert carol_a1.penalty_percent == 10 and carol_a1.final_score == pytest.approx(72)
    assert grades["carol"].assignments["a3"].status == "missing"
    assert grades["carol"].assignments["a3"].dropped  # the missing one is the lowest
    assert grades["carol"].total == pytest.approx(30 * (1 / 3 * 0.72 + 2 / 3 * 1.0))
    assert grades["dave"].total == 0
    book.close()


def test_exports(tmp_path):
    policy = parse_grading({"assignments": {"a1": {"due": "2026-10-15T23:59:00+00:00"}},
                            "late": {"penalty_per_day": 10}}, "course.toml")
    book = make_book(tmp_path, [("s1", "a1", 90, DUE + timedelta(hours=30)),
                                ("s2", "a1", 70, DUE - timedelta(hours=30))])
    grades = compute_grades(policy, book.latest(), ["a1"], {"a1": 100}, ["s1", "s2"])
    table = render_table(grades, ["a1"], 30)
    assert table.splitlines()[0].split() == ["student", "a1", "total/30"]
    assert "90/100 late 1.2d -20%" in table  # 1.25 days late: 2 started days
    long = list(csv.DictReader(io.StringIO(render_csv(grades, 30))))
    assert long[0]["penalty_percent"] == "20" and long[0]["final_score"] == "72"
    assert long[0]["total_out_of_30"] == "21.6"
    book.close()
