"""Pixel bombs: small files whose headers declare pictures just under the pixel cap.

Made on the fly, in a few seconds at most, for the tests and ``scripts/bench_intake.py``.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

# 196 MP: just under mediacheck's 200 MP cap.
SIDE = 14_000


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(path: Path, colour: int = 2, rows: int = SIDE, side: int = SIDE) -> Path:
    """A ``side`` x ``side`` black PNG (colour type 2: RGB, 0: grey) holding ``rows`` rows."""
    channels = {0: 1, 2: 3}[colour]
    compressor = zlib.compressobj(6)
    row = b"\x00" * (1 + side * channels)
    parts = [compressor.compress(row * min(64, rows - i)) for i in range(0, rows, 64)]
    ihdr = struct.pack(">IIBBBBB", side, side, 8, colour, 0, 0, 0)
    idat = b"".join(parts) + compressor.flush()
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )
    return path


def jpeg(path: Path, progressive: bool = False, side: int = SIDE) -> Path:
    """A small JPEG whose frame header is patched to declare ``side`` x ``side`` pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 200)).save(buffer, "JPEG", progressive=progressive)
    data = bytearray(buffer.getvalue())
    frame = data.find(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", side, side)
    path.write_bytes(bytes(data))
    return path


def gif(path: Path, side: int = SIDE) -> Path:
    """A GIF declaring ``side`` x ``side`` pixels whose LZW data stops after a few codes."""
    screen = struct.pack("<HHBBB", side, side, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, side, side, 0)
    path.write_bytes(b"GIF89a" + screen + descriptor + b"\x02\x02\x44\x01\x00\x3b")
    return path


def tiff(path: Path, rows_per_strip: int = 64, side: int = SIDE) -> Path:
    """A deflate-compressed grey TIFF of ``side`` x ``side`` black pixels, in strips."""
    strip = _zeros_deflated(side * rows_per_strip)
    strips = -(-side // rows_per_strip)
    start = 8 + 2 + 12 * 9 + 4  # header, then the directory, then the strip tables
    data_at = start + (8 * strips if strips > 1 else 0)
    offsets = [data_at + i * len(strip) for i in range(strips)]
    entries = [
        (256, 4, 1, side),
        (257, 4, 1, side),
        (258, 3, 1, 8),
        (259, 3, 1, 8),  # Adobe deflate
        (262, 3, 1, 1),  # black is zero
        (273, 4, strips, start if strips > 1 else data_at),
        (277, 3, 1, 1),
        (278, 4, 1, rows_per_strip),
        (279, 4, strips, start + 4 * strips if strips > 1 else len(strip)),
    ]
    directory = struct.pack("<H", len(entries))
    directory += b"".join(struct.pack("<HHII", *entry) for entry in entries) + b"\x00" * 4
    tables = struct.pack(f"<{strips}I{strips}I", *offsets, *[len(strip)] * strips)
    with open(path, "wb") as out:
        out.write(b"II*\x00" + struct.pack("<I", 8) + directory)
        out.write(tables if strips > 1 else b"")
        for _ in range(strips):
            out.write(strip)
    return path


def _zeros_deflated(size: int) -> bytes:
    compressor = zlib.compressobj(6)
    block = b"\x00" * (1 << 20)
    parts = [
        compressor.compress(block[: min(len(block), size - i)]) for i in range(0, size, len(block))
    ]
    return b"".join(parts) + compressor.flush()


def bmp(path: Path, side: int = SIDE) -> Path:
    """A BMP header declaring ``side`` x ``side`` 24-bit pixels, and no pixels."""
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 24, 0, 0, 2835, 2835, 0, 0)
    path.write_bytes(b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info)
    return path


def heic(path: Path, side: int = SIDE) -> Path:
    """A small HEIC whose image extent (``ispe``) is patched to declare ``side`` x ``side``."""
    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (64, 64), (90, 120, 200))).save(buffer, quality=50)
    data = bytearray(buffer.getvalue())
    extent = data.find(b"ispe")
    data[extent + 8 : extent + 16] = struct.pack(">II", side, side)
    path.write_bytes(bytes(data))
    return path


BOMBS: dict[str, Callable[[Path], Path]] = {
    "png-rgb-196mp.png": png,
    "png-grey-196mp.png": lambda path: png(path, colour=0),
    "png-one-row-196mp.png": lambda path: png(path, rows=1),
    "jpeg-header-196mp.jpg": jpeg,
    "jpeg-progressive-196mp.jpg": lambda path: jpeg(path, progressive=True),
    "gif-196mp.gif": gif,
    "tiff-grey-strips-196mp.tif": tiff,
    "tiff-grey-one-strip-196mp.tif": lambda path: tiff(path, rows_per_strip=SIDE),
    "bmp-header-196mp.bmp": bmp,
    "heic-ispe-196mp.heic": heic,
}
