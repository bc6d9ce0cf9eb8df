"""The Dask backend against a real dask.distributed scheduler and workers on loopback."""

from __future__ import annotations

import pytest

from autograder.batch.discover import discover
from autograder.batch.runner import LocalBackend, grade_batch
from autograder.errors import UsageError
from autograder.gradebook.store import Gradebook
from tests.conftest import FIXTURE_COURSE, HONEST_MINI


@pytest.fixture(scope="module")
def cluster():
    """A real scheduler and two single-threaded worker processes, on 127.0.0.1."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as local:
        yield local


def test_dask_results_match_the_local_backend(cluster, mini_course, tmp_path):
    from autograder.batch.dask_backend import DaskBackend

    root = tmp_path / "class"
    for student, source in {"alice": HONEST_MINI,
                            "bob": HONEST_MINI.replace("return a + b", "return a * b"),
                            "carol": "def add(:\n"}.items():
        (root / student).mkdir(parents=True)
        (root / student / "mini.py").write_text(source)
    assignment = mini_course.assignment("90-mini")
    found = discover(root, assignment.id)
    outcomes = {}
    for name, backend in (("local", LocalBackend(1)),
                          ("dask", DaskBackend(cluster.scheduler_address))):
        with Gradebook(tmp_path / f"{name}.sqlite") as book:
            summary = grade_batch(assignment, FIXTURE_COURSE, found, book, backend=backend)
            assert summary.graded == 3
            outcomes[name] = {
                r.student: (r.score, r.sha256, [(t["name"], t["status"], t["score"])
                                                for t in r.results["tests"]])
                for r in book.latest(assignment.id)}
    assert outcomes["dask"] == outcomes["local"]
    assert {s: v[0] for s, v in outcomes["dask"].items()} == {"alice": 4, "bob": 2, "carol": 0}


def test_unreachable_scheduler_is_a_clear_usage_error(mini_course, tmp_path):
    from autograder.batch.dask_backend import DaskBackend

    backend = DaskBackend("tcp://127.0.0.1:1", connect_timeout=2)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:1"):
        backend.run(str(FIXTURE_COURSE), "90-mini", ["x"], lambda s, t: None)


def test_workers_without_dlgrade_are_reported(cluster, monkeypatch):
    from autograder.batch import dask_backend

    backend = dask_backend.DaskBackend(cluster.scheduler_address)
    client = backend._client()
    try:
        monkeypatch.setattr(dask_backend.autograder, "__version__", "9.9.9-not-installed")
        with pytest.raises(UsageError, match="dlgrade 9.9.9-not-installed is needed on every Dask "
                                             "worker; found"):
            backend.check_workers(client)
    finally:
        client.close()


def test_a_worker_killed_mid_task_has_its_submission_rerun_elsewhere(cluster, mini_course,
                                                                      tmp_path):
    import os
    import signal
    import threading
    import time

    from distributed import Client

    from autograder.batch.dask_backend import DaskBackend

    slow = HONEST_MINI.replace("def add(a, b):\n    return a + b\n",
                               "def add(a, b):\n    import time\n    time.sleep(1.0)\n"
                               "    return a + b\n")
    root = tmp_path / "class"
    for i in range(4):
        (root / f"s{i}").mkdir(parents=True)
        (root / f"s{i}" / "mini.py").write_text(slow + f"\n# {i}\n")
    assignment = mini_course.assignment("90-mini")
    found = discover(root, assignment.id)
    killed: list[str] = []

    def kill_a_busy_worker() -> None:
        with Client(cluster.scheduler_address) as client:
            pids = client.run(os.getpid)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed:
                busy = [w for w, keys in client.processing().items() if keys]
                if busy:
                    time.sleep(1.0)  # let the task get well under way
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(busy[0])
                time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    with Gradebook(tmp_path / "gb.sqlite") as book:
        summary = grade_batch(assignment, FIXTURE_COURSE, found, book,
                              backend=DaskBackend(cluster.scheduler_address))
        killer.join()
        assert killed, "no worker was killed"
        assert (summary.graded, summary.errors) == (4, 0)
        assert sorted((r.student, r.score) for r in book.latest(assignment.id)) == [
            (f"s{i}", 4) for i in range(4)]
        assert all(len(book.history(f"s{i}", assignment.id)) == 1 for i in range(4))
