"""The committed real-text corpus: what its build script says it is, and the script's
stripping of Project Gutenberg's boilerplate."""

from __future__ import annotations

import hashlib
import importlib.util

from tests.conftest import REPO

FOLDER = REPO / "assignments" / "corpora" / "shakespeare"
_spec = importlib.util.spec_from_file_location("build_excerpt", FOLDER / "build_excerpt.py")
build_excerpt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_excerpt)


def test_the_excerpt_is_the_one_the_script_builds_and_under_a_megabyte():
    data = (FOLDER / "excerpt.txt").read_bytes()
    assert hashlib.sha256(data).hexdigest() == build_excerpt.EXCERPT_SHA256
    assert 500_000 < len(data) <= build_excerpt.MAX_BYTES
    text = data.decode("ascii")
    assert "gutenberg" not in text.lower()
    assert "\r" not in text and "\n\n\n" not in text
    for opening in ("HAMLET, PRINCE OF DENMARK", "MACBETH", "THE TEMPEST"):
        assert opening in text


def test_gutenberg_header_and_footer_are_stripped():
    raw = ("The Project Gutenberg EBook of Hamlet\nRelease Date: 1998\n"
           "*** START OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\n\nHAMLET\r\n\r\n\r\n\r\n"
           "Ber.  \nWho's there?\nProduced by Project Gutenberg volunteers\n"
           "*** END OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\nEnd of license text\n")
    assert build_excerpt.normalise(build_excerpt.strip_gutenberg(raw)) == \
        "HAMLET\n\nBer.\nWho's there?\n"
