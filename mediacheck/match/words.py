"""Posting lists of keypoint words: which stored pictures share a query's keypoints.

Every stored picture contributes the words of its strongest keypoints (see
``Keypoints.words``); for each word the index keeps the rows of the pictures that have it.
A query's words gather their rows and every row counts its votes: a copy shares dozens of
keypoints with its original, a stranger a few by chance, whatever the size of the archive.

A posting is its row in the low ROW_BITS bits and its keypoint's geometry byte
(``fingerprints.GEOMETRY_KNOWN``...) in the high ones: a query's shared words can then be
counted per difference of orientation and scale (``index.keypoint_votes``). Postings written
before geometry are bare rows, whose high byte 0 says "unknown".

The lists live in three parts, searched together:

- the **base**: every posting sorted by word in one array, ``offsets`` saying where each
  word's rows start; it is what a snapshot holds, memory-mapped and never changed;
- the **delta**: the postings added since, as (word, row) pairs sorted by word (found with
  ``np.searchsorted``, no table as long as the vocabulary);
- the **tail**: the newest postings, unsorted, found by comparison with the query's words,
  and sorted into the delta once longer than ``TAIL``.

Adding a picture copies nothing of the base; the delta is bounded by the snapshot that
``ArchiveSearch`` writes once it is long (``snapshot_arrays``: base and delta merged one
range of words at a time into a new file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from mediacheck.match.columns import Column
from mediacheck.match.fingerprints import WORD_BITS, WORD_TABLES
from mediacheck.match.snapshot import Planned

WORDS = WORD_TABLES << WORD_BITS
# Unsorted postings kept before they are sorted into the delta (about 256 pictures).
TAIL = 1 << 16
# Postings merged at a time when a snapshot is written: its working memory.
MERGE_CHUNK = 1 << 22
# Postings sorted at a time when a base is built (``_base``): its working memory.
BUILD_CHUNK = 1 << 22
# Pads the words of a picture with fewer than the others in ``from_word_array``.
NO_WORD = 0xFFFFFFFF
# A word with more than COMMON times the average list's postings, and more than
# COMMON_FLOOR pictures, says nothing (a flat patch, an edge of a caption band): it gives
# no votes.
COMMON = 16
COMMON_FLOOR = 16

ROW_BITS = 24
ROW_MASK = (1 << ROW_BITS) - 1
# Rows past ROW_MASK (16.7 million pictures and keyframes) would be read as another row's
# geometry: their words are not indexed (their hashes still are; docs/matching.md, "Limits").
MAX_ROWS = ROW_MASK + 1

_NONE = np.zeros(0, np.uint32)
_NO_GEOMETRY = np.zeros(0, np.uint8)


@dataclass(frozen=True)
class Hits:
    """The postings a query's words gathered and, for each, its query keypoint's geometry."""

    postings: np.ndarray  # uint32: row and stored geometry (ROW_BITS)
    query: np.ndarray  # uint8 geometry bytes

    @cached_property
    def rows(self) -> np.ndarray:
        return (self.postings & np.uint32(ROW_MASK)).astype(np.intp)

    @property
    def stored(self) -> np.ndarray:
        return (self.postings >> np.uint32(ROW_BITS)).astype(np.uint8)

    @classmethod
    def gathered(cls, lists: list[Lists]) -> Hits:
        """The postings of ``lists``, in their order, each with its list's query geometry."""
        postings = [part.postings[_gather(part.starts, part.sizes)] for part in lists]
        mine = [np.repeat(part.mine, part.sizes) for part in lists]
        return cls(np.concatenate(postings), np.concatenate(mine))


@dataclass(frozen=True)
class Lists:
    """Posting lists of one part of a ``WordIndex``: ``postings[starts[i]:starts[i] +
    sizes[i]]``, found by a query keypoint of geometry byte ``mine[i]``."""

    postings: np.ndarray  # uint32
    starts: np.ndarray  # int64
    sizes: np.ndarray  # int64
    mine: np.ndarray  # uint8

    @property
    def total(self) -> int:
        return int(self.sizes.sum())


