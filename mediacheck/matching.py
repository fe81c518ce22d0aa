"""The archive-wide index of fingerprints and the search for recycled media.

Search runs in three stages, each cheaper than the next is precise:

1. every stored picture is compared at once (numpy XOR and popcount over the whole archive):
   equal pixel digests, 64-bit hashes of the picture, of its content box and of the query's
   mirror image, and the query's coarse hash against every window of every stored picture;
2. a close 64-bit hash is accepted as it is; anything else within the looser short-list
   limits (at most ``SHORT_LIST`` pictures, closest first) goes to
3. keypoint verification: ORB descriptors matched both ways and a similarity transform
   (scale, rotation, shift) fitted with RANSAC; enough agreeing keypoints make a match.

``docs/matching.md`` gives the thresholds and what they were measured on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from mediacheck.fingerprint import RECORD, Fingerprint, Keypoints, Probe

FINE_BITS = 64
COARSE_BITS = 32
# A 64-bit hash this close is the same picture: unrelated photos sit at 20 bits and more.
FINE_ACCEPT = 10
# Short-list limits: loose on purpose, keypoints decide.
FINE_SHORT = 18
COARSE_SHORT = 6
SHORT_LIST = 48
# Keypoint verification.
RATIO = 0.8  # Lowe's ratio test
MIN_INLIERS = 15
RANSAC_ERROR = 0.015  # of the long side
MAX_SCALE = 10.0

ONE_FRAME = -1.0  # frame_time_s of a photo in the index arrays (NaN would not compare)

# The fine-hash comparisons: (query hash, stored column, method).
_FINE_PAIRS = (
    ("fine0", 0, "phash"),
    ("fine1", 1, "trimmed-phash"),
    ("fine1", 0, "trimmed-phash"),
    ("fine0", 1, "phash"),
    ("mirror0", 0, "phash-mirror"),
    ("mirror1", 1, "trimmed-phash-mirror"),
)


@dataclass(frozen=True)
class Match:
    """One stored picture that a query picture was found to be a copy of."""

    media_id: str
    frame_time_s: float | None  # the stored video keyframe that matched
    method: str  # pixels, phash, trimmed-phash, phash-mirror, ..., keypoints
    distance: float  # in the method's unit: bits of a hash, unmatched share for keypoints
    score: float  # 0..1, how strongly the evidence says "same picture"

    @property
    def exact(self) -> bool:
        return self.method in ("sha256", "pixels")


@dataclass(frozen=True)
class Verification:
    inliers: int
    share: float  # inliers over the smaller keypoint set


KeypointLoader = Callable[[Sequence[int]], dict[int, Keypoints]]


class FingerprintIndex:
    """Every stored picture's fingerprint record in numpy arrays, searched all at once."""

    def __init__(
        self,
        keys: np.ndarray,
        media_ids: Sequence[str],
        frame_times: np.ndarray,
        records: np.ndarray,
    ):
        self.keys = keys  # the caller's id of each row, handed back to load keypoints
        self.media_ids = list(media_ids)
        self.frame_times = frame_times
        self.pixels = np.ascontiguousarray(records["pixels"])
        self.fine = np.ascontiguousarray(records["fine"].T)
        self.coarse = np.ascontiguousarray(records["coarse"].T)
        self.informative = records["informative"].astype(bool)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, str, float | None, bytes]]) -> FingerprintIndex:
        """Build from ``(key, media_id, frame_time_s, record bytes)`` rows, in one pass."""
        keys, media_ids, times, blobs = [], [], [], []
        for key, media_id, time_s, blob in rows:
            keys.append(key)
            media_ids.append(media_id)
            times.append(ONE_FRAME if time_s is None else time_s)
            blobs.append(blob)
        records = np.frombuffer(b"".join(blobs), dtype=RECORD)
        return cls(np.array(keys, dtype=np.int64), media_ids, np.array(times), records)

    @classmethod
    def from_prints(
        cls, prints: Iterable[tuple[int, str, float | None, Fingerprint]]
    ) -> FingerprintIndex:
        return cls.from_rows((k, m, t, fp.record()) for k, m, t, fp in prints)

    def __len__(self) -> int:
        return len(self.pixels)

    def nearest(self, probe: Probe) -> Candidates:
        """Stage 1: distances from one query picture to every stored picture."""
        query = probe.print
        hashes = {
            "fine0": query.fine[0],
            "fine1": query.fine[1],
            "mirror0": probe.mirror_fine[0],
            "mirror1": probe.mirror_fine[1],
        }
        n = len(self)
        fine = np.full(n, 255, dtype=np.uint8)
        method = np.zeros(n, dtype=np.uint8)
        scratch, counts = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint8)
        for i, (name, column, _) in enumerate(_FINE_PAIRS):
            np.bitwise_xor(self.fine[column], np.uint64(hashes[name]), out=scratch)
            np.bitwise_count(scratch, out=counts)
            better = counts < fine
            fine[better] = counts[better]
            method[better] = i
        coarse = np.full(n, 255, dtype=np.uint8)
        scratch32 = np.empty(n, dtype=np.uint32)
        for window in self.coarse:
            np.bitwise_xor(window, np.uint32(query.coarse[0]), out=scratch32)
            np.bitwise_count(scratch32, out=counts)
            np.minimum(coarse, counts, out=coarse)
        return Candidates(self.pixels == np.uint64(query.pixels), fine, method, coarse)


