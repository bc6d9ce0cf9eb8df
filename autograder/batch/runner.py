"""Grading a whole class: parallel, resumable, into the gradebook.

The main process owns the gradebook and is its only writer. It hashes each
submission (skipping those already graded with the same content, assignment
version and platform version, unless forced), hands the rest to a backend
(``LocalBackend``: a pool of grading processes on this machine;
``DaskBackend``: a dask.distributed cluster), and appends one row per
submission as results come back. A submission that cannot be graded (a
rejected archive, an internal error) gets an ``error`` row; the batch goes on.

Grading processes are trusted (they run the graders); the submissions still
run only in their sandboxed workers. Results cross from grading processes as
JSON text.
"""

from __future__ import annotations

import json
import os
import queue
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import autograder
from autograder.batch.discover import FoundSubmission
from autograder.batch.preload import PLATFORM_PRELOAD, preload_for
from autograder.config import Assignment
from autograder.errors import SubmissionRejected
from autograder.gradebook.store import Gradebook
from autograder.results import clean_results_json
from autograder.student_text import ERROR_MAX, clean
from autograder.submission import prepare_submission


@dataclass
class BatchSummary:
    total: int = 0
    graded: int = 0
    skipped: int = 0
    retimed: int = 0  # unchanged, but with a new submission time: a row with the same results
    errors: int = 0
    seconds: float = 0.0
    scores: list[float] = field(default_factory=list)
    max_score: float = 0.0
    error_messages: list[str] = field(default_factory=list)

    def render(self) -> str:
        mean = sum(self.scores) / len(self.scores) if self.scores else 0.0
        rate = self.graded / self.seconds * 60 if self.seconds and self.graded else 0.0
        lines = [f"{self.total} submission(s): {self.graded} graded, {self.skipped} unchanged "
                 f"(skipped{f', {self.retimed} with a new time' if self.retimed else ''}), "
                 f"{self.errors} could not be graded; {self.seconds:.1f} s"
                 + (f" ({rate:.0f} per minute)" if rate else "")]
        if self.scores:
            lines.append(f"mean score {mean:.1f} / {self.max_score:g}; "
                         f"min {min(self.scores):g}, max {max(self.scores):g}")
        lines += [f"  error: {m}" for m in self.error_messages[:20]]
        return "\n".join(lines)


# ------------------------------------------------------------------- the task (any process)

#: what the main process reads from a result before it writes the row
_RESULT_KEYS = ("score", "max_score", "execution_time", "submission_sha256", "platform_version",
                "assignment_version")

_course_cache: dict[str, object] = {}


def grade_task(course_root: str, assignment_id: str, source: str) -> str:
    """Grade one submission; returns JSON: ``{"results": {...}}`` or ``{"error": "..."}``.

    Runs in a grading process (local pool or a Dask worker). Never raises.
    """
    from autograder.config import load_course
    from autograder.errors import UsageError
    from autograder.grading import grade_submission

    try:
        course = _course_cache.get(course_root)
        if course is None:
            course = _course_cache[course_root] = load_course(Path(course_root))
        assignment = course.assignment(assignment_id)
        result = grade_submission(assignment, Path(source),
                                  require=course.grading.require_protections)
        return json.dumps({"results": result.to_json()})
    except UsageError as exc:  # a rejection: its reason may quote the submission's file names
        return json.dumps({"error": clean(str(exc), ERROR_MAX)})
    except Exception as exc:  # an internal error must not stop the batch
        return json.dumps({"error": clean(f"internal error: {type(exc).__name__}: {exc}",
                                          ERROR_MAX)})


def cpu_plan(jobs: int, pin: bool | None = None) -> list[int] | None:
    """The CPU each of ``jobs`` grading processes is pinned to, or None for no pinning.

    ``pin=None`` (the default) pins when there are at least as many jobs as usable CPUs.
    A grading process, its warm parent and its workers then share one CPU (they take
    turns: the grader waits while the worker computes). Left unpinned, the kernel
    often queues a job's runnable process behind the other job's on one CPU while the
    other CPU idles, since both count as cache-hot there: a two-job batch on two cores
    kept 1.87 of them busy unpinned, 1.94-1.96 pinned. With fewer jobs than CPUs, a job's own background work
    (tearing down the last worker) uses a spare core, so nothing is pinned.
    """
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return None
    if pin is None:
        pin = len(cpus) > 1 and jobs >= len(cpus)
    if not pin:
        return None
    return [cpus[i % len(cpus)] for i in range(jobs)]


