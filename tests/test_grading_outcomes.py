"""Grading outcomes beyond the hostile corpus (tests/hostile): forged results files,
captured output, hidden-test feedback, helper modules, test selection.

Each grades a ``mini.py`` for the fixture assignment 90-mini (4 tests, 1 point
each: add, scale, add_negative, counter).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.grading import grade_submission
from tests.conftest import FIXTURE_COURSE, HONEST_MINI
from tests.hostile.corpus import with_add

ADDS = {"test_add", "test_add_negative"}


def test_forged_results_file_is_overwritten_by_the_real_score(grade_mini, tmp_path):
    """A submission that writes a results file gets the real score in the real file."""
    results = tmp_path / "out" / "results.json"
    results.parent.mkdir()
    forged = {"score": 100, "tests": []}
    source = with_add(
        "def add(a, b):\n    import json\n"
        f"    for p in [{str(results)!r}, 'results.json', '/tmp/results.json']:\n"
        "        try:\n"
        f"            open(p, 'w').write(json.dumps({forged!r}))\n"
        "        except OSError:\n"
        "            pass\n"
        "    return 0\n")
    result = grade_mini(source, json_path=results)
    data = json.loads(results.read_text())
    assert data["score"] == result.score == 2
    assert {t["name"].split("::")[-1] for t in data["tests"] if t["status"] == "failed"} == ADDS


def test_output_is_captured_and_truncated(grade_mini):
    source = with_add("def add(a, b):\n    print('hello ' * 10000)\n    return a\n")
    result = grade_mini(source)
    test = result.test("test_add")
    assert test.status == "failed"
    assert "Your code printed:" in test.output
    assert len(test.output) < 5000


def test_hidden_failures_do_not_reveal_expected_values(grade_mini):
    result = grade_mini(with_add("def add(a, b):\n    return a - b + 0.5\n"))
    public, hidden = result.test("test_add"), result.test("test_add_negative")
    assert public.reason == "assert -0.5 == 5"  # public tests show the comparison
    assert hidden.reason == "a check on your output failed"
    assert hidden.output == ""
    assert "6" not in hidden.to_gradescope()["output"]
    assert hidden.to_gradescope()["visibility"] == "after_due_date"


def test_non_utf8_source_scores_zero_with_a_clear_reason(grade_mini):
    result = grade_mini({"mini.py": b"def add(a, b):\n    return a + b  # caf\xe9\n"})
    assert result.score == 0
    assert {t.reason for t in result.tests} == {
        "mini.py is not valid UTF-8 (byte 0xe9 at offset 38); save it as UTF-8"}


def test_helper_modules_and_extra_files_are_allowed(grade_mini):
    helper = "def plus(a, b):\n    return a + b\n"
    source = HONEST_MINI.replace("def add(a, b):\n    return a + b\n",
                                 "from helpers import plus\n\n\ndef add(a, b):\n    return plus(a, b)\n")
    assert grade_mini({"mini.py": source, "helpers.py": helper, "notes.txt": "hi"}).score == 4


def test_selecting_tests_with_k_grades_only_those(grade_mini):
    result = grade_mini(HONEST_MINI, pytest_args=("-k", "test_add"))
    assert [t.name.split("::")[-1] for t in result.tests] == ["test_add", "test_add_negative"]
    assert (result.score, result.max_score) == (2, 2)


HIDDEN_CONFTEST = '''import pytest


@pytest.fixture
def expected_sum():
    return {value}
'''
HIDDEN_TEST = '''import pytest


@pytest.mark.points(1)
def test_add_by_this_assignments_oracle(submission, expected_sum):
    assert submission.mini.add(2, 3) == expected_sum
'''


def _twin(root, ident: str, expected_sum: int):
    """A copy of 90-mini named ``ident`` whose hidden conftest says add(2, 3) == expected_sum."""
    shutil.copytree(FIXTURE_COURSE / "assignments" / "90-mini", root / "assignments" / ident)
    toml = root / "assignments" / ident / "assignment.toml"
    toml.write_text(toml.read_text().replace('id = "90-mini"', f'id = "{ident}"'))
    hidden = root / "assignments" / ident / "tests" / "hidden"
    (hidden / "conftest.py").write_text(HIDDEN_CONFTEST.format(value=expected_sum))
    (hidden / "test_twin_hidden.py").write_text(HIDDEN_TEST)


def test_each_assignment_gets_its_own_hidden_conftest_in_one_process(tmp_path):
    """pytest's importlib mode names both hidden conftests "hidden.conftest"; grading the second
    assignment in the same process must not reuse the first one's oracles, and a test file
    edited between two runs is read again."""
    root = tmp_path / "course"
    root.mkdir()
    (root / "course.toml").write_text('name = "twins"\n')
    _twin(root, "91-right", 5)
    _twin(root, "92-wrong", 6)  # this assignment's oracle expects 6: the honest add fails it
    course = load_course(root)
    submission = tmp_path / "mini.py"
    submission.write_text(HONEST_MINI)

    def score(ident: str) -> float:
        result = grade_submission(course.assignment(ident), submission)
        (test,) = [t for t in result.tests if t.name.endswith("test_add_by_this_assignments_oracle")]
        return test.score

    assert (score("91-right"), score("92-wrong"), score("91-right")) == (1.0, 0.0, 1.0)
    (root / "assignments" / "91-right" / "tests" / "hidden" / "conftest.py").write_text(
        HIDDEN_CONFTEST.format(value=7))
    assert score("91-right") == 0.0


def test_a_conftest_is_rewritten_once_per_process_and_again_when_edited(tmp_path, monkeypatch):
    """pytest re-imports a conftest.py that is not in a package at every session, and rewrites
    its asserts again when it may not cache them (PYTHONDONTWRITEBYTECODE, a read-only course):
    the grading process keeps the rewritten code by content, and still runs the module afresh."""
    from _pytest.assertion import rewrite

    monkeypatch.setattr("sys.dont_write_bytecode", True)
    root = tmp_path / "course"
    root.mkdir()
    (root / "course.toml").write_text('name = "rewrites"\n')
    _twin(root, "93-rewrite", 5)
    conftest = root / "assignments" / "93-rewrite" / "tests" / "hidden" / "conftest.py"
    course = load_course(root)
    submission = tmp_path / "mini.py"
    submission.write_text(HONEST_MINI)

    def score() -> float:
        result = grade_submission(course.assignment("93-rewrite"), submission)
        (test,) = [t for t in result.tests if t.name.endswith("test_add_by_this_assignments_oracle")]
        return test.score

    def rewrites() -> int:
        return sum(1 for path, _ in rewrite._rewrite_test.dlgrade_cache if path == str(conftest))

    assert (score(), score()) == (1.0, 1.0)
    assert rewrites() == 1
    conftest.write_text(HIDDEN_CONFTEST.format(value=6))  # same size; maybe the same mtime too
    assert score() == 0.0
    assert rewrites() == 2


def test_installed_pytest_plugins_do_not_take_part_in_grading(grade_mini, tmp_path, monkeypatch):
    """A pytest plugin installed on the machine (an entry point in group pytest11, as
    pytest-randomly is) is not loaded by a grading run: the grade depends on the graders only."""
    site = tmp_path / "site"
    info = site / "foreign_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: foreign-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pytest11]\nforeign = foreign_plugin\n")
    (site / "foreign_plugin.py").write_text(
        "def pytest_runtest_setup(item):\n"
        "    raise RuntimeError('a foreign plugin ran')\n")
    monkeypatch.syspath_prepend(str(site))
    from importlib.metadata import entry_points

    assert "foreign" in {e.name for e in entry_points(group="pytest11")}  # really installed
    result = grade_mini(HONEST_MINI)
    assert result.score == result.max_score == 4


def test_a_broken_grader_is_reported_with_its_file_and_error(tmp_path):
    """A grader that cannot be collected (an import error in a test file) stops grading with
    a GraderError naming the file and the error, not a score."""
    from autograder.grading import GraderError

    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    public = root / "assignments" / "90-mini" / "tests" / "public"
    (public / "test_broken.py").write_text("import no_such_module_anywhere\n\n\n"
                                           "def test_x():\n    pass\n")
    submission = tmp_path / "mini.py"
    submission.write_text(HONEST_MINI)
    with pytest.raises(GraderError) as raised:
        grade_submission(load_course(root).assignment("90-mini"), submission)
    message = str(raised.value)
    assert "test_broken.py" in message and "no_such_module_anywhere" in message


ESCAPING_GRANDCHILD = with_add(
    "def add(a, b):\n"
    "    import os, time\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        os.setsid()  # leaves the worker's process group\n"
    "        if os.fork() == 0:\n"
    "            time.sleep(60)  # an orphan that outlives its parent and the worker\n"
    "        os._exit(0)\n"
    "    os.waitpid(pid, 0)\n"
    "    return a + b\n")


def _worker_uid_processes() -> list[int]:
    """Live processes (zombies are dead) of any worker uid."""
    from autograder.sandbox.limits import UID_BASE, UID_SLOTS

    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                uid = os.stat(f"/proc/{entry}").st_uid
                state = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if UID_BASE <= uid < UID_BASE + UID_SLOTS and state not in ("Z", "X"):
                found.append(int(entry))
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="per-worker uids exist only when grading as root")
def test_a_process_that_escapes_the_workers_group_does_not_outlive_grading(grade_mini):
    """A submission's grandchild that left the process group (setsid) and was orphaned is
    killed when its worker is released: nothing of any worker uid is left running."""
    result = grade_mini(ESCAPING_GRANDCHILD)
    assert result.score >= 1  # the escape attempt itself does not stop the tests
    deadline = time.monotonic() + 5
    while _worker_uid_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _worker_uid_processes() == []


REPO = Path(__file__).resolve().parents[1]
GRADE_01_AND_REPORT_TORCH = """
import sys
from pathlib import Path
from autograder.config import load_course
from autograder.grading import grade_submission
course = load_course(Path(sys.argv[1]))
result = grade_submission(course.assignment("01-classical"), Path(sys.argv[2]), include_hidden=True)
print(result.score, "torch" in sys.modules)
"""


def test_grading_an_assignment_that_never_uses_torch_does_not_import_it(tmp_path):
    """01's students may not use torch and its graders never import it: grading it in a fresh
    interpreter leaves torch unimported (1.5 s of a student's check), at full marks."""
    out = subprocess.run([sys.executable, "-c", GRADE_01_AND_REPORT_TORCH, str(REPO),
                          str(REPO / "solutions" / "01-classical")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.stdout.split() == ["100.0", "False"], out.stderr[-2000:]
