"""A seccomp-BPF filter for a worker process (Linux x86_64 and aarch64; standard library only).

``install(Policy())`` confines the calling process, and every process it later starts,
irreversibly: the kernel answers the refused system calls with an error instead of running
them. What is refused, and why:

- ``sysv_ipc``: SysV shared memory, message queues and semaphores (``shmget`` ... ``semctl``)
  and POSIX message queues (``mq_*``) outlive the process on the host, so one submission
  could leave a message for another.
  Neither x86_64 nor aarch64 has the ``ipc`` multiplexer, so there is nothing more to refuse.
- ``keyrings``: ``add_key``, ``request_key``, ``keyctl``: kernel keyrings are shared state
  and kernel attack surface.
- ``namespaces``: ``unshare`` and ``clone`` with any CLONE_NEW* flag, and ``setns`` always
  (its flags may be 0, "whatever namespace the fd is"): a user namespace would give the
  worker capabilities inside it, and every namespace is kernel attack surface. ``clone3``
  keeps its flags in memory, where a filter cannot read them, so it answers ENOSYS and glibc
  falls back to ``clone``.
- ``affinity_and_sessions``: ``sched_setaffinity`` (moving onto another grading job's CPU),
  ``setsid`` and ``setpgid`` (new sessions get their own scheduler autogroup).
- ``attack_surface``: calls a grading worker never needs (bpf, perf_event_open,
  userfaultfd, io_uring, kexec, ptrace, process_vm_*, mount, swap, reboot, modules,
  file handles).
- ``no_new_processes`` (off by default): ``fork``, ``vfork`` and ``clone`` without
  CLONE_THREAD answer EAGAIN while threads still start: the memory fallback where no cgroup
  exists, as one process's address-space limit is then the worker's whole memory.

Every refusal is EPERM unless said otherwise. A system call of a foreign architecture (i386
``int 0x80`` on x86_64) or of the x32 ABI kills the process, because the number tables below
would not apply to it. Everything else is allowed.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import sys
from dataclasses import dataclass

# Classic BPF (linux/filter.h): the instructions this filter uses.
BPF_LD_W_ABS = 0x20  # A = 32-bit word at offset k of struct seccomp_data
BPF_JEQ_K = 0x15  # pc += (A == k) ? jt : jf
BPF_JSET_K = 0x45  # pc += (A & k) ? jt : jf
BPF_RET_K = 0x06  # return k
MAX_JUMP = 255  # jt and jf are 8-bit

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
OFFSET_NR = 0
OFFSET_ARCH = 4
OFFSET_ARG0_LOW = 16  # the low 32 bits of args[0] on a little-endian machine

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000

SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_NO_NEW_PRIVS = 38

X32_SYSCALL_BIT = 0x40000000
CLONE_THREAD = 0x00010000
CLONE_NEWTIME = 0x00000080  # only a namespace flag for unshare: in clone's flags it is CSIGNAL
CLONE_NAMESPACE_FLAGS = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
)
UNSHARE_NAMESPACE_FLAGS = CLONE_NAMESPACE_FLAGS | CLONE_NEWTIME

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

# System call numbers: x86_64 from asm/unistd_64.h, aarch64 from asm-generic/unistd.h (which
# has no fork or vfork). Checked against Linux 6.x headers; they never change once assigned.
SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": {
        "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67,
        "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71,
        "semget": 64, "semop": 65, "semctl": 66, "semtimedop": 220,
        "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243,
        "mq_notify": 244, "mq_getsetattr": 245,
        "add_key": 248, "request_key": 249, "keyctl": 250,
        "unshare": 272, "setns": 308, "clone": 56, "clone3": 435, "fork": 57, "vfork": 58,
        "sched_setaffinity": 203, "setsid": 112, "setpgid": 109,
        "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "kexec_load": 246, "kexec_file_load": 320, "ptrace": 101,
        "process_vm_readv": 310, "process_vm_writev": 311,
        "mount": 165, "umount2": 166, "pivot_root": 155, "swapon": 167, "swapoff": 168,
        "reboot": 169, "init_module": 175, "finit_module": 313, "delete_module": 176,
        "open_by_handle_at": 304, "name_to_handle_at": 303,
        "seccomp": 317,
    },
    "aarch64": {
        "shmget": 194, "shmctl": 195, "shmat": 196, "shmdt": 197,
        "msgget": 186, "msgctl": 187, "msgrcv": 188, "msgsnd": 189,
        "semget": 190, "semctl": 191, "semtimedop": 192, "semop": 193,
        "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183,
        "mq_notify": 184, "mq_getsetattr": 185,
        "add_key": 217, "request_key": 218, "keyctl": 219,
        "unshare": 97, "setns": 268, "clone": 220, "clone3": 435,
        "sched_setaffinity": 122, "setsid": 157, "setpgid": 154,
        "bpf": 280, "perf_event_open": 241, "userfaultfd": 282,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "kexec_load": 104, "kexec_file_load": 294, "ptrace": 117,
        "process_vm_readv": 270, "process_vm_writev": 271,
        "mount": 40, "umount2": 39, "pivot_root": 41, "swapon": 224, "swapoff": 225,
        "reboot": 142, "init_module": 105, "finit_module": 273, "delete_module": 106,
        "open_by_handle_at": 265, "name_to_handle_at": 264,
        "seccomp": 277,
    },
}

SYSV_IPC = ("shmget", "shmat", "shmdt", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl",
            "semget", "semop", "semtimedop", "semctl",
            "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
            "mq_getsetattr")
KEYRINGS = ("add_key", "request_key", "keyctl")
AFFINITY_AND_SESSIONS = ("sched_setaffinity", "setsid", "setpgid")
ATTACK_SURFACE = ("bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
                  "io_uring_register", "kexec_load", "kexec_file_load", "ptrace",
                  "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
                  "swapon", "swapoff", "reboot", "init_module", "finit_module",
                  "delete_module", "open_by_handle_at", "name_to_handle_at")

Instruction = tuple[int, int, int, int]  # (code, jt, jf, k): struct sock_filter


@dataclass(frozen=True)
class Policy:
    """Which groups of system calls to refuse (True: refused). See the module docstring."""

    sysv_ipc: bool = True
    keyrings: bool = True
    namespaces: bool = True
    affinity_and_sessions: bool = True
    attack_surface: bool = True
    no_new_processes: bool = False


@dataclass(frozen=True)
class ArgCheck:
    """Refuse with ``action`` when args[0]'s low 32 bits have any bit of ``mask`` set
    (``when_set``) or none of them (not ``when_set``)."""

    mask: int
    when_set: bool
    action: int


def refuse(err: int) -> int:
    """The filter's return value that makes a call fail with errno ``err``."""
    return SECCOMP_RET_ERRNO | err


