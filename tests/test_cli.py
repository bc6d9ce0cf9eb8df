"""The dlgrade CLI: commands, output, exit codes. Runs the real console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_COURSE, HONEST_MINI

DLGRADE = [sys.executable, "-m", "autograder.cli"]


def run(*args, cwd=None, course=FIXTURE_COURSE):
    env = dict(os.environ)
    if course is not None:
        env["DLGRADE_COURSE"] = str(course)
    return subprocess.run([*DLGRADE, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


@pytest.fixture
def honest(tmp_path):
    folder = tmp_path / "honest"
    folder.mkdir()
    (folder / "mini.py").write_text(HONEST_MINI)
    return folder


def test_help_is_the_manual():
    out = run("--help").stdout
    for word in ("check", "grade", "generate", "validate", "list", "Exit codes"):
        assert word in out
    assert "NotImplementedError" in run("generate", "--help").stdout


def test_list():
    result = run("list")
    assert result.returncode == 0
    assert "90-mini" in result.stdout and "topic 2" in result.stdout


def test_grade_prints_table_and_writes_json(honest, tmp_path):
    out = tmp_path / "r" / "results.json"
    result = run("grade", "90-mini", str(honest), "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "total: 4 / 4 points" in result.stdout
    assert "test_counter (hidden)" in result.stdout
    data = json.loads(out.read_text())
    assert data["score"] == 4 and data["max_score"] == 4
    assert isinstance(data["execution_time"], float)
    assert {t["visibility"] for t in data["tests"]} == {"visible", "after_due_date"}
    for key in ("name", "score", "max_score", "status", "output", "visibility"):
        assert all(key in t for t in data["tests"])
    assert data["assignment"] == "90-mini" and len(data["submission_sha256"]) == 64
    assert data["platform_version"] and data["started_at"] <= data["finished_at"]


def test_check_runs_public_tests_only_from_cwd(honest):
    result = run("check", "90", cwd=honest)
    assert result.returncode == 0, result.stderr
    assert "total: 2 / 2 points" in result.stdout
    assert "hidden" not in result.stdout


def test_check_in_process_mode_gives_the_same_score(honest):
    result = run("check", "90", str(honest / "mini.py"), "--isolation", "none")
    assert result.returncode == 0, result.stderr
    assert "total: 2 / 2 points" in result.stdout


def test_zero_score_still_exits_zero(tmp_path):
    (tmp_path / "mini.py").write_text("def broken(:\n")
    result = run("grade", "90-mini", str(tmp_path / "mini.py"))
    assert result.returncode == 0
    assert "total: 0 / 4 points" in result.stdout
    assert "SyntaxError in mini.py" in result.stdout


def test_grade_zip_and_rejected_zip(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("mini.py", HONEST_MINI)
    assert "total: 4 / 4" in run("grade", "90-mini", str(good)).stdout
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("../../mini.py", HONEST_MINI)
    result = run("grade", "90-mini", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("dlgrade: error: bad.zip: path")
    assert "Traceback" not in result.stderr


def test_missing_module_file(tmp_path):
    (tmp_path / "other.py").write_text("x = 1\n")
    result = run("grade", "90-mini", str(tmp_path))
    assert result.returncode == 0
    assert "mini.py not found in the submission" in result.stdout


def test_unknown_assignment_is_a_usage_error(honest):
    result = run("grade", "nope", str(honest))
    assert result.returncode == 2
    assert "unknown assignment 'nope' (known: 90-mini)" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_and_generate_check(tmp_path):
    result = run("validate", "90-mini")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID" in result.stdout and "full grade of the reference" in result.stdout
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    assert run("generate", "--check", course=course).returncode == 0
    starter = course / "starter" / "90-mini" / "mini.py"
    starter.write_text(starter.read_text() + "\n# hand edit\n")
    stale = run("generate", "--check", course=course)
    assert stale.returncode == 1 and "mini.py (out of date)" in stale.stdout
    assert run("generate", course=course).returncode == 0
    assert run("generate", "--check", course=course).returncode == 0


def test_validate_catches_a_broken_reference(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    solution = course / "solutions" / "90-mini" / "mini.py"
    solution.write_text(solution.read_text().replace("return a + b", "return a - b"))
    run("generate", course=course)
    result = run("validate", "90-mini", course=course)
    assert result.returncode == 1
    assert "[FAIL] reference scores full marks: 2/4" in result.stdout


def test_invalid_config_is_a_usage_error(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    toml = course / "assignments" / "90-mini" / "assignment.toml"
    toml.write_text(toml.read_text() + "\nbogus = 1\n")
    result = run("list", course=course)
    assert result.returncode == 2 and "unknown key 'bogus'" in result.stderr


def test_course_found_from_cwd(tmp_path):
    result = run("list", cwd=Path(FIXTURE_COURSE) / "assignments", course=None)
    assert result.returncode == 0 and "90-mini" in result.stdout


def test_validate_catches_points_that_do_not_add_up(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    toml = course / "assignments" / "90-mini" / "assignment.toml"
    toml.write_text(toml.read_text().replace("total_points = 4", "total_points = 5"))
    result = run("validate", "90-mini", course=course)
    assert result.returncode == 1
    assert ("[FAIL] points add up to total_points: tests sum to 4, assignment.toml says 5"
            in result.stdout)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root to enter a user namespace as an unprivileged uid")
def test_check_as_a_non_root_student_still_confines(tmp_path):
    """A student's laptop: not root. The worker is still separate, limited, Landlocked and
    off the network."""
    hidden = FIXTURE_COURSE / "assignments" / "90-mini" / "tests" / "hidden" / "test_mini_hidden.py"
    (tmp_path / "mini.py").write_text(HONEST_MINI.replace(
        "return np.asarray(x) * factor", f"return len(open({str(hidden)!r}).read())"))
    env = dict(os.environ, DLGRADE_COURSE=str(FIXTURE_COURSE), HOME=str(tmp_path))
    result = subprocess.run(
        ["unshare", "--user", "--map-user=1000", "--map-group=1000", *DLGRADE, "check", "90"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert ("note: protections off here: worker-cgroup, mount-namespace, own-processes-only, "
            "private-scratch, unprivileged-uid") in result.stderr
    in_force = result.stdout.split("in force:")[1].split(";")[0]
    # a user namespace of the worker's own gives it an empty network namespace, unprivileged
    assert "landlock-fs" in in_force and "network-namespace" in in_force
    assert "total: 1 / 2 points" in result.stdout
    assert "PermissionError" in result.stdout  # Landlock still hides the hidden tests


def test_a_conftest_above_the_course_is_never_loaded(tmp_path, honest):
    parent = tmp_path / "repo"
    shutil.copytree(FIXTURE_COURSE, parent / "course")
    (parent / "conftest.py").write_text("raise RuntimeError('a stray conftest was loaded')\n")
    result = run("grade", "90-mini", str(honest), course=parent / "course")
    assert result.returncode == 0, result.stderr
    assert "total: 4 / 4 points" in result.stdout


def test_unwritable_json_path_still_shows_the_result(honest, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("grade", "90-mini", str(honest), "--json", str(blocker / "results.json"))
    assert result.returncode == 2
    assert "total: 4 / 4 points" in result.stdout  # the grade is not lost
    assert "cannot write the results JSON to" in result.stderr
    assert "Traceback" not in result.stderr
