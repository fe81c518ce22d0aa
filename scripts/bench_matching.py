"""Measure recycled-media detection: recall per re-share transform, false matches, and scale.

    python scripts/bench_matching.py recall            # real photos of ../shared/corpus
    python scripts/bench_matching.py scale 100000 1000000
    python scripts/bench_matching.py verify            # one geometric check's CPU cost
    python scripts/bench_matching.py recall-wide       # composites and collages, wider
    python scripts/bench_matching.py misses composite  # why one transform's copies are missed

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
import json
import os
import random
import resource
import shutil
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
from PIL import Image, ImageDraw, ImageFilter

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mediacheck import config  # noqa: E402
from mediacheck.errors import UnsupportedMedia  # noqa: E402
from mediacheck.intake.bounds import Bounds  # noqa: E402
from mediacheck.match import search as seen  # noqa: E402
from mediacheck.match.fingerprints import (  # noqa: E402
    GEOMETRY_KNOWN,
    GEOMETRY_MARK,
    INDEXED_KEYPOINTS,
    ORIENTATIONS,
    RECORD,
    WINDOWS,
    WORD_BITS,
    WORD_TABLES,
    Probe,
    fingerprint,
    probe,
)
from mediacheck.match.index import (  # noqa: E402
    CHANCE,
    FINE_SURE,
    MIN_INLIERS,
    VIEWS,
    FingerprintIndex,
    _by_keypoints,
    _mutual_pairs,
    _short_list,
    _views,
    correspondences,
    geometric_check,
    keypoint_votes,
    search,
)
from mediacheck.match.words import NO_WORD, WordIndex  # noqa: E402
from mediacheck.media.hashes import hamming, pdq_hash  # noqa: E402
from mediacheck.media.pictures import WORKING_SIZE, open_picture  # noqa: E402
from mediacheck.store.cases import CaseFields  # noqa: E402
from mediacheck.store.database import Store  # noqa: E402
from mediacheck.store.media import MediaIntake  # noqa: E402
from mediacheck.store.models import CaseMedia, Media  # noqa: E402
from tests.backends import postgres_schema  # noqa: E402
from tests.brute_force import matcher_pairs  # noqa: E402
from tests.corpus import FILES, manifest  # noqa: E402
from tests.reshare import TRANSFORMS, encode, piece_box, scaled, scene  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from archive_strangers import (  # noqa: E402
    Item,
    Pool,
    batch_folder,
    clear_incoming,
    distractor,
    generate,
    read_batch,
)

COARSE_NEAR = 6  # a window this close: the margin reported for unrelated pairs
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
    most_significant: float = 0.0  # of the fits with at least MIN_INLIERS inliers

    def add(self, index: FingerprintIndex, query: Probe, keypoints: dict) -> None:
        near = index.nearest(query)
        self.pairs += len(index)
        self.fine_16 += int((near.fine <= 16).sum())
        self.coarse_short += int((near.coarse <= COARSE_NEAR).sum())
        self.closest_fine = min(self.closest_fine, int(near.fine.min()))
        for theirs in keypoints.values():
            check = geometric_check(query.keypoints, theirs)
            self.most_inliers = max(self.most_inliers, check.inliers)
            if check.inliers >= MIN_INLIERS:
                self.most_significant = max(self.most_significant, check.significance)

    def report(self) -> str:
        return (
            f"Unrelated pairs (distractor copies x stored photos): {self.pairs}; "
            f"pHash within 16 bits: {self.fine_16 / self.pairs:.2%}; "
            f"a window within {COARSE_NEAR} bits: {self.coarse_short / self.pairs:.2%}; "
            f"closest pHash: {self.closest_fine} bits; most keypoint inliers: {self.most_inliers}; "
            f"most significant fit of {MIN_INLIERS}+ inliers: {self.most_significant:.1f}"
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
    print(_verified_report(VERIFIED))
    print(_halves_report())


def run_misses(transform: str, shots: Path | None) -> None:
    """Each stored photo's copy by ``transform`` among the stored photos of ``recall``:
    found or not, its source's votes and rank by vote surprise, whether it was short-listed,
    and, for each view of the query, the inliers of its fit with the source, how many of
    them fall on the source's indexed keypoints and how many of those share a word (what
    the votes can see of a fit the check would accept). With ``shots``, the copies are the
    pages ``bench_browser_reshares.py`` drew there (``stored-NN-<layout>.*``)."""
    stored, _ = split(corpus_photos())
    prints = {p.name: fingerprint(p.image) for p in stored}
    index = FingerprintIndex.from_prints(
        (i, name, None, fp) for i, (name, fp) in enumerate(prints.items())
    )
    keypoints = {i: fp.keypoints for i, fp in enumerate(prints.values())}
    print(
        "| photo | half | found | short-listed | votes per view | rank by surprise "
        "| inliers per view (indexed, of them sharing a word) |"
    )
    print("|---|---|---|---|---|---|---|")
    for row, photo in enumerate(stored):
        copy = _shot(shots, row, transform) if shots else reshare(photo, transform)
        if copy is None:
            continue
        query = probe(copy)
        votes = keypoint_votes(index, query)
        every = index.nearest(query, windows=False)
        listed = row in _short_list(index, query, every, votes, index.informative & ~every.exact)
        rank = int((votes.surprise > votes.surprise[row]).sum())
        fits = [_fit_seen_by_votes(view, keypoints[row]) for view in _views(query)]
        print(
            f"| {photo.name} | {_half(photo.name)} "
            f"| {'yes' if photo.name in _found(index, query, keypoints) else '**no**'} "
            f"| {'yes' if listed else 'no'} | {[int(c[row]) for _, c in votes.by_view]} "
            f"| {rank} | {' '.join(fits)} |"
        )


def _shot(folder: Path, row: int, layout: str) -> Image.Image | None:
    drawn = sorted(folder.glob(f"stored-{row:02d}-{layout}.*"))
    return open_picture(drawn[0]).image if drawn else None


def _fit_seen_by_votes(query, stored) -> str:
    if query is None:
        return "-"
    pairs = correspondences(query, stored)
    indexed = pairs[pairs[:, 1] < INDEXED_KEYPOINTS]
    same = query.words()[indexed[:, 0]] == stored.words()[indexed[:, 1]]
    return f"{len(pairs)} ({len(indexed)}, {int(same.any(axis=1).sum())})"


def run_verify(rounds: int = 3) -> None:
    """CPU per geometric check: a crop of each stored photo against every stored photo,
    with the keypoint pairs found by faiss (today) and by OpenCV's brute-force matcher."""
    stored, _ = split(corpus_photos())
    theirs = [fingerprint(p.image).keypoints for p in stored]
    queries = [probe(reshare(p, "crop")).keypoints for p in stored]
    checks = [(q, t) for q in queries for t in theirs]
    for label, pairs in (("faiss", _mutual_pairs), ("BFMatcher", matcher_pairs)):
        started = time.process_time()
        for _ in range(rounds):
            inliers = [_checked(q, t, pairs) for q, t in checks]
        per_check = (time.process_time() - started) / rounds / len(checks)
        print(
            f"{label}: {len(checks)} checks, {per_check * 1000:.2f} ms CPU per check "
            f"({len(queries)} queries x {len(theirs)} stored), {sum(inliers)} inliers in all"
        )