# ------------------------------------------------------------------------------ rules


def _unconditionally(action: int) -> ArgCheck:
    """A check that always refuses: no bit of an empty mask is ever set."""
    return ArgCheck(0, when_set=False, action=action)


def _always(names: tuple[str, ...], action: int) -> dict[str, list[ArgCheck]]:
    """Rules that refuse each named call whatever its arguments."""
    return {name: [_unconditionally(action)] for name in names}


def _process_rules(policy: Policy) -> dict[str, list[ArgCheck]]:
    """unshare, setns, clone, clone3, fork, vfork: namespaces and new processes."""
    rules: dict[str, list[ArgCheck]] = {}
    if policy.namespaces:
        rules["unshare"] = [ArgCheck(UNSHARE_NAMESPACE_FLAGS, True, refuse(errno.EPERM))]
        rules["setns"] = [_unconditionally(refuse(errno.EPERM))]
        rules["clone"] = [ArgCheck(CLONE_NAMESPACE_FLAGS, True, refuse(errno.EPERM))]
    if policy.no_new_processes:
        rules.update(_always(("fork", "vfork"), refuse(errno.EAGAIN)))
        rules.setdefault("clone", []).append(ArgCheck(CLONE_THREAD, False, refuse(errno.EAGAIN)))
    if policy.namespaces or policy.no_new_processes:
        rules.update(_always(("clone3",), refuse(errno.ENOSYS)))
    return rules


def rules_for(policy: Policy) -> dict[str, list[ArgCheck]]:
    """System call name -> the checks that refuse it, in the order they are tried."""
    rules: dict[str, list[ArgCheck]] = {}
    groups = ((policy.sysv_ipc, SYSV_IPC), (policy.keyrings, KEYRINGS),
              (policy.affinity_and_sessions, AFFINITY_AND_SESSIONS),
              (policy.attack_surface, ATTACK_SURFACE))
    for refused, names in groups:
        if refused:
            rules.update(_always(names, refuse(errno.EPERM)))
    rules.update(_process_rules(policy))
    return rules


# ------------------------------------------------------------------------------ program


def _stmt(code: int, k: int) -> Instruction:
    return (code, 0, 0, k)


def _jump(code: int, k: int, jt: int, jf: int) -> Instruction:
    return (code, jt, jf, k)


