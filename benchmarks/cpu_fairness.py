"""An honest submission graded beside a CPU-starving one keeps its score (issue 21, finding 3).

Run:  .venv/bin/python benchmarks/cpu_fairness.py [--rounds 5] [--assignment 02-feedforward]

Each round runs ``dlgrade grade-batch ASSIGNMENT FOLDER --jobs 2 --force`` over two
submissions: the reference solution (honest) and the reference whose ``train_digits`` (the
long test, which both jobs reach at about the same time) first starts 15 children that each
try to move onto every CPU (``sched_setaffinity``), start a session of their own
(``setsid``, a scheduler autogroup each) and spin. On 2 CPUs
with ``--jobs 2``, each job is pinned to one CPU. Prints both scores, the honest one's
failed tests, the protections in force and the round's time; asserts nothing.

Before the worker control group and the syscall filter, the honest reference lost
``test_train_digits_validation`` to its time limit (100 -> 96) in such a batch.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DLGRADE = [sys.executable, "-m", "autograder.cli"]

STARVER = '''

import os as _os
import time as _time


def _starve(children=15, seconds=60):
    """Children that leave for every CPU in sessions of their own, and spin."""
    for _ in range(children):
        try:
            if _os.fork() == 0:
                for move in (_os.setsid,
                             lambda: _os.sched_setaffinity(0, range(_os.cpu_count()))):
                    try:
                        move()
                    except OSError:
                        pass
                end = _time.time() + seconds
                while _time.time() < end:
                    pass
                _os._exit(0)
        except OSError:
            return


_honest_train_digits = train_digits


def train_digits(*args, **kwargs):  # the long test: starve the other job while it runs
    _starve()
    return _honest_train_digits(*args, **kwargs)
'''


def build(assignment: str, folder: Path) -> None:
    """``folder/honest`` (the reference) and ``folder/starver`` (the reference + STARVER)."""
    reference = REPO / "solutions" / assignment
    for student in ("honest", "starver"):
        shutil.copytree(reference, folder / student,
                        ignore=shutil.ignore_patterns("__pycache__"))
    target = next(p for p in sorted((folder / "starver").glob("*.py"))
                  if "def train_digits" in p.read_text())
    target.write_text(target.read_text() + STARVER)


def scores(db: Path, assignment: str) -> dict[str, tuple[float, list[str], list[str], float]]:
    """student -> (score, failed tests, protections, seconds of its longest test) from the
    gradebook's latest rows."""
    found = {}
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT student, results_json FROM results WHERE assignment = ? "
                            "ORDER BY id", (assignment,)).fetchall()
    for student, text in rows:
        results = json.loads(text or "{}")
        failed = [t["name"].split("::")[-1] for t in results.get("tests", [])
                  if t.get("status") != "passed"]
        longest = max((t.get("extra_data", {}).get("duration") or 0.0
                       for t in results.get("tests", [])), default=0.0)
        found[student] = (results.get("score"), failed, results.get("protections", []), longest)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--assignment", default="02-feedforward")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlgrade-fairness-") as tmp:
        folder = Path(tmp) / "submissions"
        build(args.assignment, folder)
        db = Path(tmp) / "gradebook.sqlite"
        for round_ in range(1, args.rounds + 1):
            t0 = time.perf_counter()
            done = subprocess.run([*DLGRADE, "grade-batch", args.assignment, str(folder),
                                   "--jobs", "2", "--force", "--db", str(db)],
                                  cwd=REPO, capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            if done.returncode != 0:
                print(f"round {round_}: exit {done.returncode}\n{done.stderr[-2000:]}")
                continue
            found = scores(db, args.assignment)
            honest, starver = found.get("honest"), found.get("starver")
            print(f"round {round_}: honest {honest[0]} (failed: {honest[1] or 'none'}; its "
                  f"longest test {honest[3]:.1f} s), starver {starver[0]}, batch {seconds:.0f} s")
        print("in force:", ", ".join(honest[2]) if honest else "?")


if __name__ == "__main__":
    main()
