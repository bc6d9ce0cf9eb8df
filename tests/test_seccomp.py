"""sandbox/seccomp.py: each test forks a child that installs a policy, observes what the kernel
answers and sends it back as JSON; the parent asserts the exact outcome. Probes use arguments
the kernel rejects on its own (EINVAL, EFAULT, ...) so that an unfiltered child changes
nothing, and the difference from an unfiltered child shows the filter is what refuses."""

from __future__ import annotations

import ctypes
import errno
import json
import mmap
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import pytest

from autograder.sandbox import seccomp
from autograder.sandbox.seccomp import Policy

pytestmark = pytest.mark.skipif(seccomp.supported() is not None,
                                reason=str(seccomp.supported()))

MACHINE = os.uname().machine
NUMBERS = seccomp.SYSCALLS.get(MACHINE, {})
IPC_PRIVATE, IPC_CREAT, IPC_STAT = 0, 0o1000, 2
CLONE_NEWUSER, CLONE_NEWNET, CLONE_FILES = 0x10000000, 0x40000000, 0x400
CLONE_SIGHAND, CLONE_THREAD, SIGCHLD = 0x800, 0x10000, 17
KEY_SPEC_PROCESS_KEYRING = -2
BPF_JMP = 0x05  # the instruction class of every jump
NOTHING_REFUSED = Policy(sysv_ipc=False, keyrings=False, namespaces=False,
                         affinity_and_sessions=False, attack_surface=False)

# name -> arguments the kernel itself rejects (or, for setsid, that change only the child)
PROBES: dict[str, tuple[int, ...]] = {
    "shmget": (IPC_PRIVATE, 0, 0), "shmat": (-1, 0, 0), "shmdt": (0,), "shmctl": (-1, IPC_STAT, 0),
    "msgget": (0x7FD1E0, 0), "msgsnd": (-1, 0, 0, 0), "msgrcv": (-1, 0, 0, 0, 0),
    "msgctl": (-1, IPC_STAT, 0), "semget": (IPC_PRIVATE, -1, 0), "semop": (-1, 0, 0),
    "semtimedop": (-1, 0, 0, 0), "semctl": (-1, 0, IPC_STAT, 0),
    "mq_open": (0, 0, 0, 0), "mq_unlink": (0,), "mq_timedsend": (-1, 0, 0, 0, 0),
    "mq_timedreceive": (-1, 0, 0, 0, 0), "mq_notify": (-1, 0), "mq_getsetattr": (-1, 0, 0),
    "add_key": (0, 0, 0, 0, 0), "request_key": (0, 0, 0, 0), "keyctl": (-1, 0, 0, 0, 0),
    "unshare": (CLONE_NEWUSER | 1,), "setns": (-1, 0),
    "clone": (CLONE_NEWUSER | CLONE_THREAD, 0, 0, 0, 0), "clone3": (0, 0),
    "sched_setaffinity": (0, 0, 0), "setsid": (), "setpgid": (0, -1),
    "bpf": (-1, 0, 0), "perf_event_open": (0, 0, -1, -1, 0), "userfaultfd": (-1,),
    "io_uring_setup": (0, 0), "io_uring_enter": (-1, 0, 0, 0, 0, 0),
    "io_uring_register": (-1, 0, 0, 0), "kexec_load": (0, 0, 0, -1),
    "kexec_file_load": (-1, -1, 0, 0, -1), "ptrace": (0xFFFF, 0, 0, 0),
    "process_vm_readv": (0, 0, 0, 0, 0, 1), "process_vm_writev": (0, 0, 0, 0, 0, 1),
    "mount": (0, 0, 0, 0, 0), "umount2": (0, -1), "pivot_root": (0, 0), "swapon": (0, 0),
    "swapoff": (0,), "reboot": (0, 0, 0, 0), "init_module": (0, 0, 0),
    "finit_module": (-1, 0, 0), "delete_module": (0, 0),
    "open_by_handle_at": (-1, 0, 0), "name_to_handle_at": (-1, 0, 0, 0, 0),
}
GROUPS = {
    "sysv_ipc": seccomp.SYSV_IPC,
    "keyrings": seccomp.KEYRINGS,
    "namespaces": ("unshare", "setns", "clone", "clone3"),
    "affinity_and_sessions": seccomp.AFFINITY_AND_SESSIONS,
    "attack_surface": seccomp.ATTACK_SURFACE,
}


