"""Fresh virtual environments for the install tests: what a student or Gradescope starts from.

Each venv is made from the Python this project's venv was made from, with nothing of this
checkout in it; packages come from pip's usual configuration (its index and cache). Torch
is never downloaded: :func:`pip_env` points PyTorch's CPU index at an empty local one, so
pip takes ``torch==2.13.0`` from the local CPU wheel that ``PIP_FIND_LINKS`` names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.grader_imports import TORCH_CPU_INDEX

#: The interpreter the project's venv was made from (the venv itself is not one to copy).
BASE_PYTHON = getattr(sys, "_base_executable", None) or sys.executable
INSTALL_TIMEOUT = 900  # seconds; installing torch's wheel into a venv takes about a minute


def empty_index(folder: Path) -> str:
    """A ``file://`` package index with nothing in it (pip then relies on its find-links)."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve().as_uri()


def pip_env(venv: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for commands run "in" ``venv``: its ``bin`` first on PATH, as an
    activated venv has it; no trace of this checkout (PYTHONPATH, DLGRADE_*); pip compiles
    no bytecode (it would spend half of torch's install on it)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DLGRADE_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_NO_COMPILE"] = "1"
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def make_venv(path: Path) -> Path:
    """A new venv at ``path``; returns its folder."""
    subprocess.run([BASE_PYTHON, "-m", "venv", str(path)], check=True, timeout=300,
                   env=pip_env())
    return path


def run_in(venv: Path, command: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    """Run a shell ``command`` as written in a handout, in ``venv`` (``python`` is its own)."""
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=pip_env(venv, **extra),
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT)


def with_local_torch(command: str, index_url: str) -> str:
    """``command`` with PyTorch's CPU index replaced by ``index_url`` (see the module doc)."""
    return command.replace(TORCH_CPU_INDEX, index_url)


def module_location(venv: Path, module: str) -> str | None:
    """Where ``module`` is found by the venv's Python, or None when it is not installed."""
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.util, sys; s = importlib.util.find_spec(sys.argv[1]); "
         "print(s.origin if s else '')", module],
        capture_output=True, text=True, timeout=120, env=pip_env(venv), cwd="/")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip() or None


def remove(path: Path) -> None:
    """Delete a venv (each holds hundreds of MB; pytest keeps old temporary folders)."""
    shutil.rmtree(path, ignore_errors=True)
