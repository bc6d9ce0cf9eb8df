"""The trusted side of the sandbox: talking to workers, whichever backend started them.

- ``WorkerConnection`` is one live worker (``fork_backend`` or ``spawn_backend``): framed
  requests over a stream socket, a per-call deadline, the worker's stdout/stderr drained
  into a bounded buffer (``OutputBuffer``).
- ``LocalConnection`` runs the same ``Dispatcher`` in this process for
  ``--isolation none``; values still make a codec round trip.
- ``Handle`` is a proxy for an object that lives in the worker.

Nothing received from a worker is ever unpickled: replies go through
``codec.decode`` only.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from autograder.errors import StudentException, SubmissionError, WorkerCrashed, WorkerTimeout
from autograder.sandbox import codec, protocol
from autograder.sandbox.limits import CONFINEMENT_FAILED
from autograder.sandbox.worker import Dispatcher

if TYPE_CHECKING:
    from autograder.sandbox.backend import WorkerBackend

# What a worker may send back in one reply.
REPLY_LIMITS = codec.CodecLimits(max_depth=100, max_items=1_000_000, max_str_bytes=16 * 2**20,
                                 max_array_bytes=1 * 2**30)


class Handle:
    """A proxy for an object that stays in the worker.

    Attribute access, calls, item access, ``len`` and iteration run in the
    worker; the results come back by value, or as new handles.
    """

    __slots__ = ("_conn", "_id", "_label")

    def __init__(self, conn: Connection, hid: int, label: str):
        object.__setattr__(self, "_conn", conn)
        object.__setattr__(self, "_id", hid)
        object.__setattr__(self, "_label", label)

    def _req(self, op: str, label: str, **fields) -> Any:
        return self._conn.request({"op": op, "target": self, **fields}, label)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._req("getattr", f"{self._label}.{name}", name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._req("setattr", f"{self._label}.{name}", name=name, value=value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._req("call", f"{self._label}(...)", args=list(args), kwargs=kwargs)

    def __getitem__(self, key: Any) -> Any:
        return self._req("getitem", f"{self._label}[{key!r}]", key=key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._req("setitem", f"{self._label}[{key!r}]", key=key, value=value)

    def __len__(self) -> int:
        n = self._req("len", f"len({self._label})")
        if type(n) is not int or n < 0:
            raise SubmissionError(f"len({self._label}) did not return a non-negative int")
        return n

    def __iter__(self):
        items = self._req("list", f"list({self._label})")
        if type(items) is not list:
            raise SubmissionError(f"{self._label} could not be iterated")
        return iter(items)

    def value(self) -> Any:
        """The object itself, by value (for an array or tensor: a copy, taken now)."""
        return self._req("value", f"value of {self._label}")

    def remote_type(self) -> str:
        """The qualified type name of the object, e.g. ``"mlp.MLP"``."""
        return self._req("isinstance_of", f"type({self._label})")

    def __repr__(self) -> str:
        return f"<handle {self._label}>"

    def __bool__(self) -> bool:
        return True


class Connection:
    """A channel to one submission namespace (a worker, or this process)."""

    call_timeout: float | None = None
    test_budget: float | None = None  # seconds the test's calls may still use, all together

    def request(self, message: dict, label: str) -> Any:
        raise NotImplementedError

    def output(self) -> str:
        return ""

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system, in seconds) the submission's process has used so far,
        as the kernel counts it; ``None`` where it cannot be read."""
        return None

    def close(self) -> None:
        pass

    def _encode_handle(self, obj: Any) -> int:
        if isinstance(obj, Handle):
            if obj._conn is not self:
                raise SubmissionError("a handle from another test's worker cannot be used here")
            return obj._id
        raise codec.CodecError(
            f"a value of type {type(obj).__module__}.{type(obj).__qualname__} cannot be sent"
        )

    def _unwrap(self, reply: Any, label: str) -> Any:
        if type(reply) is dict and "ok" in reply:
            return reply["ok"]
        if type(reply) is dict and type(reply.get("error")) is dict:
            err = reply["error"]
            kind = str(err.get("kind", "student"))
            message = str(err.get("message", ""))
            trace = str(err.get("traceback", ""))
            if kind == "platform":
                raise RuntimeError(f"sandbox error in {label}: {message}")
            if kind == "not_implemented":
                message = f"not implemented yet: {message}"
            elif kind == "codec":
                message = f"{label}: {message}"
            raise StudentException(kind, message.splitlines()[0] if message else kind, trace)
        raise WorkerCrashed(f"the worker sent a malformed reply to {label}")


