"""Read the item boxes of a HEIF or AVIF file (ISO BMFF) without touching the coded pixels.

libheif and libavif want the whole file in memory; the ``meta`` box alone says
where the EXIF and XMP items are and how large the primary picture is.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from mediacheck.media.metadata.blocks import MAX_BLOCK, Blocks, read_capped, tiff_body

XMP_TYPES = {"application/rdf+xml", "application/xmp+xml"}


@dataclass
class Items:
    primary: int | None = None
    types: dict[int, str] = field(default_factory=dict)  # item id -> "Exif", "mime:...", ...
    locations: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # (offset, length)
    in_idat: set[int] = field(default_factory=set)
    properties: list[tuple[str, bytes]] = field(default_factory=list)
    associations: dict[int, list[int]] = field(default_factory=dict)  # 1-based property indexes
    idat: bytes = b""
    thumbnail: bool = False


def read_heif(fh: BinaryIO, blocks: Blocks) -> None:
    fh.seek(0)
    meta = None
    for kind, start, length in _top_boxes(fh):
        if kind == "ftyp":
            blocks.container["brand"] = fh.read(4).decode("latin-1")
        elif kind == "meta" and meta is None:
            meta = read_capped(fh, length, "HEIF meta box", blocks)
        fh.seek(start + length)
    if meta is None:
        blocks.errors.append("HEIF: no meta box, so no items to read")
        return
    items = Items()
    try:
        _parse_meta(meta[4:], items)
    except (struct.error, IndexError, ValueError) as exc:
        blocks.errors.append(f"HEIF: malformed meta box ({exc})")
    _collect(fh, items, blocks)


def _top_boxes(fh: BinaryIO) -> Iterator[tuple[str, int, int]]:
    """(type, payload start, payload length) of each top-level box; seeks are the caller's."""
    while len(head := fh.read(8)) == 8:
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:
            size, header = int.from_bytes(fh.read(8), "big"), 16
        start = fh.tell()
        if size == 0:
            fh.seek(0, 2)
            size = fh.tell() - start + header
            fh.seek(start)
        if size < header:
            return
        yield kind.decode("latin-1"), start, size - header


def _boxes(data: bytes) -> Iterator[tuple[str, bytes]]:
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = len(data) - pos
        if size < header:
            return
        yield kind.decode("latin-1"), data[pos + header : pos + size]
        pos += size


def _parse_meta(meta: bytes, items: Items) -> None:
    for kind, body in _boxes(meta):
        if kind == "pitm":
            items.primary = _uint(body[4:], 2 if body[0] == 0 else 4)
        elif kind == "iinf":
            _parse_iinf(body, items)
        elif kind == "iloc":
            _parse_iloc(body, items)
        elif kind == "iprp":
            _parse_iprp(body, items)
        elif kind == "idat":
            items.idat = body
        elif kind == "iref":
            items.thumbnail = any(ref == "thmb" for ref, _ in _boxes(body[4:]))


def _parse_iinf(body: bytes, items: Items) -> None:
    skip = 4 + (2 if body[0] == 0 else 4)
    for kind, infe in _boxes(body[skip:]):
        if kind != "infe" or infe[0] < 2:
            continue
        id_size = 2 if infe[0] == 2 else 4
        item_id = _uint(infe[4:], id_size)
        pos = 4 + id_size + 2
        item_type = infe[pos : pos + 4].decode("latin-1")
        if item_type == "mime":
            # item_name, then content_type, both NUL-terminated
            names = infe[pos + 4 :].split(b"\x00", 2)
            item_type = "mime:" + (names[1] if len(names) > 1 else b"").decode("latin-1")
        items.types[item_id] = item_type


