"""The archive-wide index of fingerprints and the search for recycled media.

Search runs in three stages, from cheap and broad to costly and precise:

1. every stored picture is compared at once (numpy XOR and popcount over the whole archive):
   equal pixel digests, 64-bit hashes of the picture, of its content box and of the query's
   mirror image; and the query's keypoint words (of the picture, its content box, its
   mirror image, the picture enlarged and its pieces) vote for the stored pictures that
   share them (``words.WordIndex``); the query's coarse hash is compared with every window
   of the stored pictures whose votes bring them within a close window's reach of the bar;
2. equal pixels, or a 64-bit hash within ``FINE_SURE`` bits, are accepted as they are;
   the rows whose votes and closeness by hash would be a surprise by chance, in an archive
   of this size (``CHANCE``), make the short list, which goes to
3. geometric check: ORB descriptors matched (ratio test, each stored keypoint once) and
   a similarity transform (scale, rotation, shift) fitted with RANSAC; enough agreeing
   keypoints, beyond chance in their own extent, make a match. A checked picture within
   ``FINE_ACCEPT`` bits keeps its hash method's name.

``docs/matching.md`` gives the thresholds and what they were measured on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import cv2
import faiss
import numpy as np

from mediacheck.match import snapshot
from mediacheck.match.columns import Column
from mediacheck.match.fingerprints import (
    RECORD,
    Fingerprint,
    Keypoints,
    Probe,
    entry_postings,
)
from mediacheck.match.snapshot import Planned
from mediacheck.match.votes import view_votes
from mediacheck.match.words import WORDS, WordIndex
from mediacheck.match.working_memory import keep_working_memory

FINE_BITS = 64
COARSE_BITS = 32
# A 64-bit hash this close is the same picture without a geometric check, in an archive of
# any size (docs/matching.md measures how close unrelated photo-like pictures come).
FINE_SURE = 4
# A 64-bit hash this close is the same picture once its keypoints agree.
FINE_ACCEPT = 10
# The short list admits a row only when its evidence (keypoint votes, closeness by hash)
# would come by chance to fewer than CHANCE of this archive's rows, a bar that rises with
# the archive's size: a stranger is rarely verified, at any size (docs/matching.md).
CHANCE = 0.05
MOST_VERIFIED = 16  # media items verified at most, most surprising first
VOTED = 8  # of which the most surprising by their votes alone
# The most voted rows verified under the bar too, when their votes are this surprising
# (nats: chance gives it to 1 row in 2.7 per view): a fixed budget for weak copies that a
# check at ~1 ms of CPU affords (docs/matching.md, "Cheaper checks").
EVEN_SO_ROWS = 6
EVEN_SO = 1.0
VIEWS = 5  # views of the query that may vote (``_views``); each one that does counts for chance
MIN_VOTES = 3  # fewer shared words than this from every view: a row on the list for its hash
# How often an unrelated stored picture comes within ``bits`` of a query (a share of the
# stored pictures, over all of a query's comparisons), and how much rarer each bit closer
# makes it (in nats): log-linear tails of the unrelated pairs measured in docs/matching.md.
FINE_TAIL = (16, 2.8e-3, 1.13)
COARSE_TAIL = (6, 2.43e-2, 1.15)
# The geometric check of keypoints.
RATIO = 0.8  # Lowe's ratio test
RANSAC_ERROR = 0.015  # of the long side
MAX_SCALE = 10.0
# A fit is a match when its inliers would be a surprise among pairs that point anywhere
# (``significance``: -log10 of the expected number of fits as good, in the inliers' own
# extent, so that inliers bunched on a line of text or a small patch count for less) and
# when there are at least MIN_INLIERS of them (two faces agree on 11 spread inliers, a
# caption's letters with a stranger's on 12 among 20,000 stored pictures: no chance model
# of corners knows that eyes and mouths sit alike, nor letters). Chosen on measured
# unrelated fits (docs/matching.md, "Inliers judged against chance", "At 20,332 stored").
MIN_INLIERS = 15
SIGNIFICANCE = 4.0
# A fit this close to MIN_INLIERS in the views the votes chose (a shrunk album tile seen
# whole) is checked with the query's other views too: the pieces or the enlarged picture may
# hold its corners at their stored scale. Unrelated pairs reach 10 inliers at most
# (docs/matching.md), so strangers rarely cost the extra checks.
NEAR_INLIERS = 12
SCORE_INLIERS = 15  # a match's score is inliers / (inliers + this)

# A check compares about 1,000 x 500 codes in well under a millisecond: OpenMP threads
# woken for it spin for far longer (20x the CPU, measured in docs/matching.md).
faiss.omp_set_num_threads(1)

ONE_FRAME = -1.0  # frame_time_s of a photo in the index arrays (NaN would not compare)
BLOCK = 1 << 16  # rows compared at a time: 64k keeps the working buffers in the CPU cache


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
class GeometricCheck:
    inliers: int
    share: float  # inliers over the smaller keypoint set
    significance: float = 0.0  # -log10 of the expected number of chance fits as good

    @property
    def accepted(self) -> bool:
        return self.inliers >= MIN_INLIERS and self.significance >= SIGNIFICANCE


KeypointLoader = Callable[[Sequence[int]], dict[int, Keypoints]]


class _Column:
    """A row array of a ``FingerprintIndex``, read from the column that holds it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, index: FingerprintIndex, owner: type | None = None) -> np.ndarray:
        return index._columns[self.name].values


