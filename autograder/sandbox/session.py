"""Workers for one submission, and the ``Submission`` proxy graders see.

Each test gets a **fresh worker** forked from the warm parent, so nothing a
test (or the submission) does can leak into the next test: module state,
monkeypatches, open files, leftover processes all die with the worker.
Forking costs a few milliseconds; importing the student's small modules again
costs about as much.

Before the first test, ``probe_modules`` imports every module once. A module
that is missing, has a syntax error, or hangs/crashes at import is recorded,
and every later test that touches it fails at once with that reason, instead
of waiting out a timeout per test.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from autograder.config import Assignment
from autograder.errors import (
    ModuleUnavailable,
    StudentException,
    SubmissionError,
    WorkerCrashed,
    WorkerTimeout,
)
from autograder.sandbox import protections as P
from autograder.sandbox.backend import WorkerBackend
from autograder.sandbox.client import Connection, Handle, LocalConnection
from autograder.sandbox.limits import WorkerSpec, closed_to_others
from autograder.sandbox.seeding import seed_everything

ISOLATION_MODES = ("process", "none")


class SubmissionSandbox:
    """Starts workers for one prepared submission.

    Args:
        assignment: the assignment (modules, limits, banned APIs).
        directory: the scratch copy of the submission.
        isolation: ``"process"`` (sandboxed workers) or ``"none"`` (in this process).
        parent: the worker backend (required for ``"process"``).
        problems: modules already known to be unusable (missing, not UTF-8).
    """

    def __init__(self, assignment: Assignment, directory: Path, isolation: str = "process",
                 parent: WorkerBackend | None = None, problems: dict[str, str] | None = None):
        if isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}")
        if isolation == "process" and parent is None:
            raise ValueError("process isolation needs a warm parent")
        self.assignment = assignment
        self.directory = Path(directory)
        self.isolation = isolation
        self.parent = parent
        self.module_problems: dict[str, str] = dict(problems or {})

    def connect(self, seed: int) -> Connection:
        """A new connection with a fresh worker (or the in-process dispatcher)."""
        limits = self.assignment.limits
        if self.isolation == "none":
            seed_everything(seed)
            return LocalConnection(str(self.directory), list(self.assignment.modules))
        spec = WorkerSpec(
            submission_dir=str(self.directory),
            modules=list(self.assignment.modules),
            seed=seed,
            banned=list(self.assignment.banned),
            banned_per_file={f: list(n) for f, n in self.assignment.banned_per_file},
            cpu_seconds=int(limits.cpu_seconds),
            memory_mb=int(limits.memory_mb),
            max_processes=int(limits.max_processes),
            max_file_mb=int(limits.max_file_mb),
            max_open_files=int(limits.max_open_files),
            max_disk_mb=int(limits.max_disk_mb),
            hide_paths=[str(p) for p in self.assignment.hide_from_worker],
        )
        conn = self.parent.spawn(spec, max_output=int(limits.max_output_kb) * 1024)
        conn.call_timeout = limits.call_timeout
        return conn

    def probe_modules(self, deadline: float | None = None) -> dict[str, str]:
        """Import every module once; record the ones that cannot be imported.

        ``deadline`` (``time.monotonic()``): the whole run's budget ends then, so no import
        may take longer than what is left of it.
        """
        conn: Connection | None = None
        try:
            for name in self.assignment.module_names:
                if name in self.module_problems:
                    continue
                if conn is None:
                    conn = self.connect(seed=0)
                if deadline is not None and self.isolation == "process":
                    conn.test_budget = max(0.0, deadline - time.monotonic())
                try:
                    conn.request({"op": "import", "module": name}, name)
                except StudentException as exc:
                    self.module_problems[name] = exc.reason
                except (WorkerTimeout, WorkerCrashed) as exc:
                    self.module_problems[name] = f"importing {name}.py failed: {exc.reason}"
                    conn.close()
                    conn = None
        finally:
            if conn is not None:
                conn.close()
        return self.module_problems

    def protections(self) -> list[str]:
        """The protections in force for this submission's workers (``protections.py``)."""
        if self.isolation == "none":
            return [P.IN_PROCESS]
        active = self.parent.protections()
        hidden = [str(p) for p in self.assignment.hide_from_worker]
        if P.UNPRIVILEGED_UID in active and hidden and all(map(closed_to_others, hidden)):
            active = P.ordered([*active, P.COURSE_FILES_UNREADABLE])
        return active


