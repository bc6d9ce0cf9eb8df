"""Per-submission grading time of this tree against an earlier revision, in alternating runs.

Run:  .venv/bin/python benchmarks/revision_cost.py --baseline REV [--rounds 5]

Checks ``REV`` out into a temporary git worktree, then times whole submissions (the
reference of each assignment below, graded on the fork backend with one warm parent per run)
with the baseline's code and with this tree's, alternating (baseline, this, baseline, ...)
so that the machine's drift falls on both. Each run grades a few times after a warm-up and
reports its median; the table gives the median of the runs' medians and the difference.
Prints figures only. Issue 21's budget: the hardening costs at most 15% per submission.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: (assignment, submissions graded per run, preload torch): 90-mini is the fixed overhead
CASES = (("90-mini", 15, False), ("02-feedforward", 3, False), ("08-transformers", 2, True))

ONE_RUN = '''
import shutil, statistics, sys, tempfile, time
from pathlib import Path
repo, assignment, count, torch = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
sys.path.insert(0, str(repo))
from autograder.config import load_course
from autograder.grading import grade_submission
from autograder.sandbox.fork_backend import WarmParent
fixture = assignment == "90-mini"
course = load_course(repo / "tests" / "fixtures" / "course" if fixture else repo)
a = course.assignment(assignment)
folder = Path(tempfile.mkdtemp()) / "submission"
shutil.copytree(Path(sys.argv[5]) if fixture else repo / "solutions" / assignment, folder)
with WarmParent(with_torch=torch) as parent:
    for _ in range(2):
        grade_submission(a, folder, parent=parent)
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        result = grade_submission(a, folder, parent=parent)
        times.append(time.perf_counter() - t0)
    assert result.score == result.max_score, (result.score, result.max_score)
print(statistics.median(times))
'''


def one_run(tree: Path, assignment: str, count: int, torch: bool, honest_mini: Path) -> float:
    """The median seconds of ``count`` gradings of ``assignment``'s reference with ``tree``."""
    done = subprocess.run([sys.executable, "-c", ONE_RUN, str(tree), assignment, str(count),
                           "1" if torch else "0", str(honest_mini)],
                          capture_output=True, text=True, cwd=tree)
    if done.returncode != 0:
        raise SystemExit(f"{tree} {assignment}: {done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="a git revision, e.g. b29f67d")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dlgrade-baseline-") as tmp:
        baseline = Path(tmp) / "tree"
        honest_mini = Path(tmp) / "mini"  # 90-mini's honest submission (the hostile corpus's)
        honest_mini.mkdir()
        sys.path.insert(0, str(REPO))
        from tests.hostile.corpus import HONEST_MINI

        (honest_mini / "mini.py").write_text(HONEST_MINI)
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(baseline), args.baseline],
                       cwd=REPO, check=True)
        try:
            runs: dict[tuple[str, str], list[float]] = {}
            for _ in range(args.rounds):
                for label, tree in (("baseline", baseline), ("this tree", REPO)):
                    for assignment, count, torch in CASES:
                        seconds = one_run(tree, assignment, count, torch, honest_mini)
                        runs.setdefault((assignment, label), []).append(seconds)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline)], cwd=REPO)
    print(f"per-submission time, median of {args.rounds} alternating runs' medians "
          f"(baseline {args.baseline}):")
    for assignment, _, _ in CASES:
        before = statistics.median(runs[(assignment, "baseline")])
        after = statistics.median(runs[(assignment, "this tree")])
        print(f"  {assignment:16s} baseline {before * 1000:8.1f} ms   this tree "
              f"{after * 1000:8.1f} ms   {100 * (after / before - 1):+5.1f}%")


if __name__ == "__main__":
    main()
