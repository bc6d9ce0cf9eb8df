"""The course roster: who the students are, and the ids each LMS knows them by.

``roster = "roster.csv"`` in course.toml names a CSV with a header row and at least an
``id`` column (dlgrade's student id, the one submissions are filed under). The other
columns are optional::

    id,name,email,sis_id,login_id,section,canvas_id
    ann,Ann Lee,ann@uni.example,S1001,alee,A,4711

``sis_id`` is the institution's student number (Canvas's *SIS User ID*, Moodle's *ID
number*); ``login_id`` is Canvas's *SIS Login ID* and Moodle's *username*; ``canvas_id``
is Canvas's own user id (its gradebook export's ``ID`` column).
"""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.errors import ConfigError

ROSTER_COLUMNS = ("id", "name", "email", "sis_id", "login_id", "section", "canvas_id")

Roster = dict[str, dict[str, str]]  # student id -> every column of ROSTER_COLUMNS ("" if unknown)


def load_roster(path: Path | None) -> Roster:
    """Student id -> roster fields (empty when there is no roster).

    Raises:
        ConfigError: naming the file: missing, not UTF-8, no ``id`` column, or an id twice.
    """
    if path is None:
        return {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "id" not in reader.fieldnames:
                raise ConfigError(f"{path}: the roster needs a header with at least an 'id' column")
            roster: Roster = {}
            for row in reader:
                ident = (row.get("id") or "").strip()
                if not ident:
                    continue
                if ident in roster:
                    raise ConfigError(f"{path}: student id {ident!r} is listed twice")
                roster[ident] = {k: (row.get(k) or "").strip() for k in ROSTER_COLUMNS}
            return roster
    except FileNotFoundError:
        raise ConfigError(f"{path}: roster not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the roster is not UTF-8 text") from None


def find_student(roster: Roster, *, email: str = "", sis_id: str = "", login_id: str = "",
                 name: str = "") -> str | None:
    """The roster id of the one student whose email (any case), sis_id, login_id or, last,
    full name matches; None when none or several do."""
    probes = (("email", email.strip().lower(), str.lower), ("sis_id", sis_id.strip(), str),
              ("login_id", login_id.strip(), str), ("name", " ".join(name.split()).lower(),
                                                    lambda v: " ".join(v.split()).lower()))
    for column, wanted, norm in probes:
        if not wanted:
            continue
        hits = [ident for ident, person in roster.items() if norm(person[column]) == wanted]
        if len(hits) == 1:
            return hits[0]
    return None
