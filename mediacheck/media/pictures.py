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
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pillow_heif
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from mediacheck.errors import UnsupportedMedia
from mediacheck.media import raw

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
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
INFLATE_STEP = MB
# Adam7 interlacing: (first column, first row, column step, row step) of its seven passes.
ADAM7_PASSES = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


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
    if found.orientation != 1:
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
    if fmt == "JPEG":
        img.draft("RGB", DRAFT_SIZE)
    cut = fmt == "PNG" and _trim_short_png(path, img)
    orientation = _exif_orientation(img)
    needed = decode_bytes(img, (width, height), orientation)
    if needed > DECODE_BUDGET:
        raise UnsupportedMedia(
            path,
            f"too large to decode within the memory bound: {width}x{height} {img.mode} "
            f"needs about {needed // MB} MB, over {DECODE_BUDGET // MB} MB",
        )
    img.load()
    # exif_transpose copies even when nothing turns: only a turned picture pays for a copy.
    upright = ImageOps.exif_transpose(img) if orientation != 1 else img
    upright.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.BILINEAR)
    if upright is img:
        upright = img.copy()  # closing the opened file would take its pixels with it
    return Picture(width, height, _to_rgb(upright), fmt, truncated=cut)


def _trim_short_png(path: Path, img: Image.Image) -> bool:
    """Whether a PNG's data ends early; if its rows are in order, decode only those it has."""
    counted = _png_rows(path)
    if counted is None or counted[0] >= counted[1]:
        return False
    if not img.info.get("interlace") and len(img.tile) == 1:
        row_bytes = counted[1] // img.height
        rows = max(1, counted[0] // row_bytes)
        img._size = (img.width, rows)  # Pillow allocates and decodes this many rows only
        img.tile = [img.tile[0]._replace(extents=(0, 0, img.width, rows))]
    return True


def decode_bytes(img: Image.Image, declared: tuple[int, int], orientation: int = 1) -> int:
    """Peak bytes of decoding ``img`` at its (drafted) size and bringing it to working size.

    ``declared`` is the size in the header: a progressive JPEG keeps the DCT
    coefficients of the full picture however small the draft.
    """
    pixels = img.width * img.height
    per_pixel = MODE_BYTES.get(img.mode, 4)
    copies = 1 + (img.mode in ALPHA_MODES) + (orientation != 1)
    needed = pixels * (per_pixel * copies + DECODER_BYTES.get(img.format or "", 0))
    if img.format == "JPEG" and img.info.get("progressive"):
        needed += declared[0] * declared[1] * 2 * _samples_per_pixel(img)
    return needed


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


def _oriented(img: Image.Image, orientation: int) -> Image.Image:
    turns = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270}
    return img.transpose(turns.get(orientation, Image.Transpose.ROTATE_90))


def _png_rows(path: Path) -> tuple[int, int] | None:
    """(bytes of scanlines the compressed data holds, bytes the header calls for) of a PNG.

    Pillow takes a zlib stream that ends early as the end of the picture and leaves the
    rest blank without a word; the stream is inflated here in bounded steps to count.
    """
    with open(path, "rb") as fh:
        fh.seek(len(PNG_SIGNATURE))
        length, kind = _png_chunk_head(fh)
        header = fh.read(13)
        if kind != b"IHDR" or length < 13 or len(header) < 13:
            return None
        expected = _png_raw_size(*struct.unpack(">IIBBBBB", header))
        fh.seek(length - 13 + 4, 1)
        inflater = zlib.decompressobj()
        produced = 0
        while produced < expected and not inflater.eof:
            length, kind = _png_chunk_head(fh)
            if kind in (b"", b"IEND"):
                break
            if kind == b"IDAT":
                produced += _inflate_chunk(fh, length, inflater)
            else:
                fh.seek(length, 1)
            fh.seek(4, 1)  # CRC
    return produced, expected


def _png_chunk_head(fh: BinaryIO) -> tuple[int, bytes]:
    head = fh.read(8)
    return struct.unpack(">I4s", head) if len(head) == 8 else (0, b"")


def _inflate_chunk(fh: BinaryIO, length: int, inflater: zlib._Decompress) -> int:
    """Bytes one IDAT chunk inflates to, read and inflated a megabyte at a time."""
    produced = 0
    try:
        while length > 0 and not inflater.eof:
            data = fh.read(min(length, INFLATE_STEP))
            if not data:
                break
            length -= len(data)
            while data and not inflater.eof:
                produced += len(inflater.decompress(data, INFLATE_STEP))
                data = inflater.unconsumed_tail
    except zlib.error:
        pass  # a damaged stream: Pillow reports that one itself
    fh.seek(length, 1)
    return produced


def _png_raw_size(
    width: int, height: int, depth: int, colour: int, _c: int, _f: int, interlace: int
) -> int:
    """Bytes of filtered scanlines a PNG of this header inflates to."""
    bits = depth * PNG_CHANNELS.get(colour, 4)
    if interlace != 1:
        return height * (1 + (width * bits + 7) // 8)
    return sum(_pass_size(width, height, bits, *adam7) for adam7 in ADAM7_PASSES)


def _pass_size(width: int, height: int, bits: int, x0: int, y0: int, dx: int, dy: int) -> int:
    columns = max(0, (width - x0 + dx - 1) // dx)
    rows = max(0, (height - y0 + dy - 1) // dy)
    return rows * (1 + (columns * bits + 7) // 8) if columns else 0


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