class Submission:
    """What a grader's ``submission`` fixture is: the student's modules, run elsewhere.

    ``submission.layers`` is the student's ``layers.py`` as a handle; calls on
    it run in this test's worker. The worker starts on first use.
    """

    def __init__(self, sandbox: SubmissionSandbox, seed: int, test_timeout: float):
        self._sandbox = sandbox
        self._seed = seed
        self._test_timeout = test_timeout
        self._conn: Connection | None = None
        self._modules: dict[str, Handle] = {}

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._sandbox.connect(self._seed)
            if self._sandbox.isolation == "process":
                self._conn.test_budget = self._test_timeout
        return self._conn

    def module(self, name: str) -> Handle:
        """The student's module ``name`` (without ``.py``)."""
        if name in self._modules:
            return self._modules[name]
        if name not in self._sandbox.assignment.module_names:
            raise AttributeError(
                f"{name!r} is not a module of this assignment "
                f"(modules: {', '.join(self._sandbox.assignment.module_names)})")
        problem = self._sandbox.module_problems.get(name)
        if problem:
            raise ModuleUnavailable(problem)
        handle = self.connection.request({"op": "import", "module": name}, name)
        if not isinstance(handle, Handle):
            raise SubmissionError(f"{name}.py could not be loaded")
        self._modules[name] = handle
        return handle

    def __getattr__(self, name: str) -> Handle:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.module(name)

    def autograd_probe(self, target: Handle, inputs: list, grad_output: Any = None,
                       params: list[str] | bool | None = None, method: str | None = None) -> dict:
        """Forward and backward through the submission's torch code, in the worker.

        Args:
            target: a handle to a callable or ``nn.Module`` of the submission.
            inputs: positional inputs; floating tensors get ``requires_grad``.
            grad_output: upstream gradient for the output (``None``: ones).
            params: parameter names whose gradients to return (``True``: all).
            method: call ``target.<method>`` instead of ``target`` itself.

        Returns:
            ``{"output": ..., "input_grads": [...], "param_grads": {name: tensor}}``
        """
        return self.connection.request(
            {"op": "probe", "target": target, "inputs": list(inputs),
             "grad_output": grad_output, "params": params, "method": method},
            f"autograd probe of {target!r}")

    def keep(self, value: Any) -> Handle:
        """``value`` (an array, a tensor, ...) kept in the worker, as a handle: passing the
        handle to the submission passes that very object, and ``handle.value()`` reads it back
        afterwards, so a test can see whether a function modified its input in place::

            dout = submission.keep(upstream)
            submission.layers.relu_backward(dout, cache)
            assert_close(dout.value(), upstream)   # relu_backward left dout alone
        """
        return self.connection.request({"op": "keep", "value": value}, "keep(...)")

    def seed(self, seed: int) -> None:
        """Reseed the worker's Python, numpy and torch generators (it starts seeded with the
        test's ``seed``); ``torch.manual_seed`` in a grader seeds only the grader's process."""
        self.connection.request({"op": "seed", "seed": int(seed)}, "seed")

    def cpu_seconds(self) -> float | None:
        """CPU seconds the submission's worker has used so far in this test (user + system, as
        the kernel counts them, read from outside the worker: the submission cannot forge
        them); ``None`` where the platform does not expose them (macOS, Windows). The
        difference around a call is the call's own work, without the time values spend
        crossing the sandbox::

            before = submission.cpu_seconds()
            submission.knn.pairwise_distances(X, Y)
            used = submission.cpu_seconds() - before
        """
        return self.connection.cpu_seconds()

    @property
    def output(self) -> str:
        """What the submission printed so far in this test (truncated)."""
        return self._conn.output() if self._conn is not None else ""

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
