"""Grading one submission: prepare it, run the graders under pytest, collect the result.

The graders run in *this* (trusted) process; the submission runs in workers
forked from a warm parent that this module starts once and reuses.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib.util
import io
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import autograder
from autograder.config import Assignment
from autograder.errors import InternalError, MissingDependency, ProtectionsMissing
from autograder.grader_imports import needs_torch, torch_install_command, uses_torch
from autograder.plugin import GradingPlugin
from autograder.results import VISIBLE, GradeResult, write_json_atomic
from autograder.sandbox import protections
from autograder.sandbox.backend import WorkerBackend, choose_kind, start_backend
from autograder.sandbox.session import SubmissionSandbox
from autograder.secret import assignment_secret, secret_id
from autograder.submission import prepare_submission

#: ``grade_submission(secret=...)``'s default: the course's secret ($DLGRADE_SECRET, else the
#: file beside the assignments), read (never created) when hidden tests run.
COURSE_SECRET: Any = object()


class GraderError(InternalError):
    """The graders themselves are broken (collection error, bad marker): not the student's fault."""


_shared_backends: dict[tuple[bool, str], WorkerBackend] = {}
_shared_lock = threading.Lock()


def shared_backend(with_torch: bool = True, kind: str | None = None) -> WorkerBackend:
    """The process-wide worker backend (with or without torch), started on first use.

    ``kind``: ``fork`` or ``spawn``; by default ``$DLGRADE_WORKER``, else what the platform
    supports (``sandbox/backend.py``)."""
    kind = choose_kind(kind)
    with _shared_lock:
        backend = _shared_backends.get((with_torch, kind))
        if backend is None or not backend.alive():
            backend = _shared_backends[(with_torch, kind)] = start_backend(with_torch, kind)
            atexit.register(backend.close)
        return backend


def ensure_protections(backend: WorkerBackend, required: Sequence[str]) -> None:
    """Stop official grading before any score exists when a required protection is missing.

    Raises:
        ProtectionsMissing: the names of the missing protections, and why they are off.
    """
    missing = protections.missing(required, backend.protections())
    if missing:
        why = "".join(f"\n  - {note}" for note in backend.notes())
        raise ProtectionsMissing(
            f"course.toml requires protections this machine does not give: "
            f"{', '.join(missing)} (in force: {', '.join(backend.protections())}). "
            f"Nothing was graded.{why}")


def ensure_protections_here(required: Sequence[str]) -> None:
    """Refuse a batch before anything is graded when this machine lacks a required protection
    (each grading process checks again; on a cluster, each worker).

    Raises:
        ProtectionsMissing: see :func:`ensure_protections`.
    """
    backend = start_backend(with_torch=False)
    try:
        ensure_protections(backend, required)
    finally:
        backend.close()


@contextlib.contextmanager
def no_plugin_autoload():
    """Run pytest with only the plugins dlgrade names, never whatever else is installed.

    Installed pytest plugins load themselves through entry points (anyio and platformdirs
    come with the interop tools; a student machine may have pytest-randomly, which reorders
    and reseeds tests). A grade must not depend on them, and importing them costs time.
    """
    key = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
    previous = os.environ.get(key)
    os.environ[key] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = previous


@contextlib.contextmanager
def single_threaded_oracles():
    """Run the graders' own numpy/torch work on one thread.

    The graders' oracles are small; extra BLAS/OpenMP threads in the trusted
    process only spin while the worker computes, and steal the core that a
    parallel grading job (or the worker itself) needs.
    """
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")  # imported before pytest runs wherever grading uses it
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(previous)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def pytest_arguments(assignment: Assignment, include_hidden: bool, extra: Sequence[str],
                     tests: Sequence[Path | str] | None = None) -> list[str]:
    """The pytest command line that grading (and test collection for exports) uses.

    ``tests``: test files or node ids to run instead of the public (and hidden) folders.
    """
    tests_root = assignment.root / "tests"
    folders = [assignment.public_tests]
    if include_hidden and assignment.hidden_tests.is_dir():
        folders.append(assignment.hidden_tests)
    if tests is not None:
        folders = list(tests)
    return [
        *[str(f) for f in folders if Path(str(f).split("::")[0]).exists()],
        f"--rootdir={tests_root}", "-c", os.devnull,
        # Only the assignment's own conftest.py files: never one from a folder above it.
        f"--confcutdir={tests_root}",
        "--import-mode=importlib",
        # Plugins a grading run does not need; unraisableexception alone runs two full
        # gc.collect() passes over the torch-sized heap at every session end.
        *[arg for name in ("cacheprovider", "warnings", "unraisableexception",
                           "threadexception", "doctest", "junitxml", "pastebin", "stepwise",
                           "logging", "legacypath")
          for arg in ("-p", f"no:{name}")],
        # Scores and reasons come from the exceptions themselves; pytest's default long
        # tracebacks parse the test files' source for every frame of every failure (a large
        # share of a starter submission's grading work, where every test fails).
        "--tb=native",
        "-q", "--no-header", "-o", "python_files=test_*.py", *extra,
    ]


