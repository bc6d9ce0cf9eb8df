"""dlgrade's tests inside nbgrader and otter notebooks.

An exported notebook's first code cell creates a :class:`NotebookGrader` from
the assignment's public material (``assignment.toml``, ``tests/conftest.py``);
every test cell then calls ``dlgrader.check(kind, file, name, source)`` with
the source of one dlgrade test (its file's helpers and imports, and the test
function); a hidden test cell adds ``conftest=``, the hidden tests' own
``tests/hidden/conftest.py``. nbgrader and otter decide what a student sees (hidden test cells are
stripped) and add up the points; dlgrade runs the test.

The test does not run in the notebook's kernel, where the student's cells run:
``check`` hands it to a grading server
(``python -m autograder.packaging.notebook_grading``), a separate process started
once per kernel, which grades the module files the solution cells wrote
(``%%writefile``) in sandboxed workers, as ``dlgrade grade`` does, and answers pass
or fail with the reason. ``check`` prints nothing on success (otter compares a
test's output) and raises ``AssertionError`` with the student-safe reason on failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


class NotebookGrader:
    """Runs one assignment's dlgrade tests for a notebook.

    Args:
        assignment_id: e.g. ``"02-feedforward"``.
        assignment_toml: the text of its ``assignment.toml``.
        conftest: the text of its ``tests/conftest.py`` (the oracles; public).
        submission_dir: where the solution cells write the modules (default: cwd).
    """

    def __init__(self, assignment_id: str, assignment_toml: str, conftest: str,
                 submission_dir: str | os.PathLike | None = None):
        self.assignment_id = assignment_id
        self.submission_dir = Path(submission_dir or os.getcwd()).resolve()
        self.course = Path(tempfile.mkdtemp(prefix="dlgrade-notebook-"))
        self.tests = self.course / "assignments" / assignment_id / "tests"
        (self.tests / "public").mkdir(parents=True)
        (self.tests / "hidden").mkdir()
        (self.course / "course.toml").write_text('name = "notebook"\n', encoding="utf-8")
        (self.tests.parent / "assignment.toml").write_text(assignment_toml, encoding="utf-8")
        (self.tests / "conftest.py").write_text(conftest, encoding="utf-8")
        self._server: subprocess.Popen | None = None

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._server is None or self._server.poll() is not None:
            log = open(self.course / "server.log", "ab")  # noqa: SIM115 (the server keeps it)
            self._server = subprocess.Popen(
                [sys.executable, "-m", "autograder.packaging.notebook_grading", str(self.course),
                 self.assignment_id, str(self.submission_dir)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                cwd=self.course)
        assert self._server.stdin is not None and self._server.stdout is not None
        self._server.stdin.write(json.dumps(request) + "\n")
        self._server.stdin.flush()
        line = self._server.stdout.readline()
        if not line:
            log_text = (self.course / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the dlgrade grading server stopped:\n{log_text}")
        return json.loads(line)

    def check(self, kind: str, file: str, name: str, source: str, conftest: str = "") -> None:
        """Run the test ``name`` (``source``: its module) on the notebook's modules.

        Args:
            kind: ``"public"`` or ``"hidden"``.
            file: the test file it comes from, e.g. ``"test_layers.py"``.
            name: the test, e.g. ``"test_relu_forward"`` or ``"test_step[adam]"``.
            source: imports, helpers and the test function.
            conftest: the folder's own ``conftest.py`` (the hidden tests' oracles), or "".

        Raises:
            AssertionError: the test failed; the message says why.
        """
        if kind not in ("public", "hidden"):
            raise ValueError(f"kind must be 'public' or 'hidden', not {kind!r}")
        # The test keeps its file name, so its id (and the seed derived from it) is the one
        # `dlgrade grade` uses; the file holds only this test.
        path = self.tests / kind / Path(file).name
        path.write_text(source, encoding="utf-8")
        folder_conftest = self.tests / kind / "conftest.py"
        if conftest:
            folder_conftest.write_text(conftest, encoding="utf-8")
        else:
            folder_conftest.unlink(missing_ok=True)
        reply = self._ask({"test": str(path), "name": name})
        if "error" in reply:
            raise RuntimeError(f"{name}: dlgrade could not run the test: {reply['error']}")
        if reply["status"] != "passed":
            raise AssertionError(f"{name}: {reply['reason'] or 'failed'}")

    def close(self) -> None:
        if self._server is not None:
            self._server.kill()
            self._server.wait()
            self._server = None
        shutil.rmtree(self.course, ignore_errors=True)

    def __del__(self) -> None:  # the kernel is going away: take the server and files with it
        try:
            self.close()
        except Exception:
            pass


def serve(course: Path, assignment_id: str, submission_dir: Path) -> None:
    """The grading server: one JSON request per line on stdin, one reply per line on stdout."""
    from autograder.config import load_course
    from autograder.grading import grade_submission, shared_backend

    assignment = load_course(course).assignment(assignment_id)
    parent = shared_backend(assignment.students_use_torch)
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but replies on the pipe
    tests_root = (course / "assignments" / assignment_id / "tests").resolve()
    for line in sys.stdin:
        _forget_test_modules(tests_root)  # a test file's source changes between requests
        try:
            request = json.loads(line)
            files = [submission_dir / m for m in assignment.modules
                     if (submission_dir / m).is_file()]
            with tempfile.TemporaryDirectory() as empty:
                result = grade_submission(assignment, files or Path(empty), parent=parent,
                                          tests=[f"{request['test']}::{request['name']}"])
            found = [t for t in result.tests if t.name.split("::")[-1] == request["name"]]
            if len(found) != 1:
                reply = {"error": f"{len(found)} tests named {request['name']} were run"}
            else:
                t = found[0]
                reply = {"status": t.status, "score": t.score, "max_score": t.max_score,
                         "reason": t.reason, "output": t.output}
        except Exception as exc:  # report it to the notebook; keep serving
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


def _forget_test_modules(tests_root: Path) -> None:
    """Drop the test modules pytest imported (importlib mode caches them by path)."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(tests_root):
            del sys.modules[name]


if __name__ == "__main__":
    serve(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
