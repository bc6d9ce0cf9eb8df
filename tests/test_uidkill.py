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
    assert time.monotonic() - start < 30  # a hang guard: the stopped helper never answers
    assert killer.pid != stopped
    with pytest.raises(ProcessLookupError):
        os.kill(stopped, 0)  # the stopped helper was killed and reaped, not left behind
    assert killer.kill_uid(VICTIM)
    assert _dead(victim)


def _as_uid(uid: int, code: str) -> str:
    """Run Python ``code`` as ``uid`` (a process that ends, leaving what it made behind), with
    Debian's Python: the venv's lives in root's home folder, closed to other uids."""
    done = subprocess.run(["/usr/bin/python3", "-c", code], user=uid, group=uid, extra_groups=[],
                          capture_output=True, text=True, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


LEAVE_IPC_AND_A_KEY = '''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
created = 0o1600
ids = [libc.shmget(0, 2**20, created), libc.msgget(0, created), libc.semget(0, 1, created)]
key = libc.syscall(248, b"user", b"dlgrade-leak", b"hidden inputs", 13, -4)  # add_key into @u
print(min(ids) >= 0 and key > 0)
'''

FIND_THE_KEY = '''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
# keyctl(KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", "dlgrade-leak", 0)
print(libc.syscall(250, 10, -4, b"user", b"dlgrade-leak", 0) > 0)
'''


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the probes use x86_64 numbers")
def test_a_uids_sysv_objects_and_keys_do_not_outlive_its_cleanup(killer):
    """What a worker uid leaves in the host's IPC namespace and its keyrings (where neither an
    IPC namespace nor the syscall filter stopped it) is gone once the uid is cleaned."""
    from autograder.sandbox.uidkill import ipc_objects_of

    assert _as_uid(VICTIM, LEAVE_IPC_AND_A_KEY) == "True"
    assert sorted(ipc_objects_of(VICTIM)) == ["msg", "sem", "shm"]
    assert _as_uid(VICTIM, FIND_THE_KEY) == "True"  # it outlived its process
    assert killer.kill_uid(VICTIM)
    assert ipc_objects_of(VICTIM) == {}
    assert _as_uid(VICTIM, FIND_THE_KEY) == "False"


def test_a_dead_warm_parents_dirty_uids_are_swept(tmp_path, processes):
    """The helper, told the lock folder, cleans every uid left dirty and unlocked when the
    warm parent's end of its socket closes (the warm parent died)."""
    import fcntl

    from autograder.sandbox.uidkill import sweep_abandoned_uids

    (tmp_path / str(VICTIM)).write_bytes(b"d")  # dirty: its warm parent died
    (tmp_path / str(BYSTANDER)).write_bytes(b"d")  # dirty but held by a live warm parent
    held = os.open(tmp_path / str(BYSTANDER), os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)
    victim, bystander = processes(VICTIM, new_session=True), processes(BYSTANDER)
    try:
        helper = UidKiller(str(tmp_path))
        helper.sock.close()  # as when the warm parent dies
        os.waitpid(helper.pid, 0)
        assert _dead(victim) and bystander.poll() is None
        assert (tmp_path / str(VICTIM)).read_bytes() == b"c"
        assert (tmp_path / str(BYSTANDER)).read_bytes() == b"d"
        assert sweep_abandoned_uids(str(tmp_path), lambda uid: None) == []  # nothing dirty left
    finally:
        os.close(held)
