"""The keypoint votes of one query view in a large archive, counted in compiled loops (numba).

A view's words gather about half a million postings at a million stored pictures, almost all
of them chance votes. Counted with numpy, every step is a pass over the postings or over
an array as long as the archive (gather, bincount, take, maximum, the agreement's gather
and sort): about 19 ms a view, five views a query. Here the postings are read twice in
place, from their lists (to count, then for the few rows worth an agreement), and the
archive-long arrays once; the arithmetic is ``votes``'s numpy counting's, value for value
(``tests/test_tallies.py`` holds the two side by side).

The functions are compiled on first use and cached beside this file (or in numba's user
cache where this file's folder is read-only).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mediacheck.match.fingerprints import (
    AGREEMENT_WINDOWS,
    GEOMETRY_KNOWN,
    LEVEL_BINS,
    LEVEL_SHIFT,
    LEVELS,
    ORIENTATIONS,
)
from mediacheck.match.words import ROW_BITS, ROW_MASK

# A row's votes can outnumber a uint16 only with more query words than that: the count
# stops there (a count that high is beyond any bar long before).
MOST_COUNT = np.iinfo(np.uint16).max


@njit(cache=True, nogil=True)
def count_votes(postings, starts, sizes, count):  # pragma: no cover - compiled
    """Add one vote per posting of the lists ``postings[starts[i]:starts[i] + sizes[i]]``
    to ``count`` (uint16, one per row); the highest count."""
    top = 0
    for j in range(len(starts)):
        for i in range(starts[j], starts[j] + sizes[j]):
            row = postings[i] & ROW_MASK
            held = count[row]
            if held < MOST_COUNT:
                held += 1
                count[row] = held
            top = max(top, held)
    return top


@njit(cache=True, nogil=True)
def raise_surprise(count, table, surprise, least):  # pragma: no cover - compiled
    """``surprise`` raised to ``table[count]`` row by row; the rows with at least ``least``
    votes, ascending. ``table[0]`` is 0 (no votes, no surprise) and surprises are never
    negative: a row without votes stays as it is.

    The loop has no branch but a rarely taken one (a row voted for at random is not
    predictable, and a mispredicted branch per row cost more than all the rest), and no
    array that may be replaced (one that may be costs a reference count per row): the
    rows are written into room for all of them, of which only the pages written are used.
    """
    voted = np.empty(len(count), np.int64)
    held = 0
    for row in range(len(count)):
        votes = count[row]
        surprise[row] = max(surprise[row], table[votes])
        if votes >= least:
            voted[held] = row
            held += 1
    return voted[:held].copy()


@njit(cache=True, nogil=True)
def most_voted(rows, count, limit):  # pragma: no cover - compiled
    """The ``limit`` of ``rows`` (ascending) with the most votes, ascending: those a stable
    sort by descending count would put first (the lower row first among equal counts)."""
    if len(rows) <= limit:
        return rows
    tally = np.zeros(MOST_COUNT + 2, np.int64)
    for row in rows:
        tally[count[row]] += 1
    # The count of the last row taken, and how many rows of exactly that count are taken.
    least, above = MOST_COUNT + 1, 0
    while above + tally[least - 1] < limit:
        least -= 1
        above += tally[least]
    least -= 1
    equal = limit - above
    chosen = np.empty(limit, np.int64)
    held = 0
    for row in rows:
        votes = count[row]
        if votes > least or (votes == least and equal > 0):
            if votes == least:
                equal -= 1
            chosen[held] = row
            held += 1
    return chosen


@njit(cache=True, nogil=True)
def window_votes(
    postings, starts, sizes, mine, rows, judged, corners, votes, voted, held
):  # pragma: no cover - compiled
    """Add the votes of the judged ``rows`` (ascending; ``judged``, their ``bit_map``) per
    window of (turn, level) difference: ``votes[place, window]``, by a row's place in
    ``rows``.

    ``mine[i]`` is the geometry byte of the query keypoint of list ``i``; ``voted`` gets
    the keys (place * AGREEMENT_WINDOWS + window) in the order first voted, from ``held``
    on (it has room for every window of every judged row). Returns the keys held.
    """
    for j in range(len(starts)):
        query = mine[j]
        for i in range(starts[j], starts[j] + sizes[j]):
            row = postings[i] & ROW_MASK
            # Most postings are a stranger's, passed over by the bit map (it stays in the
            # CPU's cache); only the judged rows' are looked up.
            if not (judged[row >> 3] >> (row & 7)) & 1:
                continue
            window = _window(query, np.uint8(postings[i] >> ROW_BITS))
            if window < 0:
                continue
            at = np.searchsorted(rows, row)
            for corner in corners[window]:
                if votes[at, corner] == 0:
                    voted[held] = at * AGREEMENT_WINDOWS + corner
                    held += 1
                if votes[at, corner] < MOST_COUNT:
                    votes[at, corner] += 1
    return held


@njit(cache=True, nogil=True)
def bit_map(rows, n):  # pragma: no cover - compiled
    """One bit per row of ``n``, set for ``rows`` (little-endian bytes)."""
    bits = np.zeros((n + 7) // 8, np.uint8)
    for row in rows:
        bits[row >> 3] |= np.uint8(1 << (row & 7))
    return bits


@njit(cache=True, nogil=True)
def chance_windows(
    postings, starts, sizes, mine, corners, step, chance, state
):  # pragma: no cover - compiled
    """Add to ``chance`` the windows of every ``step``-th posting of the lists (whose
    geometry is known): chance's share of each window, from a sample of the hits.
    ``state``: the postings to the next sampled one (0) and those sampled (1) so far,
    carried from one part's lists to the next."""
    wait, sampled = state[0], state[1]
    for j in range(len(starts)):
        at = wait
        while at < sizes[j]:
            sampled += 1
            window = _window(mine[j], np.uint8(postings[starts[j] + at] >> ROW_BITS))
            if window >= 0:
                for corner in corners[window]:
                    chance[corner] += 1
            at += step
        wait = at - sizes[j]
    state[0], state[1] = wait, sampled


@njit(inline="always")
def _window(query, stored):  # pragma: no cover - compiled
    """The (turn, level) difference bin of a hit, -1 unless both geometries are known."""
    if (stored & query & GEOMETRY_KNOWN) == 0:
        return -1
    turn = (query - stored) & (ORIENTATIONS - 1)
    level = ((query >> LEVEL_SHIFT) & (LEVELS - 1)) - ((stored >> LEVEL_SHIFT) & (LEVELS - 1))
    return turn * LEVEL_BINS + level + LEVELS - 1


@njit(cache=True, nogil=True)
def best_windows(votes, voted, table, choices, rows, surprise):  # pragma: no cover - compiled
    """Each judged row's surprise raised to its best window's, less the ``choices`` chance
    had (``table[window, votes]``: the surprise of so many votes in that window)."""
    best = np.full(len(rows), -np.inf, np.float32)
    for key in voted:
        at, window = key // AGREEMENT_WINDOWS, key % AGREEMENT_WINDOWS
        best[at] = max(best[at], table[window, votes[at, window]])
    for at in range(len(rows)):
        if best[at] > -np.inf:
            value = best[at] - choices
            surprise[rows[at]] = max(surprise[rows[at]], value)
