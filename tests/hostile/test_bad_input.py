"""Issue 21, findings 2 and 6: bad student input never aborts grading, never corrupts an
output, and always gets a row.

One class holds the three extraction cases (a 310-character file name, a file and a folder
of one name, modules two folders down), a submission whose failures carry 16 MiB of control
characters, one whose exception message holds a lone surrogate, one whose import error fakes
a "45/45 PASS" table with ANSI escapes, and one honest submission. ``grade-batch`` must end
with exactly one row each (the honest ones full marks, the others graded or refused with their
reason), every row small; ``feedback`` must write a file for every student; ``grade`` must write
the surrogate case's JSON and exit 0, refuse the bad archives with exit 2, and print the table's
total last.
"""

from __future__ import annotations

import errno
import json
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.errors import SubmissionRejected
from autograder.submission import prepare_submission
from tests.hostile.corpus import FIXTURE_COURSE, HONEST_MINI, with_add

MIB16 = 16 * 2**20
# The worker trims messages itself; a submission can replace that in its own process, so the
# trusted side gets just under 16 MiB (the largest string a reply may hold) per failed call.
HUGE_MESSAGE = with_add(
    "from autograder.sandbox import worker as _w\n"
    f"_HUGE = '\\x1b[2J\\x1b]0;x\\x07' + '\\x01' * ({MIB16} - 64)\n"
    "_w.Dispatcher._error = staticmethod(lambda kind, message, trace='': {'error': {\n"
    "    'kind': 'student', 'message': _HUGE, 'traceback': _HUGE}})\n\n\n"
    "def add(a, b):\n    raise ValueError('boom')\n")
SURROGATE = with_add("def add(a, b):\n    raise ValueError('lone \\ud800 surrogate')\n")
FAKE_TABLE = ('raise ImportError("\\x1b[2J\\x1b[H\\x1b]0;owned\\x07test_add  1/1  PASS\\n'
              '\\x1b[32mtotal: 45 / 45 points (45/45 tests passed) in 0.1 s\\x1b[0m")\n')
LONG_NAME = "a" * 306 + ".py"  # 309 characters
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
ENV = {**os.environ, "DLGRADE_COURSE": str(FIXTURE_COURSE)}


def _zip(path: Path, entries: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)


def make_class(root: Path) -> Path:
    root.mkdir()
    for student, source in {"honest": HONEST_MINI, "huge": HUGE_MESSAGE,
                            "surrogate": SURROGATE, "fakepass": FAKE_TABLE}.items():
        (root / student).mkdir()
        (root / student / "mini.py").write_text(source, encoding="utf-8")
    _zip(root / "longname.zip", {"mini.py": HONEST_MINI, LONG_NAME: "x = 1\n"})
    _zip(root / "samename.zip", {"helpers": "x = 1\n", "helpers/mini.py": HONEST_MINI})
    _zip(root / "nested.zip", {"hw/hw/mini.py": HONEST_MINI})
    return root


#: student -> (status, score, a substring of the reason: the row's error or a test's reason)
EXPECTED = {
    "honest": ("graded", 4, None),
    "nested": ("graded", 4, None),  # hw/hw/mini.py: a zip of a folder, modules one further down
    "huge": ("graded", 2, "held only control characters and escape sequences (removed)"),
    "surrogate": ("graded", 2, "ValueError: lone \ufffd surrogate"),
    "fakepass": ("graded", 0, "importing mini.py raised ImportError: test_add  1/1  PASS"),
    "longname": ("error", None, "has a file name longer than 255 bytes"),
    "samename": ("error", None, "'helpers' is both a file and a folder in the archive"),
}

# VmHWM, the peak RSS of this process's own memory since its exec (ru_maxrss would carry over
# the peak of the pytest process it was forked from)
MAIN_RSS = ("import atexit, re, sys\n"
            "atexit.register(lambda: print('main process max RSS KiB', re.search("
            "r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1), file=sys.stderr))\n"
            "from autograder.cli import main\n"
            "sys.argv[0] = 'dlgrade'\n"
            "main()\n")


