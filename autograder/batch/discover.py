"""Finding the submissions of a whole class in the layouts instructors already have.

Three layouts are recognised, in this order:

1. **Gradescope "export submissions"**: a folder with ``submission_metadata.yml``
   and one ``submission_<id>/`` folder per submission. The student id is the
   first submitter's ``:sid`` (else their email, else the submission id) and
   the submission time is ``:created_at``.
2. **nbgrader**: ``submitted/<student>/<assignment>/`` (the folder given may be
   the course root or ``submitted/`` itself), with ``timestamp.txt``.
3. **One folder or .zip per student**, named by the student id
   (``alice/``, ``bob.zip``); the time is the newest file's mtime.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from autograder.errors import UsageError

_STUDENT_ID = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")


@dataclass(frozen=True)
class FoundSubmission:
    """One student's submission for one assignment."""

    student: str
    path: Path
    submitted_at: datetime | None  # timezone-aware, None when unknown
    layout: str  # "gradescope" | "nbgrader" | "folders"


def _mtime(path: Path) -> datetime | None:
    """The newest file's modification time; None when the folder cannot be read (the
    submission then gets its own error row when it is copied, not a failed batch)."""
    try:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()] or [path]
        newest = max(p.stat().st_mtime for p in files)
    except OSError:
        return None
    return datetime.fromtimestamp(newest, UTC)


def _read_stamp(stamp: Path) -> datetime | None:
    """nbgrader's ``timestamp.txt``, which the student's own ``nbgrader submit`` wrote: any
    bytes, any size; unreadable means unknown."""
    try:
        with open(stamp, "rb") as fh:
            return _parse_time(fh.read(200).decode("utf-8", "replace"))
    except OSError:
        return None


def _parse_time(text: str) -> datetime | None:
    """Parse the timestamps of the layouts ("2026-10-01 12:00:00.123456 UTC" from nbgrader,
    "2026-10-01 23:59:00.000000000 -07:00" from Gradescope, ISO 8601); naive means UTC."""
    text = text.strip()
    if text.endswith(" UTC"):
        text = text[:-4]
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # nanoseconds -> microseconds
    text = re.sub(r" ([+-]\d\d):(\d\d)$", r" \1\2", text)
    for fmt in ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%f",
                "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
            when = _parse_time(str(created)) if created else None
        found.append(FoundSubmission(student, folder, when, "gradescope"))
    return found


def _nbgrader(submitted: Path, assignment: str) -> list[FoundSubmission]:
    found = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        folder = student_dir / assignment
        if not folder.is_dir():
            continue
        stamp = folder / "timestamp.txt"
        when = _read_stamp(stamp) if stamp.is_file() else None
        found.append(FoundSubmission(student_dir.name, folder, when or _mtime(folder), "nbgrader"))
    return found


def _folders(root: Path) -> list[FoundSubmission]:
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir() or entry.suffix.lower() == ".zip":
            student = entry.stem if entry.is_file() else entry.name
            found.append(FoundSubmission(student, entry, _mtime(entry), "folders"))
    return found


def discover(root: Path, assignment: str) -> list[FoundSubmission]:
    """All submissions for ``assignment`` under ``root``, one per student, sorted by student.

    Raises:
        UsageError: ``root`` is missing, holds nothing recognisable, a student id is
            not a plain identifier, or a student appears twice.
    """
    root = Path(root)
    if not root.is_dir():
        raise UsageError(f"{root}: not a folder of submissions")
    if (root / "submission_metadata.yml").is_file():
        found = _gradescope(root)
    elif (root / "submitted").is_dir():
        found = _nbgrader(root / "submitted", assignment)
    elif root.name == "submitted":
        found = _nbgrader(root, assignment)
    else:
        found = _folders(root)
    if not found:
        raise UsageError(f"{root}: no submissions found (expected one folder or .zip per student, "
                         "a Gradescope export, or nbgrader's submitted/<student>/<assignment>/)")
    seen: dict[str, Path] = {}
    for sub in found:
        if not _STUDENT_ID.match(sub.student):
            raise UsageError(f"{sub.path}: {sub.student!r} is not a usable student id")
        if sub.student in seen:
            raise UsageError(f"student {sub.student!r} has two submissions: {seen[sub.student]} "
                             f"and {sub.path}")
        seen[sub.student] = sub.path
    return sorted(found, key=lambda s: s.student)
