"""The pictures a case page shows, found by id and re-encoded: never a path from a request.

A picture is named by the case, one of its media items and what it is of that item
(its thumbnail, keyframe N, its contact sheet, the picture of finding N, the archive
picture of its seen-before entry N, or that entry's two pictures side by side with
the keypoint correspondences drawn). The stored path comes from the database row and
must be a derived picture's key; what is served is a JPEG thumbnail Pillow re-encoded,
never the stored bytes.
"""

from __future__ import annotations

from typing import Any, cast

from mediacheck.errors import MediaNotFound
from mediacheck.publish import document as casefile
from mediacheck.publish.reports import thumbnail_jpeg
from mediacheck.store.blobs import is_derived_key
from mediacheck.store.database import Store
from mediacheck.store.models import CaseMedia, Media

THUMBNAIL_SIZE = 480
KEYFRAME_SIZE = 240
SHEET_SIZE = 1200
# Lines drawn between matched keypoints: enough to see the fit, few enough to see the picture.
MAX_LINES = 80
JPEG_QUALITY = 85


def member(store: Store, case_id: str, media_id: str) -> tuple[CaseMedia, Media]:
    """The case's item ``media_id`` (its whole id): an item of another case is not found."""
    for link, media in store.case_media(case_id):
        if media.id == media_id:
            return link, media
    raise MediaNotFound(media_id, f" in case {case_id}")


def _missing(media_id: str, what: str) -> MediaNotFound:
    return MediaNotFound(media_id, f": it has no {what}")


def _stored(store: Store, key: Any, size: int, media_id: str, what: str) -> bytes:
    if not is_derived_key(key):
        raise _missing(media_id, what)
    try:
        with store.blobs.local_blob(key) as path:
            data = thumbnail_jpeg(path, size)
    except OSError:
        data = None
    if data is None:
        raise _missing(media_id, what)
    return data


def _original(store: Store, media: Media, size: int, what: str) -> bytes:
    try:
        with store.blobs.local_original(media.sha256) as path:
            data = thumbnail_jpeg(path, size)
    except OSError:
        data = None
    if data is None:
        raise _missing(media.id, what)
    return data


def thumbnail(store: Store, case_id: str, media_id: str) -> bytes:
    """The picture itself, or a video's first keyframe."""
    _, media = member(store, case_id, media_id)
    if media.kind == "image":
        return _original(store, media, THUMBNAIL_SIZE, "thumbnail")
    frames = store.keyframes(media.id)
    if not frames:
        raise _missing(media_id, "thumbnail")
    return _stored(store, frames[0].path, THUMBNAIL_SIZE, media_id, "thumbnail")


def keyframe(store: Store, case_id: str, media_id: str, number: int) -> bytes:
    _, media = member(store, case_id, media_id)
    frames = store.keyframes(media.id)
    if not 0 <= number < len(frames):
        raise _missing(media_id, f"keyframe {number}")
    return _stored(store, frames[number].path, KEYFRAME_SIZE, media_id, f"keyframe {number}")


def contact_sheet(store: Store, case_id: str, media_id: str) -> bytes:
    _, media = member(store, case_id, media_id)
    sheet = (media.video or {}).get("contact_sheet")
    return _stored(store, sheet, SHEET_SIZE, media_id, "contact sheet")


def finding_picture(store: Store, case_id: str, media_id: str, number: int) -> bytes:
    member(store, case_id, media_id)
    found = store.findings(case_id, media_id)
    if not 0 <= number < len(found):
        raise _missing(media_id, f"finding {number}")
    return _stored(store, found[number].image, THUMBNAIL_SIZE, media_id, f"finding {number}")


def _sighting(store: Store, case_id: str, media_id: str, number: int) -> dict[str, Any]:
    link, _ = member(store, case_id, media_id)
    seen = casefile.seen_before_documents(store, link)
    if not 0 <= number < len(seen):
        raise _missing(media_id, f"seen-before entry {number}")
    return seen[number]


