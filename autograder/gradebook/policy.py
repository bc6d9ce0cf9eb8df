"""From gradebook rows to course grades: late penalties, weights, drop-lowest, the total out of 30.

Rules (``[grading]`` in course.toml, see ``config.GradingPolicy``):

- Lateness is measured from the due date plus the student's extension plus the
  grace period. A late submission loses ``penalty_per_day`` percent of the
  points it earned per started day (or ``penalty_per_hour`` per started hour);
  beyond ``max_late_days`` it scores 0. A submission without a known time is
  treated as on time.
- A missing submission scores 0.
- Each assignment's final score counts with its weight relative to the other
  assignments; the ``drop_lowest`` lowest final percentages are left out and
  the weights of the rest renormalised. The total is out of ``component_weight``
  (30 for this course).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from autograder.config import GradingPolicy, LatePolicy
from autograder.gradebook.store import Row


@dataclass
class AssignmentGrade:
    """One student's grade on one assignment."""

    assignment: str
    status: str  # "graded" | "error" | "missing"
    raw_score: float  # the autograder's score (0 when missing or ungradable)
    max_score: float
    submitted_at: datetime | None = None
    time_source: str | None = None  # where submitted_at came from (``batch.times``)
    late_seconds: float = 0.0  # after extension and grace; 0 when on time
    penalty_percent: float = 0.0
    final_score: float = 0.0
    weight_share: float = 0.0  # fraction of the component this assignment carries
    contribution: float = 0.0  # points toward the component total
    dropped: bool = False

    @property
    def late_days(self) -> float:
        return self.late_seconds / 86400


@dataclass
class StudentGrade:
    student: str
    assignments: dict[str, AssignmentGrade] = field(default_factory=dict)
    total: float = 0.0  # out of the component weight


def format_score(value: float) -> str:
    """A score as exports write it: at most two decimals, no trailing zeros (``72``, ``1.6``)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def late_penalty(policy: LatePolicy, submitted_at: datetime | None, due: datetime | None,
                 extension_days: float = 0.0) -> tuple[float, float]:
    """``(late_seconds, penalty_percent)`` for a submission time against a due date."""
    if submitted_at is None or due is None:
        return 0.0, 0.0
    allowed = due.timestamp() + extension_days * 86400 + policy.grace_minutes * 60
    late = submitted_at.timestamp() - allowed
    if late <= 0:
        return 0.0, 0.0
    if policy.max_late_days is not None and late > policy.max_late_days * 86400:
        return late, 100.0
    if policy.penalty_per_hour:
        penalty = math.ceil(late / 3600) * policy.penalty_per_hour
    else:
        penalty = math.ceil(late / 86400) * policy.penalty_per_day
    return late, min(penalty, 100.0)


def compute_grades(policy: GradingPolicy, rows: list[Row], assignments: list[str],
                   max_scores: dict[str, float], students: list[str]) -> list[StudentGrade]:
    """Course grades for ``students`` over ``assignments`` from the latest gradebook ``rows``."""
    latest = {(r.student, r.assignment): r for r in rows}
    grades = []
    for student in students:
        grade = StudentGrade(student)
        for ident in assignments:
            row = latest.get((student, ident))
            max_score = max_scores[ident]
            if row is None:
                entry = AssignmentGrade(ident, "missing", 0.0, max_score)
            else:
                entry = AssignmentGrade(ident, row.status, row.score or 0.0, max_score,
                                        submitted_at=row.submitted_at,
                                        time_source=row.time_source)
                rule = policy.assignments.get(ident)
                extension = policy.extensions.get(student, {}).get(ident, 0.0)
                entry.late_seconds, entry.penalty_percent = late_penalty(
                    policy.late, row.submitted_at, rule.due if rule else None, extension)
            entry.final_score = round(entry.raw_score * (1 - entry.penalty_percent / 100), 6)
            grade.assignments[ident] = entry
        _weigh(policy, grade)
        grades.append(grade)
    return grades


def _weigh(policy: GradingPolicy, grade: StudentGrade) -> None:
    entries = list(grade.assignments.values())

    def weight(entry: AssignmentGrade) -> float:
        rule = policy.assignments.get(entry.assignment)
        return rule.weight if rule else 1.0

    def fraction(entry: AssignmentGrade) -> float:
        return entry.final_score / entry.max_score if entry.max_score else 0.0

    droppable = sorted((e for e in entries if weight(e) > 0), key=lambda e: (fraction(e), e.assignment))
    for entry in droppable[: min(policy.drop_lowest, max(len(droppable) - 1, 0))]:
        entry.dropped = True
    kept = [e for e in entries if not e.dropped]
    total_weight = sum(weight(e) for e in kept)
    grade.total = 0.0
    for entry in kept:
        entry.weight_share = weight(entry) / total_weight if total_weight else 0.0
        entry.contribution = round(policy.component_weight * entry.weight_share * fraction(entry), 6)
        grade.total += entry.contribution
    grade.total = round(grade.total, 6)


@dataclass
class CourseGrades:
    """Everything an export needs."""

    grades: list[StudentGrade]
    assignments: list[str]
    titles: dict[str, str]
    max_scores: dict[str, float]
    component: float


def course_grades(course, book, roster_ids: list[str] | None = None) -> CourseGrades:
    """Grades of every student (the roster's and the gradebook's) from ``book``.

    The assignments counted are those listed under ``[grading.assignments]`` in
    course.toml, or else every course assignment that has results in the gradebook.
    """
    policy = course.grading
    graded = set(book.assignments())
    idents = list(policy.assignments) or [a for a in course.assignment_ids() if a in graded]
    config = {ident: course.assignment(ident) for ident in idents}
    students = sorted(set(book.students()) | set(roster_ids or []))
    max_scores = {ident: a.total_points for ident, a in config.items()}
    grades = compute_grades(policy, book.latest(), idents, max_scores, students)
    return CourseGrades(grades, idents, {i: a.title for i, a in config.items()}, max_scores,
                        policy.component_weight)
