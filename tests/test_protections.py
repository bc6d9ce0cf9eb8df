"""Protections: one list of names, probed per machine, recorded in every result, and
required by course.toml for official grading."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.errors import ConfigError, ProtectionsMissing
from autograder.grading import ensure_protections, grade_submission
from autograder.report.feedback import protections_line
from autograder.report.html import protections_table
from autograder.sandbox import limits
from autograder.sandbox import protections as P
from tests.conftest import FIXTURE_COURSE, HONEST_MINI

DLGRADE = [sys.executable, "-m", "autograder.cli"]


class FakeBackend:
    kind = "fork"

    def __init__(self, active: list[str], notes: list[str]):
        self._active, self._notes = active, notes

    def protections(self) -> list[str]:
        return self._active

    def notes(self) -> list[str]:
        return self._notes


def course_requiring(tmp_path: Path, names: list[str]) -> Path:
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    with open(root / "course.toml", "a", encoding="utf-8") as fh:
        fh.write(f"\n[grading]\nrequire_protections = {json.dumps(names)}\n")
    return root


def test_every_protection_is_described_once_and_ordered():
    assert len(set(P.ALL)) == len(P.ALL)
    assert set(P.BASELINE) <= set(P.ALL)
    assert P.ordered(["landlock-fs", "separate-process"]) == ["separate-process", "landlock-fs"]
    assert P.missing(["rlimits", "landlock-fs"], ["rlimits"]) == ["landlock-fs"]


def test_require_protections_is_validated_with_a_suggestion(tmp_path):
    root = course_requiring(tmp_path, ["network-namespaces"])
    with pytest.raises(ConfigError, match="did you mean 'network-namespace'"):
        load_course(root)


def test_the_default_requirement_is_the_baseline_and_the_baseline_is_always_kept(tmp_path):
    assert load_course(FIXTURE_COURSE).grading.require_protections == P.BASELINE
    course = load_course(course_requiring(tmp_path, ["landlock-fs"]))
    assert course.grading.require_protections == (*P.BASELINE, "landlock-fs")


def test_a_missing_required_protection_stops_grading_and_says_why():
    backend = FakeBackend(["separate-process", "value-codec", "rlimits"],
                          ["unprivileged-uid is off: with it on, the Python installation is "
                           "not readable (Permission denied)"])
    ensure_protections(backend, ["separate-process", "rlimits"])  # all there: no error
    with pytest.raises(ProtectionsMissing) as info:
        ensure_protections(backend, ["rlimits", "landlock-fs", "network-namespace"])
    message = str(info.value)
    assert "landlock-fs, network-namespace" in message
    assert "Nothing was graded" in message and "Python installation is not readable" in message


def test_grade_submission_refuses_before_grading(tmp_path):
    folder = tmp_path / "honest"
    folder.mkdir()
    (folder / "mini.py").write_text(HONEST_MINI)
    out = tmp_path / "results.json"
    backend = FakeBackend(["separate-process", "value-codec"], [])
    assignment = load_course(FIXTURE_COURSE).assignment("90-mini")
    with pytest.raises(ProtectionsMissing):
        grade_submission(assignment, folder, parent=backend, require=["landlock-fs"],
                         json_path=out)
    assert not out.exists()


def test_the_probe_keeps_what_works_here():
    """This machine (root, every capability, Landlock) offers everything but the uid, which
    the probe is not given here."""
    plan, notes = limits.probe_plan(uid=None, copy_parent=None)
    if os.geteuid() == 0:
        assert {P.NETWORK_NAMESPACE, P.MOUNT_NAMESPACE} <= plan
    assert {P.RLIMITS, P.NO_NEW_PRIVS, P.PYTHON_SOCKET_BLOCK} <= plan
    assert (P.LANDLOCK_FS in plan) == (limits.landlock_abi() >= 1)
    assert P.UNPRIVILEGED_UID not in plan and P.PRIVATE_SCRATCH not in plan
    assert notes == []


def test_a_plan_that_cannot_be_applied_stops_the_worker_with_a_platform_reason(tmp_path):
    spec = limits.WorkerSpec(submission_dir=str(tmp_path), modules=[], uid=None)
    pid = os.fork()
    if pid == 0:  # a plan naming a uid drop without a uid folder for its copy
        try:
            spec.uid = 65534
            limits.confine(spec, frozenset({P.UNPRIVILEGED_UID}))
        except limits.ConfinementError:
            os._exit(limits.CONFINEMENT_FAILED)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == limits.CONFINEMENT_FAILED
    from autograder.sandbox.client import describe_exit

    assert "a platform problem" in describe_exit({"exitcode": limits.CONFINEMENT_FAILED,
                                                 "signal": None})


def test_results_record_the_protections_and_staff_see_what_was_off(warm_parent, tmp_path):
    folder = tmp_path / "honest"
    folder.mkdir()
    (folder / "mini.py").write_text(HONEST_MINI)
    result = grade_submission(load_course(FIXTURE_COURSE).assignment("90-mini"), folder,
                              parent=warm_parent)
    assert result.protections == warm_parent.protections()
    assert set(P.BASELINE) <= set(result.protections)
    data = result.to_json()
    line = protections_line(data)
    assert line.startswith("Protections in force: separate-process, value-codec")
    reduced = dict(data, protections=["separate-process", "value-codec", "rlimits"])
    assert "Off: fresh-worker-per-test" in protections_line(reduced)
    table = protections_table({tuple(data["protections"]): 3, ("separate-process",): 1})
    assert "<td>3</td>" in table and "value-codec" in table.split("<td>1</td>")[1]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("capsh"),
                    reason="simulating a container needs root and capsh (libcap2-bin)")
def test_a_container_without_cap_sys_admin_refuses_a_course_that_requires_a_mount_namespace(tmp_path):
    from tests import envsim

    envsim.prepare("container")
    root = course_requiring(tmp_path, ["mount-namespace"])
    folder = tmp_path / "honest"
    folder.mkdir()
    (folder / "mini.py").write_text(HONEST_MINI)
    out = tmp_path / "results.json"
    os.chmod(tmp_path, 0o755)
    argv = envsim.command("container", ["dlgrade", "--course", str(root), "grade", "90-mini",
                                        str(folder), "--json", str(out)])
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "requires protections this machine does not give: mount-namespace" in result.stderr
    assert not out.exists()


def test_a_dead_warm_parent_is_replaced_and_grading_goes_on(tmp_path):
    """Where a worker keeps root (a container in which no uid of its own can read Python),
    it can kill its warm parent; the test it runs fails, the next worker gets a new parent."""
    from autograder.sandbox.fork_backend import WarmParent
    from autograder.sandbox.session import Submission, SubmissionSandbox

    folder = tmp_path / "honest"
    folder.mkdir()
    (folder / "mini.py").write_text(HONEST_MINI)
    assignment = load_course(FIXTURE_COURSE).assignment("90-mini")
    with WarmParent(with_torch=False) as parent:
        sandbox = SubmissionSandbox(assignment, folder, "process", parent)
        first = Submission(sandbox, seed=1, test_timeout=20)
        assert first.mini.add(2, 3) == 5
        old = parent.process.pid
        parent.process.kill()
        parent.process.wait()
        first.close()  # the worker is killed by the grader itself
        result = grade_submission(assignment, folder, parent=parent)
        assert result.score == 4 and parent.process.pid != old


def test_check_without_torch_says_how_to_install_its_cpu_build(tmp_path):
    """02's graders import torch (their oracles use autograd): a student without torch gets
    the command for torch's CPU build and exit 2, not an internal error."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import sys\n"
        "class _NoTorch:\n"
        "    @staticmethod\n"
        "    def find_spec(name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'torch':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, _NoTorch)\n")
    repo = Path(__file__).resolve().parents[1]
    files = [str(p) for p in sorted((repo / "solutions" / "02-feedforward").glob("*.py"))]
    out = tmp_path / "results.json"
    env = dict(os.environ, PYTHONPATH=str(shim))
    done = subprocess.run([*DLGRADE, "check", "02-feedforward", *files, "--json", str(out)],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "02-feedforward's tests need torch, which is not installed here" in done.stderr
    assert "--index-url https://download.pytorch.org/whl/cpu" in done.stderr
    assert not out.exists()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("capsh"),
                    reason="simulating a container needs root and capsh (libcap2-bin)")
