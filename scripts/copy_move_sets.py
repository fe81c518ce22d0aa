"""Copy-move forgeries made from real photos, and untouched real photos to set against them.

Used by ``scripts/bench_copy_move.py``, ``scripts/bench_findings.py`` and the tests:

    from scripts.copy_move_sets import forge, real_photos, repetitive_photos

``forge(image, rng)`` copies one patch of the photo (2-10% of its area, a rectangle or an
irregular blob, with a soft edge as a clone brush leaves) to another place, scaled 0.8-1.2
and rotated up to 15 degrees, and saves the result as a JPEG at quality 70-95. It returns
the JPEG's bytes with the true boxes of the source and of the copy.

``real_photos()`` are the corpus photos (picked by eye: no graphics, no blank or broken
files, one copy of each picture) and, when scikit-image is installed (``pip install
'.[bench]'``), the real photos it ships as test data. ``repetitive_photos()`` are the hard
negatives: real textures (brick, gravel, grass) and pictures built from real photos that
repeat a structure without repeating pixels: tiled floors (a grid of tiles, each cut from a
different place of a real texture and turned by a random quarter turn, with grout lines)
and crowds (a mosaic of many different small crops of real photos).
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"

# Real photos of the corpus, at least 300 pixels on the short side. Left out: graphics and
# test patterns (C.jpg, no_manifest.jpg, the GIMP/Photoshop stubs), blank or broken pictures
# (withExifAndTiffIfd.jpg is black, issue-node-exif-58.jpg a placeholder, the 32d08f...jpg
# data is garbage) and repeated copies of one picture (CA.jpg stands for its c2pa twins).
CORPUS_PHOTOS = (
    "files/exifr/BonTonARTSTORplusIPTC.jpg",
    "files/exifr/Bush-dog.jpg",
    "files/exifr/IMG_20180725_163423.jpg",
    "files/exifr/avif/Irvine_CA.avif",
    "files/exifr/broken1.jpg",
    "files/exifr/canon-dslr.jpg",
    "files/exifr/cookiezen.jpg",
    "files/exifr/door-knocker.jpg",
    "files/exifr/heic-collection.heic",
    "files/exifr/heic-empty.heic",
    "files/exifr/heic-iphone.heic",
    "files/exifr/heic-iphone7.heic",
    "files/exifr/heic-maybebroken.HEIC",
    "files/exifr/heic-single.heic",
    "files/exifr/img_1771_no_exif.jpg",
    "files/exifr/iptc-agency-photographer-example.jpg",
    "files/exifr/iptc-independent-photographer-example.jpg",
    "files/exifr/iptc-staff-photographer-example.jpg",
    "files/exifr/issue-exifr-3.jpg",
    "files/exifr/issue-exifr-47.jpeg",
    "files/exifr/issue-fast-exif-2.jpg",
    "files/exifr/sidecar/IMG_5910.jpg",
    "files/exifr/webp/VRChat_3840x2160_2022-09-04_22-48-26.551.webp",
    "files/mde/ABOVE_SEA_LEVEL.jpg",
    "files/mde/BELOW_SEA_LEVEL.JPG",
    "files/mde/manuallyAddedThumbnail.jpg",
    "files/mde/nikonMakernoteType2b.jpg",
    "files/mde/simple.jpg",
    "files/mde/withExifAndIptc.jpg",
    "files/mde/withUncompressedYCbCrThumbnail2.jpg",
    "files/mde/withUncompressedYCbCrThumbnail3.jpg",
    "c2pa/files/CA.jpg",
    "c2pa/files/nikon-20221019-building.jpeg",
    "c2pa/files/ocsp.jpg",
)
# scikit-image's bundled real photos (no downloads). Textures go to the repetitive set.
SKIMAGE_PHOTOS = (
    "astronaut",
    "camera",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "moon",
    "retina",
)
# Repetitive real pictures. Not scikit-image's grass and gravel: both are seamless textures
# whose maker cloned areas (mediacheck finds them; the copies correlate at 0.95).
SKIMAGE_REPETITIVE = ("brick", "coins", "text", "page", "immunohistochemistry")
TILE_SOURCES = ("skimage:brick",)

AREA = (0.02, 0.10)
SCALE = (0.8, 1.2)
ROTATION = 15.0
QUALITY = (70, 95)


@dataclass(frozen=True)
class Photo:
    name: str
    image: Image.Image  # RGB


@dataclass(frozen=True)
class Forgery:
    """A forged JPEG and the truth about it (boxes: left, top, width, height)."""

    name: str
    jpeg: bytes
    source: tuple[int, int, int, int]
    target: tuple[int, int, int, int]
    params: dict[str, object] = field(default_factory=dict)


def forge(photo: Photo, rng: random.Random, content: bool = True) -> Forgery:
    """One copy-move forgery of ``photo`` with parameters drawn from ``rng``.

    With ``content`` the source patch is drawn among places with at least the photo's
    average detail: a forger copies something (smoke, debris, people), and blank sky
    copied onto blank sky changes nothing anyone, or any keypoint, can see. Without it
    the patch is anywhere.
    """
    image = photo.image
    width, height = image.size
    area = rng.uniform(*AREA) * width * height
    shape = rng.choice(("rectangle", "blob"))
    aspect = rng.uniform(0.6, 1.6)
    scale = rng.uniform(*SCALE)
    rotation = rng.uniform(-ROTATION, ROTATION)
    quality = rng.randint(*QUALITY)
    patch_w = min(width // 2, max(8, round(math.sqrt(area * aspect))))
    patch_h = min(height // 2, max(8, round(area / patch_w)))
    mask = _mask(shape, (patch_w, patch_h), rng)
    left, top = _source(image, (patch_w, patch_h), rng, content)
    patch = image.crop((left, top, left + patch_w, top + patch_h))
    moved, moved_mask = _transformed(patch, mask, scale, rotation)
    target = _place(rng, image.size, moved.size, (left, top, patch_w, patch_h))
    forged = image.copy()
    forged.paste(moved, target[:2], moved_mask)
    buffer = io.BytesIO()
    forged.save(buffer, "JPEG", quality=quality)
    params = {
        "shape": shape,
        "area": round(patch_w * patch_h / (width * height), 4),
        "scale": round(scale, 3),
        "rotation": round(rotation, 1),
        "quality": quality,
    }
    return Forgery(photo.name, buffer.getvalue(), (left, top, patch_w, patch_h), target, params)


def _source(
    image: Image.Image, size: tuple[int, int], rng: random.Random, content: bool
) -> tuple[int, int]:
    """Where the patch is cut: anywhere, or (``content``) a place with average detail."""
    width, height = size
    places = [
        (rng.randint(0, image.width - width), rng.randint(0, image.height - height))
        for _ in range(40 if content else 1)
    ]
    if not content:
        return places[0]
    detail, factor = _detail(image)
    average = float(detail.mean())

    def level(place: tuple[int, int]) -> float:
        x, y = round(place[0] * factor), round(place[1] * factor)
        box = detail[y : y + max(1, round(height * factor)), x : x + max(1, round(width * factor))]
        return float(box.mean())

    rich = [place for place in places if level(place) >= average]
    return rich[0] if rich else max(places, key=level)


def _detail(image: Image.Image) -> tuple[np.ndarray, float]:
    """Gradient magnitude of the photo at a small size, and that size's scale."""
    small = image.convert("L")
    small.thumbnail((384, 384), Image.Resampling.BILINEAR)
    gray = np.asarray(small, np.float32)
    rows, columns = np.gradient(gray)
    return np.hypot(rows, columns), small.width / image.width


