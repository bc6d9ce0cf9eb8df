"""nbgrader: a course folder whose source notebook holds the assignment.

Writes::

    OUT/nbgrader_config.py
    OUT/source/<id>/<id>.ipynb

The notebook: a read-only setup cell (creates ``dlgrader``); per module an
editable solution cell (``%%writefile layers.py`` with ``### BEGIN SOLUTION``
regions, which ``nbgrader generate_assignment`` replaces by ``raise
NotImplementedError()``); then one read-only autograder test cell per dlgrade
test, worth that test's points. Hidden tests sit between ``### BEGIN HIDDEN
TESTS`` and ``### END HIDDEN TESTS``: students get an empty cell, ``nbgrader
autograde`` puts the test back.

Then, in OUT: ``nbgrader generate_assignment <id>``, collect submissions into
``submitted/<student>/<id>/<id>.ipynb``, ``nbgrader autograde <id>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograder.config import Assignment
from autograder.packaging.notebook_export import collect_tests, setup_source, solution_cells
from autograder.packaging.notebooks import code_cell, markdown_cell, notebook, write_notebook

CONFIG = '''"""nbgrader configuration for the dlgrade export of {assignment} (run nbgrader in this folder)."""
c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = __import__("os").path.dirname(__import__("os").path.abspath(__file__))
c.CourseDirectory.db_url = "sqlite:///" + c.CourseDirectory.root + "/gradebook.db"
c.Exchange.root = c.CourseDirectory.root + "/exchange"
c.Execute.timeout = 600  # seconds per cell; the dlgrade limits apply inside each test
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
'''


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool,
          points: float | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                            "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in text)


def build_notebook(assignment: Assignment) -> dict[str, Any]:
    cells = [
        markdown_cell(f"# {assignment.title}\n\nImplement the functions that raise "
                      "`NotImplementedError` below; each test cell runs one of the assignment's tests on "
                      "your code and is worth its points. The handout gives the details.",
                      _meta("intro", grade=False, solution=False, locked=True)),
        code_cell(setup_source(assignment), _meta("dlgrade-setup", grade=False, solution=False,
                                                  locked=True)),
    ]
    for module, source in solution_cells(assignment, "### BEGIN SOLUTION", "### END SOLUTION"):
        cells.append(markdown_cell(f"## `{module}`",
                                   _meta(f"heading-{_slug(module)}", grade=False,
                                         solution=False, locked=True)))
        cells.append(code_cell(source, _meta(f"solution-{_slug(module)}", grade=False,
                                             solution=True, locked=False)))
    cells.append(markdown_cell("## Tests", _meta("tests-heading", grade=False, solution=False,
                                                 locked=True)))
    hidden_count = 0
    for test in collect_tests(assignment):
        if test.hidden:  # students see only that a hidden test is there, and its points
            hidden_count += 1
            grade_id = f"hidden-test-{hidden_count}"
            source = (f"# hidden test {hidden_count} ({test.points:g} points)\n"
                      f"### BEGIN HIDDEN TESTS\n{test.call()}\n### END HIDDEN TESTS")
        else:
            grade_id = test.grade_id
            source = f"# {test.name} ({test.points:g} points): {test.description}\n{test.call()}"
        cells.append(code_cell(source, _meta(grade_id, grade=True, solution=False, locked=True,
                                             points=test.points)))
    return notebook(cells)


def build_course(assignment: Assignment, out_dir: Path, *, course_name: str = "course") -> Path:
    """Write the nbgrader course folder into ``out_dir``; return the source notebook's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    course_id = _slug(course_name.lower().replace(" ", "-")) or "course"
    (out_dir / "nbgrader_config.py").write_text(
        CONFIG.format(assignment=assignment.id, course_id=course_id), encoding="utf-8")
    path = out_dir / "source" / assignment.id / f"{assignment.id}.ipynb"
    write_notebook(path, build_notebook(assignment))
    return path
