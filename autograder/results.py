"""Grading results: the data model, the results JSON (Gradescope-compatible) and a terminal table.

The JSON is a superset of Gradescope's ``results.json``: top-level ``score``,
``max_score``, ``execution_time``, ``output``, ``tests[]`` (``name``, ``score``,
``max_score``, ``status``, ``output``, ``visibility``), plus dlgrade's own
fields: ``assignment``, ``assignment_version``, ``submission_sha256``,
``platform_version``, ``started_at``, ``finished_at``, ``isolation``,
``protections``. It is written atomically (temporary file, fsync, rename).

The same result renders, through :func:`render`, as ``json`` (the above),
``gradescope`` (Gradescope's spec only, our fields under ``extra_data``),
``junit`` (JUnit XML for CI) and ``markdown`` (a summary table).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import student_text
from autograder.errors import UsageError

#: a failure reason that cleaning left empty (escapes and control characters only)
EMPTY_REASON = "the message held only control characters and escape sequences (removed)"
VISIBLE = "visible"
AFTER_DUE_DATE = "after_due_date"


@dataclass
class TestResult:
    """The outcome of one grader test."""

    __test__ = False  # not a pytest test class, despite the name

    name: str  # "public/test_layers.py::test_relu_forward"
    description: str  # the test's docstring: the feedback line
    max_score: float
    score: float = 0.0
    status: str = "failed"  # "passed" | "failed"
    reason: str = ""  # one line, student-safe
    output: str = ""  # longer feedback: details, student traceback, captured stdout
    visibility: str = VISIBLE
    duration: float = 0.0

    def __setattr__(self, name: str, value: Any) -> None:
        # The choke point for student text: the plugin sets ``reason`` and ``output`` from
        # the worker's exceptions and output (at construction or later), and every renderer
        # reads them from here, so each is bounded and cleaned once, whoever sets it.
        bound = _TEXT_FIELDS.get(name)
        if bound is not None:
            cleaned = student_text.clean(value, bound[0], multiline=bound[1])
            if name == "reason" and value and not cleaned.strip("… "):
                cleaned = EMPTY_REASON  # nothing left to show
            value = cleaned
        object.__setattr__(self, name, value)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_gradescope(self) -> dict[str, Any]:
        lines = [self.description] if self.description else []
        if not self.passed:
            lines.append(f"Failed: {self.reason}" if self.reason else "Failed")
            if self.output:
                lines.append(self.output)
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "output": "\n".join(lines),
            "visibility": self.visibility,
            "extra_data": {"duration": round(self.duration, 4), "reason": self.reason},
        }


#: TestResult's text fields: (cap, multi-line); names and docstrings come from the graders
_TEXT_FIELDS = {"reason": (student_text.REASON_MAX, False),
                "output": (student_text.OUTPUT_MAX, True),
                "name": (student_text.REASON_MAX, False),
                "description": (student_text.REASON_MAX, False)}


def bound_tests(tests: list[TestResult], budget: int = student_text.RESULT_TEXT_MAX) -> None:
    """Cut the tests' outputs so that together they hold at most ``budget`` characters; the
    first tests keep theirs. (Each reason is within its own cap and always kept.)"""
    left = budget
    for t in tests:
        if len(t.output) > left:
            t.output = student_text.clean(t.output, left)  # at least the cut marker
        left = max(0, left - len(t.output))


@dataclass
class GradeResult:
    """A graded submission."""

    assignment: str
    assignment_version: str
    platform_version: str
    submission_sha256: str
    started_at: str
    finished_at: str
    execution_time: float
    tests: list[TestResult] = field(default_factory=list)
    output: str = ""
    isolation: str = "process"
    protections: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        bound_tests(self.tests)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "output":  # notes: module problems, from the student's import errors
            value = student_text.clean(value, student_text.NOTES_MAX)
        object.__setattr__(self, name, value)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)

    def test(self, name: str) -> TestResult:
        """The result of the test whose name is ``name`` or ends with ``::name``."""
        for t in self.tests:
            if t.name == name or t.name.endswith("::" + name):
                return t
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        bound_tests(self.tests)  # tests may have been added or changed since construction
        return {
            "score": self.score,
            "max_score": self.max_score,
            "execution_time": round(self.execution_time, 3),
            "output": self.output,
            "tests": [t.to_gradescope() for t in self.tests],
            "assignment": self.assignment,
            "assignment_version": self.assignment_version,
            "submission_sha256": self.submission_sha256,
            "platform_version": self.platform_version,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "isolation": self.isolation,
            "protections": self.protections,
        }

    def signature(self) -> list[tuple]:
        """What must be identical between two gradings of the same submission."""
        return [(t.name, t.status, t.score, t.reason) for t in self.tests]


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` so that readers see the old file or the new one."""
    write_text_atomic(path, json.dumps(data, indent=2, allow_nan=False, default=str) + "\n")


