"""A case's rows as a bundle carries them between stores, and adding them to another."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, col, select

from mediacheck.errors import CaseExists
from mediacheck.store.events import append_event, events
from mediacheck.store.media import case_media
from mediacheck.store.models import (
    Case,
    CaseMedia,
    Event,
    FindingRow,
    FingerprintRow,
    KeyframeRow,
    Media,
    Note,
    Source,
    SourceMedia,
    TimestampRow,
    Verdict,
)
from mediacheck.store.review import notes, verdicts
from mediacheck.store.sources import sources
from mediacheck.store.timestamps import case_timestamps

Row = TypeVar("Row", bound=SQLModel)


@dataclass(frozen=True)
class CaseRecords:
    """Every row of one case and of its media: what a bundle carries between stores."""

    case: Case
    media: list[Media]
    memberships: list[CaseMedia]
    events: list[Event]
    notes: list[Note]
    verdicts: list[Verdict]
    keyframes: list[KeyframeRow]
    findings: list[FindingRow]
    fingerprints: list[FingerprintRow]
    timestamps: list[TimestampRow] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)  # the links it was taken in from
    source_media: list[SourceMedia] = field(default_factory=list)


def case_records(session: Session, case: Case) -> CaseRecords:
    pairs = case_media(session, case.id)
    ids = [media.id for _, media in pairs]
    keyframes = session.exec(
        select(KeyframeRow).where(col(KeyframeRow.media_id).in_(ids)).order_by(col(KeyframeRow.id))
    ).all()
    findings = session.exec(
        select(FindingRow).where(col(FindingRow.case_id) == case.id).order_by(col(FindingRow.id))
    ).all()
    fingerprints = session.exec(
        select(FingerprintRow)
        .where(col(FingerprintRow.media_id).in_(ids))
        .order_by(col(FingerprintRow.id))
    ).all()
    captures = sources(session, case.id)
    return CaseRecords(
        case=case,
        media=[media for _, media in pairs],
        memberships=[membership for membership, _ in pairs],
        events=events(session, case.id),
        notes=notes(session, case.id),
        verdicts=verdicts(session, case.id),
        keyframes=list(keyframes),
        findings=list(findings),
        fingerprints=list(fingerprints),
        timestamps=[_of_case(row, case.id) for row in case_timestamps(session, case.id)],
        sources=[source for source, _ in captures],
        source_media=[
            SourceMedia(source_id=source.id or 0, media_id=media_id)
            for source, media_ids in captures
            for media_id in media_ids
        ],
    )


def _of_case(row: TimestampRow, case_id: str) -> TimestampRow:
    """A token as the case's bundle carries it: a WARC's asked for by another case too."""
    if row.case_id == case_id:
        return row
    return TimestampRow.model_validate(row.model_dump() | {"case_id": case_id})


def import_case(
    session: Session, records: CaseRecords, user: str, details: dict[str, Any]
) -> list[str]:
    """Add a bundle's case and end its history with an import event.

    Media whose bytes the store already holds keep their rows as they are (with
    their keyframes and fingerprints). Returns the ids of the media new to the store.
    """
    if session.get(Case, records.case.id) is not None:
        raise CaseExists(records.case.id)
    session.add(_fresh(records.case, keep_id=True))
    known = session.exec(
        select(col(Media.sha256)).where(col(Media.sha256).in_([m.sha256 for m in records.media]))
    ).all()
    new_ids = {m.id for m in records.media if m.sha256 not in set(known)}
    session.add_all(_fresh(m, keep_id=True) for m in records.media if m.id in new_ids)
    session.flush()
    # Findings belong to the case (they weigh its claims); keyframes and
    # fingerprints to the media, which a store already holding it keeps.
    media_rows: list[KeyframeRow | FingerprintRow] = [*records.keyframes, *records.fingerprints]
    of_new_media = [r for r in media_rows if r.media_id in new_ids]
    rows: list[SQLModel] = [*records.memberships, *records.events, *records.verdicts, *of_new_media]
    rows += records.findings
    rows += records.timestamps
    session.add_all(_fresh(row) for row in rows)
    _import_notes(session, records.notes)
    _import_sources(session, records.sources, records.source_media)
    added = sorted(new_ids)
    append_event(session, records.case.id, user, "case-imported", details | {"media_added": added})
    return added


def _fresh(row: Row, keep_id: bool = False) -> Row:
    """A new, unattached copy of a row; without ``keep_id`` the database numbers it."""
    return type(row).model_validate(row.model_dump(exclude=None if keep_id else {"id"}))


def _import_sources(
    session: Session, captures: list[Source], source_media: list[SourceMedia]
) -> None:
    # Sources are renumbered in the new store, and their media links with them.
    for source in captures:
        copy = _fresh(source)
        session.add(copy)
        session.flush()
        assert copy.id is not None
        session.add_all(
            SourceMedia(source_id=copy.id, media_id=link.media_id)
            for link in source_media
            if link.source_id == source.id
        )


def _import_notes(session: Session, notes: list[Note]) -> None:
    # Notes are renumbered in the new store: a correction must follow its note.
    new_ids: dict[int | None, int | None] = {}
    for note in notes:
        copy = _fresh(note)
        copy.corrects = new_ids.get(note.corrects)
        session.add(copy)
        session.flush()
        new_ids[note.id] = copy.id
