"""The review rules: pure functions over note and verdict rows, no database.

Four eyes: a verdict is proposed by one user and final only once another user
approves it. These rules decide, the store applies them under the case lock
(``Proposing`` and ``Deciding`` are the steps ``Store.record_verdict`` takes),
and the same rules say what each history event records and how ``verify``
reads the history back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from mediacheck.errors import InvalidValue, ReviewError
from mediacheck.review.ratings import (
    APPROVED,
    PROPOSED,
    REJECTED,
    UNVERIFIED,
    current_verdict,
    final_verdict,
)

if TYPE_CHECKING:
    from mediacheck.store.models import Note, Verdict

VERDICT_KEYS = (
    "id",
    "rating",
    "state",
    "rationale",
    "original_url",
    "original_context",
    "confidence",
    "proposed_by",
    "proposed_at",
    "approved_by",
    "approved_at",
    "comment",
    "rejected_by",
    "rejected_at",
    "reason",
)


def parse_earliest_date(text: str) -> str:
    """An ISO 8601 date stays a date; a time becomes UTC (taken as UTC without an offset)."""
    value = text.strip()
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):  # OverflowError: an offset that leaves year 1..9999
        raise InvalidValue(
            f"{text!r} is not an ISO 8601 date or time such as 2019-03-02 or 2019-03-02T14:00:00Z"
        ) from None


# Steps, applied by the store inside the transaction that holds the case lock


@dataclass(frozen=True)
class Proposing:
    """A new proposal: allowed unless one already awaits review."""

    verdict: Verdict
    action = "verdict-proposed"

    @property
    def user(self) -> str:
        return self.verdict.proposed_by

    def apply(self, verdicts: Sequence[Verdict]) -> Verdict:
        check_can_propose(current_verdict(verdicts))
        return self.verdict

    def outcome(self, verdict: Verdict, verdicts: Sequence[Verdict]) -> tuple[str, dict[str, Any]]:
        return _outcome(verdict, verdicts)


@dataclass(frozen=True)
class Deciding:
    """Approving or rejecting the pending proposal, at ``at``."""

    case_id: str
    user: str
    state: str  # APPROVED or REJECTED
    text: str | None
    at: str

    @property
    def action(self) -> str:
        return f"verdict-{self.state}"

    def apply(self, verdicts: Sequence[Verdict]) -> Verdict:
        verdict = check_can_decide(current_verdict(verdicts), self.case_id, self.user, self.state)
        verdict.state, verdict.decided_by, verdict.decided_at = self.state, self.user, self.at
        verdict.decision_comment = self.text
        return verdict

    def outcome(self, verdict: Verdict, verdicts: Sequence[Verdict]) -> tuple[str, dict[str, Any]]:
        return _outcome(verdict, verdicts)


def _outcome(verdict: Verdict, verdicts: Sequence[Verdict]) -> tuple[str, dict[str, Any]]:
    status = status_after(verdicts)
    return status, verdict_event(verdict, status)


def check_can_propose(current: Verdict | None) -> None:
    if current is not None and current.state == PROPOSED:
        raise ReviewError(
            f"{current.case_id} already has a proposed verdict ({current.rating} by "
            f"{current.proposed_by}): approve or reject it first"
        )


def check_can_decide(current: Verdict | None, case_id: str, user: str, state: str) -> Verdict:
    if current is None:
        raise ReviewError(f"{case_id} has no proposed verdict to review")
    if current.state != PROPOSED:
        raise ReviewError(
            f"{case_id}: the verdict {current.rating} was already {current.state} by "
            f"{current.decided_by}; nothing awaits review"
        )
    if state == APPROVED and current.proposed_by == user:
        raise ReviewError(
            f"{case_id}: {user} proposed this verdict and cannot approve it; "
            "another reviewer must approve it (four eyes)"
        )
    return current


def status_after(verdicts: Sequence[Verdict]) -> str:
    """The case status once a verdict is proposed, approved or rejected.

    A pending proposal puts the case in review; a decision closes it when an
    approved verdict stands (an older one, if this proposal was rejected).
    """
    current = current_verdict(verdicts)
    if current is not None and current.state == PROPOSED:
        return "in-review"
    return "closed" if final_verdict(verdicts) is not None else "open"


# Documents and events


def verdict_document(verdict: Verdict | None) -> dict[str, Any]:
    """One verdict as JSON; without a verdict, ``Unverified`` with every other field null."""
    if verdict is None:
        return dict.fromkeys(VERDICT_KEYS) | {"rating": UNVERIFIED}
    approved = verdict.state == APPROVED
    rejected = verdict.state == REJECTED
    return {
        "id": verdict.id,
        "rating": verdict.rating,
        "state": verdict.state,
        "rationale": verdict.rationale,
        "original_url": verdict.original_url,
        "original_context": verdict.original_context,
        "confidence": verdict.confidence,
        "proposed_by": verdict.proposed_by,
        "proposed_at": verdict.proposed_at,
        "approved_by": verdict.decided_by if approved else None,
        "approved_at": verdict.decided_at if approved else None,
        "comment": verdict.decision_comment if approved else None,
        "rejected_by": verdict.decided_by if rejected else None,
        "rejected_at": verdict.decided_at if rejected else None,
        "reason": verdict.decision_comment if rejected else None,
    }


def note_documents(notes: Sequence[Note]) -> list[dict[str, Any]]:
    """Notes as JSON, oldest first, each naming the later notes that correct it."""
    corrected_by: dict[int | None, list[int | None]] = {}
    for note in notes:
        if note.corrects is not None:
            corrected_by.setdefault(note.corrects, []).append(note.id)
    return [
        {
            "id": note.id,
            "media_id": note.media_id,
            "engine": note.engine,
            "url": note.url,
            "earliest_date": note.earliest_date,
            "text": note.text,
            "author": note.author,
            "at": note.at,
            "corrects": note.corrects,
            "corrected_by": corrected_by.get(note.id, []),
        }
        for note in notes
    ]


def note_event(note: Note) -> dict[str, Any]:
    fields = ("engine", "url", "earliest_date", "media_id", "corrects")
    details = {"note_id": note.id, "text": note.text}
    details.update({k: getattr(note, k) for k in fields if getattr(note, k) is not None})
    return details


def verdict_event(verdict: Verdict, status: str) -> dict[str, Any]:
    doc = verdict_document(verdict)
    keep: tuple[str, ...] = (
        "rating",
        "rationale",
        "original_url",
        "original_context",
        "confidence",
    )
    if verdict.state != PROPOSED:
        keep = ("rating", "comment") if verdict.state == APPROVED else ("rating", "reason")
    details = {"verdict_id": verdict.id, "status": status}
    details.update({k: doc[k] for k in keep if doc[k] is not None})
    return details


# What the history says: verify compares it with the rows
#
# Records are matched by position, not id: importing a case into another store
# renumbers its notes and verdicts but keeps their order and their events.

NOTE_FIELDS = ("media_id", "engine", "url", "earliest_date", "text")
VERDICT_FIELDS = ("rating", "rationale", "original_url", "original_context", "confidence")
Record = tuple[int | None, dict[str, Any]]  # (id, the fields the history records)


def note_records(notes: Sequence[Note]) -> list[Record]:
    """Each note (oldest first) with ``corrects`` as the position of the note it corrects."""
    position = {note.id: i for i, note in enumerate(notes)}
    return [
        (
            note.id,
            {"author": note.author, "corrects": position.get(note.corrects)}
            | {k: getattr(note, k) for k in NOTE_FIELDS},
        )
        for note in notes
    ]


def verdict_records(verdicts: Sequence[Verdict]) -> list[Record]:
    return [
        (
            verdict.id,
            {
                "proposed_by": verdict.proposed_by,
                "state": verdict.state,
                "decided_by": verdict.decided_by,
                "decision_comment": verdict.decision_comment,
            }
            | {k: getattr(verdict, k) for k in VERDICT_FIELDS},
        )
        for verdict in verdicts
    ]


def replay(events: Iterable[tuple[str, str, dict[str, Any]]]) -> tuple[list[Record], list[Record]]:
    """The notes and verdicts that (user, action, details) events say exist, oldest first.

    Shaped as ``note_records`` and ``verdict_records`` shape the rows.
    """
    notes: dict[int, dict[str, Any]] = {}
    verdicts: dict[int, dict[str, Any]] = {}
    for user, action, details in events:
        if action == "note-added" and "note_id" in details:
            position: dict[Any, int] = {key: i for i, key in enumerate(notes)}
            notes[details["note_id"]] = {
                "author": user,
                "corrects": position.get(details.get("corrects")),
            } | {k: details.get(k) for k in NOTE_FIELDS}
        elif action == "verdict-proposed" and "verdict_id" in details:
            verdicts[details["verdict_id"]] = {
                "proposed_by": user,
                "state": PROPOSED,
                "decided_by": None,
                "decision_comment": None,
            } | {k: details.get(k) for k in VERDICT_FIELDS}
        elif action in _DECISIONS and details.get("verdict_id") in verdicts:
            state, text_key = _DECISIONS[action]
            verdicts[details["verdict_id"]].update(
                state=state, decided_by=user, decision_comment=details.get(text_key)
            )
    return list(notes.items()), list(verdicts.items())


_DECISIONS = {
    "verdict-approved": (APPROVED, "comment"),
    "verdict-rejected": (REJECTED, "reason"),
}