def _fmt_points(value: float) -> str:
    return f"{value:g}"


def render_table(result: GradeResult, width: int | None = None, show_hidden_reasons: bool = True) -> str:
    """A plain-text table: test, points, status, one-line reason; then the total."""
    width = width or shutil.get_terminal_size((110, 20)).columns
    rows = []
    for t in result.tests:
        label = t.name.split("::", 1)[-1]
        if t.visibility != VISIBLE:
            label += " (hidden)"
        status = "PASS" if t.passed else "FAIL"
        reason = "" if t.passed else (t.reason if show_hidden_reasons or t.visibility == VISIBLE
                                      else "")
        rows.append((label, f"{_fmt_points(t.score)}/{_fmt_points(t.max_score)}", status, reason))
    w_label = min(max([len(r[0]) for r in rows] + [4]), 48)
    w_points = max([len(r[1]) for r in rows] + [6])
    head = f"{'test':<{w_label}}  {'points':>{w_points}}  status  reason"
    lines = [head, "-" * min(width, max(len(head), 60))]
    room = max(width - w_label - w_points - 14, 20)
    for label, points, status, reason in rows:
        label = label if len(label) <= w_label else label[: w_label - 1] + "…"
        reason = textwrap.shorten(reason, room, placeholder="…") if reason else ""
        lines.append(f"{label:<{w_label}}  {points:>{w_points}}  {status:<6}  {reason}".rstrip())
    lines.append("-" * min(width, max(len(head), 60)))
    passed = sum(t.passed for t in result.tests)
    lines.append(f"total: {_fmt_points(result.score)} / {_fmt_points(result.max_score)} points "
                 f"({passed}/{len(result.tests)} tests passed) in {result.execution_time:.1f} s")
    return "\n".join(lines)


#: a results JSON test's ``output``: its description, "Failed: " and reason, and its output
_JSON_OUTPUT_MAX = student_text.OUTPUT_MAX + 2 * student_text.REASON_MAX + 16
_JSON_CAPS = {"output": _JSON_OUTPUT_MAX, "error": student_text.ERROR_MAX,
              "rejected": student_text.ERROR_MAX}
_MULTILINE_KEYS = {"output", "error", "rejected", "message"}


def _clean_json_value(value: Any, key: str) -> Any:
    if isinstance(value, str):
        return student_text.clean(value, _JSON_CAPS.get(key, student_text.REASON_MAX),
                                  multiline=key in _MULTILINE_KEYS)
    if isinstance(value, dict):
        return {student_text.clean_line(k, 200): _clean_json_value(v, str(k))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json_value(v, key) for v in value]
    return value


def clean_results_json(data: Any) -> Any:
    """A results JSON (``GradeResult.to_json``) with every string bounded and cleaned, the
    tests' outputs together within the result's budget.

    For results that did not come through ``TestResult`` here: from a grading process or a
    Dask worker, and gradebook rows written before results were cleaned where they are built.
    Cleaning clean results changes nothing.
    """
    if not isinstance(data, dict):
        return data
    data = _clean_json_value(data, "")
    tests = data.get("tests")
    if isinstance(tests, list):
        left = student_text.RESULT_TEXT_MAX + len(tests) * (2 * student_text.REASON_MAX + 16)
        for test in tests:
            if isinstance(test, dict) and isinstance(test.get("output"), str):
                if len(test["output"]) > left:
                    test["output"] = student_text.clean(test["output"], left)
                left = max(0, left - len(test["output"]))
    return data


