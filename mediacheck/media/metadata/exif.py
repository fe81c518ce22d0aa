"""EXIF tags through exifread, non-strict so that a corrupt file still yields its readable tags."""

from __future__ import annotations

import io
import logging
from contextvars import ContextVar
from typing import Any, BinaryIO, cast

import exifread

from mediacheck.media.metadata.blocks import clean
from mediacheck.media.metadata.exif_guard import GuardedReader, ReadBudgetExceeded, count_patches

# exifread reports corrupt fields through its logger; collect them per call
# instead of letting Python's last-resort handler print them.
_warnings: ContextVar[list[str] | None] = ContextVar("exifread_warnings", default=None)
MAX_PRINTABLE = 4096
MAX_WARNINGS = 5


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        collected = _warnings.get()
        if collected is not None and record.levelno >= logging.WARNING:
            collected.append(clean(record.getMessage()))


_logger = logging.getLogger("exifread")
_logger.addHandler(_Collect())
_logger.propagate = False


def read_exif(source: bytes | BinaryIO) -> tuple[dict[str, Any], list[str]]:
    """exifread's tags (name -> IfdTag) and the warnings it raised while reading them."""
    fh = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        patches = count_patches(fh, fh.seek(0, io.SEEK_END))
        try:
            return _process(GuardedReader(fh, patches), details=True)
        except ReadBudgetExceeded:
            tags, errors = _process(GuardedReader(fh, patches), details=False)
            return tags, ["EXIF: maker note too costly to read, left out", *errors]
    except ReadBudgetExceeded:
        return {}, ["EXIF: directories too costly to read (broken or hostile counts)"]
    except Exception as exc:
        # exifread has no error hierarchy: hostile offsets surface as IndexError,
        # struct.error, ValueError, ... and none of them may end the intake.
        return {}, [f"EXIF: unreadable ({type(exc).__name__}: {clean(str(exc))[:200]})"]


def read_thumbnail(source: bytes | BinaryIO) -> bytes | None:
    """The JPEG preview in an EXIF block's second directory, read with the same guard."""
    fh = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        patches = count_patches(fh, fh.seek(0, io.SEEK_END))
        tags, _ = _process(GuardedReader(fh, patches), details=False, thumbnail=True)
    except Exception:  # noqa: BLE001 - see read_exif: exifread fails in every way
        return None
    data = tags.get("JPEGThumbnail")
    return data if isinstance(data, bytes) and data else None


def _process(
    fh: GuardedReader, details: bool, thumbnail: bool = False
) -> tuple[dict[str, Any], list[str]]:
    collected: list[str] = []
    token = _warnings.set(collected)
    try:
        # exifread only reads, seeks and tells: the guarded view is all the file it needs.
        reader = cast(BinaryIO, fh)
        tags = exifread.process_file(reader, details=details, extract_thumbnail=thumbnail)
    finally:
        _warnings.reset(token)
    unique = list(dict.fromkeys(collected))
    errors = [f"EXIF: {message}" for message in unique[:MAX_WARNINGS]]
    if len(unique) > MAX_WARNINGS:
        errors.append(f"EXIF: {len(unique) - MAX_WARNINGS} more warnings left out")
    return tags, errors


def exif_json(tags: dict[str, Any]) -> dict[str, str]:
    """Tag name -> printable string, without thumbnails or raw bytes."""
    out = {}
    for name, tag in tags.items():
        printable = getattr(tag, "printable", None)
        if printable is None:
            continue  # JPEGThumbnail and other raw byte values
        if isinstance(printable, bytes):
            printable = printable.hex()
        out[clean(name)] = clean(str(printable))[:MAX_PRINTABLE]
    return out
