"""The review rules: pure functions over note and verdict rows, no database.

Four eyes: a verdict rates one media item of a case; it is proposed by one
user and final only once another user approves it. Each item has its own
verdicts and at most one proposal awaiting review. These rules decide, the
store applies them under the case lock (``Proposing`` and ``Deciding`` are the
steps ``Store.record_verdict`` takes), and the same rules say what each history
event records, how ``verify`` reads the history back, and when a case may be
closed or reopened by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from mediacheck.errors import InvalidValue, MediaChoiceNeeded, ReviewError
from mediacheck.review.ratings import (
    APPROVED,
    PROPOSED,
    REJECTED,
    UNVERIFIED,
    current_verdict,
)

if TYPE_CHECKING:
    from mediacheck.store.models import Note, Verdict

VERDICT_KEYS = (
    "id",
    "media_id",
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
#
# ``verdicts`` are the case's verdicts, oldest first; ``members`` the ids of its
# media, in the order they were added.


@dataclass(frozen=True)
class Proposing:
    """A new proposal for one item: allowed unless one already awaits review."""

    verdict: Verdict
    action = "verdict-proposed"

    @property
    def user(self) -> str:
        return self.verdict.proposed_by

    def apply(self, verdicts: Sequence[Verdict], members: Sequence[str]) -> Verdict:
        media_id = self.verdict.media_id
        check_can_propose(current_verdict(of_media(verdicts, media_id)))
        return self.verdict

    def outcome(
        self, verdict: Verdict, verdicts: Sequence[Verdict], members: Sequence[str]
    ) -> tuple[str, dict[str, Any]]:
        return _outcome(verdict, verdicts, members)


@dataclass(frozen=True)
class Deciding:
    """Approving or rejecting the pending proposal of one item, at ``at``.

    Without ``media_id``: the one item with a pending proposal (or the case's only item).
    """

    case_id: str
    user: str
    state: str  # APPROVED or REJECTED
    text: str | None
    at: str
    media_id: str | None = None

    @property
    def action(self) -> str:
        return f"verdict-{self.state}"

    def apply(self, verdicts: Sequence[Verdict], members: Sequence[str]) -> Verdict:
        media_id = self.media_id
        if media_id is None:
            media_id = _awaiting_choice(self.case_id, verdicts, members)
        current = current_verdict(of_media(verdicts, media_id))
        verdict = check_can_decide(current, _item(self.case_id, media_id), self.user, self.state)
        verdict.state, verdict.decided_by, verdict.decided_at = self.state, self.user, self.at
        verdict.decision_comment = self.text
        return verdict

    def outcome(
        self, verdict: Verdict, verdicts: Sequence[Verdict], members: Sequence[str]
    ) -> tuple[str, dict[str, Any]]:
        return _outcome(verdict, verdicts, members)


def _outcome(
    verdict: Verdict, verdicts: Sequence[Verdict], members: Sequence[str]
) -> tuple[str, dict[str, Any]]:
    status = status_after(verdicts, members)
    return status, verdict_event(verdict, status)


def _awaiting_choice(
    case_id: str, verdicts: Sequence[Verdict], members: Sequence[str]
) -> str | None:
    """The item to decide when none is named: the one awaiting review, or the only one."""
    waiting = awaiting_review(verdicts)
    if len(waiting) > 1:
        raise MediaChoiceNeeded(
            f"{case_id} has proposals awaiting review for {len(waiting)} media items: "
            f"choose one with --media",
            [m for m in members if m in waiting],
        )
    if waiting:
        return waiting[0]
    if len(members) == 1:
        return members[0]  # says why there is nothing to decide: none proposed, or decided
    raise ReviewError(f"{case_id} has no proposed verdict to review")


def _item(case_id: str, media_id: str | None) -> str:
    return case_id if media_id is None else f"{case_id} media {media_id}"


def check_can_propose(current: Verdict | None) -> None:
    if current is not None and current.state == PROPOSED:
        raise ReviewError(
            f"{_item(current.case_id, current.media_id)} already has a proposed verdict "
            f"({current.rating} by {current.proposed_by}): approve or reject it first"
        )


def check_can_decide(current: Verdict | None, item: str, user: str, state: str) -> Verdict:
    if current is None:
        raise ReviewError(f"{item} has no proposed verdict to review")
    if current.state != PROPOSED:
        raise ReviewError(
            f"{item}: the verdict {current.rating} was already {current.state} by "
            f"{current.decided_by}; nothing awaits review"
        )
    if state == APPROVED and current.proposed_by == user:
        raise ReviewError(
            f"{item}: {user} proposed this verdict and cannot approve it; "
            "another reviewer must approve it (four eyes)"
        )
    return current


# Which items are rated


def newest_verdict(verdicts: Sequence[Verdict]) -> Verdict | None:
    """The case's newest proposal (of any item), whatever its state."""
    return max(verdicts, key=lambda v: (v.proposed_at, v.id or 0), default=None)


def of_media(verdicts: Sequence[Verdict], media_id: str | None) -> list[Verdict]:
    return [v for v in verdicts if v.media_id == media_id]


def by_media(verdicts: Sequence[Verdict]) -> dict[str | None, list[Verdict]]:
    """Each item's verdicts, oldest first, items in the order of their first verdict."""
    grouped: dict[str | None, list[Verdict]] = {}
    for verdict in verdicts:
        grouped.setdefault(verdict.media_id, []).append(verdict)
    return grouped


def awaiting_review(verdicts: Sequence[Verdict]) -> list[str | None]:
    """The items whose newest verdict is a proposal."""
    return [media_id for media_id, own in by_media(verdicts).items() if own[-1].state == PROPOSED]


def undecided(verdicts: Sequence[Verdict], members: Sequence[str]) -> list[str]:
    """The case's items without an approved verdict, in the order they were added."""
    decided = {v.media_id for v in verdicts if v.state == APPROVED}
    return [media_id for media_id in members if media_id not in decided]


def is_decided(verdicts: Sequence[Verdict], members: Sequence[str]) -> bool:
    """Every item of the case (at least one) has an approved verdict."""
    return bool(members) and not undecided(verdicts, members)


def status_after(verdicts: Sequence[Verdict], members: Sequence[str]) -> str:
    """The case status once a verdict is proposed, approved or rejected.

    A pending proposal of any item puts the case in review; otherwise the case is
    closed once every item has an approved verdict, and open while one has none.
    """
    if awaiting_review(verdicts):
        return "in-review"
    return "closed" if is_decided(verdicts, members) else "open"


# Closing and reopening a case by hand (``case set --status``)


def check_status_change(
    case_id: str,
    old: str,
    new: str | None,
    reason: str | None,
    verdicts: Sequence[Verdict],
    members: Sequence[str],
) -> None:
    """Refuse closing a case with an undecided item, or reopening one whose items all are
    decided, unless ``reason`` says why."""
    if new is None or new == old or (reason and reason.strip()):
        return
    if new == "closed":
        if not members:
            raise ReviewError(f"{case_id} holds no media to rate: give --reason to close it")
        left = undecided(verdicts, members)
        if left:
            raise ReviewError(
                f"{case_id} cannot be closed before every media item has an approved verdict "
                f"(none yet for {', '.join(left)}): approve them, or give --reason"
            )
    elif is_decided(verdicts, members):
        raise ReviewError(
            f"{case_id}: every media item has an approved verdict; reopening it as {new} "
            "bypasses review: give --reason"
        )


# Documents and events


def verdict_document(verdict: Verdict | None) -> dict[str, Any]:
    """One verdict as JSON; without a verdict, ``Unverified`` with every other field null."""
    if verdict is None:
        return dict.fromkeys(VERDICT_KEYS) | {"rating": UNVERIFIED}
    approved = verdict.state == APPROVED
    rejected = verdict.state == REJECTED
    return {
        "id": verdict.id,
        "media_id": verdict.media_id,
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
    details: dict[str, Any] = {"verdict_id": verdict.id}
    if verdict.media_id is not None:
        details["media_id"] = verdict.media_id
    details["status"] = status
    details.update({k: doc[k] for k in keep if doc[k] is not None})
    return details


# What the history says: verify compares it with the rows
#
# Records are matched by position, not id: importing a case into another store
# renumbers its notes and verdicts but keeps their order and their events.
# Verdicts are matched by position among the verdicts of the same media item.
#
# A verdict-proposed event without ``media_id`` is from the time when a verdict
# rated a whole case: it stands for a verdict of every item the case held then
# (migration 0002 copied such rows so), or of none (``media_id`` null) before
# the case held media; its decision, without ``media_id`` too, decides them all.

NOTE_FIELDS = ("media_id", "engine", "url", "earliest_date", "text")
VERDICT_FIELDS = (
    "media_id",
    "rating",
    "rationale",
    "original_url",
    "original_context",
    "confidence",
)
Record = tuple[int | None, dict[str, Any]]  # (id, the fields the history records)
Events = Iterable[tuple[str, str, dict[str, Any]]]  # (user, action, details), oldest first


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


def records_by_media(records: Sequence[Record]) -> dict[Any, list[Record]]:
    """Verdict records grouped by their media item, each group oldest first."""
    grouped: dict[Any, list[Record]] = {}
    for record in records:
        grouped.setdefault(record[1].get("media_id"), []).append(record)
    return grouped


def replay(events: Events) -> tuple[list[Record], list[Record]]:
    """The notes and verdicts that (user, action, details) events say exist, oldest first.

    Shaped as ``note_records`` and ``verdict_records`` shape the rows.
    """
    notes: dict[int, dict[str, Any]] = {}
    verdicts = _VerdictReplay()
    for user, action, details in events:
        if action == "note-added" and "note_id" in details:
            position: dict[Any, int] = {key: i for i, key in enumerate(notes)}
            notes[details["note_id"]] = {
                "author": user,
                "corrects": position.get(details.get("corrects")),
            } | {k: details.get(k) for k in NOTE_FIELDS}
        else:
            verdicts.apply(user, action, details)
    return list(notes.items()), verdicts.records


def rated_by_proposals(events: Events) -> list[list[Any]]:
    """The media ids each verdict-proposed event rated, in order (None: no media yet).

    For rows of an older mediacheck, whose verdicts rated whole cases: the k-th
    verdict rated the items of the k-th list (the rule of migration 0002).
    """
    verdicts = _VerdictReplay()
    for user, action, details in events:
        verdicts.apply(user, action, details)
    return verdicts.rated


class _VerdictReplay:
    """The verdict records of a history, read one event at a time."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.members: list[Any] = []
        self.proposed: dict[Any, list[int]] = {}  # a proposal's verdict_id: its records
        self.newest: dict[Any, int] = {}  # a media item: its newest record
        self.rated: list[list[Any]] = []  # the items each proposal rated, in order

    def apply(self, user: str, action: str, details: dict[str, Any]) -> None:
        if action == "media-added" and details.get("media_id") not in (None, *self.members):
            self.members.append(_key(details["media_id"]))
        elif action == "verdict-proposed" and "verdict_id" in details:
            rated = [_key(details["media_id"])] if "media_id" in details else self.members or [None]
            self.rated.append(list(rated))
            for media_id in rated:
                self._propose(user, details, media_id)
        elif action in _DECISIONS:
            state, text_key = _DECISIONS[action]
            for index in self._decided(details):
                self.records[index][1].update(
                    state=state, decided_by=user, decision_comment=details.get(text_key)
                )

    def _propose(self, user: str, details: dict[str, Any], media_id: Any) -> None:
        index = len(self.records)
        fields = {
            "proposed_by": user,
            "state": PROPOSED,
            "decided_by": None,
            "decision_comment": None,
        } | {k: details.get(k) for k in VERDICT_FIELDS}
        fields["media_id"] = media_id
        self.records.append((details["verdict_id"], fields))
        self.proposed.setdefault(_key(details["verdict_id"]), []).append(index)
        self.newest[media_id] = index

    def _decided(self, details: dict[str, Any]) -> list[int]:
        # A decision names its item; an old one, the proposal that rated the whole case.
        if "media_id" in details:
            index = self.newest.get(_key(details["media_id"]))
            return [] if index is None else [index]
        return self.proposed.get(_key(details.get("verdict_id")), [])


def _key(value: Any) -> Any:
    """An id from an event, usable as a key: an edited event may hold a list."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


_DECISIONS = {
    "verdict-approved": (APPROVED, "comment"),
    "verdict-rejected": (REJECTED, "reason"),
}