@dataclass
class Candidates:
    exact: np.ndarray  # bool: same pixel digest
    fine: np.ndarray  # best 64-bit hash distance
    method: np.ndarray  # index into _FINE_PAIRS of that distance
    coarse: np.ndarray  # best coarse window distance


def search(index: FingerprintIndex, probe: Probe, load_keypoints: KeypointLoader) -> list[Match]:
    """Stored pictures that ``probe`` is a copy of, best first, at most one per media item."""
    near = index.nearest(probe)
    matches = [_exact(index, row) for row in np.flatnonzero(near.exact)]
    if probe.print.informative:
        matches += _by_hash(index, near)
        short = _short_list(index, near)
        matches += _by_keypoints(index, probe, short, load_keypoints)
    return best_per_media(matches)


def search_pictures(
    index: FingerprintIndex, probes: Iterable[Probe], load_keypoints: KeypointLoader
) -> list[Match]:
    """Matches of a media item made of several pictures (a video's keyframes)."""
    return best_per_media(m for p in probes for m in search(index, p, load_keypoints))


def best_per_media(matches: Iterable[Match]) -> list[Match]:
    best: dict[str, Match] = {}
    for match in matches:
        held = best.get(match.media_id)
        if held is None or _rank(match) < _rank(held):
            best[match.media_id] = match
    return sorted(best.values(), key=_rank)


def _rank(match: Match) -> tuple[int, float, float]:
    return (0 if match.exact else 1, -match.score, match.distance)


def _exact(index: FingerprintIndex, row: int) -> Match:
    return _match(index, row, "pixels", 0.0, 1.0)


def _by_hash(index: FingerprintIndex, near: Candidates) -> list[Match]:
    rows = np.flatnonzero((near.fine <= FINE_ACCEPT) & index.informative & ~near.exact)
    return [
        _match(
            index,
            row,
            _FINE_PAIRS[near.method[row]][2],
            float(near.fine[row]),
            hash_score(int(near.fine[row])),
        )
        for row in rows
    ]


def hash_score(distance: int) -> float:
    """1 for equal 64-bit hashes, 0 at half the bits (what unrelated pictures average)."""
    return round(max(0.0, 1 - distance / (FINE_BITS / 2)), 3)


