"""Which stretch of a stored video a query video shows: spans from keyframe matches.

A video query is searched keyframe by keyframe; each of its keyframes may match a keyframe
of a stored video. An excerpt plays the stored video at the same speed from some point on,
so its matches share one offset (stored time minus query time), give or take the spacing
of keyframes, which differs between encodings. Keyframes that matched nothing (a cut, a
frame damaged by re-encoding) leave gaps without breaking the alignment.

For each stored video the offset that most matches agree on wins; its matches give the
query span (first to last matching query keyframe) and, shifted by their median offset,
the stored span. A compilation of excerpts of several videos gets one span per video.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from mediacheck.match.index import Match

# Two keyframes of one excerpt disagree on the offset by up to the keyframe spacing of
# either encoding (keyframes are at most 2 s apart within a shot, docs/video.md) plus the
# distance to the nearest similar stored keyframe.
ALIGNMENT = 2.5
# A span rests on at least this many matching keyframes; one alone says "a frame of it".
MIN_KEYFRAMES = 2


@dataclass(frozen=True)
class KeyframeMatch:
    """One keyframe of the query (at ``query_time_s``) found in a stored media item."""

    query_time_s: float
    match: Match


@dataclass(frozen=True)
class Span:
    """The stretch of a stored video that a stretch of the query shows, in seconds."""

    stored_start_s: float
    stored_end_s: float
    query_start_s: float
    query_end_s: float
    keyframes: int  # matching keyframes of the query that agree on it


def video_spans(found: Iterable[KeyframeMatch]) -> dict[str, Span]:
    """The best-aligned span of each stored video that query keyframes matched."""
    by_media: dict[str, list[KeyframeMatch]] = {}
    for kf in found:
        if kf.match.frame_time_s is not None:
            by_media.setdefault(kf.match.media_id, []).append(kf)
    spans = {}
    for media_id, matches in by_media.items():
        aligned = _aligned(matches)
        if len({kf.query_time_s for kf in aligned}) >= MIN_KEYFRAMES:
            spans[media_id] = _span(aligned)
    return spans


def _offset(kf: KeyframeMatch) -> float:
    assert kf.match.frame_time_s is not None
    return kf.match.frame_time_s - kf.query_time_s


def _aligned(matches: list[KeyframeMatch]) -> list[KeyframeMatch]:
    """The largest group whose offsets lie within ``ALIGNMENT`` of each other.

    Ties go to the group with the higher total score, then to the earlier stored time.
    """
    ordered = sorted(matches, key=_offset)
    best: list[KeyframeMatch] = []
    best_key = (0, 0.0)
    end = 0
    for start, first in enumerate(ordered):
        end = max(end, start)
        while end < len(ordered) and _offset(ordered[end]) - _offset(first) <= ALIGNMENT:
            end += 1
        group = ordered[start:end]
        key = (len({kf.query_time_s for kf in group}), sum(kf.match.score for kf in group))
        if key > best_key:
            best, best_key = group, key
    return best


def _span(aligned: list[KeyframeMatch]) -> Span:
    offset = statistics.median(_offset(kf) for kf in aligned)
    start = min(kf.query_time_s for kf in aligned)
    end = max(kf.query_time_s for kf in aligned)
    return Span(
        stored_start_s=round(max(0.0, start + offset), 3),
        stored_end_s=round(max(0.0, end + offset), 3),
        query_start_s=round(start, 3),
        query_end_s=round(end, 3),
        keyframes=len({kf.query_time_s for kf in aligned}),
    )