_TEST_FILE_STATS: dict[str, tuple[int, int]] = {}  # test module file -> (mtime_ns, size) when run


def _file_stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


@contextlib.contextmanager
def fresh_test_modules(tests_root: Path):
    """Make pytest import this assignment's own, current test modules and conftests.

    pytest's importlib mode names a module by its path under the rootdir
    (``tests/hidden/conftest.py`` becomes ``hidden.conftest``) and reuses whatever module of
    that name is already in ``sys.modules``, whichever file it came from. So before a run,
    a module of one of those names that came from elsewhere (another assignment graded
    earlier in this process: a test suite, a notebook's grading server) is forgotten, and so
    is one of this assignment's whose file changed since it ran. Unchanged ones are kept:
    importing them again would cost a fifth of a second per submission in a batch.
    """
    roots = {str(tests_root) + os.sep, str(tests_root.resolve()) + os.sep}
    names: set[str] = set()
    for path in tests_root.rglob("*.py"):
        parts = path.relative_to(tests_root).with_suffix("").parts
        names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))

    def files_of(module) -> list[str]:
        file = getattr(module, "__file__", None)
        return [file] if file else [str(p) for p in getattr(module, "__path__", None) or []]

    def ours(files: list[str]) -> bool:
        return bool(files) and all(any((f + os.sep).startswith(r) for r in roots) for f in files)

    # Only these names can clash: pytest names every module it imports from tests_root by its
    # path (looking at all of sys.modules, torch's thousands included, cost time per submission).
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            continue
        files = files_of(module)
        if not ours(files) or any(_TEST_FILE_STATS.get(f) != _file_stat(f) for f in files
                                  if f.endswith(".py")):
            del sys.modules[name]
    try:
        yield
    finally:
        for name in names:
            files = files_of(sys.modules.get(name))
            if ours(files):
                for f in files:
                    if f.endswith(".py"):
                        _TEST_FILE_STATS[f] = _file_stat(f)


