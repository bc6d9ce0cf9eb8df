"""What an nbgrader or otter notebook holds, independent of the tool.

* :func:`setup_source`: the first code cell; it creates ``dlgrader``, a
  :class:`~autograder.packaging.notebook_grading.NotebookGrader`, from public material.
* :func:`solution_cells`: one ``%%writefile`` cell per module, its solution
  regions marked in the tool's syntax (the tool strips them for students).
* :func:`collect_tests`: one :class:`TestCell` per collected test (a
  parametrized test gives one per case), with its points, read by collecting the
  graders with pytest, exactly as grading does.
"""

from __future__ import annotations

import ast
import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.authoring import BEGIN, END
from autograder.config import Assignment
from autograder.errors import UsageError

SETUP_MARK = "# dlgrade: setup"


@dataclass(frozen=True)
class TestCell:
    """One dlgrade test, ready to become a notebook test cell."""

    __test__ = False

    kind: str  # "public" | "hidden"
    file: str  # "test_layers.py"
    name: str  # "test_relu_forward" or "test_step[adam]"
    points: float
    description: str
    source: str  # the file's imports and helpers, then this test function
    conftest: str = ""  # tests/hidden/conftest.py for a hidden test (hidden oracles), else ""

    @property
    def hidden(self) -> bool:
        return self.kind == "hidden"

    @property
    def grade_id(self) -> str:
        """A name nbgrader and otter accept: letters, digits, ``_`` and ``-``."""
        raw = f"{self.kind}-{Path(self.file).stem}-{self.name}"
        return "".join(c if c.isalnum() or c in "_-" else "_" for c in raw)

    def call(self, grader: str = "dlgrader") -> str:
        conftest = f", conftest={_string_literal(self.conftest)}" if self.conftest else ""
        return (f"{grader}.check({self.kind!r}, {self.file!r}, {self.name!r}, "
                f"{_string_literal(self.source)}{conftest})")


def _string_literal(text: str) -> str:
    """A readable literal for a test's source: triple-quoted when that is exact."""
    if "'''" not in text and not text.endswith("'") and "\\" not in text:
        return "'''" + text + "'''"
    return repr(text)


def setup_source(assignment: Assignment, grader: str = "dlgrader") -> str:
    conftest = assignment.root / "tests" / "conftest.py"
    conftest_text = conftest.read_text(encoding="utf-8") if conftest.is_file() else ""
    toml = (assignment.root / "assignment.toml").read_text(encoding="utf-8")
    return (f"{SETUP_MARK}\n"
            "# dlgrade runs this assignment's tests in a separate grading process:\n"
            "# see the test cells below. Do not edit this cell.\n"
            "from autograder.packaging.notebook_grading import NotebookGrader\n\n"
            f"ASSIGNMENT_TOML = {_string_literal(toml)}\n\n"
            f"CONFTEST = {_string_literal(conftest_text)}\n\n"
            f"{grader} = NotebookGrader({assignment.id!r}, ASSIGNMENT_TOML, CONFTEST)\n")


def solution_cells(assignment: Assignment, begin: str, end: str) -> list[tuple[str, str]]:
    """``(module, cell source)``: ``%%writefile`` + the reference with the tool's markers.

    ``begin`` / ``end``: the tool's marker lines (without indentation), e.g.
    ``"### BEGIN SOLUTION"``. A region's hint stays, as a ``# TODO`` comment above it.
    """
    cells = []
    for module in assignment.modules:
        path = assignment.solutions_dir / module
        if not path.is_file():
            raise UsageError(f"{assignment.id}: no reference module {path}")
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            m = BEGIN.match(line)
            if m:
                indent, hint = m.group("indent"), (m.group("hint") or "").strip()
                if hint:
                    out.append(f"{indent}# TODO: {hint}")
                out.append(indent + begin)
            elif END.match(line):
                out.append(line[:len(line) - len(line.lstrip())] + end)
            else:
                out.append(line)
        cells.append((module, f"%%writefile {module}\n" + "\n".join(out) + "\n"))
    return cells


class _Collector:
    def __init__(self) -> None:
        self.items: list[tuple[Path, str, str, float, str]] = []

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            marker = item.get_closest_marker("points")
            doc = (getattr(item, "obj", None).__doc__ or "").strip()
            self.items.append((Path(str(item.path)), item.name,
                               getattr(item, "originalname", item.name),
                               float(marker.args[0]) if marker else 0.0,
                               doc.splitlines()[0] if doc else ""))

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points")


def _split_module(source: str) -> tuple[str, dict[str, str]]:
    """A test module's non-test code (imports, helpers) and each test function's source."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    preamble, functions = [], {}
    for node in tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        text = "".join(lines[first - 1:node.end_lineno])
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            functions[node.name] = text
        else:
            preamble.append(text)
    return "\n".join(preamble), functions


def collect_tests(assignment: Assignment) -> list[TestCell]:
    """Every public and hidden test of ``assignment`` (collected, not run).

    ``tests/conftest.py`` goes into the notebook's setup cell (students see it, as they do
    in a release); ``tests/hidden/conftest.py``, the hidden tests' own oracles, travels
    inside each hidden test cell, which the tools strip from what students receive.
    """
    from autograder.grading import fresh_test_modules, no_plugin_autoload, pytest_arguments

    tests_root = assignment.root / "tests"
    hidden_conftest = assignment.hidden_tests / "conftest.py"
    extra = [p for p in tests_root.rglob("conftest.py")
             if p.parent != tests_root and p != hidden_conftest]
    if extra or assignment.data_dir.is_dir() or assignment.corpora:
        what = ("a data/ folder" if assignment.data_dir.is_dir()
                else f"the corpus {assignment.corpora[0]!r}" if assignment.corpora
                else f"{extra[0]}")
        raise UsageError(f"{assignment.id}: notebook exports carry tests/conftest.py and "
                         "tests/hidden/conftest.py only, not "
                         f"{what}; grade with dlgrade or the Gradescope package instead")
    collector = _Collector()
    args = pytest_arguments(assignment, True, ["--collect-only"])
    with (contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()),
          no_plugin_autoload(), fresh_test_modules(tests_root)):
        code = pytest.main(args, plugins=[collector])
    if code != pytest.ExitCode.OK:
        raise UsageError(f"{assignment.id}: the graders could not be collected (pytest exit "
                         f"{int(code)}); run `dlgrade validate {assignment.id}`")
    hidden_text = hidden_conftest.read_text(encoding="utf-8") if hidden_conftest.is_file() else ""
    split: dict[Path, tuple[str, dict[str, str]]] = {}
    cells = []
    for path, name, function, points, doc in collector.items:
        if path not in split:
            split[path] = _split_module(path.read_text(encoding="utf-8"))
        preamble, functions = split[path]
        kind = path.resolve().relative_to(tests_root.resolve()).parts[0]
        source = preamble.rstrip() + "\n\n\n" + functions[function].rstrip() + "\n"
        cells.append(TestCell(kind, path.name, name, points, doc, source,
                              hidden_text if kind == "hidden" else ""))
    return cells
