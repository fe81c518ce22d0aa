"""Case numbers and media ids: the two keys concurrent desks can race for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mediacheck.store.models import Case

CASE_PREFIX = "MC"
MEDIA_ID_LENGTH = 16


def new_media_id(sha256: str) -> str:
    return sha256[:MEDIA_ID_LENGTH]


def next_case_number(session: Session, year: int) -> tuple[str, int]:
    """The id and sequence number of the next case of ``year``.

    Two desks can read the same maximum; the loser's insert breaks the unique
    key and the store retries it (see ``Store._retrying``).
    """
    last = session.exec(select(func.max(col(Case.seq))).where(col(Case.year) == year)).one()
    seq = (last or 0) + 1
    return f"{CASE_PREFIX}-{year}-{seq:04d}", seq


@dataclass(frozen=True)
class Race:
    """A unique key two desks can both claim at once; the loser's transaction runs again."""

    table: str
    columns: tuple[str, ...]
    what: str


# Two new cases read the same highest number of the year; two desks take in the
# same new file (its media row: id and SHA-256). Every other key is written under
# the case lock, so any other unique-key failure is a bug and is not retried.
RACES = (
    Race("cases", ("id",), "case number"),
    Race("cases", ("year", "seq"), "case number"),
    Race("media", ("id",), "media id"),
    Race("media", ("sha256",), "media id"),
)

_SQLITE_UNIQUE = "UNIQUE constraint failed: "
_POSTGRES_KEY = re.compile(r"Key \(([^)]*)\)=")


def race_of(exc: IntegrityError) -> Race | None:
    """The expected race ``exc`` reports, or None for any other integrity failure."""
    key = _sqlite_key(str(exc.orig)) or _postgres_key(exc.orig)
    return next((race for race in RACES if (race.table, race.columns) == key), None)


def _sqlite_key(message: str) -> tuple[str, tuple[str, ...]] | None:
    # "UNIQUE constraint failed: cases.year, cases.seq"
    if not message.startswith(_SQLITE_UNIQUE):
        return None
    names = [name.strip().split(".", 1) for name in message[len(_SQLITE_UNIQUE) :].split(",")]
    if any(len(name) != 2 for name in names) or len({table for table, _ in names}) != 1:
        return None
    return names[0][0], tuple(column for _, column in names)


def _postgres_key(error: object) -> tuple[str, tuple[str, ...]] | None:
    # psycopg's diagnostics: the table, and "Key (year, seq)=(2026, 3) already exists."
    diag = getattr(error, "diag", None)
    if getattr(error, "sqlstate", None) != "23505" or diag is None:
        return None
    found = _POSTGRES_KEY.match(diag.message_detail or "")
    if diag.table_name is None or found is None:
        return None
    return diag.table_name, tuple(column.strip() for column in found.group(1).split(","))
