"""schema.org MediaReview (and ClaimReview) JSON-LD for the approved verdicts of a case.

https://schema.org/MediaReview: fact-checkers publish it so that search engines
and other desks can find the rating beside the media. A MediaReview reviews one
media item, so a case gives a JSON array of them: one per item with an approved
verdict, each about that item only. An item without one is left out: a proposal
has not passed four-eyes review yet.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from mediacheck.errors import ReviewError
from mediacheck.publish.reports import http_url
from mediacheck.review import ratings

CONTEXT = "https://schema.org"
# schema.org types for each kind of media mediacheck takes in.
OBJECT_TYPES = {"image": "ImageObject", "video": "VideoObject", "audio": "AudioObject"}
# How a ClaimReview reader sees each rating, in words (schema.org leaves ratingValue to the desk).
CLAIM_LABELS = {
    "OriginalMediaContent": "Original media, accurately described",
    "DecontextualizedContent": "Missing context: real media from another time or place",
    "EditedOrCroppedContent": "Edited or cropped",
    "TransformedContent": "Transformed or manipulated",
    "StagedContent": "Staged",
    "SatireOrParodyContent": "Satire or parody",
}


def media_review(
    doc: dict[str, Any], claim_review: bool = False, review_url: str | None = None
) -> list[dict[str, Any]]:
    """A MediaReview of each rated item of the case in ``doc`` (a case document).

    ReviewError when no item has an approved verdict. ``review_url`` is where the
    desk publishes its review: every review links to it.
    """
    rated = [(media, approved_verdict(doc, media["media_id"])) for media in doc.get("media") or []]
    reviews = [
        _review(doc, media, verdict, claim_review, review_url)
        for media, verdict in rated
        if verdict is not None
    ]
    if not reviews:
        raise ReviewError(
            f"{doc['case_id']} has no approved verdict: MediaReview is published only once "
            "a verdict is proposed and approved by another reviewer"
        )
    return reviews


def _review(
    doc: dict[str, Any],
    media: dict[str, Any],
    verdict: dict[str, Any],
    claim_review: bool,
    review_url: str | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "MediaReview",
        "name": doc.get("title") or doc["case_id"],
        "identifier": f"{doc['case_id']}/{media['media_id']}",
        "mediaAuthenticityCategory": verdict["rating"],
        "reviewBody": verdict["rationale"],
        "author": _author(verdict),
        "datePublished": verdict["approved_at"],
        "itemReviewed": {
            "@type": "MediaReviewItem",
            "mediaItemAppearance": [_appearance(doc, media)],
        },
    }
    original = http_url(verdict.get("original_url"))
    if original:
        result["originalMediaLink"] = original
    if verdict.get("original_context"):
        result["originalMediaContextDescription"] = verdict["original_context"]
    if claim_review:
        result["associatedClaimReview"] = _claim_review(doc, verdict)
    if review_url:
        result["url"] = review_url
        if claim_review:
            result["associatedClaimReview"]["url"] = review_url
    return result


def to_json(data: Any) -> str:
    """JSON text that stays inert inside a publisher's ``<script type="application/ld+json">``.

    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes: the same JSON values, but a
    hostile claim cannot close the script element it is pasted into.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    for char in "<>&":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text + "\n"


def approved_verdict(doc: dict[str, Any], media_id: str) -> dict[str, Any] | None:
    """The newest approved verdict of one item of the case document, if any."""
    for verdict in reversed(doc.get("verdicts") or []):
        if verdict.get("media_id") == media_id and verdict.get("state") == ratings.APPROVED:
            return verdict
    return None


def content_url(sha256: str) -> str:
    """RFC 6920 ``ni`` URI: names the exact bytes of the original wherever they are kept."""
    digest = base64.urlsafe_b64encode(bytes.fromhex(sha256)).decode("ascii").rstrip("=")
    return f"ni:///sha-256;{digest}"


def _author(verdict: dict[str, Any]) -> list[dict[str, str]]:
    names = dict.fromkeys(n for n in (verdict["proposed_by"], verdict["approved_by"]) if n)
    return [{"@type": "Person", "name": name} for name in names]


def _appearance(doc: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    item = {
        "@type": OBJECT_TYPES.get(str(media.get("kind")), "MediaObject"),
        "contentUrl": content_url(media["sha256"]),
        "sha256": media["sha256"],
        "encodingFormat": media.get("mime"),
        "name": media.get("original_name"),
    }
    source = http_url(doc.get("source_url"))
    if source:
        item["url"] = source
    if doc.get("posted_at"):
        item["uploadDate"] = doc["posted_at"]
    return {k: v for k, v in item.items() if v is not None}


def _claim_review(doc: dict[str, Any], verdict: dict[str, Any]) -> dict[str, Any]:
    claim = doc.get("claim") or doc.get("title")
    if not claim:
        raise ReviewError(
            f"{doc['case_id']} has no claim to review: set one with "
            f"`mediacheck case set {doc['case_id']} --claim TEXT`"
        )
    item: dict[str, Any] = {"@type": "Claim"}
    source = http_url(doc.get("source_url"))
    if source:
        item["appearance"] = {"@type": "CreativeWork", "url": source}
    if doc.get("posted_at"):
        item["datePublished"] = doc["posted_at"]
    return {
        "@type": "ClaimReview",
        "claimReviewed": claim,
        "itemReviewed": item,
        "reviewRating": {
            "@type": "Rating",
            "alternateName": CLAIM_LABELS[verdict["rating"]],
            "ratingExplanation": verdict["rationale"],
        },
        "author": _author(verdict),
        "datePublished": verdict["approved_at"],
    }
