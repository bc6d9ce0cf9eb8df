"""Hidden tests that a recording cannot replay (issue 21): hidden inputs derive from a course
secret and the submission's content; public tests keep their fixed seeds."""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from autograder.config import load_course
from autograder.grading import grade_submission
from autograder.packaging import gradescope, release
from autograder.packaging.leakcheck import check_student_files
from autograder.plugin import test_seed as public_seed
from autograder.secret import (
    ENV_VAR,
    SECRET_FILE,
    course_secret,
    ensure_course_secret,
    hidden_seed,
    secret_id,
    secret_path,
)
from tests.conftest import FIXTURE_COURSE

SHA_A, SHA_B = "a" * 64, "b" * 64
PUBLIC_ID = "public/test_draws.py::test_public_draws"
HIDDEN_ID = "hidden/test_draws_hidden.py::test_hidden_draws"

# Each test reports what it drew (and what the worker's numpy generator gives) in its failure
# reason: a hidden test's first line of `assert cond, "message"` is kept.
DRAWS_TEST = '''
import pytest


@pytest.mark.points(1)
def {name}(submission, rng, seed):
    """Reports its draws."""
    mine = [int(v) for v in rng.integers(0, 2**31, size=3)]
    worker = submission.mini.worker_draw()
    assert False, f"seed={{seed}} rng={{mine}} worker={{worker!r}}"
'''

SUBMISSION = (FIXTURE_COURSE / "solutions" / "90-mini" / "mini.py").read_text() + '''

def worker_draw():
    import numpy as np
    return float(np.random.random())
'''


@pytest.fixture(autouse=True)
def no_env_secret(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture
def course(tmp_path):
    """A copy of the fixture course with a public and a hidden test that report their draws."""
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    tests = root / "assignments" / "90-mini" / "tests"
    (tests / "public" / "test_draws.py").write_text(DRAWS_TEST.format(name="test_public_draws"))
    (tests / "hidden" / "test_draws_hidden.py").write_text(
        DRAWS_TEST.format(name="test_hidden_draws"))
    return load_course(root)


def _submission(tmp_path: Path, name: str, extra: str = "") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "mini.py").write_text(SUBMISSION + extra)
    return folder


def _draws(result, test: str) -> dict:
    reason = result.test(test).reason
    found = re.search(r"seed=(\d+) rng=(\[[^\]]*\]) worker=(\S+)", reason)
    assert found, reason
    return {"seed": int(found.group(1)), "rng": found.group(2), "worker": found.group(3)}


# ---------------------------------------------------------------- the seed itself
def test_the_hidden_seed_depends_on_secret_test_and_content_and_is_stable():
    seed = hidden_seed(b"s1", HIDDEN_ID, SHA_A)
    assert seed == hidden_seed(b"s1", HIDDEN_ID, SHA_A)  # a regrade: the same inputs
    assert 0 <= seed < 2**31
    others = {hidden_seed(b"s2", HIDDEN_ID, SHA_A), hidden_seed(b"s1", HIDDEN_ID, SHA_B),
              hidden_seed(b"s1", HIDDEN_ID + "x", SHA_A), public_seed(HIDDEN_ID)}
    assert seed not in others and len(others) == 4
    assert len({hidden_seed(str(i).encode(), HIDDEN_ID, SHA_A) for i in range(200)}) == 200


# ---------------------------------------------------------------- where it comes from
def test_the_secret_is_created_once_private_and_env_wins(tmp_path, monkeypatch):
    folder = tmp_path / "assignments"
    folder.mkdir()
    assert course_secret(folder) is None  # no secret: hidden tests keep fixed seeds
    secret, created = ensure_course_secret(folder)
    assert created and len(secret) == 64
    assert stat.S_IMODE(secret_path(folder).stat().st_mode) == 0o600
    assert ensure_course_secret(folder) == (secret, False)  # never replaced
    assert [p.name for p in folder.iterdir()] == [SECRET_FILE]  # no temporary file left
    monkeypatch.setenv(ENV_VAR, "  staff-ci-secret\n")
    assert course_secret(folder) == b"staff-ci-secret"
    assert ensure_course_secret(folder) == (b"staff-ci-secret", False)
    assert secret_path(folder).read_bytes().strip() == secret  # the file is left alone


def test_the_course_gitignore_leaves_the_secret_out():
    patterns = (Path(__file__).resolve().parents[1] / ".gitignore").read_text().split()
    assert any(p.startswith(".dlgrade-secret") for p in patterns)


