"""The uid killer: every process of one uid dies, nothing else does, and it survives failures."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from autograder.sandbox.uidkill import UidKiller

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="taking another uid needs root")

VICTIM, BYSTANDER = 64001, 64002  # outside the workers' uid range


def _start_as(uid: int, new_session: bool = False) -> subprocess.Popen:
    return subprocess.Popen(["sleep", "60"], user=uid, group=uid, extra_groups=[],
                            start_new_session=new_session)


def _ids(pid: int) -> tuple[str, str]:
    """(Uid line, Gid line) of /proc/PID/status: real, effective, saved, filesystem."""
    lines = {ln.split(":")[0]: ln.split(":")[1].split() for ln in open(f"/proc/{pid}/status")}
    return " ".join(lines["Uid"]), " ".join(lines["Gid"])


def _dead(proc: subprocess.Popen, timeout: float = 5) -> bool:
    try:
        proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture
def killer():
    helper = UidKiller()
    yield helper
    helper.close()


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []

    def start(uid: int, new_session: bool = False) -> subprocess.Popen:
        started.append(_start_as(uid, new_session))
        return started[-1]

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_kills_every_process_of_the_uid_and_nothing_else(killer, processes):
    victims = [processes(VICTIM), processes(VICTIM, new_session=True)]
    bystander = processes(BYSTANDER)
    pid = killer.pid
    assert killer.kill_uid(VICTIM)
    assert all(_dead(p) for p in victims)
    assert bystander.poll() is None  # another uid's process is untouched
    assert killer.pid == pid
    assert _ids(pid)[0] == "0 0 0 0"  # the helper is root again, with no trace of the uid
    other = processes(VICTIM)
    assert killer.kill_uid(VICTIM)  # and it works again, many times
    assert _dead(other)


def test_a_helper_that_died_is_replaced(killer, processes):
    os.kill(killer.pid, signal.SIGKILL)
    victim = processes(VICTIM)
    assert not killer.kill_uid(VICTIM)  # the failure is reported: the uid may be dirty
    assert killer.kill_uid(VICTIM)  # the replacement does the job
    assert _dead(victim)


def test_a_helper_that_stopped_answering_is_replaced(killer, processes):
    killer.sock.settimeout(0.5)
    stopped = killer.pid
    os.kill(stopped, signal.SIGSTOP)
    victim = processes(VICTIM)
    start = time.monotonic()
    assert not killer.kill_uid(VICTIM)
    assert time.monotonic() - start < 5
    assert killer.pid != stopped
    with pytest.raises(ProcessLookupError):
        os.kill(stopped, 0)  # the stopped helper was killed and reaped, not left behind
    assert killer.kill_uid(VICTIM)
    assert _dead(victim)