class FingerprintIndex:
    """Every stored picture's fingerprint record in numpy arrays, searched all at once.

    The arrays may be memory maps of a snapshot (``load``); ``append`` adds rows in
    place at amortised cost (``columns.Column``, ``WordIndex.add``), copying nothing of
    the rows already held but once, when the first row is added to a mapped snapshot's
    row columns (121 bytes a picture; the posting lists, the bulk, stay mapped).
    """

    # Row-wise arrays; ``fine`` and ``coarse`` are stored column by column ((2, n) and
    # (16, n)) so that each comparison reads one contiguous array.
    ARRAYS = ("keys", "media_ids", "frame_times", "pixels", "fine", "coarse", "informative")
    WORD_ARRAYS = ("offsets", "postings")

    def __init__(self, words: WordIndex | None = None, **arrays: np.ndarray):
        # keys: the caller's id of each row, handed back for keypoints; media_ids: bytes
        # (a million str would double the load time).
        self._columns = {name: Column(arrays[name]) for name in self.ARRAYS}
        self.words = WordIndex.empty() if words is None else words

    keys = _Column()
    media_ids = _Column()
    frame_times = _Column()
    pixels = _Column()
    fine = _Column()
    coarse = _Column()
    informative = _Column()

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, str, float | None, bytes]]) -> FingerprintIndex:
        """Build from ``(key, media_id, frame_time_s, entry bytes)`` rows, in one pass.

        An entry is a fixed-width record and the picture's keypoint words after it
        (``Fingerprint.entry``).
        """
        arrays, words, geometry = _parsed(rows)
        return cls(words=WordIndex.from_words(words, 0, geometry), **arrays)

    def append_rows(self, rows: Iterable[tuple[int, str, float | None, bytes]]) -> None:
        """Add rows (as ``from_rows`` takes them) after the index's own, in place."""
        arrays, words, geometry = _parsed(rows)
        self.words.add(words, len(self), geometry)
        for name, column in self._columns.items():
            column.extend(arrays[name])

    def save(self, handle: BinaryIO) -> None:
        """Write the index to the open file ``handle`` as a snapshot (``snapshot.write``):
        a range of words at a time, whatever the size of the index."""
        arrays = [
            Planned(name, column.values.dtype, column.values.shape, [column.values])
            for name, column in self._columns.items()
        ]
        snapshot.write(handle, arrays + self.words.snapshot_arrays())

    @classmethod
    def load(cls, path: Path) -> FingerprintIndex:
        """The index of the snapshot file at ``path``, memory-mapped (``ValueError`` if it
        is none)."""
        arrays = snapshot.read(path)
        missing = {*cls.ARRAYS, *cls.WORD_ARRAYS} - set(arrays)
        if missing:
            raise ValueError(f"{path}: no {sorted(missing)[0]} in the snapshot")
        words = WordIndex(arrays["offsets"], arrays["postings"])
        if len(words.offsets) != WORDS + 1:
            raise ValueError(f"{path}: a snapshot of another vocabulary")
        index = cls(words=words, **{name: arrays[name] for name in cls.ARRAYS})
        if len({len(index.keys), *(a.shape[-1] for a in index.arrays())}) != 1:
            raise ValueError(f"{path}: arrays of different lengths")
        return index

    def arrays(self) -> list[np.ndarray]:
        """Every row array (as views of what is held)."""
        return [column.values for column in self._columns.values()]

    def media_id(self, row: int) -> str:
        return self.media_ids[row].decode()

    @property
    def last_key(self) -> int:
        """The key of the last row (0 for an empty index)."""
        return int(self.keys[-1]) if len(self) else 0

    @classmethod
    def empty(cls) -> FingerprintIndex:
        return cls.from_rows([])

    @classmethod
    def from_prints(
        cls, prints: Iterable[tuple[int, str, float | None, Fingerprint]]
    ) -> FingerprintIndex:
        return cls.from_rows((k, m, t, fp.entry()) for k, m, t, fp in prints)

    def __len__(self) -> int:
        return len(self.pixels)

    def nearest(self, probe: Probe, windows: bool = True) -> Distances:
        """Stage 1: distances from one query picture to every stored picture; without
        ``windows``, every coarse distance is left at 255 (not compared: ``search`` compares
        the windows of a few rows only, ``window_distances``)."""
        n = len(self)
        fine = np.full(n, 255, dtype=np.uint8)
        pairs = sorted({(np.uint64(h), column) for h, column, _ in _fine_pairs(probe)})
        self._least(fine, [(self.fine[column], value) for value, column in pairs], np.uint64)
        coarse = self._windows_pass(probe) if windows else np.full(n, 255, dtype=np.uint8)
        return Distances(self.pixels == np.uint64(probe.print.pixels), fine, coarse)

    def _windows_pass(self, probe: Probe) -> np.ndarray:
        """Every row's coarse distance: the query's window hashes against all its windows."""
        coarse = np.full(len(self), 255, dtype=np.uint8)
        hashes = _window_hashes(probe)
        self._least(coarse, [(w, h) for w in self.coarse for h in hashes], np.uint32)
        return coarse

    @staticmethod
    def _least(best: np.ndarray, pairs: list[tuple[np.ndarray, np.generic]], dtype: type) -> None:
        """Lower ``best`` to the fewest bits in which each row of any (column, hash) pair
        differs from its hash. Blocks of rows small enough to stay in the CPU cache go
        through every pair before the next block is read; the work is XOR, popcount and
        minimum, nothing else."""
        xor: np.ndarray = np.empty(BLOCK, dtype=dtype)
        counts = np.empty(BLOCK, dtype=np.uint8)
        for start in range(0, len(best), BLOCK):
            stop = min(len(best), start + BLOCK)
            size = stop - start
            for column, value in pairs:
                np.bitwise_xor(column[start:stop], value, out=xor[:size])
                np.bitwise_count(xor[:size], out=counts[:size])
                np.minimum(best[start:stop], counts[:size], out=best[start:stop])

    def window_distances(self, probe: Probe, rows: np.ndarray) -> np.ndarray:
        """The coarse distance (``Distances.coarse``) of each of ``rows``."""
        if len(rows) > len(self) // 8:  # many rows: the blocked pass over all is cheaper
            return self._windows_pass(probe)[rows]
        windows = self.coarse[:, rows]
        best = np.full(len(rows), 255, dtype=np.uint8)
        for window_hash in _window_hashes(probe):
            np.minimum(best, np.bitwise_count(windows ^ window_hash).min(axis=0), out=best)
        return best

    def fine_method(self, probe: Probe, row: int) -> str:
        """Which comparison gave a row its fine distance (the first, when several tie)."""
        distances = [
            (int(self.fine[column, row]) ^ h).bit_count() for h, column, _ in _fine_pairs(probe)
        ]
        return _fine_pairs(probe)[distances.index(min(distances))][2]


