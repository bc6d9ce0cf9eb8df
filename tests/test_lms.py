"""Grades that round-trip into the LMS: Moodle's download and grading worksheet, Moodle's
grade import, Canvas's gradebook import, and true submission times.

Each export is read back here by the consumer's own rules, written out as small readers
that do what the importer does (Moodle's ``assignfeedback_offline`` importer and
``gradeimport_csv`` loader, Canvas's gradebook importer), so a column the LMS would not
find, a row it would reject or a cell it would read otherwise fails a test.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autograder.batch.discover import discover
from autograder.batch.runner import LocalBackend, grade_batch
from autograder.batch.times import TIME_FROM_CSV, TIME_FROM_FILES, TIME_FROM_GRADESCOPE
from autograder.config import CanvasSettings, ConfigError, load_course
from autograder.errors import UsageError
from autograder.gradebook.export import render_table
from autograder.gradebook.policy import course_grades
from autograder.gradebook.store import SCHEMA, Gradebook
from autograder.lms import moodle
from autograder.lms.canvas import render_canvas
from autograder.lms.roster import load_roster
from autograder.report.html import render_report
from tests.conftest import FIXTURE_COURSE, HONEST_MINI

WRONG_ADD = HONEST_MINI.replace("return a + b", "return a - b")
DLGRADE = [sys.executable, "-m", "autograder.cli"]
LATER = datetime(2026, 12, 1, tzinfo=UTC).timestamp()  # what unzipping left as file dates

COURSE_TOML = """\
name = "O'Brien's \\"DL\\" course"
roster = "roster.csv"

[grading]
timezone = "Europe/Berlin"

[grading.late]
penalty_per_day = 10

[grading.assignments."90-mini"]
due = "2026-10-01T23:59:00"

[lms.canvas]
assignment_ids = { "90-mini" = 5501 }

[lms.moodle]
identifier = "email"
"""

ROSTER = """\
id,name,email,sis_id,login_id,section,canvas_id
ann,Ann Lee,ann@uni.example,S1,alee,A,101
bo,Bo Ng,Bo@Uni.example,S2,bng,A,102
cy,Cy Ode,cy@uni.example,S3,code,B,
di,Di Fay,di@uni.example,S4,dfay,B,104
"""

WORKSHEET_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade",
                    "Maximum Grade", "Grade can be changed", "Last modified (submission)",
                    "Last modified (grade)", "Feedback comments"]
# participant, name, email, last modified (submission): Berlin time, as Moodle prints it
WORKSHEET_ROWS = [
    ("300001", "Ann Lee", "ann@uni.example", "Wednesday, 1 October 2026, 11:00 PM"),
    ("300002", "Bo Ng", "bo@uni.example", "Friday, 3 October 2026, 10:59 AM"),  # 35 h late
    ("300003", "Cy Ode", "cy@uni.example", "Thursday, 2 October 2026, 12:10 AM"),  # 11 min late
    ("300004", "Di Fay", "di@uni.example", "-"),
]


def write_worksheet(path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(WORKSHEET_HEADER)
        for participant, name, email, modified in WORKSHEET_ROWS:
            status = "No submission" if modified == "-" else "Submitted for grading"
            writer.writerow([f"Participant {participant}", name, email, status, "", "4.00", "Yes",
                             modified, "-", ""])
    return path


def write_module(folder: Path, source: str) -> None:
    folder.mkdir(parents=True)
    (folder / "mini.py").write_text(source)
    for path in (folder, folder / "mini.py"):
        os.utime(path, (LATER, LATER))


@pytest.fixture
def lms_course(tmp_path) -> Path:
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root, ignore=shutil.ignore_patterns(".dlgrade-secret"))
    (root / "course.toml").write_text(COURSE_TOML)
    (root / "roster.csv").write_text(ROSTER)
    return root


@pytest.fixture
def moodle_download(tmp_path) -> Path:
    """Moodle's "download all submissions" (in folders), unzipped: file dates are the unzip's."""
    root = tmp_path / "download"
    write_module(root / "Ann Lee_300001_assignsubmission_file_", HONEST_MINI)
    write_module(root / "Bo Ng_300002_assignsubmission_file_", WRONG_ADD)
    write_module(root / "Cy Ode_300003_assignsubmission_file_", HONEST_MINI)
    text = root / "Cy Ode_300003_assignsubmission_onlinetext_"
    text.mkdir()
    (text / "onlinetext.html").write_text("<p>see my file</p>")
    return root


def dlgrade(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DLGRADE_COURSE": str(course)}
    return subprocess.run([*DLGRADE, *args], capture_output=True, text=True, env=env, timeout=300)


# ------------------------------------------------ the consumers' rules, as readers
def moodle_worksheet_import(text: str) -> dict[str, tuple[str, str]]:
    """Moodle's offline grading worksheet importer: the Identifier, Grade and "Last modified
    (grade)" columns found by name (else the import fails), "Participant " stripped from the
    identifier; participant -> (grade, feedback comments)."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for needed in ("Identifier", "Grade", "Last modified (grade)"):
        assert needed in header, f"Moodle's importer cannot find the {needed!r} column"
    ident, grade = header.index("Identifier"), header.index("Grade")
    feedback = header.index("Feedback comments") if "Feedback comments" in header else None
    out = {}
    for row in rows[1:]:
        assert row[ident].startswith("Participant ")
        participant = row[ident][len("Participant "):]
        assert participant.isdigit()
        out[participant] = (row[grade], row[feedback] if feedback is not None else "")
    return out