def _checked(query, stored, pairs) -> int:
    """``geometric_check`` with the pairs of ``pairs``: the same RANSAC on either's."""
    import mediacheck.match.index as index

    held = index._mutual_pairs
    index._mutual_pairs = pairs
    try:
        return geometric_check(query, stored).inliers
    finally:
        index._mutual_pairs = held


def _verified_report(verified: dict[str, list[int]]) -> str:
    """How many stored pictures the geometric check saw per query (the short list's cost)."""
    parts = [
        f"{label}: mean {np.mean(rows):.2f}, max {max(rows)}, none {np.mean(np.equal(rows, 0)):.0%}"
        for label, rows in verified.items()
        if rows
    ]
    return "Rows verified per query: " + "; ".join(parts)


def _recall_row(transform, stored, distractors, index, keypoints, baseline, margins):
    hits = base_ph = base_pdq = false = agree = 0
    for photo in stored:
        copy = reshare(photo, transform)
        query = probe(copy)
        hit = photo.name in _found(index, query, keypoints, VERIFIED["copies"])
        hits += hit
        HALVES.setdefault((transform, _half(photo.name)), []).append(hit)
        agree += _verified(query, keypoints[index_row(index, photo.name)])
        by_phash, by_pdq = baseline.found(copy)
        base_ph += photo.name in by_phash
        base_pdq += photo.name in by_pdq
    for photo in distractors:
        query = probe(reshare(photo, transform))
        wrong = _found(index, query, keypoints, VERIFIED["unrelated"])
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
    from mediacheck.match.index import _check_views, _views

    return _check_views(_views(query), source).accepted


VERIFIED: dict[str, list[int]] = {"copies": [], "unrelated": []}  # rows checked per query
HALVES: dict[tuple[str, str], list[bool]] = {}  # (transform, tune / eval): found or not


def _halves_report() -> str:
    """Recall of the stored photos' copies in the tuning and the evaluation half."""
    cells = [
        f"{transform} {_half_cell(transform, 'tune')} {_half_cell(transform, 'eval')}"
        for transform in TRANSFORMS
    ]
    return "Found per half (tune, eval): " + "; ".join(cells)


def _half_cell(transform: str, half: str) -> str:
    found = HALVES.get((transform, half), [])
    return f"{sum(found)}/{len(found)}"


def _found(
    index: FingerprintIndex, query: Probe, keypoints: dict, verified: list[int] | None = None
) -> set[str]:
    asked: list[int] = []

    def loader(keys):
        asked.extend(keys)
        return {k: keypoints[k] for k in keys}

    found = {m.media_id for m in search(index, query, loader)}
    if verified is not None:
        verified.append(len(asked))
    return found


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


def distractor_pool(folder: Path) -> Pool:
    """The real pictures strangers are made of (``archive_strangers``), kept in ``folder``."""
    return Pool.cached(folder, lambda: [(p.name, p.image) for p in corpus_photos()])


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
                if not path.exists():  # written whole or not at all: a stopped run resumes
                    partial = path.with_suffix(".partial.png")
                    reshare(photo, transform).save(partial)
                    partial.rename(path)
                made[label].append((photo.name, transform, path))
    return Queries(made["stored"], made["unseen"])


def _half(name: str) -> str:
    """Photos split once into a tuning half and an evaluation half (by their names' hash)."""
    return "tune" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "eval"


@dataclass
class ArchiveRun:
    """What an ``archive`` run needs: the store, its queries, where its files and logs go."""

    folder: Path
    store: Store
    queries: Queries
    jobs: int
    batch: int
    commit: str  # the code this run took in and searched with (HEAD when it started)

    @property
    def incoming(self) -> Path:
        return self.folder / "incoming"

    @property
    def pool(self) -> Path:
        return self.folder.parent / "pool"  # shared by the archives beside each other

    @property
    def state(self) -> Path:
        return self.folder / "state.json"


