"""tests/parallel.py: which tests share a process under pytest-xdist."""

from __future__ import annotations

import pytest

from tests.parallel import scope_of


@pytest.mark.parametrize(("nodeid", "scope"), [
    ("tests/test_cli.py::test_list", "tests/test_cli.py"),
    ("tests/test_packaging.py::test_one_result_in_every_format", "tests/test_packaging.py"),
    ("tests/test_mistakes.py::test_the_mistake_loses_points[02-feedforward:relu-at-zero]",
     "tests/test_mistakes.py::test_the_mistake_loses_points[02-feedforward:relu-at-zero]"),
    ("tests/hostile/test_corpus.py::test_case[fork-bomb]",
     "tests/hostile/test_corpus.py::test_case[fork-bomb]"),
    ("tests/test_assignments.py::test_validate[05-cnn]", "tests/test_assignments.py[05-cnn]"),
    ("tests/test_assignments.py::test_in_process_mode_scores_like_isolated_mode[05-cnn]",
     "tests/test_assignments.py[05-cnn]"),
    ("tests/test_assignments.py::test_the_course_has_assignments", "tests/test_assignments.py"),
    ("tests/test_environments.py::test_validate[root-02-feedforward]",
     "tests/test_environments.py[root]"),
    ("tests/test_environments.py::test_hostile_corpus[root]", "tests/test_environments.py[root]"),
    ("tests/test_environments.py::test_validate[spawn-all]", "tests/test_environments.py[spawn]"),
])
def test_scope_of(nodeid, scope):
    assert scope_of(nodeid) == scope