class WordIndex:
    """Posting lists over the rows of a ``FingerprintIndex`` (see the module docstring)."""

    def __init__(self, offsets: np.ndarray, postings: np.ndarray):
        # The base. Word w's rows are postings[o[w]:o[w+1]]; an empty base may have a
        # single offset (a table of WORDS + 1 for nothing would be the largest array).
        self.offsets = offsets
        self.postings = postings
        self.delta_words = _NONE  # sorted; rows ascending within a word
        self.delta_rows = _NONE
        self._tail_words = Column(_NONE)
        self._tail_rows = Column(_NONE)

    @classmethod
    def empty(cls) -> WordIndex:
        return cls(np.zeros(1, np.int64), _NONE)

    @classmethod
    def from_words(
        cls,
        words: list[np.ndarray],
        first_row: int = 0,
        geometry: list[np.ndarray] | None = None,
    ) -> WordIndex:
        """A base of the pictures whose words are ``words[i]`` (rows ``first_row + i``),
        each word's keypoint's geometry byte ``geometry[i]`` (unknown when None)."""
        rows, flat = _pairs(words, first_row, geometry)
        return cls._sorted(lambda: _blocks(rows, flat))

    @classmethod
    def from_word_array(
        cls, words: np.ndarray, first_row: int = 0, geometry: np.ndarray | None = None
    ) -> WordIndex:
        """``from_words`` of the rows of one (pictures, k) uint32 array, NO_WORD padding a
        picture of fewer words, and their (pictures, k) uint8 geometry bytes: no array per
        picture, none as long as the postings but them."""
        step = max(1, BUILD_CHUNK // max(1, words.shape[1]))
        return cls._sorted(lambda: _padded(words, first_row, step, geometry))

    @classmethod
    def _sorted(cls, blocks: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]) -> WordIndex:
        offsets, postings = _base(blocks)
        return cls(offsets, postings) if len(postings) else cls.empty()

    def add(
        self, words: list[np.ndarray], first_row: int, geometry: list[np.ndarray] | None = None
    ) -> None:
        """More pictures' words (rows from ``first_row`` on), in place, into the tail."""
        rows, flat = _pairs(words, first_row, geometry)
        self._tail_rows.extend(rows)
        self._tail_words.extend(flat)
        if len(self._tail_rows) > TAIL:
            self.delta_words, self.delta_rows = self._delta()
            self._tail_words, self._tail_rows = Column(_NONE), Column(_NONE)

    @property
    def tail_words(self) -> np.ndarray:
        return self._tail_words.values

    @property
    def tail_rows(self) -> np.ndarray:
        return self._tail_rows.values

    def _delta(self) -> tuple[np.ndarray, np.ndarray]:
        """Delta and tail as one sorted pair array (each word's tail rows after its own),
        by word, row and geometry as a base is (``_base``)."""
        order = np.lexsort((_row_first(self.tail_rows), self.tail_words))
        words, rows = self.tail_words[order], self.tail_rows[order]
        at = np.searchsorted(self.delta_words, words, side="right")
        return np.insert(self.delta_words, at, words), np.insert(self.delta_rows, at, rows)

    def __len__(self) -> int:
        return len(self.postings) + len(self.delta_rows) + len(self.tail_rows)

    def votes(self, query: np.ndarray, rows: int) -> np.ndarray:
        """For each of ``rows`` index rows, how many postings the query's words hit."""
        return np.bincount(self.hits(query).rows, minlength=rows)[:rows]

    def hits(self, query: np.ndarray, geometry: np.ndarray | None = None) -> Hits:
        """The postings of the query's words (a word's list too common gives none), each
        with the geometry byte of the query keypoint whose word found it (``geometry``,
        aligned with ``query``; the first keypoint's of a word several share)."""
        return Hits.gathered(self.lists(query, geometry))

    def lists(self, query: np.ndarray, geometry: np.ndarray | None = None) -> list[Lists]:
        """``hits`` as the lists that hold them, in its order: the base's, the delta's, the
        tail's (a list of one posting each)."""
        flat = query.astype(np.uint32).ravel()
        words, first = np.unique(flat, return_index=True)
        mine = np.zeros(len(words), np.uint8) if geometry is None else geometry.ravel()[first]
        base_starts, base_sizes = self._base_lists(words)
        delta_starts = np.searchsorted(self.delta_words, words, side="left")
        delta_sizes = np.searchsorted(self.delta_words, words, side="right") - delta_starts
        in_tail = np.flatnonzero(np.isin(self.tail_words, words))
        tail_of = np.searchsorted(words, self.tail_words[in_tail])
        sizes = base_sizes + delta_sizes + np.bincount(tail_of, minlength=len(words))
        keep = sizes <= max(COMMON_FLOOR, COMMON * len(self) / WORDS)
        tail_kept = keep[tail_of]
        return [
            Lists(self.postings, base_starts[keep], base_sizes[keep], mine[keep]),
            Lists(self.delta_rows, delta_starts[keep], delta_sizes[keep], mine[keep]),
            Lists(
                self.tail_rows,
                in_tail[tail_kept],
                np.ones(int(tail_kept.sum()), np.int64),
                mine[tail_of[tail_kept]],
            ),
        ]

    def _base_lists(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each word's list starts in the base, and its length."""
        if len(self.postings) == 0:
            return np.zeros(len(words), np.int64), np.zeros(len(words), np.int64)
        starts = self.offsets[words]
        return starts, self.offsets[words + 1] - starts

    def snapshot_arrays(self) -> list[Planned]:
        """``offsets`` and ``postings`` of base and delta merged, written a range at a time."""
        words, rows = self._delta()
        base = self._base_offsets()
        offsets = base + np.concatenate([[0], np.cumsum(np.bincount(words, minlength=WORDS))])
        return [
            Planned("offsets", np.dtype(np.int64), (WORDS + 1,), [offsets]),
            Planned("postings", np.dtype(np.uint32), (len(self),), self._merged(base, words, rows)),
        ]

    def _base_offsets(self) -> np.ndarray:
        if len(self.offsets) == WORDS + 1:
            return np.asarray(self.offsets, dtype=np.int64)
        return np.zeros(WORDS + 1, np.int64)

    def _merged(self, base: np.ndarray, words: np.ndarray, rows: np.ndarray) -> Iterator:
        """Postings in word order, each word's base rows then its delta rows, by ranges of
        words holding about MERGE_CHUNK base postings."""
        step = max(1, min(WORDS, WORDS * MERGE_CHUNK // max(1, len(self.postings))))
        for first in range(0, WORDS, step):
            last = min(WORDS, first + step)
            old = self.postings[base[first] : base[last]]
            lo, hi = np.searchsorted(words, [first, last])
            if lo == hi:
                yield old
                continue
            # A delta posting goes after its word's base rows and the delta rows before it.
            at = base[words[lo:hi].astype(np.int64) + 1] - base[first] + np.arange(hi - lo)
            out = np.empty(len(old) + hi - lo, np.uint32)
            out[at] = rows[lo:hi]
            rest = np.ones(len(out), bool)
            rest[at] = False
            out[rest] = old
            yield out


def _pairs(
    words: list[np.ndarray], first_row: int, geometry: list[np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(posting, word) of every posting of pictures ``first_row``, ``first_row + 1``, ...:
    a posting is the row and, in its high bits, the word's keypoint's geometry byte. Rows
    past ROW_MASK give none."""
    words = words[: max(0, MAX_ROWS - first_row)]
    counts = [len(w) for w in words]
    rows = np.repeat(np.arange(first_row, first_row + len(words), dtype=np.uint32), counts)
    if geometry is not None:
        high = np.concatenate([_NO_GEOMETRY, *geometry[: len(words)]]).astype(np.uint32)
        rows |= high << np.uint32(ROW_BITS)
    return rows, np.concatenate([_NONE, *words]).astype(np.uint32)


def _base(
    blocks: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]],
) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and postings (by word, then row) of the (rows, words) pairs of ``blocks()``,
    whose rows ascend from block to block. A counting sort, a block at a time: an argsort of
    every posting at once would hold three times the postings' size beside them."""
    counts = np.zeros(WORDS, np.int64)
    for _, words in blocks():
        np.add.at(counts, words, 1)
    offsets = np.concatenate([np.zeros(1, np.int64), np.cumsum(counts)])
    postings = np.empty(offsets[-1], np.uint32)
    free = offsets[:-1].copy()  # where each word's next posting goes
    for rows, words in blocks():
        pairs = (words.astype(np.uint64) << np.uint64(32)) | _row_first(rows)
        pairs.sort()  # by word, row and geometry, as the delta keeps them
        word = (pairs >> np.uint64(32)).astype(np.intp)
        here = np.bincount(word, minlength=WORDS)
        # The i-th posting of the block is the (i - first of its word in the block)-th of its
        # word's in the block, after those of the blocks before.
        at = free[word] + np.arange(len(word)) - (np.cumsum(here) - here)[word]
        postings[at] = _row_first(pairs.astype(np.uint32), back=True)  # the low half
        free += here
    return offsets, postings


def _row_first(postings: np.ndarray, back: bool = False) -> np.ndarray:
    """Postings with the row in the high bits and the geometry in the low ones (a sort
    key), or, ``back``, such keys as postings again."""
    geometry_bits = np.uint32(32 - ROW_BITS)
    if back:
        return (postings >> geometry_bits) | (postings << np.uint32(ROW_BITS))
    return (postings << geometry_bits) | (postings >> np.uint32(ROW_BITS))


def _blocks(rows: np.ndarray, words: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(rows), BUILD_CHUNK):
        yield rows[start : start + BUILD_CHUNK], words[start : start + BUILD_CHUNK]


def _padded(
    words: np.ndarray, first_row: int, step: int, geometry: np.ndarray | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(postings, words) of ``step`` pictures of a padded word array at a time."""
    for start in range(0, min(len(words), MAX_ROWS - first_row), step):
        block = words[start : start + step][: MAX_ROWS - first_row - start]
        rows = np.arange(first_row + start, first_row + start + len(block), dtype=np.uint32)
        postings = np.repeat(rows, block.shape[1])
        if geometry is not None:
            high = geometry[start : start + len(block)].ravel().astype(np.uint32)
            postings |= high << np.uint32(ROW_BITS)
        flat = block.ravel()
        held = flat != NO_WORD
        yield postings[held], flat[held]


def _gather(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The positions of every list ``starts[i]:starts[i] + sizes[i]``, in one array: a
    running sum of steps of 1, each list's first step a jump from the previous list's end
    (one array as long as the positions, not three)."""
    held = sizes > 0
    starts, sizes = starts[held].astype(np.int64), sizes[held].astype(np.int64)
    steps = np.ones(int(sizes.sum()), np.int64)
    if len(steps) == 0:
        return steps
    firsts = np.cumsum(sizes) - sizes
    steps[firsts[1:]] = starts[1:] - (starts[:-1] + sizes[:-1]) + 1
    steps[0] = starts[0]
    return np.cumsum(steps, out=steps)
