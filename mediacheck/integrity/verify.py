"""Integrity checks: are the stored originals and every case's history as recorded?

Intake is tolerant; this is where mediacheck is strict. Every original is read
and hashed again, and every history chain is re-walked from its first event to
the head recorded on the case, so that an edited, deleted or truncated history
shows as surely as an altered file. Media rows, notes and verdicts are then
compared with what their events recorded: a rating changed or a media row
deleted in the database is named too. An original that no media row holds is
listed but is no problem: an intake killed between copying a file and
recording it leaves one, and taking the file in again adopts it (a deleted row
is caught by its ``media-added`` event). The WARC of each link a case was taken in
from is an original too: it is hashed again and read to its end (every record and
its digests), and each source row is compared with its ``source-added`` event.
Time-stamp tokens must still cover
their subject and, with a trust anchor configured, verify against it.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from mediacheck.errors import CaseNotFound
from mediacheck.history import chain as history
from mediacheck.links.capture import warc_records
from mediacheck.review import rules as review
from mediacheck.store.blobs import Digests
from mediacheck.store.database import Store
from mediacheck.store.models import Case, CaseMedia, Event, Media, Note, Source, Verdict
from mediacheck.timestamps import service as timestamps


@dataclass(frozen=True)
class Problem:
    """One thing found wrong. ``case_ids``: every case it touches (an original shared by
    several cases touches them all); ``case_id`` is the case checked, or the first of them."""

    kind: str  # original, history, record or timestamp
    message: str
    case_id: str | None = None
    media_id: str | None = None
    seq: int | None = None
    case_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.case_ids and self.case_id is not None:
            object.__setattr__(self, "case_ids", (self.case_id,))


@dataclass(frozen=True)
class Orphan:
    """A stored original that no media row holds."""

    sha256: str
    path: str  # relative to the store


@dataclass
class Report:
    cases: int = 0
    events: int = 0
    originals: int = 0
    problems: list[Problem] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    timestamps: int = 0  # time-stamp tokens checked
    timestamps_unchecked: int = 0  # of them, without a trust anchor to verify them against

    @property
    def ok(self) -> bool:
        return not self.problems


def integrity_document(report: Report) -> dict[str, Any]:
    """``integrity`` in ``show --json`` and reports: ``verify --json``'s verdict and problems."""
    return {"ok": report.ok, "problems": [asdict(p) for p in report.problems]}


def verify(store: Store, case_id: str | None = None) -> Report:
    """Check one case (its originals and history) or, without ``case_id``, the whole store.

    The whole store also lists the stored originals that no media row holds.
    """
    report = Report()
    if case_id is None:
        # Files first: an intake that commits its row meanwhile is not an orphan.
        stored = set(store.blobs.stored_originals())
        cases = [listing.case for listing in store.list_cases()]
        media = store.all_media()
        report.orphans = find_orphans(store, stored, media)
    else:
        cases = [store.get_case(case_id)]
        media = [m for _, m in store.case_media(case_id)]
    holding = store.cases_holding([item.id for item in media])
    for item in media:
        report.originals += 1
        report.problems.extend(
            _held(p, case_id, holding[item.id]) for p in check_original(store, item)
        )
    for source, _ in store.sources(case_id):
        report.originals += 1
        report.problems.extend(check_warc(store, source))
    for case in cases:
        events = store.events(case.id)
        tokens = timestamps.check_case(store, case.id, events)
        report.cases += 1
        report.events += len(events)
        report.timestamps += len(tokens)
        report.timestamps_unchecked += sum(token.verified is None for token in tokens)
        report.problems.extend(check_case(store, case, events, tokens))
    return report


def check_case(
    store: Store,
    case: Case,
    events: list[Event] | None = None,
    tokens: list[timestamps.TokenCheck] | None = None,
) -> list[Problem]:
    """The case's chain, its rows against their events and its time-stamp tokens,
    without reading its originals."""
    events = store.events(case.id) if events is None else events
    tokens = timestamps.check_case(store, case.id, events) if tokens is None else tokens
    notes, verdicts = store.notes(case.id), store.verdicts(case.id)
    return [
        *check_history(case, events),
        *check_members(case.id, events, store.case_media(case.id)),
        *check_records(case.id, events, notes, verdicts),
        *check_sources(case.id, events, store.sources(case.id)),
        *check_timestamps(case.id, tokens),
    ]


