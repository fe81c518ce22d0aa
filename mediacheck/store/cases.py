"""Cases: creating, listing and changing them, each change one history event."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from mediacheck.errors import CaseNotFound, InvalidValue
from mediacheck.history import chain as history
from mediacheck.store.events import append_event, lock_case
from mediacheck.store.ids import next_case_number
from mediacheck.store.models import CASE_STATUSES, Case, CaseMedia, Event, Verdict
from mediacheck.store.review import members, verdicts


@dataclass(frozen=True)
class CaseFields:
    title: str | None = None
    claim: str | None = None
    source_url: str | None = None
    platform: str | None = None
    posted_at: str | None = None
    tags: tuple[str, ...] = ()
    claimed_lat: float | None = None
    claimed_lon: float | None = None


@dataclass(frozen=True)
class CaseChanges:
    """New values for ``case set``; None (or empty) leaves a field as it is.

    ``reason`` is why the status changes, recorded in its event.
    """

    title: str | None = None
    claim: str | None = None
    source_url: str | None = None
    platform: str | None = None
    posted_at: str | None = None
    status: str | None = None
    reason: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    claimed_location: tuple[float, float] | None = None
    assignee: str | None = None


# The review rules' say on a status change (review.rules.check_status_change):
# (case id, old status, new status, reason, the case's verdicts, its media ids) -> raises.
ChangeCheck = Callable[[str, str, str | None, str | None, Sequence[Verdict], Sequence[str]], None]

# The fields ``case set`` replaces, each with a ``<field>-changed`` event, in this order.
CHANGED_FIELDS = ("title", "claim", "source_url", "platform", "posted_at", "status", "assignee")


@dataclass(frozen=True)
class CaseListing:
    case: Case
    media_ids: tuple[str, ...]  # in the order they were added

    @property
    def media_count(self) -> int:
        return len(self.media_ids)


def insert_case(session: Session, fields: CaseFields, user: str, desk: str) -> Case:
    """A new case numbered within the prefix ``desk``, with its ``case-created`` event."""
    number = next_case_number(session, desk, datetime.now(UTC).year)
    case = Case(
        id=number.case_id,
        year=number.year,
        seq=number.seq,
        title=fields.title,
        claim=fields.claim,
        source_url=fields.source_url,
        platform=fields.platform,
        posted_at=fields.posted_at,
        tags=list(dict.fromkeys(fields.tags)),
        claimed_lat=fields.claimed_lat,
        claimed_lon=fields.claimed_lon,
        created_by=user,
        created_at=history.now(),
    )
    session.add(case)
    session.flush()
    details = {k: v for k, v in vars(fields).items() if v not in (None, ())}
    details["tags"] = case.tags
    append_event(session, case.id, user, "case-created", details)
    return case


def get_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case


def list_cases(session: Session) -> list[CaseListing]:
    held: dict[str, list[str]] = {}
    links = select(col(CaseMedia.case_id), col(CaseMedia.media_id)).order_by(col(CaseMedia.id))
    for case_id, media_id in session.exec(links):
        held.setdefault(case_id, []).append(media_id)
    # Desks number on their own: the id keeps two desks' case N of a year in one order.
    order = (col(Case.year), col(Case.seq), col(Case.id))
    cases = session.exec(select(Case).order_by(*order)).all()
    return [CaseListing(case=c, media_ids=tuple(held.get(c.id, ()))) for c in cases]


def check_changes(changes: CaseChanges) -> None:
    if changes.status is not None and changes.status not in CASE_STATUSES:
        raise InvalidValue(
            f"{changes.status!r} is not a case status: use {', '.join(CASE_STATUSES)}"
        )


def update_case(
    session: Session,
    case_id: str,
    changes: CaseChanges,
    user: str,
    check: ChangeCheck | None = None,
) -> list[Event]:
    """Apply every change that alters the case, one history event each, once ``check`` allows."""
    case = lock_case(session, case_id)
    if check is not None:
        held = members(session, case_id)
        check(
            case_id, case.status, changes.status, changes.reason, verdicts(session, case_id), held
        )
    events = []
    for action, values, details in list(_case_updates(case, changes)):
        for name, value in values.items():
            setattr(case, name, value)
        events.append(append_event(session, case_id, user, action, details))
    return events


Update = tuple[str, dict[str, Any], dict[str, Any]]


def _case_updates(case: Case, changes: CaseChanges) -> Iterator[Update]:
    """(action, new column values, event details) for every change that alters ``case``."""
    for name in CHANGED_FIELDS:
        old, new = getattr(case, name), getattr(changes, name)
        if new is not None and new != old:
            details = {"from": old, "to": new}
            if name == "status" and changes.reason and changes.reason.strip():
                details["reason"] = changes.reason
            yield f"{name}-changed", {name: new}, details
    removed = set(changes.remove_tags)
    tags = [t for t in dict.fromkeys([*case.tags, *changes.add_tags]) if t not in removed]
    if tags != list(case.tags):
        added = [t for t in tags if t not in case.tags]
        dropped = [t for t in case.tags if t not in tags]
        yield "tags-changed", {"tags": tags}, {"added": added, "removed": dropped, "tags": tags}
    old_location = (case.claimed_lat, case.claimed_lon)
    if changes.claimed_location is not None and tuple(changes.claimed_location) != old_location:
        lat, lon = changes.claimed_location
        details = {"from": _location(old_location), "to": _location((lat, lon))}
        yield "location-changed", {"claimed_lat": lat, "claimed_lon": lon}, details


def _location(pair: tuple[float | None, float | None]) -> list[float] | None:
    return None if pair[0] is None or pair[1] is None else [pair[0], pair[1]]
