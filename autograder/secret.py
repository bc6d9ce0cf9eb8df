"""The course secret, and the hidden tests' seeds derived from it.

A hidden test's inputs must not be the same for every submission: a submission that could
carry information from one grading run to the next would record what the hidden tests send
and replay it as a lookup table. So where grading has the course secret, a hidden test's
seed (the ``seed`` and ``rng`` fixtures, the grader's global generators and the worker's) is

    HMAC-SHA256(secret, "dlgrade hidden seed v1" NUL node id NUL submission sha256)

cut to 31 bits: the same submission regraded gets the same inputs (grades are deterministic),
another submission (any byte changed, a lookup table embedded) gets other inputs, and without
the secret nobody can tell which. Public tests keep ``plugin.test_seed(node id)``, so students
reproduce them at home; a student's ``dlgrade check`` has no secret and runs public tests only.

The secret is a random token in ``<assignments folder>/.dlgrade-secret`` (mode 600), beside
the hidden tests and hidden from workers exactly as they are; the course's ``.gitignore``
leaves it out of version control, a student release refuses it (``packaging/leakcheck``), the
Gradescope package carries it. ``$DLGRADE_SECRET`` replaces it (course staff's CI).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets as _secrets
from pathlib import Path

from autograder.errors import UsageError

SECRET_FILE = ".dlgrade-secret"
ENV_VAR = "DLGRADE_SECRET"
_SEED_LABEL = b"dlgrade hidden seed v1"


def secret_path(assignments_dir: Path) -> Path:
    """Where a course keeps its secret: beside its assignments, in the folder workers never see."""
    return Path(assignments_dir) / SECRET_FILE


def _decode(text: str, where: str) -> bytes:
    value = text.strip()
    if not value:
        raise UsageError(f"{where} is empty: the course secret must be a non-empty string "
                         f"(`dlgrade secret` creates one)")
    return value.encode("utf-8")


def course_secret(assignments_dir: Path) -> bytes | None:
    """The course secret: ``$DLGRADE_SECRET``, else the course's file, else None (no secret:
    hidden tests keep their fixed per-test seeds).

    Raises:
        UsageError: the variable or the file is empty, or the file cannot be read.
    """
    env = os.environ.get(ENV_VAR)
    if env is not None:
        return _decode(env, f"${ENV_VAR}")
    path = secret_path(assignments_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the course secret {path}: "
                         f"{getattr(exc, 'strerror', None) or exc}") from None
    return _decode(text, str(path))


def assignment_secret(assignment) -> bytes | None:
    """``course_secret`` for an ``Assignment`` (its course's assignments folder)."""
    return course_secret(Path(assignment.root).parent)


def new_secret() -> str:
    """A fresh secret: 256 random bits, hex."""
    return _secrets.token_hex(32)


def ensure_course_secret(assignments_dir: Path) -> tuple[bytes, bool]:
    """The course secret, created (mode 600) when there is none: ``(secret, created)``.

    ``$DLGRADE_SECRET`` wins and nothing is written. Several processes may call this at once:
    the file appears whole or not at all (linked into place), and a loser reads the winner's.

    Raises:
        UsageError: the secret cannot be read or written.
    """
    existing = course_secret(assignments_dir)
    if existing is not None:
        return existing, False
    path = secret_path(assignments_dir)
    tmp = path.with_name(f"{SECRET_FILE}.{os.getpid()}.{_secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new_secret() + "\n")
        try:
            os.link(tmp, path)
            created = True
        except FileExistsError:
            created = False
    except OSError as exc:
        raise UsageError(f"cannot create the course secret {path}: "
                         f"{exc.strerror or exc}") from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    secret = course_secret(assignments_dir)
    assert secret is not None
    return secret, created


def secret_id(secret: bytes) -> str:
    """A short fingerprint that names a secret in results without revealing it."""
    return hashlib.sha256(b"dlgrade secret id\0" + secret).hexdigest()[:12]


def hidden_seed(secret: bytes, nodeid: str, submission_sha256: str) -> int:
    """A hidden test's 31-bit seed for one submission: keyed by the course secret, the test's
    node id and the submission's content digest."""
    message = b"\0".join((_SEED_LABEL, nodeid.encode("utf-8"), submission_sha256.encode("ascii")))
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def describe_course_secret(assignments_dir: Path, show: bool = False) -> str:
    """``dlgrade secret``: create the secret if there is none; where it is and its fingerprint
    (``show``: the secret itself, alone on the line)."""
    secret, created = ensure_course_secret(assignments_dir)
    if show:
        return secret.decode("utf-8")
    where = (f"${ENV_VAR}" if os.environ.get(ENV_VAR) is not None
             else str(secret_path(assignments_dir)))
    state = "created" if created else "in use"
    return (f"course secret: {where} ({state}; id {secret_id(secret)}). Hidden tests' inputs "
            f"derive from it per submission; keep it out of version control and out of "
            f"anything students get.")


def prepare_course_secret(assignments_dir: Path) -> str | None:
    """Make sure official grading has the course secret: create it on first need.

    Returns what to tell the user (on stderr), or ``None`` when there is nothing to say: the
    secret was created now, or the course folder is read-only (a TA's checkout, a student's
    copy) and hidden tests draw their fixed inputs.

    Raises:
        UsageError: a secret exists that this user cannot read (grading would differ).
    """
    path = secret_path(assignments_dir)
    try:
        created = ensure_course_secret(assignments_dir)[1]
    except UsageError as exc:
        if path.exists():
            raise
        return (f"note: {exc}; hidden tests draw their fixed inputs (`dlgrade secret` where "
                "the course folder is writable, or $DLGRADE_SECRET, makes them per submission)")
    if created:
        return (f"created the course secret {path} (hidden tests' inputs derive from it; "
                "never give it to students)")
    return None
