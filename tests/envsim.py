"""Run a command in an environment this machine is not: the harness of ``test_environments.py``.

dlgrade's tests run on Linux as root with every capability. Its users grade and check in
places that grant less; this module simulates them here:

============== =================================================================================
``root``        (a) this machine as it is: root with every capability
``container``   (b) root with Docker's default capability set only (``capsh``, libcap2-bin),
                and the control-group filesystems read-only, as Docker mounts them
``seccomp``     (c) (b) plus a seccomp filter like Docker's default profile: unshare, mount,
                umount2, setns, pivot_root, the new mount API and clone with namespace flags
                fail with EPERM; clone3 and the three Landlock calls with ENOSYS
``nonroot``     (d) an unprivileged uid (``nobody``) running a venv made from Debian's
                ``/usr/bin/python3.11`` (the project's venv Python lives under /root, mode 700)
``spawn``       (e) root with every capability, the portable worker forced (DLGRADE_WORKER)
============== =================================================================================

``command(env, argv)`` turns an argv into the argv that runs it in ``env``; ``argv[0]`` may
be ``"python"`` or ``"dlgrade"``, meaning the Python (or console script) of the venv that
environment runs: this process's own in (a) and (e); in (b), (c) and (d) the *shared venv*,
made from Debian's Python in a folder any uid can read, as a container's Python in /usr or
/opt is (a per-worker uid can then run it; ``prepare(env)`` builds it). Every setting
travels in the argv (``env NAME=VALUE``), so the result can go to ``subprocess`` as it is::

    from tests import envsim
    envsim.prepare("container")
    subprocess.run(envsim.command("container", ["dlgrade", "grade", "02", "sub/"]), cwd=REPO)

Command line (standard library only, so it also runs as a plain script)::

    python -m tests.envsim run ENV -- CMD...      # CMD in ENV (python/dlgrade as above)
    python -m tests.envsim seccomp -- CMD...      # install the filter of (c), then exec CMD
    python -m tests.envsim describe               # JSON: uid, capabilities, what the kernel allows
    python -m tests.envsim venv                   # build (or check) the shared venv

The seccomp filter is installed while the process still has CAP_SYS_ADMIN, without
no_new_privs, as a container runtime does (with no_new_privs set instead when it lacks it);
``command("seccomp", ...)`` then drops the capabilities with capsh. The clone rule reads the
flags from the first argument, as on x86-64 and arm64.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

ENVIRONMENTS: dict[str, str] = {
    "root": "root with every capability (this machine)",
    "container": "root with Docker's default capabilities",
    "seccomp": "root with Docker's default capabilities and seccomp profile",
    "nonroot": "an unprivileged uid (nobody) with Debian's Python 3.11",
    "spawn": "root with every capability, the portable (spawn) worker forced",
}

#: Docker's default capability set, and the masks a root process in it shows.
DOCKER_CAPABILITIES = (
    "cap_chown", "cap_dac_override", "cap_fsetid", "cap_fowner", "cap_mknod", "cap_net_raw",
    "cap_setgid", "cap_setuid", "cap_setfcap", "cap_setpcap", "cap_net_bind_service",
    "cap_sys_chroot", "cap_kill", "cap_audit_write",
)
DOCKER_CAP_MASK = 0x00000000A80425FB
CAP_SYS_ADMIN = 21

NONROOT_UID = NONROOT_GID = 65534  # nobody / nogroup
SHARED_PYTHON = "/usr/bin/python3.11"
#: The shared venv: any uid can read it (override with $DLGRADE_ENVSIM_VENV).
SHARED_VENV = Path(os.environ.get("DLGRADE_ENVSIM_VENV", "/opt/dlgrade-envsim/venv"))
NONROOT_HOME = Path("/tmp/dlgrade-envsim-home")
SHARED_VENV_ENVS = ("container", "seccomp", "nonroot")
TORCH_REQUIREMENT = "torch==2.13.0"  # the local CPU wheel (PIP_FIND_LINKS); never a bare torch


class EnvironmentUnavailable(RuntimeError):
    """This machine cannot simulate the environment (a missing tool, a failed install)."""


# ------------------------------------------------------------------------------ capabilities


def cap_last_cap() -> int:
    """The highest capability number this kernel knows."""
    return int(Path("/proc/sys/kernel/cap_last_cap").read_text())


def _capsh() -> str:
    path = shutil.which("capsh") or ("/usr/sbin/capsh" if os.path.exists("/usr/sbin/capsh")
                                      else None)
    if path is None:
        raise EnvironmentUnavailable("capsh is missing: apt-get install libcap2-bin")
    return path


@functools.lru_cache(maxsize=1)
def capabilities_to_drop() -> list[str]:
    """Every capability this kernel has that Docker's default set lacks, by name."""
    mask = ((1 << (cap_last_cap() + 1)) - 1) & ~DOCKER_CAP_MASK
    out = subprocess.run([_capsh(), f"--decode={mask:#x}"], capture_output=True, text=True,
                         check=True).stdout.strip()
    names = out.split("=", 1)[1].split(",")  # "0x...=cap_a,cap_b"
    assert not set(names) & set(DOCKER_CAPABILITIES), names
    return names


