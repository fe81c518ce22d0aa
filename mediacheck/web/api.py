"""The JSON API under /api/: what scripts call with ``Authorization: Bearer TOKEN``.

The same core functions as the CLI and the pages; the answers are the CLI's ``--json``
objects (``GET /api/cases/{case_id}`` is ``show --json``). Errors are
``{"error": "..."}``: 400 a bad value, 401 no or a wrong token, 403 a forbidden action
(self-approval included), 404 an unknown case, item or verdict, 409 a review step
the case's state does not allow.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from mediacheck.publish import document as casefile
from mediacheck.review import rules
from mediacheck.review import service as review
from mediacheck.web import auth, decisions
from mediacheck.web.depends import api_user
from mediacheck.web.desk import desk_of
from mediacheck.web.forms import ROW_ID_MAX, optional, url_or_none
from mediacheck.web.views.cases import case_filter
from mediacheck.web.views.files import intake_fields, run_intake, run_match

User = Annotated[auth.Identity, Depends(api_user)]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": why, "content": {"application/json": {"example": {"error": why}}}}
    for code, why in (
        (400, "a value is malformed"),
        (401, "no token, or one that proves no enabled account"),
        (403, "the account's role may not do this, or it proposed the verdict"),
        (404, "no such case, media item or verdict"),
        (409, "the case's state does not allow this step"),
    )
}
router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)
Json = dict[str, Any]
VerdictId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]


class NoteIn(BaseModel):
    text: str = Field(max_length=20_000)
    engine: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=2_000)
    earliest_date: str | None = Field(default=None, max_length=40)
    media_id: str | None = Field(default=None, max_length=64)
    corrects: int | None = Field(default=None, ge=1, le=ROW_ID_MAX)


class ProposalIn(BaseModel):
    rating: str = Field(max_length=100)
    rationale: str = Field(max_length=20_000)
    media_id: str | None = Field(default=None, max_length=64)
    original_url: str | None = Field(default=None, max_length=2_000)
    original_context: str | None = Field(default=None, max_length=20_000)
    confidence: str | None = Field(default=None, max_length=20)


class ApprovalIn(BaseModel):
    comment: str | None = Field(default=None, max_length=20_000)


class RejectionIn(BaseModel):
    reason: str = Field(max_length=20_000)


@router.get("/cases")
def list_cases(
    request: Request,
    user: User,
    filters: Annotated[casefile.CaseFilter, Depends(case_filter)],
) -> list[Json]:
    """The ``cases --json`` rows matching the filters (q searches title, claim, tags, notes)."""
    return casefile.case_rows(desk_of(request).store, filters)


@router.get("/cases/{case_id}")
def show_case(request: Request, case_id: str, user: User) -> Json:
    """The ``show --json`` object of the case, checked first (``integrity``)."""
    return casefile.case_document(desk_of(request).store, case_id.strip().upper())


@router.post("/cases/{case_id}/notes", status_code=201)
def add_note(request: Request, case_id: str, note: NoteIn, user: User) -> Json:
    """Reporters and up: a note, as ``mediacheck note --json`` prints it."""
    auth.require(user, "note")
    saved = review.add_note(
        desk_of(request).store,
        case_id.strip().upper(),
        user.name,
        note.text,
        engine=optional(note.engine),
        url=url_or_none(note.url, "url"),
        earliest_date=rules.parse_earliest_date(note.earliest_date) if note.earliest_date else None,
        media=optional(note.media_id),
        corrects=note.corrects,
    )
    return rules.note_documents([saved])[0]


@router.post("/cases/{case_id}/verdicts", status_code=201)
def propose(request: Request, case_id: str, proposal: ProposalIn, user: User) -> Json:
    """Reporters and up: propose a verdict on one item; the verdict object with its ``id``."""
    auth.require(user, "propose")
    saved = review.propose(
        desk_of(request).store,
        case_id.strip().upper(),
        user.name,
        review.Proposal(
            rating=proposal.rating,
            rationale=proposal.rationale,
            original_url=url_or_none(proposal.original_url, "original_url"),
            original_context=optional(proposal.original_context),
            confidence=optional((proposal.confidence or "").lower()),
        ),
        optional(proposal.media_id),
    )
    return rules.verdict_document(saved)


@router.post("/verdicts/{verdict_id}/approve")
def approve(
    request: Request, verdict_id: VerdictId, user: User, body: ApprovalIn | None = None
) -> Json:
    """Verifiers and up, never the proposer: approve the proposed verdict."""
    comment = optional(body.comment) if body else None
    saved = decisions.decide(desk_of(request).store, user, verdict_id, True, comment)
    return rules.verdict_document(saved)


@router.post("/verdicts/{verdict_id}/reject")
def reject(request: Request, verdict_id: VerdictId, body: RejectionIn, user: User) -> Json:
    """Verifiers and up, never the proposer: reject the proposed verdict with a reason."""
    saved = decisions.decide(desk_of(request).store, user, verdict_id, False, body.reason)
    return rules.verdict_document(saved)


@router.post("/match")
async def match(
    request: Request, user: User, files: Annotated[list[UploadFile], File()]
) -> list[Json]:
    """Any account: ``match --json`` for the uploaded files; nothing is stored."""
    return await run_in_threadpool(run_match, desk_of(request).store, list(files))


@router.post("/intake")
async def intake(
    request: Request,
    user: User,
    files: Annotated[list[UploadFile], File()],
    title: Annotated[str, Form(max_length=2_000)] = "",
    claim: Annotated[str, Form(max_length=20_000)] = "",
    source_url: Annotated[str, Form(max_length=2_000)] = "",
    platform: Annotated[str, Form(max_length=200)] = "",
    posted_at: Annotated[str, Form(max_length=40)] = "",
    tags: Annotated[str, Form(max_length=2_000)] = "",
    case_id: Annotated[str, Form(max_length=40)] = "",
    one_case: Annotated[bool, Form()] = True,
    quick: Annotated[bool, Form()] = False,
) -> list[Json]:
    """Reporters and up: ``intake --json`` for the uploaded files (one case by default).

    ``quick``: leave the slow pixel forensics to ``mediacheck analyze``, as ``--quick`` does.
    """
    fields = intake_fields(title, claim, source_url, platform, posted_at, tags)
    store = desk_of(request).store
    return await run_in_threadpool(
        run_intake, store, user, list(files), fields, optional(case_id), one_case, quick
    )
