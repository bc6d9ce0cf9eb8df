"""The warm parent: a clean Python that has imported numpy and torch and forks workers.

It is started by the trusted grader with ``python -m autograder.sandbox.warm_parent_start FD``
and a scrubbed environment, so it never holds grader state, test code or
solutions: a worker forked from it inherits nothing worth stealing.

Control protocol, over an AF_UNIX SOCK_SEQPACKET socket (one datagram a message,
bodies in the value codec, file descriptors passed with SCM_RIGHTS):

- ``{"op": "spawn", "spec": {...}}`` + fds [channel, output] -> ``{"pid", "uid"}``
- ``{"op": "reap", "pid": pid}`` -> ``{"exitcode": int | None, "signal": int | None}``
  (kills the worker's process group, and every process of its uid, then waits)
- end of file on the control socket: kill every worker, exit.
"""

from __future__ import annotations

import fcntl
import gc
import importlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import traceback

from autograder.sandbox import banned, cgroups, codec, limits, proctree, seccomp, worker
from autograder.sandbox import protections as P
from autograder.sandbox.control import recv_control, send_control
from autograder.sandbox.environment import enter_scratch, warm_torch
from autograder.sandbox.seeding import seed_everything
from autograder.sandbox.uidkill import UidKiller, sweep_abandoned_uids, uid_lock_dir


