"""Hostile and broken submissions: each gets the exact score and reason, and the next is unaffected.

Every case grades a ``mini.py`` for the fixture assignment 90-mini (4 tests,
1 point each: add, scale, add_negative, counter). ``call_timeout`` is 2 s.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURE_COURSE, HONEST_MINI

HIDDEN_TEST = FIXTURE_COURSE / "assignments" / "90-mini" / "tests" / "hidden" / "test_mini_hidden.py"
SOLUTION = FIXTURE_COURSE / "solutions" / "90-mini" / "mini.py"

ALL = {"test_add", "test_scale", "test_add_negative", "test_counter"}
ADDS = {"test_add", "test_add_negative"}


def with_add(body: str) -> str:
    """The honest module, with ``add`` replaced by ``body`` (which must define add)."""
    return HONEST_MINI.replace("def add(a, b):\n    return a + b\n", body)


# id -> (source, {failing test: reason substring}); every other test must pass.
# A reason "A|B" accepts either: the hidden folders are unmounted where the
# grader runs as root (FileNotFoundError) and denied by Landlock otherwise.
CASES = {
    "infinite-loop-at-import": (
        HONEST_MINI + "\nwhile True:\n    pass\n",
        {t: "importing mini.py failed: mini timed out" for t in ALL}),
    "infinite-loop-in-function": (
        with_add("def add(a, b):\n    while True:\n        pass\n"),
        {t: "mini.add(...) timed out" for t in ADDS}),
    "os-exit-at-import": (
        "import os\nos._exit(3)\n" + HONEST_MINI,
        {t: "the submission's process died (exit code 3)" for t in ALL}),
    "sys-exit-at-import": (
        "import sys\nsys.exit(0)\n" + HONEST_MINI,
        {t: "importing mini.py raised SystemExit: 0" for t in ALL}),
    "os-exit-in-function": (
        with_add("def add(a, b):\n    import os\n    os._exit(7)\n"),
        {t: "died (exit code 7)" for t in ADDS}),
    "segfault-in-function": (
        with_add("def add(a, b):\n    import ctypes\n    return ctypes.string_at(0)\n"),
        {t: "killed by SIGSEGV" for t in ADDS}),
    "bounded-fork-bomb": (
        with_add("def add(a, b):\n    import os\n    while True:\n        os.fork()\n"),
        {t: "BlockingIOError" for t in ADDS}),
    "allocate-10-GB": (
        with_add("def add(a, b):\n    import numpy as np\n    x = np.ones(10 * 2**30 // 8)\n"
                 "    return a + b + x[0] - 1\n"),
        {t: "MemoryError" for t in ADDS}),
    "print-100-MB-then-answer": (
        with_add("def add(a, b):\n    import sys\n    line = 'x' * 1023 + '\\n'\n"
                 "    for _ in range(100 * 1024):\n        sys.stdout.write(line)\n"
                 "    return a + b\n"),
        {}),
    "read-hidden-test": (
        with_add(f"def add(a, b):\n    return len(open({str(HIDDEN_TEST)!r}).read())\n"),
        {t: "PermissionError|FileNotFoundError" for t in ADDS}),
    "read-solution": (
        with_add(f"def add(a, b):\n    return len(open({str(SOLUTION)!r}).read())\n"),
        {t: "PermissionError|FileNotFoundError" for t in ADDS}),
    "read-grader-cwd-via-proc": (
        with_add("def add(a, b):\n    import os\n"
                 "    return len(os.listdir(f'/proc/{os.getppid()}/cwd'))\n"),
        {t: "PermissionError" for t in ADDS}),
    "monkeypatch-numpy-and-pytest": (
        "import numpy as np\nnp.allclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "import pytest\npytest.approx = lambda *a, **k: True\n"
        + HONEST_MINI.replace("return np.asarray(x) * factor", "return np.zeros_like(x)"),
        {"test_scale": "value(s) differ"}),
    "signal-the-parent": (
        with_add("def add(a, b):\n    import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)\n"
                 "    return a + b\n"),
        {t: "PermissionError" for t in ADDS}),
    "syntax-error": (
        HONEST_MINI + "\ndef broken(:\n    pass\n",
        {t: "SyntaxError in mini.py" for t in ALL}),
    "missing-function": (
        HONEST_MINI.replace("def add(a, b):\n    return a + b\n", ""),
        {t: "add is not defined in mini.py" for t in ADDS}),
    "banned-module": (
        with_add("def add(a, b):\n    import torch\n    return int(torch.tensor(a) + b)\n"),
        {t: "torch is banned in this assignment" for t in ADDS}),
    "banned-function": (
        with_add("def add(a, b):\n    import numpy as np\n"
                 "    return float(np.linalg.solve([[1.0]], [a + b])[0])\n"),
        {t: "numpy.linalg.solve is banned in this assignment" for t in ADDS}),
    "wrong-return-type": (
        HONEST_MINI.replace("return np.asarray(x) * factor", "return None"),
        {"test_scale": "got None"}),
    "nan-output": (
        HONEST_MINI.replace("return np.asarray(x) * factor", "return np.asarray(x) * np.nan"),
        {"test_scale": "non-finite value(s) (NaN"}),
    "wrong-shape": (
        HONEST_MINI.replace("return np.asarray(x) * factor", "return (np.asarray(x) * factor).T"),
        {"test_scale": "expected shape (3, 4) but got shape (4, 3)"}),
    "unsendable-return": (
        with_add("def add(a, b):\n    return lambda: a + b\n"),
        {"test_add": "assert <handle mini.add(...)> == 5",
         "test_add_negative": "a check on your output failed"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_submission(case, grade_mini):
    source, failing = CASES[case]
    result = grade_mini(source)
    by_name = {t.name.split("::")[-1]: t for t in result.tests}
    assert set(by_name) == ALL
    for name, test in by_name.items():
        if name in failing:
            assert test.status == "failed", f"{name} should fail"
            assert any(alt in test.reason for alt in failing[name].split("|")), (
                f"{name}: {test.reason!r}")
            assert test.score == 0
        else:
            assert test.status == "passed", f"{name}: {test.reason}"
    assert result.score == 4 - len(failing)
    # The next submission is unaffected: an honest one scores full marks.
    assert grade_mini(HONEST_MINI).score == 4


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
