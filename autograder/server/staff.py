"""What staff do: release hidden results, regrade, extensions, overrides, rubric scores, and
the class's grades and exports. Every action is written to the append-only audit log in
the transaction that makes it."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select

from autograder.batch.times import TIME_FROM_SERVER
from autograder.config import Course
from autograder.errors import UsageError
from autograder.gradebook.policy import CourseGrades, compute_grades
from autograder.gradebook.store import Row
from autograder.server import db
from autograder.server.accounts import User
from autograder.server.store import UploadStore
from autograder.server.submissions import NotFound


class Forbidden(UsageError):
    """The signed-in user's role may not do this."""

    status = 403


def require_staff(user: User, *, instructor: bool = False) -> None:
    if not user.is_staff or (instructor and user.role != "instructor"):
        raise Forbidden("instructors only" if instructor else "staff only")


def log(conn: Connection, actor: User | None, action: str, **detail: Any) -> None:
    conn.execute(insert(db.audit).values(at=db.now(), actor=actor.id if actor else None,
                                         action=action, detail=json.dumps(detail, sort_keys=True)))


def _check_assignment(course: Course, assignment: str) -> None:
    if assignment not in course.assignment_ids():
        raise NotFound(f"no assignment {assignment!r}")


def _student(conn: Connection, login: str) -> int:
    uid = conn.execute(select(db.users.c.id).where(and_(
        db.users.c.login == login, db.users.c.role == "student"))).scalar()
    if uid is None:
        raise NotFound(f"no student {login!r}")
    return int(uid)


def release(engine: Engine, course: Course, actor: User, assignment: str) -> None:
    """Show students their hidden results (and totals) for ``assignment``."""
    require_staff(actor)
    _check_assignment(course, assignment)
    with engine.begin() as conn:
        if conn.execute(select(db.releases).where(db.releases.c.assignment == assignment)).first():
            return
        conn.execute(insert(db.releases).values(assignment=assignment, released_at=db.now(),
                                                released_by=actor.id))
        log(conn, actor, "release", assignment=assignment)


def grant_extension(engine: Engine, course: Course, actor: User, login: str, assignment: str,
                    days: float) -> None:
    require_staff(actor)
    _check_assignment(course, assignment)
    if not 0 <= days <= 365:
        raise UsageError("an extension is 0 to 365 days")
    with engine.begin() as conn:
        uid = _student(conn, login)
        conn.execute(delete(db.extensions).where(and_(db.extensions.c.user_id == uid,
                                                      db.extensions.c.assignment == assignment)))
        conn.execute(insert(db.extensions).values(user_id=uid, assignment=assignment, days=days,
                                                  granted_by=actor.id, granted_at=db.now()))
        log(conn, actor, "extension", student=login, assignment=assignment, days=days)


def override_score(engine: Engine, course: Course, actor: User, login: str, assignment: str,
                   score: float, reason: str) -> None:
    """Replace the autograder's score for a student's assignment (the newest override wins)."""
    require_staff(actor, instructor=True)
    _check_assignment(course, assignment)
    maximum = course.assignment(assignment).total_points
    if not 0 <= score <= maximum:
        raise UsageError(f"a score for {assignment} is 0 to {maximum:g}")
    if not reason.strip():
        raise UsageError("an override needs a reason")
    with engine.begin() as conn:
        uid = _student(conn, login)
        conn.execute(insert(db.overrides).values(user_id=uid, assignment=assignment, score=score,
                                                 reason=reason.strip()[:2000], by=actor.id,
                                                 at=db.now()))
        log(conn, actor, "override", student=login, assignment=assignment, score=score,
            reason=reason.strip()[:2000])


def rubric_score(engine: Engine, course: Course, actor: User, login: str, assignment: str,
                 question: str, points: float, comment: str = "") -> None:
    """A TA's score for one of a handout's analysis questions (the newest counts)."""
    require_staff(actor)
    _check_assignment(course, assignment)
    if not question.strip() or not 0 <= points <= 100:
        raise UsageError("a rubric score needs a question and 0 to 100 points")
    with engine.begin() as conn:
        uid = _student(conn, login)
        conn.execute(insert(db.rubric_scores).values(
            user_id=uid, assignment=assignment, question=question.strip()[:128], points=points,
            comment=comment[:2000], by=actor.id, at=db.now()))
        log(conn, actor, "rubric", student=login, assignment=assignment,
            question=question.strip()[:128], points=points)