class WarmParentServer:
    """The warm parent process's side of the control socket (``fork_backend.WarmParent`` is
    the grader's): forks, confines, reaps and releases workers on request."""

    def __init__(self, control: socket.socket, killer: UidKiller):
        self.control = control
        self.killer = killer
        self.workers: dict[int, int | None] = {}  # pid -> uid
        self.worker_cgroups: dict[int, cgroups.WorkerCgroup] = {}  # pid -> its control group
        self.dead_cgroups: list[cgroups.WorkerCgroup] = []  # killed workers', removed when empty
        self.spawned = 0
        self.zombies: set[int] = set()  # released workers not yet waited for
        self.ban_plans: dict[tuple, banned.BanPlan] = {}
        self.root = limits.is_root() and sys.platform.startswith("linux")
        self.uids = UidPool() if self.root else None
        if self.uids is not None:  # what a grader that crashed before us left behind
            sweep_abandoned_uids(self.uids.dir, self._kill_uid)
        # Workers that drop to their uid without a private tmpfs get a copy of the
        # submission here (root-owned, 711: no worker can create anything in it).
        self.copy_parent = tempfile.mkdtemp(prefix="dlgrade-workers-") if self.root else None
        if self.copy_parent:
            os.chmod(self.copy_parent, 0o711)
        self.cgroups, cgroup_note = _cgroup_tree()
        self.plan, self.notes = self._probe()
        if self.cgroups is not None:
            self.plan |= {P.WORKER_CGROUP}
        else:
            self.notes.append(cgroup_note)
        if P.SYSCALL_FILTER in self.plan:  # built once here, not in every worker
            seccomp.prepare(seccomp.Policy(no_new_processes=self.cgroups is None))
        # Moving a process into a control group waits for the kernel (milliseconds under
        # load). So this process lives in one worker group, and a worker forked while no other
        # is alive (a grading process runs one test at a time) is born there: that group holds
        # one worker at a time, and this process, whose pages stay charged where they were.
        # A worker forked beside a live one gets a group of its own and moves into it.
        self.home_group = self._enter_home_group()
        self.oom_kills_seen = 0  # the home group's out-of-memory kill count so far
        # Without a uid of their own, a worker's processes that left its process group (setsid)
        # and were orphaned are found as our children instead: we become their subreaper.
        self.adopts_orphans = (P.UNPRIVILEGED_UID not in self.plan
                               and limits.become_child_subreaper())
        if P.UNPRIVILEGED_UID in self.plan or self.adopts_orphans:
            self.plan |= {P.PROCESS_TREE_KILL}

    def _probe(self) -> tuple[frozenset[str], list[str]]:
        """The protections every worker of this warm parent gets (see ``limits.probe_plan``)."""
        uid = self.allocate_uid() if self.uids is not None else None
        try:
            return limits.probe_plan(uid, self.copy_parent, in_cgroup=self.cgroups is not None)
        finally:
            if uid is not None:
                self._release_uid(uid)

    def _release_uid(self, uid: int) -> None:
        if self.copy_parent:
            shutil.rmtree(os.path.join(self.copy_parent, str(uid)), ignore_errors=True)
        if self._kill_uid(uid):
            self.uids.release(uid)
        else:
            self.uids.abandon(uid)

    def allocate_uid(self) -> int | None:
        if self.uids is None:
            return None
        for _ in range(limits.UID_SLOTS):
            uid, left_dirty = self.uids.acquire()
            # its last owner died without cleaning up: kill what it left
            if not left_dirty or self._kill_uid(uid):
                return uid
            self.uids.abandon(uid)  # still dirty: leave it for a later owner
        raise RuntimeError("no worker uid could be cleaned up")

    def _kill_uid(self, uid: int) -> bool:
        # a helper that failed has been replaced: one more try with the new one
        return self.killer.kill_uid(uid) or self.killer.kill_uid(uid)

    def serve(self) -> None:
        send_control(self.control, {
            "ready": True,
            "pid": os.getpid(),
            "root": self.root,
            "landlock_abi": limits.landlock_abi(),
            "protections": sorted(self.plan),
            "notes": self.notes,
        })
        try:
            self._serve_requests()
        except _Terminated:
            pass
        finally:
            self.shut_down()

    def _serve_requests(self) -> None:
        while True:
            try:
                request, fds = recv_control(self.control, maxfds=2)
            except (EOFError, ConnectionError):
                break
            op = request.get("op")
            after = []
            if op == "spawn":
                reply = self.spawn(request["spec"], fds)
            elif op == "reap":
                reply = self.reap(request["pid"])
            elif op == "release":  # reply first: the grader goes on while we clean up
                reply = {}
                after.append(lambda pid=request["pid"]: self.release(pid))
            else:
                reply = {"error": f"unknown op {op!r}"}
            for fd in fds:
                os.close(fd)
            send_control(self.control, reply)
            for task in after:
                task()
            self.collect_zombies()

    def shut_down(self) -> None:
        """Kill every worker and all they started, wait for them, remove their copies."""
        signal.pthread_sigmask(signal.SIG_BLOCK, TERMINATING)  # finish cleaning up first
        for pid in list(self.workers):
            self.reap(pid)
        if self.cgroups is not None:
            try:
                self.cgroups.return_home()
                self.cgroups.close()
            except OSError:
                pass
        if self.copy_parent:
            shutil.rmtree(self.copy_parent, ignore_errors=True)
        for pid in list(self.zombies):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    def spawn(self, spec_data: dict, fds: list[int]) -> dict:
        if len(fds) != 2:
            return {"error": "spawn needs two file descriptors"}
        spec = limits.WorkerSpec.from_wire(spec_data)
        spec.uid = self.allocate_uid() if P.UNPRIVILEGED_UID in self.plan else None
        key = (tuple(spec.banned), tuple(sorted((f, tuple(n))
                                                for f, n in spec.banned_per_file.items())))
        if key not in self.ban_plans:
            self.ban_plans[key] = banned.plan(spec.banned, spec.banned_per_file)
        ban_plan = self.ban_plans[key]
        alone = not self.workers  # no other live worker: this one may share our network namespace
        warm_parent_pid = os.getpid()
        try:
            group, move = self._worker_cgroup(spec)
        except OSError as exc:
            if spec.uid is not None:
                self._release_uid(spec.uid)
            return {"error": f"no control group for the worker: {exc}"}
        try:
            pid = os.fork()
        except OSError as exc:
            if spec.uid is not None:
                self._release_uid(spec.uid)
            if move:
                self.dead_cgroups.append(group)
            return {"error": f"the worker could not be forked: {exc}"}
        if pid == 0:
            code = 70
            try:
                if not alone:
                    limits.need_own_network_namespace()
                if move:
                    group.enter()  # first: everything the worker does is counted
                _worker_main(spec, ban_plan, fds[0], fds[1], self.plan, self.copy_parent,
                             warm_parent_pid, in_cgroup=group is not None)
                code = 0
            except limits.ConfinementError:
                code = limits.CONFINEMENT_FAILED
                try:
                    os.write(2, traceback.format_exc().encode()[-4000:])
                except OSError:
                    pass
            except BaseException:
                try:
                    os.write(2, traceback.format_exc().encode()[-4000:])
                except OSError:
                    pass
            finally:
                os._exit(code)
        self.workers[pid] = spec.uid
        if group is not None:
            self.worker_cgroups[pid] = group
        return {"pid": pid, "uid": spec.uid}

    def _worker_limits(self, memory_mb: int, max_processes: int | None,
                       charged: int = 0) -> cgroups.WorkerLimits:
        """A worker's memory and processes with all it starts, on this warm parent's CPUs (a
        batch job's CPU). ``max_processes=None``: the home group, where this process forks
        while the last worker's killed processes may not be reaped yet; the worker's uid bounds
        its processes exactly there (RLIMIT_NPROC)."""
        cpus = None
        if "cpuset" in self.cgroups.controllers and hasattr(os, "sched_getaffinity"):
            cpus = frozenset(os.sched_getaffinity(0))
        # on top of what the group holds already (``charged``: this process's pages there),
        # room for the worker's copies of this process's pages, which rlimits do not count
        memory = memory_mb * 2**20 + charged + COPIED_PAGES_BYTES
        return cgroups.WorkerLimits(memory_bytes=memory, cpus=cpus,
                                    max_pids=max_processes or cgroups.PIDS_UNLIMITED)

    def _enter_home_group(self) -> cgroups.WorkerCgroup | None:
        if self.cgroups is None:
            return None
        # An out-of-memory kill in the group must pick the worker, never this process
        # (workers set theirs back to 0).
        _set_oom_score_adj(-1000)
        try:
            group = self.cgroups.worker("home", self._worker_limits(2048, None))
            group.enter()
        except OSError as exc:
            self.notes.append(f"workers move into their control groups: {exc}")
            return None
        return group

    def _worker_cgroup(self, spec: limits.WorkerSpec) -> tuple[cgroups.WorkerCgroup | None, bool]:
        """The worker's group, with its limits set, and whether the worker must move into it
        (a group of its own, where another worker is alive in the home group)."""
        if self.cgroups is None:
            return None, False
        # free: no live worker in it, and nothing left of the last one (still dying)
        home_free = self.home_group is not None and not any(
            g is self.home_group for g in self.worker_cgroups.values()) and (
            self.home_group.only(os.getpid()))
        if home_free:
            charged = -(-self.home_group.memory_bytes() // CHARGE_STEP) * CHARGE_STEP
            self.cgroups.configure(self.home_group, self._worker_limits(
                spec.memory_mb, None, charged=charged))
            return self.home_group, False
        self.spawned += 1
        own = self._worker_limits(spec.memory_mb, spec.max_processes)
        return self.cgroups.worker(f"w{self.spawned}", own), True

    def _kill(self, pid: int) -> bool:
        """Kill worker ``pid`` and all it started; whether its control group saw it run out
        of memory."""
        uid = self.workers.pop(pid, None)
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        out_of_memory = False
        group = self.worker_cgroups.pop(pid, None)
        if group is not None:
            home = group is self.home_group
            try:
                kills = group.oom_kills()
                out_of_memory = kills > (self.oom_kills_seen if home else 0)
                if home:
                    self.oom_kills_seen = kills
                if uid is None and not home:  # no uid to sweep: the group knows the rest
                    group.signal_all()
            except OSError:
                pass
            if not home:
                # Removed once empty (collect_zombies): waiting here would add the kernel's
                # teardown of the worker's memory to every test.
                self.dead_cgroups.append(group)
        if uid is not None:
            self._release_uid(uid)
        elif self.adopts_orphans:
            self._kill_orphans()
        return out_of_memory

    def _kill_orphans(self) -> None:
        """Kill our children that are neither a live worker nor the uid killer: processes a
        worker left behind, adopted by us as their subreaper. Collected as zombies later."""
        keep = set(self.workers) | self.zombies | {self.killer.pid}
        for _ in range(3):  # an orphan may fork while we look
            found = [pid for pid in proctree.children(os.getpid()) if pid not in keep]
            for pid in found:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.zombies.update(found)
            keep.update(found)
            if not found:
                break

    def release(self, pid: int) -> dict:
        """Kill a worker and everything it started; collect its exit status later."""
        if pid not in self.workers:
            return {"error": "not a live worker"}
        self._kill(pid)
        self.zombies.add(pid)
        return {}

    def collect_zombies(self) -> None:
        if self.dead_cgroups:
            for group in [g for g in self.dead_cgroups if g.try_remove()]:
                self.dead_cgroups.remove(group)
                self.cgroups.forget(group)
        for pid in list(self.zombies):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.zombies.discard(pid)

    def reap(self, pid: int) -> dict:
        """Kill a worker and everything it started, and report how it ended."""
        if pid not in self.workers:
            return {"error": "not a live worker"}
        out_of_memory = self._kill(pid)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return {"exitcode": None, "signal": None, "out_of_memory": out_of_memory}
        if os.WIFSIGNALED(status):
            return {"exitcode": None, "signal": os.WTERMSIG(status),
                    "out_of_memory": out_of_memory}
        return {"exitcode": os.WEXITSTATUS(status), "signal": None,
                "out_of_memory": out_of_memory}


def _set_oom_score_adj(value: int) -> None:
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write(str(value))
    except OSError:
        pass


def _cgroup_tree() -> tuple[cgroups.CgroupTree | None, str]:
    """This warm parent's tree of worker control groups (after removing what a crashed
    one left), or ``None`` and why not."""
    if not sys.platform.startswith("linux"):
        return None, f"{P.WORKER_CGROUP} is off: control groups are Linux's"
    # cpuset only where this warm parent is pinned (a batch job's CPU): its workers stay there
    pinned = hasattr(os, "sched_getaffinity") and (
        len(os.sched_getaffinity(0)) < (os.cpu_count() or 1))
    try:
        tree = cgroups.CgroupTree.create("dlgrade", optional=["cpuset"] if pinned else [])
    except (cgroups.CgroupUnavailable, OSError) as exc:
        return None, f"{P.WORKER_CGROUP} is off: {exc}"
    try:
        tree.sweep_stale()
    except OSError:
        pass
    return tree, ""


#: what a worker's own copies of the warm parent's pages may take beyond ``memory_mb`` (its
#: address-space limit does not count them: they were mapped before it was set)
COPIED_PAGES_BYTES = 64 * 2**20
#: the home group's charge is rounded up to this, so its limit is rarely rewritten
CHARGE_STEP = 32 * 2**20


class _Terminated(BaseException):
    """A termination signal arrived: stop serving and clean up."""


#: signals that stop the warm parent (after it killed its workers); SIGINT is the grader's
TERMINATING = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _terminate(signum, frame) -> None:
    raise _Terminated(signum)


class UidPool:
    """Per-worker uids that are unique across every warm parent on this machine.

    Several graders may run at once (``grade-batch --jobs N``, a test suite next
    to a batch), each with its own warm parent. A uid is held with an exclusive
    ``flock`` on ``<lock dir>/<uid>`` for as long as its worker lives; the kernel
    drops the lock if the warm parent dies. Without this, two warm parents could
    give the same uid to two workers, and cleaning up one (``kill(-1)`` as that
    uid) would kill the other.
    """

    def __init__(self, lock_dir: str | None = None):
        self.dir = lock_dir or uid_lock_dir()
        self.held: dict[int, int] = {}  # uid -> locked fd
        self.next = os.getpid() % limits.UID_SLOTS  # spread warm parents over the range

    def acquire(self) -> tuple[int, bool]:
        """A free uid, and whether its last owner left it dirty (died before cleaning up)."""
        for _ in range(limits.UID_SLOTS):
            uid = limits.UID_BASE + self.next
            self.next = (self.next + 1) % limits.UID_SLOTS
            if uid in self.held:
                continue
            fd = os.open(os.path.join(self.dir, str(uid)), os.O_CREAT | os.O_RDWR | os.O_CLOEXEC,
                         0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.held[uid] = fd
            left_dirty = os.pread(fd, 1, 0) == b"d"
            os.pwrite(fd, b"d", 0)  # "dirty" until release() has killed its processes
            return uid, left_dirty
        raise RuntimeError("no free worker uid")

    def release(self, uid: int) -> None:
        """Call after every process of ``uid`` has been killed."""
        fd = self.held.pop(uid, None)
        if fd is not None:
            os.pwrite(fd, b"c", 0)
            os.close(fd)

    def abandon(self, uid: int) -> None:
        """Give ``uid`` up while it may still have processes: it stays marked dirty, so
        whoever acquires it next kills them first."""
        fd = self.held.pop(uid, None)
        if fd is not None:
            os.close(fd)


def _worker_main(spec: limits.WorkerSpec, ban_plan: banned.BanPlan, channel_fd: int,
                 output_fd: int, plan: frozenset[str], copy_parent: str | None,
                 warm_parent_pid: int, in_cgroup: bool) -> None:
    """Runs in the forked worker: confine, then serve the grader until it hangs up."""
    for signum in TERMINATING:
        signal.signal(signum, signal.SIG_DFL)
    if in_cgroup:
        _set_oom_score_adj(0)
    os.setsid()
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.closerange(3, channel_fd)  # a forked child inherits every fd: keep only the channel
    os.closerange(channel_fd + 1, 65536)
    limits.confine(spec, plan, copy_parent=copy_parent, in_cgroup=in_cgroup)
    limits.die_with_parent(warm_parent_pid)  # after the uid drop, which would clear it
    enter_scratch(spec.submission_dir)
    seed_everything(spec.seed)
    banned.install(ban_plan)
    sock = socket.socket(fileno=channel_fd)
    worker.serve(sock, worker.Dispatcher(spec.submission_dir, spec.modules))


PRELOAD_BASE = [
    "numpy", "numpy.linalg", "numpy.random", "numpy.fft",
    "math", "json", "collections", "itertools", "functools", "dataclasses", "typing",
    "copy", "heapq", "re", "string", "statistics", "abc", "enum", "time", "warnings",
]
PRELOAD_TORCH = [
    "torch", "torch.nn", "torch.nn.functional", "torch.optim", "torch.utils.data",
    "autograder.sandbox.probe",
]


def main(argv: list[str], killer: UidKiller) -> None:
    """``warm_parent_start FD [torch|notorch]``: serve the control socket FD; preload torch or not.

    ``killer`` was forked by ``warm_parent_start`` before this module (and numpy) was imported.
    """
    control = socket.socket(fileno=int(argv[0]))
    with_torch = len(argv) < 2 or argv[1] != "notorch"
    for name in PRELOAD_BASE + (PRELOAD_TORCH if with_torch else []):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    if with_torch:
        warm_torch()
    codec._torch()  # keep the torch reference for workers that ban it
    seed_everything(0)  # run the seeding's lazy imports once here, not in every worker
    limits.default_read_paths()  # computed once, inherited by every worker
    limits.isolate_network()  # one empty network namespace, inherited by every worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when we stop
    for signum in TERMINATING:  # ... or a signal to the whole group: kill the workers first
        signal.signal(signum, _terminate)
    gc.collect()
    gc.freeze()  # keep the preloaded heap out of every worker's collections (copy-on-write)
    try:
        WarmParentServer(control, killer).serve()
    except (BrokenPipeError, ConnectionError, EOFError, _Terminated):
        pass  # the grader went away (e.g. it exited before we were ready): nothing to do