def _short_list(index: FingerprintIndex, near: Candidates) -> np.ndarray:
    """Rows worth verifying: loosely close, not already matched, closest first, one per media."""
    loose = (near.fine <= FINE_SHORT) | (near.coarse <= COARSE_SHORT)
    rows = np.flatnonzero(loose & (near.fine > FINE_ACCEPT) & index.informative & ~near.exact)
    closeness = np.minimum(near.fine[rows] / FINE_BITS, near.coarse[rows] / COARSE_BITS)
    chosen: dict[str, int] = {}
    for row in rows[np.argsort(closeness, kind="stable")]:
        chosen.setdefault(index.media_ids[row], int(row))
        if len(chosen) == SHORT_LIST:
            break
    return np.array(list(chosen.values()), dtype=np.int64)


def _by_keypoints(
    index: FingerprintIndex, probe: Probe, rows: np.ndarray, load_keypoints: KeypointLoader
) -> list[Match]:
    if len(rows) == 0:
        return []
    stored = load_keypoints([int(index.keys[r]) for r in rows])
    matches = []
    for row in rows:
        theirs = stored.get(int(index.keys[row]))
        if theirs is None:
            continue
        found = _verify_any(probe, theirs)
        if found.inliers >= MIN_INLIERS:
            score = round(found.inliers / (found.inliers + MIN_INLIERS), 3)
            matches.append(_match(index, row, "keypoints", round(1 - found.share, 3), score))
    return matches


def _verify_any(probe: Probe, stored: Keypoints) -> Verification:
    """The picture, then its content box alone, then its mirror image: the first that fits."""
    views = (probe.print.keypoints, probe.content_keypoints, probe.mirror_keypoints)
    best = Verification(0, 0.0)
    for view in views:
        if view is None:
            continue
        found = verify(view, stored)
        if found.inliers >= MIN_INLIERS:
            return found
        best = max(best, found, key=lambda v: v.inliers)
    return best


def verify(query: Keypoints, stored: Keypoints) -> Verification:
    """Keypoints of ``query`` that a single similarity transform maps onto ``stored``."""
    if len(query) < MIN_INLIERS or len(stored) < MIN_INLIERS:
        return Verification(0, 0.0)
    pairs = _mutual_pairs(query.descriptors, stored.descriptors)
    if len(pairs) < MIN_INLIERS:
        return Verification(0, 0.0)
    src = query.points[pairs[:, 0]]
    dst = stored.points[pairs[:, 1]]
    transform, inliers = cv2.estimateAffinePartial2D(
        src,
        dst,
        method=cv2.RANSAC,
        ransacReprojThreshold=RANSAC_ERROR * stored.side,
        maxIters=2000,
        confidence=0.995,
    )
    if transform is None or not _plausible(transform):
        return Verification(0, 0.0)
    count = int(inliers.sum())
    return Verification(count, count / min(len(query), len(stored)))


def _mutual_pairs(query: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """Ratio-test matches with each stored keypoint used once (its closest query keypoint)."""
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    best: dict[int, tuple[float, int]] = {}
    for pair in matcher.knnMatch(query, stored, k=2):
        if len(pair) < 2 or pair[0].distance >= RATIO * pair[1].distance:
            continue
        first = pair[0]
        held = best.get(first.trainIdx)
        if held is None or first.distance < held[0]:
            best[first.trainIdx] = (first.distance, first.queryIdx)
    return np.array([(q, t) for t, (_, q) in best.items()], dtype=np.int64).reshape(-1, 2)


def _plausible(transform: np.ndarray) -> bool:
    """A re-share scales by a sane factor: a collapse onto a few points is not a match."""
    scale = math.hypot(transform[0, 0], transform[1, 0])
    return 1 / MAX_SCALE < scale < MAX_SCALE


def _match(index: FingerprintIndex, row: int, method: str, distance: float, score: float) -> Match:
    time_s = float(index.frame_times[row])
    return Match(
        media_id=index.media_ids[row],
        frame_time_s=None if time_s == ONE_FRAME else time_s,
        method=method,
        distance=distance,
        score=score,
    )
