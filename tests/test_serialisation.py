"""Course files that dlgrade writes are written by libraries, so hostile names round-trip:
``course.toml`` by tomli-w (read back with ``tomllib``), the otter master notebook's YAML
(assignment config, question and test configs) by pyyaml (read back with ``yaml.safe_load``);
and otter still builds the hostile course's export.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w
import yaml

from autograder.config import load_course
from autograder.packaging.bundle import copy_assignment
from autograder.packaging.otter import build_master, build_notebook
from tests.conftest import FIXTURE_COURSE

COURSE_NAME = "O'Brien's \"DL\" \\ course"
TITLE = "\"Mini\" 'layers' \\ back\\slash\nsecond line: ünïcödé λ → ∞ # not a comment"


def _rewrite_toml(path: Path, **values: str) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    path.write_text(tomli_w.dumps({**data, **values}), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The fixture course, its name and 90-mini's title made hostile; returns 90-mini."""
    root = tmp_path_factory.mktemp("hostile") / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    _rewrite_toml(root / "course.toml", name=COURSE_NAME)
    _rewrite_toml(root / "assignments" / "90-mini" / "assignment.toml", title=TITLE)
    course = load_course(root)
    assert course.name == COURSE_NAME
    return course.assignment("90-mini")


def test_bundle_course_toml_round_trips_a_hostile_name(hostile, tmp_path):
    dest = copy_assignment(hostile, tmp_path / "bundle", include_hidden=False,
                           course_name=COURSE_NAME)
    text = (tmp_path / "bundle" / "course.toml").read_text(encoding="utf-8")
    assert text.startswith("# A course folder for dlgrade")
    assert tomllib.loads(text) == {"name": COURSE_NAME}
    course = load_course(tmp_path / "bundle")
    assert course.name == COURSE_NAME
    assert course.assignment("90-mini").title == TITLE
    assert not (dest / "tests" / "hidden").exists()


def _raw_yaml(cell: dict, marker: str) -> dict:
    text = "".join(cell["source"])
    assert text.startswith(marker + "\n"), text[:80]
    return yaml.safe_load(text.removeprefix(marker + "\n"))


def test_otter_yaml_is_what_pyyaml_reads(hostile):
    cells = build_notebook(hostile, "dlgrade-0.1.0-py3-none-any.whl")["cells"]
    assert _raw_yaml(cells[0], "# ASSIGNMENT CONFIG") == {
        "name": "90-mini", "requirements": "requirements.txt",
        "files": ["dlgrade-0.1.0-py3-none-any.whl"], "init_cell": False, "check_all_cell": False, "export_cell": False,
        "run_tests": False, "tests": {"files": False, "ok_format": True}}
    heading = "".join(cells[1]["source"]).splitlines()[0]
    assert heading == "# " + " ".join(TITLE.split())  # one line: a heading cannot break
    questions = [_raw_yaml(c, "# BEGIN QUESTION") for c in cells
                 if "".join(c["source"]).startswith("# BEGIN QUESTION")]
    assert questions == [{"name": "mini", "points": 4}]
    configs = []
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "# BEGIN TEST CONFIG" in source:
            body = source.split('""" # BEGIN TEST CONFIG\n', 1)[1].split('\n""" # END', 1)[0]
            configs.append(yaml.safe_load(body))
    assert configs and all(set(c) == {"points", "hidden"} for c in configs)
    assert sum(c["points"] for c in configs) == 4
    assert any(c["hidden"] for c in configs) and not all(c["hidden"] for c in configs)


@pytest.mark.e2e
def test_otter_assign_builds_the_hostile_export(hostile, tmp_path):
    master = build_master(hostile, tmp_path, course_name=COURSE_NAME)
    otter = Path(sys.executable).parent / "otter"
    proc = subprocess.run([str(otter), "assign", master.name, "dist"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    student = json.loads((tmp_path / "dist" / "student" / "90-mini.ipynb").read_text())
    heading = "# " + " ".join(TITLE.split())
    assert any("".join(c["source"]).startswith(heading) for c in student["cells"])
    assert list((tmp_path / "dist" / "autograder").glob("*.zip"))
