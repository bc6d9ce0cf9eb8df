"""The fork worker backend (Linux): a warm parent that has loaded numpy/torch forks each worker.

``WarmParent`` starts ``python -m autograder.sandbox.warm_parent_start`` once with a scrubbed
environment and asks it, over a SOCK_SEQPACKET control socket, to fork, reap and
release workers. Each worker is a ``client.WorkerConnection``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

from autograder.sandbox import protections as P
from autograder.sandbox.client import WorkerConnection, describe_exit
from autograder.sandbox.control import recv_control, send_control
from autograder.sandbox.environment import worker_environment
from autograder.sandbox.limits import WorkerSpec

#: seconds the warm parent has to answer a control request (it only forks, kills and waits;
#: one that does not answer is stuck: it is killed and replaced) and to start (imports torch)
CONTROL_TIMEOUT = 60.0
START_TIMEOUT = 300.0


class WarmParent:
    """The trusted grader's link to one warm parent process (the fork backend). Thread-safe."""

    kind = "fork"

    def __init__(self, with_torch: bool = True):
        """Start the warm parent; ``with_torch=False`` preloads numpy only, for assignments
        that ban torch: a process without torch mapped forks faster
        (``benchmarks/sandbox_overhead.py`` prints a worker's start from each)."""
        self.with_torch = with_torch
        self.lock = threading.Lock()
        self._start()

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = worker_environment()
        # The kernel's parent-death signal follows the thread that started the child: only
        # a warm parent started from the main thread can safely die with the grader.
        grader = os.getpid() if threading.current_thread() is threading.main_thread() else 0
        args = [sys.executable, "-m", "autograder.sandbox.warm_parent_start", str(theirs.fileno()),
                "torch" if self.with_torch else "notorch", str(grader)]
        self.process = subprocess.Popen(
            args, pass_fds=[theirs.fileno()], env=env, cwd="/",
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        )
        theirs.close()
        self.control = ours
        self._info: dict | None = None

    def _restart_if_dead(self) -> None:
        """A warm parent that died (killed by a worker that kept root: a container where no
        uid of its own could read Python) is replaced before the next worker starts."""
        if self.process.poll() is not None:
            self.control.close()
            self.process.wait()
            self._start()

    def _ask(self, request: dict, fds: list[int] | None = None) -> dict:
        """Send a control request and wait (``CONTROL_TIMEOUT`` at most) for the reply; a warm
        parent that does not answer in time is killed (the next request starts a new one)."""
        self.control.settimeout(CONTROL_TIMEOUT)
        try:
            send_control(self.control, request, fds)
            reply, _ = recv_control(self.control)
        except TimeoutError:
            self.process.kill()
            self.process.wait()  # so that the next request sees it dead and starts another
            raise
        return reply

    def _ready(self) -> dict:
        if self._info is None:
            self.control.settimeout(START_TIMEOUT)
            try:
                self._info, _ = recv_control(self.control)
            except TimeoutError as exc:
                self.process.kill()
                raise RuntimeError(f"the sandbox's warm parent did not start within "
                                   f"{START_TIMEOUT:.0f} s") from exc
            except (EOFError, ConnectionError) as exc:
                raise RuntimeError("the sandbox's warm parent failed to start") from exc
        return self._info

    def alive(self) -> bool:
        return self.process.poll() is None

    def info(self) -> dict:
        """What the warm parent found: ``root``, ``landlock_abi``, ``protections``, ``notes``."""
        with self.lock:
            return dict(self._ready())

    def protections(self) -> list[str]:
        """The protections its workers run under (probed once by the warm parent)."""
        found = self.info()["protections"]
        return P.ordered([P.SEPARATE_PROCESS, P.VALUE_CODEC, P.FRESH_WORKER_PER_TEST, *found])

    def notes(self) -> list[str]:
        """Why protections this machine could offer in principle were given up."""
        return list(self.info()["notes"])

    def spawn(self, spec: WorkerSpec, max_output: int = 64 * 1024) -> WorkerConnection:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        try:
            with self.lock:
                self._restart_if_dead()
                self._ready()
                try:
                    reply = self._ask({"op": "spawn", "spec": spec.to_wire()},
                                      [theirs.fileno(), out_w])
                except OSError as exc:  # it died or hung (and was killed): a platform problem
                    reply = {"error": f"the warm parent did not answer ({exc})"}
        finally:
            theirs.close()
            os.close(out_w)
        if "error" in reply:
            os.close(out_r)
            ours.close()
            raise RuntimeError(f"the sandbox could not start a worker: {reply['error']}")
        return WorkerConnection(self, reply["pid"], ours, out_r, max_output,
                                max_reply_bytes=spec.memory_mb * 2**20)

    def reap(self, pid: int) -> str:
        """Kill worker ``pid`` and everything it started; return how it ended."""
        if pid <= 0:
            return "already stopped"
        with self.lock:
            try:
                return describe_exit(self._ask({"op": "reap", "pid": pid}))
            except (OSError, EOFError):
                return self._orphaned(pid)

    def release(self, pid: int) -> None:
        """Kill worker ``pid`` and everything it started, without waiting for its status."""
        with self.lock:
            try:
                self._ask({"op": "release", "pid": pid})
            except (OSError, EOFError):
                self._orphaned(pid)

    @staticmethod
    def _orphaned(pid: int) -> str:
        """The warm parent is gone: kill what we can of the worker ourselves."""
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        return "the sandbox's warm parent died during the call (exit status unknown)"

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> WarmParent:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
