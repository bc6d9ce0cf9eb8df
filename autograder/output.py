"""Writing the files a user asked for (results, reports, packages): a failure is an
``OutputNotWritable`` that names what and where, never an ``OSError`` traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from autograder.errors import OutputNotWritable
from autograder.results import write_text_atomic


@contextmanager
def writing(what: str, path: Path) -> Iterator[None]:
    """Turn an ``OSError`` raised inside the block into ``OutputNotWritable``: "cannot write
    the {what} to {path}: {reason}"."""
    try:
        yield
    except OSError as exc:
        raise OutputNotWritable(f"cannot write the {what} to {path}: "
                                f"{exc.strerror or exc}") from None


def write_output(path: Path, text: str, what: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, creating its folder; ``what`` names the
    file in the error ("results JSON", "report")."""
    with writing(what, path):
        write_text_atomic(path, text)