def status_masks(pid: str = "self") -> dict[str, int]:
    """CapInh/CapPrm/CapEff/CapBnd/CapAmb and Seccomp/NoNewPrivs of a process."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.startswith("Cap"):
            fields[key] = int(value.strip(), 16)
        elif key in ("Seccomp", "NoNewPrivs"):
            fields[key] = int(value.strip())
    return fields


# ------------------------------------------------------------------------------ seccomp

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_FLTATR_CTL_NNP = 3
SCMP_CMP_MASKED_EQ = 7
NAMESPACE_CLONE_FLAGS = {  # linux/sched.h
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
#: refused with EPERM, as Docker's profile refuses them to a container without CAP_SYS_ADMIN
EPERM_SYSCALLS = ("unshare", "setns", "mount", "umount2", "pivot_root", "open_tree",
                  "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr")
#: refused with ENOSYS, as older Docker releases refuse calls newer than their profile
ENOSYS_SYSCALLS = {"landlock_create_ruleset": 444, "landlock_add_rule": 445,
                   "landlock_restrict_self": 446, "clone3": 435}


def SCMP_ACT_ERRNO(code: int) -> int:  # noqa: N802  (libseccomp's macro)
    return 0x00050000 | (code & 0xFFFF)


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def install_docker_like_seccomp() -> None:
    """Install, in this process, the seccomp filter of environment (c) (inherited by children).

    Uses libseccomp (``libseccomp.so.2``) through ctypes. Without CAP_SYS_ADMIN the kernel
    accepts a filter only with no_new_privs, which is then set."""
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError as exc:
        raise EnvironmentUnavailable(f"libseccomp.so.2 is missing ({exc}): "
                                     "apt-get install libseccomp2") from exc
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]

    def check(result: int, what: str) -> None:
        if result < 0:
            raise OSError(-result, f"{what}: {os.strerror(-result)}")

    def number(name: str, fallback: int | None = None) -> int:
        nr = lib.seccomp_syscall_resolve_name(name.encode())
        if nr < 0:
            if fallback is None:
                raise OSError(errno.ENOSYS, f"libseccomp does not know {name}")
            return fallback
        return nr

    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "seccomp_init failed")
    try:
        has_admin = bool(status_masks()["CapEff"] >> CAP_SYS_ADMIN & 1)
        check(lib.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0 if has_admin else 1),
              "seccomp_attr_set(CTL_NNP)")
        for name in EPERM_SYSCALLS:
            check(lib.seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(errno.EPERM), number(name), 0,
                                              None), f"rule for {name}")
        for name, nr in ENOSYS_SYSCALLS.items():
            check(lib.seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(errno.ENOSYS),
                                             number(name, nr), 0, None), f"rule for {name}")
        for flag in NAMESPACE_CLONE_FLAGS.values():  # clone(flags & flag == flag) -> EPERM
            cmp = _ArgCmp(0, SCMP_CMP_MASKED_EQ, flag, flag)
            check(lib.seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(errno.EPERM), number("clone"),
                                             1, ctypes.byref(cmp)), f"clone rule {flag:#x}")
        check(lib.seccomp_load(ctx), "seccomp_load")
    finally:
        lib.seccomp_release(ctx)


# ------------------------------------------------------------------------------ the shared venv


def _venv_key() -> str:
    """What the shared venv was built from: when it changes, the install is redone."""
    digest = hashlib.sha256()
    for part in (SHARED_PYTHON, TORCH_REQUIREMENT, str(REPO),
                 (REPO / "pyproject.toml").read_text()):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def shared_venv_ready() -> bool:
    """Whether the shared venv exists and was built from this checkout's pyproject.toml."""
    stamp = SHARED_VENV / ".envsim-key"
    return stamp.is_file() and stamp.read_text() == _venv_key()


