"""dlgrade is installable from what the course hands out.

- ``python -m build`` makes a wheel and an sdist; the version lives in ``autograder.__version__``;
  torch is an extra, not a dependency.
- What packages tell users to install: the bundled wheel, and torch's CPU build only where the
  assignment's tests need torch (never a CUDA build, never torch for 01).
- The student path from the release zip alone: a fresh venv, the handout's install commands as
  written, ``dlgrade check`` on the starter (0, with reasons) and on the reference's modules
  (every public point). One student's venv: 01 first, which installs no torch at all; then
  02, whose conftest compares against torch autograd, so its handout adds torch's CPU build
  (here: the local 2.13.0 wheel).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import autograder
from autograder.config import load_course
from autograder.grader_imports import TORCH_CPU_INDEX, TORCH_REQUIREMENT, needs_torch
from autograder.packaging.gradescope import build_autograder_zip
from autograder.packaging.install import dlgrade_wheel
from autograder.packaging.release import how_to_check_and_submit, public_points
from autograder.packaging.walkthrough import setup_cell
from autograder.packaging.workflow import workflow_yaml
from tests import envsim, freshenv
from tests.conftest import REPO

COURSE = load_course(REPO)
DLGRADE = [sys.executable, "-m", "autograder.cli"]
WHEEL = f"dlgrade-{autograder.__version__}-py3-none-any.whl"


# ---------------------------------------------------------------- the distribution
def test_python_m_build_makes_a_wheel_and_an_sdist(tmp_path):
    """From a clean copy of the project (the checkout is left untouched)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "autograder", src / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"),
                           str(src)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    version = autograder.__version__
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == [
        f"dlgrade-{version}-py3-none-any.whl", f"dlgrade-{version}.tar.gz"]
    with zipfile.ZipFile(tmp_path / "dist" / f"dlgrade-{version}-py3-none-any.whl") as zf:
        meta = zf.read(f"dlgrade-{version}.dist-info/METADATA").decode()
        names = zf.namelist()
    assert f"Version: {version}\n" in meta
    torch = [line for line in meta.splitlines() if line.startswith("Requires-Dist: torch")]
    assert len(torch) == 1 and torch[0].endswith('; extra == "torch"'), torch
    assert "Provides-Extra: torch" in meta
    assert {"autograder/cli.py", "autograder/sandbox/warm_parent.py",
            "autograder/packaging/install.py"} <= set(names)


def test_the_version_lives_in_one_place():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "autograder.__version__"}
    assert not any(d.startswith("torch") for d in pyproject["project"]["dependencies"])
    assert pyproject["project"]["optional-dependencies"]["torch"] == [TORCH_REQUIREMENT]


def test_the_packaged_wheel_is_built_once_per_process_and_reproducibly(tmp_path):
    wheel = dlgrade_wheel()
    assert wheel.name == WHEEL and dlgrade_wheel() == wheel
    again = subprocess.run(
        [sys.executable, "-c", "from autograder.packaging.install import dlgrade_wheel; "
                               "print(dlgrade_wheel().read_bytes().hex())"],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert again.returncode == 0, again.stderr
    assert bytes.fromhex(again.stdout.strip()) == wheel.read_bytes()


# ---------------------------------------------------------------- what packages install
@pytest.mark.parametrize("ident, release, gradescope", [
    ("01-classical", False, False),  # numpy only, everywhere
    ("02-feedforward", True, True),  # its public oracle compares with torch autograd
    ("03-optimization", True, True),  # its oracle is torch.optim
    ("05-cnn", True, True),  # students use torch
])
def test_torch_is_installed_only_where_the_tests_need_it(ident, release, gradescope):
    assignment = COURSE.assignment(ident)
    assert needs_torch(assignment, include_hidden=False) is release
    assert needs_torch(assignment, include_hidden=True) is gradescope


@pytest.mark.parametrize("ident", COURSE.assignment_ids())
def test_no_generated_file_installs_a_cuda_torch(ident, tmp_path):
    """Every pip command that names torch takes it from PyTorch's CPU-only index; an
    assignment whose tests never import torch installs none; dlgrade comes from the wheel."""
    assignment = COURSE.assignment(ident)
    with zipfile.ZipFile(build_autograder_zip(assignment, tmp_path)) as zf:
        install_sh = zf.read("install.sh").decode()
        assert WHEEL in zf.namelist()
    texts = {
        "handout": how_to_check_and_submit(assignment, public_points(assignment), WHEEL),
        "workflow": workflow_yaml(assignment, public_points(assignment), WHEEL),
        "notebook": setup_cell(assignment, WHEEL, f"{ident}-release.zip"),
        "gradescope": install_sh,
    }
    cpu_only = re.compile(rf'"{re.escape(TORCH_REQUIREMENT)}" --index-url '
                          rf'\S*{re.escape(TORCH_CPU_INDEX)}')
    for where, text in texts.items():
        installs = [line for line in text.splitlines() if "pip install" in line]
        torch = [line for line in installs if "torch" in line]
        expected = needs_torch(assignment, include_hidden=where == "gradescope")
        assert bool(torch) is expected, (where, installs)
        for line in torch:
            assert cpu_only.search(line), (where, line)
        assert any(f"./{WHEEL}" in line for line in installs), (where, installs)
        assert not re.search(r"pip install (-q )?dlgrade\b", text), where
    assert f"cache-dependency-path: {WHEEL}" in texts["workflow"]
    assert "cache: pip" in texts["workflow"]


# ---------------------------------------------------------------- the student path
def release_folder(ident: str, out: Path) -> Path:
    """``dlgrade release ID``, unzipped as a student does."""
    proc = subprocess.run([*DLGRADE, "--course", str(REPO), "release", ident, "-o", str(out)],
                          capture_output=True, text=True, timeout=600, env=freshenv.pip_env())
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out / f"{ident}-release.zip") as zf:
        zf.extractall(out / "student")
    return out / "student" / ident


