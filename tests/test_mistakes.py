"""Planted mistakes (autograder.mistakes): the course's own, and the machinery.

Every assignment's ``mistakes.toml`` is run here: each mistake is one test
(``test_the_mistake_loses_points[<assignment>:<mistake id>]``), graded only on the tests it
names, each of which must fail. That the unbroken reference of each assignment gets full
marks (without which a caught mistake shows nothing) is ``test_assignments.py``'s
``test_validate``. ``-k 02-feedforward`` runs one assignment's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.errors import ConfigError
from autograder.mistakes import (
    Mistake,
    grade_mistake,
    load_mistakes,
    mistake_problems,
    reference_problems,
    write_mistake,
)
from autograder.results import GradeResult, TestResult
from autograder.validate import validate_assignment
from tests.conftest import FIXTURE_COURSE, REPO

COURSE = load_course(REPO)
PLANTED = [(ident, mistake) for ident in COURSE.assignment_ids()
           for mistake in load_mistakes(COURSE.assignment(ident))]
SOLUTION = FIXTURE_COURSE / "solutions" / "90-mini"
ADD_SUBTRACTS = Mistake("add-subtracts", "mini.py", [("    return a + b\n", "    return a - b\n")],
                        ["test_add", "test_add_negative"])


# ---------------------------------------------------------------------------- the course's own

def test_every_assignment_plants_mistakes():
    planted = {ident for ident, _ in PLANTED}
    assert planted == set(COURSE.assignment_ids()), "an assignment without mistakes.toml"
    assert "02-feedforward" in planted


@pytest.mark.parametrize(("ident", "mistake"), [
    pytest.param(ident, mistake, id=f"{ident}:{mistake.id}") for ident, mistake in PLANTED])
def test_the_mistake_loses_points(tmp_path, ident, mistake):
    result = grade_mistake(COURSE.assignment(ident), mistake, tmp_path)
    assert mistake_problems(result, mistake) == []


# ------------------------------------------------------------------------------ mistakes.toml

GOOD = r"""
[[mistake]]
id = "add-subtracts"
module = "mini.py"
must_fail = ["test_add"]
why = "a - b"
[[mistake.replace]]
old = '''
    return a + b
'''
new = '''
    return a - b  # \n stays two characters
'''
[[mistake.replace]]
old = "self.count += by"
new = "self.count -= by"

[[mistake]]
id = "scale-by-one"
module = "mini.py"
must_fail = ["test_scale", "test_scale[case]"]
[[mistake.replace]]
old = "* factor"
new = "* 1"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mistakes.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_mistakes_reads_exact_text(tmp_path):
    first, second = load_mistakes(_write(tmp_path, GOOD))
    assert first == Mistake("add-subtracts", "mini.py", [
        ("    return a + b\n", "    return a - b  # \\n stays two characters\n"),
        ("self.count += by", "self.count -= by")], ["test_add"], "a - b")
    assert second.why == "" and second.must_fail == ("test_scale", "test_scale[case]")


def test_an_assignments_mistakes_are_its_mistakes_toml(tmp_path, mini_course):
    mini = mini_course.assignment("90-mini")
    assert mini.mistakes_path == mini.root / "mistakes.toml"
    assert [m.id for m in load_mistakes(mini)] == [
        m.id for m in load_mistakes(mini.mistakes_path)]


def entry(ident: str = "m", must_fail: tuple[str, ...] = ("test_add",),
          replace: tuple[tuple[str, str], ...] = ()) -> str:
    """A ``[[mistake]]`` of mini.py in TOML, its strings written as JSON (valid TOML here)."""
    text = (f'[[mistake]]\nid = "{ident}"\nmodule = "mini.py"\n'
            f"must_fail = {json.dumps(list(must_fail))}\n")
    return text + "".join(f"[[mistake.replace]]\nold = {json.dumps(old)}\n"
                          f"new = {json.dumps(new)}\n" for old, new in replace)


ENTRY = entry()
REPLACE = '[[mistake.replace]]\nold = "a"\nnew = "b"\n'


