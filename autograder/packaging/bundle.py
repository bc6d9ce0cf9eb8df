"""Copying an assignment's graders, and dlgrade's own source, into a package."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import tomli_w

import autograder
from autograder.config import Assignment
from autograder.errors import ConfigError

_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def copy_assignment(assignment: Assignment, course_dir: Path, *, include_hidden: bool,
                    course_name: str = "course") -> Path:
    """Make ``course_dir`` a minimal course holding ``assignment``: toml, tests, data, and
    the corpora it names (``assignments/corpora/<name>/excerpt.txt``, where its graders look).

    Without ``include_hidden`` the ``tests/hidden`` folder is left out. Returns the
    assignment's folder inside ``course_dir``.

    Raises:
        ConfigError: a corpus the assignment names is missing.
    """
    course_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / "course.toml").write_text(
        "# A course folder for dlgrade: the assignment's graders are under assignments/.\n"
        + tomli_w.dumps({"name": course_name}), encoding="utf-8")
    dest = course_dir / "assignments" / assignment.id
    dest.mkdir(parents=True)
    shutil.copy2(assignment.root / "assignment.toml", dest / "assignment.toml")
    tests = assignment.root / "tests"
    for path in sorted(tests.rglob("*")):
        rel = path.relative_to(tests)
        if (not path.is_file() or "__pycache__" in rel.parts
                or (not include_hidden and rel.parts[0] == "hidden")):
            continue
        (dest / "tests" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / "tests" / rel)
    if assignment.data_dir.is_dir():
        shutil.copytree(assignment.data_dir, dest / "data", ignore=_SKIP)
    for corpus in assignment.corpus_files:
        if not corpus.is_file():
            raise ConfigError(f"{assignment.id}: the corpus it names is missing: {corpus}")
        target = course_dir / "assignments" / corpus.relative_to(assignment.root.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(corpus, target)
    return dest


def copy_dlgrade_source(dest: Path) -> Path:
    """A buildable copy of dlgrade's source tree: pyproject.toml, README.md and the package
    (no caches, no build leftovers). Needs the source tree: dlgrade installed with ``-e``."""
    package = Path(autograder.__file__).resolve().parent
    project = package.parent
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(package, dest / "autograder", ignore=_SKIP)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(project / name, dest / name)
    return dest


_ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed, with a fixed order: the same inputs give the same zip


def write_zip(folder: Path, zip_path: Path, *, base: Path | None = None,
              executables: tuple[str, ...] = ()) -> list[str]:
    """Zip every file under ``folder`` reproducibly, replacing ``zip_path`` atomically.

    Names inside the zip are relative to ``base`` (default: ``folder``); those in
    ``executables`` get mode 755, the others 644. Returns the names written.
    """
    base = base or folder
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_zip = zip_path.with_name(f".{zip_path.name}.tmp")
    names = []
    with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(base).as_posix()
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name in executables else 0o644) << 16
            zf.writestr(info, path.read_bytes())
            names.append(name)
    tmp_zip.replace(zip_path)
    return names
