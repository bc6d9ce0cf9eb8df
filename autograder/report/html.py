"""The class report: one static HTML page with inline SVG charts (no server, no network, no JS).

Per assignment: a score histogram, the pass rate of every test (hardest first),
the distribution of grading times, lateness, and similarity flags.
"""

from __future__ import annotations

import html
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from autograder.batch.times import TIME_FROM_FILES, TIME_SOURCE_NOTE
from autograder.gradebook.policy import CourseGrades
from autograder.gradebook.store import Row
from autograder.report.similarity import SimilarPair
from autograder.student_text import clean_line

_CSS = """
body{font-family:system-ui,sans-serif;max-width:72em;margin:2em auto;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left}svg{display:block;margin:0.5em 0}.note{color:#666;font-size:0.9em}
.charts{display:flex;flex-wrap:wrap;gap:2em}
"""


def _esc(text: object) -> str:
    """Escaped for HTML, and cleaned: test names and ids come from gradebook rows."""
    return html.escape(clean_line(text, 4000))


def svg_histogram(values: Sequence[float], bins: Sequence[float], title: str, unit: str = "",
                  width: int = 420, height: int = 180,
                  labels: Sequence[str] | None = None) -> str:
    """A vertical bar chart of how many ``values`` fall in each ``[bins[i], bins[i+1])``.

    ``labels`` names the bars (default: each bin's lower edge)."""
    counts = [0] * (len(bins) - 1)
    for v in values:
        for i in range(len(counts)):
            last = i == len(counts) - 1
            if bins[i] <= v < bins[i + 1] or (last and v == bins[i + 1]):
                counts[i] += 1
                break
    top = max(counts) or 1
    pad, bar_w = 30, (width - 40) / len(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" '
             f'role="img" aria-label="{_esc(title)}"><title>{_esc(title)}</title>']
    for i, count in enumerate(counts):
        h = (height - pad) * count / top
        x = 30 + i * bar_w
        y = height - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                     f'fill="#4a7ab5"><title>{bins[i]:.3g}–{bins[i + 1]:.3g}{unit}: {count}</title>'
                     f'</rect>')
        if count:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" '
                         f'text-anchor="middle">{count}</text>')
        label = labels[i] if labels else f"{bins[i]:.3g}"
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height + 14}" font-size="9" '
                     f'text-anchor="middle">{_esc(label)}</text>')
    parts.append(f'<line x1="28" y1="{height}" x2="{width - 8}" y2="{height}" stroke="#333"/>')
    parts.append(f'<text x="{width / 2}" y="{height + 34}" font-size="11" '
                 f'text-anchor="middle">{_esc(title)}</text></svg>')
    return "".join(parts)


def svg_hbars(items: Sequence[tuple[str, float]], title: str, width: int = 640) -> str:
    """Horizontal bars of fractions in [0, 1], one per labelled item (e.g. test pass rates)."""
    row_h, label_w = 18, 300
    height = row_h * len(items) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{_esc(title)}"><title>{_esc(title)}</title>']
    for i, (label, frac) in enumerate(items):
        y = 20 + i * row_h
        w = (width - label_w - 50) * frac
        parts.append(f'<text x="{label_w - 6}" y="{y + 12}" font-size="11" '
                     f'text-anchor="end">{_esc(label[:48])}</text>')
        color = "#c0504d" if frac < 0.5 else "#4a7ab5"
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 5}" '
                     f'fill="{color}"/>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 12}" font-size="10">'
                     f'{frac * 100:.0f}%</text>')
    parts.append(f'<text x="4" y="12" font-size="11">{_esc(title)}</text></svg>')
    return "".join(parts)


@dataclass
class AssignmentStats:
    assignment: str
    title: str
    scores: list[float]
    max_score: float
    times: list[float]
    pass_rates: list[tuple[str, float]]  # (test name, fraction of students passing)
    late_days: list[float]  # one per graded submission; 0 when on time
    missing: int
    errors: int
    timed_by_files: int = 0  # graded submissions whose time came from file dates
    # each distinct set of protections the graded submissions ran under -> how many
    protections: dict[tuple[str, ...], int] = field(default_factory=dict)