def dlgrade(*args: str, measure: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", MAIN_RSS] if measure else [sys.executable, "-m",
                                                                "autograder.cli"]
    return subprocess.run([*command, *args], env=ENV, capture_output=True, text=True,
                          encoding="utf-8", errors="surrogateescape", timeout=300)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-input")
    root = make_class(tmp / "class")
    db = tmp / "gb.sqlite"
    run = dlgrade("grade-batch", "90-mini", str(root), "--db", str(db), measure=True)
    return tmp, root, db, run


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT student, status, score, error, results_json, length(results_json),"
            " length(error) FROM results ORDER BY id").fetchall()


def test_grade_batch_ends_with_one_row_per_submission(batch):
    _, _, db, run = batch
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "7 submission(s): 5 graded, 0 unchanged (skipped), 2 could not be graded" in run.stdout
    found = rows(db)
    assert sorted(r[0] for r in found) == sorted(EXPECTED)  # exactly one row each
    for student, status, score, error, results_json, _, _ in found:
        want_status, want_score, reason = EXPECTED[student]
        assert (status, score) == (want_status, want_score), student
        text = error if status == "error" else " ".join(
            t["extra_data"]["reason"] + "\n" + t["output"]
            for t in json.loads(results_json)["tests"])
        if reason is not None:
            assert reason in text, (student, text[:500])
        assert not UNSAFE.search(text), student


def test_rows_stay_small_and_the_main_process_stays_bounded(batch):
    _, _, db, run = batch
    sizes = {r[0]: (r[5] or 0) + (r[6] or 0) for r in rows(db)}
    # 16 MiB per failed call became a 1.2 GB JSON before: now a few kilobytes
    assert sizes["huge"] < 20_000, sizes
    huge = next(json.loads(r[4]) for r in rows(db) if r[0] == "huge")
    assert "characters cut]" in huge["tests"][0]["output"]  # the 16 MiB did arrive, and was cut
    assert max(sizes.values()) < 1_000_000, sizes
    assert sizes["longname"] < 500  # the 309-character name is quoted cut to 80
    rss_kib = int(re.search(r"main process max RSS KiB (\d+)", run.stderr).group(1))
    assert rss_kib < 500_000, rss_kib  # 110 MB here; 0.9 GB with two such calls before (3.8 GB in the finding)


def test_a_rerun_records_the_refusals_again_and_skips_the_rest(batch):
    _, root, db, _ = batch
    again = dlgrade("grade-batch", "90-mini", str(root), "--db", str(db))
    assert again.returncode == 0, again.stderr
    assert "7 submission(s): 0 graded, 5 unchanged (skipped), 2 could not be graded" in again.stdout
    with sqlite3.connect(db) as conn:
        latest = conn.execute("SELECT student, status FROM latest").fetchall()
    assert sorted(latest) == sorted((s, e[0]) for s, e in EXPECTED.items())


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_feedback_is_written_for_every_student(batch, fmt):
    tmp, _, db, _ = batch
    out = tmp / f"feedback-{fmt}"
    run = dlgrade("feedback", "90-mini", "--db", str(db), "-o", str(out), "--format", fmt)
    assert run.returncode == 0, run.stderr
    files = {p.stem: p.read_text(encoding="utf-8") for p in (out / "90-mini").iterdir()}
    assert sorted(files) == sorted(EXPECTED)
    for student, text in files.items():
        assert not UNSAFE.search(text), student
        assert len(text) < 100_000, (student, len(text))
    assert "could not be graded" in files["samename"]
    assert "\ufffd" in files["surrogate"]


def test_grade_writes_the_surrogate_case_json_and_exits_0(batch):
    tmp, root, _, _ = batch
    out = tmp / "surrogate.json"
    run = dlgrade("grade", "90-mini", str(root / "surrogate"), "--json", str(out))
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["score"] == 2
    assert "ValueError: lone \ufffd surrogate" in {t["extra_data"]["reason"] for t in data["tests"]}
    assert not UNSAFE.search(run.stdout + run.stderr)


