"""Golden digests of whole probes: the fingerprint, the query's keypoints and every view.

Recorded with the computation before issue 17 made it cheaper (one grey copy, the content
box found once, the mirror image's grey levels flipped rather than converted again): the
index compares stored prints with new ones, so a faster computation must give the same
bits, down to each keypoint's coordinates and descriptor. The digest holds the record and
every keypoint, not the keypoint words: they are cut from the descriptors, in a layout the
index may change (re-recorded with commit 85b378b's computation when the words became 20-bit,
and again when the indexed keypoints were taken in turn from every pyramid level and the
enlarged view joined the digest).
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
        _keypoint_bytes(probe.enlarged_keypoints),
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
    ("strike.jpg", "as is"): "2290c8e7d3b1762f",
    ("strike.jpg", "on a page"): "176b45f8aba3e1f9",
    ("strike.jpg", "small"): "cd237b67884b76d6",
    ("strike.jpg", "mirrored"): "ce8f006397b35d6b",
    ("strike.jpg", "grey"): "d9ddf78ad3db416d",
    ("reshared.jpg", "as is"): "4ba54c0125efa727",
    ("reshared.jpg", "on a page"): "0f275443876499c3",
    ("reshared.jpg", "small"): "7af63f8882854e85",
    ("reshared.jpg", "mirrored"): "49e7c15b545a4b0d",
    ("reshared.jpg", "grey"): "5945a6dbf56f4476",
    ("unrelated.png", "as is"): "cc63db1f92d654f6",
    ("unrelated.png", "on a page"): "fc8c593eaf15cf47",
    ("unrelated.png", "small"): "1e1a232afe848e2a",
    ("unrelated.png", "mirrored"): "562ec69b0ef06de0",
    ("unrelated.png", "grey"): "b39c6cf80d8e06bc",
}


@pytest.mark.parametrize(("name", "view"), sorted(GOLDEN_SAMPLES))
def test_probes_of_the_samples_are_bit_for_bit_as_recorded(name, view):
    assert probe_digest(views(SAMPLES / name)[view]) == GOLDEN_SAMPLES[name, view]


GOLDEN_CORPUS = {
    ("exifr/IMG_20180725_163423.jpg", "as is"): "f47e2d0a751c6869",
    ("exifr/IMG_20180725_163423.jpg", "on a page"): "84088a20284dedd0",
    ("exifr/IMG_20180725_163423.jpg", "small"): "a9eb88434ca727db",
    ("exifr/IMG_20180725_163423.jpg", "mirrored"): "394cc06f07ad47ce",
    ("exifr/IMG_20180725_163423.jpg", "grey"): "a83437a61955a129",
    ("exifr/door-knocker.jpg", "as is"): "c41430d685cbd188",
    ("exifr/door-knocker.jpg", "on a page"): "9dbdad561d92f7a9",
    ("exifr/door-knocker.jpg", "small"): "23a6c85caed3b611",
    ("exifr/door-knocker.jpg", "mirrored"): "341d0f188c1fc6c5",
    ("exifr/door-knocker.jpg", "grey"): "67d6dafd39bea397",
    ("exifr/heic-iphone.heic", "as is"): "65fa9c2140d4495b",
    ("exifr/heic-iphone.heic", "on a page"): "f8efd826a5f10112",
    ("exifr/heic-iphone.heic", "small"): "0f5343a5e11b33b3",
    ("exifr/heic-iphone.heic", "mirrored"): "d86d6bb0190b7b61",
    ("exifr/heic-iphone.heic", "grey"): "077d0500136761be",
    ("mde/BELOW_SEA_LEVEL.JPG", "as is"): "fce66ce757da4fae",
    ("mde/BELOW_SEA_LEVEL.JPG", "on a page"): "3656874d0d1301bd",
    ("mde/BELOW_SEA_LEVEL.JPG", "small"): "3138612801ba1b89",
    ("mde/BELOW_SEA_LEVEL.JPG", "mirrored"): "8861313d716e0d76",
    ("mde/BELOW_SEA_LEVEL.JPG", "grey"): "6c900435f124b47b",
}


@needs_corpus
@pytest.mark.parametrize(("rel", "view"), sorted(GOLDEN_CORPUS))
def test_probes_of_corpus_photos_are_bit_for_bit_as_recorded(rel, view):
    assert probe_digest(views(FILES / rel)[view]) == GOLDEN_CORPUS[rel, view]
