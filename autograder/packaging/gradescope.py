"""Gradescope: ``autograder.zip`` and the submission metadata.

The zip's root (Gradescope unpacks it to ``/autograder/source``)::

    setup.sh          run once when Gradescope builds the image: Python 3.11, torch (CPU), dlgrade
    run_autograder    run per submission: grades /autograder/submission into
                      /autograder/results/results.json
    dlgrade/          dlgrade itself, installable with pip
    course/           course.toml + assignments/<id>/ (assignment.toml, public AND hidden tests)

``DLGRADE_GRADESCOPE_ROOT`` replaces ``/autograder`` (tests simulate the layout
in a temporary folder) and ``DLGRADE_PYTHON`` the interpreter. Whatever
happens, ``run_autograder`` leaves a ``results.json``: a rejected submission
gets score 0 and the reason, an internal failure a message.
"""

from __future__ import annotations

import json
import shlex
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder.config import Assignment
from autograder.packaging.bundle import copy_assignment, copy_dlgrade_source, write_zip

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
python3.11 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
{torch}/autograder/venv/bin/python -m pip install ./dlgrade
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. It grades /autograder/submission with the
# public and hidden tests and writes /autograder/results/results.json.
set -uo pipefail
ROOT="${{DLGRADE_GRADESCOPE_ROOT:-/autograder}}"
if [ -n "${{DLGRADE_PYTHON:-}}" ]; then PY="$DLGRADE_PYTHON"
elif [ -x /autograder/venv/bin/python ]; then PY=/autograder/venv/bin/python
else PY=python3; fi
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
META=()
if [ -f "$ROOT/submission_metadata.json" ]; then
  META=(--submission-metadata "$ROOT/submission_metadata.json")
fi
"$PY" -m autograder.cli --course "$ROOT/source/course" grade {assignment} "$ROOT/submission" \\
  --format gradescope -o "$RESULTS" "${{META[@]}}"
status=$?
if [ ! -s "$RESULTS" ]; then  # never leave Gradescope without a result
  printf '{{"score": 0, "output": "The autograder could not grade this submission (dlgrade exit %s). Your instructor can see why.", "tests": []}}\\n' "$status" > "$RESULTS"
fi
exit 0
"""


def build_autograder_zip(assignment: Assignment, out_dir: Path, *,
                         course_name: str = "course") -> Path:
    """Write ``<out_dir>/autograder.zip`` for ``assignment``; return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch = ('/autograder/venv/bin/python -m pip install "torch>=2.1,<2.14" '
             "--index-url https://download.pytorch.org/whl/cpu\n"
             if assignment.students_use_torch or _graders_use_torch(assignment) else "")
    with tempfile.TemporaryDirectory(prefix="dlgrade-gradescope-") as tmp:
        root = Path(tmp)
        (root / "setup.sh").write_text(SETUP_SH.format(torch=torch), encoding="utf-8")
        (root / "run_autograder").write_text(
            RUN_AUTOGRADER.format(assignment=shlex.quote(assignment.id)), encoding="utf-8")
        copy_dlgrade_source(root / "dlgrade")
        copy_assignment(assignment, root / "course", include_hidden=True, course_name=course_name)
        zip_path = out_dir / "autograder.zip"
        write_zip(root, zip_path, executables=("setup.sh", "run_autograder"))
    return zip_path


def _graders_use_torch(assignment: Assignment) -> bool:
    tests = assignment.root / "tests"
    return any("import torch" in p.read_text(encoding="utf-8") for p in tests.rglob("*.py"))


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