def run_archive(run: ArchiveRun, sizes: list[int], profile: bool) -> None:
    """Grow one archive of strangers past each size (stored pictures) in turn, measuring
    recall after each; the strangers are made in another process while the intake runs."""
    state = _read_state(run)
    if not state["photos"]:
        _take_in_photos(run)
        state["photos"] = True
        _write_state(run, state)
    clear_incoming(run.incoming)
    maker = _start_maker(run, state["next_item"])
    try:
        for size in sorted(sizes):
            while stored_pictures(run.store) < size:
                items = _next_batch(run, maker, state["next_item"])
                with _profiled(run, profile and state["next_item"] == state["first_item"]):
                    _take_in_batch(run, items)
                shutil.rmtree(batch_folder(run.incoming, state["next_item"]))
                state["next_item"] += run.batch
                _write_state(run, state)
            print(_measure(run), flush=True)
    finally:
        maker.kill()
        maker.join()


def _read_state(run: ArchiveRun) -> dict:
    state = {"photos": False, "next_item": 0}
    if run.state.exists():
        state.update(json.loads(run.state.read_text()))
    state["first_item"] = state["next_item"]  # this run's first batch (profiled)
    return state


def _write_state(run: ArchiveRun, state: dict) -> None:
    kept = {k: v for k, v in state.items() if k != "first_item"}
    run.state.write_text(json.dumps(kept))


def _take_in_photos(run: ArchiveRun) -> None:
    from mediacheck.intake.pipeline import intake

    stored, _ = split(corpus_photos())
    paths = _photo_files(run.folder / "photos", stored)
    results = intake(run.store, paths, _request(), jobs=run.jobs, bounds=BOUNDS)
    errors = [r.error for r in results if r.status == "error"]
    print(f"  {len(paths)} stored photos taken in, errors: {errors}", file=sys.stderr)


def _request():
    from mediacheck.intake.pipeline import IntakeRequest

    return IntakeRequest(user="bench", quick=True)


def _start_maker(run: ArchiveRun, first: int):
    import multiprocessing

    maker = multiprocessing.get_context("spawn").Process(
        target=generate, args=(run.pool, run.incoming, first, run.batch, AHEAD), daemon=True
    )
    maker.start()
    return maker


AHEAD = 2  # batches the maker keeps ready
# The CLI's 120 s of wall clock per file, stretched: on a machine shared at a load average of
# 15-30 a 290-keyframe video's analysis took longer, and was kept with its hashes only.
BOUNDS = Bounds(seconds=600.0)


def _next_batch(run: ArchiveRun, maker, first: int) -> list[Item]:
    folder = batch_folder(run.incoming, first)
    while not folder.exists():
        if not maker.is_alive():
            raise SystemExit(f"the distractor maker stopped (exit code {maker.exitcode})")
        time.sleep(0.2)
    return read_batch(folder)


@contextmanager
def _profiled(run: ArchiveRun, on: bool) -> Iterator[None]:
    """cProfile of the intake process (recording and search; the workers' part is not in it)."""
    if not on:
        yield
        return
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        path = run.folder / f"profile-{stored_pictures(run.store)}.pstats"
        profiler.dump_stats(path)
        pstats.Stats(str(path), stream=sys.stderr).sort_stats("cumulative").print_stats(30)


LOG_FIELDS = (
    "utc", "load", "stored_pictures", "files", "photos", "videos", "pictures_added", "errors",
    "wall_s", "ms_per_file", "ms_per_picture", "ms_per_photo", "ms_per_video_picture",
    "cpu_ms_per_picture", "main_cpu_ms_per_picture", "vmrss_mb", "vmhwm_mb",
    "workers_maxrss_mb", "video_pictures",
)  # fmt: skip


def _take_in_batch(run: ArchiveRun, items: list[Item]) -> None:
    """One batch through the real intake, logged: time per file and picture, memory."""
    from mediacheck.intake.pipeline import intake

    before = stored_pictures(run.store)
    done: list[float] = []
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu, started = time.process_time(), time.perf_counter()
    results = intake(
        run.store,
        [i.path for i in items],
        _request(),
        on_result=lambda _: done.append(time.perf_counter()),
        jobs=run.jobs,
        bounds=BOUNDS,
    )
    wall = time.perf_counter() - started
    cpu = (time.process_time() - cpu, _children_cpu(children))
    added = stored_pictures(run.store) - before
    _log(run, _batch_row(run, items, results, done, started, wall, cpu, added))


