"""Gradebook exports: a terminal table, a long CSV, and the LMS imports (``autograder.lms``).

``render_export`` is the one entry point: ``table`` (for the terminal), ``csv`` (one line
per student and assignment), ``canvas`` (Canvas's gradebook import) and ``moodle`` (Moodle's
grade import). Lateness measured from file dates (``batch.times.TIME_FROM_FILES``) is
marked in the table and named in the CSV's ``time_source`` column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from autograder.batch.times import TIME_FROM_FILES
from autograder.config import LmsSettings
from autograder.gradebook.policy import CourseGrades, StudentGrade
from autograder.gradebook.policy import format_score as _fmt
from autograder.lms.canvas import render_canvas
from autograder.lms.moodle import render_grade_import
from autograder.lms.roster import Roster
from autograder.student_text import clean_line


def _cells(values: list) -> list[str]:
    """A CSV or table row's cells as one-line, clean text (ids and names may come from files
    students named)."""
    return [clean_line(v, 1000) for v in values]


def render_table(grades: list[StudentGrade], assignments: list[str], component: float) -> str:
    """One row per student: per assignment ``raw [-penalty%] [dropped]``, then the total."""
    headers = ["student", *assignments, f"total/{component:g}"]
    rows = []
    for grade in grades:
        cells = [grade.student]
        for ident in assignments:
            entry = grade.assignments[ident]
            if entry.status == "missing":
                cell = "missing"
            else:
                cell = f"{_fmt(entry.raw_score)}/{_fmt(entry.max_score)}"
                if entry.status == "error":
                    cell += " error"
                if entry.penalty_percent:
                    cell += f" late {entry.late_days:.1f}d -{_fmt(entry.penalty_percent)}%"
                if entry.late_seconds and entry.time_source == TIME_FROM_FILES:
                    cell += " (by file dates)"  # lateness that unzipping may have made up
            if entry.dropped:
                cell += " (dropped)"
            cells.append(cell)
        cells.append(_fmt(grade.total))
        rows.append(_cells(cells))
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def render_csv(grades: list[StudentGrade], component: float) -> str:
    """Long format: one line per student and assignment, with the student's total."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "assignment", "status", "raw_score", "max_score", "submitted_at",
                     "time_source", "late_hours", "penalty_percent", "final_score", "weight_share",
                     "contribution", "dropped", f"total_out_of_{component:g}"])
    for grade in grades:
        for entry in grade.assignments.values():
            writer.writerow(_cells([
                grade.student, entry.assignment, entry.status, _fmt(entry.raw_score),
                _fmt(entry.max_score),
                entry.submitted_at.isoformat() if entry.submitted_at else "",
                entry.time_source or "", f"{entry.late_seconds / 3600:.2f}", _fmt(entry.penalty_percent),
                _fmt(entry.final_score), f"{entry.weight_share:.4f}", _fmt(entry.contribution),
                "yes" if entry.dropped else "no", _fmt(grade.total)]))
    return out.getvalue()


EXPORT_FORMATS = ("table", "csv", "canvas", "moodle")


@dataclass(frozen=True)
class Export:
    """An export's text and what its reader should know (columns an LMS cannot match,
    students left out)."""

    text: str
    warnings: list[str] = field(default_factory=list)


def render_export(fmt: str, cg: CourseGrades, roster: Roster,
                  lms: LmsSettings | None = None) -> Export:
    """The course grades in one of ``EXPORT_FORMATS``."""
    lms = lms or LmsSettings()
    if fmt == "table":
        return Export(render_table(cg.grades, cg.assignments, cg.component) + "\n")
    if fmt == "csv":
        return Export(render_csv(cg.grades, cg.component))
    if fmt == "canvas":
        text, warnings = render_canvas(cg, roster, lms.canvas)
        return Export(text, warnings)
    if fmt == "moodle":
        text, left_out = render_grade_import(cg, roster, lms.moodle)
        column = {"email": "email", "idnumber": "sis_id", "username": "login_id"}
        warnings = [f"{len(left_out)} student(s) left out: no {column[lms.moodle.identifier]} "
                    f"on the roster for Moodle to match ({', '.join(left_out[:10])}"
                    + (" ...)" if len(left_out) > 10 else ")")] if left_out else []
        return Export(text, warnings)
    raise ValueError(f"unknown gradebook export format {fmt!r}")
