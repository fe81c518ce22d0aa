"""Strangers for the archive-size benchmark: photos and videos made of real pictures only.

The pool (``build_pool``) is every real picture at hand that no query photo comes from:
the photos bundled with scikit-image, scikit-learn and matplotlib, every frame of every
corpus video, and the corpus stills that are not query photos; each is screened against
the query photos with the matcher itself, so that a stranger is never a copy of a query.
A distractor photo is a mosaic, rotated crop or crop of pool pictures; a distractor video
pans and zooms slowly over such mosaics, with cuts between shots, one keyframe a second.

``generate`` runs in a process of its own ahead of the intake: it writes batches of files
into ``incoming/batch-NNNNNN/`` (a temporary name until complete) and stays a few
batches ahead. Item ``n`` is the same file whenever it is made, so a run that stopped
half-way makes the same files again.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mediacheck.errors import UnsupportedMedia  # noqa: E402
from mediacheck.media.pictures import open_picture  # noqa: E402
from tests.corpus import C2PA, FILES, manifest  # noqa: E402

MIN_SOURCE_SIDE = 60  # smaller corpus stills are thumbnails and icons: no source for a crop
MIN_SPREAD = 3.0  # grey-level spread of a blank picture
LONGEST = 1024  # pool pictures are kept at most this long a side (as the intake sees them)
VIDEO_EVERY = 60  # item n is a video when n % VIDEO_EVERY == VIDEO_EVERY - 1
VIDEO_FRAMES = (60, 290)  # keyframes of a distractor video (one a second; intake keeps <= 300)
VIDEO_SIZES = ((640, 360), (854, 480), (480, 854), (640, 480), (720, 720))
SHOT_FRAMES = (8, 60)
SHOT_SEEDS = 10**10  # a shot's scene is distractor() of SHOT_SEEDS + 1000 * video + shot

SKIMAGE_PHOTOS = (
    "astronaut", "brick", "camera", "cat", "cell", "coffee", "coins", "colorwheel", "grass",
    "gravel", "hubble_deep_field", "immunohistochemistry", "logo", "microaneurysms", "moon",
    "page", "retina", "rocket", "text", "clock", "horse",
)  # fmt: skip
MATPLOTLIB_PHOTOS = ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png")


# --- the pool of real pictures ----------------------------------------------------------


class Pool(Sequence[Image.Image]):
    """Real pictures as JPEG bytes, decoded when used (a few hundred MB decoded otherwise)."""

    def __init__(self, pictures: list[bytes], labels: list[str]):
        self.pictures = pictures
        self.labels = labels
        self.frames = [i for i, label in enumerate(labels) if label.startswith("video:")]
        self.stills = [i for i, label in enumerate(labels) if not label.startswith("video:")]

    def __len__(self) -> int:
        return len(self.pictures)

    def __getitem__(self, i):  # type: ignore[override]
        return _decoded(self.pictures[i])

    def pick(self, rng: random.Random) -> Image.Image:
        """A still or a video frame, evenly: the frames are many, of a few scenes."""
        return self[rng.choice(self.frames if rng.random() < 0.5 else self.stills)]

    def counts(self) -> dict[str, int]:
        """How many pictures each kind of source gave (``skimage``, ``video``, ...)."""
        counts: dict[str, int] = {}
        for label in self.labels:
            kind = label.split(":", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(self.pictures):
            (folder / f"{i:05d}.jpg").write_bytes(data)
        (folder / "labels.json").write_text(json.dumps(self.labels))

    @classmethod
    def load(cls, folder: Path) -> Pool:
        labels = json.loads((folder / "labels.json").read_text())
        pictures = [(folder / f"{i:05d}.jpg").read_bytes() for i in range(len(labels))]
        return cls(pictures, labels)

    @classmethod
    def cached(cls, folder: Path, queries: Callable[[], list[tuple[str, Image.Image]]]) -> Pool:
        """The pool saved in ``folder``, or built and saved: screened against the query
        photos (name, picture) that ``queries`` gives."""
        if (folder / "labels.json").exists():
            return cls.load(folder)
        pool = build_pool(queries())
        pool.save(folder)
        return pool


@lru_cache(maxsize=32)
def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    image = image.convert("RGB")
    image.thumbnail((LONGEST, LONGEST), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def build_pool(queries: list[tuple[str, Image.Image]]) -> Pool:
    pictures, labels = [], []
    screen = _Screen([image for _, image in queries])
    for label, image in _candidates({name for name, _ in queries}):
        if min(image.size) < MIN_SOURCE_SIDE or _spread(image) < MIN_SPREAD:
            continue
        if screen.copies_a_query(image):
            print(f"  pool: {label} left out (a copy of a query photo)", file=sys.stderr)
            continue
        pictures.append(_jpeg(image))
        labels.append(label)
    return Pool(pictures, labels)


def _spread(image: Image.Image) -> float:
    return float(np.asarray(image.convert("L"), dtype=np.float32).std())


def _candidates(queries: set[str]) -> Iterator[tuple[str, Image.Image]]:
    yield from _package_photos()
    yield from _corpus_stills(queries)
    yield from _video_frames()


def _package_photos() -> Iterator[tuple[str, Image.Image]]:
    """The real photos that scikit-image, scikit-learn and matplotlib ship (no download)."""
    import skimage.data

    for name in SKIMAGE_PHOTOS:
        yield f"skimage:{name}", _picture(getattr(skimage.data, name)())
    left, right, _ = skimage.data.stereo_motorcycle()
    yield "skimage:motorcycle_left", _picture(left)
    yield "skimage:motorcycle_right", _picture(right)
    from sklearn.datasets import load_sample_images

    for name, pixels in zip(("china", "flower"), load_sample_images().images, strict=True):
        yield f"sklearn:{name}", _picture(pixels)
    from matplotlib import cbook

    for name in MATPLOTLIB_PHOTOS:
        with cbook.get_sample_data(name) as data:
            yield f"matplotlib:{name}", Image.open(io.BytesIO(data.read())).convert("RGB")
    yield from _matplotlib_scans()


def _matplotlib_scans() -> Iterator[tuple[str, Image.Image]]:
    """matplotlib's real measurements as pictures: two elevation maps, hill-shaded, an MRI."""
    from matplotlib import cbook
    from matplotlib.colors import LightSource

    for name, key in (("jacksboro_fault_dem.npz", "elevation"), ("topobathy.npz", "topo")):
        with cbook.get_sample_data(name) as data:  # an NpzFile
            elevation = np.asarray(data[key], dtype=np.float64)
        shaded = LightSource(azdeg=315, altdeg=45).hillshade(elevation, vert_exag=0.05)
        yield f"matplotlib:{name}", _picture((shaded * 255).astype(np.uint8))
    with cbook.get_sample_data("s1045.ima.gz") as raw:  # gunzipped on reading
        mri = np.frombuffer(raw.read(), np.uint16).reshape(256, 256)
    yield "matplotlib:s1045.ima", _picture((mri / max(1, mri.max()) * 255).astype(np.uint8))


