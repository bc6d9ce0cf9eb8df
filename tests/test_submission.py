"""Preparing submissions: folders, .py files, and zips that are refused before extraction."""

from __future__ import annotations

import stat
import zipfile

import pytest

from autograder.errors import SubmissionRejected
from autograder.submission import MAX_UNCOMPRESSED, prepare_submission

MODULES = ["mini.py"]


def make_zip(path, entries):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_folder_is_copied_without_symlinks(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "mini.py").write_text("x = 1\n")
    (src / "link.py").symlink_to("/etc/passwd")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "junk.pyc").write_bytes(b"\0")
    prepared = prepare_submission(src, MODULES)
    try:
        assert sorted(p.name for p in prepared.directory.iterdir()) == ["mini.py"]
        assert prepared.problems == {}
        assert len(prepared.sha256) == 64
    finally:
        prepared.cleanup()
    assert not prepared.directory.exists()


def test_py_files_and_missing_module(tmp_path):
    other = tmp_path / "other.py"
    other.write_text("y = 2\n")
    prepared = prepare_submission([other], MODULES)
    try:
        assert prepared.problems == {"mini": "mini.py not found in the submission"}
    finally:
        prepared.cleanup()


def test_non_utf8_source_is_reported(tmp_path):
    (tmp_path / "mini.py").write_bytes(b"x = '\xff\xfe'\n")
    prepared = prepare_submission(tmp_path / "mini.py", MODULES)
    try:
        assert prepared.problems["mini"].startswith("mini.py is not valid UTF-8 (byte 0xff")
    finally:
        prepared.cleanup()


def test_zip_with_single_top_folder_is_flattened(tmp_path):
    archive = make_zip(tmp_path / "s.zip", {"hw/mini.py": "x = 1\n", "hw/notes.txt": "hi"})
    prepared = prepare_submission(archive, MODULES)
    try:
        assert sorted(p.name for p in prepared.directory.iterdir()) == ["mini.py", "notes.txt"]
    finally:
        prepared.cleanup()


def test_same_content_gives_same_hash(tmp_path):
    a = make_zip(tmp_path / "a.zip", {"mini.py": "x = 1\n"})
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "mini.py").write_text("x = 1\n")
    pa, pb = prepare_submission(a, MODULES), prepare_submission(tmp_path / "d", MODULES)
    try:
        assert pa.sha256 == pb.sha256
    finally:
        pa.cleanup()
        pb.cleanup()


@pytest.mark.parametrize("name, message", [
    ("../evil.py", "escapes the archive"),
    ("a/../../evil.py", "escapes the archive"),
    ("/etc/evil.py", "absolute path"),
    ("C:/evil.py", "absolute path"),
])
def test_zip_path_traversal_is_refused_before_extraction(tmp_path, name, message):
    archive = make_zip(tmp_path / "s.zip", {"mini.py": "x = 1\n", name: "boom"})
    with pytest.raises(SubmissionRejected, match=message):
        prepare_submission(archive, MODULES)
    assert not (tmp_path / "evil.py").exists()


def test_zip_symlink_is_refused(tmp_path):
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("mini.py")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(SubmissionRejected, match="symlink"):
        prepare_submission(path, MODULES)


def test_zip_bomb_is_refused_by_declared_size(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mini.py", b"0" * (MAX_UNCOMPRESSED + 1))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(SubmissionRejected, match="uncompressed"):
        prepare_submission(path, MODULES)


def test_not_a_zip(tmp_path):
    path = tmp_path / "s.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(SubmissionRejected, match="not a valid zip"):
        prepare_submission(path, MODULES)


def test_missing_path(tmp_path):
    with pytest.raises(SubmissionRejected, match="no such file"):
        prepare_submission(tmp_path / "nope", MODULES)
