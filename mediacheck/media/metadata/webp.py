"""Walk the RIFF chunks of a WebP file, seeking past image data."""

from __future__ import annotations

from typing import BinaryIO

from mediacheck.media.metadata.blocks import Blocks, printable_tag, read_capped, tiff_body

WANTED = {b"VP8X", b"VP8 ", b"VP8L", b"EXIF", b"XMP ", b"ICCP"}


def read_webp(fh: BinaryIO, blocks: Blocks) -> None:
    fh.seek(12)
    frames = 0
    while len(head := fh.read(8)) == 8:
        kind, length = head[:4], int.from_bytes(head[4:], "little")
        padded = length + (length & 1)
        frames += kind == b"ANMF"
        if kind not in WANTED:
            fh.seek(padded, 1)
            continue
        data = read_capped(fh, length, f"WebP {printable_tag(kind)}", blocks)
        fh.seek(padded - length, 1)
        if data is not None:
            _chunk(kind, data, blocks)
    if head:
        blocks.errors.append("WebP: truncated chunk header")
    blocks.container["frames"] = max(frames, 1)


def _chunk(kind: bytes, data: bytes, blocks: Blocks) -> None:
    if kind == b"VP8X" and len(data) >= 10:
        # The canvas size, stored minus one in 24 bits; it wins over any frame's own size.
        blocks.size = (_u24(data[4:7]) + 1, _u24(data[7:10]) + 1)
    elif kind == b"VP8 " and len(data) >= 10 and blocks.size is None:
        blocks.size = (
            int.from_bytes(data[6:8], "little") & 0x3FFF,
            int.from_bytes(data[8:10], "little") & 0x3FFF,
        )
    elif kind == b"VP8L" and len(data) >= 5 and blocks.size is None:
        bits = int.from_bytes(data[1:5], "little")
        blocks.size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    elif kind == b"EXIF" and blocks.exif is None:
        blocks.exif = tiff_body(data)
    elif kind == b"XMP ":
        blocks.xmp.append(data)
    elif kind == b"ICCP" and blocks.icc is None:
        blocks.icc = data


def _u24(data: bytes) -> int:
    return int.from_bytes(data, "little")
