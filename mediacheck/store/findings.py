"""FindingRow rows: the forensic signals stored for each media item of a case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from mediacheck.store.events import append_event
from mediacheck.store.models import FindingRow

EventSpec = tuple[str, str, dict[str, Any]]  # (user, action, details)


def findings(session: Session, case_id: str, media_id: str) -> list[FindingRow]:
    query = select(FindingRow).where(
        col(FindingRow.case_id) == case_id, col(FindingRow.media_id) == media_id
    )
    return list(session.exec(query.order_by(col(FindingRow.id))))


def replace_findings(
    session: Session, case_id: str, by_media: dict[str, list[FindingRow]], event: EventSpec | None
) -> None:
    """Swap the findings of each media in the case, with an optional history event."""
    for media_id, rows in by_media.items():
        session.execute(
            delete(FindingRow).where(
                col(FindingRow.case_id) == case_id, col(FindingRow.media_id) == media_id
            )
        )
        session.add_all(rows)
    if event is not None:
        append_event(session, case_id, *event)
