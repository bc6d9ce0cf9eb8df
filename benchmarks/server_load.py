"""Load on the course server: simulated students submit assignment 02 to ``dlgrade serve``.

Run:  .venv/bin/python benchmarks/server_load.py [--students 300] [--rate 30] [--jobs 2]

N students (default 300) arrive at random (a Poisson process, fixed seed) at ``--rate`` a
minute (default 30: a class of 300 within ten minutes); half submit the reference
solution of 02-feedforward, half the starter, each with a comment line of their own so
no two uploads are the same bytes. Each student is a thread doing what ``dlgrade
submit`` does: upload through the JSON API with a personal token, then ask for the
submission again after the server's ``poll_after`` and never sooner than ``--poll`` seconds
(default 2), as ``dlgrade submit`` does, until its public results are there. The server runs on
loopback with ``--jobs`` grading workers, on SQLite, in a course folder of its own.

Prints:
- throughput: submissions graded per minute, from the first upload to the last result;
- time from upload to public feedback as the students saw it (p50, p95, max; to within the
  polling interval), and as the database has it (created -> graded);
- the deepest the queue got (queued + running) and the share of the run during which every
  worker was busy: only when that is near 100% (the queue saturated) is the throughput the
  server's capacity; otherwise it is the arrival rate;
- peak memory of the server's process tree (the web application, its workers, their
  warm parents and sandboxed processes): summed RSS and summed PSS, sampled each second;
- that nothing was lost: every accepted id graded once (one result row, state done),
  the scores right (reference: full public marks; starter: none);
then the same submissions graded by ``dlgrade grade-batch 02-feedforward --jobs N`` into a
fresh gradebook (its throughput over its whole wall time, start-up included, and its peak
memory), the ratio of the two throughputs (target: the server within 15% when saturated: run with a
high ``--rate``, e.g. 600, for that), and whether
each student's score agrees between the two. Asserts nothing.

A reduced run (``--students 40``) keeps the full run's arrival rate and lasts a few
minutes; the full one takes about as long as grading 300 submissions (run it on an
otherwise idle machine: the figures are for the machine, not the server alone).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402

from autograder.config import load_course  # noqa: E402
from autograder.server import db  # noqa: E402
from tests.live_server import (  # noqa: E402
    LiveServer,
    ServerError,
    get_submission,
    make_course,
    post_submission,
    queue_counts,
    result_counts,
    tokens,
)

ASSIGNMENT = "02-feedforward"
SAMPLE_S = 1.0
SEED = 25


def submissions(n: int) -> dict[str, dict[str, bytes]]:
    """student -> their modules: even students the reference, odd ones the starter."""
    modules = load_course(REPO).assignment(ASSIGNMENT).modules
    out = {}
    for i in range(n):
        source = REPO / ("solutions" if i % 2 == 0 else "starter") / ASSIGNMENT
        student = f"s{i:03d}"
        out[student] = {m: f"# {student}\n".encode() + (source / m).read_bytes()
                        for m in modules}
    return out


# ------------------------------------------------------------------ memory
def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants now."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def memory_of(pids: list[int]) -> tuple[int, int]:
    """(summed RSS, summed PSS) in bytes; PSS shares each page among the processes
    mapping it, so it does not count torch's pages once per forked worker."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue  # it ended meanwhile
    return rss, pss


class MemorySampler:
    """The peak memory of a process tree, sampled every ``SAMPLE_S`` seconds."""

    def __init__(self, root_pid: int):
        self.root_pid, self.peak_rss, self.peak_pss = root_pid, 0, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            rss, pss = memory_of(process_tree(self.root_pid))
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.stopping.wait(SAMPLE_S)

    def stop(self) -> str:
        self.stopping.set()
        self.thread.join()
        return f"{self.peak_rss / 2**20:.0f} MiB RSS, {self.peak_pss / 2**20:.0f} MiB PSS"