def handout_install_commands(folder: Path) -> list[str]:
    """The commands in the code block of step 1 of the handout's "How to check and submit"."""
    text = (folder / "README.md").read_text()
    step = text.split("## How to check and submit", 1)[1].split("\n2. ", 1)[0]
    block = step.split("```", 2)[1]
    return [line.strip() for line in block.splitlines() if line.strip()]


def check(venv: Path, folder: Path, ident: str) -> dict:
    """``dlgrade check ID`` in ``folder``, run by the venv's console script."""
    proc = freshenv.run_in(venv, f"dlgrade check {ident} --format json -o r.json", folder)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads((folder / "r.json").read_text())


def assert_starter_then_reference(venv: Path, folder: Path, ident: str) -> None:
    assignment = COURSE.assignment(ident)
    starter = check(venv, folder, ident)
    assert (starter["score"], starter["max_score"]) == (0, public_points(assignment))
    for test in starter["tests"]:
        reason = test["extra_data"]["reason"]
        assert test["status"] == "failed" and reason.startswith("not implemented yet"), test
    for module in assignment.modules:
        shutil.copy(assignment.solutions_dir / module, folder / module)
    solved = check(venv, folder, ident)
    assert solved["score"] == solved["max_score"] == public_points(assignment), [
        (t["name"], t["extra_data"]["reason"]) for t in solved["tests"] if t["status"] != "passed"]


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory):
    """A fresh venv: one student's, who does 01 and then 02 in it."""
    venv = freshenv.make_venv(tmp_path_factory.mktemp("student") / "venv")
    yield venv
    freshenv.remove(venv)


def follow_the_handout(venv: Path, folder: Path, expected: list[str], tmp: Path) -> None:
    """Run the handout's install commands, as written but for PyTorch's index (see freshenv)."""
    commands = handout_install_commands(folder)
    assert commands == expected
    local = freshenv.empty_index(tmp / "no-index")
    for command in commands:
        proc = freshenv.run_in(venv, freshenv.with_local_torch(command, local), folder)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@pytest.fixture(scope="module")
def numpy_student(student_venv, tmp_path_factory):
    """01's release, installed by its handout's commands: no torch comes with it."""
    out = tmp_path_factory.mktemp("release01")
    folder = release_folder("01-classical", out)
    follow_the_handout(student_venv, folder, [f"python -m pip install ./{WHEEL}"], out)
    assert freshenv.module_location(student_venv, "torch") is None
    return student_venv, folder


