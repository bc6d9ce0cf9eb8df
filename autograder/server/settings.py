"""The ``[server]`` table of course.toml: limits and where the server keeps its data.

::

    [server]
    database = "sqlite:///server/dlgrade.sqlite"   # or postgresql+psycopg://user@host/db
    store = "server/uploads"                        # content-addressed upload store
    submissions_per_day = 20                        # per student and assignment (UTC days)
    max_upload_mb = 5
    requests_per_minute = 60                        # per account (or per address when anonymous)
    session_hours = 12

Relative paths are relative to the course folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.config import Course, read_toml
from autograder.errors import ConfigError

_KEYS = {"database": str, "store": str, "submissions_per_day": int, "max_upload_mb": (int, float),
         "requests_per_minute": int, "session_hours": (int, float)}


@dataclass(frozen=True)
class ServerSettings:
    database_url: str
    store: Path
    submissions_per_day: int = 20
    max_upload_bytes: int = 5 * 2**20
    requests_per_minute: int = 60
    session_seconds: float = 12 * 3600


def server_settings(course: Course) -> ServerSettings:
    """The course's server settings (defaults when course.toml has no ``[server]``).

    Raises:
        ConfigError: naming course.toml and the key: unknown, wrong type or out of range.
    """
    path = course.root / "course.toml"
    table = read_toml(path).get("server", {}) if path.is_file() else {}
    where = f"{path} [server]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    for key, value in table.items():
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(_KEYS)})")
        if isinstance(value, bool) or not isinstance(value, _KEYS[key]):
            raise ConfigError(f"{where}: {key!r} has the wrong type")
        if key != "database" and key != "store" and value <= 0:
            raise ConfigError(f"{where}: {key!r} must be positive")
    database = table.get("database", "sqlite:///server/dlgrade.sqlite")
    if database.startswith("sqlite:///") and not database.startswith("sqlite:////"):
        database = f"sqlite:///{course.root / database[len('sqlite:///'):]}"
    return ServerSettings(
        database_url=database,
        store=course.root / table.get("store", "server/uploads"),
        submissions_per_day=int(table.get("submissions_per_day", 20)),
        max_upload_bytes=int(float(table.get("max_upload_mb", 5)) * 2**20),
        requests_per_minute=int(table.get("requests_per_minute", 60)),
        session_seconds=float(table.get("session_hours", 12)) * 3600,
    )
