"""``dlgrade release``: the zip students download.

Layout (one top folder named after the assignment)::

    02-feedforward/
      README.md                       the handout + "How to check and submit"
      layers.py, mlp.py, ...          the starter modules: students edit these
      dlgrade-<version>-py3-none-any.whl   dlgrade itself: what students pip-install
      walkthrough.ipynb               a notebook that walks through the assignment; its first
                                      cell installs the wheel (in Colab too)
      course.toml                     makes the folder a course: `dlgrade check` works here
      assignments/02-feedforward/     assignment.toml, tests/conftest.py, tests/public/, data/
      .github/workflows/dlgrade.yml   runs `dlgrade ci` on every push

Nothing else: no solutions, no hidden tests. Before the zip is written every
file goes through the leak check, and a release with a leak is refused. Torch is
installed (its CPU build) only where the assignment's public tests need it.
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring import render_starter
from autograder.config import Assignment
from autograder.errors import CheckFailed, UsageError
from autograder.grader_imports import needs_torch
from autograder.packaging.bundle import copy_assignment, write_zip
from autograder.packaging.install import dlgrade_wheel, install_commands
from autograder.packaging.leakcheck import Leak, check_student_files
from autograder.packaging.notebooks import write_notebook
from autograder.packaging.walkthrough import walkthrough_notebook
from autograder.packaging.workflow import WORKFLOW_PATH, workflow_yaml


class LeakError(CheckFailed):
    """A release would contain solution code or hidden tests."""

    def __init__(self, leaks: list[Leak]):
        shown = "\n  ".join(str(leak) for leak in leaks[:10])
        more = f"\n  ... and {len(leaks) - 10} more" if len(leaks) > 10 else ""
        super().__init__(f"refusing to release: {len(leaks)} leak(s) of solution code or hidden "
                         f"tests:\n  {shown}{more}")
        self.leaks = leaks


@dataclass
class Release:
    zip_path: Path
    files: list[str]  # paths inside the zip
    public_points: float


def public_points(assignment: Assignment) -> float:
    """The points of the public tests, read from their ``@pytest.mark.points(n)`` markers."""
    return marked_points(assignment.public_tests)


def marked_points(folder: Path) -> float:
    """The points of a tests folder, from literal ``@pytest.mark.points(n)`` markers (read,
    never run)."""
    total = 0.0
    for path in sorted(folder.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "points" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                total += float(node.args[0].value)
    return total


def release_zip_name(assignment: Assignment) -> str:
    """The file name students download: ``<id>-release.zip``."""
    return f"{assignment.id}-release.zip"


def how_to_check_and_submit(assignment: Assignment, points: float, wheel: str) -> str:
    modules = ", ".join(f"`{m}`" for m in assignment.modules)
    commands = "\n".join(f"   {c}" for c in install_commands(assignment, f"./{wheel}",
                                                             include_hidden=False))
    torch = ("The first command installs PyTorch's CPU build, all this assignment needs (skip "
             "it if you have torch 2.1 or newer)" if needs_torch(assignment, include_hidden=False)
             else "This assignment does not use PyTorch: nothing else is needed")
    return f"""

---

## How to check and submit

1. Install dlgrade once, from the wheel in this folder (Python 3.11 or newer; a virtual
   environment keeps it apart from your other projects):

   ```
{commands}
   ```

   {torch}. In Jupyter or Colab, the first cell of `walkthrough.ipynb` does this for you.
2. Work in this folder: implement the functions marked `TODO` in {modules}.
   `walkthrough.ipynb` walks through the assignment step by step.
3. Check your work with the public tests ({points:g} of {assignment.total_points:g} points),
   from this folder:

   ```
   dlgrade check {assignment.id}
   ```

   Each line is one test, with its points and, when it fails, why. Your code runs in a
   separate, sandboxed process; add `--isolation none` to debug with `breakpoint()`.
4. The remaining points come from hidden tests, run after the due date. They test the same
   functions on other inputs and edge cases: passing the public tests is necessary, not
   sufficient.
5. Submit {modules} (the files only, or a zip of them). Do not rename them or change the
   function signatures.

If you push this folder to GitHub, `.github/workflows/dlgrade.yml` runs the public tests on
every push (`dlgrade ci`) and shows the table in the run's summary.
"""


def _staged_files(assignment: Assignment, course_name: str, requirement: str | None,
                  stage: Path) -> Path:
    top = stage / assignment.id
    if not assignment.solutions_dir or not assignment.solutions_dir.is_dir():
        raise UsageError(f"{assignment.id}: no reference solution to generate the starter from")
    for rel, text in render_starter(assignment.solutions_dir).items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text(text, encoding="utf-8")
    points = public_points(assignment)
    wheel = dlgrade_wheel()
    shutil.copyfile(wheel, top / wheel.name)
    handout = assignment.root / "README.md"
    readme = handout.read_text(encoding="utf-8") if handout.is_file() else f"# {assignment.title}\n"
    (top / "README.md").write_text(readme.rstrip() + "\n" + how_to_check_and_submit(
        assignment, points, wheel.name), encoding="utf-8")
    copy_assignment(assignment, top, include_hidden=False, course_name=course_name)
    write_notebook(top / "walkthrough.ipynb",
                   walkthrough_notebook(assignment, wheel.name, release_zip_name(assignment)))
    workflow = top / WORKFLOW_PATH
    workflow.parent.mkdir(parents=True)
    workflow.write_text(workflow_yaml(assignment, points, wheel.name, requirement), encoding="utf-8")
    return top


def build_release(assignment: Assignment, out_dir: Path, *, course_name: str = "",
                  requirement: str | None = None) -> Release:
    """Write ``<out_dir>/<id>-release.zip`` after the leak check.

    ``requirement``: what the GitHub workflow pip-installs to get dlgrade (default: the
    wheel in the release).

    Raises:
        LeakError: a file of the release holds solution code or hidden tests.
    """
    with tempfile.TemporaryDirectory(prefix="dlgrade-release-") as tmp:
        top = _staged_files(assignment, course_name or "course", requirement, Path(tmp))
        leaks = check_student_files(assignment, top)
        if leaks:
            raise LeakError(leaks)
        zip_path = Path(out_dir) / release_zip_name(assignment)
        names = write_zip(top, zip_path, base=top.parent)
        return Release(zip_path, names, public_points(assignment))
