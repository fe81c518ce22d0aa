"""/cases and /cases/{case_id}: the listing with its search, and everything about one case."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from mediacheck.errors import InvalidValue
from mediacheck.publish import document as casefile
from mediacheck.publish import narrative, reports
from mediacheck.publish.formats import REPORT_FORMATS
from mediacheck.review import ratings
from mediacheck.store.models import CASE_STATUSES
from mediacheck.web import auth
from mediacheck.web.depends import page_user, render
from mediacheck.web.desk import desk_of

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
FILTERS = ("q", "status", "verdict", "assignee", "platform", "tag", "since", "until")


def case_filter(
    q: str | None = None,
    status: str | None = None,
    verdict: str | None = None,
    assignee: str | None = None,
    platform: str | None = None,
    tag: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> casefile.CaseFilter:
    """The listing's filters from a query string; an empty field filters nothing."""
    if status and status not in CASE_STATUSES:
        raise InvalidValue(f"status is one of {', '.join(CASE_STATUSES)}, not {status!r}")
    for name, day in (("since", since), ("until", until)):
        if day and not DAY.fullmatch(day):
            raise InvalidValue(f"{name} is a day written YYYY-MM-DD, not {day!r}")
    return casefile.CaseFilter(
        status=status or None,
        tag=tag or None,
        assignee=assignee or None,
        verdict=ratings.normalize_rating(verdict, allow_unverified=True) if verdict else None,
        text=(q or "").strip() or None,
        platform=platform or None,
        since=since or None,
        until=until or None,
    )


@router.get("/cases")
def cases_page(
    request: Request,
    user: Annotated[auth.Identity, Depends(page_user)],
    filters: Annotated[casefile.CaseFilter, Depends(case_filter)],
    page: int = 1,
):
    """Any account: the cases, searched and filtered, PAGE_SIZE a page."""
    rows = casefile.case_rows(desk_of(request).store, filters)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = {name: request.query_params.get(name, "") for name in FILTERS}
    query = urlencode({k: v for k, v in shown.items() if v})
    return render(
        request,
        "cases.html",
        rows=rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(rows),
        page=page,
        pages=pages,
        query=query,
        shown=shown,
        statuses=CASE_STATUSES,
        ratings=(ratings.UNVERIFIED, *ratings.RATINGS),
    )


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, user: Annotated[auth.Identity, Depends(page_user)]):
    """Any account: the case, checked first as ``verify CASE`` does."""
    doc = reports.report_document(desk_of(request).store, case_id.strip().upper())
    return render(
        request,
        "case.html",
        case=doc,
        media=[media_view(doc, item) for item in doc["media"]],
        sentences=narrative.sentences(doc["history"]),
        formats=(*REPORT_FORMATS, "mediareview"),
        statuses=CASE_STATUSES,
        ratings=ratings.RATINGS,
        confidences=ratings.CONFIDENCES,
        can={action: auth.may(user, action) for action in ACTIONS},
        http_url=reports.http_url,
    )


# What the page offers each role (the routes check again): the accounts' action names.
ACTIONS = ("intake", "note", "propose", "approve", "status", "assign", "tags")


def media_view(doc: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """What the template needs beside one media document: its pending verdict, its facts."""
    own = [v for v in doc["verdicts"] if v["media_id"] == item["media_id"]]
    pending = next((v for v in reversed(own) if v["state"] == ratings.PROPOSED), None)
    facts = [(k, v) for k, v in item["summary"].items() if v is not None]
    return {
        "doc": item,
        "verdicts": own,
        "pending": pending,
        "facts": facts,
        "metadata": reports.metadata_rows(item.get("metadata") or {}),
    }
