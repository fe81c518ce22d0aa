"""Camera raw files: which maker's format a file is, and the preview picture it embeds.

Raw sensor data is not a picture until it is demosaiced, which costs seconds and hundreds
of megabytes. Every camera also stores a JPEG preview (or a small bitmap) of what it shot:
that preview is what hashes, fingerprints and matching look at. LibRaw, through rawpy,
knows where each maker keeps it.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mediacheck.errors import UnsupportedMedia

if TYPE_CHECKING:  # sniffing needs neither: they are loaded with the first preview
    import numpy as np
    from PIL import Image

RAW_MIMES = {
    "CR2": "image/x-canon-cr2",
    "CR3": "image/x-canon-cr3",
    "NEF": "image/x-nikon-nef",
    "ARW": "image/x-sony-arw",
    "DNG": "image/x-adobe-dng",
    "ORF": "image/x-olympus-orf",
    "RW2": "image/x-panasonic-rw2",
    "RAF": "image/x-fujifilm-raf",
    "PEF": "image/x-pentax-pef",
}
# Makers whose raw files are plain TIFF structures, by the start of IFD0's Make.
TIFF_RAW_MAKERS = (("NIKON", "NEF"), ("SONY", "ARW"), ("PENTAX", "PEF"), ("RICOH", "PEF"))
DNG_VERSION, MAKE, COMPRESSION, SUB_IFDS = 0xC612, 0x010F, 0x0103, 0x014A
# Compression codes that only raw sensor data uses (Sony, Epson, Samsung, Nikon, Pentax).
RAW_COMPRESSIONS = {32767, 32769, 32770, 34713, 65535}
# LibRaw's flip (how to turn the sensor picture upright) as an EXIF orientation.
FLIP_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}


@dataclass
class RawPreview:
    width: int  # the raw picture's own size, before orientation
    height: int
    orientation: int  # EXIF orientation of the raw picture
    preview: bytes | np.ndarray  # a JPEG as the camera encoded it, or rows of RGB pixels

    def open(self) -> Image.Image:
        """The preview as a lazily decoded picture (a new one on each call)."""
        from PIL import Image

        if isinstance(self.preview, bytes):
            return Image.open(io.BytesIO(self.preview))
        return Image.fromarray(self.preview)


def raw_format(head: bytes) -> str | None:
    """The camera raw format ("CR2", "CR3", ...) of a file from its first bytes, or None."""
    if head[4:12] == b"ftypcrx ":
        return "CR3"  # an ISO-BMFF container like MP4, holding a still picture
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAF"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "ORF"
    if head[:4] == b"IIU\x00":
        return "RW2"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_raw(head)
    return None


def _tiff_raw(head: bytes) -> str | None:
    """A TIFF that is a camera raw: Canon's signature, a DNG version, or a maker's raw data.

    A camera that writes ordinary TIFF files (old compacts did) puts its Make in IFD0 too,
    but no sub-directories of sensor data and no raw compression.
    """
    if head[8:11] == b"CR\x02":
        return "CR2"
    entries = _ifd0_entries(head)
    if DNG_VERSION in entries:
        return "DNG"
    compression = _short(head, entries.get(COMPRESSION))
    if SUB_IFDS not in entries and compression not in RAW_COMPRESSIONS:
        return None
    make = _ascii(head, entries.get(MAKE)).upper()
    return next((name for prefix, name in TIFF_RAW_MAKERS if make.startswith(prefix)), None)


def _ifd0_entries(head: bytes) -> dict[int, tuple[int, int, bytes]]:
    """Tag -> (type, count, value field) of the IFD0 entries that lie within ``head``."""
    endian = "<" if head[:2] == b"II" else ">"
    if len(head) < 8:
        return {}
    offset = struct.unpack(endian + "I", head[4:8])[0]
    if offset + 2 > len(head):
        return {}
    count = struct.unpack(endian + "H", head[offset : offset + 2])[0]
    entries = {}
    for pos in range(offset + 2, min(offset + 2 + 12 * count, len(head) - 11), 12):
        tag, kind, values = struct.unpack(endian + "HHI", head[pos : pos + 8])
        entries[tag] = (kind, values, head[pos + 8 : pos + 12])
    return entries


def _short(head: bytes, entry: tuple[int, int, bytes] | None) -> int | None:
    if entry is None or entry[0] != 3:
        return None
    return struct.unpack(("<" if head[:2] == b"II" else ">") + "H", entry[2][:2])[0]


def _ascii(head: bytes, entry: tuple[int, int, bytes] | None) -> str:
    if entry is None or entry[0] != 2:
        return ""
    kind, count, field = entry
    if count <= 4:
        data = field[:count]
    else:
        start = struct.unpack(("<" if head[:2] == b"II" else ">") + "I", field)[0]
        data = head[start : start + min(count, 64)]
    return data.split(b"\x00", 1)[0].decode("latin-1")


def open_preview(path: Path) -> RawPreview:
    """The largest preview a raw file embeds, as LibRaw chooses it; UnsupportedMedia if none."""
    import numpy as np

    with warnings.catch_warnings():
        # rawpy warns on import in a forked process (intake's workers are) because LibRaw's
        # OpenMP demosaicing can deadlock there. Only the embedded preview and the sizes
        # are read here, which run no OpenMP code.
        warnings.filterwarnings("ignore", "rawpy is being used in a process", RuntimeWarning)
        import rawpy  # LibRaw is loaded only when a raw file is met

    try:
        with rawpy.imread(str(path)) as raw:
            width, height, flip = raw.sizes.width, raw.sizes.height, raw.sizes.flip
            thumb = raw.extract_thumb()
    except rawpy.LibRawNoThumbnailError as exc:
        raise UnsupportedMedia(path, "camera raw file embeds no preview picture") from exc
    except (rawpy.LibRawError, OSError) as exc:
        raise UnsupportedMedia(path, f"camera raw file cannot be read ({_cause(exc)})") from exc
    jpeg = thumb.format == rawpy.ThumbFormat.JPEG
    preview = bytes(thumb.data) if jpeg else np.asarray(thumb.data)
    return RawPreview(width, height, FLIP_ORIENTATION.get(flip, 1), preview)


def _cause(exc: BaseException) -> str:
    detail = exc.args[0] if exc.args else ""
    text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return text.strip().rstrip(".") or type(exc).__name__
