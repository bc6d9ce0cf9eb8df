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
