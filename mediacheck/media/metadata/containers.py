"""Tell the container from its first bytes and hand the file to the right walker."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import BinaryIO

from mediacheck.media.metadata.blocks import Blocks
from mediacheck.media.metadata.camera_raw import read_cr3, read_raf, read_rw2
from mediacheck.media.metadata.heif import read_heif
from mediacheck.media.metadata.jpeg import read_jpeg
from mediacheck.media.metadata.png import read_png
from mediacheck.media.metadata.tiff import read_tiff
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


def detect(head: bytes) -> str | None:
    """Container name from the first 64 bytes, or None when it is none we read."""
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "ORF"  # a TIFF structure with Olympus's own magic number
    if head[:4] == b"IIU\x00":
        return "RW2"
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAF"
    if head[4:12] == b"ftypcrx ":
        return "CR3"
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
    "TIFF": read_tiff,
    "ORF": read_tiff,
    "RW2": read_rw2,
    "RAF": read_raf,
    "CR3": read_cr3,
    "WEBP": read_webp,
    "HEIF": read_heif,
    "AVIF": read_heif,
    "GIF": _read_gif,
    "BMP": _read_bmp,
}
