"""Look-ups the web desk needs: a verdict by its id, the cases whose notes say something."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from mediacheck.store.models import Note, Verdict


def verdict_by_id(session: Session, verdict_id: int) -> Verdict | None:
    return session.get(Verdict, verdict_id)


def cases_noting(session: Session, text: str) -> set[str]:
    """Ids of the cases with a note whose text holds ``text``, in any letter case."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(Note.case_id).where(func.lower(col(Note.text)).like(f"%{escaped}%", escape="\\"))
    return set(session.exec(query))
