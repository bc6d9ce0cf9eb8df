"""The spawn worker backend: grading through it, process-tree kills, reuse, and the check path
where the POSIX-only modules, fork, SOCK_SEQPACKET and poll are missing (as on Windows)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.config import load_course
from autograder.errors import WorkerCrashed, WorkerTimeout
from autograder.grading import grade_submission
from autograder.sandbox import protections as P
from autograder.sandbox import protocol
from autograder.sandbox.limits import WorkerSpec
from autograder.sandbox.session import Submission, SubmissionSandbox
from autograder.sandbox.spawn_backend import SpawnBackend

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fresh_backend():
    """Numpy workers, a fresh one per test. Without the syscall filter, as on macOS and
    Windows (where the spawn worker is the default): their processes may start others, which
    the tree kill must then find."""
    backend = SpawnBackend(with_torch=False, reuse=False, exclude=NO_FILTER)
    yield backend
    backend.close()


NO_FILTER = frozenset({P.SYSCALL_FILTER})


@pytest.fixture(scope="module")
def reused_backend():
    """Numpy workers, one reused across the tests of a submission (the default); without the
    syscall filter, as above."""
    backend = SpawnBackend(with_torch=False, exclude=NO_FILTER)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def course():
    return load_course(REPO)


# ------------------------------------------------------------------ whole assignments


def test_02_reference_scores_100_and_its_starter_0_with_readable_reasons(reused_backend,
                                                                          course):
    assignment = course.assignment("02-feedforward")
    reference = grade_submission(assignment, REPO / "solutions" / "02-feedforward",
                                 parent=reused_backend)
    assert reference.score == reference.max_score == 100
    assert P.FRESH_WORKER_PER_TEST not in reference.protections

    starter = grade_submission(assignment, REPO / "starter" / "02-feedforward",
                               parent=reused_backend)
    assert starter.score == 0
    reasons = [t.reason for t in starter.tests]
    assert all(t.status == "failed" for t in starter.tests)
    assert all(r and "Traceback" not in r for r in reasons), reasons
    assert not [r for r in reasons if "sandbox" in r or "died" in r or "timed out" in r], reasons
    assert sum(r.startswith("not implemented yet") for r in reasons) >= len(reasons) // 2


def test_a_torch_assignments_reference_gets_full_marks(course):
    """Torch workers serve a whole submission each, and the backend says so."""
    with SpawnBackend(with_torch=True) as backend:
        assignment = course.assignment("08-transformers")
        result = grade_submission(assignment, REPO / "solutions" / "08-transformers",
                                  parent=backend)
        assert result.score == result.max_score == 100, [
            (t.name, t.reason) for t in result.tests if t.status != "passed"]
        assert P.FRESH_WORKER_PER_TEST not in result.protections
        assert any(P.FRESH_WORKER_PER_TEST in note for note in backend.notes())


# ------------------------------------------------------------------ one worker at a time

SPREADS = '''
import os, subprocess, sys, time


def spread(seconds):
    """Start a child, a forked child, and a setsid'd, orphaned grandchild; then sleep."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    forked = os.fork()
    if forked == 0:
        time.sleep(600)
        os._exit(0)
    middle = os.fork()
    if middle == 0:
        os.setsid()
        if os.fork() == 0:
            with open("grandchild.txt", "w") as fh:
                fh.write(str(os.getpid()))
            time.sleep(600)
        os._exit(0)
    os.waitpid(middle, 0)
    with open("children.txt", "w") as fh:
        fh.write(f"{child.pid} {forked}")
    time.sleep(seconds)
    return os.getpid()


def leave_child():
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]).pid


STATE = {"calls": 0}


def bump():
    STATE["calls"] += 1
    return STATE["calls"]


def draw():
    import random
    return random.random(), float(np.random.rand())


def set_env():
    os.environ["LEFT_BEHIND"] = "1"
    os.chdir("/")


def env_and_cwd():
    return os.environ.get("LEFT_BEHIND"), os.getcwd()


def pid():
    return os.getpid()


def crash():
    os._exit(3)


def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return os.getpid()


