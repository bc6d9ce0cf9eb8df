"""sandbox/cgroups.py: one cgroup per worker bounds the worker and all its children together.

The first tests run on the real kernel (cgroup v1 on the development machine: its cgroup2
mount has no memory or pids controller): each forks a child that enters a worker cgroup
and reports back as one JSON line on a pipe. The v2 tests at the end drive the code
against a fake cgroup2 tree in tmp_path: they check the protocol (which files get which
values, when it must refuse), not the kernel.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autograder.sandbox import cgroups
from autograder.sandbox.cgroups import CgroupTree, CgroupUnavailable, WorkerCgroup, WorkerLimits

MiB = 1 << 20
PREFIX = "dlgtest"


# ---- helpers ------------------------------------------------------------------------------

@pytest.fixture
def tree() -> Iterator[CgroupTree]:
    made = CgroupTree.create(PREFIX)
    made.sweep_stale()  # what a crashed earlier run of these tests left
    yield made
    made.close()


def _in_worker(worker: WorkerCgroup, body: Callable[[], object], timeout: float = 30) -> object:
    """Fork a child that enters ``worker`` and runs ``body``; return what it returned.

    The first line the child writes is the answer, so grandchildren that keep the pipe
    open do not hold the test up; ``worker.kill()`` then ends them all.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            worker.enter()
            answer: object = body()
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            answer = {"error": repr(exc)}
        finally:
            os.write(write_end, (json.dumps(answer) + "\n").encode())
            os._exit(code)
    os.close(write_end)
    try:
        return json.loads(_read_until(read_end, lambda data: data.endswith(b"\n"), timeout))
    finally:
        os.close(read_end)
        worker.kill()
        os.waitpid(pid, 0)


def _read_until(fd: int, done: Callable[[bytes], bool], timeout: float) -> bytes:
    data, deadline = b"", time.monotonic() + timeout
    while not done(data):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            raise AssertionError(f"the child said nothing within {timeout} s (got {data!r})")
        data += chunk
    return data


def _start_in_worker(worker: WorkerCgroup, body: Callable[[], None]) -> int:
    """Fork a child that enters ``worker`` and runs ``body`` until killed; return its pid
    once it is inside."""
    pid = os.fork()
    if pid == 0:
        try:
            worker.enter()
            body()
        finally:
            os._exit(1)
    deadline = time.monotonic() + 10
    while pid not in worker.pids():
        assert time.monotonic() < deadline, "the child never entered its cgroup"
        time.sleep(0.01)
    return pid


def _set_oom_score_adj(value: int) -> None:
    Path("/proc/self/oom_score_adj").write_text(str(value))


def _killed(status: int) -> bool:
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


# ---- the real kernel --------------------------------------------------------------------------

def test_this_machine_gives_a_tree_with_memory_and_pids(tree):
    assert tree.version in (1, 2)
    assert {"memory", "pids"} <= tree.controllers
    assert all(folder.is_dir() for folder in tree.folders.values())
    assert all(folder.name == f"{PREFIX}-{os.getpid()}" for folder in tree.folders.values())


def _four_hogs_of_100_mib() -> dict[str, int]:
    """Four children each write 100 MiB at once and hold it 1.5 s; how did they end?"""
    hogs = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            _set_oom_score_adj(1000)  # the OOM killer picks among the hogs, not the reporter
            hog = bytearray(b"\x01") * (100 * MiB)  # every page written
            time.sleep(1.5)
            os._exit(0 if hog[-1] == 1 else 3)
        hogs.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in hogs]
    return {"killed": sum(map(_killed, statuses)),
            "survived": sum(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 0 for s in statuses)}