def _picture(pixels: np.ndarray) -> Image.Image:
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    return Image.fromarray(np.asarray(pixels, dtype=np.uint8)).convert("RGB")


def _corpus_stills(queries: set[str]) -> Iterator[tuple[str, Image.Image]]:
    """Corpus stills that are no query photo (small or odd ones), and the C2PA stills.

    Which of them copy a query photo (a thumbnail of one, say) the screen decides.
    """
    paths = [FILES / r["file"] for r in manifest() if r["kind"] == "image"]
    paths = [p for p in paths if str(p.relative_to(FILES)) not in queries]
    paths += sorted(p for p in (C2PA / "files").glob("*") if p.suffix != ".mp4")
    for path in paths:
        try:
            yield f"corpus:{path.name}", open_picture(path).image
        except UnsupportedMedia:
            continue  # camera raws without a preview, HEIC the decoder refuses


def _video_frames() -> Iterator[tuple[str, Image.Image]]:
    """Every frame (not only the keyframes) of every corpus video."""
    import av

    paths = [FILES / r["file"] for r in manifest() if r["kind"] == "video"]
    paths += sorted((C2PA / "files").glob("*.mp4"))
    for path in paths:
        try:
            with av.open(str(path)) as container:
                for i, frame in enumerate(container.decode(video=0)):
                    yield f"video:{path.name}#{i}", frame.to_image()
        except av.FFmpegError:
            continue  # a video that stops decoding gives the frames before


class _Screen:
    """Whether a picture is a copy of a query photo, as the matcher sees it."""

    def __init__(self, queries: Sequence[Image.Image]):
        from mediacheck.match.fingerprints import fingerprint
        from mediacheck.match.index import FingerprintIndex

        prints = [fingerprint(q) for q in queries]
        self.index = FingerprintIndex.from_prints(
            (i, f"query{i}", None, fp) for i, fp in enumerate(prints)
        )
        self.keypoints = {i: fp.keypoints for i, fp in enumerate(prints)}

    def copies_a_query(self, image: Image.Image) -> bool:
        from mediacheck.match.fingerprints import probe
        from mediacheck.match.index import search

        found = search(self.index, probe(image), lambda keys: {k: self.keypoints[k] for k in keys})
        return bool(found)


# --- distractor photos ------------------------------------------------------------------


