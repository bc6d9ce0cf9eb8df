"""The environment variables a worker (or the fork backend's warm parent) starts with."""

from __future__ import annotations

import os
import sys


def worker_environment() -> dict[str, str]:
    """The environment a worker (or the warm parent) starts with: nothing of the grader's but
    how to find Python and the platform."""
    env = {
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    if sys.platform == "win32":  # Python's sockets and DLL loading need these
        env.update({k: os.environ[k] for k in ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "PATH")
                    if k in os.environ})
    else:
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env
