"""Operating-system confinement of a worker process (Linux; degrades elsewhere).

``confine(spec)`` is called in the freshly forked worker, before any student
code runs. It applies, in order, whatever this platform allows:

1. new network and mount namespaces (root only): no network at all (the warm
   parent's own empty network namespace, see ``isolate_network``); the course's
   hidden folders and $HOME are covered by empty tmpfs mounts;
2. resource limits: CPU seconds, address space, processes, file size, open files;
3. Landlock: read-only access to the Python installation and the platform,
   read-write to the scratch copy of the submission, nothing else; no TCP
   bind/connect; no signals to processes outside the sandbox;
4. dropping to an unprivileged per-worker uid (root only), so that RLIMIT_NPROC
   counts exactly this worker's processes and they can all be killed at once;
5. a Python-level socket block as the last fallback.

It returns the names of the protections that are active, so ``dlgrade check``
can say which ones are off on a student's laptop.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import resource
import signal
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

# unshare(2) flags and mount(2) flags
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 1, 2, 4
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


_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
    return _libc


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


def _first_blocked_ancestor(path: str) -> str | None:
    """The highest folder above ``path`` that others cannot traverse, if any."""
    current = "/"
    for part in Path(path).parts[1:-1]:
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
    applied = ["landlock-fs"]
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
        applied.append("landlock-net")
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
        applied.append("landlock-scope")
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
        _check(c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
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
    bring up. Creating a namespace cost about a millisecond in every worker, and tearing
    it down as much again in a kernel thread; a grading process runs one test, so one
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


def confine(spec: WorkerSpec) -> list[str]:
    """Confine the current (forked worker) process. Returns the active protections."""
    active: list[str] = []
    linux = sys.platform.startswith("linux")
    root = is_root()
    scratch = os.path.realpath(spec.submission_dir)
    read_paths = [os.path.realpath(p) for p in spec.read_paths] or default_read_paths()
    if linux and root:
        _unshare(CLONE_NEWNS | (0 if _network_isolated else CLONE_NEWNET))
        active.append("network-namespace")
        _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        _hide([p for p in spec.hide_paths if not scratch.startswith(os.path.realpath(p))])
        active.append("mount-namespace")
        if spec.uid is not None:
            _expose_for_others(read_paths + [scratch])
            _private_scratch(scratch, spec.uid, spec.max_disk_mb)
            active.append("private-scratch")
    exact_uid = linux and root and spec.uid is not None
    _apply_rlimits(spec, exact_uid)
    active.append("rlimits")
    abi = landlock_abi()
    if abi >= 1:
        active += apply_landlock(SYSTEM_READ_PATHS + read_paths, [scratch], abi)
    if exact_uid:
        os.setgroups([])
        os.setresgid(spec.uid, spec.uid, spec.uid)
        os.setresuid(spec.uid, spec.uid, spec.uid)
        active.append("unprivileged-uid")
    block_python_sockets()
    return active