def _batch_row(run, items, results, done, started, wall, cpu, added) -> dict:
    """The log row: each file's share of the wall time is the gap since the one before;
    ``cpu`` is (this process's, its workers') CPU seconds."""
    gaps = np.diff([started, *done])
    photo = np.array([i.kind == "photo" for i in items])
    videos = [r.media_id for r, i in zip(results, items, strict=True) if i.kind == "video"]
    per_video = _pictures_of(run.store, [m for m in videos if m])
    video_pictures = sum(per_video.values())
    errors = [r.error for r in results if r.status == "error"]
    for error in errors[:3]:
        print(f"  intake error: {error}", file=sys.stderr)
    return {
        "utc": time.strftime("%H:%M:%S", time.gmtime()),
        "load": f"{os.getloadavg()[0]:.1f}",
        "stored_pictures": stored_pictures(run.store),
        "files": len(items),
        "photos": int(photo.sum()),
        "videos": len(videos),
        "pictures_added": added,
        "errors": len(errors),
        "wall_s": f"{wall:.1f}",
        "ms_per_file": f"{wall / len(items) * 1000:.0f}",
        "ms_per_picture": f"{wall / max(1, added) * 1000:.0f}",
        "ms_per_photo": f"{gaps[photo].mean() * 1000:.0f}" if photo.any() else "-",
        "ms_per_video_picture": (
            f"{gaps[~photo].sum() / video_pictures * 1000:.0f}" if video_pictures else "-"
        ),
        "cpu_ms_per_picture": f"{sum(cpu) / max(1, added) * 1000:.0f}",
        "main_cpu_ms_per_picture": f"{cpu[0] / max(1, added) * 1000:.0f}",
        "vmrss_mb": _status_mb("VmRSS"),
        "vmhwm_mb": _status_mb("VmHWM"),
        "workers_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
        "video_pictures": " ".join(
            f"{i.frames}->{per_video.get(r.media_id, 0)}"
            for r, i in zip(results, items, strict=True)
            if i.kind == "video"
        ),
    }


def _children_cpu(before) -> float:
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _log(run: ArchiveRun, row: dict) -> None:
    path = run.folder / "intake-log.tsv"
    if not path.exists():
        path.write_text("\t".join(LOG_FIELDS) + "\n")
    with path.open("a") as out:
        out.write("\t".join(str(row[f]) for f in LOG_FIELDS) + "\n")
    print(
        f"  {row['utc']} load {row['load']}: {row['stored_pictures']} pictures "
        f"(+{row['pictures_added']} from {row['files']} files, {row['errors']} errors), "
        f"{row['ms_per_file']} ms/file, {row['ms_per_picture']} ms/picture "
        f"(photo {row['ms_per_photo']} ms, video picture {row['ms_per_video_picture']} ms; "
        f"CPU {row['cpu_ms_per_picture']} ms, {row['main_cpu_ms_per_picture']} ms of it "
        f"in this process), VmRSS {row['vmrss_mb']} MB, "
        f"VmHWM {row['vmhwm_mb']} MB",
        file=sys.stderr,
        flush=True,
    )


def stored_pictures(store: Store) -> int:
    """Pictures in the archive index: rows of the record kind (a photo 1, a video's each)."""
    return store.fingerprint_count(seen.RECORD_KIND, up_to_id=2**31 - 1)  # an INTEGER id


def _pictures_of(store: Store, media_ids: list[str]) -> dict[str, int]:
    """How many pictures each of these media put in the index."""
    from sqlmodel import Session, col, func, select

    from mediacheck.store.models import FingerprintRow

    if not media_ids:
        return {}
    query = (
        select(FingerprintRow.media_id, func.count())
        .where(col(FingerprintRow.media_id).in_(media_ids))
        .where(FingerprintRow.kind == seen.RECORD_KIND)
        .group_by(col(FingerprintRow.media_id))
    )
    with Session(store.engine) as session:
        return {media_id: count for media_id, count in session.exec(query).all()}


