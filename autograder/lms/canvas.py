"""Canvas: a CSV that Canvas's gradebook import reads (Grades → Import).

Canvas's importer reads a header row, then an optional ``Points Possible`` row, then one
row per student. The identity columns are ``Student`` (the name, never used to match),
``ID`` (Canvas's own user id), ``SIS User ID``, ``SIS Login ID`` and ``Section``; a
student is matched on ``ID``, else on the SIS ids, so a row needs one of them. An
assignment column is matched by the id in its header, ``Title (12345)``; a header with
no id is matched by exact title, and one that matches nothing creates a new assignment.
Columns named as Canvas's computed totals (``... Current Score``, ``... Final Points``
and the like) are read-only: the import ignores them. A blank cell changes nothing;
``EX`` excuses the student.

So: assignment columns are ``Title (id)`` where ``[lms.canvas] assignment_ids`` gives the
id; the programming component's total is left out unless ``total_column = true``, and then
it is named ``Programming assignments Final Points`` (read-only); missing work is blank,
``EX`` or ``0`` (``missing``); ``ID`` holds the roster's ``canvas_id`` (never dlgrade's
own student id, which Canvas would read as a Canvas user id).
"""

from __future__ import annotations

import csv
import io

from autograder.config import CanvasSettings
from autograder.gradebook.policy import CourseGrades
from autograder.gradebook.policy import format_score as _fmt
from autograder.lms.roster import Roster
from autograder.student_text import clean_line

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "    Points Possible"
TOTAL_COLUMN = "Programming assignments Final Points"


def assignment_header(title: str, canvas_id: int | None) -> str:
    """An assignment column's header: ``Title (id)`` when Canvas's id is known."""
    title = " ".join(title.split())
    return f"{title} ({canvas_id})" if canvas_id else title


def render_canvas(cg: CourseGrades, roster: Roster, settings: CanvasSettings) -> tuple[str, list[str]]:
    """The Canvas import CSV. Returns its text and warnings: assignments without a Canvas
    id (matched by title only) and students Canvas cannot match (no canvas_id or SIS id on
    the roster)."""
    warnings = [f"{a}: no Canvas assignment id in [lms.canvas] assignment_ids, so Canvas "
                "matches the column by its exact title (or creates a new assignment)"
                for a in cg.assignments if a not in settings.assignment_ids]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    headers = [assignment_header(cg.titles.get(a, a), settings.assignment_ids.get(a))
               for a in cg.assignments]
    total = [TOTAL_COLUMN] if settings.total_column else []
    writer.writerow([*IDENTITY_COLUMNS, *headers, *total])
    writer.writerow([POINTS_POSSIBLE, "", "", "", "",
                     *[_fmt(cg.max_scores[a]) for a in cg.assignments],
                     *([_fmt(cg.component)] if total else [])])
    unmatched = []
    for grade in cg.grades:
        person = roster.get(grade.student, {})
        if not (person.get("canvas_id") or person.get("sis_id") or person.get("login_id")):
            unmatched.append(grade.student)
        cells = []
        for a in cg.assignments:
            entry = grade.assignments[a]
            if entry.status == "missing":
                cells.append("" if settings.missing == "blank" else settings.missing)
            else:
                cells.append(_fmt(entry.final_score))
        writer.writerow([clean_line(v, 1000) for v in (
            person.get("name") or grade.student, person.get("canvas_id", ""),
            person.get("sis_id", ""), person.get("login_id", ""), person.get("section", ""),
            *cells, *([_fmt(grade.total)] if total else []))])
    if unmatched:
        warnings.append(f"{len(unmatched)} student(s) with no canvas_id, sis_id or login_id on "
                        f"the roster, which Canvas cannot match: {', '.join(unmatched[:10])}"
                        + (" ..." if len(unmatched) > 10 else ""))
    return out.getvalue(), warnings
