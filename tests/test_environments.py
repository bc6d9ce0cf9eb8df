"""dlgrade where the course runs, simulated on this machine (``tests/envsim.py``).

Five environments: (a) ``root``, this machine: root with every capability; (b) ``container``:
root with Docker's default capabilities (Gradescope, Colab, Docker CI); (c) ``seccomp``: (b)
plus a filter like Docker's default seccomp profile (no namespaces, no mounts, no Landlock);
(d) ``nonroot``: the uid ``nobody`` with a venv of Debian's Python 3.11; (e) ``spawn``: the
portable worker forced on Linux.

In each, after checking that the environment is what it claims to be:

1. every assignment's reference scores full marks in (b), (c) and (d), graded in one process;
   ``dlgrade validate --all --quick`` (reference 100, starter 0, deterministic) exits 0 in (e),
   whose spawn worker serves a whole submission; in (a) all nine assignments already validate
   in-process in ``test_assignments.py``, so here one numpy (02-feedforward) and one torch
   assignment (08-transformers) go through the CLI. These are the suite's slowest tests (CI
   prints the slowest with ``--durations``).
2. the backend reports the protections the environment grants, and none it cannot;
3. ``python -m tests.hostile`` exits 0: every case holds, or (outside (a)) does not hold
   with every protection it relies on reported off; in (a) every case must hold.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence

import pytest

from autograder.sandbox import protections as P
from tests import envsim
from tests.envsim import REPO

ENVS = list(envsim.ENVIRONMENTS)
SUBSET = ("02-feedforward", "08-transformers")
#: through the CLI: one numpy and one torch assignment as root; every assignment with the spawn
#: worker, which serves a whole submission (so determinism there is its own question)
VALIDATIONS = [*(("root", target) for target in SUBSET), ("spawn", "--all")]
#: the fork worker under other confinement: every assignment's reference must score full marks
#: (the starter's zero and determinism do not depend on the confinement; test_assignments.py
#: checks them as root)
REFERENCE_ENVS = ("container", "seccomp", "nonroot")
GRADE_REFERENCES = """
import json
from pathlib import Path
from autograder.config import load_course
from autograder.grading import grade_submission
course = load_course(Path("."))
print(json.dumps({a.id: [grade_submission(a, a.solutions_dir).score, a.total_points]
                  for a in course.assignments()}))
