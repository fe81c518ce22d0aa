"""Keep exifread's work bounded on hostile EXIF.

exifread reads a MakerNote (and Canon's CameraInfo) one value at a time for
as many values as the tag's count claims: a flipped bit in a count costs
minutes of CPU. Before exifread runs, the counts in the main directories are
clamped to what the data can hold, and every read is counted so that a
runaway inside a maker note can be stopped.
"""

from __future__ import annotations

import bisect
import io
import struct
from typing import BinaryIO

from mediacheck.media.metadata.blocks import MAX_BLOCK

TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
POINTER_TAGS = {0x8769, 0x8825, 0xA005}  # EXIF, GPS and interoperability directories
MAKER_NOTE = 0x927C
# exifread reads a maker note's own directory from its offset and looks only at
# the first 14 bytes of the raw value (the vendor signature), so those are all
# it is given: the rest would cost one read per byte.
MAX_MAKER_NOTE = 64
MAX_DIRECTORIES = 64
MAX_ENTRIES = 1024  # real directories hold a few hundred entries at most
# The corpus needs at most 44,000 reads per file; beyond this exifread is looping on junk.
READ_BUDGET = 150_000


class ReadBudgetExceeded(Exception):
    """exifread kept reading long after any real EXIF block would be done."""


def count_patches(fh: BinaryIO, end: int) -> dict[int, bytes]:
    """File position -> replacement bytes for each entry count that overreaches."""
    fh.seek(0)
    head = fh.read(8)
    if len(head) < 8:
        return {}
    endian = "<" if head[:2] == b"II" else ">"
    patches: dict[int, bytes] = {}
    queue: list[int] = [struct.unpack(endian + "I", head[4:])[0]]
    seen: set[int] = set()
    while queue and len(seen) < MAX_DIRECTORIES:
        ifd = queue.pop()
        if ifd in seen or not 8 <= ifd < end:
            continue
        seen.add(ifd)
        queue.extend(_scan_directory(fh, ifd, end, endian, patches))
    return patches


def _scan_directory(
    fh: BinaryIO, ifd: int, end: int, endian: str, patches: dict[int, bytes]
) -> list[int]:
    fh.seek(ifd)
    raw = fh.read(2)
    count = struct.unpack(endian + "H", raw)[0] if len(raw) == 2 else 0
    # Entries past the end of the data are zeros to exifread, yet each costs it a dozen reads.
    fitting = min(count, MAX_ENTRIES, max(end - ifd - 2, 0) // 12)
    if fitting < count:
        patches[ifd] = struct.pack(endian + "H", fitting)
    entries = fh.read(12 * fitting + 4)
    pointers = []
    for pos in range(0, min(12 * fitting, len(entries) - 11), 12):
        tag, kind, values, where = struct.unpack(endian + "HHII", entries[pos : pos + 12])
        if tag in POINTER_TAGS:
            pointers.append(where)
        size = TYPE_SIZES.get(kind, 1)
        if size * values > 4:
            room = max(end - where, 0) // size
            limit = min(values, room, MAX_MAKER_NOTE if tag == MAKER_NOTE else values)
            if limit < values:
                patches[ifd + 2 + pos + 4] = struct.pack(endian + "I", limit)
    if len(entries) == 12 * fitting + 4:
        # exifread looks for the next directory after the entries it is given, patched or not.
        pointers.append(struct.unpack(endian + "I", entries[-4:])[0])
    return pointers


class GuardedReader(io.RawIOBase):
    """A read-only view of ``fh`` with patched bytes, capped reads and a read budget."""

    def __init__(self, fh: BinaryIO, patches: dict[int, bytes]):
        self._fh = fh
        self._patches = patches
        self._where = sorted(patches)
        self._reads = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def read(self, size: int = -1) -> bytes:
        self._reads += 1
        if self._reads > READ_BUDGET:
            raise ReadBudgetExceeded
        start = self._fh.tell()
        data = self._fh.read(MAX_BLOCK if size < 0 or size > MAX_BLOCK else size)
        # Patches are at most 4 bytes: those starting up to 3 bytes before ``start`` overlap.
        first = bisect.bisect_left(self._where, start - 3)
        for where in self._where[first:]:
            if where >= start + len(data):
                break
            data = _overlay(data, start, where, self._patches[where])
        return data


def _overlay(data: bytes, start: int, where: int, patch: bytes) -> bytes:
    out = bytearray(data)
    for i, byte in enumerate(patch):
        if 0 <= where + i - start < len(out):
            out[where + i - start] = byte
    return bytes(out)
