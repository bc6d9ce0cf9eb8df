"""No package carries an assignment's planted mistakes: ``mistakes.toml`` quotes the reference
solution, so the student release, the Gradescope zip and the nbgrader and otter exports of 02
must hold neither the file nor any text found only in it (the mistaken code its ``new``
strings write, looked for inside zips and notebook cells too)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.config import Assignment, load_course
from autograder.mistakes import load_mistakes
from autograder.packaging import gradescope, nbgrader, otter, release
from tests.conftest import REPO

ASSIGNMENT = load_course(REPO).assignment("02-feedforward")


def _texts(name: str, data: bytes) -> Iterator[tuple[str, str]]:
    """(name, text) of a file, of each member of a zip, of each cell of a notebook."""
    if name.endswith((".zip", ".whl")):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield from _texts(f"{name}!{member}", zf.read(member))
        return
    text = data.decode("utf-8", errors="replace")
    yield name, text
    if name.endswith(".ipynb"):
        for i, cell in enumerate(json.loads(text)["cells"]):
            source = cell["source"]
            yield f"{name} (cell {i + 1})", "".join(source) if isinstance(source, list) else source


def shipped(folder: Path) -> dict[str, str]:
    """Every file under ``folder``, zips and notebooks opened, by name."""
    return dict(text for path in sorted(folder.rglob("*")) if path.is_file()
                for text in _texts(str(path.relative_to(folder)), path.read_bytes()))


def fingerprints(assignment: Assignment) -> list[str]:
    """The mistakes' ``new`` texts (10 characters or more) that no other file of the assignment,
    its solution or its starter holds: found in a package, they came from mistakes.toml."""
    elsewhere = [t for root in (assignment.root, assignment.solutions_dir, assignment.starter_dir)
                 for name, t in shipped(root).items() if name != "mistakes.toml"]
    found = {new for m in load_mistakes(assignment) for _, new in m.replacements
             if len(new.strip()) >= 10}
    return sorted(f for f in found if not any(f in text for text in elsewhere))


FINGERPRINTS = fingerprints(ASSIGNMENT)


def mistakes_in(folder: Path) -> list[str]:
    """Where mistakes.toml, or text only it holds, is found under ``folder``."""
    found = [name for name, text in shipped(folder).items()
             if Path(name.rsplit("!", 1)[-1]).name == "mistakes.toml"
             or any(f in text for f in FINGERPRINTS)]
    return sorted(found)


def test_the_detector_finds_the_mistakes_where_they_are():
    assert len(FINGERPRINTS) >= 5
    assert mistakes_in(ASSIGNMENT.root) == ["mistakes.toml"]


@pytest.mark.parametrize("build", [
    pytest.param(lambda out: release.build_release(ASSIGNMENT, out), id="release"),
    pytest.param(lambda out: gradescope.build_autograder_zip(ASSIGNMENT, out), id="gradescope"),
    pytest.param(lambda out: nbgrader.build_course(ASSIGNMENT, out), id="nbgrader"),
    pytest.param(lambda out: otter.build_master(ASSIGNMENT, out), id="otter"),
])
def test_no_package_carries_the_mistakes(tmp_path, build):
    build(tmp_path)
    assert any(tmp_path.rglob("*")), "the packager wrote nothing"
    assert mistakes_in(tmp_path) == []
