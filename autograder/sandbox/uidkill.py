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

Only the standard library is imported here: ``zygote_start`` starts the helper
before numpy is imported, so it stays a few MB.
"""

from __future__ import annotations

import os
import signal
import socket
import struct

REPLY_TIMEOUT = 10.0  # seconds; a helper that does not answer is killed and replaced


class UidKiller:
    """A small helper process that kills every process of a uid.

    Create it before numpy or torch is imported (see the module's docstring).
    ``kill_uid`` returns whether the helper confirmed the kill; a helper that
    died or stopped answering is replaced, so the next call works again.
    """

    def __init__(self) -> None:
        self._start()

    def _start(self) -> None:
        self.sock, theirs = socket.socketpair()
        self.pid = os.fork()
        if self.pid == 0:
            fd = theirs.fileno()
            os.closerange(3, fd)
            os.closerange(fd + 1, 65536)
            _killer_loop(theirs)
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


def _killer_loop(sock: socket.socket) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        while True:
            data = sock.recv(4)
            if len(data) < 4:
                break
            (uid,) = struct.unpack("<I", data)
            _kill_all_of_uid(uid)
            sock.sendall(b"k")
    finally:
        os._exit(0)


def _kill_all_of_uid(uid: int) -> None:
    """kill(-1) as ``uid`` (real and effective), then back to root (kept as the saved uid).

    If taking root back fails, this process must not go on: it exits, and the
    zygote replaces it.
    """
    os.setresuid(uid, uid, 0)
    try:
        for _ in range(3):  # processes forked while the first sweep ran
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                break
    finally:
        try:
            os.setresuid(0, 0, 0)
        except OSError:
            os._exit(1)