def build_shared_venv(quiet: bool = True) -> Path:
    """Create (or bring up to date) the venv any uid can run; returns its folder.

    Debian's Python 3.11, torch from the pinned local wheel, dlgrade installed editable from
    this checkout (its files must be world-readable, as a clone with umask 022 leaves them).
    A lock file makes concurrent builders wait for each other."""
    if not os.path.exists(SHARED_PYTHON):
        raise EnvironmentUnavailable(f"{SHARED_PYTHON} is missing: apt-get install python3.11 "
                                     "python3-venv")
    SHARED_VENV.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(SHARED_VENV.parent, 0o755)
    with open(SHARED_VENV.parent / ".envsim-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shared_venv_ready():
            return SHARED_VENV
        old_umask = os.umask(0o022)
        try:
            python = SHARED_VENV / "bin" / "python"
            steps = [[SHARED_PYTHON, "-m", "venv", str(SHARED_VENV)]] if not python.exists() \
                else []
            pip = [str(python), "-m", "pip", "install", *(["--quiet"] if quiet else [])]
            steps += [pip + [TORCH_REQUIREMENT], pip + ["-e", str(REPO)]]
            for step in steps:
                done = subprocess.run(step, capture_output=quiet, text=True, cwd="/")
                if done.returncode != 0:
                    raise EnvironmentUnavailable(
                        f"building the shared venv failed: {' '.join(step)}\n"
                        f"{(done.stdout or '')[-2000:]}{(done.stderr or '')[-2000:]}")
        finally:
            os.umask(old_umask)
        (SHARED_VENV / ".envsim-key").write_text(_venv_key())
    return SHARED_VENV


def _nonroot_home() -> Path:
    """A HOME the non-root uid owns (created on first use, reused after)."""
    home = NONROOT_HOME
    if home.is_symlink() or (home.exists() and home.stat().st_uid != NONROOT_UID):
        raise EnvironmentUnavailable(f"{home} exists and is not owned by uid {NONROOT_UID}")
    home.mkdir(mode=0o700, exist_ok=True)
    os.chown(home, NONROOT_UID, NONROOT_GID)
    return home


# ------------------------------------------------------------------------------ the wrappers


def prepare(env: str) -> None:
    """Make sure ``env`` can be simulated here; raises EnvironmentUnavailable saying why not."""
    if env not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {env!r}: one of {', '.join(ENVIRONMENTS)}")
    if os.geteuid() != 0 and env != "root":
        raise EnvironmentUnavailable(f"simulating {env!r} needs root")
    if env in ("container", "seccomp"):
        capabilities_to_drop()
    if env == "seccomp":
        ctypes.CDLL("libseccomp.so.2")
    if env in SHARED_VENV_ENVS:
        build_shared_venv()
    if env == "nonroot":
        if not shutil.which("setpriv"):
            raise EnvironmentUnavailable("setpriv is missing: apt-get install util-linux")
        _nonroot_home()


def _program(env: str, name: str) -> str:
    """``python``/``dlgrade`` -> the venv's own for ``env``; anything else as it is."""
    if name not in ("python", "dlgrade"):
        return name
    bindir = SHARED_VENV / "bin" if env in SHARED_VENV_ENVS else Path(sys.executable).parent
    return str(bindir / name)


def _drop_capabilities(argv: list[str]) -> list[str]:
    # capsh lowers the bounding set, then execs argv[0]; a root exec takes its permitted and
    # effective sets from the bounding set, so the program starts with Docker's masks.
    return [_capsh(), "--drop=" + ",".join(capabilities_to_drop()), f"--shell={argv[0]}",
            "--", *argv[1:]]


READ_ONLY_CGROUPS = ("for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/self/mounts); do "
                     'mount -o remount,bind,ro "$m" || exit 97; done; exec "$@"')


def _read_only_cgroups(argv: list[str]) -> list[str]:
    """``argv`` in a mount namespace of its own where every cgroup filesystem is read-only
    (Docker mounts /sys/fs/cgroup read-only in a container without --privileged)."""
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
            READ_ONLY_CGROUPS, "sh", *argv]


def command(env: str, argv: Sequence[str]) -> list[str]:
    """The argv that runs ``argv`` in environment ``env`` (see the module's docstring)."""
    if env not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {env!r}: one of {', '.join(ENVIRONMENTS)}")
    argv = [_program(env, argv[0]), *argv[1:]]
    if env == "root":
        return argv
    if env == "container":
        return _read_only_cgroups(_drop_capabilities(argv))
    if env == "seccomp":
        return _read_only_cgroups([sys.executable, str(Path(__file__).resolve()), "seccomp",
                                   "--", *_drop_capabilities(argv)])
    if env == "spawn":
        return ["env", "DLGRADE_WORKER=spawn", *argv]
    home = str(_nonroot_home())
    return ["setpriv", f"--reuid={NONROOT_UID}", f"--regid={NONROOT_GID}", "--clear-groups",
            "env", f"HOME={home}", f"XDG_CACHE_HOME={home}/.cache", "PYTHONDONTWRITEBYTECODE=1",
            f"PATH={Path(argv[0]).parent}:/usr/bin:/bin", *argv]


