"""Opening pictures safely and cheaply.

Intake never needs every pixel of a 12 MP photo: perceptual hashes look at
32x32 to 512x512 pictures, so JPEGs are decoded at a reduced DCT scale
(draft mode) and everything is brought down to at most ``WORKING_SIZE``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from mediacheck.errors import UnsupportedMedia

pillow_heif.register_heif_opener()
# Phones write HEIC files whose declared size is off by a few pixels; the
# pixels are still good evidence.
pillow_heif.options.ALLOW_INCORRECT_HEADERS = True

# Larger pictures are kept as evidence without decoding their pixels:
# a decompression bomb must not take the desk's machine down.
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

WORKING_SIZE = 1024
DRAFT_SIZE = (WORKING_SIZE // 2, WORKING_SIZE // 2)


@dataclass
class Picture:
    width: int  # real pixel size of the file, as stored (before orientation)
    height: int
    image: Image.Image  # RGB, upright, at most WORKING_SIZE on its long side
    format: str
    truncated: bool = False  # only the part that decoded is in ``image``


def open_picture(path: Path) -> Picture:
    """Decode a picture at working size; raise UnsupportedMedia if it cannot be.

    A truncated file is decoded as far as it goes (``truncated`` is set), since
    the top of a cut-off photo is still worth hashing and matching.
    """
    try:
        return _open(path, allow_truncated=False)
    except UnsupportedMedia as exc:
        if "truncated" not in exc.cause:
            raise
    picture = _open(path, allow_truncated=True)
    picture.truncated = True
    return picture


def _open(path: Path, allow_truncated: bool) -> Picture:
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = allow_truncated
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return _decode(path, img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnsupportedMedia(path, f"decompression bomb refused: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMedia(path, "not a picture Pillow can decode") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UnsupportedMedia(path, f"picture cannot be decoded: {_reason(exc)}") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _decode(path: Path, img: Image.Image) -> Picture:
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise UnsupportedMedia(
            path, f"decompression bomb refused: {width}x{height} pixels is over {MAX_PIXELS}"
        )
    fmt = img.format or ""
    if fmt == "JPEG":
        img.draft("RGB", DRAFT_SIZE)
    img.load()
    upright = ImageOps.exif_transpose(img)
    upright.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BILINEAR)
    return Picture(width=width, height=height, image=_to_rgb(upright), format=fmt)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Transparent areas become white, as a viewer shows them on a page.
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        return img.point(lambda v: v / 256).convert("L").convert("RGB")
    return img.convert("RGB")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__