def _arch_prologue(arch: str) -> list[Instruction]:
    """Kill a call of any other architecture (and, on x86_64, of the x32 ABI); leave the call's
    number in A."""
    kill = _stmt(BPF_RET_K, SECCOMP_RET_KILL_PROCESS)
    program = [_stmt(BPF_LD_W_ABS, OFFSET_ARCH), _jump(BPF_JEQ_K, AUDIT_ARCH[arch], 1, 0), kill,
               _stmt(BPF_LD_W_ABS, OFFSET_NR)]
    if arch == "x86_64":
        program += [_jump(BPF_JSET_K, X32_SYSCALL_BIT, 0, 1), kill]
    return program


def _check_body(checks: list[ArgCheck]) -> list[Instruction]:
    """What runs once the number matched: each check returns its action or falls through;
    ALLOW at the end."""
    if len(checks) == 1 and checks[0].mask == 0:
        return [_stmt(BPF_RET_K, checks[0].action)]
    body = [_stmt(BPF_LD_W_ABS, OFFSET_ARG0_LOW)]
    for check in checks:
        # JSET jumps on "any bit set": skip the return when the refusing case does not hold.
        jt, jf = (0, 1) if check.when_set else (1, 0)
        body += [_jump(BPF_JSET_K, check.mask, jt, jf), _stmt(BPF_RET_K, check.action)]
    return body + [_stmt(BPF_RET_K, SECCOMP_RET_ALLOW)]


def build_program(policy: Policy, arch: str) -> list[Instruction]:
    """The BPF program (``(code, jt, jf, k)`` per instruction) for ``policy`` on ``arch``
    ("x86_64" or "aarch64"). Calls the arch lacks (fork and vfork on aarch64) are left out.
    Every jump is short: each rule is ``JEQ nr`` followed by its own body."""
    if arch not in SYSCALLS:
        raise ValueError(f"no syscall table for {arch}")
    numbers = SYSCALLS[arch]
    program = _arch_prologue(arch)
    for name, checks in rules_for(policy).items():
        if name not in numbers:
            continue
        body = _check_body(checks)
        program += [_jump(BPF_JEQ_K, numbers[name], 0, len(body)), *body]
    return program + [_stmt(BPF_RET_K, SECCOMP_RET_ALLOW)]


# ------------------------------------------------------------------------------ installing


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


@functools.cache
@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _machine() -> str:
    return platform.machine() or os.uname().machine


def supported() -> str | None:
    """None when ``install`` can work here, else a one-line reason."""
    if not sys.platform.startswith("linux"):
        return "seccomp needs Linux"
    machine = _machine()
    if machine not in SYSCALLS:
        return f"no syscall table for {machine}"
    return None


def _raise_errno(what: str) -> None:
    err = ctypes.get_errno()
    raise OSError(err, f"{what}: {os.strerror(err)}")


def _load_filter(fprog: SockFprog, seccomp_nr: int) -> None:
    """seccomp(2) with TSYNC (every thread); prctl where the kernel has no seccomp(2)."""
    libc = _libc()
    result = libc.syscall(ctypes.c_long(seccomp_nr), ctypes.c_uint(SECCOMP_SET_MODE_FILTER),
                          ctypes.c_uint(SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(fprog))
    if result > 0:  # TSYNC: the id of a thread that could not take the filter
        raise OSError(errno.EBUSY, f"seccomp: thread {result} could not take the filter")
    if result == 0:
        return
    if ctypes.get_errno() != errno.ENOSYS:
        _raise_errno("seccomp")
    if libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(fprog),
                  ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        _raise_errno("prctl(PR_SET_SECCOMP)")


@functools.lru_cache(maxsize=8)
def _compiled(policy: Policy, arch: str) -> SockFprog:
    program = build_program(policy, arch)
    filters = (SockFilter * len(program))(*program)
    fprog = SockFprog(len(program), filters)
    fprog._keep = filters  # the array must live as long as the program that points at it
    return fprog


def prepare(policy: Policy) -> None:
    """Build ``policy``'s program now (in a warm parent), so that a forked worker's ``install``
    only makes the system calls: Python work in a fresh fork copies the pages it touches."""
    if supported() is None:
        _compiled(policy, _machine())
        _libc()


def install(policy: Policy) -> None:
    """Set no_new_privs and install ``policy``'s filter on the calling process, all its threads
    and (by inheritance) every process it starts. Irreversible; filters stack, so a second
    call only refuses more. Raises OSError (with errno) when it cannot."""
    reason = supported()
    if reason:
        raise OSError(errno.ENOSYS, reason)
    arch = _machine()
    fprog = _compiled(policy, arch)
    if _libc().prctl(PR_SET_NO_NEW_PRIVS, ctypes.c_ulong(1), ctypes.c_ulong(0),
                     ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        _raise_errno("prctl(PR_SET_NO_NEW_PRIVS)")
    _load_filter(fprog, SYSCALLS[arch]["seccomp"])