def distractor(sources: Pool, number: int, size: tuple[int, int] | None = None) -> Image.Image:
    """A photo-like stranger: a mosaic of crops, a rotated crop or a rescaled crop of sources."""
    rng = random.Random(number)
    width, height = rng.randint(480, 1024), rng.randint(360, 1024)
    width, height = size or (width, height)
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
    sources: Pool, rng: random.Random, size: tuple[int, int], turn: bool = False
) -> Image.Image:
    source = sources.pick(rng)
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


# --- distractor videos ------------------------------------------------------------------


def distractor_video(sources: Pool, number: int, path: Path) -> int:
    """An H.264 video, every frame a keyframe, one a second: shots that pan and zoom slowly
    over a distractor mosaic, cut to the next. Returns its number of frames."""
    import av

    rng = random.Random(number)
    frames = rng.randint(*VIDEO_FRAMES)
    width, height = rng.choice(VIDEO_SIZES)
    options = {"g": "1", "preset": "veryfast", "crf": str(rng.randint(23, 30))}
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.thread_count = 1  # the intake has the cores
        made, shot = 0, 0
        while made < frames:
            length = min(frames - made, rng.randint(*SHOT_FRAMES))
            for picture in _shot(
                sources, SHOT_SEEDS + number * 1000 + shot, (width, height), length
            ):
                container.mux(stream.encode(av.VideoFrame.from_image(picture)))
            made, shot = made + length, shot + 1
        container.mux(stream.encode(None))
    return frames


def _shot(sources: Pool, seed: int, size: tuple[int, int], length: int) -> Iterator[Image.Image]:
    """A camera moving slowly over one scene: a box panned and zoomed across a larger mosaic."""
    rng = random.Random(seed)
    scale = rng.uniform(1.3, 1.8)
    canvas = distractor(sources, seed, (round(size[0] * scale), round(size[1] * scale)))
    start, end = _box(rng, canvas.size, size, scale), _box(rng, canvas.size, size, scale)
    for i in range(length):
        t = i / max(1, length - 1)
        box = tuple(round(a + (b - a) * t) for a, b in zip(start, end, strict=True))
        yield canvas.crop(box).resize(size, Image.Resampling.BILINEAR)


def _box(rng: random.Random, canvas: tuple[int, int], size: tuple[int, int], scale: float):
    zoom = rng.uniform(0.75, scale * 0.95)
    w, h = round(size[0] * zoom), round(size[1] * zoom)
    left, top = rng.randint(0, canvas[0] - w), rng.randint(0, canvas[1] - h)
    return (left, top, left + w, top + h)


# --- the generator process --------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    number: int
    path: Path
    kind: str  # photo or video
    frames: int  # pictures it was made with: 1 for a photo


def is_video(number: int) -> bool:
    return number % VIDEO_EVERY == VIDEO_EVERY - 1


def make_item(sources: Pool, number: int, folder: Path) -> Item:
    if is_video(number):
        path = folder / f"distractor-{number:07d}.mp4"
        return Item(number, path, "video", distractor_video(sources, number, path))
    path = folder / f"distractor-{number:07d}.jpg"
    quality = random.Random(number).randint(70, 95)
    distractor(sources, number).save(path, quality=quality)
    return Item(number, path, "photo", 1)


def batch_folder(incoming: Path, first: int) -> Path:
    return incoming / f"batch-{first:07d}"


def generate(pool_folder: Path, incoming: Path, first: int, batch: int, ahead: int) -> None:
    """Write batches of ``batch`` items from item ``first`` on, at most ``ahead`` waiting,
    until the process that started this one is gone (however it ended)."""
    parent = os.getppid()
    sources = Pool.load(pool_folder)
    while os.getppid() == parent:
        if len(list(incoming.glob("batch-*"))) >= ahead:
            time.sleep(0.2)
            continue
        partial = incoming / f".partial-{first:07d}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        items = [make_item(sources, n, partial) for n in range(first, first + batch)]
        listing = [(i.number, i.path.name, i.kind, i.frames) for i in items]
        (partial / "items.json").write_text(json.dumps(listing))
        partial.rename(batch_folder(incoming, first))
        first += batch


def read_batch(folder: Path) -> list[Item]:
    listing = json.loads((folder / "items.json").read_text())
    return [Item(n, folder / name, kind, frames) for n, name, kind, frames in listing]


def clear_incoming(incoming: Path) -> None:
    """Batches a stopped run left: made again, identical, from the state's next item."""
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)


def sample(pool_folder: Path, out: Path, count: int) -> None:
    """A few distractors and one video's frames as files, to look at."""
    sources = Pool.load(pool_folder)
    out.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        make_item(sources, n, out)
