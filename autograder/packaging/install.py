"""What a package tells its users to install: the dlgrade wheel, and CPU torch where needed.

Every generated file (the handout, the GitHub workflow, the walkthrough notebook, the
Gradescope ``setup.sh``) installs dlgrade from the wheel that ships with it, never from
PyPI, and never a CUDA build of torch: an assignment whose tests need torch installs the
CPU build from PyTorch's own index first; one whose students and graders never import
torch installs no torch at all.

:func:`dlgrade_wheel` builds the wheel of the dlgrade that is running, once per process:
from its source tree with setuptools' build backend (offline, no build isolation), or, for
a dlgrade installed from a wheel, by packing the installed files again.
"""

from __future__ import annotations

import atexit
import base64
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from importlib import metadata
from pathlib import Path

import autograder
from autograder.config import Assignment
from autograder.errors import UsageError
from autograder.grader_imports import (
    TORCH_CPU_INDEX,
    needs_torch,
    torch_install_command,
)
from autograder.packaging.bundle import copy_dlgrade_source

_EPOCH = "315532800"  # 1980-01-01, the oldest zip timestamp: the same source gives the same wheel


def install_commands(assignment: Assignment, wheel: str, *, python: str = "python",
                     include_hidden: bool = True, index: str = TORCH_CPU_INDEX) -> list[str]:
    """Shell commands that install what ``assignment``'s tests need: CPU torch first where
    they need it, then dlgrade from ``wheel`` (a path, or any pip requirement)."""
    commands = ([torch_install_command(python, index)] if needs_torch(assignment, include_hidden)
                else [])
    return commands + [f"{python} -m pip install {wheel}"]


# ---------------------------------------------------------------- the wheel
_wheel_lock = threading.Lock()
_wheel: Path | None = None


def dlgrade_wheel() -> Path:
    """The wheel of the running dlgrade (``dlgrade-<version>-py3-none-any.whl``), built on the
    first call and reused by the process; it lives in a temporary folder removed at exit.

    Raises:
        UsageError: the wheel could not be built.
    """
    global _wheel
    with _wheel_lock:
        if _wheel is None or not _wheel.is_file():
            folder = Path(tempfile.mkdtemp(prefix="dlgrade-wheel-"))
            atexit.register(shutil.rmtree, folder, True)
            project = Path(autograder.__file__).resolve().parent.parent
            if _is_dlgrade_project(project):
                _wheel = _build_from_source(project, folder)
            else:
                _wheel = _pack_installed(folder)
        return _wheel


def _is_dlgrade_project(project: Path) -> bool:
    pyproject = project / "pyproject.toml"
    try:
        return 'name = "dlgrade"' in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def _build_from_source(project: Path, out: Path) -> Path:
    """setuptools' PEP 517 backend on a clean copy of the package (no caches, no egg-info),
    in a child process so that setuptools' global patches stay out of this one."""
    src = copy_dlgrade_source(out / "src")
    env = {**os.environ, "SOURCE_DATE_EPOCH": _EPOCH, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c",
         "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))", str(out)],
        cwd=src, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise UsageError(f"could not build dlgrade's wheel from {project} (is setuptools "
                         f"installed?):\n{(proc.stderr or proc.stdout)[-2000:]}")
    shutil.rmtree(src, ignore_errors=True)
    return out / proc.stdout.strip().splitlines()[-1]


def _pack_installed(out: Path) -> Path:
    """A wheel of the installed distribution's own files (listed in its RECORD)."""
    try:
        dist = metadata.distribution("dlgrade")
    except metadata.PackageNotFoundError:
        raise UsageError("dlgrade is neither installed nor run from its source tree: "
                         "cannot build the wheel a package ships") from None
    version = dist.version
    info = f"dlgrade-{version}.dist-info"
    skip = {f"{info}/{n}" for n in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")}
    names = sorted(str(f) for f in dist.files or []
                   if str(f).startswith(("autograder/", f"{info}/")) and str(f) not in skip
                   and "__pycache__" not in str(f))
    wheel = out / f"dlgrade-{version}-py3-none-any.whl"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            data = Path(dist.locate_file(name)).read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            writer.writerow([name, f"sha256={digest.decode()}", len(data)])
            zf.writestr(_entry(name), data)
        writer.writerow([f"{info}/RECORD", "", ""])
        zf.writestr(_entry(f"{info}/RECORD"), record.getvalue())
    return wheel


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info
