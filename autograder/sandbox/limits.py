"""Operating-system confinement of a worker process (Linux; degrades elsewhere).

``confine(spec, plan)`` is called in the fresh worker, before any student code runs.
``probe_plan`` finds out once, in a forked trial worker, which protections the kernel,
the container and the user allow (``confine`` with no plan tries each and keeps what
works); every worker then applies exactly that plan. In order:

1. new network and mount namespaces (CAP_SYS_ADMIN): no network at all (the warm
   parent's own empty network namespace, see ``isolate_network``); the course's
   hidden folders and $HOME are covered by empty tmpfs mounts; a private tmpfs copy
   of the submission (without it, a worker that drops to its own uid gets its own
   on-disk copy);
2. resource limits: CPU seconds, address space, processes, file size, open files;
   no_new_privs;
3. dropping to an unprivileged per-worker uid (CAP_SETUID), so that RLIMIT_NPROC
   counts exactly this worker's processes and they can all be killed at once;
4. without CAP_SYS_ADMIN: a user namespace of the worker's own owning a new network
   namespace, whose capabilities are then given up;
5. Landlock: read-only access to the Python installation and the platform,
   read-write to the scratch copy of the submission, nothing else; no TCP
   bind/connect; no signals to processes outside the sandbox;
6. a Python-level socket block as the last fallback.

It returns the names (``protections.py``) of the protections that are active, so
results, ``dlgrade check`` and the report say which ones were off.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import shutil
import signal
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox import protections as P
from autograder.sandbox import seccomp
from autograder.sandbox.libc import libc as _c

try:
    import resource
except ImportError:  # Windows: no rlimits
    resource = None

# unshare(2) flags and mount(2) flags
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWIPC = 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18

# Landlock (linux/landlock.h)
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_TRUNCATE, FS_IOCTL_DEV = 1 << 14, 1 << 15
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
PR_SET_NO_NEW_PRIVS = 38

UID_BASE = 61000  # per-worker uids: UID_BASE .. UID_BASE + UID_SLOTS - 1
UID_SLOTS = 2000

SYSTEM_READ_PATHS = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/proc", "/sys", "/dev"]
DEVICE_FILES = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"]


@dataclass
class WorkerSpec:
    """What one worker may do. Sizes in MiB, times in seconds."""

    submission_dir: str
    modules: list[str]
    seed: int = 0
    banned: list[str] = field(default_factory=list)
    banned_per_file: dict[str, list[str]] = field(default_factory=dict)  # module stem -> names
    cpu_seconds: int = 60
    memory_mb: int = 2048
    max_processes: int = 16
    max_file_mb: int = 16
    max_open_files: int = 128
    max_disk_mb: int = 64
    hide_paths: list[str] = field(default_factory=list)
    read_paths: list[str] = field(default_factory=list)
    uid: int | None = None

    def to_wire(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_wire(cls, data: dict) -> WorkerSpec:
        return cls(**data)




def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def landlock_abi() -> int:
    """The Landlock ABI version of this kernel, 0 when unavailable."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        abi = _c().syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                           ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(abi), 0)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# ------------------------------------------------------------------------------ namespaces


