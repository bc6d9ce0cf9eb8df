"""Shared fixtures for the platform's own tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.config import Course, load_course
from autograder.grading import grade_submission
from autograder.results import GradeResult
from autograder.sandbox.fork_backend import WarmParent
from autograder.secret import ENV_VAR
from tests.hostile.corpus import HONEST_MINI  # noqa: F401  (re-exported for the tests)

REPO = Path(__file__).resolve().parents[1]
FIXTURE_COURSE = REPO / "tests" / "fixtures" / "course"

# The platform's tests grade under one fixed course secret (hidden tests' inputs derive from it,
# autograder/secret.py), so they are reproducible and never create or read the course's own
# secret file; `dlgrade validate --secrets N` is what checks the graders under other secrets.
os.environ.setdefault(ENV_VAR, "dlgrade's own test suite")

# $DLGRADE_STRICT_SKIPS=1 (set by .ci/run) turns every skip into a failure; under pytest-xdist
# (`./run.sh test`), tests/parallel.py decides which tests share a process.
pytest_plugins = ["tests.strict_skips", "tests.parallel"]


#: the ``e2e`` group (pyproject.toml): whole modules, and the course's planted mistakes
E2E_MODULES = {"tests/test_environments.py", "tests/test_interop_tools.py",
               "tests/test_install.py", "tests/test_gradescope_run.py",
               "tests/test_server_browser.py", "tests/test_server_faults.py"}
E2E_TESTS = {"tests/test_mistakes.py::test_the_mistake_loses_points",
             "tests/test_walkthroughs.py::test_walkthrough_runs_on_the_reference"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if module in E2E_MODULES or item.nodeid.split("[", 1)[0] in E2E_TESTS:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def warm_parent():
    """One warm parent for the whole test session (starting one imports torch: ~3 s)."""
    parent = WarmParent()
    yield parent
    parent.close()


@pytest.fixture(scope="session")
def mini_course() -> Course:
    return load_course(FIXTURE_COURSE)


@pytest.fixture
def grade_mini(mini_course, warm_parent, tmp_path):
    """Grade a ``mini.py`` given as source text (or a dict of file name -> text/bytes)."""
    counter = iter(range(1000))

    def grade(files: str | dict[str, str | bytes], **kwargs) -> GradeResult:
        folder = tmp_path / f"submission{next(counter)}"
        folder.mkdir()
        if isinstance(files, str):
            files = {"mini.py": files}
        for name, content in files.items():
            target = folder / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        kwargs.setdefault("parent", warm_parent)
        return grade_submission(mini_course.assignment("90-mini"), folder, **kwargs)

    return grade


def statuses(result: GradeResult) -> dict[str, str]:
    """test function name -> status."""
    return {t.name.split("::")[-1]: t.status for t in result.tests}
