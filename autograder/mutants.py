"""Mutants: deliberately broken copies of a reference solution, graded to show the graders work.

A :class:`Mutant` is one classic student mistake, written as exact string
replacements in one module of the reference solution. :func:`write_mutant`
copies the solution and applies them, :func:`grade_mutant` writes and grades the
copy with the real graders, and :func:`mutant_problems` says whether the mistake
was caught: every test named in ``must_fail`` exists, each one failed, and the
score is below the maximum. :func:`reference_problems` is the control: the
unbroken reference must get full marks. A course's test suite then reads::

    ASSIGNMENT = load_course(ROOT).assignment("02-feedforward")
    MUTANTS = [Mutant("relu-gradient-at-zero", "layers.py",
                      [("dout * (x > 0)", "dout * (x >= 0)")], ["test_relu_backward_at_zero"])]

    def test_reference_solution_gets_full_marks():
        assert reference_problems(ASSIGNMENT) == []

    @pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
    def test_classic_mistake_loses_points(tmp_path, mutant):
        assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.config import Assignment
from autograder.grading import grade_submission
from autograder.results import GradeResult
from autograder.sandbox.fork_backend import WarmParent


@dataclass(frozen=True)
class Mutant:
    """A classic student mistake: exact replacements in one module of the reference.

    Attributes:
        id: a short slug naming the mistake (``"relu-gradient-at-zero"``).
        module: the module file the replacements apply to (``"layers.py"``).
        replacements: ``(old, new)`` pairs, applied in order; each ``old`` must
            occur exactly once in the module at the time it is applied.
        must_fail: grader test function names that must catch the mistake
            (``"test_relu_backward_at_zero"``). A bare name stands for all of a
            parametrized test's cases and is caught when any case fails; a name
            with its ``[...]`` suffix stands for that one case.

    Lists are accepted and stored as tuples, so a mutant is hashable.
    """

    id: str
    module: str
    replacements: Sequence[tuple[str, str]]
    must_fail: Sequence[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "replacements",
                           tuple((old, new) for old, new in self.replacements))
        object.__setattr__(self, "must_fail", tuple(self.must_fail))
        if not self.replacements:
            raise ValueError(f"mutant {self.id!r}: no replacements")
        if not self.must_fail:
            raise ValueError(f"mutant {self.id!r}: no tests named in must_fail")


def write_mutant(solution_dir: Path, mutant: Mutant, dest: Path) -> Path:
    """Copy every ``.py`` file of ``solution_dir`` into ``dest`` (created if needed), apply the
    mutant's replacements to its module, and return ``dest``.

    Raises:
        ValueError: the module is not in the solution, or a replacement target
            does not occur exactly once in it.
    """
    files = sorted(Path(solution_dir).glob("*.py"))
    if not files:
        raise ValueError(f"mutant {mutant.id!r}: no .py files in {solution_dir}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, dest / f.name)
    path = dest / mutant.module
    if not path.is_file():
        raise ValueError(f"mutant {mutant.id!r}: no module {mutant.module} in {solution_dir}")
    text = path.read_text()
    for old, new in mutant.replacements:
        count = text.count(old)
        if count != 1:
            raise ValueError(f"mutant {mutant.id!r}: target found {count} times in "
                             f"{mutant.module}, expected exactly once: {old!r}")
        text = text.replace(old, new)
    path.write_text(text)
    return dest


def _base_name(name: str) -> str:
    """``"test_y[case]"`` -> ``"test_y"``."""
    return name.split("[", 1)[0]


def _function_name(test_name: str) -> str:
    """``"hidden/test_x.py::test_y[case]"`` -> ``"test_y[case]"``."""
    return test_name.rsplit("::", 1)[-1]


def _solution(assignment: Assignment) -> Path:
    if assignment.solutions_dir is None or not assignment.solutions_dir.is_dir():
        raise ValueError(f"{assignment.id}: no reference solution at {assignment.solutions_dir}")
    return assignment.solutions_dir


def grade_mutant(assignment: Assignment, mutant: Mutant, dest: Path, *, only_named: bool = True,
                 parent: WarmParent | None = None) -> GradeResult:
    """Write the mutant of the assignment's reference solution into ``dest`` and grade it.

    The graders are the assignment's own, hidden ones included.

    Args:
        only_named: run only the ``must_fail`` tests (``pytest -k "a or b"``), which
            is much faster. ``-k`` matches substrings, so tests whose names contain
            a listed name run too; :func:`mutant_problems` ignores them.
        parent: a warm parent to reuse; the shared one by default.

    Raises:
        ValueError: the assignment has no reference solution, or see :func:`write_mutant`.
    """
    write_mutant(_solution(assignment), mutant, dest)
    pytest_args: tuple[str, ...] = ()
    if only_named:
        names = dict.fromkeys(_base_name(n) for n in mutant.must_fail)
        pytest_args = ("-k", " or ".join(names))
    return grade_submission(assignment, dest, parent=parent, pytest_args=pytest_args)


def reference_problems(assignment: Assignment, *, parent: WarmParent | None = None) -> list[str]:
    """Grade the unbroken reference solution on every test: ``[]`` when it gets full marks.

    Otherwise one line per test that did not pass, and one if the score is not
    the assignment's ``total_points``. Mutants only show something when this holds.
    """
    result = grade_submission(assignment, _solution(assignment), parent=parent)
    problems = [f"{t.name}: {t.status}: {t.reason}" for t in result.tests if not t.passed]
    if not result.score == result.max_score == assignment.total_points:
        problems.append(f"score {result.score} of {result.max_score}, expected "
                        f"{assignment.total_points} of {assignment.total_points}")
    return problems


def mutant_problems(result: GradeResult, mutant: Mutant) -> list[str]:
    """Why the mutant was not caught: ``[]`` when it was, otherwise one line per problem.

    Caught means every ``must_fail`` name matches a test in ``result``, every one
    of them failed (a bare name: at least one of its cases), and the score is
    below the maximum. Tests not named in ``must_fail`` are not looked at.
    """
    by_name: dict[str, list[str]] = {}
    for t in result.tests:
        name = _function_name(t.name)
        by_name.setdefault(name, []).append(t.status)
        if "[" in name:
            by_name.setdefault(_base_name(name), []).append(t.status)
    problems = []
    unknown = [n for n in mutant.must_fail if n not in by_name]
    if unknown:
        problems.append(f"{mutant.id}: no such grader tests: {unknown}")
    passing = [n for n in mutant.must_fail
               if n in by_name and all(s == "passed" for s in by_name[n])]
    if passing:
        problems.append(f"{mutant.id}: these tests should catch the mistake but passed: {passing}")
    if not result.score < result.max_score:
        problems.append(f"{mutant.id}: score {result.score} is not below the maximum "
                        f"{result.max_score}")
    return problems