def test_a_course_folder_closed_to_others_hides_the_tests_where_nothing_else_can(tmp_path):
    """A container whose seccomp profile refuses namespaces and Landlock: the worker's own uid
    is all that is left, and a course folder others cannot enter (what the Gradescope
    package's run_autograder makes of its source folder) keeps the hidden tests from it."""
    from tests import envsim

    envsim.prepare("seccomp")
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    root = closed / "course"
    shutil.copytree(FIXTURE_COURSE, root)
    hidden = root / "assignments" / "90-mini" / "tests" / "hidden" / "test_mini_hidden.py"
    submission = tmp_path / "sub"
    submission.mkdir()
    (submission / "mini.py").write_text(HONEST_MINI.replace(
        "return np.asarray(x) * factor", f"return len(open({str(hidden)!r}).read())"))
    os.chmod(tmp_path, 0o755)
    out = tmp_path / "results.json"
    argv = envsim.command("seccomp", ["dlgrade", "--course", str(root), "grade", "90-mini",
                                      str(submission), "--json", str(out)])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    active = results["protections"]
    assert P.COURSE_FILES_UNREADABLE in active and P.UNPRIVILEGED_UID in active
    assert P.LANDLOCK_FS not in active and P.MOUNT_NAMESPACE not in active
    scaled = [t for t in results["tests"] if t["name"].endswith("test_scale")][0]
    assert scaled["status"] == "failed" and "PermissionError" in scaled["extra_data"]["reason"]
    assert results["score"] == 3


