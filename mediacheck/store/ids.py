"""Case numbers and media ids: the two keys concurrent desks can race for."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

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
    last = session.exec(select(func.max(Case.seq)).where(Case.year == year)).one()
    seq = (last or 0) + 1
    return f"{CASE_PREFIX}-{year}-{seq:04d}", seq
