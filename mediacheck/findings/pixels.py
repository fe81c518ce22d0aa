"""Decoding pixels for a check, bounded and tolerant of cut-off files."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageFile

from mediacheck.media import pictures as imaging

JPEG_FORMATS = ("JPEG", "MPO")  # MPO: phone JPEGs with extra pictures appended


def decode(path: Path, mode: str, max_side: int | None = None) -> Image.Image:
    """The first frame in ``mode``, at most ``max_side`` on its long side if given.

    JPEGs are decoded at a reduced DCT scale first, which is far cheaper.

    A truncated file is decoded as far as it goes: the top of a cut-off photo
    is still worth analysing.
    """
    try:
        return _decode(path, mode, max_side)
    except OSError as exc:
        if "truncated" not in str(exc):
            raise
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        return _decode(path, mode, max_side)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _decode(path: Path, mode: str, max_side: int | None) -> Image.Image:
    with imaging.open_image(path) as img:
        width, height = img.size
        if width * height > imaging.MAX_PIXELS:
            raise ValueError(f"{width}x{height} pixels is over {imaging.MAX_PIXELS}")
        if img.format in JPEG_FORMATS:
            scale = min(1.0, max_side / max(width, height)) if max_side else 1.0
            target = (max(1, int(width * scale)), max(1, int(height * scale)))
            img.draft(mode, imaging.bounded_draft(target, (width, height)))
        imaging.check_budget(path, img, (width, height), converted_to=mode)
        picture = img.convert(mode) if img.mode != mode else img
        if max_side and max(picture.size) > max_side:
            # In place: a picture already in ``mode`` is never copied at full size.
            picture.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return picture.copy() if picture is img else picture
