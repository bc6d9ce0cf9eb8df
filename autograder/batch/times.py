"""When a submission was made: reading the times the layouts and instructors provide.

Sources, best first: Gradescope's metadata (the export's ``submission_metadata.yml``, or
the ``submission_metadata.json`` its autograder sees, kept in a student's folder), Moodle's
grading worksheet (``lms.moodle``), nbgrader's ``timestamp.txt``, a times CSV given with
``grade-batch --times`` (``student,submitted_at``), and only as a last resort the newest
file's modification time, which unzipping or copying resets: rows timed that way say so
(``TIME_FROM_FILES``) in the gradebook, its exports and the report.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from autograder.errors import UsageError

# a FoundSubmission's and a gradebook row's ``time_source``
TIME_FROM_GRADESCOPE = "gradescope"
TIME_FROM_MOODLE = "moodle worksheet"
TIME_FROM_NBGRADER = "nbgrader timestamp"
TIME_FROM_CSV = "times csv"
TIME_FROM_FILES = "file dates"
TIME_FROM_SERVER = "server"  # when `dlgrade serve` received the upload
TIME_SOURCE_NOTE = {TIME_FROM_FILES: "file dates, which copying or unzipping resets"}

_TIME_COLUMNS = ("submitted_at", "time", "timestamp")


def parse_time(text: str, zone: tzinfo = UTC) -> datetime | None:
    """A timestamp as the layouts write it ("2026-10-01 12:00:00.123456 UTC" from nbgrader,
    "2026-10-01 23:59:00.000000000 -07:00" from Gradescope, ISO 8601); a time without an
    offset is read in ``zone``. None when it is none of these."""
    text = text.strip()
    if text.endswith(" UTC"):
        text, zone = text[:-4], UTC
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # nanoseconds -> microseconds
    text = re.sub(r" ([+-]\d\d):(\d\d)$", r" \1\2", text)
    for fmt in ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%f",
                "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def newest_file_time(path: Path) -> datetime | None:
    """The newest file's modification time; None when the folder cannot be read (the
    submission then gets its own error row when it is copied, not a failed batch)."""
    try:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()] or [path]
        newest = max(p.stat().st_mtime for p in files)
    except OSError:
        return None
    return datetime.fromtimestamp(newest, UTC)


def gradescope_json_time(folder: Path) -> datetime | None:
    """``created_at`` of the ``submission_metadata.json`` Gradescope's autograder gives a
    submission, when a student's folder keeps one; None without one or when unreadable."""
    path = folder / "submission_metadata.json"
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read(1 << 20).decode("utf-8", "replace"))
    except (OSError, ValueError):
        return None
    created = data.get("created_at") if isinstance(data, dict) else None
    return parse_time(created) if isinstance(created, str) else None


def read_times_csv(path: Path, zone: tzinfo) -> dict[str, datetime]:
    """Student id -> submission time from a CSV with a header naming a ``student`` column
    and a ``submitted_at`` column (ISO 8601; without an offset, in ``zone``).

    Raises:
        UsageError: naming the file and line: unreadable, a column missing, a time that does
            not parse, or a student listed twice.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            time_column = next((c for c in _TIME_COLUMNS if c in header), None)
            if "student" not in header or time_column is None:
                raise UsageError(f"{path}: a times CSV needs a header with 'student' and "
                                 f"'submitted_at' columns (found: {', '.join(header) or 'none'})")
            reader.fieldnames = header
            times: dict[str, datetime] = {}
            for line, row in enumerate(reader, start=2):
                student = (row.get("student") or "").strip()
                raw = (row.get(time_column) or "").strip()
                if not student or not raw:
                    continue
                when = parse_time(raw, zone)
                if when is None:
                    raise UsageError(f"{path}:{line}: {raw!r} is not a date and time "
                                     "(ISO 8601, e.g. 2026-10-22T23:10:00+02:00)")
                if student in times:
                    raise UsageError(f"{path}:{line}: student {student!r} is listed twice")
                times[student] = when
            return times
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the times CSV ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: the times CSV is not UTF-8 text") from None
