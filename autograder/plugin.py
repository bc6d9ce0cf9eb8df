"""The pytest plugin that turns grader tests into scores.

It runs in the trusted process. Graders get these fixtures:

- ``submission``: the student's modules, run in a fresh sandboxed worker per test
  (see ``autograder.sandbox.session.Submission``);
- ``seed``: an int derived from the test's id (stable across runs and machines); for a
  hidden test graded with the course secret, derived from the secret, the test's id and
  the submission's content instead (``autograder.secret.hidden_seed``), so a recording of
  one submission's hidden inputs is useless for the next;
- ``rng``: ``np.random.default_rng(seed)``.

and this marker:

- ``@pytest.mark.points(n)``: what the test is worth (all or nothing).

Before each test, numpy's and torch's global RNGs are seeded with ``seed`` in
the trusted process too (torch's when it is loaded: grading loads it before the
first test wherever the assignment uses it), and the worker seeds its own before
any student code.

The plugin records one ``TestResult`` per test. A test's docstring is its
feedback line; a failure's reason is one line built from the exception. For
hidden tests, only value-free text is kept (see ``failure_reason``).
"""

from __future__ import annotations

import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from autograder.errors import SubmissionError
from autograder.results import AFTER_DUE_DATE, VISIBLE, TestResult
from autograder.sandbox.seeding import seed_torch
from autograder.sandbox.session import Submission, SubmissionSandbox
from autograder.secret import hidden_seed
from autograder.testing import AssertCloseError

_FIRST_LINE_MAX = 300


def test_seed(nodeid: str) -> int:
    """A stable 31-bit seed for a test id."""
    return zlib.crc32(nodeid.encode("utf-8")) & 0x7FFFFFFF


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= _FIRST_LINE_MAX else line[: _FIRST_LINE_MAX - 1] + "…"


def failure_reason(exc: BaseException, hidden: bool) -> tuple[str, str]:
    """A one-line reason and longer details for a failed test.

    For hidden tests, details are dropped and pytest's assertion introspection
    (``assert 3 == 4``) is replaced by a neutral line, so that expected values
    never reach the student.
    """
    if isinstance(exc, SubmissionError):
        return _first_line(exc.reason), exc.details
    if isinstance(exc, AssertCloseError):
        return _first_line(exc.summary), "" if hidden else exc.details
    if isinstance(exc, AssertionError):
        text = str(exc)
        first = _first_line(text)
        if hidden:
            if not first or first.startswith("assert "):
                return "a check on your output failed", ""
            return first, ""
        return first or "assertion failed", text
    outcome = type(exc).__name__
    if outcome in ("Failed", "Skipped"):
        msg = _first_line(str(getattr(exc, "msg", exc)))
        return (msg or outcome.lower()), ""
    message = _first_line(f"{type(exc).__name__}: {exc}")
    return message, ""


def not_run_reason(run_budget: float) -> str:
    """The reason a test that the whole run's time budget left no time for gets."""
    return f"not run: the whole run's time budget ({run_budget:g} s) was spent"