import numpy as np
'''


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is dead)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _wait_until_dead(pids: list[int], seconds: float = 10.0) -> list[int]:
    """The pids still alive after waiting up to ``seconds`` for them to die."""
    deadline = time.monotonic() + seconds
    while [p for p in pids if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def _spec(folder: Path, seed: int = 0) -> WorkerSpec:
    os.chmod(folder, 0o755)
    (folder / "mini.py").write_text(SPREADS)
    return WorkerSpec(submission_dir=str(folder), modules=["mini.py"], seed=seed)


def _module(conn):
    return conn.request({"op": "import", "module": "mini"}, "mini")


@pytest.mark.parametrize("which", ["fresh", "reused"])
def test_a_timeout_kills_the_worker_and_everything_it_started(which, fresh_backend,
                                                             reused_backend, tmp_path):
    backend = fresh_backend if which == "fresh" else reused_backend
    conn = backend.spawn(_spec(tmp_path))
    worker = conn.pid
    conn.call_timeout = 3.0
    with pytest.raises(WorkerTimeout):
        _module(conn).spread(600)
    started = [int(p) for p in (tmp_path / "children.txt").read_text().split()]
    started.append(int((tmp_path / "grandchild.txt").read_text()))
    assert _wait_until_dead([worker, *started]) == []
    conn.close()


def test_a_reused_worker_is_reset_between_tests_and_loses_what_a_test_started(reused_backend,
                                                                           tmp_path):
    spec = _spec(tmp_path, seed=5)
    first = reused_backend.spawn(spec)
    mini = _module(first)
    assert mini.bump() == 1 and mini.bump() == 2
    draws = mini.draw()
    mini.set_env()
    child = mini.leave_child()
    worker = first.pid
    first.close()
    assert _wait_until_dead([child]) == []

    second = reused_backend.spawn(spec)
    mini = _module(second)
    assert second.pid == worker  # the same process ...
    assert mini.bump() == 1  # ... with the student's module imported anew
    assert mini.draw() == draws  # reseeded with the test's seed
    assert mini.env_and_cwd() == (None, os.path.realpath(tmp_path))
    second.close()
    assert P.FRESH_WORKER_PER_TEST not in reused_backend.protections()


def test_a_reused_worker_that_crashed_is_replaced(reused_backend, tmp_path):
    spec = _spec(tmp_path)
    conn = reused_backend.spawn(spec)
    worker = conn.pid
    with pytest.raises(WorkerCrashed, match="exit code 3"):
        _module(conn).crash()
    conn.close()
    replacement = reused_backend.spawn(spec)
    assert replacement.pid != worker and _module(replacement).bump() == 1
    replacement.close()


def test_a_reused_worker_has_its_cpu_time_limit_per_test(reused_backend, tmp_path):
    """Each test of a reused worker gets the whole CPU-time limit again: tests that together
    use more than it still pass, and one test over it is stopped."""
    spec = dataclasses.replace(_spec(tmp_path), cpu_seconds=2)
    pids = set()
    for _ in range(3):
        conn = reused_backend.spawn(spec)
        conn.call_timeout = 120.0
        pids.add(_module(conn).burn(1.2))
        conn.close()
    assert len(pids) == 1
    conn = reused_backend.spawn(spec)
    conn.call_timeout = 120.0
    with pytest.raises(WorkerCrashed, match="SIGXCPU"):
        _module(conn).burn(5)
    conn.close()


def test_a_fresh_backend_gives_every_test_a_new_process(fresh_backend, tmp_path):
    spec = _spec(tmp_path)
    pids = []
    for _ in range(3):
        conn = fresh_backend.spawn(spec)
        pids.append(_module(conn).pid())
        conn.close()
    assert len(set(pids)) == 3
    assert _wait_until_dead(pids) == []
    assert P.FRESH_WORKER_PER_TEST in fresh_backend.protections()


def test_a_worker_is_only_accepted_with_its_token(tmp_path):
    """Whoever connects to a starting worker's port first without its token is turned away."""
    backend = SpawnBackend(with_torch=False, spares=0)
    try:
        started = backend._start("numpy")
        intruder = socket.create_connection(started.listener.getsockname())
        protocol.send_message(intruder, {"token": "0" * 32})
        backend._bind(started, _spec(tmp_path), backend._decide()[0])
        assert intruder.recv(1) == b""  # closed on it
        intruder.close()
        backend._stop(started)
    finally:
        backend.close()


def test_the_sandbox_fixture_api_works_over_a_spawned_worker(reused_backend, tmp_path):
    """``Submission`` proxies (handles, values, output) behave as with the fork backend."""
    assignment = load_course(REPO / "tests" / "fixtures" / "course").assignment("90-mini")
    assignment = dataclasses.replace(assignment, banned=())
    os.chmod(tmp_path, 0o755)
    (tmp_path / "mini.py").write_text(
        "import numpy as np\n\ndef double(x):\n    print('doubling')\n    return 2 * x\n")
    sandbox = SubmissionSandbox(assignment, tmp_path, "process", reused_backend)
    assert sandbox.probe_modules() == {}
    sub = Submission(sandbox, seed=1, test_timeout=30)
    try:
        np.testing.assert_array_equal(sub.mini.double(np.arange(3)), [0, 2, 4])
        assert sub.output.strip() == "doubling"
    finally:
        sub.close()


# ------------------------------------------------------------------ no POSIX-only modules

SHIM = '''"""As on Windows: no fcntl, resource, pwd, grp, termios; no fork, SOCK_SEQPACKET, poll."""
import os, select, socket, sys

