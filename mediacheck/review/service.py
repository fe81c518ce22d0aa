"""Notes, verdicts and four-eyes review.

A note records what a reverse search (or a reporter) found; it is never edited:
a correction is a new note that names the one it corrects. A verdict is a
schema.org MediaReview rating proposed by one user and final only once another
user approves it. A new proposal never erases an older verdict: every proposal
stays, and the newest approved one is the case's rating until the next approval.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from mediacheck.errors import InvalidValue, MediaNotFound, ReviewError
from mediacheck.history import chain as history
from mediacheck.store.models import Note, Verdict

if TYPE_CHECKING:
    from mediacheck.store.database import Store

# https://schema.org/MediaManipulationRatingEnumeration, in schema.org's order.
RATINGS = (
    "OriginalMediaContent",
    "DecontextualizedContent",
    "EditedOrCroppedContent",
    "TransformedContent",
    "StagedContent",
    "SatireOrParodyContent",
)
UNVERIFIED = "Unverified"
CONFIDENCES = ("low", "medium", "high")
PROPOSED, APPROVED, REJECTED = "proposed", "approved", "rejected"
CASE_STATUSES = ("open", "in-review", "closed")
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


@dataclass(frozen=True)
class Proposal:
    rating: str
    rationale: str
    original_url: str | None = None
    original_context: str | None = None
    confidence: str | None = None


def normalize_rating(text: str, allow_unverified: bool = False) -> str:
    """The MediaReview rating named by ``text``, whatever its case.

    ``allow_unverified`` also accepts Unverified, the rating of a case without an
    approved verdict, which is never proposed.
    """
    names = (*RATINGS, UNVERIFIED) if allow_unverified else RATINGS
    by_lower = {r.lower(): r for r in names}
    key = text.strip().lower()
    if key in by_lower:
        return by_lower[key]
    close = difflib.get_close_matches(key, list(by_lower), n=1, cutoff=0.6)
    hint = f"did you mean {by_lower[close[0]]}? " if close else ""
    raise InvalidValue(f"{text!r} is not a MediaReview rating: {hint}use one of {', '.join(names)}")


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


# Writing


def add_note(
    store: Store,
    case_id: str,
    user: str,
    text: str,
    *,
    engine: str | None = None,
    url: str | None = None,
    earliest_date: str | None = None,
    media: str | None = None,
    corrects: int | None = None,
) -> Note:
    """Record a reverse-search finding (with ``engine``) or a plain note."""
    if not text.strip():
        raise InvalidValue("a note needs some text")
    store.get_case(case_id)
    note = Note(
        case_id=case_id,
        media_id=_case_media_id(store, case_id, media) if media else None,
        engine=engine.strip().lower() if engine else None,
        url=url,
        earliest_date=earliest_date,
        text=text,
        author=user,
        at=history.now(),
        corrects=corrects,
    )
    return store.add_note(note)


def propose(store: Store, case_id: str, user: str, proposal: Proposal) -> Verdict:
    if not proposal.rationale.strip():
        raise InvalidValue("a verdict needs a rationale")
    if proposal.confidence not in (None, *CONFIDENCES):
        raise InvalidValue(f"confidence is one of {', '.join(CONFIDENCES)}")
    verdict = Verdict(
        case_id=case_id,
        rating=normalize_rating(proposal.rating),
        state=PROPOSED,
        rationale=proposal.rationale,
        original_url=proposal.original_url,
        original_context=proposal.original_context,
        confidence=proposal.confidence,
        proposed_by=user,
        proposed_at=history.now(),
    )
    return store.propose_verdict(verdict)


def approve(store: Store, case_id: str, user: str, comment: str | None = None) -> Verdict:
    return store.decide_verdict(case_id, user, APPROVED, comment)


def reject(store: Store, case_id: str, user: str, reason: str) -> Verdict:
    if not reason.strip():
        raise InvalidValue("a rejection needs a reason")
    return store.decide_verdict(case_id, user, REJECTED, reason)


def _case_media_id(store: Store, case_id: str, key: str) -> str:
    media = store.get_media(key)
    if media.id not in {m.id for _, m in store.case_media(case_id)}:
        raise MediaNotFound(key, f" in case {case_id}")
    return media.id


# Rules, checked by the store inside the transaction that holds the case lock


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


# Reading


def current_verdict(verdicts: Sequence[Verdict]) -> Verdict | None:
    """The newest verdict, whatever its state (``verdicts`` oldest first)."""
    return verdicts[-1] if verdicts else None


def final_verdict(verdicts: Sequence[Verdict]) -> Verdict | None:
    return next((v for v in reversed(verdicts) if v.state == APPROVED), None)


def final_rating(verdicts: Sequence[Verdict]) -> str:
    final = final_verdict(verdicts)
    return final.rating if final else UNVERIFIED


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
    corrected_by: dict[int, list[int]] = {}
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
    keep = ("rating", "rationale", "original_url", "original_context", "confidence")
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
Record = tuple[int, dict[str, Any]]  # (id, the fields the history records)


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
            position = {key: i for i, key in enumerate(notes)}
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
