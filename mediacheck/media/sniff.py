"""What a file is, from its first bytes rather than its name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import filetype

from mediacheck.media.raw import RAW_MIMES, raw_format

HEAD_BYTES = 8192
TS_PACKET = 188


@dataclass(frozen=True)
class Sniffed:
    mime: str
    kind: str  # image, video, audio or other


def sniff(path: Path) -> Sniffed:
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    return sniff_bytes(head)


def sniff_bytes(head: bytes) -> Sniffed:
    mime = _mime(head)
    return Sniffed(mime=mime, kind=_kind(mime))


def _mime(head: bytes) -> str:
    if not head:
        return "application/x-empty"
    # Before filetype, which takes raws for TIFF, MP4 (CR3) or nothing at all.
    raw = raw_format(head)
    if raw is not None:
        return RAW_MIMES[raw]
    guess = filetype.guess_mime(head)
    if guess:
        return guess
    if _is_mpeg_ts(head):
        return "video/mp2t"
    if _is_text(head):
        return "text/plain"
    return "application/octet-stream"


def _kind(mime: str) -> str:
    major = mime.split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return major
    return "other"


def _is_mpeg_ts(head: bytes) -> bool:
    """MPEG-TS and Blu-ray M2TS: a 0x47 sync byte every 188 (or 192) bytes."""
    for stride, offset in ((TS_PACKET, 0), (TS_PACKET + 4, 4)):
        positions = range(offset, min(len(head), stride * 5), stride)
        if len(positions) >= 3 and all(head[p] == 0x47 for p in positions):
            return True
    return False


def _is_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the read limit is still text.
        return exc.start >= len(head) - 3
    return True
