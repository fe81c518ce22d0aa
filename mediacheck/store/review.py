"""Note and verdict rows, written with their history events under the case lock.

The review rules (four eyes, the case status, what each event says) are not
here: ``review.service`` hands them in, and the store applies them inside the
transaction that holds the case lock, so two desks can never both decide.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, Protocol

from sqlmodel import Session, and_, col, or_, select

from mediacheck.errors import InvalidValue
from mediacheck.store.events import append_event, lock_case
from mediacheck.store.models import CaseMedia, Note, Verdict, VerdictDecision

# Bound parameters per query: SQLite allows 32,766, PostgreSQL 65,535.
IN_CHUNK = 10_000
# The states of a verdict (review.ratings: the store imports no feature package).
APPROVED = "approved"
PROPOSED = "proposed"


class VerdictStep(Protocol):
    """One review step (a proposal or a decision) as the review rules define it."""

    @property
    def user(self) -> str: ...

    @property
    def action(self) -> str: ...

    def apply(self, verdicts: Sequence[Verdict], members: Sequence[str]) -> Verdict:
        """The verdict row to write, given the case's verdicts and media; raises if not allowed."""
        ...

    def outcome(
        self, verdict: Verdict, verdicts: Sequence[Verdict], members: Sequence[str]
    ) -> tuple[str, dict[str, Any]]:
        """The case status and the event details once ``verdict`` is written."""
        ...


def add_note(session: Session, note: Note, describe: Callable[[Note], dict[str, Any]]) -> Note:
    """Store ``note`` with a ``note-added`` event whose details ``describe`` gives."""
    lock_case(session, note.case_id)
    if note.corrects is not None:
        corrected = session.get(Note, note.corrects)
        if corrected is None or corrected.case_id != note.case_id:
            raise InvalidValue(f"no note {note.corrects} in case {note.case_id} to correct")
    session.add(note)
    session.flush()
    append_event(session, note.case_id, note.author, "note-added", describe(note))
    return note


def notes(session: Session, case_id: str) -> list[Note]:
    return list(
        session.exec(select(Note).where(col(Note.case_id) == case_id).order_by(col(Note.id)))
    )


def verdicts(session: Session, case_id: str | None) -> list[Verdict]:
    """A case's verdicts (every case's without ``case_id``), oldest first, each decided as it was.

    The rows are detached from the session with their decisions laid over them: what
    the review rules change on them is never written back (see ``record_verdict``).
    """
    query = _with_decisions().order_by(col(Verdict.id))
    if case_id is not None:
        query = query.where(col(Verdict.case_id) == case_id)
    return [_decided(session, verdict, decision) for verdict, decision in session.exec(query)]


def members(session: Session, case_id: str) -> list[str]:
    """The ids of a case's media, in the order they were added."""
    query = select(CaseMedia.media_id).where(col(CaseMedia.case_id) == case_id)
    return list(session.exec(query.order_by(col(CaseMedia.id))))


def record_verdict(session: Session, case_id: str, step: VerdictStep) -> Verdict:
    """Apply one review step: write its verdict, the new case status and the event."""
    case = lock_case(session, case_id)
    held = members(session, case_id)
    verdict = step.apply(verdicts(session, case_id), held)
    if verdict.id is None:
        session.add(verdict)
    else:  # a decision on a stored proposal: a row of its own, the verdict row stays as it is
        assert verdict.state != PROPOSED and verdict.decided_by and verdict.decided_at
        session.add(
            VerdictDecision(
                verdict_id=verdict.id,
                state=verdict.state,
                decided_by=verdict.decided_by,
                decided_at=verdict.decided_at,
                comment=verdict.decision_comment,
            )
        )
    session.flush()
    case.status, details = step.outcome(verdict, verdicts(session, case_id), held)
    append_event(session, case_id, step.user, step.action, details)
    return verdict


def final_verdicts(session: Session, case_ids: Collection[str]) -> dict[tuple[str, str], Verdict]:
    """(case id, media id): the newest approved verdict of that item in that case.

    An item without one has no key: it is Unverified.
    """
    found: dict[tuple[str, str], Verdict] = {}
    ids = list(dict.fromkeys(case_ids))
    for start in range(0, len(ids), IN_CHUNK):
        query = _with_decisions().where(
            col(Verdict.case_id).in_(ids[start : start + IN_CHUNK]),
            or_(
                col(VerdictDecision.state) == APPROVED,
                and_(col(VerdictDecision.id).is_(None), col(Verdict.state) == APPROVED),
            ),
            col(Verdict.media_id).is_not(None),
        )
        for verdict, decision in session.exec(query.order_by(col(Verdict.id))):
            found[(verdict.case_id, str(verdict.media_id))] = _decided(session, verdict, decision)
    return found


def _with_decisions():
    """Verdicts with their decisions, if any (an outer join)."""
    return select(Verdict, VerdictDecision).outerjoin(
        VerdictDecision, col(VerdictDecision.verdict_id) == col(Verdict.id)
    )


def _decided(session: Session, verdict: Verdict, decision: VerdictDecision | None) -> Verdict:
    """``verdict``, detached, with ``decision`` laid over it."""
    session.expunge(verdict)
    if decision is not None:
        session.expunge(decision)
        verdict.state, verdict.decided_by = decision.state, decision.decided_by
        verdict.decided_at, verdict.decision_comment = decision.decided_at, decision.comment
    return verdict
