"""Which modules an assignment's graders import, read from its test files (never run).

Used to decide what a batch's fork server preloads (``batch/preload.py``) and whether
the trusted grading process needs torch at all (``uses_torch``): importing torch costs
about 1.5 s of CPU, and a student's ``dlgrade check`` of 01 (no torch anywhere) took
4.5-5.0 s with it, 2.5-2.8 s without.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from pathlib import Path

from autograder.config import Assignment


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


_torch_use: dict[str, tuple[tuple, bool]] = {}  # tests folder -> (files' stat signature, answer)


def _stat_signature(path: Path) -> tuple:
    try:
        st = os.stat(path)
    except OSError:  # removed while we looked: it counts as changed
        return (str(path), -1, -1)
    return (str(path), st.st_mtime_ns, st.st_size)


def uses_torch(assignment: Assignment) -> bool:
    """Whether grading ``assignment`` needs torch in the trusted process: the students may
    use it (their workers can return tensors), or a grader imports it anywhere in its
    test files (at the top or inside a function). Cached until a test file changes."""
    if assignment.students_use_torch:
        return True
    tests = assignment.root / "tests"
    signature = tuple(sorted(_stat_signature(p) for p in tests.rglob("*.py")))
    cached = _torch_use.get(str(tests))
    if cached is None or cached[0] != signature:
        answer = any(m.split(".")[0] == "torch" for m in grader_imports(assignment))
        cached = _torch_use[str(tests)] = (signature, answer)
    return cached[1]


TORCH_REQUIREMENT = "torch>=2.1,<2.14"  # the same range as pyproject.toml's `torch` extra
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def needs_torch(assignment: Assignment, include_hidden: bool = True) -> bool:
    """Whether running ``assignment``'s tests needs torch installed.

    True when its students may use torch, or when a test file (read, never run) imports it;
    ``include_hidden=False`` reads only what a student release ships (no ``tests/hidden``).
    Unlike ``grader_imports.uses_torch`` this does not ask whether torch is installed here,
    so a package built on a machine without torch still says what its users need.
    """
    if assignment.students_use_torch:
        return True
    tests = assignment.root / "tests"
    for path in sorted(tests.rglob("*.py")):
        if not include_hidden and path.relative_to(tests).parts[0] == "hidden":
            continue
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(name.split(".")[0] == "torch" for name in imported_modules(source)):
            return True
    return False


def torch_install_command(python: str = "python", index: str = TORCH_CPU_INDEX) -> str:
    """The shell command that installs torch's CPU build (about 200 MB, not 2+ GB of CUDA)
    from ``index`` (PyTorch's CPU-only index, or a mirror of it)."""
    return f'{python} -m pip install "{TORCH_REQUIREMENT}" --index-url {index}'
