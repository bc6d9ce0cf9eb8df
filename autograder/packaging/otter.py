"""otter-grader: an ``otter assign`` master notebook.

Writes ``OUT/<id>.ipynb`` in otter's v1 master format:

* a raw ``# ASSIGNMENT CONFIG`` cell (YAML; no otter init/export cells: the
  notebook's setup cell creates ``dlgrader``);
* the setup cell, then one question per module: a ``# BEGIN SOLUTION`` block
  with the module's ``%%writefile`` cell (its regions marked ``# BEGIN
  SOLUTION`` / ``# END SOLUTION``, which otter replaces by ``...``), and a
  ``# BEGIN TESTS`` block with one test cell per dlgrade test of that module;
  each test cell carries its points and, for hidden tests, ``hidden: true`` in a
  ``# BEGIN TEST CONFIG`` block.

Then: ``otter assign OUT/<id>.ipynb dist`` writes ``dist/student/`` and
``dist/autograder/`` (with the autograder zip); ``otter run -a <zip> <submission>.ipynb``
grades one submission.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from autograder.config import Assignment
from autograder.packaging.notebook_export import (
    TestCell,
    collect_tests,
    setup_source,
    solution_cells,
)
from autograder.packaging.notebooks import (
    code_cell,
    markdown_cell,
    notebook,
    raw_cell,
    write_notebook,
)


def _yaml(data: dict[str, Any]) -> str:
    """``data`` as YAML (pyyaml's safe dumper: any string quoted as YAML needs), no final
    newline; points rounded, whole ones as integers."""
    data = {k: _number(v) if isinstance(v, float) else v for k, v in data.items()}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip("\n")


def _number(value: float) -> float | int:
    value = round(value, 6)  # sums of fractional points: no 0.30000000000000004
    return int(value) if value.is_integer() else value


def _config(assignment: Assignment) -> str:
    config = {
        "name": assignment.id,
        "init_cell": False,
        "check_all_cell": False,
        "export_cell": False,
        "run_tests": False,
        "tests": {"files": False, "ok_format": True},
    }
    return "# ASSIGNMENT CONFIG\n" + _yaml(config)


def _module_of(test: TestCell, modules: list[str]) -> str:
    """The module a test file belongs to: test_layers(_hidden).py → layers.py (else the last)."""
    stem = Path(test.file).stem.removeprefix("test_").removesuffix("_hidden")
    return next((m for m in modules if Path(m).stem == stem), modules[-1])


def _test_cell(test: TestCell) -> dict[str, Any]:
    config = _yaml({"points": test.points, "hidden": test.hidden})
    return code_cell(f'""" # BEGIN TEST CONFIG\n{config}\n""" # END TEST CONFIG\n{test.call()}')


def build_notebook(assignment: Assignment) -> dict[str, Any]:
    modules = list(assignment.modules)
    tests = collect_tests(assignment)
    heading = " ".join(assignment.title.split())  # a title's line breaks would end the heading
    cells = [
        raw_cell(_config(assignment)),
        markdown_cell(f"# {heading}\n\nImplement the functions of each module below "
                      "(the handout gives the details). The tests run your code in a separate, "
                      "sandboxed process."),
        code_cell(setup_source(assignment)),
    ]
    for module, source in solution_cells(assignment, "# BEGIN SOLUTION", "# END SOLUTION"):
        mine = [t for t in tests if _module_of(t, modules) == module]
        points = sum(t.points for t in mine)
        name = "".join(c if c.isalnum() else "_" for c in Path(module).stem)
        cells += [
            raw_cell("# BEGIN QUESTION\n" + _yaml({"name": name, "points": points})),
            markdown_cell(f"## `{module}` ({points:g} points)"),
            raw_cell("# BEGIN SOLUTION"),
            code_cell(source),
            raw_cell("# END SOLUTION"),
        ]
        if mine:
            cells += [raw_cell("# BEGIN TESTS"), *(_test_cell(t) for t in mine),
                      raw_cell("# END TESTS")]
        cells.append(raw_cell("# END QUESTION"))
    return notebook(cells)


def build_master(assignment: Assignment, out_dir: Path, *, course_name: str = "course") -> Path:
    """Write ``<out_dir>/<id>.ipynb``, the otter-assign master notebook; return its path."""
    path = Path(out_dir) / f"{assignment.id}.ipynb"
    write_notebook(path, build_notebook(assignment))
    return path
