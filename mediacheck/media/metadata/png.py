"""Walk the chunks of a PNG, seeking past image data."""

from __future__ import annotations

import zlib
from typing import BinaryIO

from mediacheck.media.metadata.blocks import (
    MAX_BLOCK,
    Blocks,
    printable_tag,
    read_capped,
    text,
    tiff_body,
)

TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt"}
WANTED = TEXT_CHUNKS | {b"IHDR", b"eXIf", b"iCCP", b"tIME"}
# Text is for people to read; a megabyte of it after inflating is already suspicious.
MAX_TEXT = 1024 * 1024
MAX_CHUNK_LENGTH = 2**31 - 1  # the PNG specification's own limit


def read_png(fh: BinaryIO, blocks: Blocks) -> None:
    fh.seek(8)
    text_total = 0
    while True:
        head = fh.read(8)
        if len(head) < 8:
            blocks.errors.append("PNG: truncated (no IEND chunk)")
            return
        length, kind = int.from_bytes(head[:4], "big"), head[4:8]
        if kind == b"IEND":
            return
        if length > MAX_CHUNK_LENGTH:
            name = printable_tag(kind)
            blocks.errors.append(f"PNG: chunk {name} has an impossible length {length}")
            return
        if kind not in WANTED or (kind in TEXT_CHUNKS and text_total > MAX_BLOCK):
            fh.seek(length + 4, 1)
            continue
        data = read_capped(fh, length, f"PNG {printable_tag(kind)}", blocks)
        fh.seek(4, 1)  # CRC
        if data is not None:
            text_total += len(data) if kind in TEXT_CHUNKS else 0
            _chunk(kind, data, blocks)


def _chunk(kind: bytes, data: bytes, blocks: Blocks) -> None:
    if kind == b"IHDR" and len(data) >= 8:
        blocks.size = (int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big"))
    elif kind == b"eXIf" and blocks.exif is None:
        blocks.exif = tiff_body(data)
    elif kind == b"iCCP" and blocks.icc is None:
        _, _, rest = data.partition(b"\x00")
        blocks.icc = _inflate(rest[1:], MAX_BLOCK, "PNG iCCP", blocks)
    elif kind == b"tIME" and len(data) >= 7:
        year = int.from_bytes(data[:2], "big")
        blocks.container["modified"] = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}+00:00".format(
            year, *data[2:7]
        )
    elif kind in TEXT_CHUNKS:
        keyword, value = _text_chunk(kind, data, blocks)
        if value is not None:
            _text_entry(keyword, value, blocks)


def _text_chunk(kind: bytes, data: bytes, blocks: Blocks) -> tuple[str, bytes | None]:
    raw_keyword, _, rest = data.partition(b"\x00")
    keyword = text(raw_keyword[:79])
    if kind == b"tEXt":
        return keyword, rest
    if kind == b"zTXt":
        return keyword, _inflate(rest[1:], MAX_TEXT, f"PNG zTXt {keyword!r}", blocks)
    # iTXt: compression flag, method, language tag, translated keyword, then the text.
    if len(rest) < 2:
        return keyword, None
    compressed, body = rest[0], rest[2:]
    body = body.split(b"\x00", 2)[-1]
    if compressed:
        return keyword, _inflate(body, MAX_TEXT, f"PNG iTXt {keyword!r}", blocks)
    return keyword, body


def _text_entry(keyword: str, value: bytes, blocks: Blocks) -> None:
    if keyword == "XML:com.adobe.xmp":
        blocks.xmp.append(value)
    elif keyword.startswith("Raw profile type "):
        _raw_profile(keyword.removeprefix("Raw profile type ").lower(), value, blocks)
    else:
        previous = blocks.png_text.get(keyword)
        decoded = text(value)
        blocks.png_text[keyword] = decoded if previous is None else f"{previous}\n{decoded}"


def _raw_profile(name: str, value: bytes, blocks: Blocks) -> None:
    """ImageMagick keeps EXIF, IPTC and XMP in text chunks as "\\nname\\n  length\\nhex..."."""
    parts = value.split(maxsplit=2)
    try:
        payload = bytes.fromhex(parts[2].decode("ascii")) if len(parts) == 3 else b""
    except (ValueError, UnicodeDecodeError):
        blocks.errors.append(f"PNG: raw {name} profile is not hex")
        return
    if name in ("exif", "app1") and blocks.exif is None:
        blocks.exif = tiff_body(payload)
    elif name in ("iptc", "8bim") and blocks.irb is None:
        blocks.irb = payload
    elif name == "xmp":
        blocks.xmp.append(payload)


def _inflate(data: bytes, limit: int, what: str, blocks: Blocks) -> bytes | None:
    """Decompress at most ``limit`` bytes: a zlib bomb must not fill memory."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit)
    except zlib.error as exc:
        blocks.errors.append(f"{what}: cannot be decompressed ({exc})")
        return None
    if inflater.unconsumed_tail:
        blocks.errors.append(f"{what}: over {limit} bytes once decompressed, cut there")
    return out
