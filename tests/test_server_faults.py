"""The course server under faults, run for real (``dlgrade serve`` in a subprocess).

A burst of submissions through the API from a few students; meanwhile a grading worker
is killed with SIGKILL in the middle of a job, then the server itself. The server is
started again, the queue drains, and the database must hold exactly one result for
every submission a client was told was accepted (HTTP 201): none lost, none graded twice,
none left in the queue. Runs on SQLite and on PostgreSQL (``$DLGRADE_TEST_POSTGRES``).
A full disk (a small tmpfs as the upload store, filled) refuses uploads cleanly.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import test_server
from tests.conftest import FIXTURE_COURSE, HONEST_MINI
from tests.live_server import (
    LiveServer,
    ServerError,
    alive,
    get_submission,
    make_course,
    post_submission,
    queue_counts,
    result_counts,
    tokens,
)

MINI = FIXTURE_COURSE / "assignments" / "90-mini"
STUDENTS = ("s1", "s2", "s3", "s4")
PER_STUDENT = 5  # a burst of 20 submissions
WRONG_ADD = HONEST_MINI.replace("return a + b", "return a - b")


def wait_for(condition, timeout: float, what: str, poll: float = 0.2):  # noqa: ANN001, ANN201
    """Poll ``condition()`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(params=["sqlite", "postgres"])
def live(tmp_path, request) -> Iterator[LiveServer]:
    database = test_server._database_url(request.param)  # skips without PostgreSQL
    server = LiveServer(make_course(tmp_path / "course", [MINI], STUDENTS, database=database))
    server.init()
    yield server
    server.stop()


class Burst:
    """Each student submits ``PER_STUDENT`` times (honest and wrong code in turn) from a
    thread of their own, retrying while the server is down; keeps every accepted id.
    ``gates[i]``: try ``i`` waits for that event (so the faults land mid-burst however
    fast or slow this machine grades)."""

    def __init__(self, url: str, student_tokens: dict[str, str],
                 gates: dict[int, threading.Event]):
        self.url, self.tokens, self.gates = url, student_tokens, gates
        self.accepted: dict[int, str] = {}  # submission id -> source submitted
        self.refusals: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._student, args=(login,), daemon=True)
                        for login in student_tokens]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _student(self, login: str) -> None:
        for i in range(PER_STUDENT):
            if i in self.gates and not self.gates[i].wait(300):
                return
            source = f"# {login}, try {i}\n" + (HONEST_MINI if i % 2 == 0 else WRONG_ADD)
            deadline = time.monotonic() + 180
            while True:
                try:
                    sid = post_submission(self.url, self.tokens[login], "90-mini",
                                          {"mini.py": source.encode()})
                    break
                except ServerError as exc:  # down (being killed or restarted): try again
                    with self.lock:
                        self.refusals.append(str(exc))
                    if time.monotonic() > deadline:
                        return
                    time.sleep(0.5)
            with self.lock:
                self.accepted[sid] = source
            time.sleep(0.2)

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout)
            assert not thread.is_alive(), "a student's submissions never got through"

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)


def running_job(engine) -> tuple[int, str] | None:  # noqa: ANN001 (Engine)
    """A submission being graded now and its worker's name."""
    from sqlalchemy import select

    from autograder.server import db

    with engine.connect() as conn:
        row = conn.execute(select(db.submissions.c.id, db.submissions.c.worker)
                           .where(db.submissions.c.state == "running")).first()
    return (row.id, row.worker) if row else None


def test_kill_9_of_a_worker_and_of_the_server_loses_nothing_and_grades_once(live):
    engine = live.engine()
    live.start()
    worker_killed, server_killed = threading.Event(), threading.Event()
    burst = Burst(live.url, tokens(engine, STUDENTS), {2: worker_killed, 3: server_killed})
    burst.start()

    # A worker killed in the middle of a job: the pool starts another under its name.
    victim_job, victim_name = wait_for(lambda: running_job(engine), 120, "a job to be graded")
    (victim_pid,) = [pid for pid, name in live.workers().items() if name == victim_name]
    os.kill(victim_pid, signal.SIGKILL)
    wait_for(lambda: [p for p, n in live.workers().items() if n == victim_name and p != victim_pid],
             60, "the pool to start a new worker")
    worker_killed.set()

    # The server killed while students submit: its workers die with it (they finish the
    # job in hand first).
    wait_for(lambda: burst.count() >= 2 * len(STUDENTS) + 2, 180, "the third round to start")
    orphans = list(live.workers())
    assert len(orphans) == 2
    live.kill()
    server_killed.set()
    wait_for(lambda: not any(alive(pid) for pid in orphans), 120,
             "the dead server's workers to stop")
    down_at = burst.count()

    live.start()
    burst.join(timeout=300)
    wait_for(lambda: not ({"queued", "running"} & set(queue_counts(engine))), 300,
             "the queue to drain")

    assert len(burst.accepted) == len(STUDENTS) * PER_STUDENT
    assert down_at <= 3 * len(STUDENTS) < len(burst.accepted)  # and after the restart
    assert burst.refusals, "no request hit the dead server: the kill proved nothing"
    rows = result_counts(engine)
    for sid in burst.accepted:
        assert rows.get(sid) == ("done", 1), (sid, rows.get(sid))
    # a request the server committed but could not answer before it died is graded too
    assert all(state_and_results == ("done", 1) for state_and_results in rows.values()), rows
    assert victim_job in rows
    token = tokens(engine, ["s1"])["s1"]
    graded = [get_submission(live.url, token, sid) for sid, source in burst.accepted.items()
              if source.startswith("# s1,")]
    assert [v["public_score"] for v in graded] == [2, 1, 2, 1, 2]  # honest, wrong add, ...
    engine.dispose()


def mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (root needed): {done.stderr.strip()}")


def fill(path: Path) -> Path:
    """Write into ``path`` until its file system is full; the filler file."""
    filler = path / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 2**20)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_full_disk_refuses_uploads_through_the_real_server(tmp_path):
    root = make_course(tmp_path / "course", [MINI], ["s1"], store="uploads")
    store = root / "uploads"
    mount_tmpfs(store, "80m")  # room for MIN_FREE_BYTES (64 MiB) when emptied
    live = LiveServer(root, jobs=1)
    try:
        live.init()
        live.start()
        engine = live.engine()
        token = tokens(engine, ["s1"])["s1"]
        filler = fill(store)
        with pytest.raises(ServerError, match=r"disk is full.*not stored.*HTTP 507"):
            post_submission(live.url, token, "90-mini", {"mini.py": HONEST_MINI.encode()})
        assert queue_counts(engine) == {}
        assert sorted(p.name for p in store.rglob("*") if p.is_file()) == ["filler"]
        filler.unlink()  # staff free space: uploads are taken again
        sid = post_submission(live.url, token, "90-mini", {"mini.py": HONEST_MINI.encode()})
        wait_for(lambda: result_counts(engine).get(sid) == ("done", 1), 120, "the grading")
        assert get_submission(live.url, token, sid)["public_score"] == 2
        engine.dispose()
    finally:
        live.stop()
        subprocess.run(["umount", str(store)], check=False)