# ------------------------------------------------------------------------------ describe


def _errno_of(call) -> int:
    """Run ``call`` in a forked child (it may change the process); 0 or the errno it failed with."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            call()
        except OSError as exc:
            code = exc.errno or 255
        except BaseException:
            code = 254
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _libc_call(name: str, *args) -> int:
    """A libc function (``syscall``, ``unshare``) that fails with -1 and errno."""
    libc = ctypes.CDLL(None, use_errno=True)
    function = getattr(libc, name)
    function.restype = ctypes.c_long
    result = function(*args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def landlock_abi() -> int:
    """The Landlock ABI the kernel reports to this process, or minus the errno it fails with."""
    try:
        return _libc_call("syscall", ctypes.c_long(ENOSYS_SYSCALLS["landlock_create_ruleset"]),
                          None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except OSError as exc:
        return -(exc.errno or 1)


def describe() -> dict:
    """What this process is and what the kernel lets it do (for the environment self-checks)."""
    masks = status_masks()

    def unshare(flag: int):
        return lambda: _libc_call("unshare", ctypes.c_int(flag))

    return {
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
        "python": sys.executable, "prefix": sys.prefix, "home": os.environ.get("HOME"),
        "worker": os.environ.get("DLGRADE_WORKER"),
        "CapInh": f"{masks['CapInh']:016x}", "CapPrm": f"{masks['CapPrm']:016x}",
        "CapEff": f"{masks['CapEff']:016x}", "CapBnd": f"{masks['CapBnd']:016x}",
        "seccomp": masks.get("Seccomp"), "no_new_privs": masks.get("NoNewPrivs"),
        "unshare_net": _errno_of(unshare(NAMESPACE_CLONE_FLAGS["CLONE_NEWNET"])),
        "unshare_user": _errno_of(unshare(NAMESPACE_CLONE_FLAGS["CLONE_NEWUSER"])),
        "landlock_abi": landlock_abi(),
        "clone_newnet": _errno_of(_clone_newnet) if platform.machine() == "x86_64" else None,
        "fork": _errno_of(lambda: None),
        "thread": _errno_of(_start_a_thread),
        "home_writable": bool(os.environ.get("HOME")) and os.access(os.environ["HOME"], os.W_OK),
        "reads_the_course": all(os.access(REPO / rel, os.R_OK) for rel in COURSE_FILES),
    }


#: what a run in any environment must be able to read (the corpus's fixture course included)
COURSE_FILES = ("course.toml", "autograder/__init__.py",
                "tests/fixtures/course/assignments/90-mini/tests/hidden/test_mini_hidden.py",
                "tests/fixtures/course/solutions/90-mini/mini.py")


def _clone_newnet() -> None:
    """clone(2) itself with CLONE_NEWNET (x86-64 argument order), as unshare(1) does not."""
    flags = NAMESPACE_CLONE_FLAGS["CLONE_NEWNET"] | 17  # | SIGCHLD
    pid = _libc_call("syscall", ctypes.c_long(56), ctypes.c_ulong(flags), None, None, None,
                     ctypes.c_ulong(0))
    if pid == 0:  # the clone: a copy of this (already forked, disposable) process
        os._exit(0)
    os.waitpid(pid, 0)


def _start_a_thread() -> None:
    import threading

    worker = threading.Thread(target=lambda: None)
    worker.start()  # glibc tries clone3 first and falls back to clone on ENOSYS
    worker.join()


# ------------------------------------------------------------------------------ command line


def main(args: list[str]) -> int:
    usage = ("usage: python -m tests.envsim run ENV -- CMD... | seccomp -- CMD... | describe | "
             f"venv   (ENV: {', '.join(ENVIRONMENTS)})")
    if args[:1] == ["describe"]:
        print(json.dumps(describe(), indent=2))
        return 0
    if args[:1] == ["venv"]:
        print(build_shared_venv(quiet=False))
        return 0
    if args[:1] == ["seccomp"] and args[1:2] == ["--"] and args[2:]:
        install_docker_like_seccomp()
        os.execvp(args[2], args[2:])
    if args[:1] == ["run"] and len(args) > 3 and args[2] == "--":
        prepare(args[1])
        argv = command(args[1], args[3:])
        os.execvp(argv[0], argv)
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
