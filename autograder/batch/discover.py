"""Finding the submissions of a whole class in the layouts instructors already have.

Four layouts are recognised, in this order:

1. **Gradescope "export submissions"**: a folder with ``submission_metadata.yml``
   and one ``submission_<id>/`` folder per submission. The student id is the
   first submitter's ``:sid`` (else their email, else the submission id) and
   the submission time is ``:created_at``.
2. **nbgrader**: ``submitted/<student>/<assignment>/`` (the folder given may be
   the course root or ``submitted/`` itself), with ``timestamp.txt``.
3. **Moodle "download all submissions"** (in folders): ``<Full Name>_<participant>_
   assignsubmission_file_/`` (``autograder.lms.moodle``); students and times come from
   the assignment's grading worksheet given as ``times``, else from the roster's names.
4. **One folder or .zip per student**, named by the student id
   (``alice/``, ``bob.zip``); the time is ``created_at`` of a ``submission_metadata.json``
   in the folder (what Gradescope's autograder sees), else the newest file's mtime.

``times`` (``grade-batch --times``) is a CSV of ``student,submitted_at`` whose times win
over the layout's, or, for Moodle's layout, its grading worksheet. Every submission says
where its time came from (``batch.times``); a time from file dates is flagged downstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from autograder.batch.times import (
    TIME_FROM_CSV,
    TIME_FROM_FILES,
    TIME_FROM_GRADESCOPE,
    TIME_FROM_MOODLE,
    TIME_FROM_NBGRADER,
    gradescope_json_time,
    newest_file_time,
    parse_time,
    read_times_csv,
)
from autograder.errors import UsageError
from autograder.lms import moodle
from autograder.lms.roster import Roster, find_student

_STUDENT_ID = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")


@dataclass(frozen=True)
class FoundSubmission:
    """One student's submission for one assignment."""

    student: str
    path: Path
    submitted_at: datetime | None  # timezone-aware, None when unknown
    layout: str  # "gradescope" | "nbgrader" | "moodle" | "folders"
    time_source: str | None = None  # batch.times.TIME_FROM_*; None when the time is unknown
    note: str | None = None  # what the instructor should check (e.g. a guessed student id)


def _timed(path: Path, when: datetime | None, source: str) -> dict[str, datetime | str | None]:
    """``submitted_at`` and ``time_source``: ``when`` from ``source``, else the newest file
    time flagged as such, else unknown."""
    if when is None:
        when = newest_file_time(path)
        source = TIME_FROM_FILES
    return {"submitted_at": when, "time_source": source if when else None}


def _read_stamp(stamp: Path) -> datetime | None:
    """nbgrader's ``timestamp.txt``, which the student's own ``nbgrader submit`` wrote: any
    bytes, any size; unreadable means unknown."""
    try:
        with open(stamp, "rb") as fh:
            return parse_time(fh.read(200).decode("utf-8", "replace"))
    except OSError:
        return None


