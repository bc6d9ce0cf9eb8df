"""The Gradescope package, run as Gradescope runs it.

A ``/autograder`` tree is laid out in a temporary folder (``DLGRADE_GRADESCOPE_ROOT``):
``source/`` (the unzipped ``autograder.zip``), ``submission/`` (the reference's modules one
folder down, as Gradescope stores an uploaded folder) and ``results/``. ``install.sh``, the
pip part of ``setup.sh`` (the rest is apt-get), makes ``venv/`` with the bundled wheel and
torch's CPU build (02's graders compare with torch autograd; here torch comes from the
local 2.13.0 wheel). Then ``run_autograder``: as root with every capability, and under
Docker's default capability set (``tests/envsim.py``); a hanging submission with a small
``run_budget``; a grading process that is killed or stopped.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from autograder.config import load_course
from autograder.packaging.gradescope import RUN_SLACK_S
from autograder.packaging.notebook_export import collect_tests
from autograder.plugin import not_run_reason
from tests import envsim, freshenv
from tests.conftest import REPO
from tests.test_packaging import GRADESCOPE_SCHEMA

FEEDFORWARD = load_course(REPO).assignment("02-feedforward")
REFERENCE = {m: (FEEDFORWARD.solutions_dir / m).read_text() for m in FEEDFORWARD.modules}
HANG_BUDGET = 15  # seconds: the run_budget of the hanging submission's run


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The /autograder tree with source/ unpacked and install.sh run; yields its root."""
    root = tmp_path_factory.mktemp("gradescope") / "autograder"
    out = root.parent / "package"
    proc = subprocess.run([sys.executable, "-m", "autograder.cli", "--course", str(REPO),
                           "package", "02-feedforward", "--format", "gradescope", "-o", str(out)],
                          capture_output=True, text=True, timeout=600, env=freshenv.pip_env())
    assert proc.returncode == 0, proc.stderr
    unpack(out / "autograder.zip", root / "source")
    assert not (root / "source" / "dlgrade").exists()  # one install path: the wheel
    local = freshenv.empty_index(root.parent / "no-index")
    proc = subprocess.run(
        ["bash", str(root / "source" / "install.sh")], capture_output=True, text=True,
        timeout=freshenv.INSTALL_TIMEOUT,
        env=freshenv.pip_env(DLGRADE_GRADESCOPE_ROOT=str(root), DLGRADE_TORCH_INDEX=local,
                             DLGRADE_SETUP_PYTHON=freshenv.BASE_PYTHON))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    yield root
    freshenv.remove(root / "venv")


def unpack(zip_path: Path, dest: Path) -> None:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
        for info in zf.infolist():  # zipfile drops the mode bits: restore them
            (dest / info.filename).chmod(info.external_attr >> 16)


def lay_out(root: Path, submission: dict[str, str]) -> None:
    """A fresh submission/ (as given, paths may hold folders) and an empty results/."""
    for name in ("submission", "results"):
        shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir()
    for name, text in submission.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)


def run_autograder(root: Path, env: str = "root", timeout: float = 600, **extra: str) -> dict:
    """``source/run_autograder`` in environment ``env`` (see tests/envsim.py); its results."""
    envsim.prepare(env)
    argv = envsim.command(env, [str(root / "source" / "run_autograder")])
    proc = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=timeout,
                          env=freshenv.pip_env(DLGRADE_GRADESCOPE_ROOT=str(root), **extra))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    return data


def test_install_sh_installs_the_wheel_and_cpu_torch(installed):
    venv = installed / "venv"
    dlgrade = freshenv.module_location(venv, "autograder")
    assert dlgrade and dlgrade.startswith(str(venv)), dlgrade  # the wheel, not this checkout
    torch = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import torch; print(torch.__version__, torch.version.cuda)"],
                           capture_output=True, text=True, timeout=120)
    assert torch.stdout.split() == ["2.13.0+cpu", "None"], torch.stderr


