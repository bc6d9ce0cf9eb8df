"""Worker backends: how a grading process gets sandboxed workers, behind one interface.

Two implementations:

- ``fork`` (``fork_backend.WarmParent``, Linux): a warm parent with numpy/torch loaded forks
  a fresh worker per test in milliseconds, confined with every protection the machine
  allows (namespaces, Landlock, a per-worker uid, rlimits).
- ``spawn`` (``spawn_backend.SpawnBackend``, every OS): workers are started fresh (no fork,
  no SOCK_SEQPACKET, no ``fcntl``/``resource``), speak the same codec over a socket, and are
  killed with their whole process tree. Chosen automatically where fork or SEQPACKET is
  missing (macOS, Windows), and forced anywhere with ``DLGRADE_WORKER=spawn``.

Graders never see the difference: both hand out ``client.Connection`` objects that serve
the same ``Submission`` proxy and autograd probe.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Protocol

from autograder.errors import UsageError

if TYPE_CHECKING:
    from autograder.sandbox.client import WorkerConnection
    from autograder.sandbox.limits import WorkerSpec

KINDS = ("fork", "spawn")
ENV_VAR = "DLGRADE_WORKER"


class WorkerBackend(Protocol):
    """What ``SubmissionSandbox`` needs from a backend."""

    kind: str  # one of KINDS

    def spawn(self, spec: WorkerSpec, max_output: int = 64 * 1024) -> WorkerConnection:
        """A new, confined worker for one test."""

    def reap(self, pid: int) -> str:
        """Kill worker ``pid`` and everything it started; say how it ended."""

    def release(self, pid: int) -> None:
        """Kill worker ``pid`` and everything it started, without waiting for its status."""

    def protections(self) -> list[str]:
        """The names (``protections.py``) of the protections its workers run under."""

    def notes(self) -> list[str]:
        """Why protections were given up on this machine (one line each)."""

    def alive(self) -> bool:
        """False once the backend's helper processes have died (start a new one)."""

    def close(self) -> None:
        """Stop every worker and whatever helper processes the backend runs."""


def fork_supported() -> bool:
    """Whether this platform can run the fork backend (Linux: fork and SOCK_SEQPACKET)."""
    return (sys.platform.startswith("linux") and hasattr(os, "fork")
            and hasattr(socket, "SOCK_SEQPACKET") and hasattr(socket, "send_fds"))


def choose_kind(requested: str | None = None) -> str:
    """``requested``, else ``$DLGRADE_WORKER``, else ``fork`` where supported, else ``spawn``."""
    kind = requested or os.environ.get(ENV_VAR) or ("fork" if fork_supported() else "spawn")
    if kind not in KINDS:
        raise UsageError(f"unknown worker backend {kind!r} (choose one of: {', '.join(KINDS)}; "
                         f"from {'--worker' if requested else '$' + ENV_VAR})")
    if kind == "fork" and not fork_supported():
        raise UsageError("the fork worker needs Linux (fork and SOCK_SEQPACKET); "
                         "use the spawn worker here")
    return kind


def start_backend(with_torch: bool = True, kind: str | None = None) -> WorkerBackend:
    """Start a backend of ``choose_kind(kind)``; ``with_torch=False`` preloads numpy only."""
    if choose_kind(kind) == "fork":
        from autograder.sandbox.fork_backend import WarmParent

        return WarmParent(with_torch)
    from autograder.sandbox.spawn_backend import SpawnBackend

    return SpawnBackend(with_torch)