def test_memory_limit_covers_the_worker_and_all_its_children(tree):
    limit = 200 * MiB
    worker = tree.worker("hogs", WorkerLimits(memory_bytes=limit, max_pids=32))
    try:
        ended = _in_worker(worker, _four_hogs_of_100_mib, timeout=60)
        peak, events = worker.peak_memory_bytes(), worker.memory_events()
    finally:
        worker.remove()
    print(f"4 x 100 MiB under {limit // MiB} MiB: {ended}, peak {peak / MiB:.1f} MiB, {events}")
    assert "error" not in ended, ended
    assert ended["killed"] >= 2 and ended["survived"] * 100 * MiB < limit
    assert events["oom_kill"] >= 1 and "max" in events  # v1's failcnt ("max") stays 0 on some kernels
    assert 100 * MiB <= peak <= limit + 4 * MiB


def _fork_until_refused() -> dict[str, object]:
    forked = 0
    try:
        while forked < 100:
            if os.fork() == 0:
                time.sleep(60)  # killed with the cgroup
                os._exit(0)
            forked += 1
    except BlockingIOError as exc:
        return {"forked": forked, "refused": os.strerror(exc.errno)}
    return {"forked": forked, "refused": None}


def test_pids_limit_refuses_a_fork_past_it_with_eagain(tree):
    worker = tree.worker("forks", WorkerLimits(memory_bytes=256 * MiB, max_pids=6))
    try:
        ended = _in_worker(worker, _fork_until_refused)
    finally:
        worker.remove()
    assert ended == {"forked": 5, "refused": os.strerror(11)}, ended  # 1 + 5 = max_pids


def test_cpuset_pins_the_worker_and_affinity_cannot_leave_it(tree):
    allowed = min(os.sched_getaffinity(0))
    outside = next(cpu for cpu in range(os.cpu_count() + 1) if cpu != allowed)
    worker = tree.worker("pinned", WorkerLimits(256 * MiB, 8, cpus=frozenset({allowed})))

    def try_to_leave() -> dict[str, object]:
        before = sorted(os.sched_getaffinity(0))
        try:
            os.sched_setaffinity(0, {outside})
            escaped: object = sorted(os.sched_getaffinity(0))
        except OSError as exc:
            escaped = os.strerror(exc.errno)
        os.sched_setaffinity(0, range(os.cpu_count()))  # allowed, but masked by the cpuset
        return {"before": before, "escaped": escaped, "after": sorted(os.sched_getaffinity(0))}

    try:
        ended = _in_worker(worker, try_to_leave)
    finally:
        worker.remove()
    assert ended == {"before": [allowed], "escaped": os.strerror(22), "after": [allowed]}, ended


def test_cpu_quota_bounds_the_cpu_time_a_worker_gets(tree):
    worker = tree.worker("quota", WorkerLimits(256 * MiB, 8, cpu_quota=0.25))

    def spin_one_second() -> float:
        start, cpu = time.monotonic(), os.times()
        while time.monotonic() - start < 1.0:
            pass
        return os.times().user - cpu.user + os.times().system - cpu.system

    try:
        used = _in_worker(worker, spin_one_second)
    finally:
        worker.remove()
    print(f"CPU seconds in 1 s of wall time under a quota of 0.25 CPU: {used:.2f}")
    assert used < 0.25 + 0.15


def _fork_bomb() -> None:
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.005)


def _without_freezer() -> CgroupTree:
    _, v1 = cgroups._detect()
    own = {c: folder for c, folder in v1.own.items() if c != "freezer"}
    return CgroupTree.create(PREFIX, layout=cgroups._V1Layout(own=own))


@pytest.mark.parametrize("how", ["as made", "v1 without freezer"])
def test_kill_empties_a_cgroup_whose_processes_keep_forking(how):
    tree = CgroupTree.create(PREFIX) if how == "as made" else _without_freezer()
    try:
        worker = tree.worker("bomb", WorkerLimits(256 * MiB, max_pids=40, cpu_quota=0.5))
        pid = _start_in_worker(worker, _fork_bomb)
        deadline = time.monotonic() + 10
        while len(worker.pids()) < 20:
            assert time.monotonic() < deadline, worker.pids()
            time.sleep(0.01)
        worker.kill()
        assert worker.pids() == []
        assert _killed(os.waitpid(pid, 0)[1])
    finally:
        tree.close()


