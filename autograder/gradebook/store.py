"""The course gradebook: one SQLite file, one row per grading, history kept.

Every grading of a submission appends a row (in its own transaction, so a
killed batch loses at most the submission in flight); nothing is updated in
place. The current result of a student on an assignment is their newest row:
the ``latest`` view. A row carries the submission's content hash, the full
results JSON (per-test results), timestamps, the platform version and the
assignment's version, so a later run can skip what is unchanged.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autograder.errors import EXIT_INTERNAL, UsageError
from autograder.results import clean_results_json
from autograder.student_text import ERROR_MAX, clean

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    student            TEXT NOT NULL,
    assignment         TEXT NOT NULL,
    sha256             TEXT NOT NULL,
    submitted_at       TEXT,             -- ISO 8601 with offset, when the layout knows it
    graded_at          TEXT NOT NULL,    -- when this row was written (UTC)
    status             TEXT NOT NULL CHECK (status IN ('graded', 'error')),
    score              REAL,
    max_score          REAL,
    execution_time     REAL,
    platform_version   TEXT NOT NULL,
    assignment_version TEXT NOT NULL,
    error              TEXT,             -- why a submission could not be graded
    source             TEXT,             -- where the submission was read from
    results_json       TEXT,             -- the full results JSON (Gradescope-compatible)
    time_source        TEXT              -- where submitted_at came from (batch/times.py)
);
CREATE INDEX IF NOT EXISTS results_by_student ON results (assignment, student, id);
CREATE VIEW IF NOT EXISTS latest AS
    SELECT r.* FROM results r
    WHERE r.id = (SELECT MAX(id) FROM results
                  WHERE student = r.student AND assignment = r.assignment);
"""


@dataclass(frozen=True)
class Row:
    """One grading of one submission."""

    id: int
    student: str
    assignment: str
    sha256: str
    submitted_at: datetime | None
    graded_at: datetime
    status: str
    score: float | None
    max_score: float | None
    execution_time: float | None
    platform_version: str
    assignment_version: str
    error: str | None
    source: str | None
    results_json: str | None
    time_source: str | None = None  # where submitted_at came from (``batch.times``)

    @property
    def results(self) -> dict[str, Any] | None:
        """The results JSON, cleaned: rows written before results were cleaned where they are
        built may hold raw student text (control characters, escapes, lone surrogates)."""
        return clean_results_json(json.loads(self.results_json)) if self.results_json else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class GradebookError(UsageError):
    """The gradebook cannot be opened, or another batch holds its writer lock (exit status 2)."""


class GradebookNotWritable(GradebookError):
    """A row could not be written mid-batch (disk full, read-only): the rows written before
    stay, and running the batch again resumes (exit status 3, as for an internal error)."""

    exit_code = EXIT_INTERNAL


class Gradebook:
    """A SQLite gradebook at ``path`` (created on first use)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock_fd: int | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            with self.conn:
                self.conn.executescript(SCHEMA)
                columns = [r[1] for r in self.conn.execute("PRAGMA table_info(results)")]
                if "time_source" not in columns:  # a gradebook from before time sources
                    self.conn.execute("ALTER TABLE results ADD COLUMN time_source TEXT")
        except (sqlite3.Error, OSError) as exc:
            raise GradebookError(f"cannot open the gradebook {self.path}: {exc}") from None

    def lock_for_writing(self) -> None:
        """Take the gradebook's writer lock, or fail at once if another batch holds it.

        Two batches writing one gradebook would grade the same submissions twice;
        the second one is refused with a clear message instead.
        """
        import fcntl  # POSIX only; imported here, as every command loads this module

        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise GradebookError(f"another grade-batch ({holder}) is writing to {self.path}; "
                                 "wait for it to finish, or use another --db") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        self._lock_fd = fd

    def integrity_check(self) -> str:
        """SQLite's own check of the file: ``"ok"`` when it is sound."""
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        self.conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def add(self, *, student: str, assignment: str, sha256: str, status: str,
            platform_version: str, assignment_version: str,
            submitted_at: datetime | None = None, results: dict[str, Any] | None = None,
            error: str | None = None, source: str | None = None,
            time_source: str | None = None) -> int:
        """Append one grading, atomically. Returns the new row's id.

        Raises:
            GradebookNotWritable: the row could not be written (e.g. the disk is full); the
                gradebook is left as it was before the call.
        """
        if error is not None:  # a rejection's reason, an exception's message: student text
            error = clean(error, ERROR_MAX)
        if results is not None:
            results = clean_results_json(results)
        try:
            return self._insert(student, assignment, sha256, status, platform_version,
                                assignment_version, submitted_at, results, error, source,
                                time_source)
        except sqlite3.Error as exc:
            raise GradebookNotWritable(f"cannot write to the gradebook {self.path}: {exc}") from None

    def _insert(self, student, assignment, sha256, status, platform_version, assignment_version,
                submitted_at, results, error, source, time_source) -> int:
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO results (student, assignment, sha256, submitted_at, graded_at, status,"
                " score, max_score, execution_time, platform_version, assignment_version, error,"
                " source, results_json, time_source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (student, assignment, sha256,
                 submitted_at.isoformat() if submitted_at else None,
                 datetime.now(UTC).isoformat(timespec="milliseconds"), status,
                 results["score"] if results else None, results["max_score"] if results else None,
                 results["execution_time"] if results else None,
                 platform_version, assignment_version, error, source,
                 json.dumps(results) if results else None, time_source))
            return int(cur.lastrowid)

    def _rows(self, sql: str, params: tuple = ()) -> Iterator[Row]:
        for values in self.conn.execute(sql, params):
            (rid, student, assignment, sha, submitted, graded, status, score, max_score, exec_time,
             pv, av, error, source, results_json, time_source) = values
            yield Row(rid, student, assignment, sha, _dt(submitted), _dt(graded), status, score,
                      max_score, exec_time, pv, av, None if error is None else
                      clean(error, ERROR_MAX), source, results_json, time_source)

    def latest(self, assignment: str | None = None) -> list[Row]:
        """The current row of every (student, assignment), or of one assignment."""
        if assignment is None:
            return list(self._rows("SELECT * FROM latest ORDER BY assignment, student"))
        return list(self._rows("SELECT * FROM latest WHERE assignment = ? ORDER BY student",
                               (assignment,)))

    def latest_for(self, student: str, assignment: str) -> Row | None:
        rows = list(self._rows(
            "SELECT * FROM latest WHERE student = ? AND assignment = ?", (student, assignment)))
        return rows[0] if rows else None

    def history(self, student: str, assignment: str) -> list[Row]:
        """Every grading of one student's assignment, oldest first."""
        return list(self._rows(
            "SELECT * FROM results WHERE student = ? AND assignment = ? ORDER BY id",
            (student, assignment)))

    def is_current(self, student: str, assignment: str, sha256: str, assignment_version: str,
                   platform_version: str) -> bool:
        """True if the newest grading used the same content, assignment version and platform."""
        row = self.latest_for(student, assignment)
        return (row is not None and row.status == "graded" and row.sha256 == sha256
                and row.assignment_version == assignment_version
                and row.platform_version == platform_version)

    def students(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT student FROM results ORDER BY 1")]

    def assignments(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT assignment FROM results ORDER BY 1")]