def _parsed(
    rows: Iterable[tuple[int, str, float | None, bytes]],
) -> tuple[dict[str, np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The row arrays, each row's keypoint words and their geometry bytes of
    ``from_rows``'s rows."""
    keys, media_ids, times, blobs, words, geometry = [], [], [], [], [], []
    width = RECORD.itemsize
    for key, media_id, time_s, blob in rows:
        keys.append(key)
        media_ids.append(media_id.encode())
        times.append(ONE_FRAME if time_s is None else time_s)
        blobs.append(blob[:width])
        found, turns = entry_postings(np.frombuffer(blob, dtype="<u4", offset=width))
        words.append(found)
        geometry.append(turns)
    records = np.frombuffer(b"".join(blobs), dtype=RECORD)
    arrays = {
        "keys": np.array(keys, dtype=np.int64),
        "media_ids": np.array(media_ids, dtype=np.bytes_),
        "frame_times": np.array(times, dtype=np.float64),
        "pixels": np.ascontiguousarray(records["pixels"]),
        "fine": np.ascontiguousarray(records["fine"].T),
        "coarse": np.ascontiguousarray(records["coarse"].T),
        "informative": records["informative"].astype(bool),
    }
    return arrays, words, geometry


def _window_hashes(probe: Probe) -> list[np.uint32]:
    """The query's coarse hashes compared with every stored window: its own, its mirror's."""
    return [np.uint32(h) for h in {probe.print.coarse[0], probe.mirror_coarse}]


def _fine_pairs(probe: Probe) -> list[tuple[int, int, str]]:
    """(query hash, stored column, method) of every 64-bit comparison."""
    whole, content = probe.print.fine
    mirror_whole, mirror_content = probe.mirror_fine
    left, right = probe.turned_fine
    return [
        (whole, 0, "phash"),
        (content, 1, "trimmed-phash"),
        (content, 0, "trimmed-phash"),
        (whole, 1, "phash"),
        (mirror_whole, 0, "phash-mirror"),
        (mirror_content, 1, "trimmed-phash-mirror"),
        (probe.picture_fine, 0, "trimmed-phash"),
        (probe.picture_fine, 1, "trimmed-phash"),
        (left, 0, "phash-turned"),
        (right, 0, "phash-turned"),
    ]


@dataclass
class Distances:
    """From one query picture to each stored picture, in index row order."""

    exact: np.ndarray  # bool: same pixel digest
    fine: np.ndarray  # best 64-bit hash distance
    coarse: np.ndarray  # best coarse window distance


def search(index: FingerprintIndex, probe: Probe, load_keypoints: KeypointLoader) -> list[Match]:
    """Stored pictures that ``probe`` is a copy of, best first, at most one per media item."""
    keep_working_memory()
    every = index.nearest(probe, windows=False)
    exact = np.flatnonzero(every.exact)
    matches = [_match(index, int(row), "pixels", 0.0, 1.0) for row in exact]
    if probe.print.informative:
        usable = index.informative & ~every.exact
        sure = np.flatnonzero(usable & (every.fine <= FINE_SURE))
        matches += _by_hash(index, probe, sure, every.fine[sure])
        usable[sure] = False
        votes = keypoint_votes(index, probe)
        rows = _short_list(index, probe, every, votes, usable)
        matches += _by_keypoints(index, probe, rows, every.fine, votes, load_keypoints)
    return best_per_media(matches)


def best_per_media(matches: Iterable[Match]) -> list[Match]:
    best: dict[str, Match] = {}
    for match in matches:
        held = best.get(match.media_id)
        if held is None or _rank(match) < _rank(held):
            best[match.media_id] = match
    return sorted(best.values(), key=_rank)


def _rank(match: Match) -> tuple[int, float, float]:
    return (0 if match.exact else 1, -match.score, match.distance)


def _by_hash(
    index: FingerprintIndex, probe: Probe, rows: np.ndarray, fine: np.ndarray
) -> list[Match]:
    return [
        _match(index, row, index.fine_method(probe, row), float(bits), hash_score(int(bits)))
        for row, bits in zip(rows, fine, strict=True)
    ]


def hash_score(distance: int) -> float:
    """1 for equal 64-bit hashes, 0 at half the bits (what unrelated pictures average)."""
    return round(max(0.0, 1 - distance / (FINE_BITS / 2)), 3)


def _short_list(
    index: FingerprintIndex, probe: Probe, every: Distances, votes: Votes, usable: np.ndarray
) -> np.ndarray:
    """Rows worth a geometric check, one per media item, most surprising first.

    A row's surprise adds how unlikely its votes are by chance (``Votes.surprise``) and how
    unlikely its closeness by hash is: a copy with few votes but a close window, or a
    distant hash but many votes, gets in; a stranger's chance evidence does not.
    """
    # Each view that voted was one more chance for a stranger's votes: a photo without a
    # content box or pieces is judged over the views it has, not over all it could have.
    bar = math.log(max(len(index), 1) * max(votes.views, 1) / CHANCE)
    surprise = votes.surprise + _FINE_SURPRISE[every.fine]
    # A close window adds at most _COARSE_SURPRISE[0]: only the rows whose votes come that
    # near the bar could use one (a few in a million; all 16 windows of every row were a
    # third of a search's CPU at a million rows). The others' surprise may be short of what
    # their windows would give, never on the wrong side of the bar.
    near = np.flatnonzero(usable & (votes.surprise >= bar - _WINDOW_REACH))
    coarse = index.window_distances(probe, near)
    surprise[near] = votes.surprise[near] + np.maximum(
        _FINE_SURPRISE[every.fine[near]], _COARSE_SURPRISE[coarse]
    )
    rows = np.flatnonzero(usable & (surprise >= bar))
    chosen: dict[str, int] = {}
    # The most voted first, so that strangers close by hash cannot crowd out a copy.
    _choose(index, rows[np.argsort(-votes.surprise[rows], kind="stable")], VOTED, chosen)
    # A weak copy (a collage tile, a piece pasted elsewhere) may stay under the bar and
    # still top the votes: the best few by votes are checked even so, a bounded cost.
    likely = np.flatnonzero(usable & (votes.surprise >= EVEN_SO))
    best = _most(votes.surprise, likely, EVEN_SO_ROWS)
    _choose(index, best, len(chosen) + EVEN_SO_ROWS, chosen)
    _choose(index, rows[np.argsort(-surprise[rows], kind="stable")], MOST_VERIFIED, chosen)
    return np.array(list(chosen.values()), dtype=np.int64)


def _most(values: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` of ``rows`` of the highest ``values``, as a stable sort of them all by
    descending value would give them: only those as high as the count-th are sorted (a
    quarter of a million rows have a chance vote in an archive of a million; a stable
    argsort of them all, or ``np.partition`` of so many equal values, costs milliseconds).
    The count-th highest of a sample of the values is no higher than the count-th highest of
    all, so only the values as high as the sample's are sorted to find it."""
    if 0 < count < len(rows):
        kept = values[rows]
        sample = np.sort(kept[:: max(1, len(kept) // _MOST_SAMPLE)])
        high = kept[kept >= sample[-count]] if len(sample) >= count else kept
        rows = rows[kept >= np.sort(high)[len(high) - count]]
    return rows[np.argsort(-values[rows], kind="stable")][:count]


_MOST_SAMPLE = 4096


def _choose(index: FingerprintIndex, rows: np.ndarray, limit: int, chosen: dict[str, int]) -> None:
    """Add ``rows`` (best first) to ``chosen``, one per media item, until it holds ``limit``."""
    for row in rows:
        if len(chosen) >= limit:
            return
        chosen.setdefault(index.media_id(row), int(row))


def _tail_surprise(tail: tuple[int, float, float]) -> np.ndarray:
    """-ln(share of strangers this close) for each distance 0..255 (255: not compared)."""
    bits, share, per_bit = tail
    distance = np.arange(256, dtype=np.float64)
    surprise = -math.log(share) + per_bit * (bits - distance)
    return np.maximum(surprise, 0.0).astype(np.float32)


_FINE_SURPRISE = _tail_surprise(FINE_TAIL)
_COARSE_SURPRISE = _tail_surprise(COARSE_TAIL)
# The most a window's closeness can add to a row's surprise, with a margin for float32's
# rounding of the sums it is compared in.
_WINDOW_REACH = float(_COARSE_SURPRISE[0]) + 1e-3


@dataclass
class Votes:
    """Per index row: how unlikely its votes from the query's views are by chance, and, for
    the few rows the short list asks about, how many votes and from which view."""

    surprise: np.ndarray  # -ln of the chance of so many votes, the most of any view
    views: int = 0  # the views of the query that voted
    # (view number in ``_views(probe)``, its votes per row) of every view that voted, in
    # view order. A row's count and view are looked up here: only a few rows need them,
    # and a maximum over a million rows costs milliseconds.
    by_view: list[tuple[int, np.ndarray]] = field(default_factory=list)

    def count_of(self, row: int) -> int:
        """The most words ``row`` shares with one view."""
        return max((int(count[row]) for _, count in self.by_view), default=0)

    def view(self, row: int) -> int:
        """The first view that gave ``row`` its count (0 for a row no view voted for)."""
        most = self.count_of(row)
        if most == 0:
            return 0
        return next(number for number, count in self.by_view if count[row] == most)

    def own(self, row: int) -> int:
        """The votes ``row`` got from the query picture's own keypoints (the first view)."""
        return next((int(count[row]) for number, count in self.by_view if number == 0), 0)

    @property
    def count(self) -> np.ndarray:
        """``count_of`` of every row (for measurements and tests)."""
        counts = [count for _, count in self.by_view]
        return np.max(counts, axis=0) if counts else np.zeros(len(self.surprise), np.int64)


def keypoint_votes(index: FingerprintIndex, probe: Probe) -> Votes:
    """Each stored picture's votes from the views of the query (see ``_views``)."""
    n = len(index)
    votes = Votes(np.zeros(n, np.float32))
    if len(index.words) == 0:
        return votes
    for number, view in enumerate(_views(probe)):
        if view is not None and len(view):
            lists = index.words.lists(view.words(), view.word_geometry())
            votes.by_view.append((number, view_votes(lists, n, votes.surprise)))
            votes.views += 1
    return votes


def _views(probe: Probe) -> tuple[Keypoints | None, ...]:
    """The picture, its content box alone, its mirror image, the picture enlarged, its
    pieces each at the working side."""
    return (
        probe.keypoints,
        probe.content_keypoints,
        probe.mirror_keypoints,
        probe.enlarged_keypoints,
        probe.piece_keypoints,
    )


def _by_keypoints(
    index: FingerprintIndex,
    probe: Probe,
    rows: np.ndarray,
    fine: np.ndarray,
    votes: Votes,
    load_keypoints: KeypointLoader,
) -> list[Match]:
    """Short-listed rows whose keypoints agree; one close by hash is named by its hash.

    A row is checked with the view of the query that gave it the most votes, then with the
    picture's own when that gave it at least half as many (a mirror image or a content box
    of a plain picture can outvote the picture itself); a row with fewer than MIN_VOTES
    from every view (on the list for its hash) is checked with every view; a fit that falls
    short by a few inliers (NEAR_INLIERS or more) is checked with the other views too.
    """
    if len(rows) == 0:
        return []
    stored = load_keypoints([int(index.keys[r]) for r in rows])
    matches = []
    for row in rows:
        theirs = stored.get(int(index.keys[row]))
        if theirs is None:
            continue
        chosen = _views_for(probe, votes, row)
        found = _check_views(chosen, theirs)
        if not found.accepted and found.inliers >= NEAR_INLIERS:  # a near miss: the others look
            found = _check_views(_other_views(probe, chosen), theirs)
        if not found.accepted:
            continue
        if fine[row] <= FINE_ACCEPT:
            matches += _by_hash(index, probe, np.array([row]), fine[[row]])
            continue
        score = round(found.inliers / (found.inliers + SCORE_INLIERS), 3)
        matches.append(_match(index, row, "keypoints", round(1 - found.share, 3), score))
    return matches


def _views_for(probe: Probe, votes: Votes, row: int) -> tuple[Keypoints | None, ...]:
    views = _views(probe)
    if votes.count_of(row) < MIN_VOTES:
        return views
    best = votes.view(row)
    if best != 0 and 2 * votes.own(row) >= votes.count_of(row):
        return (views[best], views[0])
    return (views[best],)


def _other_views(probe: Probe, chosen: Sequence[Keypoints | None]) -> list[Keypoints | None]:
    """The query's views not among ``chosen`` (by identity: a view is one cached object)."""
    return [v for v in _views(probe) if all(v is not c for c in chosen)]


def _check_views(views: Iterable[Keypoints | None], stored: Keypoints) -> GeometricCheck:
    """The first of the query's ``views`` that fits ``stored``, or the closest to fitting."""
    best = GeometricCheck(0, 0.0)
    for view in views:
        if view is None:
            continue
        found = geometric_check(view, stored)
        if found.accepted:
            return found
        best = max(best, found, key=lambda v: (v.inliers, v.significance))
    return best


def geometric_check(query: Keypoints, stored: Keypoints) -> GeometricCheck:
    """Keypoints of ``query`` that a single similarity transform maps onto ``stored``."""
    fit = _fit(query, stored)
    if fit is None:
        return GeometricCheck(0, 0.0)
    count = len(fit.inliers)
    return GeometricCheck(count, count / min(len(query), len(stored)), significance(fit, stored))


def significance(fit: _Fit, stored: Keypoints) -> float:
    """-log10 of how many fits as good as ``fit`` chance would give (a contrario).

    Chance here is a pair whose stored keypoint could be anywhere in the inliers' extent
    (two standard deviations either way along their principal axes, at least two
    tolerances): it lands within the tolerance of where the transform sends its query
    keypoint with probability p = pi * tolerance^2 / extent. Of the n pairs, two fix a
    similarity (n (n - 1) / 2 choices) and at least k - 2 of the other n - 2 must land:
    the expected number of such fits is n (n - 1) / 2 * P(Binomial(n - 2, p) >= k - 2).
    Inliers bunched on one line of text or one small patch have a small extent, so they
    are a far smaller surprise than as many spread over the picture.
    """
    n, k = len(fit.pairs), len(fit.inliers)
    if k < 3:
        return 0.0
    tolerance = RANSAC_ERROR * stored.side
    points = stored.points[fit.inliers[:, 1]].astype(np.float64)
    spread = np.linalg.svd(points - points.mean(axis=0), compute_uv=False) / math.sqrt(k)
    sides = np.maximum(4 * spread, 4 * tolerance)
    p = min(1.0, math.pi * tolerance**2 / float(sides[0] * sides[1]))
    log_fits = math.log(n * (n - 1) / 2) + _log_binomial_tail(n - 2, k - 2, p)
    return -log_fits / math.log(10)


def _log_binomial_tail(n: int, k: int, p: float) -> float:
    """ln P(X >= k), X Binomial(n, p)."""
    if k <= 0 or p >= 1.0:
        return 0.0
    log_factorial = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])
    j = np.arange(k, n + 1)
    log_terms = (
        log_factorial[n]
        - log_factorial[j]
        - log_factorial[n - j]
        + j * math.log(p)
        + (n - j) * math.log1p(-p)
    )
    return float(np.logaddexp.reduce(log_terms))


def correspondences(query: Keypoints, stored: Keypoints) -> np.ndarray:
    """The keypoint pairs ``geometric_check`` counts: (k, 2) indices of query and stored
    keypoints that one similarity transform maps onto each other (empty when none does)."""
    fit = _fit(query, stored)
    return np.zeros((0, 2), dtype=np.int64) if fit is None else fit.inliers


@dataclass(frozen=True)
class _Fit:
    """RANSAC's similarity of the query's keypoints onto a stored picture's."""

    pairs: np.ndarray  # (n, 2) ratio-test pairs: query and stored keypoint indices
    inliers: np.ndarray  # (k, 2) the pairs the transform maps within RANSAC_ERROR


def _fit(query: Keypoints, stored: Keypoints) -> _Fit | None:
    """The similarity transform most pairs agree on, or None (too few pairs, no plausible
    transform)."""
    if len(query) < MIN_INLIERS or len(stored) < MIN_INLIERS:
        return None
    pairs = _mutual_pairs(query.descriptors, stored.descriptors)
    if len(pairs) < MIN_INLIERS:
        return None
    transform, inliers = cv2.estimateAffinePartial2D(
        query.points[pairs[:, 0]],
        stored.points[pairs[:, 1]],
        method=cv2.RANSAC,
        ransacReprojThreshold=RANSAC_ERROR * stored.side,
        maxIters=2000,
        confidence=0.995,
    )
    if transform is None or not _plausible(transform):
        return None
    return _Fit(pairs, pairs[inliers.ravel().astype(bool)])


def _mutual_pairs(query: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """Ratio-test matches with each stored keypoint used once (its closest query keypoint,
    the first of equally close ones), ordered by the first query keypoint that chose it:
    RANSAC samples by position, so the order keeps its result reproducible."""
    distance, nearest = _two_nearest(query, stored)
    close = distance[:, 0].astype(np.float64) < RATIO * distance[:, 1]
    chose = np.flatnonzero(close & (nearest[:, 1] >= 0))
    train = nearest[chose, 0].astype(np.int64)
    if len(train) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    by_train = np.lexsort((chose, distance[chose, 0], train))
    first = np.r_[True, train[by_train][1:] != train[by_train][:-1]]
    best = chose[by_train][first]
    trains, first_chosen = np.unique(train, return_index=True)
    order = np.argsort(first_chosen, kind="stable")
    return np.stack([best[order], trains[order]], axis=1).astype(np.int64).reshape(-1, 2)


def _two_nearest(query: np.ndarray, stored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hamming distances to, and indices of, each query descriptor's two closest stored
    ones: a ratio test needs only these (a tie for the closest fails it whichever comes
    first). faiss compares 256-bit codes several times faster than OpenCV's matcher."""
    flat = faiss.IndexBinaryFlat(stored.shape[1] * 8)
    flat.add(np.ascontiguousarray(stored, dtype=np.uint8))
    distance, nearest = flat.search(np.ascontiguousarray(query, dtype=np.uint8), 2)
    return distance, nearest


def _plausible(transform: np.ndarray) -> bool:
    """A re-share scales by a sane factor: a collapse onto a few points is not a match."""
    scale = math.hypot(transform[0, 0], transform[1, 0])
    return 1 / MAX_SCALE < scale < MAX_SCALE


def _match(index: FingerprintIndex, row: int, method: str, distance: float, score: float) -> Match:
    time_s = float(index.frame_times[row])
    return Match(
        media_id=index.media_id(row),
        frame_time_s=None if time_s == ONE_FRAME else time_s,
        method=method,
        distance=distance,
        score=score,
    )
