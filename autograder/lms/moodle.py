"""Moodle: its "download all submissions" folders, its grading worksheet, its grade import.

**Download all submissions** (with "Download submissions in folders", Moodle's default)
gives one folder per student and submission plugin, named
``<Full Name>_<participant id>_assignsubmission_<plugin>_`` (``file`` for uploads,
``onlinetext`` for text). The participant id is the assignment's own number for the
student (the worksheet's ``Participant <id>``), not a user id: it differs between
assignments, so a student is filed under their roster id, found through the worksheet's
email or ID number (or, without a worksheet, their full name on the roster).

**Grading worksheet** (Assignment → "Download grading worksheet", "Upload grading
worksheet"): a CSV whose columns include ``Identifier`` ("Participant 123456"),
``Full name``, ``Email address``, ``Last modified (submission)`` (when the student last
changed the submission, in the downloading user's time zone, e.g. "Thursday, 2 October
2026, 11:59 PM", or "-"), ``Grade``, ``Last modified (grade)`` and, where feedback
comments are on, ``Feedback comments``. Moodle's importer finds the ``Identifier``,
``Grade`` and ``Last modified (grade)`` columns by their English names, strips the
"Participant " prefix and ignores every other column; :func:`fill_worksheet` writes the
downloaded worksheet back with only ``Grade`` (and the feedback comment) changed.

**Grade import** (Grades → Import → CSV file): a header row, then one row per student;
the user is matched on a column chosen in the import form ("Map from" → "Map to": email
address, ID number or username); a row whose user is not found aborts the whole import,
so students without that identifier are left out (and listed); an empty cell means "no
grade". :func:`render_grade_import` writes it.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from autograder.batch.times import parse_time
from autograder.config import MoodleSettings
from autograder.errors import UsageError
from autograder.gradebook.policy import AssignmentGrade, CourseGrades
from autograder.gradebook.policy import format_score as _fmt
from autograder.lms.roster import Roster, find_student
from autograder.student_text import clean_line

SUBMISSION_FOLDER = re.compile(
    r"^(?P<name>.+)_(?P<participant>\d+)_assign(?:submission|feedback)_(?P<plugin>[a-z]+)_$")
FLAT_FILE = re.compile(r"^.+_\d+_assignsubmission_[a-z]+_.")

IDENTIFIER, GRADE, FULL_NAME, EMAIL = "Identifier", "Grade", "Full name", "Email address"
ID_NUMBER, USERNAME = "ID number", "Username"
SUBMITTED, GRADE_MODIFIED = "Last modified (submission)", "Last modified (grade)"
FEEDBACK = "Feedback comments"
PARTICIPANT_PREFIX = "Participant "
_WORKSHEET_NEEDS = (IDENTIFIER, GRADE, GRADE_MODIFIED)
_MOODLE_TIME_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p",
                        "%d %B %Y, %H:%M")
IMPORT_COLUMN = {"email": EMAIL, "idnumber": ID_NUMBER, "username": USERNAME}
_ROSTER_COLUMN = {"email": "email", "idnumber": "sis_id", "username": "login_id"}


@dataclass(frozen=True)
class SubmissionFolder:
    """One folder of Moodle's download: whose, and which plugin's."""

    full_name: str
    participant: str
    plugin: str


def parse_submission_folder(name: str) -> SubmissionFolder | None:
    """The parts of a download folder's name; None when it is not one."""
    match = SUBMISSION_FOLDER.match(name)
    if not match:
        return None
    return SubmissionFolder(match["name"].strip(), match["participant"], match["plugin"])


def is_moodle_download(root: Path) -> bool:
    """Whether ``root`` looks like Moodle's download (folders or its flat variant)."""
    names = [p.name for p in root.iterdir() if not p.name.startswith(".")]
    return any(SUBMISSION_FOLDER.match(n) or FLAT_FILE.match(n) for n in names)


def parse_moodle_time(text: str, zone: tzinfo) -> datetime | None:
    """A worksheet date ("Thursday, 2 October 2026, 11:59 PM", in ``zone``, the downloading
    account's time zone) or ISO 8601; None for "-", empty or unreadable."""
    text = " ".join(text.split())
    if text in ("", "-"):
        return None
    for fmt in _MOODLE_TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    return parse_time(text, zone)


@dataclass(frozen=True)
class WorksheetRow:
    """One participant's row of the grading worksheet."""

    participant: str
    full_name: str
    email: str
    id_number: str
    username: str
    submitted_at: datetime | None


@dataclass
class Worksheet:
    """A grading worksheet as downloaded: its header, its rows as they were, and each row
    read (``rows[i]`` belongs to ``lines[i]``)."""

    path: Path
    header: list[str]
    lines: list[list[str]]
    rows: list[WorksheetRow]

    def by_participant(self) -> dict[str, WorksheetRow]:
        return {row.participant: row for row in self.rows}