# ------------------------------------------------------------------------------ helpers


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def errno_of_number(number: int, *args: int) -> int:
    """The errno a raw system call fails with, 0 when it succeeds."""
    ctypes.set_errno(0)
    result = _libc().syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in args))
    return ctypes.get_errno() if result < 0 else 0


def errno_of(name: str, *args: int) -> int:
    return errno_of_number(NUMBERS[name], *args)


def errno_raised(call: Callable[[], object]) -> int:
    """The errno of the OSError ``call`` raises, 0 when it returns."""
    try:
        call()
    except OSError as exc:
        return exc.errno or -1
    return 0


def run_child(observe: Callable[[], object], policies: tuple[Policy, ...]) -> tuple[object, int]:
    """Fork; the child installs ``policies`` in order, runs ``observe`` and sends back its
    JSON result. Returns (result or None, the child's exit code, -signal when killed)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read_end)
            for policy in policies:
                seccomp.install(policy)
            result = observe()
        except BaseException as exc:  # report it to the parent instead of running on
            result = {"child raised": repr(exc)}
        try:
            os.write(write_end, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    return (json.loads(data) if data else None), os.waitstatus_to_exitcode(status)


def observed(observe: Callable[[], object], *policies: Policy) -> object:
    """``run_child`` for a child that must exit cleanly."""
    result, code = run_child(observe, policies)
    assert code == 0, f"child exited with {code}"
    return result


def probe_all() -> dict[str, int]:
    return {name: errno_of(name, *args) for name, args in PROBES.items()}


def seccomp_status() -> dict[str, str]:
    lines = Path("/proc/self/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if line.startswith("Seccomp"))


def start_and_join_thread() -> bool:
    box: list[int] = []
    thread = threading.Thread(target=box.append, args=(1,))
    thread.start()
    thread.join()
    return box == [1]


def fork_exit_code() -> int:
    """Fork a child that exits 7; its exit code as the parent sees it."""
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


# ------------------------------------------------------------------------------ the program


def test_supported_here():
    assert seccomp.supported() is None


def test_supported_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(seccomp.platform, "machine", lambda: "riscv64")
    assert seccomp.supported() == "no syscall table for riscv64"
    monkeypatch.setattr(seccomp.sys, "platform", "darwin")
    assert seccomp.supported() == "seccomp needs Linux"


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
@pytest.mark.parametrize("policy", [Policy(), Policy(no_new_processes=True), NOTHING_REFUSED])
def test_program_checks_arch_first_jumps_short_and_ends_in_allow(arch, policy):
    program = seccomp.build_program(policy, arch)
    kill = (seccomp.BPF_RET_K, 0, 0, seccomp.SECCOMP_RET_KILL_PROCESS)
    assert program[:4] == [(seccomp.BPF_LD_W_ABS, 0, 0, 4),
                           (seccomp.BPF_JEQ_K, 1, 0, seccomp.AUDIT_ARCH[arch]), kill,
                           (seccomp.BPF_LD_W_ABS, 0, 0, 0)]
    x32_check = [(seccomp.BPF_JSET_K, 0, 1, 0x40000000), kill]
    assert (program[4:6] == x32_check) == (arch == "x86_64")
    assert max(max(jt, jf) for _, jt, jf, _ in program) <= 255
    jumps = [(i, jt, jf) for i, (code, jt, jf, _) in enumerate(program) if code & 7 == BPF_JMP]
    assert all(i + 1 + max(jt, jf) < len(program) for i, jt, jf in jumps)
    assert program[-1] == (seccomp.BPF_RET_K, 0, 0, seccomp.SECCOMP_RET_ALLOW)


def test_program_matches_exactly_the_refused_numbers():
    def matched(policy: Policy, arch: str) -> set[int]:
        program = seccomp.build_program(policy, arch)[6 if arch == "x86_64" else 4:]
        return {k for code, _, _, k in program if code == seccomp.BPF_JEQ_K}

    table = seccomp.SYSCALLS["aarch64"]
    assert matched(NOTHING_REFUSED, "aarch64") == set()
    assert matched(Policy(no_new_processes=True), "aarch64") == {
        table[name] for name in table if name != "seccomp"}
    assert seccomp.SYSCALLS["x86_64"]["fork"] in matched(Policy(no_new_processes=True), "x86_64")
    assert seccomp.SYSCALLS["x86_64"]["fork"] not in matched(Policy(), "x86_64")
    with pytest.raises(ValueError, match="no syscall table for riscv64"):
        seccomp.build_program(Policy(), "riscv64")


@pytest.mark.parametrize(("arch", "header"), [
    ("x86_64", "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"),
    ("aarch64", "/usr/include/asm-generic/unistd.h"),
])
def test_numbers_match_the_kernel_headers(arch, header):
    if not Path(header).exists():
        pytest.skip(f"{header} is not installed")
    defined = dict(re.findall(r"#define __NR(?:3264)?_(\w+)\s+(\d+)", Path(header).read_text()))
    assert {name: int(defined[name]) for name in seccomp.SYSCALLS[arch]} == seccomp.SYSCALLS[arch]
    assert ("fork" in defined) == (arch == "x86_64")


# ------------------------------------------------------------------------------ refusals


def test_default_policy_refuses_every_probe_with_eperm_and_clone3_with_enosys():
    expected = {name: errno.EPERM for name in PROBES} | {"clone3": errno.ENOSYS}
    assert observed(probe_all, Policy()) == expected


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_a_group_turned_off_answers_as_without_a_filter(group):
    unfiltered = observed(probe_all)
    assert errno.EPERM not in unfiltered.values()  # what the kernel says on its own, here
    got = observed(probe_all, Policy(**{group: False}))
    for name in PROBES:
        want = unfiltered[name] if name in GROUPS[group] else errno.EPERM
        if name == "clone3" and group != "namespaces":
            want = errno.ENOSYS
        assert got[name] == want, name


def test_the_attackers_calls_are_refused():
    libc = _libc()

    def observe() -> dict[str, int]:
        return {
            "shmget": errno_of("shmget", IPC_PRIVATE, 4096, IPC_CREAT | 0o600),
            "msgget": errno_of("msgget", IPC_PRIVATE, IPC_CREAT | 0o600),
            "semget": errno_of("semget", IPC_PRIVATE, 1, IPC_CREAT | 0o600),
            "add_key": errno_raised(lambda: _check(libc.syscall(
                ctypes.c_long(NUMBERS["add_key"]), b"user", b"k", b"v", ctypes.c_long(1),
                ctypes.c_long(KEY_SPEC_PROCESS_KEYRING)))),
            "unshare newuser": errno_raised(lambda: _check(libc.unshare(CLONE_NEWUSER))),
            "unshare newnet": errno_raised(lambda: _check(libc.unshare(CLONE_NEWNET))),
            "unshare files": errno_raised(lambda: _check(libc.unshare(CLONE_FILES))),
            "sched_setaffinity": errno_raised(lambda: os.sched_setaffinity(0, {0})),
            "setsid": errno_raised(os.setsid),
            "setpgid": errno_raised(lambda: os.setpgid(0, 0)),
        }

    assert observed(observe, Policy()) == {
        "shmget": errno.EPERM, "msgget": errno.EPERM, "semget": errno.EPERM,
        "add_key": errno.EPERM, "unshare newuser": errno.EPERM, "unshare newnet": errno.EPERM,
        "unshare files": 0, "sched_setaffinity": errno.EPERM, "setsid": errno.EPERM,
        "setpgid": errno.EPERM}


def _check(result: int) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


# ------------------------------------------------------------------------------ processes


def test_threads_fork_and_subprocess_work_under_the_default_policy():
    def observe() -> dict[str, object]:
        return {"thread": start_and_join_thread(), "fork": fork_exit_code(),
                "subprocess": subprocess.run(["true"]).returncode,
                "python": subprocess.run([sys.executable, "-c", "print(6 * 7)"],
                                         capture_output=True, text=True).stdout}

    assert observed(observe, Policy()) == {"thread": True, "fork": 7, "subprocess": 0,
                                           "python": "42\n"}


def test_no_new_processes_refuses_processes_with_eagain_but_not_threads():
    def observe() -> dict[str, object]:
        return {"thread": start_and_join_thread(),
                "fork": errno_raised(os.fork),
                "subprocess": errno_raised(lambda: subprocess.run(["true"])),
                "clone without CLONE_THREAD": errno_of("clone", CLONE_SIGHAND, 0, 0, 0, 0),
                "clone3": errno_of("clone3", 0, 0)}

    assert observed(observe, Policy(no_new_processes=True)) == {
        "thread": True, "fork": errno.EAGAIN, "subprocess": errno.EAGAIN,
        "clone without CLONE_THREAD": errno.EAGAIN, "clone3": errno.ENOSYS}
    without_namespaces = Policy(namespaces=False, no_new_processes=True)
    assert observed(lambda: errno_raised(os.fork), without_namespaces) == errno.EAGAIN


def test_a_forked_grandchild_inherits_the_filter():
    def grandchild() -> dict[str, object]:
        return {"shmget": errno_of("shmget", *PROBES["shmget"]), "status": seccomp_status()}

    def observe() -> object:
        return observed(grandchild)

    assert observed(observe, Policy()) == {
        "shmget": errno.EPERM, "status": {"Seccomp": "2", "Seccomp_filters": "1"}}


def test_threads_already_running_take_the_filter_too():
    def observe() -> dict[str, int]:
        installed, probed = threading.Event(), {}

        def probe_after_install() -> None:
            installed.wait()
            probed["shmget"] = errno_of("shmget", *PROBES["shmget"])

        thread = threading.Thread(target=probe_after_install)
        thread.start()
        seccomp.install(Policy())
        installed.set()
        thread.join()
        return probed

    assert observed(observe) == {"shmget": errno.EPERM}


def test_filters_stack_and_both_hold():
    only_sysv = Policy(**{f.name: f.name == "sysv_ipc" for f in fields(Policy)})
    only_keyrings = Policy(**{f.name: f.name == "keyrings" for f in fields(Policy)})

    def observe() -> dict[str, object]:
        return {"shmget": errno_of("shmget", *PROBES["shmget"]),
                "add_key": errno_of("add_key", *PROBES["add_key"]),
                "unshare": errno_of("unshare", *PROBES["unshare"]),
                "status": seccomp_status()}

    assert observed(observe, only_sysv, only_keyrings) == {
        "shmget": errno.EPERM, "add_key": errno.EPERM, "unshare": errno.EINVAL,
        "status": {"Seccomp": "2", "Seccomp_filters": "2"}}


def test_install_falls_back_to_prctl_without_seccomp_2(monkeypatch):
    monkeypatch.setitem(NUMBERS, "seccomp", 1023)  # no such call: ENOSYS, as on kernels < 3.17

    def observe() -> dict[str, object]:
        return {"shmget": errno_of("shmget", *PROBES["shmget"]), "status": seccomp_status()}

    assert observed(observe, Policy()) == {
        "shmget": errno.EPERM, "status": {"Seccomp": "2", "Seccomp_filters": "1"}}


def test_install_raises_where_unsupported(monkeypatch):
    monkeypatch.setattr(seccomp.platform, "machine", lambda: "riscv64")
    assert observed(lambda: errno_raised(lambda: seccomp.install(Policy()))) == errno.ENOSYS


# ------------------------------------------------------------------------------ other ABIs


def _i386_getpid() -> int:
    """getpid through ``int 0x80``, the i386 ABI, from a few bytes of machine code."""
    code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    code.write(bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3]))  # mov eax, 20; int 0x80; ret
    function = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(code)))
    return function() - os.getpid()


@pytest.mark.skipif(MACHINE != "x86_64", reason="i386 and x32 are x86_64's other ABIs")
def test_i386_and_x32_calls_kill_the_process():
    def x32_getpid() -> int:
        return errno_of_number(0x40000000 | 39)

    # without a filter: the i386 call works, the x32 one is unknown to this kernel
    assert run_child(_i386_getpid, ()) == (0, 0)
    assert run_child(x32_getpid, ()) == (errno.ENOSYS, 0)
    assert run_child(_i386_getpid, (NOTHING_REFUSED,)) == (None, -signal.SIGSYS)
    assert run_child(x32_getpid, (NOTHING_REFUSED,)) == (None, -signal.SIGSYS)


# ------------------------------------------------------------------------------ libraries


@pytest.mark.parametrize("policy", [Policy(), Policy(no_new_processes=True)])
def test_numpy_and_torch_work_under_the_filter(policy):
    def observe() -> dict[str, float]:
        import numpy as np
        import torch

        torch.set_num_threads(2)  # a thread pool: clone with CLONE_THREAD after clone3's ENOSYS
        matrix = torch.ones(512, 512)
        return {"torch": float(torch.ones(3).sum()), "matmul": float((matrix @ matrix).sum()),
                "numpy": float(np.linalg.norm(np.ones(4)))}

    assert observed(observe, policy) == {"torch": 3.0, "matmul": 512.0 ** 3, "numpy": 2.0}