def archive_picture(store: Store, case_id: str, media_id: str, number: int) -> bytes:
    """The archive picture seen-before entry ``number`` matched: keyframe or original."""
    return _encoded(_archive_image(store, _sighting(store, case_id, media_id, number), media_id))


def correspondence_picture(store: Store, case_id: str, media_id: str, number: int) -> bytes:
    """The item's picture beside the matched archive picture, matched keypoints joined."""
    seen = _sighting(store, case_id, media_id, number)
    _, media = member(store, case_id, media_id)
    return _drawn(_item_image(store, media), _archive_image(store, seen, media_id))


def _item_image(store: Store, media: Media):
    if media.kind == "image":
        return _open_original(store, media.sha256, media.id)
    frames = store.keyframes(media.id)
    if not frames:
        raise _missing(media.id, "picture")
    return _open_derived(store, frames[0].path, media.id)


def _archive_image(store: Store, seen: dict[str, Any], media_id: str):
    matched = seen.get("media_id")
    frames = store.keyframes(matched) if isinstance(matched, str) else []
    if frames:
        at = seen.get("frame_time_s")
        target = float(at) if isinstance(at, int | float) else 0.0
        nearest = min(frames, key=lambda frame: abs(frame.time_s - target))
        return _open_derived(store, nearest.path, media_id)
    sha256 = seen.get("sha256")
    if not isinstance(sha256, str) or store.media_by_sha256(sha256) is None:
        raise _missing(media_id, "archive picture")
    return _open_original(store, sha256, media_id)


def _open_original(store: Store, sha256: str, media_id: str):
    from mediacheck.media.pictures import open_picture

    try:
        with store.blobs.local_original(sha256) as path:
            return open_picture(path).image.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - a stored original is hostile: no picture, a 404
        raise _missing(media_id, "decodable picture") from exc


def _open_derived(store: Store, key: Any, media_id: str):
    from mediacheck.media.pictures import open_picture

    if not is_derived_key(key):
        raise _missing(media_id, "picture")
    try:
        with store.blobs.local_blob(key) as path:
            return open_picture(path).image.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - as above
        raise _missing(media_id, "decodable picture") from exc


def _encoded(image) -> bytes:
    import io

    small = image.copy()
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _drawn(new, archived) -> bytes:
    """Both pictures at the matcher's working size, side by side, with cv2.drawMatches."""
    import cv2
    import numpy as np
    from PIL import ImageOps

    from mediacheck.match.fingerprints import WORK_SIDE, keypoints
    from mediacheck.match.index import correspondences

    left, right = _working(new, WORK_SIDE), _working(archived, WORK_SIDE)
    theirs = keypoints(right)
    ours = keypoints(left)
    pairs = correspondences(ours, theirs)
    if not len(pairs):  # a mirrored re-share matches its mirror image
        mirrored = ImageOps.mirror(left)
        mirrored_points = keypoints(mirrored)
        mirrored_pairs = correspondences(mirrored_points, theirs)
        if len(mirrored_pairs):
            left, ours, pairs = mirrored, mirrored_points, mirrored_pairs
    drawn = cv2.drawMatches(
        cv2.cvtColor(np.asarray(left), cv2.COLOR_RGB2BGR),
        [cv2.KeyPoint(float(x), float(y), 8) for x, y in ours.points],
        cv2.cvtColor(np.asarray(right), cv2.COLOR_RGB2BGR),
        [cv2.KeyPoint(float(x), float(y), 8) for x, y in theirs.points],
        [cv2.DMatch(int(q), int(t), 0) for q, t in pairs[:MAX_LINES]],
        cast(Any, None),  # drawMatches makes the output picture
        matchColor=(0, 200, 255),
        flags=cv2.DrawMatchesFlags_NOT_DRAW_SINGLE_POINTS,
    )
    ok, encoded = cv2.imencode(".jpg", drawn, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise MediaNotFound("", ": the correspondences could not be drawn")
    return encoded.tobytes()


def _working(image, side: int):
    """The picture at the size its keypoints are measured in (long side ``side``)."""
    scale = side / max(image.size)
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