def is_worksheet(path: Path) -> bool:
    """Whether the CSV at ``path`` is a Moodle grading worksheet (its first line names an
    ``Identifier`` column)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return IDENTIFIER in [h.strip() for h in header]


def read_worksheet(path: Path, zone: tzinfo) -> Worksheet:
    """Read a grading worksheet; times without an offset are in ``zone``.

    Raises:
        UsageError: naming the file (and line): unreadable, not UTF-8, a column Moodle's
            importer needs is missing, or an identifier is not "Participant <number>".
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            table = list(csv.reader(fh))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the grading worksheet "
                         f"({exc.strerror or exc})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: not a CSV grading worksheet ({exc})") from None
    if not table:
        raise UsageError(f"{path}: the grading worksheet is empty")
    header = [h.strip() for h in table[0]]
    missing = [c for c in _WORKSHEET_NEEDS if c not in header]
    if missing:
        raise UsageError(f"{path}: not a Moodle grading worksheet (no {', '.join(missing)} "
                         "column; download it from the assignment's 'Download grading "
                         "worksheet', in English)")
    col = {name: i for i, name in enumerate(header)}

    def cell(line: list[str], name: str) -> str:
        i = col.get(name)
        return line[i].strip() if i is not None and i < len(line) else ""

    lines, rows = [], []
    for number, line in enumerate(table[1:], start=2):
        if not any(c.strip() for c in line):
            continue
        ident = cell(line, IDENTIFIER)
        if not (ident.startswith(PARTICIPANT_PREFIX.strip())
                and ident[len(PARTICIPANT_PREFIX.strip()):].strip().isdigit()):
            raise UsageError(f"{path}:{number}: identifier {ident!r} is not "
                             "'Participant <number>'")
        lines.append(line)
        rows.append(WorksheetRow(
            participant=ident[len(PARTICIPANT_PREFIX.strip()):].strip(),
            full_name=cell(line, FULL_NAME), email=cell(line, EMAIL),
            id_number=cell(line, ID_NUMBER), username=cell(line, USERNAME),
            submitted_at=parse_moodle_time(cell(line, SUBMITTED), zone)))
    return Worksheet(Path(path), header, lines, rows)


def worksheet_student(row: WorksheetRow, roster: Roster) -> str | None:
    """The student id a worksheet row belongs to: the roster's student with that email,
    ID number or username (else full name); without a roster match, the email itself."""
    found = find_student(roster, email=row.email, sis_id=row.id_number, login_id=row.username,
                         name=row.full_name)
    return found or row.email or None


def fill_worksheet(sheet: Worksheet, grades: dict[str, AssignmentGrade], roster: Roster,
                   feedback: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """The worksheet with each graded student's final score (late penalty applied) in
    ``Grade`` and, where the column exists, ``feedback[student]`` in ``Feedback comments``.

    ``grades``: student id -> their grade on this assignment. Rows of students with no
    grade keep what Moodle wrote. Returns the CSV text and the participants left as they
    were because no student matched them (as "Participant N (Full Name)").
    """
    col = {name: i for i, name in enumerate(sheet.header)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(sheet.header)
    unmatched = []
    for line, row in zip(sheet.lines, sheet.rows, strict=True):
        line = list(line) + [""] * (len(sheet.header) - len(line))
        student = worksheet_student(row, roster)
        entry = grades.get(student) if student else None
        if entry is None:
            unmatched.append(f"{PARTICIPANT_PREFIX}{row.participant} ({row.full_name})")
        elif entry.status != "missing":
            line[col[GRADE]] = _fmt(entry.final_score)
            if FEEDBACK in col and feedback and student in feedback:
                line[col[FEEDBACK]] = clean_line(feedback[student], 2000)
        writer.writerow(line)
    return out.getvalue(), unmatched


def feedback_comment(entry: AssignmentGrade) -> str:
    """The one-line feedback comment the worksheet gets for a grade."""
    text = f"dlgrade: {_fmt(entry.raw_score)}/{_fmt(entry.max_score)}"
    if entry.status == "error":
        text += " (the submission could not be graded; see your feedback file)"
    if entry.penalty_percent:
        text += (f", {_duration(entry.late_seconds)} late: -{_fmt(entry.penalty_percent)}%, "
                 f"final {_fmt(entry.final_score)}")
    return text


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{math.ceil(seconds / 60):.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def filled_worksheet(path: Path, cg: CourseGrades, assignment: str, roster: Roster,
                     zone: tzinfo) -> tuple[str, list[str]]:
    """The worksheet at ``path`` with the grades of ``assignment`` filled in
    (:func:`fill_worksheet`, each graded row's feedback comment from
    :func:`feedback_comment`); returns the CSV text and warnings."""
    sheet = read_worksheet(path, zone)
    grades = {g.student: g.assignments[assignment] for g in cg.grades}
    comments = {s: feedback_comment(e) for s, e in grades.items() if e.status != "missing"}
    text, unmatched = fill_worksheet(sheet, grades, roster, comments)
    warnings = [f"{len(unmatched)} worksheet row(s) matched no student and keep Moodle's grade: "
                + ", ".join(unmatched[:10]) + (" ..." if len(unmatched) > 10 else "")
                ] if unmatched else []
    return text, warnings


def render_grade_import(cg: CourseGrades, roster: Roster,
                        settings: MoodleSettings) -> tuple[str, list[str]]:
    """Moodle's grade import CSV: the identifier column (``settings.identifier``: the
    roster's email, sis_id as ID number, or login_id as username), the full name (ignored
    by the import), then one column per assignment titled as in course.toml, holding the
    final score. Missing work is blank (no grade) or 0 (``settings.missing``).

    Returns the CSV text and the students left out for want of that identifier.
    """
    id_title = IMPORT_COLUMN[settings.identifier]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([id_title, FULL_NAME, *[cg.titles.get(a, a) for a in cg.assignments]])
    left_out = []
    for grade in cg.grades:
        person = roster.get(grade.student, {})
        ident = person.get(_ROSTER_COLUMN[settings.identifier], "")
        if not ident and settings.identifier == "email" and "@" in grade.student:
            ident = grade.student
        if not ident:
            left_out.append(grade.student)
            continue
        cells = []
        for a in cg.assignments:
            entry = grade.assignments[a]
            missing = entry.status == "missing"
            cells.append(("" if settings.missing == "blank" else "0") if missing
                         else _fmt(entry.final_score))
        writer.writerow([clean_line(v, 1000) for v in
                         (ident, person.get("name") or grade.student, *cells)])
    return out.getvalue(), left_out