def assignment_stats(cg: CourseGrades, rows: list[Row]) -> list[AssignmentStats]:
    """Per-assignment figures from the latest gradebook rows and the computed grades."""
    stats = []
    for ident in cg.assignments:
        graded = [r for r in rows if r.assignment == ident and r.status == "graded"]
        passed: dict[str, list[bool]] = {}
        for row in graded:
            for test in (row.results or {}).get("tests", []):
                passed.setdefault(test["name"].split("::")[-1], []).append(
                    test["status"] == "passed")
        rates = sorted(((name, sum(v) / len(v)) for name, v in passed.items()),
                       key=lambda item: (item[1], item[0]))
        entries = [g.assignments[ident] for g in cg.grades if ident in g.assignments]
        stats.append(AssignmentStats(
            assignment=ident, title=cg.titles.get(ident, ident),
            scores=[r.score for r in graded if r.score is not None],
            max_score=cg.max_scores[ident],
            times=[r.execution_time for r in graded if r.execution_time is not None],
            pass_rates=rates,
            late_days=[e.late_days for e in entries if e.status == "graded"],
            missing=sum(e.status == "missing" for e in entries),
            errors=sum(e.status == "error" for e in entries),
            timed_by_files=sum(e.status != "missing" and e.time_source == TIME_FROM_FILES
                               for e in entries),
            protections=dict(Counter(tuple((r.results or {}).get("protections", []))
                                     for r in graded))))
    return stats


def protections_table(seen: dict[tuple[str, ...], int]) -> str:
    """Which protections the graded submissions ran under; those off for some are named."""
    from autograder.sandbox import protections as P

    if not seen:
        return ""
    rows = []
    for names, count in sorted(seen.items(), key=lambda item: -item[1]):
        off = P.off(names)
        rows.append(f"<tr><td>{count}</td><td>{_esc(', '.join(names) or 'not recorded')}</td>"
                    f"<td>{_esc(', '.join(off) if names else '')}</td></tr>")
    return ("<h3>Protections in force while grading</h3><table><tr><th>submissions</th>"
            "<th>in force</th><th>off</th></tr>" + "".join(rows) + "</table>")


def render_report(course_name: str, cg: CourseGrades, rows: list[Row],
                  flags: dict[str, list[SimilarPair]], threshold: float) -> str:
    """The whole report page."""
    body = [f"<h1>{_esc(course_name)}: programming assignments</h1>",
            f'<p class="note">{len(cg.grades)} student(s), {len(cg.assignments)} assignment(s); '
            f"totals out of {cg.component:g}.</p>"]
    totals = [g.total for g in cg.grades]
    if totals:
        step = cg.component / 10
        body.append(svg_histogram(totals, [step * i for i in range(11)],
                                  f"course totals (out of {cg.component:g})"))
    for st in assignment_stats(cg, rows):
        body.append(f"<h2>{_esc(st.title)} ({_esc(st.assignment)})</h2>")
        mean = statistics.fmean(st.scores) if st.scores else 0.0
        median_t = statistics.median(st.times) if st.times else 0.0
        late = sum(d > 0 for d in st.late_days)
        body.append(
            "<table><tr><th>graded</th><th>could not be graded</th><th>missing</th>"
            "<th>mean score</th><th>median grading time</th><th>late</th></tr>"
            f"<tr><td>{len(st.scores)}</td><td>{st.errors}</td><td>{st.missing}</td>"
            f"<td>{mean:.1f} / {st.max_score:g}</td><td>{median_t:.2f} s</td><td>{late}</td>"
            "</tr></table>")
        if st.timed_by_files:
            body.append(f'<p class="note">Lateness of {st.timed_by_files} submission(s) is '
                        f"measured from {_esc(TIME_SOURCE_NOTE[TIME_FROM_FILES])}: give "
                        "<code>grade-batch --times</code> (a times CSV or Moodle's grading "
                        "worksheet) for true times.</p>")
        body.append('<div class="charts">')
        body.append(svg_histogram(st.scores, [st.max_score / 10 * i for i in range(11)],
                                  "score histogram"))
        if st.times:
            top = max(st.times)
            body.append(svg_histogram(st.times, [top / 8 * i for i in range(9)],
                                      "grading time (s)", " s"))
        body.append(svg_histogram(st.late_days, [0, 1e-9, 1, 2, 3, 5, 10, 1e9],
                                  "lateness (days)", " d",
                                  labels=["on time", "<1", "1–2", "2–3", "3–5", "5–10", ">10"]))
        body.append("</div>")
        body.append(protections_table(st.protections))
        if st.pass_rates:
            body.append("<h3>Pass rate of every test (hardest first)</h3>")
            body.append(svg_hbars(st.pass_rates, "fraction of graded submissions passing"))
        pairs = flags.get(st.assignment, [])
        body.append(f"<h3>Similarity flags (≥ {threshold:.0%} shared fingerprints, starter code "
                    "ignored)</h3>")
        if pairs:
            body.append("<table><tr><th>student</th><th>student</th><th>similarity</th>"
                        "<th>shared fingerprints</th></tr>" + "".join(
                            f"<tr><td>{_esc(p.student_a)}</td><td>{_esc(p.student_b)}</td>"
                            f"<td>{p.similarity:.0%}</td><td>{p.shared}</td></tr>" for p in pairs)
                        + "</table>")
        else:
            body.append('<p class="note">No pair above the threshold.</p>')
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{_esc(course_name)} report</title><style>{_CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
