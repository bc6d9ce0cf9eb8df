"""The student walkthrough notebook, generated from the assignment.

Sections: a setup cell that installs dlgrade from the wheel shipped beside the notebook
(and torch's CPU build where the assignment needs torch; in Colab it first unpacks the
uploaded release zip); the handout's introduction; a ``check()`` helper that runs the public
tests (``dlgrade check``) and returns their results; then one section per
module listing what to implement (read from the starter: every function whose
body raises ``NotImplementedError``) with a cell that checks that module and
plots its points; then the assignment's own exploration cells, when it has
``assignments/<id>/walkthrough.py`` (percent format: ``# %%`` code cells,
``# %% [markdown]`` text cells), e.g. a loss curve or generated samples; then the
handout's "Analysis questions", each with a "Your answer" cell for the student.

The exploration cells call the student's functions, so on the starter they raise
``NotImplementedError``: they carry Jupyter's ``raises-exception`` tag, with which JupyterLab's
"Run All" and nbclient go on to the closing check instead of stopping there.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from autograder.authoring import render_starter
from autograder.config import Assignment
from autograder.grader_imports import TORCH_CPU_INDEX, TORCH_REQUIREMENT, needs_torch
from autograder.packaging.notebooks import code_cell, markdown_cell, notebook, percent_cells

CHECK_HELPER = '''\
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ASSIGNMENT = {assignment_id!r}


def check(module=None, plot=True):
    """Run the public tests (`dlgrade check`, with this notebook's Python) on the files here.

    module: a file name such as "layers.py" to show only its tests (all by default).
    Returns the list of test results (dicts with name, score, max_score, status, output).
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "results.json"
        run = subprocess.run([sys.executable, "-m", "autograder.cli", "check", ASSIGNMENT,
                              "--format", "json", "-o", str(out)], capture_output=True, text=True)
        if not out.exists():
            print(run.stdout, run.stderr)
            return []
        results = json.loads(out.read_text())["tests"]
    if module is not None:
        results = [t for t in results if t["name"].split("::")[0].endswith("test_" + module)]
    for t in results:
        mark = "PASS" if t["status"] == "passed" else "FAIL"
        name = t["name"].split("::")[-1]
        print(f"{{mark}}  {{t['score']:g}}/{{t['max_score']:g}}  {{name}}")
        if mark == "FAIL":
            print("      " + t["output"].splitlines()[-1] if t["output"] else "")
    earned = sum(t["score"] for t in results)
    print(f"\\n{{earned:g}} / {{sum(t['max_score'] for t in results):g}} public points")
    if plot and results:
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            return results
        names = [t["name"].split("::")[-1] for t in results]
        fig, ax = plt.subplots(figsize=(7, 0.3 * len(names) + 1))
        ax.barh(names, [t["max_score"] for t in results], color="#ddd", label="points")
        ax.barh(names, [t["score"] for t in results], color="#2a9d8f", label="earned")
        ax.invert_yaxis()
        ax.set_xlabel("points")
        ax.legend(loc="lower right")
        plt.show()
    return results
'''


SETUP = '''\
# Setup, once per environment: installs dlgrade from the wheel that came with this assignment.
# Colab: upload {zip_name} (Files pane, on the left), then run this cell.
import importlib.util
import os
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

WHEEL = {wheel!r}
if not Path(WHEEL).exists() and not Path({folder!r}).is_dir() and Path({zip_name!r}).exists():
    zipfile.ZipFile({zip_name!r}).extractall()  # once: never over the files you edited
if not Path(WHEEL).exists() and Path({folder!r}, WHEEL).exists():
    os.chdir({folder!r})  # the assignment's folder, where the .py files you edit are
try:
    installed = version("dlgrade")
except PackageNotFoundError:
    installed = None
{torch}if importlib.util.find_spec("matplotlib") is None:  # the notebook's plots
    %pip install -q matplotlib
if installed != {version!r}:
    %pip install -q ./{wheel}
'''

TORCH_SETUP = f'''\
if importlib.util.find_spec("torch") is None:  # PyTorch's CPU build: all this assignment needs
    %pip install -q "{TORCH_REQUIREMENT}" --index-url {TORCH_CPU_INDEX}
'''


def setup_cell(assignment: Assignment, wheel: str, zip_name: str) -> str:
    """The notebook's first cell: install dlgrade from ``wheel`` (a file name beside the
    notebook) unless this version is installed; in Colab, unpack ``zip_name`` first."""
    version = wheel.split("-")[1]
    torch = TORCH_SETUP if needs_torch(assignment, include_hidden=False) else ""
    return SETUP.format(zip_name=zip_name, wheel=wheel, folder=assignment.id, version=version,
                        torch=torch)


def _intro(readme: str) -> str:
    """The handout's title and first paragraph."""
    blocks = [b.strip() for b in readme.split("\n\n") if b.strip()]
    title = blocks[0] if blocks and blocks[0].startswith("#") else ""
    body = next((b for b in blocks[1:] if not b.startswith(("#", "|", "```", "<!--"))), "")
    return "\n\n".join(x for x in (title, body) if x)


def _todo_functions(source: str) -> list[tuple[str, str]]:
    """``(qualified name, first docstring line)`` of every stub in a starter module."""
    out = []
    tree = ast.parse(source)

    def visit(nodes: list[Any], prefix: str) -> None:
        for node in nodes:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef):
                raises = any(isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call)
                             and getattr(n.exc.func, "id", "") == "NotImplementedError"
                             for n in ast.walk(node))
                if raises:
                    doc = (ast.get_docstring(node) or "").strip().splitlines()
                    out.append((prefix + node.name, doc[0] if doc else ""))

    visit(tree.body, "")
    return out


ANSWER = "**Your answer:**\n\n(double-click to edit)"


def analysis_questions(readme: str) -> tuple[str, list[str]]:
    """The handout's ``## Analysis questions`` section: its introduction and its numbered
    questions (Markdown, without their numbers); empty when the handout has none."""
    match = re.search(r"^## Analysis questions[ \t]*\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    if not match:
        return "", []
    intro, *items = re.split(r"^\d+\.[ \t]+", match.group(1), flags=re.M)
    return intro.strip(), [" ".join(line.strip() for line in item.strip().splitlines())
                           for item in items]


def _question_cells(readme: str) -> list[dict[str, Any]]:
    """One Markdown cell per analysis question, each followed by one for the answer."""
    intro, questions = analysis_questions(readme)
    if not questions:
        return []
    cells = [markdown_cell(f"## Analysis questions\n\n{intro}")]
    for k, question in enumerate(questions, 1):
        cells += [markdown_cell(f"**Question {k}.** {question}"), markdown_cell(ANSWER)]
    return cells


def walkthrough_notebook(assignment: Assignment, wheel: str, zip_name: str) -> dict[str, Any]:
    """The walkthrough notebook of ``assignment`` (nbformat 4.5 JSON), for a release whose
    folder holds the dlgrade wheel ``wheel`` and which students download as ``zip_name``."""
    readme_path = assignment.root / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else ""
    starter = render_starter(assignment.solutions_dir)
    cells = [
        code_cell(setup_cell(assignment, wheel, zip_name)),
        markdown_cell(f"{_intro(readme) or '# ' + assignment.title}\n\n"
                      "This notebook walks you through the assignment. Edit the `.py` files "
                      "next to it (not this notebook); the cells below import them and run the "
                      "public tests. The handout, `README.md`, has the details."),
        code_cell("%load_ext autoreload\n%autoreload 2\n\nimport numpy as np"),
        markdown_cell("`check()` runs the public tests on your files, exactly as "
                      f"`dlgrade check {assignment.id}` does in a terminal, and plots the points."),
        code_cell(CHECK_HELPER.format(assignment_id=assignment.id)),
    ]
    for module in assignment.modules:
        stubs = _todo_functions(starter.get(module, ""))
        listing = "\n".join(f"- `{name}`: {doc}" for name, doc in stubs) or "- (nothing to do)"
        stem = Path(module).stem
        cells += [
            markdown_cell(f"## `{module}`\n\nTo implement:\n\n{listing}"),
            code_cell(f"import {stem}\n\nresults = check({module!r})"),
        ]
    extra = assignment.root / "walkthrough.py"
    if extra.is_file():
        cells.append(markdown_cell("## Explore"))
        cells += [{**cell, "metadata": {"tags": ["raises-exception"]}}
                  if cell["cell_type"] == "code" else cell
                  for cell in percent_cells(extra.read_text(encoding="utf-8"))]
    cells += _question_cells(readme)
    cells += [markdown_cell("## All public tests"), code_cell("results = check()")]
    return notebook(cells)