def test_remove_kills_and_deletes_every_folder(tree):
    worker = tree.worker("sleeper", WorkerLimits(256 * MiB, 8))
    folders = list(worker.folders.values())
    assert len(folders) == (1 if tree.version == 2 else len(tree.folders))
    pid = _start_in_worker(worker, lambda: time.sleep(60))
    worker.remove()
    assert _killed(os.waitpid(pid, 0)[1])
    assert [folder for folder in folders if folder.exists()] == []


def _crashed_owner(ready: int) -> None:
    """A warm parent that makes its tree and a worker with a process in it, then dies."""
    tree = CgroupTree.create(PREFIX)
    worker = tree.worker("orphaned", WorkerLimits(256 * MiB, 8))
    if os.fork() == 0:
        worker.enter()
        os.write(ready, b"x")
        time.sleep(60)
        os._exit(0)
    while not worker.pids():
        time.sleep(0.01)
    os.write(ready, b"x")
    os._exit(0)  # no close(): a crash


def test_sweep_stale_removes_the_tree_of_a_dead_owner(tree):
    read_end, write_end = os.pipe()
    owner = os.fork()
    if owner == 0:
        try:
            _crashed_owner(write_end)
        finally:
            os._exit(1)
    os.close(write_end)
    assert _read_until(read_end, lambda data: len(data) == 2, 20) == b"xx"
    os.close(read_end)
    assert os.waitpid(owner, 0)[1] == 0
    stale = [folder.parent / f"{PREFIX}-{owner}" for folder in tree.folders.values()]
    assert all((folder / "orphaned").is_dir() for folder in stale)
    orphan = WorkerCgroup(tree.version, {c: f / "orphaned" for c, f in zip(tree.folders, stale, strict=True)})
    assert len(orphan.pids()) == 1

    assert tree.sweep_stale() == 2  # the worker and its tree
    assert [folder for folder in stale if folder.exists()] == []
    assert all(folder.is_dir() for folder in tree.folders.values())  # its own tree stays


def test_sweep_stale_removes_worker_cgroups_this_tree_did_not_make(tree):
    leftover = {c: folder / "left" for c, folder in tree.folders.items()}
    for folder in leftover.values():
        folder.mkdir()
    assert tree.sweep_stale() == 1
    assert [folder for folder in leftover.values() if folder.exists()] == []


def test_a_failed_create_leaves_nothing_and_a_later_one_works(tmp_path):
    _, v1 = cgroups._detect()
    broken = dict(v1.own, pids=tmp_path / "not-a-hierarchy")
    name = f"{PREFIX}-{os.getpid()}"
    with pytest.raises(CgroupUnavailable, match="not-a-hierarchy"):
        CgroupTree.create(PREFIX, layout=cgroups._V1Layout(own=broken))
    assert [f for f in v1.own.values() if (f / name).exists()] == []

    tree = CgroupTree.create(PREFIX)
    tree.close()
    assert [f for f in v1.own.values() if (f / name).exists()] == []


def test_a_failed_worker_leaves_no_folder(tree):
    with pytest.raises(OSError, match="outside this tree's cpuset"):
        tree.worker("bad", WorkerLimits(256 * MiB, 8, cpus=frozenset({4096})))
    too_many = WorkerLimits(256 * MiB, max_pids=1 << 40, cpu_quota=0.5)  # the kernel refuses it
    with pytest.raises(OSError, match="cannot write '1099511627776' to .*pids.max"):
        tree.worker("bad", too_many)
    assert [f for f in tree.folders.values() if (f / "bad").exists()] == []


def test_v1_without_a_pids_hierarchy_is_refused_with_a_reason(tmp_path):
    with pytest.raises(CgroupUnavailable, match="no pids hierarchy"):
        CgroupTree.create(PREFIX, layout=cgroups._V1Layout(own={"memory": tmp_path}))
    assert list(tmp_path.iterdir()) == []