def test_the_reference_nested_one_folder_down_gets_full_marks(installed):
    lay_out(installed, {f"hw2/{m}": text for m, text in REFERENCE.items()} | {
        "README.md": "my notes"})
    data = run_autograder(installed)
    assert data["score"] == 100, [t["output"] for t in data["tests"] if t["status"] != "passed"]
    assert len(data["tests"]) == len(collect_tests(FEEDFORWARD))  # every test ran
    # the tests and solutions are closed to a worker's own uid (course-files-unreadable)
    assert (installed / "source").stat().st_mode & 0o077 == 0


def test_the_reference_gets_full_marks_under_dockers_default_capabilities(installed):
    lay_out(installed, {f"upload/{m}": text for m, text in REFERENCE.items()})
    data = run_autograder(installed, env="container")
    assert data["score"] == 100, [t["output"] for t in data["tests"] if t["status"] != "passed"]


def test_a_hanging_submission_still_gets_results_within_the_budget(installed, tmp_path):
    """sigmoid_forward never returns: the tests before it pass, the one that calls it times
    out when the budget is spent, and the rest are recorded as not run."""
    root = tmp_path / "autograder"
    shutil.copytree(installed / "source", root / "source", symlinks=True)
    toml = root / "source" / "course" / "assignments" / "02-feedforward" / "assignment.toml"
    toml.write_text(toml.read_text().replace("[limits]\n",
                                             f"[limits]\nrun_budget = {HANG_BUDGET}\n"))
    hanging = REFERENCE["layers.py"] + "\n\ndef sigmoid_forward(x):\n    while True:\n        pass\n"
    lay_out(root, {"hw2/layers.py": hanging, "hw2/mlp.py": REFERENCE["mlp.py"],
                   "hw2/train.py": REFERENCE["train.py"]})
    # Without the budget each call that hangs would wait out its own 20 s call timeout.
    data = run_autograder(root, timeout=HANG_BUDGET + RUN_SLACK_S,
                          DLGRADE_PYTHON=str(installed / "venv" / "bin" / "python"))
    assert 0 < data["score"] < 100
    reasons = [t["extra_data"]["reason"] for t in data["tests"]]
    assert reasons[0] == "" and data["tests"][0]["status"] == "passed"  # relu_forward
    not_run = [r for r in reasons if r == not_run_reason(HANG_BUDGET)]
    timed_out = [r for r in reasons if "timed out" in r]
    assert len(not_run) >= 30 and len(timed_out) >= 1, reasons
    first = reasons.index(not_run[0])
    assert all(r == not_run[0] for r in reasons[first:])  # nothing runs after the budget
    assert all(t["score"] == 0 for t in data["tests"][first:])


FAKE_PYTHONS = {
    "killed": "#!/bin/sh\nkill -9 $$\n",
    "hangs": "#!/bin/sh\nexec sleep 100000\n",
}


@pytest.mark.parametrize("fake, says", [
    ("killed", "The autograder could not grade this submission (it was killed (signal 9))"),
    ("hangs", "The autograder could not grade this submission (it was stopped after 2 s, past "
              "the time budget of the whole run)"),
])
def test_a_grading_process_that_dies_or_hangs_still_leaves_a_results_json(tmp_path, fake,
                                                                         says):
    """run_autograder's own guard: it stops grading LIMIT seconds in (the run's budget plus
    slack; made 2 s here) and writes a results.json with the reason when grading left none."""
    root = tmp_path / "autograder"
    zip_path = tmp_path / "package" / "autograder.zip"
    proc = subprocess.run([sys.executable, "-m", "autograder.cli", "--course", str(REPO),
                           "package", "02-feedforward", "--format", "gradescope", "-o",
                           str(zip_path.parent)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    unpack(zip_path, root / "source")
    script = root / "source" / "run_autograder"
    text, count = re.subn(r"^LIMIT=\d+", "LIMIT=2", script.read_text(), flags=re.M)
    assert count == 1
    script.write_text(text)
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHONS[fake])
    python.chmod(0o755)
    lay_out(root, REFERENCE)
    data = run_autograder(root, timeout=60, DLGRADE_PYTHON=str(python))
    assert data["score"] == 0 and data["tests"] == []
    assert data["output"].startswith(says), data["output"]
