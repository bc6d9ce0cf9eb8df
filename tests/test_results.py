"""Results: Gradescope-compatible JSON, atomic writes, the terminal table."""

from __future__ import annotations

import json
import os

import pytest

from autograder.results import (
    AFTER_DUE_DATE,
    GradeResult,
    TestResult,
    render_table,
    result_from_json,
    write_json_atomic,
)


def sample() -> GradeResult:
    return GradeResult(
        assignment="02-feedforward", assignment_version="1.0.0", platform_version="0.1.0",
        submission_sha256="ab" * 32, started_at="2026-11-30T00:00:00.000+00:00",
        finished_at="2026-11-30T00:00:01.000+00:00", execution_time=1.25,
        tests=[
            TestResult("public/test_a.py::test_ok", "ok works.", 2, 2, "passed"),
            TestResult("hidden/test_b.py::test_bad", "bad case.", 3, 0, "failed",
                       reason="a check on your output failed", visibility=AFTER_DUE_DATE),
        ])


def test_gradescope_fields():
    data = sample().to_json()
    assert (data["score"], data["max_score"], data["execution_time"]) == (2, 5, 1.25)
    failed = data["tests"][1]
    assert failed == {
        "name": "hidden/test_b.py::test_bad", "score": 0, "max_score": 3, "status": "failed",
        "output": "bad case.\nFailed: a check on your output failed",
        "visibility": "after_due_date",
        "extra_data": {"duration": 0.0, "reason": "a check on your output failed"},
    }
    assert data["tests"][0]["output"] == "ok works."
    assert result_from_json(data).signature() == sample().signature()


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "results" / "results.json"
    write_json_atomic(path, {"score": 1})
    write_json_atomic(path, sample().to_json())
    assert json.loads(path.read_text())["score"] == 2
    assert os.listdir(path.parent) == ["results.json"]


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "results.json"
    write_json_atomic(path, {"score": 1})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"score": float("nan")})  # NaN is not valid JSON
    assert json.loads(path.read_text()) == {"score": 1}
    assert os.listdir(tmp_path) == ["results.json"]


def test_table_has_one_row_per_test_and_a_total():
    table = render_table(sample(), width=100)
    lines = table.splitlines()
    assert lines[0].split() == ["test", "points", "status", "reason"]
    assert any(line.startswith("test_ok") and "2/2" in line and "PASS" in line for line in lines)
    assert any("test_bad (hidden)" in line and "0/3" in line and "FAIL" in line
               and "a check on your output failed" in line for line in lines)
    assert lines[-1] == "total: 2 / 5 points (1/2 tests passed) in 1.2 s"
