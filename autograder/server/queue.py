"""The grading queue, in the database: workers claim jobs under a lease, write one result.

- ``claim``: the oldest ``queued`` submission becomes ``running`` under this worker's
  lease, in one transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers
  never take the same job; SQLite serialises writers).
- ``complete``: the result row and the ``done`` state, in one transaction; the result is
  keyed by the submission, so a second completion of the same job changes nothing.
- ``requeue_expired``: jobs whose worker died (its lease ran out) go back to ``queued``;
  after ``MAX_ATTEMPTS`` they are ``failed`` with a message instead of looping.
  ``requeue_worker`` does the same at once for a worker its pool saw die.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from autograder.server import db

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Job:
    submission_id: int
    assignment: str
    sha256: str
    attempts: int


def claim(engine: Engine, worker: str, lease_seconds: float) -> Job | None:
    """Take the oldest queued submission, or None when the queue is empty."""
    s = db.submissions
    with engine.begin() as conn:
        row = conn.execute(
            select(s.c.id, s.c.assignment, s.c.sha256, s.c.attempts)
            .where(s.c.state == "queued").order_by(s.c.id).limit(1)
            .with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        taken = conn.execute(
            update(s).where(and_(s.c.id == row.id, s.c.state == "queued"))
            .values(state="running", worker=worker, attempts=row.attempts + 1,
                    lease_until=db.now() + timedelta(seconds=lease_seconds))).rowcount
        if not taken:
            return None
        return Job(row.id, row.assignment, row.sha256, row.attempts + 1)


def complete(engine: Engine, job: Job, worker: str, outcome: dict[str, Any]) -> bool:
    """Record a job's outcome (``{"results": {...}}`` or ``{"error": "..."}``); returns
    False when the submission already had its result (nothing is written twice)."""
    results = outcome.get("results")
    tests = (results or {}).get("tests", [])
    public = [t for t in tests if t.get("visibility", "visible") == "visible"]
    values = dict(
        submission_id=job.submission_id, graded_at=db.now(), worker=worker,
        status="graded" if results is not None else "error",
        score=results["score"] if results else None,
        max_score=results["max_score"] if results else None,
        public_score=sum(float(t.get("score", 0)) for t in public) if results else None,
        public_max=sum(float(t.get("max_score", 0)) for t in public) if results else None,
        error=None if results is not None else str(outcome.get("error", "unknown error")),
        results_json=json.dumps(results) if results is not None else None)
    try:
        with engine.begin() as conn:
            conn.execute(insert(db.results).values(**values))
            conn.execute(update(db.submissions).where(db.submissions.c.id == job.submission_id)
                         .values(state="done", lease_until=None))
    except IntegrityError:
        with engine.begin() as conn:  # graded before (a worker that died after writing)
            conn.execute(update(db.submissions).where(db.submissions.c.id == job.submission_id)
                         .values(state="done", lease_until=None))
        return False
    return True


def requeue_expired(conn: Connection) -> int:
    """Put back jobs whose lease ran out (their worker died); fail those tried too often.
    Returns how many were put back."""
    s = db.submissions
    return _requeue(conn, and_(s.c.state == "running", s.c.lease_until < db.now()))


def requeue_worker(conn: Connection, worker: str) -> int:
    """Put back the jobs of ``worker``, known to be dead (its pool saw it exit), without
    waiting for their leases to run out; fail those tried too often. Returns how many
    were put back."""
    s = db.submissions
    return _requeue(conn, and_(s.c.state == "running", s.c.worker == worker))


def _requeue(conn: Connection, abandoned: ColumnElement[bool]) -> int:
    s = db.submissions
    failed = conn.execute(select(s.c.id).where(and_(abandoned, s.c.attempts >= MAX_ATTEMPTS))).all()
    for (sid,) in failed:
        conn.execute(update(s).where(s.c.id == sid).values(state="failed", lease_until=None))
        if conn.execute(select(db.results.c.id).where(db.results.c.submission_id == sid)).first():
            continue
        conn.execute(insert(db.results).values(
            submission_id=sid, status="error", graded_at=db.now(),
            error=f"grading stopped {MAX_ATTEMPTS} times without a result; staff can see it "
                  "and regrade it (the submission stays stored)"))
    return conn.execute(update(s).where(and_(abandoned, s.c.attempts < MAX_ATTEMPTS))
                        .values(state="queued", worker=None, lease_until=None)).rowcount


#: How often a waiting client asks again (seconds): at the front of the queue, and at most.
POLL_FIRST, POLL_LONGEST = 2.0, 30.0


def poll_after(position: int | None) -> float | None:
    """Seconds a client waiting for a submission should let pass before it asks again, given
    how many are ahead of it (None: it is graded, stop asking). Grows with the queue, so 300
    waiting students ask about 20 times a second rather than 150, and a result near the
    front is seen within POLL_FIRST seconds of being written."""
    if position is None:
        return None
    return min(POLL_LONGEST, POLL_FIRST + position / 5)


def queue_position(conn: Connection, submission_id: int) -> int | None:
    """How many queued or running submissions are ahead of this one (None once graded)."""
    s = db.submissions
    state = conn.execute(select(s.c.state).where(s.c.id == submission_id)).scalar()
    if state not in ("queued", "running"):
        return None
    if state == "running":
        return 0
    return int(conn.execute(select(func.count()).select_from(s).where(
        and_(s.c.state.in_(("queued", "running")), s.c.id < submission_id))).scalar_one())
