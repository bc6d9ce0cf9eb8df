"""Batch grading: discovering the three layouts, the gradebook, resume, force, broken submissions."""

from __future__ import annotations

import os
import zipfile
from datetime import UTC, datetime

import pytest

from autograder.batch.discover import discover
from autograder.batch.runner import LocalBackend, grade_batch
from autograder.errors import UsageError
from autograder.gradebook.store import Gradebook
from tests.conftest import FIXTURE_COURSE, HONEST_MINI

WRONG_ADD = HONEST_MINI.replace("return a + b", "return a - b")


def write_student(folder, source):
    folder.mkdir(parents=True)
    (folder / "mini.py").write_text(source)


@pytest.fixture
def class_folder(tmp_path):
    root = tmp_path / "class"
    write_student(root / "alice", HONEST_MINI)
    write_student(root / "bob", WRONG_ADD)
    with zipfile.ZipFile(root / "carol.zip", "w") as archive:
        archive.writestr("mini.py", HONEST_MINI)
    (root / "dave.zip").write_bytes(b"not a zip")
    return root


def test_folders_layout(class_folder):
    found = discover(class_folder, "90-mini")
    assert [(f.student, f.layout) for f in found] == [
        ("alice", "folders"), ("bob", "folders"), ("carol", "folders"), ("dave", "folders")]
    assert all(f.submitted_at.tzinfo is not None for f in found)


def test_gradescope_export_layout(tmp_path):
    root = tmp_path / "export"
    write_student(root / "submission_111", HONEST_MINI)
    write_student(root / "submission_222", WRONG_ADD)
    (root / "submission_metadata.yml").write_text(
        "submission_111:\n"
        "  :submitters:\n  - :name: Alice A\n    :sid: 'a001'\n    :email: alice@example.edu\n"
        "  :created_at: 2026-10-01 23:59:00.000000000 -07:00\n"
        "submission_222:\n"
        "  :submitters:\n  - :name: Bob B\n    :email: bob@example.edu\n"
        "  :created_at: 2026-10-02 08:00:00.000000000 -07:00\n")
    found = discover(root, "90-mini")
    assert [(f.student, f.path.name, f.layout) for f in found] == [
        ("a001", "submission_111", "gradescope"), ("bob@example.edu", "submission_222", "gradescope")]
    assert found[0].submitted_at == datetime(2026, 10, 2, 6, 59, tzinfo=UTC)


def test_nbgrader_layout(tmp_path):
    root = tmp_path / "course"
    write_student(root / "submitted" / "alice" / "90-mini", HONEST_MINI)
    write_student(root / "submitted" / "bob" / "90-mini", WRONG_ADD)
    (root / "submitted" / "bob" / "90-mini" / "timestamp.txt").write_text(
        "2026-10-01 12:00:00.000000 UTC")  # nbgrader's format
    (root / "submitted" / "carol" / "other-assignment").mkdir(parents=True)
    for start in (root, root / "submitted"):
        found = discover(start, "90-mini")
        assert [(f.student, f.layout) for f in found] == [("alice", "nbgrader"), ("bob", "nbgrader")]
    assert found[1].submitted_at == datetime(2026, 10, 1, 12, tzinfo=UTC)


def test_unusable_layouts_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="no submissions found"):
        discover(tmp_path, "90-mini")
    (tmp_path / "bad id!").mkdir()
    with pytest.raises(UsageError, match="not a usable student id"):
        discover(tmp_path, "90-mini")


