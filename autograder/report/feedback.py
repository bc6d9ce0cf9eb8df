"""Per-student feedback files (Markdown or HTML) from the gradebook.

Each file gives the score, the late penalty and the final score, then every
test: points, pass or fail, the test's docstring as the hint and, for visible
tests, the one-line reason. Hidden tests show pass or fail only.
"""

from __future__ import annotations

import html
from pathlib import Path

from autograder.gradebook.policy import AssignmentGrade
from autograder.gradebook.snapshot import GradebookSnapshot
from autograder.results import clean_results_json
from autograder.student_text import ERROR_MAX, clean

HIDDEN = "after_due_date"


def _points(value: float) -> str:
    return f"{value:g}"


def _md(text: str) -> str:
    """Student text in the Markdown: no raw HTML (a Markdown viewer would render a
    ``<script>``); ``markdown_to_html`` turns the entities back before escaping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def feedback_markdown(student: str, title: str, assignment: str, grade: AssignmentGrade,
                      results: dict | None, error: str | None, staff: bool = False) -> str:
    """The feedback for one student on one assignment, as Markdown.

    ``staff``: also say which sandbox protections were in force (and which were off).
    """
    results = clean_results_json(results)  # a gradebook row may predate cleaning at the source
    error = clean(error, ERROR_MAX) if error else error
    lines = [f"# {title} ({assignment})", "", f"Student: `{clean(student, 200)}`", ""]
    if grade.status == "missing":
        return "\n".join(lines + ["No submission was received. Score: 0.", ""])
    if error:
        lines += [f"Your submission could not be graded: {_md(error)}", ""]
    lines.append(f"Autograder score: **{_points(grade.raw_score)} / {_points(grade.max_score)}**")
    if grade.penalty_percent:
        lines.append(f"Late by {grade.late_days:.2f} day(s): penalty "
                     f"{_points(grade.penalty_percent)}%, final score "
                     f"**{_points(grade.final_score)} / {_points(grade.max_score)}**")
    lines.append("")
    if results:
        lines += ["| test | points | result | feedback |", "|---|---|---|---|"]
        for test in results["tests"]:
            name = test["name"].split("::")[-1]
            hint = test["output"].splitlines()[0] if test["output"] else ""
            if test["visibility"] == HIDDEN:
                feedback = "hidden test: pass or fail only"
                name += " (hidden)"
            else:
                reason = test.get("extra_data", {}).get("reason", "")
                feedback = hint + (f" — {reason}" if test["status"] != "passed" and reason else "")
            mark = "pass" if test["status"] == "passed" else "FAIL"
            cell = _md(feedback).replace("|", "\\|").replace("\n", " ")
            name = _md(name).replace("|", "\\|").replace("`", "'")
            lines.append(f"| `{name}` | {_points(test['score'])}/{_points(test['max_score'])} "
                         f"| {mark} | {cell} |")
        if results.get("output"):
            # indented (a Markdown code block): a line of it never becomes a heading or a row
            lines += ["", *("    " + line for line in _md(results["output"]).splitlines())]
        if staff:
            lines += ["", protections_line(results)]
    return "\n".join(lines) + "\n"


def protections_line(results: dict) -> str:
    """For staff: the protections this submission was graded under, and those that were off."""
    from autograder.sandbox import protections as P

    active = results.get("protections") or []
    if not active:
        return "Protections in force: not recorded."
    off = P.off(active)
    return (f"Protections in force: {', '.join(active)}."
            + (f" Off: {', '.join(off)}." if off else ""))


def _html(markdown_text: str) -> str:
    """Markdown text (entities already escaped by ``_md``) as HTML text, escaped once."""
    return html.escape(html.unescape(markdown_text))


def markdown_to_html(markdown: str, title: str) -> str:
    """A minimal, dependency-free rendering of the feedback Markdown (headings, tables, text)."""
    body = []
    table_open = False
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            if set(line) <= {"|", "-"}:
                continue
            if not table_open:
                body.append("<table><tr>" + "".join(f"<th>{_html(c)}</th>" for c in cells)
                            + "</tr>")
                table_open = True
            else:
                body.append("<tr>" + "".join(f"<td>{_html(c.strip('`'))}</td>"
                                             for c in cells) + "</tr>")
            continue
        if table_open:
            body.append("</table>")
            table_open = False
        if line.startswith("# "):
            body.append(f"<h1>{_html(line[2:])}</h1>")
        elif line.strip():
            text = _html(line).replace("**", "")
            body.append(f"<p>{text}</p>")
    if table_open:
        body.append("</table>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def write_feedback(out_dir: Path, student: str, assignment: str, text: str, fmt: str,
                   title: str) -> Path:
    """Write one feedback file: ``<out_dir>/<assignment>/<student>.<md|html>``."""
    folder = Path(out_dir) / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{student}.{'html' if fmt == 'html' else 'md'}"
    path.write_text(markdown_to_html(text, title) if fmt == "html" else text, encoding="utf-8")
    return path


def write_class_feedback(snapshot: GradebookSnapshot, assignments: list[str], out_dir: Path,
                         fmt: str = "md", staff: bool = False) -> int:
    """Write a feedback file for every student and each of ``assignments`` they have a grade
    in (``<out_dir>/<assignment>/<student>.<md|html>``); returns how many were written."""
    titles = snapshot.grades.titles
    count = 0
    for grade in snapshot.grades.grades:
        for ident in assignments:
            entry = grade.assignments.get(ident)
            if entry is None:
                continue
            row = snapshot.latest(grade.student, ident)
            text = feedback_markdown(grade.student, titles.get(ident, ident), ident, entry,
                                     row.results if row else None, row.error if row else None,
                                     staff=staff)
            write_feedback(out_dir, grade.student, ident, text, fmt, titles.get(ident, ident))
            count += 1
    return count
