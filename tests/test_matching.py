"""Recycled-media detection: fingerprints, the index and the search, on real photos."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from mediacheck.match.fingerprints import (
    INDEXED_KEYPOINTS,
    QUERY_FEATURES,
    RECORD,
    WINDOWS,
    WORK_SIDE,
    Keypoints,
    _indexed_first,
    content_box,
    fingerprint,
    picture_box,
    pieces,
    probe,
)
from mediacheck.match.index import (
    MIN_INLIERS,
    FingerprintIndex,
    Match,
    _mutual_pairs,
    best_per_media,
    geometric_check,
    hash_score,
    search,
)
from mediacheck.media.pictures import WORKING_SIZE, open_picture
from tests.brute_force import matcher_pairs
from tests.corpus import FILES, needs_corpus
from tests.reshare import HARDER, TRANSFORMS, encode, scaled

STORED = ["mde/simple.jpg", "exifr/door-knocker.jpg", "exifr/issue-fast-exif-2.jpg"]
UNRELATED = ["mde/nikonMakernoteType2b.jpg", "exifr/canon-dslr.jpg", "mde/noExif.jpg"]


def corpus_picture(name: str) -> Image.Image:
    return open_picture(FILES / name).image


@pytest.fixture(scope="module")
def archive() -> tuple[FingerprintIndex, dict[int, Keypoints]]:
    prints = [fingerprint(corpus_picture(name)) for name in STORED]
    index = FingerprintIndex.from_prints(
        (key, name, None, fp) for key, (name, fp) in enumerate(zip(STORED, prints, strict=True))
    )
    return index, {key: fp.keypoints for key, fp in enumerate(prints)}


def find(archive, img: Image.Image) -> list[Match]:
    index, keypoints = archive
    img.thumbnail((WORKING_SIZE, WORKING_SIZE))
    return search(index, probe(img), lambda keys: {k: keypoints[k] for k in keys})


@needs_corpus
@pytest.mark.parametrize("transform", sorted(set(TRANSFORMS) - set(HARDER)))
@pytest.mark.parametrize("name", STORED)
def test_reshared_copy_finds_its_original(archive, name, transform):
    copy = TRANSFORMS[transform](corpus_picture(name), random.Random(f"{name}|{transform}"))
    matches = find(archive, copy)
    assert [m.media_id for m in matches] == [name]
    assert matches[0].frame_time_s is None
    assert 0 < matches[0].score <= 1


# Of the harder re-shares these are found through the hashes of the query's views (the
# picture a page holds, the quarter turns, the mirrored windows); a collage tile or a
# composite's piece is no view of its own: only their keypoints know them (below).
FOUND_BY_VIEWS = ["chat-screenshot", "player-screenshot", "news-page", "mirror-crop", "rotate90"]


@needs_corpus
@pytest.mark.parametrize("transform", [*FOUND_BY_VIEWS, "thumbnail"])
@pytest.mark.parametrize("name", STORED)
def test_harder_reshare_finds_its_original(archive, name, transform):
    copy = HARDER[transform](corpus_picture(name), random.Random(f"{name}|{transform}"))
    assert [m.media_id for m in find(archive, copy)] == [name]


@needs_corpus
@pytest.mark.parametrize("transform", ["collage", "composite"])
@pytest.mark.parametrize("name", STORED)
def test_a_piece_of_a_stored_photo_inside_another_picture_is_verified(archive, name, transform):
    """The geometric check finds the part a collage tile or a composite's piece shares."""
    copy = HARDER[transform](corpus_picture(name), random.Random(f"{name}|{transform}"))
    copy.thumbnail((WORKING_SIZE, WORKING_SIZE))
    _, stored = archive
    query = probe(copy).print.keypoints
    checks = [geometric_check(query, stored[key]) for key in range(len(STORED))]
    assert [c.accepted for c in checks] == [n == name for n in STORED], checks


