"""Files in and out: intake and match by upload, reports and bundles to download.

Intake and match run the CLI's core functions on the uploaded files, saved under names
of our own (``uploads``); match stores nothing. Reports and bundles are checked first
as the CLI's ``report`` and ``export`` check them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from mediacheck.errors import IntegrityError, InvalidValue
from mediacheck.store.cases import CaseFields
from mediacheck.store.database import Store
from mediacheck.web import auth
from mediacheck.web.depends import form_user, page_user, render
from mediacheck.web.desk import desk_of
from mediacheck.web.forms import optional, tag_list, time_or_none, url_or_none
from mediacheck.web.uploads import Upload, saved_uploads

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=2_000)]
Text = Annotated[str, Form(max_length=20_000)]
CONTENT_TYPES = {
    "html": ("text/html; charset=utf-8", "html"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "json": ("application/json", "json"),
    "mediareview": ("application/ld+json", "jsonld"),
}


def intake_fields(
    title: str = "",
    claim: str = "",
    source_url: str = "",
    platform: str = "",
    posted_at: str = "",
    tags: str = "",
) -> CaseFields:
    return CaseFields(
        title=optional(title),
        claim=optional(claim),
        source_url=url_or_none(source_url, "source_url"),
        platform=optional(platform),
        posted_at=time_or_none(posted_at, "posted_at"),
        tags=tag_list(tags),
    )


def run_intake(
    store: Store,
    user: auth.Identity,
    uploads: list[Upload],
    fields: CaseFields,
    case_id: str | None,
    one_case: bool,
    quick: bool = False,
) -> list[dict[str, Any]]:
    """The uploads taken in as ``mediacheck intake`` takes files; one result each."""
    from mediacheck.intake import pipeline as core

    auth.require(user, "intake")
    if not uploads:
        raise InvalidValue("files: choose at least one file to take in")
    if case_id and fields != CaseFields():
        raise InvalidValue(
            "case_id adds to an existing case: change its fields on the case page instead"
        )
    request = core.IntakeRequest(
        user=user.name,
        case_id=case_id.strip().upper() if case_id else None,
        one_case=one_case and not case_id,
        fields=fields,
        quick=quick,
    )
    with saved_uploads(uploads) as saved:
        jobs = max(1, min(os.cpu_count() or 1, len(saved)))
        results = core.intake(store, [], request, files=[s.item for s in saved], jobs=jobs)
    return [asdict(result) for result in results]


def run_match(store: Store, uploads: list[Upload]) -> list[dict[str, Any]]:
    """``mediacheck match`` on the uploads: each file's matches, nothing stored."""
    from mediacheck.match.search import match_files

    if not uploads:
        raise InvalidValue("files: choose at least one file to search for")
    with saved_uploads(uploads) as saved:
        names = {str(s.item.path): s.name for s in saved}
        found = list(match_files(store, [s.item.path for s in saved]))
    documents = []
    for result in found:
        doc: dict[str, Any] = {
            "path": names.get(result.path, result.path),
            "matches": [m.document() for m in result.matches],
        }
        if result.error:
            doc["error"] = result.error.replace(result.path, doc["path"])
        documents.append(doc)
    return documents


@router.get("/intake")
def intake_page(
    request: Request, user: Annotated[auth.Identity, Depends(page_user)], case_id: str = ""
):
    """Reporters and up: the upload form (``case_id``: adding to that case)."""
    return render(request, "intake.html", results=None, case_id=case_id)


@router.post("/intake")
async def intake_upload(
    request: Request,
    user: Annotated[auth.Identity, Depends(form_user)],
    files: Annotated[list[UploadFile], File()],
    title: Short = "",
    claim: Text = "",
    source_url: Short = "",
    platform: Short = "",
    posted_at: Short = "",
    tags: Short = "",
    case_id: Short = "",
    one_case: Short = "",
    quick: Short = "",
):
    """Reporters and up: take the uploaded files in (several at once)."""
    fields = intake_fields(title, claim, source_url, platform, posted_at, tags)
    store = desk_of(request).store
    results = await run_in_threadpool(
        run_intake, store, user, list(files), fields, optional(case_id), bool(one_case), bool(quick)
    )
    return render(request, "intake.html", results=results, case_id=case_id)


@router.get("/match")
def match_page(request: Request, user: Annotated[auth.Identity, Depends(page_user)]):
    """Any account: the form to search the archive for files (stores nothing)."""
    return render(request, "match.html", results=None)


@router.post("/match")
async def match_upload(
    request: Request,
    user: Annotated[auth.Identity, Depends(form_user)],
    files: Annotated[list[UploadFile], File()],
):
    """Any account: has the archive seen these files? Nothing is stored."""
    results = await run_in_threadpool(run_match, desk_of(request).store, list(files))
    return render(request, "match.html", results=results)


def rendered_report(store: Store, case_id: str, fmt: str) -> str:
    """The report ``mediacheck report --format FMT`` writes; MediaReview of a sound case only."""
    from mediacheck.publish import mediareview, reports

    if fmt not in CONTENT_TYPES:
        raise InvalidValue(f"format is one of {', '.join(CONTENT_TYPES)}, not {fmt!r}")
    doc = reports.report_document(store, case_id)
    if fmt != "mediareview":
        return reports.render(store, doc, fmt)
    refuse_unverifiable(doc["case_id"], doc["integrity"]["problems"], "published")
    return mediareview.to_json(mediareview.media_review(doc, False, None))


def refuse_unverifiable(case_id: str, problems: list[dict], what: str) -> None:
    if problems:
        raise IntegrityError(
            f"{case_id} not {what}: it fails its integrity check: {problems[0]['message']} "
            f"(run `mediacheck verify {case_id}`)"
        )


@router.get("/cases/{case_id}/report")
async def report(
    request: Request,
    case_id: str,
    user: Annotated[auth.Identity, Depends(page_user)],
    format: str = "html",
):
    """Any account: the case's report in FORMAT, as a download."""
    case_id = case_id.strip().upper()
    text = await run_in_threadpool(rendered_report, desk_of(request).store, case_id, format)
    media_type, extension = CONTENT_TYPES[format]
    disposition = f'attachment; filename="{case_id}.{extension}"'
    return Response(text, media_type=media_type, headers={"Content-Disposition": disposition})


def exported_bundle(store: Store, case_id: str) -> Path:
    """The case as a BagIt zip in a folder of its own (the caller removes the folder)."""
    from mediacheck.integrity.verify import integrity_document, verify
    from mediacheck.publish import bundle

    checked = integrity_document(verify(store, case_id))
    refuse_unverifiable(case_id, checked["problems"], "exported")
    folder = Path(tempfile.mkdtemp(prefix="mediacheck-export-"))
    try:
        return bundle.export_case(store, case_id, folder / f"{case_id}.zip").path
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


@router.get("/cases/{case_id}/export")
async def export(
    request: Request, case_id: str, user: Annotated[auth.Identity, Depends(page_user)]
):
    """Any account: the case as a verifiable BagIt bundle (zip)."""
    case_id = case_id.strip().upper()
    path = await run_in_threadpool(exported_bundle, desk_of(request).store, case_id)
    cleanup = BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True)
    return FileResponse(path, media_type="application/zip", filename=path.name, background=cleanup)
