"""Source rows: the captures of links a case's media were taken in from, and their media."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from mediacheck.store.events import append_event
from mediacheck.store.models import FindingRow, Source, SourceMedia


def add_source(
    session: Session,
    source: Source,
    media_ids: Sequence[str],
    findings: Sequence[FindingRow],
    details: dict[str, Any],
) -> Source:
    """The source, its media and its findings, with a ``source-added`` event."""
    session.add(source)
    session.flush()
    assert source.id is not None
    session.add_all(SourceMedia(source_id=source.id, media_id=m) for m in dict.fromkeys(media_ids))
    session.add_all(findings)
    append_event(session, source.case_id, source.fetched_by, "source-added", details)
    return source


def sources(session: Session, case_id: str | None = None) -> list[tuple[Source, list[str]]]:
    """A case's sources (every case's without ``case_id``), oldest first, with their media ids."""
    query = select(Source).order_by(col(Source.id))
    if case_id is not None:
        query = query.where(col(Source.case_id) == case_id)
    found = list(session.exec(query))
    ids = [s.id for s in found]
    links = session.exec(
        select(SourceMedia).where(col(SourceMedia.source_id).in_(ids)).order_by(col(SourceMedia.id))
    )
    media: dict[int, list[str]] = {}
    for link in links:
        media.setdefault(link.source_id, []).append(link.media_id)
    return [(s, media.get(s.id or 0, [])) for s in found]


def warc_digests(session: Session) -> set[str]:
    """The SHA-256 of every stored WARC: originals that are captures, not media."""
    return set(session.exec(select(Source.warc_sha256)))
