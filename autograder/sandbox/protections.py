"""The one list of protections a grading run can have in force, and what each stops.

A result records the names of the protections that were in force for its workers
(``GradeResult.protections``). ``course.toml`` may require some for official grading
(``[grading] require_protections``); the default requires only ``BASELINE``, which every
platform has. Names are stable: they appear in results JSON, gradebooks and reports.
"""

from __future__ import annotations

SEPARATE_PROCESS = "separate-process"
VALUE_CODEC = "value-codec"
FRESH_WORKER_PER_TEST = "fresh-worker-per-test"
PROCESS_TREE_KILL = "process-tree-kill"
RLIMITS = "rlimits"
WORKER_CGROUP = "worker-cgroup"
SINGLE_PROCESS = "single-process-worker"
NETWORK_NAMESPACE = "network-namespace"
MOUNT_NAMESPACE = "mount-namespace"
IPC_NAMESPACE = "ipc-namespace"
PROCESSES_HIDDEN = "own-processes-only"
COURSE_FILES_UNREADABLE = "course-files-unreadable"
PRIVATE_SCRATCH = "private-scratch"
UNPRIVILEGED_UID = "unprivileged-uid"
NO_NEW_PRIVS = "no-new-privs"
SYSCALL_FILTER = "syscall-filter"
LANDLOCK_FS = "landlock-fs"
LANDLOCK_NET = "landlock-net"
LANDLOCK_SCOPE = "landlock-scope"
PYTHON_SOCKET_BLOCK = "python-socket-block"
IN_PROCESS = "in-process"  # --isolation none: none of the above

#: name -> what it stops (for messages, the report and SECURITY.md)
DESCRIPTIONS: dict[str, str] = {
    SEPARATE_PROCESS: "the submission never runs in the process that computes the score",
    VALUE_CODEC: "values cross as plain data (never unpickled), so a result cannot be forged",
    FRESH_WORKER_PER_TEST: "nothing a test does (globals, monkeypatches, files) reaches the next",
    PROCESS_TREE_KILL: "every process a worker started is killed at the end of its test",
    RLIMITS: "CPU time, memory, file size, open files and processes are bounded (per process)",
    WORKER_CGROUP: "memory and processes are bounded for a worker and everything it starts "
                   "together, on its own CPUs (a control group per worker)",
    SINGLE_PROCESS: "a worker cannot start other processes, so its memory limit is the whole "
                    "worker's (where no control group is available)",
    NETWORK_NAMESPACE: "no network at all, loopback included (a new, empty network namespace)",
    MOUNT_NAMESPACE: "hidden tests, solutions and $HOME are covered by empty mounts",
    IPC_NAMESPACE: "SysV IPC objects and message queues are the worker's own and die with it",
    PROCESSES_HIDDEN: "other users' processes (the grader's, other workers') are invisible in /proc",
    COURSE_FILES_UNREADABLE: "the workers' uid has no permission to reach the hidden tests and "
                             "solutions (file modes: a folder on the way others cannot enter)",
    PRIVATE_SCRATCH: "each worker writes only to its own size-limited copy of the submission",
    UNPRIVILEGED_UID: "workers run as an unprivileged per-worker uid: no signals to the grader, "
                      "exact process limits",
    NO_NEW_PRIVS: "no privileges gained through setuid programs",
    SYSCALL_FILTER: "no SysV IPC, kernel keyrings, namespaces, CPU affinity or new sessions "
                    "(seccomp): no channel to later submissions, no moving onto another job's CPU",
    LANDLOCK_FS: "files outside the Python installation and the scratch copy are out of reach",
    LANDLOCK_NET: "no TCP connect or bind",
    LANDLOCK_SCOPE: "no signals or abstract sockets outside the sandbox",
    PYTHON_SOCKET_BLOCK: "Python's socket module refuses to open sockets (a last resort)",
    IN_PROCESS: "debugging mode: the submission runs in the grader's process, unprotected",
}

#: Every protection, strongest first (the order results list them in).
ALL: tuple[str, ...] = tuple(name for name in DESCRIPTIONS if name != IN_PROCESS)

#: What every platform has: the default requirement for official grades.
BASELINE: tuple[str, ...] = (SEPARATE_PROCESS, VALUE_CODEC)


def ordered(names: set[str] | list[str]) -> list[str]:
    """``names`` in the canonical order of ``ALL`` (unknown names last, sorted)."""
    known = [n for n in ALL if n in names]
    return known + sorted(set(names) - set(ALL))


#: fallbacks that matter only where none of the stronger protections named is in force
FALLBACK_FOR: dict[str, tuple[str, ...]] = {
    COURSE_FILES_UNREADABLE: (MOUNT_NAMESPACE, LANDLOCK_FS),
    SINGLE_PROCESS: (WORKER_CGROUP,),
    IPC_NAMESPACE: (SYSCALL_FILTER,),
}
#: decided per submission (from the course folder), so a backend never reports them
PER_SUBMISSION: tuple[str, ...] = (COURSE_FILES_UNREADABLE,)


def off(active: list[str] | tuple[str, ...], per_submission: bool = True) -> list[str]:
    """The protections not in ``active`` that matter: a fallback is not missed where a
    stronger protection it stands in for is on; ``per_submission=False`` (a backend's own
    report, before any submission) leaves out those decided per submission."""
    return [name for name in ALL if name not in active
            and not any(strong in active for strong in FALLBACK_FOR.get(name, ()))
            and (per_submission or name not in PER_SUBMISSION)]


def unknown(names: list[str]) -> list[str]:
    """The names in ``names`` that are not protections (for config validation)."""
    return [n for n in names if n not in ALL]


def missing(required: list[str] | tuple[str, ...], active: list[str]) -> list[str]:
    """The required protections that are not in ``active``."""
    return [n for n in required if n not in active]


def header(kind: str, active: list[str]) -> str:
    """The results table's first line: the worker backend (``fork`` or ``spawn``) and the
    protections in force for the submission, with those off here."""
    off_here = off(active)
    return (f"sandbox: {kind} worker; in force: {', '.join(active)}"
            + (f"; off here: {', '.join(off_here)}" if off_here else ""))


def off_note(active: list[str], notes: list[str], official: bool) -> str | None:
    """What to say (on stderr) where the backend's protections are off: which, and why
    (``notes``); ``None`` when none is. ``official``: grading with hidden tests; otherwise
    a student's check is told that the official grade runs where the protections are on."""
    off_here = off(active, per_submission=False)
    if not off_here:
        return None
    why = "".join(f"\n  - {note}" for note in notes)
    who = ("" if official else
           " Your code still runs in a separate process with limits; the official grade "
           "is computed where the course's required protections are on.")
    return f"note: protections off here: {', '.join(off_here)}.{who}{why}"
