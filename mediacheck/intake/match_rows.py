"""What intake stores of the archive search: a new media item's fingerprints and its matches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mediacheck.history import chain as history
from mediacheck.match.fingerprints import Fingerprint, Probe
from mediacheck.match.search import KEYPOINTS_KIND, RECORD_KIND, ArchiveMatch, ArchiveSearch
from mediacheck.store.models import FingerprintRow, SeenBefore


def intake_look_up(
    archive: ArchiveSearch,
    media_id: str,
    probes: Sequence[tuple[float | None, Probe]],
    case_id: str | None = None,
) -> tuple[list[FingerprintRow], list[ArchiveMatch]]:
    """The fingerprint rows of a new media item and what the archive holds of it.

    Matches in ``case_id`` (the case the item joins) are left out.
    """
    searched = archive.search_timed(probes)
    found = archive.describe(searched.matches, case_id, searched.spans)
    prints = [(time_s, probe.print) for time_s, probe in probes]
    return fingerprint_rows(media_id, prints), found


def fingerprint_rows(
    media_id: str, prints: Iterable[tuple[float | None, Fingerprint]]
) -> list[FingerprintRow]:
    """The rows that put a media item's pictures in the archive index."""
    rows = []
    for time_s, fp in prints:
        for kind, bits in ((RECORD_KIND, fp.entry()), (KEYPOINTS_KIND, fp.keypoints.to_bytes())):
            rows.append(
                FingerprintRow(media_id=media_id, frame_time_s=time_s, kind=kind, bits=bits)
            )
    return rows


def seen_before_rows(matches: Iterable[ArchiveMatch]) -> list[SeenBefore]:
    """What intake records of its matches; media and case ids are set when stored."""
    at = history.now()
    return [
        SeenBefore(
            media_id="",
            case_id="",
            matched_media_id=m.media_id,
            matched_case_id=m.case_id,
            method=m.method,
            distance=m.distance,
            score=m.score,
            frame_time_s=m.frame_time_s,
            stored_start_s=m.span.stored_start_s if m.span else None,
            stored_end_s=m.span.stored_end_s if m.span else None,
            query_start_s=m.span.query_start_s if m.span else None,
            query_end_s=m.span.query_end_s if m.span else None,
            at=at,
        )
        for m in matches
    ]
