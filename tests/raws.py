"""Camera raws with a real preview, made from the corpus raws.

ExifTool's test raws keep their metadata but their previews were cut to a few bytes: the
pointer to one is patched to a JPEG appended to the file, which LibRaw then finds.
"""

from __future__ import annotations

import struct
from pathlib import Path

from tests.corpus import CORPUS
from tests.media import photo

RAWS = CORPUS / "raw" / "files"


def preview_jpeg(size: tuple[int, int], tmp_path: Path) -> bytes:
    return photo(tmp_path / "preview.jpg", size, seed=3, quality=92).read_bytes()


def nef_with_preview(tmp_path: Path, jpeg: bytes) -> Path:
    """The corpus NEF with a real JpgFromRaw: its pointer and length patched, the JPEG appended."""
    data = bytearray((RAWS / "Nikon.nef").read_bytes())
    start = data.find(struct.pack("<HHII", 0x0201, 4, 1, 1120))
    length = data.find(struct.pack("<HHII", 0x0202, 4, 1, 29))
    data[start + 8 : start + 12] = struct.pack("<I", len(data))
    data[length + 8 : length + 12] = struct.pack("<I", len(jpeg))
    path = tmp_path / "with-preview.nef"
    path.write_bytes(bytes(data) + jpeg)
    return path


def cr3_with_preview(tmp_path: Path, jpeg: bytes) -> Path:
    """The corpus CR3 with a real full-size JPEG in track 1: its stsz and co64 patched."""
    data = bytearray((RAWS / "CanonRaw.cr3").read_bytes())
    size_at, offset_at = 9333, 9372  # track 1's one sample: its size, its file offset
    assert struct.unpack(">I", data[size_at : size_at + 4])[0] == 29
    data[size_at : size_at + 4] = struct.pack(">I", len(jpeg))
    data[offset_at : offset_at + 8] = struct.pack(">Q", len(data))
    path = tmp_path / "with-preview.cr3"
    path.write_bytes(bytes(data) + jpeg)
    return path
