"""The web application: server-rendered pages for people, a JSON API (with its OpenAPI
description at ``/openapi.json``) for ``dlgrade submit`` and scripts.

Who may see what is decided in ``submissions`` and ``staff``; this module maps requests
to those calls. Sign-in makes a session (HttpOnly, SameSite=Lax cookie); every form that
changes something carries the session's CSRF token, and a request from another origin
is refused. The API takes a personal token (``Authorization: Bearer dlg_...``). Errors
answer with a message, never a traceback.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import Engine, select
from starlette.exceptions import HTTPException as StarletteHTTPException

import autograder
from autograder.config import Course
from autograder.errors import UsageError
from autograder.gradebook.export import EXPORT_FORMATS, render_export
from autograder.gradebook.policy import late_penalty
from autograder.lms.roster import load_roster
from autograder.report.html import render_report
from autograder.report.similarity import class_similarity
from autograder.server import accounts, db, queue, staff, submissions
from autograder.server.accounts import User
from autograder.server.settings import ServerSettings
from autograder.server.store import UploadStore

COOKIE = "dlgrade_session"
SIMILARITY_THRESHOLD = 0.8  # the report's flags: at least this share of fingerprints
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
TEMPLATES.env.globals["min_password"] = accounts.MIN_PASSWORD_LENGTH


class AuthRequired(UsageError):
    status = 401


class CsrfFailed(UsageError):
    status = 403


class TooManyRequests(UsageError):
    status = 429


class ErrorView(BaseModel):
    """What every refused API request answers: a message the person can act on."""

    error: str


def _errors(**described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for an API route: its refusals (``status=description``, e.g.
    ``s404="no such submission"``) plus the rate limit every route has."""
    described.setdefault("s429", "too many requests (the rate limit)")
    return {int(code[1:]): {"model": ErrorView, "description": text}
            for code, text in described.items()}


class SubmissionAccepted(BaseModel):
    id: int
    queue_position: int | None
    poll_after: float | None = Field(
        None, description="seconds to wait before asking for the submission's results")
    url: str


class TestView(BaseModel):
    name: str
    hidden: bool
    status: str
    score: float
    max_score: float
    output: str


class SubmissionView(BaseModel):
    id: int
    assignment: str
    student: str
    submitted_at: str
    filename: str
    state: str
    queue_position: int | None
    poll_after: float | None = Field(
        None, description="seconds to wait before asking again; null once it is graded")
    hidden_released: bool
    tests: list[TestView]
    public_score: float | None
    public_max: float | None
    score: float | None
    max_score: float | None
    error: str | None
    url: str


class AssignmentView(BaseModel):
    id: str
    title: str
    due: str | None
    max_score: float