def _pin_to_cpu(cpu_queue) -> None:
    """In a new grading process: take a CPU from the queue and run on it alone, as will
    the warm parent and the workers it starts (they inherit the affinity)."""
    if cpu_queue is None:
        return
    try:
        cpu = cpu_queue.get(timeout=10)  # never wait forever for a CPU: run unpinned instead
        os.sched_setaffinity(0, {cpu})
    except (queue.Empty, OSError):  # none left, or the CPU left our cpuset: run unpinned
        pass


def _warm_up(course_root: str, assignment_id: str, cpu_queue=None) -> None:
    """Pool initializer: pin to a CPU (if asked), load the course and start the warm parent
    before the first task."""
    from autograder.config import load_course
    from autograder.grading import shared_backend

    _pin_to_cpu(cpu_queue)
    course = load_course(Path(course_root))
    _course_cache[course_root] = course
    shared_backend(course.assignment(assignment_id).students_use_torch)


# ------------------------------------------------------------------- backends


def _pool_context(preload: list[str]):
    """A "forkserver" context that has imported ``preload`` (a clean process that has only
    imported modules, never run torch ops or threads), or "spawn" where unavailable.

    Every grading process is forked from the fork server, so a second job does not pay
    for importing torch or scikit-learn (seconds of CPU) again.
    """
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return get_context("spawn")
    from multiprocessing import forkserver

    server = forkserver._forkserver
    running = getattr(server, "_forkserver_pid", None) is not None
    if running and getattr(server, "_preload_modules", None) != preload and hasattr(server, "_stop"):
        server._stop()  # started for another assignment: a running server keeps its imports
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(preload)
    return ctx


def _preload(course_root: str, assignment_id: str) -> list[str]:
    from autograder.config import load_course
    from autograder.errors import UsageError

    try:
        return preload_for(load_course(Path(course_root)).assignment(assignment_id))
    except (UsageError, OSError):  # the task reports the problem; the pool still starts
        return list(PLATFORM_PRELOAD)


class LocalBackend:
    """A pool of ``jobs`` grading processes on this machine, forked from a clean fork server.

    ``pin_cpus``: pin each grading process (with its warm parent and workers) to one CPU;
    None pins when there are at least as many jobs as CPUs (see ``cpu_plan``).
    """

    def __init__(self, jobs: int = 1, pin_cpus: bool | None = None):
        self.jobs = max(1, jobs)
        self.pin_cpus = pin_cpus

    def run(self, course_root: str, assignment_id: str, sources: list[str],
            on_result: Callable[[str, str], None]) -> None:
        """Grade every source, calling ``on_result(source, json_text)`` as each finishes."""
        attempts: dict[str, int] = {}
        pending = list(sources)
        preload = _preload(course_root, assignment_id)
        plan = cpu_plan(self.jobs, self.pin_cpus)
        while pending:
            ctx = _pool_context(preload)
            cpu_queue = None
            if plan:  # one CPU per process of this pool (a restarted pool gets a new queue)
                cpu_queue = ctx.Queue()
                for cpu in plan:
                    cpu_queue.put(cpu)
            pool = ProcessPoolExecutor(self.jobs, mp_context=ctx, initializer=_warm_up,
                                       initargs=(course_root, assignment_id, cpu_queue))
            broken = False
            try:
                futures: dict[Future, str] = {}
                queue = list(pending)
                while queue or futures:
                    while queue and len(futures) < 2 * self.jobs:
                        source = queue.pop(0)
                        futures[pool.submit(grade_task, course_root, assignment_id, source)] = source
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        source = futures.pop(future)
                        try:
                            on_result(source, future.result())
                            pending.remove(source)
                        except BrokenProcessPool:
                            broken = True
                            attempts[source] = attempts.get(source, 0) + 1
                            if attempts[source] >= 2:
                                on_result(source, json.dumps(
                                    {"error": "the grading process died twice on this submission"}))
                                pending.remove(source)
                    if broken:
                        break
            finally:
                pool.shutdown(wait=not broken, cancel_futures=True)


