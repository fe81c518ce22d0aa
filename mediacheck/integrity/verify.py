"""Integrity checks: are the stored originals and every case's history as recorded?

Intake is tolerant; this is where mediacheck is strict. Every original is read
and hashed again, and every history chain is re-walked from its first event to
the head recorded on the case, so that an edited, deleted or truncated history
shows as surely as an altered file. An original that no media row holds is
named too: its row was deleted, or an intake stopped before recording it.
Notes and verdicts are then compared with what their events recorded: a rating
changed in the database is named too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from mediacheck.history import chain as history
from mediacheck.review import rules as review
from mediacheck.store.database import Store
from mediacheck.store.models import Case, Event, Media, Note, Verdict


@dataclass(frozen=True)
class Problem:
    kind: str  # original, orphan, history or record
    message: str
    case_id: str | None = None
    media_id: str | None = None
    seq: int | None = None


@dataclass
class Report:
    cases: int = 0
    events: int = 0
    originals: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, case_id: str | None = None) -> Report:
    """Check one case (its originals and history) or, without ``case_id``, the whole store.

    The whole store also has every stored original held by a media row.
    """
    report = Report()
    if case_id is None:
        # Files first: an intake that commits its row meanwhile is not an orphan.
        stored = set(store.blobs.stored_originals())
        cases = [listing.case for listing in store.list_cases()]
        media = store.all_media()
        report.problems.extend(check_orphans(store, stored, media))
    else:
        cases = [store.get_case(case_id)]
        media = [m for _, m in store.case_media(case_id)]
    for item in media:
        report.originals += 1
        report.problems.extend(check_original(store, item))
    for case in cases:
        events = store.events(case.id)
        report.cases += 1
        report.events += len(events)
        report.problems.extend(check_history(case, events))
        notes, verdicts = store.notes(case.id), store.verdicts(case.id)
        report.problems.extend(check_records(case.id, events, notes, verdicts))
    return report


def check_original(store: Store, media: Media) -> list[Problem]:
    path = store.blobs.original_path(media.sha256)
    try:
        found = store.blobs.digests(media.sha256)
    except FileNotFoundError:
        return [_original(media, f"original {media.id} is missing: {path}")]
    except OSError as exc:
        return [_original(media, f"original {media.id} cannot be read: {path}: {exc.strerror}")]
    if found.sha256 != media.sha256:
        return [
            _original(
                media,
                f"original {media.id} was altered: {path} now has SHA-256 {found.sha256}",
            )
        ]
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


def check_orphans(store: Store, stored: set[str], media: list[Media]) -> list[Problem]:
    """Originals no media row holds: left by an interrupted intake, or their row was deleted."""
    held = {item.sha256 for item in media}
    return [
        Problem(
            "orphan",
            f"{store.blobs.relative(store.blobs.original_path(sha256))}: stored file held by "
            "no media (an interrupted intake, or a row deleted)",
        )
        for sha256 in sorted(stored - held)
    ]


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
    """Notes and verdicts edited, added or deleted in the database without an event."""
    said_notes, said_verdicts = review.replay(_parsed(events))
    return [
        *_compare(case_id, "note", said_notes, review.note_records(notes)),
        *_compare(case_id, "verdict", said_verdicts, review.verdict_records(verdicts)),
    ]


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