def _parse_iloc(body: bytes, items: Items) -> None:
    version = body[0]
    offset_size, length_size = body[4] >> 4, body[4] & 15
    base_size, index_size = body[5] >> 4, (body[5] & 15 if version else 0)
    id_size = 4 if version == 2 else 2
    count, pos = _uint(body[6:], id_size), 6 + id_size
    for _ in range(count):
        item_id, pos = _uint(body[pos:], id_size), pos + id_size
        method = 0
        if version:
            method, pos = _uint(body[pos:], 2) & 15, pos + 2
        base = _uint(body[pos + 2 :], base_size)
        extents, pos = _uint(body[pos + 2 + base_size :], 2), pos + 4 + base_size
        spans = []
        for _ in range(extents):
            pos += index_size
            offset, pos = _uint(body[pos:], offset_size), pos + offset_size
            length, pos = _uint(body[pos:], length_size), pos + length_size
            spans.append((base + offset, length))
        if method in (0, 1):
            items.locations[item_id] = spans
        if method == 1:
            items.in_idat.add(item_id)


def _parse_iprp(body: bytes, items: Items) -> None:
    for kind, child in _boxes(body):
        if kind == "ipco":
            items.properties = list(_boxes(child))
        elif kind == "ipma":
            _parse_ipma(child, items)


def _parse_ipma(body: bytes, items: Items) -> None:
    version, wide = body[0], body[3] & 1
    count, pos = _uint(body[4:], 4), 8
    for _ in range(count):
        id_size = 2 if version == 0 else 4
        item_id, pos = _uint(body[pos:], id_size), pos + id_size
        n, pos = body[pos], pos + 1
        size = 2 if wide else 1
        mask = 0x7FFF if wide else 0x7F
        indexes = [_uint(body[pos + i * size :], size) & mask for i in range(n)]
        items.associations[item_id] = indexes
        pos += n * size


def _uint(data: bytes, size: int) -> int:
    if size == 0:
        return 0
    if len(data) < size:
        raise ValueError("box ends early")
    return int.from_bytes(data[:size], "big")


def _collect(fh: BinaryIO, items: Items, blocks: Blocks) -> None:
    properties: dict[str, bytes] = {}
    for kind, body in _primary_properties(items):
        properties.setdefault(kind, body)
        if kind == "colr" and body[:4] in (b"prof", b"rICC") and blocks.icc is None:
            blocks.icc = body[4:]
    blocks.size = _clean_aperture(properties.get("clap", b"")) or _extent(properties.get("ispe"))
    for item_id, item_type in items.types.items():
        if item_type == "Exif" and blocks.exif is None:
            data = _item_data(fh, items, item_id, blocks)
            # The payload starts with the offset of the TIFF header after this field.
            skip = 4 + int.from_bytes(data[:4], "big") if len(data) >= 4 else 0
            blocks.exif = tiff_body(data[skip:]) or tiff_body(data[4:])
        elif item_type.removeprefix("mime:") in XMP_TYPES:
            blocks.xmp.append(_item_data(fh, items, item_id, blocks))
    blocks.container["items"] = len(items.types)
    blocks.thumbnail = items.thumbnail


def _extent(ispe: bytes | None) -> tuple[int, int] | None:
    return struct.unpack(">II", ispe[4:12]) if ispe and len(ispe) >= 12 else None


def _clean_aperture(clap: bytes) -> tuple[int, int] | None:
    """The displayed size when encoders pad the coded picture (HEVC codes in 8x8 blocks or more)."""
    if len(clap) < 16:
        return None
    width_n, width_d, height_n, height_d = struct.unpack(">IIII", clap[:16])
    if not width_d or not height_d:
        return None
    return round(width_n / width_d), round(height_n / height_d)


def _primary_properties(items: Items) -> Iterator[tuple[str, bytes]]:
    if items.primary is None:
        return
    for index in items.associations.get(items.primary, []):
        if 0 < index <= len(items.properties):
            yield items.properties[index - 1]


def _item_data(fh: BinaryIO, items: Items, item_id: int, blocks: Blocks) -> bytes:
    spans = items.locations.get(item_id, [])
    if sum(length for _, length in spans) > MAX_BLOCK:
        blocks.errors.append(f"HEIF: item {item_id} is over the {MAX_BLOCK} byte limit, skipped")
        return b""
    if item_id in items.in_idat:
        return b"".join(items.idat[offset : offset + length] for offset, length in spans)
    parts = []
    for offset, length in spans:
        fh.seek(offset)
        parts.append(fh.read(length))
    return b"".join(parts)
