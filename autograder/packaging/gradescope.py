"""Gradescope: ``autograder.zip`` and the submission metadata.

The zip's root (Gradescope unpacks it to ``/autograder/source``)::

    setup.sh          run once when Gradescope builds the image: Python 3.11 (apt), then
                      install.sh
    install.sh        the pip part, runnable alone: a venv with dlgrade from the wheel, and
                      torch's CPU build only where the assignment's tests need torch
    dlgrade-<version>-py3-none-any.whl
    run_autograder    run per submission: grades /autograder/submission into
                      /autograder/results/results.json
    course/           course.toml + assignments/<id>/ (assignment.toml, public AND hidden tests)
                      + assignments/.dlgrade-secret: the course secret hidden inputs derive
                      from (``autograder.secret``; created here if the course has none)

``DLGRADE_GRADESCOPE_ROOT`` replaces ``/autograder`` (tests simulate the layout in a
temporary folder: ``install.sh`` then makes ``$DLGRADE_GRADESCOPE_ROOT/venv``),
``DLGRADE_SETUP_PYTHON`` the Python that ``install.sh`` makes the venv with,
``DLGRADE_TORCH_INDEX`` a mirror of PyTorch's CPU-only index, and
``DLGRADE_PYTHON`` the interpreter that grades. Whatever happens, ``run_autograder``
leaves a ``results.json``: a rejected submission gets score 0 and the reason, a run that
fails or is killed a message. Grading stops itself at the assignment's ``run_budget``
(the tests left are recorded as not run); ``run_autograder`` kills it
:data:`RUN_SLACK_S` seconds after that, in case it does not.
"""

from __future__ import annotations

import json
import math
import shlex
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.config import Assignment
from autograder.grader_imports import TORCH_CPU_INDEX
from autograder.packaging.bundle import copy_assignment, write_zip
from autograder.packaging.install import dlgrade_wheel, install_commands
from autograder.secret import ensure_course_secret, secret_path

RUN_SLACK_S = 20  # start-up (imports, the warm parent) and writing the results, past the budget

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends software-properties-common
add-apt-repository -y ppa:deadsnakes/ppa || true
apt-get update
apt-get install -y --no-install-recommends python3.11 python3.11-venv
bash ./install.sh
"""

INSTALL_SH = """#!/usr/bin/env bash
# The pip part of setup.sh; it runs alone too. A virtual environment with dlgrade from the
# wheel next to this script, and torch's CPU build only where this assignment needs torch
# (from PyTorch's CPU-only index; $DLGRADE_TORCH_INDEX names a mirror).
set -euo pipefail
cd "$(dirname "$0")"
VENV="${{DLGRADE_GRADESCOPE_ROOT:-/autograder}}/venv"
"${{DLGRADE_SETUP_PYTHON:-python3.11}}" -m venv "$VENV"
{commands}
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. It grades /autograder/submission with the
# public and hidden tests and writes /autograder/results/results.json.
set -uo pipefail
ROOT="${{DLGRADE_GRADESCOPE_ROOT:-/autograder}}"
if [ -n "${{DLGRADE_PYTHON:-}}" ]; then PY="$DLGRADE_PYTHON"
elif [ -x "$ROOT/venv/bin/python" ]; then PY="$ROOT/venv/bin/python"
else PY=python3; fi
RESULTS="$ROOT/results/results.json"
LIMIT={limit}  # the assignment's run_budget ({budget:g} s) and some slack
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
# The tests and solutions stay readable by the grader (root) only: where the container
# offers neither Landlock nor a mount namespace, a worker's own uid still cannot read them.
chmod -R go-rwx "$ROOT/source" 2>/dev/null || true
META=()
if [ -f "$ROOT/submission_metadata.json" ]; then
  META=(--submission-metadata "$ROOT/submission_metadata.json")
fi
STOP=()
if command -v timeout >/dev/null; then STOP=(timeout --kill-after=5 "$LIMIT"); fi
START=$SECONDS
"${{STOP[@]}}" "$PY" -m autograder.cli --course "$ROOT/source/course" grade {assignment} \\
  "$ROOT/submission" --format gradescope -o "$RESULTS" "${{META[@]}}"