# ---------------------------------------------------------------- grading
def test_hidden_inputs_are_per_submission_and_public_ones_fixed(course, warm_parent, tmp_path):
    assignment = course.assignment("90-mini")
    first = _submission(tmp_path, "first")
    other = _submission(tmp_path, "other", "# another submission\n")

    def grade(folder, secret):
        return grade_submission(assignment, folder, parent=warm_parent, secret=secret)

    a1, a2, b1 = grade(first, b"one"), grade(first, b"one"), grade(other, b"one")
    a_other_secret = grade(first, b"two")
    no_secret = grade(first, None)
    hidden = [_draws(r, "test_hidden_draws") for r in (a1, a2, b1, a_other_secret, no_secret)]
    assert hidden[0] == hidden[1]  # a regrade draws the same hidden inputs
    assert hidden[0]["rng"] != hidden[2]["rng"]  # another submission: other inputs
    assert hidden[0]["rng"] != hidden[3]["rng"]  # another secret: other inputs ...
    assert hidden[0]["worker"] != hidden[3]["worker"]  # ... and another worker RNG state
    assert hidden[0]["seed"] == hidden_seed(b"one", HIDDEN_ID, a1.submission_sha256)
    assert hidden[4]["seed"] == public_seed(HIDDEN_ID)  # without a secret: as before
    expected = [int(v) for v in np.random.default_rng(public_seed(PUBLIC_ID)).integers(
        0, 2**31, size=3)]
    for result in (a1, b1, a_other_secret, no_secret):  # students reproduce public tests
        public = _draws(result, "test_public_draws")
        assert public["seed"] == public_seed(PUBLIC_ID) and public["rng"] == str(expected)
    assert a1.to_json()["hidden_inputs"] == {"per_submission": True, "source": "course secret",
                                             "secret_id": secret_id(b"one")}
    assert no_secret.to_json()["hidden_inputs"]["per_submission"] is False
    public_only = grade_submission(assignment, first, parent=warm_parent, include_hidden=False)
    assert "hidden_inputs" not in public_only.to_json()


def test_grading_reads_the_course_secret_and_env_wins(course, warm_parent, tmp_path, monkeypatch):
    assignment = course.assignment("90-mini")
    folder = _submission(tmp_path, "sub")
    secret, _ = ensure_course_secret(course.assignments_dir)
    by_file = grade_submission(assignment, folder, parent=warm_parent)
    assert _draws(by_file, "test_hidden_draws")["seed"] == hidden_seed(
        secret, HIDDEN_ID, by_file.submission_sha256)
    monkeypatch.setenv(ENV_VAR, "from-the-environment")
    by_env = grade_submission(assignment, folder, parent=warm_parent)
    assert _draws(by_env, "test_hidden_draws")["seed"] == hidden_seed(
        b"from-the-environment", HIDDEN_ID, by_env.submission_sha256)
    assert by_env.to_json()["hidden_inputs"]["secret_id"] == secret_id(b"from-the-environment")


# ---------------------------------------------------------------- packages
@pytest.fixture
def fake_wheel(tmp_path, monkeypatch):
    wheel = tmp_path / "wheel" / "dlgrade-0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"not a real wheel")
    for module in (gradescope, release):
        monkeypatch.setattr(module, "dlgrade_wheel", lambda: wheel)
    return wheel


def test_gradescope_carries_the_secret_and_a_release_refuses_it(course, tmp_path, fake_wheel):
    assignment = course.assignment("90-mini")
    zip_path = gradescope.build_autograder_zip(assignment, tmp_path / "gs")
    secret = course_secret(course.assignments_dir)  # created on first need
    assert secret is not None
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.read(f"course/assignments/{SECRET_FILE}").strip() == secret
    rel = release.build_release(assignment, tmp_path / "rel")
    assert not any(SECRET_FILE in name for name in rel.files)
    with zipfile.ZipFile(rel.zip_path) as zf:
        assert not any(secret in zf.read(name) for name in zf.namelist())

    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "notes.txt").write_text("nothing here\n")
    assert check_student_files(assignment, staged) == []
    shutil.copyfile(secret_path(course.assignments_dir), staged / SECRET_FILE)
    (staged / "config.py").write_text(f"KEY = {secret.decode()!r}\n")
    leaks = check_student_files(assignment, staged)
    assert sorted(leak.file for leak in leaks) == sorted(["config.py", SECRET_FILE])
    assert all(secret.decode() not in str(leak) for leak in leaks)  # never shown



def test_grading_where_no_secret_can_be_created_goes_on_with_fixed_inputs(tmp_path, monkeypatch,
                                                                          capsys):
    """A read-only course folder (a TA's checkout): `grade` says why the hidden inputs are the
    fixed ones, and goes on; a secret that exists but cannot be read stops it."""
    import shutil
    import types

    import pytest

    from autograder import cli, secret
    from autograder.errors import UsageError
    from tests.hostile.corpus import FIXTURE_COURSE

    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course, ignore=shutil.ignore_patterns(".dlgrade-secret*"))
    monkeypatch.delenv("DLGRADE_SECRET", raising=False)
    folder = types.SimpleNamespace(assignments_dir=course / "assignments")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(secret.os, "open", refuse)
    cli._course_secret(folder)  # no exception: grading goes on
    assert "hidden tests draw their fixed inputs" in capsys.readouterr().err
    assert secret.course_secret(folder.assignments_dir) is None
    monkeypatch.undo()
    monkeypatch.delenv("DLGRADE_SECRET", raising=False)
    path = secret.secret_path(folder.assignments_dir)
    path.write_text("x" * 64)
    monkeypatch.setattr(type(path), "read_text", refuse)
    with pytest.raises(UsageError, match="cannot read the course secret"):
        cli._course_secret(folder)
