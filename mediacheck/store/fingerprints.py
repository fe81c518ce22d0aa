"""FingerprintRow rows and recorded matches: what the archive search reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from mediacheck.store.models import Case, CaseMedia, FingerprintRow, Media, SeenBefore

IndexRow = tuple[int, str, float | None, bytes]  # (id, media_id, frame_time_s, bits)


def fingerprint_rows(session: Session, kind: str, after_id: int) -> list[IndexRow]:
    """(id, media_id, frame_time_s, bits) of every ``kind`` row after ``after_id``.

    One plain query without ORM objects: the match index loads millions of rows.
    """
    query = (
        select(
            col(FingerprintRow.id),
            col(FingerprintRow.media_id),
            col(FingerprintRow.frame_time_s),
            col(FingerprintRow.bits),
        )
        .where(col(FingerprintRow.kind) == kind, col(FingerprintRow.id) > after_id)
        .order_by(col(FingerprintRow.id))
    )
    return [(row_id, media_id, t, bits) for row_id, media_id, t, bits in session.execute(query)]


def fingerprint_count(session: Session, kind: str, up_to_id: int) -> int:
    query = select(func.count()).where(
        col(FingerprintRow.kind) == kind, col(FingerprintRow.id) <= up_to_id
    )
    return session.execute(query).scalar_one()


def insert_fingerprints(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    session.execute(insert(FingerprintRow), list(rows))


def fingerprint_heads(session: Session, kind: str, offset: int) -> list[tuple[str, bytes]]:
    """(media_id, the four bytes of its bits from ``offset`` on) of every ``kind`` row, in
    id order: what says which version wrote a row, without reading a million whole rows."""
    head = func.substr(col(FingerprintRow.bits), offset + 1, 4)  # SQL counts from 1
    query = (
        select(col(FingerprintRow.media_id), head)
        .where(col(FingerprintRow.kind) == kind)
        .order_by(col(FingerprintRow.id))
    )
    return [(media_id, bytes(part or b"")) for media_id, part in session.execute(query)]


def replace_fingerprints(session: Session, media_id: str, rows: Sequence[FingerprintRow]) -> None:
    """Every fingerprint row of ``media_id`` swapped for ``rows``, in the caller's transaction."""
    session.execute(delete(FingerprintRow).where(col(FingerprintRow.media_id) == media_id))
    session.add_all(rows)


def sibling_fingerprints(session: Session, ids: Sequence[int], kind: str) -> dict[int, bytes]:
    """The ``kind`` row of the same picture (media and frame) as each of the rows ``ids``."""
    found = session.execute(sibling_query(ids, kind))
    return {row_id: bytes(bits) for row_id, bits in found if bits is not None}


def sibling_query(ids: Sequence[int], kind: str) -> Select[int | None, bytes | None]:
    """``sibling_fingerprints``' query: for each row, one seek of ``ix_fingerprints_picture``.

    A subquery per row, not a join: given a join, SQLite's planner walked every row of the
    kind (``ix_fingerprints_kind``) and looked each one up, 0.5 s for 8 rows of 40,000.
    """
    sibling = aliased(FingerprintRow)
    bits = (
        select(col(sibling.bits))
        .where(
            col(sibling.media_id) == col(FingerprintRow.media_id),
            col(sibling.kind) == kind,
            col(sibling.frame_time_s).is_not_distinct_from(col(FingerprintRow.frame_time_s)),
        )
        .limit(1)
        .scalar_subquery()
    )
    return select(col(FingerprintRow.id), bits).where(col(FingerprintRow.id).in_(list(ids)))


def seen_before(
    session: Session, media_ids: Sequence[str]
) -> list[tuple[SeenBefore, Media, Case | None]]:
    """Matches recorded at intake for ``media_ids``, with the archive media and case they name."""
    query = (
        select(SeenBefore, Media, Case)
        .join(Media, col(SeenBefore.matched_media_id) == col(Media.id))
        .outerjoin(Case, col(SeenBefore.matched_case_id) == col(Case.id))
        .where(col(SeenBefore.media_id).in_(list(media_ids)))
        .order_by(col(SeenBefore.id))
    )
    return [(row, media, case) for row, media, case in session.exec(query)]


def media_cases(session: Session, media_ids: Sequence[str]) -> dict[str, tuple[Media, list[Case]]]:
    """Each media item with every case that holds it, in the order it was taken into them."""
    media = session.exec(select(Media).where(col(Media.id).in_(list(media_ids)))).all()
    links = session.exec(
        select(CaseMedia, Case)
        .join(Case, col(CaseMedia.case_id) == col(Case.id))
        .where(col(CaseMedia.media_id).in_(list(media_ids)))
        .order_by(col(CaseMedia.id))
    ).all()
    held: dict[str, list[Case]] = {m.id: [] for m in media}
    for link, case in links:
        held[link.media_id].append(case)
    return {m.id: (m, held[m.id]) for m in media}
