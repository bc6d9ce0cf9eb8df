"""Starter generation from solution markers."""

from __future__ import annotations

import pytest

from autograder.authoring import stale_files, strip_solutions, write_starter
from autograder.errors import ConfigError

SOLUTION = '''import numpy as np


def relu_forward(x):
    """ReLU."""
    # BEGIN SOLUTION hint: keep x in the cache
    out = np.maximum(0, x)
    cache = x
    # END SOLUTION
    return out, cache


class Model:
    def step(self):
        ### BEGIN SOLUTION
        return 1
        ### END SOLUTION
'''


def test_regions_become_stubs_and_the_rest_is_kept():
    starter, regions = strip_solutions(SOLUTION)
    assert [r.function for r in regions] == ["relu_forward", "Model.step"]
    assert "np.maximum" not in starter and "return 1" not in starter
    assert "    # TODO: keep x in the cache\n" in starter
    assert "    raise NotImplementedError('relu_forward: keep x in the cache')\n" in starter
    assert "        raise NotImplementedError('Model.step: not implemented')\n" in starter
    assert '"""ReLU."""' in starter and "return out, cache" in starter
    compile(starter, "starter", "exec")


def test_stub_raises_not_implemented():
    starter, _ = strip_solutions(SOLUTION)
    namespace: dict = {}
    exec(compile(starter, "starter", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="relu_forward: keep x in the cache"):
        namespace["relu_forward"](1)


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "inside a function"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "without END SOLUTION"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without BEGIN SOLUTION"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n",
     "cannot nest"),
])
def test_marker_errors_are_reported(source, message):
    with pytest.raises(ConfigError, match=message):
        strip_solutions(source, "bad.py")


def test_generate_is_idempotent_and_check_detects_staleness(tmp_path):
    solutions, starter = tmp_path / "solutions", tmp_path / "starter"
    solutions.mkdir()
    (solutions / "layers.py").write_text(SOLUTION)
    assert stale_files(solutions, starter) == ["layers.py (missing)"]
    write_starter(solutions, starter)
    first = (starter / "layers.py").read_text()
    assert stale_files(solutions, starter) == []
    write_starter(solutions, starter)
    assert (starter / "layers.py").read_text() == first
    (starter / "layers.py").write_text(first + "# edited by hand\n")
    assert stale_files(solutions, starter) == ["layers.py (out of date)"]
    (starter / "extra.py").write_text("")
    assert "extra.py (not in the solution)" in stale_files(solutions, starter)


def test_committed_starters_are_up_to_date():
    from autograder.config import load_course
    from tests.conftest import REPO

    for root in (REPO, REPO / "tests" / "fixtures" / "course"):
        course = load_course(root)
        for assignment in course.assignments():
            assert stale_files(assignment.solutions_dir, assignment.starter_dir) == [], assignment.id
