"""A query view's keypoint votes per stored picture, and how surprising they are by chance.

A view's words gather their posting lists (``words.WordIndex.lists``); every stored picture
counts the postings it got. How rarely chance gives a picture so many is a Poisson tail,
from the mean of the other pictures' counts (``chance_surprise``). The rows with
AGREE_VOTES or more are also judged by how well their votes agree on a turn and a scale
(weak geometric consistency): a re-share turns and scales every keypoint alike, so its
shared words fall in one window of (orientation difference, level difference), where a
stranger's chance words spread over all of them.

In an archive of fewer than COMPILED_ROWS pictures the counting is numpy's; in a larger
one it is done in compiled loops (``tallies``, numba), value for value the same: there numpy's
passes over half a million postings and a million counts cost about 19 ms a view, the loops
about 10 ms (docs/matching.md, "The votes counted in compiled loops"). Loading the
compiled loops costs a process about 0.7 s once (numba's import and its cache; 2.6 s to
compile them on a new install), more than a one-picture ``match`` in a small archive costs
in all.
"""

from __future__ import annotations

import math

import numpy as np

from mediacheck.match.fingerprints import (
    AGREEMENT_WINDOWS,
    GEOMETRY_KNOWN,
    LEVEL_BINS,
    LEVEL_SHIFT,
    LEVELS,
    ORIENTATIONS,
)
from mediacheck.match.words import ROW_BITS, Hits, Lists

# Rows with this many votes from a view are also judged by how well their votes agree on a
# turn and a scale, at most AGREE_ROWS of them (the most voted); chance's share of each
# window is read off a sample of AGREE_SAMPLE of the query's hits.
AGREE_VOTES = 3
AGREE_ROWS = 4096
AGREE_SAMPLE = 1 << 14
WINDOW_CHOICES = math.log(AGREEMENT_WINDOWS)  # ln of the windows chance could have filled
# At a million rows a query's five views cost 103 ms with numpy and 63 with the loops; at
# this size a whole search costs 30 ms with numpy (p90 41 ms) and 28 ms with them (p90 35
# ms), a saving a process would rarely search often enough to earn its 0.7 s back with.
COMPILED_ROWS = 200_000


def view_votes(lists: list[Lists], rows: int, surprise: np.ndarray) -> np.ndarray:
    """Each of ``rows`` stored pictures' votes from one view's posting ``lists``, with
    ``surprise`` (the running maximum over the views) raised to how rare they are."""
    if rows >= COMPILED_ROWS:
        return _compiled_votes(lists, rows, surprise)
    return _numpy_votes(lists, rows, surprise)


def _chance_mean(hits: int, top: int, rows: int) -> float:
    """Chance's votes per row: every hit is one row's vote, and chance is judged from the
    other rows than the best (its own votes would be most of the mean in a small archive;
    with one stored picture, all of it)."""
    return float(hits - top) / max(rows - 1, 1)


def _numpy_votes(lists: list[Lists], rows: int, surprise: np.ndarray) -> np.ndarray:
    hits = Hits.gathered(lists)
    count = np.bincount(hits.rows, minlength=rows)[:rows]
    top = int(count.max(initial=0))
    mean = _chance_mean(len(hits.rows), top, rows)
    np.maximum(surprise, chance_surprise(mean, top)[count], out=surprise)
    _numpy_agreement(hits, count, mean, surprise)
    return count


