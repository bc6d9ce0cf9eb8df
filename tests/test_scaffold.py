"""`dlgrade new`: a scaffolded assignment validates as it is, and bad requests write nothing."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.errors import UsageError
from autograder.grading import grade_submission
from autograder.scaffold import scaffold_assignment
from autograder.validate import validate_assignment
from tests.conftest import FIXTURE_COURSE

NEW_ID = "10-attention"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def course_root(tmp_path_factory) -> Path:
    """A copy of the fixture course with a scaffolded assignment beside its own."""
    root = tmp_path_factory.mktemp("scaffold") / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    scaffold_assignment(root, NEW_ID, topic="Attention")
    return root


def test_scaffold_writes_the_files_an_author_edits(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    written = scaffold_assignment(root, "11-graph-networks")
    assert [p.relative_to(root).as_posix() for p in written] == [
        "assignments/11-graph-networks/assignment.toml",
        "assignments/11-graph-networks/README.md",
        "assignments/11-graph-networks/tests/public/test_layers.py",
        "assignments/11-graph-networks/tests/hidden/test_layers_hidden.py",
        "assignments/11-graph-networks/mistakes.toml",
        "solutions/11-graph-networks/layers.py",
        "starter/11-graph-networks/layers.py",
    ]
    assignment = load_course(root).assignment("11-graph-networks")
    assert (assignment.title, assignment.topic, assignment.modules) == (
        "Graph networks", 11, ("layers.py",))
    assert not (root / "assignments" / "11-graph-networks" / "tests" / "conftest.py").exists()
    readme = (assignment.root / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Assignment 11: Graph networks\n")
    assert "dlgrade check 11-graph-networks" in readme


def test_a_quoted_topic_survives_toml(tmp_path):
    scaffold_assignment(tmp_path, "12-rnn", topic='Recurrent "nets" \\ LSTMs')
    assert load_course(tmp_path).assignment("12-rnn").title == 'Recurrent "nets" \\ LSTMs'


def test_the_scaffolded_assignment_validates(course_root):
    """Reference full marks, starter zero, deterministic, points, leak check (and the planted
    mistakes, wherever validate checks them): every check is ok."""
    report = validate_assignment(load_course(course_root).assignment(NEW_ID))
    assert report.ok, report.render()
    names = [c.name for c in report.checks]
    for core in ("starter generated from the solution", "reference scores full marks",
                 "starter scores 0 on every scoring test", "grading is deterministic",
                 "points add up to total_points",
                 "the student release holds no solution code or hidden test"):
        assert core in names, report.render()
    assert (report.reference.score, report.starter.score) == (100, 0)
    visibility = {t.name.split("::")[-1]: t.visibility for t in report.reference.tests}
    assert visibility == {"test_affine_forward": "visible",
                          "test_affine_forward_flattens_each_example": "after_due_date"}


def test_the_planted_mistake_fails_the_tests_it_names(course_root, tmp_path):
    assignment = load_course(course_root).assignment(NEW_ID)
    mistakes = tomllib.loads((assignment.root / "mistakes.toml").read_text(encoding="utf-8"))
    (mistake,) = mistakes["mistake"]
    broken = tmp_path / "broken"
    shutil.copytree(assignment.solutions_dir, broken)
    module = broken / mistake["module"]
    source = module.read_text(encoding="utf-8")
    for replace in mistake["replace"]:
        assert source.count(replace["old"]) == 1
        source = source.replace(replace["old"], replace["new"])
    module.write_text(source, encoding="utf-8")
    result = grade_submission(assignment, broken)
    failed = {t.name.split("::")[-1] for t in result.tests if not t.passed}
    assert failed == set(mistake["must_fail"]) and result.score == 0


@pytest.mark.parametrize("leftover", ["assignments", "solutions", "starter"])
def test_an_existing_id_is_refused_and_nothing_written(tmp_path, leftover):
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    (root / leftover / NEW_ID).mkdir()
    (root / leftover / NEW_ID / "notes.txt").write_text("mine")
    before = _snapshot(root)
    with pytest.raises(UsageError, match=f"{NEW_ID} already exists"):
        scaffold_assignment(root, NEW_ID)
    assert _snapshot(root) == before


def test_scaffolding_twice_is_refused(course_root):
    before = _snapshot(course_root)
    with pytest.raises(UsageError, match="already exists"):
        scaffold_assignment(course_root, NEW_ID, topic="Again")
    assert _snapshot(course_root) == before


@pytest.mark.parametrize("bad_id", ["10", "7-attention", "100-attention", "10_attention",
                                    "10-Attention", "10-", "10-attention-", "10--attention",
                                    "attention", "10-attention/../x", "10-attention\n"])
def test_a_malformed_id_is_refused_and_nothing_written(tmp_path, bad_id):
    with pytest.raises(UsageError, match="malformed assignment id"):
        scaffold_assignment(tmp_path, bad_id)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("topic", ["", "   ", "two\nlines"])
def test_a_topic_that_is_not_one_line_is_refused(tmp_path, topic):
    with pytest.raises(UsageError, match="one line"):
        scaffold_assignment(tmp_path, NEW_ID, topic=topic)
    assert list(tmp_path.iterdir()) == []


def test_a_course_folder_that_cannot_be_written_is_a_usage_error_and_leaves_nothing(
        tmp_path, monkeypatch):
    from autograder import scaffold
    from autograder.errors import OutputNotWritable

    course = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, course)
    real_write = Path.write_text

    def refuse_the_solution(self, *args, **kwargs):
        if self.name == scaffold.MODULE:
            raise PermissionError(13, "Permission denied")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", refuse_the_solution)
    with pytest.raises(OutputNotWritable, match="cannot write the assignment 12-x.*Permission denied"):
        scaffold.scaffold_assignment(course, "12-x")
    assert not (course / "assignments" / "12-x").exists()
    assert not (course / "solutions" / "12-x").exists()