def test_course_files_are_closed_to_others_only_behind_a_folder_they_cannot_enter():
    import tempfile

    with tempfile.TemporaryDirectory(dir="/tmp") as top:  # pytest's own tmp is closed (700)
        os.chmod(top, 0o755)
        inner = Path(top) / "a" / "b"
        inner.mkdir(parents=True)
        os.chmod(inner.parent, 0o755)
        assert not limits.closed_to_others(str(inner))
        os.chmod(inner.parent, 0o750)
        assert limits.closed_to_others(str(inner))
        assert limits.closed_to_others(str(inner / "missing.py"))


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                if marker.encode() in fh.read():
                    found.append(int(entry))
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="running as another uid needs root and setpriv")
def test_without_a_uid_of_its_own_an_escaped_orphan_still_dies_with_its_worker():
    """Not root: no per-worker uid to sweep. A grandchild that left the worker's process group
    (setsid) and was orphaned is adopted by the warm parent (a child subreaper) and killed;
    where the syscall filter refuses new processes (no control group), none is started."""
    from tests import envsim

    envsim.prepare("nonroot")
    marker = f"61.{os.getpid()}{int(time.time() * 1000) % 100000}"
    escaping = HONEST_MINI.replace("def add(a, b):\n    return a + b\n", (
        "def add(a, b):\n"
        "    import os\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            os.execv('/bin/sleep', ['sleep', '{marker}'])\n"
        "        os._exit(0)\n"
        "    os.waitpid(pid, 0)\n"
        "    return a + b\n"))
    assert escaping != HONEST_MINI
    import tempfile

    top = Path(tempfile.mkdtemp(dir="/tmp"))  # pytest's own tmp is closed to other uids
    os.chmod(top, 0o777)
    folder = top / "sub"
    folder.mkdir()
    (folder / "mini.py").write_text(escaping)
    out = top / "out"
    argv = envsim.command("nonroot", ["dlgrade", "--course", str(FIXTURE_COURSE), "grade",
                                      "90-mini", str(folder), "--json", str(out / "r.json")])
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        results = json.loads((out / "r.json").read_text())
        assert P.PROCESS_TREE_KILL in results["protections"]
        assert P.UNPRIVILEGED_UID not in results["protections"]
        if P.SINGLE_PROCESS in results["protections"]:  # no process may be started at all
            failed = [t for t in results["tests"] if t["status"] != "passed"]
            assert results["score"] == 2 and len(failed) == 2  # test_add, test_add_negative
            assert all("BlockingIOError" in str(t) for t in failed), failed
        else:
            assert results["score"] == 4  # the escape itself costs nothing
        deadline = time.monotonic() + 5
        while _processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _processes_with(marker) == []
    finally:
        for pid in _processes_with(marker):
            os.kill(pid, 9)
        shutil.rmtree(top, ignore_errors=True)


