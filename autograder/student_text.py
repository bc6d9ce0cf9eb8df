"""Cleaning text that came from a submission before it reaches any output.

Student-originated text (failure reasons, exception messages, captured output,
tracebacks, file names from archives) is untrusted: it may be megabytes long, hold
control characters and ANSI/OSC escape sequences that repaint a terminal, NUL bytes
that make XML invalid, or lone surrogates that no UTF-8 writer accepts. Every path
that puts such text into a result, a gradebook row or a rendered file goes through
:func:`clean` (or :func:`clean_line`), which

- bounds it: at most ``limit`` characters, the cut marked ``… [N characters cut]``;
  at most ``SCAN_FACTOR * limit`` characters of the input are ever looked at, so
  cleaning 16 MiB costs as much as cleaning a few kilobytes;
- removes ANSI escape sequences (CSI, OSC, DCS and the other string sequences, two-byte
  escapes, their 8-bit forms), C0 and C1 control characters, DEL, carriage returns,
  Unicode line/paragraph separators, bidirectional overrides and the XML-invalid
  U+FFFE/U+FFFF; ``\\n`` and ``\\t`` stay in multi-line fields, become spaces in one-line
  ones;
- replaces lone surrogates (and undecodable bytes, when given ``bytes``) by U+FFFD.

The caps below are what ``results.py`` applies where results are built.
"""

from __future__ import annotations

import re

#: a test's one-line failure reason
REASON_MAX = 1000
#: a test's longer output: details, the student's traceback, what the code printed
OUTPUT_MAX = 8000
#: a result's own notes (module problems)
NOTES_MAX = 8000
#: every reason and output of one result together
RESULT_TEXT_MAX = 100_000
#: why a submission could not be graded (a batch's error row, a rejection)
ERROR_MAX = 2000
#: a file name from an archive, quoted in a rejection
FILE_NAME_MAX = 80
#: how much of the input is looked at, as a multiple of the limit
SCAN_FACTOR = 4

REPLACEMENT = "\ufffd"

_ESCAPES = (
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI: colours, cursor movement
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC, DCS..
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # two-byte escapes (ESC 7, ESC c, ...)
)
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff"
_REMOVE_MULTI = re.compile(_ESCAPES + f"|[{_CONTROLS}]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_UNSAFE = re.compile(f"[\x1b\x0d{_CONTROLS}\ud800-\udfff]")


def cut_marker(count: int) -> str:
    return f"… [{count} characters cut]"


def _strip(text: str, multiline: bool) -> str:
    if not _UNSAFE.search(text) and (multiline or ("\n" not in text and "\t" not in text)):
        return text
    text = _SURROGATES.sub(REPLACEMENT, text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _REMOVE_MULTI.sub("", text)
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def clean(text: object, limit: int = OUTPUT_MAX, *, multiline: bool = True) -> str:
    """``text`` made safe for any output and at most ``limit`` characters long (the cut
    marker alone when ``limit`` is shorter than it).

    ``bytes`` are decoded as UTF-8 (undecodable bytes become U+FFFD); anything else
    that is not a ``str`` is converted with ``str()``. ``multiline=False`` also turns
    line breaks and tabs into spaces.
    """
    if text is None:
        return ""
    limit = max(0, limit)
    scan = SCAN_FACTOR * limit + 64
    if isinstance(text, (bytes, bytearray)):
        total, window = len(text), bytes(text[:scan]).decode("utf-8", "replace")
    else:
        text = text if isinstance(text, str) else str(text)
        total, window = len(text), text[:scan]
    cleaned = _strip(window, multiline)
    if scan >= total and len(cleaned) <= limit:
        return cleaned
    # keep as much as fits with the marker; the marker counts what is not shown (characters
    # of the cleaned window past the cut, and every character never looked at)
    keep = max(0, limit - len(cut_marker(total)))
    cut = max(0, len(cleaned) - keep) + max(0, total - scan)
    if cut <= 0:
        return cleaned
    return cleaned[:keep] + cut_marker(cut)


def clean_line(text: object, limit: int = REASON_MAX) -> str:
    """:func:`clean` for a one-line field: line breaks and tabs become spaces."""
    return clean(text, limit, multiline=False)


def is_clean(text: str) -> bool:
    """True when ``text`` holds nothing :func:`clean` would remove or replace (tests, asserts)."""
    return not _UNSAFE.search(text) and not _REMOVE_MULTI.search(text)
