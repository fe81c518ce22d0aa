"""Walk the marker segments of a JPEG up to its image data."""

from __future__ import annotations

from typing import BinaryIO

from mediacheck.media.metadata.blocks import MAX_BLOCK, Blocks, text, tiff_body

SOS, EOI, COM = 0xDA, 0xD9, 0xFE
APP1, APP2, APP13 = 0xE1, 0xE2, 0xED
# Markers without a length field: TEM and RST0-7.
STANDALONE = {0x01, *range(0xD0, 0xD8)}
# Start-of-frame markers carry the pixel size; C4, C8 and CC share the range but are not frames.
SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
WANTED = {APP1, APP2, APP13, COM} | SOF

# A segment holds at most 64 KiB, so this bounds what repeated segments can pile up.
MAX_SEGMENTS = MAX_BLOCK // 65536

XMP_MAIN = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\x00"
ICC_PREFIX = b"ICC_PROFILE\x00"
PHOTOSHOP_PREFIX = b"Photoshop 3.0\x00"


def read_jpeg(fh: BinaryIO, blocks: Blocks) -> None:
    """Collect EXIF, XMP, ICC, Photoshop and comment segments and the frame size."""
    icc_chunks: dict[int, bytes] = {}
    extended: dict[int, bytes] = {}
    irb = bytearray()
    fh.seek(2)
    while (marker := _next_marker(fh, blocks)) not in (None, SOS, EOI):
        if marker in STANDALONE:
            continue
        data, complete = _segment(fh, marker, blocks)
        if data is None:
            break
        if marker in SOF and blocks.size is None and len(data) >= 5:
            blocks.size = (int.from_bytes(data[3:5], "big"), int.from_bytes(data[1:3], "big"))
        elif marker == COM and len(blocks.comments) < MAX_SEGMENTS:
            blocks.comments.append(text(data))
        elif marker == APP1:
            _app1(data, blocks, extended)
        elif marker == APP2 and data.startswith(ICC_PREFIX) and len(data) > 14:
            icc_chunks.setdefault(data[12], data[14:])
        elif marker == APP13 and data.startswith(PHOTOSHOP_PREFIX) and len(irb) < MAX_BLOCK:
            irb += data[len(PHOTOSHOP_PREFIX) :]
        if not complete:
            break
    if icc_chunks:
        blocks.icc = b"".join(icc_chunks[k] for k in sorted(icc_chunks))
    if extended:
        blocks.xmp.append(b"".join(extended[k] for k in sorted(extended)))
    blocks.irb = bytes(irb) or None


def _next_marker(fh: BinaryIO, blocks: Blocks) -> int | None:
    byte = fh.read(1)
    if byte != b"\xff":
        where = fh.tell() - len(byte)
        cause = "ends before the image data" if not byte else f"no marker at offset {where}"
        blocks.errors.append(f"JPEG: {cause}")
        return None
    # Any number of 0xFF fill bytes may precede the marker code.
    while (byte := fh.read(1)) == b"\xff":
        pass
    if not byte:
        blocks.errors.append("JPEG: ends before the image data")
        return None
    return byte[0]


def _segment(fh: BinaryIO, marker: int, blocks: Blocks) -> tuple[bytes | None, bool]:
    """(payload of a wanted segment or b"" for a skipped one, whether it was all there).

    The payload is None when the walk cannot go on.
    """
    head = fh.read(2)
    length = int.from_bytes(head, "big") - 2
    if len(head) < 2 or length < 0:
        blocks.errors.append(f"JPEG: bad length in segment 0x{marker:02X}")
        return None, False
    if marker not in WANTED:
        fh.seek(length, 1)
        return b"", True
    data = fh.read(length)
    if len(data) < length:
        blocks.errors.append(
            f"JPEG: segment 0x{marker:02X} truncated ({len(data)} of {length} bytes)"
        )
    return data, len(data) == length


def _app1(data: bytes, blocks: Blocks, extended: dict[int, bytes]) -> None:
    if data.startswith(b"Exif\x00") and blocks.exif is None:
        blocks.exif = tiff_body(data)
    elif data.startswith(XMP_MAIN) and not blocks.xmp:
        blocks.xmp.append(data[len(XMP_MAIN) :])
    elif data.startswith(XMP_EXTENSION) and len(data) > len(XMP_EXTENSION) + 40:
        # GUID (32), full length (4), then this chunk's offset (4) into the extended packet.
        head = len(XMP_EXTENSION) + 32
        offset = int.from_bytes(data[head + 4 : head + 8], "big")
        if offset < MAX_BLOCK and len(extended) < MAX_SEGMENTS:
            extended.setdefault(offset, data[head + 8 :])
