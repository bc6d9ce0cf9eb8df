"""The JUnit XML that ``dlgrade grade --format junit`` and ``dlgrade ci --junit`` write is
valid against a published JUnit schema (Jenkins' ``junit-10.xsd``, checked by ``xmlschema``,
a full XSD 1.0 validator), whatever the student's code printed; and the JSON and the HTML
feedback of the same hostile result parse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xmlschema

from autograder.gradebook.policy import AssignmentGrade
from autograder.report.feedback import feedback_markdown, markdown_to_html
from autograder.results import GradeResult, TestResult, render, to_junit_xml
from tests.conftest import FIXTURE_COURSE, HONEST_MINI

SCHEMA = xmlschema.XMLSchema10(Path(__file__).parent / "fixtures" / "junit" / "junit-10.xsd")
MIB16 = 16 * 2**20
#: what a submission may print: colour, NUL, a lone surrogate, text that closes CDATA and
#: markup, a script tag, invalid UTF-8 (bytes) and 16 MiB
HOSTILE = {
    "ansi": "\x1b[31mred\x1b[0m",
    "nul": "a\x00b",
    "surrogate": "bad \ud800 text",
    "cdata": "]]></failure><testcase name='forged'/>",
    "script": "<script>alert(1)</script>",
    "bytes": b"bad \xff\xfe utf-8 \xc3",
    "huge": "\x1b[31m\x00x" * (MIB16 // 6),
}
#: no XML-invalid character and no escape: what XML 1.0 and a terminal both accept
_RAW_CONTROL = [chr(c) for c in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]


def make_result(tests: list[TestResult]) -> GradeResult:
    return GradeResult(assignment="90-mini", assignment_version="1.0.0", platform_version="0.1",
                       submission_sha256="f" * 64, started_at="2026-01-01T00:00:00+00:00",
                       finished_at="2026-01-01T00:00:02+00:00", execution_time=2.5, tests=tests)


def normal_result() -> GradeResult:
    return make_result([
        TestResult(name="public/test_mini.py::test_add", description="adds", max_score=2,
                   score=2, status="passed", duration=0.01),
        TestResult(name="public/test_mini.py::test_mul", description="multiplies", max_score=2,
                   reason="expected 6, got 5", output="assert 5 == 6", duration=0.02),
        TestResult(name="hidden/test_mini_hidden.py::test_big", description="large inputs",
                   max_score=1, visibility="after_due_date", reason="timed out"),
    ])


def hostile_result() -> GradeResult:
    return make_result([
        TestResult(name=f"public/test_mini.py::test_{key}", description=f"{key} output",
                   max_score=1, reason=value, output=value, duration=0.1)
        for key, value in HOSTILE.items()
    ] + [TestResult(name="public/test_mini.py::test_ok", description="", max_score=1, score=1,
                    status="passed")])


def assert_valid_junit(xml: str) -> ET.Element:
    """The text is JUnit that the schema accepts and ElementTree parses; returns the root."""
    for char in _RAW_CONTROL:
        assert char not in xml, f"raw control character {char!r}"
    xml.encode("utf-8")  # no lone surrogate
    SCHEMA.validate(xml)
    return ET.fromstring(xml.encode("utf-8"))


def test_schema_rejects_what_it_should():
    """The validator is real: a testcase without a name and an unknown element both fail."""
    assert SCHEMA.is_valid('<testsuite name="s" tests="1" failures="0" errors="0">'
                           '<testcase name="t"/></testsuite>')
    assert not SCHEMA.is_valid('<testsuite name="s" tests="1" failures="0" errors="0">'
                               '<testcase/></testsuite>')
    assert not SCHEMA.is_valid('<testsuite name="s" tests="1" failures="0" errors="0">'
                               '<testcase name="t"><points/></testcase></testsuite>')


def test_normal_result_is_valid_junit_with_the_fields_ci_reads():
    result = normal_result()
    root = assert_valid_junit(to_junit_xml(result))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("time")) == ("90-mini", "3", "2", "0", "2.500")
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name"), c.get("time")) for c in cases] == [
        ("public.test_mini", "test_add", "0.010"), ("public.test_mini", "test_mul", "0.020"),
        ("hidden.test_mini_hidden", "test_big", "0.000")]
    assert cases[0].find("failure") is None
    assert cases[1].find("failure").get("message") == "expected 6, got 5"
    assert cases[1].find("failure").text == "multiplies\nassert 5 == 6"
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["score"] == "2" and props["max_score"] == "5"
    assert props["points[public/test_mini.py::test_mul]"] == "0/2"
    assert render(result, "junit") == to_junit_xml(result)


def test_hostile_output_still_gives_valid_junit():
    result = hostile_result()
    xml = to_junit_xml(result)
    assert len(xml) < 1_000_000  # from 16 MiB: the output is bounded
    root = assert_valid_junit(xml)
    assert "\x1b" not in xml and "<script>" not in xml
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert len(cases) == len(HOSTILE) + 1  # nothing forged by the closing tags
    failure = {name: case.find("failure") for name, case in cases.items()}
    assert failure["test_ok"] is None
    assert failure["test_ansi"].get("message") == "red"
    assert failure["test_nul"].get("message") == "ab"
    assert failure["test_surrogate"].get("message") == "bad \ufffd text"
    assert failure["test_cdata"].get("message") == HOSTILE["cdata"]  # text, not markup
    assert failure["test_script"].get("message") == HOSTILE["script"]
    assert failure["test_bytes"].get("message").startswith("bad \ufffd\ufffd utf-8")
    assert "characters cut]" in failure["test_huge"].text


def test_raw_result_with_unclean_metadata_is_valid_junit():
    """A result rebuilt from an old file: the renderer cleans the suite's own fields too."""
    result = normal_result()
    object.__setattr__(result, "assignment", "90-mini\x1b[2J\x00")  # past any cleaning
    object.__setattr__(result, "platform_version", "0.1\ud800")
    suite = assert_valid_junit(to_junit_xml(result)).find("testsuite")
    assert suite.get("name") == "90-mini"


