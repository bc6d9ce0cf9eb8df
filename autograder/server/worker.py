"""A grading worker: take a job from the queue, grade it with the trusted graders, write
the result; again until stopped.

    python -m autograder.server.worker --course ROOT --database URL --store DIR --name NAME

The submission's code runs only in the sandboxed workers the grading starts; this process
holds the graders. A worker killed mid-job leaves its job ``running`` under a lease that
runs out (the assignment's longest run budget plus slack); the next worker to look puts it
back in the queue. Its result, if it had already written one, is kept: results are keyed
by submission, so nothing is graded twice.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path

from sqlalchemy import Engine

from autograder.batch.runner import grade_task
from autograder.config import Course, load_course
from autograder.server import queue
from autograder.server.db import make_engine
from autograder.server.store import UploadStore

LEASE_SLACK_S = 120.0


def lease_seconds(course: Course) -> float:
    """Long enough for the slowest assignment's whole run, plus slack."""
    budgets = [course.assignment(i).limits.run_budget for i in course.assignment_ids()]
    return max(budgets, default=600.0) + LEASE_SLACK_S


def work_once(engine: Engine, course: Course, store: UploadStore, name: str,
              lease: float) -> bool:
    """Grade one queued job; False when there was none."""
    with engine.begin() as conn:
        queue.requeue_expired(conn)
    job = queue.claim(engine, name, lease)
    if job is None:
        return False
    path = store.path(job.sha256)
    if not path.is_file():
        outcome = {"error": "the stored upload is missing; staff have to restore it from backup"}
    else:
        outcome = json.loads(grade_task(str(course.root), job.assignment, str(path)))
    queue.complete(engine, job, name, outcome)
    return True


def run(course_root: Path, database_url: str, store_root: Path, name: str, *,
        poll: float = 0.5, max_jobs: int | None = None) -> int:
    """Work until SIGTERM/SIGINT (the job in hand is finished first) or ``max_jobs``;
    returns the number of jobs done."""
    stopping = False

    def stop(_signum, _frame) -> None:  # noqa: ANN001 (signal handler)
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    course = load_course(course_root)
    engine = make_engine(database_url)
    store = UploadStore(store_root)
    lease = lease_seconds(course)
    done = 0
    while not stopping and (max_jobs is None or done < max_jobs):
        if work_once(engine, course, store, name, lease):
            done += 1
        else:
            time.sleep(poll)
    engine.dispose()
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", required=True, type=Path)
    parser.add_argument("--database", required=True)
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--name", default=f"worker-{os.getpid()}")
    parser.add_argument("--parent", type=int, help="die when this process dies (Linux)")
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--cpu", type=int, help="run on this CPU alone, with the sandboxed "
                                                "workers it starts (Linux)")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {args.cpu})
        except OSError:  # the CPU left our cpuset: run unpinned
            pass
    if args.parent:
        from autograder.sandbox.limits import die_with_parent

        die_with_parent(args.parent, signal.SIGTERM)
    run(args.course, args.database, args.store, args.name, poll=args.poll)


if __name__ == "__main__":
    main()
