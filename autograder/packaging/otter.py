"""otter-grader: an ``otter assign`` master notebook.

Writes ``OUT/<id>.ipynb`` in otter's v1 master format, and beside it what the grading
image needs: dlgrade's wheel and ``requirements.txt``:

* a raw ``# ASSIGNMENT CONFIG`` cell (YAML; no otter init/export cells: the
  notebook's setup cell creates ``dlgrader``); its ``requirements`` (``requirements.txt``)
  and ``files`` (the wheel) put dlgrade, and CPU torch where the tests need it, into the
  image otter builds (see :func:`requirements`);
* the setup cell, then one question per module: a ``# BEGIN SOLUTION`` block
  with the module's ``%%writefile`` cell (its regions marked ``# BEGIN
  SOLUTION`` / ``# END SOLUTION``, which otter replaces by ``...``), and a
  ``# BEGIN TESTS`` block with one test cell per dlgrade test of that module;
  each test cell carries its points and, for hidden tests, ``hidden: true`` in a
  ``# BEGIN TEST CONFIG`` block.

Then: ``otter assign OUT/<id>.ipynb dist`` writes ``dist/student/`` and
``dist/autograder/`` (with the autograder zip); ``otter run -a <zip> <submission>.ipynb``
grades one submission.

The notebook needs nothing else at grading time: the setup cell holds ``assignment.toml`` and
``tests/conftest.py``, and each test cell its test's source (a hidden one, its oracles too).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from autograder.config import Assignment
from autograder.grader_imports import TORCH_CPU_INDEX, TORCH_REQUIREMENT, needs_torch
from autograder.packaging.install import dlgrade_wheel
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


# Where otter's grading image (Gradescope's, or `otter grade`'s Docker one) unpacks the
# autograder zip: otter's default `autograder_dir` is /autograder, and `files` go to files/.
OTTER_FILES = "/autograder/source/files"
REQUIREMENTS = "requirements.txt"


def requirements(assignment: Assignment, wheel_name: str) -> list[str]:
    """The pip lines otter adds to its grading environment (``environment.yml``'s ``pip``
    list, installed by its ``setup.sh``): dlgrade from ``wheel_name``, which the zip carries
    in ``files/``, and, where the tests need torch, torch's CPU build: PyTorch's CPU index
    joins PyPI, and its ``+cpu`` builds sort above PyPI's CUDA builds of the same version.
    The index is an option of the whole pip run, so it is an extra index, not ``--index-url``
    (otter and dlgrade's dependencies come from PyPI)."""
    torch = ([f"--extra-index-url {TORCH_CPU_INDEX}", TORCH_REQUIREMENT]
             if needs_torch(assignment, include_hidden=True) else [])
    return [*torch, f"dlgrade @ file://{OTTER_FILES}/{wheel_name}"]


def _config(assignment: Assignment, wheel_name: str) -> str:
    config = {
        "name": assignment.id,
        "requirements": REQUIREMENTS,
        "files": [wheel_name],
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


def build_notebook(assignment: Assignment, wheel_name: str) -> dict[str, Any]:
    """The master notebook; ``wheel_name``: dlgrade's wheel, beside the notebook."""
    modules = list(assignment.modules)
    tests = collect_tests(assignment)
    heading = " ".join(assignment.title.split())  # a title's line breaks would end the heading
    cells = [
        raw_cell(_config(assignment, wheel_name)),
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
    """Write ``<out_dir>/<id>.ipynb``, the otter-assign master notebook, and beside it
    dlgrade's wheel and ``requirements.txt``; return the notebook's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = dlgrade_wheel()
    shutil.copyfile(wheel, out_dir / wheel.name)
    (out_dir / REQUIREMENTS).write_text(
        "\n".join(requirements(assignment, wheel.name)) + "\n", encoding="utf-8")
    path = out_dir / f"{assignment.id}.ipynb"
    write_notebook(path, build_notebook(assignment, wheel.name))
    return path
