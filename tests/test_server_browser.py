"""The course server end to end in a real browser: ``dlgrade serve`` as a subprocess on a
copy of the course's 02-feedforward, driven by Playwright in Debian's headless Chromium.

One scenario, as a class lives it: a student signs in, uploads the reference modules and
sees the public tests' full marks, uploads the starter and sees 0 with the reasons, is
told clearly when the day's submissions are used up; a TA releases the hidden results and
the student then sees the total; an instructor overrides a score with a reason, and the
gradebook and the Canvas and Moodle exports change. The student pages are also checked
on a phone-sized viewport (no horizontal scrolling).

Grading is real (the server's own workers, ``--jobs 2``); tests/test_server.py covers the
routes, the access table and bad input in-process.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.packaging.release import public_points
from tests.conftest import REPO

ASSIGNMENT = "02-feedforward"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
GRADED_WITHIN_MS = 240_000  # one upload, queued to public results, on a loaded 2-CPU machine
PHONE = {"width": 390, "height": 844}
STUDENT, OTHER, TA, INSTRUCTOR = "ann", "bo", "ta", "prof"
DAILY_LIMIT = 2

pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="Chromium is not installed (Debian package chromium)")


@dataclass
class LiveServer:
    url: str
    root: Path
    passwords: dict[str, str]
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dlgrade(root: Path, *args: str) -> str:
    """Run ``python -m autograder.cli --course ROOT ARGS`` and return its stdout."""
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "--course", str(root), *args],
                         capture_output=True, text=True, timeout=120, cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def _write_course(root: Path) -> None:
    """A copy of the course's 02 (assignment, solution, starter) with a roster, a due date
    a month ahead (so nothing is late) and a small daily limit."""
    for sub in ("assignments", "solutions", "starter"):
        shutil.copytree(REPO / sub / ASSIGNMENT, root / sub / ASSIGNMENT,
                        ignore=shutil.ignore_patterns("__pycache__", ".dlgrade-secret"))
    due = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    (root / "course.toml").write_text(
        'name = "Server browser test"\nroster = "roster.csv"\n\n'
        f'[grading]\ncomponent_weight = 30\n\n[grading.assignments."{ASSIGNMENT}"]\n'
        f'weight = 1\ndue = "{due}"\n\n'
        f'[server]\nsubmissions_per_day = {DAILY_LIMIT}\nrequests_per_minute = 1000\n')
    (root / "roster.csv").write_text("id,name,email,sis_id\n"
                                     f"{STUDENT},Ann Lee,ann@uni.example,S1001\n"
                                     f"{OTHER},Bo Ng,bo@uni.example,S1002\n")


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited ({proc.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the server did not answer within {timeout:g} s:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server (it stops its workers), kill it if it lingers, then whatever of
    its own process group is left."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def live_server(tmp_path) -> Iterator[LiveServer]:
    root = tmp_path / "course"
    _write_course(root)
    _dlgrade(root, "serve", "--init")
    with open(root / "server" / "initial-passwords.csv", newline="") as fh:
        passwords = {row["login"]: row["password"] for row in csv.DictReader(fh)}
    for login, role in ((TA, "ta"), (INSTRUCTOR, "instructor")):
        passwords[login] = re.search(r"password (\S+)", _dlgrade(root, "serve", "--add-user", login,
                                                                 "--role", role))[1]
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.cli", "--course", str(root), "serve",
             "--host", "127.0.0.1", "--port", str(port), "--jobs", "2"],
            cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_up(url, proc, log)
        yield LiveServer(url, root, passwords, log)
    finally:
        _stop(proc)


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


# ------------------------------------------------------------------ helpers
def sign_in(browser, server: LiveServer, login: str, **context):
    """A fresh browser context (its own cookies) signed in as ``login``; returns its page."""
    page = browser.new_context(**context).new_page()
    page.goto(f"{server.url}/login")
    page.get_by_label("Student id or email").fill(login)
    page.get_by_label("Password").fill(server.passwords[login])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()
    return page


def upload(page, server: LiveServer, folder: Path):
    """Choose the folder's modules in the assignment page's file input and submit."""
    page.goto(f"{server.url}/assignments/{ASSIGNMENT}")
    page.locator('input[type="file"][name="files"]').set_input_files(
        sorted(str(p) for p in folder.glob("*.py")))
    with page.expect_response(lambda r: r.url.endswith("/submit")) as response:
        page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state()
    return response.value


def wait_for_public_score(page, expected: str) -> int:
    """On a submission page (which refreshes itself): wait for the public score; return the id."""
    from playwright.sync_api import expect

    sid = int(re.search(r"/submissions/(\d+)$", page.url)[1])
    expect(page.get_by_role("status")).to_contain_text("refreshes itself")  # queued or running
    expect(page.locator("#public-score")).to_have_text(expected, timeout=GRADED_WITHIN_MS)
    return sid


def results_table(page) -> list[tuple[str, str, str]]:
    """(name, points, result) of each row of a submission page's tests table."""
    rows = page.locator("table tr").all()[1:]
    return [tuple(cell.inner_text().strip() for cell in row.locator("td").all()) for row in rows]


def gradebook_row(page, student: str) -> list[str]:
    row = page.locator("#gradebook tr", has=page.locator(f'td:text-is("{student}")'))
    return [cell.inner_text().strip() for cell in row.locator("td").all()]


def download(page, fmt: str) -> list[dict[str, str]]:
    """Click /staff's export link for ``fmt``; the CSV's rows."""
    with page.expect_download() as info:
        page.locator(f'a[href="/staff/export/{fmt}"]').click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def page_widths(page) -> tuple[int, int, int]:
    """(body scroll width, document scroll width, viewport width)."""
    return tuple(page.evaluate("[document.body.scrollWidth, "
                               "document.documentElement.scrollWidth, window.innerWidth]"))


