"""The leak check: no reference-solution code and no hidden test in student-facing files.

Every file is reduced to normalised tokens (identifiers, numbers, strings and
punctuation; whitespace and line breaks dropped, so reformatting does not hide
a copy) and cut into overlapping n-grams of ``N`` tokens. Notebooks are read
cell by cell, so JSON escaping does not hide a copy either.

Two kinds of secret:

* **solution code**: the n-grams of every ``# BEGIN SOLUTION`` region, minus
  those that the generated starter legitimately contains (signatures and
  docstrings around the regions). Any one of them in a student-facing file is a
  leak: a region's line of ``N`` tokens or more is caught in generated files
  (starter modules, notebooks, workflows). Files the instructor writes for
  students on purpose (the handout, ``tests/conftest.py``'s oracles and the public
  tests) restate the specification in code and formulas, and independent oracles
  share idioms with the reference, so there a leak is a copied block of
  ``AUTHORED_N`` tokens (about two lines).
  Specification code deliberately published is wrapped in ``<!-- leak-check:
  off -->`` ... ``<!-- leak-check: on -->`` (Markdown) or ``# leak-check: off``
  ... ``# leak-check: on`` (Python), with the reason; nothing else is exempt.
* **hidden tests**: a hidden test function is leaked when a file holds at least
  ``HIDDEN_COVERAGE`` of its n-grams (public tests share idioms with
  hidden ones, at most 64% of a test in this course); and any n-gram of a hidden file that no
  public material contains (an expected value, a hidden helper) is a leak too.

And the **course secret** (``autograder.secret``) that hidden inputs derive from: a file
named ``.dlgrade-secret``, or any file holding the secret's value, is a leak.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring import BEGIN, END, strip_solutions
from autograder.config import Assignment
from autograder.errors import UsageError
from autograder.secret import SECRET_FILE, assignment_secret

N = 10
HIDDEN_COVERAGE = 0.85
AUTHORED_N = 20  # handouts, oracles, public tests: only a copied block is a leak
_PROSE_SUFFIXES = {".md", ".rst", ".txt"}
_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|[^\s\w]")
_ALLOWED_PY = re.compile(r"^[ \t]*#\s*leak-check:\s*off\b.*?(?:^[ \t]*#\s*leak-check:\s*on\b[^\n]*|\Z)",
                         re.S | re.M)
_ALLOWED_BLOCK = re.compile(r"<!--\s*leak-check:\s*off\b.*?-->.*?(?:<!--\s*leak-check:\s*on\b.*?-->|\Z)",
                            re.S)


def tokens(text: str) -> list[str]:
    """Normalised tokens of any text (code, Markdown, YAML)."""
    return _TOKEN.findall(text)


def ngrams(text: str, n: int = N) -> set[tuple[str, ...]]:
    toks = tokens(text)
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def readable_text(path: Path) -> str | None:
    """The text of ``path`` (any UTF-8 file, whatever its suffix), exempt blocks blanked.

    None for a binary file (one with NUL bytes, or not UTF-8) or an unreadable one.
    """
    try:
        data = path.read_bytes()
        if b"\0" in data:
            return None
        raw = data.decode("utf-8")
    except (UnicodeDecodeError, OSError):
        return None
    if path.suffix.lower() in _PROSE_SUFFIXES:
        return _ALLOWED_BLOCK.sub(_blank, raw)
    return _ALLOWED_PY.sub(_blank, raw)


def _blank(match: re.Match) -> str:
    """An exempt block's replacement: its line breaks only, so line numbers stay right."""
    return "\n" * match.group(0).count("\n")


def solution_regions(source: str) -> list[tuple[int, str]]:
    """``(first line number, text)`` of every solution region in a reference module."""
    lines = source.splitlines(keepends=True)
    regions, start = [], None
    for i, line in enumerate(lines):
        if BEGIN.match(line):
            start = i + 1
        elif END.match(line) and start is not None:
            regions.append((start + 1, "".join(lines[start:i])))
            start = None
    return regions