"""
HANG_GUARD_S = 3600  # no run takes near this; it only stops a hung CI job

EPERM, ENOSYS = 1, 38
ALL_LANDLOCK = {P.LANDLOCK_FS, P.LANDLOCK_NET, P.LANDLOCK_SCOPE}
#: what this kernel's Landlock ABI offers (filesystem from 1, TCP from 4, scoping from 6)
LANDLOCK = {name for name, abi in ((P.LANDLOCK_FS, 1), (P.LANDLOCK_NET, 4),
                                   (P.LANDLOCK_SCOPE, 6)) if envsim.landlock_abi() >= abi}
#: (must be reported, must not be reported) in each environment
EXPECTED_PROTECTIONS: dict[str, tuple[set[str], set[str]]] = {
    # course-files-unreadable depends on the course folder's modes: results say it, per
    # submission, never the backend
    # (a control group per worker, so no single-process fallback)
    # (the syscall filter refuses every IPC call: no IPC namespace needed on top)
    "root": (set(P.ALL) - ALL_LANDLOCK - {P.COURSE_FILES_UNREADABLE, P.SINGLE_PROCESS,
                                          P.IPC_NAMESPACE} | LANDLOCK, {P.SINGLE_PROCESS}),
    # CAP_SETUID stays; user namespaces are allowed, so a worker can still get a network (and
    # IPC) one. The cgroup filesystems are read-only: one process per worker instead.
    "container": ({P.RLIMITS, P.UNPRIVILEGED_UID, P.NO_NEW_PRIVS, P.NETWORK_NAMESPACE,
                   P.IPC_NAMESPACE, P.SYSCALL_FILTER, P.SINGLE_PROCESS, *LANDLOCK},
                  {P.WORKER_CGROUP}),
    "seccomp": ({P.RLIMITS, P.UNPRIVILEGED_UID, P.NO_NEW_PRIVS, P.SYSCALL_FILTER,
                 P.SINGLE_PROCESS},
                {P.NETWORK_NAMESPACE, P.MOUNT_NAMESPACE, P.IPC_NAMESPACE, P.PRIVATE_SCRATCH,
                 P.WORKER_CGROUP, *ALL_LANDLOCK}),
    # the warm parent adopts what a worker leaves behind (a child subreaper)
    "nonroot": ({P.RLIMITS, P.NO_NEW_PRIVS, P.PROCESS_TREE_KILL, P.SYSCALL_FILTER,
                 P.SINGLE_PROCESS, *LANDLOCK},
                {P.UNPRIVILEGED_UID, P.WORKER_CGROUP}),
    "spawn": (set(P.BASELINE), set()),
}


@pytest.fixture(scope="module", params=ENVS)
def env(request) -> str:
    """An environment this machine can simulate (building the shared venv if needed)."""
    envsim.prepare(request.param)
    return request.param


def run_in(env: str, argv: Sequence[str]) -> subprocess.CompletedProcess:
    return subprocess.run(envsim.command(env, argv), cwd=REPO, capture_output=True, text=True,
                          timeout=HANG_GUARD_S)


def shown(done: subprocess.CompletedProcess, tail: int = 6000) -> str:
    return f"exit {done.returncode}\n{done.stdout[-tail:]}\n{done.stderr[-tail:]}"


def test_the_environment_is_what_it_claims(env):
    done = run_in(env, ["python", "-m", "tests.envsim", "describe"])
    assert done.returncode == 0, shown(done)
    found = json.loads(done.stdout)
    assert found["reads_the_course"] and found["home_writable"], found
    assert found["fork"] == 0 and found["thread"] == 0, found
    if env in ("root", "spawn"):
        assert found["uid"] == 0 and int(found["CapEff"], 16) >> envsim.CAP_SYS_ADMIN & 1
        assert found["unshare_net"] == 0 and found["landlock_abi"] == envsim.landlock_abi()
        assert found["worker"] == ("spawn" if env == "spawn" else None)
    if env in ("container", "seccomp"):
        assert found["uid"] == 0 and found["worker"] is None
        assert found["CapEff"] == found["CapPrm"] == found["CapBnd"] == "00000000a80425fb"
        assert found["CapInh"] == "0000000000000000"
        assert found["unshare_net"] == EPERM and found["clone_newnet"] in (EPERM, None), found
    if env == "container":
        assert found["seccomp"] == 0 and found["landlock_abi"] == envsim.landlock_abi(), found
    if env == "seccomp":  # the filter refuses even what a user namespace would allow
        assert found["seccomp"] == 2 and found["no_new_privs"] == 0, found
        assert found["unshare_user"] == EPERM and found["landlock_abi"] == -ENOSYS, found
    if env == "nonroot":
        assert found["uid"] == found["euid"] == envsim.NONROOT_UID, found
        assert found["CapEff"] == "0000000000000000" and found["groups"] == []
        assert found["python"] == str(envsim.SHARED_VENV / "bin" / "python")
        assert found["landlock_abi"] == envsim.landlock_abi(), found


BACKEND_REPORT = ("import json; from autograder.sandbox.backend import start_backend; "
                  "b = start_backend(); "
                  "print(json.dumps({'kind': b.kind, 'protections': b.protections()})); "
                  "b.close()")


def test_the_backend_reports_what_the_environment_grants(env):
    done = run_in(env, ["python", "-c", BACKEND_REPORT])
    assert done.returncode == 0, shown(done)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["kind"] == ("spawn" if env == "spawn" else "fork")
    must, must_not = EXPECTED_PROTECTIONS[env]
    reported = set(report["protections"])
    assert set(P.BASELINE) <= reported
    assert not must - reported, f"not applied in {env}: {sorted(must - reported)}"
    assert not must_not & reported, f"claimed in {env}: {sorted(must_not & reported)}"


@pytest.mark.parametrize(("env_name", "target"), VALIDATIONS,
                         ids=[f"{e}-{t.lstrip('-')}" for e, t in VALIDATIONS])
def test_validate(env_name, target):
    envsim.prepare(env_name)
    # --quick: the planted mistakes are environment-independent and graded once, in
    # tests/test_mistakes.py
    done = run_in(env_name, ["dlgrade", "validate", target, "--quick"])
    assert done.returncode == 0, shown(done)
    assert "INVALID" not in done.stdout and "VALID" in done.stdout, shown(done)


@pytest.mark.parametrize("env_name", REFERENCE_ENVS)
def test_every_reference_scores_full_marks(env_name):
    envsim.prepare(env_name)
    done = run_in(env_name, ["python", "-c", GRADE_REFERENCES])
    assert done.returncode == 0, shown(done)
    scores = json.loads(done.stdout.strip().splitlines()[-1])
    assert scores and all(score == total for score, total in scores.values()), scores
    assert set(scores) >= set(SUBSET)


def test_hostile_corpus(env):
    argv = ["python", "-m", "tests.hostile"] + (["--strict"] if env == "root" else [])
    done = run_in(env, argv)
    assert done.returncode == 0, shown(done, tail=20000)
    assert "0 mismatched" in done.stdout, shown(done, tail=20000)
    if env == "root":
        assert " 0 not held" in done.stdout, shown(done, tail=20000)
