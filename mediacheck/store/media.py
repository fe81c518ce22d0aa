"""Media rows: one per distinct file, linked to every case it was taken into."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from mediacheck.errors import MediaNotFound
from mediacheck.store.cases import CaseFields, insert_case
from mediacheck.store.events import append_event, lock_case
from mediacheck.store.models import (
    CaseMedia,
    FindingRow,
    FingerprintRow,
    KeyframeRow,
    Media,
    SeenBefore,
)


@dataclass(frozen=True)
class MediaIntake:
    """One file taken into a case: every row its intake writes, in one transaction.

    With ``case_id`` None a case is made from ``new_case``. A video's
    ``keyframes`` and the ``fingerprints`` of its pictures are stored with its
    media row; ``seen_before`` (archive media it was found to be a copy of) is
    recorded with a ``seen-before`` event, and the ``findings`` worked out
    against this case's claims with the membership. ``details`` are the
    ``media-added`` event's. With ``only_new`` and no ``case_id``, bytes the store
    holds by the time the transaction runs (another desk was quicker) make no case.
    """

    media: Media
    membership: CaseMedia
    details: dict[str, Any]
    case_id: str | None = None
    new_case: CaseFields | None = None
    keyframes: Sequence[KeyframeRow] = ()
    fingerprints: Sequence[FingerprintRow] = ()
    seen_before: Sequence[SeenBefore] = ()
    findings: Sequence[FindingRow] = ()
    only_new: bool = False


def by_sha256(session: Session, sha256: str) -> Media | None:
    return session.exec(select(Media).where(col(Media.sha256) == sha256)).first()


def get_media(session: Session, media_id: str) -> Media:
    """Media by its id, its full SHA-256 or an unambiguous prefix of either."""
    key = media_id.lower()
    found = session.exec(select(Media).where(col(Media.sha256).startswith(key[:64])).limit(2)).all()
    if len(found) == 1:
        return found[0]
    detail = ": the prefix is ambiguous" if found else " in this store"
    raise MediaNotFound(media_id, detail)


def add_media_to_case(
    session: Session, intake: MediaIntake, desk: str
) -> tuple[str | None, Media, bool]:
    """Store the media unless its bytes are known, add it to the case, log the event.

    A new case is numbered within the prefix ``desk``.

    Returns the case id (None: known bytes, ``only_new``), the stored media and
    whether the membership is new.
    """
    membership = intake.membership
    if intake.case_id is not None:
        target = lock_case(session, intake.case_id).id
    stored = by_sha256(session, intake.media.sha256)
    if intake.case_id is None:
        if stored is not None and intake.only_new:
            return None, stored, False
        fields = intake.new_case or CaseFields()
        target = insert_case(session, fields, membership.added_by, desk).id
    if stored is None:
        session.add(intake.media)
        session.flush()
        session.add_all(intake.keyframes)
        session.add_all(intake.fingerprints)
        stored = intake.media
    exists = session.exec(
        select(CaseMedia).where(
            col(CaseMedia.case_id) == target, col(CaseMedia.media_id) == stored.id
        )
    ).first()
    if exists is not None:
        return target, stored, False
    membership.case_id, membership.media_id = target, stored.id
    session.add(membership)
    for row in intake.findings:
        row.case_id, row.media_id = target, stored.id
    session.add_all(intake.findings)
    append_event(session, target, membership.added_by, "media-added", intake.details)
    if intake.seen_before:
        for seen in intake.seen_before:
            seen.media_id, seen.case_id = stored.id, target
        session.add_all(intake.seen_before)
        details = _seen_event(stored.id, intake.seen_before)
        append_event(session, target, membership.added_by, "seen-before", details)
    return target, stored, True


def _seen_event(media_id: str, rows: Sequence[SeenBefore]) -> dict[str, Any]:
    matches = [
        {
            "media_id": row.matched_media_id,
            "case_id": row.matched_case_id,
            "method": row.method,
            "distance": row.distance,
            "frame_time_s": row.frame_time_s,
        }
        for row in rows
    ]
    return {"media_id": media_id, "matches": matches}


def find_link(
    session: Session, media_id: str, original_path: str, added_at: str
) -> CaseMedia | None:
    """The membership one intake of one file made (a queued job run again finds it)."""
    return session.exec(
        select(CaseMedia).where(
            col(CaseMedia.media_id) == media_id,
            col(CaseMedia.original_path) == original_path,
            col(CaseMedia.added_at) == added_at,
        )
    ).first()


def case_media(session: Session, case_id: str) -> list[tuple[CaseMedia, Media]]:
    rows = session.exec(
        select(CaseMedia, Media)
        .join(Media, col(CaseMedia.media_id) == col(Media.id))
        .where(col(CaseMedia.case_id) == case_id)
        .order_by(col(CaseMedia.id))
    ).all()
    return [(membership, media) for membership, media in rows]


def keyframes(session: Session, media_id: str) -> list[KeyframeRow]:
    query = (
        select(KeyframeRow)
        .where(col(KeyframeRow.media_id) == media_id)
        .order_by(col(KeyframeRow.idx))
    )
    return list(session.exec(query))


# Ids bound in one IN (...): SQLite refuses statements with too many variables.
IDS_PER_QUERY = 500


def cases_holding(session: Session, media_ids: Sequence[str]) -> dict[str, list[str]]:
    """The ids of the cases that hold each of ``media_ids`` (sorted; empty for none)."""
    holding: dict[str, list[str]] = {m: [] for m in media_ids}
    wanted = list(holding)
    for start in range(0, len(wanted), IDS_PER_QUERY):
        query = (
            select(col(CaseMedia.media_id), col(CaseMedia.case_id))
            .where(col(CaseMedia.media_id).in_(wanted[start : start + IDS_PER_QUERY]))
            .order_by(col(CaseMedia.case_id))
        )
        for media_id, case_id in session.exec(query):
            holding[media_id].append(case_id)
    return holding


def all_media(session: Session) -> list[Media]:
    return list(session.exec(select(Media).order_by(col(Media.id))))
