"""Case numbers and media ids: the two keys concurrent desks can race for."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mediacheck.store.models import Case

MEDIA_ID_LENGTH = 16
# A case id of any desk: its prefix, the year and the case's number in that year.
CASE_ID = re.compile(r"([A-Z0-9]{1,8})-(\d{4})-(\d{4,})")


@dataclass(frozen=True)
class CaseNumber:
    desk: str
    year: int
    seq: int

    @property
    def case_id(self) -> str:
        return f"{self.desk}-{self.year}-{self.seq:04d}"


def parse_case_id(case_id: str) -> CaseNumber | None:
    """The desk, year and number of a case id such as KYIV-2026-0012; None if it is not one."""
    found = CASE_ID.fullmatch(case_id)
    if found is None:
        return None
    return CaseNumber(found[1], int(found[2]), int(found[3]))


def new_media_id(sha256: str) -> str:
    return sha256[:MEDIA_ID_LENGTH]


def next_case_number(session: Session, desk: str, year: int) -> CaseNumber:
    """The next case number of ``year`` within the desk prefix ``desk``.

    Cases imported from other desks keep their own prefix and never take this
    desk's numbers. Two desks can read the same maximum; the loser's insert
    breaks the primary key and the store retries it (see ``Store._retrying``).
    """
    query = select(func.max(col(Case.seq))).where(
        col(Case.year) == year, col(Case.id).startswith(f"{desk}-{year}-")
    )
    last = session.exec(query).one()
    return CaseNumber(desk, year, (last or 0) + 1)


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
