"""Planted mistakes: deliberately broken copies of a reference solution, graded to show the
graders work.

An assignment's classic student mistakes are data, in ``assignments/<id>/mistakes.toml``
(never shipped to students: it quotes the reference solution)::

    [[mistake]]
    id = "add-subtracts"
    module = "mini.py"
    must_fail = ["test_add", "test_add_negative"]
    why = "a - b for a + b"               # optional, one line
    [[mistake.replace]]                   # one or more, applied in order
    old = '''
        return a + b
    '''
    new = '''
        return a - b
    '''

(TOML drops the newline right after an opening ``'''``, so ``old`` above is the one line with
its indentation and newline; literal ``'''`` strings keep backslashes as they are.)

:func:`load_mistakes` reads and checks the file into :class:`Mistake` values.
:func:`write_mistake` copies the solution and applies a mistake's replacements,
:func:`grade_mistake` writes and grades the copy with the real graders, and
:func:`mistake_problems` says whether the mistake was caught: every test named in
``must_fail`` exists, each one failed, and the score is below the maximum.
:func:`reference_problems` is the control: the unbroken reference must get full marks.
``dlgrade validate`` and the platform's ``tests/test_mistakes.py`` run them all.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.config import Assignment, read_toml
from autograder.errors import ConfigError
from autograder.grading import grade_submission
from autograder.results import GradeResult
from autograder.sandbox.backend import WorkerBackend


@dataclass(frozen=True)
class Mistake:
    """A classic student mistake: exact replacements in one module of the reference.

    Attributes:
        id: a short slug naming the mistake (``"add-subtracts"``), unique in its file.
        module: the module file the replacements apply to (``"mini.py"``).
        replacements: ``(old, new)`` pairs, applied in order; each ``old`` must
            occur exactly once in the module at the time it is applied.
        must_fail: grader test function names that must catch the mistake
            (``"test_add"``). A bare name stands for all of a
            parametrized test's cases and is caught when any case fails; a name
            with its ``[...]`` suffix stands for that one case.
        why: one line saying what the mistake is, or why these tests catch it ("" for none).

    Lists are accepted and stored as tuples, so a mistake is hashable.
    """

    id: str
    module: str
    replacements: Sequence[tuple[str, str]]
    must_fail: Sequence[str]
    why: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "replacements",
                           tuple((old, new) for old, new in self.replacements))
        object.__setattr__(self, "must_fail", tuple(self.must_fail))
        if not self.replacements:
            raise ValueError(f"mistake {self.id!r}: no replacements")
        if not self.must_fail:
            raise ValueError(f"mistake {self.id!r}: no tests named in must_fail")


_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_ENTRY_KEYS = ("id", "module", "must_fail", "why", "replace")
_REQUIRED = ("id", "module", "must_fail", "replace")


def load_mistakes(source: Path | Assignment) -> list[Mistake]:
    """The mistakes of a ``mistakes.toml`` file, or of an assignment's (``mistakes_path``).

    Given an assignment, each mistake's module must also be one of its ``modules``.

    Raises:
        ConfigError: the file is missing, not TOML, has no ``[[mistake]]``, or an entry is
            malformed (an unknown or missing key, a wrong type, an empty ``replace``,
            ``must_fail`` or ``old``, a ``why`` of several lines, an id that is not a slug
            or is used twice). The message names the file and the mistake.
    """
    assignment = source if isinstance(source, Assignment) else None
    path = assignment.mistakes_path if assignment else Path(source)
    data = read_toml(path)
    unknown = sorted(set(data) - {"mistake"})
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key {unknown[0]!r} "
                          "(the file holds [[mistake]] entries only)")
    entries = data.get("mistake")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: no [[mistake]] entries")
    mistakes: list[Mistake] = []
    first_seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        mistake = _parse_entry(entry, path, number)
        where = f"{path}: mistake {mistake.id!r}"
        if mistake.id in first_seen:
            raise ConfigError(f"{where}: duplicate id (mistake #{first_seen[mistake.id]} "
                              f"and #{number})")
        first_seen[mistake.id] = number
        if assignment and mistake.module not in assignment.modules:
            raise ConfigError(f"{where}: module {mistake.module!r} is not one of the "
                              f"assignment's modules ({', '.join(assignment.modules)})")
        mistakes.append(mistake)
    return mistakes


def _parse_entry(entry: Any, path: Path, number: int) -> Mistake:
    """The ``number``-th ``[[mistake]]`` table of ``path``; errors name it by id where it has a
    valid one, else by number."""
    where = f"{path}: mistake #{number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: not a table")
    ident = entry.get("id")
    if isinstance(ident, str) and _SLUG.fullmatch(ident):
        where = f"{path}: mistake {ident!r}"
    elif "id" in entry:
        raise ConfigError(f"{where}: 'id' must be a slug of lower-case letters, digits and "
                          f"hyphens, got {ident!r}")
    for key in entry:
        if key not in _ENTRY_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (allowed: {', '.join(_ENTRY_KEYS)})")
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise ConfigError(f"{where}: missing required key(s): {', '.join(missing)}")
    module, must_fail, why = entry["module"], entry["must_fail"], entry.get("why", "")
    if not (isinstance(module, str) and module.endswith(".py") and "/" not in module):
        raise ConfigError(f"{where}: 'module' must be a file name like 'layers.py', "
                          f"got {module!r}")
    if not (isinstance(must_fail, list) and must_fail
            and all(isinstance(n, str) and n for n in must_fail)):
        raise ConfigError(f"{where}: 'must_fail' must be a non-empty list of test names")
    if not isinstance(why, str) or "\n" in why:
        raise ConfigError(f"{where}: 'why' must be one line of text")
    return Mistake(ident, module, _parse_replacements(entry["replace"], where), must_fail, why)


def _parse_replacements(tables: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{where}: no [[mistake.replace]] tables")
    pairs = []
    for number, table in enumerate(tables, start=1):
        here = f"{where}, replace #{number}"
        if not isinstance(table, dict) or set(table) != {"old", "new"}:
            keys = sorted(table) if isinstance(table, dict) else type(table).__name__
            raise ConfigError(f"{here}: must have exactly the keys 'old' and 'new', got {keys}")
        old, new = table["old"], table["new"]
        if not (isinstance(old, str) and isinstance(new, str)):
            raise ConfigError(f"{here}: 'old' and 'new' must be strings")
        if not old:
            raise ConfigError(f"{here}: 'old' is empty")
        pairs.append((old, new))
    return pairs


def write_mistake(solution_dir: Path, mistake: Mistake, dest: Path) -> Path:
    """Copy every ``.py`` file of ``solution_dir`` into ``dest`` (created if needed), apply the
    mistake's replacements to its module, and return ``dest``.

    Raises:
        ValueError: the module is not in the solution, or a replacement target
            does not occur exactly once in it.
    """
    files = sorted(Path(solution_dir).glob("*.py"))
    if not files:
        raise ValueError(f"mistake {mistake.id!r}: no .py files in {solution_dir}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, dest / f.name)
    path = dest / mistake.module
    if not path.is_file():
        raise ValueError(f"mistake {mistake.id!r}: no module {mistake.module} in {solution_dir}")
    text = path.read_text()
    for old, new in mistake.replacements:
        count = text.count(old)
        if count != 1:
            raise ValueError(f"mistake {mistake.id!r}: target found {count} times in "
                             f"{mistake.module}, expected exactly once: {old!r}")
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


def grade_mistake(assignment: Assignment, mistake: Mistake, dest: Path, *,
                  only_named: bool = True, parent: WorkerBackend | None = None) -> GradeResult:
    """Write the mistake into a copy of the assignment's reference solution at ``dest`` and
    grade it.

    The graders are the assignment's own, hidden ones included.

    Args:
        only_named: run only the ``must_fail`` tests (``pytest -k "a or b"``), which
            is much faster. ``-k`` matches substrings, so tests whose names contain
            a listed name run too; :func:`mistake_problems` ignores them.
        parent: a worker backend to reuse; the shared one by default.

    Raises:
        ValueError: the assignment has no reference solution, or see :func:`write_mistake`.
    """
    write_mistake(_solution(assignment), mistake, dest)
    pytest_args: tuple[str, ...] = ()
    if only_named:
        names = dict.fromkeys(_base_name(n) for n in mistake.must_fail)
        pytest_args = ("-k", " or ".join(names))
    return grade_submission(assignment, dest, parent=parent, pytest_args=pytest_args)


def reference_problems(assignment: Assignment, *,
                       parent: WorkerBackend | None = None) -> list[str]:
    """Grade the unbroken reference solution on every test: ``[]`` when it gets full marks.

    Otherwise one line per test that did not pass, and one if the score is not
    the assignment's ``total_points``. Mistakes only show something when this holds.
    """
    result = grade_submission(assignment, _solution(assignment), parent=parent)
    problems = [f"{t.name}: {t.status}: {t.reason}" for t in result.tests if not t.passed]
    if not result.score == result.max_score == assignment.total_points:
        problems.append(f"score {result.score} of {result.max_score}, expected "
                        f"{assignment.total_points} of {assignment.total_points}")
    return problems


def mistake_problems(result: GradeResult, mistake: Mistake) -> list[str]:
    """Why the mistake was not caught: ``[]`` when it was, otherwise one line per problem.

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
    unknown = [n for n in mistake.must_fail if n not in by_name]
    if unknown:
        problems.append(f"{mistake.id}: no such grader tests: {unknown}")
    passing = [n for n in mistake.must_fail
               if n in by_name and all(s == "passed" for s in by_name[n])]
    if passing:
        problems.append(f"{mistake.id}: these tests should catch the mistake but passed: "
                        f"{passing}")
    if not result.score < result.max_score:
        problems.append(f"{mistake.id}: score {result.score} is not below the maximum "
                        f"{result.max_score}")
    return problems
