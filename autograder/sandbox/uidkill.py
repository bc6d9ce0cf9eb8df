"""Killing every process of a worker's uid, from a small helper that never forks.

``kill(-1, SIGKILL)`` reaches every process whose real or saved uid is the
caller's real or effective uid. The helper (started as root) takes the worker's
uid as its real and effective uid for the duration of one ``kill(-1)``, keeping
root as its saved uid so that it can take root back afterwards: with a non-root
effective uid it holds no effective capability, so the signal reaches that
uid's processes and nothing else. Workers cannot signal or trace the helper
while it wears their uid: Landlock scopes their signals to their own domain
(ABI 6), and a process whose uid changed is not dumpable.

An earlier helper forked a child per cleanup that dropped to the uid for good.
Some 45 workers a submission made that fork, and its exit, a tenth of all the
CPU a batch spends beside its graders.

A uid's cleanup also removes what outlives processes: the SysV shared memory segments,
message queues and semaphore sets it owns (in the host's IPC namespace, where a worker
had none of its own) and the keys in its user keyrings. Otherwise a later worker of that
uid, any student's, could read them.

The helper is also the guardian of the warm parent's uids: when the warm parent dies
(its end of the socket closes), the helper cleans every uid that was left marked dirty
(``sweep_abandoned_uids``) before it exits, so nothing a worker started outlives a
killed grader.

Only the standard library is imported here: ``warm_parent_start`` starts the helper
before numpy is imported, so it stays a few MB.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import socket
import struct
import tempfile

from autograder.sandbox.libc import libc as _c

REPLY_TIMEOUT = 10.0  # seconds; a helper that does not answer is killed and replaced


class UidKiller:
    """A small helper process that kills every process of a uid.

    Create it before numpy or torch is imported (see the module's docstring).
    ``kill_uid`` returns whether the helper confirmed the kill; a helper that
    died or stopped answering is replaced, so the next call works again.
    """

    def __init__(self, lock_dir: str | None = None) -> None:
        """``lock_dir``: the uid pool's lock folder, swept when the warm parent dies."""
        self.lock_dir = lock_dir
        self._start()

    def _start(self) -> None:
        self.sock, theirs = socket.socketpair()
        self.pid = os.fork()
        if self.pid == 0:
            fd = theirs.fileno()
            os.closerange(3, fd)
            os.closerange(fd + 1, 65536)
            _killer_loop(theirs, self.lock_dir)
        theirs.close()
        self.sock.settimeout(REPLY_TIMEOUT)

    def kill_uid(self, uid: int) -> bool:
        """Kill every process of ``uid``. False when the helper failed (the uid may still
        have processes: treat it as dirty)."""
        try:
            self.sock.sendall(struct.pack("<I", uid))
            if self.sock.recv(1) == b"k":
                return True
        except OSError:  # includes the timeout
            pass
        self._replace()
        return False

    def _replace(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.sock.close()
        self._start()

    def close(self) -> None:
        self.sock.close()
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _killer_loop(sock: socket.socket, lock_dir: str | None) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # outlive the warm parent long enough to sweep
    try:
        while True:
            try:
                data = sock.recv(4)
            except OSError:
                data = b""
            if len(data) < 4:
                break
            (uid,) = struct.unpack("<I", data)
            _kill_all_of_uid(uid)
            sock.sendall(b"k")
        if lock_dir is not None:  # the warm parent is gone: clean what it left
            sweep_abandoned_uids(lock_dir, _kill_all_of_uid)
    finally:
        os._exit(0)


def uid_lock_dir() -> str:
    """The private folder of the per-worker uids' lock files (``/run/dlgrade-uids``)."""
    for base in ("/run", tempfile.gettempdir()):
        path = os.path.join(base, "dlgrade-uids")
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
        except OSError:
            continue
        st = os.lstat(path)
        if st.st_uid == os.getuid() and not os.path.islink(path):
            return path
    raise RuntimeError("no private folder for worker uid locks")


def sweep_abandoned_uids(lock_dir: str, kill) -> list[int]:
    """Clean every uid whose lock file says dirty and that no live warm parent holds.

    A warm parent holds each of its uids' lock (``flock``) while a worker may use it and
    marks it clean once it killed the uid's processes; the kernel drops the lock of a
    warm parent that died. ``kill(uid)`` is called for each abandoned uid (then marked
    clean). Returns the uids cleaned.
    """
    cleaned = []
    try:
        names = [n for n in os.listdir(lock_dir) if n.isdigit()]
    except OSError:
        return cleaned
    for name in names:
        try:
            fd = os.open(os.path.join(lock_dir, name), os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.pread(fd, 1, 0) == b"d":
                kill(int(name))
                os.pwrite(fd, b"c", 0)
                cleaned.append(int(name))
        except OSError:
            pass  # held by a live warm parent: its own business
        finally:
            os.close(fd)
    return cleaned


def _kill_all_of_uid(uid: int) -> None:
    """kill(-1) as ``uid`` (real and effective), then back to root (kept as the saved uid).

    If taking root back fails, this process must not go on: it exits, and the
    warm parent replaces it.
    """
    os.setresuid(uid, uid, 0)
    try:
        for _ in range(3):  # processes forked while the first sweep ran
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                break
        _clear_keyrings()
    finally:
        try:
            os.setresuid(0, 0, 0)
        except OSError:
            os._exit(1)
    remove_ipc_objects_of(uid)


# keyctl(2) and the SysV *ctl calls, by ctypes (no binding in the standard library)
_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}
KEYCTL_GET_KEYRING_ID, KEYCTL_CLEAR = 0, 7
KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -4, -5
IPC_RMID = 0


def _clear_keyrings() -> None:
    """Empty the calling uid's user keyrings (they outlive its processes)."""
    number = _SYS_KEYCTL.get(os.uname().machine)
    if number is None:
        return
    for spec in (KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING):
        keyring = _c().syscall(ctypes.c_long(number), ctypes.c_long(KEYCTL_GET_KEYRING_ID),
                               ctypes.c_long(spec), ctypes.c_long(0))
        if keyring > 0:
            _c().syscall(ctypes.c_long(number), ctypes.c_long(KEYCTL_CLEAR),
                         ctypes.c_long(keyring))


def ipc_objects_of(uid: int) -> dict[str, list[int]]:
    """The SysV IPC objects (``shm``, ``msg``, ``sem`` ids) that ``uid`` owns or created, in
    this process's IPC namespace, read from /proc/sysvipc."""
    found: dict[str, list[int]] = {}
    for kind, id_column in (("shm", "shmid"), ("msg", "msqid"), ("sem", "semid")):
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                header, *rows = fh.read().splitlines()
        except OSError:
            continue
        columns = header.split()
        at = {name: columns.index(name) for name in (id_column, "uid", "cuid") if name in columns}
        if len(at) < 3:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) == len(columns) and uid in (int(fields[at["uid"]]),
                                                       int(fields[at["cuid"]])):
                found.setdefault(kind, []).append(int(fields[at[id_column]]))
    return found


def remove_ipc_objects_of(uid: int) -> int:
    """Remove ``uid``'s SysV IPC objects (as root). Returns how many were removed."""
    removed = 0
    for kind, ids in ipc_objects_of(uid).items():
        for ipc_id in ids:
            if kind == "shm":
                result = _c().shmctl(ipc_id, IPC_RMID, None)
            elif kind == "msg":
                result = _c().msgctl(ipc_id, IPC_RMID, None)
            else:
                result = _c().semctl(ipc_id, 0, IPC_RMID)
            removed += result == 0
    return removed
