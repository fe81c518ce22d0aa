"""The compiled vote counting (``match.tallies``) gives numpy's votes, value for value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import ImageOps

from mediacheck.match.fingerprints import fingerprint, probe
from mediacheck.match.index import FingerprintIndex, keypoint_votes
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
    monkeypatch.setattr("mediacheck.match.votes.AGREE_ROWS", agree_rows)
    monkeypatch.setattr("mediacheck.match.votes.AGREE_SAMPLE", 50)
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
        monkeypatch.setattr("mediacheck.match.votes.COMPILED_ROWS", 1 << 30)
        theirs = keypoint_votes(index, query)
        monkeypatch.setattr("mediacheck.match.votes.COMPILED_ROWS", 0)
        ours = keypoint_votes(index, query)
        assert ours.surprise.tobytes() == theirs.surprise.tobytes()
        assert [n for n, _ in ours.by_view] == [n for n, _ in theirs.by_view]
        for (_, mine), (_, plain) in zip(ours.by_view, theirs.by_view, strict=True):
            assert mine.tolist() == plain.tolist()
        if source is not None:  # what the test is about is there to be counted
            assert ours.surprise[source :: len(prints)].min() > 10  # nats


SEARCH_SMALL = """
import sys
from mediacheck.match import votes
from mediacheck.match.fingerprints import fingerprint, probe
from mediacheck.match.index import FingerprintIndex, search
from tests.test_matching import _scene
votes.COMPILED_ROWS = int(sys.argv[1])
stored = fingerprint(_scene(1))
index = FingerprintIndex.from_prints([(0, "m0", None, stored)])
found = search(index, probe(_scene(1).resize((400, 300))), lambda keys: {0: stored.keypoints})
print([m.media_id for m in found], "numba" in sys.modules)
"""


@pytest.mark.parametrize(("compiled_rows", "loaded"), [(200_000, False), (0, True)])
def test_a_small_archive_searches_without_loading_the_compiled_loops(compiled_rows, loaded):
    """numba's import and its cached loops cost a process 0.7 s: a search below
    COMPILED_ROWS never pays it."""
    done = subprocess.run(
        [sys.executable, "-c", SEARCH_SMALL, str(compiled_rows)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["['m0']", str(loaded)]
