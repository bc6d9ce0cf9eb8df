"""Student text is bounded and cleaned, and every renderer survives the same hostile strings.

The hostile strings are what issue 21 found reaching outputs: 16 MiB of control characters,
a lone surrogate, ANSI colour, cursor movement and OSC sequences faking a "45/45 PASS" line,
NUL bytes, text closing an XML element, a ``<script>`` tag and a 310-character file name.
Each renderer is fed them twice: through ``TestResult`` (where results are built, so cleaned
there) and as raw dicts, as a gradebook row written before cleaning existed holds them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest

from autograder import student_text as st
from autograder.config import CanvasSettings, parse_grading
from autograder.gradebook.export import render_csv
from autograder.gradebook.export import render_table as gradebook_table
from autograder.gradebook.policy import CourseGrades, compute_grades
from autograder.gradebook.store import Gradebook
from autograder.lms.canvas import render_canvas
from autograder.report.feedback import feedback_markdown, write_feedback
from autograder.report.html import render_report
from autograder.results import (
    EMPTY_REASON,
    GradeResult,
    TestResult,
    bound_tests,
    clean_results_json,
    render,
    render_table,
    result_from_json,
    to_junit_xml,
    write_json_atomic,
)

MIB16 = 16 * 2**20
CONTROLS_16MIB = "\x01\x02\x07\x1b" * (MIB16 // 4)  # 16 MiB of control characters
SURROGATE = "bad \ud800 text"
FAKE_PASS = ("\x1b[2J\x1b[H\x1b]0;owned\x07\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"
             "\r\x1b[1A\x1b[K\x9b32m\x1b[32mtest_add   1/1  PASS\x1b[0m\n"
             "\x1b[32mtotal: 45 / 45 points (45/45 tests passed)\x1b[0m\u202e")
NUL = "nul\x00byte\x00"
XML_BREAK = "]]></failure></testcase><testcase name=\"forged\"/><![CDATA[x]]>"
SCRIPT = "<script>alert('x')</script>"
LONG_NAME = "a" * 310 + ".py"
HOSTILE = {"controls": CONTROLS_16MIB, "surrogate": SURROGATE, "ansi": FAKE_PASS, "nul": NUL,
           "xml": XML_BREAK, "script": SCRIPT, "long-name": LONG_NAME}

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def assert_safe(text: str, limit: int | None = None) -> None:
    """No control character but newline and tab, no escape, no surrogate; UTF-8 encodable."""
    found = _UNSAFE.search(text)
    assert found is None, f"unsafe {found.group()!r} at {found.start()}"
    text.encode("utf-8")
    if limit is not None:
        assert len(text) <= limit


def all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from all_strings(k)
            yield from all_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from all_strings(v)


# ---------------------------------------------------------------------------------- the cleaner


def test_long_text_is_cut_to_the_limit_with_a_marker():
    assert st.clean("x" * 20_000, 8000) == "x" * 7976 + "… [12024 characters cut]"
    assert len(st.clean("x" * 20_000, 8000)) == 8000
    assert st.clean("x" * 8000, 8000) == "x" * 8000  # exactly the limit: untouched


def test_16_mib_of_control_characters_leaves_only_the_marker():
    # what it costs: benchmarks/student_text_cost.py
    out = st.clean(CONTROLS_16MIB, st.OUTPUT_MAX)
    line = st.clean_line(CONTROLS_16MIB, st.REASON_MAX)
    # only 4 * limit + 64 characters are looked at; the rest is counted as cut
    assert out == f"… [{MIB16 - (4 * st.OUTPUT_MAX + 64)} characters cut]"
    assert line == f"… [{MIB16 - (4 * st.REASON_MAX + 64)} characters cut]"


def test_escapes_and_control_characters_go_newlines_and_tabs_stay_where_multiline():
    assert st.clean(FAKE_PASS) == (
        "link\ntest_add   1/1  PASS\ntotal: 45 / 45 points (45/45 tests passed)")
    assert st.clean_line(FAKE_PASS) == (
        "link test_add   1/1  PASS total: 45 / 45 points (45/45 tests passed)")
    assert st.clean("a\tb\nc\r\nd\x00e\x7f\x85f") == "a\tb\nc\ndef"
    assert st.clean_line("a\tb\nc") == "a b c"
    # OSC ended by BEL or ST, DCS, 8-bit CSI, two-byte escapes, an unterminated OSC
    assert st.clean("1\x1b]2;t\x1b\\2\x1bP+q\x1b\\3\x9b2J4\x1b75\x1b]0;never ends") == "12345"


def test_surrogates_and_undecodable_bytes_become_the_replacement_character():
    assert st.clean(SURROGATE) == "bad \ufffd text"
    assert st.clean("\udcff\ud83d") == "\ufffd\ufffd"
    assert st.clean(b"ok\xff\xfe\x00!") == "ok\ufffd\ufffd!"


def test_clean_is_idempotent_and_leaves_honest_text_alone():
    honest = "AssertionError: max abs error 0.5 > 1e-06 (at index [2, 3])\n  File \"mlp.py\", line 4"
    assert st.clean(honest) == honest
    assert st.clean_line("ValueError: shapes (3,4) and (5,) — ü ∑ 漢字") == (
        "ValueError: shapes (3,4) and (5,) — ü ∑ 漢字")
    for text in HOSTILE.values():
        once = st.clean(text, 500)
        assert st.clean(once, 500) == once
        assert_safe(once, 500)
        assert st.is_clean(once)


# ---------------------------------------------------------------------------------- results


def hostile_result() -> GradeResult:
    """Results as the plugin builds them: reasons and outputs set on existing TestResults."""
    tests = [TestResult(name="public/test_mini.py::test_ok", description="passes",
                        max_score=1, score=1, status="passed")]
    for key, text in HOSTILE.items():
        t = TestResult(name=f"public/test_mini.py::test_{key}", description=f"{key} case",
                       max_score=1)
        t.reason, t.output = text, f"Your code printed:\n{text}"
        tests.append(t)
    return GradeResult("90-mini", "1.0.0", "0.1", "f" * 64, "2026-01-01T00:00:00+00:00",
                       "2026-01-01T00:00:01+00:00", 1.0, tests,
                       output=f"importing mini.py raised ImportError: {FAKE_PASS}{CONTROLS_16MIB}")


@pytest.fixture(scope="module")
def result() -> GradeResult:
    return hostile_result()


def test_test_results_are_bounded_where_they_are_built(result):
    by_key = {t.name.rsplit("_", 1)[-1]: t for t in result.tests}
    controls = result.test("test_controls")
    assert controls.reason == f"… [{MIB16 - 4064} characters cut]"
    # "Your code printed:\n" (19 characters) + 16 MiB: 4 * 8000 + 64 looked at
    assert controls.output == "Your code printed:\n" + f"… [{MIB16 + 19 - 32064} characters cut]"
    assert result.test("test_surrogate").reason == "bad \ufffd text"
    assert result.test("test_nul").reason == "nulbyte"
    assert result.test("test_long-name").reason == LONG_NAME  # 313 characters: under the cap
    for t in result.tests:
        assert_safe(t.reason, st.REASON_MAX)
        assert_safe(t.output, st.OUTPUT_MAX)
    assert result.output.startswith("importing mini.py raised ImportError: link\ntest_add")
    assert_safe(result.output, st.NOTES_MAX)
    assert by_key  # every hostile case is there
    assert len(result.tests) == len(HOSTILE) + 1


def test_a_reason_that_cleaning_empties_says_so():
    t = TestResult(name="t::test_x", description="", max_score=1)
    t.reason = "\x1b[2J\x01" * 100 + "…"  # as the plugin cuts a long first line
    assert t.reason == EMPTY_REASON
    t.reason = ""
    assert t.reason == ""


def test_a_results_text_in_total_is_bounded():
    tests = [TestResult(name=f"t::test_{i}", description="", max_score=1, output="y" * 20_000)
             for i in range(45)]  # each cut to OUTPUT_MAX on its own: 45 * 8000 = 360,000
    bound_tests(tests)
    total = sum(len(t.output) for t in tests)
    assert tests[0].output == tests[11].output  # the first 12 keep their 8000
    assert len(tests[12].output) == st.RESULT_TEXT_MAX - 12 * st.OUTPUT_MAX  # 4000
    assert tests[13].output.startswith("… [") and len(tests[13].output) < 30
    assert total <= st.RESULT_TEXT_MAX + 32 * 30, total


def test_terminal_table_has_one_line_per_test_and_ends_with_the_total(result):
    table = render_table(result, width=120)
    assert_safe(table)
    lines = table.splitlines()
    assert len(lines) == 2 + len(result.tests) + 2
    assert lines[-1].startswith("total: 1 / 8 points (1/8 tests passed)")
    assert "\x1b" not in table and "45 / 45" in lines[2 + 3]  # the fake line is inert text


@pytest.mark.parametrize("fmt", ["json", "gradescope"])
def test_json_outputs_parse_are_clean_and_small(result, fmt, tmp_path):
    text = render(result, fmt)
    assert len(text.encode("utf-8")) < 200_000, len(text)
    data = json.loads(text)
    for s in all_strings(data):
        assert_safe(s)
    write_json_atomic(tmp_path / "r.json", data)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == data


def test_junit_xml_parses_and_holds_no_nul_or_escape(result):
    xml = to_junit_xml(result)
    assert "\x00" not in xml and "\x1b" not in xml
    root = ET.fromstring(xml.encode("utf-8"))
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [t.name.split("::")[1] for t in result.tests]
    failures = {c.get("name"): c.find("failure") for c in cases}
    assert failures["test_xml"].get("message") == XML_BREAK  # text, not markup
    assert failures["test_script"].get("message") == SCRIPT
    assert failures["test_surrogate"].get("message") == "bad \ufffd text"
    assert failures["test_ok"] is None


def test_markdown_has_one_row_per_test_and_no_html(result):
    md = render(result, "markdown")
    assert_safe(md)
    rows = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(rows) == len(result.tests)
    assert "<script>" not in md and "&lt;script&gt;" in md


def raw_results(text: str = CONTROLS_16MIB) -> dict:
    """A results JSON as an old gradebook row may hold it: raw student text everywhere."""
    tests = [{"name": f"public/test_mini.py::test_{key}{value[:50]}", "score": 0, "max_score": 1,
              "status": "failed", "output": f"{key}.\nFailed: {value}\n{text}",
              "visibility": "visible", "extra_data": {"reason": value, "duration": 0.1}}
             for key, value in HOSTILE.items()]
    tests.append({"name": "hidden/test_h.py::test_hidden", "score": 1, "max_score": 1,
                  "status": "passed", "output": "", "visibility": "after_due_date",
                  "extra_data": {"reason": ""}})
    return {"score": 1, "max_score": len(tests), "execution_time": 1.0,
            "output": FAKE_PASS + text, "tests": tests, "assignment": "90-mini",
            "assignment_version": "1.0.0", "submission_sha256": "f" * 64,
            "platform_version": "0.1", "started_at": "2026-01-01T00:00:00+00:00",
            "finished_at": "2026-01-01T00:00:01+00:00", "isolation": "process",
            "protections": ["separate-process", SURROGATE]}


def test_raw_results_are_cleaned_for_every_renderer():
    raw = raw_results()
    data = clean_results_json(raw)
    assert len(json.dumps(data)) < 1_000_000
    for s in all_strings(data):
        assert_safe(s)
    assert clean_results_json(data) == data  # cleaning clean results changes nothing
    rebuilt = result_from_json(raw)  # a results file written before cleaning
    for fmt in ("json", "gradescope", "junit", "markdown"):
        assert_safe(render(rebuilt, fmt))
    ET.fromstring(render(rebuilt, "junit").encode("utf-8"))


# ---------------------------------------------------------------------------------- gradebook


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory):
    """A gradebook with hostile rows: one added now, one written raw as an old version would."""
    book = Gradebook(tmp_path_factory.mktemp("book") / "gb.sqlite")
    book.add(student="new", assignment="90-mini", sha256="h", status="graded",
             platform_version="0.1", assignment_version="1.0.0", results=raw_results())
    book.add(student="err", assignment="90-mini", sha256="", status="error",
             platform_version="0.1", assignment_version="1.0.0",
             error=f"could not be unpacked {LONG_NAME} {FAKE_PASS} {CONTROLS_16MIB}")
    old = json.dumps(raw_results("\x1b[2J" * 100_000))  # lone surrogates stored as \ud800
    # (sqlite3 cannot bind a lone surrogate itself: only JSON escapes can hold one)
    with book.conn:
        for student, status, results, error in (
                ("old", "graded", old, None), ("olderr", "error", None, FAKE_PASS + NUL)):
            book.conn.execute(
                "INSERT INTO results (student, assignment, sha256, graded_at, status, score,"
                " max_score, execution_time, platform_version, assignment_version, error,"
                " results_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (student, "90-mini", "h", datetime.now(UTC).isoformat(), status,
                 1 if results else None, 8 if results else None, 1.0 if results else None,
                 "0.1", "1.0.0", error, results))
    yield book
    book.close()


def test_gradebook_rows_are_bounded_on_write_and_clean_on_read(hostile_book):
    sizes = dict(hostile_book.conn.execute(
        "SELECT student, length(coalesce(results_json, '')) + length(coalesce(error, ''))"
        " FROM results"))
    assert sizes["new"] < 1_000_000 and sizes["err"] <= st.ERROR_MAX  # from 16 MiB each
    assert sizes["old"] > 1_000_000  # the old row as it was written
    for row in hostile_book.latest():
        for s in all_strings(row.results or {}):
            assert_safe(s)
        assert_safe(row.error or "", st.ERROR_MAX)
    assert hostile_book.latest_for("olderr", "90-mini").error == (
        "link\ntest_add   1/1  PASS\ntotal: 45 / 45 points (45/45 tests passed)nulbyte")


@pytest.fixture(scope="module")
def hostile_grades(hostile_book):
    policy = parse_grading({"assignments": {"90-mini": {}}}, "course.toml")
    rows = hostile_book.latest()
    students = ["err", "missing\x1b[2J", "new", "old", "olderr"]
    grades = compute_grades(policy, rows, ["90-mini"], {"90-mini": 8}, students)
    return CourseGrades(grades, ["90-mini"], {"90-mini": "Mini"}, {"90-mini": 8}, 30), rows


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_feedback_is_written_for_every_student(hostile_grades, hostile_book, tmp_path, fmt):
    cg, rows = hostile_grades
    by_student = {r.student: r for r in rows}
    for grade in cg.grades:
        row = by_student.get(grade.student)
        raw = json.loads(row.results_json) if row and row.results_json else None
        text = feedback_markdown(grade.student, "Mini", "90-mini", grade.assignments["90-mini"],
                                 raw, row.error if row else None)  # raw: not even Row.results
        path = write_feedback(tmp_path, grade.student, "90-mini", text, fmt, "Mini")
        page = path.read_text(encoding="utf-8")
        assert_safe(page)
        assert len(page) < 1_000_000
        assert "<script>" not in page
    assert len(list((tmp_path / "90-mini").iterdir())) == len(cg.grades) == 5


def test_class_report_and_exports_are_clean(hostile_grades):
    cg, rows = hostile_grades
    page = render_report("Course \x1b[2J", cg, rows, {}, 0.8)
    assert_safe(page)
    assert "<script>" not in page and "&lt;script&gt;" in page
    roster = {"new": {"name": f"Ne\x00w {SURROGATE}\n{SCRIPT}", "sis_id": NUL, "login_id": "",
                      "section": FAKE_PASS}}
    roster["new"].update(email="", canvas_id="7\x1b[2J")
    for text in (render_csv(cg.grades, 30), render_canvas(cg, roster, CanvasSettings())[0]):
        assert_safe(text.replace("\r\n", "\n"))  # the CSV's own line ends
        parsed = list(csv.reader(io.StringIO(text)))
        assert len(parsed) in (1 + 5, 2 + 5)  # a header (and Points Possible), one per student
    table = gradebook_table(cg.grades, ["90-mini"], 30)
    assert_safe(table)
    assert len(table.splitlines()) == 2 + 5
    canvas = list(csv.reader(io.StringIO(render_canvas(cg, roster, CanvasSettings())[0])))
    assert canvas[4][:2] == ["New bad \ufffd text <script>alert('x')</script>", "7"]


def test_old_gradebook_row_is_read_clean(hostile_book):
    # what it costs: benchmarks/student_text_cost.py
    assert_safe(json.dumps(hostile_book.latest_for("old", "90-mini").results))


def test_sqlite_of_the_cleaned_row_is_sound(hostile_book):
    assert hostile_book.integrity_check() == "ok"
    assert sqlite3.sqlite_version  # the module is the one the gradebook uses
