"""Every case of the hostile corpus gets exactly its expected outcome, and the next
submission graded after it is unaffected."""

from __future__ import annotations

import pytest

from autograder.config import load_course
from autograder.grading import grade_submission
from tests.hostile.corpus import CASES, FIXTURE_COURSE, HONEST_MINI, judge, run_case


def test_the_corpus_is_big_enough_and_ids_are_unique():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.category for c in CASES} >= {"resources", "escape", "codec", "archive", "state"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, warm_parent, tmp_path):
    observed = run_case(case, warm_parent, tmp_path)
    assert judge(case, observed) == [], observed.summary
    honest = tmp_path / "next"
    honest.mkdir()
    (honest / "mini.py").write_text(HONEST_MINI)
    after = grade_submission(load_course(FIXTURE_COURSE).assignment("90-mini"), honest,
                             parent=warm_parent)
    assert after.score == 4, [t.reason for t in after.tests if not t.passed]
