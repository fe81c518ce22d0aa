"""The archive-size design of the search: keypoint words vote, hashes alone accept little."""

from __future__ import annotations

import ctypes
import io
import resource
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from mediacheck.match import snapshot
from mediacheck.match.fingerprints import (
    GEOMETRY_KNOWN,
    GEOMETRY_MARK,
    INDEXED_KEYPOINTS,
    WORD_BITS,
    WORD_TABLES,
    WORDS_MARK,
    Keypoints,
    entry_postings,
    entry_words,
    fingerprint,
    probe,
)
from mediacheck.match.index import (
    CHANCE,
    EVEN_SO,
    EVEN_SO_ROWS,
    FINE_ACCEPT,
    FINE_SURE,
    MOST_VERIFIED,
    FingerprintIndex,
    Votes,
    _most,
    _short_list,
    keypoint_votes,
    search,
)
from mediacheck.match.votes import chance_surprise, view_votes
from mediacheck.match.words import COMMON_FLOOR, NO_WORD, ROW_BITS, WORDS, WordIndex
from mediacheck.match.working_memory import keep_working_memory
from tests.test_matching import _scene


@pytest.fixture(scope="module")
def scenes():
    return [fingerprint(_scene(seed)) for seed in range(12)]


def test_words_are_pieces_of_the_strongest_descriptors(scenes):
    fp = scenes[0]
    words = fp.keypoints.words(INDEXED_KEYPOINTS)
    assert words.shape == (min(len(fp.keypoints), INDEXED_KEYPOINTS), WORD_TABLES)
    first = int.from_bytes(fp.keypoints.descriptors[0, :8].tobytes(), "little")
    piece = (first >> WORD_BITS) & ((1 << WORD_BITS) - 1)
    assert int(words[0, 1]) == (1 << WORD_BITS) + piece
    entry = np.frombuffer(fp.entry(), dtype="<u4", offset=len(fp.record()))
    assert (entry[0], entry[1]) == (GEOMETRY_MARK, len(words))
    found, geometry = entry_postings(entry)
    assert np.array_equal(found, words.ravel())
    assert np.array_equal(entry_words(entry), words.ravel())
    kept = fp.keypoints.geometry[:INDEXED_KEYPOINTS]
    assert np.array_equal(geometry, np.repeat(kept, WORD_TABLES))
    assert np.all(kept & GEOMETRY_KNOWN)


def test_entries_before_geometry_give_their_words_and_unknown_geometry(scenes):
    words = scenes[0].keypoints.words(INDEXED_KEYPOINTS).ravel()
    found, geometry = entry_postings(np.concatenate([[WORDS_MARK], words]).astype(np.uint32))
    assert np.array_equal(found, words)
    assert not geometry.any()


def test_entries_of_the_old_words_give_the_same_words_of_their_keypoints(scenes):
    """match-v1 rows stored four 16-bit pieces of 64 keypoints: their words are cut again."""
    keypoints = scenes[0].keypoints.strongest(64)
    pieces = np.ascontiguousarray(keypoints.descriptors[:, :8]).view("<u2").astype(np.uint32)
    old = (pieces + (np.arange(4, dtype=np.uint32) << 16)).ravel()
    assert np.array_equal(entry_words(old), keypoints.words().ravel())
    assert len(entry_words(np.zeros(0, np.uint32))) == 0


def test_stored_keypoints_of_either_layout_are_read(scenes):
    kept = scenes[0].keypoints
    old = io.BytesIO()
    np.savez(old, points=kept.points, descriptors=kept.descriptors, side=kept.side)
    for data in (kept.to_bytes(), old.getvalue()):
        again = Keypoints.from_bytes(data)
        assert np.array_equal(again.points, kept.points)
        assert np.array_equal(again.descriptors, kept.descriptors)
        assert again.side == kept.side


