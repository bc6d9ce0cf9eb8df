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

import errno
import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.errors import SubmissionRejected
from autograder.student_text import FILE_NAME_MAX, clean_line

MAX_UNCOMPRESSED = 50 * 2**20
MAX_ENTRIES = 2000
SKIP_NAMES = {"__pycache__", ".git", ".ipynb_checkpoints", "__MACOSX", ".DS_Store"}
#: the longest file name (one path component, in UTF-8 bytes) most file systems accept
MAX_NAME_BYTES = 255


def _quoted(name: str) -> str:
    """A file name from the submission, as a rejection quotes it: cleaned and short."""
    return repr(clean_line(name, FILE_NAME_MAX))


def _os_error_reason(exc: OSError) -> str:
    """Why the submission could not be copied or unpacked, in the student's terms."""
    name = os.path.basename(str(exc.filename or ""))
    where = f" at {_quoted(name)}" if name else ""
    if exc.errno == errno.ENAMETOOLONG:
        return f"a file name is too long{where}; use shorter names"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
        return (f"it holds a file and a folder of the same name{where}; "
                "submit each file once")
    return f"{exc.strerror or type(exc).__name__}{where}"


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
    files: set[str] = set()
    for info in infos:
        if not info.flag_bits & 0x800 and not info.filename.isascii():
            raise SubmissionRejected(
                f"{name}: entry {_quoted(info.filename)} has a file name that is not UTF-8; "
                "rename it or re-create the zip")
        if any(ord(c) < 32 for c in info.filename):
            raise SubmissionRejected(f"{name}: entry {_quoted(info.filename)} has control characters")
        normalized = "/".join(p for p in info.filename.replace("\\", "/").split("/")
                              if p not in ("", "."))
        if normalized in seen:
            raise SubmissionRejected(f"{name}: {_quoted(normalized)} appears twice in the archive")
        seen.add(normalized)
        if not info.is_dir():
            files.add(normalized)
        if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
               for part in normalized.split("/")):
            raise SubmissionRejected(
                f"{name}: entry {_quoted(info.filename)} has a file name longer than "
                f"{MAX_NAME_BYTES} bytes; use shorter names")
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if info.filename.startswith(("/", "\\")) or (path.parts and ":" in path.parts[0]):
            raise SubmissionRejected(f"{name}: absolute path {_quoted(info.filename)} in the archive")
        if ".." in path.parts:
            raise SubmissionRejected(f"{name}: path {_quoted(info.filename)} escapes the archive")
        file_type = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver stored none
        if file_type and file_type not in (stat.S_IFREG, stat.S_IFDIR):
            kind = "symlink" if file_type == stat.S_IFLNK else "special file"
            raise SubmissionRejected(f"{name}: {kind} {_quoted(info.filename)} in the archive")
        total += info.file_size
        if total > MAX_UNCOMPRESSED:
            raise SubmissionRejected(
                f"{name}: more than {MAX_UNCOMPRESSED // 2**20} MiB uncompressed")
    for entry in sorted(seen):  # a file that is also a folder of another entry ("x" and "x/mini.py")
        parts = entry.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in files:
                raise SubmissionRejected(
                    f"{name}: {_quoted('/'.join(parts[:i]))} is both a file and a folder "
                    "in the archive; submit each file once")
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
                            raise SubmissionRejected(
                                f"{source.name}: {_quoted(info.filename)} is corrupt")
                        out.write(chunk)
    except zipfile.BadZipFile as exc:
        raise SubmissionRejected(f"{source.name}: not a valid zip file ({exc})") from None
    except (zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        # corrupt compressed data, an unsupported compression method, an encrypted entry
        raise SubmissionRejected(f"{source.name}: the archive could not be unpacked "
                                 f"({clean_line(exc, 200)})") from None
    _flatten_single_folder(dest)


def _flatten_single_folder(dest: Path) -> None:
    """A zip of one folder (``hw2/layers.py``) is treated as that folder's content."""
    entries = [p for p in dest.iterdir()]
    if len(entries) == 1 and entries[0].is_dir():
        _promote(entries[0], dest)


def _promote(inner: Path, dest: Path) -> None:
    """Make ``inner``, a folder directly in ``dest``, the whole of ``dest``."""
    staged = Path(tempfile.mkdtemp(prefix=f".{dest.name}-inner-", dir=dest.parent)) / "inner"
    inner.rename(staged)
    shutil.rmtree(dest)
    staged.rename(dest)
    staged.parent.rmdir()


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
        try:
            found = path.exists()
        except OSError as exc:  # a name too long for this system, ...
            raise SubmissionRejected(f"{_quoted(str(path))}: {_os_error_reason(exc)}") from None
        if not found:
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
        return PreparedSubmission(directory, _tree_sha256(directory),
                                  _module_problems(directory, modules), tmp)
    except OSError as exc:  # a name too long, a file and a folder of one name, ...: the
        tmp.cleanup()       # student's to fix, never a crash of grading or of a batch
        source = paths[0].name if len(paths) == 1 else "the submission"
        raise SubmissionRejected(f"{source}: could not be copied or unpacked: "
                                 f"{_os_error_reason(exc)}") from None
    except BaseException:
        tmp.cleanup()
        raise
