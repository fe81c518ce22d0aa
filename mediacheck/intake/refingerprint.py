"""Fingerprints made again from the stored originals, so that an archive stored by an
earlier version is searched as well as one stored today.

Rows written before the keypoint words are found by their hashes alone, and rows written
before each word carried its keypoint's geometry vote without the agreement of a turn and a
scale (docs/matching.md, "Limits"). ``refingerprint`` makes a media item's rows again from
its original, as intake makes them now, and swaps them for the old ones in one transaction:
the index then loads the new rows, and a snapshot that holds the old ones no longer matches
the database and is built again (a process already searching keeps the old rows beside the
new until it next loads the archive: their keypoints are gone, so they can only ever name the
same item again). The original is only read; an item whose original is missing, unreadable
or no longer its SHA-256 keeps the rows it has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mediacheck.digests import file_sha256
from mediacheck.errors import IntegrityError, MediacheckError
from mediacheck.intake.match_rows import fingerprint_rows
from mediacheck.match.fingerprints import GEOMETRY_MARK, RECORD
from mediacheck.match.search import RECORD_KIND, file_pictures, picture_probes
from mediacheck.store.database import Store

PICTURE_KINDS = ("image", "video")
# A row written by this version has GEOMETRY_MARK right after its fixed-width record.
_CURRENT_HEAD = np.array([GEOMETRY_MARK], "<u4").tobytes()


@dataclass(frozen=True)
class Refingerprinted:
    """One media item's fingerprints made again (``pictures``: a photo's one, a video's
    keyframes), or why they were not."""

    media_id: str
    pictures: int = 0
    error: str | None = None


def outdated_media(store: Store) -> list[str]:
    """The media items with a fingerprint row that an earlier version wrote, oldest first."""
    heads = store.fingerprint_heads(RECORD_KIND, RECORD.itemsize)
    return list(dict.fromkeys(media_id for media_id, head in heads if head != _CURRENT_HEAD))


def picture_media(store: Store) -> list[str]:
    """Every photo and video of the archive, oldest first."""
    return [m.id for m in store.all_media() if m.kind in PICTURE_KINDS]


def refingerprint(store: Store, media_id: str) -> Refingerprinted:
    """Make the fingerprint rows of ``media_id`` (an id, a SHA-256 or a prefix) again."""
    try:
        media = store.get_media(media_id)
        if media.kind not in PICTURE_KINDS:
            raise MediacheckError(f"media {media.id}: a {media.kind} file has no fingerprints")
        location = store.blobs.original_location(media.sha256)
        try:
            with store.blobs.local_original(media.sha256) as path:
                if file_sha256(path) != media.sha256:
                    raise IntegrityError(
                        f"media {media.id}: its stored original at {location} no longer "
                        "matches its SHA-256; its fingerprints are kept"
                    )
                probes = picture_probes(file_pictures(path))
        except OSError as exc:
            raise MediacheckError(
                f"media {media.id}: its stored original cannot be read at {location}: "
                f"{exc.strerror or exc}"
            ) from exc
    except MediacheckError as exc:
        return Refingerprinted(media_id, error=str(exc))
    rows = fingerprint_rows(media.id, [(time_s, probe.print) for time_s, probe in probes])
    store.replace_fingerprints(media.id, rows)
    return Refingerprinted(media.id, pictures=len(probes))