def _gradescope(root: Path) -> list[FoundSubmission]:
    import yaml

    try:
        metadata = yaml.safe_load((root / "submission_metadata.yml").read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{root / 'submission_metadata.yml'}: not valid YAML ({exc})") from None
    if not isinstance(metadata, dict):
        raise UsageError(f"{root / 'submission_metadata.yml'}: expected a mapping of submissions")
    found = []
    for folder_name, info in sorted(metadata.items()):
        folder = root / str(folder_name)
        if not folder.exists() or not isinstance(info, dict):
            continue
        submitters = info.get(":submitters") or info.get("submitters") or [{}]
        first = submitters[0] if submitters and isinstance(submitters[0], dict) else {}
        student = str(first.get(":sid") or first.get("sid") or first.get(":email")
                      or first.get("email") or folder_name)
        created = info.get(":created_at") or info.get("created_at")
        if isinstance(created, datetime):
            when = created if created.tzinfo else created.replace(tzinfo=UTC)
        else:
            when = parse_time(str(created)) if created else None
        found.append(FoundSubmission(student, folder, **_timed(folder, when, TIME_FROM_GRADESCOPE),
                                     layout="gradescope"))
    return found


def _nbgrader(submitted: Path, assignment: str) -> list[FoundSubmission]:
    found = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        folder = student_dir / assignment
        if not folder.is_dir():
            continue
        stamp = folder / "timestamp.txt"
        when = _read_stamp(stamp) if stamp.is_file() else None
        found.append(FoundSubmission(student_dir.name, folder,
                                     **_timed(folder, when, TIME_FROM_NBGRADER), layout="nbgrader"))
    return found


def _folders(root: Path) -> list[FoundSubmission]:
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir() or entry.suffix.lower() == ".zip":
            student = entry.stem if entry.is_file() else entry.name
            when = gradescope_json_time(entry) if entry.is_dir() else None
            found.append(FoundSubmission(student, entry, **_timed(entry, when, TIME_FROM_GRADESCOPE),
                                         layout="folders"))
    return found


def _moodle(root: Path, worksheet: moodle.Worksheet | None, roster: Roster) -> list[FoundSubmission]:
    """Moodle's download: one submission per participant (its file uploads' folder; an
    online-text-only participant's text folder), filed under the student the worksheet or
    the roster names."""
    flat = [p.name for p in root.iterdir() if p.is_file() and moodle.FLAT_FILE.match(p.name)]
    if flat:
        raise UsageError(f"{root}: Moodle's download without folders ({flat[0]}); download "
                         "again with 'Download submissions in folders' ticked")
    folders: dict[str, tuple[moodle.SubmissionFolder, Path]] = {}
    for entry in sorted(root.iterdir()):
        parsed = moodle.parse_submission_folder(entry.name) if entry.is_dir() else None
        if parsed is None or entry.is_symlink():
            continue
        if parsed.participant not in folders or parsed.plugin == "file":
            folders[parsed.participant] = (parsed, entry)
    rows = worksheet.by_participant() if worksheet else {}
    found = []
    for participant, (parsed, folder) in sorted(folders.items()):
        row = rows.get(participant)
        note = None
        if row is not None:
            student = moodle.worksheet_student(row, roster)
            timed = _timed(folder, row.submitted_at, TIME_FROM_MOODLE)
        else:
            student = find_student(roster, name=parsed.full_name)
            timed = _timed(folder, None, TIME_FROM_MOODLE)
            if worksheet is not None:
                note = f"participant {participant} is not in the worksheet {worksheet.path.name}"
        if student is None:
            student = f"moodle-{participant}"
            note = note or (f"{parsed.full_name!r} (participant {participant}) matched no roster "
                            "student: filed as " + student + "; give the grading worksheet "
                            "(--times) or add the name to the roster")
        found.append(FoundSubmission(student, folder, layout="moodle", note=note, **timed))
    return found


def discover(root: Path, assignment: str, *, times: Path | None = None,
             roster: Roster | None = None, zone: tzinfo = UTC) -> list[FoundSubmission]:
    """All submissions for ``assignment`` under ``root``, one per student, sorted by student.

    ``times``: a times CSV (``student,submitted_at``) or, for Moodle's layout, the
    assignment's grading worksheet; ``roster`` maps Moodle's people to student ids; times
    written without an offset are in ``zone`` (course.toml's ``[grading] timezone``).

    Raises:
        UsageError: ``root`` is missing, holds nothing recognisable, a student id is
            not a plain identifier, a student appears twice, or ``times`` is unreadable.
    """
    root = Path(root)
    roster = roster or {}
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder of submissions")
    worksheet = None
    if times is not None and moodle.is_worksheet(times):
        worksheet = moodle.read_worksheet(times, zone)
    if (root / "submission_metadata.yml").is_file():
        found = _gradescope(root)
    elif (root / "submitted").is_dir():
        found = _nbgrader(root / "submitted", assignment)
    elif root.name == "submitted":
        found = _nbgrader(root, assignment)
    elif moodle.is_moodle_download(root):
        found = _moodle(root, worksheet, roster)
    else:
        found = _folders(root)
    if worksheet is not None and found and found[0].layout != "moodle":
        raise UsageError(f"{times}: a Moodle grading worksheet goes with Moodle's 'download all "
                         f"submissions' folders, which {root} is not")
    if times is not None and worksheet is None:
        csv_times = read_times_csv(times, zone)
        found = [replace(f, submitted_at=csv_times[f.student], time_source=TIME_FROM_CSV)
                 if f.student in csv_times else f for f in found]
    if not found:
        raise UsageError(f"{root}: no submissions found (expected one folder or .zip per student, "
                         "a Gradescope export, Moodle's download, or nbgrader's "
                         "submitted/<student>/<assignment>/)")
    seen: dict[str, Path] = {}
    for sub in found:
        if not _STUDENT_ID.match(sub.student):
            raise UsageError(f"{sub.path}: {sub.student!r} is not a usable student id")
        if sub.student in seen:
            raise UsageError(f"student {sub.student!r} has two submissions: {seen[sub.student]} "
                             f"and {sub.path}")
        seen[sub.student] = sub.path
    return sorted(found, key=lambda s: s.student)
