"""The header and description of an ICC colour profile (ICC.1:2010, v2 and v4)."""

from __future__ import annotations

import struct
from typing import Any

from mediacheck.media.metadata.blocks import clean

HEADER_SIZE = 128
MAX_TAGS = 256  # real profiles carry a few dozen tags


def parse_icc(data: bytes) -> tuple[dict[str, Any], list[str]]:
    info: dict[str, Any] = {"size": len(data)}
    if len(data) < HEADER_SIZE + 4 or data[36:40] != b"acsp":
        return info, ["ICC: not an ICC profile (no 'acsp' signature)"]
    info.update(
        version=f"{data[8]}.{data[9] >> 4}.{data[9] & 15}",
        device_class=_sig(data[12:16]),
        color_space=_sig(data[16:20]),
        connection_space=_sig(data[20:24]),
        cmm=_sig(data[4:8]),
    )
    description = _description(data)
    if description is not None:
        info["description"] = description
    return info, []


def _sig(raw: bytes) -> str:
    return clean(raw.decode("latin-1")).strip()


def _description(data: bytes) -> str | None:
    count = min(int.from_bytes(data[128:132], "big"), MAX_TAGS)
    for pos in range(132, 132 + 12 * count, 12):
        signature, offset, size = struct.unpack(">4sII", data[pos : pos + 12].ljust(12, b"\x00"))
        if signature == b"desc":
            return _text_tag(data[offset : offset + size])
    return None


def _text_tag(tag: bytes) -> str | None:
    kind = tag[:4]
    if kind == b"desc":  # v2: ASCII count and string
        length = int.from_bytes(tag[8:12], "big")
        return clean(tag[12 : 12 + length].decode("latin-1")).strip()
    if kind == b"mluc" and len(tag) >= 28:  # v4: first of the localised UTF-16 records
        length, offset = struct.unpack(">II", tag[20:28])
        return clean(tag[offset : offset + length].decode("utf-16-be", "replace")).strip()
    if kind == b"text":
        return clean(tag[8:].decode("latin-1")).strip()
    return None
