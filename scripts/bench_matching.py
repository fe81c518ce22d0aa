"""Measure recycled-media detection: recall per re-share transform, false matches, and scale.

    python scripts/bench_matching.py recall            # real photos of ../shared/corpus
    python scripts/bench_matching.py scale 100000 1000000

``recall``: the corpus photos are split into a stored half and a distractor half (copies of
one picture stay in one half). Every transform of ``tests/reshare.py`` is applied to every
photo; a stored photo's copy must find its original, a distractor's copy must find nothing.
The same queries are also run through a plain pHash (<= 10 bits) and PDQ (<= 31 bits).

``scale``: synthetic fingerprints are written through ``Store`` into a fresh SQLite store (or
a fresh schema on the tests' PostgreSQL server with ``--postgres``); the index is loaded back
and single queries are timed.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mediacheck import config  # noqa: E402
from mediacheck.errors import UnsupportedMedia  # noqa: E402
from mediacheck.match import search as seen  # noqa: E402
from mediacheck.match.fingerprints import RECORD, WINDOWS, Probe, fingerprint, probe  # noqa: E402
from mediacheck.match.index import COARSE_SHORT, FingerprintIndex, geometric_check, search  # noqa: E402
from mediacheck.media.hashes import hamming, pdq_hash  # noqa: E402
from mediacheck.media.pictures import WORKING_SIZE, open_picture  # noqa: E402
from mediacheck.store.cases import CaseFields  # noqa: E402
from mediacheck.store.database import Store  # noqa: E402
from mediacheck.store.media import MediaIntake  # noqa: E402
from mediacheck.store.models import CaseMedia, Media  # noqa: E402
from tests.backends import postgres_schema  # noqa: E402
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
    return float(np.asarray(image.convert("L"), dtype=np.float32).std())


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


@dataclass
class Margins:
    """How close unrelated pictures come: what the thresholds must stay clear of."""

    pairs: int = 0
    fine_16: int = 0
    coarse_short: int = 0
    closest_fine: int = 64
    most_inliers: int = 0

    def add(self, index: FingerprintIndex, query: Probe, keypoints: dict) -> None:
        near = index.nearest(query)
        self.pairs += len(index)
        self.fine_16 += int((near.fine <= 16).sum())
        self.coarse_short += int((near.coarse <= COARSE_SHORT).sum())
        self.closest_fine = min(self.closest_fine, int(near.fine.min()))
        for theirs in keypoints.values():
            inliers = geometric_check(query.print.keypoints, theirs).inliers
            self.most_inliers = max(self.most_inliers, inliers)

    def report(self) -> str:
        return (
            f"Unrelated pairs (distractor copies x stored photos): {self.pairs}; "
            f"pHash within 16 bits: {self.fine_16 / self.pairs:.2%}; "
            f"a window within {COARSE_SHORT} bits: {self.coarse_short / self.pairs:.2%}; "
            f"closest pHash: {self.closest_fine} bits; most keypoint inliers: {self.most_inliers}"
        )


def run_recall() -> None:
    stored, distractors = split(corpus_photos())
    prints = {p.name: fingerprint(p.image) for p in stored}
    index = FingerprintIndex.from_prints(
        (i, name, None, fp) for i, (name, fp) in enumerate(prints.items())
    )
    keypoints = {i: fp.keypoints for i, fp in enumerate(prints.values())}
    baseline = Baseline(stored)
    margins = Margins()
    print(f"{len(stored)} stored photos, {len(distractors)} distractors\n")
    print("| transform | recall | false matches | pHash <= 10 | PDQ <= 31 | keypoints agree |")
    print("|---|---|---|---|---|---|")
    totals = np.zeros(7, dtype=int)
    for transform in TRANSFORMS:
        row = _recall_row(transform, stored, distractors, index, keypoints, baseline, margins)
        totals += row
        print(_row_text(transform, *row))
    print(_row_text("**all**", *totals))
    print()
    print(margins.report())


def _recall_row(transform, stored, distractors, index, keypoints, baseline, margins):
    hits = base_ph = base_pdq = false = agree = 0
    for photo in stored:
        copy = reshare(photo, transform)
        query = probe(copy)
        hits += photo.name in _found(index, query, keypoints)
        agree += _verified(query, keypoints[index_row(index, photo.name)])
        by_phash, by_pdq = baseline.found(copy)
        base_ph += photo.name in by_phash
        base_pdq += photo.name in by_pdq
    for photo in distractors:
        query = probe(reshare(photo, transform))
        wrong = _found(index, query, keypoints)
        margins.add(index, query, keypoints)
        false += bool(wrong)
        if wrong:
            print(f"  false match: {transform} of {photo.name} -> {sorted(wrong)}", file=sys.stderr)
    return np.array([hits, len(stored), false, len(distractors), base_ph, base_pdq, agree])


def _row_text(label, hits, n, false, n_false, base_ph, base_pdq, agree) -> str:
    return (
        f"| {label} | {hits / n:.3f} | {false}/{n_false} | {base_ph / n:.2f} | {base_pdq / n:.2f} "
        f"| {agree / n:.2f} |"
    )


def index_row(index: FingerprintIndex, name: str) -> int:
    return next(row for row in range(len(index)) if index.media_id(row) == name)


def _verified(query: Probe, source) -> bool:
    """Whether the copy's keypoints (any view) agree with its own source's, short-listed or
    not ("keypoints agree"): a copy missed that passes was missed by the short list."""
    from mediacheck.match.index import MIN_INLIERS, _check_any_view

    return _check_any_view(query, source).inliers >= MIN_INLIERS


def _found(index: FingerprintIndex, query: Probe, keypoints: dict) -> set[str]:
    loader = lambda keys: {k: keypoints[k] for k in keys}  # noqa: E731
    return {m.media_id for m in search(index, query, loader)}


FRAMES_PER_VIDEO = 250  # an archive of long videos: most stored pictures are keyframes


def run_scale(sizes: list[int], postgres: bool, queries: int) -> None:
    print(
        "| stored pictures | backend | insert | load, all rows | load, snapshot + rows "
        "| query (stage 1) | search |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp, _database(postgres) as db_url:
            store = Store.open(config.resolve(store=Path(tmp), db_url=db_url, user="bench"))
            print(scale_row(store, size, queries))
            store.engine.dispose()


@contextmanager
def _database(postgres: bool) -> Iterator[str]:
    """A fresh PostgreSQL schema (the test server's), or "" for SQLite inside the store."""
    if not postgres:
        yield ""
        return
    with postgres_schema() as url:
        yield url


def scale_row(store: Store, size: int, queries: int) -> str:
    started = time.perf_counter()
    target = fill(store, size)
    insert_s = time.perf_counter() - started
    cold_s, _ = best_of(1, lambda: _loaded(store))  # every row; writes the snapshot
    load_s, archive = best_of(3, lambda: _loaded(store))
    probes = [target] + [probe(_query_picture(i)) for i in range(1, queries)]
    nearest_s = min(_timed(lambda p=p: archive.index.nearest(p)) for p in probes)
    search_s = min(_timed(lambda p=p: archive.search([p])) for p in probes)
    found = [m.media_id for m in archive.search([target])]
    assert found[:1] == ["target"], found
    return (
        f"| {size:,} | {store.engine.url.get_backend_name()} | {insert_s:.0f} s "
        f"| {cold_s * 1000:.0f} ms | {load_s * 1000:.0f} ms "
        f"| {nearest_s * 1000:.1f} ms | {search_s * 1000:.1f} ms |"
    )


def fill(store: Store, size: int) -> Probe:
    """``size`` synthetic pictures in videos of FRAMES_PER_VIDEO, plus one real photo."""
    rng = np.random.default_rng(size)
    case = store.create_case(CaseFields(title="scale benchmark"), "bench")
    photo = corpus_photos()[0]
    target = probe(photo.image)
    videos = -(-size // FRAMES_PER_VIDEO)
    for v in range(videos):
        _add_media(store, case.id, f"video{v:07d}", "video")
    _add_media(store, case.id, "target", "image")
    store.insert_fingerprints(
        [
            {
                "media_id": "target",
                "frame_time_s": None,
                "kind": seen.RECORD_KIND,
                "bits": target.print.record(),
            },
            {
                "media_id": "target",
                "frame_time_s": None,
                "kind": seen.KEYPOINTS_KIND,
                "bits": target.print.keypoints.to_bytes(),
            },
        ]
    )
    for start in range(0, size, 100_000):
        count = min(100_000, size - start)
        records = np.zeros(count, dtype=RECORD)
        records["pixels"] = rng.integers(0, 2**63, count, dtype=np.uint64)
        records["fine"] = rng.integers(0, 2**63, (count, 2), dtype=np.uint64)
        records["coarse"] = rng.integers(0, 2**32, (count, len(WINDOWS)), dtype=np.uint64)
        records["informative"] = 1
        store.insert_fingerprints(
            {
                "media_id": f"video{(start + i) // FRAMES_PER_VIDEO:07d}",
                "frame_time_s": float((start + i) % FRAMES_PER_VIDEO),
                "kind": seen.RECORD_KIND,
                "bits": records[i : i + 1].tobytes(),
            }
            for i in range(count)
        )
    return target


def _add_media(store: Store, case_id: str, media_id: str, kind: str) -> None:
    sha = hashlib.sha256(media_id.encode()).hexdigest()
    media = Media(
        id=media_id,
        sha256=sha,
        sha1=sha[:40],
        md5=sha[:32],
        size=1,
        kind=kind,
        mime="video/mp4" if kind == "video" else "image/jpeg",
        blob_path=f"originals/{sha}",
        first_name=media_id,
        created_at="2026-01-01T00:00:00+00:00",
    )
    link = CaseMedia(
        case_id=case_id,
        media_id=media_id,
        original_name=media_id,
        original_path=media_id,
        added_by="bench",
        added_at="2026-01-01T00:00:00+00:00",
    )
    store.add_media_to_case(MediaIntake(media, link, {"media_id": media_id}, case_id=case_id))


def _loaded(store: Store) -> seen.ArchiveSearch:
    archive = seen.ArchiveSearch(store)
    archive.refresh()
    return archive


def _query_picture(i: int) -> Image.Image:
    rng = np.random.default_rng(1000 + i)
    return Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).resize((640, 480))


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def best_of(n: int, work):
    best, result = float("inf"), None
    for _ in range(n):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("recall")
    scale = sub.add_parser("scale")
    scale.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    scale.add_argument("--postgres", action="store_true", help="the test server, not SQLite")
    scale.add_argument("--queries", type=int, default=5)
    args = parser.parse_args()
    if args.what == "recall":
        run_recall()
    else:
        run_scale(args.sizes, args.postgres, args.queries)


if __name__ == "__main__":
    main()
