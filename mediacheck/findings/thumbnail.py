"""The embedded thumbnail (EXIF or Photoshop) against the main picture: editors often forget it."""

from __future__ import annotations

import io
from pathlib import Path

import imagehash
from PIL import Image

from mediacheck.findings.base import INFO, WARNING, Finding, FindingContext
from mediacheck.findings.pixels import decode
from mediacheck.media.metadata.blocks import Blocks
from mediacheck.media.metadata.containers import WALKERS, detect
from mediacheck.media.metadata.exif import read_thumbnail
from mediacheck.media.metadata.iptc import THUMBNAIL_RESOURCES, photoshop_resources

IMAGE_NAME = "finding-exif-thumbnail.png"
MAX_THUMBNAIL_BYTES = 1_000_000
# A Photoshop thumbnail resource starts with a 28-byte header before its JPEG.
PHOTOSHOP_THUMBNAIL_HEADER = 28
# Photoshop 4 (resource 1033) wrote its thumbnail with red and blue swapped.
BGR_SOURCE = "Photoshop resource 1033"
MAX_THUMBNAIL_PIXELS = 4_000_000
COMPARE_SIZE = 256
MIN_COMPARE_SIDE = 32
# pHash distance (of 64 bits) above which two pictures show different content;
# re-encoding and resizing the same picture stay well below it.
MISMATCH_DISTANCE = 16


def check_thumbnail(ctx: FindingContext) -> list[Finding]:
    if ctx.kind != "image":
        return []
    found = embedded_thumbnail(ctx.path)
    if found is None or len(found[1]) > MAX_THUMBNAIL_BYTES:
        return []
    source, data = found
    thumb = _decode_thumbnail(data)
    if thumb is None:
        return []
    if source == BGR_SOURCE:
        thumb = Image.merge("RGB", thumb.split()[::-1])
    # A preview only a few pixels across cannot be compared meaningfully.
    compared = min(thumb.size) >= MIN_COMPARE_SIDE
    distance = _distance(thumb, _decode_main(ctx)) if compared else None
    ctx.derived_dir.mkdir(parents=True, exist_ok=True)
    thumb.save(ctx.derived_dir / IMAGE_NAME, format="PNG")
    evidence = {
        "source": source,
        "thumbnail_width": thumb.width,
        "thumbnail_height": thumb.height,
        "thumbnail_bytes": len(data),
        "compared": compared,
        "phash_distance": distance,
        "threshold": MISMATCH_DISTANCE,
    }
    if distance is not None and distance > MISMATCH_DISTANCE:
        message = (
            "The small preview picture stored inside the file (its thumbnail) shows "
            f"something different from the main picture (perceptual distance {distance} "
            "of 64). Cameras write both at the same moment; editors that crop or change "
            "the picture sometimes leave the old preview behind. Compare the two: the "
            "thumbnail may show the picture before it was changed."
        )
        return [Finding("thumbnail-mismatch", WARNING, message, evidence, image=IMAGE_NAME)]
    if distance is None:
        comparison = "It is too small to compare with the main picture."
    else:
        comparison = f"It matches the main picture (perceptual distance {distance} of 64)."
    where = "Photoshop's own metadata" if source.startswith("Photoshop") else "its EXIF metadata"
    message = (
        f"The file holds a small preview picture (a thumbnail) in {where}. {comparison} "
        "A matching thumbnail is consistent with an unedited file but does not prove it: "
        "many editors rewrite it."
    )
    return [Finding("thumbnail-present", INFO, message, evidence, image=IMAGE_NAME)]


def embedded_thumbnail(path: Path) -> tuple[str, bytes] | None:
    """Where the file's preview picture is stored, and its bytes."""
    with open(path, "rb") as fh:
        kind = detect(fh.read(64))
        if kind is None:
            return None
        # The metadata walkers read only the blocks, bounded, never the whole file.
        blocks = Blocks(format=kind)
        WALKERS[kind](fh, blocks)
        exif = fh if blocks.exif_in_file else blocks.exif
        data = read_thumbnail(exif) if exif is not None else None
    if data:
        return "EXIF", data
    return _photoshop_thumbnail(blocks)


def _photoshop_thumbnail(blocks: Blocks) -> tuple[str, bytes] | None:
    resources = photoshop_resources(blocks.irb or b"")
    for resource_id in sorted(THUMBNAIL_RESOURCES, reverse=True):
        data = resources.get(resource_id, b"")[PHOTOSHOP_THUMBNAIL_HEADER:]
        if data:
            return f"Photoshop resource {resource_id}", data
    return None


def _decode_thumbnail(data: bytes) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_THUMBNAIL_PIXELS:
                return None
            return img.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        # An unreadable thumbnail is common in old files and says nothing.
        return None


def _decode_main(ctx: FindingContext) -> Image.Image:
    # Thumbnails are stored unrotated, like the main picture's pixels.
    return decode(ctx.path, "RGB", COMPARE_SIZE)


def _distance(thumb: Image.Image, main: Image.Image) -> int:
    """pHash distance, also trying the thumbnail without letterbox bars of another shape."""
    candidates = [thumb, _crop_to_aspect(thumb, main.width / main.height)]
    reference = imagehash.phash(main)
    return min(int(imagehash.phash(c) - reference) for c in candidates)


def _crop_to_aspect(img: Image.Image, aspect: float) -> Image.Image:
    width, height = img.size
    if width / height > aspect:
        new_width = max(1, round(height * aspect))
        left = (width - new_width) // 2
        return img.crop((left, 0, left + new_width, height))
    new_height = max(1, round(width / aspect))
    top = (height - new_height) // 2
    return img.crop((0, top, width, top + new_height))