def check_timestamps(case_id: str, tokens: list[timestamps.TokenCheck]) -> list[Problem]:
    """Tokens that no longer cover their subject, or that do not verify against the CA."""
    return [
        Problem(
            "timestamp",
            f"{case_id} time-stamp {token.row.id} of "
            f"{timestamps.subject_name(token.row.subject_kind, token.row.subject_id)}: "
            f"{token.problem}",
            case_id=case_id,
        )
        for token in tokens
        if token.verified is False
    ]


def untrusted_cases(store: Store, case_ids: Collection[str]) -> set[str]:
    """The cases among ``case_ids`` whose history or rows were altered: their verdicts
    cannot be cited. Cheap enough for every case a report names (no original is read)."""
    untrusted = set()
    for case_id in case_ids:
        try:
            case = store.get_case(case_id)
        except CaseNotFound:
            untrusted.add(case_id)
            continue
        if check_case(store, case):
            untrusted.add(case_id)
    return untrusted


def check_original(store: Store, media: Media) -> list[Problem]:
    found, problem = rehashed(store, media.sha256, f"original {media.id}")
    if found is None:
        return [_original(media, problem)]
    recorded = {"sha1": media.sha1, "md5": media.md5, "size": media.size}
    changed = [name for name, value in recorded.items() if getattr(found, name) != value]
    if changed:
        return [
            _original(
                media,
                f"original {media.id}: the recorded {', '.join(changed)} do not match the "
                "stored bytes (the database was edited)",
            )
        ]
    return []


def rehashed(store: Store, sha256: str, name: str) -> tuple[Digests | None, str]:
    """The stored bytes of ``sha256`` hashed again, or why not: missing, unreadable, altered."""
    path = store.blobs.original_location(sha256)
    try:
        found = store.blobs.digests(sha256)
    except FileNotFoundError:
        return None, f"{name} is missing: {path}"
    except OSError as exc:
        return None, f"{name} cannot be read: {path}: {exc.strerror}"
    if found.sha256 != sha256:
        return None, f"{name} was altered: {path} now has SHA-256 {found.sha256}"
    return found, ""


def _held(problem: Problem, checked: str | None, holding: list[str]) -> Problem:
    """A media problem named by every case that holds the media, the checked case first."""
    first = checked if checked in holding else (holding[0] if holding else None)
    return replace(problem, case_id=first, case_ids=tuple(holding))


def find_orphans(store: Store, stored: set[str], media: list[Media]) -> list[Orphan]:
    """Originals no media row holds, left by an interrupted intake (or a deleted row)."""
    held = {item.sha256 for item in media} | store.warc_digests()
    return [Orphan(sha256, store.blobs.original_key(sha256)) for sha256 in sorted(stored - held)]


def check_warc(store: Store, source: Source) -> list[Problem]:
    """A source's WARC: there, the bytes recorded, and a WARC every record of which parses."""
    name = f"{source.case_id} source {source.url}: WARC"
    found, problem = rehashed(store, source.warc_sha256, name)
    if found is None:
        return [_source(source, problem)]
    if found.size != source.warc_size:
        edited = "the recorded size does not match the stored bytes (the database was edited)"
        return [_source(source, f"{name}: {edited}")]
    try:
        with store.blobs.open_blob(source.warc_path) as stream:
            for _ in warc_records(stream):
                pass
    except OSError as exc:
        where = store.blobs.original_location(source.warc_sha256)
        return [_source(source, f"{name} cannot be read: {where}: {exc.strerror or exc}")]
    except Exception as exc:  # noqa: BLE001 - warcio and zlib raise many kinds on a bad WARC
        return [_source(source, f"{name} does not parse: {type(exc).__name__}: {exc}")]
    return []


# What a source-added event records of its row, compared field by field.
SOURCE_FIELDS = (
    "url",
    "final_url",
    "fetched_at",
    "status",
    "extractor",
    "warc_sha256",
    "warc_size",
)