def test_batch_grades_resumes_keeps_history_and_survives_bad_submissions(
        class_folder, mini_course, tmp_path):
    assignment = mini_course.assignment("90-mini")
    found = discover(class_folder, assignment.id)
    seen = []
    with Gradebook(tmp_path / "gb.sqlite") as book:
        summary = grade_batch(assignment, FIXTURE_COURSE, found, book, backend=LocalBackend(2),
                              progress=lambda sub, outcome: seen.append((sub.student, outcome)))
        assert (summary.graded, summary.skipped, summary.errors) == (3, 0, 1)
        assert sorted(seen) == [("alice", "graded"), ("bob", "graded"), ("carol", "graded"),
                                ("dave", "error")]
        latest = {r.student: r for r in book.latest(assignment.id)}
        assert {s: r.score for s, r in latest.items()} == {
            "alice": 4, "bob": 2, "carol": 4, "dave": None}
        assert "not a valid zip file" in latest["dave"].error
        assert latest["alice"].results["tests"][0]["name"] == "public/test_mini.py::test_add"
        assert latest["alice"].sha256 == latest["carol"].sha256  # same content, same hash
        assert latest["alice"].assignment_version == "1.0.0"

        # A second run skips what is unchanged; a changed submission is regraded.
        (class_folder / "bob" / "mini.py").write_text(HONEST_MINI)
        again = grade_batch(assignment, FIXTURE_COURSE, found, book, backend=LocalBackend(1))
        assert (again.graded, again.skipped) == (1, 2)
        history = book.history("bob", assignment.id)
        assert [r.score for r in history] == [2, 4]  # the earlier result is kept
        assert book.latest_for("bob", assignment.id).score == 4

        forced = grade_batch(assignment, FIXTURE_COURSE, found, book, force=True)
        assert (forced.graded, forced.skipped) == (3, 0)
        assert len(book.history("alice", assignment.id)) == 2


def test_gradebook_rows_are_written_one_transaction_each(tmp_path):
    path = tmp_path / "gb.sqlite"
    with Gradebook(path) as book:
        book.add(student="s1", assignment="a", sha256="x", status="error", platform_version="1",
                 assignment_version="1", error="boom")
    # Another connection sees the committed row immediately (nothing buffered).
    with Gradebook(path) as other:
        assert [r.error for r in other.latest("a")] == ["boom"]
    assert os.path.getsize(path) > 0


def test_cpu_plan_pins_only_when_every_cpu_has_a_job(monkeypatch):
    from autograder.batch.runner import cpu_plan

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {4, 6})  # a 2-CPU cpuset
    assert cpu_plan(1) is None  # a spare CPU takes the job's background work
    assert cpu_plan(2) == [4, 6]
    assert cpu_plan(5) == [4, 6, 4, 6, 4]  # more jobs than CPUs: spread evenly
    assert cpu_plan(2, pin=False) is None
    assert cpu_plan(1, pin=True) == [4]
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert cpu_plan(3) is None  # one CPU: nothing to choose


def _affinity_here_and_in_a_child() -> tuple[int, list[int], list[int]]:
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c",
                            "import os; print(sorted(os.sched_getaffinity(0)))"],
                           capture_output=True, text=True, check=True).stdout
    return os.getpid(), sorted(os.sched_getaffinity(0)), eval(child)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="pinning needs two usable CPUs")
def test_each_grading_process_and_what_it_starts_runs_on_its_own_cpu():
    """The pool initializer pins each process to the CPU it takes from the queue, and the
    processes it starts (the warm parent, hence the workers) inherit that CPU."""
    import time
    from concurrent.futures import ProcessPoolExecutor

    from autograder.batch.runner import _pin_to_cpu, _pool_context, cpu_plan

    plan = cpu_plan(2, pin=True)
    ctx = _pool_context(["os"])
    queue = ctx.Queue()
    for cpu in plan:
        queue.put(cpu)
    seen: dict[int, tuple[list[int], list[int]]] = {}
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=_pin_to_cpu,
                             initargs=(queue,)) as pool:
        deadline = time.monotonic() + 60
        while len(seen) < 2 and time.monotonic() < deadline:
            futures = [pool.submit(_affinity_here_and_in_a_child) for _ in range(4)]
            for future in futures:
                pid, own, child = future.result()
                seen[pid] = (own, child)
    assert sorted(own for own, _ in seen.values()) == [[plan[0]], [plan[1]]]
    assert all(child == own for own, child in seen.values())


def test_a_grading_process_that_finds_no_cpu_left_runs_unpinned(monkeypatch):
    """An empty queue (more processes than planned CPUs) must not hang the pool."""
    import queue

    from autograder.batch.runner import _pin_to_cpu

    class Empty:
        def get(self, timeout=None):
            raise queue.Empty

    calls = []
    monkeypatch.setattr(os, "sched_setaffinity", lambda *a: calls.append(a))
    _pin_to_cpu(Empty())
    assert calls == []
