"""Setting a server up: the database's tables, accounts from the roster, staff accounts."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from sqlalchemy import Engine

from autograder.config import Course
from autograder.errors import UsageError
from autograder.lms.roster import load_roster
from autograder.server import accounts, db, staff


def init_server(course: Course, engine: Engine, passwords_out: Path) -> int:
    """Create the tables and an account per roster student (skipping those that exist);
    the new accounts' passwords go to ``passwords_out`` (CSV, readable by its owner only).
    Returns the number of accounts made.

    Raises:
        UsageError: the course has no roster, or ``passwords_out`` exists already.
    """
    roster = load_roster(course.roster_path)
    if not roster:
        raise UsageError("the course has no roster (roster = \"roster.csv\" in course.toml) "
                         "to make student accounts from")
    if passwords_out.exists():
        raise UsageError(f"{passwords_out} exists: move it away first (it holds passwords)")
    db.create_schema(engine)
    made = []
    with engine.begin() as conn:
        for login, person in roster.items():
            if accounts.user_by_login(conn, login):
                continue
            _, password = accounts.create_user(conn, login, "student", name=person["name"],
                                               email=person["email"])
            made.append((login, person["email"], password))
        staff.log(conn, None, "init", accounts=len(made))
    passwords_out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(passwords_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["login", "email", "password"])
        writer.writerows(made)
    return len(made)


def add_user(engine: Engine, login: str, role: str, name: str = "", email: str = "") -> str:
    """Add one account (staff, or a late student); returns its new password."""
    db.create_schema(engine)
    with engine.begin() as conn:
        user, password = accounts.create_user(conn, login, role, name=name, email=email)
        staff.log(conn, None, "add-user", login=login, role=role)
    return password


def reset_password(engine: Engine, login: str) -> str:
    """A new password for one account (forgotten); its sessions end. Returns it."""
    with engine.begin() as conn:
        password = accounts.reset_password(conn, login)
        staff.log(conn, None, "password-reset", login=login)
    return password