def test_posting_lists_vote_as_the_pictures_say_in_base_delta_and_tail(monkeypatch):
    pictures = [np.array([5, 9, 9, 70000], np.uint32), np.array([], np.uint32), np.array([9, 3])]
    words = WordIndex.from_words(pictures)
    assert (len(words.postings), len(words.offsets), len(words.tail_rows)) == (6, WORDS + 1, 0)
    assert words.postings[words.offsets[9] : words.offsets[10]].tolist() == [0, 0, 2]
    query = np.array([9, 3, 3, 12], np.uint32)
    assert words.votes(query, 3).tolist() == [2, 0, 2]
    words.add([np.array([3, 5], np.uint32)], 3)
    assert (len(words.tail_rows), len(words.delta_rows)) == (2, 0)
    assert words.votes(query, 4).tolist() == [2, 0, 2, 1]
    monkeypatch.setattr("mediacheck.match.words.TAIL", 2)
    words.add([np.array([9, 9, 3], np.uint32)], 4)
    assert (len(words.tail_rows), words.delta_words.tolist(), words.delta_rows.tolist()) == (
        0,
        [3, 3, 5, 9, 9],
        [3, 4, 3, 4, 4],
    )
    assert words.votes(query, 5).tolist() == [2, 0, 2, 1, 3]
    assert len(words) == 11


def test_postings_keep_their_keypoints_geometry_in_base_delta_tail_and_snapshot(monkeypatch):
    pictures = [np.array([5, 9], np.uint32), np.array([9, 3], np.uint32)]
    turns = [np.array([0x81, 0x92], np.uint8), np.array([0x83, 0])]
    words = WordIndex.from_words(pictures, 0, turns)
    words.add([np.array([9], np.uint32)], 2, [np.array([0xA5], np.uint8)])
    monkeypatch.setattr("mediacheck.match.words.TAIL", 1)
    words.add([np.array([3, 9], np.uint32)], 3, [np.array([0x84, 0x86], np.uint8)])
    query, mine = np.array([9, 3], np.uint32), np.array([0xF0, 0xF1], np.uint8)
    for held in (
        words,
        WordIndex(*[np.concatenate(list(p.pieces)) for p in words.snapshot_arrays()]),
    ):
        hits = held.hits(query, mine)
        found = sorted(
            zip(hits.rows.tolist(), hits.stored.tolist(), hits.query.tolist(), strict=True)
        )
        assert found == [
            (0, 0x92, 0xF0),
            (1, 0, 0xF1),
            (1, 0x83, 0xF0),
            (2, 0xA5, 0xF0),
            (3, 0x84, 0xF1),
            (3, 0x86, 0xF0),
        ]
    assert words.votes(query, 4).tolist() == [1, 2, 1, 2]


@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "compiled"])
def test_votes_that_agree_on_a_turn_and_a_scale_are_the_larger_surprise(monkeypatch, compiled):
    """Two rows share six words with the query: one's all turned by the same angle at the
    same level difference (a re-share), the other's anywhere (chance); strangers share a
    word now and then."""
    monkeypatch.setattr("mediacheck.match.votes.COMPILED_ROWS", 0 if compiled else 1 << 30)
    rng = np.random.default_rng(3)
    strangers = [rng.integers(0, WORDS, 384).astype(np.uint32) for _ in range(3000)]
    shared = np.arange(6, dtype=np.uint32) * 1000 + 7
    query = np.concatenate([shared, rng.integers(0, WORDS, 1000).astype(np.uint32)])
    mine = (GEOMETRY_KNOWN | rng.integers(0, 128, len(query))).astype(np.uint8)
    agreeing = (mine[:6] & 0xF0) | ((mine[:6] - 3) & 0x0F)  # turned by 3 bins
    scattered = (GEOMETRY_KNOWN | rng.integers(0, 128, 6)).astype(np.uint8)
    noise = [np.zeros(384, np.uint8) | GEOMETRY_KNOWN for _ in strangers]
    index = WordIndex.from_words([shared, shared, *strangers], 0, [agreeing, scattered, *noise])
    surprise = np.zeros(len(strangers) + 2, np.float32)
    count = view_votes(index.lists(query, mine), len(surprise), surprise)
    assert count[0] == count[1] == 6
    mean = float(count.sum() - count.max()) / (len(count) - 1)  # chance, the best row aside
    plain = chance_surprise(mean, int(count.max()))[count]
    assert surprise[0] > plain[0] + 5  # nats
    assert surprise[1] == plain[1]
    assert np.array_equal(surprise[2:], plain[2:])


def test_an_empty_base_holds_no_vocabulary_table():
    words = WordIndex.empty()
    assert len(words.offsets) == 1
    words.add([np.array([7, 8], np.uint32)], 0)
    assert words.votes(np.array([7], np.uint32), 1).tolist() == [1]


