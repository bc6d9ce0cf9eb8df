"""Grading outcomes beyond the hostile corpus (tests/hostile): forged results files,
captured output, hidden-test feedback, helper modules, test selection.

Each grades a ``mini.py`` for the fixture assignment 90-mini (4 tests, 1 point
each: add, scale, add_negative, counter).
"""

from __future__ import annotations

import json

from tests.conftest import HONEST_MINI
from tests.hostile.corpus import with_add

ADDS = {"test_add", "test_add_negative"}


def test_forged_results_file_is_overwritten_by_the_real_score(grade_mini, tmp_path):
    """A submission that writes a results file gets the real score in the real file."""
    results = tmp_path / "out" / "results.json"
    results.parent.mkdir()
    forged = {"score": 100, "tests": []}
    source = with_add(
        "def add(a, b):\n    import json\n"
        f"    for p in [{str(results)!r}, 'results.json', '/tmp/results.json']:\n"
        "        try:\n"
        f"            open(p, 'w').write(json.dumps({forged!r}))\n"
        "        except OSError:\n"
        "            pass\n"
        "    return 0\n")
    result = grade_mini(source, json_path=results)
    data = json.loads(results.read_text())
    assert data["score"] == result.score == 2
    assert {t["name"].split("::")[-1] for t in data["tests"] if t["status"] == "failed"} == ADDS


def test_output_is_captured_and_truncated(grade_mini):
    source = with_add("def add(a, b):\n    print('hello ' * 10000)\n    return a\n")
    result = grade_mini(source)
    test = result.test("test_add")
    assert test.status == "failed"
    assert "Your code printed:" in test.output
    assert len(test.output) < 5000


def test_hidden_failures_do_not_reveal_expected_values(grade_mini):
    result = grade_mini(with_add("def add(a, b):\n    return a - b + 0.5\n"))
    public, hidden = result.test("test_add"), result.test("test_add_negative")
    assert public.reason == "assert -0.5 == 5"  # public tests show the comparison
    assert hidden.reason == "a check on your output failed"
    assert hidden.output == ""
    assert "6" not in hidden.to_gradescope()["output"]
    assert hidden.to_gradescope()["visibility"] == "after_due_date"


def test_non_utf8_source_scores_zero_with_a_clear_reason(grade_mini):
    result = grade_mini({"mini.py": b"def add(a, b):\n    return a + b  # caf\xe9\n"})
    assert result.score == 0
    assert {t.reason for t in result.tests} == {
        "mini.py is not valid UTF-8 (byte 0xe9 at offset 38); save it as UTF-8"}


def test_helper_modules_and_extra_files_are_allowed(grade_mini):
    helper = "def plus(a, b):\n    return a + b\n"
    source = HONEST_MINI.replace("def add(a, b):\n    return a + b\n",
                                 "from helpers import plus\n\n\ndef add(a, b):\n    return plus(a, b)\n")
    assert grade_mini({"mini.py": source, "helpers.py": helper, "notes.txt": "hi"}).score == 4


def test_selecting_tests_with_k_grades_only_those(grade_mini):
    result = grade_mini(HONEST_MINI, pytest_args=("-k", "test_add"))
    assert [t.name.split("::")[-1] for t in result.tests] == ["test_add", "test_add_negative"]
    assert (result.score, result.max_score) == (2, 2)
