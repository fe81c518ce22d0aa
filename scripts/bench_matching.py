"""Measure recycled-media detection: recall per re-share transform, false matches, and scale.

    python scripts/bench_matching.py recall            # real photos of ../shared/corpus
    python scripts/bench_matching.py scale 100000 1000000

``recall``: the corpus photos are split into a stored half and a distractor half (copies of
one picture stay in one half). Every transform of ``tests/reshare.py`` is applied to every
photo; a stored photo's copy must find its original, a distractor's copy must find nothing.
The same queries are also run through a plain pHash (<= 10 bits) and PDQ (<= 31 bits).

``scale``: synthetic fingerprints are written through ``Store`` into a fresh SQLite store
(and PostgreSQL with ``--db-url``); the index is loaded back and single queries are timed.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import imagehash
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mediacheck.errors import UnsupportedMedia  # noqa: E402
from mediacheck.fingerprint import Probe, fingerprint, probe  # noqa: E402
from mediacheck.imaging import WORKING_SIZE, open_picture  # noqa: E402
from mediacheck.matching import FingerprintIndex, search  # noqa: E402
from mediacheck.perceptual import hamming, pdq_hash  # noqa: E402
from tests.corpus import FILES, manifest  # noqa: E402
from tests.reshare import TRANSFORMS  # noqa: E402

MIN_SIDE = 100  # smaller files are icons and test stubs, not photos
MIN_SPREAD = 3.0  # grey-level spread of a blank picture
# Corpus files that are copies of one picture (found by eye): never split across the halves.
SAME_PICTURE = [
    {
        "exifr/IMG_20180725_163423.jpg",
        "exifr/IMG_20180725_163423-tiny.jpg",
        "exifr/avif/IMG_20180725_163423-micro.avif",
    },
    {"exifr/image9_14.jpg", "exifr/iptc-independent-photographer-example.jpg"},
    {"mde/withIptc.jpg", "mde/withIptcPhotoshop6.jpg"},
]


@dataclass
class Photo:
    name: str
    image: Image.Image


def corpus_photos() -> list[Photo]:
    photos = []
    for row in manifest():
        if row["kind"] != "image":
            continue
        try:
            picture = open_picture(FILES / row["file"])
        except UnsupportedMedia:
            continue
        image = picture.image
        if min(image.size) >= MIN_SIDE and _spread(image) >= MIN_SPREAD:
            photos.append(Photo(row["file"], image))
    return photos


def _spread(image: Image.Image) -> float:
    grey = image.convert("L")
    return float(__import__("numpy").asarray(grey, dtype="float32").std())


def split(photos: list[Photo]) -> tuple[list[Photo], list[Photo]]:
    """Alternate groups of copies, in an order fixed by their names' hashes."""
    group_of = {name: min(g) for g in SAME_PICTURE for name in g}
    groups: dict[str, list[Photo]] = {}
    for photo in photos:
        groups.setdefault(group_of.get(photo.name, photo.name), []).append(photo)
    order = sorted(groups, key=lambda k: hashlib.sha256(k.encode()).hexdigest())
    stored = [p for i, k in enumerate(order) if i % 2 == 0 for p in groups[k]]
    distractors = [p for i, k in enumerate(order) if i % 2 == 1 for p in groups[k]]
    return stored, distractors


def reshare(photo: Photo, transform: str) -> Image.Image:
    seed = int(hashlib.sha256(f"{photo.name}|{transform}".encode()).hexdigest()[:8], 16)
    copy = TRANSFORMS[transform](photo.image, random.Random(seed))
    copy.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BILINEAR)
    return copy


class Baseline:
    """One global hash and a threshold, as most tools do it."""

    def __init__(self, stored: list[Photo]):
        self.phash = {p.name: imagehash.phash(p.image) for p in stored}
        self.pdq = {p.name: pdq_hash(p.image)[0] for p in stored}

    def found(self, image: Image.Image) -> tuple[set[str], set[str]]:
        ph = imagehash.phash(image)
        pdq = pdq_hash(image)[0]
        by_phash = {n for n, h in self.phash.items() if h - ph <= 10}
        by_pdq = {n for n, h in self.pdq.items() if hamming(h, pdq) <= 31}
        return by_phash, by_pdq


def run_recall() -> None:
    stored, distractors = split(corpus_photos())
    names = {p.name: p for p in stored}
    prints = {p.name: fingerprint(p.image) for p in stored}
    index = FingerprintIndex.from_prints(
        (i, name, None, fp) for i, (name, fp) in enumerate(prints.items())
    )
    keypoints = {i: fp.keypoints for i, fp in enumerate(prints.values())}
    baseline = Baseline(stored)
    same = {name: g for g in SAME_PICTURE for name in g}
    print(f"{len(stored)} stored photos, {len(distractors)} distractors\n")
    print("| transform | recall | false matches | pHash <= 10 | PDQ <= 31 |")
    print("|---|---|---|---|---|")
    totals = [0, 0, 0, 0, 0, 0]
    for transform in TRANSFORMS:
        hits = base_ph = base_pdq = 0
        for photo in stored:
            copy = reshare(photo, transform)
            found = _found(index, probe(copy), keypoints)
            hits += photo.name in found
            by_phash, by_pdq = baseline.found(copy)
            base_ph += photo.name in by_phash
            base_pdq += photo.name in by_pdq
        false = 0
        for photo in distractors:
            found = _found(index, probe(reshare(photo, transform)), keypoints)
            wrong = found - same.get(photo.name, set())
            false += bool(wrong)
            if wrong:
                print(f"  false match: {transform} of {photo.name} -> {sorted(wrong)}", file=sys.stderr)
        for k, v in enumerate((hits, len(stored), false, len(distractors), base_ph, base_pdq)):
            totals[k] += v
        n = len(stored)
        print(
            f"| {transform} | {hits / n:.2f} | {false}/{len(distractors)} "
            f"| {base_ph / n:.2f} | {base_pdq / n:.2f} |"
        )
    hits, n, false, nd, base_ph, base_pdq = totals
    print(
        f"| **all** | **{hits / n:.3f}** | **{false}/{nd} = {false / nd:.3f}** "
        f"| {base_ph / n:.2f} | {base_pdq / n:.2f} |"
    )
    del names


def _found(index: FingerprintIndex, query: Probe, keypoints: dict) -> set[str]:
    loader = lambda keys: {k: keypoints[k] for k in keys}  # noqa: E731
    return {m.media_id for m in search(index, query, loader)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("recall")
    args = parser.parse_args()
    if args.what == "recall":
        run_recall()


if __name__ == "__main__":
    main()
