"""Notes and verdicts as a desk writes them: checked here, stored by the store.

A note records what a reverse search (or a reporter) found; it is never edited:
a correction is a new note that names the one it corrects. A verdict is a
schema.org MediaReview rating of one media item of a case, proposed by one user
and final only once another user approves it. A new proposal never erases an
older verdict: every proposal stays, and the newest approved one is the item's
rating until the next approval; with a time-stamping authority configured, each
approval's history head gets an RFC 3161 token. Changing a case by hand (``case set``) goes
through here too: closing or reopening it is a review decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediacheck.errors import AmbiguousMedia, InvalidValue, MediaChoiceNeeded, MediaNotFound
from mediacheck.history import chain as history
from mediacheck.review import rules
from mediacheck.review.ratings import APPROVED, CONFIDENCES, PROPOSED, REJECTED, normalize_rating
from mediacheck.store.cases import CaseChanges
from mediacheck.store.database import Store
from mediacheck.store.models import Event, Media, Note, Verdict
from mediacheck.timestamps import service as timestamps


@dataclass(frozen=True)
class Proposal:
    rating: str
    rationale: str
    original_url: str | None = None
    original_context: str | None = None
    confidence: str | None = None


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
    return store.add_note(note, rules.note_event)


def propose(
    store: Store, case_id: str, user: str, proposal: Proposal, media: str | None = None
) -> Verdict:
    """Propose a verdict on the item ``media`` (an id or SHA-256 prefix) names.

    Without ``media``, the case's only item; MediaChoiceNeeded if it holds several.
    """
    if not proposal.rationale.strip():
        raise InvalidValue("a verdict needs a rationale")
    if proposal.confidence not in (None, *CONFIDENCES):
        raise InvalidValue(f"confidence is one of {', '.join(CONFIDENCES)}")
    media_id = rated_media(store, case_id, media)
    verdict = Verdict(
        case_id=case_id,
        media_id=media_id,
        rating=normalize_rating(proposal.rating),
        state=PROPOSED,
        rationale=proposal.rationale,
        original_url=proposal.original_url,
        original_context=proposal.original_context,
        confidence=proposal.confidence,
        proposed_by=user,
        proposed_at=history.now(),
    )
    return store.record_verdict(case_id, rules.Proposing(verdict))


def approve(
    store: Store,
    case_id: str,
    user: str,
    comment: str | None = None,
    media: str | None = None,
) -> Verdict:
    """Approve the pending proposal of ``media`` (without: the one item awaiting review)."""
    return _decide(store, case_id, user, APPROVED, comment, media)


@dataclass(frozen=True)
class Approval:
    """An approved verdict and the time-stamp of the history head after it (None: no TSA)."""

    verdict: Verdict
    stamp: timestamps.StampOutcome | None


def approve_and_stamp(
    store: Store,
    case_id: str,
    user: str,
    comment: str | None = None,
    media: str | None = None,
) -> Approval:
    """Approve (see ``approve``), then time-stamp the case's history head.

    The approval is committed first: a TSA that is down or answers badly leaves it
    standing, with the failure in ``stamp`` (``mediacheck stamp CASE`` asks again).
    """
    verdict = approve(store, case_id, user, comment, media)
    return Approval(verdict, timestamps.stamp_head(store, store.settings, case_id))


def reject(store: Store, case_id: str, user: str, reason: str, media: str | None = None) -> Verdict:
    if not reason.strip():
        raise InvalidValue("a rejection needs a reason")
    return _decide(store, case_id, user, REJECTED, reason, media)


def change_case(store: Store, case_id: str, changes: CaseChanges, user: str) -> list[Event]:
    """``case set``: every change an event; closing and reopening follow the review rules."""
    return store.update_case(case_id, changes, user, rules.check_status_change)


def rated_media(store: Store, case_id: str, key: str | None) -> str:
    """The id of the case's item that ``key`` names; without a key, the case's only item."""
    members = _members(store, case_id)
    if key is None:
        if len(members) == 1:
            return members[0].id
        if not members:
            raise InvalidValue(f"{case_id} holds no media to rate")
        raise MediaChoiceNeeded(
            f"{case_id} holds {len(members)} media items: choose one with --media",
            [m.id for m in members],
        )
    return _member(case_id, members, key).id


def _case_media_id(store: Store, case_id: str, key: str) -> str:
    return _member(case_id, _members(store, case_id), key).id


def _members(store: Store, case_id: str) -> list[Media]:
    store.get_case(case_id)  # an unknown case is named as such, not as one without media
    return [media for _, media in store.case_media(case_id)]


def _member(case_id: str, members: list[Media], key: str) -> Media:
    """The item whose id or SHA-256 starts with ``key`` (any letter case)."""
    prefix = key.strip().lower()
    found = [m for m in members if prefix and m.sha256.startswith(prefix)]
    if len(found) == 1:
        return found[0]
    if found:
        raise AmbiguousMedia(key, f" in case {case_id}", [m.id for m in found])
    raise MediaNotFound(key, f" in case {case_id}")


def _decide(
    store: Store, case_id: str, user: str, state: str, text: str | None, media: str | None
) -> Verdict:
    media_id = None if media is None else _case_media_id(store, case_id, media)
    step = rules.Deciding(case_id, user, state, text, history.now(), media_id)
    return store.record_verdict(case_id, step)