_BLOCKED = {"fcntl", "resource", "pwd", "grp", "termios"}


class _Refuse:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Refuse)
for _name in [n for n in sys.modules if n.partition(".")[0] in _BLOCKED]:
    del sys.modules[_name]
for _owner, _attr in ((socket, "SOCK_SEQPACKET"), (os, "fork"), (select, "poll")):
    if hasattr(_owner, _attr):
        delattr(_owner, _attr)
with open(LOG, "a") as _log:
    _log.write(" ".join(sys.orig_argv) + "\\n")
'''


def _check_with_modules_blocked(tmp_path: Path, *options: str) -> tuple[dict, str, str]:
    """``dlgrade check 02-feedforward`` on the reference's files, in a subprocess (and its
    workers) with ``SHIM`` loaded; the results JSON, the table, and the shim's log."""
    shim, work = tmp_path / "shim", tmp_path / "work"
    shim.mkdir()
    work.mkdir()
    log = tmp_path / "shim.log"
    (shim / "sitecustomize.py").write_text(f"LOG = {str(log)!r}\n" + SHIM)
    files = []
    for source in sorted((REPO / "solutions" / "02-feedforward").glob("*.py")):
        files.append(str(shutil.copy(source, work)))
    env = {k: v for k, v in os.environ.items() if k != "DLGRADE_WORKER"}
    env["PYTHONPATH"] = str(shim)
    out = subprocess.run(
        [sys.executable, "-m", "autograder.cli", "check", "02-feedforward", *files,
         "--json", str(tmp_path / "results.json"), *options],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return json.loads((tmp_path / "results.json").read_text()), out.stdout, log.read_text()


def test_check_grades_the_reference_40_of_40_without_posix_only_modules(tmp_path):
    """Fork and SOCK_SEQPACKET are missing, so the spawn worker is chosen by itself; neither
    the grader nor its workers can import fcntl, resource, pwd, grp or termios, or poll."""
    results, table, log = _check_with_modules_blocked(tmp_path)
    assert (results["score"], results["max_score"]) == (40, 40)
    assert "sandbox: spawn worker" in table
    assert P.RLIMITS not in results["protections"]  # no resource module, so no rlimits
    assert "autograder.cli check" in log  # the shim ran in the grader ...
    assert "autograder.sandbox.spawn_worker numpy" in log  # ... and in its workers


def test_check_in_process_works_without_posix_only_modules(tmp_path):
    results, _table, log = _check_with_modules_blocked(tmp_path, "--isolation", "none")
    assert (results["score"], results["max_score"]) == (40, 40)
    assert results["protections"] == [P.IN_PROCESS]
    assert "autograder.cli check" in log and "spawn_worker" not in log
