"""Perceptual hashes of a decoded picture: the fingerprints that survive re-encoding.

All hashes are returned as lowercase hex strings so they can be stored and
compared anywhere (JSON, SQL, another newsroom's tools).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import imagehash
import numpy as np
import pdqhash
from PIL import Image

# PDQ downsamples to 64x64 after a tent filter; 512 px is what Meta's reference
# implementation feeds it, so larger inputs only cost time.
PDQ_INPUT_SIZE = 512
# imagehash's hashes look at 8x8 to 64x64 pictures (wHash at the largest power
# of two that fits): a 256 px input gives the same bits at a fraction of the cost.
IMAGEHASH_INPUT_SIZE = 256


IMAGEHASHES: dict[str, Callable[[Image.Image], imagehash.ImageHash]] = {
    "phash": imagehash.phash,
    "dhash": imagehash.dhash,
    "ahash": imagehash.average_hash,
    "whash": imagehash.whash,
    "colorhash": imagehash.colorhash,
}
HASH_NAMES = (*IMAGEHASHES, "pdq")
# A video's keyframes: enough to find a frame again, at a fraction of the cost,
# their imagehash hashes taken at PDQ's size as they always were.
KEYFRAME_HASH_NAMES = ("phash", "dhash", "pdq")


@dataclass(frozen=True)
class PerceptualHashes:
    hashes: dict[str, str]  # phash, dhash, ahash, whash, colorhash, pdq
    pdq_quality: int


def pdq_hash(img: Image.Image) -> tuple[str, int]:
    """PDQ hash (256 bits as 64 hex digits) and its quality score (0-100)."""
    bits, quality = pdqhash.compute(np.asarray(shrunk(img.convert("RGB"), PDQ_INPUT_SIZE)))
    return bits_to_hex(bits), int(quality)


def shrunk(img: Image.Image, size: int) -> Image.Image:
    """The picture at most ``size`` px on its long side (a copy only when it shrinks)."""
    if max(img.size) <= size:
        return img
    small = img.copy()
    small.thumbnail((size, size), Image.Resampling.BILINEAR)
    return small


def bits_to_hex(bits: np.ndarray) -> str:
    packed = np.packbits(np.asarray(bits, dtype=np.uint8))
    return packed.tobytes().hex()


def compute_hashes(
    img: Image.Image,
    names: Collection[str] = HASH_NAMES,
    imagehash_size: int = IMAGEHASH_INPUT_SIZE,
) -> PerceptualHashes:
    """The ``names`` hashes of one picture: pHash, dHash, aHash, wHash, colour hash, PDQ.

    imagehash's hashes are taken at ``imagehash_size`` px: stored hashes must be
    computed again the same way, so each kind of picture keeps its size.
    """
    rgb = shrunk(img.convert("RGB"), PDQ_INPUT_SIZE)
    pdq, quality = pdq_hash(rgb)
    rgb = shrunk(rgb, imagehash_size)
    hashes = {name: str(IMAGEHASHES[name](rgb)) for name in IMAGEHASHES if name in names}
    if "pdq" in names:
        hashes["pdq"] = pdq
    return PerceptualHashes(hashes=hashes, pdq_quality=quality)


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hex hashes of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
