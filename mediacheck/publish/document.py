"""A whole case as plain data: what ``show --json`` prints and reports render."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mediacheck.errors import CaseNotFound
from mediacheck.integrity import verify as integrity
from mediacheck.review import ratings, rules

if TYPE_CHECKING:
    from mediacheck.store.database import Store
    from mediacheck.store.models import Case, CaseMedia, Event, FindingRow, Media


@dataclass(frozen=True)
class CaseFilter:
    """What ``cases`` lists; None matches everything."""

    status: str | None = None
    tag: str | None = None
    assignee: str | None = None
    verdict: str | None = None  # the approved rating, or Unverified for none


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
    """The case as data, checked first: ``integrity`` says whether verify finds it intact."""
    checked = integrity.integrity_document(integrity.verify(store, case_id))
    case = store.get_case(case_id)
    doc = case_fields(case)
    doc["integrity"] = checked
    verdicts = store.verdicts(case_id)
    doc["verdict"] = rules.verdict_document(ratings.current_verdict(verdicts))
    doc["final_verdict"] = ratings.final_rating(verdicts)
    doc["verdicts"] = [rules.verdict_document(v) for v in verdicts]
    doc["notes"] = rules.note_documents(store.notes(case_id))
    doc["media"] = [media_document(store, link, media) for link, media in store.case_media(case_id)]
    return doc


def case_rows(store: Store, filters: CaseFilter = CaseFilter()) -> list[dict[str, Any]]:
    """The ``cases`` listing: case fields, media count and verdict of each matching case."""
    by_case: dict[str, list] = {}
    for verdict in store.verdicts():
        by_case.setdefault(verdict.case_id, []).append(verdict)
    rows = []
    for listing in store.list_cases():
        case, verdicts = listing.case, by_case.get(listing.case.id, [])
        final = ratings.final_rating(verdicts)
        if not _matches(case, final, filters):
            continue
        current = rules.verdict_document(ratings.current_verdict(verdicts))
        row = case_fields(case)
        row["media_count"] = listing.media_count
        row["verdict"] = current["rating"]
        row["verdict_state"] = current["state"]
        row["final_verdict"] = final
        rows.append(row)
    return rows


def _matches(case: Case, final_rating: str, filters: CaseFilter) -> bool:
    return (
        (filters.status is None or case.status == filters.status)
        and (filters.tag is None or filters.tag in case.tags)
        and (filters.assignee is None or case.assignee == filters.assignee)
        and (filters.verdict is None or final_rating == filters.verdict)
    )


def event_document(event: Event) -> dict[str, Any]:
    """One history event as ``history --json`` prints it, with ``details`` parsed."""
    return {
        "seq": event.seq,
        "at": event.at,
        "user": event.user,
        "action": event.action,
        "details": _parsed(event.details),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _parsed(details: str) -> Any:
    # A hand-edited row may not be JSON any more: show it as it is; verify names it.
    try:
        return json.loads(details)
    except ValueError:
        return details


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
        **video_fields(store, media),
        "seen_before": seen_before_documents(store, [media.id])[media.id],
        "findings": [finding_document(f) for f in store.findings(link.case_id, media.id)],
    }


def finding_document(row: FindingRow) -> dict[str, Any]:
    """One finding as ``show --json`` prints it; ``image`` is relative to the store."""
    return {
        "code": row.code,
        "severity": row.severity,
        "message": row.message,
        "evidence": dict(row.evidence),
        "image": row.image,
    }


def seen_before_documents(store: Store, media_ids: Sequence[str]) -> dict[str, list[dict]]:
    """``seen_before`` of each media object in ``show --json``, by media id."""
    documents: dict[str, list[dict]] = {m: [] for m in media_ids}
    rows = store.seen_before(media_ids)
    cases = {row.matched_case_id for row, _ in rows if row.matched_case_id}
    titles = {case_id: _title(store, case_id) for case_id in cases}
    verdicts = store.final_verdicts(cases)
    for row, matched in rows:
        final = verdicts.get((row.matched_case_id or "", row.matched_media_id))
        documents[row.media_id].append(
            {
                "case_id": row.matched_case_id,
                "case_title": titles.get(row.matched_case_id or ""),
                "media_id": row.matched_media_id,
                "sha256": matched.sha256,
                "method": row.method,
                "distance": row.distance,
                "frame_time_s": row.frame_time_s,
                "verdict": final.rating if final else ratings.UNVERIFIED,
            }
        )
    return documents


def _title(store: Store, case_id: str) -> str | None:
    try:
        return store.get_case(case_id).title
    except CaseNotFound:  # a row edited to name no case: verify names it, show goes on
        return None


def video_fields(store: Store, media: Media) -> dict[str, Any]:
    """``video`` (its container facts), ``keyframes`` and ``contact_sheet``; empty for pictures."""
    video = dict(media.video or {})
    contact_sheet = video.pop("contact_sheet", None)
    keyframes = store.keyframes(media.id) if media.kind == "video" else []
    return {
        "video": video or None,
        "keyframes": [
            {"time_s": frame.time_s, "path": frame.path, "hashes": dict(frame.hashes)}
            for frame in keyframes
        ],
        "contact_sheet": contact_sheet,
    }


def _location(case: Case) -> dict[str, float] | None:
    if case.claimed_lat is None or case.claimed_lon is None:
        return None
    return {"latitude": case.claimed_lat, "longitude": case.claimed_lon}
