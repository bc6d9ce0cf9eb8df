"""The C library, loaded once per process, for the system calls Python's standard library lacks
(``prctl``, ``keyctl``, the SysV ``*ctl`` calls, ``syscall`` itself), with ``errno`` kept."""

from __future__ import annotations

import ctypes

_libc: ctypes.CDLL | None = None


def libc() -> ctypes.CDLL:
    """The process's C library; ``libc().syscall`` returns a C ``long``."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
    return _libc
