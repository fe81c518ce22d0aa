"""The form posts under a case: note, propose, approve, reject, status, assign, tags.

Each takes the session's account (``form_user``: logged in, CSRF token checked), asks
the accounts' roles whether it may, calls the review service the CLI's command calls,
and sends the browser back to the case.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse

from mediacheck.accounts import service as accounts
from mediacheck.errors import AccountNotFound, InvalidValue
from mediacheck.review import rules
from mediacheck.review import service as review
from mediacheck.store.cases import CaseChanges
from mediacheck.web import auth, decisions
from mediacheck.web.depends import form_user
from mediacheck.web.desk import desk_of
from mediacheck.web.forms import ROW_ID_MAX, optional, tag_list, url_or_none

router = APIRouter(include_in_schema=False)
User = Annotated[auth.Identity, Depends(form_user)]
Text = Annotated[str, Form(max_length=20_000)]
Short = Annotated[str, Form(max_length=2_000)]
VerdictId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]


def back(case_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}{anchor}", status_code=303)


@router.post("/cases/{case_id}/notes")
def add_note(
    request: Request,
    case_id: str,
    user: User,
    text: Text = "",
    engine: Short = "",
    url: Short = "",
    earliest_date: Short = "",
    media: Short = "",
    corrects: Short = "",
):
    """Reporters and up: a note or a reverse-search finding."""
    auth.require(user, "note")
    review.add_note(
        desk_of(request).store,
        case_id,
        user.name,
        text,
        engine=optional(engine),
        url=url_or_none(url, "url"),
        earliest_date=rules.parse_earliest_date(earliest_date) if earliest_date else None,
        media=optional(media),
        corrects=_note_id(corrects),
    )
    return back(case_id, "#notes")


def _note_id(text: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= ROW_ID_MAX:
        raise InvalidValue(f"corrects names a note by its number, not {text!r}")
    return int(text)


@router.post("/cases/{case_id}/verdicts")
def propose(
    request: Request,
    case_id: str,
    user: User,
    rating: Short = "",
    rationale: Text = "",
    media: Short = "",
    original_url: Short = "",
    original_context: Text = "",
    confidence: Short = "",
):
    """Reporters and up: propose a verdict on one media item."""
    auth.require(user, "propose")
    proposal = review.Proposal(
        rating=rating,
        rationale=rationale,
        original_url=url_or_none(original_url, "original_url"),
        original_context=optional(original_context),
        confidence=optional(confidence.lower()),
    )
    review.propose(desk_of(request).store, case_id, user.name, proposal, optional(media))
    return back(case_id, "#verdicts")


@router.post("/cases/{case_id}/verdicts/{verdict_id}/approve")
def approve(request: Request, case_id: str, verdict_id: VerdictId, user: User, comment: Text = ""):
    """Verifiers and up, never the proposer: approve the proposed verdict."""
    store = desk_of(request).store
    decisions.decide(store, user, verdict_id, True, optional(comment), case_id)
    return back(case_id, "#verdicts")


@router.post("/cases/{case_id}/verdicts/{verdict_id}/reject")
def reject(request: Request, case_id: str, verdict_id: VerdictId, user: User, reason: Text = ""):
    """Verifiers and up, never the proposer: reject the proposed verdict."""
    store = desk_of(request).store
    decisions.decide(store, user, verdict_id, False, reason, case_id)
    return back(case_id, "#verdicts")


@router.post("/cases/{case_id}/status")
def set_status(request: Request, case_id: str, user: User, status: Short = "", reason: Text = ""):
    """Editors and up: close or reopen the case (the review rules may ask for a reason)."""
    auth.require(user, "status")
    changes = CaseChanges(status=status, reason=optional(reason))
    _change(request, case_id, user, changes)
    return back(case_id)


@router.post("/cases/{case_id}/assign")
def assign(request: Request, case_id: str, user: User, assignee: Short = ""):
    """Editors and up: who works on the case."""
    auth.require(user, "assign")
    name = optional(assignee)
    if name is not None:
        try:
            accounts.get_account(desk_of(request).store, name)
        except AccountNotFound:
            raise InvalidValue(f"assignee: no account {name!r} on this desk") from None
    _change(request, case_id, user, CaseChanges(assignee=name))
    return back(case_id)


@router.post("/cases/{case_id}/tags")
def tags(request: Request, case_id: str, user: User, add: Short = "", remove: Short = ""):
    """Editors and up: add and remove tags (comma-separated)."""
    auth.require(user, "tags")
    changes = CaseChanges(add_tags=tag_list(add), remove_tags=tag_list(remove))
    _change(request, case_id, user, changes)
    return back(case_id)


def _change(request: Request, case_id: str, user: auth.Identity, changes: CaseChanges) -> None:
    review.change_case(desk_of(request).store, case_id, changes, user.name)