def _test_functions(source: str) -> list[tuple[str, int, str]]:
    """``(name, line, source)`` of each top-level test function of a test module."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines(keepends=True)
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            out.append((node.name, first, "".join(lines[first - 1:node.end_lineno])))
    return out


@dataclass(frozen=True)
class Leak:
    """A student-facing file that holds secret material."""

    file: str  # the student-facing file, relative to the checked folder
    line: int  # its line (in a notebook: of the joined cell sources)
    secret: str  # what leaked: "solutions/02-feedforward/layers.py:41" or a hidden test
    excerpt: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: contains {self.secret}: {self.excerpt}"


@dataclass
class _Secret:
    label: str
    grams: set[tuple[str, ...]]
    coverage: float | None  # None: any single n-gram leaks; else the fraction that leaks


class LeakChecker:
    """The secrets of one assignment, ready to check any number of files."""

    def __init__(self, assignment: Assignment, n: int = N):
        self.n = n
        starter: set[tuple[str, ...]] = set()  # what the generated starter legitimately holds
        solution_sources = {}
        if assignment.solutions_dir and assignment.solutions_dir.is_dir():
            for path in sorted(assignment.solutions_dir.rglob("*.py")):
                text = path.read_text(encoding="utf-8")
                solution_sources[path] = text
                starter |= ngrams(strip_solutions(text, str(path))[0], n)
        tests_root = assignment.root / "tests"
        hidden_files = sorted(assignment.hidden_tests.rglob("*.py")) \
            if assignment.hidden_tests.is_dir() else []
        public = set(starter)  # hidden tests legitimately share idioms with the public ones
        for path in sorted(tests_root.rglob("*.py")) if tests_root.is_dir() else []:
            if path not in hidden_files:
                public |= ngrams(path.read_text(encoding="utf-8"), n)
        self.secrets: list[_Secret] = []
        course_root = assignment.root.parent.parent
        for path, text in solution_sources.items():
            rel = _rel(path, course_root)
            for line, region in solution_regions(text):
                grams = ngrams(region, n) - starter
                if grams:
                    self.secrets.append(_Secret(f"solution code ({rel}:{line})", grams, None))
        for path in hidden_files:
            text = path.read_text(encoding="utf-8")
            rel = _rel(path, course_root)
            unique = ngrams(text, n) - public
            if unique:
                self.secrets.append(_Secret(f"hidden test material ({rel})", unique, None))
            for name, line, func in _test_functions(text):
                grams = ngrams(func, n)
                if grams:
                    self.secrets.append(_Secret(f"hidden test {name} ({rel}:{line})", grams,
                                                HIDDEN_COVERAGE))

    def check_text(self, text: str, label: str) -> list[Leak]:
        toks = tokens(text)
        grams = [tuple(toks[i:i + self.n]) for i in range(len(toks) - self.n + 1)]
        present = set(grams)
        leaks = []
        for secret in self.secrets:
            hit = secret.grams & present
            if not hit:
                continue
            if secret.coverage is not None and len(hit) < secret.coverage * len(secret.grams):
                continue
            first = min(grams.index(g) for g in hit)
            leaks.append(Leak(label, _line_of_token(text, first), secret.label,
                              " ".join(grams[first])))
        return leaks



def _rel(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def _line_of_token(text: str, index: int) -> int:
    for i, match in enumerate(_TOKEN.finditer(text)):
        if i == index:
            return text.count("\n", 0, match.start()) + 1
    return 1


def is_authored(path: Path) -> bool:
    """Written by the instructor for students: a handout, the oracles, a public test."""
    parts = path.parts
    return (path.suffix.lower() in _PROSE_SUFFIXES or path.name == "conftest.py"
            or ("tests" in parts and "public" in parts))


def _notebook_cells(path: Path) -> list[tuple[str, bool]] | None:
    """``(text, authored)`` per cell; dlgrade's setup and test cells hold authored material."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    out = []
    for cell in cells:
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        authored = (cell.get("cell_type") == "markdown" or "dlgrader.check(" in text
                    or "NotebookGrader(" in text)
        out.append((_ALLOWED_PY.sub(_blank, text), authored))
    return out


def check_student_files(assignment: Assignment, root: Path,
                        files: Iterable[Path] | None = None) -> list[Leak]:
    """Leaks of ``assignment``'s solution code or hidden tests in the files under ``root``.

    In a notebook, each cell is judged by what it holds: dlgrade's setup and test
    cells (the oracles, the public tests) and Markdown as authored material, the
    rest (students' code cells) strictly.
    """
    root = Path(root)
    paths = sorted(files) if files is not None else sorted(p for p in root.rglob("*")
                                                           if p.is_file())
    strict, authored_checker = LeakChecker(assignment), None
    leaks: list[Leak] = []
    for path in paths:
        cells = _notebook_cells(path) if path.suffix.lower() == ".ipynb" else None
        if cells is None:
            pieces = [(readable_text(path), is_authored(path), _rel(path, root))]
        else:
            pieces = [(text, authored, f"{_rel(path, root)} (cell {i + 1})")
                      for i, (text, authored) in enumerate(cells)]
        for text, authored, label in pieces:
            if text is None:
                continue
            if authored and authored_checker is None:
                authored_checker = LeakChecker(assignment, AUTHORED_N)
            leaks += (authored_checker if authored else strict).check_text(text, label)
    return leaks + secret_leaks(assignment, root, paths)


def secret_leaks(assignment: Assignment, root: Path, paths: Iterable[Path]) -> list[Leak]:
    """The course secret in student-facing files: a secret file by its name, or the secret's
    value ($DLGRADE_SECRET or the course's file) anywhere in a file's bytes."""
    try:
        secret = assignment_secret(assignment)
    except UsageError:  # an unreadable secret file: its name is still refused below
        secret = None
    what = "the course secret (hidden tests' inputs derive from it)"
    leaks = []
    for path in paths:
        label = _rel(path, root)
        if path.name == SECRET_FILE or path.name.startswith(SECRET_FILE + "."):
            leaks.append(Leak(label, 1, what, f"a {SECRET_FILE} file"))
            continue
        if secret is None:
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        at = data.find(secret)
        if at >= 0:
            leaks.append(Leak(label, data.count(b"\n", 0, at) + 1, what,
                              "its value (not shown)"))
    return leaks