def test_a_common_word_gives_no_votes_wherever_its_postings_are(monkeypatch):
    # Word 1 is in COMMON_FLOOR pictures (kept), word 2 in eight more (too common).
    rare, more = COMMON_FLOOR, 8
    common = [np.array([1, 2], np.uint32)] * rare + [np.array([2], np.uint32)] * more
    rows = rare + more
    whole = WordIndex.from_words(common)
    split = WordIndex.from_words(common[: rows // 2])
    monkeypatch.setattr("mediacheck.match.words.TAIL", 5)
    for i in range(rows // 2, rows):
        split.add([common[i]], i)
    query = np.array([1, 2], np.uint32)
    assert whole.votes(query, rows).tolist() == [1] * rare + [0] * more
    assert split.votes(query, rows).tolist() == whole.votes(query, rows).tolist()


@pytest.mark.parametrize("chunk", [1 << 22, 100])
def test_a_base_built_from_one_word_array_is_the_one_built_from_lists(scenes, monkeypatch, chunk):
    """Real pictures' words, one without keypoints: a padded array (sorted a block at a time)
    gives the postings of a stable sort by word of every (row, word) pair at once."""
    monkeypatch.setattr("mediacheck.match.words.BUILD_CHUNK", chunk)
    lists = [fp.keypoints.words(INDEXED_KEYPOINTS).ravel() for fp in scenes]
    lists.insert(3, np.zeros(0, np.uint32))
    padded = np.full((len(lists), max(map(len, lists))), NO_WORD, np.uint32)
    for row, words in zip(padded, lists, strict=True):
        row[: len(words)] = words
    rows = np.repeat(np.arange(7, 7 + len(lists)), [len(w) for w in lists])
    flat = np.concatenate(lists)
    order = np.argsort(flat, kind="stable")
    for built in (WordIndex.from_words(lists, 7), WordIndex.from_word_array(padded, 7)):
        assert built.postings.tolist() == rows[order].tolist()
        assert np.diff(built.offsets).tolist() == np.bincount(flat, minlength=WORDS).tolist()
    assert len(WordIndex.from_word_array(np.full((2, 3), NO_WORD, np.uint32)).offsets) == 1


def test_the_most_voted_rows_are_those_of_a_stable_sort():
    values = np.array([3, 1, 5, 5, 0, 5, 2, 3, 5], np.float32)
    rows = np.array([0, 1, 2, 3, 5, 6, 7, 8])
    for count in range(10):
        stable = rows[np.argsort(-values[rows], kind="stable")][:count]
        assert _most(values, rows, count).tolist() == stable.tolist()


def _rows(scenes):
    return [
        (i + 1, f"m{i}", None if i % 2 else float(i), fp.entry()) for i, fp in enumerate(scenes)
    ]


def _saved(index: FingerprintIndex, path):
    with open(path, "wb") as handle:
        index.save(handle)
    return FingerprintIndex.load(path)


def test_a_snapshot_is_the_index_it_was_written_from(scenes, tmp_path):
    index = FingerprintIndex.from_rows(_rows(scenes))
    again = _saved(index, tmp_path / "index.snapshot")
    assert snapshot.mapped(again.words.postings)
    for name in FingerprintIndex.ARRAYS:
        assert np.array_equal(getattr(again, name), getattr(index, name)), name
    query = probe(_scene(4).resize((320, 240)))
    assert np.array_equal(keypoint_votes(again, query).count, keypoint_votes(index, query).count)
    assert int(np.argmax(keypoint_votes(again, query).count)) == 4
    # Every posting of a new entry carries its keypoint's geometry, snapshot or not.
    for held in (index, again):
        assert np.all((held.words.postings >> np.uint32(ROW_BITS)) & GEOMETRY_KNOWN)


@pytest.mark.parametrize("tail", [1 << 16, 100])
def test_rows_added_to_a_snapshot_search_as_if_loaded_at_once(scenes, tmp_path, monkeypatch, tail):
    """Base (mapped) + delta + tail, and their merge into a new snapshot, equal one build."""
    monkeypatch.setattr("mediacheck.match.words.TAIL", tail)
    monkeypatch.setattr("mediacheck.match.words.MERGE_CHUNK", 50)  # many ranges of words
    rows = _rows(scenes)
    whole = FingerprintIndex.from_rows(rows)
    grown = _saved(FingerprintIndex.from_rows(rows[:5]), tmp_path / "first.snapshot")
    for row in rows[5:]:
        grown.append_rows([row])
    merged = _saved(grown, tmp_path / "second.snapshot")
    keypoints = {key: fp.keypoints for (key, *_), fp in zip(rows, scenes, strict=True)}
    queries = [probe(_scene(seed).crop((100, 80, 600, 460))) for seed in (2, 7, 11)]
    for index in (grown, merged):
        for name in FingerprintIndex.ARRAYS:
            assert np.array_equal(getattr(index, name), getattr(whole, name)), name
        for query in queries:
            assert np.array_equal(
                keypoint_votes(index, query).count, keypoint_votes(whole, query).count
            )
            found = search(index, query, lambda keys: {k: keypoints[k] for k in keys})
            assert found == search(whole, query, lambda keys: {k: keypoints[k] for k in keys})
    assert np.array_equal(merged.words.offsets, whole.words.offsets)
    assert np.array_equal(merged.words.postings, whole.words.postings)
    assert [m.media_id for m in search(merged, queries[0], lambda k: keypoints)] == ["m2"]


def test_a_file_that_is_no_snapshot_is_a_value_error(scenes, tmp_path):
    bad = tmp_path / "bad.snapshot"
    bad.write_bytes(b"PK\x03\x04 an old .npz")
    with pytest.raises(ValueError, match="not an index snapshot"):
        FingerprintIndex.load(bad)
    path = tmp_path / "index.snapshot"
    _saved(FingerprintIndex.from_rows(_rows(scenes)), path)
    path.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(ValueError, match="cut short in postings"):
        FingerprintIndex.load(path)


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
    assert len(decoys) > MOST_VERIFIED and FINE_SURE < 6 <= FINE_ACCEPT
    prints = [(i, f"decoy{i}", None, fp) for i, fp in enumerate(decoys)]
    prints.append((len(prints), "original", None, fingerprint(original)))
    index = FingerprintIndex.from_prints(prints)
    keypoints = {key: fp.keypoints for key, _, _, fp in prints}
    found = search(index, query, lambda keys: {k: keypoints[k] for k in keys})
    assert [(m.media_id, m.method) for m in found] == [("original", "keypoints")]


def _far_windows(fp, rng):
    """``fp`` with random windows (a stranger's: 16 bits from any hash on average)."""
    return replace(fp, coarse=tuple(int(w) for w in rng.integers(0, 2**32, 16, dtype=np.uint64)))


def test_the_windows_of_a_few_rows_are_those_of_the_pass_over_all(scenes):
    rng = np.random.default_rng(7)
    prints = [_far_windows(fp, rng) for fp in scenes * 20]
    index = FingerprintIndex.from_prints((i, f"m{i}", None, fp) for i, fp in enumerate(prints))
    query = probe(_scene(3).crop((100, 80, 600, 460)))
    every = index.nearest(query)
    rows = np.array([0, 3, 41, 200, len(prints) - 1])  # few: compared one by one
    assert index.window_distances(query, rows).tolist() == every.coarse[rows].tolist()
    many = np.arange(0, len(prints), 2)  # many: one pass over all
    assert index.window_distances(query, many).tolist() == every.coarse[many].tolist()
    bare = index.nearest(query, windows=False)
    assert np.all(bare.coarse == 255) and np.array_equal(bare.fine, every.fine)


def test_a_close_window_counts_for_a_row_whose_votes_come_near_the_bar(scenes):
    """A close window (10.6 nats) takes a row whose votes fall short of the bar by less
    than that onto the short list, though the windows of the rest are never compared; one
    whose votes fall short by more stays off it."""
    rng = np.random.default_rng(11)
    query = probe(_scene(300))
    prints = [_far_windows(fp, rng) for fp in (scenes * 84)[:1000]]
    close = (query.print.coarse[0],) * 16
    near, short = 17, 503
    prints[near] = replace(prints[near], coarse=close)
    prints[short] = replace(prints[short], coarse=close)
    index = FingerprintIndex.from_prints((i, f"m{i}", None, fp) for i, fp in enumerate(prints))
    views = 5
    bar = float(np.log(len(index) * views / CHANCE))  # 11.5 nats
    votes = Votes(np.zeros(len(index), np.float32), views=views)
    votes.surprise[near] = bar - 10.58  # a close window (10.62) takes it over the bar
    votes.surprise[short] = bar - 11.0  # not even the closest window does
    assert votes.surprise[near] < EVEN_SO  # not checked for its votes alone
    every = index.nearest(query, windows=False)
    usable = index.informative & ~every.exact
    assert _short_list(index, query, every, votes, usable).tolist() == [near]


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


def test_chance_votes_are_judged_by_their_poisson_tail():
    surprise = chance_surprise(0.5, 6)
    assert surprise[0] == 0.0
    assert np.all(np.diff(surprise) > 0)
    assert abs(float(surprise[1]) - (-np.log(1 - np.exp(-0.5)))) < 1e-4


def _checked(index, prints):
    """``search`` with a keypoint loader that records which rows were verified."""
    asked: list[int] = []
    keypoints = {key: fp.keypoints for key, _, _, fp in prints}

    def loader(keys):
        asked.extend(keys)
        return {k: keypoints[k] for k in keys}

    return loader, asked


def test_an_unrelated_picture_verifies_no_more_than_the_budget_under_the_bar(scenes):
    prints = [(i, f"m{i}", None, fp) for i, fp in enumerate(scenes)]
    index = FingerprintIndex.from_prints(prints)
    loader, asked = _checked(index, prints)
    assert search(index, probe(_scene(300)), loader) == []
    assert len(asked) <= EVEN_SO_ROWS
    asked.clear()
    copy = _scene(4).crop((100, 80, 600, 460)).resize((400, 304))
    found = search(index, probe(copy), loader)
    assert [m.media_id for m in found] == ["m4"] and asked[0] == 4


def test_a_weak_copy_is_found_among_many_strangers(scenes):
    """A collage tile, among 20,000 strangers whose words are as many and as random."""
    rng = np.random.default_rng(7)
    original = _scene(100)
    strangers = [
        replace(fp, keypoints=_random_keypoints(rng)) for fp in scenes for _ in range(1666)
    ]
    prints = [(i, f"stranger{i}", None, fp) for i, fp in enumerate(strangers)]
    prints.append((len(prints), "original", None, fingerprint(original)))
    index = FingerprintIndex.from_prints(prints)
    tile = Image.new("RGB", (1280, 480), "white")
    tile.paste(original, (0, 0))
    tile.paste(_scene(101), (640, 0))
    loader, asked = _checked(index, prints)
    found = search(index, probe(tile.resize((960, 360))), loader)
    assert [m.media_id for m in found] == ["original"]
    assert len(asked) <= EVEN_SO_ROWS


def _random_keypoints(rng) -> Keypoints:
    count = INDEXED_KEYPOINTS
    descriptors = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    points = rng.uniform(0, 512, (count, 2)).astype(np.float32)
    return Keypoints(points, descriptors, 512)


def test_a_rows_count_and_view_are_its_best_views_first_best():
    """The short list asks for a row's count, the first view that gave it and the picture's
    own votes; a view that did not vote (no keypoints) is not one of them."""
    picture, mirror, pieces = np.array([0, 5, 2, 0]), np.array([1, 5, 7, 0]), np.array([3, 1, 7, 0])
    votes = Votes(np.zeros(4, np.float32), 3, [(0, picture), (2, mirror), (4, pieces)])
    assert [votes.count_of(row) for row in range(4)] == [3, 5, 7, 0]
    assert [votes.view(row) for row in range(4)] == [4, 0, 2, 0]
    assert [votes.own(row) for row in range(4)] == [0, 5, 2, 0]
    assert votes.count.tolist() == [3, 5, 7, 0]
    without_picture = Votes(np.zeros(4, np.float32), 1, [(2, mirror)])
    assert [without_picture.own(row) for row in range(4)] == [0, 0, 0, 0]
    assert without_picture.view(2) == 2
    assert without_picture.view(3) == 0  # no view voted for it
    assert Votes(np.zeros(4, np.float32)).count.tolist() == [0, 0, 0, 0]


@pytest.mark.skipif(
    not hasattr(ctypes.CDLL(None), "gnu_get_libc_version"), reason="malloc is not glibc's"
)
def test_freed_working_memory_stays_in_the_process_for_the_next_query():
    """After ``keep_working_memory`` an array of a few megabytes, freed, is not handed back to
    the kernel: writing the next one of that size faults in no new page."""
    assert keep_working_memory()
    np.ones(8 << 20, np.uint8)  # made and freed: the heap now holds it
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    np.ones(8 << 20, np.uint8)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 64  # not 2,048 pages