@pytest.mark.parametrize("fmt", ["json", "gradescope"])
def test_hostile_result_json_parses(fmt):
    data = json.loads(render(hostile_result(), fmt))
    text = json.dumps(data, ensure_ascii=False)
    assert not any(char in text for char in _RAW_CONTROL) and "\x1b" not in text
    text.encode("utf-8")


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)


def test_hostile_result_html_feedback_parses_and_is_clean():
    result = hostile_result()
    grade = AssignmentGrade(assignment="90-mini", status="graded", raw_score=result.score,
                            max_score=result.max_score, final_score=result.score)
    page = markdown_to_html(feedback_markdown("s1", "Mini", "90-mini", grade, result.to_json(),
                                              None), "Mini")
    assert not any(char in page for char in _RAW_CONTROL) and "\x1b" not in page
    page.encode("utf-8")
    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert "script" not in parser.tags and "html" in parser.tags


#: a submission whose add() prints an ANSI colour code, a NUL byte and invalid UTF-8, then
#: raises with the same in its message
PRINTING_MINI = HONEST_MINI.replace("def add(a, b):\n    return a + b", '''def add(a, b):
    import sys
    print("\\x1b[31mred\\x00nul")
    sys.stdout.flush()
    sys.stdout.buffer.write(b"bad \\xff\\xfe utf-8\\n")
    sys.stdout.buffer.flush()
    raise ValueError("\\x1b[31m\\x00 boom \\udcff")''')


def test_a_submission_printing_escapes_nul_and_bad_utf8_gives_valid_junit_json_and_html(
        tmp_path):
    assert PRINTING_MINI != HONEST_MINI
    folder = tmp_path / "printing"
    folder.mkdir()
    (folder / "mini.py").write_text(PRINTING_MINI)
    junit, result_json = tmp_path / "junit.xml", tmp_path / "results.json"
    env = {**os.environ, "DLGRADE_COURSE": str(FIXTURE_COURSE)}
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "grade", "90-mini", str(folder),
                          "--format", "junit", "-o", str(junit), "--json", str(result_json)],
                         capture_output=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    xml = junit.read_text(encoding="utf-8")
    root = assert_valid_junit(xml)
    failure = next(c for c in root.iter("testcase") if c.get("name").endswith("test_add")).find(
        "failure")
    assert failure is not None and "boom" in failure.get("message")
    assert "\x1b" not in xml
    raw = result_json.read_text(encoding="utf-8")
    data = json.loads(raw)
    assert not any(char in raw for char in _RAW_CONTROL) and "\x1b" not in raw
    add = next(t for t in data["tests"] if t["name"].endswith("test_add"))
    assert "Failed: ValueError:  boom \ufffd" in add["output"]  # the escape and NUL removed
    assert "Your code printed:\nrednul\nbad \ufffd\ufffd utf-8" in add["output"]
    grade = AssignmentGrade(assignment="90-mini", status="graded", raw_score=data["score"],
                            max_score=data["max_score"], final_score=data["score"])
    page = markdown_to_html(feedback_markdown("s1", "Mini", "90-mini", grade, data, None), "Mini")
    assert not any(char in page for char in _RAW_CONTROL) and "\x1b" not in page
    parser = _Collect()
    parser.feed(page)
    parser.close()
    assert "html" in parser.tags
