"""Walk the first directory of a TIFF structure for its size and its metadata blocks."""

from __future__ import annotations

import struct
from typing import BinaryIO

from mediacheck.media.metadata.blocks import MAX_BLOCK, Blocks

TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
TIFF_WIDTH, TIFF_HEIGHT = 256, 257
TIFF_BLOCK_TAGS = {700: "xmp", 33723: "iptc", 34377: "irb", 34675: "icc"}


def read_tiff(fh: BinaryIO, blocks: Blocks) -> None:
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
