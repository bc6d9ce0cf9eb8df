"""Every case of the hostile corpus gets its expected outcome, and the next submission graded
after it is unaffected; where the machine grants less, a case that does not hold must be one
whose protections the run reported off (``corpus.judge``)."""

from __future__ import annotations

import pytest

from autograder.sandbox import protections as P
from tests.hostile.corpus import (
    ALWAYS,
    CASES,
    Case,
    Observed,
    all_of,
    any_of,
    judge,
    run_case,
)


def test_the_corpus_is_big_enough_and_ids_are_unique():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.category for c in CASES} >= {"resources", "escape", "codec", "archive", "state"}


def test_every_case_that_runs_code_names_what_it_relies_on():
    for case in CASES:
        assert bool(case.needs) == (case.kind != "archive"), case.id
    forging = [c for c in CASES if c.category in ("codec", "bad input")]
    forging += [c for c in CASES if c.id in ("forge-a-reply", "monkeypatch-numpy-and-pytest")]
    for case in forging:  # the score's own integrity: nothing any machine may lack
        assert all(alternative <= ALWAYS for alternative in case.needs), case.id


def _grade_case(needs) -> tuple[Case, Observed]:
    """A case that expects test_add to fail, observed passing (the attack got through)."""
    case = Case("x", "escape", "denied", {"mini.py": ""}, {"test_add": "PermissionError"},
                needs=needs)
    outcome = {"test_add": ("passed", ""), "test_scale": ("passed", ""),
               "test_add_negative": ("passed", ""), "test_counter": ("passed", "")}
    return case, Observed("4/4", outcome, 0.0)


def test_a_mismatch_is_excused_only_when_every_alternative_was_reported_off():
    case, observed = _grade_case(any_of(P.NETWORK_NAMESPACE, P.LANDLOCK_NET))
    observed.protections = [P.SEPARATE_PROCESS, P.RLIMITS]
    verdict = judge(case, observed)
    assert not verdict.held and verdict.excused and verdict.ok
    assert verdict.label() == "no — network-namespace, landlock-net off (reported)"
    observed.protections = [P.SEPARATE_PROCESS, P.LANDLOCK_NET]
    verdict = judge(case, observed)
    assert not verdict.ok and verdict.label() == "MISMATCH"


def test_a_conjunction_is_broken_by_any_of_its_protections_off():
    case, observed = _grade_case(all_of(P.RLIMITS, P.UNPRIVILEGED_UID))
    observed.protections = [P.RLIMITS]
    verdict = judge(case, observed)
    assert verdict.excused and verdict.off == [P.UNPRIVILEGED_UID]
    observed.protections = [P.RLIMITS, P.UNPRIVILEGED_UID]
    assert not judge(case, observed).ok


def test_a_forged_score_is_never_excused_even_if_the_run_reports_nothing():
    case, observed = _grade_case(any_of(P.VALUE_CODEC))
    observed.protections = []
    verdict = judge(case, observed)
    assert not verdict.ok and verdict.off == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, warm_parent, tmp_path):
    observed = run_case(case, warm_parent, tmp_path)
    verdict = judge(case, observed)
    assert verdict.ok, (observed.summary, verdict.problems)
