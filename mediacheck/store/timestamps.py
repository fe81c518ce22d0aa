"""Time-stamp token rows: kept as the authority sent them, never edited.

A token is no history event: it proves the history from outside, and adding an
event for it would move the head it was asked for. Its own signature is what
makes it trustworthy (``verify`` checks it against the desk's trust anchor).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from mediacheck.store.models import Source, TimestampRow

# Bound parameters per query: SQLite allows 32,766, PostgreSQL 65,535.
IN_CHUNK = 10_000


def add_timestamp(session: Session, row: TimestampRow) -> TimestampRow:
    session.add(row)
    session.flush()
    return row


def case_timestamps(session: Session, case_id: str) -> list[TimestampRow]:
    """The tokens of a case's subjects, oldest first: its history's, and its WARCs'
    (a WARC kept for two cases has one token, asked for by the first)."""
    warcs = select(Source.warc_sha256).where(col(Source.case_id) == case_id)
    of_its_warcs = and_(
        col(TimestampRow.subject_kind) == "warc",  # timestamps.service.WARC
        col(TimestampRow.subject_id).in_(warcs),
    )
    query = select(TimestampRow).where(or_(col(TimestampRow.case_id) == case_id, of_its_warcs))
    return list(session.exec(query.order_by(col(TimestampRow.id))))


def subject_timestamps(
    session: Session, subject_kind: str, subject_ids: Sequence[str]
) -> list[TimestampRow]:
    """The tokens of the named subjects of one kind (the WARCs of a case, ...), oldest first."""
    found: list[TimestampRow] = []
    ids = list(dict.fromkeys(subject_ids))
    for start in range(0, len(ids), IN_CHUNK):
        query = select(TimestampRow).where(
            col(TimestampRow.subject_kind) == subject_kind,
            col(TimestampRow.subject_id).in_(ids[start : start + IN_CHUNK]),
        )
        found.extend(session.exec(query))
    return sorted(found, key=lambda row: row.id or 0)