@pytest.mark.parametrize(("text", "message"), [
    ("", "no [[mistake]] entries"),
    ("mistake = 3", "no [[mistake]] entries"),
    ("[[mistake]", "invalid TOML"),
    ('title = "x"\n' + ENTRY + REPLACE, "unknown top-level key 'title'"),
    (ENTRY + 'whyy = "x"\n' + REPLACE, "mistake 'm': unknown key 'whyy'"),
    (ENTRY, "mistake 'm': missing required key(s): replace"),
    ('[[mistake]]\nmodule = "mini.py"\nmust_fail = ["t"]\n' + REPLACE,
     "mistake #1: missing required key(s): id"),
    (ENTRY.replace('"m"', '"Not A Slug"') + REPLACE, "mistake #1: 'id' must be a slug"),
    (ENTRY.replace('"mini.py"', '"sub/mini.py"') + REPLACE, "mistake 'm': 'module' must be"),
    (ENTRY.replace('["test_add"]', "[]") + REPLACE, "mistake 'm': 'must_fail' must be"),
    (ENTRY + 'why = """two\nlines"""\n' + REPLACE, "mistake 'm': 'why' must be one line"),
    (ENTRY + "replace = []\n", "mistake 'm': no [[mistake.replace]] tables"),
    (ENTRY + REPLACE.replace('new = "b"', 'new = "b"\nto = "c"'),
     "mistake 'm', replace #1: must have exactly the keys 'old' and 'new'"),
    (ENTRY + REPLACE.replace('old = "a"', 'old = ""'), "mistake 'm', replace #1: 'old' is empty"),
    (ENTRY + REPLACE.replace('new = "b"', "new = 2"), "'old' and 'new' must be strings"),
    (ENTRY + REPLACE + ENTRY + REPLACE, "mistake 'm': duplicate id (mistake #1 and #2)"),
])
def test_a_malformed_file_is_a_config_error_naming_file_and_entry(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_mistakes(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="mistakes.toml: not found"):
        load_mistakes(tmp_path / "mistakes.toml")


def test_a_module_the_assignment_does_not_have_is_a_config_error(tmp_path, mini_course):
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    (course / "assignments" / "90-mini" / "mistakes.toml").write_text(
        ENTRY.replace("mini.py", "other.py") + REPLACE)
    with pytest.raises(ConfigError, match=r"mistake 'm': module 'other.py' is not one of the "
                                          r"assignment's modules \(mini.py\)"):
        load_mistakes(load_course(course).assignment("90-mini"))


# ------------------------------------------------------------------- writing, grading, judging

@pytest.fixture(scope="module")
def mini(mini_course):
    return mini_course.assignment("90-mini")


def _result(*tests: tuple[str, str]) -> GradeResult:
    return GradeResult("90-mini", "1", "0", "", "", "", 0.0, tests=[
        TestResult(name, "", 1.0, 1.0 if status == "passed" else 0.0, status)
        for name, status in tests])


def test_write_mistake_copies_the_solution_and_applies_the_replacements(tmp_path):
    mistake = Mistake("two-edits", "mini.py",
                      [("return a + b", "return a - b"), ("self.count += by", "self.count -= by")],
                      ["test_add"])
    dest = tmp_path / "mistake"  # created when missing
    assert write_mistake(SOLUTION, mistake, dest) == dest
    assert [p.name for p in dest.iterdir()] == ["mini.py"]
    text = (dest / "mini.py").read_text()
    assert "return a - b" in text and "self.count -= by" in text
    assert "return a + b" not in text
    assert (SOLUTION / "mini.py").read_text().count("return a + b") == 1  # the reference is untouched
    assert mistake.replacements == (("return a + b", "return a - b"),
                                    ("self.count += by", "self.count -= by"))  # stored as tuples


@pytest.mark.parametrize(("old", "found"), [("return a * b", 0), ("(self, ", 2)])
def test_a_target_not_found_exactly_once_is_refused(tmp_path, old, found):
    mistake = Mistake("bad-target", "mini.py", [(old, "x")], ["test_add"])
    with pytest.raises(ValueError, match=f"bad-target.*found {found} times in mini.py"):
        write_mistake(SOLUTION, mistake, tmp_path)


def test_an_unknown_module_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no module nope.py"):
        write_mistake(SOLUTION, Mistake("m", "nope.py", [("a", "b")], ["test_add"]), tmp_path)


@pytest.mark.parametrize(("replacements", "must_fail", "message"), [
    ([], ["test_add"], "no replacements"), ([("a", "b")], [], "no tests named in must_fail")])
def test_a_mistake_needs_replacements_and_tests(replacements, must_fail, message):
    with pytest.raises(ValueError, match=message):
        Mistake("m", "mini.py", replacements, must_fail)


def test_the_reference_of_the_fixture_gets_full_marks(mini, warm_parent):
    assert reference_problems(mini, parent=warm_parent) == []


def test_a_caught_mistake_has_no_problems(tmp_path, mini, warm_parent):
    result = grade_mistake(mini, ADD_SUBTRACTS, tmp_path, parent=warm_parent)
    assert sorted(t.name.split("::")[-1] for t in result.tests) == ["test_add", "test_add_negative"]
    assert mistake_problems(result, ADD_SUBTRACTS) == []
    assert "return a - b" in (tmp_path / "mini.py").read_text()  # the mistake was written there


def test_grading_everything_runs_every_test(tmp_path, mini, warm_parent):
    result = grade_mistake(mini, ADD_SUBTRACTS, tmp_path, only_named=False, parent=warm_parent)
    assert len(result.tests) == 4
    assert mistake_problems(result, ADD_SUBTRACTS) == []


@pytest.mark.parametrize(("mistake", "problem"), [
    # add(2, 3) is still 5 with a + abs(b), but add(10, -4) is not 6.
    (Mistake("add-abs", "mini.py", [("return a + b", "return a + abs(b)")],
             ["test_add", "test_add_negative"]),
     "add-abs: these tests should catch the mistake but passed: ['test_add']"),
    (Mistake("add-subtracts", "mini.py", [("return a + b", "return a - b")],
             ["test_add", "test_no_such_test"]),
     "add-subtracts: no such grader tests: ['test_no_such_test']"),
], ids=["a-test-that-still-passes", "an-unknown-test-name"])
def test_what_was_not_caught_is_reported(tmp_path, mini, warm_parent, mistake, problem):
    result = grade_mistake(mini, mistake, tmp_path, parent=warm_parent)
    assert mistake_problems(result, mistake) == [problem]


def test_only_the_named_tests_are_judged():
    # -k "test_add" also selects test_add_negative; it passing does not matter.
    result = _result(("public/test_mini.py::test_add", "failed"),
                     ("hidden/test_mini_hidden.py::test_add_negative", "passed"))
    assert mistake_problems(result, Mistake("m", "mini.py", [("a", "b")], ["test_add"])) == []


def test_a_full_score_is_reported():
    result = _result()
    assert mistake_problems(result, Mistake("m", "mini.py", [("a", "b")], ["test_add"])) == [
        "m: no such grader tests: ['test_add']",
        "m: score 0 is not below the maximum 0"]


def test_parametrized_tests():
    result = _result(("public/test_x.py::test_p[1]", "passed"),
                     ("public/test_x.py::test_p[2]", "failed"))

    def problems(*names: str) -> list[str]:
        return mistake_problems(result, Mistake("m", "x.py", [("a", "b")], names))

    assert problems("test_p") == []  # a bare name is caught when any case fails
    assert problems("test_p[2]") == []
    assert problems("test_p[1]") == [
        "m: these tests should catch the mistake but passed: ['test_p[1]']"]
    assert problems("test_p[3]") == ["m: no such grader tests: ['test_p[3]']"]


# ------------------------------------------------------------------------- dlgrade validate

@pytest.fixture
def course_copy(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    return course


def _validate(course: Path, warm_parent, **kwargs):
    report = validate_assignment(load_course(course).assignment("90-mini"), warm_parent, **kwargs)
    return report, {c.name: c for c in report.checks}


def test_validate_grades_the_mistakes(course_copy, warm_parent):
    report, checks = _validate(course_copy, warm_parent)
    assert checks["mistakes"].ok and checks["mistakes"].detail == "2 of 2 caught"
    assert "[ok  ] mistakes: 2 of 2 caught" in report.render()


def test_validate_without_mistakes_says_they_were_not_graded(course_copy, warm_parent):
    (course_copy / "assignments" / "90-mini" / "mistakes.toml").unlink()  # not even looked for
    report, checks = _validate(course_copy, warm_parent, mistakes=False)
    assert "mistakes" not in checks and report.ok
    assert "[skip] mistakes: not graded" in report.render()


def test_validate_fails_an_assignment_without_mistakes(course_copy, warm_parent):
    (course_copy / "assignments" / "90-mini" / "mistakes.toml").unlink()
    report, checks = _validate(course_copy, warm_parent)
    assert not report.ok
    assert checks["mistakes"].detail.startswith("no mistakes.toml in ")


def test_validate_names_the_mistakes_not_caught(course_copy, warm_parent):
    path = course_copy / "assignments" / "90-mini" / "mistakes.toml"
    path.write_text(path.read_text()
                    + entry("add-abs", ("test_add", "test_add_negative"),
                            (("return a + b", "return a + abs(b)"),))
                    + entry("stale", ("test_add",), (("return a ++ b", "return a - b"),)))
    report, checks = _validate(course_copy, warm_parent)
    assert not report.ok
    assert checks["mistakes"].detail == (
        "2 of 4 caught; add-abs: these tests should catch the mistake but passed: ['test_add']; "
        "mistake 'stale': target found 0 times in mini.py, expected exactly once: "
        "'return a ++ b'")


def test_validate_reports_a_malformed_file(course_copy, warm_parent):
    path = course_copy / "assignments" / "90-mini" / "mistakes.toml"
    path.write_text(ENTRY)
    _, checks = _validate(course_copy, warm_parent)
    assert not checks["mistakes"].ok
    assert checks["mistakes"].detail == f"{path}: mistake 'm': missing required key(s): replace"
