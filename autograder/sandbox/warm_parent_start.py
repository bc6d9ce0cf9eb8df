"""Entry point of the warm parent:
``python -m autograder.sandbox.warm_parent_start FD torch|notorch [GRADER_PID]``.

With ``GRADER_PID`` (the grader started it from its main thread) it dies with the grader:
the kernel sends it SIGTERM when the grader's process ends, and it kills its workers
first. It forks the uid killer first, while this process has imported only the standard
library, then imports ``warm_parent`` (numpy, and torch unless ``notorch``) and serves.
"""

from __future__ import annotations

import os
import sys

from autograder.sandbox.uidkill import UidKiller, uid_lock_dir

PR_SET_PDEATHSIG = 1


def _die_with(grader_pid: int) -> None:
    import ctypes
    import signal

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != grader_pid:
        sys.exit(0)


def main(argv: list[str]) -> None:
    if len(argv) > 2 and int(argv[2]) > 0 and sys.platform.startswith("linux"):
        _die_with(int(argv[2]))
    root = sys.platform.startswith("linux") and os.geteuid() == 0
    killer = UidKiller(uid_lock_dir() if root else None)
    from autograder.sandbox import warm_parent

    warm_parent.main(argv, killer)


if __name__ == "__main__":
    main(sys.argv[1:])