def test_layout_is_read_from_proc_self_cgroup_and_mountinfo():
    proc = "4:memory:/job/7\n1:cpu,cpuacct:/\n0::/user.slice/x.scope\n"
    mountinfo = (
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n")
    assert cgroups._own_paths(proc) == {"memory": "/job/7", "cpu": "/", "cpuacct": "/",
                                        "": "/user.slice/x.scope"}
    mounts = cgroups._cgroup_mounts(mountinfo)
    assert [(m[0], str(m[1]), m[2]) for m in mounts] == [
        ("cgroup", "/sys/fs/cgroup/memory", "/"), ("cgroup", "/sys/fs/cgroup/cpu,cpuacct", "/"),
        ("cgroup2", "/sys/fs/cgroup/unified", "/")]
    assert cgroups._folder_below(Path("/m"), "/job", "/job/7") == Path("/m/7")
    assert cgroups._folder_below(Path("/m"), "/job", "/other") is None
    assert cgroups._parse_cpus("0-2,5") == {0, 1, 2, 5}


# ---- cgroup v2: the protocol, against a fake tree ---------------------------------------------

V2_FILES = {
    "memory": {"memory.max": "max", "memory.swap.max": "max", "memory.oom.group": "0",
               "memory.peak": "0", "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0"},
    "pids": {"pids.max": "max"},
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "cpu": {"cpu.max": "max 100000"},
}


def _fake_mkdir(path: Path) -> None:
    """Roughly what the kernel does on mkdir in cgroup2: the control files of the controllers
    the parent has (the kernel shows them once the parent enables them for children)."""
    path.mkdir()
    available = (path.parent / "cgroup.controllers").read_text().split()
    files = {"cgroup.procs": "", "cgroup.subtree_control": "", "cgroup.kill": "",
             "cgroup.controllers": " ".join(available)}
    for controller in available:
        files.update(V2_FILES.get(controller, {}))
    if "cpuset" in available:
        for name in ("cpuset.cpus.effective", "cpuset.mems.effective"):
            files[name] = (path.parent / name).read_text()
    for name, text in files.items():
        (path / name).write_text(text)


def _fake_rmdir(path: Path) -> None:
    if any(p.is_dir() for p in path.iterdir()):
        raise OSError(16, "Device or resource busy")
    shutil.rmtree(path)


@pytest.fixture
def fake_v2(tmp_path, monkeypatch) -> Callable[..., cgroups._V2Layout]:
    """A cgroup2 mount in tmp_path; ``own`` is this process's cgroup, holding ``procs``."""
    monkeypatch.setattr(cgroups, "_mkdir", _fake_mkdir)
    monkeypatch.setattr(cgroups, "_rmdir", _fake_rmdir)

    def make(procs: list[int], at_root: bool = False,
             controllers: str = "cpuset cpu io memory hugetlb pids") -> cgroups._V2Layout:
        mount = tmp_path / "cgroup2"
        own = mount if at_root else mount / "grader.scope"
        own.mkdir(parents=True)
        for name, text in {"cgroup.controllers": controllers, "cgroup.subtree_control": "",
                           "cgroup.procs": "\n".join(map(str, procs)),
                           "cpuset.cpus.effective": "0-3", "cpuset.mems.effective": "0"}.items():
            (own / name).write_text(text)
        return cgroups._V2Layout(mount=mount, own=own)

    return make


def _text(path: Path) -> str:
    return path.read_text().strip()


def test_v2_alone_in_its_cgroup_moves_into_a_leaf_and_delegates(fake_v2):
    """Protocol, not kernel: the warm parent alone in a non-root cgroup leaves it for the
    tree's supervisor leaf, so that its cgroup may enable controllers for children."""
    layout = fake_v2(procs=[os.getpid()])
    tree = CgroupTree.create(PREFIX, layout=layout)
    root = layout.own / f"{PREFIX}-{os.getpid()}"
    assert (tree.version, tree.folders, tree.controllers) == (
        2, {"": root}, {"cpuset", "cpu", "memory", "pids"})
    assert _text(root / "supervisor" / "cgroup.procs") == str(os.getpid())
    assert _text(layout.own / "cgroup.subtree_control") == "+cpuset +cpu +memory +pids"
    assert _text(root / "cgroup.subtree_control") == "+cpuset +cpu +memory +pids"

    worker = tree.worker("w1", WorkerLimits(256 * MiB, 32, cpus=frozenset({1, 2}), cpu_quota=1.5))
    written = {name: _text(root / "w1" / name) for name in (
        "memory.max", "memory.swap.max", "memory.oom.group", "pids.max",
        "cpuset.cpus", "cpuset.mems", "cpu.max")}
    assert written == {"memory.max": str(256 * MiB), "memory.swap.max": "0",
                       "memory.oom.group": "1", "pids.max": "32", "cpuset.cpus": "1,2",
                       "cpuset.mems": "0", "cpu.max": "150000 100000"}
    worker.add(4321)
    assert _text(root / "w1" / "cgroup.procs") == "4321"

    (root / "w1" / "cgroup.procs").write_text("")  # the "kernel" empties it on cgroup.kill
    tree.close()
    assert not root.exists()
    assert _text(layout.own / "cgroup.procs") == str(os.getpid())  # back where it was
    assert _text(layout.own / "cgroup.subtree_control") == "-cpu -cpuset -memory -pids"


def test_v2_refuses_a_cgroup_with_other_processes_and_leaves_nothing(fake_v2):
    """Protocol, not kernel: "no internal processes" means it cannot delegate from there."""
    layout = fake_v2(procs=[os.getpid(), 4242])
    with pytest.raises(CgroupUnavailable, match=r"has processes \(4242\).*Delegate=yes"):
        CgroupTree.create(PREFIX, layout=layout)
    assert sorted(p.name for p in layout.own.iterdir() if p.is_dir()) == []
    assert _text(layout.own / "cgroup.subtree_control") == ""
    assert _text(layout.own / "cgroup.procs") == f"{os.getpid()}\n4242".strip()


def test_v2_at_the_namespace_root_delegates_in_place(fake_v2):
    """Protocol, not kernel: the root cgroup may hold processes and enable controllers."""
    layout = fake_v2(procs=[1, 2, os.getpid()], at_root=True, controllers="memory pids")
    tree = CgroupTree.create(PREFIX, layout=layout)
    root = layout.own / f"{PREFIX}-{os.getpid()}"
    assert tree.controllers == {"memory", "pids"}
    assert _text(layout.own / "cgroup.subtree_control") == "+memory +pids"
    assert not (root / "supervisor").exists()
    with pytest.raises(CgroupUnavailable, match="cpuset controller not available"):
        tree.worker("w", WorkerLimits(64 * MiB, 4, cpus=frozenset({0})))
    tree.close()
    assert not root.exists()


def test_v2_needs_memory_and_pids_delegated(fake_v2):
    """Protocol, not kernel: without memory and pids in cgroup.controllers it refuses."""
    layout = fake_v2(procs=[os.getpid()], controllers="cpu io")
    with pytest.raises(CgroupUnavailable, match="lacks memory, pids"):
        CgroupTree.create(PREFIX, layout=layout)
    assert [p for p in layout.own.iterdir() if p.is_dir()] == []


def test_v2_kill_peak_and_events_read_the_v2_files(fake_v2):
    """Protocol, not kernel: cgroup.kill, memory.peak and memory.events."""
    layout = fake_v2(procs=[os.getpid()], at_root=True)
    tree = CgroupTree.create(PREFIX, layout=layout)
    worker = tree.worker("w", WorkerLimits(64 * MiB, 4))
    folder = worker.folders[""]
    (folder / "memory.peak").write_text("12345\n")
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n")
    assert worker.peak_memory_bytes() == 12345
    assert worker.memory_events() == {"low": 0, "high": 0, "max": 7, "oom": 2, "oom_kill": 2}
    worker.kill()
    assert _text(folder / "cgroup.kill") == "1"
    tree.close()
    assert not folder.exists()