def _unshare(flags: int) -> None:
    _check(_c().unshare(flags), "unshare")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    def enc(s):
        return (s.encode() if s is not None else None)
    _check(_c().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _first_blocked_ancestor(path: str, include_self: bool = False) -> str | None:
    """The highest folder above ``path`` (or ``path`` itself) that others cannot enter, if any."""
    parts = Path(path).parts
    current = "/"
    for part in parts[1:] if include_self else parts[1:-1]:
        current = os.path.join(current, part)
        try:
            st = os.stat(current)
        except OSError:
            return None
        if stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_IXOTH:
            return current
    return None


def _expose_for_others(paths: list[str]) -> None:
    """Make ``paths`` reachable by an unprivileged uid inside this mount namespace.

    A folder like /root (mode 700) on the way to the Python installation is
    covered by a tmpfs (mode 755) in which the needed paths are bind-mounted
    back; everything else under it disappears from the worker's view.
    """
    groups: dict[str, list[str]] = {}
    for path in paths:
        blocker = _first_blocked_ancestor(path)
        if blocker:
            groups.setdefault(blocker, []).append(path)
    for blocker, members in groups.items():
        fds = {p: os.open(p, os.O_PATH) for p in members if os.path.exists(p)}
        _mount("tmpfs", blocker, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=64k")
        for path, fd in fds.items():
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "a").close()
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
            os.close(fd)


def closed_to_others(path: str) -> bool:
    """Whether a uid that neither owns nor shares a group with ``path`` and the folders above
    it cannot reach it: some folder on the way (``path`` included) lacks ``o+x``."""
    return _first_blocked_ancestor(os.path.realpath(path), include_self=True) is not None


def _private_scratch(scratch: str, uid: int, size_mb: int) -> None:
    """Give this worker its own copy of the submission on a size-limited tmpfs.

    Nothing the worker writes reaches the shared scratch folder, so no test sees
    another test's files (not even a rewritten module), and filling the disk
    stops at ``size_mb`` with ENOSPC instead of filling the grader's disk.
    """
    files: list[tuple[str, bytes | None]] = []
    for dirpath, _dirnames, filenames in os.walk(scratch):
        rel = os.path.relpath(dirpath, scratch)
        files.append((rel, None))
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    files.append((os.path.join(rel, name), fh.read()))
    _mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={size_mb}m,nr_inodes=4096,mode=0700,uid={uid},gid={uid}")
    for rel, data in files:
        target = os.path.normpath(os.path.join(scratch, rel))
        if data is None:
            os.makedirs(target, exist_ok=True)
        else:
            with open(target, "wb") as fh:
                fh.write(data)
        os.lchown(target, uid, uid)


def _hide_other_processes() -> None:
    """A procfs of this mount namespace's own that shows only the caller's uid's processes
    (``hidepid=invisible``), and a private, empty /dev/shm (POSIX shared memory)."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible")
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "mode=1777,size=16m,nr_inodes=256")


def _hide(paths: list[str]) -> None:
    for path in paths:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=555,size=4k")


# ------------------------------------------------------------------------------ rlimits


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    cur_soft, cur_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if cur_hard != resource.RLIM_INFINITY:
        hard = min(hard, cur_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def _count_processes_of(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def _apply_rlimits(spec: WorkerSpec, exact_uid: bool) -> None:
    mib = 2**20
    _set_limit(resource.RLIMIT_CPU, spec.cpu_seconds, spec.cpu_seconds + 2)
    _set_limit(resource.RLIMIT_FSIZE, spec.max_file_mb * mib)
    _set_limit(resource.RLIMIT_NOFILE, spec.max_open_files)
    _set_limit(resource.RLIMIT_CORE, 0)
    # The warm parent's mappings (torch, numpy) already count: the limit is on top of them.
    _set_limit(resource.RLIMIT_AS, _vm_size_bytes() + spec.memory_mb * mib)
    if exact_uid:
        _set_limit(resource.RLIMIT_NPROC, spec.max_processes)
    elif sys.platform.startswith("linux"):
        _set_limit(resource.RLIMIT_NPROC, _count_processes_of(os.getuid()) + spec.max_processes)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG


# ------------------------------------------------------------------------------ landlock


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: execute .. make_sym
    if abi >= 2:
        rights |= 1 << 13  # refer
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def apply_landlock(read_paths: list[str], write_paths: list[str], abi: int) -> list[str]:
    """Restrict this process (irreversibly) to the given paths. Returns protections applied."""
    c = _c()
    handled = _fs_rights(abi)
    attr = _RulesetAttr(handled, 0, 0)
    size = 8
    applied = [P.LANDLOCK_FS]
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
        applied.append(P.LANDLOCK_NET)
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
        applied.append(P.LANDLOCK_SCOPE)
    ruleset = _check(c.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                               ctypes.c_size_t(size), ctypes.c_uint32(0)), "landlock_create_ruleset")
    read = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
    file_rights = FS_EXECUTE | FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE | FS_IOCTL_DEV
    try:
        rules = [(p, read) for p in read_paths] + [(p, handled) for p in write_paths]
        rules += [(p, FS_READ_FILE | FS_WRITE_FILE) for p in DEVICE_FILES]
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    access &= file_rights
                rule = _PathBeneath(access & handled, fd)
                _check(c.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
                                 ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                                 ctypes.c_uint32(0)), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        set_no_new_privs()
        _check(c.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return applied


# ------------------------------------------------------------------------------ python-level


def block_python_sockets() -> None:
    """Last-resort network block for platforms without kernel support."""
    import socket

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "network access is disabled while grading")

    class NoSocket(socket.socket):
        def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
            if fileno is None:
                refuse()
            super().__init__(family, type, proto, fileno)

    socket.socket = NoSocket
    socket.create_connection = refuse
    socket.socketpair = refuse


# ------------------------------------------------------------------------------ entry point


@functools.lru_cache(maxsize=1)
def default_read_paths() -> list[str]:
    """The Python installation and the platform package: what a worker must read."""
    import autograder

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(autograder.__file__)}
    for entry in sys.path:
        if entry and ("site-packages" in entry or "dist-packages" in entry):
            paths.add(entry)
    return sorted(os.path.realpath(p) for p in paths if p and os.path.exists(p))


_network_isolated = False  # True in a warm parent that isolate_network() moved, and its workers


def isolate_network() -> bool:
    """Move this process (the warm parent) into a new, empty network namespace (root only).

    A worker forked from it while no other worker of it is alive starts in that namespace:
    no interface but a loopback that is down, which a worker's unprivileged uid cannot
    bring up. Creating a namespace for every worker slowed each one, and tearing it down
    cost as much again in a kernel thread; a grading process runs one test, so one
    worker, at a time, and kills each worker with every process of its uid before the
    next starts. Workers alive at the same time (threads sharing a warm parent: a Dask
    worker started with more than one thread) never share one: each of the others gets its own (see
    ``need_own_network_namespace``), so no two can meet through netlink or abstract
    sockets. Returns whether this process is now isolated.
    """
    global _network_isolated
    if not (sys.platform.startswith("linux") and is_root()):
        return False
    try:
        _unshare(CLONE_NEWNET)
    except OSError:
        return False
    _network_isolated = True
    return True


def need_own_network_namespace() -> None:
    """In a worker forked while another worker is alive: ``confine`` creates a namespace."""
    global _network_isolated
    _network_isolated = False


class ConfinementError(OSError):
    """A protection of the worker's plan could not be applied (a platform problem)."""


CONFINEMENT_FAILED = 71  # a worker's exit code when its plan could not be applied


PR_SET_CHILD_SUBREAPER = 36


def become_child_subreaper() -> bool:
    """Orphaned descendants of this process are reparented to it, not to init (Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return _c().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, signum: int = signal.SIGKILL) -> None:
    """Have the kernel send ``signum`` to this process when its parent dies (Linux), and
    exit now if the parent ``parent_pid`` already has. The setting is cleared by a uid
    change, so call it after dropping privileges."""
    if not sys.platform.startswith("linux"):
        return
    _c().prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


def set_no_new_privs() -> None:
    """No privileges through setuid programs; Landlock requires it of a non-root process."""
    _check(_c().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def _own_scratch_copy(scratch: str, uid: int, parent: str) -> str:
    """A copy of the submission owned by ``uid``, for a worker that drops to ``uid`` where no
    private tmpfs can be mounted (a container without CAP_SYS_ADMIN). ``parent`` is a folder
    of the warm parent's (root-owned, mode 711) that removes the copy when the worker ends."""
    target = os.path.join(parent, str(uid))
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(scratch, target, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(target):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            os.lchown(name, uid, uid)
    os.chmod(target, 0o700)
    return target


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_LINUX_CAPABILITY_VERSION_3 = 0x20080522
PR_CAPBSET_DROP = 24


def _drop_all_capabilities() -> None:
    """No capability left, in any set (the bounding set too, so no exec brings one back)."""
    c = _c()
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except (OSError, ValueError):
        last = 40
    for cap in range(last + 1):
        c.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(c.capset(ctypes.byref(header), data), "capset")


def _own_network_namespace() -> None:
    """Enter a new user namespace owning a new, empty network namespace (and a new IPC
    namespace: the worker's SysV objects die with it), then give up what
    that user namespace grants: no nested user namespaces, no capability in it (so the
    loopback stays down and no namespace or netfilter code is reachable)."""
    _unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC)
    try:
        with open("/proc/sys/user/max_user_namespaces", "w") as fh:
            fh.write("0")
    except OSError:
        pass  # older kernels: nested ones stay possible, but without any capability
    _drop_all_capabilities()


def _drop_to(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def confine(spec: WorkerSpec, plan: frozenset[str] | None = None,
            exclude: frozenset[str] = frozenset(), copy_parent: str | None = None,
            in_cgroup: bool = False) -> list[str]:
    """Confine the current (fresh worker) process. Returns the active protections.

    ``plan``: exactly the protections to apply (from ``probe_plan``); one that fails raises
    ``ConfinementError``. ``None`` is the trial: try each (but those in ``exclude``) and keep
    what works. ``spec.submission_dir`` becomes the worker's own copy where the worker drops
    to its uid without a private tmpfs (``copy_parent`` holds it). ``in_cgroup``: the worker
    is in a control group of its own, which bounds the memory of all its processes together;
    without one the syscall filter refuses new processes, so that the address-space limit
    is the whole worker's.
    """
    active: list[str] = []

    def attempt(name: str, apply) -> bool:
        if name in exclude or (plan is not None and name not in plan):
            return False
        try:
            apply()
        except (OSError, AttributeError) as exc:
            if plan is not None:
                raise ConfinementError(exc.errno if isinstance(exc, OSError) else None,
                                       f"{name}: {exc}") from exc
            return False
        active.append(name)
        return True

    linux = sys.platform.startswith("linux")
    scratch = os.path.realpath(spec.submission_dir)
    read_paths = [os.path.realpath(p) for p in spec.read_paths] or default_read_paths()
    network_later = False
    filter_coming = (linux and seccomp.supported() is None and P.SYSCALL_FILTER not in exclude
                     and (plan is None or P.SYSCALL_FILTER in plan))
    if linux:
        if _network_isolated and (plan is None or P.NETWORK_NAMESPACE in plan):
            active.append(P.NETWORK_NAMESPACE)
        elif P.NETWORK_NAMESPACE not in exclude and (plan is None or P.NETWORK_NAMESPACE in plan):
            try:
                _unshare(CLONE_NEWNET)
                active.append(P.NETWORK_NAMESPACE)
            except OSError:  # no CAP_SYS_ADMIN: a user namespace of its own, once confined
                network_later = True

        def mount_namespace() -> None:
            _unshare(CLONE_NEWNS)
            _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
            _hide([p for p in spec.hide_paths if not scratch.startswith(os.path.realpath(p))])

        # Where the syscall filter will refuse every IPC call, a namespace adds nothing but
        # its cost; without CAP_SYS_ADMIN the worker's own user namespace brings one.
        if not network_later and not filter_coming:
            attempt(P.IPC_NAMESPACE, lambda: _unshare(CLONE_NEWIPC))
        if attempt(P.MOUNT_NAMESPACE, mount_namespace):
            # hidepid hides nothing from root (CAP_SYS_PTRACE): only for a worker that drops
            if spec.uid is not None and P.UNPRIVILEGED_UID not in exclude and (
                    plan is None or P.UNPRIVILEGED_UID in plan):
                attempt(P.PROCESSES_HIDDEN, _hide_other_processes)
            if spec.uid is not None:
                def private_scratch() -> None:
                    _expose_for_others(read_paths + [scratch])
                    _private_scratch(scratch, spec.uid, spec.max_disk_mb)
                attempt(P.PRIVATE_SCRATCH, private_scratch)
    dropping = (linux and spec.uid is not None and P.UNPRIVILEGED_UID not in exclude
                and (plan is None or P.UNPRIVILEGED_UID in plan))
    if dropping and P.PRIVATE_SCRATCH not in active:
        if copy_parent is None:
            raise ConfinementError(None, "unprivileged-uid: no folder for the worker's copy")
        scratch = spec.submission_dir = _own_scratch_copy(scratch, spec.uid, copy_parent)
    attempt(P.RLIMITS, lambda: _apply_rlimits(spec, exact_uid=dropping))
    if linux:
        attempt(P.NO_NEW_PRIVS, set_no_new_privs)
    if dropping:
        attempt(P.UNPRIVILEGED_UID, lambda: _drop_to(spec.uid))
    if network_later:
        # As the worker's own uid: a user namespace of its own owning a new network namespace
        # (no capability needed where unprivileged user namespaces are allowed). Before
        # Landlock, which would refuse the write to /proc/sys.
        if attempt(P.NETWORK_NAMESPACE, _own_network_namespace) and (
                P.IPC_NAMESPACE not in active and P.IPC_NAMESPACE not in exclude
                and (plan is None or P.IPC_NAMESPACE in plan)):
            active.append(P.IPC_NAMESPACE)
    if linux:
        abi = landlock_abi()
        if abi >= 1:
            landlock: list[str] = []
            if attempt(P.LANDLOCK_FS, lambda: landlock.extend(
                    apply_landlock(SYSTEM_READ_PATHS + read_paths, [scratch], abi))):
                active += [n for n in landlock if n != P.LANDLOCK_FS]
        # Last: the filter refuses the namespace calls made above.
        if attempt(P.SYSCALL_FILTER, lambda: seccomp.install(
                seccomp.Policy(no_new_processes=not in_cgroup))) and not in_cgroup:
            active.append(P.SINGLE_PROCESS)
    block_python_sockets()
    active.append(P.PYTHON_SOCKET_BLOCK)
    return active


def _trial_works(scratch: str, read_paths: list[str]) -> str | None:
    """In a confined trial worker: what a worker needs but cannot do (``None``: all works)."""
    probe_file = os.path.join(scratch, "probe.txt")
    try:
        with open(probe_file) as fh:
            fh.read()
        with open(os.path.join(scratch, "written.txt"), "w") as fh:
            fh.write("x")
    except OSError as exc:
        return f"the scratch copy is not usable ({exc.strerror})"
    for path in read_paths:
        if os.path.isdir(path):
            try:
                os.listdir(path)
            except OSError as exc:
                return f"{path} is not readable ({exc.strerror})"
    try:
        with open(os.__file__, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        return f"the Python installation is not readable ({exc.strerror})"
    return None


def _run_trial(spec: WorkerSpec, exclude: frozenset[str], copy_parent: str | None,
               in_cgroup: bool = False) -> tuple[list[str], str | None]:
    """Fork a trial worker that confines itself as a worker would; its protections and
    what it could not do (``None`` when it could do everything)."""
    import json

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_fd)
            active = confine(spec, None, exclude, copy_parent, in_cgroup)
            problem = _trial_works(spec.submission_dir,
                                   [os.path.realpath(p) for p in spec.read_paths]
                                   or default_read_paths())
            os.write(write_fd, json.dumps([active, problem]).encode())
        except BaseException as exc:
            try:
                os.write(write_fd, json.dumps([[], f"the trial failed: {exc!r}"]).encode())
            except BaseException:
                code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    try:
        active, problem = json.loads(b"".join(chunks) or b'[[], "the trial died"]')
    except ValueError:
        active, problem = [], "the trial sent nothing readable"
    return list(active), problem


def probe_plan(uid: int | None, copy_parent: str | None, in_cgroup: bool = False,
               exclude: frozenset[str] = frozenset()) -> tuple[frozenset[str], list[str]]:
    """Which protections workers get here, found by trial workers (forked, then discarded).

    Returns the plan and notes on what was given up and why (e.g. an unprivileged uid
    that cannot read the Python installation: a venv in root's home folder).
    """
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="dlgrade-probe-") as scratch:
        with open(os.path.join(scratch, "probe.txt"), "w") as fh:
            fh.write("probe")
        spec = WorkerSpec(submission_dir=scratch, modules=[], uid=uid)
        for give_up in (P.UNPRIVILEGED_UID, P.LANDLOCK_FS, P.MOUNT_NAMESPACE):
            active, problem = _run_trial(spec, exclude, copy_parent, in_cgroup)
            if copy_parent and uid is not None:
                shutil.rmtree(os.path.join(copy_parent, str(uid)), ignore_errors=True)
            if problem is None:
                return frozenset(active), notes
            notes.append(f"{give_up} is off: with it on, {problem}")
            exclude |= {give_up}
        active, problem = _run_trial(spec, exclude, copy_parent, in_cgroup)
        if problem is not None:
            notes.append(f"workers may not work here: {problem}")
        return frozenset(active), notes
