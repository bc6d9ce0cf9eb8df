"""Flagging submissions whose solution code is nearly identical (winnowing, as in MOSS).

Each submission's modules are tokenised and normalised: identifiers become
``V``, numbers ``N``, strings ``S``; comments, docstrings and whitespace are
dropped, so renaming variables or reformatting does not hide copying. Every
run of ``k`` tokens is hashed, and winnowing keeps the minimum hash of every
window of ``w`` consecutive hashes: a small set of fingerprints, guaranteed
to include one from any shared run of ``w + k - 1`` tokens. Fingerprints of
the starter code, and those shared by too many students (common idioms), are
ignored.

Pairs are found through an inverted index (fingerprint -> students), so the
cost grows with the number of shared fingerprints, not with all pairs of
files. A pair's similarity is the shared fingerprints over the smaller set.
"""

from __future__ import annotations

import csv
import io
import keyword
import token
import tokenize
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.config import Assignment, Course
    from autograder.gradebook.store import Row

K_GRAM = 12
WINDOW = 8


def normalised_tokens(source: str) -> list[str]:
    """The token stream of ``source`` with names, numbers and strings abstracted."""
    out: list[str] = []
    tokens = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            tokens.append(tok)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # broken code: keep the tokens read so far
    previous = None
    for tok in tokens:
        kind = tok.type
        if kind in (token.COMMENT, token.NL, token.NEWLINE, token.INDENT, token.DEDENT,
                    token.ENDMARKER, token.ENCODING):
            previous = kind
            continue
        if kind == token.STRING and previous in (token.INDENT, token.NEWLINE, None):
            previous = kind
            continue  # a docstring or bare string statement
        if kind == token.NAME:
            out.append(tok.string if keyword.iskeyword(tok.string) else "V")
        elif kind == token.NUMBER:
            out.append("N")
        elif kind == token.STRING:
            out.append("S")
        else:
            out.append(tok.string)
        previous = kind
    return out


def fingerprints(source: str, k: int = K_GRAM, window: int = WINDOW) -> set[int]:
    """Winnowed fingerprints of ``source``."""
    toks = normalised_tokens(source)
    hashes = [zlib.crc32(" ".join(toks[i:i + k]).encode()) for i in range(len(toks) - k + 1)]
    if len(hashes) <= window:
        return set(hashes)
    return {min(hashes[i:i + window]) for i in range(len(hashes) - window + 1)}


@dataclass(frozen=True)
class SimilarPair:
    student_a: str
    student_b: str
    similarity: float  # shared fingerprints / the smaller fingerprint set
    shared: int


def similar_pairs(sources: dict[str, str], starter: str = "", threshold: float = 0.8,
                  common_fraction: float = 0.5, min_fingerprints: int = 5) -> list[SimilarPair]:
    """Pairs of students whose code is at least ``threshold`` similar, most similar first.

    Args:
        sources: student -> their code (all modules concatenated).
        starter: the starter code; its fingerprints are ignored.
        common_fraction: ignore fingerprints found in more than this fraction of
            submissions (shared idioms), in classes of at least 10 submissions.
        min_fingerprints: submissions with fewer fingerprints are too small to compare.
    """
    ignore = fingerprints(starter) if starter else set()
    prints = {s: fingerprints(code) - ignore for s, code in sources.items()}
    index: dict[int, list[str]] = defaultdict(list)
    for student, fps in prints.items():
        for fp in fps:
            index[fp].append(student)
    limit = max(2, int(common_fraction * len(prints))) if len(prints) >= 10 else len(prints)
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for students in index.values():
        if len(students) > limit:
            continue
        ordered = sorted(students)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                shared[(a, b)] += 1
    pairs = []
    for (a, b), count in shared.items():
        smaller = min(len(prints[a]), len(prints[b]))
        if smaller < min_fingerprints:
            continue
        score = count / smaller
        if score >= threshold:
            pairs.append(SimilarPair(a, b, round(score, 4), count))
    return sorted(pairs, key=lambda p: (-p.similarity, p.student_a, p.student_b))


def concatenated_modules(files: Iterable[tuple[str, str]]) -> str:
    """Join ``(name, text)`` module sources in name order (a stable input for fingerprints)."""
    return "\n".join(text for _, text in sorted(files))


def assignment_sources(rows, modules: list[str]) -> dict[str, str]:
    """Student -> their modules' code, read again from where each graded submission came from.

    Submissions whose source is gone (moved, deleted) or is rejected are left out.
    """
    from pathlib import Path

    from autograder.errors import SubmissionRejected
    from autograder.submission import prepare_submission

    sources = {}
    for row in rows:
        if row.status != "graded" or not row.source or not Path(row.source).exists():
            continue
        try:
            prepared = prepare_submission(Path(row.source), modules)
        except SubmissionRejected:
            continue
        try:
            files = [(m, (prepared.directory / m).read_text(encoding="utf-8", errors="replace"))
                     for m in modules if (prepared.directory / m).is_file()]
        finally:
            prepared.cleanup()
        sources[row.student] = concatenated_modules(files)
    return sources


def starter_code(assignment: Assignment) -> str:
    """The assignment's starter modules joined in name order ("" without a starter)."""
    return "\n".join(
        (assignment.starter_dir / m).read_text(encoding="utf-8") for m in sorted(assignment.modules)
        if assignment.starter_dir and (assignment.starter_dir / m).is_file())


def class_similarity(course: Course, assignments: list[str], rows: list[Row],
                     threshold: float = 0.8) -> dict[str, list[SimilarPair]]:
    """Assignment id -> its flagged pairs (at least ``threshold`` similar, starter code
    ignored), from the latest ``rows`` of a gradebook."""
    flags = {}
    for ident in assignments:
        a = course.assignment(ident)
        sources = assignment_sources([r for r in rows if r.assignment == ident], list(a.modules))
        flags[ident] = similar_pairs(sources, starter_code(a), threshold)
    return flags


SIMILARITY_CSV_HEADER = ("assignment", "student_a", "student_b", "similarity", "shared")


def similarity_csv(flags: dict[str, list[SimilarPair]]) -> str:
    """The flagged pairs as CSV, one row per pair: ``SIMILARITY_CSV_HEADER``'s columns."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SIMILARITY_CSV_HEADER)
    for ident, pairs in flags.items():
        for p in pairs:
            writer.writerow([ident, p.student_a, p.student_b, p.similarity, p.shared])
    return out.getvalue()
