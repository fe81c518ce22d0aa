"""The compiled vote counting (``match.tallies``) gives numpy's votes, value for value."""

from __future__ import annotations

import pytest
from PIL import ImageOps

from mediacheck.match.fingerprints import fingerprint, probe
from mediacheck.match.index import FingerprintIndex, keypoint_votes
from tests.plain_votes import plain_votes
from tests.test_matching import _scene


@pytest.fixture(scope="module")
def prints():
    return [fingerprint(_scene(seed)) for seed in range(8)]


def _queries():
    """(query, the stored picture it copies, None for one stored nowhere)."""
    return [
        (probe(_scene(3).crop((60, 40, 560, 420)).resize((420, 320))), 3),
        (probe(ImageOps.mirror(_scene(5))), 5),
        (probe(_scene(6).rotate(8, expand=True)), 6),
        (probe(_scene(40)), None),
    ]


@pytest.mark.parametrize("agree_rows", [4096, 7])
def test_the_votes_are_numpys_in_base_delta_and_tail(prints, tmp_path, monkeypatch, agree_rows):
    """Twelve copies of each picture (a word in more than COMMON_FLOOR would give none) tie
    on their counts: when only ``agree_rows`` may be judged, the lower rows are, as a
    stable sort chose them; a small sample puts every part's postings in it."""
    monkeypatch.setattr("mediacheck.match.index.AGREE_ROWS", agree_rows)
    monkeypatch.setattr("mediacheck.match.index.AGREE_SAMPLE", 50)
    monkeypatch.setattr("mediacheck.match.words.TAIL", 1000)  # about three pictures
    rows = [(i, f"m{i}", None, fp) for i, fp in enumerate(prints * 12)]
    path = tmp_path / "index.snapshot"
    with open(path, "wb") as handle:
        FingerprintIndex.from_prints(rows[:40]).save(handle)
    index = FingerprintIndex.load(path)
    for key, media, at, fp in rows[40:]:
        index.append_rows([(key, media, at, fp.entry())])
    assert len(index.words.delta_rows) and len(index.words.tail_rows)
    for query, source in _queries():
        theirs, ours = plain_votes(index, query), keypoint_votes(index, query)
        assert ours.surprise.tobytes() == theirs.surprise.tobytes()
        assert [n for n, _ in ours.by_view] == [n for n, _ in theirs.by_view]
        for (_, mine), (_, plain) in zip(ours.by_view, theirs.by_view, strict=True):
            assert mine.tolist() == plain.tolist()
        if source is not None:  # what the test is about is there to be counted
            assert ours.surprise[source :: len(prints)].min() > 10  # nats
