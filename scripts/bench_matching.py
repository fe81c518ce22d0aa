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
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image, ImageEnhance, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mediacheck import config  # noqa: E402
from mediacheck.errors import UnsupportedMedia  # noqa: E402
from mediacheck.match import search as seen  # noqa: E402
from mediacheck.match.fingerprints import (  # noqa: E402
    INDEXED_KEYPOINTS,
    RECORD,
    WINDOWS,
    Probe,
    fingerprint,
    probe,
)
from mediacheck.match.index import COARSE_SHORT, FingerprintIndex, geometric_check, search  # noqa: E402
from mediacheck.match.words import WordIndex  # noqa: E402
from mediacheck.media.hashes import hamming, pdq_hash  # noqa: E402
from mediacheck.media.pictures import WORKING_SIZE, open_picture  # noqa: E402
from mediacheck.media.video.keyframes import extract_keyframes  # noqa: E402
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
            inliers = geometric_check(query.keypoints, theirs).inliers
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
    from mediacheck.match.index import MIN_INLIERS, _check_views, _views

    return _check_views(_views(query), source).inliers >= MIN_INLIERS


def _found(index: FingerprintIndex, query: Probe, keypoints: dict) -> set[str]:
    loader = lambda keys: {k: keypoints[k] for k in keys}  # noqa: E731
    return {m.media_id for m in search(index, query, loader)}


FRAMES_PER_VIDEO = 250  # an archive of long videos: most stored pictures are keyframes