class RateLimiter:
    """At most ``per_minute`` requests per key in any sliding minute (in this process)."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        window = self.seen[key]
        while window and window[0] < now - 60:
            window.popleft()
        if len(window) >= self.per_minute:
            return False
        window.append(now)
        return True


def create_app(course: Course, settings: ServerSettings, engine: Engine) -> FastAPI:
    app = FastAPI(title="dlgrade", version=autograder.__version__,
                  description="Submit work and read results; staff run the course.")
    store = UploadStore(settings.store)
    limiter = RateLimiter(settings.requests_per_minute)

    # ------------------------------------------------------------ who is asking
    def identify(request: Request) -> tuple[User | None, accounts.Session | None]:
        header = request.headers.get("authorization", "")
        with engine.begin() as conn:
            if header.lower().startswith("bearer "):
                user = accounts.user_by_token(conn, header[7:].strip())
                if user is None:
                    raise AuthRequired("that token is not valid (make a new one on your "
                                       "account page)")
                return user, None
            session = accounts.session_for(conn, request.cookies.get(COOKIE))
        return (session.user, session) if session else (None, None)

    def need_user(request: Request) -> tuple[User, accounts.Session | None]:
        user, session = identify(request)
        if user is None:
            raise AuthRequired("sign in first")
        return user, session

    def check_form(request: Request, session: accounts.Session | None, token: str) -> None:
        """A state-changing request from a browser: same origin, and the session's token."""
        if session is None:
            return  # a bearer token: no cookie, nothing to forge
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host", ""):
            raise CsrfFailed("this form came from another site; it was refused")
        if not token or token != session.csrf:
            raise CsrfFailed("this form has expired or was not ours: reload the page and "
                             "try again")

    @app.middleware("http")
    async def rate_limit(request: Request,
                         call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        key = (request.headers.get("authorization") or request.cookies.get(COOKIE)
               or (request.client.host if request.client else "unknown"))
        if not limiter.allow(key):
            return _error(request, TooManyRequests(
                f"too many requests: at most {settings.requests_per_minute} a minute; wait a "
                "moment and try again"))
        return await call_next(request)

    @app.exception_handler(UsageError)
    async def usage_error(request: Request, exc: UsageError) -> Response:
        return _error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        """A form or API field of the wrong kind (a number that is not one, a missing file):
        a message naming the field, as a page or as ``{"error": ...}``, like any refusal."""
        fields = ", ".join(sorted({str(e.get("loc", ["", "?"])[-1]) for e in exc.errors()}))
        return _error(request, exc, 422, f"these fields are missing or not valid: {fields}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """The framework's own refusals (unknown path, malformed multipart body) in the
        same form as ours: ``{"error": ...}`` on the API, a message page otherwise."""
        response = _error(request, exc, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        return _error(request, exc, 500, "internal error: staff can find it in the server log")

    def _error(request: Request, exc: Exception, status: int | None = None,
               message: str | None = None) -> Response:
        status = status or getattr(exc, "status", 400)
        message = message or str(exc)
        if status == 401 and not _wants_json(request):
            return RedirectResponse("/login", status_code=303)
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        return TEMPLATES.TemplateResponse(request, "message.html",
                                          {"title": "Not done", "message": message,
                                           "user": None}, status_code=status)

    def page(request: Request, name: str, user: User | None,
             session: accounts.Session | None, status_code: int = 200,
             **context: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, name, {
            "user": user, "csrf": session.csrf if session else "", "course": course.name,
            **context}, status_code=status_code)

    def assignment_rows(user: User) -> list[dict[str, Any]]:
        rows = []
        with engine.connect() as conn:
            mine = submissions.history(conn, user, user.id) if not user.is_staff else []
            for ident in course.assignment_ids():
                a = course.assignment(ident)
                rule = course.grading.assignments.get(ident)
                latest = next((h for h in mine if h["assignment"] == ident), None)
                extension = _extension_days(conn, user, ident)
                late = ""
                if latest:
                    seconds, penalty = late_penalty(
                        course.grading.late, datetime.fromisoformat(latest["submitted_at"]),
                        rule.due if rule else None, extension)
                    late = (f"{seconds / 86400:.1f} day(s) late: -{penalty:g}%" if seconds
                            else "on time")
                rubric = submissions.rubric_view(conn, user, ident)
                rows.append({"id": ident, "title": a.title, "max_score": a.total_points,
                             "due": rule.due.isoformat(" ", "minutes") if rule and rule.due
                             else None, "extension": extension, "latest": latest,
                             "late": late, "rubric": rubric})
        return rows

    def _extension_days(conn, user: User, ident: str) -> float:  # noqa: ANN001
        days = course.grading.extensions.get(user.login, {}).get(ident, 0.0)
        row = conn.execute(select(db.extensions.c.days).where(
            (db.extensions.c.user_id == user.id) & (db.extensions.c.assignment == ident))).first()
        return float(row.days) if row else days

    # ------------------------------------------------------------ pages: everyone
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", None, None, error=None)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, login: str = Form(""), password: str = Form("")) -> Response:
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host", ""):
            raise CsrfFailed("this form came from another site; it was refused")
        with engine.begin() as conn:
            user = accounts.authenticate(conn, login.strip(), password)
            if user is None:
                return page(request, "login.html", None, None,
                            error="wrong name or password")
            cookie, _ = accounts.start_session(conn, user.id, settings.session_seconds)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https",
                            max_age=int(settings.session_seconds))
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: str = Form("")) -> Response:
        user, session = need_user(request)
        check_form(request, session, csrf)
        with engine.begin() as conn:
            accounts.end_session(conn, request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> Response:
        user, session = need_user(request)
        if user.is_staff:
            return RedirectResponse("/staff", status_code=303)
        return page(request, "dashboard.html", user, session, assignments=assignment_rows(user))

    @app.get("/assignments/{ident}", response_class=HTMLResponse, include_in_schema=False)
    def assignment_page(request: Request, ident: str) -> HTMLResponse:
        user, session = need_user(request)
        if ident not in course.assignment_ids():
            raise submissions.NotFound(f"no assignment {ident!r}")
        with engine.connect() as conn:
            mine = submissions.history(conn, user, user.id, ident)
            used = submissions.submissions_today(conn, user.id, ident, db.now())
        row = next(r for r in assignment_rows(user) if r["id"] == ident)
        return page(request, "assignment.html", user, session, a=row, history=mine,
                    left_today=max(settings.submissions_per_day - used, 0),
                    max_mb=settings.max_upload_bytes / 2**20)

    @app.post("/assignments/{ident}/submit", include_in_schema=False)
    async def submit_form(request: Request, ident: str, csrf: str = Form(""),
                          files: Annotated[list[UploadFile] | None, File()] = None) -> Response:
        user, session = need_user(request)
        check_form(request, session, csrf)
        upload = await _read_upload(files or [])
        sid = submissions.accept(engine, store, settings, course, user, ident, upload)
        return RedirectResponse(f"/submissions/{sid}", status_code=303)

    async def _read_upload(files: list[UploadFile]) -> submissions.Upload:
        out, total = {}, 0
        for f in files:
            data = await f.read(settings.max_upload_bytes + 1 - total)
            total += len(data)
            if total > settings.max_upload_bytes:
                raise submissions.UploadRejected(
                    f"the upload is over the limit of {settings.max_upload_bytes / 2**20:g} MiB; "
                    "submit only your modules")
            if f.filename:
                out[f.filename] = data
        return submissions.Upload(out)

    @app.get("/submissions/{sid}", response_class=HTMLResponse, include_in_schema=False)
    def submission_page(request: Request, sid: int) -> HTMLResponse:
        user, session = need_user(request)
        with engine.connect() as conn:
            view = submissions.submission_view(conn, user, sid)
        return page(request, "submission.html", user, session, s=view)

    @app.get("/account", response_class=HTMLResponse, include_in_schema=False)
    def account_page(request: Request) -> HTMLResponse:
        user, session = need_user(request)
        return page(request, "account.html", user, session, token=None)

    @app.post("/account/token", response_class=HTMLResponse, include_in_schema=False)
    def account_token(request: Request, csrf: str = Form("")) -> HTMLResponse:
        user, session = need_user(request)
        check_form(request, session, csrf)
        with engine.begin() as conn:
            token = accounts.new_token(conn, user.id)
        return page(request, "account.html", user, session, token=token)

    @app.post("/account/password", response_class=HTMLResponse, include_in_schema=False)
    def account_password(request: Request, csrf: str = Form(""), current: str = Form(""),
                         new: str = Form(""), confirm: str = Form("")) -> HTMLResponse:
        user, session = need_user(request)
        check_form(request, session, csrf)
        if session is None:
            raise UsageError("a password is changed on the account page, not with a token")
        try:
            with engine.begin() as conn:
                accounts.change_password(conn, user, current, new, confirm,
                                         keep_session=request.cookies.get(COOKIE))
                staff.log(conn, user, "password-change", login=user.login)
        except UsageError as exc:
            return page(request, "account.html", user, session, token=None,
                        password_error=str(exc), status_code=400)
        return page(request, "account.html", user, session, token=None,
                    password_changed=True)

    # ------------------------------------------------------------ pages: staff
    @app.get("/staff", response_class=HTMLResponse, include_in_schema=False)
    def staff_home(request: Request) -> HTMLResponse:
        user, session = need_user(request)
        staff.require_staff(user)
        with engine.connect() as conn:
            grades = staff.class_grades(conn, course)
            queued = conn.execute(select(db.submissions.c.id)
                                  .where(db.submissions.c.state.in_(("queued", "running")))).all()
            rubric = submissions.rubric_view(conn, user)
        return page(request, "staff.html", user, session, grades=grades, queued=len(queued),
                    formats=[f for f in EXPORT_FORMATS if f != "table"], rubric=rubric)

    @app.get("/staff/assignments/{ident}", response_class=HTMLResponse, include_in_schema=False)
    def staff_assignment(request: Request, ident: str) -> HTMLResponse:
        user, session = need_user(request)
        staff.require_staff(user)
        if ident not in course.assignment_ids():
            raise submissions.NotFound(f"no assignment {ident!r}")
        s, r, u = db.submissions, db.results, db.users
        with engine.connect() as conn:
            rows = conn.execute(select(s.c.id, s.c.state, s.c.created_at, u.c.login, r.c.score,
                                       r.c.max_score, r.c.status)
                                .select_from(s.join(u, u.c.id == s.c.user_id)
                                             .outerjoin(r, r.c.submission_id == s.c.id))
                                .where(s.c.assignment == ident).order_by(s.c.id.desc())).all()
            is_released = submissions.released(conn, ident)
        return page(request, "staff_assignment.html", user, session, ident=ident, rows=rows,
                    released=is_released, title=course.assignment(ident).title)

    @app.get("/staff/assignments/{ident}/report", response_class=HTMLResponse,
             include_in_schema=False)
    def staff_report(request: Request, ident: str) -> HTMLResponse:
        user, _ = need_user(request)
        staff.require_staff(user)
        if ident not in course.assignment_ids():
            raise submissions.NotFound(f"no assignment {ident!r}")
        with engine.connect() as conn:
            grades, rows = staff.class_snapshot(conn, course, store)
        one = replace(grades, assignments=[ident]) if ident in grades.assignments else grades
        rows = [r for r in rows if r.assignment == ident]
        flags = class_similarity(course, [ident], rows, SIMILARITY_THRESHOLD)
        return HTMLResponse(render_report(course.name, one, rows, flags, SIMILARITY_THRESHOLD))

    @app.get("/staff/submissions/{sid}", response_class=HTMLResponse, include_in_schema=False)
    def staff_submission(request: Request, sid: int) -> HTMLResponse:
        user, session = need_user(request)
        staff.require_staff(user)
        with engine.connect() as conn:
            view = submissions.submission_view(conn, user, sid)
        return page(request, "submission.html", user, session, s=view)

    def _staff_post(request: Request, csrf: str) -> User:
        user, session = need_user(request)
        staff.require_staff(user)
        check_form(request, session, csrf)
        return user

    @app.post("/staff/assignments/{ident}/release", include_in_schema=False)
    def staff_release(request: Request, ident: str, csrf: str = Form("")) -> Response:
        staff.release(engine, course, _staff_post(request, csrf), ident)
        return RedirectResponse(f"/staff/assignments/{ident}", status_code=303)

    @app.post("/staff/assignments/{ident}/regrade", include_in_schema=False)
    def staff_regrade(request: Request, ident: str, csrf: str = Form("")) -> Response:
        staff.regrade(engine, course, _staff_post(request, csrf), ident)
        return RedirectResponse(f"/staff/assignments/{ident}", status_code=303)

    @app.post("/staff/extensions", include_in_schema=False)
    def staff_extension(request: Request, csrf: str = Form(""), student: str = Form(""),
                        assignment: str = Form(""), days: float = Form(0.0)) -> Response:
        staff.grant_extension(engine, course, _staff_post(request, csrf), student, assignment,
                              days)
        return RedirectResponse("/staff", status_code=303)

    @app.post("/staff/overrides", include_in_schema=False)
    def staff_override(request: Request, csrf: str = Form(""), student: str = Form(""),
                       assignment: str = Form(""), score: float = Form(0.0),
                       reason: str = Form("")) -> Response:
        staff.override_score(engine, course, _staff_post(request, csrf), student, assignment,
                             score, reason)
        return RedirectResponse("/staff", status_code=303)

    @app.post("/staff/rubric", include_in_schema=False)
    def staff_rubric(request: Request, csrf: str = Form(""), student: str = Form(""),
                     assignment: str = Form(""), question: str = Form(""),
                     points: float = Form(0.0), comment: str = Form("")) -> Response:
        staff.rubric_score(engine, course, _staff_post(request, csrf), student, assignment,
                           question, points, comment)
        return RedirectResponse("/staff", status_code=303)

    @app.get("/staff/export/{fmt}", include_in_schema=False)
    def staff_export(request: Request, fmt: str) -> Response:
        user, _ = need_user(request)
        staff.require_staff(user)
        if fmt not in EXPORT_FORMATS:
            raise submissions.NotFound(f"no export {fmt!r} (known: {', '.join(EXPORT_FORMATS)})")
        with engine.connect() as conn:
            grades = staff.class_grades(conn, course)
        export = render_export(fmt, grades, load_roster(course.roster_path), course.lms)
        return PlainTextResponse(export.text, media_type="text/csv", headers={
            "content-disposition": f'attachment; filename="grades-{fmt}.csv"'})

    @app.get("/staff/audit", response_class=HTMLResponse, include_in_schema=False)
    def staff_audit(request: Request) -> HTMLResponse:
        user, session = need_user(request)
        staff.require_staff(user)
        with engine.connect() as conn:
            rows = conn.execute(select(db.audit, db.users.c.login)
                                .outerjoin(db.users, db.users.c.id == db.audit.c.actor)
                                .order_by(db.audit.c.id.desc()).limit(500)).all()
        return page(request, "audit.html", user, session, rows=rows)

    # ------------------------------------------------------------ JSON API
    signed_in = "no valid token or session"

    @app.get("/api/v1/assignments", response_model=list[AssignmentView], tags=["api"],
             responses=_errors(s401=signed_in))
    def api_assignments(request: Request) -> list[AssignmentView]:
        """The course's assignments with their due dates."""
        need_user(request)
        out = []
        for ident in course.assignment_ids():
            rule = course.grading.assignments.get(ident)
            out.append(AssignmentView(id=ident, title=course.assignment(ident).title,
                                      due=rule.due.isoformat() if rule and rule.due else None,
                                      max_score=course.assignment(ident).total_points))
        return out

    @app.post("/api/v1/assignments/{ident}/submissions", response_model=SubmissionAccepted,
              status_code=201, tags=["api"], responses=_errors(
                  s400="the upload is refused: too large, empty, not a zip or .py files, or "
                       "refused by the archive checks",
                  s401=signed_in, s403="a browser session's request without its CSRF token",
                  s404="no such assignment",
                  s429="the daily submissions for this assignment are used up, or the rate "
                       "limit", s507="the server's disk is full: nothing was stored"))
    async def api_submit(request: Request, ident: str,
                         files: Annotated[list[UploadFile], File()]) -> SubmissionAccepted:
        """Submit a .zip or .py files; returns the submission's id and place in the queue."""
        user, session = need_user(request)
        check_form(request, session, request.headers.get("x-csrf-token", ""))
        sid = submissions.accept(engine, store, settings, course, user, ident,
                                 await _read_upload(files))
        with engine.connect() as conn:
            position = submissions.queue_position(conn, sid)
        return SubmissionAccepted(id=sid, queue_position=position,
                                  poll_after=queue.poll_after(position),
                                  url=f"/submissions/{sid}")

    @app.get("/api/v1/submissions/{sid}", response_model=SubmissionView, tags=["api"],
             responses=_errors(s401=signed_in,
                               s404="no such submission, or another student's"))
    def api_submission(request: Request, sid: int) -> dict[str, Any]:
        """One of your submissions (staff: anyone's): state, queue position, results."""
        user, _ = need_user(request)
        with engine.connect() as conn:
            return submissions.submission_view(conn, user, sid)

    return app


def _wants_json(request: Request) -> bool:
    return (request.url.path.startswith("/api/")
            or "application/json" in request.headers.get("accept", ""))