def result_from_json(data: dict[str, Any]) -> GradeResult:
    """Rebuild a ``GradeResult`` from ``to_json`` output (for reports and tests)."""
    tests = [TestResult(name=t["name"], description="", max_score=t["max_score"], score=t["score"],
                        status=t["status"], reason=t.get("extra_data", {}).get("reason", ""),
                        output=t.get("output", ""), visibility=t.get("visibility", VISIBLE))
             for t in data["tests"]]
    fields = {k: data[k] for k in ("assignment", "assignment_version", "platform_version",
                                   "submission_sha256", "started_at", "finished_at")}
    return GradeResult(**fields, execution_time=data["execution_time"], tests=tests,
                       output=data.get("output", ""), isolation=data.get("isolation", "process"),
                       protections=data.get("protections", []))



# ---------------------------------------------------------------- output formats
FORMATS = ("json", "gradescope", "junit", "markdown")


def to_gradescope(result: GradeResult, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Gradescope's ``results.json`` exactly: only the keys its spec defines.

    dlgrade's own fields (versions, hash, isolation) go under ``extra_data``,
    which Gradescope keeps but does not show. Hidden tests are released after the
    due date, and the autograder's stdout stays with the instructors.
    """
    data = result.to_json()
    own = {k: data[k] for k in ("assignment", "assignment_version", "submission_sha256",
                                "platform_version", "started_at", "finished_at", "isolation")}
    return {
        "score": result.score,
        "execution_time": round(result.execution_time, 3),
        "output": result.output,
        "visibility": VISIBLE,
        "stdout_visibility": "hidden",
        "extra_data": {**own, **(extra or {})},
        "tests": [t.to_gradescope() for t in result.tests],
    }


def _junit_time(seconds: float) -> str:
    """Seconds as the schemas' time: digits and a decimal point, never negative."""
    return f"{max(0.0, seconds):.3f}"


def to_junit_xml(result: GradeResult) -> str:
    """JUnit XML (one ``testsuite``, one ``testcase`` per grader test) for CI dashboards.

    Valid against Jenkins' JUnit schema (``junit-10.xsd``, which Surefire's and pytest's
    output also follow). A failed test is a ``failure`` whose message is the one-line
    reason and whose text is the description and output. The points are the suite's
    ``properties``: ``score`` and ``max_score`` for the result, ``points[<test>]``
    (``"score/max"``) for each test (the schema allows no properties in a ``testcase``).
    Every string goes through :func:`student_text.clean`, so escape sequences, control
    characters and lone surrogates never reach the XML, whichever way the result was built.
    """
    from xml.etree import ElementTree as ET

    line, text = student_text.clean_line, student_text.clean
    failures = sum(not t.passed for t in result.tests)
    name = line(result.assignment) or "dlgrade"
    root = ET.Element("testsuites", name="dlgrade", tests=str(len(result.tests)),
                      failures=str(failures), errors="0", time=_junit_time(result.execution_time))
    suite = ET.SubElement(root, "testsuite", name=name, tests=str(len(result.tests)),
                          failures=str(failures), errors="0", skipped="0",
                          time=_junit_time(result.execution_time),
                          timestamp=line(result.started_at))
    props = ET.SubElement(suite, "properties")
    values = [("score", f"{result.score:g}"), ("max_score", f"{result.max_score:g}"),
              ("assignment_version", line(result.assignment_version)),
              ("platform_version", line(result.platform_version))]
    values += [(f"points[{line(t.name)}]", f"{t.score:g}/{t.max_score:g}") for t in result.tests]
    for key, value in values:
        ET.SubElement(props, "property", name=key, value=value)
    for t in result.tests:
        path, _, test = line(t.name).rpartition("::")
        classname = path.removesuffix(".py").replace("/", ".") or name
        case = ET.SubElement(suite, "testcase", classname=classname, name=test or line(t.name),
                             time=_junit_time(t.duration))
        if not t.passed:
            failure = ET.SubElement(case, "failure", message=line(t.reason) or "failed")
            failure.text = text("\n".join(x for x in (t.description, t.output) if x),
                                _JSON_OUTPUT_MAX)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _md_cell(text: str) -> str:
    """One table cell: one line, ``|`` escaped, and no HTML (a reason may hold ``<script>``)."""
    return (" ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace("|", "\\|"))


def to_markdown(result: GradeResult, *, title: str | None = None) -> str:
    """A Markdown summary: the total, then one table row per test (for CI summaries)."""
    passed = sum(t.passed for t in result.tests)
    lines = [f"### {title or result.assignment}: {_fmt_points(result.score)} / "
             f"{_fmt_points(result.max_score)} points",
             "",
             f"{passed} of {len(result.tests)} tests passed in {result.execution_time:.1f} s.",
             "",
             "| test | points | status | feedback |",
             "|---|---:|:---:|---|"]
    for t in result.tests:
        name = t.name.split("::", 1)[-1] + ("" if t.visibility == VISIBLE else " (hidden)")
        status = "✅ pass" if t.passed else "❌ fail"
        feedback = t.description if t.passed else (t.reason or t.description)
        lines.append(f"| `{name}` | {_fmt_points(t.score)}/{_fmt_points(t.max_score)} | {status} "
                     f"| {_md_cell(feedback)} |")
    if result.output:
        lines += ["", _md_cell(result.output)]
    return "\n".join(lines) + "\n"


def render(result: GradeResult, fmt: str, *, metadata: dict[str, Any] | None = None) -> str:
    """The result in one of :data:`FORMATS`, as text: the one code path behind ``--format``.

    ``metadata``: the submission's lateness (``packaging.gradescope.read_submission_metadata``),
    recorded under ``lateness`` (json) or ``extra_data.lateness`` (gradescope).
    """
    if fmt == "json":
        data = result.to_json()
        if metadata:
            data["lateness"] = metadata
        return json.dumps(data, indent=2, allow_nan=False, default=str) + "\n"
    if fmt == "gradescope":
        data = to_gradescope(result, extra={"lateness": metadata} if metadata else None)
        if metadata and metadata.get("message"):
            data["output"] = "\n".join(x for x in (data["output"], metadata["message"]) if x)
        return json.dumps(data, indent=2, allow_nan=False, default=str) + "\n"
    if fmt == "junit":
        return to_junit_xml(result)
    if fmt == "markdown":
        return to_markdown(result)
    raise ValueError(f"unknown results format {fmt!r} (known: {', '.join(FORMATS)})")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def rejected_gradescope(assignment: Any, reason: str) -> str:
    """Gradescope's results.json for a submission refused before grading: score 0, the reason."""
    data = {
        "score": 0.0,
        "execution_time": 0.0,
        "output": f"Your submission could not be graded: {reason}",
        "visibility": VISIBLE,
        "stdout_visibility": "hidden",
        "extra_data": {"assignment": assignment.id, "assignment_version": assignment.version,
                       "rejected": reason},
        "tests": [],
    }
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def parse_min_score(text: str | None, max_score: float) -> float | None:
    """``dlgrade ci --min-score``: points (``"40"``) or a percentage of ``max_score``
    (``"80%"``); ``None`` for no minimum.

    Raises:
        UsageError: neither.
    """
    if text is None:
        return None
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100 * max_score
        return float(text)
    except ValueError:
        raise UsageError(f"--min-score: expected points (e.g. 40) or a percentage (e.g. 80%), "
                         f"got {text!r}") from None


def append_step_summary(result: GradeResult, title: str) -> str | None:
    """Append the result's Markdown table to ``$GITHUB_STEP_SUMMARY`` (GitHub Actions' job
    summary) where it is set. Returns a warning to show when it cannot be written."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return None
    try:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(to_markdown(result, title=title) + "\n")
    except OSError as exc:
        return f"cannot append to GITHUB_STEP_SUMMARY ({summary}): {exc.strerror or exc}"
    return None
