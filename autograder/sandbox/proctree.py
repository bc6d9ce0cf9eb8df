"""Killing a worker's whole process tree without fork, uids or job objects (the spawn backend).

POSIX: a spawned worker leads its own session (``start_new_session``), so its process group
holds what it started unless a child called ``setsid``; on Linux the worker is also a child
subreaper (``spawn_worker``), so a double-forked daemon stays its descendant. ``kill_tree``
stops the worker, then its descendants until no new one appears (a stopped process cannot
fork), then kills them all and the group. Windows: ``taskkill /F /T`` (the tree by parent
process id).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

_WINDOWS = sys.platform == "win32"
_PROC_CHILDREN = os.path.exists(f"/proc/self/task/{os.getpid()}/children")
_ROUNDS = 100  # stop rounds before giving up on a tree that keeps growing


def _children_from_proc(pid: int) -> list[int]:
    """Linux with CONFIG_PROC_CHILDREN: the direct children of ``pid`` (all its threads')."""
    children: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return children
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                children += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return children


def _process_table() -> list[tuple[int, int, int]]:
    """Every process as ``(pid, parent pid, process group)``: /proc on Linux, else ``ps``."""
    table = []
    if os.path.isdir("/proc/self"):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            table.append((int(entry), int(fields[1]), int(fields[2])))
        return table
    try:
        listing = subprocess.run(["ps", "-A", "-o", "pid=", "-o", "ppid=", "-o", "pgid="],
                                 capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return table
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            table.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return table


def children(pid: int) -> list[int]:
    """The direct children of ``pid``."""
    if _PROC_CHILDREN:
        return _children_from_proc(pid)
    return [child for child, parent, _group in _process_table() if parent == pid]


def descendants(pid: int) -> set[int]:
    """The processes below ``pid``, and (without /proc's child lists) those in its group."""
    found: set[int] = set()
    if _PROC_CHILDREN:
        todo = [pid]
        while todo:
            for child in _children_from_proc(todo.pop()):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found
    table = _process_table()
    children: dict[int, list[int]] = {}
    for child, parent, group in table:
        children.setdefault(parent, []).append(child)
        if group == pid and child != pid:
            found.add(child)
    todo = [pid, *found]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and child != pid:
                found.add(child)
                todo.append(child)
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_tree(pid: int, include_root: bool = True) -> None:
    """SIGKILL everything ``pid`` started, and ``pid`` itself unless ``include_root`` is False.

    ``include_root=False`` (a reused worker's leftover children) is POSIX only: Windows
    kills a tree only from its root.
    """
    if _WINDOWS:
        if include_root:
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(pid)], capture_output=True,
                           timeout=30, check=False)
        return
    if include_root:
        _signal(pid, signal.SIGSTOP)
    stopped: set[int] = set()
    for _ in range(_ROUNDS):
        new = descendants(pid) - stopped
        if not new:
            break
        for child in new:
            _signal(child, signal.SIGSTOP)
        stopped |= new
    for child in stopped:
        _signal(child, signal.SIGKILL)
    if include_root:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        _signal(pid, signal.SIGKILL)