# ------------------------------------------------------------------ the server run
class Student(threading.Thread):
    def __init__(self, url: str, login: str, token: str, files: dict[str, bytes],
                 arrival: float, poll: float):
        super().__init__(daemon=True)
        self.url, self.login, self.token, self.files = url, login, token, files
        self.poll = poll
        self.arrival = arrival  # time.monotonic() to upload at
        self.sid: int | None = None
        self.latency: float | None = None  # upload -> public results seen
        self.seen_at: float | None = None
        self.view: dict | None = None
        self.error: str | None = None

    def run(self) -> None:
        time.sleep(max(self.arrival - time.monotonic(), 0))
        started = time.monotonic()
        try:
            self.sid = post_submission(self.url, self.token, ASSIGNMENT, self.files)
            while True:
                view = get_submission(self.url, self.token, self.sid)
                if view["state"] in ("done", "failed"):
                    self.seen_at = time.monotonic()
                    self.latency, self.view = self.seen_at - started, view
                    return
                time.sleep(max(self.poll, view.get("poll_after") or self.poll))
        except ServerError as exc:
            self.error = str(exc)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of one process (all its threads, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_server(root: Path, work: dict[str, dict[str, bytes]], rate: float, jobs: int,
               env: dict[str, str], poll: float) -> tuple[float, float, dict[str, float]]:
    """Returns (graded per minute, share of the run with every worker busy,
    student -> total score)."""
    server = LiveServer(root, jobs=jobs, env=env)
    server.init()
    engine = server.engine()
    student_tokens = tokens(engine, work)
    server.start()
    while len(server.workers()) < jobs:
        time.sleep(0.2)
    sampler = MemorySampler(server.proc.pid)
    web_cpu_before = cpu_seconds(server.proc.pid)
    clients_cpu_before = time.process_time()
    rng = random.Random(SEED)
    at, students = time.monotonic() + 1, []
    for login, files in work.items():
        students.append(Student(server.url, login, student_tokens[login], files, at, poll))
        at += rng.expovariate(rate / 60)
    print(f"server: {len(students)} students arriving over {at - time.monotonic():.0f} s "
          f"({rate:g}/min), {jobs} grading workers", flush=True)
    first_upload = students[0].arrival
    for student in students:
        student.start()
    deepest, depth_log, busy = 0, time.monotonic(), []
    while any(s.is_alive() for s in students):
        counts = queue_counts(engine)
        depth = counts.get("queued", 0) + counts.get("running", 0)
        deepest = max(deepest, depth)
        if time.monotonic() >= first_upload:
            busy.append(counts.get("running", 0) >= jobs)
        if time.monotonic() - depth_log > 30:
            done = counts.get("done", 0) + counts.get("failed", 0)
            print(f"  {done} graded, {depth} in the queue", flush=True)
            depth_log = time.monotonic()
        time.sleep(0.5)
    last_seen = max((s.seen_at for s in students if s.seen_at), default=first_upload)
    clients_cpu = time.process_time() - clients_cpu_before
    memory = sampler.stop()
    web_cpu = cpu_seconds(server.proc.pid) - web_cpu_before

    rows = result_counts(engine)
    with engine.connect() as conn:
        graded = conn.execute(select(db.submissions.c.id, db.submissions.c.created_at,
                                     db.results.c.graded_at, db.results.c.score,
                                     db.results.c.public_score, db.results.c.public_max)
                              .join(db.results, db.results.c.submission_id == db.submissions.c.id)
                              ).all()
    server.stop()
    engine.dispose()
    by_id = {row.id: row for row in graded}
    accepted = [s for s in students if s.sid is not None]
    latencies = [s.latency for s in students if s.latency is not None]
    in_db = [(db.aware(r.graded_at) - db.aware(r.created_at)).total_seconds() for r in graded]
    throughput = len(latencies) / ((last_seen - first_upload) / 60)
    refused = [s for s in students if s.error]
    lost = [s.sid for s in accepted if rows.get(s.sid) != ("done", 1)]
    right = sum(1 for i, s in enumerate(students) if s.sid in by_id and (
        by_id[s.sid].public_score == by_id[s.sid].public_max if i % 2 == 0
        else by_id[s.sid].public_score == 0))
    print(f"server: {len(accepted)} accepted, {len(refused)} refused"
          + (f" (first: {refused[0].error})" if refused else ""))
    print(f"  throughput: {throughput:.1f} graded/min ({len(latencies)} in "
          f"{last_seen - first_upload:.0f} s from the first upload to the last result)")
    if latencies:
        print(f"  upload -> public feedback seen: p50 {percentile(latencies, 0.5):.1f} s, "
              f"p95 {percentile(latencies, 0.95):.1f} s, max {max(latencies):.1f} s "
              f"(polling every {poll:g} s)")
        print(f"  created -> graded in the database: p50 {percentile(in_db, 0.5):.1f} s, "
              f"p95 {percentile(in_db, 0.95):.1f} s, mean {statistics.fmean(in_db):.1f} s")
    busy_share = sum(busy) / max(len(busy), 1)
    print(f"  deepest queue: {deepest} (queued + running); every worker busy {busy_share:.0%} "
          "of the run: " + ("saturated, the throughput is the workers' capacity"
                            if busy_share >= 0.9 else
                            f"not saturated, the throughput is the arrival rate ({rate:g}/min)"))
    print(f"  peak memory of the server's process tree: {memory}")
    print(f"  the web application (uvicorn, answering the uploads and the polling) used "
          f"{web_cpu:.0f} CPU s: {web_cpu / (last_seen - first_upload):.0%} of one core")
    print(f"  the simulated students (this benchmark's threads, on the server's machine here, on "
          f"their own laptops in a class) used {clients_cpu:.0f} CPU s: "
          f"{clients_cpu / (last_seen - first_upload):.0%} of one core")
    print(f"  nothing lost: {'yes' if not lost and len(rows) == len(accepted) else 'NO'} "
          f"({len(rows)} submissions in the database, {len(lost)} without exactly one "
          f"result); scores as expected: {right}/{len(students)}")
    scores = {s.login: float(by_id[s.sid].score) for s in accepted
              if s.sid in by_id and by_id[s.sid].score is not None}
    return throughput, busy_share, scores


# ------------------------------------------------------------------ the baseline
def run_batch(root: Path, work: dict[str, dict[str, bytes]], jobs: int,
              env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """``dlgrade grade-batch`` over the same submissions; (graded per minute, scores)."""
    folder = root.parent / "batch"
    for student, files in work.items():
        (folder / student).mkdir(parents=True)
        for name, data in files.items():
            (folder / student / name).write_bytes(data)
    book = root.parent / "gradebook.sqlite"
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "autograder.cli", "--course", str(root),
                             "grade-batch", ASSIGNMENT, str(folder), "--jobs", str(jobs),
                             "--db", str(book)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = MemorySampler(proc.pid)
    output, _ = proc.communicate()
    wall = time.monotonic() - started
    memory = sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"grade-batch failed:\n{output[-3000:]}")
    from autograder.gradebook.store import Gradebook

    with Gradebook(book) as gradebook:
        rows = gradebook.latest(ASSIGNMENT)
    scores = {r.student: float(r.score) for r in rows if r.score is not None}
    throughput = len(rows) / (wall / 60)
    print(f"grade-batch --jobs {jobs}: {len(rows)} graded in {wall:.0f} s (start-up "
          f"included): {throughput:.1f} graded/min; peak memory {memory}")
    return throughput, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--rate", type=float, default=30.0,
                        help="arrivals per minute (default 30: 300 students in 10 minutes)")
    parser.add_argument("--jobs", type=int, default=2, help="grading workers / batch jobs")
    parser.add_argument("--poll", type=float, default=2.0,
                        help="seconds between a student's requests for their results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    # both runs draw hidden inputs from the same course secret
    env = {"DLGRADE_SECRET": os.environ.get("DLGRADE_SECRET", "dlgrade server load benchmark")}
    work = submissions(args.students)
    tmp = Path(tempfile.mkdtemp(prefix="dlgrade-load-"))
    try:
        root = make_course(tmp / "course", [REPO / "assignments" / ASSIGNMENT], work)
        served, busy_share, server_scores = run_server(root, work, args.rate, args.jobs, env,
                                                       args.poll)
        batch, batch_scores = run_batch(root, work, args.jobs, env)
        agree = sum(1 for s, v in batch_scores.items() if server_scores.get(s) == v)
        print(f"server / grade-batch throughput: {served / batch:.2f} (target: at least 0.85 "
              "when the queue saturated" + ("" if busy_share >= 0.9 else
                                            "; it did not: this ratio is the arrival rate's")
              + ")")
        print(f"scores agree between the server and grade-batch for {agree}/{len(work)} "
              "students")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
