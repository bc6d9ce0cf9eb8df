"""Accepting a submission and showing it: checks, storing, queueing; what each role may see.

An upload is checked (size, the daily limit, the assignment, the archive's own checks
from ``autograder.submission``: traversal, zip bombs, names, the modules) before anything
is kept; then its bytes go to the store and its row is queued in one transaction. A
student sees their own submissions only, the public tests' table, and hidden results
only once staff released them: no hidden test's name or reason reaches a student before.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select

from autograder.config import Course
from autograder.errors import SubmissionRejected, UsageError
from autograder.server import db
from autograder.server.accounts import User
from autograder.server.queue import poll_after, queue_position
from autograder.server.settings import ServerSettings
from autograder.server.store import UploadStore
from autograder.student_text import clean_line
from autograder.submission import prepare_submission


class UploadRejected(UsageError):
    """An upload refused with a reason the student can act on; ``status`` is the HTTP code."""

    status = 400


class LimitReached(UploadRejected):
    status = 429


class NotFound(UsageError):
    """No such thing, or not yours: the same answer, so nothing leaks."""

    status = 404


@dataclass(frozen=True)
class Upload:
    """What a student sent: one .zip, or .py files (name -> bytes)."""

    files: dict[str, bytes]

    def as_zip(self) -> tuple[bytes, str]:
        """The upload as zip bytes and a display name."""
        if len(self.files) == 1:
            name, data = next(iter(self.files.items()))
            if name.lower().endswith(".zip"):
                return data, name
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(self.files.items()):
                base = PurePath(name.replace("\\", "/")).name
                if not base.endswith(".py"):
                    raise UploadRejected(f"{clean_line(base, 100)!r}: upload a .zip or .py files")
                archive.writestr(base, data)
        return buffer.getvalue(), ", ".join(sorted(self.files))


def _day_start(at: datetime) -> datetime:
    return datetime.combine(at.date(), time(0), tzinfo=at.tzinfo)


def submissions_today(conn: Connection, user_id: int, assignment: str, at: datetime) -> int:
    s = db.submissions
    return int(conn.execute(select(func.count()).select_from(s).where(and_(
        s.c.user_id == user_id, s.c.assignment == assignment, s.c.regrade_of.is_(None),
        s.c.created_at >= _day_start(at)))).scalar_one())


def check_archive(data: bytes, modules: tuple[str, ...]) -> None:
    """The archive checks every grading path uses, run now so a bad upload is refused
    before it is kept (a missing module is not refused: it is graded as missing)."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-upload-") as tmp:
        path = Path(tmp) / "upload.zip"
        path.write_bytes(data)
        try:
            prepare_submission(path, modules).cleanup()
        except SubmissionRejected as exc:
            raise UploadRejected(str(exc)) from None


def accept(engine: Engine, store: UploadStore, settings: ServerSettings, course: Course,
           user: User, assignment_id: str, upload: Upload) -> int:
    """Check, store and queue an upload; returns the submission's id.

    Raises:
        NotFound: no such assignment.
        UploadRejected: too large, not a zip or .py files, refused by the archive checks.
        LimitReached: the student's daily submissions for this assignment are used up.
        StoreFull: the disk is full (nothing stored, nothing queued).
    """
    if assignment_id not in course.assignment_ids():
        raise NotFound(f"no assignment {clean_line(assignment_id, 100)!r}")
    assignment = course.assignment(assignment_id)
    total = sum(len(d) for d in upload.files.values())
    if not upload.files or total == 0:
        raise UploadRejected("the upload is empty: choose your .py files or a .zip")
    if total > settings.max_upload_bytes:
        raise UploadRejected(f"the upload is {total / 2**20:.1f} MiB, over the limit of "
                             f"{settings.max_upload_bytes / 2**20:g} MiB; submit only your modules")
    data, name = upload.as_zip()
    with engine.connect() as conn:
        used = submissions_today(conn, user.id, assignment.id, db.now())
    if used >= settings.submissions_per_day:
        raise LimitReached(f"you have used all {settings.submissions_per_day} submissions for "
                           f"{assignment.id} today (UTC); your latest one still counts, and you "
                           "can submit again tomorrow")
    check_archive(data, assignment.modules)
    sha = store.put(data)
    with engine.begin() as conn:
        return int(conn.execute(insert(db.submissions).values(
            user_id=user.id, assignment=assignment.id, sha256=sha, size=len(data),
            filename=clean_line(name, 200), created_at=db.now(), state="queued",
            attempts=0)).inserted_primary_key[0])


def released(conn: Connection, assignment: str) -> bool:
    return conn.execute(select(db.releases.c.assignment)
                        .where(db.releases.c.assignment == assignment)).first() is not None


