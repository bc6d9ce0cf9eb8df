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


def test_new_scaffolds_an_assignment_that_validates_and_quick_skips_the_mistakes(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    made = run("new", "11-graph-nets", "--topic", "Graph networks", course=course)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "wrote assignments/11-graph-nets/mistakes.toml" in made.stdout
    assert 'title = "Graph networks"' in (
        course / "assignments" / "11-graph-nets" / "assignment.toml").read_text()
    full = run("validate", "11-graph-nets", course=course)
    assert full.returncode == 0, full.stdout + full.stderr
    assert "mistakes: 1 of 1 caught" in full.stdout and "VALID" in full.stdout
    quick = run("validate", "11-graph-nets", "--quick", course=course)
    assert quick.returncode == 0 and "[skip] mistakes: not graded" in quick.stdout
    again = run("new", "11-graph-nets", course=course)
    assert again.returncode == 2 and "already exists" in again.stderr


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


def test_course_option_beats_the_environment(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    from_env = run("list", course=elsewhere)
    assert from_env.returncode == 0 and "no assignments in" in from_env.stdout
    flag = run("--course", str(FIXTURE_COURSE), "list", course=elsewhere)
    assert flag.returncode == 0, flag.stderr
    assert "90-mini" in flag.stdout


def test_debug_is_a_group_option_that_adds_the_traceback(honest):
    result = run("--debug", "grade", "nope", str(honest))
    assert result.returncode == 2
    assert "dlgrade: error: unknown assignment 'nope'" in result.stderr
    assert "Traceback" in result.stderr
    assert "No such option" in run("grade", "--debug", "90-mini", str(honest)).stderr


def test_a_missing_gradebook_is_a_usage_error(tmp_path):
    result = run("gradebook", "--db", str(tmp_path / "none.sqlite"))
    assert result.returncode == 2
    assert f"dlgrade: error: no gradebook at {tmp_path / 'none.sqlite'}" in result.stderr


# -- the exit code table: every platform exception through the real command group --------

def _platform_exceptions() -> list[type]:
    import autograder.gradebook.store
    import autograder.grading
    import autograder.packaging.release  # noqa: F401  (their exceptions join the family)
    from autograder.errors import DlgradeError

    found, todo = [], [DlgradeError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


def _raise_in_a_command(exc: BaseException, *options: str):
    """Invoke ``dlgrade [options] boom`` in this process, ``boom`` raising ``exc``."""
    from click.testing import CliRunner

    from autograder.cli import main

    @main.command("boom")
    def boom():
        raise exc

    try:
        return CliRunner().invoke(main, [*options, "boom"])
    finally:
        del main.commands["boom"]


def _instance(cls: type) -> BaseException:
    from autograder.errors import StudentException
    from autograder.packaging.release import LeakError

    if issubclass(cls, StudentException):
        return cls("raised", "boom")
    if issubclass(cls, LeakError):
        return cls([])
    return cls("boom")


def _documented_codes() -> dict[str, int]:
    """Class name -> exit code, read from the table in errors.py's docstring."""
    import re

    import autograder.errors

    codes, code = {}, None
    for line in autograder.errors.__doc__.splitlines():
        row = re.match(r"  ([0-9])  ", line)
        if row:
            code = int(row.group(1))
        elif not line.startswith("   "):
            code = None
        if code is not None:
            for name in re.findall(r"\b[A-Z][a-z]+[A-Z][A-Za-z]*\b", line):
                codes[name] = code
    return codes


@pytest.mark.parametrize("cls", _platform_exceptions(), ids=lambda c: c.__name__)
def test_each_exception_exits_with_its_code_as_the_table_says(cls):
    documented = _documented_codes()
    listed = next(c for c in cls.__mro__ if c.__name__ in documented)
    assert cls.exit_code == documented[listed.__name__], f"errors.py's table: {listed.__name__}"
    result = _raise_in_a_command(_instance(cls))
    assert result.exit_code == cls.exit_code
    assert result.stderr.startswith("dlgrade: ") and "Traceback" not in result.stderr


def test_the_table_covers_each_code():
    from autograder.errors import EXIT_CHECK_FAILED, EXIT_INTERNAL, EXIT_USAGE

    documented = _documented_codes()
    assert documented["CheckFailed"] == EXIT_CHECK_FAILED == 1
    assert documented["UsageError"] == EXIT_USAGE == 2
    assert documented["OutputNotWritable"] == 2 and documented["GradebookNotWritable"] == 3
    assert documented["InternalError"] == EXIT_INTERNAL == 3


def test_an_unexpected_exception_is_an_internal_error_with_the_traceback_on_debug():
    plain = _raise_in_a_command(RuntimeError("kaput"))
    assert plain.exit_code == 3
    assert plain.stderr.splitlines()[0] == "dlgrade: internal error: RuntimeError: kaput"
    assert "--debug" in plain.stderr and "Traceback" not in plain.stderr
    debug = _raise_in_a_command(RuntimeError("kaput"), "--debug")
    assert debug.exit_code == 3
    assert "Traceback" in debug.stderr and "raise exc" in debug.stderr
