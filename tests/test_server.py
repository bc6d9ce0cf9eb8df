"""The course server (``dlgrade serve``): the student and staff flows, who may see what (a
table over every route and role), bad input, and the durable queue.

The application runs in-process (Starlette's test client); grading runs through the real
worker code (``server.worker.work_once``: the trusted graders, sandboxed submission).
Every test runs twice: on SQLite (WAL) and on PostgreSQL, a real server whose URL is in
``$DLGRADE_TEST_POSTGRES`` (``.ci/run`` installs Debian's postgresql and starts it).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import threading
import time
import types
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from autograder import cli
from autograder import submit as submit_module
from autograder.config import load_course
from autograder.server import accounts, db, queue
from autograder.server.admin import add_user, init_server
from autograder.server.app import create_app
from autograder.server.settings import server_settings
from autograder.server.store import UploadStore
from autograder.server.worker import lease_seconds, work_once
from tests.conftest import FIXTURE_COURSE, HONEST_MINI

WRONG_ADD = HONEST_MINI.replace("return a + b", "return a - b")
HIDDEN_TEST = "test_counter"  # the fixture's hidden test: never shown to a student before release


POSTGRES_ENV = "DLGRADE_TEST_POSTGRES"  # e.g. postgresql+psycopg://dlgrade:dlgrade@127.0.0.1/postgres


def _database_url(backend: str) -> str:
    """SQLite in the course folder, or a new, empty PostgreSQL database for this test."""
    if backend == "sqlite":
        return "sqlite:///server/dlgrade.sqlite"
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV} (.ci/run starts one)")
    import sqlalchemy

    name = f"dlgrade_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


@dataclass
class Server:
    root: Path
    course: object
    settings: object
    engine: object
    app: object
    passwords: dict[str, str]

    def client(self, login: str | None = None) -> TestClient:
        client = TestClient(self.app)
        if login:
            response = client.post("/login", data={"login": login,
                                                   "password": self.passwords[login]},
                                   follow_redirects=False)
            assert response.status_code == 303, response.text
        return client

    def work(self) -> int:
        done = 0
        while work_once(self.engine, self.course, UploadStore(self.settings.store), "test-worker",
                        lease_seconds(self.course)):
            done += 1
        return done

    def count(self, table) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    def stored_files(self) -> int:
        store = Path(self.settings.store)
        return sum(1 for p in store.rglob("*.zip")) if store.exists() else 0


@pytest.fixture(params=["sqlite", "postgres"])
def server(tmp_path, request) -> Iterator[Server]:
    """A course with two students, a TA and an instructor, on each database the server
    supports: every test below runs against both."""
    database = _database_url(request.param)
    root = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, root, ignore=shutil.ignore_patterns(".dlgrade-secret"))
    (root / "course.toml").write_text(
        'name = "Server test course"\nroster = "roster.csv"\n\n'
        '[grading.assignments."90-mini"]\ndue = "2030-01-01T00:00:00+00:00"\n\n'
        f'[server]\ndatabase = "{database}"\nsubmissions_per_day = 3\n'
        'max_upload_mb = 1\nrequests_per_minute = 1000\n')
    (root / "roster.csv").write_text("id,name,email,sis_id\nann,Ann Lee,ann@uni.example,S1\n"
                                     "bo,Bo Ng,bo@uni.example,S2\n")
    course = load_course(root)
    settings = server_settings(course)
    engine = db.make_engine(settings.database_url)
    init_server(course, engine, root / "server" / "passwords.csv")
    passwords = {line.split(",")[0]: line.split(",")[2]
                 for line in (root / "server" / "passwords.csv").read_text().splitlines()[1:]}
    passwords["ta"] = add_user(engine, "ta", "ta")
    passwords["prof"] = add_user(engine, "prof", "instructor")
    yield Server(root, course, settings, engine, create_app(course, settings, engine), passwords)
    engine.dispose()


def csrf_of(client: TestClient, path: str = "/account") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)[1]


def upload(client: TestClient, source: str = HONEST_MINI, name: str = "mini.py",
           assignment: str = "90-mini", csrf: str | None = None, data: bytes | None = None):
    return client.post(f"/assignments/{assignment}/submit",
                       data={"csrf": csrf if csrf is not None else csrf_of(client)},
                       files=[("files", (name, data if data is not None else source.encode()))],
                       follow_redirects=False)


def submission_id(response) -> int:
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


# ------------------------------------------------------------------ the flows
def test_student_submits_sees_public_results_then_hidden_after_release(server):
    ann = server.client("ann")
    sid = submission_id(upload(ann))
    queued = ann.get(f"/submissions/{sid}")
    assert "Waiting: 0 submission(s) ahead" in queued.text
    assert server.work() == 1
    page = ann.get(f"/submissions/{sid}").text
    assert "Public tests: 2 / 2" in page and "test_add" in page
    assert HIDDEN_TEST not in page and "Total" not in page
    api = ann.get(f"/api/v1/submissions/{sid}").json()
    assert (api["public_score"], api["score"], api["hidden_released"]) == (2, None, False)
    assert HIDDEN_TEST not in str(api)

    ta = server.client("ta")
    ta.post("/staff/assignments/90-mini/release", data={"csrf": csrf_of(ta, "/staff")})
    page = ann.get(f"/submissions/{sid}").text
    assert "Total (public and hidden): 4 / 4" in page and HIDDEN_TEST in page
    with server.engine.connect() as conn:
        (action,) = conn.execute(select(db.audit.c.action).where(
            db.audit.c.action == "release")).one()
    assert action == "release"


def test_wrong_code_gets_reasons_and_the_starter_zero(server):
    bo = server.client("bo")
    wrong = submission_id(upload(bo, WRONG_ADD))
    server.work()
    view = bo.get(f"/api/v1/submissions/{wrong}").json()
    add = next(t for t in view["tests"] if t["name"] == "test_add")
    assert add["status"] == "failed" and "5" in add["output"]
    starter = (FIXTURE_COURSE / "starter" / "90-mini" / "mini.py").read_text()
    sid = submission_id(upload(bo, starter))
    server.work()
    view = bo.get(f"/api/v1/submissions/{sid}").json()
    assert view["public_score"] == 0 and all(t["output"] for t in view["tests"])


def test_the_daily_limit_is_told_clearly_and_nothing_is_stored(server):
    ann = server.client("ann")
    for _ in range(3):
        submission_id(upload(ann))
    rows, files = server.count(db.submissions), server.stored_files()
    refused = upload(ann, WRONG_ADD)
    assert refused.status_code == 429
    assert "used all 3 submissions for 90-mini today" in refused.text
    assert (server.count(db.submissions), server.stored_files()) == (rows, files)
    assert "0 submission(s) left today" in ann.get("/assignments/90-mini").text


def test_override_extension_and_rubric_change_the_gradebook_and_exports(server):
    ann = server.client("ann")
    submission_id(upload(ann, WRONG_ADD))
    server.work()
    prof = server.client("prof")
    csrf = csrf_of(prof, "/staff")
    assert "<td>ann</td>" in prof.get("/staff").text
    before = prof.get("/staff/export/canvas").text
    assert "Ann Lee,,S1,,,2\n" in before
    response = prof.post("/staff/overrides", data={"csrf": csrf, "student": "ann",
                                                   "assignment": "90-mini", "score": "3.5",
                                                   "reason": "regrade request: test typo"},
                         follow_redirects=False)
    assert response.status_code == 303
    assert "Ann Lee,,S1,,,3.5\n" in prof.get("/staff/export/canvas").text
    assert "ann@uni.example,Ann Lee,3.5" in prof.get("/staff/export/moodle").text
    ta = server.client("ta")
    denied = ta.post("/staff/overrides", data={"csrf": csrf_of(ta, "/staff"), "student": "ann",
                                               "assignment": "90-mini", "score": "4",
                                               "reason": "x"})
    assert denied.status_code == 403 and "instructors only" in denied.text
    typo = ta.post("/staff/extensions", data={"csrf": csrf_of(ta, "/staff"), "student": "ann",
                                              "assignment": "90-mini", "days": "two"})
    assert typo.status_code == 422 and "not valid: days" in typo.text and "<html" in typo.text
    assert ta.post("/staff/extensions", data={"csrf": csrf_of(ta, "/staff"), "student": "ann",
                                              "assignment": "90-mini", "days": "2"},
                   follow_redirects=False).status_code == 303
    home = ann.get("/").text
    assert "2 day(s)" in home and "on time" in home
    assert ta.post("/staff/rubric", data={"csrf": csrf_of(ta, "/staff"), "student": "ann",
                                          "assignment": "90-mini", "question": "Q1",
                                          "points": "2", "comment": "clear"},
                   follow_redirects=False).status_code == 303
    bo = server.client("bo")
    submission_id(upload(bo, WRONG_ADD))  # the same code as ann's: a similarity flag
    server.work()
    assert "<td>Q1</td><td>2</td><td>clear</td>" in prof.get("/staff").text
    assert "Q1: 2" not in ann.get("/").text  # a student sees rubric scores after release
    ta.post("/staff/assignments/90-mini/release", data={"csrf": csrf_of(ta, "/staff")})
    assert "Q1: 2 (clear)" in ann.get("/").text
    report = prof.get("/staff/assignments/90-mini/report").text
    assert "Pass rate of every test" in report and "test_add" in report
    assert "<td>ann</td><td>bo</td><td>100%</td>" in report
    audit = prof.get("/staff/audit").text
    for action in ("override", "extension", "rubric"):
        assert f"<td>{action}</td>" in audit
    assert "regrade request: test typo" in audit


def test_regrade_queues_every_latest_submission_once(server):
    for login in ("ann", "bo"):
        client = server.client(login)
        submission_id(upload(client))
        submission_id(upload(client, WRONG_ADD))
    server.work()
    ta = server.client("ta")
    csrf = csrf_of(ta, "/staff")
    ta.post("/staff/assignments/90-mini/regrade", data={"csrf": csrf})
    ta.post("/staff/assignments/90-mini/regrade", data={"csrf": csrf})  # resumes: nothing new
    with server.engine.connect() as conn:
        regrades = conn.execute(select(db.submissions.c.regrade_of).where(
            db.submissions.c.regrade_of.is_not(None))).all()
    assert sorted(r for (r,) in regrades) == [2, 4]  # each student's latest, once
    assert server.work() == 2
    assert server.count(db.results) == 6


def test_a_cli_token_submits_through_the_api(server):
    ann = server.client("ann")
    token = re.search(r'<pre id="token">([^<]+)</pre>',
                      ann.post("/account/token", data={"csrf": csrf_of(ann)}).text)[1]
    api = TestClient(server.app)
    headers = {"Authorization": f"Bearer {token}"}
    response = api.post("/api/v1/assignments/90-mini/submissions", headers=headers,
                        files=[("files", ("mini.py", HONEST_MINI.encode()))])
    assert response.status_code == 201, response.text
    assert response.json()["queue_position"] == 0
    bad = api.get("/api/v1/assignments", headers={"Authorization": "Bearer dlg_nope"})
    assert bad.status_code == 401 and "not valid" in bad.json()["error"]


def test_the_wait_grows_with_the_queue_and_ends_once_graded():
    waits = [queue.poll_after(p) for p in (0, 5, 50, 280, 10_000)]
    assert waits == sorted(waits) and waits[0] == queue.POLL_FIRST
    assert waits[-1] == queue.POLL_LONGEST and queue.poll_after(None) is None


def test_dlgrade_submit_waits_as_the_server_says_then_shows_the_public_results(
        server, tmp_path, monkeypatch):
    port = _free_port()
    web = uvicorn.Server(uvicorn.Config(server.app, host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    while not web.started:
        time.sleep(0.05)
    try:
        bo = server.client("bo")
        for _ in range(3):
            submission_id(upload(bo))  # three ahead of ann's
        ann = server.client("ann")
        token = re.search(r'<pre id="token">([^<]+)</pre>',
                          ann.post("/account/token", data={"csrf": csrf_of(ann)}).text)[1]
        waits = []

        def sleep(seconds: float) -> None:  # the workers grade while dlgrade submit waits
            waits.append(seconds)
            server.work()

        monkeypatch.setattr(submit_module, "time",
                            types.SimpleNamespace(monotonic=time.monotonic, sleep=sleep))
        folder = tmp_path / "mine"
        folder.mkdir()
        (folder / "mini.py").write_text(HONEST_MINI)
        monkeypatch.chdir(folder)
        result = CliRunner().invoke(cli.main, [
            "--course", str(server.root), "submit", "90-mini",
            "--server", f"http://127.0.0.1:{port}", "--token", token])
    finally:
        web.should_exit = True
        thread.join(10)
    assert result.exit_code == 0, result.output
    assert waits == [queue.poll_after(3)], waits  # the server's wait, not a fixed 2 s
    assert re.search(r"submission \d+ of 90-mini: done", result.output), result.output
    assert "public tests: " in result.output and HIDDEN_TEST not in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ------------------------------------------------------------------ access control
#: route -> who may use it: "any" (signed in), "owner" (a student's own thing, or staff),
#: "staff", "instructor", "public" (no sign-in)
ROUTES = {
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("POST", "/logout"): "any",
    ("GET", "/"): "any",
    ("GET", "/assignments/{ident}"): "any",
    ("POST", "/assignments/{ident}/submit"): "any",
    ("GET", "/submissions/{sid}"): "owner",
    ("GET", "/account"): "any",
    ("POST", "/account/token"): "any",
    ("POST", "/account/password"): "any",
    ("GET", "/staff"): "staff",
    ("GET", "/staff/assignments/{ident}"): "staff",
    ("GET", "/staff/assignments/{ident}/report"): "staff",
    ("GET", "/staff/submissions/{sid}"): "staff",
    ("POST", "/staff/assignments/{ident}/release"): "staff",
    ("POST", "/staff/assignments/{ident}/regrade"): "staff",
    ("POST", "/staff/extensions"): "staff",
    ("POST", "/staff/overrides"): "instructor",
    ("POST", "/staff/rubric"): "staff",
    ("GET", "/staff/export/{fmt}"): "staff",
    ("GET", "/staff/audit"): "staff",
    ("GET", "/api/v1/assignments"): "any",
    ("POST", "/api/v1/assignments/{ident}/submissions"): "any",
    ("GET", "/api/v1/submissions/{sid}"): "owner",
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/oauth2-redirect"): "public",
    ("GET", "/redoc"): "public",
}
ACTORS = ("anonymous", "ann", "bo", "ta", "prof")  # ann owns the submission


def app_routes(app) -> set[tuple[str, str]]:
    return {(method, route.path) for route in app.routes
            for method in getattr(route, "methods", set()) if method != "HEAD"}


def test_the_access_table_covers_every_route(server):
    assert app_routes(server.app) == set(ROUTES)


def allowed(rule: str, actor: str) -> bool:
    return {"public": True, "any": actor != "anonymous", "owner": actor in ("ann", "ta", "prof"),
            "staff": actor in ("ta", "prof"), "instructor": actor == "prof"}[rule]


def test_every_route_as_every_role(server):
    ann = server.client("ann")
    sid = submission_id(upload(ann))
    server.work()
    clients = {actor: server.client(None if actor == "anonymous" else actor) for actor in ACTORS}
    forms = {"/staff/extensions": {"student": "bo", "assignment": "90-mini", "days": "1"},
             "/staff/overrides": {"student": "bo", "assignment": "90-mini", "score": "1",
                                  "reason": "table"},
             "/staff/rubric": {"student": "bo", "assignment": "90-mini", "question": "Q",
                               "points": "1"}}
    outcome = {}
    for (method, path), rule in sorted(ROUTES.items()):
        if path in ("/login", "/logout"):
            continue  # signing in and out: the flows above
        url = path.format(ident="90-mini", sid=sid, fmt="canvas")
        for actor, client in clients.items():
            if method == "GET":
                response = client.get(url, follow_redirects=False)
            else:
                csrf = "" if actor == "anonymous" else csrf_of(client)
                files = ([("files", ("mini.py", HONEST_MINI.encode()))]
                         if "submi" in path else None)
                headers = {"x-csrf-token": csrf}
                if path == "/account/password":  # each actor changes their own
                    new = f"{actor} has a new password"
                    forms[path] = {"current": server.passwords.get(actor, ""), "new": new,
                                   "confirm": new}
                response = client.post(url, data={"csrf": csrf, **forms.get(path, {})},
                                       files=files, headers=headers, follow_redirects=False)
            ok = response.status_code < 400 and not (
                response.status_code == 303 and response.headers["location"] == "/login")
            outcome[(method, path, actor)] = ok
            assert ok == allowed(rule, actor), (method, url, actor, response.status_code,
                                                response.text[:200])
            if actor in ("anonymous", "ann", "bo"):
                assert HIDDEN_TEST not in response.text, (method, url, actor)
                if actor == "bo" and response.status_code < 400:
                    assert "Ann Lee" not in response.text and "ann@uni" not in response.text
    assert len(outcome) == (len(ROUTES) - 3) * len(ACTORS)  # all but sign-in and sign-out


def test_another_students_submission_is_not_found_not_forbidden(server):
    sid = submission_id(upload(server.client("ann")))
    bo = server.client("bo")
    for url in (f"/submissions/{sid}", f"/api/v1/submissions/{sid}"):
        assert bo.get(url).status_code == 404
    assert bo.get("/submissions/99999").status_code == 404  # the same answer as for a missing one


# ------------------------------------------------------------------ bad input
def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name, data, status, message", [
    ("mini.py", b"x" * (2 * 2**20), 400, "over the limit of 1 MiB"),
    ("sub.zip", zip_of({"../../evil.py": b"x"}), 400, "evil.py"),
    ("bomb.zip", zip_of({"mini.py": b"0" * (60 * 2**20)}), 400, "uncompressed"),
    ("sub.zip", b"not a zip at all", 400, "zip"),
    ("notes.txt", b"hello", 400, "upload a .zip or .py files"),
    ("mini.py", b"", 400, "empty"),
])
def test_bad_uploads_are_refused_with_a_reason_and_nothing_is_kept(server, name, data, status,
                                                                    message):
    ann = server.client("ann")
    response = upload(ann, name=name, data=data)
    assert response.status_code == status, response.text[:300]
    assert message in response.text
    assert "Traceback" not in response.text
    assert (server.count(db.submissions), server.stored_files()) == (0, 0)


def test_wrong_assignment_expired_session_and_forged_forms(server):
    ann = server.client("ann")
    assert upload(ann, assignment="99-nope").status_code == 404
    assert ann.get("/assignments/99-nope").status_code == 404
    assert upload(ann, csrf="forged").status_code == 403
    bo = server.client("bo")
    replayed = upload(ann, csrf=csrf_of(bo))  # another session's token
    assert replayed.status_code == 403 and "reload the page" in replayed.text
    cross = ann.post("/assignments/90-mini/submit", data={"csrf": csrf_of(ann)},
                     files=[("files", ("mini.py", b"x"))], headers={"origin": "https://evil.example"})
    assert cross.status_code == 403
    with server.engine.begin() as conn:
        conn.execute(update(db.sessions).values(expires_at=db.now() - timedelta(seconds=1)))
    expired = ann.get("/", follow_redirects=False)
    assert (expired.status_code, expired.headers["location"]) == (303, "/login")
    assert ann.get("/api/v1/assignments").status_code == 401
    assert server.count(db.submissions) == 0


def test_a_full_disk_refuses_the_upload_cleanly(server, monkeypatch):
    import autograder.server.store as store_module

    monkeypatch.setattr(store_module.shutil, "disk_usage",
                        lambda _path: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    response = upload(server.client("ann"))
    assert response.status_code == 507 and "disk is full" in response.text
    assert (server.count(db.submissions), server.stored_files()) == (0, 0)


def test_wrong_password_and_unknown_user_look_the_same(server):
    client = TestClient(server.app)
    a = client.post("/login", data={"login": "ann", "password": "wrong"})
    b = client.post("/login", data={"login": "nobody", "password": "wrong"})
    assert a.status_code == b.status_code == 200
    assert "wrong name or password" in a.text and "wrong name or password" in b.text
    assert "dlgrade_session" not in client.cookies


# ------------------------------------------------------------------ the queue
def test_a_job_completed_twice_is_graded_once(server):
    submission_id(upload(server.client("ann")))
    job = queue.claim(server.engine, "w1", 60)
    assert queue.claim(server.engine, "w2", 60) is None  # taken
    outcome = {"results": {"score": 4, "max_score": 4, "tests": []}}
    assert queue.complete(server.engine, job, "w1", outcome) is True
    assert queue.complete(server.engine, job, "w1", outcome) is False
    assert server.count(db.results) == 1


def test_a_dead_workers_job_goes_back_then_fails_after_three_tries(server):
    submission_id(upload(server.client("ann")))
    for attempt in range(1, queue.MAX_ATTEMPTS + 1):
        job = queue.claim(server.engine, f"w{attempt}", 60)
        assert job is not None and job.attempts == attempt
        with server.engine.begin() as conn:  # the worker died: its lease runs out
            conn.execute(update(db.submissions).values(lease_until=db.now() - timedelta(seconds=1)))
            queue.requeue_expired(conn)
    with server.engine.connect() as conn:
        state = conn.execute(select(db.submissions.c.state)).scalar_one()
        error = conn.execute(select(db.results.c.error)).scalar_one()
    assert state == "failed" and "3 times" in error


def test_accounts_hash_passwords_and_tokens(server):
    with server.engine.connect() as conn:
        row = conn.execute(select(db.users).where(db.users.c.login == "ann")).one()
        assert row.password_hash.startswith("$argon2id$")
        assert server.passwords["ann"] not in row.password_hash
        token = accounts.new_token(conn, row.id)
        stored = conn.execute(select(db.users.c.token_hash).where(db.users.c.id == row.id)).scalar()
        assert token not in stored and len(stored) == 64


def test_a_password_is_changed_on_the_account_page_and_other_sessions_end(server):
    here, elsewhere = server.client("ann"), server.client("ann")
    old, new = server.passwords["ann"], "correct horse battery"

    def change(current: str, new_password: str, confirm: str):
        return here.post("/account/password", data={
            "csrf": csrf_of(here), "current": current, "new": new_password, "confirm": confirm})

    for current, new_password, confirm, message in [
            ("not it", new, new, "current password is not right"),
            (old, new, new + "!", "two new passwords differ"),
            (old, "short", "short", "at least 10 characters"),
            (old, old, old, "must differ")]:
        response = change(current, new_password, confirm)
        assert response.status_code == 400 and message in response.text, response.text
        assert "nothing was changed" in response.text
    assert elsewhere.get("/account").status_code == 200  # refusals end no session
    response = change(old, new, new)
    assert response.status_code == 200 and "Your password was changed" in response.text
    assert here.get("/account").status_code == 200  # this session stays
    assert elsewhere.get("/account", follow_redirects=False).headers["location"] == "/login"
    refused = TestClient(server.app).post("/login", data={"login": "ann", "password": old},
                                          follow_redirects=False)
    assert refused.status_code == 200 and "wrong name or password" in refused.text
    server.passwords["ann"] = new
    server.client("ann")  # signs in with the new one (asserts the redirect)
    with server.engine.connect() as conn:
        actions = conn.execute(select(db.audit.c.action)).scalars().all()
    assert actions.count("password-change") == 1


def test_a_forgotten_password_is_reset_by_staff_from_the_command_line(server):
    ann = server.client("ann")
    result = CliRunner().invoke(cli.main, ["--course", str(server.root), "serve",
                                           "--reset-password", "ann"])
    assert result.exit_code == 0, result.output
    password = re.search(r"new password (\S+)", result.output)[1]
    assert ann.get("/account", follow_redirects=False).headers["location"] == "/login"
    server.passwords["ann"] = password
    server.client("ann")
    missing = CliRunner().invoke(cli.main, ["--course", str(server.root), "serve",
                                            "--reset-password", "nobody"])
    assert missing.exit_code != 0 and "no user 'nobody'" in missing.output


def test_the_worker_pool_pins_its_workers_as_grade_batch_pins_its_jobs(server):
    from autograder.batch.runner import cpu_plan
    from autograder.server.serve import WorkerPool

    pinned = WorkerPool(server.course, server.settings, 2, server.engine, pin_cpus=True)
    plan = cpu_plan(2, True)
    if plan is None:  # not Linux: nothing to pin
        assert all("--cpu" not in c for c in pinned.commands)
    else:
        assert [c[c.index("--cpu") + 1] for c in pinned.commands] == [str(x) for x in plan]
    loose = WorkerPool(server.course, server.settings, 2, server.engine, pin_cpus=False)
    assert all("--cpu" not in c for c in loose.commands)
