"""Tell the container from its first bytes and hand the file to the right walker."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import BinaryIO

from mediacheck.media.metadata.blocks import MAX_BLOCK, Blocks
from mediacheck.media.metadata.heif import read_heif
from mediacheck.media.metadata.jpeg import read_jpeg
from mediacheck.media.metadata.png import read_png
from mediacheck.media.metadata.webp import read_webp

HEIF_BRANDS = {
    "heic",
    "heix",
    "hevc",
    "hevx",
    "heim",
    "heis",
    "hevm",
    "hevs",
    "mif1",
    "msf1",
    "avci",
}
AVIF_BRANDS = {"avif", "avis"}
# GIF, BMP and TIFF keep XMP where no walker of ours looks; it sits near the start.
XMP_SCAN = 4 * 1024 * 1024
XMP_START, XMP_END = b"<x:xmpmeta", b"</x:xmpmeta>"

# The sizes of the BMP info headers that exist (OS/2 1.x and 2.x, Windows v1 to v5).
BMP_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
TIFF_WIDTH, TIFF_HEIGHT = 256, 257
TIFF_BLOCK_TAGS = {700: "xmp", 33723: "iptc", 34377: "irb", 34675: "icc"}


def detect(head: bytes) -> str | None:
    """Container name from the first 64 bytes, or None when it is none we read."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        return _isobmff_kind(head)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in BMP_HEADER_SIZES:
        return "BMP"
    return None


def _isobmff_kind(head: bytes) -> str | None:
    # Major brand, minor version (never a brand), then the compatible brands.
    end = min(len(head), int.from_bytes(head[:4], "big"))
    brands = {head[i : i + 4].decode("latin-1") for i in range(8, end - 3, 4)}
    if brands & AVIF_BRANDS:
        return "AVIF"
    if brands & HEIF_BRANDS:
        return "HEIF"
    return None


def _read_tiff(fh: BinaryIO, blocks: Blocks) -> None:
    blocks.exif_in_file = True
    fh.seek(0)
    head = fh.read(8)
    endian = "<" if head[:2] == b"II" else ">"
    ifd = struct.unpack(endian + "I", head[4:8])[0]
    fh.seek(ifd)
    raw_count = fh.read(2)
    if len(raw_count) < 2:
        blocks.errors.append("TIFF: first directory lies past the end of the file")
        return
    count = struct.unpack(endian + "H", raw_count)[0]
    entries = fh.read(12 * count)
    for pos in range(0, len(entries) - 11, 12):
        _tiff_entry(fh, endian, entries[pos : pos + 12], blocks)


def _tiff_entry(fh: BinaryIO, endian: str, entry: bytes, blocks: Blocks) -> None:
    tag, kind, count = struct.unpack(endian + "HHI", entry[:8])
    if tag in (TIFF_WIDTH, TIFF_HEIGHT):
        fmt = "H" if kind == 3 else "I"
        value = struct.unpack(endian + fmt, entry[8 : 8 + struct.calcsize(fmt)])[0]
        width, height = blocks.size or (0, 0)
        blocks.size = (value, height) if tag == TIFF_WIDTH else (width, value)
    elif tag in TIFF_BLOCK_TAGS:
        length = count * TIFF_TYPE_SIZES.get(kind, 1)
        if length > MAX_BLOCK:
            blocks.errors.append(f"TIFF: tag {tag} is over the {MAX_BLOCK} byte limit, skipped")
            return
        if length <= 4:
            data = entry[8 : 8 + length]
        else:
            here = fh.tell()
            fh.seek(struct.unpack(endian + "I", entry[8:12])[0])
            data = fh.read(length)
            fh.seek(here)
        _tiff_block(TIFF_BLOCK_TAGS[tag], data, blocks)


def _tiff_block(name: str, data: bytes, blocks: Blocks) -> None:
    if name == "xmp":
        blocks.xmp.append(data)
    else:
        setattr(blocks, name, data)


def _read_gif(fh: BinaryIO, blocks: Blocks) -> None:
    fh.seek(6)
    screen = fh.read(4)
    if len(screen) == 4:
        blocks.size = struct.unpack("<HH", screen)
    _scan_xmp(fh, blocks)


def _read_bmp(fh: BinaryIO, blocks: Blocks) -> None:
    fh.seek(14)
    header = fh.read(12)
    if len(header) < 12:
        blocks.errors.append("BMP: truncated header")
        return
    if struct.unpack("<I", header[:4])[0] == 12:  # OS/2 1.x: 16-bit sizes
        blocks.size = struct.unpack("<HH", header[4:8])
    else:
        width, height = struct.unpack("<ii", header[4:12])
        # A negative height only says the rows are stored top-down.
        blocks.size = (abs(width), abs(height))


def _scan_xmp(fh: BinaryIO, blocks: Blocks) -> None:
    fh.seek(0)
    window = fh.read(XMP_SCAN)
    start = window.find(XMP_START)
    end = window.find(XMP_END, start)
    if start >= 0 and end > start:
        blocks.xmp.append(window[start : end + len(XMP_END)])


WALKERS: dict[str, Callable[[BinaryIO, Blocks], None]] = {
    "JPEG": read_jpeg,
    "PNG": read_png,
    "TIFF": _read_tiff,
    "WEBP": read_webp,
    "HEIF": read_heif,
    "AVIF": read_heif,
    "GIF": _read_gif,
    "BMP": _read_bmp,
}