class OutputBuffer:
    """A worker's stdout/stderr: a pipe drained by a thread into a bounded buffer.

    A reused worker (``spawn_backend``) keeps one for its life and ``restart`` gives
    each test an empty buffer. Portable: it waits on the pipe with ``poll`` where that
    exists, ``select`` elsewhere on POSIX, and ``PeekNamedPipe`` on Windows.
    """

    def __init__(self, fd: int, max_output: int):
        """``fd``: the read end of the pipe (closed here at end of file); ``max_output``: bytes kept."""
        self._fd = fd
        self._pipe = _PipeWaiter(fd)
        self._lock = threading.Lock()  # held while reading and appending, and to close fd
        self._closed = False
        self._max = max_output
        self._data = bytearray()
        self._dropped = 0
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _append(self, chunk: bytes) -> None:
        room = self._max - len(self._data)
        if room > 0:
            self._data += chunk[:room]
        self._dropped += max(0, len(chunk) - max(room, 0))

    def _drain(self) -> None:
        # Wait for data without the lock, then read and append under it, reading only what
        # is pending: whoever holds the lock and sees nothing pending knows every byte so
        # far has been appended.
        try:
            while True:
                self._pipe.wait()
                with self._lock:
                    if not self._pipe.pending():
                        continue  # catch_up read it first
                    chunk = self._pipe.read()
                    if not chunk:
                        break
                    self._append(chunk)
        finally:
            with self._lock:
                self._closed = True
                os.close(self._fd)

    def catch_up(self, timeout: float = 1.0) -> None:
        """Append what is already in the pipe (for up to ``timeout`` seconds of reading).

        The worker flushes its output before it replies, so after a reply the output of
        that call is in the pipe, but the drain thread may not have read it yet.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._closed and time.monotonic() < deadline and self._pipe.pending():
                chunk = self._pipe.read()
                if not chunk:
                    return  # end of file: the drain thread closes the pipe
                self._append(chunk)

    def text(self) -> str:
        """What was kept since the start (or ``restart``), with a note on what was dropped."""
        self.catch_up()
        with self._lock:
            text = self._data.decode("utf-8", "replace")
            dropped = self._dropped
        if dropped:
            text += f"\n[... {dropped} more bytes of output truncated]"
        return text

    def restart(self, max_output: int) -> None:
        """Forget what was kept (a reused worker's next test starts with empty output)."""
        self.catch_up()
        with self._lock:
            self._data = bytearray()
            self._dropped = 0
            self._max = max_output

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the end of file (the worker has died)."""
        self._thread.join(timeout)


class _PipeWaiter:
    """Waits for a pipe's read end to have data (or reach end of file), on any OS.

    ``wait`` is for the drain thread only; ``pending`` and ``read`` are called with the
    buffer's lock held. They use separate ``poll`` objects: one cannot be polled from
    two threads at once.
    """

    def __init__(self, fd: int):
        self.fd = fd
        self.pollers = None
        self.handle = None
        if hasattr(select, "poll"):
            self.pollers = (select.poll(), select.poll())
            for poller in self.pollers:
                poller.register(fd, select.POLLIN)
        elif sys.platform == "win32":
            import msvcrt

            self.handle = msvcrt.get_osfhandle(fd)

    def _peek(self) -> int | None:
        """Windows: bytes waiting in the pipe; ``None`` once the writer has closed it."""
        import _winapi

        try:
            return _winapi.PeekNamedPipe(self.handle, 0)[0]
        except OSError:
            return None

    def wait(self) -> None:
        """Block until a ``read`` would not block."""
        if self.pollers is not None:
            self.pollers[0].poll()
        elif self.handle is None:
            select.select([self.fd], [], [])
        else:
            while self._peek() == 0:  # Windows' anonymous pipes offer nothing to wait on
                time.sleep(0.005)

    def pending(self) -> bool:
        """Whether a ``read`` would return at once (data, or end of file)."""
        if self.pollers is not None:
            return bool(self.pollers[1].poll(0))
        if self.handle is None:
            return bool(select.select([self.fd], [], [], 0)[0])
        return self._peek() != 0

    def read(self) -> bytes:
        """Up to 64 KiB once ``pending``; ``b""`` at end of file."""
        size = 65536
        if self.handle is not None:
            waiting = self._peek()
            if not waiting:
                return b""
            size = min(size, waiting)
        try:
            return os.read(self.fd, size)
        except OSError:
            return b""


class WorkerConnection(Connection):
    """A live sandboxed worker process."""

    def __init__(self, parent: WorkerBackend, pid: int, sock: socket.socket,
                 out: int | OutputBuffer, max_output: int, keep_channel: bool = False,
                 max_reply_bytes: int = protocol.MAX_MESSAGE_BYTES):
        """``out``: the read end of the worker's output pipe, or an ``OutputBuffer`` the
        backend keeps. ``keep_channel``: ``close`` leaves ``sock`` open for the backend to
        reuse (it closes it in ``release``); a killed worker's channel is always closed.
        ``max_reply_bytes``: the largest reply accepted (the worker's memory limit: it
        cannot have built a bigger one honestly)."""
        self.parent = parent
        self.pid = pid
        self.sock = sock
        self.receiver = protocol.Receiver(sock, REPLY_LIMITS,
                                          min(max_reply_bytes, protocol.MAX_MESSAGE_BYTES))
        self.dead_reason: str | None = None
        self._out = out if isinstance(out, OutputBuffer) else OutputBuffer(out, max_output)
        self._keep_channel = keep_channel

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.pid) if self.pid > 0 else None

    def output(self) -> str:
        return self._out.text()

    def request(self, message: dict, label: str) -> Any:
        if self.dead_reason:
            raise WorkerCrashed(f"{label}: {self.dead_reason}")
        if self._unsolicited_data():
            self._kill("it sent data nobody asked for")
            raise WorkerCrashed(f"{label}: the submission's process wrote to the grader's channel "
                                "on its own (a forged reply?)")
        now = time.monotonic()
        limits = [t for t in (self.call_timeout, self.test_budget) if t is not None]
        allowed = min(limits) if limits else None
        by_test = self.test_budget is not None and allowed == self.test_budget and (
            self.call_timeout is None or self.test_budget < self.call_timeout)
        deadline = None if allowed is None else now + allowed
        sent = False
        try:
            # A worker that stops reading must not hold the grader past the call's deadline.
            protocol.send_message(self.sock, message, on_unknown=self._encode_handle,
                                  deadline=deadline)
            sent = True
            reply = self.receiver.receive(deadline, lambda hid: Handle(self, hid, label))
        except protocol.ChannelTimeout:
            self._kill(f"stopped after the previous call timed out ({label})")
            if not sent:
                raise WorkerTimeout(f"{label} timed out after {allowed:.1f} s: the submission's "
                                    "process stopped reading the grader's requests") from None
            if by_test:
                raise WorkerTimeout(f"{label} timed out: the test's calls ran past their "
                                    f"total time limit ({allowed:.1f} s were left)") from None
            raise WorkerTimeout(f"{label} timed out after {allowed:.1f} s") from None
        except (protocol.ChannelClosed, ConnectionError):  # ConnectionAbortedError on Windows
            status = self._kill("the worker had already died")
            raise WorkerCrashed(f"{label}: the submission's process died ({status})",
                                self._output_tail()) from None
        except codec.CodecError as exc:
            if "cannot be sent" in str(exc):
                raise  # the grader tried to send something unsendable: a grader bug
            self._kill("stopped after a malformed reply")
            raise WorkerCrashed(f"{label}: the worker's reply was rejected ({exc})") from None
        finally:
            if self.test_budget is not None:
                self.test_budget = max(0.0, self.test_budget - (time.monotonic() - now))
        return self._unwrap(reply, label)

    def _unsolicited_data(self) -> bool:
        """True if bytes arrived that no request asked for: the protocol is strictly
        request/reply, so anything pending now would desynchronise later replies."""
        try:
            # the channel is non-blocking (``protocol.Receiver``): no MSG_DONTWAIT needed,
            # which Windows lacks
            return bool(self.sock.recv(1, socket.MSG_PEEK))
        except BlockingIOError:
            return False
        except OSError:
            return False

    def _output_tail(self) -> str:
        self._out.join(timeout=1.0)
        out = self.output().strip()
        return out[-2000:] if out else ""

    def _kill(self, reason: str) -> str:
        if self.dead_reason is None:
            self.dead_reason = reason
        try:
            self.sock.close()
        except OSError:
            pass
        status = self.parent.reap(self.pid)
        self.pid = -1
        return status

    def close(self) -> None:
        """Stop the worker and everything it started (its exit status is not needed)."""
        if self.pid > 0:
            self.dead_reason = self.dead_reason or "closed"
            if not self._keep_channel:
                try:
                    self.sock.close()
                except OSError:
                    pass
            self.parent.release(self.pid)
            self.pid = -1
        # The drain thread ends by itself when the worker's exit closes the pipe;
        # waiting for that would add the kernel's address-space teardown to every test.


def describe_exit(status: dict) -> str:
    """A one-line reason for how a worker ended, e.g. "killed by SIGSEGV"."""
    sig = status.get("signal")
    code = status.get("exitcode")
    if status.get("out_of_memory"):
        return ("killed: over the memory limit (the worker and every process it started, "
                "together)")
    if sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = {
            "SIGKILL": "killed: over the memory or process limit, or stopped by the grader",
            "SIGXCPU": "over the CPU-time limit",
            "SIGSEGV": "segmentation fault",
        }.get(name, "")
        return f"killed by {name}" + (f": {hint}" if hint else "")
    if code is None:
        return "exit status unknown"
    if code == CONFINEMENT_FAILED:
        return (f"exit code {code}: the sandbox could not confine the worker on this machine "
                "(a platform problem, not the submission's)")
    return f"exit code {code}"


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` and of its children it has waited for, read
    from ``/proc/PID/stat`` by this (trusted) process, so the process itself cannot forge them;
    ``None`` where there is no such file (macOS, Windows, a process already reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # fields after the command, which is in parentheses and may hold spaces or ')':
    # state(3) ... utime(14) stime(15) cutime(16) cstime(17), counted from 1
    fields = stat[stat.rindex(b")") + 2:].split()
    ticks = sum(int(field) for field in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


class LocalConnection(Connection):
    """``--isolation none``: the submission runs in this process, for debugging.

    The same ``Dispatcher`` answers requests, and every value is encoded and
    decoded exactly as it would be across the process boundary.
    """

    def __init__(self, submission_dir: str, modules: list[str]):
        self.dispatcher = Dispatcher(submission_dir, modules)
        # Each test starts from fresh modules. Their files lie under the folder as given or as
        # resolved; comparing strings, not resolving the path of every module loaded (torch's
        # thousands among them), keeps this cheap before every test.
        folders = tuple({os.path.join(str(submission_dir), ""),
                         os.path.join(str(self.dispatcher.root), "")})
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if isinstance(file, str) and file.startswith(folders):
                del sys.modules[name]
        if submission_dir not in sys.path:
            sys.path.insert(0, submission_dir)

    def cpu_seconds(self) -> float | None:
        return time.process_time()  # this process: the graders' time counts too

    def request(self, message: dict, label: str) -> Any:
        wire = b"".join(bytes(c) for c in codec.encode(message, self._encode_handle))
        decoded = codec.decode(bytearray(wire), self.dispatcher.lookup)
        reply = self.dispatcher.handle_request(decoded)
        try:
            wire = b"".join(bytes(c) for c in codec.encode(reply, self.dispatcher.store))
        except codec.CodecError as exc:
            reply = Dispatcher._error("codec", f"the result cannot be returned: {exc}")
            wire = b"".join(bytes(c) for c in codec.encode(reply))
        reply = codec.decode(bytearray(wire), lambda hid: Handle(self, hid, label), REPLY_LIMITS)
        return self._unwrap(reply, label)
