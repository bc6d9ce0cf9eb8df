"""``dlgrade validate``: prove that an assignment's graders are sound.

Checks, each reported as one line:

1. the starter is up to date with the solution (``generate --check``);
2. the reference solution scores full marks on every test;
3. the generated starter scores 0 on every scoring test;
4. grading the reference twice gives identical results (determinism);
5. the test points add up to ``total_points`` in assignment.toml;
6. every test carries points;
7. the student release (staged as ``dlgrade release`` does) passes the leak check;
8. every planted mistake of ``assignments/<id>/mistakes.toml`` (``autograder.mistakes``) is
   caught: each test it names exists and fails, and the score drops. Every assignment must
   plant mistakes: one without a ``mistakes.toml`` (or with a malformed one) fails this check.
   ``mistakes=False`` skips it (it grades the reference once per mistake, the slowest check);
9. every trivial submission (``autograder.trivial``: the starter's stubs returning zeros, their
   first input, or nothing) scores at most ``MAX_TRIVIAL_POINTS``; a failure names the variant,
   its score and the tests that gave it points. ``trivial=False`` skips it (three full grades);
10. with ``secrets=N``: the reference's hidden tests pass under N random course secrets
   (hidden inputs are drawn per secret and submission: ``autograder.secret``), each test
   failing under some secret named with how many;

and reports the wall time of one full grade of the reference. Checks 2 to 4, 8 and 9 grade under
the course's own secret.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.authoring import stale_files
from autograder.config import Assignment
from autograder.errors import ConfigError
from autograder.grading import grade_submission, shared_backend
from autograder.mistakes import grade_mistake, load_mistakes, mistake_problems
from autograder.results import GradeResult
from autograder.sandbox.backend import WorkerBackend
from autograder.secret import new_secret
from autograder.trivial import MAX_TRIVIAL_POINTS, VARIANTS, grade_trivial, trivial_problems


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class ValidationReport:
    assignment: str
    checks: list[Check] = field(default_factory=list)
    reference: GradeResult | None = None  # the first grade of the reference
    starter: GradeResult | None = None
    grade_seconds: float = 0.0  # the first grade: includes importing the graders' dependencies
    warm_grade_seconds: float = 0.0  # a second grade in the same process
    # one per random secret of ``secrets=N``: (hidden score, hidden max score, failed names)
    secret_runs: list[tuple[float, float, list[str]]] = field(default_factory=list)
    mistakes_skipped: bool = False  # ``mistakes=False``: the planted mistakes were not graded
    trivial: dict[str, GradeResult] = field(default_factory=dict)  # variant -> its grade
    trivial_skipped: bool = False  # ``trivial=False``: the trivial submissions were not graded

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def render(self) -> str:
        lines = [f"validate {self.assignment}"]
        for check in self.checks:
            mark = "ok  " if check.ok else "FAIL"
            lines.append(f"  [{mark}] {check.name}" + (f": {check.detail}" if check.detail else ""))
        if self.mistakes_skipped:
            lines.append("  [skip] mistakes: not graded")
        if self.trivial_skipped:
            lines.append("  [skip] trivial submissions: not graded")
        lines.append(f"  full grade of the reference: {self.grade_seconds:.2f} s wall "
                     f"(first in this process), {self.warm_grade_seconds:.2f} s (again)")
        lines.append("  VALID" if self.ok else "  INVALID")
        return "\n".join(lines)


def _capped(items: list[str], limit: int = 6, sep: str = ", ") -> str:
    shown = sep.join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _listing(names: list[str], limit: int = 6) -> str:
    return _capped([n.split("::")[-1] for n in names], limit)


def validate_assignment(assignment: Assignment, parent: WorkerBackend | None = None,
                        secrets: int = 0, *, mistakes: bool = True,
                        trivial: bool = True) -> ValidationReport:
    """Run every check on ``assignment`` (it must belong to a course with solutions/ and starter/).

    ``secrets``: also grade the reference's hidden tests under this many random secrets.
    ``mistakes``: grade the planted mistakes (False for a quick run: the check is left out and
    the report says so). ``trivial``: grade the trivial submissions (False for a quick run, the
    same way).
    """
    report = ValidationReport(assignment.id)
    checks = report.checks
    if assignment.solutions_dir is None or not assignment.solutions_dir.is_dir():
        checks.append(Check("reference solution present", False, f"{assignment.solutions_dir} missing"))
        return report
    stale = stale_files(assignment.solutions_dir, assignment.starter_dir)
    checks.append(Check("starter generated from the solution", not stale,
                        "; ".join(stale[:5]) + (" (run `dlgrade generate`)" if stale else "")))

    if parent is None:  # start the warm parent first: its start-up is not part of a grade
        parent = shared_backend(assignment.students_use_torch)
    parent.protections()
    t0 = time.perf_counter()
    first = report.reference = grade_submission(assignment, assignment.solutions_dir,
                                                parent=parent)
    report.grade_seconds = time.perf_counter() - t0
    failed = [t for t in first.tests if not t.passed]
    checks.append(Check(
        "reference scores full marks", not failed and first.score == first.max_score,
        f"{first.score:g}/{first.max_score:g}" + (
            "; failing: " + "; ".join(f"{t.name}: {t.reason}" for t in failed[:5]) if failed else "")))

    if not stale:
        starter = report.starter = grade_submission(assignment, assignment.starter_dir,
                                                    parent=parent)
        scoring = [t for t in starter.tests if t.max_score > 0]
        passing = [t.name for t in scoring if t.score > 0]
        checks.append(Check("starter scores 0 on every scoring test", not passing,
                            f"{starter.score:g}/{starter.max_score:g}" + (
                                f"; passing: {_listing(passing)}" if passing else "")))

    t0 = time.perf_counter()
    second = grade_submission(assignment, assignment.solutions_dir, parent=parent)
    report.warm_grade_seconds = time.perf_counter() - t0
    diffs = [a[0] for a, b in zip(first.signature(), second.signature(), strict=False) if a != b]
    same = first.signature() == second.signature()
    checks.append(Check("grading is deterministic", same,
                        "" if same else f"differs in {_listing(diffs) or 'the test list'}"))

    total = first.max_score
    checks.append(Check("points add up to total_points", abs(total - assignment.total_points) < 1e-9,
                        f"tests sum to {total:g}, assignment.toml says {assignment.total_points:g}"))
    unscored = [t.name for t in first.tests if t.max_score == 0]
    checks.append(Check("every test carries points", not unscored,
                        f"no @pytest.mark.points: {_listing(unscored)}" if unscored else ""))
    checks.append(_leak_check(assignment))
    if mistakes:
        checks.append(_mistakes_check(assignment, parent))
    report.mistakes_skipped = not mistakes
    if trivial and not stale:  # a stale starter is not what students get: already a failure
        checks.append(_trivial_check(assignment, parent, report))
    report.trivial_skipped = not trivial
    if secrets > 0:
        checks.append(_secrets_check(assignment, parent, secrets, report))
    return report


def _secrets_check(assignment: Assignment, parent, count: int,
                   report: ValidationReport) -> Check:
    """The reference's hidden tests under ``count`` random secrets: every test must pass
    under every one (a test that needs luck with its inputs fails some students for nothing)."""
    name = f"reference passes every hidden test under {count} random secrets"
    if not assignment.hidden_tests.is_dir():
        return Check(name, True, "no hidden tests")
    failures: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for _ in range(count):
        result = grade_submission(assignment, assignment.solutions_dir, parent=parent,
                                  tests=[assignment.hidden_tests],
                                  secret=new_secret().encode("ascii"))
        failed = [t.name for t in result.tests if not t.passed]
        report.secret_runs.append((result.score, result.max_score, failed))
        for test in result.tests:
            if not test.passed:
                failures[test.name] = failures.get(test.name, 0) + 1
                reasons.setdefault(test.name, test.reason)
    scores = ", ".join(f"{score:g}" for score, _, _ in report.secret_runs)
    maximum = report.secret_runs[0][1] if report.secret_runs else 0
    detail = f"hidden scores {scores} of {maximum:g}"
    if failures:
        detail += "; failing: " + "; ".join(f"{test} under {n}/{count} ({reasons[test]})"
                                           for test, n in sorted(failures.items()))
    return Check(name, not failures, detail)


def _mistakes_check(assignment: Assignment, parent: WorkerBackend) -> Check:
    """Grade every planted mistake, each on the tests it names: all must be caught."""
    name = "mistakes"
    if not assignment.mistakes_path.is_file():
        return Check(name, False, f"no {assignment.mistakes_path.name} in {assignment.root}: "
                                  "every assignment plants classic mistakes its graders catch")
    try:
        planted = load_mistakes(assignment)
    except ConfigError as exc:
        return Check(name, False, str(exc))
    missed: list[str] = []  # one line per problem
    caught = 0
    with tempfile.TemporaryDirectory(prefix="dlgrade-mistakes-") as tmp:
        for number, mistake in enumerate(planted):
            try:
                problems = mistake_problems(grade_mistake(
                    assignment, mistake, Path(tmp) / str(number), parent=parent), mistake)
            except ValueError as exc:  # a replacement no longer applies to the reference
                problems = [str(exc)]
            caught += not problems
            missed.extend(problems)
    detail = f"{caught} of {len(planted)} caught"
    return Check(name, not missed, detail + (f"; {_capped(missed, sep='; ')}" if missed else ""))


def _trivial_check(assignment: Assignment, parent: WorkerBackend,
                   report: ValidationReport) -> Check:
    """Grade every trivial variant of the starter on every test: each must score at most
    ``MAX_TRIVIAL_POINTS``."""
    name = f"trivial submissions score at most {MAX_TRIVIAL_POINTS:g} points"
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dlgrade-trivial-") as tmp:
        for variant in VARIANTS:
            result = report.trivial[variant] = grade_trivial(
                assignment, variant, Path(tmp) / variant, parent=parent)
            problems.extend(trivial_problems(result, variant))
    scores = ", ".join(f"{variant} {result.score:g}" for variant, result in report.trivial.items())
    return Check(name, not problems, scores + (f"; {'; '.join(problems)}" if problems else ""))


def _leak_check(assignment: Assignment) -> Check:
    """The student release, staged and leak-checked as `dlgrade release` does."""
    from autograder.packaging.release import LeakError, build_release

    name = "the student release holds no solution code or hidden test"
    with tempfile.TemporaryDirectory(prefix="dlgrade-validate-") as tmp:
        try:
            build_release(assignment, Path(tmp))
        except LeakError as exc:
            return Check(name, False, "; ".join(str(leak) for leak in exc.leaks[:3]))
    return Check(name, True, "")