def test_grade_prints_the_total_last_and_no_escape(batch):
    _, root, _, _ = batch
    run = dlgrade("grade", "90-mini", str(root / "fakepass"))
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout + run.stderr
    lines = run.stdout.rstrip("\n").splitlines()
    assert lines[-1].startswith("total: 0 / 4 points (0/4 tests passed)"), lines[-3:]
    assert not any(line.startswith("total: 45") for line in lines)


@pytest.mark.parametrize(("archive", "reason"), [
    ("longname.zip", "has a file name longer than 255 bytes; use shorter names"),
    ("samename.zip", "'helpers' is both a file and a folder in the archive"),
])
def test_grade_refuses_a_bad_archive_with_exit_2(batch, archive, reason):
    _, root, _, _ = batch
    run = dlgrade("grade", "90-mini", str(root / archive))
    assert run.returncode == 2, run.stderr
    assert reason in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr) < 1000


def test_any_os_error_while_unpacking_is_a_rejection(tmp_path, monkeypatch):
    """ENOTEMPTY on the rename that flattens ``hw/hw/``, or anything else the OS says."""
    archive = tmp_path / "nested.zip"
    _zip(archive, {"hw/hw/mini.py": HONEST_MINI})

    def refuse(self, target):
        raise OSError(errno.ENOTEMPTY, "Directory not empty", str(self))

    monkeypatch.setattr(Path, "rename", refuse)
    with pytest.raises(SubmissionRejected, match=r"nested.zip: could not be copied or unpacked: "
                                                 r"Directory not empty at 'hw'"):
        prepare_submission(archive, ["mini.py"])
    assert not list(tmp_path.glob("dlgrade-*"))


def test_an_unexpected_error_while_hashing_still_gets_a_row(tmp_path, monkeypatch, mini_course):
    """Whatever goes wrong in the main process's hashing loop, the batch goes on."""
    from autograder.batch import runner
    from autograder.batch.discover import discover
    from autograder.gradebook.store import Gradebook

    root = tmp_path / "class"
    for student in ("a", "b"):
        (root / student).mkdir(parents=True)
        (root / student / "mini.py").write_text(HONEST_MINI)
    real = runner.prepare_submission

    def flaky(path, modules):
        if Path(path).name == "a":
            raise MemoryError("the hashing ran out of memory \x1b[2J")
        return real(path, modules)

    class NoGrading:
        def run(self, course_root, assignment_id, sources, on_result):
            for source in sources:
                on_result(source, json.dumps({"error": "not graded here \ud800"}))

    monkeypatch.setattr(runner, "prepare_submission", flaky)
    assignment = mini_course.assignment("90-mini")
    with Gradebook(tmp_path / "gb.sqlite") as book:
        summary = runner.grade_batch(assignment, mini_course.root, discover(root, "90-mini"), book,
                                     backend=NoGrading())
        latest = {r.student: r.error for r in book.latest()}
    assert summary.errors == 2
    assert latest == {"a": "internal error: MemoryError: the hashing ran out of memory ",
                      "b": "not graded here \ufffd"}


def test_a_garbage_nbgrader_timestamp_does_not_stop_discovery(tmp_path):
    """``timestamp.txt`` is written by the student's own ``nbgrader submit``: any bytes."""
    from autograder.batch.discover import discover

    for student, stamp in {"ann": b"\xff\xfe\x00\x1b[2J" * 10_000,
                           "ben": b"2026-10-01 12:00:00.000000 UTC\n"}.items():
        folder = tmp_path / "submitted" / student / "90-mini"
        folder.mkdir(parents=True)
        (folder / "mini.py").write_text(HONEST_MINI)
        (folder / "timestamp.txt").write_bytes(stamp)
    found = {s.student: s.submitted_at for s in discover(tmp_path, "90-mini")}
    assert found["ben"].isoformat() == "2026-10-01T12:00:00+00:00"
    assert found["ann"] is not None  # the files' time instead
