"""Pictures whose data ends before the size their header declares.

Decoders fill what is missing with grey or black and many say nothing: Pillow takes a
zlib stream that ends early as the end of a PNG, libjpeg a JPEG's end marker as the end
of its scan. These checks read the file's structure, never its pixels, in bounded steps.
"""

from __future__ import annotations

import struct
import zlib
from typing import IO

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
INFLATE_STEP = 1024 * 1024
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
JPEG_SOS = 0xDA
JPEG_STANDALONE = {0x01, *range(0xD0, 0xD9)}
# Each 8x8 block of a baseline scan codes at least a DC difference and an end of block,
# one bit each at the very least; a progressive first scan at least its DC difference.
MIN_BITS_PER_BLOCK = {False: 2, True: 1}


def png_rows(fp: IO[bytes]) -> tuple[int, int] | None:
    """(bytes of scanlines a PNG's compressed data holds, bytes its header calls for)."""
    where = fp.tell()
    try:
        return _png_counts(fp)
    finally:
        fp.seek(where)


def _png_counts(fp: IO[bytes]) -> tuple[int, int] | None:
    fp.seek(len(PNG_SIGNATURE))
    length, kind = _png_chunk_head(fp)
    header = fp.read(13)
    if kind != b"IHDR" or length < 13 or len(header) < 13:
        return None
    expected = _png_raw_size(*struct.unpack(">IIBBBBB", header))
    fp.seek(length - 13 + 4, 1)
    inflater = zlib.decompressobj()
    produced = 0
    while produced < expected and not inflater.eof:
        length, kind = _png_chunk_head(fp)
        if kind in (b"", b"IEND"):
            break
        if kind == b"IDAT":
            produced += _inflate_chunk(fp, length, inflater)
        else:
            fp.seek(length, 1)
        fp.seek(4, 1)  # CRC
    return produced, expected


def _png_chunk_head(fp: IO[bytes]) -> tuple[int, bytes]:
    head = fp.read(8)
    return struct.unpack(">I4s", head) if len(head) == 8 else (0, b"")


def _inflate_chunk(fp: IO[bytes], length: int, inflater: zlib._Decompress) -> int:
    """Bytes one IDAT chunk inflates to, read and inflated a megabyte at a time."""
    produced = 0
    try:
        while length > 0 and not inflater.eof:
            data = fp.read(min(length, INFLATE_STEP))
            if not data:
                break
            length -= len(data)
            while data and not inflater.eof:
                produced += len(inflater.decompress(data, INFLATE_STEP))
                data = inflater.unconsumed_tail
    except zlib.error:
        pass  # a damaged stream: Pillow reports that one itself
    fp.seek(length, 1)
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


def jpeg_too_short(img: Image.Image) -> bool:
    """Whether a JPEG, opened and not yet drafted, has fewer bytes of scan than its blocks need.

    A lower bound only: a JPEG this short is certainly cut, a longer one may still be.
    """
    layers = getattr(img, "layer", None)
    fp = getattr(img, "fp", None)
    if fp is None or not layers:
        return False
    where = fp.tell()
    try:
        scan = _jpeg_scan_bytes(fp)
    finally:
        fp.seek(where)
    if scan is None:
        return False
    bits = MIN_BITS_PER_BLOCK[bool(img.info.get("progressive"))]
    return scan * 8 < _jpeg_blocks(img.size, layers) * bits


def _jpeg_blocks(size: tuple[int, int], layers: list[tuple[str, int, int, int]]) -> int:
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    blocks = 0
    for _id, h, v, _table in layers:
        columns = -(-size[0] * h // h_max)
        rows = -(-size[1] * v // v_max)
        blocks += -(-columns // 8) * -(-rows // 8)
    return blocks


def _jpeg_scan_bytes(fp: IO[bytes]) -> int | None:
    """Bytes from the first start-of-scan segment to the end of the file."""
    fp.seek(2)
    while (head := fp.read(2))[:1] == b"\xff" and len(head) == 2:
        marker = head[1]
        if marker == 0xFF:
            fp.seek(-1, 1)  # fill byte
            continue
        if marker in JPEG_STANDALONE:
            continue
        length = fp.read(2)
        if len(length) < 2:
            return None
        fp.seek(int.from_bytes(length, "big") - 2, 1)
        if marker == JPEG_SOS:
            scan_start = fp.tell()
            return fp.seek(0, 2) - scan_start
    return None
