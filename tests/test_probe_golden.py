"""Golden digests of whole probes: the fingerprint, the query's keypoints and every view.

Recorded with the computation before issue 17 made it cheaper (one grey copy, the content
box found once, the mirror image's grey levels flipped rather than converted again): the
index compares stored prints with new ones, so a faster computation must give the same
bits, down to each keypoint's coordinates and descriptor.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from mediacheck.match.fingerprints import Keypoints, Probe
from mediacheck.media.pictures import open_picture
from tests.corpus import FILES, needs_corpus

SAMPLES = Path(__file__).resolve().parents[1] / "mediacheck" / "samples"


def probe_digest(img: Image.Image) -> str:
    probe = Probe(img)
    found = probe.print
    digest = hashlib.sha256()
    for part in (
        found.entry(),
        repr((found.content_box, probe.mirror_fine, probe.mirror_coarse)).encode(),
        repr((probe.picture_fine, probe.turned_fine)).encode(),
        _keypoint_bytes(found.keypoints),
        _keypoint_bytes(probe.keypoints),
        _keypoint_bytes(probe.mirror_keypoints),
        _keypoint_bytes(probe.content_keypoints),
    ):
        digest.update(part)
    return digest.hexdigest()[:16]


def _keypoint_bytes(found: Keypoints | None) -> bytes:
    if found is None:
        return b"none"
    return found.points.tobytes() + found.descriptors.tobytes() + str(found.side).encode()


def page(img: Image.Image) -> Image.Image:
    """The picture on a page with a caption band: its picture box is a smaller part."""
    sheet = Image.new("RGB", (img.width + 80, img.height + 300), (250, 250, 250))
    sheet.paste(img, (40, 120))
    return sheet


def views(path: Path) -> dict[str, Image.Image]:
    img = open_picture(path).image
    width, height = img.size
    return {
        "as is": img,
        "on a page": page(img),
        "small": img.resize((width // 6, height // 6)),
        "mirrored": ImageOps.mirror(img),
        "grey": img.convert("L"),
    }


GOLDEN_SAMPLES = {
    ("strike.jpg", "as is"): "23dd4b26d4e4d712",
    ("strike.jpg", "on a page"): "47c2d96f085b8a97",
    ("strike.jpg", "small"): "c66dc234ea163d36",
    ("strike.jpg", "mirrored"): "8f18066efcfc4109",
    ("strike.jpg", "grey"): "18a979062d7289a6",
    ("reshared.jpg", "as is"): "a71d216c907f91e3",
    ("reshared.jpg", "on a page"): "08c1f92607990df2",
    ("reshared.jpg", "small"): "2028701cde6781b3",
    ("reshared.jpg", "mirrored"): "0c3313d4efee52f2",
    ("reshared.jpg", "grey"): "6348e06361eeb715",
    ("unrelated.png", "as is"): "00cf55882f6c9b36",
    ("unrelated.png", "on a page"): "bf3112e3d544d1b1",
    ("unrelated.png", "small"): "a496980051d55edb",
    ("unrelated.png", "mirrored"): "d2e69b9e4c68f189",
    ("unrelated.png", "grey"): "120f17156314fc34",
}


@pytest.mark.parametrize(("name", "view"), sorted(GOLDEN_SAMPLES))
def test_probes_of_the_samples_are_bit_for_bit_as_recorded(name, view):
    assert probe_digest(views(SAMPLES / name)[view]) == GOLDEN_SAMPLES[name, view]


GOLDEN_CORPUS = {
    ("exifr/IMG_20180725_163423.jpg", "as is"): "89db179f3e0d4f74",
    ("exifr/IMG_20180725_163423.jpg", "on a page"): "3f0d0e43d62c0045",
    ("exifr/IMG_20180725_163423.jpg", "small"): "261febd361dbc854",
    ("exifr/IMG_20180725_163423.jpg", "mirrored"): "60fa56358882a79a",
    ("exifr/IMG_20180725_163423.jpg", "grey"): "6629849af47fcdbf",
    ("exifr/door-knocker.jpg", "as is"): "f8854429c37edb39",
    ("exifr/door-knocker.jpg", "on a page"): "6255c38b6b1d6d68",
    ("exifr/door-knocker.jpg", "small"): "56753fa29d4261c1",
    ("exifr/door-knocker.jpg", "mirrored"): "d7f593c2d89afe69",
    ("exifr/door-knocker.jpg", "grey"): "38289b16cb7702e1",
    ("exifr/heic-iphone.heic", "as is"): "d1a6f2415aa02483",
    ("exifr/heic-iphone.heic", "on a page"): "2c637603610c8e4b",
    ("exifr/heic-iphone.heic", "small"): "65b6680f8b66c1b4",
    ("exifr/heic-iphone.heic", "mirrored"): "510bc79403348743",
    ("exifr/heic-iphone.heic", "grey"): "74e72258e7d961c4",
    ("mde/BELOW_SEA_LEVEL.JPG", "as is"): "1a86ee047decefe0",
    ("mde/BELOW_SEA_LEVEL.JPG", "on a page"): "b64cc89b010a1f32",
    ("mde/BELOW_SEA_LEVEL.JPG", "small"): "a2e0f6dc56ce03f8",
    ("mde/BELOW_SEA_LEVEL.JPG", "mirrored"): "24d8d27e37c40c66",
    ("mde/BELOW_SEA_LEVEL.JPG", "grey"): "642f461ab953c3fd",
}


@needs_corpus
@pytest.mark.parametrize(("rel", "view"), sorted(GOLDEN_CORPUS))
def test_probes_of_corpus_photos_are_bit_for_bit_as_recorded(rel, view):
    assert probe_digest(views(FILES / rel)[view]) == GOLDEN_CORPUS[rel, view]
