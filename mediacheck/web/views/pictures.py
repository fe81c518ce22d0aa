"""Derived pictures by id: /cases/{case_id}/media/{media_id}/<which picture>.

Any logged-in account. The ids name a row of the database (an item of this case, its
keyframe N, its finding N, its seen-before entry N); nothing in the URL is a path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from mediacheck.web import auth
from mediacheck.web import pictures as found
from mediacheck.web.depends import page_user
from mediacheck.web.desk import desk_of

router = APIRouter(include_in_schema=False)
User = Annotated[auth.Identity, Depends(page_user)]
PREFIX = "/cases/{case_id}/media/{media_id}"
# Pictures of a case never change under their id: the browser may keep them a while.
PICTURE_HEADERS = {"Cache-Control": "private, max-age=300"}


async def _jpeg(request: Request, picture: Callable[..., bytes], *args) -> Response:
    data = await run_in_threadpool(picture, desk_of(request).store, *args)
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"}
    )


@router.get(PREFIX + "/thumbnail")
async def thumbnail(request: Request, case_id: str, media_id: str, user: User) -> Response:
    return await _jpeg(request, found.thumbnail, case_id, media_id)


@router.get(PREFIX + "/keyframes/{number}")
async def keyframe(request: Request, case_id: str, media_id: str, number: int, user: User):
    return await _jpeg(request, found.keyframe, case_id, media_id, number)


@router.get(PREFIX + "/contact-sheet")
async def contact_sheet(request: Request, case_id: str, media_id: str, user: User) -> Response:
    return await _jpeg(request, found.contact_sheet, case_id, media_id)


@router.get(PREFIX + "/findings/{number}")
async def finding(request: Request, case_id: str, media_id: str, number: int, user: User):
    return await _jpeg(request, found.finding_picture, case_id, media_id, number)


@router.get(PREFIX + "/seen/{number}")
async def seen(request: Request, case_id: str, media_id: str, number: int, user: User):
    return await _jpeg(request, found.archive_picture, case_id, media_id, number)


@router.get(PREFIX + "/seen/{number}/correspondences")
async def correspondences(request: Request, case_id: str, media_id: str, number: int, user: User):
    return await _jpeg(request, found.correspondence_picture, case_id, media_id, number)
