"""Posting lists of keypoint words: which stored pictures share a query's keypoints.

Every stored picture contributes the words of its strongest keypoints (see
``Keypoints.words``); for each word the index keeps the rows of the pictures that have it,
sorted by word in one array (``offsets`` says where each word's rows start). A query's
words gather their rows and every row counts its votes: a copy shares dozens of keypoints
with its original, a stranger a few by chance, whatever the size of the archive.

Rows added since the lists were last sorted wait in a small unsorted tail, searched
directly, and are merged in once the tail is long: adding a picture never rebuilds
the lists.
"""

from __future__ import annotations

import numpy as np

from mediacheck.match.fingerprints import WORD_BITS, WORD_TABLES

WORDS = WORD_TABLES << WORD_BITS
# Unsorted postings kept before a merge: searched by comparison with every query word.
TAIL = 1 << 18
# A word with more than COMMON times the average list's postings, and more than
# COMMON_FLOOR pictures, says nothing (a flat patch, an edge of a caption band): it gives
# no votes.
COMMON = 16
COMMON_FLOOR = 16


class WordIndex:
    """Posting lists over the rows of a ``FingerprintIndex`` (see the module docstring)."""

    def __init__(
        self,
        offsets: np.ndarray,
        postings: np.ndarray,
        tail_rows: np.ndarray | None = None,
        tail_words: np.ndarray | None = None,
    ):
        self.offsets = offsets  # (WORDS + 1,) int64: word w's rows are postings[o[w]:o[w+1]]
        self.postings = postings  # uint32 index rows, grouped by word
        self.tail_rows = np.zeros(0, np.uint32) if tail_rows is None else tail_rows
        self.tail_words = np.zeros(0, np.uint32) if tail_words is None else tail_words

    @classmethod
    def empty(cls) -> WordIndex:
        return cls(np.zeros(WORDS + 1, np.int64), np.zeros(0, np.uint32))

    @classmethod
    def from_words(cls, words: list[np.ndarray], first_row: int = 0) -> WordIndex:
        """Lists of pictures whose words are ``words[i]`` (rows ``first_row + i``)."""
        return cls.empty().added(words, first_row)

    def added(self, words: list[np.ndarray], first_row: int) -> WordIndex:
        """These lists with more pictures' words (rows from ``first_row`` on) in the tail."""
        counts = [len(w) for w in words]
        rows = np.repeat(np.arange(first_row, first_row + len(words), dtype=np.uint32), counts)
        return self._grown(rows, np.concatenate([np.zeros(0, np.uint32), *words]))

    def joined(self, other: WordIndex, first_row: int) -> WordIndex:
        """These lists with those of ``other``, whose rows are numbered from ``first_row``."""
        rows, words = other.pairs()
        return self._grown(rows + np.uint32(first_row), words)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (row, word) posting, sorted part first."""
        words = np.repeat(np.arange(WORDS, dtype=np.uint32), np.diff(self.offsets))
        return (
            np.concatenate([self.postings, self.tail_rows]),
            np.concatenate([words, self.tail_words]),
        )

    def _grown(self, rows: np.ndarray, words: np.ndarray) -> WordIndex:
        if len(rows) == 0:
            return self
        grown = WordIndex(
            self.offsets,
            self.postings,
            np.concatenate([self.tail_rows, rows.astype(np.uint32)]),
            np.concatenate([self.tail_words, words.astype(np.uint32)]),
        )
        return grown.merged() if len(grown.tail_rows) > TAIL else grown

    def merged(self) -> WordIndex:
        """The same lists with the tail sorted in (each word's new rows after its old ones)."""
        if len(self.tail_rows) == 0:
            return self
        order = np.argsort(self.tail_words, kind="stable")
        words, rows = self.tail_words[order], self.tail_rows[order]
        # np.insert puts values before the given positions: the end of each word's list.
        postings = np.insert(self.postings, self.offsets[words + 1], rows)
        offsets = self.offsets + np.concatenate(
            [[0], np.cumsum(np.bincount(words, minlength=WORDS))]
        )
        return WordIndex(offsets, postings)

    def __len__(self) -> int:
        return len(self.postings) + len(self.tail_rows)

    def votes(self, query: np.ndarray, rows: int) -> np.ndarray:
        """For each of ``rows`` index rows, how many postings the query's words hit."""
        words = np.unique(query.astype(np.uint32))
        starts, stops = self.offsets[words], self.offsets[words + 1]
        sizes = stops - starts
        fair = len(self) / WORDS
        keep = sizes <= max(COMMON_FLOOR, COMMON * fair)
        starts, sizes = starts[keep], sizes[keep]
        # The positions of every kept word's postings, in one array (no loop over words).
        at = np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
        counts = np.bincount(self.postings[at], minlength=rows)
        if len(self.tail_rows):
            hit = np.isin(self.tail_words, words[keep], assume_unique=False)
            counts += np.bincount(self.tail_rows[hit], minlength=rows)
        return counts[:rows]
