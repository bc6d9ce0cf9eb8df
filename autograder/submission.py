"""Turning what a student hands in into a scratch folder the worker may use.

A submission is a folder, a ``.zip``, or one or more ``.py`` files. It is
copied into a fresh scratch folder (the worker's cwd); the original is never
touched. Archives are checked *before* anything is extracted: absolute paths,
``..`` components, symlinks and devices, too many entries, or too many bytes
uncompressed are refused. Folders are copied without following symlinks.

Modules that sit one folder down are found: when none of the expected modules is at
the top and exactly one folder there holds some of them (``hw2/layers.py``, as
Gradescope stores an uploaded folder, or a zip of a folder), that folder becomes the
submission.

``PreparedSubmission.problems`` maps a module name to a one-line reason when
the module cannot even be offered to the worker (missing, not UTF-8); its tests
score 0 with that reason.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.errors import SubmissionRejected

MAX_UNCOMPRESSED = 50 * 2**20
MAX_ENTRIES = 2000
SKIP_NAMES = {"__pycache__", ".git", ".ipynb_checkpoints", "__MACOSX", ".DS_Store"}


@dataclass
class PreparedSubmission:
    """A submission copied into ``directory`` (a scratch folder owned by the caller)."""

    directory: Path
    sha256: str
    problems: dict[str, str] = field(default_factory=dict)
    _tmp: tempfile.TemporaryDirectory | None = None

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _check_zip(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    infos = archive.infolist()
    if not infos:
        raise SubmissionRejected(f"{name}: the archive is empty")
    if len(infos) > MAX_ENTRIES:
        raise SubmissionRejected(f"{name}: {len(infos)} entries is over the limit of {MAX_ENTRIES}")
    total = 0
    seen: set[str] = set()
    for info in infos:
        if not info.flag_bits & 0x800 and not info.filename.isascii():
            raise SubmissionRejected(
                f"{name}: entry {info.filename!r} has a file name that is not UTF-8; "
                "rename it or re-create the zip")
        if any(ord(c) < 32 for c in info.filename):
            raise SubmissionRejected(f"{name}: entry {info.filename!r} has control characters")
        normalized = "/".join(p for p in info.filename.replace("\\", "/").split("/")
                              if p not in ("", "."))
        if normalized in seen:
            raise SubmissionRejected(f"{name}: {normalized!r} appears twice in the archive")
        seen.add(normalized)
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if info.filename.startswith(("/", "\\")) or (path.parts and ":" in path.parts[0]):
            raise SubmissionRejected(f"{name}: absolute path {info.filename!r} in the archive")
        if ".." in path.parts:
            raise SubmissionRejected(f"{name}: path {info.filename!r} escapes the archive")
        file_type = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver stored none
        if file_type and file_type not in (stat.S_IFREG, stat.S_IFDIR):
            kind = "symlink" if file_type == stat.S_IFLNK else "special file"
            raise SubmissionRejected(f"{name}: {kind} {info.filename!r} in the archive")
        total += info.file_size
        if total > MAX_UNCOMPRESSED:
            raise SubmissionRejected(
                f"{name}: more than {MAX_UNCOMPRESSED // 2**20} MiB uncompressed")
    return infos


def _extract_zip(source: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(source) as archive:
            infos = _check_zip(archive, source.name)
            for info in infos:
                parts = [p for p in PurePosixPath(info.filename.replace("\\", "/")).parts
                         if p not in ("", ".")]
                if not parts or any(p in SKIP_NAMES for p in parts):
                    continue
                target = dest.joinpath(*parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with archive.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > info.file_size:  # a lying header: stop at the declared size
                            raise SubmissionRejected(f"{source.name}: {info.filename} is corrupt")
                        out.write(chunk)
    except zipfile.BadZipFile as exc:
        raise SubmissionRejected(f"{source.name}: not a valid zip file ({exc})") from None
    _flatten_single_folder(dest)


def _flatten_single_folder(dest: Path) -> None:
    """A zip of one folder (``hw2/layers.py``) is treated as that folder's content."""
    entries = [p for p in dest.iterdir()]
    if len(entries) == 1 and entries[0].is_dir():
        _promote(entries[0], dest)