def _mask(shape: str, size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Where the patch is pasted: a rectangle or a random blob, both with a soft edge."""
    width, height = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    if shape == "rectangle":
        draw.rectangle([0, 0, width - 1, height - 1], fill=255)
    else:
        corners = 14
        phases = [rng.uniform(0, 2 * math.pi) for _ in range(3)]
        polygon = []
        for k in range(corners):
            angle = 2 * math.pi * k / corners
            wobble = 0.78 + 0.1 * sum(math.sin((n + 2) * angle + p) for n, p in enumerate(phases))
            radius = min(1.0, wobble + rng.uniform(-0.08, 0.08))
            polygon.append(
                (
                    width / 2 + radius * width / 2 * math.cos(angle),
                    height / 2 + radius * height / 2 * math.sin(angle),
                )
            )
        draw.polygon(polygon, fill=255)
    soft = max(1, round(min(size) / 60))
    return mask.filter(ImageFilter.GaussianBlur(soft))


def _transformed(
    patch: Image.Image, mask: Image.Image, scale: float, rotation: float
) -> tuple[Image.Image, Image.Image]:
    size = (max(4, round(patch.width * scale)), max(4, round(patch.height * scale)))
    patch = patch.resize(size, Image.Resampling.BICUBIC)
    mask = mask.resize(size, Image.Resampling.BILINEAR)
    return (
        patch.rotate(rotation, Image.Resampling.BICUBIC, expand=True),
        mask.rotate(rotation, Image.Resampling.BILINEAR, expand=True),
    )


def _place(
    rng: random.Random,
    size: tuple[int, int],
    moved: tuple[int, int],
    source: tuple[int, int, int, int],
) -> tuple[int, int, int, int]:
    """A place for the copy inside the picture, away from the source when there is room."""
    width, height = size
    w, h = min(moved[0], width), min(moved[1], height)
    best = (0, 0, w, h)
    best_overlap = math.inf
    for _ in range(200):
        box = (rng.randint(0, width - w), rng.randint(0, height - h), w, h)
        overlap = _overlap(box, source)
        if overlap == 0:
            return box
        if overlap < best_overlap:
            best, best_overlap = box, overlap
    return best


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    dx = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    dy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, dx) * max(0, dy)


def real_photos() -> list[Photo]:
    """Every real photo at hand: the corpus's and scikit-image's."""
    return corpus_photos() + skimage_photos(SKIMAGE_PHOTOS)


def corpus_photos() -> list[Photo]:
    return [photo_from(CORPUS / rel, rel) for rel in CORPUS_PHOTOS if (CORPUS / rel).is_file()]


def photo_from(path: Path, name: str | None = None) -> Photo:
    """A photo file at full size and upright (the forged copy keeps no EXIF)."""
    from mediacheck.media.pictures import open_image

    with open_image(path) as picture:
        return Photo(name or path.name, ImageOps.exif_transpose(picture).convert("RGB"))


def skimage_photos(names: tuple[str, ...]) -> list[Photo]:
    try:
        from skimage import data
    except ImportError:
        return []
    return [Photo(f"skimage:{name}", _rgb(getattr(data, name)())) for name in names]


def _rgb(array: np.ndarray) -> Image.Image:
    if array.dtype != np.uint8:
        array = (255 * (array - array.min()) / max(1e-9, np.ptp(array))).astype(np.uint8)
    return Image.fromarray(array).convert("RGB")


def repetitive_photos(seed: int = 0) -> list[Photo]:
    """Real repetitive pictures, and tiled floors and crowds built from real photos."""
    rng = random.Random(seed)
    photos = skimage_photos(SKIMAGE_REPETITIVE)
    sources = [p.image for p in real_photos()]
    for source in [p.image for p in photos if p.name in TILE_SOURCES] + rng.sample(
        sources, min(3, len(sources))
    ):
        photos.append(Photo(f"tiles:{len(photos)}", tiled_floor(source, rng)))
    faces = _faces()
    if faces:
        photos.append(Photo("crowd:faces", crowd(faces, rng, 56)))
    if sources:
        photos.append(Photo("crowd:photo-crops", crowd(sources, rng, 64)))
    return photos


def _faces() -> list[Image.Image]:
    """The 200 different real faces (Labeled Faces in the Wild) scikit-image ships."""
    try:
        from skimage import data
    except ImportError:
        return []
    return [_rgb(face) for face in data.lfw_subset()]


def tiled_floor(texture: Image.Image, rng: random.Random, tiles: int = 8) -> Image.Image:
    """A floor of ``tiles`` x ``tiles`` tiles cut from disjoint places of ``texture``.

    Each tile is its own piece of the texture, turned by a random quarter turn: the floor
    repeats a structure (tiles and grout) but no pixels, as a real floor does.
    """
    tile = min(texture.size) // tiles
    grout = max(2, tile // 16)
    pieces = _pieces(texture, tile)
    rng.shuffle(pieces)
    side = tiles * (tile + grout) + grout
    floor = Image.new("RGB", (side, side), (170, 165, 160))
    for index, piece in enumerate(pieces[: tiles * tiles]):
        row, column = divmod(index, tiles)
        turned = piece.rotate(90 * rng.randint(0, 3))
        floor.paste(turned, (grout + column * (tile + grout), grout + row * (tile + grout)))
    return floor.resize((1200, 1200), Image.Resampling.BICUBIC)


def crowd(sources: list[Image.Image], rng: random.Random, cell: int) -> Image.Image:
    """Many small different pictures side by side, like the heads of a crowd.

    Each piece is used once and no two pieces overlap in their picture, so the mosaic
    repeats no pixels.
    """
    pieces = [piece for source in sources for piece in _pieces(source, _piece_side(source))]
    rng.shuffle(pieces)
    columns = max(1, min(1600 // cell, math.isqrt(len(pieces) * 4 // 3)))
    rows = min(1200 // cell, len(pieces) // columns)
    mosaic = Image.new("RGB", (columns * cell, rows * cell))
    for index, piece in enumerate(pieces[: columns * rows]):
        row, column = divmod(index, columns)
        mosaic.paste(
            piece.resize((cell, cell), Image.Resampling.BICUBIC), (column * cell, row * cell)
        )
    return mosaic


def _piece_side(source: Image.Image) -> int:
    """Small pictures (faces) are one piece; photos give 8 pieces across their short side."""
    return min(source.size) if min(source.size) < 100 else min(source.size) // 8


def _pieces(image: Image.Image, side: int) -> list[Image.Image]:
    """The picture cut into disjoint squares of ``side`` pixels."""
    return [
        image.crop((x, y, x + side, y + side))
        for y in range(0, image.height - side + 1, side)
        for x in range(0, image.width - side + 1, side)
    ]


def halves(photos: list[Photo]) -> tuple[list[Photo], list[Photo]]:
    """A tuning half and a held-out half, fixed by the hashes of the photos' names."""
    ordered = sorted(photos, key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
    return ordered[0::2], ordered[1::2]


def generate_forgeries(photos: list[Path], out: Path, seed: int = 0) -> list[tuple[Path, bool]]:
    """Each photo untouched (False) and one forgery of it (True), written under ``out``.

    For ``scripts/bench_findings.py``: its copy-move row counts detections on the
    forgeries and false alarms on the untouched photos.
    """
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    samples: list[tuple[Path, bool]] = []
    for index, path in enumerate(photos):
        try:
            photo = photo_from(path)
        except Exception as exc:  # noqa: BLE001 - a photo the bench cannot open is skipped, named
            print(f"copy-move set: {path}: {exc}", file=sys.stderr)
            continue
        forged = out / f"{index:03d}-forged.jpg"
        forged.write_bytes(forge(photo, rng).jpeg)
        samples += [(path, False), (forged, True)]
    return samples
