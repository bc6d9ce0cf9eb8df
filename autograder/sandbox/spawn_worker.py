"""The spawn backend's worker: ``python -m autograder.sandbox.spawn_worker numpy|torch|bare``.

Started fresh by ``spawn_backend.SpawnBackend`` (no fork), with a scrubbed environment and
the filesystem root as its working folder. Its stdin carries one line, ``PORT TOKEN``: it
connects to ``127.0.0.1:PORT`` and presents the token (a one-time secret that only its
stdin saw), then imports numpy (``torch``: and torch; ``bare``: nothing, for the backend's
trial) while it waits to be given a submission. Messages, framed by ``protocol`` and
encoded by the codec, in order:

- worker -> backend: ``{"token": str}``
- backend -> worker: ``{"spec": WorkerSpec.to_wire(), "plan": [protection names] | None,
  "reuse": bool}`` (plan ``None``: a trial; confine with whatever works here and report
  it. ``reuse``: the worker will serve every test of the submission, so its CPU-time
  limit is counted per test, from each ``reset``)
- worker -> backend: ``{"ready": [protections in force]}``; a plan that cannot be applied
  ends the worker with ``limits.CONFINEMENT_FAILED`` instead
- then ``worker.serve``: the grader's requests, answered by ``WorkerDispatcher``, whose
  ``reset`` op prepares a reused worker for the next test of the same submission.

Nothing here needs ``fcntl``, ``resource``, ``pwd``, ``grp``, ``termios``, fork or
SOCK_SEQPACKET: it runs on Windows and macOS as on Linux.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import socket
import sys
import traceback
import warnings

from autograder.sandbox import banned, limits, protocol, worker
from autograder.sandbox import protections as P
from autograder.sandbox.environment import enter_scratch, warm_torch
from autograder.sandbox.seeding import seed_everything

REUSED_CPU_TESTS = 100  # a reused worker's hard CPU limit: this many tests' worth
PRELOAD = {
    "bare": [],
    "numpy": ["numpy", "numpy.linalg", "numpy.random"],
    "torch": ["numpy", "numpy.linalg", "numpy.random", "torch", "torch.nn",
              "torch.nn.functional", "torch.optim", "torch.utils.data",
              "autograder.sandbox.probe"],
}


def read_invitation() -> tuple[int, str]:
    """``(port, token)`` from the first line of stdin; stdin then reads from the null device."""
    line = sys.stdin.buffer.readline().decode("ascii").split()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    if len(line) != 2 or not line[0].isdigit():
        raise SystemExit("spawn_worker: no invitation on stdin")
    return int(line[0]), line[1]


def preload(kind: str) -> None:
    """Import what every worker of this kind needs, before a submission is assigned."""
    for name in PRELOAD[kind]:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    if kind == "torch":
        warm_torch()


class WorkerDispatcher(worker.Dispatcher):
    """A ``Dispatcher`` that a reused worker resets between the tests of one submission.

    ``reset`` forgets the student's modules and objects and restores what a test commonly
    changes: working folder, environment, ``sys.path``, standard streams, warning filters,
    numpy's error handling, torch's default dtype and grad mode, then reseeds. It cannot
    undo everything (a monkeypatched library, a thread left running): that is why a
    reused worker does not count as a fresh worker per test.
    """

    def __init__(self, submission_dir: str, module_files: list[str],
                 cpu_seconds: int | None = None):
        """``cpu_seconds``: each test's CPU-time limit, set anew at every reset (``None``:
        no CPU limit here)."""
        super().__init__(submission_dir, module_files)
        self._cpu_seconds = cpu_seconds
        self._folders = tuple({os.path.join(submission_dir, ""), os.path.join(str(self.root), "")})
        self._cwd = os.getcwd()
        self._environ = dict(os.environ)
        self._path = list(sys.path)
        self._warnings = list(warnings.filters)
        np = sys.modules.get("numpy")
        self._numpy_errors = np.geterr() if np is not None else None

    def op_reset(self, request: dict) -> None:
        self.handles.clear()
        self.modules.clear()
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if isinstance(file, str) and file.startswith(self._folders):
                del sys.modules[name]
        os.chdir(self._cwd)
        os.environ.clear()
        os.environ.update(self._environ)
        sys.path[:] = self._path
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        warnings.filters[:] = self._warnings
        np = sys.modules.get("numpy")
        if np is not None and self._numpy_errors is not None:
            np.seterr(**self._numpy_errors)
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_default_dtype(torch.float32)
            torch.set_grad_enabled(True)
        _collect_children()
        if self._cpu_seconds is not None:
            limit_cpu_from_now(self._cpu_seconds)
        seed_everything(int(request["seed"]))


def limit_cpu_from_now(seconds: int) -> None:
    """Let this process use ``seconds`` more of CPU time (the soft RLIMIT_CPU: SIGXCPU), up to
    the hard limit that confinement set. For a reused worker: each test's own budget."""
    import resource  # only called where rlimits are in force, so the module exists

    usage = resource.getrusage(resource.RUSAGE_SELF)
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime) + 1 + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _collect_children() -> None:
    """Reap children the backend killed after the last test (zombies count as processes)."""
    if not hasattr(os, "waitpid") or sys.platform == "win32":
        return
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _fail(code: int) -> None:
    try:
        sys.stderr.write(traceback.format_exc()[-4000:])
        sys.stderr.flush()
    finally:
        os._exit(code)


def start(sock: socket.socket) -> WorkerDispatcher:
    """Wait for the submission, confine, enter its scratch folder, and report ready."""
    order = protocol.Receiver(sock, deadlines=False).receive()
    spec = limits.WorkerSpec.from_wire(order["spec"])
    plan = None if order["plan"] is None else frozenset(order["plan"])
    per_test_cpu = bool(order.get("reuse")) and plan is not None and P.RLIMITS in plan
    confined = (dataclasses.replace(spec, cpu_seconds=spec.cpu_seconds * REUSED_CPU_TESTS)
                if per_test_cpu else spec)
    try:
        active = limits.confine(confined, plan)
    except limits.ConfinementError:
        _fail(limits.CONFINEMENT_FAILED)
    if per_test_cpu:
        limit_cpu_from_now(spec.cpu_seconds)
    enter_scratch(spec.submission_dir)
    seed_everything(spec.seed)
    banned.install(banned.plan(spec.banned, spec.banned_per_file))
    dispatcher = WorkerDispatcher(spec.submission_dir, spec.modules,
                                  spec.cpu_seconds if per_test_cpu else None)
    protocol.send_message(sock, {"ready": active})
    return dispatcher


def main(argv: list[str]) -> None:
    kind = argv[0] if argv and argv[0] in PRELOAD else "numpy"
    port, token = read_invitation()
    limits.become_child_subreaper()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    protocol.send_message(sock, {"token": token})
    preload(kind)
    try:
        dispatcher = start(sock)
    except (protocol.ChannelClosed, ConnectionError):
        return  # a spare the backend never used
    worker.serve(sock, dispatcher)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except SystemExit:
        raise
    except BaseException:
        _fail(70)