def run_scale(sizes: list[int], postgres: bool, queries: int, adds: int) -> None:
    rows, appends = [], []
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp, _database(postgres) as db_url:
            store = Store.open(config.resolve(store=Path(tmp), db_url=db_url, user="bench"))
            rows.append(scale_row(store, size, queries))
            print(rows[-1], file=sys.stderr, flush=True)
            appends.append(_appended_in_a_fresh_process(Path(tmp), db_url, adds))
            print(appends[-1], file=sys.stderr, flush=True)
            store.engine.dispose()
    print(
        "| stored pictures | backend | insert | load, all rows | load, snapshot + rows "
        "| query (stage 1) | search |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(
        "| stored pictures | backend | load from snapshot, CPU (wall) | RSS after load "
        "| intake --quick per file, CPU (wall) | add one picture: insert, wall "
        "| refresh, CPU median (p99, max) | search, CPU median "
        f"| RSS after {adds:,} added (peak) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(appends))


def _appended_in_a_fresh_process(folder: Path, db_url: str, adds: int) -> str:
    """``append`` in a process of its own: its memory is the intake process's."""
    command = [sys.executable, __file__, "append", str(folder), "--db", db_url]
    return subprocess.run(
        [*command, "--adds", str(adds)], check=True, stdout=subprocess.PIPE, text=True
    ).stdout.strip()


SEARCHED_ADDS = 200  # adds timed with a search each; the rest only refresh (for memory)


def run_append(folder: Path, db_url: str, adds: int) -> None:
    """Load the archive of a ``scale`` store from its snapshot, then add ``adds`` pictures
    one at a time as intake does (insert the row, then the search refreshes the index)."""
    store = Store.open(config.resolve(store=folder, db_url=db_url, user="bench"))
    query = probe(corpus_photos()[0].image)
    case = store.create_case(CaseFields(title="appended"), "bench")
    _add_media(store, case.id, "appended", "video")
    rng = np.random.default_rng(adds)
    wall, cpu = time.perf_counter(), time.process_time()
    archive = seen.ArchiveSearch(store)
    archive.refresh()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    size, loaded_rss = len(archive.index), _status_mb("VmRSS")
    intake_cpu, intake_wall = _intake_per_file(store, folder)
    inserting, refreshing, searching = [], [], []
    for i in range(adds):
        record = _random_records(rng, 1)
        started = time.perf_counter()
        store.insert_fingerprints(
            [
                {
                    "media_id": "appended",
                    "frame_time_s": float(i),
                    "kind": seen.RECORD_KIND,
                    "bits": record.tobytes(),
                }
            ]
        )
        inserting.append(time.perf_counter() - started)
        started = time.process_time()
        archive.refresh()
        refreshing.append(time.process_time() - started)
        if i < SEARCHED_ADDS:
            started = time.process_time()
            archive.search([query])
            searching.append(time.process_time() - started)
    assert len(archive.index) == size + INTAKE_PHOTOS + adds
    refresh_ms = np.array(refreshing) * 1000
    print(
        f"| {size:,} | {store.engine.url.get_backend_name()} "
        f"| {cpu * 1000:.0f} ms ({wall * 1000:.0f} ms) | {loaded_rss:,} MB "
        f"| {intake_cpu * 1000:.0f} ms ({intake_wall * 1000:.0f} ms) "
        f"| {np.median(inserting) * 1000:.1f} ms | {np.median(refresh_ms):.2f} ms "
        f"({np.percentile(refresh_ms, 99):.2f} ms, {refresh_ms.max():.0f} ms) "
        f"| {np.median(searching) * 1000:.1f} ms "
        f"| {_status_mb('VmRSS'):,} MB ({_status_mb('VmHWM'):,} MB) |"
    )


INTAKE_PHOTOS = 4


def _intake_per_file(store: Store, folder: Path) -> tuple[float, float]:
    """CPU and wall time per file of a real ``--quick`` intake of a few corpus photos."""
    from mediacheck.intake.pipeline import IntakeRequest, intake

    paths = []
    for i, photo in enumerate(corpus_photos()[1 : 1 + INTAKE_PHOTOS]):
        paths.append(folder / f"intake-{i}.jpg")
        photo.image.save(paths[-1], quality=90)
    wall, cpu = time.perf_counter(), time.process_time()
    results = intake(store, paths, IntakeRequest(user="bench", quick=True))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert [r.status for r in results] == ["added"] * len(paths), [r.status for r in results]
    return cpu / len(paths), wall / len(paths)


def _random_records(rng, count: int) -> np.ndarray:
    """Records with random hashes (``scale`` measures the cost of rows, not recall)."""
    records = np.zeros(count, dtype=RECORD)
    records["pixels"] = rng.integers(0, 2**63, count, dtype=np.uint64)
    records["fine"] = rng.integers(0, 2**63, (count, 2), dtype=np.uint64)
    records["coarse"] = rng.integers(0, 2**32, (count, len(WINDOWS)), dtype=np.uint64)
    records["informative"] = 1
    return records


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
                "bits": target.print.entry(),
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
        records = _random_records(rng, count)
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


# --- archive size: real pictures taken in through the real intake -----------------------

SKIMAGE_PHOTOS = (
    "astronaut", "brick", "camera", "cat", "cell", "coffee", "coins", "colorwheel", "grass",
    "gravel", "hubble_deep_field", "immunohistochemistry", "logo", "microaneurysms", "moon",
    "page", "retina", "rocket", "text", "clock", "horse",
)  # fmt: skip


def distractor_sources() -> list[Image.Image]:
    """Real pictures none of the query photos comes from: scikit-image's photos, video frames."""
    import skimage.data

    sources = []
    for name in SKIMAGE_PHOTOS:
        pixels = getattr(skimage.data, name)()
        if pixels.dtype == bool:
            pixels = pixels.astype(np.uint8) * 255
        sources.append(Image.fromarray(np.asarray(pixels, dtype=np.uint8)).convert("RGB"))
    with tempfile.TemporaryDirectory() as tmp:
        for row in manifest():
            if row["kind"] != "video":
                continue
            try:
                frames = extract_keyframes(FILES / row["file"], Path(tmp))
            except Exception:  # noqa: BLE001 - a video that does not decode gives no frames
                continue
            for frame in frames.keyframes:
                sources.append(Image.open(Path(tmp) / frame.file).convert("RGB"))
    return [s for s in sources if min(s.size) >= 64]


def distractor(sources: list[Image.Image], number: int) -> Image.Image:
    """A photo-like stranger: a mosaic of crops, a rotated crop or a rescaled crop of sources."""
    rng = random.Random(number)
    width, height = rng.randint(480, 1024), rng.randint(360, 1024)
    kind = rng.choice(["mosaic", "rotated", "crop"])
    if kind == "mosaic":
        canvas = Image.new("RGB", (width, height))
        cols, rows = rng.randint(1, 3), rng.randint(1, 3)
        for c in range(cols):
            for r in range(rows):
                box = (c * width // cols, r * height // rows)
                size = ((c + 1) * width // cols - box[0], (r + 1) * height // rows - box[1])
                canvas.paste(_piece(sources, rng, size), box)
    else:
        canvas = _piece(sources, rng, (width, height), turn=kind == "rotated")
    canvas = ImageEnhance.Color(canvas).enhance(rng.uniform(0.6, 1.4))
    canvas = ImageEnhance.Brightness(canvas).enhance(rng.uniform(0.7, 1.3))
    return canvas


def _piece(
    sources: list[Image.Image], rng: random.Random, size: tuple[int, int], turn: bool = False
) -> Image.Image:
    source = rng.choice(sources)
    if turn:
        source = source.rotate(rng.uniform(-180, 180), Image.Resampling.BICUBIC, expand=False)
    share = rng.uniform(0.25, 0.9)
    w, h = max(16, round(source.width * share)), max(16, round(source.height * share))
    left, top = rng.randint(0, source.width - w), rng.randint(0, source.height - h)
    piece = source.crop((left, top, left + w, top + h))
    if turn:  # the rotation's black corners cut away
        piece = piece.crop((w // 5, h // 5, w - w // 5, h - h // 5))
    if rng.random() < 0.5:
        piece = ImageOps.mirror(piece)
    return piece.resize(size, Image.Resampling.BILINEAR)


@dataclass
class Queries:
    """Re-shared copies written once as files: of stored photos (found?) and of unseen ones."""

    stored: list[tuple[str, str, Path]]  # (photo name, transform, file)
    unseen: list[tuple[str, str, Path]]


def write_queries(
    folder: Path, stored: list[Photo], unseen: list[Photo], per_photo: int
) -> Queries:
    """``per_photo`` transforms of each photo, in turn (all of them when it is their number)."""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, list[tuple[str, str, Path]]] = {"stored": [], "unseen": []}
    names = list(TRANSFORMS)
    for label, photos in (("stored", stored), ("unseen", unseen)):
        for i, photo in enumerate(photos):
            for j in range(min(per_photo, len(names))):
                transform = names[(i * per_photo + j) % len(names)]
                path = folder / f"{label}-{i:03d}-{transform}.png"
                if not path.exists():
                    reshare(photo, transform).save(path)
                made[label].append((photo.name, transform, path))
    return Queries(made["stored"], made["unseen"])


def _half(name: str) -> str:
    """Photos split once into a tuning half and an evaluation half (by their names' hash)."""
    return "tune" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "eval"


def run_archive(folder: Path, sizes: list[int], db_url: str, batch: int, per_photo: int) -> None:
    """Grow one archive of distractors to each size in turn, measuring after each."""
    from mediacheck.intake.pipeline import IntakeRequest

    folder.mkdir(parents=True, exist_ok=True)
    store = Store.open(config.resolve(store=folder / "store", db_url=db_url or None, user="bench"))
    stored, unseen = split(corpus_photos())
    queries = write_queries(folder / "queries", stored, unseen, per_photo)
    request = IntakeRequest(user="bench", quick=True)
    held = _taken_in(store)
    if "photos" not in held:
        paths = _photo_files(folder / "photos", stored)
        _timed_intake(store, paths, request, "stored photos")
        (folder / "store" / "photos.done").write_text("")
    sources = distractor_sources()
    count = held.get("distractors", 0)
    log = folder / "archive.md"
    for size in sizes:
        while count < size:
            step = min(batch, size - count)
            paths = _distractor_files(folder / "distractors", sources, count, step)
            seconds, rss = _timed_intake(store, paths, request, f"distractors {count}+{step}")
            for path in paths:
                path.unlink()
            count += step
            (folder / "store" / "distractors.count").write_text(str(count))
            with log.open("a") as out:
                out.write(f"intake {count}: {seconds / step * 1000:.0f} ms/file, rss {rss} MB\n")
        rows = archive_recall(store, queries)
        with log.open("a") as out:
            out.write(f"\n## {count} distractors + {len(stored)} photos ({_backend(store)})\n")
            out.write(rows + "\n")
        print(rows, flush=True)


def _taken_in(store: Store) -> dict[str, int]:
    root = store.root
    held = {}
    if (root / "photos.done").exists():
        held["photos"] = 1
    if (root / "distractors.count").exists():
        held["distractors"] = int((root / "distractors.count").read_text())
    return held


def _backend(store: Store) -> str:
    return store.engine.url.get_backend_name()


def _photo_files(folder: Path, photos: list[Photo]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, photo in enumerate(photos):
        path = folder / f"photo-{i:03d}.png"
        photo.image.save(path)
        paths.append(path)
    return paths


def _distractor_files(
    folder: Path, sources: list[Image.Image], first: int, count: int
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(first, first + count):
        path = folder / f"distractor-{number:07d}.jpg"
        distractor(sources, number).save(path, quality=random.Random(number).randint(70, 95))
        paths.append(path)
    return paths


def _timed_intake(store, paths, request, label) -> tuple[float, int]:
    from mediacheck.intake.pipeline import intake

    started = time.perf_counter()
    results = intake(store, paths, request)
    seconds = time.perf_counter() - started
    failed = [r for r in results if r.status == "error"]
    rss = _rss_mb()
    print(
        f"  {label}: {seconds:.0f} s, {seconds / len(paths) * 1000:.0f} ms/file, "
        f"{len(failed)} errors, rss {rss} MB",
        file=sys.stderr,
        flush=True,
    )
    return seconds, rss


def _rss_mb() -> int:
    return _status_mb("VmRSS")


def archive_recall(store: Store, queries: Queries) -> str:
    """Recall per transform (tuning and evaluation halves) and false matches, via ``match``."""
    names = {m.id: m.first_name for m in _all_media(store)}
    found: dict[tuple[str, str], bool] = {}
    false: dict[str, int] = {}
    started = time.perf_counter()
    stored_paths = [p for _, _, p in queries.stored]
    for (name, transform, _), result in zip(
        queries.stored, seen.match_files(store, stored_paths), strict=True
    ):
        hits = {names.get(m.media_id) for m in result.matches}
        found[(name, transform)] = f"photo-{_photo_number(name, queries)}.png" in hits
    unseen_paths = [p for _, _, p in queries.unseen]
    for (name, transform, _), result in zip(
        queries.unseen, seen.match_files(store, unseen_paths), strict=True
    ):
        if result.matches:
            false[transform] = false.get(transform, 0) + 1
            wrong = sorted({names.get(m.media_id) for m in result.matches} - {None})
            print(f"  false match: {transform} of {name} -> {wrong}", file=sys.stderr)
    per_query = (time.perf_counter() - started) / (len(stored_paths) + len(unseen_paths))
    lines = ["| transform | recall, tune | recall, eval | false matches |", "|---|---|---|---|"]
    for transform in TRANSFORMS:
        tried = sum(t == transform for _, t, _ in queries.unseen)
        lines.append(_archive_row(transform, found, false.get(transform, 0), tried))
    lines.append(_archive_row(None, found, sum(false.values()), len(queries.unseen)))
    lines.append(f"\n{per_query * 1000:.0f} ms per query file (match, whole pipeline)")
    return "\n".join(lines)


def _photo_number(name: str, queries: Queries) -> str:
    order = list(dict.fromkeys(n for n, _, _ in queries.stored))
    return f"{order.index(name):03d}"


def _archive_row(transform, found, false: int, unseen: int) -> str:
    def recall(half: str) -> str:
        hits = [v for (n, t), v in found.items() if (transform in (None, t)) and _half(n) == half]
        return f"{sum(hits) / len(hits):.3f} ({len(hits)})" if hits else "-"

    label = transform or "**all**"
    return f"| {label} | {recall('tune')} | {recall('eval')} | {false}/{unseen} |"


def _all_media(store: Store) -> list[Media]:
    from sqlmodel import Session, select

    with Session(store.engine) as session:
        return list(session.exec(select(Media)).all())


# --- a million pictures, on records ---------------------------------------------------

POOL = 300  # real distractor pictures whose records and keypoints the synthetic ones reuse


def run_records(sizes: list[int], folder: Path) -> None:
    """Each stage's cost at sizes no intake here could reach, on realistic records.

    Every synthetic picture is a variant of a real distractor picture (its pHashes with 8
    of 64 bits flipped, its windows with 4 of 32) whose keypoint words come half from that
    picture and half from another: the words' real frequencies, the hashes' real spread.
    The real stored photos are added last; their re-shared copies are searched. Then
    APPENDED more synthetic pictures are added one at a time to the loaded snapshot (the
    "append" table) and a new snapshot is written from base and delta.
    """
    sources = distractor_sources()
    pool = [fingerprint(distractor(sources, 20_000_000 + i)) for i in range(POOL)]
    stored, unseen = split(corpus_photos())
    photos = [fingerprint(p.image) for p in stored]
    rows, appends = [], []
    for size in sizes:
        row, append = records_row(size, pool, stored, photos, unseen, folder)
        print(row, file=sys.stderr, flush=True)
        rows.append(row)
        appends.append(append)
    print(
        "| stored pictures | index memory | per picture | build | snapshot load, CPU (wall) "
        "| query fingerprint, CPU | search (all stages), CPU | query, wall | recall "
        "| false matches |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(
        f"| stored pictures | RSS after load (private) | add one picture, CPU median (p99, max) "
        f"| search after adds, CPU median | RSS after {APPENDED:,} added (private) "
        "| new snapshot, CPU (wall) | its peak above RSS |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(appends))


APPENDED = 5_000  # pictures added one at a time to the loaded snapshot in ``records``
SEARCHES_WHILE_ADDING = 20


def records_row(size, pool, stored, photos, unseen, folder: Path) -> tuple[str, str]:
    rng = np.random.default_rng(size)
    started = time.perf_counter()
    index, sources = synthetic_index(size, pool, rng)
    index.append_rows(
        (size + i, p.name, None, fp.entry())
        for i, (p, fp) in enumerate(zip(stored, photos, strict=True))
    )
    build_s = time.perf_counter() - started
    path = folder / f"records-{size}.snapshot"
    _write(index, path)
    del index
    load_cpu = time.process_time()
    load_s, index = best_of(1, lambda: FingerprintIndex.load(path))
    load_cpu = time.process_time() - load_cpu
    loaded_rss = (_status_mb("VmRSS"), _status_mb("RssAnon"))
    memory = index_bytes(index)
    keypoints = {size + i: fp.keypoints for i, fp in enumerate(photos)}
    appended: dict[int, int] = {}  # key of an appended picture: its pool picture

    def keypoints_of(key: int):
        if key in keypoints:
            return keypoints[key]
        return pool[appended[key] if key in appended else sources[key]].keypoints

    def loader(keys):
        return {k: keypoints_of(k) for k in keys}

    probing, searching, walls, hits, false = [], [], [], 0, 0
    transforms = list(TRANSFORMS)
    queries = []
    for i, photo in enumerate([*stored, *unseen]):
        query = reshare(photo, transforms[i % len(transforms)])
        wall, cpu = time.perf_counter(), time.process_time()
        picture = probe(query)
        probed = time.process_time()
        found = {m.media_id for m in search(index, picture, loader)}
        probing.append(probed - cpu)
        searching.append(time.process_time() - probed)
        walls.append(time.perf_counter() - wall)
        queries.append(picture)
        if i < len(stored):
            hits += photo.name in found
        else:
            false += bool(found)
    probe_ms, search_ms, wall_ms = (np.median(t) * 1000 for t in (probing, searching, walls))
    row = (
        f"| {size:,} | {memory / 2**20:.0f} MB | {memory / len(index):.0f} B "
        f"| {build_s:.0f} s | {load_cpu * 1000:.0f} ms ({load_s * 1000:.0f} ms) "
        f"| {probe_ms:.0f} ms | {search_ms:.0f} ms "
        f"(p90 {np.percentile(searching, 90) * 1000:.0f} ms) | {wall_ms:.0f} ms "
        f"| {hits}/{len(stored)} | {false}/{len(unseen)} |"
    )
    append = appended_row(index, pool, rng, (loader, appended), queries, loaded_rss, path)
    path.unlink()
    return row, append


def appended_row(index, pool, rng, keypoints, queries, loaded_rss, path: Path) -> str:
    """APPENDED pictures added one at a time, searches among them, then a new snapshot."""
    size = len(index)
    loader, appended = keypoints
    records, lists, picked = synthetic_records(APPENDED, pool, rng)
    appended.update((size + i, int(p)) for i, p in enumerate(picked))
    entries = [
        (size + i, "appended", float(i), records[i : i + 1].tobytes() + lists[i].tobytes())
        for i in range(APPENDED)
    ]
    adding, searching = [], []
    every = APPENDED // SEARCHES_WHILE_ADDING
    for i, entry in enumerate(entries):
        cpu = time.process_time()
        index.append_rows([entry])
        adding.append(time.process_time() - cpu)
        if i % every == every - 1:
            cpu = time.process_time()
            search(index, queries[(i // every) % len(queries)], loader)
            searching.append(time.process_time() - cpu)
    added_rss, added_anon = _status_mb("VmRSS"), _status_mb("RssAnon")
    Path("/proc/self/clear_refs").write_text("5")  # the peak from here on
    before = _status_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    rewritten = path.with_suffix(".rewritten")
    _write(index, rewritten)
    FingerprintIndex.load(rewritten)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = _status_mb("VmHWM") - before
    rewritten.unlink()
    add_ms = np.array(adding) * 1000
    return (
        f"| {size:,} | {loaded_rss[0]:,} MB ({loaded_rss[1]:,} MB) | {np.median(add_ms):.2f} ms "
        f"({np.percentile(add_ms, 99):.2f} ms, {add_ms.max():.0f} ms) "
        f"| {np.median(searching) * 1000:.0f} ms | {added_rss:,} MB ({added_anon:,} MB) "
        f"| {cpu * 1000:,.0f} ms ({wall * 1000:,.0f} ms) | {peak:,} MB |"
    )


def _write(index: FingerprintIndex, path: Path) -> None:
    with open(path, "wb") as handle:
        index.save(handle)


def _status_mb(field: str) -> int:
    """A field of /proc/self/status (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) // 1024
    return 0


def synthetic_index(size: int, pool, rng) -> tuple[FingerprintIndex, np.ndarray]:
    """``size`` variants of the pool's pictures, as keyframes of videos of FRAMES_PER_VIDEO."""
    records, lists, sources = synthetic_records(size, pool, rng)
    media = np.array([f"video{i // FRAMES_PER_VIDEO:07d}".encode() for i in range(size)])
    index = FingerprintIndex(
        words=WordIndex.from_words(lists),
        keys=np.arange(size, dtype=np.int64),
        media_ids=media,
        frame_times=(np.arange(size) % FRAMES_PER_VIDEO).astype(np.float64),
        pixels=np.ascontiguousarray(records["pixels"]),
        fine=np.ascontiguousarray(records["fine"].T),
        coarse=np.ascontiguousarray(records["coarse"].T),
        informative=np.ones(size, dtype=bool),
    )
    return index, sources


def synthetic_records(size: int, pool, rng) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Records and keypoint words of ``size`` variants of the pool's pictures, and the
    pool picture each is a variant of."""
    sources = rng.integers(0, len(pool), size)
    others = rng.integers(0, len(pool), size)
    records = np.frombuffer(b"".join(fp.record() for fp in pool), dtype=RECORD)[sources].copy()
    records["pixels"] = rng.integers(0, 2**63, size, dtype=np.uint64)
    records["fine"] ^= _sparse_bits(rng, (size, 2), 64, 8)
    records["coarse"] ^= _sparse_bits(rng, (size, len(WINDOWS)), 32, 4).astype(np.uint32)
    words = [fp.keypoints.words(INDEXED_KEYPOINTS).ravel().astype("<u4") for fp in pool]
    lists = []
    for a, b in zip(sources, others, strict=True):
        half = len(words[a]) // 2
        lists.append(np.concatenate([words[a][:half], words[b][half:]]))
    return records, lists, sources


def _sparse_bits(rng, shape: tuple[int, int], bits: int, flips: int) -> np.ndarray:
    """Masks of ``flips`` random bits of ``bits`` each (drawn 64k rows at a time: the same
    stream of random numbers as one draw, without its gigabytes of working memory)."""
    masks = []
    for start in range(0, shape[0], 1 << 16):
        rows = min(1 << 16, shape[0] - start)
        chosen = np.argsort(rng.random((rows, shape[1], bits)), axis=-1)[..., :flips]
        masks.append((np.uint64(1) << chosen.astype(np.uint64)).sum(axis=-1, dtype=np.uint64))
    return np.concatenate([np.zeros((0, shape[1]), np.uint64), *masks])


def index_bytes(index: FingerprintIndex) -> int:
    words = index.words
    arrays = [*index.arrays(), words.offsets, words.postings, words.delta_rows, words.delta_words]
    arrays += [words.tail_rows, words.tail_words]
    return sum(a.nbytes for a in arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("recall")
    scale = sub.add_parser("scale")
    scale.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    scale.add_argument("--postgres", action="store_true", help="the test server, not SQLite")
    scale.add_argument("--queries", type=int, default=5)
    scale.add_argument("--adds", type=int, default=5_000, help="pictures added after the load")
    append = sub.add_parser("append", help="(for scale) add pictures to a scale store, timed")
    append.add_argument("folder", type=Path)
    append.add_argument("--db", default="")
    append.add_argument("--adds", type=int, default=5_000)
    archive = sub.add_parser("archive", help="distractors through the real intake, measured")
    archive.add_argument("sizes", nargs="+", type=int, help="distractor counts to measure at")
    archive.add_argument("--folder", type=Path, required=True, help="store and files (grown)")
    archive.add_argument("--postgres", action="store_true", help="a fresh schema, tests' server")
    archive.add_argument("--batch", type=int, default=250)
    archive.add_argument(
        "--per-photo", type=int, default=len(TRANSFORMS), help="transforms of each query photo"
    )
    records = sub.add_parser("records", help="each stage's cost on realistic records")
    records.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    records.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    if args.what == "recall":
        run_recall()
    elif args.what == "archive":
        with _database(args.postgres) as db_url:
            run_archive(args.folder, args.sizes, db_url, args.batch, args.per_photo)
    elif args.what == "records":
        run_records(args.sizes, args.folder)
    elif args.what == "append":
        run_append(args.folder, args.db, args.adds)
    else:
        run_scale(args.sizes, args.postgres, args.queries, args.adds)


if __name__ == "__main__":
    main()
