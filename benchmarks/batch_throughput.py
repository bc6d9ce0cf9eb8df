"""Batch grading throughput: N submissions of assignment 02 with --jobs 1 and --jobs 2.

Run:  .venv/bin/python benchmarks/batch_throughput.py [N [K]]   (default N = 200, K = 3)

N defaults to 200, a class of a couple of hundred students (what instructors grade at
once). A batch pays about 4 s once, whatever its size and the number of jobs: the fork
server imports torch, scikit-learn and pytest (3 s of one core) before the first
submission starts. The smaller the batch, the more that fixed cost, not grading,
weighs on the scaling from 1 to 2 jobs; the steady state (start-up left out) is
printed too. With 2 jobs on a 2-CPU machine grade-batch pins each job to a CPU
(``--pin-cpus``, the default when jobs >= CPUs); with 1 job it does not.

Generates N submissions (a mix of correct work and plausible mistakes made by
mutating the reference) and grades all of them four times, each into a fresh
gradebook, with 1, 2, 2 and 1 jobs: this VM's speed drifts by 10-25% over
minutes, and the "ABBA" order cancels a drift that is linear in time, which a
1-then-2 order would book as scaling (or as its absence). Prints each run, then
per job count the throughput, per-submission wall time and cores kept busy over
its two runs, the scaling from 1 to 2 jobs (overall, run by run, and in steady
state between the first and the last result). Run it on an otherwise idle machine.

The peak memory of the whole batch (the sum of the proportional set size, PSS,
of every process in the tree: grading processes, warm parents, sandboxed
workers) comes from a fifth, separate ``--jobs 2`` run over the first 60 of the
submissions (memory does not grow with the batch: each job holds one submission at a
time): sampling PSS five times a second costs about a fifth of a core, which would
slow the timed runs (and the two-job run more than the one-job run, whose second
core is otherwise idle).
Prints figures; asserts nothing.

Then the first K of the same submissions go through dlgrade's nbgrader and
otter exports of assignment 02 (``dlgrade package --format nbgrader|otter``):
each submission's modules fill the student notebook's solution cells, and
``nbgrader autograde`` (all K in one call) and ``otter run`` (one call each, as
otter grades without Docker) are timed on them. The scores the tools give are
compared with dlgrade's, submission by submission. Needs the ``interop`` extra.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEMORY_RUN = 60  # submissions in the separate, sampled run that measures peak memory
# The timed runs, in "ABBA" order: this VM's speed drifts by 10-25% over minutes, and a
# drift that is linear in time cancels out of the sums of runs 1+4 and 2+3.
ORDER = (1, 2, 2, 1)
MUTATIONS = [  # (module, old, new): plausible student mistakes
    None, None,  # correct work
    ("layers.py", "np.maximum(0, x)", "np.maximum(0, x) * 1.0001"),
    ("layers.py", "dx = dout * (x > 0)", "dx = dout * (x >= 0)"),
    ("layers.py", "db = np.sum(dout, axis=0)", "db = np.mean(dout, axis=0)"),
    None,
    ("train.py", "perm = rng.permutation(N)", "perm = np.arange(N)"),
]


def make_submissions(root: Path, count: int) -> None:
    solution = REPO / "solutions" / "02-feedforward"
    for i in range(count):
        folder = root / f"student{i:04d}"
        shutil.copytree(solution, folder)
        mutation = MUTATIONS[i % len(MUTATIONS)]
        if mutation:
            module, old, new = mutation
            path = folder / module
            text = path.read_text()
            if old not in text:
                raise SystemExit(f"benchmark mutation no longer applies: {old!r} in {module}")
            path.write_text(text.replace(old, new, 1))
        (folder / "notes.txt").write_text(f"student {i}\n")  # distinct content per student


def tree_pss_kib(root_pid: int) -> int:
    """Sum of PSS over ``root_pid`` and all its descendants (KiB)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_batch(submissions: Path, jobs: int, db: Path,
              sample_memory: bool = False) -> tuple[float, int, str, float]:
    """Run grade-batch; returns (wall seconds, peak tree PSS in KiB, its summary, CPU seconds).

    The CPU seconds are the machine's busy time during the batch (/proc/stat): run
    it on an otherwise idle machine. The peak PSS is 0 unless ``sample_memory``.
    """
    before = busy_cpu_seconds()
    cmd = [str(REPO / ".venv" / "bin" / "dlgrade"), "grade-batch", "02-feedforward",
           str(submissions), "--jobs", str(jobs), "--db", str(db)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "DLGRADE_COURSE": str(REPO)})
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_pss_kib(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_memory:
        sampler.start()
    out, _ = proc.communicate()
    done.set()
    if sample_memory:
        sampler.join()
    cpu = busy_cpu_seconds() - before
    return (time.perf_counter() - t0, peak, out.strip().splitlines()[-2] if out.strip() else "",
            cpu)


def _tool(*args: str, cwd: Path) -> None:
    env = {**os.environ, "PATH": f"{REPO / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("DLGRADE_COURSE", None)
    subprocess.run(list(args), cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def _filled(notebook: dict, folder: Path) -> dict:
    """The student notebook with its %%writefile cells holding the submission's modules."""
    nb = json.loads(json.dumps(notebook))
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and source.startswith("%%writefile "):
            module = source.split("\n", 1)[0].split()[1]
            cell["source"] = f"%%writefile {module}\n" + (folder / module).read_text()
    return nb


def time_nbgrader(subs: list[Path], work: Path) -> tuple[float, dict[str, float]]:
    """Seconds per submission of `nbgrader autograde` on the export, and the scores."""
    course = work / "nbgrader"
    _tool(str(REPO / ".venv/bin/dlgrade"), "--course", str(REPO), "package", "02-feedforward",
          "--format", "nbgrader", "-o", str(course), cwd=work)
    _tool("nbgrader", "generate_assignment", "02-feedforward", "--force", cwd=course)
    released = json.loads((course / "release/02-feedforward/02-feedforward.ipynb").read_text())
    for sub in subs:
        folder = course / "submitted" / sub.name / "02-feedforward"
        folder.mkdir(parents=True)
        (folder / "02-feedforward.ipynb").write_text(json.dumps(_filled(released, sub)))
    t0 = time.perf_counter()
    _tool("nbgrader", "autograde", "02-feedforward", cwd=course)
    seconds = time.perf_counter() - t0
    _tool("nbgrader", "export", cwd=course)
    with open(course / "grades.csv", newline="") as fh:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}
    return seconds / len(subs), scores


def time_otter(subs: list[Path], work: Path) -> tuple[float, dict[str, float]]:
    """Seconds per submission of `otter run` on the export, and the scores."""
    master = work / "otter"
    _tool(str(REPO / ".venv/bin/dlgrade"), "--course", str(REPO), "package", "02-feedforward",
          "--format", "otter", "-o", str(master), cwd=work)
    _tool("otter", "assign", "02-feedforward.ipynb", "dist", cwd=master)
    student = json.loads((master / "dist/student/02-feedforward.ipynb").read_text())
    zip_path = next((master / "dist/autograder").glob("*.zip"))
    scores, total = {}, 0.0
    for sub in subs:
        out = master / "runs" / sub.name
        out.mkdir(parents=True)
        notebook = out / "02-feedforward.ipynb"
        notebook.write_text(json.dumps(_filled(student, sub)))
        t0 = time.perf_counter()
        _tool("otter", "run", "-a", str(zip_path), "-o", str(out), str(notebook), cwd=out)
        total += time.perf_counter() - t0
        tests = json.loads((out / "results.json").read_text())["tests"]
        scores[sub.name] = sum(t.get("score") or 0.0 for t in tests)
    return total / len(subs), scores


def steady_state_seconds(db: Path) -> float:
    """Seconds per submission between the first and the last result (start-up excluded)."""
    import sqlite3
    from datetime import datetime

    with sqlite3.connect(db) as conn:
        stamps = sorted(datetime.fromisoformat(r[0])
                        for r in conn.execute("SELECT graded_at FROM results"))
    return (stamps[-1] - stamps[0]).total_seconds() / max(len(stamps) - 1, 1)


def dlgrade_scores(db: Path) -> dict[str, float]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT student, score FROM latest").fetchall()
    return {student: float(score) for student, score in rows}


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    sample = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "submissions"
        root.mkdir()
        make_submissions(root, count)
        seconds_by_jobs: dict[int, list[float]] = {1: [], 2: []}
        cpu_by_jobs: dict[int, list[float]] = {1: [], 2: []}
        steady_by_jobs: dict[int, list[float]] = {1: [], 2: []}
        for run, jobs in enumerate(ORDER):
            db = Path(tmp) / f"gb{run}-{jobs}.sqlite"
            seconds, _, summary, cpu = run_batch(root, jobs, db)
            seconds_by_jobs[jobs].append(seconds)
            cpu_by_jobs[jobs].append(cpu)
            steady_by_jobs[jobs].append(steady_state_seconds(db))
            print(f"run {run + 1}, --jobs {jobs}: {count} submissions in {seconds:.1f} s wall = "
                  f"{count / seconds * 60:.1f} per minute, {seconds / count:.2f} s each "
                  f"(including start-up); CPU {cpu:.1f} s = {cpu / seconds:.2f} cores busy "
                  f"on average (of {os.cpu_count()})")
            print(f"    {summary}")
        results = {jobs: sum(times) for jobs, times in seconds_by_jobs.items()}
        for jobs in (1, 2):
            runs = len(seconds_by_jobs[jobs])
            print(f"--jobs {jobs}, {runs} runs: {runs * count / results[jobs] * 60:.1f} per minute, "
                  f"{results[jobs] / (runs * count):.2f} s each; "
                  f"{sum(cpu_by_jobs[jobs]) / results[jobs]:.2f} cores busy")
        pairs = ", ".join(f"{a / b:.2f}x" for a, b in zip(seconds_by_jobs[1], seconds_by_jobs[2],
                                                                    strict=True))
        print(f"scaling from 1 to 2 jobs: {results[1] / results[2]:.2f}x overall "
              f"(run by run: {pairs})")
        steady = {jobs: sum(v) / len(v) for jobs, v in steady_by_jobs.items()}
        print(f"steady state (first to last result, start-up excluded): {steady[1]:.2f} s and "
              f"{steady[2]:.2f} s per submission, scaling {steady[1] / steady[2]:.2f}x")
        memory_subs = Path(tmp) / "memory-run"
        memory_subs.mkdir()
        for folder in sorted(root.iterdir())[:MEMORY_RUN]:
            shutil.copytree(folder, memory_subs / folder.name)
        seconds, peak, _, _ = run_batch(memory_subs, 2, Path(tmp) / "gb-memory.sqlite",
                                        sample_memory=True)
        print(f"peak memory of the whole batch with --jobs 2, workers included (PSS of the "
              f"process tree, sampled in a separate run over {min(count, MEMORY_RUN)} of the "
              f"submissions): {peak / 1024:.0f} MiB ({seconds:.1f} s wall with the sampler)")
        ours = dlgrade_scores(Path(tmp) / "gb1-2.sqlite")
        subs = sorted(root.iterdir())[:sample]
        per_jobs2 = results[2] / (len(seconds_by_jobs[2]) * count)
        for name, timer in (("nbgrader autograde", time_nbgrader), ("otter run", time_otter)):
            if not subs:
                break
            try:
                seconds, scores = timer(subs, Path(tmp))
            except (OSError, subprocess.CalledProcessError) as exc:
                print(f"{name}: could not run ({exc}); install the interop extra")
                continue
            same = all(abs(scores.get(s.name, -1) - ours.get(s.name, -2)) < 1e-6 for s in subs)
            print(f"{name} on dlgrade's export, {len(subs)} of the same submissions: "
                  f"{seconds:.1f} s per submission; dlgrade --jobs 2 is {seconds / per_jobs2:.0f}x "
                  f"faster per submission; scores {'equal' if same else 'DIFFER from'} "
                  f"dlgrade's ({', '.join(f'{scores.get(s.name)}' for s in subs)})")
    print("for reference, on a 2-question notebook (../shared/reference/formats.md): otter "
          f"15.8 s and nbgrader 8.7 s per submission; dlgrade --jobs 2 is "
          f"{15.8 / per_jobs2:.0f}x and {8.7 / per_jobs2:.0f}x faster per submission")


if __name__ == "__main__":
    main()
