"""Sandbox overhead figures: remote calls, big arrays, worker start, a full grade, memory.

Run:  .venv/bin/python benchmarks/sandbox_overhead.py [--quick]

Prints medians over repeated measurements. It asserts nothing; the targets it
reports against come from issue 2 (2-core machine):
  small remote call <= 0.1 ms median; 100 MB array in <= 0.3 s;
  per-submission fixed overhead <= 0.1 s; unique memory per worker <= 30 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.config import load_course  # noqa: E402
from autograder.grading import grade_submission  # noqa: E402
from autograder.sandbox.fork_backend import WarmParent  # noqa: E402
from autograder.sandbox.limits import WorkerSpec  # noqa: E402

MODULE = "def noop(x):\n    return x\n\ndef nbytes(a):\n    return a.nbytes\n"


def smaps_rollup(pid: int) -> dict[str, int]:
    """Fields of /proc/<pid>/smaps_rollup in KiB."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1])
    return fields


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1e3:.3f} ms (p90 {sorted(samples)[int(len(samples) * 0.9)] * 1e3:.3f} ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    reps = 200 if args.quick else 2000

    folder = Path(tempfile.mkdtemp(prefix="dlgrade-bench-"))
    os.chmod(folder, 0o755)
    (folder / "bench.py").write_text(MODULE)
    spec = WorkerSpec(submission_dir=str(folder), modules=["bench.py"], memory_mb=4096)

    t0 = time.perf_counter()
    parent = WarmParent()
    info = parent.protections()
    print(f"warm parent ready in {time.perf_counter() - t0:.2f} s "
          f"(root={info['root']}, landlock ABI {info['landlock_abi']})")

    # 1. small remote call vs direct call
    worker = parent.spawn(spec)
    mod = worker.request({"op": "import", "module": "bench"}, "bench")
    noop = mod.noop
    for _ in range(50):
        noop(1)
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        noop(1)
        samples.append(time.perf_counter() - t)

    def direct(x):
        return x

    direct_samples = []
    for _ in range(reps):
        t = time.perf_counter()
        direct(1)
        direct_samples.append(time.perf_counter() - t)
    print(f"small remote call (noop(1) on a handle): median {median_ms(samples)}")
    print(f"direct call, same function in-process:   median {median_ms(direct_samples)}")

    # 2. a 100 MB array passed in
    big = np.random.default_rng(0).standard_normal(100 * 2**20 // 8)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        assert mod.nbytes(big) == big.nbytes
        times.append(time.perf_counter() - t)
    print(f"100 MB float64 array passed in: median {statistics.median(times):.3f} s "
          f"({big.nbytes / statistics.median(times) / 2**30:.2f} GiB/s)")
    worker.close()

    # 3. worker start + first call + teardown, from a torch parent and a numpy-only parent
    light = WarmParent(with_torch=False)
    light.protections()
    for label, warm in (("torch-loaded parent", parent), ("numpy-only parent (torch banned)", light)):
        starts = []
        for _ in range(30 if args.quick else 100):
            t = time.perf_counter()
            w = warm.spawn(spec)
            w.request({"op": "ping"}, "ping")
            w.close()
            starts.append(time.perf_counter() - t)
            time.sleep(0.002)
        print(f"worker start + first round trip + teardown, {label}: median {median_ms(starts)}")

    # 4. memory: the warm parent, and what one worker adds
    parent_mem = smaps_rollup(parent.info["pid"])
    w = parent.spawn(spec)
    m = w.request({"op": "import", "module": "bench"}, "bench")
    m.noop(np.zeros(10))
    worker_mem = smaps_rollup(w.pid)
    uss = worker_mem.get("Private_Clean", 0) + worker_mem.get("Private_Dirty", 0)
    print(f"warm parent RSS: {parent_mem['Rss'] / 1024:.1f} MiB")
    print(f"one worker: RSS {worker_mem['Rss'] / 1024:.1f} MiB, PSS {worker_mem['Pss'] / 1024:.1f} "
          f"MiB, unique (USS) {uss / 1024:.1f} MiB")
    w.close()

    # 5. per-submission overhead: a whole grade of a trivial 4-test assignment
    course = load_course(REPO)
    a02 = course.assignment("02-feedforward")
    mini = load_course(REPO / "tests" / "fixtures" / "course").assignment("90-mini")
    mini_ref = REPO / "tests/fixtures/course/solutions/90-mini"
    grade_submission(mini, mini_ref, parent=light)
    fixed = []
    for _ in range(5 if args.quick else 20):
        t = time.perf_counter()
        grade_submission(mini, mini_ref, parent=light)
        fixed.append(time.perf_counter() - t)
    print(f"per-submission overhead: a full grade of a trivial submission (90-mini: copy, hash, "
          f"import probe, pytest session, 4 tests each in a fresh worker, result): median "
          f"{statistics.median(fixed) * 1e3:.0f} ms")

    # 6. a full grade of assignment 02's reference (numpy-only parent, as `dlgrade grade` uses)
    grade_submission(a02, REPO / "solutions" / "02-feedforward", parent=light)  # warm imports
    times = []
    for _ in range(1 if args.quick else 3):
        t = time.perf_counter()
        result = grade_submission(a02, REPO / "solutions" / "02-feedforward", parent=light)
        times.append(time.perf_counter() - t)
    print(f"full grade of the 02-feedforward reference: median {statistics.median(times):.2f} s "
          f"({result.score:g}/{result.max_score:g}, {len(result.tests)} tests, warm parent reused)")
    light.close()
    parent.close()


if __name__ == "__main__":
    main()
