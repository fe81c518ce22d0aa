"""Metadata of the camera raw files that are not one plain TIFF structure.

CR2, NEF, ARW, DNG, PEF and ORF are TIFF directories and go through the TIFF walker.
A Canon CR3 is an ISO-BMFF container whose EXIF is split over four TIFF structures
(CMT1: IFD0, CMT2: the EXIF directory, CMT3: the maker note, CMT4: GPS); a Panasonic
RW2 and a Fujifilm RAF keep their EXIF in the JPEG preview they embed.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

from mediacheck.media.metadata.blocks import Blocks, read_capped, tiff_body
from mediacheck.media.metadata.heif import boxes, top_boxes
from mediacheck.media.metadata.jpeg import read_jpeg
from mediacheck.media.metadata.tiff import read_tiff

CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
# CR3 directories other than IFD0, as the TIFF pointer tag that would lead to each.
CR3_DIRECTORIES = {"CMT2": 0x8769, "CMT4": 0x8825}
RW2_JPEG_TAG = 0x002E
RAF_JPEG_POINTER = 84  # big-endian offset and length of the embedded JPEG


def read_cr3(fh: BinaryIO, blocks: Blocks) -> None:
    fh.seek(0)
    for kind, start, length in top_boxes(fh):
        if kind == "ftyp":
            blocks.container["brand"] = fh.read(4).decode("latin-1")
        elif kind == "moov":
            moov = read_capped(fh, length, "CR3 moov box", blocks)
            for child, body in boxes(moov or b""):
                if child == "uuid" and body[:16] == CANON_UUID:
                    _canon_boxes(body[16:], blocks)
        elif kind == "uuid" and length > 16 and fh.read(16) == XMP_UUID:
            packet = read_capped(fh, length - 16, "CR3 XMP box", blocks)
            if packet:
                blocks.xmp.append(packet)
        fh.seek(start + length)
    if blocks.exif is None:
        blocks.errors.append("CR3: no CMT1 box, so no EXIF to read")


def _canon_boxes(body: bytes, blocks: Blocks) -> None:
    for kind, payload in boxes(body):
        tiff = tiff_body(payload)
        if kind == "CMT1" and tiff is not None and blocks.exif is None:
            blocks.exif = tiff
            ifd0 = Blocks(format="TIFF")
            read_tiff(io.BytesIO(tiff), ifd0)
            blocks.size = ifd0.size
        elif kind in CR3_DIRECTORIES and tiff is not None:
            blocks.exif_directories.append(pointed_to(tiff, CR3_DIRECTORIES[kind]))
        elif kind == "THMB":
            blocks.thumbnail = True


def pointed_to(tiff: bytes, tag: int) -> bytes:
    """``tiff`` with a new first directory holding only ``tag``, pointing to its old one.

    exifread names tags by the directory they are found in: a CR3's EXIF and GPS
    directories stand alone as IFD0 of their own TIFF structures, and are read under
    their proper names once reached through their pointer tags.
    """
    endian = "<" if tiff[:2] == b"II" else ">"
    first = struct.unpack(endian + "I", tiff[4:8])[0]
    where = len(tiff) + len(tiff) % 2  # directories start on a word boundary
    directory = struct.pack(endian + "HHHIII", 1, tag, 4, 1, first, 0)
    padding = b"\x00" * (where - len(tiff))
    return tiff[:4] + struct.pack(endian + "I", where) + tiff[8:] + padding + directory


def read_rw2(fh: BinaryIO, blocks: Blocks) -> None:
    fh.seek(4)
    ifd = struct.unpack("<I", fh.read(4))[0]
    fh.seek(ifd)
    raw_count = fh.read(2)
    count = struct.unpack("<H", raw_count)[0] if len(raw_count) == 2 else 0
    entries = fh.read(12 * count)
    for pos in range(0, len(entries) - 11, 12):
        tag, _kind, length, offset = struct.unpack("<HHII", entries[pos : pos + 12])
        if tag == RW2_JPEG_TAG:
            _embedded_jpeg(fh, offset, length, "RW2", blocks)
            return
    blocks.errors.append("RW2: no embedded JPEG, so no EXIF to read")


def read_raf(fh: BinaryIO, blocks: Blocks) -> None:
    fh.seek(RAF_JPEG_POINTER)
    pointer = fh.read(8)
    if len(pointer) < 8:
        blocks.errors.append("RAF: header ends before the preview's offset")
        return
    offset, length = struct.unpack(">II", pointer)
    _embedded_jpeg(fh, offset, length, "RAF", blocks)


def _embedded_jpeg(fh: BinaryIO, offset: int, length: int, what: str, blocks: Blocks) -> None:
    """EXIF, XMP and ICC of the JPEG preview at ``offset``; its size is the preview's, not kept."""
    preview = Blocks(format="JPEG")
    window = Window(fh, offset, length)
    if window.read(3) != b"\xff\xd8\xff":
        blocks.errors.append(f"{what}: the embedded preview is not a JPEG")
        return
    read_jpeg(window, preview)  # type: ignore[arg-type]
    blocks.exif, blocks.xmp, blocks.icc = preview.exif, preview.xmp, preview.icc
    blocks.errors.extend(f"{what} preview: {error}" for error in preview.errors)


class Window(io.RawIOBase):
    """``length`` bytes of ``fh`` from ``offset``, seen as a file of their own."""

    def __init__(self, fh: BinaryIO, offset: int, length: int):
        self._fh, self._offset, self._length, self._pos = fh, offset, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._length}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        left = max(0, self._length - self._pos)
        size = left if size < 0 else min(size, left)
        self._fh.seek(self._offset + self._pos)
        data = self._fh.read(size)
        self._pos += len(data)
        return data