# ------------------------------------------------------------------ the scenario
def test_a_class_in_the_browser(live_server, browser):
    from playwright.sync_api import expect

    server = live_server
    course = load_course(server.root)
    assignment = course.assignment(ASSIGNMENT)
    public = public_points(assignment)
    total = assignment.total_points
    title = assignment.title

    # -- a student signs in and finds the assignment
    student = sign_in(browser, server, STUDENT)
    expect(student.get_by_role("heading", name="My assignments")).to_be_visible()
    student.get_by_role("link", name=title).click()
    expect(student.locator("body")).to_contain_text(f"{DAILY_LIMIT} submission(s) left today")

    # -- the reference: every public test passes; no total, no hidden test before release
    assert upload(student, server, REPO / "solutions" / ASSIGNMENT).status == 303  # accepted
    reference = wait_for_public_score(student, f"Public tests: {public:g} / {public:g}")
    expect(student.locator("#total-score")).to_have_count(0)
    expect(student.locator("body")).to_contain_text("Hidden tests' results appear when staff "
                                                    "release them")
    rows = results_table(student)
    assert rows and all(result.startswith("passed") for _, _, result in rows), rows
    assert not any("(hidden)" in name for name, _, _ in rows)
    assert sum(float(points.split("/")[0]) for _, points, _ in rows) == public

    # -- the starter: 0, and every test says why
    assert upload(student, server, REPO / "starter" / ASSIGNMENT).status == 303  # accepted
    starter = wait_for_public_score(student, f"Public tests: 0 / {public:g}")
    rows = results_table(student)
    assert rows and all(result.startswith("failed") for _, _, result in rows), rows
    reasons = student.locator("table tr td pre").all_inner_texts()
    assert len(reasons) == len(rows) and all(r.strip() for r in reasons), reasons
    assert all("not implemented yet" in r for r in reasons), reasons

    # -- the daily limit: refused with a message that says so, and nothing stored
    student.goto(f"{server.url}/assignments/{ASSIGNMENT}")
    expect(student.locator("body")).to_contain_text("0 submission(s) left today")
    refused = upload(student, server, REPO / "solutions" / ASSIGNMENT)
    assert refused.status == 429
    expect(student.get_by_role("alert")).to_contain_text(
        f"you have used all {DAILY_LIMIT} submissions for {ASSIGNMENT} today")
    student.goto(f"{server.url}/assignments/{ASSIGNMENT}")
    assert len(student.locator("table tr").all()) == 1 + 2  # header, the two accepted

    # -- a TA releases the hidden results
    ta = sign_in(browser, server, TA)
    assert ta.url.endswith("/staff")
    ta.goto(f"{server.url}/staff/assignments/{ASSIGNMENT}")
    assert len(ta.locator("table tr").all()) == 1 + 2
    ta.get_by_role("button", name="Release hidden results").click()
    expect(ta.locator("body")).to_contain_text("Hidden results are released to students.")

    # -- the student now sees the totals, hidden tests included
    student.goto(f"{server.url}/submissions/{reference}")
    expect(student.locator("#total-score")).to_have_text(
        f"Total (public and hidden): {total:g} / {total:g}")
    assert any("(hidden)" in name for name, _, _ in results_table(student))
    student.goto(f"{server.url}/submissions/{starter}")
    expect(student.locator("#total-score")).to_have_text(f"Total (public and hidden): 0 / {total:g}")

    # -- an instructor overrides the latest (starter, 0) score with a reason
    prof = sign_in(browser, server, INSTRUCTOR, accept_downloads=True)
    assert gradebook_row(prof, STUDENT) == [STUDENT, "0", "0.00"]
    assert gradebook_row(prof, OTHER) == [OTHER, "—", "0.00"]
    canvas, moodle = download(prof, "canvas"), download(prof, "moodle")
    canvas_col = next(c for c in canvas[0] if c.startswith(title))
    assert [r[canvas_col] for r in canvas if r["Student"] == "Ann Lee"] == ["0"]
    assert [r[title] for r in moodle if r["Email address"] == "ann@uni.example"] == ["0"]

    reason = "graded by hand: the starter was uploaded by mistake after the reference"
    form = prof.locator('form[action="/staff/overrides"]')
    form.get_by_label("Student").fill(STUDENT)
    form.get_by_label("Assignment").fill(ASSIGNMENT)
    form.get_by_label("Score").fill("72.5")
    form.get_by_label("Reason").fill(reason)
    form.get_by_role("button", name="Override").click()
    prof.wait_for_load_state()
    assert prof.url.endswith("/staff")
    weight = course.grading.component_weight
    assert gradebook_row(prof, STUDENT) == [STUDENT, "72.5", f"{weight * 72.5 / total:.2f}"]
    canvas, moodle = download(prof, "canvas"), download(prof, "moodle")
    assert [r[canvas_col] for r in canvas if r["Student"] == "Ann Lee"] == ["72.5"]
    assert [r[title] for r in moodle if r["Email address"] == "ann@uni.example"] == ["72.5"]
    prof.goto(f"{server.url}/staff/audit")
    audit = prof.locator("table").inner_text()
    assert "release" in audit and "override" in audit and reason in audit

    # -- on a phone: the student pages fit the screen's width
    phone = sign_in(browser, server, STUDENT, viewport=PHONE, is_mobile=True, has_touch=True)
    for path in ("/", f"/assignments/{ASSIGNMENT}", f"/submissions/{reference}",
                 f"/submissions/{starter}", "/account", "/login"):
        phone.goto(f"{server.url}{path}")
        body, document, width = page_widths(phone)
        assert width == PHONE["width"]
        assert body <= width and document <= width, (path, body, document, width)
