"""Note and verdict rows, written with their history events under the case lock.

The review rules (four eyes, the case status, what each event says) are not
here: ``review.service`` hands them in, and the store applies them inside the
transaction that holds the case lock, so two desks can never both decide.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, Protocol

from sqlmodel import Session, col, select

from mediacheck.errors import InvalidValue
from mediacheck.store.events import append_event, lock_case
from mediacheck.store.models import CaseMedia, Note, Verdict


class VerdictStep(Protocol):
    """One review step (a proposal or a decision) as the review rules define it."""

    @property
    def user(self) -> str: ...

    @property
    def action(self) -> str: ...

    def apply(self, verdicts: Sequence[Verdict]) -> Verdict:
        """The verdict row to write, given the case's verdicts; raises if not allowed."""
        ...

    def outcome(self, verdict: Verdict, verdicts: Sequence[Verdict]) -> tuple[str, dict[str, Any]]:
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
    """A case's verdicts (every case's without ``case_id``), oldest first."""
    query = select(Verdict).order_by(col(Verdict.id))
    if case_id is not None:
        query = query.where(col(Verdict.case_id) == case_id)
    return list(session.exec(query))


def final_verdicts(session: Session, case_ids: Collection[str]) -> dict[tuple[str, str], Verdict]:
    """(case id, media id) to the newest approved verdict of that media item in that case.

    Verdicts are still per case: the case's newest approved verdict applies to
    each of its media. Absent keys are Unverified.
    """
    wanted = list(case_ids)
    approved = session.exec(
        select(Verdict)
        .where(col(Verdict.case_id).in_(wanted), col(Verdict.state) == "approved")
        .order_by(col(Verdict.id))
    )
    newest = {verdict.case_id: verdict for verdict in approved}
    members = session.exec(
        select(col(CaseMedia.case_id), col(CaseMedia.media_id)).where(
            col(CaseMedia.case_id).in_(list(newest))
        )
    )
    return {(case_id, media_id): newest[case_id] for case_id, media_id in members}


def record_verdict(session: Session, case_id: str, step: VerdictStep) -> Verdict:
    """Apply one review step: write its verdict, the new case status and the event."""
    case = lock_case(session, case_id)
    verdict = step.apply(verdicts(session, case_id))
    session.add(verdict)
    session.flush()
    case.status, details = step.outcome(verdict, verdicts(session, case_id))
    append_event(session, case_id, step.user, step.action, details)
    return verdict
