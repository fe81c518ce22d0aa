"""The archive-size design of the search: keypoint words vote, hashes alone accept little."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest

from mediacheck.match.fingerprints import INDEXED_KEYPOINTS, WORD_TABLES, fingerprint, probe
from mediacheck.match.index import (
    CLOSEST,
    FINE_ACCEPT,
    FINE_SURE,
    FingerprintIndex,
    keypoint_votes,
    search,
)
from mediacheck.match.words import TAIL, WORDS, WordIndex
from tests.test_matching import _scene


@pytest.fixture(scope="module")
def scenes():
    return [fingerprint(_scene(seed)) for seed in range(12)]


def test_words_are_pieces_of_the_strongest_descriptors(scenes):
    fp = scenes[0]
    words = fp.keypoints.words(INDEXED_KEYPOINTS)
    assert words.shape == (INDEXED_KEYPOINTS, WORD_TABLES)
    first = fp.keypoints.descriptors[0]
    assert int(words[0, 1]) == (1 << 16) + int(first[2]) + (int(first[3]) << 8)
    entry = np.frombuffer(fp.entry(), dtype="<u4", offset=len(fp.record()))
    assert np.array_equal(entry, words.ravel())


def test_posting_lists_merge_and_vote_as_the_pictures_say():
    pictures = [np.array([5, 9, 9, 70000], np.uint32), np.array([], np.uint32), np.array([9, 3])]
    words = WordIndex.from_words(pictures)
    assert len(words.tail_rows) == 6 and len(words.postings) == 0
    merged = words.merged()
    assert (len(merged.tail_rows), len(merged.postings), len(merged.offsets)) == (0, 6, WORDS + 1)
    assert merged.postings[merged.offsets[9] : merged.offsets[10]].tolist() == [0, 0, 2]
    query = np.array([9, 3, 3, 12], np.uint32)
    for index in (words, merged):
        assert index.votes(query, 3).tolist() == [2, 0, 2]
    more = merged.joined(WordIndex.from_words([np.array([3, 5], np.uint32)]), 3)
    assert more.votes(query, 4).tolist() == [2, 0, 2, 1]
    assert more.merged().votes(query, 4).tolist() == [2, 0, 2, 1]


def test_a_long_tail_is_merged_on_its_own():
    many = [np.arange(i, i + 1000, dtype=np.uint32) for i in range(TAIL // 1000 + 1)]
    words = WordIndex.from_words(many)
    assert len(words.tail_rows) == 0 and len(words.postings) == len(many) * 1000
    assert words.votes(np.array([0, 1], np.uint32), len(many)).tolist()[:3] == [2, 1, 0]


def test_snapshot_keeps_the_words(scenes, tmp_path):
    index = FingerprintIndex.from_prints((i, f"m{i}", None, fp) for i, fp in enumerate(scenes))
    buffer = io.BytesIO()
    index.save(buffer)
    again = FingerprintIndex.load(io.BytesIO(buffer.getvalue()))
    query = probe(_scene(4).resize((320, 240)))
    assert np.array_equal(keypoint_votes(again, query).count, keypoint_votes(index, query).count)
    assert int(np.argmax(keypoint_votes(again, query).count)) == 4


def test_a_crop_is_found_when_strangers_fill_the_hash_short_list(scenes):
    """Strangers closer by every hash than the crop's original cannot crowd it out."""
    original = _scene(100)
    crop = original.crop((150, 100, 640, 480))
    query = probe(crop)
    decoys = [
        replace(
            fp,
            fine=(query.print.fine[0] ^ 0b111111, query.print.fine[1] ^ 0b111111),
            coarse=(query.print.coarse[0],) * 16,
        )
        for fp in scenes * 2
    ]
    assert len(decoys) > CLOSEST and FINE_SURE < 6 <= FINE_ACCEPT
    prints = [(i, f"decoy{i}", None, fp) for i, fp in enumerate(decoys)]
    prints.append((len(prints), "original", None, fingerprint(original)))
    index = FingerprintIndex.from_prints(prints)
    keypoints = {key: fp.keypoints for key, _, _, fp in prints}
    found = search(index, query, lambda keys: {k: keypoints[k] for k in keys})
    assert [(m.media_id, m.method) for m in found] == [("original", "keypoints")]


def test_a_close_hash_without_agreeing_keypoints_is_no_match(scenes):
    stranger = scenes[1]
    query = probe(_scene(200))
    near = replace(stranger, fine=(query.print.fine[0] ^ 0b11111111, stranger.fine[1]))
    index = FingerprintIndex.from_prints([(0, "near", None, near)])
    assert index.nearest(query).fine[0] == 8
    assert search(index, query, lambda keys: {0: near.keypoints}) == []
    sure = replace(stranger, fine=(query.print.fine[0] ^ 0b1111, stranger.fine[1]))
    index = FingerprintIndex.from_prints([(0, "sure", None, sure)])
    found = search(index, query, lambda keys: {0: sure.keypoints})
    assert [(m.media_id, m.method, m.distance) for m in found] == [("sure", "phash", 4.0)]