def _tests_for(results: dict[str, Any] | None, hidden_visible: bool) -> list[dict[str, Any]]:
    keep = []
    for test in (results or {}).get("tests", []):
        hidden = test.get("visibility", "visible") != "visible"
        if hidden and not hidden_visible:
            continue
        keep.append({"name": test["name"].split("::")[-1], "hidden": hidden,
                     "status": test.get("status", "failed"), "score": test.get("score", 0),
                     "max_score": test.get("max_score", 0), "output": test.get("output", "")})
    return keep


def submission_view(conn: Connection, viewer: User, submission_id: int) -> dict[str, Any]:
    """One submission as ``viewer`` may see it.

    Raises:
        NotFound: no such submission, or a student asking for someone else's.
    """
    if not 0 < submission_id < 2**31:  # an id no INTEGER column holds (PostgreSQL would refuse it)
        raise NotFound(f"no submission {submission_id}")
    s, r = db.submissions, db.results
    row = conn.execute(select(s, db.users.c.login).join(db.users, db.users.c.id == s.c.user_id)
                       .where(s.c.id == submission_id)).first()
    if row is None or (not viewer.is_staff and row.user_id != viewer.id):
        raise NotFound(f"no submission {submission_id}")
    result = conn.execute(select(r).where(r.c.submission_id == submission_id)).first()
    hidden_released = released(conn, row.assignment)
    show_hidden = viewer.is_staff or hidden_released
    position = queue_position(conn, row.id)
    view: dict[str, Any] = {
        "id": row.id, "assignment": row.assignment, "student": row.login,
        "submitted_at": db.aware(row.created_at).isoformat(), "filename": row.filename,
        "state": row.state, "queue_position": position, "poll_after": poll_after(position),
        "hidden_released": hidden_released,
        "tests": [], "public_score": None, "public_max": None, "score": None, "max_score": None,
        "error": None, "url": f"/submissions/{row.id}",
    }
    if result is not None:
        results = json.loads(result.results_json) if result.results_json else None
        view.update(tests=_tests_for(results, show_hidden), public_score=result.public_score,
                    public_max=result.public_max, error=result.error)
        if show_hidden:
            view.update(score=result.score, max_score=result.max_score)
        if viewer.is_staff and results:
            view["protections"] = results.get("protections", [])
    return view


def history(conn: Connection, viewer: User, user_id: int,
            assignment: str | None = None) -> list[dict[str, Any]]:
    """A student's submissions, newest first (a student may only ask for their own)."""
    if not viewer.is_staff and viewer.id != user_id:
        raise NotFound("no such student")
    s, r = db.submissions, db.results
    query = (select(s.c.id, s.c.assignment, s.c.created_at, s.c.state, r.c.public_score,
                    r.c.public_max, r.c.score, r.c.max_score)
             .select_from(s.outerjoin(r, r.c.submission_id == s.c.id))
             .where(s.c.user_id == user_id).order_by(s.c.id.desc()))
    if assignment:
        query = query.where(s.c.assignment == assignment)
    out = []
    for row in conn.execute(query):
        show_total = viewer.is_staff or released(conn, row.assignment)
        out.append({"id": row.id, "assignment": row.assignment,
                    "submitted_at": db.aware(row.created_at).isoformat(), "state": row.state,
                    "public_score": row.public_score, "public_max": row.public_max,
                    "score": row.score if show_total else None,
                    "max_score": row.max_score if show_total else None})
    return out


def time_left(now: datetime, due: datetime | None, extension_days: float) -> timedelta | None:
    return None if due is None else due + timedelta(days=extension_days) - now


def rubric_view(conn: Connection, viewer: User, assignment: str | None = None) -> list[dict[str, Any]]:
    """Rubric scores for the analysis questions, newest per (student, assignment, question):
    a student's own, once the assignment is released; staff see everyone's."""
    r, u = db.rubric_scores, db.users
    query = (select(r.c.id, u.c.login, r.c.assignment, r.c.question, r.c.points, r.c.comment)
             .join(u, u.c.id == r.c.user_id).order_by(r.c.id))
    if not viewer.is_staff:
        query = query.where(r.c.user_id == viewer.id)
    if assignment:
        query = query.where(r.c.assignment == assignment)
    newest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in conn.execute(query):
        if not viewer.is_staff and not released(conn, row.assignment):
            continue
        newest[(row.login, row.assignment, row.question)] = {
            "student": row.login, "assignment": row.assignment, "question": row.question,
            "points": row.points, "comment": row.comment}
    return sorted(newest.values(), key=lambda v: (v["student"], v["assignment"], v["question"]))
