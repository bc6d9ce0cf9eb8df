"""The worker side: executes requests from the trusted grader against the submission.

``Dispatcher`` holds the submission's objects (a handle table) and answers one
request at a time. It is used in two ways:

- in a sandboxed child process (``serve``), reading framed messages from a socket;
- in-process (``--isolation none``), where the grader calls it directly and
  values still make a codec round trip, so scores agree with isolated mode.

Requests are dicts with an ``op``; replies are ``{"ok": value}`` or
``{"error": {...}}``. Return values that the codec cannot carry are stored in
the handle table and sent as handles.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

from autograder.sandbox import codec, protocol
from autograder.sandbox.banned import BannedAPIError, BannedModuleError


class _Failure(Exception):
    """A request failed for a reason the grader should report as-is."""

    def __init__(self, kind: str, message: str, student_traceback: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.student_traceback = student_traceback


class Dispatcher:
    """Executes grader requests on the submission's modules and objects.

    Args:
        submission_dir: folder holding the student's modules (put first on sys.path).
        module_files: the file names students edit, e.g. ``["layers.py", "mlp.py"]``.
    """

    def __init__(self, submission_dir: str | Path, module_files: list[str]):
        self.root = Path(submission_dir).resolve()
        self.module_files = {Path(f).stem: f for f in module_files}
        self.handles: dict[int, Any] = {}
        self.next_id = 1
        self.modules: dict[str, Any] = {}

    # -- handle table ----------------------------------------------------------------------
    def store(self, obj: Any) -> int:
        hid = self.next_id
        self.next_id += 1
        self.handles[hid] = obj
        return hid

    def lookup(self, hid: int) -> Any:
        try:
            return self.handles[hid]
        except KeyError:
            raise _Failure("platform", f"unknown handle {hid}") from None

    # -- entry point -------------------------------------------------------------------------
    def handle_request(self, request: Any) -> dict:
        """Run one request and build its reply (never raises)."""
        try:
            if not isinstance(request, dict) or not isinstance(request.get("op"), str):
                raise _Failure("platform", "malformed request")
            method = getattr(self, "op_" + request["op"], None)
            if method is None:
                raise _Failure("platform", f"unknown op {request['op']!r}")
            return {"ok": method(request)}
        except _Failure as failure:
            return self._error(failure.kind, failure.message, failure.student_traceback)
        except (BannedAPIError, BannedModuleError) as exc:
            return self._error("banned", str(exc) + self._where(exc), self._trace(exc))
        except NotImplementedError as exc:
            return self._error("not_implemented", str(exc) or "not implemented", self._trace(exc))
        except BaseException as exc:  # the student's exception, including SystemExit
            return self._error(
                "student", f"{type(exc).__name__}: {exc}".rstrip(": "), self._trace(exc)
            )

    @staticmethod
    def _error(kind: str, message: str, trace: str = "") -> dict:
        return {"error": {"kind": kind, "message": message[:4000], "traceback": trace[-8000:]}}

    def _student_frames(self, exc: BaseException) -> list[traceback.FrameSummary]:
        frames = traceback.extract_tb(exc.__traceback__)
        return [f for f in frames if self._is_student_file(f.filename)]

    def _is_student_file(self, filename: str) -> bool:
        try:
            return Path(filename).resolve().is_relative_to(self.root)
        except (OSError, ValueError):
            return False

    def _trace(self, exc: BaseException) -> str:
        """The traceback trimmed to the submission's frames, with paths relative to it."""
        lines = []
        for frame in self._student_frames(exc):
            rel = os.path.relpath(frame.filename, self.root)
            lines.append(f'  File "{rel}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
        if isinstance(exc, SyntaxError) and exc.filename and self._is_student_file(exc.filename):
            rel = os.path.relpath(exc.filename, self.root)
            lines.append(f'  File "{rel}", line {exc.lineno}')
            if exc.text:
                lines.append(f"    {exc.text.rstrip()}")
        if not lines:
            return ""
        return "Traceback (submission frames only):\n" + "\n".join(lines)

    def _where(self, exc: BaseException) -> str:
        frames = self._student_frames(exc)
        if not frames:
            return ""
        last = frames[-1]
        return f" (called in {os.path.relpath(last.filename, self.root)}, line {last.lineno})"

    # -- ops ---------------------------------------------------------------------------------
    def op_ping(self, request: dict) -> str:
        return "pong"

    def op_import(self, request: dict) -> Any:
        name = request["module"]
        if name not in self.module_files:
            raise _Failure("platform", f"{name} is not a module of this assignment")
        if name in self.modules:
            return self.modules[name]
        path = self.root / self.module_files[name]
        if not path.is_file():
            raise _Failure("missing_module", f"{self.module_files[name]} not found in the submission")
        existing = sys.modules.get(name)
        if existing is not None and not self._is_student_file(getattr(existing, "__file__", "") or ""):
            del sys.modules[name]  # a preloaded module with the same name must not shadow the student's
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            del sys.modules[name]
            raise _Failure(
                "syntax", f"SyntaxError in {self.module_files[name]}: {exc.msg} (line {exc.lineno})",
                self._trace(exc),
            ) from None
        except BaseException as exc:
            sys.modules.pop(name, None)
            kind = "banned" if isinstance(exc, (BannedAPIError, BannedModuleError)) else "import"
            raise _Failure(
                kind,
                f"importing {self.module_files[name]} raised {type(exc).__name__}: {exc}",
                self._trace(exc),
            ) from None
        self.modules[name] = module
        return module

    def _getattr(self, target: Any, name: str) -> Any:
        try:
            return getattr(target, name)
        except AttributeError:
            module_name = getattr(target, "__name__", None)
            if module_name in self.modules and self.modules[module_name] is target:
                raise _Failure(
                    "missing_attribute", f"{name} is not defined in {self.module_files[module_name]}"
                ) from None
            raise

    def op_getattr(self, request: dict) -> Any:
        return self._getattr(request["target"], request["name"])

    def op_setattr(self, request: dict) -> None:
        setattr(request["target"], request["name"], request["value"])

    def op_call(self, request: dict) -> Any:
        return request["target"](*request.get("args", ()), **request.get("kwargs", {}))

    def op_getitem(self, request: dict) -> Any:
        return request["target"][request["key"]]

    def op_setitem(self, request: dict) -> None:
        request["target"][request["key"]] = request["value"]

    def op_len(self, request: dict) -> int:
        return len(request["target"])

    def op_list(self, request: dict) -> list:
        return list(request["target"])

    def op_keep(self, request: dict) -> codec.HandleRef:
        """Keep a value in the worker and answer with a handle to it (not a copy), so a grader
        can pass the same object to the submission and read it back afterwards."""
        return codec.HandleRef(self.store(request["value"]))

    def op_value(self, request: dict) -> Any:
        """The target itself, sent back by value where the codec can (arrays, tensors, ...)."""
        return request["target"]

    def op_seed(self, request: dict) -> None:
        """Reseed the worker's random generators (Python, numpy, torch)."""
        from autograder.sandbox.seeding import seed_everything

        seed_everything(int(request["seed"]))

    def op_isinstance_of(self, request: dict) -> str:
        """The qualified type name of the target, e.g. ``"mlp.MLP"``."""
        cls = type(request["target"])
        return f"{cls.__module__}.{cls.__qualname__}"

    def op_probe(self, request: dict) -> dict:
        from autograder.sandbox.probe import autograd_probe

        return autograd_probe(
            request["target"],
            request.get("inputs", []),
            request.get("grad_output"),
            request.get("params"),
            method=request.get("method"),
        )


def serve(sock: socket.socket, dispatcher: Dispatcher) -> None:
    """Answer requests on ``sock`` until the grader closes it.

    Processes the submission forks must never speak on the channel: the
    channel is closed in every child at fork, and a child that unwinds back
    into this loop exits at once.
    """
    pid = os.getpid()
    if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork to guard against
        os.register_at_fork(after_in_child=sock.close)
    receiver = protocol.Receiver(sock, deadlines=False)
    while True:
        try:
            request = receiver.receive(on_handle=dispatcher.lookup)
        except protocol.ChannelClosed:
            return
        except (_Failure, codec.CodecError) as exc:
            reply = Dispatcher._error("platform", f"bad request: {exc}")
        else:
            reply = dispatcher.handle_request(request)
        if os.getpid() != pid:
            os._exit(0)
        _flush_std()
        try:
            try:
                protocol.send_message(sock, reply, on_unknown=dispatcher.store)
            except codec.CodecError as exc:
                protocol.send_message(
                    sock, Dispatcher._error("codec", f"the result cannot be returned: {exc}")
                )
        except protocol.ChannelClosed:  # the grader hung up while we answered
            return


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