def test_the_worker_backend_can_be_forced_from_the_command_line(tmp_path):
    folder = tmp_path / "honest"
    folder.mkdir()
    (folder / "mini.py").write_text(HONEST_MINI)
    env = {k: v for k, v in os.environ.items() if k != "DLGRADE_WORKER"}
    for kind in ("spawn", "fork"):
        done = subprocess.run([*DLGRADE, "--course", str(FIXTURE_COURSE), "grade", "90-mini",
                               str(folder), "--worker", kind],
                              capture_output=True, text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"sandbox: {kind} worker; in force: separate-process")
        assert "total: 4 / 4 points" in done.stdout
    done = subprocess.run([*DLGRADE, "--course", str(FIXTURE_COURSE), "grade", "90-mini",
                           str(folder)], capture_output=True, text=True, timeout=300,
                          env=dict(env, DLGRADE_WORKER="thread"))
    assert done.returncode == 2 and "unknown worker backend 'thread'" in done.stderr


NAMESPACE_PROBE = HONEST_MINI.replace("def add(a, b):\n    return a + b\n", (
    "def add(a, b):\n"
    "    import ctypes, os\n"
    "    libc = ctypes.CDLL(None, use_errno=True)\n"
    "    caps = [line.split()[1] for line in open('/proc/self/status')\n"
    "            if line.startswith(('CapEff', 'CapBnd'))]\n"
    "    if caps != ['0000000000000000'] * 2:\n"
    "        raise RuntimeError(f'capabilities left: {caps}')\n"
    "    if libc.unshare(0x10000000) == 0:\n"
    "        raise RuntimeError('a nested user namespace was created')\n"
    "    return a + b\n"))


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="running as another uid needs root and setpriv")
def test_a_worker_in_a_user_namespace_of_its_own_keeps_no_capability_there():
    """Not root, the worker's network namespace comes with a user namespace of its own; the
    capabilities that grants are given up, and no nested user namespace can be made."""
    import tempfile

    from tests import envsim

    envsim.prepare("nonroot")
    top = Path(tempfile.mkdtemp(dir="/tmp"))
    os.chmod(top, 0o777)
    try:
        (top / "sub").mkdir()
        (top / "sub" / "mini.py").write_text(NAMESPACE_PROBE)
        argv = envsim.command("nonroot", ["dlgrade", "--course", str(FIXTURE_COURSE), "grade",
                                          "90-mini", str(top / "sub"), "--json",
                                          str(top / "r.json")])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        results = json.loads((top / "r.json").read_text())
        assert P.NETWORK_NAMESPACE in results["protections"]
        assert results["score"] == 4, [t["extra_data"] for t in results["tests"]]
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_a_fallback_is_not_missed_where_what_it_stands_in_for_is_on():
    everything = [n for n in P.ALL if n != P.COURSE_FILES_UNREADABLE]
    assert P.off(everything) == []
    without_landlock_and_mounts = [n for n in everything
                                   if n not in (P.LANDLOCK_FS, P.MOUNT_NAMESPACE)]
    assert P.off(without_landlock_and_mounts) == [P.MOUNT_NAMESPACE,
                                                  P.COURSE_FILES_UNREADABLE, P.LANDLOCK_FS]
    assert P.COURSE_FILES_UNREADABLE not in P.off(without_landlock_and_mounts,
                                                  per_submission=False)
