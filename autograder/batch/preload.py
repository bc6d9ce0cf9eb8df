"""What a pool of grading processes imports once, before it forks them.

Every grading process of ``grade-batch --jobs N`` is forked from one fork
server. Whatever the fork server has imported, each grading process shares
copy-on-write instead of importing it again: importing scikit-learn alone costs
about 2 s of CPU, which each of N grading processes would otherwise pay on its
first submission.

The list is the platform's own imports plus the third-party modules that an
assignment's graders import (found by reading the test files, never by running
them). Modules of the course itself (the assignment's tests and data, a
student's module names) are never preloaded: the fork server only imports
installed libraries.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

from autograder.config import Assignment

# torch.fx.experimental.symbolic_shapes (and sympy with it, 0.5 s) is what torch imports
# lazily on the first backward(): the graders' autograd oracles would pay it once per process.
PLATFORM_PRELOAD = ["numpy", "torch", "torch.fx.experimental.symbolic_shapes", "pytest",
                    "autograder.grading", "autograder.plugin"]


def imported_modules(source: str) -> set[str]:
    """Absolute module names imported anywhere in ``source`` (top level or inside functions).

    ``import a.b as c`` gives ``a.b``; ``from a.b import c`` gives ``a.b`` (``c`` may be a
    name, not a module). Relative imports are left out. Unparsable source gives nothing.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _installed_outside(top: str, course_dirs: list[Path]) -> bool:
    """Whether top-level package ``top`` is an installed library, not a file of the course."""
    if top in sys.builtin_module_names:
        return True
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    locations = [spec.origin] if spec.origin not in (None, "built-in", "frozen") else []
    locations += list(spec.submodule_search_locations or [])
    cwd = Path.cwd().resolve()
    for loc in map(lambda x: Path(x).resolve(), locations):
        if loc.parent == cwd or any(loc.is_relative_to(d) for d in course_dirs):
            return False
    return True


def grader_imports(assignment: Assignment) -> list[str]:
    """Installed modules that ``assignment``'s graders import, sorted.

    Reads every ``*.py`` under the assignment's ``tests/`` folder. Leaves out the
    student's module names, and anything that resolves inside the course material
    (the assignments, solutions and starter folders, and modules directly in the
    current directory, which is on ``sys.path`` when dlgrade runs from the course root).
    """
    student = set(assignment.module_names)
    course_dirs = [d.resolve() for d in (assignment.root.parent, assignment.solutions_dir,
                                         assignment.starter_dir) if d is not None]
    found: set[str] = set()
    for path in sorted((assignment.root / "tests").rglob("*.py")):
        try:
            found |= imported_modules(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    keep = []
    for name in sorted(found):
        top = name.split(".")[0]
        if top in student or top in ("autograder", "__future__"):
            continue
        if _installed_outside(top, course_dirs):
            keep.append(name)
    return keep


def preload_for(assignment: Assignment) -> list[str]:
    """The fork server's preload list for grading ``assignment``: the platform's, then its graders'."""
    extra = [m for m in grader_imports(assignment) if m not in PLATFORM_PRELOAD]
    return PLATFORM_PRELOAD + extra