def moodle_grade_import(text: str, users: dict[str, str], map_from: str,
                        items: dict[str, str]) -> dict[str, dict[str, float | None]]:
    """Moodle's CSV grade import (``gradeimport_csv``): ``map_from`` column -> the user field;
    a user that does not exist aborts the whole import; ``items``: column -> grade item; a
    cell '' or '-' is no grade, else a number (a non-number aborts the import)."""
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]]
    assert map_from in header
    result: dict[str, dict[str, float | None]] = {}
    for row in rows[1:]:
        if len(row) <= 1:
            continue
        user_value = row[header.index(map_from)].strip()
        user = users.get(user_value.lower())
        assert user is not None, f"Moodle aborts the import: no user {user_value!r}"
        grades = {}
        for column, item in items.items():
            value = row[header.index(column)].strip()
            grades[item] = None if value in ("", "-") else float(value)
        result[user] = grades
    return result


CANVAS_IDENTITY = {"Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Integration ID"}
CANVAS_READ_ONLY = re.compile(r"(Current|Final|Unposted Current|Unposted Final) "
                              r"(Score|Points|Grade)$|\(read only\)$")


def canvas_import(text: str, assignments: dict[int, str], users: dict[str, str],
                  sis_users: dict[str, str], sis_logins: dict[str, str]):
    """Canvas's gradebook importer: identity columns by name; an assignment column matched by
    the id in ``Title (id)`` (a bare title would match by name or create an assignment,
    which fails here); computed-total columns ignored; an optional Points Possible row; a
    student matched by ID, else SIS User ID, else SIS Login ID; a blank cell changes nothing,
    EX excuses. Returns {user: {assignment: grade | "EX"}} and the ignored columns."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    columns, ignored = {}, []
    for i, name in enumerate(header):
        if name in CANVAS_IDENTITY:
            continue
        if CANVAS_READ_ONLY.search(name):
            ignored.append(name)
            continue
        match = re.search(r"\((\d+)\)\s*$", name)
        assert match and int(match[1]) in assignments, f"Canvas would create {name!r}"
        columns[i] = assignments[int(match[1])]
    body = rows[1:]
    if body and "Points Possible" in body[0][0]:
        body = body[1:]
    grades: dict[str, dict[str, float | str]] = {}
    for row in body:
        cell = dict(zip(header, row, strict=True))
        user = (users.get(cell["ID"]) or sis_users.get(cell["SIS User ID"])
                or sis_logins.get(cell["SIS Login ID"]))
        assert user is not None, f"Canvas cannot match the row {row}"
        for i, assignment in columns.items():
            value = row[i].strip()
            if value == "":
                continue
            grades.setdefault(user, {})[assignment] = "EX" if value == "EX" else float(value)
    return grades, ignored


# ------------------------------------------------ Moodle, end to end through the CLI
def test_moodle_download_graded_with_the_worksheets_times_and_exported_back(
        lms_course, moodle_download, tmp_path):
    sheet = write_worksheet(tmp_path / "worksheet.csv")
    db = tmp_path / "gb.sqlite"
    run = dlgrade(lms_course, "grade-batch", "90-mini", str(moodle_download), "--times", str(sheet),
                  "--db", str(db))
    assert run.returncode == 0, run.stderr
    assert "(moodle layout)" in run.stdout and "file dates" not in run.stderr

    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(
        dlgrade(lms_course, "gradebook", "--format", "csv", "--db", str(db)).stdout))}
    assert set(rows) == {"ann", "bo", "cy", "di"}  # filed under the roster's ids
    assert {s: rows[s]["time_source"] for s in ("ann", "bo", "cy")} == dict.fromkeys(
        ("ann", "bo", "cy"), "moodle worksheet")
    assert rows["ann"]["submitted_at"] == "2026-10-01T23:00:00+02:00"  # Berlin, not the file's
    assert {s: rows[s]["penalty_percent"] for s in rows} == {"ann": "0", "bo": "20", "cy": "10",
                                                             "di": "0"}
    assert {s: rows[s]["final_score"] for s in rows} == {"ann": "4", "bo": "1.6", "cy": "3.6",
                                                         "di": "0"}
    assert rows["di"]["status"] == "missing"

    filled = tmp_path / "filled.csv"
    run = dlgrade(lms_course, "gradebook", "--format", "moodle-worksheet", "--worksheet",
                  str(sheet), "--assignment", "90", "-o", str(filled), "--db", str(db))
    assert run.returncode == 0, run.stderr
    imported = moodle_worksheet_import(filled.read_text())
    assert {p: g for p, (g, _) in imported.items()} == {
        "300001": "4", "300002": "1.6", "300003": "3.6", "300004": ""}
    assert imported["300002"][1] == "dlgrade: 2/4, 1.5 days late: -20%, final 1.6"
    assert imported["300003"][1] == "dlgrade: 4/4, 11 min late: -10%, final 3.6"
    original = list(csv.reader(io.StringIO(sheet.read_text())))
    written = list(csv.reader(io.StringIO(filled.read_text())))
    grade, comment = WORKSHEET_HEADER.index("Grade"), WORKSHEET_HEADER.index("Feedback comments")
    for before, after in zip(original, written, strict=True):  # nothing else touched
        assert [c for i, c in enumerate(before) if i not in (grade, comment)] == \
               [c for i, c in enumerate(after) if i not in (grade, comment)]

    grade_import = tmp_path / "moodle.csv"
    run = dlgrade(lms_course, "gradebook", "--format", "moodle", "-o", str(grade_import),
                  "--db", str(db))
    assert run.returncode == 0 and "warning" not in run.stderr, run.stderr
    users = {f"{u}@uni.example": u for u in ("ann", "bo", "cy", "di")}
    title = load_course(lms_course).assignment("90-mini").title
    assert moodle_grade_import(grade_import.read_text(), users, "Email address",
                               {title: "90-mini"}) == {
        "ann": {"90-mini": 4.0}, "bo": {"90-mini": 1.6}, "cy": {"90-mini": 3.6},
        "di": {"90-mini": None}}

    canvas = tmp_path / "canvas.csv"
    run = dlgrade(lms_course, "gradebook", "--format", "canvas", "-o", str(canvas), "--db", str(db))
    assert run.returncode == 0, run.stderr
    grades, ignored = canvas_import(
        canvas.read_text(), {5501: "90-mini"}, {"101": "ann", "102": "bo", "104": "di"},
        {"S1": "ann", "S2": "bo", "S3": "cy", "S4": "di"}, {})
    assert grades == {"ann": {"90-mini": 4.0}, "bo": {"90-mini": 1.6}, "cy": {"90-mini": 3.6}}
    assert ignored == []  # the component total is left out by default
    assert "warning" not in run.stderr


def test_moodle_without_worksheet_files_by_roster_name_and_flags_file_dates(
        lms_course, moodle_download):
    roster = load_roster(lms_course / "roster.csv")
    write_module(moodle_download / "Zed Unknown_300009_assignsubmission_file_", HONEST_MINI)
    found = {f.student: f for f in discover(moodle_download, "90-mini", roster=roster)}
    assert set(found) == {"ann", "bo", "cy", "moodle-300009"}
    assert found["ann"].time_source == TIME_FROM_FILES
    assert found["ann"].submitted_at == datetime.fromtimestamp(LATER, UTC)
    assert found["cy"].path.name.endswith("_file_")  # the upload, not the online text
    assert "Zed Unknown" in found["moodle-300009"].note and "--times" in found["moodle-300009"].note


def test_moodle_flat_download_and_a_worksheet_elsewhere_are_explained(tmp_path, lms_course):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "Ann Lee_300001_assignsubmission_file_mini.py").write_text(HONEST_MINI)
    with pytest.raises(UsageError, match="Download submissions in folders"):
        discover(flat, "90-mini")
    folders = tmp_path / "folders"
    write_module(folders / "ann", HONEST_MINI)
    with pytest.raises(UsageError, match="goes with Moodle's"):
        discover(folders, "90-mini", times=write_worksheet(tmp_path / "ws.csv"))


@pytest.mark.parametrize("change, message", [
    (lambda rows: rows[0].remove("Last modified (grade)"), "no Last modified \\(grade\\) column"),
    (lambda rows: rows[1].__setitem__(0, "Student 1"), "is not 'Participant <number>'"),
])
def test_broken_worksheets_are_usage_errors(tmp_path, change, message):
    rows = list(csv.reader(io.StringIO(write_worksheet(tmp_path / "ws.csv").read_text())))
    change(rows)
    path = tmp_path / "broken.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(UsageError, match=message):
        moodle.read_worksheet(path, UTC)


def test_moodle_times_parse_as_moodle_prints_them():
    berlin = load_course(FIXTURE_COURSE).grading.zone  # UTC when not set
    assert moodle.parse_moodle_time("Friday, 3 October 2026, 9:05 AM", berlin) == datetime(
        2026, 10, 3, 9, 5, tzinfo=UTC)
    assert moodle.parse_moodle_time("-", berlin) is None
    assert moodle.parse_submission_folder("Ann Marie O'Neil_42_assignsubmission_file_") == \
        moodle.SubmissionFolder("Ann Marie O'Neil", "42", "file")
    assert moodle.parse_submission_folder("ann") is None


# ------------------------------------------------ Canvas settings
def test_canvas_total_read_only_and_missing_as_excused(lms_course, moodle_download, tmp_path):
    course = load_course(lms_course)
    roster = load_roster(course.roster_path)
    with Gradebook(tmp_path / "gb.sqlite") as book:
        found = discover(moodle_download, "90-mini", roster=roster)
        grade_batch(course.assignment("90-mini"), lms_course, found, book, backend=LocalBackend(1))
        cg = course_grades(course, book, list(roster))
    text, warnings = render_canvas(cg, roster, CanvasSettings({"90-mini": 5501}, "EX", True))
    grades, ignored = canvas_import(text, {5501: "90-mini"},
                                    {"101": "ann", "102": "bo", "104": "di"}, {"S3": "cy"}, {})
    assert ignored == ["Programming assignments Final Points"]
    assert grades["di"] == {"90-mini": "EX"}
    assert grades["bo"] == {"90-mini": 0.0}  # no worksheet: timed by the unzip, 61 days late
    assert warnings == []
    text, warnings = render_canvas(cg, roster, CanvasSettings())
    header = next(csv.reader(io.StringIO(text)))
    assert header[5] == cg.titles["90-mini"]  # a bare title, and a warning that says so
    assert any("no Canvas assignment id" in w for w in warnings)


@pytest.mark.parametrize("table, message", [
    ('[lms.canvas]\nassignment_ids = { "99-nope" = 1 }', "no such assignment"),
    ('[lms.canvas]\nassignment_ids = { "90-mini" = "12" }', "positive integer"),
    ('[lms.canvas]\nmissing = "zero"', "must be one of blank, EX, 0"),
    ('[lms.canvas]\ntotal_column = 1', "true or false"),
    ('[lms.moodle]\nidentifier = "name"', "must be one of email, idnumber, username"),
    ('[lms.moodel]\n', "did you mean 'moodle'"),
])
def test_bad_lms_tables_are_explained(tmp_path, table, message):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    (root / "course.toml").write_text(table + "\n")
    with pytest.raises(ConfigError, match=message):
        load_course(root)


# ------------------------------------------------ true submission times
def test_times_csv_beats_file_dates_and_retimes_without_regrading(lms_course, tmp_path):
    course = load_course(lms_course)
    folders = tmp_path / "class"
    write_module(folders / "ann", HONEST_MINI)
    write_module(folders / "bo", WRONG_ADD)
    with Gradebook(tmp_path / "gb.sqlite") as book:
        found = discover(folders, "90-mini")
        assert {f.time_source for f in found} == {TIME_FROM_FILES}
        first = grade_batch(course.assignment("90-mini"), lms_course, found, book)
        assert first.graded == 2
        cg = course_grades(course, book)
        # the unzip's file dates make both 61 days late
        assert [g.assignments["90-mini"].final_score for g in cg.grades] == [0, 0]
        page = render_report(course.name, cg, book.latest(), {}, 0.8)
        assert "Lateness of 2 submission(s) is measured from file dates" in page
        assert "4/4 late 60.1d -100% (by file dates)" in render_table(cg.grades, ["90-mini"], 30)

        times = tmp_path / "times.csv"
        times.write_text("student,submitted_at\nann,2026-10-01T22:00:00\nbo,2026-10-02 10:00:00\n")
        timed = discover(folders, "90-mini", times=times, zone=course.grading.zone)
        assert {f.student: f.time_source for f in timed} == {"ann": TIME_FROM_CSV,
                                                             "bo": TIME_FROM_CSV}
        again = grade_batch(course.assignment("90-mini"), lms_course, timed, book)
        assert (again.graded, again.skipped, again.retimed) == (0, 2, 2)
        assert "2 with a new time" in again.render()
        latest = {r.student: r for r in book.latest("90-mini")}
        assert latest["ann"].submitted_at == datetime(2026, 10, 1, 20, 0, tzinfo=UTC)
        assert latest["bo"].time_source == TIME_FROM_CSV and latest["bo"].score == 2
        cg = course_grades(course, book)
        assert [g.assignments["90-mini"].penalty_percent for g in cg.grades] == [0, 10]
        assert "file dates" not in render_report(course.name, cg, book.latest(), {}, 0.8)
        assert len(book.history("ann", "90-mini")) == 2  # the earlier timing kept as history


def test_gradescope_metadata_json_in_a_students_folder(tmp_path):
    folders = tmp_path / "class"
    write_module(folders / "ann", HONEST_MINI)
    (folders / "ann" / "submission_metadata.json").write_text(
        '{"id": 1, "created_at": "2026-10-01T12:30:00.000000-07:00", "users": []}')
    found = discover(folders, "90-mini")[0]
    assert (found.submitted_at, found.time_source) == (
        datetime(2026, 10, 1, 19, 30, tzinfo=UTC), TIME_FROM_GRADESCOPE)


@pytest.mark.parametrize("text, message", [
    ("name,when\nann,2026-10-01\n", "'student' and 'submitted_at'"),
    ("student,submitted_at\nann,yesterday\n", "times.csv:2: 'yesterday' is not a date"),
    ("student,submitted_at\nann,2026-10-01\nann,2026-10-02\n", "listed twice"),
])
def test_bad_times_csv_is_a_usage_error(tmp_path, text, message):
    folders = tmp_path / "class"
    write_module(folders / "ann", HONEST_MINI)
    (tmp_path / "times.csv").write_text(text)
    with pytest.raises(UsageError, match=message):
        discover(folders, "90-mini", times=tmp_path / "times.csv")


def test_gradebook_from_before_time_sources_opens_and_migrates(tmp_path):
    path = tmp_path / "old.sqlite"
    old_schema = re.sub(r",(\s*--[^\n]*)?\n\s*time_source[^\n]*", r"\1", SCHEMA)
    assert "time_source" not in old_schema
    with sqlite3.connect(path) as conn:
        conn.executescript(old_schema)
        conn.execute("INSERT INTO results (student, assignment, sha256, submitted_at, graded_at, "
                     "status, score, max_score, platform_version, assignment_version) VALUES "
                     "('ann', '90-mini', 'x', '2026-10-01T10:00:00+00:00', "
                     "'2026-10-02T10:00:00+00:00', 'graded', 4, 4, '0', '1')")
    conn.close()
    with Gradebook(path) as book:
        (row,) = book.latest()
        assert (row.student, row.score, row.time_source) == ("ann", 4, None)
        book.add(student="ann", assignment="90-mini", sha256="y", status="error",
                 platform_version="0", assignment_version="1", error="bad",
                 time_source=TIME_FROM_CSV)
        assert book.latest_for("ann", "90-mini").time_source == TIME_FROM_CSV


def test_gradescope_export_graded_with_its_own_times(lms_course, tmp_path):
    """Gradescope's "export submissions": lateness from each submission's created_at, not from
    the export's file dates."""
    root = tmp_path / "export"
    write_module(root / "submission_1", HONEST_MINI)
    write_module(root / "submission_2", HONEST_MINI)
    (root / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: Ann Lee\n    :sid: ann\n"
        "  :created_at: 2026-10-01 14:00:00.000000000 -07:00\n"  # 23:00 Berlin: on time
        "submission_2:\n  :submitters:\n  - :name: Bo Ng\n    :sid: bo\n"
        "  :created_at: 2026-10-02 15:30:00.000000000 -07:00\n")  # 00:30 +1 day: 25.5 h late
    course = load_course(lms_course)
    with Gradebook(tmp_path / "gb.sqlite") as book:
        found = discover(root, "90-mini")
        assert {f.time_source for f in found} == {TIME_FROM_GRADESCOPE}
        grade_batch(course.assignment("90-mini"), lms_course, found, book)
        grades = {g.student: g.assignments["90-mini"] for g in course_grades(course, book).grades}
    assert (grades["ann"].penalty_percent, grades["ann"].final_score) == (0, 4)
    assert (grades["bo"].penalty_percent, grades["bo"].final_score) == (20, 3.2)