def _promote(inner: Path, dest: Path) -> None:
    """Make ``inner``, a folder directly in ``dest``, the whole of ``dest``."""
    staged = dest.parent / f".{dest.name}-inner"
    inner.rename(staged)
    shutil.rmtree(dest)
    staged.rename(dest)


def module_folder(directory: Path, modules: Sequence[str]) -> Path | None:
    """The one folder directly in ``directory`` that holds the modules, when they are one
    folder down: none of ``modules`` is a file in ``directory`` and exactly one of its
    subfolders holds at least one of them. None otherwise (including when it is ambiguous)."""
    if any((directory / m).is_file() for m in modules):
        return None
    holders = [d for d in sorted(directory.iterdir())
               if d.is_dir() and not d.is_symlink() and d.name not in SKIP_NAMES
               and any((d / m).is_file() and not (d / m).is_symlink() for m in modules)]
    return holders[0] if len(holders) == 1 else None


def _copy_folder(source: Path, dest: Path) -> None:
    total = 0
    count = 0
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if any(p in SKIP_NAMES for p in rel.parts):
            continue
        if path.is_symlink():
            continue  # never follow links out of the submission
        if path.is_dir():
            (dest / rel).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            count += 1
            total += path.stat().st_size
            if count > MAX_ENTRIES or total > MAX_UNCOMPRESSED:
                raise SubmissionRejected(
                    f"{source}: more than {MAX_ENTRIES} files or "
                    f"{MAX_UNCOMPRESSED // 2**20} MiB; submit only your modules")
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest / rel)


def _tree_sha256(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _module_problems(directory: Path, modules: Sequence[str]) -> dict[str, str]:
    problems = {}
    for module in modules:
        path = directory / module
        name = Path(module).stem
        if not path.is_file():
            problems[name] = f"{module} not found in the submission"
            continue
        raw = path.read_bytes()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems[name] = (f"{module} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset "
                              f"{exc.start}); save it as UTF-8")
    return problems


def prepare_submission(sources: Path | Sequence[Path], modules: Sequence[str]) -> PreparedSubmission:
    """Copy a submission into a new scratch folder and check its modules.

    Args:
        sources: a folder, a ``.zip`` file, or one or more ``.py`` files.
        modules: the module file names the assignment expects (``["mlp.py"]``).
    """
    paths = [Path(sources)] if isinstance(sources, (str, Path)) else [Path(s) for s in sources]
    if not paths:
        raise SubmissionRejected("no submission given")
    for path in paths:
        if not path.exists():
            raise SubmissionRejected(f"{path}: no such file or folder")
    tmp = tempfile.TemporaryDirectory(prefix="dlgrade-")
    Path(tmp.name).chmod(0o711)  # a worker running as another uid must traverse it
    directory = Path(tmp.name) / "submission"
    directory.mkdir()
    try:
        if len(paths) == 1 and paths[0].is_dir():
            _copy_folder(paths[0], directory)
        elif len(paths) == 1 and paths[0].suffix.lower() == ".zip":
            _extract_zip(paths[0], directory)
        else:
            for path in paths:
                if path.suffix != ".py" or not path.is_file():
                    raise SubmissionRejected(
                        f"{path}: expected a folder, a .zip, or .py files")
                if path.stat().st_size > MAX_UNCOMPRESSED:
                    raise SubmissionRejected(f"{path}: file too large")
                shutil.copyfile(path, directory / path.name)
        nested = module_folder(directory, modules)
        if nested is not None:
            _promote(nested, directory)
    except BaseException:
        tmp.cleanup()
        raise
    return PreparedSubmission(directory, _tree_sha256(directory),
                              _module_problems(directory, modules), tmp)
