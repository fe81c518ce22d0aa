"""The raw metadata blocks a container walker pulls out of a file.

Walkers read headers and seek past pixel data, so memory stays bounded by the
caps below whatever the size of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import BinaryIO

# No real EXIF, XMP, ICC or Photoshop block comes near this; a larger one is
# hostile or broken and is left out rather than read into memory.
MAX_BLOCK = 16 * 1024 * 1024


@dataclass
class Blocks:
    format: str
    size: tuple[int, int] | None = None  # from the header, before orientation
    exif: bytes | None = None  # TIFF-structured, starting with II or MM
    exif_in_file: bool = False  # the file itself is the TIFF structure
    exif_directories: list[bytes] = field(default_factory=list)  # more TIFF structures (CR3)
    xmp: list[bytes] = field(default_factory=list)  # main packet first
    irb: bytes | None = None  # Photoshop image resource block
    iptc: bytes | None = None  # bare IPTC-IIM records (TIFF tag 33723)
    icc: bytes | None = None
    png_text: dict[str, str] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    thumbnail: bool = False  # a thumbnail outside EXIF (a HEIF "thmb" item)
    container: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def read_capped(fh: BinaryIO, length: int, what: str, blocks: Blocks) -> bytes | None:
    """Read ``length`` bytes unless that is over MAX_BLOCK; note a short read."""
    if length > MAX_BLOCK:
        blocks.errors.append(f"{what}: {length} bytes is over the {MAX_BLOCK} byte limit, skipped")
        fh.seek(length, 1)
        return None
    data = fh.read(length)
    if len(data) < length:
        blocks.errors.append(f"{what}: truncated ({len(data)} of {length} bytes)")
    return data


def text(data: bytes) -> str:
    """Decode metadata bytes as UTF-8, falling back to Latin-1 (old cameras), without NULs."""
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        decoded = data.decode("latin-1")
    return clean(decoded)


def printable_tag(kind: bytes) -> str:
    """A chunk or box type for an error line: hostile ones may hold newlines."""
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in kind)


def clean(value: str) -> str:
    """Strip what a database or JSON consumer chokes on: NULs and lone surrogates."""
    value = value.replace("\x00", "")
    return value.encode("utf-8", "replace").decode("utf-8")


def tiff_body(data: bytes) -> bytes | None:
    """EXIF payload from its many wrappings ("Exif\\0\\0" prefix or none) or None."""
    if data[:4] == b"Exif":
        data = data[6:]
    return data if data[:2] in (b"II", b"MM") else None
