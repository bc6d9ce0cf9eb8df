"""Build the bundled example class: a few students with realistic work on every assignment.

    python examples/make_class.py OUT_DIR

writes ``OUT_DIR/<assignment>/<student>/`` (the "one folder per student" layout
that ``dlgrade grade-batch`` reads), built from the reference solutions and the
generated starters, so it can never drift from the course material:

- ann: complete and correct, on time
- ben: the first module left as the starter (partial work), on time
- cat: complete, 1.5 days late (cat has a 2-day extension on 02: on time there)
- dan: only the last module done (the rest is starter code), on time
- eve: ann's work with renamed variables and extra comments (a similarity flag)
- mallory (02 only): the cheater from examples/02-feedforward/cheater, on time

File times are set relative to the due dates in course.toml, so lateness is real.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.config import load_course  # noqa: E402


def disguise(text: str) -> str:
    """What a copier does to hide it: rename a few variables, add comments."""
    for old, new in (("cache", "saved"), ("out", "result"), ("grads", "gradients")):
        # Local names only: an attribute (self.out) is part of the interface the graders use.
        text = re.sub(rf"(?<![.\w]){old}\b", new, text)
    return "\n".join(line + "  # done" if line.rstrip().endswith(")") else line
                     for line in text.splitlines()) + "\n"


def build(out: Path) -> None:
    course = load_course(REPO)
    for assignment in course.assignments():
        modules = list(assignment.modules)
        solution, starter = assignment.solutions_dir, assignment.starter_dir
        rule = course.grading.assignments.get(assignment.id)
        due = rule.due if rule and rule.due else None
        plans = {
            "ann": ({m: solution for m in modules}, -1.0),
            "ben": ({m: starter if i == 0 else solution for i, m in enumerate(modules)}, -0.5),
            "cat": ({m: solution for m in modules}, 1.5),
            "dan": ({m: solution if i == len(modules) - 1 else starter
                     for i, m in enumerate(modules)}, -2.0),
            "eve": ({m: solution for m in modules}, -0.2),
        }
        for student, (sources, days) in plans.items():
            folder = out / assignment.id / student
            folder.mkdir(parents=True, exist_ok=True)
            for module, source_dir in sources.items():
                text = (source_dir / module).read_text(encoding="utf-8")
                (folder / module).write_text(disguise(text) if student == "eve" else text,
                                             encoding="utf-8")
            if due is not None:
                when = (due + timedelta(days=days)).timestamp()
                for path in folder.iterdir():
                    os.utime(path, (when, when))
        cheater = REPO / "examples" / assignment.id / "cheater"
        if cheater.is_dir():
            target = out / assignment.id / "mallory"
            shutil.copytree(cheater, target, dirs_exist_ok=True)
            if due is not None:
                when = (due - timedelta(days=1)).timestamp()
                for path in target.iterdir():
                    os.utime(path, (when, when))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    target = Path(sys.argv[1])
    if target.exists():
        shutil.rmtree(target)
    build(target)
    print(f"example class written to {target}")
