"""Fault injection on batch grading: kill -9 mid-batch, two batches on one gradebook,
a full disk, a Dask worker killed mid-task."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from autograder.gradebook.store import Gradebook, GradebookError
from tests.conftest import FIXTURE_COURSE, HONEST_MINI

SLOW_MINI = HONEST_MINI.replace("def add(a, b):\n    return a + b\n",
                                "def add(a, b):\n    import time\n    time.sleep(0.3)\n"
                                "    return a + b\n")


def make_class(root, count, source=SLOW_MINI):
    for i in range(count):
        (root / f"s{i:02d}").mkdir(parents=True)
        (root / f"s{i:02d}" / "mini.py").write_text(source + f"\n# student {i}\n")
    return root


def batch_cmd(root, db, *extra):
    return [sys.executable, "-m", "autograder.cli", "grade-batch", "90-mini", str(root),
            "--db", str(db), *extra]


ENV = {**os.environ, "DLGRADE_COURSE": str(FIXTURE_COURSE)}


def rows(db):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT student, status, score FROM results ORDER BY id").fetchall()


def test_kill_9_mid_batch_then_resume_grades_each_submission_exactly_once(tmp_path):
    root = make_class(tmp_path / "class", 8)
    db = tmp_path / "gb.sqlite"
    proc = subprocess.Popen(batch_cmd(root, db), env=ENV, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until some, not all, results are in
        try:
            if db.exists() and 2 <= len(rows(db)) < 8:
                break
        except sqlite3.OperationalError:
            pass  # the schema is not there yet
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = rows(db)
    assert 2 <= len(before) < 8
    again = subprocess.run(batch_cmd(root, db), env=ENV, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{8 - len(before)} graded, {len(before)} unchanged" in again.stdout
    after = rows(db)
    assert sorted(s for s, _, _ in after) == [f"s{i:02d}" for i in range(8)]  # once each
    assert all(status == "graded" and score == 4 for _, status, score in after)
    with Gradebook(db) as book:
        assert book.integrity_check() == "ok"


def test_a_second_batch_on_the_same_gradebook_is_refused(tmp_path):
    db = tmp_path / "gb.sqlite"
    first = Gradebook(db)
    first.lock_for_writing()
    try:
        result = subprocess.run(batch_cmd(make_class(tmp_path / "class", 1, HONEST_MINI), db),
                                env=ENV, capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert f"another grade-batch (pid {os.getpid()}) is writing to {db}" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        first.close()
    with Gradebook(db) as book:  # released: a later batch may write again
        book.lock_for_writing()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root to mount a tiny tmpfs in a private mount namespace")
def test_full_disk_gives_a_clear_error_and_an_uncorrupted_gradebook(tmp_path):
    root = make_class(tmp_path / "class", 6, HONEST_MINI + "\n# " + "padding " * 4000 + "\n")
    disk = tmp_path / "disk"
    disk.mkdir()
    db = disk / "gb.sqlite"
    check = ("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
             "print('integrity', c.execute('pragma integrity_check').fetchone()[0]); "
             "print('rows', c.execute('select count(*) from results').fetchone()[0])")
    script = (f"mount -t tmpfs -o size=96k tmpfs {disk} && "
              f"{' '.join(batch_cmd(root, db))}; echo rc=$?; "
              f"{sys.executable} -c \"{check}\" {db}")
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                            env=ENV, capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert "rc=3" in out, out
    assert "dlgrade: error: cannot write to the gradebook" in out
    assert "disk is full" in out or "No space left" in out
    assert "Traceback" not in out
    assert "integrity ok" in out


def test_gradebook_errors_name_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(GradebookError, match="cannot open the gradebook"):
        Gradebook(blocker / "gb.sqlite")
