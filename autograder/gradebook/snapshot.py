"""The class as the exports, feedback and report see it: the roster, every student's latest
row and their course grades, read from the gradebook in one go."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from autograder.config import Course
from autograder.errors import UsageError
from autograder.gradebook.policy import CourseGrades, course_grades
from autograder.gradebook.store import Gradebook, Row
from autograder.lms.roster import Roster, load_roster


def gradebook_path(course: Course, db: Path | None = None) -> Path:
    """``db`` (a ``--db`` option) when given, else the course's gradebook (course.toml's
    ``gradebook``, by default ``gradebook.sqlite`` in the course folder)."""
    return db or course.gradebook_path


@dataclass(frozen=True)
class GradebookSnapshot:
    """One reading of the gradebook.

    ``roster``: student id -> roster fields (empty without a roster); ``grades``: the course
    grades of every student on the roster or in the gradebook; ``rows``: the latest row of
    every (student, assignment), ordered by assignment then student.
    """

    roster: Roster
    grades: CourseGrades
    rows: list[Row]

    @cached_property
    def _by_key(self) -> dict[tuple[str, str], Row]:
        return {(r.student, r.assignment): r for r in self.rows}

    def latest(self, student: str, assignment: str) -> Row | None:
        """The student's current row for the assignment, or None when never graded."""
        return self._by_key.get((student, assignment))


def open_course_gradebook(course: Course, db: Path | None = None) -> GradebookSnapshot:
    """Read the course's gradebook (or ``db``) with its roster and the course grades.

    Raises:
        UsageError: there is no gradebook yet, or the roster is missing or malformed.
        GradebookError: the gradebook cannot be opened.
    """
    path = gradebook_path(course, db)
    if not path.is_file():
        raise UsageError(f"no gradebook at {path}: run `dlgrade grade-batch` first")
    roster = load_roster(course.roster_path)
    with Gradebook(path) as book:
        return GradebookSnapshot(roster, course_grades(course, book, list(roster)), book.latest())
