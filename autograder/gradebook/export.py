"""Gradebook exports: a terminal table, a long CSV, and a CSV that Canvas imports.

Canvas's gradebook import expects the columns ``Student, ID, SIS User ID,
SIS Login ID, Section``, then one column per assignment, and accepts a
``Points Possible`` row right after the header. Names and SIS ids come from the
course roster (``roster = "roster.csv"`` in course.toml, columns
``id,name,sis_id,login_id,section``); without one, the student id stands in.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder.errors import ConfigError
from autograder.gradebook.policy import CourseGrades, StudentGrade
from autograder.student_text import clean_line

ROSTER_COLUMNS = ("id", "name", "sis_id", "login_id", "section")


def load_roster(path: Path | None) -> dict[str, dict[str, str]]:
    """Student id -> roster fields (empty when there is no roster)."""
    if path is None:
        return {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "id" not in reader.fieldnames:
                raise ConfigError(f"{path}: the roster needs a header with at least an 'id' column")
            return {row["id"]: {k: row.get(k) or "" for k in ROSTER_COLUMNS} for row in reader}
    except FileNotFoundError:
        raise ConfigError(f"{path}: roster not found") from None


def _cells(values: list) -> list[str]:
    """A CSV or table row's cells as one-line, clean text (ids and names may come from files
    students named)."""
    return [clean_line(v, 1000) for v in values]


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


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
                     "late_hours", "penalty_percent", "final_score", "weight_share",
                     "contribution", "dropped", f"total_out_of_{component:g}"])
    for grade in grades:
        for entry in grade.assignments.values():
            writer.writerow(_cells([
                grade.student, entry.assignment, entry.status, _fmt(entry.raw_score),
                _fmt(entry.max_score),
                entry.submitted_at.isoformat() if entry.submitted_at else "",
                f"{entry.late_seconds / 3600:.2f}", _fmt(entry.penalty_percent),
                _fmt(entry.final_score), f"{entry.weight_share:.4f}", _fmt(entry.contribution),
                "yes" if entry.dropped else "no", _fmt(grade.total)]))
    return out.getvalue()


def render_canvas(grades: list[StudentGrade], assignments: list[str], titles: dict[str, str],
                  max_scores: dict[str, float], component: float,
                  roster: dict[str, dict[str, str]]) -> str:
    """Canvas gradebook import CSV: identity columns, one column per assignment, the total."""
    out = io.StringIO()
    writer = csv.writer(out)
    total_title = f"Programming assignments ({component:g}%)"
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                     *[titles.get(a, a) for a in assignments], total_title])
    writer.writerow(["    Points Possible", "", "", "", "",
                     *[_fmt(max_scores[a]) for a in assignments], _fmt(component)])
    for grade in grades:
        person = roster.get(grade.student, {})
        writer.writerow(_cells([
            person.get("name") or grade.student, grade.student, person.get("sis_id", ""),
            person.get("login_id", ""), person.get("section", ""),
            *[_fmt(grade.assignments[a].final_score) for a in assignments], _fmt(grade.total)]))
    return out.getvalue()


EXPORT_FORMATS = ("table", "csv", "canvas")


def render_export(fmt: str, cg: CourseGrades, roster: dict[str, dict[str, str]]) -> str:
    """The course grades in one of ``EXPORT_FORMATS``: ``table`` (for the terminal), ``csv``
    (long format) or ``canvas`` (Canvas's gradebook import)."""
    if fmt == "table":
        return render_table(cg.grades, cg.assignments, cg.component) + "\n"
    if fmt == "csv":
        return render_csv(cg.grades, cg.component)
    if fmt == "canvas":
        return render_canvas(cg.grades, cg.assignments, cg.titles, cg.max_scores, cg.component,
                             roster)
    raise ValueError(f"unknown gradebook export format {fmt!r}")
