"""The fork server that grade-batch forks its grading processes from preloads the graders' imports."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from autograder.batch.preload import (
    PLATFORM_PRELOAD,
    TORCH_PRELOAD,
    grader_imports,
    imported_modules,
    preload_for,
)
from autograder.batch.runner import _pool_context
from autograder.config import load_course
from autograder.grader_imports import uses_torch

REPO = Path(__file__).resolve().parents[1]


def test_imported_modules_reads_every_absolute_import():
    source = (
        "import os.path as p, json\n"
        "from sklearn.datasets import load_digits\n"
        "from . import helpers\n"
        "def f():\n"
        "    import scipy.stats\n"
        "    from torch import nn\n")
    assert imported_modules(source) == {"os.path", "json", "sklearn.datasets", "scipy.stats", "torch"}
    assert imported_modules("def broken(:\n") == set()


def test_assignment_graders_imports_are_found():
    course = load_course(REPO)
    found = grader_imports(course.assignment("02-feedforward"))
    assert "sklearn.model_selection" in found  # imported inside an oracle method
    assert not any(m.startswith("autograder") for m in found)
    preload = preload_for(course.assignment("01-classical"))
    assert preload[:len(PLATFORM_PRELOAD)] == PLATFORM_PRELOAD
    assert "sklearn.mixture" in preload and len(preload) == len(set(preload))
    assert not any(m.startswith("torch") for m in preload)  # 01's grading never uses torch
    preload = preload_for(course.assignment("02-feedforward"))  # its graders' oracles do
    assert preload[:len(PLATFORM_PRELOAD) + 2] == PLATFORM_PRELOAD + TORCH_PRELOAD


def test_uses_torch_reads_every_test_file_and_notices_edits(tmp_path):
    """Torch is needed in the trusted process when students may use it or any grader file
    imports it, even inside a function; an edited test file is read again."""
    course = load_course(REPO)
    assert {a.id: uses_torch(a) for a in course.assignments()} == {
        a.id: a.id != "01-classical" for a in course.assignments()}
    root = tmp_path / "assignments" / "01-classical"
    (root / "tests" / "hidden").mkdir(parents=True)
    helper = root / "tests" / "hidden" / "test_h.py"
    helper.write_text("import numpy\n\ndef test_x():\n    pass\n")
    fake = dataclasses.replace(course.assignment("01-classical"), root=root)
    assert not uses_torch(fake)
    helper.write_text("import numpy\n\ndef test_x():\n    import torch.nn\n")
    assert uses_torch(fake)


def test_course_and_student_modules_are_never_preloaded(tmp_path, monkeypatch):
    """A test that imports the student's module, or a helper that lives in the course, is not
    imported by the fork server: only installed libraries are."""
    course = load_course(REPO)
    real = course.assignment("02-feedforward")
    root = tmp_path / "assignments" / "02-feedforward"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_x.py").write_text(
        "import layers\nimport course_helpers\nimport json\nfrom scipy import special\n")
    (tmp_path / "assignments" / "course_helpers.py").write_text("")
    fake = dataclasses.replace(real, root=root, solutions_dir=tmp_path / "solutions",
                               starter_dir=tmp_path / "starter")
    monkeypatch.syspath_prepend(str(tmp_path / "assignments"))  # course_helpers is importable
    assert grader_imports(fake) == ["json", "scipy"]


CHECK = "[m in __import__('sys').modules for m in ('xml.dom.minidom', 'wave')]"


def test_grading_processes_start_with_the_preload_imported():
    """Each pool process is forked from a fork server that has imported the list; a new list
    restarts the server (a running one would keep its old imports)."""
    with ProcessPoolExecutor(1, mp_context=_pool_context(["numpy", "xml.dom.minidom"])) as pool:
        assert pool.submit(eval, CHECK).result() == [True, False]
    with ProcessPoolExecutor(1, mp_context=_pool_context(["numpy", "wave"])) as pool:
        assert pool.submit(eval, CHECK).result() == [False, True]
