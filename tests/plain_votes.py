"""The keypoint votes as numpy counted them before ``match.tallies`` did: what
``index.keypoint_votes`` must still give, value for value (its surprises bit for bit)."""

from __future__ import annotations

import numpy as np

from mediacheck.match import index
from mediacheck.match.fingerprints import GEOMETRY_KNOWN, LEVEL_SHIFT, LEVELS, ORIENTATIONS, Probe
from mediacheck.match.tallies import LEVEL_BINS, WINDOWS
from mediacheck.match.words import ROW_BITS, Hits


def plain_votes(held: index.FingerprintIndex, probe: Probe) -> index.Votes:
    """``keypoint_votes``, one numpy pass after another over the hits and the rows."""
    n = len(held)
    votes = index.Votes(np.zeros(n, np.float32))
    if len(held.words) == 0:
        return votes
    for number, view in enumerate(index._views(probe)):
        if view is not None and len(view):
            hits = held.words.hits(view.words(), view.word_geometry())
            count = np.bincount(hits.rows, minlength=n)[:n]
            top = int(count.max(initial=0))
            mean = float(len(hits.rows) - top) / max(n - 1, 1)
            plain = index.chance_surprise(mean, top)[count]
            votes.surprise = plain if votes.views == 0 else np.maximum(votes.surprise, plain)
            agreeing_surprise(hits, count, mean, votes.surprise)
            votes.by_view.append((number, count))
            votes.views += 1
    return votes


def agreeing_surprise(hits: Hits, count: np.ndarray, mean: float, surprise: np.ndarray) -> None:
    """``index._agreeing_surprise`` on the gathered hits."""
    rows = np.flatnonzero(count >= index.AGREE_VOTES)
    if len(rows) == 0:
        return
    if len(rows) > index.AGREE_ROWS:
        rows = np.sort(rows[np.argsort(-count[rows], kind="stable")[: index.AGREE_ROWS]])
    place = np.full(len(count), -1, np.int64)
    place[rows] = np.arange(len(rows))
    local = place[hits.rows]
    held = np.flatnonzero(local >= 0)
    bins, known = _bins(hits.postings[held], hits.query[held])
    local = local[held][known]
    keys, votes = np.unique(
        (local[:, None] * WINDOWS + index._CORNERS[bins]).ravel(), return_counts=True
    )
    if len(keys) == 0:
        return
    step = max(1, len(hits.postings) // index.AGREE_SAMPLE)
    sample = hits.postings[::step]
    every, _ = _bins(sample, hits.query[::step])
    shares = np.bincount(index._CORNERS[every].ravel(), minlength=WINDOWS) / len(sample)
    table = index._poisson_surprise(mean * shares, int(votes.max()))
    each = table[keys % WINDOWS, votes]
    row_of = keys // WINDOWS
    starts = np.flatnonzero(np.r_[True, row_of[1:] != row_of[:-1]])
    best = np.maximum.reduceat(each, starts) - index._WINDOW_CHOICES
    at = rows[row_of[starts]]
    surprise[at] = np.maximum(surprise[at], best)


def _bins(postings: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    stored = postings >> np.uint32(ROW_BITS)
    known = (stored & query & GEOMETRY_KNOWN) != 0
    stored, mine = stored[known].astype(np.int64), query[known].astype(np.int64)
    turn = (mine - stored) % ORIENTATIONS
    level = ((mine >> LEVEL_SHIFT) & (LEVELS - 1)) - ((stored >> LEVEL_SHIFT) & (LEVELS - 1))
    return turn * LEVEL_BINS + level + LEVELS - 1, known
