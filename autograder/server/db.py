"""The server's database: SQLite in WAL mode (one machine) or PostgreSQL (several), one schema.

Tables (SQLAlchemy Core, so the same statements run on both):

- ``users``: one per person (``login`` is the roster id for students), a role
  (``student``, ``ta``, ``instructor``), an argon2 password hash, a CLI token's hash.
- ``sessions``: browser sessions (a random id in an HttpOnly cookie) with their CSRF token.
- ``submissions``: every accepted upload (its sha256 names the stored bytes), its
  queue state (``queued`` → ``running`` → ``done`` / ``failed``), the worker's lease.
  An upload is stored and queued in the transaction that answers the student.
- ``results``: at most one per submission (``submission_id`` is unique), so a job
  finished twice (a worker killed after writing) never grades anything twice.
- ``releases``, ``extensions``, ``overrides``, ``rubric_scores``: staff decisions.
- ``audit``: append-only record of every staff action.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)

metadata = MetaData()

ROLES = ("student", "ta", "instructor")
STAFF_ROLES = ("ta", "instructor")

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("login", String(128), nullable=False, unique=True),
    Column("name", String(256), nullable=False, default=""),
    Column("email", String(256), nullable=False, default=""),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(256)),
    Column("token_hash", String(64), unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie's value
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("filename", String(256), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),  # queued | running | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("worker", String(128)),
    Column("lease_until", DateTime(timezone=True)),
    Column("regrade_of", Integer, ForeignKey("submissions.id")),
    Index("submissions_by_state", "state", "id"),
    Index("submissions_by_user", "user_id", "assignment", "id"),
)

results = Table(
    "results", metadata,
    Column("id", Integer, primary_key=True),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # graded | error
    Column("score", Float),
    Column("max_score", Float),
    Column("public_score", Float),
    Column("public_max", Float),
    Column("error", Text),
    Column("results_json", Text),  # the full results (hidden tests included): staff only
    Column("graded_at", DateTime(timezone=True), nullable=False),
    Column("worker", String(128)),
)

releases = Table(
    "releases", metadata,
    Column("assignment", String(128), primary_key=True),
    Column("released_at", DateTime(timezone=True), nullable=False),
    Column("released_by", Integer, ForeignKey("users.id"), nullable=False),
)

extensions = Table(
    "extensions", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("days", Float, nullable=False),
    Column("granted_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "assignment"),
)

overrides = Table(
    "overrides", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("score", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("by", Integer, ForeignKey("users.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

rubric_scores = Table(
    "rubric_scores", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("assignment", String(128), nullable=False),
    Column("question", String(128), nullable=False),
    Column("points", Float, nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("by", Integer, ForeignKey("users.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Integer, ForeignKey("users.id")),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False, default=""),
)


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A datetime read back from the database, made timezone-aware (SQLite drops the zone)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full sync, foreign keys and a busy timeout,
    and its folder is created."""
    if url.startswith("sqlite:///"):
        from pathlib import Path

        path = url[len("sqlite:///"):]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 (driver objects)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    metadata.create_all(engine)