def _numpy_agreement(hits: Hits, count: np.ndarray, mean: float, surprise: np.ndarray) -> None:
    """Raise ``surprise`` of the well-voted rows whose votes agree on a turn and a scale.

    A row's votes in its best window are judged against chance in that window (the mean
    times the window's share of all the query's hits), and the number of windows chance
    could have chosen. Only the windows a row's votes fell in are counted (a few per row,
    not all AGREEMENT_WINDOWS).
    """
    rows = np.flatnonzero(count >= AGREE_VOTES)
    if len(rows) == 0:
        return
    if len(rows) > AGREE_ROWS:
        rows = np.sort(rows[np.argsort(-count[rows], kind="stable")[:AGREE_ROWS]])
    # Each hit's place among ``rows`` (-1: not one of them), looked up in one gather.
    place = np.full(len(count), -1, np.int16)  # AGREE_ROWS is under 2**15
    place[rows] = np.arange(len(rows), dtype=np.int16)
    local = place[hits.rows]
    held = np.flatnonzero(local >= 0)
    bins, known = _bins(hits.postings[held], hits.query[held])
    local = local[held][known].astype(np.int32)
    keys, votes = np.unique(
        (local[:, None] * AGREEMENT_WINDOWS + _CORNERS[bins]).ravel(), return_counts=True
    )
    if len(keys) == 0:
        return
    # Chance's share of each window, from a sample of all the query's hits.
    step = max(1, len(hits.postings) // AGREE_SAMPLE)
    sample = hits.postings[::step]
    every, _ = _bins(sample, hits.query[::step])
    shares = np.bincount(_CORNERS[every].ravel(), minlength=AGREEMENT_WINDOWS) / len(sample)
    table = _poisson_surprise(mean * shares, int(votes.max()))
    each = table[keys % AGREEMENT_WINDOWS, votes]
    row_of = keys // AGREEMENT_WINDOWS
    starts = np.flatnonzero(np.r_[True, row_of[1:] != row_of[:-1]])
    best = np.maximum.reduceat(each, starts) - WINDOW_CHOICES
    at = rows[row_of[starts]]
    surprise[at] = np.maximum(surprise[at], best)


def _bins(postings: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (orientation difference, level difference) bin of the hits whose stored and
    query geometry are both known, and which hits those are."""
    stored = postings >> np.uint32(ROW_BITS)
    known = (stored & query & GEOMETRY_KNOWN) != 0
    stored, mine = stored[known].astype(np.int64), query[known].astype(np.int64)
    turn = (mine - stored) % ORIENTATIONS
    level = ((mine >> LEVEL_SHIFT) & (LEVELS - 1)) - ((stored >> LEVEL_SHIFT) & (LEVELS - 1))
    return turn * LEVEL_BINS + level + LEVELS - 1, known


def _compiled_votes(lists: list[Lists], rows: int, surprise: np.ndarray) -> np.ndarray:
    from mediacheck.match import tallies  # numba, loaded by a large archive's first search

    count = np.zeros(rows, np.uint16)
    top = max(tallies.count_votes(p.postings, p.starts, p.sizes, count) for p in lists)
    hits = sum(p.total for p in lists)
    mean = _chance_mean(hits, top, rows)
    voted = tallies.raise_surprise(count, chance_surprise(mean, top), surprise, AGREE_VOTES)
    judged = tallies.most_voted(voted, count, AGREE_ROWS)
    if len(judged):
        _compiled_agreement(lists, hits, judged, mean, surprise)
    return count


def _compiled_agreement(
    lists: list[Lists], hits: int, rows: np.ndarray, mean: float, surprise: np.ndarray
) -> None:
    """``_numpy_agreement`` of the judged ``rows`` (ascending), in the compiled loops."""
    from mediacheck.match import tallies

    judged = tallies.bit_map(rows, len(surprise))
    windows = np.zeros((len(rows), AGREEMENT_WINDOWS), np.uint16)
    keys = np.empty(len(rows) * AGREEMENT_WINDOWS, np.int64)  # room for all, used as written
    held = 0
    chance = np.zeros(AGREEMENT_WINDOWS, np.int64)
    state = np.zeros(2, np.int64)  # postings to the next sampled one, postings sampled
    step = max(1, hits // AGREE_SAMPLE)
    for part in lists:
        lists_of = (part.postings, part.starts, part.sizes, part.mine)
        held = tallies.window_votes(*lists_of, rows, judged, _CORNERS, windows, keys, held)
        tallies.chance_windows(*lists_of, _CORNERS, step, chance, state)
    if held == 0:
        return
    table = _poisson_surprise(mean * (chance / state[1]), int(windows.max()))
    tallies.best_windows(windows, keys[:held], table, _CHOICES, rows, surprise)


_CHOICES = np.float32(WINDOW_CHOICES)  # as numpy subtracts it from float32 surprises


def chance_surprise(mean: float, most: int) -> np.ndarray:
    """-ln P(X >= k) for k = 0..most, X Poisson with ``mean``: how rarely a stored picture
    gets k votes by chance, when it gets ``mean`` on average."""
    return _poisson_surprise(np.array([mean]), most)[0]


def _poisson_surprise(means: np.ndarray, most: int) -> np.ndarray:
    """``chance_surprise`` of each of ``means``: (len(means), most + 1)."""
    k = np.arange(most + 1 + _TAIL_TERMS, dtype=np.float64)
    log_factorial = np.concatenate([[0.0], np.cumsum(np.log(k[1:]))])
    mean = np.maximum(means.astype(np.float64), _LEAST_MEAN)[:, None]
    log_pmf = k * np.log(mean) - mean - log_factorial
    tail = np.logaddexp.accumulate(log_pmf[:, ::-1], axis=1)[:, ::-1]
    return np.maximum(-tail[:, : most + 1], 0.0).astype(np.float32)


_TAIL_TERMS = 64  # a Poisson tail is summed this far past its first term
_LEAST_MEAN = 1e-3  # an archive without words: a vote would be a surprise, none comes


def _corners() -> np.ndarray:
    """For each bin, the four windows of two by two bins that hold it: a turn or a scale on
    a bin's edge splits its votes between two. Both axes wrap (orientations do; the spare
    level bin makes the wrapped window hold one real level)."""
    turn, level = np.divmod(np.arange(AGREEMENT_WINDOWS), LEVEL_BINS)
    shifts = [(0, 0), (1, 0), (0, 1), (1, 1)]
    return np.stack(
        [((turn - a) % ORIENTATIONS) * LEVEL_BINS + (level - b) % LEVEL_BINS for a, b in shifts],
        axis=1,
    )


_CORNERS = _corners().astype(np.int32)  # int32 keys sort faster than int64
