"""Feedback files, similarity flags and the HTML report (rendered in headless Chromium if present)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from autograder.config import parse_grading
from autograder.gradebook.policy import AssignmentGrade, CourseGrades, compute_grades
from autograder.gradebook.store import Gradebook
from autograder.report.feedback import feedback_markdown, markdown_to_html
from autograder.report.html import render_report
from autograder.report.similarity import SimilarPair, fingerprints, similar_pairs
from tests.conftest import REPO

SOLUTION = "".join(p.read_text() for p in sorted((REPO / "solutions" / "02-feedforward").glob("*.py")))
STARTER = "".join(p.read_text() for p in sorted((REPO / "starter" / "02-feedforward").glob("*.py")))
OTHER = (REPO / "tests" / "fixtures" / "course" / "solutions" / "90-mini" / "mini.py").read_text()


def disguise(source: str) -> str:
    """What a copier does: rename variables, add comments, change blank lines."""
    renamed = re.sub(r"\bout\b", "result", source)
    renamed = re.sub(r"\bcache\b", "memo", renamed)
    return "\n\n".join(line + "  # mine" if line.strip() and not line.strip().startswith(("#", '"'))
                       and not line.rstrip().endswith(("\\", ",", "(")) else line
                       for line in renamed.splitlines())


def test_renamed_and_reformatted_copy_is_flagged_and_starter_ignored():
    sources = {"ann": SOLUTION, "ben": disguise(SOLUTION), "cat": STARTER + "\nx = 1\n",
               "dan": OTHER}
    pairs = similar_pairs(sources, STARTER, threshold=0.8)
    assert [(p.student_a, p.student_b) for p in pairs] == [("ann", "ben")]
    assert pairs[0].similarity >= 0.95


def test_similarity_threshold_and_small_edits():
    half = SOLUTION[: len(SOLUTION) // 2]
    pairs = similar_pairs({"ann": SOLUTION, "ben": half}, STARTER, threshold=0.8)
    assert [(p.student_a, p.student_b) for p in pairs] == [("ann", "ben")]  # ben's half is all copied
    assert similar_pairs({"ann": SOLUTION, "dan": OTHER}, "", threshold=0.1) == []


def test_fingerprints_ignore_names_comments_and_docstrings():
    a = 'def f(x):\n    """Doc."""\n    y = x * 2 + 1  # note\n    return [y, y, y, y, y]\n'
    b = "def g(value):\n    z = value * 7 + 3\n    return [z, z, z, z, z]\n"
    assert fingerprints(a) == fingerprints(b)


def graded_row_results(score, reason):
    return {"score": score, "max_score": 3, "execution_time": 0.5, "output": "", "tests": [
        {"name": "public/test_a.py::test_shape", "score": 1, "max_score": 1, "status": "passed",
         "output": "output has the right shape.", "visibility": "visible",
         "extra_data": {"reason": ""}},
        {"name": "public/test_a.py::test_values", "score": 0, "max_score": 1, "status": "failed",
         "output": "values match torch.\nFailed: " + reason, "visibility": "visible",
         "extra_data": {"reason": reason}},
        {"name": "hidden/test_b.py::test_secret", "score": 0, "max_score": 1, "status": "failed",
         "output": "edge cases.\nFailed: expected 42", "visibility": "after_due_date",
         "extra_data": {"reason": "expected 42"}},
    ]}


def test_feedback_shows_hints_reasons_penalty_and_only_pass_fail_for_hidden():
    grade = AssignmentGrade("a1", "graded", 1, 3, late_seconds=1.5 * 86400, penalty_percent=20,
                            final_score=0.8)
    text = feedback_markdown("s1", "Assignment 1", "a1", grade,
                             graded_row_results(1, "max abs error 0.5"), None)
    assert "Autograder score: **1 / 3**" in text
    assert "Late by 1.50 day(s): penalty 20%, final score **0.8 / 3**" in text
    assert "| `test_values` | 0/1 | FAIL | values match torch. — max abs error 0.5 |" in text
    assert "| `test_secret (hidden)` | 0/1 | FAIL | hidden test: pass or fail only |" in text
    assert "42" not in text and "edge cases" not in text
    page = markdown_to_html(text, "a1")
    assert page.startswith("<!doctype html>") and "<table>" in page and "42" not in page
    missing = feedback_markdown("s2", "Assignment 1", "a1",
                                AssignmentGrade("a1", "missing", 0, 3), None, None)
    assert "No submission was received. Score: 0." in missing


@pytest.fixture
def report_page(tmp_path):
    policy = parse_grading({"assignments": {"a1": {"due": "2026-10-15T23:59:00+00:00"}},
                            "late": {"penalty_per_day": 10}}, "course.toml")
    due = policy.assignments["a1"].due
    with Gradebook(tmp_path / "gb.sqlite") as book:
        for i, (score, late_h) in enumerate([(3, -5), (1, 30), (2, -1), (0, 60)]):
            book.add(student=f"s{i}", assignment="a1", sha256="h", status="graded",
                     platform_version="1", assignment_version="1",
                     submitted_at=due + timedelta(hours=late_h),
                     results=graded_row_results(score, "wrong"))
        rows = book.latest()
        grades = compute_grades(policy, rows, ["a1"], {"a1": 3}, ["s0", "s1", "s2", "s3", "s4"])
    cg = CourseGrades(grades, ["a1"], {"a1": "Assignment 1"}, {"a1": 3}, 30)
    flags = {"a1": [SimilarPair("s0", "s2", 0.97, 120)]}
    page = render_report("Intro to DL", cg, rows, flags, 0.8)
    path = tmp_path / "report.html"
    path.write_text(page)
    return path, page


def test_report_has_every_section_and_no_network(report_page):
    _, page = report_page
    for needle in ("score histogram", "grading time (s)", "lateness", "Pass rate of every test",
                   "test_values", "Similarity flags", "<td>s0</td><td>s2</td><td>97%</td>",
                   "course totals (out of 30)"):
        assert needle in page, needle
    assert page.count("<svg") >= 5
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+", page))
    assert urls <= {"http://www.w3.org"}, urls  # only the SVG namespace, never a fetch
    assert "<script" not in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium)")
def test_report_renders_in_headless_chromium_without_console_errors(report_page, tmp_path):
    path, _ = report_page
    shot = tmp_path / "report.png"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,1800", f"--screenshot={shot}", path.as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    console_errors = [line for line in result.stderr.splitlines()
                      if "CONSOLE" in line and ("ERROR" in line or "Uncaught" in line)]
    assert console_errors == []
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_and_feedback_cli(tmp_path, mini_course):
    """End to end on the fixture course: grade-batch, gradebook, feedback, report."""
    import sys

    from tests.conftest import FIXTURE_COURSE, HONEST_MINI

    root = tmp_path / "class"
    for student, source in {"ann": HONEST_MINI, "ben": HONEST_MINI,
                            "cat": HONEST_MINI.replace("return a + b", "return a - b")}.items():
        (root / student).mkdir(parents=True)
        (root / student / "mini.py").write_text(source)
    env = {**os.environ, "DLGRADE_COURSE": str(FIXTURE_COURSE)}
    db = tmp_path / "gb.sqlite"

    def run(*args):
        result = subprocess.run([sys.executable, "-m", "autograder.cli", *args], env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "3 graded" in run("grade-batch", "90-mini", str(root), "--db", str(db))
    table = run("gradebook", "--db", str(db))
    assert re.search(r"^ann\s+4/4\s+30$", table, re.M), table
    assert re.search(r"^cat\s+2/4\s+15$", table, re.M), table
    run("feedback", "--db", str(db), "-o", str(tmp_path / "fb"), "--format", "html")
    assert sorted(p.name for p in (tmp_path / "fb" / "90-mini").iterdir()) == [
        "ann.html", "ben.html", "cat.html"]
    out = run("report", "--db", str(db), "--html", str(tmp_path / "r.html"),
              "--similarity-csv", str(tmp_path / "sim.csv"), "--threshold", "0.5")
    assert "pair(s) flagged" in out
    assert "<svg" in (tmp_path / "r.html").read_text()
    assert (tmp_path / "sim.csv").read_text().splitlines()[0] == (
        "assignment,student_a,student_b,similarity,shared")
    assert datetime.now(UTC)  # the run finished
