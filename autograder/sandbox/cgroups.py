"""Per-worker resource accounting with control groups (Linux, standard library only).

Why per worker and not per process: rlimits (``limits.py``) count one process at a
time. RLIMIT_AS let each of a worker's children hold the whole limit, and
``sched_setaffinity`` plus ``setsid`` let a worker's fifteen children crowd another
grading job off its CPU. A control group counts a worker *and every process it ever
forks* together, and a process cannot leave it without privileges the worker dropped:

- memory: RSS + page cache + the kernel memory the group causes, with no swap beyond
  the limit; over it the kernel reclaims, then OOM-kills inside the group only;
- pids: processes and threads together (fork fails with EAGAIN past the limit);
- cpuset: the CPUs the worker may run on (``sched_setaffinity`` cannot leave them);
- cpu: a quota of CPU time per period, however many processes or sessions share it.

The warm parent (``warm_parent.py``) makes one ``CgroupTree`` below its own cgroup and one
``WorkerCgroup`` per worker; the forked worker calls ``enter()`` while still root.
The host's or container's own limits still apply above the tree. Memory the worker
shares with the warm parent (pages it inherited by fork) stays charged to the parent;
what the worker touches or allocates after ``enter()`` is the worker's.

Two kernel interfaces exist. cgroup v2 is one hierarchy: a cgroup enables controllers
for its children in ``cgroup.subtree_control``, which a non-root cgroup may only do
while it has no processes of its own ("no internal processes"); when the warm parent
is alone in its cgroup it moves itself into a leaf of the tree (``supervisor``) so
that it can, and puts itself back on ``close()``. cgroup v1 has one hierarchy per
controller; a v1 worker cgroup is one folder per hierarchy. v2 kills a group with
``cgroup.kill`` and kills all of it on OOM (``memory.oom.group``); v1 freezes it first
(when the freezer is mounted) and its OOM killer picks one process at a time.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

REQUIRED = ("memory", "pids")
V1_OPTIONAL = ("cpuset", "cpu", "freezer")
V2_OPTIONAL = ("cpuset", "cpu")
CPU_PERIOD_US = 100_000
MIN_QUOTA_US = 1_000  # the kernel refuses a smaller cfs quota
PIDS_UNLIMITED = 4194304  # the kernel's PID_MAX_LIMIT: no bound of the group's own
DRAIN_SECONDS = 2.0  # how long kill() and remove() wait for a group to empty
SUPERVISOR = "supervisor"  # v2: the leaf holding the warm parent when it had to leave its cgroup
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}")
_DELEGATE_HINT = "run under a delegated cgroup (systemd-run --scope -p Delegate=yes)"


class CgroupUnavailable(OSError):
    """Per-worker control groups cannot be had here; ``str()`` says why and what to do."""


@dataclass(frozen=True)
class WorkerLimits:
    """What one worker and all its descendants may use together."""

    memory_bytes: int  # bytes: RSS + page cache + kernel memory it causes; no swap beyond it
    max_pids: int  # processes and threads together
    cpus: frozenset[int] | None = None  # CPU numbers (cpuset); None: the parent's
    cpu_quota: float | None = None  # CPUs' worth of time (1.0 = one CPU); None: no quota

    def __post_init__(self) -> None:
        if self.memory_bytes <= 0:
            raise ValueError(f"memory_bytes must be positive, not {self.memory_bytes}")
        if self.max_pids < 1:
            raise ValueError(f"max_pids must be at least 1, not {self.max_pids}")
        if self.cpus is not None and (not self.cpus or min(self.cpus) < 0):
            raise ValueError(f"cpus must be a non-empty set of CPU numbers, not {self.cpus}")
        if self.cpu_quota is not None and self.cpu_quota <= 0:
            raise ValueError(f"cpu_quota must be positive, not {self.cpu_quota}")


@dataclass(frozen=True)
class _V2Layout:
    """Where this process's cgroup v2 folder is: ``own`` below the ``mount`` point."""

    mount: Path
    own: Path


@dataclass(frozen=True)
class _V1Layout:
    """This process's cgroup folder in each v1 hierarchy that is mounted, by controller."""

    own: Mapping[str, Path]


# ---- files ------------------------------------------------------------------------------

def _mkdir(path: Path) -> None:
    os.mkdir(path, 0o755)


def _rmdir(path: Path) -> None:
    os.rmdir(path)