status=$?
if [ ! -s "$RESULTS" ]; then  # never leave Gradescope without a result
  if [ "$status" -eq 124 ] || {{ [ "$status" -eq 137 ] && [ $((SECONDS - START)) -ge "$LIMIT" ]; }}
  then why="it was stopped after $LIMIT s, past the time budget of the whole run"
  elif [ "$status" -gt 128 ]; then why="it was killed (signal $((status - 128)))"
  else why="dlgrade exit $status"; fi
  printf '{{"score": 0, "execution_time": %s, "output": "The autograder could not grade this submission (%s). Your instructor can see why.", "visibility": "visible", "stdout_visibility": "hidden", "tests": []}}\\n' \\
    "$((SECONDS - START))" "$why" > "$RESULTS"
fi
exit 0
"""

EXECUTABLES = ("setup.sh", "install.sh", "run_autograder")


def build_autograder_zip(assignment: Assignment, out_dir: Path, *,
                         course_name: str = "course") -> Path:
    """Write ``<out_dir>/autograder.zip`` for ``assignment``; return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = dlgrade_wheel()
    commands = install_commands(assignment, f"./{wheel.name}", python='"$VENV/bin/python"',
                                index=f'"${{DLGRADE_TORCH_INDEX:-{TORCH_CPU_INDEX}}}"')
    budget = assignment.limits.run_budget
    with tempfile.TemporaryDirectory(prefix="dlgrade-gradescope-") as tmp:
        root = Path(tmp)
        (root / "setup.sh").write_text(SETUP_SH, encoding="utf-8")
        (root / "install.sh").write_text(
            INSTALL_SH.format(commands="\n".join(commands)), encoding="utf-8")
        (root / "run_autograder").write_text(RUN_AUTOGRADER.format(
            assignment=shlex.quote(assignment.id), budget=budget,
            limit=math.ceil(budget) + RUN_SLACK_S), encoding="utf-8")
        shutil.copyfile(wheel, root / wheel.name)
        copy_assignment(assignment, root / "course", include_hidden=True, course_name=course_name)
        secret, _ = ensure_course_secret(assignment.root.parent)
        packaged = secret_path(root / "course" / "assignments")
        packaged.write_bytes(secret + b"\n")
        packaged.chmod(0o600)
        zip_path = out_dir / "autograder.zip"
        write_zip(root, zip_path, executables=EXECUTABLES)
    return zip_path


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def read_submission_metadata(path: Path) -> dict[str, Any] | None:
    """The lateness facts of Gradescope's ``submission_metadata.json``, or None without one.

    Returns ``submitted_at``, ``due_date``, ``late_due_date`` (ISO 8601 or None),
    ``late`` (submitted after the due date), ``lateness_hours`` and a one-line
    ``message`` for the student. The score is not changed: Gradescope applies its
    own late settings, and the course gradebook applies ``course.toml``'s policy.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {"late": None, "message": f"(submission metadata unreadable: {exc})"}
    if not isinstance(data, dict):
        return {"late": None, "message": "(submission metadata unreadable: not an object)"}
    info = data.get("assignment") if isinstance(data.get("assignment"), dict) else {}
    submitted = _parse_time(data.get("created_at"))
    due = _parse_time(info.get("due_date"))
    late_due = _parse_time(info.get("late_due_date"))
    out: dict[str, Any] = {
        "submitted_at": submitted.isoformat() if submitted else None,
        "due_date": due.isoformat() if due else None,
        "late_due_date": late_due.isoformat() if late_due else None,
        "late": None, "lateness_hours": None, "message": "",
    }
    if submitted and due:
        hours = (submitted - due).total_seconds() / 3600
        out["late"] = hours > 0
        out["lateness_hours"] = round(max(hours, 0.0), 3)
        out["message"] = (f"Submitted {hours:.1f} h after the due date." if hours > 0
                          else "Submitted on time.")
    return out
