"""The nbgrader and otter-grader exports, verified by running the real tools.

Each export of assignment 02 goes through the tool's own pipeline: nbgrader
``generate_assignment`` then ``autograde`` (then ``export``); otter ``assign``
then ``otter run``. The reference must get full marks and the starter zero, and
what students receive must hold no hidden test and no solution code.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.config import load_course
from autograder.grader_imports import TORCH_CPU_INDEX, TORCH_REQUIREMENT
from autograder.packaging.leakcheck import check_student_files
from autograder.packaging.notebook_export import collect_tests
from tests.conftest import REPO

BIN = Path(sys.executable).parent
COURSE = load_course(REPO)
FEEDFORWARD = COURSE.assignment("02-feedforward")


def tool(*args, cwd):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("DLGRADE_COURSE", None)
    proc = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"{args}: {proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def package(fmt: str, out: Path, ident: str = "02-feedforward") -> None:
    tool("dlgrade", "--course", str(REPO), "package", ident, "--format", fmt,
         "-o", str(out), cwd=out.parent)


def tool_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


# ---------------------------------------------------------------- nbgrader
@pytest.fixture(scope="module")
def nbgrader_course(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader") / "course"
    package("nbgrader", root)
    tool("nbgrader", "generate_assignment", "02-feedforward", "--force", cwd=root)
    return root


def test_nbgrader_source_notebook_is_valid(nbgrader_course):
    nb = nbformat.read(nbgrader_course / "source/02-feedforward/02-feedforward.ipynb", 4)
    nbformat.validate(nb)
    grade_cells = [c.metadata["nbgrader"] for c in nb.cells if c.metadata.get("nbgrader", {})
                   .get("grade")]
    assert len(grade_cells) == len(collect_tests(FEEDFORWARD))  # one per test, public and hidden
    assert sum(c["points"] for c in grade_cells) == 100


def test_nbgrader_release_hides_solutions_and_hidden_tests(nbgrader_course):
    release = nbgrader_course / "release" / "02-feedforward"
    text = (release / "02-feedforward.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "test_mlp_hidden.py" not in text
    assert "hidden-test-1" in text and "_hidden" not in text  # no hidden test names either
    assert "raise NotImplementedError()" in text
    assert check_student_files(FEEDFORWARD, release) == []


def nbgrader_reference_and_starter_scores(root: Path, ident: str) -> dict:
    """Hand in the reference and the released (starter) notebook; autograde; export."""
    released = nbformat.read(root / f"release/{ident}/{ident}.ipynb", 4)
    source = nbformat.read(root / f"source/{ident}/{ident}.ipynb", 4)
    solved = nbformat.from_dict(json.loads(json.dumps(released)))  # what a student hands in
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in solved.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]  # the marker lines are comments
    for student, nb in (("reference", solved), ("starter", released)):
        folder = root / "submitted" / student / ident
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ident}.ipynb")
    tool("nbgrader", "autograde", ident, cwd=root)
    tool("nbgrader", "export", cwd=root)
    with open(root / "grades.csv", newline="") as fh:
        return {row["student_id"]: (float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(fh)}


def test_nbgrader_autograde_reference_full_and_starter_zero(nbgrader_course):
    """The reference gets 100 and the released (starter) notebook 0 from nbgrader autograde."""
    scores = nbgrader_reference_and_starter_scores(nbgrader_course, "02-feedforward")
    assert scores == {"reference": (100.0, 100.0), "starter": (0.0, 100.0)}, \
        f"nbgrader {tool_version('nbgrader')}"


def test_nbgrader_with_hidden_oracles(tmp_path):
    """04 keeps its reference networks in tests/hidden/conftest.py: nbgrader's hidden test
    cells carry them (reference 100, starter 0) and the released notebook holds none of it."""
    ident = "04-autoencoders"
    assignment = COURSE.assignment(ident)
    hidden_conftest = (assignment.hidden_tests / "conftest.py").read_text()
    root = tmp_path / "course"
    package("nbgrader", root, ident)
    tool("nbgrader", "generate_assignment", ident, "--force", cwd=root)
    assert "class RefAANN" in hidden_conftest
    assert "class RefAANN" in (root / f"source/{ident}/{ident}.ipynb").read_text()
    release = root / "release" / ident
    assert "class RefAANN" not in (release / f"{ident}.ipynb").read_text()
    assert check_student_files(assignment, release) == []
    scores = nbgrader_reference_and_starter_scores(root, ident)
    assert scores == {"reference": (100.0, 100.0), "starter": (0.0, 100.0)}


# ---------------------------------------------------------------- otter-grader
@pytest.fixture(scope="module")
def otter_dist(tmp_path_factory):
    root = tmp_path_factory.mktemp("otter")
    package("otter", root)
    tool("otter", "assign", "02-feedforward.ipynb", "dist", cwd=root)
    return root / "dist"


def otter_run(dist: Path, notebook: Path, out: Path) -> dict:
    zip_path = next((dist / "autograder").glob("*.zip"))
    out.mkdir()
    tool("otter", "run", "-a", str(zip_path), "-o", str(out), str(notebook), cwd=out)
    results = json.loads((out / "results.json").read_text())
    return {t["name"]: (t.get("score"), t.get("max_score")) for t in results["tests"]
            if t.get("max_score") is not None}


def test_otter_student_notebook_hides_solutions_and_hidden_tests(otter_dist):
    student = otter_dist / "student"
    assert check_student_files(FEEDFORWARD, student) == []
    notebook = (student / "02-feedforward.ipynb").read_text()
    assert "test_mlp_hidden.py" not in notebook and "test_relu_forward" in notebook
    zip_path = next((otter_dist / "autograder").glob("*.zip"))
    with zipfile.ZipFile(zip_path) as zf:  # the hidden cases are graded from the zip
        assert "test_mlp_hidden.py" in zf.read("tests/mlp.py").decode()
    nbformat.validate(nbformat.read(student / "02-feedforward.ipynb", 4))


def test_otter_run_reference_full_and_starter_zero(otter_dist, tmp_path):
    """otter run with the generated autograder zip: reference 100, student notebook 0."""
    reference = otter_run(otter_dist, otter_dist / "autograder" / "02-feedforward.ipynb",
                          tmp_path / "reference")
    starter = otter_run(otter_dist, otter_dist / "student" / "02-feedforward.ipynb",
                        tmp_path / "starter")
    points = module_points(FEEDFORWARD)
    assert sum(points.values()) == 100
    assert reference == {m: (p, p) for m, p in points.items()}, \
        f"otter-grader {tool_version('otter-grader')}"
    assert starter == {m: (0.0, p) for m, p in points.items()}


def module_points(assignment) -> dict[str, float]:
    """Module stem -> the points of its tests (public and hidden): what each otter question
    carries."""
    points: dict[str, float] = {}
    for test in collect_tests(assignment):
        stem = Path(test.file).stem.removeprefix("test_").removesuffix("_hidden")
        points[stem] = points.get(stem, 0.0) + test.points
    return points


def otter_zip_environment(dist: Path) -> tuple[zipfile.ZipFile, list[str]]:
    """The autograder zip otter built, and the pip lines of its ``environment.yml``."""
    zf = zipfile.ZipFile(next((dist / "autograder").glob("*.zip")))
    environment = yaml.safe_load(zf.read("environment.yml"))
    pip = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    assert len(pip) == 1, environment
    return zf, pip[0]


def test_otter_zip_installs_dlgrade_and_cpu_torch(otter_dist):
    """otter 7 puts the master's ``requirements`` into the zip's ``environment.yml`` (its pip
    list, after otter itself), which the image's ``setup.sh`` creates and ``run_autograder``
    activates; the wheel they name is in the zip, where the image unpacks ``files``."""
    from otter.run import AutograderConfig

    from autograder.packaging.otter import OTTER_FILES

    zf, pip = otter_zip_environment(otter_dist)
    with zf:
        wheels = [n for n in zf.namelist() if n.startswith("files/dlgrade-") and n.endswith(".whl")]
        assert len(wheels) == 1, zf.namelist()
        wheel = Path(wheels[0]).name
        assert pip[0].startswith("otter-grader[grading,plugins]==")
        assert pip[1:] == [f"--extra-index-url {TORCH_CPU_INDEX}", TORCH_REQUIREMENT,
                           f"dlgrade @ file://{OTTER_FILES}/{wheel}"]
        root = AutograderConfig({}).autograder_dir  # where otter's image unpacks the zip
        assert OTTER_FILES == f"{root}/source/files"
        setup, run = zf.read("setup.sh").decode(), zf.read("run_autograder").decode()
        assert f"mamba env create -f {root}/source/environment.yml" in setup
        assert "mamba activate otter-env" in run
        master = nbformat.read(otter_dist.parent / "02-feedforward.ipynb", 4)
        config = yaml.safe_load(master.cells[0].source.removeprefix("# ASSIGNMENT CONFIG\n"))
        assert config["files"] == [wheel]  # every listed file is in the zip
        assert all(f"files/{name}" in zf.namelist() for name in config["files"])
        assert (otter_dist / "student" / wheel).is_file()  # students install it too


def test_otter_zip_requirements_install(otter_dist, tmp_path):
    """The zip's dlgrade line installs into a fresh venv from the unpacked zip alone (no
    index), and the grading server's module imports from there; the torch line's range
    admits the CPU build and resolves against the local index (pytorch.org is not reachable
    here: the line's index is checked above)."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    from autograder.packaging.otter import OTTER_FILES

    source = tmp_path / "source"  # /autograder/source in otter's image
    zf, pip = otter_zip_environment(otter_dist)
    with zf:
        zf.extractall(source)
    line = pip[-1].replace(f"file://{OTTER_FILES}", f"file://{source / 'files'}")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--quiet", "--no-index", "--no-deps", line],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    probe = ("import importlib.metadata as m, autograder.packaging.notebook_grading as g; "
             "print(m.version('dlgrade'), g.__file__, *m.requires('dlgrade'), sep='\\n')")
    out = subprocess.run([str(python), "-c", probe], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    version, module, *requires = out.stdout.splitlines()
    assert version == tool_version("dlgrade")
    assert Path(module).is_relative_to(venv)  # the wheel's copy, not this checkout's
    assert any(r.startswith("numpy") for r in requires)  # pip pulls the rest from PyPI

    torch = Requirement(TORCH_REQUIREMENT)
    assert torch.name == "torch" and Version("2.13.0+cpu") in torch.specifier
    report = tmp_path / "torch.json"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps",
                           "--ignore-installed", "--quiet", "--report", str(report),
                           TORCH_REQUIREMENT], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    [chosen] = json.loads(report.read_text())["install"]
    assert Version(chosen["metadata"]["version"]) in torch.specifier


def test_otter_requirements_name_torch_only_where_the_tests_need_it(tmp_path):
    """01's graders never import torch: its requirements are dlgrade's wheel alone."""
    from autograder.packaging.otter import build_master

    build_master(COURSE.assignment("01-classical"), tmp_path)
    lines = (tmp_path / "requirements.txt").read_text().splitlines()
    [wheel] = [p.name for p in tmp_path.glob("dlgrade-*.whl")]
    assert len(lines) == 1 and lines[0].startswith("dlgrade @ file:///")
    assert lines[0].endswith(f"/{wheel}")


def test_tool_versions_are_the_tested_ones():
    """The note lists the versions these tests ran with; the extra pins their major versions."""
    assert tool_version("nbgrader").startswith("0.9.")
    assert tool_version("otter-grader").startswith("7.")
    assert shutil.which("jupyter", path=str(BIN)) is not None