def check_sources(
    case_id: str, events: list[Event], sources: list[tuple[Source, list[str]]]
) -> list[Problem]:
    """Source rows edited, added or deleted in the database, paired with their events in order."""
    said = [details for _, action, details in _parsed(events) if action == "source-added"]
    problems = []
    for i in range(max(len(said), len(sources))):
        if i >= len(sources):
            url, message = said[i].get("url"), "is in the history but its row was deleted"
        elif i >= len(said):
            url, message = sources[i][0].url, "has no history event (added outside mediacheck)"
        else:
            source, media_ids = sources[i]
            changed = [f for f in SOURCE_FIELDS if said[i].get(f) != getattr(source, f)]
            if sorted(said[i].get("media_ids") or []) != sorted(media_ids):
                changed.append("media_ids")
            if not changed:
                continue
            url, message = source.url, f"{', '.join(changed)} differs from the history (edited)"
        problems.append(Problem("record", f"{case_id} source {url}: {message}", case_id=case_id))
    return problems


def _source(source: Source, message: str) -> Problem:
    return Problem("original", message, case_id=source.case_id)


def check_members(
    case_id: str, events: list[Event], members: list[tuple[CaseMedia, Media]]
) -> list[Problem]:
    """Media the history added to the case whose rows are gone or name other bytes.

    A media-added event that was deleted already breaks the chain, so rows the history
    does not name are left to that check.
    """
    added = {
        str(details.get("media_id")): str(details.get("sha256"))
        for _, action, details in _parsed(events)
        if action == "media-added"
    }
    held = {media.id: media.sha256 for _, media in members}
    problems = []
    for media_id in sorted(added.keys() - held.keys()):
        message = f"{case_id} media {media_id}: is in the history but its row was deleted"
        problems.append(Problem("record", message, case_id=case_id, media_id=media_id))
    for media_id in sorted(added.keys() & held.keys()):
        if added[media_id] != held[media_id]:
            message = f"{case_id} media {media_id}: sha256 differs from the history (edited)"
            problems.append(Problem("record", message, case_id=case_id, media_id=media_id))
    return problems


def check_history(case: Case, events: list[Event]) -> list[Problem]:
    """Every broken link of the chain, and a head that differs from the one the case recorded."""
    rows = [event.model_dump() for event in events]
    problems = [
        Problem("history", str(p), case_id=case.id, seq=p.seq)
        for p in history.verify_chain(case.id, rows)
    ]
    last_seq = rows[-1]["seq"] if rows else 0
    last_hash = rows[-1]["hash"] if rows else history.GENESIS
    if last_seq < case.event_count:
        problems.append(
            _history(
                case,
                f"history ends at event {last_seq} but {case.event_count} events were "
                "recorded: the last events were deleted",
            )
        )
    elif last_seq > case.event_count or last_hash != case.head_hash:
        problems.append(
            _history(case, "the newest event is not the one the case recorded (edited or added)")
        )
    return problems


def check_records(
    case_id: str, events: list[Event], notes: list[Note], verdicts: list[Verdict]
) -> list[Problem]:
    """Notes and verdicts edited, added or deleted in the database without an event.

    Verdicts are compared item by item: each media item's verdicts in order.
    """
    said_notes, said_verdicts = review.replay(_parsed(events))
    said = review.records_by_media(said_verdicts)
    stored = review.records_by_media(review.verdict_records(verdicts))
    problems = _compare(case_id, "note", said_notes, review.note_records(notes))
    for media_id in dict.fromkeys([*said, *stored]):
        found = _compare(case_id, "verdict", said.get(media_id, []), stored.get(media_id, []))
        problems.extend(replace(p, media_id=media_id) for p in found)
    return problems


def _parsed(events: list[Event]):
    for event in events:
        try:
            details = json.loads(event.details)
        except ValueError:
            continue  # the chain check already names this event
        if isinstance(details, dict):
            yield event.user, event.action, details


def _compare(
    case_id: str, kind: str, recorded: list[review.Record], stored: list[review.Record]
) -> list[Problem]:
    problems = []
    for i in range(max(len(recorded), len(stored))):
        if i >= len(stored):
            key, message = recorded[i][0], "is in the history but was deleted"
        elif i >= len(recorded):
            key, message = stored[i][0], "has no history event (added outside mediacheck)"
        else:
            key, fields = stored[i]
            changed = [name for name, value in fields.items() if recorded[i][1][name] != value]
            if not changed:
                continue
            message = f"{', '.join(changed)} differs from the history (edited)"
        problems.append(Problem("record", f"{case_id} {kind} {key}: {message}", case_id=case_id))
    return problems


def _original(media: Media, message: str) -> Problem:
    return Problem("original", message, media_id=media.id)


def _history(case: Case, message: str) -> Problem:
    return Problem("history", f"{case.id} history: {message}", case_id=case.id)
