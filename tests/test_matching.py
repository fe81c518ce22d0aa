"""Recycled-media detection: fingerprints, the index and the search, on real photos."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from mediacheck.match.fingerprints import (
    RECORD,
    WINDOWS,
    Keypoints,
    content_box,
    fingerprint,
    probe,
)
from mediacheck.match.index import FingerprintIndex, Match, best_per_media, hash_score, search
from mediacheck.media.pictures import WORKING_SIZE, open_picture
from tests.corpus import FILES, needs_corpus
from tests.reshare import HARDER, TRANSFORMS

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
