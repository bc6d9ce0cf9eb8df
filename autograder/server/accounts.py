"""Accounts: users from the roster, argon2 password hashes, CLI tokens, browser sessions.

A session is a random 32-byte value in an HttpOnly cookie; the database keeps only its
sha256, with the session's CSRF token and expiry. A CLI token is shown once and kept as
its sha256. Passwords are hashed with argon2id (argon2-cffi's defaults).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from autograder.errors import UsageError
from autograder.server import db

_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    id: int
    login: str
    name: str
    email: str
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role in db.STAFF_ROLES


def _user(row) -> User:  # noqa: ANN001 (a SQLAlchemy row)
    return User(row.id, row.login, row.name, row.email, row.role)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def create_user(conn: Connection, login: str, role: str, *, name: str = "", email: str = "",
                password: str | None = None) -> tuple[User, str]:
    """Add a user; returns it and its password (``password``, or a new random one).

    Raises:
        UsageError: an unknown role, or the login is taken.
    """
    if role not in db.ROLES:
        raise UsageError(f"unknown role {role!r} (roles: {', '.join(db.ROLES)})")
    if conn.execute(select(db.users.c.id).where(db.users.c.login == login)).first():
        raise UsageError(f"a user {login!r} exists already")
    password = password or secrets.token_urlsafe(12)
    uid = conn.execute(insert(db.users).values(
        login=login, name=name, email=email, role=role, password_hash=_hasher.hash(password),
        created_at=db.now())).inserted_primary_key[0]
    return User(uid, login, name, email, role), password


MIN_PASSWORD_LENGTH = 10


def set_password(conn: Connection, user_id: int, password: str) -> None:
    conn.execute(update(db.users).where(db.users.c.id == user_id)
                 .values(password_hash=_hasher.hash(password)))


def change_password(conn: Connection, user: User, current: str, new: str, confirm: str,
                    keep_session: str | None = None) -> None:
    """Replace the user's password after checking the current one; every other session of
    theirs ends (``keep_session``: the cookie of the one that asked, which stays).

    Raises:
        UsageError: the current password is wrong, the two new ones differ, or the new one
            is shorter than MIN_PASSWORD_LENGTH, equals the login or the current one.
    """
    if authenticate(conn, user.login, current) is None:
        raise UsageError("the current password is not right; nothing was changed")
    if new != confirm:
        raise UsageError("the two new passwords differ; nothing was changed")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"the new password needs at least {MIN_PASSWORD_LENGTH} characters; "
                         "nothing was changed")
    if new in (user.login, current):
        raise UsageError("the new password must differ from your login and from the current "
                         "one; nothing was changed")
    set_password(conn, user.id, new)
    end_sessions(conn, user.id, keep=keep_session)


def reset_password(conn: Connection, login: str) -> str:
    """A new random password for ``login`` (a forgotten one, for staff to hand over); all
    the user's sessions end. Returns it.

    Raises:
        UsageError: no such user.
    """
    user = user_by_login(conn, login)
    if user is None:
        raise UsageError(f"no user {login!r}")
    password = secrets.token_urlsafe(12)
    set_password(conn, user.id, password)
    end_sessions(conn, user.id)
    return password


def authenticate(conn: Connection, login: str, password: str) -> User | None:
    """The user whose login (or email) and password match; None otherwise (same time
    either way, roughly: a hash is always checked)."""
    row = conn.execute(select(db.users).where(
        (db.users.c.login == login) | (db.users.c.email == login))).first()
    stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(row) if row is not None else None


_DUMMY_HASH = _hasher.hash("not a password anyone has")


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(db.users).where(db.users.c.id == user_id)).first()
    return _user(row) if row else None


def user_by_login(conn: Connection, login: str) -> User | None:
    row = conn.execute(select(db.users).where(db.users.c.login == login)).first()
    return _user(row) if row else None


def new_token(conn: Connection, user_id: int) -> str:
    """A new CLI token for the user (replacing any earlier one); shown once."""
    token = "dlg_" + secrets.token_urlsafe(32)
    conn.execute(update(db.users).where(db.users.c.id == user_id)
                 .values(token_hash=_digest(token)))
    return token


def user_by_token(conn: Connection, token: str) -> User | None:
    if not token.startswith("dlg_"):
        return None
    row = conn.execute(select(db.users).where(db.users.c.token_hash == _digest(token))).first()
    return _user(row) if row else None


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


def start_session(conn: Connection, user_id: int, lifetime: float) -> tuple[str, str]:
    """A new session: returns (cookie value, CSRF token)."""
    value, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    conn.execute(insert(db.sessions).values(
        id=_digest(value), user_id=user_id, csrf=csrf,
        expires_at=db.now() + timedelta(seconds=lifetime)))
    return value, csrf


def session_for(conn: Connection, cookie: str | None, at: datetime | None = None) -> Session | None:
    """The live session of a cookie; None when absent, unknown or expired (then removed)."""
    if not cookie:
        return None
    row = conn.execute(select(db.sessions).where(db.sessions.c.id == _digest(cookie))).first()
    if row is None:
        return None
    if db.aware(row.expires_at) <= (at or db.now()):
        conn.execute(delete(db.sessions).where(db.sessions.c.id == row.id))
        return None
    user = get_user(conn, row.user_id)
    return Session(user, row.csrf) if user else None


def end_sessions(conn: Connection, user_id: int, keep: str | None = None) -> None:
    """End every session of the user but the one whose cookie is ``keep``."""
    query = delete(db.sessions).where(db.sessions.c.user_id == user_id)
    if keep:
        query = query.where(db.sessions.c.id != _digest(keep))
    conn.execute(query)


def end_session(conn: Connection, cookie: str | None) -> None:
    if cookie:
        conn.execute(delete(db.sessions).where(db.sessions.c.id == _digest(cookie)))