@pytest.fixture(scope="module")
def torch_student(numpy_student, tmp_path_factory):
    """Then 02's release in the same venv: its handout adds torch's CPU build."""
    venv, _ = numpy_student
    out = tmp_path_factory.mktemp("release02")
    folder = release_folder("02-feedforward", out)
    follow_the_handout(venv, folder, [
        f'python -m pip install "{TORCH_REQUIREMENT}" --index-url {TORCH_CPU_INDEX}',
        f"python -m pip install ./{WHEEL}"], out)
    return venv, folder


def test_a_numpy_assignment_installs_and_checks_without_torch(numpy_student):
    venv, folder = numpy_student
    installed = freshenv.module_location(venv, "autograder")
    assert installed and installed.startswith(str(venv)), installed  # the wheel, not this checkout
    assert_starter_then_reference(venv, folder, "01-classical")


def test_an_installed_dlgrade_packs_the_same_wheel_again(numpy_student, tmp_path):
    """A dlgrade installed from the wheel (no source tree) still bundles itself."""
    venv, folder = numpy_student
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import shutil; from autograder.packaging.install import dlgrade_wheel; "
         "print(shutil.copy(dlgrade_wheel(), '.'))"],  # the process removes its own at exit
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=freshenv.pip_env(venv))
    assert proc.returncode == 0, proc.stderr
    repacked = tmp_path / proc.stdout.strip()
    assert repacked.name == WHEEL
    with zipfile.ZipFile(folder / WHEEL) as original, zipfile.ZipFile(repacked) as again:
        code = [n for n in original.namelist() if n.startswith("autograder/")]
        assert sorted(n for n in again.namelist() if n.startswith("autograder/")) == sorted(code)
        assert all(original.read(n) == again.read(n) for n in code)
        meta = f"dlgrade-{autograder.__version__}.dist-info/METADATA"
        assert original.read(meta) == again.read(meta)


def test_a_torch_assignment_installs_the_cpu_torch_and_checks(torch_student, tmp_path):
    venv, folder = torch_student
    torch = freshenv.run_in(venv, "python -c 'import torch; print(torch.__version__, "
                                  "torch.version.cuda)'", tmp_path)
    assert torch.stdout.split() == ["2.13.0+cpu", "None"], torch.stdout + torch.stderr
    assert_starter_then_reference(venv, folder, "02-feedforward")


# ---------------------------------------------------------------- the notebook (Colab's way)
RUN_NOTEBOOK = """
import sys
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
if sys.argv[3:] == ["setup-and-check-all"]:  # the first cell, check()'s definition, the last
    nb.cells = [nb.cells[0], next(c for c in nb.cells if "def check(" in c.source), nb.cells[-1]]
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
print("".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", [])))
"""


def test_the_walkthrough_installs_dlgrade_and_checks_in_its_own_kernel(tmp_path):
    """As in Colab: the release zip uploaded into an empty folder, the notebook opened there,
    in a fresh environment with a Jupyter kernel and no dlgrade, as root without
    CAP_SYS_ADMIN (Docker's default capabilities). The first cell unpacks the zip, moves into
    the assignment's folder and installs the wheel into the kernel's environment; the check
    cells then grade the files there. Run again (a new session) after the student's work is in
    place, the first cell leaves that work alone."""
    folder = release_folder("01-classical", tmp_path / "dist")
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(tmp_path / "dist" / "01-classical-release.zip", content)
    venv = freshenv.make_venv(tmp_path / "venv")
    try:
        proc = freshenv.run_in(venv, "python -m pip install -q ipykernel nbclient nbformat",
                               tmp_path)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        assert freshenv.module_location(venv, "autograder") is None
        envsim.prepare("container")

        def run_notebook(*cells: str) -> str:
            argv = envsim.command("container", [str(venv / "bin" / "python"), "-c",
                                                RUN_NOTEBOOK, str(folder / "walkthrough.ipynb"),
                                                str(content), *cells])
            done = subprocess.run(argv, cwd=content, env=freshenv.pip_env(venv),
                                  capture_output=True, text=True, timeout=freshenv.INSTALL_TIMEOUT)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            return done.stdout

        assert "0 / 40 public points" in run_notebook()
        installed = freshenv.module_location(venv, "autograder")
        assert installed and installed.startswith(str(venv)), installed
        for module in COURSE.assignment("01-classical").modules:
            shutil.copy(COURSE.assignment("01-classical").solutions_dir / module,
                        content / "01-classical" / module)
        assert "40 / 40 public points" in run_notebook("setup-and-check-all")
    finally:
        freshenv.remove(venv)
