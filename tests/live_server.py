"""A course server run for real, for the fault tests (tests/test_server_faults.py) and
the load benchmark (benchmarks/server_load.py): ``dlgrade serve`` in a subprocess on a
course folder of its own, its grading workers found through /proc, tokens made straight
in its database, submissions sent with ``dlgrade submit``'s own HTTP client.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import func, select

from autograder.server import accounts, db
from autograder.submit import ServerError, _multipart, _request

REPO = Path(__file__).resolve().parents[1]
WORKER_MODULE = "autograder.server.worker"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_course(root: Path, assignments: Iterable[Path], students: Iterable[str], *,
                database: str = "sqlite:///server/dlgrade.sqlite", store: str = "server/uploads",
                submissions_per_day: int = 1000) -> Path:
    """A course folder at ``root`` with copies of ``assignments`` (their folders), a roster
    of ``students`` and a ``[server]`` table; no rate limit worth the name (many simulated
    students share one address and poll)."""
    for folder in assignments:
        shutil.copytree(folder, root / "assignments" / folder.name)
    (root / "roster.csv").write_text("id,name,email,sis_id\n" + "".join(
        f"{s},Student {s},{s}@uni.example,S{i}\n" for i, s in enumerate(students)))
    (root / "course.toml").write_text(
        'name = "Live server course"\nroster = "roster.csv"\n\n'
        f'[server]\ndatabase = "{database}"\nstore = "{store}"\n'
        f"submissions_per_day = {submissions_per_day}\nrequests_per_minute = 1000000\n")
    return root


class LiveServer:
    """``dlgrade serve --port PORT --jobs JOBS`` on a course folder; ``start`` again after
    ``kill`` to restart it."""

    def __init__(self, root: Path, jobs: int = 2, port: int | None = None,
                 env: dict[str, str] | None = None):
        self.root, self.jobs, self.port = root, jobs, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log = root / "server.log"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "autograder.cli", "--course",
                               str(self.root), *args], env=self.env, cwd=REPO,
                              capture_output=True, text=True, check=True)

    def init(self) -> None:
        """The database and an account per roster student (``dlgrade serve --init``)."""
        self.cli("serve", "--init")

    def start(self, timeout: float = 120.0) -> None:
        """Start the server and wait until it answers."""
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "autograder.cli", "--course", str(self.root), "serve",
                 "--port", str(self.port), "--jobs", str(self.jobs)],
                env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n"
                                   + self.log.read_text()[-3000:])
            try:
                urllib.request.urlopen(f"{self.url}/openapi.json", timeout=2).close()
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer in {timeout:.0f} s")

    def kill(self) -> None:
        """``kill -9`` the server (its workers are left to the kernel's parent-death signal)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        """Stop it as an operator would (SIGTERM: the workers finish their job and stop)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def workers(self) -> dict[int, str]:
        """The server's grading workers now: pid -> worker name."""
        if self.proc is None or self.proc.poll() is not None:
            return {}
        return {pid: name for pid, (ppid, name) in worker_processes().items()
                if ppid == self.proc.pid}

    def engine(self):  # noqa: ANN201 (sqlalchemy Engine)
        from autograder.config import load_course
        from autograder.server.settings import server_settings

        return db.make_engine(server_settings(load_course(self.root)).database_url)


def worker_processes() -> dict[int, tuple[int, str]]:
    """Every grading worker on this machine: pid -> (parent pid, worker name)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        if WORKER_MODULE.encode() not in argv:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        name = argv[argv.index(b"--name") + 1].decode() if b"--name" in argv else ""
        found[int(entry.name)] = (ppid, name)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def tokens(engine, logins: Iterable[str]) -> dict[str, str]:  # noqa: ANN001 (Engine)
    """A fresh CLI token for each of ``logins``."""
    out = {}
    with engine.begin() as conn:
        for login in logins:
            out[login] = accounts.new_token(conn, accounts.user_by_login(conn, login).id)
    return out


def post_submission(url: str, token: str, assignment: str, files: dict[str, bytes]) -> int:
    """Submit through the API; returns the accepted submission's id (HTTP 201).

    Raises:
        ServerError: refused, or the server could not be reached (nothing was accepted
            as far as this client knows).
    """
    body, boundary = _multipart(files)
    return int(_request(f"{url}/api/v1/assignments/{assignment}/submissions", token, body,
                        f"multipart/form-data; boundary={boundary}")["id"])


def get_submission(url: str, token: str, sid: int) -> dict:
    return _request(f"{url}/api/v1/submissions/{sid}", token)


def queue_counts(engine) -> dict[str, int]:  # noqa: ANN001 (Engine)
    """Submissions by state."""
    s = db.submissions
    with engine.connect() as conn:
        return {state: n for state, n in conn.execute(
            select(s.c.state, func.count()).group_by(s.c.state))}


def result_counts(engine) -> dict[int, tuple[str, int]]:  # noqa: ANN001 (Engine)
    """Every submission: id -> (state, number of result rows)."""
    s, r = db.submissions, db.results
    with engine.connect() as conn:
        rows = conn.execute(select(s.c.id, s.c.state, func.count(r.c.id))
                            .select_from(s.outerjoin(r, r.c.submission_id == s.c.id))
                            .group_by(s.c.id, s.c.state)).all()
    return {sid: (state, n) for sid, state, n in rows}


__all__ = ["LiveServer", "ServerError", "alive", "free_port", "get_submission", "make_course",
           "post_submission", "queue_counts", "result_counts",
           "tokens", "worker_processes"]