def regrade(engine: Engine, course: Course, actor: User, assignment: str) -> int:
    """Queue every student's latest submission of ``assignment`` again (after a test fix).
    A submission already waiting is not queued twice, so running it again resumes.
    Returns how many were queued."""
    require_staff(actor)
    _check_assignment(course, assignment)
    s = db.submissions
    with engine.begin() as conn:
        latest = select(func.max(s.c.id)).where(s.c.assignment == assignment).group_by(s.c.user_id)
        rows = conn.execute(select(s).where(s.c.id.in_(latest))).all()
        queued = 0
        for row in rows:
            if row.state in ("queued", "running"):
                continue
            conn.execute(insert(s).values(
                user_id=row.user_id, assignment=assignment, sha256=row.sha256, size=row.size,
                filename=row.filename, created_at=row.created_at, state="queued", attempts=0,
                regrade_of=row.regrade_of or row.id))
            queued += 1
        log(conn, actor, "regrade", assignment=assignment, queued=queued)
    return queued


def class_grades(conn: Connection, course: Course) -> CourseGrades:
    """The course grades from every student's latest graded submission, with the server's
    extensions and overrides (the policy of course.toml otherwise)."""
    return class_snapshot(conn, course)[0]


def class_snapshot(conn: Connection, course: Course,
                   store: UploadStore | None = None) -> tuple[CourseGrades, list[Row]]:
    """``class_grades`` and the latest result of every student and assignment as gradebook
    rows (what the report's pass rates and times are drawn from); with ``store``, each row's
    ``source`` is its stored upload (what the similarity flags read)."""
    s, r, u = db.submissions, db.results, db.users
    latest = (select(func.max(s.c.id)).select_from(s.join(r, r.c.submission_id == s.c.id))
              .group_by(s.c.user_id, s.c.assignment))
    rows = []
    for row in conn.execute(select(s, r.c.status.label("rstatus"), r.c.score, r.c.max_score,
                                   r.c.results_json, r.c.graded_at, u.c.login)
                            .select_from(s.join(r, r.c.submission_id == s.c.id)
                                         .join(u, u.c.id == s.c.user_id))
                            .where(s.c.id.in_(latest))):
        rows.append(Row(row.id, row.login, row.assignment, row.sha256, db.aware(row.created_at),
                        db.aware(row.graded_at), row.rstatus, row.score, row.max_score, None, "",
                        "", None, str(store.path(row.sha256)) if store else None,
                        row.results_json, TIME_FROM_SERVER))
    overrides = {}
    for row in conn.execute(select(db.overrides, u.c.login).join(u, u.c.id == db.overrides.c.user_id)
                            .order_by(db.overrides.c.id)):
        overrides[(row.login, row.assignment)] = row.score
    have = {(row.student, row.assignment) for row in rows}
    rows = [replace(row, score=overrides.get((row.student, row.assignment), row.score),
                    status="graded" if (row.student, row.assignment) in overrides else row.status)
            for row in rows]
    rows += [Row(0, student, assignment, "", None, db.now(), "graded", score, None, None, "", "",
                 None, None, None, None)
             for (student, assignment), score in overrides.items()
             if (student, assignment) not in have]  # an override without a submission
    extensions = {k: dict(v) for k, v in course.grading.extensions.items()}
    for row in conn.execute(select(db.extensions, u.c.login)
                            .join(u, u.c.id == db.extensions.c.user_id)):
        extensions.setdefault(row.login, {})[row.assignment] = row.days
    policy = replace(course.grading, extensions=extensions)
    idents = list(policy.assignments) or course.assignment_ids()
    config = {i: course.assignment(i) for i in idents}
    students = [x for (x,) in conn.execute(select(u.c.login).where(u.c.role == "student")
                                           .order_by(u.c.login))]
    max_scores = {i: a.total_points for i, a in config.items()}
    grades = compute_grades(policy, rows, idents, max_scores, students)
    return CourseGrades(grades, idents, {i: a.title for i, a in config.items()}, max_scores,
                        policy.component_weight), [r for r in rows if r.id]