def _photo_files(folder: Path, photos: list[Photo]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, photo in enumerate(photos):
        path = folder / f"photo-{i:03d}.png"
        photo.image.save(path)
        paths.append(path)
    return paths


def _measure(run: ArchiveRun) -> str:
    """Recall at this size, saved as JSON beside the store and returned as a table."""
    pictures = stored_pictures(run.store)
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    load = os.getloadavg()
    counts, per_query = archive_recall(run.store, run.queries)
    result = {
        "stored_pictures": pictures,
        "backend": _backend(run.store),
        "commit": run.commit,
        "utc": f"{started}-{time.strftime('%H:%M', time.gmtime())}",
        "load": [round(x, 1) for x in (*load, *os.getloadavg())],
        "ms_per_query": round(per_query[0] * 1000),
        "cpu_ms_per_query": round(per_query[1] * 1000),
        "counts": counts,
    }
    (run.folder / f"recall-{pictures}.json").write_text(json.dumps(result, indent=1))
    return recall_table([result])


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip()


def _backend(store: Store) -> str:
    return store.engine.url.get_backend_name()


def archive_recall(store: Store, queries: Queries) -> tuple[dict, tuple[float, float]]:
    """Per transform: [hits, queries] of each half and [false, queries] over never-stored
    photos, via ``match`` as a desk runs it; and the wall and CPU time per query file."""
    names = _photo_media(store)
    counts = {t: {"tune": [0, 0], "eval": [0, 0], "false": [0, 0]} for t in TRANSFORMS}
    started, cpu = time.perf_counter(), time.process_time()
    order = list(dict.fromkeys(n for n, _, _ in queries.stored))
    stored_paths = [p for _, _, p in queries.stored]
    for (name, transform, _), result in zip(
        queries.stored, seen.match_files(store, stored_paths), strict=True
    ):
        hits = {names.get(m.media_id) for m in result.matches}
        cell = counts[transform][_half(name)]
        found = f"photo-{order.index(name):03d}.png" in hits
        cell[0] += found
        cell[1] += 1
        if not found:
            print(f"  missed: {transform} of {name}", file=sys.stderr, flush=True)
    unseen_paths = [p for _, _, p in queries.unseen]
    for (name, transform, _), result in zip(
        queries.unseen, seen.match_files(store, unseen_paths), strict=True
    ):
        counts[transform]["false"][0] += bool(result.matches)
        counts[transform]["false"][1] += 1
        if result.matches:
            wrong = sorted({m.media_id for m in result.matches})
            print(f"  false match: {transform} of {name} -> {wrong}", file=sys.stderr)
    count = len(stored_paths) + len(unseen_paths)
    return counts, ((time.perf_counter() - started) / count, (time.process_time() - cpu) / count)


def _photo_media(store: Store) -> dict[str, str]:
    """Media id -> file name of the stored photos (``photo-NNN.png``)."""
    from sqlmodel import Session, col, select

    query = select(Media.id, Media.first_name).where(col(Media.first_name).like("photo-%"))
    with Session(store.engine) as session:
        return dict(session.exec(query).all())


def recall_table(results: list[dict]) -> str:
    """One column per measurement (archive size, backend): recall of the tuning / evaluation
    halves per transform (queries in brackets), then the false matches."""
    results = sorted(results, key=lambda r: (r["backend"], r["stored_pictures"]))
    head = [f"{r['stored_pictures']:,}, {r['backend']} ({r['commit']})" for r in results]
    lines = [
        "| transform | " + " | ".join(head) + " |",
        "|---|" + "---|" * len(results),
    ]
    for transform in [*TRANSFORMS, None]:
        cells = [_recall_cell(r["counts"], transform) for r in results]
        lines.append(f"| {transform or '**all**'} | " + " | ".join(cells) + " |")
    false = [_false_cell(r["counts"]) for r in results]
    lines.append("| **false matches** | " + " | ".join(false) + " |")
    per_query = [f"{r['ms_per_query']} ms ({r.get('cpu_ms_per_query', '-')} ms)" for r in results]
    lines.append("| match per query file, wall (CPU) | " + " | ".join(per_query) + " |")
    return "\n".join(lines)


def _recall_cell(counts: dict, transform: str | None) -> str:
    rows = [c for t, c in counts.items() if transform in (None, t)]
    halves = []
    for half in ("tune", "eval"):
        hits, n = sum(r[half][0] for r in rows), sum(r[half][1] for r in rows)
        halves.append(f"{hits / n:.2f}" if n else "-")
    total = sum(r[h][1] for r in rows for h in ("tune", "eval"))
    return f"{halves[0]} / {halves[1]} ({total})"


def _false_cell(counts: dict) -> str:
    false, n = (sum(c["false"][i] for c in counts.values()) for i in (0, 1))
    return f"{false}/{n}"


def run_archive_table(paths: list[Path]) -> None:
    results = [json.loads(p.read_text()) for p in paths]
    print(recall_table(results))
    for r in sorted(results, key=lambda r: (r["backend"], r["stored_pictures"])):
        print(
            f"- {r['stored_pictures']:,}, {r['backend']}: commit {r['commit']}, {r['utc']} UTC, "
            f"load average {r['load'][0]}-{r['load'][3]}"
        )


@contextmanager
def _archive_database(folder: Path, postgres: bool) -> Iterator[str]:
    """SQLite inside the store, or a schema of the tests' PostgreSQL server kept for the
    next run (its name in ``postgres-schema``; drop it by hand when done)."""
    if not postgres:
        yield ""
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tests.backends import POSTGRES_URL, admin_engine

    named = folder / "postgres-schema"
    folder.mkdir(parents=True, exist_ok=True)
    if not named.exists():
        name = f"archive_{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}"
        with admin_engine().connect() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
        named.write_text(name)
    name = named.read_text().strip()
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={name}"})
    yield url.render_as_string(hide_password=False)


def open_archive(args) -> ArchiveRun:
    args.folder.mkdir(parents=True, exist_ok=True)
    settings = config.resolve(store=args.folder / "store", db_url=args.db_url or None, user="bench")
    store = Store.open(settings)
    photos = corpus_photos()
    if not photos:
        raise SystemExit(f"no corpus photos in {FILES} (set MEDIACHECK_CORPUS)")
    stored, unseen = split(photos)
    queries = write_queries(args.folder / "queries", stored, unseen, args.per_photo)
    run = ArchiveRun(args.folder, store, queries, args.jobs, args.batch, _commit())
    distractor_pool(run.pool)
    return run


# --- composites and collages with their parameters drawn wider than tests/reshare.py's ---

WIDE_STRANGERS = 300  # real-statistics strangers stored beside the 26 photos (as ``records``)
WIDE_GRIDS = [(2, 1), (1, 2), (2, 2), (3, 1), (1, 3), (3, 2), (2, 3), (3, 3)]


def wide_composite(img: Image.Image, rng: random.Random, others: list[Photo] | None):
    """A piece (a quarter to a half of the area) scaled by 0.5-1.5, turned by up to 30
    degrees in half of them, pasted into a scene or a real photo 1-1.6 times the size."""
    w, h = img.size
    piece = scaled(img.crop(piece_box(w, h, rng)), rng.uniform(0.5, 1.5))
    mask = Image.new("L", piece.size, 0)
    edge = max(1, min(piece.size) // 40)
    ImageDraw.Draw(mask).rectangle((edge, edge, piece.width - edge, piece.height - edge), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(edge))
    if rng.random() < 0.5:
        angle = rng.uniform(-30, 30)
        piece = piece.rotate(angle, Image.Resampling.BICUBIC, expand=True)
        mask = mask.rotate(angle, Image.Resampling.BICUBIC, expand=True)
    size = (round(w * rng.uniform(1.0, 1.6)), round(h * rng.uniform(1.0, 1.6)))
    canvas = _backdrop(size, rng, others)
    if piece.width > canvas.width or piece.height > canvas.height:
        factor = min(canvas.width / piece.width, canvas.height / piece.height)
        piece, mask = scaled(piece, factor), scaled(mask, factor)
    at = (rng.randint(0, canvas.width - piece.width), rng.randint(0, canvas.height - piece.height))
    canvas.paste(piece, at, mask)
    return encode(canvas, quality=rng.randint(60, 90))


def wide_collage(img: Image.Image, rng: random.Random, others: list[Photo] | None):
    """The picture as one tile of a 2x1 to 3x3 grid of scenes or real photos, gutters of
    0-30 px, the whole scaled by 0.3-0.9."""
    w, h = img.size
    gutter = rng.choice([0, 4, 10, 20, 30])
    cols, rows = rng.choice(WIDE_GRIDS)
    size = (cols * w + (cols + 1) * gutter, rows * h + (rows + 1) * gutter)
    out = Image.new("RGB", size, rng.choice(["white", "black"]))
    mine = rng.randrange(cols * rows)
    for cell in range(cols * rows):
        tile = img if cell == mine else _backdrop((w, h), rng, others)
        at = (gutter + (cell % cols) * (w + gutter), gutter + (cell // cols) * (h + gutter))
        out.paste(tile, at)
    return encode(scaled(out, rng.uniform(0.3, 0.9)), quality=rng.randint(60, 90))


def _backdrop(size: tuple[int, int], rng: random.Random, others: list[Photo] | None):
    if others is None:
        return scene(*size, rng)
    return others[rng.randrange(len(others))].image.resize(size, Image.Resampling.BILINEAR)


WIDE = {"composite": wide_composite, "collage": wide_collage}


def _wide_copy(photo: Photo, transform: str, seed: int, others) -> Image.Image:
    key = f"{photo.name}|{transform}|{seed}".encode()
    rng = random.Random(int(hashlib.sha256(key).hexdigest()[:8], 16))
    copy = WIDE[transform](photo.image, rng, others)
    copy.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BILINEAR)
    return copy


def run_recall_wide(folder: Path, seeds: int) -> None:
    """``seeds`` wide composites and collages of each photo, in a scene or among the
    never-stored photos, searched among the stored photos alone and among them and
    WIDE_STRANGERS real-statistics strangers; per half, as ``recall`` reports."""
    stored, unseen = split(corpus_photos())
    sources = distractor_pool(folder / "pool")
    strangers = [fingerprint(distractor(sources, 20_000_000 + i)) for i in range(WIDE_STRANGERS)]
    prints = [fingerprint(p.image) for p in stored]
    alone = FingerprintIndex.from_prints(
        (i, p.name, None, fp) for i, (p, fp) in enumerate(zip(stored, prints, strict=True))
    )
    crowd = FingerprintIndex.from_prints(
        [(i, p.name, None, fp) for i, (p, fp) in enumerate(zip(stored, prints, strict=True))]
        + [(len(stored) + i, f"stranger-{i}", None, fp) for i, fp in enumerate(strangers)]
    )
    keypoints = {i: fp.keypoints for i, fp in enumerate([*prints, *strangers])}
    bar = float(np.log(1_000_000 * VIEWS / CHANCE))
    print(
        f"{len(stored)} stored photos (+ {WIDE_STRANGERS} strangers), {seeds} copies each\n\n"
        "| transform | into | half | found, stored alone | found among strangers "
        "| votes over the 1M bar | keypoints agree | false matches | rows verified, unrelated |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for transform in WIDE:
        for into, others in (("scenes", None), ("photos", unseen)):
            for half in ("tune", "eval"):
                cell = (transform, half, seeds, others)
                row = _wide_row(cell, (stored, unseen), (alone, crowd), keypoints, bar)
                print(f"| {transform} | {into} | {half} | {row} |", flush=True)


def _wide_row(cell, photos, indexes, keypoints, bar) -> str:
    """One cell's shares of copies found (stored alone, among strangers), over the bar,
    agreeing, and its unrelated queries' false matches and rows verified."""
    transform, half, seeds, others = cell
    stored, unseen = photos
    alone, crowd = indexes
    found = [0, 0, 0, 0]
    copies = 0
    for row, photo in enumerate(stored):
        if _half(photo.name) != half:
            continue
        for seed in range(seeds):
            query = probe(_wide_copy(photo, transform, seed, others))
            copies += 1
            found[0] += photo.name in _found(alone, query, keypoints)
            found[1] += photo.name in _found(crowd, query, keypoints)
            found[2] += float(keypoint_votes(crowd, query).surprise[row]) >= bar
            found[3] += _verified(query, keypoints[row])
    false, verified = 0, []
    queries = [p for p in unseen if _half(p.name) == half]
    for photo in queries:
        query = probe(_wide_copy(photo, transform, 100, others))
        false += bool(_found(crowd, query, keypoints, verified))
    shares = " | ".join(f"{n / copies:.2f}" for n in found)
    return f"{shares} | {false}/{len(queries)} | {np.mean(verified):.1f} (max {max(verified)})"


# --- a million pictures, on records ---------------------------------------------------

POOL = 300  # real distractor pictures whose records and keypoints the synthetic ones reuse


def run_records(sizes: list[int], folder: Path) -> None:
    """Each stage's cost at sizes no intake here could reach, on realistic records.

    Every synthetic picture is a variant of a real distractor picture (its pHashes with 8
    of 64 bits flipped, its windows with 4 of 32, its keypoint words' bits flipped at
    5/16): the words' real bit statistics, the hashes' real spread.
    The real stored photos are added last; their re-shared copies are searched. Then
    APPENDED more synthetic pictures are added one at a time to the loaded snapshot (the
    "append" table) and a new snapshot is written from base and delta.
    """
    sources = distractor_pool(folder / "pool")
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
        "| query fingerprint (every view), CPU | search (all stages), CPU | query, wall | recall "
        "| false matches | rows verified |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
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

    asked: list[int] = []

    def loader(keys):
        asked.extend(keys)
        return {k: keypoints_of(k) for k in keys}

    probing, searching, walls, hits, false = [], [], [], 0, 0
    verified: dict[str, list[int]] = {"copies": [], "unrelated": []}
    transforms = list(TRANSFORMS)
    queries = []
    for i, photo in enumerate([*stored, *unseen]):
        query = reshare(photo, transforms[i % len(transforms)])
        wall, cpu = time.perf_counter(), time.process_time()
        # Every view worked out first, as intake's workers do: "search" is the search.
        picture = probe(query).complete()
        probed = time.process_time()
        asked.clear()
        found = {m.media_id for m in search(index, picture, loader)}
        verified["copies" if i < len(stored) else "unrelated"].append(len(asked))
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
        f"| {hits}/{len(stored)} | {false}/{len(unseen)} | {_verified_report(verified)} |"
    )
    print(stages_line(index, queries, loader), file=sys.stderr, flush=True)
    append = appended_row(index, pool, rng, (loader, appended), queries, loaded_rss, path)
    path.unlink()
    return row, append


def stages_line(index: FingerprintIndex, queries: list[Probe], loader, rounds: int = 2) -> str:
    """Each stage's CPU per query with the queries searched back to back (the table's
    search follows each query's probe): where a search's time goes. The stages repeat
    ``index.search``'s steps; the search itself is timed beside them, so that a stage line
    whose parts no longer add up to it shows that the two have drifted apart."""
    stages = []
    for _ in range(rounds):
        for query in queries:
            times = [time.process_time()]
            every = index.nearest(query, windows=False)
            times.append(time.process_time())
            votes = keypoint_votes(index, query)
            times.append(time.process_time())
            usable = index.informative & ~every.exact & (every.fine > FINE_SURE)
            rows = _short_list(index, query, every, votes, usable)
            times.append(time.process_time())
            _by_keypoints(index, query, rows, every.fine, votes, loader)
            times.append(time.process_time())
            search(index, query, loader)  # the whole, as ``search`` itself runs it
            times.append(time.process_time())
            stages.append(np.diff(times) * 1000)
    median, whole = np.median(stages, axis=0), np.array(stages)[:, 4]
    return (
        f"  {len(index):,}: stages back to back, CPU median: hashes {median[0]:.1f} ms, votes "
        f"{median[1]:.1f} ms, short list {median[2]:.1f} ms, checks {median[3]:.1f} ms; "
        f"search {np.median(whole):.0f} ms (p90 {np.percentile(whole, 90):.0f} ms), load "
        f"{os.getloadavg()[0]:.1f}"
    )


def appended_row(index, pool, rng, keypoints, queries, loaded_rss, path: Path) -> str:
    """APPENDED pictures added one at a time, searches among them, then a new snapshot."""
    size = len(index)
    loader, appended = keypoints
    records, words, picked = synthetic_records(APPENDED, pool, rng)
    geometry = synthetic_geometry(pool, picked, rng)
    appended.update((size + i, int(p)) for i, p in enumerate(picked))
    entries = [
        (size + i, "appended", float(i), entry_of(records[i : i + 1], words[i], geometry[i]))
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
    records, words, sources = synthetic_records(size, pool, rng)
    videos = np.array([f"video{v:07d}".encode() for v in range(-(-size // FRAMES_PER_VIDEO))])
    index = FingerprintIndex(
        words=WordIndex.from_word_array(words, 0, synthetic_geometry(pool, sources, rng)),
        keys=np.arange(size, dtype=np.int64),
        media_ids=np.repeat(videos, FRAMES_PER_VIDEO)[:size],
        frame_times=(np.arange(size) % FRAMES_PER_VIDEO).astype(np.float64),
        pixels=np.ascontiguousarray(records["pixels"]),
        fine=np.ascontiguousarray(records["fine"].T),
        coarse=np.ascontiguousarray(records["coarse"].T),
        informative=np.ones(size, dtype=bool),
    )
    return index, sources


def synthetic_records(size: int, pool, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Records and keypoint words ((size, k) uint32, NO_WORD after a picture's last) of
    ``size`` variants of the pool's pictures, and the pool picture each is a variant of."""
    sources = rng.integers(0, len(pool), size)
    records = np.frombuffer(b"".join(fp.record() for fp in pool), dtype=RECORD)[sources].copy()
    records["pixels"] = rng.integers(0, 2**63, size, dtype=np.uint64)
    records["fine"] ^= _sparse_bits(rng, (size, 2), 64, 8)
    records["coarse"] ^= _sparse_bits(rng, (size, len(WINDOWS)), 32, 4).astype(np.uint32)
    words = [fp.keypoints.words(INDEXED_KEYPOINTS).ravel() for fp in pool]
    padded = np.full((len(pool), max(map(len, words))), NO_WORD, dtype=np.uint32)
    for row, picture in zip(padded, words, strict=True):
        row[: len(picture)] = picture
    return records, _kin_words(padded[sources], rng), sources


def synthetic_geometry(pool, sources: np.ndarray, rng) -> np.ndarray:
    """Geometry bytes ((size, k) uint8) of synthetic pictures' words: their sources', each
    picture turned by a random orientation bin (kin pictures are re-shares of one another
    at any angle, not all alike)."""
    geometry = [fp.keypoints.word_geometry(INDEXED_KEYPOINTS).ravel() for fp in pool]
    padded = np.zeros((len(pool), max(map(len, geometry))), dtype=np.uint8)
    for row, picture in zip(padded, geometry, strict=True):
        row[: len(picture)] = picture
    out = padded[sources]
    turns = rng.integers(0, ORIENTATIONS, (len(sources), 1), dtype=np.uint8)
    known = (out & GEOMETRY_KNOWN) != 0
    turned = (out & np.uint8(0xF0)) | ((out + turns) & np.uint8(ORIENTATIONS - 1))
    return np.where(known, turned, out)


KIN_BLOCK = 1 << 14  # pictures whose words are flipped at a time (four random draws each)


def _kin_words(words: np.ndarray, rng) -> np.ndarray:
    """Synthetic pictures' words, in place: their sources' with each word bit flipped at 5/16.

    Copying the pool's words as they are would put each of them in a thousandth of the
    archive (a million pictures from 300), lists no real archive has and the common-word
    filter drops; flipped bits keep each table's bit statistics of real descriptors while a
    word is shared by a few kin pictures at most ((11/16)**20 of them keep it).
    """
    for start in range(0, len(words), KIN_BLOCK):
        block = words[start : start + KIN_BLOCK]
        a, b, c, d = rng.integers(0, 2**32, (4, *block.shape), dtype=np.uint32)
        masks = a & (b | (c & d)) & np.uint32((1 << WORD_BITS) - 1)
        masks[block == NO_WORD] = 0
        block ^= masks
    return words


def entry_of(record: np.ndarray, words: np.ndarray, geometry: np.ndarray) -> bytes:
    """The index entry (``Fingerprint.entry``) of a synthetic record, its padded words and
    their geometry bytes (one per word here, the first of each keypoint's tables in an
    entry)."""
    held = words != NO_WORD
    turns = geometry[held][::WORD_TABLES]
    packed = np.zeros(-(-len(turns) // 4) * 4, np.uint8)
    packed[: len(turns)] = turns
    head = np.array([GEOMETRY_MARK, len(turns)], "<u4").tobytes()
    return record.tobytes() + head + words[held].astype("<u4").tobytes() + packed.tobytes()


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
    sub.add_parser("verify", help="one geometric check's CPU cost, faiss and BFMatcher")
    misses = sub.add_parser("misses", help="why one transform's copies are missed")
    misses.add_argument("transform", help="of tests/reshare.py, or with --shots a page layout")
    misses.add_argument("--shots", type=Path, help="bench_browser_reshares.py's pages instead")
    wide = sub.add_parser("recall-wide", help="composites and collages, parameters drawn wider")
    wide.add_argument("--seeds", type=int, default=3, help="copies of each photo per cell")
    wide.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    scale = sub.add_parser("scale")
    scale.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    scale.add_argument("--postgres", action="store_true", help="the test server, not SQLite")
    scale.add_argument("--queries", type=int, default=5)
    scale.add_argument("--adds", type=int, default=5_000, help="pictures added after the load")
    append = sub.add_parser("append", help="(for scale) add pictures to a scale store, timed")
    append.add_argument("folder", type=Path)
    append.add_argument("--db", default="")
    append.add_argument("--adds", type=int, default=5_000)
    archive = sub.add_parser("archive", help="strangers through the real intake, measured")
    archive.add_argument("sizes", nargs="+", type=int, help="stored pictures to measure at")
    archive.add_argument("--folder", type=Path, required=True, help="store and files (grown)")
    archive.add_argument("--postgres", action="store_true", help="a schema on the tests' server")
    archive.add_argument("--batch", type=int, default=120, help="files per intake call")
    archive.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="intake workers")
    archive.add_argument(
        "--per-photo", type=int, default=len(TRANSFORMS), help="transforms of each query photo"
    )
    archive.add_argument("--profile", action="store_true", help="cProfile this run's 1st batch")
    table = sub.add_parser("archive-table", help="one table of archive runs' recall-*.json")
    table.add_argument("results", nargs="+", type=Path)
    records = sub.add_parser("records", help="each stage's cost on realistic records")
    records.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    records.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    if args.what == "recall":
        run_recall()
    elif args.what == "verify":
        run_verify()
    elif args.what == "misses":
        if args.shots is None and args.transform not in TRANSFORMS:
            parser.error(f"misses: no transform {args.transform!r} in tests/reshare.py")
        run_misses(args.transform, args.shots)
    elif args.what == "recall-wide":
        run_recall_wide(args.folder, args.seeds)
    elif args.what == "archive":
        with _archive_database(args.folder, args.postgres) as args.db_url:
            run_archive(open_archive(args), args.sizes, args.profile)
    elif args.what == "archive-table":
        run_archive_table(args.results)
    elif args.what == "records":
        run_records(args.sizes, args.folder)
    elif args.what == "append":
        run_append(args.folder, args.db, args.adds)
    else:
        run_scale(args.sizes, args.postgres, args.queries, args.adds)


if __name__ == "__main__":
    main()
