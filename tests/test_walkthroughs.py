"""Every assignment's walkthrough notebook, as its release ships it, runs on the reference.

- Structure: each assignment has exploration cells (``assignments/<id>/walkthrough.py``) that
  plot, and a handout with 2 to 4 analysis questions; the notebook asks each question and
  leaves a "Your answer" cell under it, and tags the exploration cells ``raises-exception``
  (on the starter they raise NotImplementedError, and "Run All" must still reach the check).
- Execution (e2e): the release of each assignment, unpacked, with the reference's modules in
  place of the starter, is run by nbclient in a kernel of this environment, top to bottom
  except the per-module ``check("<module>.py")`` cells (each reruns the whole public suite
  only to filter it, up to seven times a notebook; the closing ``check()`` runs it once, and
  tests/test_packaging.py runs 02's notebook whole). No cell may fail, every exploration cell
  that shows a figure must have produced an image, the closing check must earn every public
  point, and the exploration cells must finish within ``EXPLORE_BUDGET_S``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from autograder.config import load_course
from autograder.packaging.notebooks import percent_cells
from autograder.packaging.release import build_release
from autograder.packaging.walkthrough import ANSWER, analysis_questions, walkthrough_notebook
from tests.conftest import REPO

COURSE = load_course(REPO)
IDS = COURSE.assignment_ids()
BIN = str(Path(sys.executable).parent)
#: seconds the exploration cells of one notebook may take on the reference (about 10 to 45 s on
#: two busy cores; students' own code may be slower, the point is to keep them short)
EXPLORE_BUDGET_S = 180
#: a cell's own limit, so that a hung kernel fails the test instead of the whole run
CELL_TIMEOUT_S = 300


def _notebook(ident: str) -> nbformat.NotebookNode:
    nb = walkthrough_notebook(COURSE.assignment(ident), "dlgrade-0.1.0-py3-none-any.whl",
                              f"{ident}-release.zip")
    return nbformat.reads(json.dumps(nb), as_version=4)


def _explore_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The code cells between "## Explore" and the next section the generator adds."""
    sources = [c.source for c in nb.cells]
    start = sources.index("## Explore")
    end = next(i for i, s in enumerate(sources) if i > start and s.startswith(
        ("## Analysis questions", "## All public tests")))
    return [c for c in nb.cells[start:end] if c.cell_type == "code"]


def _shows_a_figure(source: str) -> bool:
    return "plt.show()" in source


@pytest.mark.parametrize("ident", IDS)
def test_walkthrough_plots_and_asks_the_handouts_questions(ident):
    assignment = COURSE.assignment(ident)
    script = assignment.root / "walkthrough.py"
    assert script.is_file(), f"{ident}: no walkthrough.py"
    cells = percent_cells(script.read_text(encoding="utf-8"))
    assert sum(_shows_a_figure(c["source"]) for c in cells if c["cell_type"] == "code") >= 2, (
        f"{ident}: the walkthrough should show at least two figures")
    readme = (assignment.root / "README.md").read_text(encoding="utf-8")
    intro, questions = analysis_questions(readme)
    assert 2 <= len(questions) <= 4, f"{ident}: {len(questions)} analysis questions"
    assert "walkthrough.ipynb" in intro and "not auto-graded" in intro, intro
    assert re.findall(r"^## .*", readme, re.M)[-1] == "## Analysis questions", (
        "the questions close the handout (the release appends 'How to check and submit')")

    nb = _notebook(ident)
    sources = [c.source for c in nb.cells]
    for k, question in enumerate(questions, 1):
        at = sources.index(f"**Question {k}.** {question}")
        assert nb.cells[at + 1].cell_type == "markdown" and sources[at + 1] == ANSWER
    assert sources[-2:] == ["## All public tests", "results = check()"]
    explore = _explore_cells(nb)
    assert explore and all(c.metadata.get("tags") == ["raises-exception"] for c in explore)
    checks = [c for c in nb.cells if c.cell_type == "code" and "check(" in c.source]
    assert all("tags" not in c.metadata for c in checks), "check cells must stop on errors"


def test_analysis_questions_are_read_from_the_handout():
    readme = ("# A\n\nIntro.\n\n## Analysis questions\n\nAnswer in the notebook.\n\n"
              "1. **Curves.** Why does the loss\n   plateau?\n2. Which is faster?\n\n"
              "## Later\n\n1. Not a question.\n")
    assert analysis_questions(readme) == ("Answer in the notebook.", [
        "**Curves.** Why does the loss plateau?", "Which is faster?"])
    assert analysis_questions("# A\n\n## Points\n\n1. x\n") == ("", [])


def _seconds(cell: nbformat.NotebookNode) -> float:
    timing = cell.metadata["execution"]
    started, done = (datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
                     for key in ("iopub.execute_input", "shell.execute_reply"))
    return (done - started).total_seconds()


@pytest.mark.parametrize("ident", IDS)
def test_walkthrough_runs_on_the_reference(ident, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    assignment = COURSE.assignment(ident)
    release = build_release(assignment, tmp_path, course_name=COURSE.name)
    with zipfile.ZipFile(release.zip_path) as zf:
        zf.extractall(tmp_path / "unpacked")
    folder = tmp_path / "unpacked" / ident
    for module in assignment.modules:
        shutil.copy(assignment.solutions_dir / module, folder / module)
    nb = nbformat.read(folder / "walkthrough.ipynb", as_version=4)
    nbformat.validate(nb)
    per_module = re.compile(r"^results = check\(['\"]", re.M)
    nb.cells = [c for c in nb.cells if not per_module.search(c.source)]

    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ["PATH"])  # the kernel: this venv's
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        # two cores shared with other tests: BLAS threads that spin-wait on them made one
        # exploration cell ten times slower
        monkeypatch.setenv(var, "1")
    NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()

    errors = [f"cell {i}: {o.ename}: {o.evalue}" for i, c in enumerate(nb.cells)
              if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, "\n".join(errors)
    explore = _explore_cells(nb)
    blank = [c.source.splitlines()[0] for c in explore if _shows_a_figure(c.source)
             and not any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert not blank, f"cells that show a figure but produced no image: {blank}"
    closing = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    points = f"{release.public_points:g} / {release.public_points:g} public points"
    assert points in closing, closing[-2000:]
    seconds = sum(_seconds(c) for c in explore)
    print(f"{ident}: exploration cells {seconds:.1f} s")
    assert seconds <= EXPLORE_BUDGET_S, (
        f"{ident}: the exploration cells took {seconds:.0f} s (budget {EXPLORE_BUDGET_S} s)")
