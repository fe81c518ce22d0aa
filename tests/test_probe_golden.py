"""Golden digests of whole probes: the fingerprint, the query's keypoints and every view.

Recorded with the computation before issue 17 made it cheaper (one grey copy, the content
box found once, the mirror image's grey levels flipped rather than converted again): the
index compares stored prints with new ones, so a faster computation must give the same
bits, down to each keypoint's coordinates and descriptor. The digest holds the record and
every keypoint, not the keypoint words: they are cut from the descriptors, in a layout the
index may change (re-recorded with commit 85b378b's computation when the words became 20-bit).
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
        found.record(),  # the words are the keypoints' own (their format is the index's)
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
    ("strike.jpg", "as is"): "36a21710f1d78fb7",
    ("strike.jpg", "on a page"): "0fd6b524ee3f075e",
    ("strike.jpg", "small"): "c860aa2cf15c70f0",
    ("strike.jpg", "mirrored"): "110fb5dd24529b1a",
    ("strike.jpg", "grey"): "f45e7093974f17d9",
    ("reshared.jpg", "as is"): "c206a8d9b2e59e45",
    ("reshared.jpg", "on a page"): "3a17a94e9eb8bd61",
    ("reshared.jpg", "small"): "b195b68a3fc07666",
    ("reshared.jpg", "mirrored"): "42361e1d58647a18",
    ("reshared.jpg", "grey"): "1ae7e11385ec3a25",
    ("unrelated.png", "as is"): "8ba04ad9899308df",
    ("unrelated.png", "on a page"): "32c056b71d0c0fd4",
    ("unrelated.png", "small"): "90e9d034236334ee",
    ("unrelated.png", "mirrored"): "cf55a6b4b66e3a35",
    ("unrelated.png", "grey"): "da3b45ad4c45535f",
}


@pytest.mark.parametrize(("name", "view"), sorted(GOLDEN_SAMPLES))
def test_probes_of_the_samples_are_bit_for_bit_as_recorded(name, view):
    assert probe_digest(views(SAMPLES / name)[view]) == GOLDEN_SAMPLES[name, view]


GOLDEN_CORPUS = {
    ("exifr/IMG_20180725_163423.jpg", "as is"): "b2683eba05058e92",
    ("exifr/IMG_20180725_163423.jpg", "on a page"): "510842990fb96f20",
    ("exifr/IMG_20180725_163423.jpg", "small"): "293719176c396892",
    ("exifr/IMG_20180725_163423.jpg", "mirrored"): "9eb1c9d3152db442",
    ("exifr/IMG_20180725_163423.jpg", "grey"): "40a030a4d2a8f7d8",
    ("exifr/door-knocker.jpg", "as is"): "2592456d3674c92b",
    ("exifr/door-knocker.jpg", "on a page"): "674585a9e8f0037b",
    ("exifr/door-knocker.jpg", "small"): "e50244df03927d01",
    ("exifr/door-knocker.jpg", "mirrored"): "d81b83dac554a3ee",
    ("exifr/door-knocker.jpg", "grey"): "d5ec0f533ccfeecb",
    ("exifr/heic-iphone.heic", "as is"): "a2185fc27820b6f9",
    ("exifr/heic-iphone.heic", "on a page"): "f093a348c2d2a055",
    ("exifr/heic-iphone.heic", "small"): "8a8d18bca32d9cd7",
    ("exifr/heic-iphone.heic", "mirrored"): "07813640a247a14c",
    ("exifr/heic-iphone.heic", "grey"): "fa5c5d65f1491edb",
    ("mde/BELOW_SEA_LEVEL.JPG", "as is"): "b39715278d079a23",
    ("mde/BELOW_SEA_LEVEL.JPG", "on a page"): "bd6949c5b8d4409e",
    ("mde/BELOW_SEA_LEVEL.JPG", "small"): "382ac7f647323a1c",
    ("mde/BELOW_SEA_LEVEL.JPG", "mirrored"): "f7f3fd3b38d426f5",
    ("mde/BELOW_SEA_LEVEL.JPG", "grey"): "fcab8382d601b843",
}


@needs_corpus
@pytest.mark.parametrize(("rel", "view"), sorted(GOLDEN_CORPUS))
def test_probes_of_corpus_photos_are_bit_for_bit_as_recorded(rel, view):
    assert probe_digest(views(FILES / rel)[view]) == GOLDEN_CORPUS[rel, view]