def _read(path: Path) -> str:
    with open(path, encoding="ascii") as f:
        return f.read().strip()


def _write(path: Path, value: str) -> None:
    """Write one value to a control file; the error names the file and the value."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # O_TRUNC: as the shell does
        try:
            os.write(fd, value.encode("ascii"))
        finally:
            os.close(fd)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {value!r} to {path}: {exc.strerror}") from None


def _members(folders: Iterable[Path]) -> set[int]:
    """The processes in these cgroup folders (a folder that is gone has none)."""
    pids: set[int] = set()
    for folder in folders:
        try:
            pids.update(int(line) for line in _read(folder / "cgroup.procs").split())
        except FileNotFoundError:
            pass
    return pids


def _parse_cpus(text: str) -> frozenset[int]:
    """'0-2,5' -> {0, 1, 2, 5}"""
    cpus: set[int] = set()
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return frozenset(cpus)


def _format_cpus(cpus: Iterable[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))


def _quota_us(cpu_quota: float) -> int:
    return max(MIN_QUOTA_US, round(cpu_quota * CPU_PERIOD_US))


def _check_name(name: str, what: str) -> None:
    if not _NAME.fullmatch(name) or name == SUPERVISOR:
        raise ValueError(f"{what} {name!r}: use letters, digits, '_', '.', '-' (not {SUPERVISOR!r})")


def _pid_alive(pid: int) -> bool:
    """False when the process is gone or a zombie (it cannot own anything any more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


# ---- where this process's cgroups are -----------------------------------------------------

def _own_paths(proc_cgroup: str) -> dict[str, str]:
    """/proc/self/cgroup -> {controller: path}; cgroup v2's entry is under ''."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _cgroup_mounts(mountinfo: str) -> list[tuple[str, Path, str, set[str]]]:
    """(fstype, mount point, root inside the hierarchy, super options) of each cgroup mount."""
    mounts = []
    for line in mountinfo.splitlines():
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            mounts.append((tail[0], Path(_unescape(fields[4])), _unescape(fields[3]),
                           set(tail[2].split(","))))
    return mounts


def _folder_below(mount: Path, root: str, path: str) -> Path | None:
    """The folder of cgroup ``path`` in a hierarchy mounted at ``mount`` from ``root``."""
    rel = os.path.relpath(path, root)
    return None if rel.startswith("..") else (mount / rel).resolve()


def _find_v2(proc_cgroup: str, mountinfo: str) -> _V2Layout | None:
    path = _own_paths(proc_cgroup).get("")
    for fstype, mount, root, _ in _cgroup_mounts(mountinfo):
        if fstype == "cgroup2" and path is not None:
            if (own := _folder_below(mount, root, path)) and own.is_dir():
                return _V2Layout(mount=mount.resolve(), own=own)
    return None


def _find_v1(proc_cgroup: str, mountinfo: str) -> _V1Layout:
    paths = _own_paths(proc_cgroup)
    own: dict[str, Path] = {}
    for fstype, mount, root, options in _cgroup_mounts(mountinfo):
        for controller in REQUIRED + V1_OPTIONAL:
            if fstype == "cgroup" and controller in options and controller in paths:
                if (folder := _folder_below(mount, root, paths[controller])) and folder.is_dir():
                    own.setdefault(controller, folder)
    return _V1Layout(own={c: own[c] for c in REQUIRED + V1_OPTIONAL if c in own})


def _detect() -> tuple[_V2Layout | None, _V1Layout]:
    proc_cgroup = Path("/proc/self/cgroup").read_text()
    mountinfo = Path("/proc/self/mountinfo").read_text()
    return _find_v2(proc_cgroup, mountinfo), _find_v1(proc_cgroup, mountinfo)


def _v2_controllers(folder: Path) -> set[str]:
    try:
        return set(_read(folder / "cgroup.controllers").split())
    except OSError:
        return set()


# ---- a worker ------------------------------------------------------------------------------

class WorkerCgroup:
    """One worker's cgroup: v2 one folder, v1 one folder per hierarchy (``folders``)."""

    def __init__(self, version: int, folders: Mapping[str, Path],
                 limits: WorkerLimits | None = None) -> None:
        self.version = version
        self.folders = dict(folders)  # controller ('' for v2) -> folder
        self.limits = limits  # as last written

    def enter(self) -> None:
        """Move the calling process in (in the fresh worker, while it is still root)."""
        self.add(os.getpid())

    def add(self, pid: int) -> None:
        """Move process ``pid`` (all its threads) in; its future children follow it."""
        for folder in self.folders.values():
            _write(folder / "cgroup.procs", str(pid))

    def pids(self) -> list[int]:
        """The processes now in it (zombies excluded)."""
        return sorted(_members(self.folders.values()))

    def oom_kills(self) -> int:
        """How many of its processes the out-of-memory killer has killed so far."""
        if self.version == 2:
            return _key_values(self.folders[""] / "memory.events").get("oom_kill", 0)
        return _key_values(self.folders["memory"] / "memory.oom_control").get("oom_kill", 0)

    def only(self, pid: int) -> bool:
        """Whether ``pid`` is the only process in it (one hierarchy read: all hold the same)."""
        return _members([self.folders["" if self.version == 2 else "memory"]]) == {pid}

    def memory_bytes(self) -> int:
        """The memory (bytes) charged to it now."""
        name = "memory.current" if self.version == 2 else "memory.usage_in_bytes"
        return int(_read(self.folders["" if self.version == 2 else "memory"] / name))

    def peak_memory_bytes(self) -> int | None:
        """The most memory (bytes) it was charged at once; None where the kernel does not say."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int(_read(self.folders["" if self.version == 2 else "memory"] / name))
        except (OSError, ValueError, KeyError):
            return None

    def memory_events(self) -> dict[str, int]:
        """Counts: 'max' (times it hit its limit), 'oom_kill' (processes OOM-killed), ..."""
        if self.version == 2:
            return _key_values(self.folders[""] / "memory.events")
        folder = self.folders["memory"]
        events = {"max": int(_read(folder / "memory.failcnt"))}
        oom = _key_values(folder / "memory.oom_control")
        if "oom_kill" in oom:
            events["oom_kill"] = oom["oom_kill"]
        return events

    def kill(self) -> None:
        """SIGKILL every process in it, also those forked meanwhile; return once it is empty.

        Raises TimeoutError (an OSError) when processes are still there after DRAIN_SECONDS.
        """
        deadline = time.monotonic() + DRAIN_SECONDS
        self._strike_all_at_once()
        while _sigkill_members(self.folders.values()):
            if time.monotonic() > deadline:
                raise TimeoutError(errno.ETIMEDOUT, f"cgroup {self._where()}: processes "
                                   f"{self.pids()} still alive {DRAIN_SECONDS} s after SIGKILL")
            time.sleep(0.005)

    def remove(self) -> None:
        """Kill everything in it, wait until it is empty (bounded), delete its folders."""
        self.kill()
        deadline = time.monotonic() + DRAIN_SECONDS
        for folder in self.folders.values():
            _rmdir_when_empty(folder, deadline)

    def signal_all(self) -> None:
        """SIGKILL every process in it now, without waiting for them to die."""
        _sigkill_members(self.folders.values())

    def try_remove(self) -> bool:
        """Delete its folders if it is empty, without waiting; whether it is gone. A worker
        killed a moment ago may still be tearing down its memory: try again later."""
        for controller, folder in list(self.folders.items()):
            try:
                _rmdir(folder)
            except FileNotFoundError:
                pass
            except OSError:
                return False
            del self.folders[controller]
        return True

    def _strike_all_at_once(self) -> None:
        """Kill in one step where the kernel can: v2 cgroup.kill, v1 the freezer."""
        if self.version == 2 and (self.folders[""] / "cgroup.kill").exists():
            _write(self.folders[""] / "cgroup.kill", "1")
        elif "freezer" in self.folders and self.folders["freezer"].exists():
            _kill_frozen(self.folders["freezer"])

    def _where(self) -> str:
        return ", ".join(str(folder) for folder in self.folders.values())


def _key_values(path: Path) -> dict[str, int]:
    pairs = (line.split() for line in _read(path).splitlines())
    return {pair[0]: int(pair[1]) for pair in pairs if len(pair) == 2}


def _sigkill_members(folders: Iterable[Path]) -> int:
    """SIGKILL each process listed; return how many were listed.

    Each is signalled through a pidfd opened while it was listed and checked to be listed
    still, so a pid that was reused meanwhile by a process outside is never hit.
    """
    folders = list(folders)
    listed = _members(folders)
    pidfds: dict[int, int] = {}
    try:
        for pid in listed:
            try:
                pidfds[pid] = os.pidfd_open(pid)
            except ProcessLookupError:
                pass
        still = _members(folders)
        for pid, pidfd in pidfds.items():
            if pid in still:
                try:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    finally:
        for pidfd in pidfds.values():
            os.close(pidfd)
    return len(listed)


def _kill_frozen(freezer: Path) -> None:
    """v1: freeze the group (nothing forks), SIGKILL all of it, thaw it so that they die."""
    state = freezer / "freezer.state"
    _write(state, "FROZEN")
    try:
        deadline = time.monotonic() + DRAIN_SECONDS / 2
        while _read(state) != "FROZEN" and time.monotonic() < deadline:
            time.sleep(0.002)
        _sigkill_members([freezer])
    finally:
        _write(state, "THAWED")


def _rmdir_when_empty(folder: Path, deadline: float) -> None:
    """rmdir, retrying while the kernel still counts exiting processes (EBUSY)."""
    while True:
        try:
            _rmdir(folder)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                raise OSError(exc.errno, f"cannot remove cgroup {folder}: {exc.strerror}") from None
            time.sleep(0.005)


# ---- the tree --------------------------------------------------------------------------------

class CgroupTree:
    """One per warm parent: a folder of worker cgroups under this process's own cgroup.

    ``version`` is 1 or 2; ``controllers`` those it can use (always memory and pids; cpuset
    and cpu where the machine has them, so pass ``cpus``/``cpu_quota`` only then).
    """

    def __init__(self, prefix: str, version: int, folders: Mapping[str, Path],
                 controllers: frozenset[str], own_v2: Path | None = None) -> None:
        self.prefix = prefix
        self.version = version
        self.folders = dict(folders)  # controller ('' for v2) -> the tree's folder
        self.controllers = controllers
        self._own_v2 = own_v2  # v2: set when this process moved itself into SUPERVISOR
        self._workers: dict[str, WorkerCgroup] = {}

    @classmethod
    def create(cls, name: str, *, layout: _V2Layout | _V1Layout | None = None,
               optional: Iterable[str] | None = None) -> CgroupTree:
        """Make the tree ``<name>-<pid>`` below this process's cgroup (v2 if usable, else v1).

        ``optional``: the optional controllers to use where available (default: all of
        them); each costs every worker a little (one more folder, in v1 one more hierarchy
        to join). Raises CgroupUnavailable (why, and what to do) when memory and pids cannot
        be delegated here; then nothing is left behind. ``layout`` is for tests.
        """
        _check_name(name, "tree name")
        keep = None if optional is None else set(REQUIRED) | set(optional)
        if isinstance(layout, _V2Layout):
            return _create_v2(name, layout, keep)
        if isinstance(layout, _V1Layout):
            return _create_v1(name, layout, keep)
        v2, v1 = _detect()
        if v2 and set(REQUIRED) <= _v2_controllers(v2.own):
            return _create_v2(name, v2, keep)
        try:
            return _create_v1(name, v1, keep)
        except CgroupUnavailable as exc:
            if v2 is None:
                raise
            have = " ".join(sorted(_v2_controllers(v2.own))) or "none"
            raise CgroupUnavailable(f"cgroup v2 at {v2.own} lacks memory and pids "
                                    f"(cgroup.controllers: {have}); {exc}") from None

    def worker(self, name: str, limits: WorkerLimits) -> WorkerCgroup:
        """Create and configure worker cgroup ``name``; nothing is left if that fails."""
        _check_name(name, "worker name")
        self._check_wanted(limits)
        with ExitStack() as undo:
            folders: dict[str, Path] = {}
            for controller, tree in self.folders.items():
                _make_folder(tree / name, undo)
                folders[controller] = tree / name
            if self.version == 2:
                _configure_v2(folders[""], self.folders[""], limits)
            else:
                _configure_v1(folders, self.folders, limits)
            undo.pop_all()
        self._workers[name] = WorkerCgroup(self.version, folders, limits)
        return self._workers[name]

    def sweep_stale(self) -> int:
        """Remove worker cgroups a crashed run left: in this tree, ones this object did not
        make; beside it, whole trees of the same prefix whose owner process is dead (as this
        pid namespace sees it). Kills what is in them. Returns how many cgroups (workers and
        trees) it removed."""
        removed = 0
        for name in _children(self.folders.values()) - set(self._workers) - {SUPERVISOR}:
            WorkerCgroup(self.version, _existing(self.folders, name)).remove()
            removed += 1
        owned = re.compile(re.escape(self.prefix) + r"-(\d+)")
        for tree in _children(folder.parent for folder in self.folders.values()):
            match = owned.fullmatch(tree)
            if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
                parents = {c: f.parent for c, f in self.folders.items()}
                removed += _remove_tree(self.version, _existing(parents, tree))
        return removed

    def configure(self, worker: WorkerCgroup, limits: WorkerLimits) -> None:
        """Set ``worker``'s limits again (e.g. for a group made before its limits were known);
        nothing is written when they are the ones it has."""
        if worker.limits == limits:
            return
        self._check_wanted(limits)
        if self.version == 2:
            _configure_v2(worker.folders[""], self.folders[""], limits)
        else:
            _configure_v1(worker.folders, self.folders, limits)
        worker.limits = limits

    def return_home(self) -> None:
        """Move the calling process back to where it was when the tree was made (after it
        entered a worker's group to fork the worker inside it)."""
        if self.version == 2:
            tree = self.folders[""]
            home = tree / SUPERVISOR if self._own_v2 is not None else tree.parent
            _write(home / "cgroup.procs", str(os.getpid()))
            return
        for folder in self.folders.values():
            _write(folder.parent / "cgroup.procs", str(os.getpid()))

    def forget(self, worker: WorkerCgroup) -> None:
        """Stop tracking ``worker`` (its folders are gone: ``try_remove`` returned True)."""
        self._workers = {name: w for name, w in self._workers.items() if w is not worker}

    def close(self) -> None:
        """Kill everything left in the tree and remove it (and put this process back).

        Every worker is tried; the first error is raised after the others were removed."""
        errors: list[OSError] = []
        for worker in self._workers.values():
            try:
                worker.remove()
            except OSError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        self._workers.clear()
        self.sweep_stale()
        if self._own_v2 is not None:
            _leave_supervisor(self.folders[""], self._own_v2, self.controllers)
            self._own_v2 = None
        deadline = time.monotonic() + DRAIN_SECONDS
        for folder in self.folders.values():
            _rmdir_when_empty(folder, deadline)

    def _check_wanted(self, limits: WorkerLimits) -> None:
        if limits.cpus is not None and "cpuset" not in self.controllers:
            raise CgroupUnavailable("cpuset controller not available here: pass cpus=None")
        if limits.cpu_quota is not None and "cpu" not in self.controllers:
            raise CgroupUnavailable("cpu controller not available here: pass cpu_quota=None")
        if limits.cpus is not None:
            parent = _parse_cpus(_read(self._cpuset_folder() / self._cpus_file()))
            if not limits.cpus <= parent:
                raise OSError(errno.EINVAL, f"cpus {_format_cpus(limits.cpus - parent)} are "
                              f"outside this tree's cpuset {_format_cpus(parent)}")

    def _cpuset_folder(self) -> Path:
        return self.folders["" if self.version == 2 else "cpuset"]

    def _cpus_file(self) -> str:
        return "cpuset.cpus.effective" if self.version == 2 else "cpuset.cpus"


def _children(folders: Iterable[Path]) -> set[str]:
    names: set[str] = set()
    for folder in folders:
        try:
            names.update(entry.name for entry in os.scandir(folder) if entry.is_dir())
        except FileNotFoundError:
            pass
    return names


def _existing(parents: Mapping[str, Path], name: str) -> dict[str, Path]:
    return {c: parent / name for c, parent in parents.items() if (parent / name).is_dir()}


def _remove_tree(version: int, folders: Mapping[str, Path]) -> int:
    """Remove a whole tree (its workers first); returns how many cgroups went."""
    names = _children(folders.values())
    for name in names:
        WorkerCgroup(version, _existing(folders, name)).remove()
    deadline = time.monotonic() + DRAIN_SECONDS
    for folder in folders.values():
        _rmdir_when_empty(folder, deadline)
    return len(names - {SUPERVISOR}) + 1


# ---- cgroup v2 --------------------------------------------------------------------------------

def _create_v2(prefix: str, layout: _V2Layout, keep: set[str] | None) -> CgroupTree:
    own = layout.own
    available = _v2_controllers(own)
    if keep is not None:
        available = {c for c in available if c in keep}
    if missing := [c for c in REQUIRED if c not in available]:
        raise CgroupUnavailable(f"cgroup v2: {own} lacks {', '.join(missing)} in "
                                f"cgroup.controllers; {_DELEGATE_HINT}")
    wanted = [c for c in V2_OPTIONAL + REQUIRED if c in available]
    tree = own / f"{prefix}-{os.getpid()}"
    with _unavailable_on_error("cgroup v2"), ExitStack() as undo:
        _clear_leftover_tree(2, {"": tree})
        _make_folder(tree, undo)
        moved = _delegate_from(own, layout.mount, tree, wanted, undo)
        _enable(tree, wanted)
        undo.pop_all()
    return CgroupTree(prefix, 2, {"": tree}, frozenset(wanted), own if moved else None)


def _delegate_from(own: Path, mount: Path, tree: Path, wanted: list[str], undo: ExitStack) -> bool:
    """Have ``own`` enable ``wanted`` for its children; True if this process had to move out
    of ``own`` (into the tree's SUPERVISOR leaf) for that."""
    enabled = set(_read(own / "cgroup.subtree_control").split())
    if set(wanted) <= enabled:
        return False
    if own == mount:  # the root of this cgroup namespace may hold processes and delegate
        _enable(own, [c for c in wanted if c not in enabled])
        return False
    others = sorted(_members([own]) - {os.getpid()})
    if others:
        shown = " ".join(map(str, others[:8])) + (" ..." if len(others) > 8 else "")
        raise CgroupUnavailable(f"cgroup v2: {own} has processes ({shown}) besides this one, "
                                f"so it cannot enable controllers for children; {_DELEGATE_HINT}"
                                " that holds only the warm parent")
    supervisor = tree / SUPERVISOR
    _make_folder(supervisor, undo)
    _write(supervisor / "cgroup.procs", str(os.getpid()))
    undo.callback(_write, own / "cgroup.procs", str(os.getpid()))
    missing = [c for c in wanted if c not in enabled]
    _enable(own, missing)
    undo.callback(_write, own / "cgroup.subtree_control", " ".join(f"-{c}" for c in missing))
    return True


def _leave_supervisor(tree: Path, own: Path, controllers: Iterable[str]) -> None:
    """Undo ``_delegate_from``'s move: disable bottom-up, go back to ``own``, drop the leaf."""
    off = " ".join(f"-{c}" for c in sorted(controllers))
    _write(tree / "cgroup.subtree_control", off)
    _write(own / "cgroup.subtree_control", off)
    _write(own / "cgroup.procs", str(os.getpid()))
    _rmdir_when_empty(tree / SUPERVISOR, time.monotonic() + DRAIN_SECONDS)


def _enable(folder: Path, controllers: list[str]) -> None:
    try:
        _write(folder / "cgroup.subtree_control", " ".join(f"+{c}" for c in controllers))
    except OSError as exc:
        busy = " (it has processes)" if exc.errno == errno.EBUSY else ""
        raise CgroupUnavailable(f"cgroup v2: cannot enable {' '.join(controllers)} for the "
                                f"children of {folder}{busy}: {exc.strerror}; {_DELEGATE_HINT}"
                                ) from None


def _configure_v2(folder: Path, tree: Path, limits: WorkerLimits) -> None:
    _write(folder / "memory.max", str(limits.memory_bytes))
    if (folder / "memory.swap.max").exists():
        _write(folder / "memory.swap.max", "0")
    if (folder / "memory.oom.group").exists():
        _write(folder / "memory.oom.group", "1")
    _write(folder / "pids.max", str(limits.max_pids))
    if limits.cpus is not None:
        _write(folder / "cpuset.mems", _read(tree / "cpuset.mems.effective"))
        _write(folder / "cpuset.cpus", _format_cpus(limits.cpus))
    if limits.cpu_quota is not None:
        _write(folder / "cpu.max", f"{_quota_us(limits.cpu_quota)} {CPU_PERIOD_US}")


# ---- cgroup v1 --------------------------------------------------------------------------------

def _create_v1(prefix: str, layout: _V1Layout, keep: set[str] | None) -> CgroupTree:
    if keep is not None:
        layout = _V1Layout(own={c: p for c, p in layout.own.items() if c in keep})
    if missing := [c for c in REQUIRED if c not in layout.own]:
        raise CgroupUnavailable(f"cgroup v1: no {' or '.join(missing)} hierarchy is mounted for "
                                "this process (/proc/self/cgroup, /proc/self/mountinfo)")
    name = f"{prefix}-{os.getpid()}"
    with _unavailable_on_error("cgroup v1"), ExitStack() as undo:
        _clear_leftover_tree(1, {c: own / name for c, own in layout.own.items()})
        folders: dict[str, Path] = {}
        for controller, own in layout.own.items():
            try:
                _make_folder(own / name, undo)
            except OSError:
                if controller in REQUIRED:
                    raise
                continue  # an optional controller it cannot use: do without
            folders[controller] = own / name
        _prepare_v1_tree(folders, layout.own)
        undo.pop_all()
    return CgroupTree(prefix, 1, folders, frozenset(folders) - {"freezer"})


def _prepare_v1_tree(folders: Mapping[str, Path], own: Mapping[str, Path]) -> None:
    """cpuset starts empty in v1 (no task may join): copy the parent's; memory: hierarchical."""
    if "cpuset" in folders:
        _write(folders["cpuset"] / "cpuset.mems", _read(own["cpuset"] / "cpuset.mems"))
        _write(folders["cpuset"] / "cpuset.cpus", _read(own["cpuset"] / "cpuset.cpus"))
    hierarchy = folders["memory"] / "memory.use_hierarchy"
    if hierarchy.exists() and _read(hierarchy) != "1":
        _write(hierarchy, "1")


def _configure_v1(folders: Mapping[str, Path], tree: Mapping[str, Path],
                  limits: WorkerLimits) -> None:
    memory = folders["memory"]
    # memory + swap: no swap beyond the limit. The kernel wants memsw >= memory at every
    # moment: raise memsw first, lower it last.
    files = ["memory.limit_in_bytes"]
    if (memory / "memory.memsw.limit_in_bytes").exists():
        raising = limits.memory_bytes > int(_read(memory / "memory.limit_in_bytes"))
        files.insert(0 if raising else 1, "memory.memsw.limit_in_bytes")
    for name in files:
        _write(memory / name, str(limits.memory_bytes))
    if (memory / "memory.swappiness").exists():
        _write(memory / "memory.swappiness", "0")
    _write(memory / "memory.oom_control", "0")  # the OOM killer acts (not: the group waits)
    _write(folders["pids"] / "pids.max", str(limits.max_pids))
    if "cpuset" in folders:  # v1 needs both set before any task joins
        cpus = limits.cpus or _parse_cpus(_read(tree["cpuset"] / "cpuset.cpus"))
        _write(folders["cpuset"] / "cpuset.mems", _read(tree["cpuset"] / "cpuset.mems"))
        _write(folders["cpuset"] / "cpuset.cpus", _format_cpus(cpus))
    if limits.cpu_quota is not None:
        _write(folders["cpu"] / "cpu.cfs_period_us", str(CPU_PERIOD_US))
        _write(folders["cpu"] / "cpu.cfs_quota_us", str(_quota_us(limits.cpu_quota)))


# ---- shared by both ---------------------------------------------------------------------------

def _make_folder(path: Path, undo: ExitStack) -> None:
    """mkdir, removed again by ``undo`` unless the caller keeps it."""
    try:
        _mkdir(path)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot create {path}: {exc.strerror}") from None
    undo.callback(_rmdir_quietly, path)


@contextmanager
def _unavailable_on_error(interface: str) -> Iterator[None]:
    """Turn an OSError while making the tree into CgroupUnavailable with the reason."""
    try:
        yield
    except CgroupUnavailable:
        raise
    except OSError as exc:
        hint = "run the warm parent as root" if exc.errno in (errno.EACCES, errno.EPERM) else (
            _DELEGATE_HINT if interface == "cgroup v2" else "check that the hierarchy is writable")
        raise CgroupUnavailable(f"{interface}: {exc.strerror or exc}; {hint}") from None


def _rmdir_quietly(path: Path) -> None:
    try:
        _rmdir(path)
    except OSError:
        pass


def _clear_leftover_tree(version: int, folders: Mapping[str, Path]) -> None:
    """A tree with this process's name is a crashed run's whose pid was reused: remove it."""
    if present := {c: f for c, f in folders.items() if f.is_dir()}:
        _remove_tree(version, present)
