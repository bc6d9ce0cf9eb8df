"""Trivial submissions (autograder.trivial): the generator, validate's check, the course's own.

The course's assignments are graded three times each (zeros, identities, no-ops) in
``test_trivial_submissions_earn_at_most_3_points[<assignment>]`` (the ``e2e`` group);
``-k 07-embeddings`` runs one assignment's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from autograder.config import load_course
from autograder.results import GradeResult, TestResult
from autograder.trivial import (
    MAX_TRIVIAL_POINTS,
    VARIANTS,
    ZEROS_HELPER,
    find_stubs,
    grade_trivial,
    passing_tests,
    trivial_problems,
    trivial_source,
    write_trivial,
)
from autograder.validate import validate_assignment
from tests.conftest import FIXTURE_COURSE, REPO

COURSE = load_course(REPO)
MINI_STARTER = FIXTURE_COURSE / "starter" / "90-mini"

# ------------------------------------------------------------------------------ the generator

STARTER = '''\
import numpy as np


class Base:
    def step(self):
        raise NotImplementedError("subclasses implement step")


class Layer(Base):
    def __init__(self, size):
        super().__init__()
        self.size = size
        # TODO: build the weights
        raise NotImplementedError("Layer.__init__: see the TODO above")

    def forward(self, x, scale=1.0):
        """The layer."""
        if x is None:
            raise NotImplementedError(
                "Layer.forward: see the TODO above")
        return x

    @staticmethod
    def norm(v):
        raise NotImplementedError("Layer.norm: not implemented")


def pack(*parts, sep):
    def inner(a):
        raise NotImplementedError("inner: not implemented")
    raise NotImplementedError("pack: not implemented")


def constant():
    raise NotImplementedError("constant: not implemented")
'''


def test_find_stubs_reads_generated_stubs_only():
    stubs = find_stubs(STARTER)
    assert [(s.function, s.start, s.end, s.params, s.is_init) for s in stubs] == [
        ("Layer.__init__", (14, 8), (14, 71), ("size",), True),
        ("Layer.forward", (19, 12), (20, 52), ("x", "scale"), False),
        ("Layer.norm", (25, 8), (25, 64), ("v",), False),  # a staticmethod keeps its first
        ("inner", (30, 8), (30, 59), ("a",), False),  # nested in a function, not a method
        ("pack", (31, 4), (31, 54), ("*parts", "sep"), False),
        ("constant", (35, 4), (35, 58), (), False),
    ]  # Base.step's raise is the reference's own, not a stub


def _returns(variant: str) -> list[str]:
    """The return statements of the stubs' functions (the zeros helper's left out)."""
    text = trivial_source(STARTER, variant).removesuffix(ZEROS_HELPER)
    return [line.strip() for line in text.splitlines() if line.strip().startswith("return")]


def test_each_variant_returns_what_it_says():
    assert _returns("zeros") == [
        "return None", "return _dlgrade_trivial_zeros(x, scale)", "return x",
        "return _dlgrade_trivial_zeros(v)", "return _dlgrade_trivial_zeros(a)",
        "return _dlgrade_trivial_zeros(*parts, sep)", "return _dlgrade_trivial_zeros()"]
    assert _returns("identity") == [
        "return None", "return x", "return x", "return v", "return a",
        "return parts[0] if parts else None", "return None"]
    assert _returns("nothing") == ["return None", "return None", "return x", "return None",
                                   "return None", "return None", "return None"]


def test_the_rewritten_module_keeps_the_code_around_the_stubs():
    text = trivial_source(STARTER, "zeros")
    assert "super().__init__()\n        self.size = size\n" in text
    assert 'raise NotImplementedError("subclasses implement step")' in text
    assert text.count("NotImplementedError") == 1
    assert text.endswith(ZEROS_HELPER)
    assert ZEROS_HELPER not in trivial_source(STARTER, "identity")
    compile(text, "<zeros>", "exec")


def test_the_zeros_helper_shapes_its_answer_like_the_first_array():
    import numpy as np
    import torch

    namespace: dict = {}
    exec(ZEROS_HELPER, namespace)
    zeros = namespace["_dlgrade_trivial_zeros"]
    out = zeros(3, np.ones((2, 3), dtype=np.int32), np.ones(4))
    assert out.shape == (2, 3) and out.dtype == np.int32 and not out.any()
    tensor = zeros(torch.ones(2, 5, dtype=torch.float64))
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float64
    assert tuple(tensor.shape) == (2, 5) and not tensor.any()
    assert zeros("text", None) == 0.0 and zeros() == 0.0


def test_an_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown trivial variant 'ones'"):
        trivial_source(STARTER, "ones")


def test_a_module_without_stubs_is_unchanged():
    assert trivial_source("x = 1\n", "zeros") == "x = 1\n"


def test_write_trivial_rewrites_the_fixture_starter(tmp_path):
    dest = write_trivial(MINI_STARTER, "identity", tmp_path / "identity")
    text = (dest / "mini.py").read_text()
    assert "NotImplementedError" not in text
    for line in ("    return a\n", "    return x\n", "        return None\n",
                 "        return by\n"):
        assert line in text
    assert (MINI_STARTER / "mini.py").read_text().count("NotImplementedError") == 4  # untouched


# -------------------------------------------------------------------------- grading and judging

def _result(*tests: tuple[str, float]) -> GradeResult:
    return GradeResult("90-mini", "1", "0", "", "", "", 0.0, tests=[
        TestResult(name, "", 2.0, score, "passed" if score else "failed")
        for name, score in tests])


def test_trivial_problems_name_the_variant_score_and_tests():
    assert MAX_TRIVIAL_POINTS == 3
    low = _result(("public/test_a.py::test_a", 2.0), ("hidden/test_b.py::test_b[1]", 1.0))
    assert passing_tests(low) == ["test_a", "test_b[1]"]
    assert trivial_problems(low, "zeros") == []  # 3 points: allowed
    high = _result(("public/test_a.py::test_a", 2.0), ("hidden/test_b.py::test_b[1]", 2.0),
                   ("hidden/test_b.py::test_c", 0.0))
    assert trivial_problems(high, "identity") == [
        "identity: 4/6 points (at most 3 allowed) from test_a, test_b[1]"]


@pytest.fixture(scope="module")
def mini(mini_course):
    return mini_course.assignment("90-mini")


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_fixture_starters_trivial_variants_score_zero(tmp_path, mini, warm_parent, variant):
    result = grade_trivial(mini, variant, tmp_path, parent=warm_parent)
    assert len(result.tests) == 4 and result.max_score == 4
    assert result.score == 0, passing_tests(result)
    assert "NotImplementedError" not in (tmp_path / "mini.py").read_text()
    assert not any("not implemented" in t.reason for t in result.tests)  # they ran the variant


# -------------------------------------------------------------------------- dlgrade validate

SELF_REFERENTIAL = '''

@pytest.mark.points(4)
def test_scale_keeps_the_shape(submission, rng):
    """scale keeps the shape of x (checked against nothing else: zeros and x pass)."""
    x = rng.standard_normal((3, 4))
    assert submission.mini.scale(x, 2.5).shape == x.shape
'''


@pytest.fixture
def self_referential_course(tmp_path):
    """The fixture course with a 4-point test that a trivial scale passes (total 8 points)."""
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    root = course / "assignments" / "90-mini"
    test = root / "tests" / "public" / "test_mini.py"
    test.write_text(test.read_text() + SELF_REFERENTIAL)
    toml = root / "assignment.toml"
    toml.write_text(toml.read_text().replace("total_points = 4", "total_points = 8"))
    return course


def test_validate_passes_the_fixture_and_reports_each_variant(tmp_path, warm_parent):
    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    report = validate_assignment(load_course(course).assignment("90-mini"), warm_parent,
                                 mistakes=False)
    checks = {c.name: c for c in report.checks}
    check = checks["trivial submissions score at most 3 points"]
    assert check.ok and check.detail == "zeros 0, identity 0, nothing 0", report.render()
    assert sorted(report.trivial) == sorted(VARIANTS) and report.ok


def test_validate_fails_a_self_referential_test(self_referential_course, warm_parent):
    assignment = load_course(self_referential_course).assignment("90-mini")
    report = validate_assignment(assignment, warm_parent, mistakes=False)
    check = {c.name: c for c in report.checks}["trivial submissions score at most 3 points"]
    assert not check.ok and not report.ok
    assert check.detail == (
        "zeros 4, identity 4, nothing 0; "
        "zeros: 4/8 points (at most 3 allowed) from test_scale_keeps_the_shape; "
        "identity: 4/8 points (at most 3 allowed) from test_scale_keeps_the_shape")
    others = [c for c in report.checks if c is not check]
    assert all(c.ok for c in others), report.render()  # the rest of the assignment is sound


def test_validate_quick_skips_the_trivial_submissions(self_referential_course, warm_parent):
    assignment = load_course(self_referential_course).assignment("90-mini")
    report = validate_assignment(assignment, warm_parent, mistakes=False, trivial=False)
    assert report.ok and report.trivial == {}
    assert "[skip] trivial submissions: not graded" in report.render()


def test_the_cli_names_the_variant_score_and_tests(self_referential_course):
    env = {**os.environ, "DLGRADE_COURSE": str(self_referential_course)}
    done = subprocess.run([sys.executable, "-m", "autograder.cli", "validate", "90-mini"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("[FAIL] trivial submissions score at most 3 points: zeros 4, identity 4, nothing 0; "
            "zeros: 4/8 points (at most 3 allowed) from test_scale_keeps_the_shape"
            in done.stdout)
    quick = subprocess.run([sys.executable, "-m", "autograder.cli", "validate", "90-mini",
                            "--quick"], capture_output=True, text=True, env=env, timeout=300)
    assert quick.returncode == 0, quick.stdout + quick.stderr
    assert "[skip] trivial submissions: not graded" in quick.stdout


# ------------------------------------------------------------------------------ the course's own

@pytest.mark.e2e
@pytest.mark.parametrize("ident", COURSE.assignment_ids())
def test_trivial_submissions_earn_at_most_3_points(tmp_path, ident):
    assignment = COURSE.assignment(ident)
    problems = []
    for variant in VARIANTS:
        result = grade_trivial(assignment, variant, tmp_path / variant)
        assert result.max_score == assignment.total_points
        problems.extend(trivial_problems(result, variant))
    assert problems == []


def test_the_course_starters_have_stubs_the_generator_finds():
    for ident in COURSE.assignment_ids():
        starter = COURSE.assignment(ident).starter_dir
        for path in sorted(starter.glob("*.py")):
            text = path.read_text(encoding="utf-8")
            stubs = find_stubs(text, str(path))
            assert stubs, f"{path}: no stub found"
            generated = text.count(': see the TODO above")') + text.count(': not implemented")')
            assert len(stubs) == generated, f"{path}: {len(stubs)} of {generated} stubs found"
            for variant in VARIANTS:
                compile(trivial_source(text, variant, str(path)), str(path), "exec")


def test_the_stubs_read_are_the_generators(tmp_path):
    """What ``dlgrade generate`` writes is what find_stubs reads (the message's two forms)."""
    from autograder.authoring import strip_solutions

    solution = textwrap.dedent('''\
        def f(x):
            # BEGIN SOLUTION hint: double it
            y = 2 * x
            # END SOLUTION
            return y


        class C:
            def g(self, a):
                # BEGIN SOLUTION
                return a
                # END SOLUTION
        ''')
    starter, regions = strip_solutions(solution)
    assert [s.function for s in find_stubs(starter)] == [r.function for r in regions] == [
        "f", "C.g"]
