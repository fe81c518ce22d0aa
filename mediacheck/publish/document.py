"""A whole case as plain data: what ``show --json`` prints and reports render."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mediacheck.integrity import verify as integrity
from mediacheck.review import ratings, rules

if TYPE_CHECKING:
    from mediacheck.store.database import Store
    from mediacheck.store.models import Case, CaseMedia, Event, FindingRow, Media


@dataclass(frozen=True)
class CaseFilter:
    """What ``cases`` lists; None matches everything.

    ``verdict`` matches a case with an item of that final rating, or its summary
    (``Unverified``: an item without an approved verdict, or no media).
    """

    status: str | None = None
    tag: str | None = None
    assignee: str | None = None
    verdict: str | None = None


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
    """The case, its verdicts, notes and media; each media object with its own verdict.

    Checked first: ``integrity`` says whether verify finds the case intact.
    ``verdict`` is the case's newest verdict (of any item), ``final_verdicts`` each
    item's final rating and ``final_verdict`` their summary (``ratings.case_rating``).
    """
    checked = integrity.integrity_document(integrity.verify(store, case_id))
    case = store.get_case(case_id)
    doc = case_fields(case)
    doc["integrity"] = checked
    verdicts = store.verdicts(case_id)
    pairs = store.case_media(case_id)
    finals = final_ratings(store, {case_id: [media.id for _, media in pairs]})[case_id]
    doc["verdict"] = rules.verdict_document(rules.newest_verdict(verdicts))
    doc["final_verdict"] = ratings.case_rating(finals.values())
    doc["final_verdicts"] = finals
    doc["verdicts"] = [rules.verdict_document(v) for v in verdicts]
    doc["notes"] = rules.note_documents(store.notes(case_id))
    doc["media"] = [media_document(store, link, media) for link, media in pairs]
    for item in doc["media"]:
        own = rules.of_media(verdicts, item["media_id"])
        item["verdict"] = rules.verdict_document(ratings.current_verdict(own))
        item["final_verdict"] = finals[item["media_id"]]
    return doc


def final_ratings(store: Store, members: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """For each case id, each of its media ids (``members``) with its final rating."""
    finals = store.final_verdicts(list(members))

    def rating(case_id: str, media_id: str) -> str:
        final = finals.get((case_id, media_id))
        return final.rating if final else ratings.UNVERIFIED

    return {case_id: {m: rating(case_id, m) for m in ids} for case_id, ids in members.items()}


def case_rows(store: Store, filters: CaseFilter = CaseFilter()) -> list[dict[str, Any]]:
    """The ``cases`` listing: case fields, media count and verdicts of each matching case."""
    by_case: dict[str, list] = {}
    for verdict in store.verdicts():
        by_case.setdefault(verdict.case_id, []).append(verdict)
    listings = store.list_cases()
    finals = final_ratings(store, {c.case.id: list(c.media_ids) for c in listings})
    rows = []
    for listing in listings:
        case, items = listing.case, finals[listing.case.id]
        summary = ratings.case_rating(items.values())
        if not _matches(case, {summary, *items.values()}, filters):
            continue
        newest = rules.verdict_document(rules.newest_verdict(by_case.get(case.id, [])))
        row = case_fields(case)
        row["media_count"] = listing.media_count
        row["verdict"] = newest["rating"]
        row["verdict_state"] = newest["state"]
        row["final_verdict"] = summary
        row["final_verdicts"] = items
        rows.append(row)
    return rows


def _matches(case: Case, rated: set[str], filters: CaseFilter) -> bool:
    return (
        (filters.status is None or case.status == filters.status)
        and (filters.tag is None or filters.tag in case.tags)
        and (filters.assignee is None or case.assignee == filters.assignee)
        and (filters.verdict is None or filters.verdict in rated)
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
        "seen_before": seen_before_documents(store, link),
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


def seen_before_documents(store: Store, link: CaseMedia) -> list[dict[str, Any]]:
    """``seen_before`` of one media object in ``show --json``: what the archive held of it.

    The matches recorded when the item was taken into this case, and those recorded
    for it in other cases before that, each (media, case) once. Matches in this case
    itself are never news; each names its case's title and the final verdict of the
    matched item in that case (Unverified until one is approved).
    """
    rows = [
        (row, matched, case)
        for row, matched, case in store.seen_before([link.media_id])
        if row.matched_case_id != link.case_id
        and (row.case_id == link.case_id or row.at < link.added_at)
    ]
    rows.sort(key=lambda found: found[0].case_id != link.case_id)  # this case's own first
    verdicts = store.final_verdicts(
        {row.matched_case_id for row, _, _ in rows if row.matched_case_id}
    )
    documents: dict[tuple[str, str | None, float | None], dict[str, Any]] = {}
    for row, matched, case in rows:
        final = verdicts.get((row.matched_case_id or "", row.matched_media_id))
        key = (row.matched_media_id, row.matched_case_id, row.frame_time_s)
        documents.setdefault(
            key,
            {
                "case_id": row.matched_case_id,
                "case_title": case.title if case else None,
                "verdict": final.rating if final else ratings.UNVERIFIED,
                "media_id": row.matched_media_id,
                "sha256": matched.sha256,
                "method": row.method,
                "distance": row.distance,
                "frame_time_s": row.frame_time_s,
                "stored_start_s": row.stored_start_s,
                "stored_end_s": row.stored_end_s,
                "query_start_s": row.query_start_s,
                "query_end_s": row.query_end_s,
            },
        )
    return list(documents.values())


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