class GradingPlugin:
    """Collects scores from one pytest run over an assignment's tests.

    Args:
        sandbox: where the submission runs.
        tests_root: the assignment's ``tests/`` folder; test names are relative to it.
        test_timeout: seconds a test's calls into the submission may take in total.
        run_budget: seconds the whole run may take, counted from ``started`` (a
            ``time.monotonic()`` reading; default: now). A test's calls get at most what is
            left of it; once it is spent, the remaining tests are not run and score 0.
            ``None``: no whole-run budget.
        secret: the course secret; with it, hidden tests' seeds are derived from it, their
            node id and ``submission_sha256``. ``None``: every test gets ``test_seed``.
    """

    def __init__(self, sandbox: SubmissionSandbox, tests_root: Path, test_timeout: float,
                 run_budget: float | None = None, started: float | None = None,
                 secret: bytes | None = None, submission_sha256: str = ""):
        self.sandbox = sandbox
        self.secret = secret
        self.submission_sha256 = submission_sha256
        self.tests_root = Path(tests_root).resolve()
        self.test_timeout = test_timeout
        self.run_budget = run_budget
        self.deadline = (None if run_budget is None
                         else (time.monotonic() if started is None else started) + run_budget)
        self.results: dict[str, TestResult] = {}
        self.order: list[str] = []
        self.collection_errors: list[str] = []

    # ---------------------------------------------------------------- naming
    def _name(self, item: pytest.Item) -> str:
        path = Path(str(item.path)).resolve()
        try:
            rel = path.relative_to(self.tests_root).as_posix()
        except ValueError:
            rel = path.name
        return f"{rel}::{item.name}"

    def _visibility(self, item: pytest.Item) -> str:
        path = Path(str(item.path)).resolve()
        hidden_dir = self.tests_root / "hidden"
        return AFTER_DUE_DATE if path.is_relative_to(hidden_dir) else VISIBLE

    # ---------------------------------------------------------------- hooks
    @pytest.hookimpl
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points the test is worth (all or nothing)")

    @pytest.hookimpl(trylast=True)  # after -k/-m deselection: only the tests that will run
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker("points")
            points = 0.0
            if marker is not None:
                if len(marker.args) != 1 or isinstance(marker.args[0], bool) or not isinstance(
                        marker.args[0], (int, float)) or marker.args[0] < 0:
                    self.collection_errors.append(
                        f"{self._name(item)}: @pytest.mark.points needs one non-negative number")
                    continue
                points = float(marker.args[0])
            doc = (getattr(item, "obj", None).__doc__ or "").strip() if hasattr(item, "obj") else ""
            name = self._name(item)
            self.results[item.nodeid] = TestResult(
                name=name, description=doc.splitlines()[0] if doc else "",
                max_score=points, visibility=self._visibility(item))
            self.order.append(item.nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        """Once the run's budget is spent, record the test as not run instead of running it.

        Returning True tells pytest the test was handled; the fixtures of the tests that
        did run are still torn down (pytest tears down what is left at the session's end).
        """
        if self.deadline is None or time.monotonic() < self.deadline:
            return None
        result = self.results.get(item.nodeid)
        if result is not None:
            result.status, result.score = "failed", 0.0
            result.reason = not_run_reason(self.run_budget)
        return True

    def time_for_test(self) -> float:
        """Seconds this test's calls into the submission may take: ``test_timeout``, capped
        by what is left of the run's budget."""
        if self.deadline is None:
            return self.test_timeout
        return max(0.0, min(self.test_timeout, self.deadline - time.monotonic()))

    @pytest.hookimpl
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext[-3000:]}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        result = self.results.get(item.nodeid)
        if result is None:
            return
        if call.when == "call":
            result.duration = call.duration
        if call.excinfo is not None and not result.reason:
            exc = call.excinfo.value
            hidden = result.visibility != VISIBLE
            result.reason, details = failure_reason(exc, hidden)
            output = _captured_submission_output(item)
            result.output = "\n".join(p for p in (details, output) if p)
            result.status = "failed"
            result.score = 0.0
        elif call.when == "call" and report.passed and not result.reason:
            result.status = "passed"
            result.score = result.max_score

    # ---------------------------------------------------------------- fixtures
    @pytest.fixture
    def seed(self, request: pytest.FixtureRequest) -> int:
        """A stable per-test seed; a hidden test's is per submission where there is a secret."""
        return self.seed_for(request.node)

    def seed_for(self, item: pytest.Item) -> int:
        """``test_seed(node id)``, or for a hidden test graded with the course secret
        ``hidden_seed(secret, node id, submission sha256)``."""
        if self.secret is not None and self._visibility(item) != VISIBLE:
            return hidden_seed(self.secret, item.nodeid, self.submission_sha256)
        return test_seed(item.nodeid)

    @pytest.fixture
    def rng(self, seed: int) -> np.random.Generator:
        """``np.random.default_rng(seed)``: the grader's own random numbers."""
        return np.random.default_rng(seed)

    @pytest.fixture(autouse=True)
    def _seed_trusted_side(self, seed: int) -> None:
        np.random.seed(seed)
        # Grading imports torch before the first test wherever the graders or the students
        # use it (``grader_imports.uses_torch``); elsewhere nothing draws from it.
        torch = sys.modules.get("torch")
        if torch is not None:
            seed_torch(torch, seed)

    @pytest.fixture
    def submission(self, request: pytest.FixtureRequest, seed: int):
        """The student's modules: ``submission.<module>.<function>(...)`` runs in the sandbox."""
        sub = Submission(self.sandbox, seed, self.time_for_test())
        request.node.stash[_SUBMISSION_KEY] = sub
        try:
            yield sub
        finally:
            sub.close()

    # ---------------------------------------------------------------- output
    def ordered_results(self) -> list[TestResult]:
        return [self.results[n] for n in self.order]


_SUBMISSION_KEY = pytest.StashKey[Submission]()


def _captured_submission_output(item: pytest.Item) -> str:
    sub = item.stash.get(_SUBMISSION_KEY, None)
    if sub is None:
        return ""
    text = sub.output.strip()
    if not text:
        return ""
    if len(text) > 2000:
        text = text[:2000] + "\n[... output truncated]"
    return "Your code printed:\n" + text
