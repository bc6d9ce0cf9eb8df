"""autograder.mutants: writing, grading and judging broken copies of a reference solution."""

from __future__ import annotations

import pytest

from autograder.mutants import (
    Mutant,
    grade_mutant,
    mutant_problems,
    reference_problems,
    write_mutant,
)
from autograder.results import GradeResult, TestResult
from tests.conftest import FIXTURE_COURSE

SOLUTION = FIXTURE_COURSE / "solutions" / "90-mini"

ADD_SUBTRACTS = Mutant("add-subtracts", "mini.py", [("    return a + b\n", "    return a - b\n")],
                       ["test_add", "test_add_negative"])


@pytest.fixture(scope="module")
def mini(mini_course):
    return mini_course.assignment("90-mini")


def _result(*tests: tuple[str, str]) -> GradeResult:
    return GradeResult("90-mini", "1", "0", "", "", "", 0.0, tests=[
        TestResult(name, "", 1.0, 1.0 if status == "passed" else 0.0, status)
        for name, status in tests])


def test_write_mutant_copies_the_solution_and_applies_the_replacements(tmp_path):
    mutant = Mutant("two-edits", "mini.py",
                    [("return a + b", "return a - b"), ("self.count += by", "self.count -= by")],
                    ["test_add"])
    dest = tmp_path / "mutant"  # created when missing
    assert write_mutant(SOLUTION, mutant, dest) == dest
    assert [p.name for p in dest.iterdir()] == ["mini.py"]
    text = (dest / "mini.py").read_text()
    assert "return a - b" in text and "self.count -= by" in text
    assert "return a + b" not in text
    assert (SOLUTION / "mini.py").read_text().count("return a + b") == 1  # the reference is untouched
    assert mutant.replacements == (("return a + b", "return a - b"),
                                   ("self.count += by", "self.count -= by"))  # stored as tuples


@pytest.mark.parametrize(("old", "found"), [("return a * b", 0), ("(self, ", 2)])
def test_a_target_not_found_exactly_once_is_refused(tmp_path, old, found):
    mutant = Mutant("bad-target", "mini.py", [(old, "x")], ["test_add"])
    with pytest.raises(ValueError, match=f"bad-target.*found {found} times in mini.py"):
        write_mutant(SOLUTION, mutant, tmp_path)


def test_an_unknown_module_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no module nope.py"):
        write_mutant(SOLUTION, Mutant("m", "nope.py", [("a", "b")], ["test_add"]), tmp_path)


def test_the_reference_gets_full_marks(mini, warm_parent):
    assert reference_problems(mini, parent=warm_parent) == []


def test_a_caught_mutant_has_no_problems(tmp_path, mini, warm_parent):
    result = grade_mutant(mini, ADD_SUBTRACTS, tmp_path, parent=warm_parent)
    assert sorted(t.name.split("::")[-1] for t in result.tests) == ["test_add", "test_add_negative"]
    assert mutant_problems(result, ADD_SUBTRACTS) == []


def test_grading_everything_runs_every_test(tmp_path, mini, warm_parent):
    result = grade_mutant(mini, ADD_SUBTRACTS, tmp_path, only_named=False, parent=warm_parent)
    assert len(result.tests) == 4
    assert mutant_problems(result, ADD_SUBTRACTS) == []


def test_a_test_that_still_passes_is_reported(tmp_path, mini, warm_parent):
    # add(2, 3) is still 5 with a + abs(b), but add(10, -4) is not 6.
    mutant = Mutant("add-abs", "mini.py", [("return a + b", "return a + abs(b)")],
                    ["test_add", "test_add_negative"])
    result = grade_mutant(mini, mutant, tmp_path, parent=warm_parent)
    assert mutant_problems(result, mutant) == [
        "add-abs: these tests should catch the mistake but passed: ['test_add']"]


def test_grade_mutant_writes_the_mutant(tmp_path, mini, warm_parent):
    grade_mutant(mini, ADD_SUBTRACTS, tmp_path, parent=warm_parent)
    assert "return a - b" in (tmp_path / "mini.py").read_text()


def test_an_unknown_test_name_is_reported(tmp_path, mini, warm_parent):
    mutant = Mutant("add-subtracts", "mini.py", [("return a + b", "return a - b")],
                    ["test_add", "test_no_such_test"])
    result = grade_mutant(mini, mutant, tmp_path, parent=warm_parent)
    assert mutant_problems(result, mutant) == [
        "add-subtracts: no such grader tests: ['test_no_such_test']"]


def test_only_the_named_tests_are_judged():
    # -k "test_add" also selects test_add_negative; it passing does not matter.
    result = _result(("public/test_mini.py::test_add", "failed"),
                     ("hidden/test_mini_hidden.py::test_add_negative", "passed"))
    assert mutant_problems(result, Mutant("m", "mini.py", [("a", "b")], ["test_add"])) == []


def test_a_full_score_is_reported():
    result = _result()
    assert mutant_problems(result, Mutant("m", "mini.py", [("a", "b")], ["test_add"])) == [
        "m: no such grader tests: ['test_add']",
        "m: score 0 is not below the maximum 0"]


def test_parametrized_tests():
    result = _result(("public/test_x.py::test_p[1]", "passed"),
                     ("public/test_x.py::test_p[2]", "failed"))

    def problems(*names: str) -> list[str]:
        return mutant_problems(result, Mutant("m", "x.py", [("a", "b")], names))

    assert problems("test_p") == []  # a bare name is caught when any case fails
    assert problems("test_p[2]") == []
    assert problems("test_p[1]") == [
        "m: these tests should catch the mistake but passed: ['test_p[1]']"]
    assert problems("test_p[3]") == ["m: no such grader tests: ['test_p[3]']"]

