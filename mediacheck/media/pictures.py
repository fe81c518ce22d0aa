"""Opening pictures safely and cheaply.

Intake never needs every pixel of a 12 MP photo: perceptual hashes look at
32x32 to 512x512 pictures, so JPEGs are decoded at a reduced DCT scale
(draft mode) and everything is brought down to at most ``WORKING_SIZE``.

Whatever a file declares, decoding it must leave the machine its memory:
before any pixel is decoded, the buffers the decode will need are worked out
from the header, and a picture that would need more than ``DECODE_BUDGET``
is refused (kept as evidence with its hashes only). Camera raw files are
represented by the preview picture they embed.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from mediacheck.errors import UnsupportedMedia
from mediacheck.media import raw, short_data

pillow_heif.register_heif_opener()
# Phones write HEIC files whose declared size is off by a few pixels; the
# pixels are still good evidence.
pillow_heif.options.ALLOW_INCORRECT_HEADERS = True  # type: ignore[attr-defined]

# Larger pictures are kept as evidence without decoding their pixels:
# a decompression bomb must not take the desk's machine down.
MAX_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

WORKING_SIZE = 1024
DRAFT_SIZE = (WORKING_SIZE // 2, WORKING_SIZE // 2)

MB = 1024 * 1024
# One picture's analysis stays under 500 MB resident: the interpreter with its
# imaging, video and matching libraries takes about 130 MB, the decoded buffers get this.
DECODE_BUDGET = 256 * MB
# Bytes per pixel of Pillow's buffer in each mode (others take 4).
MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
# Resizing a picture with alpha first makes a premultiplied full-size copy.
ALPHA_MODES = {"LA", "PA", "RGBA"}
# What a decoder holds beside Pillow's buffer, per pixel: libheif's planes and
# output (measured: 10 bytes a pixel in all for a 12 MP iPhone HEIC), libwebp's output.
DECODER_BYTES = {"HEIF": 6, "AVIF": 6, "WEBP": 4}
HEAD_BYTES = 8192
TIFF_ROWS_PER_STRIP, TIFF_TILE_WIDTH, TIFF_TILE_LENGTH = 278, 322, 323


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
    the top of a cut-off photo is still worth hashing and matching. A camera
    raw file gives its embedded preview, with the raw picture's own size.
    """
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    raw_name = raw.raw_format(head)
    if raw_name is None:
        return _open_tolerant(path, lambda: Image.open(path))
    found = raw.open_preview(path)
    picture = _open_tolerant(path, found.open)
    # Camera previews are stored as the sensor saw them, unless they carry their own EXIF.
    if found.orientation != 1 and _preview_orientation(found) == 1:
        picture.image = _oriented(picture.image, found.orientation)
    picture.width, picture.height, picture.format = found.width, found.height, raw_name
    return picture


def _open_tolerant(path: Path, opener: Callable[[], Image.Image]) -> Picture:
    try:
        return _open(path, opener, allow_truncated=False)
    except UnsupportedMedia as exc:
        if "truncated" not in exc.cause:
            raise
    picture = _open(path, opener, allow_truncated=True)
    picture.truncated = True
    return picture


