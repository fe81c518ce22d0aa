"""GoPro's own description of the camera: the GPMF box in an MP4's ``moov/udta``.

FFmpeg shows only the firmware. The GPMF box (KLV records: a four-character key, a type
character, a size and a repeat count, nested under DEVC) also names the model (MINF) and
the camera's serial number (CASN).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

# A moov box holds sample tables: tens of MB for hours of video. More is not a real file.
MAX_MOOV_BYTES = 64 * 1024 * 1024
MAX_TOP_LEVEL_BOXES = 10_000
FIELDS = {b"MINF": "model", b"CASN": "serial_number", b"FMWR": "firmware"}
NESTED = 0  # GPMF type 0: the payload is more KLV records
MAX_NESTING = 8  # GoPro nests two deep; a crafted file could nest until the stack ends


def read_gopro(path: Path) -> dict[str, str]:
    """Model, serial number and firmware from a GoPro MP4; empty for anything else.

    Raises OSError when the file cannot be read; malformed boxes give what parsed.
    """
    with open(path, "rb") as fh:
        moov = top_level_box(fh, b"moov")
    udta = child_box(moov, b"udta") if moov else None
    gpmf = child_box(udta, b"GPMF") if udta else None
    if not gpmf:
        return {}
    found: dict[str, str] = {}
    read_klv(gpmf, found, depth=0)
    return found


def top_level_box(fh: BinaryIO, wanted: bytes) -> bytes | None:
    """The payload of the first top-level box of this type, skipping others by seeking."""
    for _ in range(MAX_TOP_LEVEL_BOXES):
        header = fh.read(8)
        if len(header) < 8:
            return None
        size, kind = struct.unpack(">I4s", header)
        header_size = 8
        if size == 1:
            wide = fh.read(8)
            if len(wide) < 8:
                return None
            size, header_size = struct.unpack(">Q", wide)[0], 16
        if kind == wanted:
            length = size - header_size if size else MAX_MOOV_BYTES
            return fh.read(min(max(length, 0), MAX_MOOV_BYTES))
        if size < header_size:
            return None
        fh.seek(size - header_size, 1)
    return None


def child_box(data: bytes, wanted: bytes) -> bytes | None:
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size < 8:
            return None
        if kind == wanted:
            return data[offset + 8 : offset + size]
        offset += size
    return None


def read_klv(data: bytes, found: dict[str, str], depth: int) -> None:
    """Text fields of GPMF records, first occurrence of each; nested records included."""
    if depth > MAX_NESTING:
        return
    offset = 0
    while offset + 8 <= len(data):
        key, kind, sample_size, repeat = struct.unpack_from(">4sBBH", data, offset)
        length = sample_size * repeat
        payload = data[offset + 8 : offset + 8 + length]
        if kind == NESTED:
            read_klv(payload, found, depth + 1)
        elif key in FIELDS and kind == ord("c"):
            value = payload.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
            if value.isprintable() and value:
                found.setdefault(FIELDS[key], value)
        offset += 8 + (length + 3) // 4 * 4
