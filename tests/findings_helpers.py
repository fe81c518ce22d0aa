"""Helpers for findings tests: contexts built as intake builds them, and synthetic media."""

from __future__ import annotations

import io
import struct
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from mediacheck.findings import FindingContext
from mediacheck.media.metadata import extract_metadata
from mediacheck.media.sniff import sniff
from mediacheck.media.video.probe import probe_video


def make_context(
    path: Path,
    derived_dir: Path,
    original_name: str | None = None,
    posted_at: datetime | None = None,
    claimed_location: tuple[float, float] | None = None,
) -> FindingContext:
    sniffed = sniff(path)
    if sniffed.kind == "video":
        probe = probe_video(path)
        summary, metadata = probe.summary, probe.metadata
    else:
        extracted = extract_metadata(path, sniffed.mime, _pixel_size(path))
        summary, metadata = extracted.summary, extracted.metadata
    return FindingContext(
        path=path,
        original_name=original_name if original_name is not None else path.name,
        kind=sniffed.kind,
        mime=sniffed.mime,
        summary=summary,
        metadata=metadata,
        posted_at=posted_at,
        claimed_location=claimed_location,
        derived_dir=derived_dir,
    )


def _pixel_size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as img:
            return img.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def textured(size: tuple[int, int] = (1024, 768), seed: int = 0) -> Image.Image:
    """A picture with camera-like texture at every scale, so DCT statistics mean something."""
    rng = np.random.default_rng(seed)
    width, height = size
    total = np.zeros((height, width, 3))
    for scale, weight in ((64, 60.0), (16, 40.0), (4, 30.0), (2, 20.0), (1, 12.0)):
        coarse = rng.normal(size=(height // scale + 2, width // scale + 2, 3))
        layer = Image.fromarray(((coarse - coarse.min()) / np.ptp(coarse) * 255).astype(np.uint8))
        smooth = np.asarray(layer.resize((width, height), Image.Resampling.BICUBIC), dtype=float)
        total += weight * (smooth / 255.0 - 0.5)
    ramp = np.linspace(60, 190, width)[None, :, None]
    return Image.fromarray(np.clip(total + ramp, 0, 255).astype(np.uint8))


def screenshot() -> Image.Image:
    """A page of text and flat colour, as a screenshot of an app or a web page is."""
    img = Image.new("RGB", (1200, 800), "white")
    draw = ImageDraw.Draw(img)
    for line in range(40):
        where = (10 + (line % 3) * 400, 10 + (line // 3) * 60)
        draw.text(where, f"Breaking: shelling reported near the station {line}", fill=(20, 20, 20))
    draw.rectangle((0, 700, 1200, 800), fill=(30, 90, 200))
    return img


def jpeg_bytes(img: Image.Image, quality: int, **save) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=quality, **save)
    return buffer.getvalue()


def resaved(img: Image.Image, *qualities: int) -> bytes:
    """The picture compressed once per quality, in order, as a JPEG file's bytes."""
    data = b""
    for quality in qualities:
        data = jpeg_bytes(img, quality)
        img = Image.open(io.BytesIO(data)).convert("RGB")
    return data


# TIFF field types: ASCII, SHORT, LONG, RATIONAL.
ASCII, SHORT, LONG, RATIONAL = 2, 3, 4, 5
TYPE_SIZES = {ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8}
EXIF_IFD, GPS_IFD, THUMB_OFFSET, THUMB_LENGTH = 0x8769, 0x8825, 0x0201, 0x0202


def exif_segment(
    ifd0: dict[int, tuple[int, object]],
    exif: dict[int, tuple[int, object]] | None = None,
    gps: dict[int, tuple[int, object]] | None = None,
    thumbnail: bytes | None = None,
) -> bytes:
    """An APP1 EXIF payload ("Exif\\0\\0" + little-endian TIFF) with optional sub-IFDs."""
    layout = _exif_layout(ifd0, exif, gps, thumbnail, offsets={})
    return b"Exif\0\0" + _exif_layout(ifd0, exif, gps, thumbnail, offsets=layout[1])[0]


def _exif_layout(ifd0, exif, gps, thumbnail, offsets: dict) -> tuple[bytes, dict]:
    ifd0 = dict(ifd0)
    if exif is not None:
        ifd0[EXIF_IFD] = (LONG, offsets.get("exif", 0))
    if gps is not None:
        ifd0[GPS_IFD] = (LONG, offsets.get("gps", 0))
    ifd1 = None
    if thumbnail is not None:
        ifd1 = {THUMB_OFFSET: (LONG, offsets.get("thumb", 0)), THUMB_LENGTH: (LONG, len(thumbnail))}
    out = bytearray(b"II*\0" + struct.pack("<I", 8))
    found: dict[str, int] = {}
    out += _ifd(ifd0, len(out), offsets.get("ifd1", 0) if ifd1 else 0)
    for name, entries in (("exif", exif), ("gps", gps), ("ifd1", ifd1)):
        if entries is not None:
            found[name] = len(out)
            out += _ifd(entries, len(out), 0)
    if thumbnail is not None:
        found["thumb"] = len(out)
        out += thumbnail
    return bytes(out), found


def _ifd(entries: dict[int, tuple[int, object]], start: int, next_ifd: int) -> bytes:
    table = bytearray(struct.pack("<H", len(entries)))
    data = bytearray()
    data_start = start + 2 + 12 * len(entries) + 4
    for tag in sorted(entries):
        kind, value = entries[tag]
        raw = _encode(kind, value)
        count = len(raw) // TYPE_SIZES[kind]
        if len(raw) <= 4:
            field = raw.ljust(4, b"\0")
        else:
            field = struct.pack("<I", data_start + len(data))
            data += raw + (b"\0" if len(raw) % 2 else b"")
        table += struct.pack("<HHI", tag, kind, count) + field
    return bytes(table + struct.pack("<I", next_ifd) + data)


def _encode(kind: int, value: object) -> bytes:
    if kind == ASCII:
        return str(value).encode("ascii") + b"\0"
    values = value if isinstance(value, list) else [value]
    if kind == SHORT:
        return b"".join(struct.pack("<H", v) for v in values)
    if kind == LONG:
        return b"".join(struct.pack("<I", v) for v in values)
    return b"".join(struct.pack("<II", n, d) for n, d in values)
