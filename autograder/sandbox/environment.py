"""What a worker process starts with: its environment variables, its working folder, the
submission's scratch on ``sys.path``, and torch's lazy imports already done (both backends)."""

from __future__ import annotations

import os
import sys
import tempfile


def _basics() -> dict[str, str]:
    """One thread per math library, a UTF-8 locale, and what the OS needs to run Python."""
    env = {"LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    if sys.platform == "win32":  # Python's sockets and DLL loading need these
        env.update({k: os.environ[k] for k in ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "PATH")
                    if k in os.environ})
    else:
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env


def worker_environment() -> dict[str, str]:
    """The environment a worker (or the warm parent) starts with: nothing of the grader's but
    how to find Python and the platform."""
    return {**_basics(), "PYTHONHASHSEED": "0",
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def scratch_environment(scratch: str) -> dict[str, str]:
    """The environment a worker's submission sees: no secrets, temporary files in scratch."""
    tmp = os.path.join(scratch, ".tmp")
    env = {**_basics(), "HOME": scratch, "TMPDIR": tmp, "TEMP": tmp, "TMP": tmp}
    if sys.platform == "win32":
        env["USERPROFILE"] = scratch
    return env


def enter_scratch(scratch: str) -> None:
    """Work in the submission's scratch folder, with ``scratch_environment``."""
    os.chdir(scratch)
    env = scratch_environment(scratch)
    os.makedirs(env["TMPDIR"], exist_ok=True)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None
    sys.path.insert(0, scratch)
    sys.dont_write_bytecode = True


def warm_torch() -> None:
    """Run torch's lazy imports once, before any test: creating the first optimizer imports
    torch._dynamo and some 800 modules, which every worker would pay again."""
    import torch

    param = torch.zeros(1, requires_grad=True)
    for optimizer in (torch.optim.SGD([param], lr=0.1), torch.optim.Adam([param])):
        param.grad = torch.zeros(1)
        optimizer.step()
