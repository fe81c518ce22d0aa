"""A whole case as plain data: what ``show --json`` prints and reports render."""

from __future__ import annotations

from typing import Any

from mediacheck.models import Case, CaseMedia, Media
from mediacheck.storage import Store

UNVERIFIED = "Unverified"


def case_fields(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "title": case.title,
        "claim": case.claim,
        "source_url": case.source_url,
        "platform": case.platform,
        "posted_at": case.posted_at,
        "status": case.status,
        "tags": list(case.tags),
        "assignee": case.assignee,
        "claimed_location": _location(case),
        "created_by": case.created_by,
        "created_at": case.created_at,
    }


def case_document(store: Store, case_id: str) -> dict[str, Any]:
    case = store.get_case(case_id)
    doc = case_fields(case)
    doc["verdict"] = {"rating": UNVERIFIED, "state": None}
    doc["media"] = [media_document(store, link, media) for link, media in store.case_media(case_id)]
    return doc


def media_document(store: Store, link: CaseMedia, media: Media) -> dict[str, Any]:
    return {
        "media_id": media.id,
        "sha256": media.sha256,
        "sha1": media.sha1,
        "md5": media.md5,
        "kind": media.kind,
        "mime": media.mime,
        "size": media.size,
        "width": media.width,
        "height": media.height,
        "original_name": link.original_name,
        "original_path": link.original_path,
        "file_mtime": link.file_mtime,
        "was_symlink": link.was_symlink,
        "added_by": link.added_by,
        "added_at": link.added_at,
        "stored_path": media.blob_path,
        "hashes": dict(media.hashes),
        "pdq_quality": media.pdq_quality,
        "summary": dict(media.summary),
        "metadata": dict(media.meta),
        "errors": list(media.errors),
    }


def _location(case: Case) -> dict[str, float] | None:
    if case.claimed_lat is None or case.claimed_lon is None:
        return None
    return {"latitude": case.claimed_lat, "longitude": case.claimed_lon}
