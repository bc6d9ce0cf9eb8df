"""Issue 21, finding 1: a submission cannot hang grading, and nothing it started outlives
the grader.

- A worker that stops reading its channel used to block the grader's next large request
  forever (the send had no deadline). Now the call ends at its deadline, with a reason
  that says so, and every process of the worker is gone.
- A grader killed while a worker runs (SIGTERM to its process group, as ``timeout`` or a
  CI runner does; or SIGKILL of the grader alone) takes the warm parent, the worker and
  whatever the worker started (even in a session of its own) with it.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.errors import SubmissionError
from autograder.sandbox.session import Submission, SubmissionSandbox
from tests.hostile.corpus import FIXTURE_COURSE, HONEST_MINI, fixture_assignment

REPO = Path(__file__).resolve().parents[2]

STOPS_READING = HONEST_MINI + '''

def stop_reading():
    """From now on the worker never reads the grader's requests."""
    import os
    import time
    from autograder.sandbox import protocol
    protocol.Receiver.receive = lambda self, *args, **kwargs: time.sleep(10**6)
    return os.getuid()
'''


def _pids_of_uid(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def _processes_with(marker: str) -> list[int]:
    """Processes whose name or command line holds ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry}/comm", "rb") as fh:
                comm = fh.read()
        except OSError:
            continue
        if marker.encode() in cmdline + comm:
            found.append(int(entry))
    return found


def _wait_until_gone(find, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := find()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_a_worker_that_stops_reading_cannot_hold_the_grader(warm_parent, tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "mini.py").write_text(STOPS_READING)
    assignment = fixture_assignment()
    relaxed = dataclasses.replace(assignment, banned=(), limits=dataclasses.replace(
        assignment.limits, call_timeout=3.0, test_timeout=20.0))
    sandbox = SubmissionSandbox(relaxed, folder, "process", warm_parent)
    sub = Submission(sandbox, seed=1, test_timeout=20)
    try:
        add = sub.mini.add  # a handle: calling it is one request, the array in it
        uid = sub.mini.stop_reading()
        big = np.zeros(8 * 2**20 // 8)  # 8 MB: far more than a socket buffer holds
        t0 = time.monotonic()
        with pytest.raises(SubmissionError) as caught:
            add(big, 1.0)
        elapsed = time.monotonic() - t0
    finally:
        sub.close()
    # the call's own 3 s deadline ended it (a hang guard above: it never reads again)
    assert 2.5 < elapsed < 30, elapsed
    assert "stopped reading the grader's requests" in caught.value.reason
    if os.geteuid() == 0 and uid != os.geteuid():  # a uid of its own: nothing of it is left
        assert _wait_until_gone(lambda: _pids_of_uid(uid)) == []


HANGS_WITH_AN_ESCAPED_CHILD = HONEST_MINI.replace("def add(a, b):\n    return a + b\n", '''
def add(a, b):
    import ctypes, os, signal, time
    ctypes.CDLL(None).prctl(15, b"MARKER", 0, 0, 0)  # PR_SET_NAME: the worker, findable
    try:
        if os.fork() == 0:
            try:
                os.setsid()  # leave the worker's session, if allowed
            except OSError:
                pass
            os.execv("/bin/sleep", ["sleep", "MARKER"])
    except OSError:
        pass  # no new processes here (a single-process worker)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(600)
    return a + b
''')


@pytest.mark.parametrize("how", ["sigterm-to-group", "sigkill-grader"])
def test_nothing_a_worker_started_outlives_a_killed_grader(tmp_path, how):
    marker = f"dl{os.getpid() % 1000}.{int(time.time() * 1000) % 100000}{len(how)}"
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "mini.py").write_text(HANGS_WITH_AN_ESCAPED_CHILD.replace("MARKER", marker))
    grader = subprocess.Popen(
        [sys.executable, "-m", "autograder.cli", "--course", str(FIXTURE_COURSE), "grade",
         "90-mini", str(folder)], cwd=REPO, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_with(marker), "the submission's worker never started"
        if how == "sigterm-to-group":
            os.killpg(grader.pid, signal.SIGTERM)
        else:
            os.kill(grader.pid, signal.SIGKILL)
        grader.wait(timeout=30)
        assert _wait_until_gone(lambda: _processes_with(marker)) == []
    finally:
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)
        if grader.poll() is None:
            grader.kill()


def test_a_warm_parent_that_stops_answering_is_replaced(monkeypatch, tmp_path):
    """The grader's control requests have a deadline too: a stuck warm parent (stopped here)
    is killed, the request fails as a platform problem, and the next one gets a new parent."""
    from autograder.sandbox import fork_backend
    from autograder.sandbox.limits import WorkerSpec

    monkeypatch.setattr(fork_backend, "CONTROL_TIMEOUT", 2.0)
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "mini.py").write_text(HONEST_MINI)
    spec = WorkerSpec(submission_dir=str(folder), modules=["mini"])
    with fork_backend.WarmParent(with_torch=False) as parent:
        parent.spawn(spec).close()
        stuck = parent.process.pid
        os.kill(stuck, signal.SIGSTOP)
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match="did not answer"):
            parent.spawn(spec)
        assert time.monotonic() - t0 < 30  # a hang guard: the stopped parent never answers
        conn = parent.spawn(spec)  # a new warm parent
        try:
            assert parent.process.pid != stuck
            conn.request({"op": "seed", "seed": 1}, "seed")  # it answers
        finally:
            conn.close()
