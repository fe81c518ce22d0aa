"""A bundle's rows against its own history: what the events recorded is what the rows say.

The history chain proves that no event was edited, but ``records.json`` is
another file: a forger could edit a title, a rating or a note there and
recompute the manifests. Every field that an event records is replayed from
the events and compared with the row, and the first disagreement refuses the
bundle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from mediacheck.errors import BundleError
from mediacheck.integrity.verify import check_records
from mediacheck.store.cases import CHANGED_FIELDS
from mediacheck.store.models import Case, CaseMedia, Event, Media
from mediacheck.store.transfer import CaseRecords
from mediacheck.timestamps import service as timestamps

# The fields ``case-created`` records; a later ``<field>-changed`` event replaces one.
CREATED_FIELDS = (
    "title",
    "claim",
    "source_url",
    "platform",
    "posted_at",
    "tags",
    "claimed_lat",
    "claimed_lon",
)
CASE_FIELDS = (*CREATED_FIELDS, "status", "assignee", "created_by")
LINK_FIELDS = ("original_name", "was_symlink")
MEDIA_FIELDS = ("sha256", "kind", "mime", "size")
# A case row is stamped a moment before its first event, in the same transaction.
CREATED_BEFORE_EVENT = timedelta(hours=1)

Parsed = tuple[Event, dict[str, Any]]


def check_against_history(records: CaseRecords) -> None:
    """Raise BundleError naming the first row field that its history contradicts."""
    events = list(_parsed(records.events))
    _check_case(records.case, events)
    _check_links(records, events)
    try:
        problems = check_records(records.case.id, records.events, records.notes, records.verdicts)
    except TypeError as exc:  # an id in an event that is a list or an object
        raise BundleError(f"the history's note or verdict events are malformed: {exc}") from exc
    if problems:
        raise BundleError(problems[0].message)


def check_timestamps(records: CaseRecords, anchors: list | None) -> None:
    """Raise BundleError for a token that does not cover the event or WARC it names, or that
    ``anchors`` (the importing desk's trust anchor, if it has one) do not vouch for."""
    hashes = {event.seq: event.hash for event in records.events}
    warcs = {source.warc_sha256 for source in records.sources}
    for row in records.timestamps:
        current = timestamps.current_digest(row, records.case.id, hashes, warcs)
        checked = timestamps.check_token(row, current, anchors)
        if checked.verified is False:
            subject = timestamps.subject_name(row.subject_kind, row.subject_id)
            raise BundleError(f"the time-stamp of {subject}: {checked.problem}")


def _parsed(events: list[Event]) -> Iterator[Parsed]:
    for event in events:
        try:
            details = json.loads(event.details)
        except ValueError:
            details = None
        if not isinstance(details, dict):
            raise BundleError(f"history event {event.seq}: its details are not a JSON object")
        yield event, details


def _check_case(case: Case, events: list[Parsed]) -> None:
    said = replay_case(events)
    for name in CASE_FIELDS:
        if getattr(case, name) != said[name]:
            raise BundleError(
                f"case {name} says {shown(getattr(case, name))} "
                f"but the history says {shown(said[name])}"
            )
    first = events[0][0]
    if not _stamped_before(case.created_at, first.at):
        raise BundleError(
            f"case created_at says {shown(case.created_at)} "
            f"but the history says it was created at {shown(first.at)}"
        )


def replay_case(events: list[Parsed]) -> dict[str, Any]:
    """The case fields as the events set them, oldest first."""
    if not events or events[0][0].action != "case-created":
        raise BundleError("the history does not begin with the case's creation")
    said: dict[str, Any] = dict.fromkeys(CASE_FIELDS) | {"tags": [], "status": "open"}
    for event, details in events:
        said.update(_fields_set(event, details))
    return said


def _fields_set(event: Event, details: dict[str, Any]) -> dict[str, Any]:
    """The case fields one event set (as ``store.database`` writes them)."""
    action = event.action
    if action == "case-created":
        fields = {name: details.get(name) for name in CREATED_FIELDS}
        return fields | {"tags": details.get("tags", []), "created_by": event.user}
    name = action.removesuffix("-changed")
    if name in CHANGED_FIELDS:
        return {name: details.get("to")}
    if action == "tags-changed":
        return {"tags": details.get("tags")}
    if action == "location-changed":
        to = details.get("to")
        lat, lon = to if isinstance(to, list) and len(to) == 2 else (None, None)
        return {"claimed_lat": lat, "claimed_lon": lon}
    if action.startswith("verdict-") and "status" in details:
        return {"status": details["status"]}
    return {}


def _stamped_before(created_at: str, first_event_at: str) -> bool:
    try:
        gap = datetime.fromisoformat(first_event_at) - datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        return False
    return timedelta(0) <= gap <= CREATED_BEFORE_EVENT


def _check_links(records: CaseRecords, events: list[Parsed]) -> None:
    """Each media item of the case came in with one ``media-added`` event that names it."""
    added = [(event, details) for event, details in events if event.action == "media-added"]
    by_media = {str(details.get("media_id")): (event, details) for event, details in added}
    media = {m.id: m for m in records.media}
    linked = {link.media_id for link in records.memberships}
    if not len(by_media) == len(added) == len(linked) == len(records.memberships) == len(media):
        raise BundleError(
            f"the history adds {len(added)} media but records.json holds {len(media)} "
            f"with {len(records.memberships)} links"
        )
    for link in records.memberships:
        if link.media_id not in by_media:
            raise BundleError(f"media {link.media_id}: the history never added it to the case")
        event, details = by_media[link.media_id]
        _check_link(link, media[link.media_id], event, details)


def _check_link(link: CaseMedia, media: Media, event: Event, details: dict[str, Any]) -> None:
    said = {"added_by": event.user} | {name: details.get(name) for name in LINK_FIELDS}
    rows: dict[str, Any] = {"added_by": link.added_by}
    rows |= {name: getattr(link, name) for name in LINK_FIELDS}
    said |= {name: details.get(name) for name in MEDIA_FIELDS}
    rows |= {name: getattr(media, name) for name in MEDIA_FIELDS}
    for name, value in rows.items():
        if value != said[name]:
            raise BundleError(
                f"media {media.id}: {name} says {shown(value)} "
                f"but the history says {shown(said[name])}"
            )


def shown(value: Any, limit: int = 80) -> str:
    """A value as one inert line: JSON escapes every control character."""
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
