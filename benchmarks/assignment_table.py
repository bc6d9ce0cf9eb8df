"""The course at a glance: per assignment, points public/hidden, the reference's full-grade
time, and how many stub lines still spell out a formula.

Run:  .venv/bin/python benchmarks/assignment_table.py [--grade] [ID ...]

``--grade`` grades each reference with every test (the time is the grading's own
``execution_time``: what a student's full grade costs on this machine; the points are the
graded tests' own); without it the time column is empty and the points are read from
literal ``@pytest.mark.points(n)`` markers only. A stub line "holds a formula" when a ``# TODO`` line of the
starter (or its continuation) or a ``NotImplementedError`` message contains an assignment
or arithmetic operator, a call of sum/exp/log/sqrt, or a Greek letter; shapes such as
``(N, D)`` are not counted. Prints a Markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.config import Assignment, load_course  # noqa: E402
from autograder.packaging.release import marked_points  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# "+" and "-" count only outside a word and a number ("s - max", "-x"; not "log-density", "2-d",
# "-1000"); "= 0.5" states a value.
FORMULA = re.compile(r"(?<![<>!=])=(?!=|\s*[\d.]+\b(?!\s*[+\-*/]))|[*/@]\s*[\w(]|(?<!\w)[+\-](?:\s+[\w(]|[A-Za-z(])|"
                     r"\*\*|\b(sum|exp|log|sqrt|softmax)\(|[α-ωΑ-Ω∑∏√]")
SHAPE = re.compile(r"\((?:\s*\w[\w+\-* ]*,)+(?:\s*\w[\w+\-* ]*)?\s*\)")  # (N, D), (K * D,), (N, H+2p, W)


def stub_lines(assignment: Assignment) -> tuple[int, int]:
    """(stub lines, of which hold a formula) in the starter's TODOs and raise messages."""
    lines = formulas = 0
    for module in assignment.modules:
        path = assignment.starter_dir / module
        if not path.is_file():
            continue
        in_todo = False
        for raw in path.read_text(encoding="utf-8").splitlines():
            text = raw.strip()
            if text.startswith("# TODO"):
                in_todo = True
            elif not (in_todo and text.startswith("#")):
                in_todo = False
            is_stub = in_todo or ("NotImplementedError(" in text and "see the TODO" not in text)
            if not is_stub:
                continue
            lines += 1
            body = SHAPE.sub("", text.removeprefix("# TODO:").lstrip("# "))
            if FORMULA.search(body):
                formulas += 1
    return lines, formulas


def full_grade(assignment: Assignment, require: tuple[str, ...]) -> tuple[float, float, float]:
    """Grade the reference: (public points, hidden points, seconds), from its results."""
    from autograder.grading import grade_submission

    result = grade_submission(assignment, assignment.solutions_dir, require=require)
    if result.score != result.max_score:
        raise SystemExit(f"{assignment.id}: the reference scored {result.score}/{result.max_score}")
    public = sum(t.max_score for t in result.tests if t.visibility == "visible")
    return public, result.max_score - public, result.execution_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--grade", action="store_true")
    args = parser.parse_args()
    course = load_course(REPO)
    print("| assignment | public | hidden | total | full grade (s) | stub lines | with a formula |")
    print("|---|---|---|---|---|---|---|")
    for ident in args.ids or course.assignment_ids():
        a = course.assignment(ident)
        if args.grade:  # exact: the points the graded tests carry
            public, hidden, took = full_grade(a, course.grading.require_protections)
            seconds = f"{took:.1f}"
        else:  # read from literal @pytest.mark.points(n) markers
            public, hidden, seconds = marked_points(a.public_tests), marked_points(a.hidden_tests), ""
        stubs, formulas = stub_lines(a)
        print(f"| {a.id} | {public:g} | {hidden:g} | {public + hidden:g} | {seconds} | {stubs} "
              f"| {formulas} |")


if __name__ == "__main__":
    main()