def _cache_assertion_rewrites() -> None:
    """Rewrite each test file's asserts once per process, not once per submission.

    pytest deletes and re-imports a ``conftest.py`` that is not in a package at every
    session, and rewrites its asserts again unless it may cache the result in
    ``__pycache__`` (not under ``PYTHONDONTWRITEBYTECODE``, common in containers, nor in a
    read-only course folder), for every submission. The rewritten code is
    kept here by file and content (an edited file is rewritten again, whatever its
    timestamps say); the module is still executed afresh.
    """
    from _pytest.assertion import rewrite

    original = getattr(rewrite, "_rewrite_test", None)
    if original is None or getattr(original, "dlgrade_cache", None) is not None:
        return
    cache: dict[tuple[str, bytes], tuple] = {}

    def rewrite_test(fn, config):
        try:
            key = (str(fn), hashlib.sha256(Path(fn).read_bytes()).digest())
        except OSError:
            return original(fn, config)
        if key not in cache:
            cache[key] = original(fn, config)
        return cache[key]

    rewrite_test.dlgrade_cache = cache
    rewrite._rewrite_test = rewrite_test


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def grade_submission(
    assignment: Assignment,
    submission: Path | Sequence[Path],
    *,
    include_hidden: bool = True,
    isolation: str = "process",
    parent: WorkerBackend | None = None,
    require: Sequence[str] = (),
    json_path: Path | None = None,
    pytest_args: Sequence[str] = (),
    show_pytest_output: bool = False,
    tests: Sequence[Path | str] | None = None,
    secret: bytes | None = COURSE_SECRET,
) -> GradeResult:
    """Grade a submission (folder, .zip, or .py files) against an assignment's tests.

    Args:
        include_hidden: run the hidden tests too (instructors); ``False`` for ``check``.
        isolation: ``"process"`` (sandboxed workers) or ``"none"`` (debugging).
        parent: a worker backend to reuse; the shared one by default.
        require: protections official grading must have (``ProtectionsMissing`` otherwise).
        json_path: also write the results JSON there, atomically.
        tests: run these test files (under the assignment's ``tests/``) instead of
            the public (and hidden) folders.
        secret: the key hidden tests' inputs are derived from, per submission
            (``autograder.secret``); by default the course's; ``None``: fixed per-test seeds.

    Raises:
        SubmissionRejected: the archive or folder was refused before grading.
        MissingDependency: the tests need torch and it is not installed.
        ProtectionsMissing: ``require`` names a protection this machine does not give.
        GraderError: the graders could not be collected or run.
    """
    started_at, t0, run_start = _now(), time.perf_counter(), time.monotonic()
    if needs_torch(assignment, include_hidden) and not _installed("torch"):
        raise MissingDependency(
            f"{assignment.id}'s tests need torch, which is not installed here. Install its "
            f"CPU build (about 200 MB): {torch_install_command()}")
    if secret is COURSE_SECRET:
        secret = assignment_secret(assignment) if include_hidden else None
    prepared = prepare_submission(submission, assignment.modules)
    try:
        if isolation == "process" and parent is None:
            parent = shared_backend(assignment.students_use_torch)
        if isolation == "process" and require:
            ensure_protections(parent, require)
        sandbox = SubmissionSandbox(assignment, prepared.directory, isolation, parent,
                                    prepared.problems)
        # The whole run's budget bounds sandboxed grading; in-process debugging has no limits.
        budget = assignment.limits.run_budget if isolation == "process" else None
        sandbox.probe_modules(deadline=None if budget is None else run_start + budget)
        plugin = GradingPlugin(sandbox, assignment.root / "tests", assignment.limits.test_timeout,
                               run_budget=budget, started=run_start, secret=secret,
                               submission_sha256=prepared.sha256)
        args = pytest_arguments(assignment, include_hidden, pytest_args, tests)
        log = io.StringIO()
        _cache_assertion_rewrites()
        if uses_torch(assignment):  # before any test: the plugin seeds torch when it is loaded
            import torch  # noqa: F401
        with (single_threaded_oracles(), fresh_test_modules(assignment.root / "tests"),
              no_plugin_autoload()):
            if show_pytest_output:  # an instructor debugging a grader: pytest's full report
                exit_code = pytest.main(args + ["-s", "--tb=auto"], plugins=[plugin])
            else:
                with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                    exit_code = pytest.main(args, plugins=[plugin])
        if plugin.collection_errors or exit_code not in (pytest.ExitCode.OK,
                                                         pytest.ExitCode.TESTS_FAILED):
            detail = "\n".join(plugin.collection_errors) or log.getvalue()[-4000:]
            raise GraderError(f"the graders of {assignment.id} could not run "
                              f"(pytest exit {int(exit_code)}):\n{detail}")
        tests = plugin.ordered_results()
        notes = list(sandbox.module_problems.values())
        hidden = any(t.visibility != VISIBLE for t in tests)
        return _finish(assignment, prepared.sha256, started_at, t0, tests, notes, isolation,
                       sandbox.protections(), json_path,
                       hidden_inputs(secret) if hidden else None)
    finally:
        prepared.cleanup()


def hidden_inputs(secret: bytes | None) -> dict[str, Any]:
    """What a result records about its hidden tests' inputs: drawn per submission from the
    course secret (named by a fingerprint, never the secret), or fixed per test."""
    if secret is None:
        return {"per_submission": False, "source": "fixed per test"}
    return {"per_submission": True, "source": "course secret", "secret_id": secret_id(secret)}


@dataclass
class GradedResult(GradeResult):
    """A ``GradeResult`` that also records how its hidden tests' inputs were drawn
    (``hidden_inputs`` in the results JSON; absent where no hidden test ran)."""

    hidden_inputs: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        if self.hidden_inputs is not None:
            data["hidden_inputs"] = self.hidden_inputs
        return data


def _finish(assignment, sha256, started_at, t0, tests, notes, isolation, protections, json_path,
            hidden=None):
    result = GradedResult(
        assignment=assignment.id,
        assignment_version=assignment.version,
        platform_version=autograder.__version__,
        submission_sha256=sha256,
        started_at=started_at,
        finished_at=_now(),
        execution_time=time.perf_counter() - t0,
        tests=tests,
        output="\n".join(notes),
        isolation=isolation,
        protections=protections,
        hidden_inputs=hidden,
    )
    if json_path is not None:
        write_json_atomic(Path(json_path), result.to_json())
    return result