def _record_new_time(gradebook: Gradebook, sub: FoundSubmission, assignment: str,
                     summary: BatchSummary) -> None:
    """An unchanged submission whose time is now known better (a worksheet or times CSV
    given since): a new row with the same results and the new time, so lateness follows."""
    row = gradebook.latest_for(sub.student, assignment)
    if row is None or (row.submitted_at, row.time_source) == (sub.submitted_at, sub.time_source):
        return
    gradebook.add(student=sub.student, assignment=assignment, sha256=row.sha256,
                  status=row.status, platform_version=row.platform_version,
                  assignment_version=row.assignment_version, submitted_at=sub.submitted_at,
                  results=row.results, source=row.source, time_source=sub.time_source)
    summary.retimed += 1


def grade_batch(
    assignment: Assignment,
    course_root: Path,
    submissions: Iterable[FoundSubmission],
    gradebook: Gradebook,
    *,
    backend: LocalBackend | None = None,
    force: bool = False,
    progress: Callable[[FoundSubmission, str], None] | None = None,
) -> BatchSummary:
    """Grade ``submissions`` into ``gradebook``; returns counts and scores.

    ``progress(submission, outcome)`` is called once per submission with
    ``"graded"``, ``"skipped"`` or ``"error"``.
    """
    backend = backend or LocalBackend()
    subs = list(submissions)
    summary = BatchSummary(total=len(subs), max_score=assignment.total_points)
    t0 = time.perf_counter()
    platform = autograder.__version__
    todo: dict[str, tuple[FoundSubmission, str]] = {}

    def record_error(sub: FoundSubmission, sha: str, message: str) -> None:
        message = clean(message, ERROR_MAX)
        gradebook.add(student=sub.student, assignment=assignment.id, sha256=sha, status="error",
                      platform_version=platform, assignment_version=assignment.version,
                      submitted_at=sub.submitted_at, error=message, source=str(sub.path),
                      time_source=sub.time_source)
        summary.errors += 1
        summary.error_messages.append(f"{sub.student}: {message}")
        if progress:
            progress(sub, "error")

    for sub in subs:
        try:
            prepared = prepare_submission(sub.path, assignment.modules)
        except SubmissionRejected as exc:
            record_error(sub, "", str(exc))
            continue
        except Exception as exc:  # never let one submission stop the batch before grading
            record_error(sub, "", f"internal error: {type(exc).__name__}: {exc}")
            continue
        sha = prepared.sha256
        prepared.cleanup()
        if not force and gradebook.is_current(sub.student, assignment.id, sha, assignment.version,
                                              platform):
            summary.skipped += 1
            _record_new_time(gradebook, sub, assignment.id, summary)
            if progress:
                progress(sub, "skipped")
            continue
        todo[str(sub.path)] = (sub, sha)

    def on_result(source: str, text: str) -> None:
        sub, sha = todo[source]
        try:  # from a grading process or a Dask worker: bounded and cleaned here again
            data = json.loads(text)
            results = None if "error" in data else clean_results_json(data["results"])
            if results is not None and not all(k in results for k in _RESULT_KEYS):
                raise KeyError(", ".join(k for k in _RESULT_KEYS if k not in results))
        except (ValueError, TypeError, KeyError) as exc:
            record_error(sub, sha, f"internal error: the grading process sent a malformed "
                                   f"result ({type(exc).__name__}: {exc})")
            return
        if results is None:
            record_error(sub, sha, str(data["error"]))
            return
        gradebook.add(student=sub.student, assignment=assignment.id,
                      sha256=results["submission_sha256"], status="graded",
                      platform_version=results["platform_version"],
                      assignment_version=results["assignment_version"],
                      submitted_at=sub.submitted_at, results=results, source=source,
                      time_source=sub.time_source)
        summary.graded += 1
        summary.scores.append(results["score"])
        if progress:
            progress(sub, "graded")

    if todo:
        backend.run(str(course_root), assignment.id, list(todo), on_result)
    summary.seconds = time.perf_counter() - t0
    return summary