def album_page(tiles: list[Image.Image], gap: int) -> tuple[Image.Image, list[tuple]]:
    """A 2 x 2 grid of ``tiles`` on a plain page, ``gap`` pixels apart, and the tiles' boxes."""
    side = 300
    page = Image.new("RGB", (2 * side + gap + 40, 2 * side + gap + 200), (250, 250, 250))
    boxes = []
    for number, tile in enumerate(tiles):
        left, top = 20 + (number % 2) * (side + gap), 100 + (number // 2) * (side + gap)
        page.paste(tile.convert("RGB").resize((side, side)), (left, top))
        boxes.append((left, top, left + side, top + side))
    return page, boxes


@needs_corpus
def test_the_pieces_of_an_album_page_are_its_tiles():
    names = [*STORED, UNRELATED[0]]
    page, boxes = album_page([corpus_picture(n) for n in names], gap=6)
    found = pieces(np.asarray(page.convert("L")))
    assert len(found) == len(boxes)

    def area(box):
        return (box[2] - box[0]) * (box[3] - box[1])

    # Each tile holds one piece, most of it: a photo's own flat edge (a plain stretch of
    # sky or wall along it) is cut with the gutter.
    for tile in boxes:
        inside = [b for b in found if tile[0] <= b[0] and tile[1] <= b[1] and b[2] <= tile[2]]
        inside = [b for b in inside if b[3] <= tile[3]]
        assert len(inside) == 1 and area(inside[0]) >= 0.8 * area(tile), (tile, found)
    assert pieces(np.asarray(corpus_picture(STORED[1]).convert("L"))) == []


@needs_corpus
def test_an_album_tile_a_third_of_the_page_finds_its_original(archive):
    """Each tile's keypoints at the working side (the pieces view) agree with its original."""
    names = [UNRELATED[0], STORED[1], UNRELATED[1], UNRELATED[2]]
    page, _ = album_page([corpus_picture(n) for n in names], gap=4)
    assert [m.media_id for m in find(archive, page)] == [STORED[1]]


def _pairs_of(points: np.ndarray, rng: np.random.Generator) -> Keypoints:
    codes = rng.integers(0, 256, (len(points), 32), dtype=np.uint8)
    return Keypoints(points.astype(np.float32), codes, WORK_SIDE)


def test_inliers_bunched_on_a_line_are_no_match_where_as_many_spread_are():
    """16 agreeing keypoints among 40 pairs, over MIN_INLIERS: spread over the picture they
    are far beyond chance; bunched on one line of text (a strip a tolerance tall) they are
    not."""
    rng = np.random.default_rng(5)
    for spread, accepted in (((400, 300), True), ((40, 4), False)):
        points = np.concatenate(
            [rng.uniform(0, 1, (16, 2)) * spread + 50, rng.uniform(0, 380, (24, 2))]
        )
        stored = _pairs_of(points, rng)
        moved = stored.points + np.float32(7)
        moved[16:] = rng.uniform(0, 380, (24, 2))  # the other pairs point anywhere
        check = geometric_check(Keypoints(moved, stored.descriptors, WORK_SIDE), stored)
        assert check.inliers >= 16 > MIN_INLIERS
        assert check.accepted is accepted, check


# Stored beside STORED when the short list must pick a weak copy out of a crowd.
CROWD = [
    "exifr/Bush-dog.jpg",
    "exifr/cookiezen.jpg",
    "exifr/issue-exifr-3.jpg",
    "exifr/issue-exifr-59.jpg",
    "exifr/img_1771_no_exif.jpg",
    "elodie/plain.jpg",
    "exifr/iptc-staff-photographer-example.jpg",
    "exifr/BonTonARTSTORplusIPTC.jpg",
    "exifr/32d08f4a5eb10332506ebedbb9bc7257.jpg",
]


@pytest.fixture(scope="module")
def crowded() -> tuple[FingerprintIndex, dict[int, Keypoints]]:
    names = [*STORED, *CROWD]
    prints = [fingerprint(corpus_picture(name)) for name in names]
    index = FingerprintIndex.from_prints(
        (key, name, None, fp) for key, (name, fp) in enumerate(zip(names, prints, strict=True))
    )
    return index, {key: fp.keypoints for key, fp in enumerate(prints)}


def tiled(tile: Image.Image, cols: int, rows: int, at: int) -> Image.Image:
    """``tile`` as cell ``at`` of a grid of real unrelated photos, the grid at 70%."""
    others = iter([corpus_picture(name) for name in UNRELATED] * 3)
    sheet = Image.new("RGB", (cols * 480, rows * 360), "white")
    for cell in range(cols * rows):
        picture = tile if cell == at else next(others)
        sheet.paste(picture.resize((480, 360)), ((cell % cols) * 480, (cell // cols) * 360))
    return encode(scaled(sheet, 0.7), quality=80)


@needs_corpus
@pytest.mark.parametrize("grid", [(3, 3, 4), (3, 3, 0), (3, 2, 5)])
@pytest.mark.parametrize("name", STORED[1:])
def test_a_small_collage_tile_is_found_among_stored_strangers(crowded, name, grid):
    """A tile a third of the query's side is found by the query's enlarged keypoints: at
    the working side its corners are finer than the stored picture's (this missed 5 of
    these 6 before the enlarged view; ``mde/simple.jpg``, small and smooth, is missed
    either way)."""
    copy = tiled(corpus_picture(name), *grid)
    assert [m.media_id for m in find(crowded, copy)] == [name]


def test_indexed_keypoints_are_taken_in_turn_from_every_pyramid_level():
    # Level 0 holds the 300 strongest corners, levels 1-7 weaker ones, 10 each: by strength
    # alone every indexed keypoint would be of level 0.
    responses = np.r_[np.linspace(1000, 701, 300), np.linspace(500, 431, 70)]
    levels = np.r_[np.zeros(300, int), np.repeat(np.arange(1, 8), 10)]
    order = _indexed_first(responses, levels)
    assert sorted(order.tolist()) == list(range(370))  # each keypoint once
    first = order[:INDEXED_KEYPOINTS]
    # Each of the 8 levels' 10 strongest (80), then level 0's next 48, strongest first.
    assert np.bincount(levels[first], minlength=8).tolist() == [58] + [10] * 7
    assert order[:8].tolist() == [0, 300, 310, 320, 330, 340, 350, 360]
    rest = order[INDEXED_KEYPOINTS:]
    assert np.all(np.diff(responses[rest]) <= 0)  # the others by strength


@needs_corpus
def test_enlarged_keypoints_are_in_working_side_pixels():
    door = probe(corpus_picture(STORED[1]))
    found = door.enlarged_keypoints
    assert found.side == WORK_SIDE and len(found) == QUERY_FEATURES
    assert 0 <= found.points.min() and found.points.max() < WORK_SIDE
    # Corners at twice the side: some are new, finer than any at the working side.
    own = {tuple(p) for p in np.round(door.keypoints.points).astype(int).tolist()}
    mine = {tuple(p) for p in np.round(found.points).astype(int).tolist()}
    assert 0 < len(mine & own) < len(mine)


@needs_corpus
@pytest.mark.parametrize("transform", ["crop", "rotate", "collage", "composite", "mirror-crop"])
@pytest.mark.parametrize("name", [*STORED, UNRELATED[0]])
def test_keypoint_pairs_are_the_brute_force_matchers_in_its_order(archive, name, transform):
    """RANSAC samples pairs by position: the same pairs in the same order, the same result."""
    make = HARDER.get(transform) or TRANSFORMS[transform]
    copy = make(corpus_picture(name), random.Random(name))
    copy.thumbnail((WORKING_SIZE, WORKING_SIZE))
    query = probe(copy)
    _, stored = archive
    for view in (query.keypoints, query.mirror_keypoints):
        for theirs in stored.values():
            old = matcher_pairs(view.descriptors, theirs.descriptors)
            assert np.array_equal(_mutual_pairs(view.descriptors, theirs.descriptors), old)


@needs_corpus
def test_views_of_a_screenshot_and_a_quarter_turn_are_named_by_their_hash(archive):
    door = corpus_picture(STORED[1])
    turned = find(archive, door.transpose(Image.Transpose.ROTATE_90))
    assert [(m.media_id, m.method, m.distance) for m in turned] == [(STORED[1], "phash-turned", 0)]
    chat = HARDER["chat-screenshot"](door, random.Random(1))
    [found] = find(archive, chat)
    assert (found.media_id, found.method) == (STORED[1], "trimmed-phash")


def test_picture_box_finds_the_photo_in_a_chat_bubble_and_beside_a_sidebar():
    picture = _scene(5)
    screen = Image.new("RGB", (1080, 1900), (17, 27, 33))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 1080, 90), fill=(32, 44, 51))
    draw.rounded_rectangle((40, 300, 40 + 640 + 24, 300 + 480 + 200), 30, fill=(32, 44, 51))
    draw.text((70, 316), "Forwarded from Frontline", fill="white", font_size=32)
    screen.paste(picture, (52, 370))
    draw.text((70, 880), "BREAKING: strike tonight", fill="white", font_size=34)
    # The photo is at (52, 370, 692, 850), found at 256 px on the long side: a line there
    # is 7 px here.
    assert picture_box(screen) == (52, 369, 693, 852)
    page = Image.new("RGB", (1280, 700), "white")
    page.paste(picture, (40, 100))
    for i in range(4):
        page.paste(_scene(10 + i).resize((400, 120)), (720, 100 + i * 140))
    assert picture_box(page) == (38, 98, 682, 581)  # (40, 100, 680, 580); a line is 5 px
    assert picture_box(picture) == (0, 0, 640, 480)


@needs_corpus
@pytest.mark.parametrize("transform", ["recompress", "crop", "caption", "screenshot", "rotate"])
@pytest.mark.parametrize("name", UNRELATED)
def test_unrelated_photos_match_nothing(archive, name, transform):
    copy = TRANSFORMS[transform](corpus_picture(name), random.Random(name))
    assert find(archive, copy) == []


@needs_corpus
def test_same_pixels_in_another_container_is_an_exact_match(archive, tmp_path):
    png = tmp_path / "same.png"
    corpus_picture(STORED[1]).save(png)
    matches = find(archive, open_picture(png).image)
    assert (matches[0].media_id, matches[0].method, matches[0].distance) == (STORED[1], "pixels", 0)
    assert matches[0].score == 1.0


@needs_corpus
def test_mirror_image_is_named_as_such(archive):
    flipped = corpus_picture(STORED[0]).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    matches = find(archive, flipped)
    assert (matches[0].media_id, matches[0].method, matches[0].distance) == (
        STORED[0],
        "phash-mirror",
        0,
    )


@needs_corpus
def test_crop_is_verified_by_keypoints(archive):
    img = corpus_picture(STORED[2])
    w, h = img.size
    matches = find(archive, img.crop((w // 4, 0, w, h)))
    assert [(m.media_id, m.method) for m in matches] == [(STORED[2], "keypoints")]
    assert 0 < matches[0].distance < 1


def test_keyframe_match_reports_its_time():
    frames = [_scene(seed) for seed in range(3)]
    index = FingerprintIndex.from_prints(
        (key, "video1", float(key * 2), fingerprint(img)) for key, img in enumerate(frames)
    )
    matches = search(index, probe(frames[2].resize((320, 240))), lambda keys: {})
    assert [(m.media_id, m.frame_time_s, m.method) for m in matches] == [("video1", 4.0, "phash")]


def test_flat_picture_matches_only_its_exact_copy():
    white, grey = Image.new("RGB", (300, 200), "white"), Image.new("RGB", (300, 200), "#f0f0f0")
    index = FingerprintIndex.from_prints([(0, "white", None, fingerprint(white))])
    assert fingerprint(white).informative is False
    assert search(index, probe(grey), lambda keys: {}) == []
    assert [m.method for m in search(index, probe(white), lambda keys: {})] == ["pixels"]


def test_content_box_cuts_a_caption_band_and_screen_bars():
    picture = _scene(7)
    framed = Image.new("RGB", (640, 480 + 160 + 120), "white")
    draw = ImageDraw.Draw(framed)
    draw.text((20, 40), "BREAKING: this happened today", fill="black", font_size=40)
    framed.paste(picture, (0, 160))
    draw.rectangle((0, 640, 640, 760), fill=(20, 20, 20))
    draw.text((20, 680), "12:41   ▲ ● ■", fill="white", font_size=30)
    # Found at 256 px on the long side: one line there is three here.
    assert content_box(framed) == (0, 157, 640, 641)
    assert content_box(picture) == (0, 0, 640, 480)


def test_fingerprint_record_and_keypoints_round_trip():
    fp = fingerprint(_scene(3))
    record = np.frombuffer(fp.record(), dtype=RECORD)[0]
    assert int(record["pixels"]) == fp.pixels
    assert tuple(int(v) for v in record["fine"]) == fp.fine
    assert tuple(int(v) for v in record["coarse"]) == fp.coarse
    assert len(fp.coarse) == len(WINDOWS) == 16
    again = Keypoints.from_bytes(fp.keypoints.to_bytes())
    assert np.array_equal(again.points, fp.keypoints.points)
    assert np.array_equal(again.descriptors, fp.keypoints.descriptors)
    assert len(again) > 100


def test_fingerprint_of_a_tiny_picture():
    fp = fingerprint(Image.new("RGB", (1, 1), "red"))
    assert (fp.informative, len(fp.keypoints), fp.content_box) == (False, 0, (0, 0, 1, 1))


def test_exact_matches_come_first_then_by_score():
    found = [
        Match("a", None, "keypoints", 0.5, 0.9),
        Match("b", None, "phash", 4, hash_score(4)),
        Match("c", None, "pixels", 0, 1.0),
        Match("b", 2.0, "phash", 2, hash_score(2)),
    ]
    assert [(m.media_id, m.frame_time_s) for m in best_per_media(found)] == [
        ("c", None),
        ("b", 2.0),
        ("a", None),
    ]
    assert (hash_score(0), hash_score(8), hash_score(40)) == (1.0, 0.75, 0.0)


def _scene(seed: int) -> Image.Image:
    """A synthetic picture with shapes and texture, different for every seed."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    img = Image.fromarray(noise).resize((640, 480), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(25):
        x, y = rng.integers(0, 600), rng.integers(0, 440)
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        draw.rectangle((x, y, x + rng.integers(10, 80), y + rng.integers(10, 80)), fill=colour)
    return img


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 60),
    height=st.integers(1, 60),
    mode=st.sampled_from(["RGB", "L", "P", "RGBA", "1"]),
    seed=st.integers(0, 2**16),
)
def test_any_small_picture_is_fingerprinted_and_searched(width, height, mode, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    img = Image.fromarray(pixels).convert(mode)
    fp = fingerprint(img)
    index = FingerprintIndex.from_prints([(0, "same", None, fp)])
    matches = search(index, probe(img), lambda keys: {0: fp.keypoints})
    assert [(m.media_id, m.method) for m in matches] == [("same", "pixels")]
