"""The hash-chained history of a case, written inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from mediacheck.errors import CaseNotFound
from mediacheck.history import chain as history
from mediacheck.store.models import Case, Event


def lock_case(session: Session, case_id: str) -> Case:
    """The case row, locked: it holds the chain's head, so one writer extends it at a time."""
    case = session.exec(select(Case).where(col(Case.id) == case_id).with_for_update()).first()
    if case is None:
        raise CaseNotFound(case_id)
    return case


def append_event(
    session: Session, case_id: str, user: str, action: str, details: dict[str, Any]
) -> Event:
    """Chain one event onto a case's history inside the caller's transaction."""
    case = lock_case(session, case_id)
    content: dict[str, Any] = {
        "case_id": case_id,
        "seq": case.event_count + 1,
        "at": history.now(),
        "user": user,
        "action": action,
        "details": history.canonical_json(details),
        "prev_hash": case.head_hash,
    }
    event = Event(**content, hash=history.event_hash(**content))
    session.add(event)
    case.event_count, case.head_hash = event.seq, event.hash
    session.add(case)
    session.flush()
    return event


def events(session: Session, case_id: str) -> list[Event]:
    return list(
        session.exec(select(Event).where(col(Event.case_id) == case_id).order_by(col(Event.seq)))
    )
