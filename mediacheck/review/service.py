"""Notes and verdicts as a desk writes them: checked here, stored by the store.

A note records what a reverse search (or a reporter) found; it is never edited:
a correction is a new note that names the one it corrects. A verdict is a
schema.org MediaReview rating proposed by one user and final only once another
user approves it. A new proposal never erases an older verdict: every proposal
stays, and the newest approved one is the case's rating until the next approval.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediacheck.errors import InvalidValue, MediaNotFound
from mediacheck.history import chain as history
from mediacheck.review import rules
from mediacheck.review.ratings import APPROVED, CONFIDENCES, PROPOSED, REJECTED, normalize_rating
from mediacheck.store.database import Store
from mediacheck.store.models import Note, Verdict


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
    return store.record_verdict(case_id, rules.Proposing(verdict))


def approve(store: Store, case_id: str, user: str, comment: str | None = None) -> Verdict:
    return _decide(store, case_id, user, APPROVED, comment)


def reject(store: Store, case_id: str, user: str, reason: str) -> Verdict:
    if not reason.strip():
        raise InvalidValue("a rejection needs a reason")
    return _decide(store, case_id, user, REJECTED, reason)


def _case_media_id(store: Store, case_id: str, key: str) -> str:
    media = store.get_media(key)
    if media.id not in {m.id for _, m in store.case_media(case_id)}:
        raise MediaNotFound(key, f" in case {case_id}")
    return media.id


def _decide(store: Store, case_id: str, user: str, state: str, text: str | None) -> Verdict:
    step = rules.Deciding(case_id, user, state, text, history.now())
    return store.record_verdict(case_id, step)