def _open(path: Path, opener: Callable[[], Image.Image], allow_truncated: bool) -> Picture:
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = allow_truncated
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with opener() as img:
                return _decode(path, img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnsupportedMedia(path, f"decompression bomb refused: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMedia(path, "not a picture Pillow can decode") from exc
    except (OSError, ValueError, SyntaxError, EOFError, TypeError) as exc:
        raise UnsupportedMedia(path, f"picture cannot be decoded: {_reason(exc)}") from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _decode(path: Path, img: Image.Image) -> Picture:
    width, height = img.size
    if width < 1 or height < 1:
        raise UnsupportedMedia(path, f"picture declares a size of {width}x{height} pixels")
    if width * height > MAX_PIXELS:
        raise UnsupportedMedia(
            path, f"decompression bomb refused: {width}x{height} pixels is over {MAX_PIXELS}"
        )
    fmt = img.format or ""
    cut = _ends_early(img)
    if fmt == "JPEG":
        img.draft("RGB", DRAFT_SIZE)
    check_budget(path, img, (width, height))
    orientation = _exif_orientation(img)  # a PNG is decoded to find its eXIf chunk
    if orientation != 1:
        check_budget(path, img, (width, height), orientation)
    img.load()
    # exif_transpose copies even when nothing turns: only a turned picture pays for a copy.
    upright = ImageOps.exif_transpose(img) if orientation != 1 else img
    upright.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BILINEAR)
    if upright is img:
        upright = img.copy()  # closing the opened file would take its pixels with it
    return Picture(width, height, _to_rgb(upright), fmt, truncated=cut)


def _ends_early(img: Image.Image) -> bool:
    """Whether the data of a JPEG or PNG ends before its declared size (undrafted JPEGs only)."""
    if img.format == "JPEG":
        return short_data.jpeg_too_short(img)
    return img.format == "PNG" and _trim_short_png(img)


def _trim_short_png(img: Image.Image) -> bool:
    """Whether a PNG's data ends early; if its rows are in order, decode only those it has."""
    if not isinstance(img, ImageFile.ImageFile) or img.fp is None:
        return False
    counted = short_data.png_rows(img.fp)
    if counted is None or counted[0] >= counted[1]:
        return False
    if not img.info.get("interlace") and len(img.tile) == 1:
        row_bytes = counted[1] // img.height
        rows = max(1, counted[0] // row_bytes)
        img._size = (img.width, rows)  # Pillow allocates and decodes this many rows only
        img.tile = [img.tile[0]._replace(extents=(0, 0, img.width, rows))]
    return True


def open_image(path: Path) -> Image.Image:
    """A picture file opened lazily, nothing decoded yet; for a camera raw, its preview."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if raw.raw_format(head) is None:
        return Image.open(path)
    return raw.open_preview(path).open()


def check_budget(
    path: Path,
    img: Image.Image,
    declared: tuple[int, int],
    orientation: int = 1,
    converted_to: str | None = None,
) -> None:
    """Refuse, before decoding, a picture whose buffers would be over ``DECODE_BUDGET``.

    ``converted_to``: the mode the caller converts the full-size picture to.
    """
    needed = decode_bytes(img, declared, orientation)
    if converted_to is not None and converted_to != img.mode:
        needed += img.width * img.height * MODE_BYTES.get(converted_to, 4)
    if needed > DECODE_BUDGET:
        raise UnsupportedMedia(
            path,
            f"too large to decode within the memory bound: {declared[0]}x{declared[1]} "
            f"{img.mode} needs about {needed // MB} MB, over {DECODE_BUDGET // MB} MB",
        )


def bounded_draft(target: tuple[int, int], size: tuple[int, int]) -> tuple[int, int]:
    """A JPEG draft size at least ``target`` unless that decodes to more than half the budget.

    libjpeg scales by 1/2, 1/4 or 1/8 and Pillow picks the coarsest scale that still
    gives ``target``: a 196 MP picture wanted at 4096 px decodes at 7000 px, 196 MB,
    before the caller's own copies. A coarser scale is asked for where that is too much.
    """
    scale = 1
    while scale < 8 and size[0] * size[1] * 4 > DECODE_BUDGET // 2 * scale * scale:
        scale *= 2
    if scale == 1:
        return target
    return (min(target[0], size[0] // scale), min(target[1], size[1] // scale))


def decode_bytes(img: Image.Image, declared: tuple[int, int], orientation: int = 1) -> int:
    """Peak bytes of decoding ``img`` at its (drafted) size and bringing it to working size.

    ``declared`` is the size in the header: a progressive JPEG keeps the DCT
    coefficients of the full picture however small the draft.
    """
    pixels = img.width * img.height
    per_pixel = MODE_BYTES.get(img.mode, 4)
    copies = 1 + (img.mode in ALPHA_MODES) + (orientation != 1)
    needed: float = pixels * (per_pixel * copies + DECODER_BYTES.get(img.format or "", 0))
    if img.format == "JPEG" and img.info.get("progressive"):
        needed += declared[0] * declared[1] * 2 * _samples_per_pixel(img)
    if img.format == "TIFF":
        needed += _tiff_strip_pixels(img) * per_pixel
    return int(needed)


def _tiff_strip_pixels(img: Image.Image) -> int:
    """Pixels of one strip or tile: libtiff decodes each whole into a buffer of its own."""
    tags = getattr(img, "tag_v2", {})
    tile_width, tile_length = tags.get(TIFF_TILE_WIDTH), tags.get(TIFF_TILE_LENGTH)
    if isinstance(tile_width, int) and isinstance(tile_length, int):
        return tile_width * tile_length
    rows = tags.get(TIFF_ROWS_PER_STRIP)
    return img.width * min(rows if isinstance(rows, int) else img.height, img.height)


def _samples_per_pixel(img: Image.Image) -> float:
    """Coefficients a JPEG stores per pixel over all its components (3 for 4:4:4 colour)."""
    layers = getattr(img, "layer", None) or [("", 1, 1, 0)] * len(img.getbands())
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    return sum(layer[1] * layer[2] for layer in layers) / (h_max * v_max)


def _exif_orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError, struct.error):
        return 1  # an unreadable EXIF block turns nothing
    return value if value in range(1, 9) else 1


def _preview_orientation(found: raw.RawPreview) -> int:
    with found.open() as img:
        return _exif_orientation(img)


def _oriented(img: Image.Image, orientation: int) -> Image.Image:
    turns = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270}
    return img.transpose(turns.get(orientation, Image.Transpose.ROTATE_90))


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
